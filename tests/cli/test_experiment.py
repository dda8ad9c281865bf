"""The search, bench and report commands (boed_nas.cli.experiment), single- and multi-objective."""

import json

import numpy as np
import pandas as pd
import pytest
from pymoo.indicators.hv import HV

from boed_nas.cli import main
from boed_nas.nb201.space import Cell
from tests.helpers import _gzip_mtime, _piece


def test_search_writes_the_three_files(tmp_path, capsys):
    out = tmp_path / "D"
    assert main(["search", "--strategy", "random", "--budget", "50", "--seed", "0", "--out", str(out)]) == 0
    traj = pd.read_csv(out / "trajectory.csv")
    assert len(traj) == 50
    assert {"query", "cell", "val_acc", "test_acc", "best_val_so_far", "test_regret"} <= set(traj.columns)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("strategy", "dataset", "seed", "budget", "best_cell", "best_val_acc", "best_test_acc", "test_regret"):
        assert key in summary
    assert summary["best_val_acc"] == traj["val_acc"].max()
    assert summary["test_regret"] == pytest.approx(traj["test_regret"].iloc[-1])
    assert (out / "regret.png").stat().st_size > 1000
    assert "best cell by validation accuracy" in capsys.readouterr().out
    # same seed, same trajectory
    main(["search", "--strategy", "random", "--budget", "50", "--seed", "0", "--out", str(tmp_path / "E")])
    assert pd.read_csv(tmp_path / "E" / "trajectory.csv")["cell"].tolist() == traj["cell"].tolist()


def test_bench_writes_table_plot_and_trajectories(tmp_path, capsys):
    out = tmp_path / "B"
    rc = main(["bench", "--strategies", "random,local", "--seeds", "2", "--budget", "30", "--out", str(out)])
    assert rc == 0
    traj = pd.read_csv(out / "trajectories.csv")
    assert set(traj["strategy"]) == {"random", "local"} and set(traj["seed"]) == {0, 1}
    assert len(traj) == 2 * 2 * 30
    table = (out / "table.md").read_text()
    assert "| cifar10 | random | 2 | 30 |" in table and "queries to optimum" in table
    assert (out / "regret.png").exists()


