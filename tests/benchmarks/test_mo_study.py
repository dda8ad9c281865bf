from pathlib import Path

import pandas as pd
import pytest

from benchmarks.mo_study import RUN_KEY, collect_runs, main


def _run(dataset, strategy, seed, value, n=3):
    return pd.DataFrame({"dataset": dataset, "objectives": "accuracy+latency", "strategy": strategy,
                         "seed": seed, "query": range(1, n + 1), "hypervolume_ratio": value})


def _write_run(out: Path, run: pd.DataFrame) -> None:
    (out / "runs").mkdir(parents=True, exist_ok=True)
    k = run.iloc[0]
    run.to_csv(out / "runs" / f"{k.dataset}__{k.objectives}__{k.strategy}__seed{k.seed}.csv.gz",
               index=False, compression="gzip")


def _keys(df):
    return sorted(tuple(k) for k in df[RUN_KEY].drop_duplicates().itertuples(index=False))


def test_new_runs_are_added_to_the_committed_merge_and_replace_their_own_key(tmp_path):
    committed = pd.concat([_run("cifar10", "boed-mo", 0, 0.5), _run("cifar10", "qnehvi", 0, 0.5)])
    committed.to_csv(tmp_path / "trajectories.csv.gz", index=False, compression="gzip")
    _write_run(tmp_path, _run("cifar10", "qnehvi", 0, 0.9))  # a rerun of a committed run
    _write_run(tmp_path, _run("cifar10", "qnehvi", 1, 0.7))  # a new seed
    traj, n_files, n_kept = collect_runs(tmp_path)
    assert (n_files, n_kept) == (2, 1)
    assert _keys(traj) == [("cifar10", "accuracy+latency", "boed-mo", 0),
                           ("cifar10", "accuracy+latency", "qnehvi", 0),
                           ("cifar10", "accuracy+latency", "qnehvi", 1)]
    assert len(traj) == 9  # no run counted twice
    rerun = traj[(traj.strategy == "qnehvi") & (traj.seed == 0)]
    assert (rerun.hypervolume_ratio == 0.9).all()  # runs/ wins over the merged copy
    only, n_files, n_kept = collect_runs(tmp_path, runs_only=True)
    assert (n_files, n_kept) == (2, 0) and _keys(only) == _keys(traj)[1:]


def test_report_without_runs_or_merge_names_what_is_missing(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no runs under .*runs and none in .*trajectories.csv.gz"):
        collect_runs(tmp_path)
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "no runs under" in capsys.readouterr().err
    _run("cifar10", "boed-mo", 0, 0.5).to_csv(tmp_path / "trajectories.csv.gz", index=False)
    with pytest.raises(FileNotFoundError, match="no runs under"):
        collect_runs(tmp_path, runs_only=True)


def test_a_merge_without_the_run_key_is_refused(tmp_path):
    pd.DataFrame({"dataset": ["cifar10"], "query": [1]}).to_csv(tmp_path / "trajectories.csv.gz", index=False)
    with pytest.raises(ValueError, match=r"no column\(s\) \['objectives', 'strategy', 'seed'\]"):
        collect_runs(tmp_path)
