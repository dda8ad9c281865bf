"""Supernet search (boed_nas.supernet): tiny configurations, the whole file in well under a minute."""

from __future__ import annotations

import argparse
import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from boed_nas.bilevel import (
    Architect,
    TemperatureSchedule,
    hinge_budget,
    make_splits,
    mixing_weights,
    pcgrad,
    sample_gumbel,
    sparsity_penalty,
    width_candidates,
)
from boed_nas.nb201.network import NB201Network
from boed_nas.nb201.space import (
    N_EDGES,
    N_OPS,
    NONE,
    OPS,
    PARAMETRIC_OPS,
    SKIP,
    Cell,
    all_cells,
)
from boed_nas.supernet import (
    CellPenalties,
    SearchConfig,
    SearchResult,
    Supernet,
    cell_log_probs,
    derive,
    fit_cost_table,
    guard_penalty,
    nb201_mixed_op,
    parametric_depth,
    passes_guard,
    soft_guard,
    top_k_cells,
)
from boed_nas.supernet import search_supernet as run_search

torch.set_num_threads(1)
TINY = dict(C=2, N=1, epochs=2, batch_size=16, data_limit=64, verbose=False, threads=1)


@pytest.fixture(scope="module")
def bench():
    from boed_nas.nb201.benchmark import NB201Benchmark

    return NB201Benchmark("cifar10")


@pytest.fixture(scope="module")
def tiny_result():
    return run_search(SearchConfig(**TINY, seed=3))


# ------------------------------------------------------------------------------ mixed ops
@pytest.mark.parametrize("k", range(N_OPS))
def test_mixed_op_with_one_hot_weights_is_that_op(k):
    torch.manual_seed(0)
    mixed = nb201_mixed_op(4)
    x = torch.randn(3, 4, 6, 6)
    w = F.one_hot(torch.tensor(k), N_OPS).float()
    assert torch.allclose(mixed(x, w), mixed.ops[k](x), atol=1e-6)
    assert torch.allclose(mixed(x, w, hard_index=k), mixed.ops[k](x), atol=1e-6)
    assert all(isinstance(a, torch.nn.Identity) for a in mixed.adapters)  # NB201 ops keep the width


