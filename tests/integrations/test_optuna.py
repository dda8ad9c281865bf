"""BOEDSampler: boed-nas's strategies inside Optuna studies (issue 34, point 1)."""

from __future__ import annotations

import logging
import multiprocessing
import pickle

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from boed_nas.errors import ConfigError, UnknownStrategyError  # noqa: E402
from boed_nas.integrations import optuna as integration  # noqa: E402
from boed_nas.integrations.optuna import PROPOSAL_ATTR, BOEDSampler, space_of, variable_of  # noqa: E402
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
    # no network proposed twice: each proposal is in the storage before the other process's next one
    # (a process's first trial is random, and a random trial's parameters are unknown until suggested)
    proposed = [discrete(t) for t in study.trials if PROPOSAL_ATTR in t.system_attrs]
    assert len(proposed) >= 10 and len(set(proposed)) == len(proposed)
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


# ---------------------------------------------------------------------- issue: the Optuna audit's bugs
def race_suggest(trial):
    return trial.suggest_categorical("a", ["x", "y", "z", "w"]), trial.suggest_int("b", 0, 9)


def race_objective(trial):
    a, b = race_suggest(trial)
    return -(b - 4) ** 2 + (2 if a == "w" else 0)


def test_a_proposal_is_in_the_storage_before_its_trial_suggests_so_another_process_does_not_repeat_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    optuna.create_study(study_name="r", storage=url, direction="maximize").optimize(race_objective, n_trials=8)
    a = optuna.load_study(study_name="r", storage=url, sampler=BOEDSampler(seed=0))  # two processes' samplers
    b = optuna.load_study(study_name="r", storage=url, sampler=BOEDSampler(seed=1))
    ta = a.ask()
    ta.relative_params  # A has proposed; none of its parameters is in the storage yet
    tb = b.ask()
    pb = race_suggest(tb)
    pa = race_suggest(ta)
    assert pa != pb
    stored = optuna.load_study(study_name="r", storage=url).trials[ta.number].system_attrs[PROPOSAL_ATTR]
    assert (stored["a"], stored["b"]) == pa


def test_a_proposal_made_meanwhile_by_another_process_is_proposed_again(tmp_path, monkeypatch):
    # B chose the same network as A and wrote it after A read the storage, before A wrote its own: A,
    # reading the storage again after its write, sees B's and proposes again
    url = f"sqlite:///{tmp_path / 'race.db'}"
    optuna.create_study(study_name="r", storage=url, direction="maximize").optimize(race_objective, n_trials=8)
    a = optuna.load_study(study_name="r", storage=url, sampler=BOEDSampler(seed=0))
    tb = optuna.load_study(study_name="r", storage=url).ask()  # B's trial, running in another process
    raced = []
    record = a.sampler._record

    def meanwhile(study, trial, params):
        if not raced:
            raced.append(dict(params))
            tb.storage.set_trial_system_attr(tb._trial_id, PROPOSAL_ATTR, dict(params))
        record(study, trial, params)

    monkeypatch.setattr(a.sampler, "_record", meanwhile)
    ta = a.ask()
    assert race_suggest(ta) != (raced[0]["a"], raced[0]["b"])
    assert ta.storage.get_trial(ta._trial_id).system_attrs[PROPOSAL_ATTR] == {"a": ta.params["a"], "b": ta.params["b"]}


def mo_objective(trial):
    depth = trial.suggest_int("depth", 1, 8)
    width = trial.suggest_categorical("width", [16, 32, 64, 128])
    return 1 - 1 / (depth * width / 8 + 1), depth * width / 100


@pytest.mark.parametrize("objectives", [("acc", "latency"), ("acc", "latency:min"), "acc:max,latency"])
def test_a_study_of_two_measured_values_is_searched_by_nsga2(objectives, caplog):
    sampler = BOEDSampler(seed=0, objectives=objectives)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    with caplog.at_level(logging.WARNING, logger="boed_nas.optuna"):
        study.optimize(mo_objective, n_trials=12)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert sampler.strategy.name == "nsga2" and len(study.best_trials) >= 1
    assert set(sampler.strategy.history[-1].outcome.metrics) == {"acc", "latency"}  # told under the bare names
    warnings = [r for r in caplog.records if "nsga2" in r.getMessage()]
    assert len(warnings) == 1 and "boed-mo" in warnings[0].getMessage()


def test_two_measured_values_with_boed_mo_or_a_contradicting_suffix_fail_before_any_training():
    trained = []

    def objective(trial):
        values = mo_objective(trial)  # the parameters first, as an objective suggests them before training
        trained.append(trial.number)
        return values

    for kw, match in [(dict(strategy="boed-mo", objectives=("acc", "latency")), "learns one measured objective"),
                      (dict(objectives=("acc", "latency:max")), "latency:max"),
                      (dict(objectives=("acc:min", "latency")), "acc:min")]:
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=BOEDSampler(seed=0, **kw))
        with pytest.raises(ConfigError, match=match):
            study.optimize(objective, n_trials=3)
        assert not trained
    with pytest.raises(ConfigError, match="latency:sometimes"):
        BOEDSampler(objectives=("acc", "latency:sometimes"))


