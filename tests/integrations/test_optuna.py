"""BOEDSampler: boed-nas's strategies inside Optuna studies (issue 34, point 1)."""

from __future__ import annotations

import multiprocessing
import pickle

import pytest

optuna = pytest.importorskip("optuna")

from boed_nas.errors import ConfigError  # noqa: E402
from boed_nas.integrations.optuna import BOEDSampler, space_of, variable_of  # noqa: E402
from boed_nas.nb201.space import CELL_SPACE, OPS  # noqa: E402
from boed_nas.spaces import Categorical, Integer, Space  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
EDGES = [v.name for v in CELL_SPACE.variables]


def toy(trial):
    depth = trial.suggest_int("depth", 1, 4)
    width = trial.suggest_categorical("width", [16, 32, 64])
    drop = trial.suggest_float("drop", 0.0, 0.3, step=0.1)
    lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)  # continuous: the independent sampler's
    return -abs(depth - 3) - abs(width - 32) / 16 - abs(drop - 0.1) + lr


def discrete(trial):
    return (trial.params["depth"], trial.params["width"], round(trial.params["drop"], 6))


def test_the_study_discrete_parameters_become_a_space_and_boed_never_repeats_a_configuration():
    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=0))
    study.optimize(toy, n_trials=25)
    sampler = study.sampler
    space = sampler.strategy.space
    assert [v.name for v in space.variables] == ["depth", "drop", "width"]  # lr is continuous: not searched
    assert space.variables[1].values == pytest.approx([0.0, 0.1, 0.2, 0.3])
    relative = [discrete(t) for t in study.trials[1:]]  # trial 0: no search space yet, independent
    assert len(set(relative)) == len(relative)
    assert len(sampler.strategy.history) == 25  # every trial told as it ended
    assert all(0.001 <= t.params["lr"] <= 0.1 for t in study.trials)


def test_one_seed_gives_one_trajectory():
    runs = []
    for _ in range(2):
        study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=3))
        study.optimize(toy, n_trials=15)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    other = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=4))
    other.optimize(toy, n_trials=15)
    assert [t.params for t in other.trials] != runs[0]


def nb201_objective(trial):
    cell = CELL_SPACE.from_parameters({e: trial.suggest_categorical(e, list(OPS)) for e in EDGES})
    return float(sum(cell.ops)) / 24  # a landscape of the ops' indices; any function of the cell would do


def test_nb201_through_its_space_one_trial_per_isomorphism_class():
    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(space="nb201", seed=1))
    study.enqueue_trial(CELL_SPACE.to_parameters(CELL_SPACE.parse(0)))  # a fixed first trial
    study.optimize(nb201_objective, n_trials=20)
    classes = [CELL_SPACE.key(CELL_SPACE.from_parameters(t.params)) for t in study.trials]
    assert len(set(classes)) == len(classes)
    # a repeat enqueued by the user (the same network as trial 0) is evaluated by Optuna but told once
    study.enqueue_trial(study.trials[0].params)
    study.optimize(nb201_objective, n_trials=2)
    assert len(study.sampler.strategy.history) == 21  # 22 trials, one network twice
    best = study.sampler.recommend()
    assert set(best) == set(EDGES)


def test_failed_and_pruned_trials_are_failures_never_proposed_again():
    def flaky(trial):
        value = toy(trial)
        if trial.params["depth"] == 2:
            raise RuntimeError("out of memory")
        if trial.params["width"] == 64:
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=2))
    study.optimize(flaky, n_trials=20, catch=(RuntimeError,))
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.FAIL in states and optuna.trial.TrialState.PRUNED in states
    history = study.sampler.strategy.history
    assert sum(o.outcome.failed for o in history) == sum(t.state != optuna.trial.TrialState.COMPLETE for t in study.trials)
    relative = [discrete(t) for t in study.trials[1:]]
    assert len(set(relative)) == len(relative)


def test_running_trials_are_pending():
    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=0))
    study.optimize(toy, n_trials=6)
    first, second = study.ask(), study.ask()
    a = (first.suggest_int("depth", 1, 4), first.suggest_categorical("width", [16, 32, 64]),
         first.suggest_float("drop", 0.0, 0.3, step=0.1))
    b = (second.suggest_int("depth", 1, 4), second.suggest_categorical("width", [16, 32, 64]),
         second.suggest_float("drop", 0.0, 0.3, step=0.1))
    assert a != b
    assert len(study.sampler.strategy.pending) == 2
    study.tell(first, 0.0)
    study.tell(second, state=optuna.trial.TrialState.FAIL)


def test_threads_n_jobs():
    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=0))
    study.optimize(toy, n_trials=16, n_jobs=2)
    assert len(study.trials) == 16
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def _worker(url: str, seed: int, n: int, out) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="shared", storage=url, sampler=BOEDSampler(seed=seed))
    study.optimize(toy, n_trials=n)
    out.put(len(study.sampler.strategy.history))