def test_supernet_with_one_hot_alpha_equals_the_discrete_network():
    cell = Cell.from_str("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    torch.manual_seed(0)
    sup = Supernet(C=4, N=2, num_classes=5, in_channels=1, affine=True)
    net = NB201Network(cell, C=4, N=2, num_classes=5, in_channels=1)
    src = sup.net.state_dict()
    state = {}
    for name in net.state_dict():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            e = int(parts[3])
            state[name] = src[".".join(parts[:4] + ["ops", str(cell.ops[e])] + parts[4:])]
        else:
            state[name] = src[name]
    net.load_state_dict(state)
    x = torch.randn(4, 1, 8, 8)
    w = F.one_hot(torch.tensor(cell.ops), N_OPS).float()
    assert torch.allclose(sup(x, w), net(x), atol=1e-5)


def test_channel_adapters_project_candidates_to_the_common_width():
    torch.manual_seed(0)
    mixed = width_candidates(3, [2, 4, 6], width=4)
    assert isinstance(mixed.adapters[1], torch.nn.Identity)
    assert mixed.adapters[0].c_in == 2 and mixed.adapters[2].c_in == 6
    x = torch.randn(2, 3, 5, 5)
    for k in range(3):
        w = F.one_hot(torch.tensor(k), 3).float()
        out = mixed(x, w)
        assert out.shape == (2, 4, 5, 5)
        assert torch.allclose(out, mixed.adapters[k](mixed.ops[k](x)), atol=1e-6)
    w = torch.tensor([0.2, 0.3, 0.5])
    out = mixed(x, w)
    out.sum().backward()
    assert mixed.adapters[0].proj[0].weight.grad is not None


def test_hard_mode_samples_one_op_per_edge_and_passes_gradient_to_alpha():
    alpha = torch.zeros(N_EDGES, N_OPS, requires_grad=True)
    g = torch.Generator().manual_seed(0)

    w, hard = mixing_weights(alpha, 1.0, "hard", sample_gumbel((N_EDGES, N_OPS), g))
    assert len(hard) == N_EDGES and torch.allclose(w.detach().sum(-1), torch.ones(N_EDGES))
    assert torch.allclose(w.detach().max(-1).values, torch.ones(N_EDGES))
    sup = Supernet(C=2, N=1, num_classes=3, in_channels=1)
    sup(torch.randn(2, 1, 8, 8), w, hard).sum().backward()
    assert alpha.grad is not None and alpha.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ second order
def _smooth(model):
    """Swap ReLU for SiLU: the unrolled objective becomes smooth, so finite differences converge."""
    for m in list(model.modules()):
        for name, child in m.named_children():
            if isinstance(child, torch.nn.ReLU):
                setattr(m, name, torch.nn.SiLU())
    return model


def test_second_order_gradient_matches_finite_differences():
    torch.manual_seed(0)
    model = _smooth(Supernet(C=2, N=1, num_classes=3, in_channels=1).double())
    with torch.no_grad():
        model.alpha.normal_(0, 0.5)
    xt, yt = torch.randn(8, 1, 8, 8, dtype=torch.float64), torch.arange(8) % 3
    xv, yv = torch.randn(8, 1, 8, 8, dtype=torch.float64), (torch.arange(8) * 7) % 3
    xi, wd = 0.1, 1e-3
    arch = Architect(model, order=2, w_weight_decay=wd)

    def weights_fn(a):
        return torch.softmax(a, -1), None

    names = [n for n, _ in model.named_weight_parameters()]
    w0 = {n: p.detach().clone() for n, p in model.named_weight_parameters()}

    def unrolled_val_loss(alpha):  # L_val(w - xi (dL_train/dw + wd w), alpha), all in autograd
        w = {n: t.clone().requires_grad_(True) for n, t in w0.items()}
        lt = arch._loss(w, xt, yt, torch.softmax(alpha, -1), None)
        gw = torch.autograd.grad(lt, [w[n] for n in names], create_graph=True, allow_unused=True)
        w1 = {n: w[n] - xi * ((0 if gg is None else gg) + wd * w[n]) for n, gg in zip(names, gw)}
        return arch._loss(w1, xv, yv, torch.softmax(alpha, -1), None)

    a0 = model.alpha.detach().clone()
    a = a0.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(unrolled_val_loss(a), a)  # the exact hypergradient, checked by
    h = 1e-5                                                  # central finite differences (one op per edge)
    for e, o in zip(range(N_EDGES), (0, 1, 2, 3, 4, 2)):
        ap, am = a0.clone(), a0.clone()
        ap[e, o] += h
        am[e, o] -= h
        fd_eo = float((unrolled_val_loss(ap) - unrolled_val_loss(am)).detach()) / (2 * h)
        assert fd_eo == pytest.approx(float(exact[e, o]), rel=1e-5, abs=1e-9)
    fd = exact

    g, _ = arch.unrolled_gradient((xt, yt), (xv, yv), weights_fn, xi)  # DARTS's eps = 0.01 / |dw|
    assert float((g - fd).norm() / fd.norm()) < 2e-2
    g_fine, _ = arch.unrolled_gradient((xt, yt), (xv, yv), weights_fn, xi, eps_scale=1e-5)
    rel = float((g_fine - fd).norm() / fd.norm())
    assert rel < 1e-5, rel
    # the first-order gradient is far off: the correction term matters
    g1, _ = Architect(model, order=1).accuracy_gradient((xt, yt), (xv, yv), weights_fn, xi)
    assert float((g1 - fd).norm() / fd.norm()) > 0.1


# ------------------------------------------------------------------------------ temperature, sparsity
def test_annealing_makes_the_weights_sharper():
    sched = TemperatureSchedule(5.0, 0.1, "exp")
    taus = [sched(e, 10) for e in range(10)]
    assert taus[0] == pytest.approx(5.0) and taus[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(taus, taus[1:]))
    lin = TemperatureSchedule(2.0, 0.5, "linear")
    assert lin(0, 5) == 2.0 and lin(4, 5) == 0.5 and lin(2, 5) == pytest.approx(1.25)
    alpha = torch.randn(N_EDGES, N_OPS, generator=torch.Generator().manual_seed(1))
    ent = []
    for tau in taus:
        p, _ = mixing_weights(alpha, tau)
        ent.append(float(-(p * p.log()).sum(-1).mean()))
        assert torch.allclose(p.sum(-1), torch.ones(N_EDGES))
    assert all(a > b for a, b in zip(ent, ent[1:]))
    assert max(p.max(-1).values) > 0.99  # cold: nearly one-hot


def test_annealed_search_logs_sharper_mixing_weights():
    r = run_search(SearchConfig(**{**TINY, "epochs": 3}, tau_start=4.0, tau_end=0.25, tau_schedule="exp", seed=1))
    ent = [h["mixing_entropy"] for h in r.history[1:]]
    assert ent[0] > ent[1] > ent[2]
    assert [round(h["tau"], 3) for h in r.history[1:]] == [4.0, 1.0, 0.25]


def test_sparsity_penalty_is_zero_for_one_hot_and_pushes_towards_it():
    assert float(sparsity_penalty(torch.eye(N_OPS)[[0, 1, 2, 3, 4, 0]])) == 0.0
    alpha = torch.zeros(N_EDGES, N_OPS)
    alpha[:, 2] = 0.1
    alpha.requires_grad_(True)
    sparsity_penalty(torch.softmax(alpha, -1)).backward()
    assert (alpha.grad[:, 2] < 0).all()  # descent raises the dominant op


# ------------------------------------------------------------------------------ cost
def test_hinge_budget_zero_inside_and_growing_outside():
    b = 10.0
    inside = [hinge_budget(torch.tensor(c), b) for c in (0.0, 5.0, 10.0)]
    assert all(float(v) == 0.0 for v in inside)
    outside = [float(hinge_budget(torch.tensor(c), b)) for c in (10.5, 11.0, 12.0, 15.0)]
    assert all(a < b_ for a, b_ in zip(outside, outside[1:]))
    assert outside[1] == pytest.approx(1.0) and outside[2] == pytest.approx(4.0)
    c = torch.tensor(11.0, requires_grad=True)
    hinge_budget(c, b).backward()
    assert float(c.grad) == pytest.approx(2.0)


def test_cost_table_fit_and_expected_cost(bench):
    t = fit_cost_table(bench, "latency")
    assert t.table.shape == (N_EDGES, N_OPS) and np.all(t.table[:, NONE] == 0)
    assert t.r2 > 0.9 and t.mape < 10
    conv = sorted(PARAMETRIC_OPS)
    assert (t.table[:, conv].min(1) > t.table[:, [SKIP]].max(1)).all()  # convs cost more than skips
    cells = [Cell.from_code(c) for c in (0, 1234, 15624)]
    for c in cells:
        w = F.one_hot(torch.tensor(c.ops), N_OPS).double()
        assert float(t.expected(w)) == pytest.approx(float(t.predict([c])[0]))
    p = fit_cost_table(bench, "params_M")
    assert p.r2 > 0.99


def test_cost_fit_refuses_a_constant_column():
    class Fake:
        dataset = "fake"
        flops_M = np.zeros(15625)

    with pytest.raises(ValueError, match="constant"):
        fit_cost_table(Fake(), "flops_M")
    with pytest.raises(ValueError, match="unknown cost metric"):
        fit_cost_table(Fake(), "energy")


def test_latency_penalty_moves_alpha_to_cheaper_ops(bench):
    t = fit_cost_table(bench, "latency")
    pen = CellPenalties(guard=False, lam=1.0, cost_tables={"latency": t})
    alpha = torch.zeros(N_EDGES, N_OPS, requires_grad=True)
    pen.cost(torch.softmax(alpha, -1)).backward()
    conv = sorted(PARAMETRIC_OPS)
    assert (alpha.grad[:, conv] > 0).all() and (alpha.grad[:, NONE] < 0).all()


# ------------------------------------------------------------------------------ surgery
def test_surgery_leaves_agreeing_gradients_unchanged():
    a, c = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([0.5, 0.0, 1.0])
    g, cos = pcgrad(a, c)
    assert cos > 0 and torch.equal(g, a + c)
    g, cos = pcgrad(a, torch.tensor([0.0, 0.0, 3.0]))  # orthogonal: no conflict either
    assert cos == 0 and torch.equal(g, a + torch.tensor([0.0, 0.0, 3.0]))


def test_surgery_removes_the_conflicting_component():
    a, c = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    g, cos = pcgrad(a, c)
    assert cos == pytest.approx(-1 / math.sqrt(2))
    a_proj = a - (a @ c) / (c @ c) * c
    c_proj = c - (c @ a) / (a @ a) * a
    assert float(a_proj @ c) == pytest.approx(0.0) and float(c_proj @ a) == pytest.approx(0.0)
    assert torch.allclose(g, a_proj + c_proj) and torch.allclose(g, torch.tensor([0.5, 1.5]))


def test_architect_logs_cosine_and_applies_surgery(bench):
    torch.manual_seed(0)
    model = Supernet(C=2, N=1, num_classes=3, in_channels=1)
    t = fit_cost_table(bench, "latency")
    pen = CellPenalties(guard=False, lam=0.5, cost_tables={"latency": t})
    arch = Architect(model, order=1, penalties=pen, surgery=True)
    batch = (torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0]))
    log = arch.step(batch, batch, lambda a: (torch.softmax(a, -1), None), lambda a: torch.softmax(a, -1), 0.01)
    assert -1 <= log["cos"] <= 1 and isinstance(log["conflict"], bool)