def test_the_first_trial_of_a_given_space_satisfies_its_constraint():
    from tests.spaces.user_objective import SPACE

    def objective(trial):
        config = SPACE.from_parameters({v.name: trial.suggest_categorical(v.name, list(v.values)) for v in SPACE.variables})
        return float(config["depth"])

    firsts = []
    for seed in range(10):  # trial 0, before relative sampling: one space.sample, valid under the constraint
        study = optuna.create_study(direction="maximize", sampler=BOEDSampler(space=SPACE, seed=seed))
        study.optimize(objective, n_trials=1)  # SpaceError from the objective where the constraint is broken
        SPACE.from_parameters(study.trials[0].params)
        firsts.append(study.trials[0].params)
    assert study.sampler._drawn == {}  # dropped as the trial ended
    again = optuna.create_study(direction="maximize", sampler=BOEDSampler(space=SPACE, seed=9))
    again.optimize(objective, n_trials=1)
    assert again.trials[0].params == firsts[-1]  # from (seed, trial number): reproducible
    assert len({tuple(sorted(p.items())) for p in firsts}) > 1


def test_construction_refuses_what_would_fail_after_a_trial_was_trained():
    with pytest.raises(UnknownStrategyError, match="nosuch"):
        BOEDSampler(strategy="nosuch")
    with pytest.raises(ConfigError, match="n_innit"):
        BOEDSampler(n_innit=5)  # a setting no default strategy takes
    with pytest.raises(ConfigError, match="n_innit"):
        BOEDSampler(strategy="boed", n_innit=5)
    with pytest.raises(ConfigError, match="pop_size"):
        BOEDSampler(strategy="boed", pop_size=10)  # nsga2's, not boed's
    with pytest.raises(ConfigError, match="'tpe'"):
        BOEDSampler(independent_sampler="tpe")
    with pytest.raises(ConfigError, match="metric"):
        BOEDSampler(metric="acc")  # the sampler sets it from the study
    BOEDSampler(pop_size=10)  # nsga2's: a default for a study of two measured values
    BOEDSampler(strategy="evolution", independent_sampler=optuna.samplers.TPESampler(seed=0))
    # a setting of the default that the study's strategy turns out not to take: at trial 0, before training
    study = optuna.create_study(sampler=BOEDSampler(seed=0, pop_size=10))
    with pytest.raises(ConfigError, match="pop_size"):
        study.optimize(race_objective, n_trials=2)
    assert study.trials[0].state == optuna.trial.TrialState.FAIL and study.trials[0].params == {}


def test_a_numpy_integer_seed_is_a_seed():
    sampler = BOEDSampler(seed=np.int64(3))
    assert sampler.seed == 3 and type(sampler.seed) is int
    for bad in (True, 1.0, "3", np.int64(-1)):
        with pytest.raises(ConfigError, match="seed"):
            BOEDSampler(seed=bad)


def test_the_docstring_names_nb201_parameters_as_to_parameters_does():
    assert set(CELL_SPACE.to_parameters(CELL_SPACE.parse(0))) == set(EDGES)
    assert f"``{EDGES[0]}`` ... ``{EDGES[-1]}``" in integration.__doc__
    assert "``edge_5``" not in integration.__doc__


def test_a_study_the_sampler_cannot_search_is_a_warning_once(caplog):
    def misnamed(trial):  # the space's parameters under other names
        return float(sum(trial.suggest_categorical(f"edge_{i}", list(OPS)) == "nor_conv_3x3" for i in range(6)))

    with caplog.at_level(logging.WARNING, logger="boed_nas.optuna"):
        study = optuna.create_study(direction="maximize", sampler=BOEDSampler(space="nb201", seed=0))
        study.optimize(misnamed, n_trials=6)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "edge_0_to_1" in warnings[0] and "'edge_0'" in warnings[0]

    caplog.clear()

    def continuous(trial):
        return trial.suggest_float("x", -1, 1) ** 2 + trial.suggest_float("y", 0, 1)

    with caplog.at_level(logging.WARNING, logger="boed_nas.optuna"):
        study = optuna.create_study(sampler=BOEDSampler(seed=0))
        study.optimize(continuous, n_trials=5)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "['x', 'y']" in warnings[0]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="boed_nas.optuna"):  # a study that matches: no warning
        study = optuna.create_study(direction="maximize", sampler=BOEDSampler(space="nb201", seed=0))
        study.optimize(nb201_objective, n_trials=5)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
