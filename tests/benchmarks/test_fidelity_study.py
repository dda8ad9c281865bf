"""The fidelity study's report: hours to the optimum per arm and M, and the seed-by-seed comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.fidelity_study import paired, table

HOUR = 3600.0


def _runs(strategy: str, hits: dict[int, float | None]) -> list[dict]:
    """Two evaluations per seed; the second finds the optimum at ``hits[seed]`` hours (None: never)."""
    rows = []
    for seed, hours in hits.items():
        for q, found in ((1, False), (2, hours is not None)):
            rows.append({"dataset": "cifar100", "strategy": strategy, "workers": 4, "seed": seed, "query": q,
                         "found_optimum": found, "finished": (hours if found else 0.5 * q) * HOUR})
    return rows


def test_the_paired_report_counts_sooner_later_and_same_and_both_never_is_the_same():
    traj = pd.DataFrame(_runs("boed, 200 epochs", {0: 4.0, 1: 6.0, 2: None, 3: 5.0})
                        + _runs("boed, 12+200 epochs", {0: 2.0, 1: 8.0, 2: None, 3: 5.0}))
    text = paired(traj)
    assert "| cifar100 | boed, 12+200 epochs | 4 | 1 | 1 | 2 | 1 |" in text
    t = table(traj).set_index("strategy")
    assert t.loc["boed, 12+200 epochs", "found"] == 3 and t.loc["boed, 200 epochs", "hours_median"] == 5.5


def test_an_arm_run_on_several_datasets_gets_one_pooled_sign_test_row():
    rows = []
    for ds, base, arm in (("cifar100", {0: 4.0, 1: 6.0}, {0: 2.0, 1: 5.0}), ("cifar10", {0: 3.0}, {0: 1.0})):
        rows += [dict(r, dataset=ds) for r in _runs("boed, 200 epochs", base) + _runs("boed, 12+200 epochs", arm)]
    text = paired(pd.DataFrame(rows))
    assert "| all 2 | boed, 12+200 epochs | 4 | 3 | 0 | 0 | 0.25 |" in text
    assert "| cifar10 | boed, 12+200 epochs | 4 | 1 | 0 | 0 | 1 |" in text


def test_renames_act_on_the_names_the_sources_wrote_and_a_label_then_names_its_folder(tmp_path):
    from boed_nas.experiment.report import TRAJECTORY_COLUMNS

    from benchmarks.scaleout_study import load

    def source(name: str, strategies: list[str]) -> str:
        rows = [dict({c: 0 for c in TRAJECTORY_COLUMNS}, dataset="cifar10", strategy=s, seed=0, workers=4, query=1)
                for s in strategies]
        pd.DataFrame(rows).to_csv(tmp_path / name, index=False)
        return str(tmp_path / name)

    old = source("old.csv", ["boed, 200 epochs", "boed, 12+200 epochs"])  # a report made under the old default
    new = source("new.csv", ["boed"])
    traj = load([old, f"{new}=boed, 12+200 epochs"], {"boed, 12+200 epochs": "boed[level_kernel=icm], 12+200 epochs"})
    assert sorted(traj["strategy"]) == ["boed, 12+200 epochs", "boed, 200 epochs", "boed[level_kernel=icm], 12+200 epochs"]
    with pytest.raises(ValueError, match="no source has the strategies"):
        load([new], {"boed, 12+200 epochs": "x"})


def test_a_report_keeps_only_the_arms_it_is_asked_for_and_names_one_no_source_has(tmp_path, capsys):
    from boed_nas.experiment.report import TRAJECTORY_COLUMNS

    from benchmarks.fidelity_study import main

    src = tmp_path / "src"
    src.mkdir()
    rows = _runs("boed, 200 epochs", {0: 4.0}) + _runs("boed, 12+200 epochs", {0: 2.0}) + _runs("asha", {0: None})
    pd.DataFrame([dict({c: 0 for c in TRAJECTORY_COLUMNS}, **r) for r in rows]).to_csv(src / "trajectories.csv",
                                                                                        index=False)
    assert main(["report", str(src), "--arm", "boed, 200 epochs", "--arm", "asha", "--out", str(tmp_path / "o")]) == 0
    assert set(pd.read_csv(tmp_path / "o" / "trajectories.csv.gz")["strategy"]) == {"boed, 200 epochs", "asha"}
    assert "--arm 'asha'" in (tmp_path / "o" / "table.md").read_text()
    assert main(["report", str(src), "--per-run", "--out", str(tmp_path / "r")]) == 0  # one row per run, no trajectories
    runs = pd.read_csv(tmp_path / "r" / "runs.csv.gz").set_index("strategy")
    assert not (tmp_path / "r" / "trajectories.csv.gz").exists() and len(runs) == 3
    assert runs.loc["boed, 12+200 epochs", "hours_to_optimum"] == 2.0 and runs.loc["asha", "hours_to_optimum"] == float("inf")
    with pytest.raises(SystemExit):  # a usage error, naming the arm
        main(["report", str(src), "--arm", "hyperband", "--out", str(tmp_path / "p")])
    assert "no source has the strategies ['hyperband']" in capsys.readouterr().err
