"""The initial design: what a controller evaluates before its belief is used.

First the outside ``proposals`` (a supernet's most probable configurations, say) that are still
new, then a maximin space-filling design: of 64 new configurations drawn at random (or, with
signals used for the design, from the top of the signals' reference set), the one farthest in
Hamming distance over the space's value indices (``space.indices``; NB201: the class
representative's op ids) from everything evaluated or pending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

N_CANDIDATES = 64


class InitialDesign:
    """Proposals first, then maximin Hamming distance over random new configurations.

    ``top``: the configurations the design draws from (the top of the signals' reference set), or
    None to draw from the whole space.
    """

    def __init__(self, space: Any, proposals: Sequence[Any] = (), top: Sequence[Any] | None = None):
        self.space = space
        self.proposals = list(proposals)
        self.top = None if top is None else list(top)

    def next(self, taken: Sequence[Any], is_new: Callable[[Any], bool], random_new: Callable[[], Any],
             rng: np.random.Generator) -> Any:
        """The next configuration of the design, given every evaluated or pending one (``taken``)."""
        for c in self.proposals:
            if is_new(c):
                return c

        def draw() -> Any:
            if self.top is None:
                return random_new()
            free = [c for c in self.top if is_new(c)]
            return free[int(rng.integers(len(free)))] if free else random_new()

        if not taken:
            return draw()
        T = np.array([self.space.indices(c) for c in taken])
        cands = [draw() for _ in range(N_CANDIDATES)]
        C = np.array([self.space.indices(c) for c in cands])
        dist = (C[:, None, :] != T[None, :, :]).sum(-1).min(axis=1)
        return cands[int(np.argmax(dist))]  # maximin Hamming distance to what is taken


__all__ = ["InitialDesign", "N_CANDIDATES"]
