"""Discretisation and the search result (boed_nas.supernet.result): derive, top-k, prior, proposals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.nb201.space import N_EDGES, N_OPS, NONE, SKIP, Cell, all_cells
from boed_nas.supernet import (
    SearchResult,
    cell_log_probs,
    derive,
    parametric_depth,
    top_k_cells,
)

torch.set_num_threads(1)


def test_guard_never_derives_a_cell_without_a_parametric_path():
    rng = np.random.default_rng(0)
    alphas = [rng.normal(0, 3, (N_EDGES, N_OPS)) for _ in range(60)]
    for bad in (SKIP, NONE):  # collapsed alphas
        a = np.zeros((N_EDGES, N_OPS))
        a[:, bad] = 5.0
        alphas.append(a)
    a = np.zeros((N_EDGES, N_OPS))
    a[:, [SKIP, 4]] = 4.0
    alphas.append(a)
    changed = 0
    for a in alphas:
        for m in (1, 2, 3):
            cell, argmax, report = derive(a, guard=True, min_param=m)
            assert cell.has_parametric_path() and parametric_depth(cell) >= m
            changed += report["changed"]
            if not report["changed"]:
                assert cell == argmax
    assert changed > 0
    a = np.zeros((N_EDGES, N_OPS))
    a[:, SKIP] = 5.0
    cell, argmax, report = derive(a, guard=True)
    assert not argmax.has_parametric_path() and report["changed"] and len(report["changed_edges"]) == 1
    assert derive(a, guard=False)[0] == argmax


def test_budget_discretisation_returns_the_most_probable_cell_within_the_budget(bench):
    from boed_nas.supernet.result import cell_log_probs

    cost = bench.latency * 1000.0
    rng = np.random.default_rng(1)
    budget = float(np.quantile(cost, 0.2))
    for _ in range(20):
        a = rng.normal(0, 2, (N_EDGES, N_OPS))
        a[:, 3] += 2.0  # lean towards the costly 3x3 convolution, so the budget binds
        cell, argmax, report = derive(a, guard=True, cost=cost, budget=budget)
        assert cost[cell.code] <= budget and cell.has_parametric_path()
        ok = (cost <= budget) & np.array([c.has_parametric_path() for c in all_cells()])
        lp = cell_log_probs(a)
        assert lp[cell.code] == lp[ok].max()  # brute force: nothing feasible is more probable
        assert report["derived_cost"] <= budget and report["budget"] == budget
    r = SearchResult(alpha=a, config={"guard": True, "min_param": 1, "budget": budget, "budget_metric": "latency",
                                      "cost_dataset": "cifar10"})
    assert r.derived_cell == cell
    assert all(cost[c.code] <= budget for c in r.proposals(k=5, n_samples=5, rng=0))
    with pytest.raises(ValueError, match="no cell passing the guard has cost <= budget"):
        derive(a, cost=cost, budget=float(cost.min()) / 2)
    with pytest.raises(ValueError, match="a budget needs the cost"):
        derive(a, budget=1.0)


# ------------------------------------------------------------------------------ discretisation
def test_top_k_is_exact_over_the_product_distribution():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (N_EDGES, N_OPS))
    lp = cell_log_probs(a)
    assert np.exp(lp).sum() == pytest.approx(1.0)
    top = top_k_cells(a, 20)
    brute = sorted(all_cells(), key=lambda c: -sum(
        a[e, c.ops[e]] - np.log(np.exp(a[e]).sum()) for e in range(N_EDGES)))[:20]
    assert [c.code for c in top] == [c.code for c in brute]
    assert top[0] == Cell(tuple(int(i) for i in a.argmax(1)))


def test_result_prior_and_proposals(tiny_result):
    r = tiny_result
    prior = r.op_prior()
    assert prior.shape == (N_EDGES, N_OPS) and np.allclose(prior.sum(1), 1) and (prior > 0).all()
    props = r.proposals(k=5, n_samples=7, rng=0)
    assert len(props) == 12 and len(set(props)) == 12
    assert all(isinstance(c, Cell) and c.has_parametric_path() for c in props)
    assert props[:5] == r.top_k(5)
    assert props == r.proposals(k=5, n_samples=7, rng=0)
    assert r.derived_cell == props[0]
    with pytest.raises(ValueError):
        r.proposals(k=-1)
