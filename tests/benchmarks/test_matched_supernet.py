"""The table of real trainings on the blueprint sub-space and the matched-data supernet study, on a
synthetic table (the real one is built by benchmarks/scripts/build_blueprint_table.py)."""

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def synthetic_table(tmp_path, monkeypatch):
    import benchmarks.blueprint_table as bt

    rng = np.random.default_rng(0)
    rows = []
    for c in bt.SPACE.enumerate():
        base = 95 + 3 * rng.random()
        rows.append({"config": str(c), **{f"val_acc_s{s}": base + rng.normal() for s in bt.TRAINING_SEEDS},
                     **{f"test_acc_s{s}": base + rng.normal() for s in bt.TRAINING_SEEDS},
                     **{f"train_seconds_s{s}": 1.0 + s for s in bt.TRAINING_SEEDS}})
    path = tmp_path / "table.csv.gz"
    pd.DataFrame(rows).to_csv(path, index=False)
    bt.load_table.cache_clear()
    monkeypatch.setattr(bt, "TABLE_PATH", path)
    yield bt.load_table()
    bt.load_table.cache_clear()


def test_table_objective_draws_one_training_seed_per_run_and_network(synthetic_table):
    from benchmarks.blueprint_table import SPACE, TableObjective

    configs = SPACE.enumerate()[:200]
    a, b = TableObjective(0), TableObjective(1)
    assert [a.training_seed(c) for c in configs] == [TableObjective(0).training_seed(c) for c in configs]
    assert {a.training_seed(c) for c in configs} == {0, 1}
    assert any(a.training_seed(c) != b.training_seed(c) for c in configs)
    c = configs[3]
    s = a.training_seed(c)
    out = a(c)
    assert out.metrics == {"val_acc": synthetic_table.loc[str(c), f"val_acc_s{s}"]} and out.cost == 1.0 + s
    best = synthetic_table["test_mean"].idxmax()
    assert a.test_regret(SPACE.parse(best)) == 0 and a.test_regret(c) > 0
    assert a.val_optima() == {synthetic_table["val_mean"].idxmax()}


def test_a_missing_table_names_the_command_that_builds_it(tmp_path, monkeypatch):
    import benchmarks.blueprint_table as bt
    from boed_nas.errors import ConfigError

    with pytest.raises(ConfigError, match="build_blueprint_table.py"):
        bt.load_table(tmp_path / "nowhere.csv.gz")


def test_supernet_ranks_networks_and_seeds_boed_with_its_proposals(synthetic_table, tmp_path, monkeypatch):
    import benchmarks.matched_supernet_study as st

    monkeypatch.setitem(st.SUPERNET, "epochs", 2)
    monkeypatch.setattr(st, "CHECKPOINTS", (5, 10))
    out = tmp_path / "study"
    args = ["--seeds", "0-0", "--budget", "10", "--strategies", "supernet,boed+supernet", "--out", str(out)]
    assert st.main(args) == 0
    runs = {r["strategy"]: r for r in map(json.loads, (out / "runs.jsonl").read_text().splitlines())}
    logp = st.log_probs(json.loads((out / "supernets" / "seed0.json").read_text())["alpha"])
    configs = st.SPACE.enumerate()
    ranked = [logp[str(configs[i])] for i in runs["supernet"]["evaluated"]]
    assert ranked == sorted(ranked, reverse=True) and ranked[0] == max(logp.values())
    assert runs["boed+supernet"]["evaluated"][:st.N_PROPOSALS] == runs["supernet"]["evaluated"][:st.N_PROPOSALS]
    assert len(set(runs["boed+supernet"]["evaluated"])) == 10
    assert set(runs["supernet"]["regret"]) == {"5", "10"}
    assert st.main(args) == 0  # resumed: nothing rerun
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2
    assert "| supernet | 1 |" in (out / "table.md").read_text()
