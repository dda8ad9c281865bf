"""The search loop (boed_nas.experiment.loop.run_search): one row per paid query, regret, the optimum,
batches, and what the strategy is (not) told."""

import numpy as np
import pandas as pd
import pytest
from boed_nas.strategies.baselines import RandomSearch

from boed_nas.errors import ConfigError
from boed_nas.experiment.loop import TRAJECTORY_COLUMNS, run_search
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import make_strategy
from boed_nas.strategy import Strategy

SAME = [c for c in TRAJECTORY_COLUMNS if c != "ask_seconds"]  # what a rerun reproduces (not its timings)


def test_trajectory_columns_and_monotone_best(c10):
    c10.reset()
    traj = run_search(make_strategy("random", seed=0), c10, 60)
    c10.reset()
    assert list(traj["query"]) == list(range(1, 61))
    assert np.all(np.diff(traj["best_val_so_far"]) >= 0)
    assert {"query", "cell", "val_acc", "test_acc", "best_val_so_far", "test_regret"} <= set(traj.columns)
    assert (traj["test_regret"] >= 0).all()
    assert traj["cost"].gt(0).all()


@pytest.mark.parametrize("batch_size", [1, 3])
def test_the_model_fit_is_timed_in_the_ask_not_in_recommend(c10, batch_size):
    # a model-based strategy fits on the first call after a tell; the bench must make that call
    # the ask (as in a user's loop that never asks for a recommendation): the recommendation for
    # the last cell of a batch is taken after the next ask, the others' at once
    calls = []

    class Logged:  # what run_search calls, logged
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def ask(self, n=1):
            calls.append("ask")
            return self.inner.ask(n)

        def recommend(self):
            calls.append("recommend")
            return self.inner.recommend()

    c10.reset()
    traj = run_search(Logged(make_strategy("local", seed=0)), c10, 7, batch_size=batch_size)
    c10.reset()
    plain = run_search(make_strategy("local", seed=0), c10, 7, batch_size=batch_size)
    c10.reset()
    same = [c for c in TRAJECTORY_COLUMNS if c != "ask_seconds"]  # not the wall-clock columns
    assert traj[same].equals(plain[same])  # same trajectory
    n_asks = -(-7 // batch_size)
    assert calls.count("ask") == n_asks and calls.count("recommend") == 7
    asks = [i for i, c in enumerate(calls) if c == "ask"]
    assert asks[1] - asks[0] - 1 == batch_size - 1, calls  # the batch's last recommendation waits
    assert all(calls[i + 1] == "recommend" for i in asks[1:]), calls  # ... and comes right after the ask


class Scripted(Strategy):
    """Random cells, but the cell ``at`` (1-based query) is ``target``; records every observation told.
    No ``name``: a test class stays out of the registry."""

    def __init__(self, target=None, at=3, **kw):
        super().__init__(**kw)
        self.target, self.at, self.told = target, at, []

    def _propose_one(self, k):
        if self.target is not None and len(self.history) + len(self.pending) == self.at - 1:
            return self.target
        return self.random_new_cell()

    def _observe(self, obs):
        self.told.append(obs)


def test_one_row_per_paid_query_with_running_best_and_its_regret():
    bench = NB201Benchmark("cifar10", seed=0)
    traj = run_search(RandomSearch(seed=0), bench, 15)
    assert [c for c in traj.columns if c in TRAJECTORY_COLUMNS] == TRAJECTORY_COLUMNS
    assert len(traj) == 15 == bench.n_queries and list(traj["query"]) == list(range(1, 16))
    assert np.all(np.diff(traj["best_val_so_far"]) >= 0)
    np.testing.assert_array_equal(traj["best_val_so_far"], np.maximum.accumulate(traj["val_acc"]))
    np.testing.assert_allclose(traj["cumulative_cost"], np.cumsum(traj["cost"]))
    for r in traj.itertuples():
        assert r.best_val_so_far == traj["val_acc"].iloc[: r.query].max()
        assert r.best_cell == traj["cell"].iloc[int(np.argmax(traj["val_acc"].iloc[: r.query]))]
        assert r.test_regret == bench.test_regret(r.best_cell)
        assert r.test_acc == bench.lookup(r.cell)["test_acc"] and r.arch_index == bench.index_of(r.cell)
        # random search recommends its best observed cell
        assert r.recommended_cell == r.best_cell and r.recommended_test_regret == r.test_regret
    assert not traj["failed"].any() and not traj["found_optimum"].any()


def test_found_optimum_flips_when_the_optimums_class_is_evaluated_and_the_run_can_stop_there():
    bench = NB201Benchmark("cifar10", seed=0)
    opt, _ = bench.optimum("val_acc")
    traj = run_search(Scripted(target=opt, at=3, seed=1), bench, 6)
    assert traj["cell"].iloc[2] == str(opt)
    assert traj["found_optimum"].tolist() == [False, False, True, True, True, True]
    stopped = run_search(Scripted(target=opt, at=3, seed=1), NB201Benchmark("cifar10", seed=0), 6, stop_at_optimum=True)
    assert len(stopped) == 3 and stopped["found_optimum"].tolist() == [False, False, True]
    pd.testing.assert_frame_equal(stopped[SAME], traj.iloc[:3][SAME])
    # mid-batch too: the rest of the batch is never evaluated
    bench = NB201Benchmark("cifar10", seed=0)
    stopped = run_search(Scripted(target=opt, at=3, seed=1), bench, 6, batch_size=4, stop_at_optimum=True)
    assert len(stopped) == 3 == bench.n_queries and stopped["found_optimum"].iloc[-1]
    # min_queries: the run goes on past the hit to that many queries, and stops there
    longer = run_search(Scripted(target=opt, at=3, seed=1), NB201Benchmark("cifar10", seed=0), 6,
                        stop_at_optimum=True, min_queries=5)
    assert len(longer) == 5
    pd.testing.assert_frame_equal(longer[SAME], traj.iloc[:5][SAME])
    # a hit after min_queries stops at the hit
    assert len(run_search(Scripted(target=opt, at=3, seed=1), NB201Benchmark("cifar10", seed=0), 6,
                          stop_at_optimum=True, min_queries=2)) == 3
    with pytest.raises(ConfigError, match="min_queries"):
        run_search(Scripted(target=opt, at=3, seed=1), NB201Benchmark("cifar10", seed=0), 6, min_queries=-1)


@pytest.mark.parametrize("batch_size", [2, 4])
def test_batches_give_the_same_rows_per_query(batch_size):
    bench = NB201Benchmark("cifar10", seed=0)
    traj = run_search(RandomSearch(seed=2), bench, 10, batch_size=batch_size)
    assert len(traj) == 10 == bench.n_queries and list(traj["query"]) == list(range(1, 11))
    assert traj["cell"].nunique() == 10 and [c for c in traj.columns if c in TRAJECTORY_COLUMNS] == TRAJECTORY_COLUMNS
    # random search draws the same cells whatever the batch size
    assert traj["cell"].tolist() == run_search(RandomSearch(seed=2), NB201Benchmark("cifar10", seed=0), 10)["cell"].tolist()


def test_the_strategy_is_told_validation_metrics_and_never_test_accuracy():
    s = Scripted(seed=3)
    traj = run_search(s, NB201Benchmark("cifar10", seed=0), 8)
    assert len(s.told) == 8 and not traj["test_acc"].isna().any()  # the table has it, for the report
    for obs, r in zip(s.told, traj.itertuples()):
        assert set(obs.outcome.metrics) == {"val_acc", "params_M", "flops_M", "latency"}
        assert obs.outcome.metrics["val_acc"] == r.val_acc and not obs.outcome.info
        assert "test_acc" not in repr(obs)
    assert "test_acc" not in str(s.state_dict())


def test_every_row_reaches_the_callback_and_bad_budgets_are_refused():
    rows = []
    traj = run_search(RandomSearch(seed=0), NB201Benchmark("cifar10", seed=0), 5, batch_size=2, callback=rows.append)
    pd.testing.assert_frame_equal(pd.DataFrame(rows, columns=traj.columns), traj)
    for budget, batch, name in ((0, 1, "budget"), (5, 0, "batch_size")):
        with pytest.raises(ConfigError, match=name):
            run_search(RandomSearch(seed=0), NB201Benchmark("cifar10", seed=0), budget, batch_size=batch)


def test_stop_when_may_be_a_function_of_the_latest_row():
    from boed_nas import make_strategy
    from boed_nas.errors import ConfigError
    from boed_nas.experiment.loop import run_objective
    from boed_nas.spaces import Integer, Space

    space = Space([Integer("x", 0, 30)], name="line")
    rows = []

    def stop(row):
        rows.append(row)
        return row["val_acc"] >= 20

    traj = run_objective(make_strategy("random", space=space, seed=0), lambda c: {"val_acc": float(c["x"])}, 30,
                         stop_when=stop)
    assert traj["val_acc"].iloc[-1] >= 20 and (traj["val_acc"].iloc[:-1] < 20).all() and rows
    with pytest.raises(ConfigError, match="stop_when must be a rule"):
        run_objective(make_strategy("random", space=space, seed=0), lambda c: float(c["x"]), 3, stop_when=3)


def test_a_stop_rule_reads_only_the_trajectorys_numeric_columns_and_says_when_it_ended_a_run(tmp_path):
    from boed_nas.experiment.loop import run_objective
    from boed_nas.experiment.run import SearchRun, run_nb201
    from tests.spaces.user_objective import SPACE, score

    calls = []

    def objective(c):
        calls.append(c)
        return {"val_acc": score(c)}

    for rule, says in (("prob>=0.9", "no column 'prob'.*'prob_best'"), ("config>=1", "no column 'config'"),
                       ("prob_best>=1.5", r"within \[0, 1\]"), ("prob_best<0", "never is < 0")):
        with pytest.raises(ConfigError, match=says):
            run_objective(make_strategy("random", space=SPACE, seed=0), objective, 5, stop_when=rule)
        with pytest.raises(ConfigError, match=says.split(".*")[0]):
            SearchRun("random", budget=5, stop_when=rule)
    assert not calls  # refused before the first evaluation
    with pytest.raises(ConfigError, match="no column 'hypervolume_ratio'"):  # only a Pareto search has it
        SearchRun("random", budget=5, stop_when="hypervolume_ratio>=0.9")
    SearchRun("random", budget=5, objectives=("accuracy", "latency"), stop_when="hypervolume_ratio>=0.9")
    # the metric, the clock and the belief are columns a rule reads; a rule that never held leaves no mark
    traj = run_objective(make_strategy("random", space=SPACE, seed=0), objective, 3, stop_when="finished>=1e9")
    assert len(traj) == 3 and "stopped_by" not in traj.attrs
    traj = run_objective(make_strategy("random", space=SPACE, seed=0), objective, 10, stop_when="val_acc>=-1e9")
    assert len(traj) == 1 and traj.attrs["stopped_by"] == "val_acc>=-1e9"
    _, traj, summary = run_nb201(SearchRun("random", budget=6, stop_when="query>=3"), tmp_path / "r")
    assert len(traj) == 3 and summary["stopped_by"] == "query>=3"


def test_an_objective_returning_none_has_its_reason_in_the_error_column():
    from boed_nas.experiment.loop import run_objective
    from boed_nas.outcome import Outcome
    from tests.spaces.user_objective import SPACE, score

    traj = run_objective(make_strategy("random", space=SPACE, seed=0),
                         lambda c: None if c["depth"] < 4 else score(c), 8)
    failed = traj[traj["failed"].astype(bool)]
    assert len(failed) and (failed["error"] == "the objective returned None (or Outcome(failed=True))").all()
    assert (traj.loc[~traj["failed"].astype(bool), "error"] == "").all()
    why = run_objective(make_strategy("random", space=SPACE, seed=0),
                        lambda c: Outcome(failed=True, info={"error": "diverged"}) if c["depth"] < 4 else score(c), 8)
    assert set(why.loc[why["failed"].astype(bool), "error"]) == {"diverged"}  # the objective's own reason


def test_an_objective_that_cannot_take_the_level_is_refused_before_the_first_evaluation():
    from boed_nas.experiment.loop import run_objective
    from tests.spaces.user_objective import SPACE, score

    calls = []

    def one(config):
        calls.append(config)
        return score(config)

    with pytest.raises(ConfigError, match=r"objective .*one\(config\) cannot take the level.*one\(config, epochs\)"):
        run_objective(make_strategy("asha", space=SPACE, seed=0, fidelity="epochs=1,3"), one, 5)

    def two(config, epochs):
        calls.append(config)
        return score(config)

    with pytest.raises(ConfigError, match=r"cannot be called as .*two\(config\)"):
        run_objective(make_strategy("random", space=SPACE, seed=0), two, 5)
    assert not calls
    traj = run_objective(make_strategy("asha", space=SPACE, seed=0, fidelity="epochs=1,3"),
                         lambda c, epochs=3: score(c), 4)  # a default for the level is fine
    assert len(traj) == 4
