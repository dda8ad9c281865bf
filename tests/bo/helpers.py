"""A known landscape over NB201 cells, and a small controller, shared by the tests of boed_nas.bo."""

import numpy as np

from boed_nas.bo.controller import BOEDController
from boed_nas.nb201.space import Cell, canonical_cells

POOL = canonical_cells()
TARGET = POOL[4321]
WEIGHTS = np.random.default_rng(123).uniform(0.5, 1.5, size=6)


def synthetic(cell: Cell, rng=None) -> float:
    """A known landscape with a unique optimum at TARGET: minus the weighted number of edges whose
    op differs from TARGET's (on the isomorphism-class representative), plus observation noise."""
    c = cell.canonical()
    v = -float(sum(w for w, a, b in zip(WEIGHTS, c.ops, TARGET.ops) if a != b))
    return v + (0 if rng is None else 0.1 * float(rng.normal()))


BEST = max(POOL, key=synthetic)
assert BEST == TARGET


def small(**kw):
    # the synthetic landscapes here are not NB201's: its shipped signals (the default) would be a
    # prior about another function, so these controllers go without unless a test asks for them
    kw.setdefault("signals", None)
    return BOEDController(n_samples=128, plausible_size=256, **kw)
