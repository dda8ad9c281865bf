"""Search, derive, retrain and write the files (boed_nas.blueprint.pipeline)."""

from __future__ import annotations

import json

import pytest
import torch

from boed_nas.blueprint import BlueprintConfig, run_blueprint
from tests.blueprint.helpers import TINY_RUN, TINY_SPACE

torch.set_num_threads(1)


def test_pipeline_meets_the_budget_and_writes_its_files(tmp_path, tiny_costs):
    budget = 0.5 * sum(tiny_costs.range("flops_M"))
    cfg = BlueprintConfig(**TINY_RUN, seed=0, budget=budget)
    s = run_blueprint(cfg, out=tmp_path, time_latency=False)
    assert s["derived"]["flops_M"] <= budget and s["within_budget"]
    assert s["baseline"]["flops_M"] <= budget
    assert s["accuracy_gap"] == pytest.approx(s["supernet_val_acc"] - s["derived"]["val_acc"])
    assert s["cost_gap"]["derived_minus_expected_flops_M"] == pytest.approx(
        s["derived"]["flops_M"] - s["expected"]["flops_M"])
    for f in ("summary.json", "history.csv", "alpha_history.csv", "gate_history.csv", "blueprint.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["derived_blueprint"] == s["derived_blueprint"]
    import pandas as pd

    gates = pd.read_csv(tmp_path / "gate_history.csv")
    assert set(gates.columns) >= {"epoch", "stage", "layer", "p_keep"}
    assert len(gates) == (cfg.epochs + 1) * sum(st.depth - 1 for st in TINY_SPACE.stages)
