"""alpha's gradient and the penalties (boed_nas.bilevel.architect): unrolled second order, hinge budget,
sparsity, PCGrad surgery inside a step."""

from __future__ import annotations

import pytest
import torch

from boed_nas.bilevel import Architect, hinge_budget, sparsity_penalty
from boed_nas.nb201.space import N_EDGES, N_OPS
from boed_nas.supernet import CellPenalties, Supernet, fit_cost_table

torch.set_num_threads(1)


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


def test_sparsity_penalty_is_zero_for_one_hot_and_pushes_towards_it():
    assert float(sparsity_penalty(torch.eye(N_OPS)[[0, 1, 2, 3, 4, 0]])) == 0.0
    alpha = torch.zeros(N_EDGES, N_OPS)
    alpha[:, 2] = 0.1
    alpha.requires_grad_(True)
    sparsity_penalty(torch.softmax(alpha, -1)).backward()
    assert (alpha.grad[:, 2] < 0).all()  # descent raises the dominant op


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


def test_architect_logs_cosine_and_applies_surgery(bench):
    torch.manual_seed(0)
    model = Supernet(C=2, N=1, num_classes=3, in_channels=1)
    t = fit_cost_table(bench, "latency")
    pen = CellPenalties(guard=False, lam=0.5, cost_tables={"latency": t})
    arch = Architect(model, order=1, penalties=pen, surgery=True)
    batch = (torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0]))
    log = arch.step(batch, batch, lambda a: (torch.softmax(a, -1), None), lambda a: torch.softmax(a, -1), 0.01)
    assert -1 <= log["cos"] <= 1 and isinstance(log["conflict"], bool)