def test_two_processes_share_one_sqlite_study_and_a_new_sampler_resumes_from_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="shared", storage=url, direction="maximize")
    ctx = multiprocessing.get_context("spawn")  # torch's thread pool does not survive fork
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, seed, 10, out)) for seed in (0, 1)]
    for p in procs:
        p.start()
    told = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 20 and all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert max(told) > 10  # a process's strategy was told the other process's trials too
    # a fresh sampler on the stored study: told every finished trial before its first proposal
    resumed = optuna.load_study(study_name="shared", storage=url, sampler=BOEDSampler(seed=5))
    resumed.optimize(toy, n_trials=1)
    distinct = {discrete(t) for t in study.trials}
    assert len(resumed.sampler.strategy.history) == len(distinct)


def test_a_pickled_sampler_rebuilds_its_strategy_from_the_storage():
    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=0))
    study.optimize(toy, n_trials=8)
    copy = pickle.loads(pickle.dumps(study.sampler))
    assert copy.strategy is None and copy.seed == 0
    study.sampler = copy
    study.optimize(toy, n_trials=2)
    assert len(copy.strategy.history) == 10


COSTED = Space([Categorical("block", ["conv", "mb", "fused"]), Integer("depth", 1, 4), Integer("width", 1, 4)],
               costs=lambda c: {"flops": c["depth"] * c["width"] ** 2}, name="costed")


def test_a_multi_objective_study_runs_the_pareto_controller_on_a_space_of_your_own():
    def objective(trial):
        config = COSTED.from_parameters({"block": trial.suggest_categorical("block", ["conv", "mb", "fused"]),
                                         "depth": trial.suggest_int("depth", 1, 4),
                                         "width": trial.suggest_int("width", 1, 4)})
        acc = 0.5 + 0.1 * config["depth"] + 0.05 * config["width"] + (config["block"] == "mb") * 0.1
        return acc, COSTED.costs(config)["flops"]

    sampler = BOEDSampler(space=COSTED, seed=0, objectives=("val_acc", "flops"))
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=15)
    assert sampler.strategy.name == "boed-mo"
    keys = [COSTED.key(COSTED.from_parameters(t.params)) for t in study.trials]
    assert len(set(keys)) == len(keys)
    assert len(study.best_trials) >= 2

    unnamed = optuna.create_study(directions=["maximize", "minimize"], sampler=BOEDSampler(space=COSTED, seed=0))
    with pytest.raises(ConfigError, match="objectives= naming each"):
        unnamed.optimize(objective, n_trials=3)
    wrong = optuna.create_study(directions=["maximize", "maximize"],
                                sampler=BOEDSampler(space=COSTED, seed=0, objectives="val_acc,flops"))
    with pytest.raises(ConfigError, match="direction 'minimize'"):
        wrong.optimize(objective, n_trials=3)


def test_a_space_whose_values_the_study_does_not_suggest_is_a_clear_error():
    space = Space([Categorical("width", [16, 32, 64, 128])], name="widths")

    def objective(trial):
        return trial.suggest_categorical("width", [16, 32])  # not the space's values

    study = optuna.create_study(sampler=BOEDSampler(space=space, seed=0))
    with pytest.raises(ConfigError, match="width"):
        study.optimize(objective, n_trials=12)


def test_distributions_as_variables():
    D = optuna.distributions
    assert variable_of("a", D.CategoricalDistribution(["x", "y"])).values == ["x", "y"]
    assert variable_of("b", D.IntDistribution(2, 10, step=4)).values == [2, 6, 10]
    assert variable_of("c", D.FloatDistribution(0.0, 1.0)) is None  # continuous
    assert variable_of("d", D.IntDistribution(0, 10**9)) is None  # too large a grid
    assert space_of({"c": D.FloatDistribution(0.0, 1.0)}) is None
    with pytest.raises(ConfigError, match="seed"):
        BOEDSampler(seed=-1)
    assert isinstance(BOEDSampler().seed, int)  # None: a random seed, kept


def _dask_task(storage, seed: int, n: int) -> int:
    import optuna as _optuna

    _optuna.logging.set_verbosity(_optuna.logging.WARNING)
    study = _optuna.load_study(study_name="shared", storage=storage, sampler=BOEDSampler(seed=seed))
    study.optimize(toy, n_trials=n)
    return len(study.sampler.strategy.history)


@pytest.mark.parametrize("kind", ["sqlite", "dask"])
def test_dask_workers_share_one_study(tmp_path, kind):
    # two Dask worker processes run study.optimize on one study: in an RDB storage (SQLite), or in
    # optuna-integration's DaskStorage (the study lives on the scheduler), which Optuna's docs name
    # for Dask
    from distributed import Client, LocalCluster

    if kind == "dask":
        dask_storage = pytest.importorskip("optuna_integration").DaskStorage
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, Client(cluster) as client:
        storage = f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite" else dask_storage(client=client)
        optuna.create_study(study_name="shared", storage=storage, direction="maximize")
        told = client.gather([client.submit(_dask_task, storage, seed, 8, pure=False) for seed in (0, 1)])
        study = optuna.load_study(study_name="shared", storage=storage)
        trials = study.trials
    assert len(trials) == 16 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    keys = {tuple(sorted(t.params.items())) for t in trials}
    assert len(keys) == 16  # no network twice across the two workers
    assert max(told) > 8  # each sampler was told the other worker's trials too
