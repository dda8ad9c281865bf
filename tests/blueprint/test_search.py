"""The blueprint search (boed_nas.blueprint.search): penalties, the seeded bilevel loop, the architect."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.bilevel import Architect
from boed_nas.blueprint import (
    BlueprintConfig,
    BlueprintPenalties,
    BlueprintSupernet,
    group_mixing,
    group_probs,
    search_blueprint,
)
from tests.blueprint.helpers import TINY_RUN, TINY_SPACE

torch.set_num_threads(1)


def test_hinge_is_zero_inside_the_budget_and_quadratic_outside(tiny_costs):
    sp = TINY_SPACE
    p = torch.as_tensor(sp.one_hot(sp.largest()))
    e = float(tiny_costs.expected(p))
    pen = BlueprintPenalties(tiny_costs, budget=e * 2, budget_weight=3.0)
    assert float(pen.cost(p)) == 0.0
    pen = BlueprintPenalties(tiny_costs, budget=e / 2, budget_weight=3.0)
    assert float(pen.cost(p)) == pytest.approx(3.0 * (e - e / 2) ** 2 / (e / 2) ** 2)
    assert BlueprintPenalties(tiny_costs).cost(p) is None


def test_search_is_seeded_and_the_architect_moves_every_group():
    short = {**TINY_RUN, "data_limit": 48}
    cfg = BlueprintConfig(**short, seed=1, budget=0.01)
    a = search_blueprint(cfg)
    b = search_blueprint(cfg)
    assert np.array_equal(a.alpha, b.alpha)
    c = search_blueprint(BlueprintConfig(**short, seed=2, budget=0.01))
    assert not np.array_equal(a.alpha, c.alpha)
    assert len(a.history) == cfg.epochs + 1 and "expected_flops_M" in a.history[-1]
    kinds = {r["kind"] for r in a.alpha_history}
    assert kinds == {"width", "kernel", "gate"}
    start = np.array([r["alpha"] for r in a.alpha_history if r["epoch"] == 0])
    assert start.shape == a.alpha.shape
    for g in a.space.groups():
        assert np.abs(a.alpha[g.slice] - start[g.slice]).max() > 1e-3, g.name  # every choice was searched


def test_second_order_architect_step_runs_on_the_blueprint_supernet(tiny_costs):
    sp = TINY_SPACE
    torch.manual_seed(0)
    model = BlueprintSupernet(sp)
    arch = Architect(model, order=2, penalties=BlueprintPenalties(tiny_costs, budget=0.001))
    batch = (torch.randn(8, 1, 8, 8), torch.arange(8) % 3)
    before = model.alpha.detach().clone()
    log = arch.step(batch, batch, lambda a: group_mixing(a, sp.groups()), lambda a: group_probs(a, sp.groups()), 0.01)
    assert log["cost_penalty"] > 0 and not torch.equal(before, model.alpha.detach())


def test_search_takes_a_ready_split_and_never_reads_its_test_part():
    from boed_nas.bilevel.data import make_splits
    from boed_nas.errors import ConfigError

    short = {**TINY_RUN, "data_limit": 48}
    cfg = BlueprintConfig(**short, seed=1, budget=0.01)
    split = make_splits("digits", val_fraction=0.25, seed=7, limit=60, test_fraction=0.2)
    nan_test = type(split)(split.x_train, split.y_train, split.x_val, split.y_val, split.name,
                           torch.full_like(split.x_test, float("nan")), split.y_test)
    a = search_blueprint(cfg, splits=split)
    b = search_blueprint(cfg, splits=nan_test)  # a test split of NaNs changes nothing
    assert a.splits is split and np.array_equal(a.alpha, b.alpha) and np.all(np.isfinite(a.alpha))
    assert not np.array_equal(a.alpha, search_blueprint(cfg).alpha)  # its own split (seed 1) differs
    with pytest.raises(ConfigError, match="not both"):
        search_blueprint(cfg, data="digits", splits=split)
    with pytest.raises(ConfigError, match="Splits"):
        search_blueprint(cfg, splits=(split.x_train, split.y_train))