# ------------------------------------------------------------------------------ guard
def test_parametric_depth_agrees_with_has_parametric_path():
    for cell in itertools.islice(all_cells(), 0, 15625, 7):
        assert (parametric_depth(cell) >= 1) == cell.has_parametric_path()
        assert passes_guard(cell, 1) == cell.has_parametric_path()


def test_soft_guard_is_exact_for_one_hot_weights():
    rng = np.random.default_rng(0)
    for code in list(rng.integers(0, 15625, 150)) + [0, 1, 15624]:
        cell = Cell.from_code(int(code))
        w = F.one_hot(torch.tensor(cell.ops), N_OPS).double()
        for m in (1, 2, 3):
            assert float(soft_guard(w, m)) == float(passes_guard(cell, m))


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


def test_guard_penalty_pulls_alpha_away_from_collapse():
    alpha = torch.zeros(N_EDGES, N_OPS)
    alpha[:, SKIP] = 4.0
    alpha.requires_grad_(True)
    before = float(soft_guard(torch.softmax(alpha.detach(), -1)))
    guard_penalty(torch.softmax(alpha, -1)).backward()
    conv = sorted(PARAMETRIC_OPS)
    assert (alpha.grad[:, conv] < 0).all()  # descent raises the convolutions
    with torch.no_grad():
        after = float(soft_guard(torch.softmax(alpha - 5 * alpha.grad, -1)))
    assert after > before


