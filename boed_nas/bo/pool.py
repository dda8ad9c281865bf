"""The candidate pool: the configurations a controller's belief is computed over and picks from.

An enumerable space's pool is every configuration (NB201: the 6,466 isomorphism classes), built
once. A space too large to enumerate gets a pool per history size (``refresh``): the told
configurations, the proposals, the neighbours of the ``POOL_PARENTS`` best observed ones,
``POOL_RANDOM`` random ones and the pending ones, its draws seeded by (seed, history size), so a
resumed run rebuilds the identical pool. The pool holds the GP inputs of its members (``X``, built
once per pool by the belief's ``features``).

With a fidelity (a ``FidelitySpace``) the pool holds every configuration at every level, level-major
(all configurations at the first level, then at the next, ...): ``n_configs`` configurations, the
point of configuration ``j`` at level ``b`` at index ``b * n_configs + j``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from ..seeding import derive_seed
from ..spaces.fidelity import AtFidelity, FidelitySpace

POOL_RANDOM = 2000
"""On a space too large to enumerate, each pool holds this many random configurations ..."""
POOL_PARENTS = 10
"""... and the one-step neighbours of this many best observed configurations."""
POOL_SALT = 0x9001  # keeps the pool's draws apart from the other seeds derived from (seed, history size)


class CandidatePool:
    """The configurations scored on each ask, their index and their GP inputs."""

    def __init__(self, space: Any, features: Callable[[Sequence[Any]], torch.Tensor]):
        self.space = space
        self.features = features
        self.fidelity = space.fidelity if isinstance(space, FidelitySpace) else None
        self.configs: list[Any] = list(space.enumerate() or [])  # [] until the first refresh of a generated pool
        self._index = {space.key(c): i for i, c in enumerate(self.configs)}
        self._X: torch.Tensor | None = None
        self.built_at: int | None = None  # history size of a generated pool

    @property
    def n_configs(self) -> int:
        """How many configurations (each at every level, with a fidelity)."""
        return len(self.configs) // (1 if self.fidelity is None else len(self.fidelity.levels))

    @property
    def generated(self) -> bool:
        return not self.space.enumerable

    def __len__(self) -> int:
        return len(self.configs)

    def index(self, config: Any) -> int:
        return self._index[self.space.key(config)]

    def __contains__(self, config: Any) -> bool:
        return self.space.key(config) in self._index

    @property
    def X(self) -> torch.Tensor:
        """GP inputs of every member (built once per pool)."""
        if self._X is None:
            self._X = self.features(self.configs)
        return self._X

    def set_features(self, features: Callable[[Sequence[Any]], torch.Tensor]) -> None:
        """Other GP inputs (e.g. a prior added later): the inputs are rebuilt on the next use."""
        self.features, self._X = features, None

    def stale(self, n_history: int, pending: Iterable[Any]) -> bool:
        """Whether a generated pool must be rebuilt: a new history size, or a pending
        configuration (made pending from outside, ``set_pending``) that it lacks."""
        if not self.generated:
            return False
        return self.built_at != n_history or not all(self.space.key(c) in self._index for c in pending)

    def refresh(self, seed: int, told: Sequence[Any], proposals: Sequence[Any], parents: Sequence[Any],
                pending: Sequence[Any]) -> bool:
        """Rebuild a generated pool for the current history (``told``: every told configuration;
        ``parents``: the best observed ones, best first); True if it was rebuilt."""
        if not self.stale(len(told), pending):
            return False
        rng = np.random.default_rng(derive_seed(seed, len(told), POOL_SALT))
        space = self.space if self.fidelity is None else self.space.base
        base = (lambda c: c) if self.fidelity is None else (lambda c: c.config if isinstance(c, AtFidelity) else c)
        pool: dict[Any, Any] = {}
        for c in map(base, told):
            pool.setdefault(space.key(c), c)
        for c in map(base, proposals):  # e.g. a supernet's most probable configurations: candidates on every ask
            pool.setdefault(space.key(c), c)
        for p in map(base, parents[:POOL_PARENTS]):
            for c in space.neighbours(p):
                pool.setdefault(space.key(c), c)
        for _ in range(POOL_RANDOM):
            c = space.sample(rng)
            pool.setdefault(space.key(c), c)
        for c in map(base, pending):
            pool.setdefault(space.key(c), c)
        configs = list(pool.values())
        if self.fidelity is not None:  # every configuration at every level, level-major
            configs = [AtFidelity(c, level) for level in self.fidelity.levels for c in configs]
        self.configs = configs
        self._index = {self.space.key(c): i for i, c in enumerate(configs)}
        self._X, self.built_at = None, len(told)
        return True


__all__ = ["POOL_PARENTS", "POOL_RANDOM", "CandidatePool"]
