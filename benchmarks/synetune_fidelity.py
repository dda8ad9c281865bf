"""Syne Tune's multi-fidelity schedulers as peers in boed-nas's harness: ASHA, Hyperband and BOHB
over a fidelity's first level and its target (issue 32's peer arms; not a dependency of the package).

Syne Tune is installed beside the package, not into it (its xgboost dependency is not needed by
these schedulers), e.g.::

    pip install --target "$PEERS" --no-deps syne-tune dill sortedcontainers statsmodels patsy
    PYTHONPATH=$PEERS:. python benchmarks/synetune_fidelity.py bench --strategies st-asha,st-hyperband,st-bohb \\
        --fidelity epochs=12,200 --dataset cifar100 --seeds 3 --workers 1,4,16 --clock simulated --stop-at-optimum \\
        --budget 1000 --stop-when 'finished>=259200' --quiet --out runs/fidelity/synetune/cifar100

(the arguments after the script's name are ``boed-nas``'s; importing this module registers the
three strategies first).

Each Syne Tune trial is one network: its config space is one ``choice`` over the ops per edge (the
space's ``variables``). The harness evaluates a new trial at the first level (12 epochs) and
reports it (``time_attr`` "epoch" = 12) to the scheduler, whose decision (Syne Tune's
``on_trial_result``) stops it or lets it continue to the target (200 epochs), reported as the
trial's completion. ``st-asha``: ``ASHA(grace_period=12, max_t=200, reduction_factor=3)``, one
bracket (its rungs at 36 and 108 epochs receive no results: the table has none, so the only
decision is at 12); ``st-hyperband``: the same with ``brackets=2`` (a trial in the second bracket
has no rung at 12 and goes on to 200, as in Hyperband); ``st-bohb``: ``BOHB`` (Syne Tune's KDE
searcher, asynchronous successive halving), one bracket. Each is seeded by the run's seed; Syne
Tune draws a trial's bracket from NumPy's global generator, which is seeded per draw from the run's
seed here (and put back), so a run is reproducible. A network already evaluated is answered from
what is known (its 200-epoch value) and another is drawn, so none is paid twice. Runs of these arms
do not resume (they are measured, not shipped).
"""

from __future__ import annotations

import contextlib
import datetime
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import choice
from syne_tune.optimizer.baselines import ASHA, BOHB
from syne_tune.optimizer.scheduler import SchedulerDecision

from boed_nas.errors import ConfigError
from boed_nas.seeding import derive_seed
from boed_nas.spaces.fidelity import AtFidelity
from boed_nas.strategy import Strategy


@contextlib.contextmanager
def _numpy_global_seed(seed: int) -> Iterator[None]:
    """NumPy's global generator seeded for one call and put back (Syne Tune draws brackets from it)."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


class SyneTuneASHA(Strategy):
    """Syne Tune's ASHA over a fidelity's first level and its target (see the module)."""

    name = "st-asha"
    fidelities = True
    requires = ("variables", "to_parameters", "from_parameters")
    brackets = 1

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        if not hasattr(self.space, "fidelity"):
            raise ConfigError(f"{self.name} needs a fidelity (e.g. epochs=12,200)")
        self.low, self.high = self.space.levels[0], self.space.target
        base = self.space.base
        config_space = {v.name: choice(list(v.values)) for v in base.variables}
        with _numpy_global_seed(derive_seed(self.seed, 0xB0)):
            self.scheduler = self._scheduler(config_space)
        self.trials: dict[Any, Trial] = {}  # base key -> its running trial
        self.promotions: list[Any] = []  # configurations the scheduler let continue to the target
        self.values: dict[Any, float] = {}  # base key -> its target-level value
        self._next_id = 0

    def _scheduler(self, config_space: dict[str, Any]) -> Any:
        return ASHA(config_space, metric=self.metric, time_attr="epoch", max_t=int(self.high), grace_period=int(self.low),
                    reduction_factor=3, brackets=self.brackets, do_minimize=not self.maximize, random_seed=self.seed)

    def _propose_one(self, k: int) -> AtFidelity:
        if self.promotions:
            return AtFidelity(self.promotions.pop(0), self.high)
        base = self.space.base
        for _ in range(1000):
            with _numpy_global_seed(self.derived_seed(k, self._next_id)):
                suggestion = self.scheduler.suggest()
            if suggestion is None:
                raise ConfigError(f"{self.name}: Syne Tune suggested no configuration")
            config = base.from_parameters(dict(suggestion.config))
            trial = Trial(trial_id=self._next_id, config=dict(suggestion.config), creation_time=datetime.datetime.now())
            self._next_id += 1
            with _numpy_global_seed(self.derived_seed(k, trial.trial_id, 1)):
                self.scheduler.on_trial_add(trial)
            key = base.key(config)
            if key in self.values:  # already evaluated at the target: answered from what is known
                self.scheduler.on_trial_complete(trial, {self.metric: self.values[key], "epoch": int(self.high)})
            elif any(self.space.key(AtFidelity(config, lv)) in self._seen or self.space.key(AtFidelity(config, lv))
                     in self.pending for lv in self.space.levels):
                self.scheduler.on_trial_remove(trial)  # screened or running: not again
            else:
                self.trials[key] = trial
                return AtFidelity(config, self.low)
        raise ConfigError(f"{self.name} suggested 1,000 networks in a row that were already evaluated")

    def _observe(self, obs: Any) -> None:
        config, level = obs.cell
        key = self.space.base.key(config)
        trial = self.trials.get(key)
        if trial is None:
            return
        if obs.outcome.failed:
            self.scheduler.on_trial_error(trial)
            del self.trials[key]
            return
        value = obs.outcome.metrics[self.metric]
        result = {self.metric: value, "epoch": int(level)}
        if level == self.low:
            if self.scheduler.on_trial_result(trial, result) == SchedulerDecision.STOP:
                del self.trials[key]
            else:
                self.promotions.append(config)
        else:
            self.values[key] = value
            self.scheduler.on_trial_complete(trial, result)
            del self.trials[key]

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        pass


class SyneTuneHyperband(SyneTuneASHA):
    """Syne Tune's ASHA with two brackets: Hyperband over the two levels (see the module)."""

    name = "st-hyperband"
    brackets = 2


class SyneTuneBOHB(SyneTuneASHA):
    """Syne Tune's BOHB: KDE proposals, asynchronous successive halving (see the module)."""

    name = "st-bohb"

    def _scheduler(self, config_space: dict[str, Any]) -> Any:
        return BOHB(config_space, metric=self.metric, time_attr="epoch", max_t=int(self.high), grace_period=int(self.low),
                    reduction_factor=3, do_minimize=not self.maximize, random_seed=self.seed)


if __name__ == "__main__":
    from boed_nas.cli import main

    if sys.argv[1:2] != ["bench"]:
        sys.exit("usage: python benchmarks/synetune_fidelity.py bench ARGS (boed-nas bench's arguments)")
    sys.exit(main(sys.argv[1:]))
