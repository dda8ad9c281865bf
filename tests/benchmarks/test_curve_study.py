"""The real-curve study (benchmarks/curve_study.py) on a synthetic table with learning curves (the
shipped one is built by tools/build_blueprint_table.py --table k13lc)."""

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def curve_table(tmp_path, monkeypatch):
    import benchmarks.blueprint_table as bt

    spec = bt.K13LC
    rng = np.random.default_rng(0)
    rows = []
    for c in spec.space.enumerate():
        base = 90 + 8 * rng.random()
        row = {"config": str(c)}
        for s in spec.training_seeds:
            for e in range(1, 9):  # a curve that rises to the network's level, noisier early
                row[f"val_acc_s{s}_e{e}"] = base - 30 / e + rng.normal() * (9 - e) / 4
                row[f"train_seconds_s{s}_e{e}"] = 0.1 * e * (1 + s)
            row.update({f"val_acc_s{s}": row[f"val_acc_s{s}_e8"], f"test_acc_s{s}": base + rng.normal(),
                        f"train_seconds_s{s}": row[f"train_seconds_s{s}_e8"]})
        rows.append(row)
    (tmp_path / spec.folder).mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / spec.folder / "table.csv.gz", index=False)
    bt.load_table.cache_clear()
    monkeypatch.setattr(bt, "DATA", tmp_path)
    yield bt.load_table("k13lc")
    bt.load_table.cache_clear()


def test_an_evaluation_reads_its_epochs_column_of_its_training_seed_and_is_charged_its_seconds(curve_table):
    from benchmarks.curve_study import CurveObjective
    from boed_nas.errors import ConfigError

    objective = CurveObjective(3, curve_table)
    assert objective.epochs == list(range(1, 9))
    config = curve_table.index[5]
    s = objective.training_seed(config)
    for e in (1, 2, 4, 8):
        out = objective(config, e)
        assert out.metrics["val_acc"] == curve_table.loc[config, f"val_acc_s{s}_e{e}"]
        assert out.cost == curve_table.loc[config, f"train_seconds_s{s}_e{e}"]
    assert objective(config).metrics == objective(config, 8).metrics  # without a level: the target
    with pytest.raises(ConfigError, match="epochs"):
        objective(config, 9)
    with pytest.raises(ConfigError, match="no learning curves"):
        CurveObjective(0, curve_table[[c for c in curve_table.columns if "_e" not in c]])


def test_the_arms_run_on_the_simulated_clock_and_the_report_reads_them(curve_table, tmp_path):
    from benchmarks.curve_study import main, one_run

    runs = [one_run(arm, 0, 2, 12, 1e9, "k13lc") for arm in ("boed-mf", "asha", "boed")]
    for r in runs:
        assert r["evaluations"] == len(r["regret"]) <= 12 and sum(r["levels"].values()) == r["evaluations"]
        assert [f for f, _ in r["regret"]] == sorted(f for f, _ in r["regret"])  # rows in finishing order
    assert set(runs[0]["levels"]) <= {"1", "2", "4", "8"} and "1" in runs[0]["levels"]  # the design: the cheapest
    assert runs[2]["levels"] == {"8": runs[2]["evaluations"]}
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "table.md").read_text()
    assert "| boed-mf | 2 | 1 |" in text and (tmp_path / "out" / "regret_over_time.png").exists()


def test_the_supernet_arms_charge_its_training_once_and_each_estimate_its_seconds(curve_table, tmp_path):
    import benchmarks.blueprint_table as bt
    from benchmarks.curve_study import CurveObjective, one_run

    folder = tmp_path / bt.K13LC.folder
    rng = np.random.default_rng(1)
    pd.DataFrame({"config": curve_table.index, "sn_acc_s0": 80 + 10 * rng.random(len(curve_table)),
                  "sn_seconds_s0": 0.01 + 0.001 * rng.random(len(curve_table))}).to_csv(folder / "supernet.csv.gz",
                                                                                         index=False)
    (folder / "supernet.json").write_text(json.dumps({"train_seconds": {"0": 2.5}}))
    objective = CurveObjective(4, curve_table).with_supernet(folder)
    config = curve_table.index[7]
    out = objective(config, "supernet")
    row = pd.read_csv(folder / "supernet.csv.gz").set_index("config").loc[config]
    assert (out.metrics["val_acc"], out.cost) == (row["sn_acc_s0"], row["sn_seconds_s0"])
    assert objective(config, 8).metrics == CurveObjective(4, curve_table)(config, 8).metrics
    level, signal = (one_run(arm, 0, 2, 10, 1e9, "k13lc") for arm in ("boed-sn", "boed-sn-signal"))
    assert level["start"] == 2.5 and set(level["levels"]) <= {"supernet", "8"} and "supernet" in level["levels"]
    estimates = pd.read_csv(folder / "supernet.csv.gz")["sn_seconds_s0"].sum()
    assert signal["start"] == pytest.approx(2.5 + estimates / 2, abs=1e-4) and signal["levels"] == {"8": 10}
    for r in (level, signal):  # the clock starts after the supernet: every row finishes later than that
        assert min(f for f, _ in r["regret"]) > r["start"] and r["clock_end"] > r["start"]
