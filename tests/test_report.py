"""Merging bench pieces run by seed range into one report."""

from pathlib import Path

import pandas as pd
import pytest

from boed_nas.experiment.bench import run_bench
from boed_nas.experiment.report import (
    merge_trajectories,
    read_trajectories,
    write_report,
)


def _piece(tmp_path, name, seeds, budget=12):
    traj = run_bench(["random", "local"], "cifar100", seeds, budget, progress=False)
    folder = tmp_path / name
    folder.mkdir()
    traj.to_csv(folder / ("trajectories.csv.gz" if name.endswith("gz") else "trajectories.csv"), index=False)
    return folder


def test_pieces_merge_to_the_single_run(tmp_path):
    a, b = _piece(tmp_path, "a", range(0, 2)), _piece(tmp_path, "b_gz", range(2, 4))
    merged = merge_trajectories([b, a])
    whole = run_bench(["random", "local"], "cifar100", range(4), 12, progress=False)
    cols = [c for c in whole.columns if c != "ask_seconds"]
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


def _gzip_mtime(path):
    """The write time gzip stamps into bytes 4-8 of its header; a report fixes it at 0, so the
    merged file of a rebuilt report is byte-identical and shows no change in git."""
    return int.from_bytes(Path(path).read_bytes()[4:8], "little")


def test_report_command(tmp_path, capsys):
    from boed_nas.cli import main

    a, b = _piece(tmp_path, "a", [0], budget=6), _piece(tmp_path, "b", [1], budget=6)
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "all")]) == 0
    assert "| cifar100 | local | 2 | 6 |" in (tmp_path / "all" / "table.md").read_text()
    assert _gzip_mtime(tmp_path / "all" / "trajectories.csv.gz") == 0
    assert main(["report", str(a), str(a), "--out", str(tmp_path / "x")]) == 2
    assert "appears in more than one source" in capsys.readouterr().err
    # relabelling: runs written under an old default's name, spelled out; equal labels merge
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "r"), "--rename", "local=local[x=1]",
                 "--rename", "random=local[x=1]"]) == 2  # now two runs per (label, seed): refused
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "r"), "--rename", "local=ls[a=1,b=2]"]) == 0
    table = (tmp_path / "r" / "table.md").read_text()
    assert "| cifar100 | ls[a=1,b=2] | 2 | 6 |" in table and "| local |" not in table
    capsys.readouterr()
    for bad in ("local", "=x", "local[a=1]"):
        assert main(["report", str(a), "--out", str(tmp_path / "y"), "--rename", bad]) == 2
        assert "--rename expects OLD=NEW" in capsys.readouterr().err
    assert main(["report", str(a), "--out", str(tmp_path / "y"), "--rename", "bananas=b"]) == 2
    assert "no run is labelled 'bananas'" in capsys.readouterr().err


def test_budget_cuts_runs_to_a_shorter_bench(tmp_path):
    """Cut to N queries, a run equals the budget-N run; benches of different budgets then merge."""
    long, short = _piece(tmp_path, "long", range(0, 2), budget=12), _piece(tmp_path, "short", range(2, 3), budget=8)
    merged = merge_trajectories([long, short], budget=8)
    whole = run_bench(["random", "local"], "cifar100", range(3), 8, progress=False)
    cols = [c for c in whole.columns if c != "ask_seconds"]
    key = ["strategy", "seed", "query"]
    pd.testing.assert_frame_equal(merged[cols].sort_values(key).reset_index(drop=True),
                                  whole[cols].sort_values(key).reset_index(drop=True), check_dtype=False)
    with pytest.raises(ValueError, match=r"seed 2\) in .* has 8 queries, fewer than budget 10"):
        merge_trajectories([long, short], budget=10)
    with pytest.raises(ValueError, match="budget must be a positive integer, got 0"):
        merge_trajectories([long], budget=0)


