"""Optuna as a multi-fidelity peer in boed-nas's harness: TPE with a pruner, the 12-epoch value
reported as the intermediate step (issue 32's peer arm; not a dependency of the package).

Optuna is installed beside the package, not into it, e.g.::

    pip install --target "$PEERS" optuna      # then drop the numpy, packaging, tqdm and
                                                      # typing_extensions it brought (the venv has them)
    PYTHONPATH=$PEERS:. python -m benchmarks.optuna_fidelity bench --strategies optuna-sha,optuna-hyperband \\
        --fidelity epochs=12,200 --dataset cifar100 --seeds 3 --workers 1,4,16 --clock simulated --stop-at-optimum \\
        --budget 1000 --stop-when 'finished>=259200' --quiet --out runs/fidelity/optuna/cifar100

(the arguments after the script's name are ``boed-nas``'s; importing this module registers the two
strategies in the process first).

Each Optuna trial is one network: its six edges are ``suggest_categorical`` over the ops (the
space's ``variables``). The harness asks for the trial's 12-epoch evaluation, reports it at step
12 and asks the pruner; a trial that survives is evaluated at 200 epochs and completed with that
value. ``optuna-sha``: ``SuccessiveHalvingPruner(min_resource=12, reduction_factor=3)``;
``optuna-hyperband``: ``HyperbandPruner(min_resource=12, max_resource=200, reduction_factor=3)``
(a trial in a bracket whose first rung is above 12 is never pruned at 12: it goes to 200, as in
Hyperband's brackets). TPE is seeded by the run's seed, with ``constant_liar`` for the running
trials. A trial whose network was already evaluated is answered from what is known (its 200-epoch
value, or pruned) and another is drawn, so no network is paid twice (``benchmarks.fidelity_peer``).
The study lives in memory: a run of these arms does not resume (they are measured, not shipped).
"""

from __future__ import annotations

import sys
from typing import Any

import optuna

from benchmarks.fidelity_peer import ScreeningPeer

optuna.logging.set_verbosity(optuna.logging.WARNING)


class OptunaPruned(ScreeningPeer):
    """TPE with a pruner over a fidelity's first level and its target (see the module)."""

    name = "optuna-sha"

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        sampler = optuna.samplers.TPESampler(seed=self.seed, constant_liar=True)
        # a fixed study name: Optuna's HyperbandPruner draws a trial's bracket from a hash of the study's name
        # and the trial's number, and a study without a name gets a random one (a run would not repeat)
        self.study = optuna.create_study(direction="maximize" if self.maximize else "minimize", sampler=sampler,
                                         pruner=self._pruner(), study_name=f"{self.name}-seed{self.seed}")

    def _pruner(self) -> optuna.pruners.BasePruner:
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=self.low, reduction_factor=3)

    def _new_trial(self, k: int) -> tuple[optuna.trial.Trial, Any]:
        trial = self.study.ask()
        base = self.space.base
        return trial, base.from_parameters({v.name: trial.suggest_categorical(v.name, list(v.values))
                                            for v in base.variables})

    def _answer(self, trial: optuna.trial.Trial, value: float) -> None:
        self.study.tell(trial, value)

    def _drop(self, trial: optuna.trial.Trial) -> None:
        self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)

    def _fail(self, trial: optuna.trial.Trial) -> None:
        self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def _screen(self, trial: optuna.trial.Trial, value: float) -> bool:
        trial.report(value, step=int(self.low))
        if trial.should_prune():
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return False
        return True

    def _complete(self, trial: optuna.trial.Trial, value: float) -> None:
        self.study.tell(trial, value)


class OptunaHyperband(OptunaPruned):
    """TPE with Optuna's ``HyperbandPruner`` (see the module)."""

    name = "optuna-hyperband"

    def _pruner(self) -> optuna.pruners.BasePruner:
        return optuna.pruners.HyperbandPruner(min_resource=self.low, max_resource=self.high, reduction_factor=3)


if __name__ == "__main__":
    from boed_nas.cli import main

    if sys.argv[1:2] != ["bench"]:
        sys.exit("usage: python -m benchmarks.optuna_fidelity bench ARGS (boed-nas bench's arguments)")
    sys.exit(main(sys.argv[1:]))
