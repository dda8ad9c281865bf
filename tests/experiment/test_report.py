"""Merging bench pieces run by seed range into one report (boed_nas.experiment.report)."""

import pandas as pd
import pytest

from boed_nas.experiment.bench import run_bench
from boed_nas.experiment.loop import EVENT_COLUMNS
from boed_nas.experiment.report import (
    merge_trajectories,
    read_trajectories,
    write_report,
)
from tests.helpers import _piece


def test_pieces_merge_to_the_single_run(tmp_path):
    a, b = _piece(tmp_path, "a", range(0, 2)), _piece(tmp_path, "b_gz", range(2, 4))
    merged = merge_trajectories([b, a])
    whole = run_bench(["random", "local"], "cifar100", range(4), 12, progress=False)
    cols = [c for c in whole.columns if c != "ask_seconds" and c not in EVENT_COLUMNS]  # not the wall-clock columns
    pd.testing.assert_frame_equal(merged[cols], whole[cols].sort_values(["strategy", "seed", "query"],
                                  key=lambda c: c.map({"random": 0, "local": 1}) if c.name == "strategy" else c,
                                  kind="stable").reset_index(drop=True), check_dtype=False)
    table = write_report(merged, tmp_path / "all", command="boed-nas report a b_gz")
    assert "| cifar100 | random | 4 | 12 |" in table
    assert {p.name for p in (tmp_path / "all").iterdir()} >= {"trajectories.csv.gz", "summary.csv", "table.md",
                                                              "regret.png"}


def test_overlapping_or_mismatched_pieces_are_refused(tmp_path):
    a, b = _piece(tmp_path, "a", range(0, 2)), _piece(tmp_path, "b", range(1, 3))
    with pytest.raises(ValueError, match=r"\(cifar100, random, seed 1\) appears in more than one source"):
        merge_trajectories([a, b])
    c = tmp_path / "c"
    c.mkdir()
    run_bench(["random"], "cifar100", [5], 8, progress=False).to_csv(c / "trajectories.csv", index=False)
    with pytest.raises(ValueError, match=r"runs of random on cifar100 have different budgets \[8, 12\]"):
        merge_trajectories([a, c])


def test_bad_sources_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no trajectories.csv"):
        read_trajectories(tmp_path)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a bench trajectory file: it lacks columns"):
        read_trajectories(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="at least one"):
        merge_trajectories([])


def test_budget_cuts_runs_to_a_shorter_bench(tmp_path):
    """Cut to N queries, a run equals the budget-N run; benches of different budgets then merge."""
    long, short = _piece(tmp_path, "long", range(0, 2), budget=12), _piece(tmp_path, "short", range(2, 3), budget=8)
    merged = merge_trajectories([long, short], budget=8)
    whole = run_bench(["random", "local"], "cifar100", range(3), 8, progress=False)
    cols = [c for c in whole.columns if c != "ask_seconds" and c not in EVENT_COLUMNS]  # not the wall-clock columns
    key = ["strategy", "seed", "query"]
    pd.testing.assert_frame_equal(merged[cols].sort_values(key).reset_index(drop=True),
                                  whole[cols].sort_values(key).reset_index(drop=True), check_dtype=False)
    with pytest.raises(ValueError, match=r"seed 2\) in .* has 8 queries, fewer than budget 10"):
        merge_trajectories([long, short], budget=10)
    with pytest.raises(ValueError, match="budget must be a positive integer, got 0"):
        merge_trajectories([long], budget=0)


def test_a_pareto_bench_is_reported_as_one_and_not_mixed_with_a_single_objective_one(tmp_path):
    from boed_nas.cli import main

    assert main(["bench", "--objectives", "accuracy,latency", "--strategies", "mo-random", "--seeds", "2",
                 "--budget", "8", "--quiet", "--out", str(tmp_path / "mo")]) == 0
    table = write_report(merge_trajectories([tmp_path / "mo"]), tmp_path / "rep")
    bench_rows = [r for r in (tmp_path / "mo" / "table.md").read_text().splitlines() if r.startswith("|")]
    assert [r for r in table.splitlines() if r.startswith("|")] == bench_rows  # the bench's own hypervolume table
    assert (tmp_path / "rep" / "hypervolume_ratio.png").exists() and not (tmp_path / "rep" / "regret.png").exists()
    with pytest.raises(ValueError, match="mix Pareto and single-objective benches"):
        merge_trajectories([tmp_path / "mo", _piece(tmp_path, "a", range(0, 2))])