def test_topk_top1_is_queries_to_optimum_and_k_is_monotone():
    from benchmarks.topk import class_ranks, topk_table
    from boed_nas.experiment.bench import summarize
    from boed_nas.nb201.benchmark import NB201Benchmark

    bench = NB201Benchmark("cifar10")
    rank = class_ranks(bench)
    assert rank[bench.optimum("val_acc")[0].code] == 0
    assert rank[bench.optimum("val_acc")[0].canonical().code] == 0  # a class shares one rank
    traj = run_bench(["local"], "cifar10", range(3), 150, progress=False)
    table = topk_table(traj, ks=(1, 3, 10))
    row = table.iloc[0]
    assert row["top-1"] == summarize(traj).iloc[0]["queries_to_optimum_median"]
    assert row["top-10"] <= row["top-3"] <= row["top-1"]


def test_ablation_stops_at_the_optimum_resumes_and_rejects_bad_specs(tmp_path, capsys):
    import json

    from benchmarks import ablation
    from boed_nas.experiment.bench import queries_to_optimum

    out = tmp_path / "runs.jsonl"
    args = ["run", "--strategies", "local,random", "--dataset", "cifar10", "--seeds", "0-1", "--budget", "60",
            "--jobs", "1", "--out", str(out)]
    assert ablation.main(args) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 4 and {r["spec"] for r in recs} == {"local", "random"}
    # a run that stops at its first hit agrees with the full bench's queries to the optimum
    full = run_bench(["local"], "cifar10", seeds=[0], budget=60)
    want = queries_to_optimum(full)
    got = next(r["queries"] for r in recs if r["spec"] == "local" and r["seed"] == 0)
    assert (got if got is not None else float("inf")) == want
    from boed_nas.experiment.loop import run_search
    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.registry import make_strategy

    stopped = run_search(make_strategy("local", seed=0), NB201Benchmark("cifar10", seed=0), 60, stop_at_optimum=True)
    assert stopped["found_optimum"].sum() == (1 if want <= 60 else 0)  # the last row, at the first hit
    assert len(stopped) == min(want, 60)
    assert ablation.main(args) == 0  # everything done: nothing is rerun or appended
    assert len(out.read_text().splitlines()) == 4
    assert "| cifar10 | local | 0-1 (2) |" in capsys.readouterr().out
    assert ablation.main(["run", "--strategies", "boed[n_inti=5]", "--seeds", "0", "--out", str(out)]) == 2
    assert "n_inti" in capsys.readouterr().err


def test_recorded_outcome_tells_what_the_run_was_told():
    from collections import namedtuple

    from benchmarks.common import recorded_outcome

    Row = namedtuple("Row", "failed val_acc cost")
    ok = recorded_outcome(Row(False, 91.5, 2.0))
    assert not ok.failed and ok.metrics["val_acc"] == 91.5 and ok.cost == 2.0
    bad = recorded_outcome(Row(True, float("nan"), 1.0))
    assert bad.failed and bad.cost == 1.0


def test_acquisition_ties_replay_reproduces_the_recorded_picks(tmp_path, capsys):
    from benchmarks import acquisition_ties

    traj = run_bench(["boed"], "cifar10", [16], 9, progress=False)
    traj.to_csv(tmp_path / "trajectories.csv", index=False)
    assert acquisition_ties.main([str(tmp_path), "--seeds", "16", "--queries", "9"]) == 0
    out = capsys.readouterr().out
    assert "replayed picks that differ from the recorded run: 0" in out
    # a run whose seventh cell is not what the acquisition picks is caught
    other = traj.loc[traj["query"] > 7, "cell"].iloc[-1]
    traj.loc[traj["query"] == 7, "cell"] = other
    traj.to_csv(tmp_path / "trajectories.csv", index=False)
    assert acquisition_ties.main([str(tmp_path), "--seeds", "16", "--queries", "9"]) == 1
    assert "query 7: replay picks" in capsys.readouterr().out


