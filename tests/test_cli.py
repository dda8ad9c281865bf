import json

import pandas as pd
import pytest

from boed_nas.cli import main


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
    (["search", "--budget", "0"], "--budget must be a positive integer"),
    (["bench", "--strategies", "random,nope"], "unknown strategy 'nope'"),
])
def test_bad_arguments_exit_2_with_a_clear_message(argv, msg, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert msg in capsys.readouterr().err
