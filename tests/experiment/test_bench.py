"""Benches and their summaries (boed_nas.experiment.bench): strategies x seeds, queries to the optimum,
the median convention, the markdown table."""

import math

import pandas as pd
import pytest

from boed_nas.errors import ConfigError
from boed_nas.experiment import bench as bench_module
from boed_nas.experiment.bench import (
    markdown_table,
    parse_seeds,
    quantile,
    queries_to_optimum,
    run_bench,
    summarize,
)
from boed_nas.experiment.loop import TRAJECTORY_COLUMNS, run_search
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import make_strategy

SAME = [c for c in TRAJECTORY_COLUMNS if c != "ask_seconds"]  # what a rerun reproduces (not its timings)


def _run(strategy, seed, found_at, regret, recommended):
    """A hand-made 4-query trajectory: the optimum first evaluated at ``found_at`` (None: never)."""
    n = len(regret)
    return pd.DataFrame({
        "dataset": "cifar10", "strategy": strategy, "seed": seed, "query": range(1, n + 1),
        "test_regret": regret, "recommended_test_regret": [9.0] * (n - 1) + [recommended],
        "found_optimum": [found_at is not None and q >= found_at for q in range(1, n + 1)],
        "ask_seconds": 0.5,
    })


HAND = pd.concat([
    _run("A", 0, 2, [5.0, 3.0, 0.0, 0.0], 0.0),
    _run("A", 1, 4, [6.0, 6.0, 2.0, 1.0], 2.0),
    _run("A", 2, None, [4.0, 4.0, 4.0, 4.0], 3.0),
    _run("B", 0, 1, [0.0, 0.0, 0.0, 0.0], 0.0),
    _run("B", 1, 1, [1.0, 0.0, 0.0, 0.0], 0.0),
    _run("B", 2, 3, [2.0, 2.0, 0.0, 0.0], 1.0),
    _run("C", 0, 3, [2.0, 2.0, 0.0, 0.0], 0.0),
    _run("C", 1, None, [3.0, 3.0, 3.0, 3.0], 3.0),
    _run("C", 2, None, [5.0, 5.0, 5.0, 5.0], 5.0),
], ignore_index=True)


def test_summarize_counts_queries_to_the_optimum_and_finds_on_a_hand_made_bench():
    s = summarize(HAND, checkpoints=(2, 100)).set_index("strategy")
    assert list(s.index) == ["A", "B", "C"] and (s["seeds"] == 3).all() and (s["budget"] == 4).all()
    # A found the optimum at queries 2, 4 and never; B at 1, 1, 3; C at 3 and never twice
    assert s["found_optimum"].to_dict() == {"A": 2, "B": 3, "C": 1}
    assert s.loc["A", ["queries_to_optimum_q25", "queries_to_optimum_median", "queries_to_optimum_q75"]].tolist() == \
        [3.0, 4.0, math.inf]
    assert s.loc["B", ["queries_to_optimum_q25", "queries_to_optimum_median", "queries_to_optimum_q75"]].tolist() == \
        [1.0, 1.0, 2.0]
    assert s.loc["C", "queries_to_optimum_median"] == math.inf  # the middle run never found it
    # final test regret at the budget: A 0, 1, 4; B 0, 0, 0
    assert s.loc["A", ["final_test_regret_q25", "final_test_regret_median", "final_test_regret_q75"]].tolist() == \
        [0.5, 1.0, 2.5]
    assert s.loc["B", "final_test_regret_median"] == 0.0
    assert s.loc["A", "recommended_test_regret_median"] == 2.0 and s.loc["C", "recommended_test_regret_median"] == 3.0
    assert s.loc["A", "test_regret_at_2"] == 4.0 and "test_regret_at_100" not in s.columns  # beyond the budget
    assert s.loc["A", "ask_seconds_median"] == 0.5
    table = markdown_table(s.reset_index())
    row = {line.split(" | ")[1]: line for line in table.splitlines()[2:]}
    assert "| 4 [3, not found] | 2/3 |" in row["A"] and "| 1 [1, 2] | 3/3 |" in row["B"]
    assert "| not found [not found, not found] | 1/3 |" in row["C"]