@pytest.mark.parametrize("argv, msg", [
    (["search", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["search", "--strategy", "tpe"], "unknown strategy 'tpe'"),
    (["search", "--budget", "0"], "--budget: expected a positive integer, got 0"),
    (["bench", "--strategies", "random,nope"], "unknown strategy 'nope'"),
])
def test_bad_arguments_exit_2_with_a_clear_message(argv, msg, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert msg in capsys.readouterr().err


def test_bench_runs_a_spec_as_its_own_strategy(tmp_path):
    from boed_nas.cli import main

    assert main(["bench", "--strategies", "local,evolution[population_size=5,sample_size=2]", "--seeds", "1",
                 "--budget", "15", "--out", str(tmp_path)]) == 0
    traj = pd.read_csv(tmp_path / "trajectories.csv")
    assert set(traj["strategy"]) == {"local", "evolution[population_size=5,sample_size=2]"}
    assert main(["bench", "--strategies", "evolution[colour=1]", "--seeds", "1", "--budget", "5",
                 "--out", str(tmp_path / "x")]) == 2


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


# ----------------------------------------------------------------------------- multi-objective
def test_cli_search_reports_front_and_hypervolumes_that_recompute(tmp_path, capsys):
    out = tmp_path / "S"
    argv = ["search", "--objectives", "accuracy,latency", "--strategy", "nsga2", "--budget", "25", "--out", str(out)]
    assert main(argv) == 0
    s = json.loads((out / "summary.json").read_text())
    assert [o["name"] for o in s["objectives"]] == ["accuracy", "latency"]
    assert [o["direction"] for o in s["objectives"]] == ["maximize", "minimize"]
    ref = np.array([s["reference_point"]["accuracy"], s["reference_point"]["latency"]])
    F = np.array([[r["accuracy"], r["latency"]] for r in s["front"]])
    T = np.array([[r["accuracy"], r["latency"]] for r in s["true_front"]])
    hv, true_hv = HV(ref_point=ref * [-1, 1])(F * [-1, 1]), HV(ref_point=ref * [-1, 1])(T * [-1, 1])
    assert s["hypervolume"] == pytest.approx(hv) and s["true_hypervolume"] == pytest.approx(true_hv)
    assert s["hypervolume_ratio"] == pytest.approx(hv / true_hv) and 0 < s["hypervolume_ratio"] <= 1
    traj = pd.read_csv(out / "trajectory.csv")
    assert traj["hypervolume_ratio"].iloc[-1] == pytest.approx(s["hypervolume_ratio"])
    assert traj["hypervolume_ratio"].is_monotonic_increasing
    assert (out / "front.png").stat().st_size > 1000
    assert "hypervolume" in capsys.readouterr().out


def test_cli_constrained_search_and_bad_objectives(tmp_path, capsys):
    out = tmp_path / "C"
    assert main(["search", "--objectives", "accuracy", "--constraint", "latency<=0.01", "--strategy", "mo-random",
                 "--budget", "15", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["recommended_within_constraints"] and s["recommended_costs"]["latency"] <= 0.01
    assert s["constraints"] == {"latency": 0.01}
    assert main(["search", "--objectives", "accuracy,speed", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown objective 'speed'; expected one of ['accuracy', 'latency', 'flops', 'params']" in err
    assert main(["search", "--objectives", "accuracy,latency", "--strategy", "local", "--out", str(tmp_path / "y")]) == 2
    assert "strategy 'local' is single-objective" in capsys.readouterr().err


def test_cli_bench_gains_hypervolume_ratio_curves(tmp_path):
    out = tmp_path / "B"
    assert main(["bench", "--objectives", "accuracy,flops", "--strategies", "nsga2,mo-random", "--seeds", "2",
                 "--budget", "12", "--out", str(out)]) == 0
    traj = pd.read_csv(out / "trajectories.csv")
    assert {"hypervolume", "hypervolume_ratio", "objectives"} <= set(traj.columns)
    assert set(traj["strategy"]) == {"nsga2", "mo-random"} and len(traj) == 2 * 2 * 12
    assert (traj["hypervolume_ratio"] <= 1 + 1e-12).all()
    assert "| cifar10 | accuracy+flops | nsga2 | 2 | 12 |" in (out / "table.md").read_text()
    assert (out / "hypervolume_ratio.png").exists()


def test_cli_lambda_sweep_writes_one_search_per_lambda(tmp_path):
    out = tmp_path / "L"
    assert main(["search", "--objectives", "accuracy,flops", "--lambdas", "0,1000", "--budget", "6",
                 "--out", str(out)]) == 0
    sweep = pd.read_csv(out / "sweep.csv")
    assert sweep["lambda"].tolist() == [0, 1000] and "flops" in sweep.columns
    for lam in ("0", "1000"):
        s = json.loads((out / f"lambda_{lam}" / "summary.json").read_text())
        assert s["strategy"] == "boed-mo" and s["lambda"] == float(lam)
        assert s["recommended_utility_regret"] >= 0
    # at lambda = 1000 points per MFLOP only the cheapest evaluated cell can be the answer
    s = json.loads((out / "lambda_1000" / "summary.json").read_text())
    t = pd.read_csv(out / "lambda_1000" / "trajectory.csv")
    from boed_nas.nb201.benchmark import NB201Benchmark

    flops = NB201Benchmark("cifar10").flops_M
    assert s["recommended_costs"]["flops"] == min(flops[Cell.from_str(c).code] for c in t["cell"])
    assert main(["search", "--lambdas"]) == 2  # argparse: --lambdas expects one argument
