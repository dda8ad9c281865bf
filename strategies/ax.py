"""Ax's own generation strategies as ask/tell baselines: ``"ax"`` (Ax's default) and ``"sobol"``.

``make_strategy("ax", seed=0)`` drives an Ax ``Client`` configured with the strategy's space (NB201's
cells by default, or ``space=`` a ``Space`` without a function constraint: ``boed_nas.integrations.ax.ax_parameters``)
and Ax's default generation strategy, ``method="fast"`` (center
point, Sobol, then BoTorch's modular GP with its defaults), seeded with ``Client(random_seed=seed)``
and ``initialization_random_seed=seed``. ``"sobol"`` is Ax's quasi-random search
(``method="random_search"``, without the center point). ``ask`` turns into ``client.get_next_trials``, ``tell`` into
``complete_trial`` (``mark_trial_failed`` for a failure), ``forget_pending`` into
``mark_trial_abandoned``. Ax is imported on first use (it takes seconds).

Ax knows nothing of isomorphism, so it may propose a cell isomorphic to one already evaluated,
which the ``Strategy`` contract forbids proposing (a search never pays twice for one network).
Such a trial is answered inside Ax from the known result (``complete_trial`` with the value
already observed for that class; a class that failed is marked abandoned), so Ax learns the
right value without the budget being charged, and Ax is asked again. A proposal isomorphic to a
*pending* cell has no result yet: that trial is marked abandoned (Ax keeps abandoned arms out of
later proposals) and Ax is asked again. ``duplicates`` counts both.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from typing import Any, ClassVar

from boed_nas.errors import ConfigError
from boed_nas.nb201.space import Cell
from boed_nas.strategy import Observation, StateError, Strategy

MAX_CONSECUTIVE_DUPLICATES = 200
_ERROR = logging.ERROR  # hides Ax's per-trial INFO lines and its Sobol-fallback WARNING (counted instead)


class AxDefault(Strategy):
    """Ax's default generation strategy (``Client.configure_generation_strategy(method="fast")``).

    Parameters
    ----------
    initialization_budget:
        Passed to Ax (None: Ax's default, a center point and 4 Sobol trials).
    """

    name = "ax"
    requires = ("variables", "to_parameters", "from_parameters")  # Ax's parameters are the space's variables
    method: ClassVar[str] = "fast"
    center: ClassVar[bool] = True  # Ax's default starts with the center of the search space

    def __init__(self, *, initialization_budget: int | None = None, **kw: Any) -> None:
        if initialization_budget is not None and (
            isinstance(initialization_budget, bool) or not isinstance(initialization_budget, int)
            or initialization_budget < 1
        ):
            raise ConfigError(f"initialization_budget must be None or an integer >= 1, got {initialization_budget!r}")
        super().__init__(**kw)
        if getattr(self.space, "constraint", None) is not None:
            raise ConfigError(f"strategy {self.name!r}: space {self.space.name!r} has a constraint, a function Ax "
                              "cannot take; search it with a boed-nas strategy, or give Ax linear parameter "
                              "constraints through the BOED generation node (boed_nas.integrations.ax)")
        self.initialization_budget = initialization_budget
        self._client: Any = None
        self._trial_of: dict[Any, int] = {}  # the key of a pending configuration -> its Ax trial index
        self.duplicates = 0  # Ax proposals isomorphic to an evaluated or pending cell (not charged)
        self._replaying = False

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "initialization_budget": self.initialization_budget}

    # ------------------------------------------------------------------ the Ax client
    @property
    def client(self) -> Any:
        """The Ax ``Client`` (built on first use)."""
        if self._client is None:
            from ax.api.client import Client

            from boed_nas.integrations.ax import ax_parameters, quiet_ax

            with quiet_ax():
                client = Client(random_seed=self.seed)
                client.configure_experiment(parameters=ax_parameters(self.space), name=self.space.name)
                client.configure_optimization(objective=self.metric if self.maximize else f"-{self.metric}")
                client.configure_generation_strategy(method=self.method, initialization_random_seed=self.seed,
                                                     initialization_budget=self.initialization_budget,
                                                     initialize_with_center=self.center)
            self._client = client
        return self._client

    # ------------------------------------------------------------------ ask / tell
    def _propose(self, n: int) -> list[Cell]:
        from boed_nas.integrations.ax import quiet_ax

        out: list[Cell] = []
        streak = 0
        while len(out) < n:
            with quiet_ax(level=_ERROR):
                trials = self.client.get_next_trials(max_trials=n - len(out))
            if not trials:
                raise RuntimeError(f"Ax generated no trial ({self.client._generation_strategy.name})")
            for index, params in trials.items():
                cell = self._accept(index, self.space.from_parameters(params), taken={self.space.key(c) for c in out})
                if cell is None:
                    streak += 1
                    if streak > MAX_CONSECUTIVE_DUPLICATES:
                        raise RuntimeError(
                            f"Ax proposed {streak} cells in a row isomorphic to evaluated or pending ones")
                    continue
                streak = 0
                out.append(cell)
        return out

    def _accept(self, index: int, cell: Cell, taken: set[int] = frozenset()) -> Cell | None:
        """Keep Ax trial ``index`` as a proposal, or settle it inside Ax if its cell is isomorphic to
        one evaluated (answered with the known result) or pending (abandoned); None when settled."""
        from boed_nas.integrations.ax import quiet_ax

        key = self.space.key(cell)
        if key in self._seen:
            self.duplicates += 1
            known = next(o for o in self.history if self.space.key(o.cell) == key)
            with quiet_ax(level=_ERROR):
                if known.outcome.failed:
                    self.client.mark_trial_abandoned(index)
                else:
                    self.client.complete_trial(index, raw_data={self.metric: known.outcome.metrics[self.metric]})
            return None
        if key in self.pending or key in taken:
            self.duplicates += 1
            with quiet_ax(level=_ERROR):
                self.client.mark_trial_abandoned(index)
            return None
        self._trial_of[key] = index
        return cell

    def _observe(self, obs: Observation) -> None:
        if self._replaying:
            return  # load_state_dict replays the history; the Ax client comes back from its snapshot
        from boed_nas.integrations.ax import quiet_ax

        key = self.space.key(obs.cell)
        with quiet_ax(level=_ERROR):
            index = self._trial_of.pop(key, None)
            if index is None:  # told without being asked: the trial is new to Ax too
                index = self.client.attach_trial(parameters=self.space.to_parameters(obs.cell))
            if obs.outcome.failed:
                self.client.mark_trial_failed(index)
            else:
                # only the search metric reaches Ax, as it is the only one a strategy may use
                self.client.complete_trial(index, raw_data={self.metric: obs.outcome.metrics[self.metric]})

    def forget_pending(self, cell: Cell | str | int) -> None:
        from boed_nas.integrations.ax import quiet_ax

        cell = self.space.parse(cell)
        super().forget_pending(cell)
        index = self._trial_of.pop(self.space.key(cell), None)
        if index is not None:
            with quiet_ax(level=_ERROR):
                self.client.mark_trial_abandoned(index)

    # ------------------------------------------------------------------ state
    def _extra_state(self) -> dict[str, Any]:
        from boed_nas.integrations.ax import quiet_ax

        fd, path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            with quiet_ax(level=_ERROR):
                self.client.save_to_json_file(path)  # Ax's JSON storage
            with open(path) as f:
                snapshot = json.load(f)
        finally:
            os.unlink(path)
        return {"ax_client": snapshot, "trial_of": {json.dumps(k): v for k, v in self._trial_of.items()},
                "duplicates": self.duplicates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._replaying = True
        try:
            super().load_state_dict(state)
        finally:
            self._replaying = False

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        from ax.api.client import Client
        from ax.storage.json_store.decoder import (
            generation_strategy_from_json,
            object_from_json,
        )

        from boed_nas.integrations.ax import quiet_ax

        if "ax_client" not in extra:
            raise StateError(f"the saved {self.name!r} state has no Ax client snapshot")
        snapshot = json.loads(json.dumps(extra["ax_client"]))  # the decoder consumes its input
        with quiet_ax(level=_ERROR):
            experiment = object_from_json(snapshot["experiment"])
            gs = generation_strategy_from_json(snapshot["generation_strategy"], experiment=experiment)
            client = Client(random_seed=self.seed)  # Ax's snapshot does not keep the client's seed
            client.set_experiment(experiment)
            client.set_generation_strategy(gs)
        self._client = client
        self._trial_of = {_key(json.loads(k)): int(v) for k, v in extra.get("trial_of", {}).items()}
        self.duplicates = int(extra.get("duplicates", 0))

    # ------------------------------------------------------------------ reporting
    def generation_nodes(self) -> dict[str, int]:
        """How many Ax trials each generation node (or fallback generator) produced so far."""
        counts: dict[str, int] = {}
        if self._client is None:
            return counts
        for trial in self._client._experiment.trials.values():
            key = trial.generation_method_str
            counts[key] = counts.get(key, 0) + 1
        return counts


class AxSobol(AxDefault):
    """Ax's quasi-random search (``method="random_search"``, scrambled Sobol seeded with ``seed``),
    without Ax's center point: Sobol from the first trial."""

    name = "sobol"
    method: ClassVar[str] = "random_search"
    center: ClassVar[bool] = False


def _key(saved: Any) -> Any:
    """A space key as JSON gives it back: NB201's int, a list for a tuple of value indices."""
    return tuple(saved) if isinstance(saved, list) else saved