def test_a_shorter_run_sets_the_budget_the_summary_reads_at():
    short = pd.concat([HAND[HAND.strategy == "B"], _run("B", 3, None, [7.0, 7.0, 7.0], 7.0)], ignore_index=True)
    s = summarize(short).iloc[0]
    assert s["budget"] == 3 and s["seeds"] == 4
    assert s["final_test_regret_median"] == 0.0 and s["final_test_regret_q75"] == 1.75  # 0, 0, 0, 7 at query 3
    assert s["queries_to_optimum_median"] == 2.0 and s["found_optimum"] == 3  # 1, 1, 3, never


def test_queries_to_optimum_is_the_first_query_that_found_it():
    assert queries_to_optimum(_run("A", 0, 3, [1.0] * 5, 0.0)) == 3.0
    assert queries_to_optimum(_run("A", 0, None, [1.0] * 5, 0.0)) == math.inf


@pytest.mark.parametrize("x, q, want", [
    ([1, 2, 3, 4], 50, 2.5),  # linear interpolation, numpy's default
    ([2, 4, math.inf], 25, 3.0),
    ([2, 4, math.inf], 50, 4.0),
    ([2, 4, math.inf], 75, math.inf),  # interpolates towards a run that never got there
    ([1, 2, 3, math.inf], 50, 2.5),
    ([1, math.inf], 50, math.inf),
    ([math.inf, math.inf], 10, math.inf),
])
def test_quantile_reads_never_as_infinitely_many_queries(x, q, want):
    assert quantile(x, q) == want
    assert math.isnan(quantile([], 50))


def test_parse_seeds_reads_ranges_and_lists():
    assert parse_seeds("0-2,5") == [0, 1, 2, 5] and parse_seeds("7") == [7] and parse_seeds(" 3 , 4-4") == [3, 4]
    with pytest.raises(ConfigError, match="expected e.g. 0-19"):
        parse_seeds("a-b")


def test_run_bench_stacks_one_run_search_per_strategy_and_seed():
    traj = run_bench(["random", "local"], "cifar10", [0, 3], 6, progress=False)
    assert list(traj.columns[:3]) == ["dataset", "strategy", "seed"]
    assert [c for c in traj.columns if c in TRAJECTORY_COLUMNS] == TRAJECTORY_COLUMNS
    assert len(traj) == 2 * 2 * 6
    assert traj.groupby(["strategy", "seed"]).size().to_dict() == {(s, seed): 6 for s in ("local", "random") for seed in (0, 3)}
    # run (random, seed 3) is a run_search of random search with seed 3 on the benchmark with seed 3
    one = traj[(traj.strategy == "random") & (traj.seed == 3)].reset_index(drop=True)
    alone = run_search(make_strategy("random", seed=3), NB201Benchmark("cifar10", seed=3), 6)
    pd.testing.assert_frame_equal(one[SAME], alone[SAME])


def test_run_bench_refuses_bad_names_before_any_run(monkeypatch):
    def boom(args):
        raise AssertionError("a run started before the arguments were checked")

    monkeypatch.setattr(bench_module, "_run_one", boom)
    with pytest.raises(ValueError, match="unknown strategy 'nope'"):
        run_bench(["random", "nope"], "cifar10", [0], 5, progress=False)
    with pytest.raises(ValueError, match="does not take the setting"):
        run_bench(["random", "evolution[colour=1]"], "cifar10", [0], 5, progress=False)
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        run_bench(["random"], "mnist", [0], 5, progress=False)
    with pytest.raises(ValueError, match="strategy 'random' is single-objective"):
        run_bench(["random"], "cifar10", [0], 5, progress=False, objectives="accuracy,latency")
