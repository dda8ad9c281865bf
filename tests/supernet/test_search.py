"""The supernet search (boed_nas.supernet.search): config, penalties, seeded runs end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.bilevel import make_splits, mixing_weights, width_candidates
from boed_nas.nb201.space import N_EDGES, N_OPS, NONE, PARAMETRIC_OPS
from boed_nas.supernet import (
    CellPenalties,
    SearchConfig,
    SearchResult,
    derive,
    fit_cost_table,
    nb201_mixed_op,
)
from boed_nas.supernet import search_supernet as run_search
from tests.supernet.helpers import TINY

torch.set_num_threads(1)


def test_annealed_search_logs_sharper_mixing_weights():
    r = run_search(SearchConfig(**{**TINY, "epochs": 3}, tau_start=4.0, tau_end=0.25, tau_schedule="exp", seed=1))
    ent = [h["mixing_entropy"] for h in r.history[1:]]
    assert ent[0] > ent[1] > ent[2]
    assert [round(h["tau"], 3) for h in r.history[1:]] == [4.0, 1.0, 0.25]


def test_latency_penalty_moves_alpha_to_cheaper_ops(bench):
    t = fit_cost_table(bench, "latency")
    pen = CellPenalties(guard=False, lam=1.0, cost_tables={"latency": t})
    alpha = torch.zeros(N_EDGES, N_OPS, requires_grad=True)
    pen.cost(torch.softmax(alpha, -1)).backward()
    conv = sorted(PARAMETRIC_OPS)
    assert (alpha.grad[:, conv] > 0).all() and (alpha.grad[:, NONE] < 0).all()


def test_same_seed_same_result_and_global_rng_untouched(tiny_result):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    again = run_search(SearchConfig(**TINY, seed=3))
    assert torch.equal(torch.get_rng_state(), state)
    assert np.array_equal(again.alpha, tiny_result.alpha)
    other = run_search(SearchConfig(**TINY, seed=4))
    assert not np.array_equal(other.alpha, tiny_result.alpha)
    assert len(tiny_result.history) == TINY["epochs"] + 1
    assert len(tiny_result.alpha_history) == (TINY["epochs"] + 1) * N_EDGES * N_OPS


def test_second_order_gumbel_guard_budget_surgery_run_end_to_end(bench):
    r = run_search(SearchConfig(**{**TINY, "epochs": 1, "data_limit": 32}, order=2, mode="gumbel", sparsity=0.1,
                                budget=14.0, lam=0.05, surgery=True, seed=0), bench=bench)
    h = r.history[-1]
    assert "expected_latency" in h and -1 <= h["mean_cos"] <= 1
    assert r.derived_cell.has_parametric_path()


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(tau_start=-1.0), "temperature start must be a positive"),
    (dict(tau_end=0.0), "temperature end must be a positive"),
    (dict(tau_schedule="cosine"), "unknown temperature schedule"),
    (dict(order=3), "order must be 1"),
    (dict(mode="sparsemax"), "unknown mode"),
    (dict(min_param=0), "min_param"),
    (dict(min_param=4), "min_param"),
    (dict(budget=-1.0), "budget must be"),
    (dict(budget_metric="energy"), "unknown budget metric"),
    (dict(lam=-0.1), "lam must be"),
    (dict(sparsity=-1.0), "sparsity must be"),
    (dict(epochs=0), "epochs must be"),
    (dict(epochs=2, warmup_epochs=2), "warmup_epochs"),
    (dict(alpha_lr=0.0), "alpha_lr must be a positive"),
    (dict(seed=-1), "seed must be"),
])
def test_bad_config_options_raise_clear_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kwargs)


def test_bad_arguments_raise_clear_value_errors():
    with pytest.raises(ValueError, match="unknown op 'conv_5x5'"):
        nb201_mixed_op(4, ops=("none", "conv_5x5"))
    with pytest.raises(ValueError, match="temperature must be positive"):
        mixing_weights(torch.zeros(N_EDGES, N_OPS), -1.0)
    with pytest.raises(ValueError, match="needs Gumbel noise"):
        mixing_weights(torch.zeros(N_EDGES, N_OPS), 1.0, "gumbel")
    with pytest.raises(ValueError, match="alpha must be a finite 6 x 5"):
        derive(np.zeros((6, 4)))
    with pytest.raises(ValueError, match="unknown data source"):
        make_splits("cifar10")
    with pytest.raises(ValueError, match="expected 5 mixing weights"):
        nb201_mixed_op(2)(torch.randn(1, 2, 4, 4), torch.ones(4))
    with pytest.raises(ValueError, match="widths must be positive"):
        width_candidates(3, [0, 2], 2)
    with pytest.raises(ValueError, match="temperature must be positive"):
        SearchResult(np.zeros((6, 5)), {}).op_prior(tau=0)
