"""benchmarks/common.py: the helpers the study scripts share."""

import pytest

from boed_nas.experiment.bench import run_bench


def test_recorded_outcome_tells_what_the_run_was_told():
    from collections import namedtuple

    from benchmarks.common import recorded_outcome

    Row = namedtuple("Row", "failed val_acc cost")
    ok = recorded_outcome(Row(False, 91.5, 2.0))
    assert not ok.failed and ok.metrics["val_acc"] == 91.5 and ok.cost == 2.0
    bad = recorded_outcome(Row(True, float("nan"), 1.0))
    assert bad.failed and bad.cost == 1.0


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
