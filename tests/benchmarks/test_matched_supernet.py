"""The tables of real trainings on blueprint sub-spaces and the matched-data supernet study, on a
synthetic table (the real ones are built by tools/build_blueprint_table.py)."""

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(params=["k35", "k13"])
def synthetic_table(request, tmp_path, monkeypatch):
    """A synthetic table in place of the named table's shipped file."""
    import benchmarks.blueprint_table as bt

    spec = bt.TABLES[request.param]
    rng = np.random.default_rng(0)
    rows = []
    for c in spec.space.enumerate():
        base = 95 + 3 * rng.random()
        rows.append({"config": str(c), **{f"val_acc_s{s}": base + rng.normal() for s in spec.training_seeds},
                     **{f"test_acc_s{s}": base + rng.normal() for s in spec.training_seeds},
                     **{f"train_seconds_s{s}": 1.0 + s for s in spec.training_seeds}})
    (tmp_path / spec.folder).mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / spec.folder / "table.csv.gz", index=False)
    bt.load_table.cache_clear()
    monkeypatch.setattr(bt, "DATA", tmp_path)
    yield spec, bt.load_table(spec.name)
    bt.load_table.cache_clear()


def test_table_objective_draws_one_training_seed_per_run_and_network(synthetic_table):
    from benchmarks.blueprint_table import TableObjective

    spec, synthetic_table = synthetic_table
    configs = spec.space.enumerate()[:200]
    a, b = TableObjective(0, spec.name), TableObjective(1, spec.name)
    assert a.seeds == spec.training_seeds
    assert [a.training_seed(c) for c in configs] == [TableObjective(0, spec.name).training_seed(c) for c in configs]
    assert {a.training_seed(c) for c in configs} == set(spec.training_seeds)
    assert any(a.training_seed(c) != b.training_seed(c) for c in configs)
    c = configs[3]
    s = a.training_seed(c)
    out = a(c)
    assert out.metrics == {"val_acc": synthetic_table.loc[str(c), f"val_acc_s{s}"]} and out.cost == 1.0 + s
    best = synthetic_table["test_mean"].idxmax()
    assert a.test_regret(spec.space.parse(best)) == 0 and a.test_regret(c) > 0
    assert a.val_optima() == {synthetic_table["val_mean"].idxmax()}


def test_a_missing_table_names_the_command_that_builds_it(tmp_path, monkeypatch):
    import benchmarks.blueprint_table as bt
    from boed_nas.errors import ConfigError

    with pytest.raises(ConfigError, match="python -m tools.build_blueprint_table"):
        bt.load_table(tmp_path / "nowhere.csv.gz")
    monkeypatch.setattr(bt, "DATA", tmp_path)
    bt.load_table.cache_clear()
    with pytest.raises(ConfigError, match="build_blueprint_table --table k13"):
        bt.load_table("k13")
    with pytest.raises(ConfigError, match="'k7'.*k13"):
        bt.table_spec("k7")


def test_supernet_ranks_networks_and_seeds_boed_with_its_proposals(synthetic_table, tmp_path, monkeypatch):
    import benchmarks.matched_supernet_study as st

    spec, _ = synthetic_table
    monkeypatch.setitem(st.SUPERNET, "epochs", 2)
    monkeypatch.setattr(st, "CHECKPOINTS", (5, 10))
    out = tmp_path / "study"
    args = ["--table", spec.name, "--seeds", "0-0", "--budget", "10", "--strategies", "supernet,boed+supernet", "--out", str(out)]
    assert st.main(args) == 0
    runs = {r["strategy"]: r for r in map(json.loads, (out / "runs.jsonl").read_text().splitlines())}
    belief = st.prior(spec, json.loads((out / "supernets" / "seed0.json").read_text())["alpha"])
    configs = spec.space.enumerate()
    ranked = [belief.log_prob(configs[i]) for i in runs["supernet"]["evaluated"]]
    assert ranked == sorted(ranked, reverse=True) and ranked[0] == max(map(belief.log_prob, configs))
    assert runs["boed+supernet"]["evaluated"][:st.N_PROPOSALS] == runs["supernet"]["evaluated"][:st.N_PROPOSALS]
    assert len(set(runs["boed+supernet"]["evaluated"])) == 10
    assert set(runs["supernet"]["regret"]) == {"5", "10"}
    assert st.main(args) == 0  # resumed: nothing rerun
    assert len((out / "runs.jsonl").read_text().splitlines()) == 2
    text = (out / "table.md").read_text()
    assert "| supernet | 1 |" in text and f"({len(spec.training_seeds)} training seeds)" in text


def test_a_study_folder_holds_one_table(tmp_path, capsys):
    import benchmarks.matched_supernet_study as st

    out = tmp_path / "study"
    out.mkdir()
    (out / "runs.jsonl").write_text(json.dumps({"table": "k35", "strategy": "random", "seed": 0}) + "\n")
    with pytest.raises(SystemExit):
        st.main(["--table", "k13", "--seeds", "0-0", "--out", str(out)])
    assert "holds runs on table(s) ['k35'], not 'k13'" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [(["--sample", "0", "--out", "x.csv.gz"], "--sample must be at least 1, got 0"),
                                           (["--sample", "5"], "--sample writes a pilot"),
                                           (["--workers", "0"], "--workers must be at least 1, got 0")])
def test_table_builder_usage_errors(args, message, capsys):
    from tools.build_blueprint_table import main

    with pytest.raises(SystemExit):
        main(["--table", "k13", *args])
    assert message in capsys.readouterr().err
