"""Syne Tune's multi-fidelity schedulers as peers in boed-nas's harness: ASHA, Hyperband and BOHB
over a fidelity's first level and its target (issue 32's peer arms; not a dependency of the package).

Syne Tune is installed beside the package, not into it (its xgboost dependency is not needed by
these schedulers), e.g.::

    pip install --target "$PEERS" --no-deps syne-tune dill sortedcontainers statsmodels patsy
    PYTHONPATH=$PEERS:. python -m benchmarks.synetune_fidelity bench --strategies st-asha,st-hyperband,st-bohb \\
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
what is known (its 200-epoch value) and another is drawn, so none is paid twice
(``benchmarks.fidelity_peer``). Runs of these arms do not resume (they are measured, not shipped).
"""

from __future__ import annotations

import contextlib
import datetime
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import choice
from syne_tune.optimizer.baselines import ASHA, BOHB
from syne_tune.optimizer.scheduler import SchedulerDecision

from benchmarks.fidelity_peer import ScreeningPeer
from boed_nas.errors import ConfigError
from boed_nas.seeding import derive_seed


@contextlib.contextmanager
def _numpy_global_seed(seed: int) -> Iterator[None]:
    """NumPy's global generator seeded for one call and put back (Syne Tune draws brackets from it)."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


class SyneTuneASHA(ScreeningPeer):
    """Syne Tune's ASHA over a fidelity's first level and its target (see the module)."""

    name = "st-asha"
    brackets = 1

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        config_space = {v.name: choice(list(v.values)) for v in self.space.base.variables}
        with _numpy_global_seed(derive_seed(self.seed, 0xB0)):
            self.scheduler = self._scheduler(config_space)
        self._next_id = 0

    def _scheduler(self, config_space: dict[str, Any]) -> Any:
        return ASHA(config_space, metric=self.metric, time_attr="epoch", max_t=int(self.high), grace_period=int(self.low),
                    reduction_factor=3, brackets=self.brackets, do_minimize=not self.maximize, random_seed=self.seed)

    def _new_trial(self, k: int) -> tuple[Trial, Any]:
        with _numpy_global_seed(self.derived_seed(k, self._next_id)):
            suggestion = self.scheduler.suggest()
        if suggestion is None:
            raise ConfigError(f"{self.name}: Syne Tune suggested no configuration")
        config = self.space.base.from_parameters(dict(suggestion.config))
        trial = Trial(trial_id=self._next_id, config=dict(suggestion.config), creation_time=datetime.datetime.now())
        self._next_id += 1
        with _numpy_global_seed(self.derived_seed(k, trial.trial_id, 1)):
            self.scheduler.on_trial_add(trial)
        return trial, config

    def _result(self, value: float, level: Any) -> dict[str, Any]:
        return {self.metric: value, "epoch": int(level)}

    def _answer(self, trial: Trial, value: float) -> None:
        self.scheduler.on_trial_complete(trial, self._result(value, self.high))

    def _drop(self, trial: Trial) -> None:
        self.scheduler.on_trial_remove(trial)

    def _fail(self, trial: Trial) -> None:
        self.scheduler.on_trial_error(trial)

    def _screen(self, trial: Trial, value: float) -> bool:
        return self.scheduler.on_trial_result(trial, self._result(value, self.low)) != SchedulerDecision.STOP

    def _complete(self, trial: Trial, value: float) -> None:
        self.scheduler.on_trial_complete(trial, self._result(value, self.high))


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
        sys.exit("usage: python -m benchmarks.synetune_fidelity bench ARGS (boed-nas bench's arguments)")
    sys.exit(main(sys.argv[1:]))
