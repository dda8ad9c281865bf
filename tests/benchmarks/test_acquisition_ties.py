"""benchmarks/acquisition_ties.py: replaying a recorded BOED run's picks."""

from boed_nas.experiment.bench import run_bench


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
