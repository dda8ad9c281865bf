"""benchmarks/ax_study.py: the report merges new runs with the committed ones."""

import pandas as pd
import pytest

from boed_nas.experiment.bench import run_bench
from tests.helpers import _gzip_mtime


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