def test_runs_of_picks_one_strategy_or_names_the_labels(tmp_path):
    from benchmarks.common import runs_of

    run_bench(["random", "local"], "cifar100", [0], 3, progress=False).to_csv(tmp_path / "trajectories.csv", index=False)
    assert set(runs_of(tmp_path, "local")["strategy"]) == {"local"}
    with pytest.raises(ValueError, match=r"several strategies; give a label, one of \['local', 'random'\]"):
        runs_of(tmp_path)
    with pytest.raises(ValueError, match=r"no runs labelled 'boed'.*labels: \['local', 'random'\]"):
        runs_of(tmp_path, "boed")
    # several labels: the runs of any of them; every absent one is named
    assert set(runs_of(tmp_path, ["local", "random"])["strategy"]) == {"local", "random"}
    with pytest.raises(ValueError, match=r"no runs labelled 'boed', 'bananas'"):
        runs_of(tmp_path, ["local", "boed", "bananas"])
    run_bench(["random"], "cifar100", [0], 3, progress=False).to_csv(tmp_path / "trajectories.csv", index=False)
    assert len(runs_of(tmp_path)) == 3


def test_ax_study_report_adds_new_runs_to_the_committed_ones(tmp_path):
    """runs/ is git-ignored: a report on a fresh clone keeps the committed runs it lacks."""
    import json

    from benchmarks.ax_study import report

    traj = run_bench(["random"], "cifar10", range(3), 12, progress=False).assign(strategy="sobol")
    run = {"dataset": "cifar10", "strategy": "sobol", "budget": 12, "cpu_s_per_trial": 0.1, "loadavg_start": 1.0,
           "duplicates": 0, "generation_nodes": {"Sobol": 12}}
    traj[traj.seed < 2].to_csv(tmp_path / "trajectories.csv.gz", index=False)
    # an older report wrote generation_nodes as a Python literal, not JSON
    pd.DataFrame([{**run, "seed": s, "generation_nodes": str(run["generation_nodes"])} for s in (0, 1)]).to_csv(
        tmp_path / "runs.csv", index=False)
    (tmp_path / "runs").mkdir()
    traj[traj.seed == 2].to_csv(tmp_path / "runs" / "cifar10_sobol_b12_s2.csv.gz", index=False)
    (tmp_path / "runs" / "cifar10_sobol_b12_s2.json").write_text(json.dumps({**run, "seed": 2}))
    # seed 1 made again here: its runs/ copy replaces the committed one
    traj[traj.seed == 1].assign(ask_seconds=9.0).to_csv(tmp_path / "runs" / "cifar10_sobol_b12_s1.csv.gz", index=False)
    (tmp_path / "runs" / "cifar10_sobol_b12_s1.json").write_text(json.dumps({**run, "seed": 1, "duplicates": 4}))
    table = report(tmp_path)
    assert "| sobol | 3 | 12 |" in table and "| Sobol 36 |" in table
    merged = pd.read_csv(tmp_path / "trajectories.csv.gz")
    assert sorted(merged.seed.unique()) == [0, 1, 2] and len(merged) == 36
    assert _gzip_mtime(tmp_path / "trajectories.csv.gz") == 0
    assert (merged[merged.seed == 1].ask_seconds == 9.0).all()
    runs = pd.read_csv(tmp_path / "runs.csv").sort_values("seed")
    assert list(runs.seed) == [0, 1, 2] and list(runs.duplicates) == [0, 4, 0]
    assert all(json.loads(d) == {"Sobol": 12} for d in runs.generation_nodes)  # now written as JSON
    assert "| sobol | 2 | 12 |" in report(tmp_path, runs_only=True)
    # one table per (dataset, budget): a run of another budget is refused, not averaged in
    (tmp_path / "runs" / "cifar10_sobol_b20_s3.json").write_text(json.dumps({**run, "seed": 3, "budget": 20}))
    with pytest.raises(SystemExit, match=r"would mix runs of .*\('cifar10', 20\)"):
        report(tmp_path)
