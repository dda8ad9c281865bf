"""Multi-fidelity baselines: asynchronous successive halving (ASHA) and asynchronous Hyperband.

Both search a space with a fidelity (``fidelity="epochs=12,200"``, or the space's own): the levels
are the rungs. Written here rather than taken from Syne Tune or Ray Tune because they must run in
boed-nas's own ask/tell harness, engines and run folders (the peers themselves are measured beside
them in ``benchmarks/fidelity_study.py``).

- ``asha`` (Li et al., A System for Massively Parallel Hyperparameter Tuning, MLSys 2020,
  Algorithm 2): when a worker is free, promote a configuration from the highest rung that has one
  in the top ``1/reduction_factor`` of its completed results (not yet promoted); else start a new
  random configuration at the lowest rung.
- ``hyperband``: ASHA with brackets (asynchronous Hyperband, as Syne Tune's ``HyperbandScheduler``
  with several brackets): each new configuration is given a bracket ``s`` (it starts at rung
  ``s``), drawn with probability proportional to the number of configurations synchronous
  Hyperband puts in that bracket, ``ceil(K / (K - s) * eta^(K - 1 - s))`` for K rungs; promotions
  happen within a bracket.

The recommendation is the best configuration observed at the target level.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from boed_nas.errors import ConfigError
from boed_nas.spaces.fidelity import AtFidelity
from boed_nas.strategy import Strategy


class SuccessiveHalving(Strategy):
    """``asha``: asynchronous successive halving over the fidelity's levels (see the module)."""

    name = "asha"
    fidelities = True

    def __init__(self, *, reduction_factor: float = 3.0, **kw: Any) -> None:
        if isinstance(reduction_factor, bool) or not isinstance(reduction_factor, (int, float)) or not reduction_factor > 1:
            raise ConfigError(f"reduction_factor must be a number above 1, got {reduction_factor!r}")
        super().__init__(**kw)
        if not hasattr(self.space, "fidelity"):
            raise ConfigError(f"strategy {self.name!r} needs a fidelity (fidelity='epochs=12,200', say): its rungs are "
                              "the fidelity's levels")
        self.reduction_factor = float(reduction_factor)

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "reduction_factor": self.reduction_factor}

    # ------------------------------------------------------------------ rungs
    @property
    def n_rungs(self) -> int:
        return len(self.space.levels)

    def _started(self, base_key: Any, rung: int) -> bool:
        key = (base_key, rung)
        return key in self._seen or key in self.pending

    def _brackets(self) -> dict[Any, int]:
        """Base key -> the rung its configuration started at: the lowest level it was told or asked at."""
        out: dict[Any, int] = {}
        for point in [o.cell for o in self.history] + list(self.pending.values()):
            key, rung = self.space.base.key(point.config), self.space.fidelity.index(point.level)
            out[key] = min(out.get(key, rung), rung)
        return out

    def _promotable(self, bracket: int | None) -> AtFidelity | None:
        """The best promotable configuration, from the highest rung that has one (``bracket``: only
        configurations started in it; None: all)."""
        space = self.space
        levels = space.levels
        brackets = self._brackets() if bracket is not None else {}
        for rung in range(self.n_rungs - 2, -1, -1):
            done = [o for o in self.history if not o.outcome.failed and space.fidelity.index(o.cell.level) == rung
                    and (bracket is None or brackets.get(space.base.key(o.cell.config)) == bracket)]
            if not done:
                continue
            top = sorted(done, key=self.signed, reverse=True)[: int(len(done) / self.reduction_factor)]
            for o in top:
                base_key = space.base.key(o.cell.config)
                if not self._started(base_key, rung + 1):
                    return AtFidelity(o.cell.config, levels[rung + 1])
        return None

    def _new(self, rung: int) -> AtFidelity:
        """A random configuration never started at any level, at ``rung``."""
        space = self.space
        for _ in range(10_000):
            config = space.base.sample(self.rng)
            base_key = space.base.key(config)
            if not any(self._started(base_key, r) for r in range(self.n_rungs)):
                return AtFidelity(config, space.levels[rung])
        raise ConfigError(f"no new configuration of space {space.name!r} in 10,000 random draws")

    def _bracket(self) -> int:
        return 0

    def _propose_one(self, k: int) -> AtFidelity:
        bracket = self._bracket()
        promoted = self._promotable(bracket if self.n_brackets > 1 else None)
        return promoted if promoted is not None else self._new(bracket)

    @property
    def n_brackets(self) -> int:
        return 1


class Hyperband(SuccessiveHalving):
    """``hyperband``: asynchronous Hyperband, ASHA with brackets (see the module)."""

    name = "hyperband"

    @property
    def n_brackets(self) -> int:
        return self.n_rungs

    def bracket_probabilities(self) -> np.ndarray:
        K, eta = self.n_rungs, self.reduction_factor
        n = np.array([math.ceil(K / (K - s) * eta ** (K - 1 - s)) for s in range(K)], dtype=float)
        return n / n.sum()

    def _bracket(self) -> int:
        # drawn from a generator seeded by (seed, history, pending): the same in a resumed run
        rng = np.random.default_rng(self.derived_seed(0xB4AC))
        return int(rng.choice(self.n_rungs, p=self.bracket_probabilities()))


__all__ = ["Hyperband", "SuccessiveHalving"]
