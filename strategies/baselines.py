"""Honest baselines: random search, regularised evolution and local search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boed_nas.errors import ConfigError
from boed_nas.nb201.space import Cell
from boed_nas.strategy import Observation, Strategy


class RandomSearch(Strategy):
    """Uniform random sampling over the space (NB201: the 15,625 cells), skipping evaluated
    configurations (isomorphism classes)."""

    name = "random"

    def _propose_one(self, k: int) -> Cell:
        return self.random_new_cell()


class RegularizedEvolution(Strategy):
    """Regularised (aging) evolution, Real et al. 2019, with NB201's settings.

    The first ``population_size`` cells are random. Then each child is a one-edge mutation (any space: one variable's step, ``space.mutate``) of the
    best of ``sample_size`` cells drawn without replacement from the population, where the
    population is the ``population_size`` most recently evaluated cells (the oldest dies). NB201
    ran REA with population 10 and sample size 3. A mutation that lands on an evaluated class is
    redrawn (a search never pays twice); after 100 such draws the child is random.
    """

    name = "evolution"

    def __init__(self, *, population_size: int = 10, sample_size: int = 3, **kw: Any) -> None:
        if population_size < 1 or not 1 <= sample_size <= population_size:
            raise ConfigError(
                f"need population_size >= 1 and 1 <= sample_size <= population_size, "
                f"got population_size={population_size}, sample_size={sample_size}"
            )
        super().__init__(**kw)
        self.population_size = population_size
        self.sample_size = sample_size

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "population_size": self.population_size, "sample_size": self.sample_size}

    def population(self) -> list[Observation]:
        ok = [o for o in self.history if not o.outcome.failed]
        return ok[-self.population_size :]

    def _propose_one(self, k: int) -> Cell:
        pop = self.population()
        n_asked = len(self.history) + len(self.pending)
        if n_asked < self.population_size or not pop:
            return self.random_new_cell()
        idx = self.rng.choice(len(pop), size=min(self.sample_size, len(pop)), replace=False)
        parent = max((pop[i] for i in idx), key=self.signed).cell
        for _ in range(100):
            cell = self.space.mutate(parent, self.rng)
            if self.is_new(cell):
                return cell
        return self.random_new_cell()


class LocalSearch(Strategy):
    """Local search (White et al. 2021), first-improvement form as in NASLib.

    Evaluate ``n_init`` random cells and take the best as the current cell. Then evaluate its
    one-edge neighbours in random order; the first neighbour better than the current cell becomes
    the current cell. At a local optimum (no unevaluated neighbour is better), restart from a new
    random cell.
    """

    name = "local"

    def __init__(self, *, n_init: int = 10, **kw: Any) -> None:
        if n_init < 1:
            raise ConfigError(f"n_init must be >= 1, got {n_init}")
        super().__init__(**kw)
        self.n_init = n_init
        self.current: Cell | None = None
        self.current_value: float | None = None
        self.queue: list[Cell] = []  # unevaluated neighbours of the current cell, in visiting order

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "n_init": self.n_init}

    def _set_current(self, obs: Observation) -> None:
        self.current, self.current_value = obs.cell, self.signed(obs)
        nbrs = self.space.neighbours(obs.cell)
        order = self.rng.permutation(len(nbrs))
        self.queue = [nbrs[i] for i in order]

    def _propose_one(self, k: int) -> Cell:
        if self.current is not None:
            while self.queue:
                cand = self.queue.pop(0)
                if self.is_new(cand):
                    return cand
        return self.random_new_cell()  # initial design, or a local optimum: a random (re)start

    def _observe(self, obs: Observation) -> None:
        if obs.outcome.failed:
            return
        ok = [o for o in self.history if not o.outcome.failed]
        if len(ok) < self.n_init:
            return
        if len(ok) == self.n_init or self.current is None:
            self._set_current(max(ok, key=self.signed))
        elif self.signed(obs) > self.current_value or not self.queue and not self.pending:
            # an improvement moves the search; an exhausted neighbourhood restarts it from obs
            self._set_current(obs)

    def _extra_state(self) -> dict[str, Any]:
        return {
            "current": None if self.current is None else self.space.format(self.current),
            "current_value": self.current_value,
            "queue": [self.space.format(c) for c in self.queue],
        }

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        self.current = None if extra.get("current") is None else self.space.parse(extra["current"])
        self.current_value = extra.get("current_value")
        self.queue = [self.space.parse(c) for c in extra.get("queue", [])]