def test_guard_target_makes_the_penalty_a_hinge():
    uniform = torch.full((N_EDGES, N_OPS), 1 / N_OPS)
    p_uniform = float(soft_guard(uniform))  # ~0.89 for min_param=1
    assert float(guard_penalty(uniform, target=0.5)) == 0.0
    assert float(guard_penalty(uniform)) == pytest.approx(-math.log(p_uniform))
    collapsed = torch.softmax(torch.eye(N_OPS)[[SKIP] * N_EDGES] * 5, -1)
    p_c = float(soft_guard(collapsed))
    assert float(guard_penalty(collapsed, target=0.5)) == pytest.approx(math.log(0.5) - math.log(p_c), rel=1e-5)
    with pytest.raises(ValueError, match="guard target"):
        guard_penalty(uniform, target=1.5)
    with pytest.raises(ValueError, match="guard_target"):
        SearchConfig(guard_target=0.0)


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


# ------------------------------------------------------------------------------ search, seeds, data
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


def test_user_tensors_and_datasets_are_accepted():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, 8, 8, generator=g), torch.randint(0, 4, (40,), generator=g)
    s = make_splits((X, y), seed=0)
    assert s.in_channels == 3 and len(s.x_train) + len(s.x_val) == 40
    ds = torch.utils.data.TensorDataset(X, y)
    s2 = make_splits(ds, seed=0)
    assert torch.allclose(s.x_train, s2.x_train)
    r = run_search(SearchConfig(**{**TINY, "epochs": 1, "data_limit": None}, seed=0), data=(X, y))
    assert r.model.in_channels == 3 and r.model.num_classes <= 4
    digits = make_splits("digits", seed=0)
    assert digits.x_train.shape[1:] == (1, 8, 8) and len(digits.x_train) + len(digits.x_val) == 1797


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


# ------------------------------------------------------------------------------ CLI
def _parse(argv):
    from boed_nas.cli import supernet as cli

    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    return cli, p.parse_args(argv)


def test_cli_writes_summary_history_and_plot(tmp_path):
    cli, args = _parse(["--epochs", "1", "--C", "2", "--data-limit", "48", "--batch-size", "16", "--quiet",
                        "--threads", "1", "--lam", "0.05", "--surgery", "--tau-start", "2", "--tau-end", "0.5",
                        "--tau-schedule", "exp", "--seed", "7", "--out", str(tmp_path)])
    assert cli.main(args) == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    cell = Cell.from_str(s["derived_cell"])
    assert cell.has_parametric_path()
    assert np.array(s["alpha"]).shape == (N_EDGES, N_OPS) and s["ops"] == list(OPS)
    assert s["settings"]["seed"] == 7 and s["settings"]["lam"] == 0.05 and s["settings"]["surgery"] is True
    assert s["nb201"]["cifar10"]["derived"]["test_acc"] > 0
    assert "latency" in s["cost_fit"] and len(s["proposals"]) > 0
    import pandas as pd

    h = pd.read_csv(tmp_path / "alpha_history.csv")
    assert {"epoch", "edge", "op", "weight"} <= set(h.columns) and len(h) == 2 * N_EDGES * N_OPS
    assert (tmp_path / "alpha.png").stat().st_size > 1000


def test_cli_bad_options():
    cli, args = _parse(["--tau-start", "-1", "--quiet"])
    with pytest.raises(ValueError, match="temperature start"):
        cli.main(args)
    with pytest.raises(SystemExit):
        _parse(["--order", "3"])
    with pytest.raises(SystemExit):
        _parse(["--mode", "sparsemax"])
