"""What the fidelity peers of the harness share (``optuna_fidelity.py``, ``synetune_fidelity.py``):
each new network is screened at a fidelity's first level, and the peer's own rule (a pruner, a
scheduler) decides whether it goes on to the target level.

``ScreeningPeer`` keeps the bookkeeping once: the running trial of each network, the networks
promoted to the target, the target values known, and the rule that no network is paid twice (a
network already evaluated at the target is answered from what is known, one screened or running is
dropped, and the peer is asked for another). A subclass writes the hooks that talk to its library.
Runs of these peers do not resume (they are measured, not shipped).
"""

from __future__ import annotations

from typing import Any

from boed_nas.errors import ConfigError
from boed_nas.spaces.fidelity import AtFidelity, FidelitySpace
from boed_nas.strategy import Strategy


class ScreeningPeer(Strategy):
    """A peer over a fidelity's first level and its target (see the module)."""

    fidelities = True
    requires = ("variables", "to_parameters", "from_parameters")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        if not isinstance(self.space, FidelitySpace):
            raise ConfigError(f"{self.name} needs a fidelity (e.g. epochs=12,200)")
        self.low, self.high = self.space.levels[0], self.space.target
        self.trials: dict[Any, Any] = {}  # base key -> the peer's running trial
        self.promotions: list[Any] = []  # configurations the peer let go on to the target
        self.values: dict[Any, float] = {}  # base key -> its target-level value

    # ---- the hooks a peer writes
    def _new_trial(self, k: int) -> tuple[Any, Any]:
        """A new trial of the peer and its configuration (a point of ``self.space.base``)."""
        raise NotImplementedError

    def _answer(self, trial: Any, value: float) -> None:
        """Close ``trial``, a network already evaluated at the target, with its known ``value``."""
        raise NotImplementedError

    def _drop(self, trial: Any) -> None:
        """Close ``trial``, a network already screened or running, without a value."""
        raise NotImplementedError

    def _fail(self, trial: Any) -> None:
        raise NotImplementedError

    def _screen(self, trial: Any, value: float) -> bool:
        """Report the first level's ``value``; whether the trial goes on to the target."""
        raise NotImplementedError

    def _complete(self, trial: Any, value: float) -> None:
        raise NotImplementedError

    # ---- the bookkeeping, once
    def _propose_one(self, k: int) -> AtFidelity:
        if self.promotions:
            return AtFidelity(self.promotions.pop(0), self.high)
        base = self.space.base
        for _ in range(1000):
            trial, config = self._new_trial(k)
            key = base.key(config)
            if key in self.values:  # already evaluated at the target: answered from what is known
                self._answer(trial, self.values[key])
            elif any(self.space.key(AtFidelity(config, lv)) in self._seen or self.space.key(AtFidelity(config, lv))
                     in self.pending for lv in self.space.levels):
                self._drop(trial)  # screened or running: not again
            else:
                self.trials[key] = trial
                return AtFidelity(config, self.low)
        raise ConfigError(f"{self.name} proposed 1,000 networks in a row that were already evaluated")

    def _observe(self, obs: Any) -> None:
        config, level = obs.cell
        key = self.space.base.key(config)
        trial = self.trials.get(key)
        if trial is None:
            return
        if obs.outcome.failed:
            self._fail(trial)
        elif level != self.low:
            self.values[key] = obs.outcome.metrics[self.metric]
            self._complete(trial, self.values[key])
        elif self._screen(trial, obs.outcome.metrics[self.metric]):
            self.promotions.append(config)  # running on, to the target
            return
        del self.trials[key]
