"""The architecture step of a bilevel search: alpha's optimiser, gradient and penalties.

:class:`Architect` owns alpha's optimiser (Adam) and computes its gradient (first order, or the
second-order unrolled DARTS gradient with a finite-difference Hessian-vector product), adds the
penalties (:class:`Penalties`: a hinge budget and lambda times the expected cost, sparsity and a
space's own regulariser) and optionally applies PCGrad surgery between the accuracy and the cost
gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.func import functional_call

from ..errors import ConfigError
from .surgery import cosine, pcgrad


def hinge_budget(expected_cost: torch.Tensor, budget: float) -> torch.Tensor:
    """``max(0, E[cost] - B)^2``: zero inside the budget, quadratic outside."""
    return torch.clamp(expected_cost - budget, min=0.0) ** 2


# ---------------------------------------------------------------------------------- penalties
def sparsity_penalty(p: torch.Tensor) -> torch.Tensor:
    """L1 norm of each edge's mixing weights minus their largest one, summed over edges.

    Rows of p lie on the simplex, where the plain L1 norm is constant (1); the L1 mass *outside*
    the dominant op is what sparsity has to remove. Zero exactly for one-hot rows.
    """
    return (p.abs().sum(-1) - p.abs().max(-1).values).sum()


@dataclass(kw_only=True)
class Penalties:
    """The alpha-side terms of a search, with the interface :class:`Architect` calls.

    ``cost(p)``: ``budget_weight * max(0, E[budget_metric] - budget)^2 / hinge_scale()`` plus
    ``lam * E[lam_metric]`` (the term PCGrad may project against the accuracy gradient);
    ``regulariser(p)``: ``sparsity * sparsity_term(p)`` plus the space's own ``extra_regulariser``.
    A space subclasses it with ``expected(p, metric)``, its expected cost under mixing weights ``p``.
    """

    sparsity: float = 0.0
    budget: float | None = None
    budget_metric: str = "latency"
    budget_weight: float = 1.0
    lam: float = 0.0
    lam_metric: str = "latency"

    def expected(self, p: torch.Tensor, metric: str) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not model expected costs")

    def hinge_scale(self) -> float:
        return 1.0

    def sparsity_term(self, p: torch.Tensor) -> torch.Tensor:
        return sparsity_penalty(p)

    def extra_regulariser(self, p: torch.Tensor) -> torch.Tensor | None:
        return None

    def cost(self, p: torch.Tensor) -> torch.Tensor | None:
        c = None
        if self.budget is not None and self.budget_weight > 0:
            c = self.budget_weight * hinge_budget(self.expected(p, self.budget_metric), self.budget) / self.hinge_scale()
        if self.lam > 0:
            t = self.lam * self.expected(p, self.lam_metric)
            c = t if c is None else c + t
        return c

    def regulariser(self, p: torch.Tensor) -> torch.Tensor:
        r = p.new_zeros(())
        if self.sparsity > 0:
            r = r + self.sparsity * self.sparsity_term(p)
        extra = self.extra_regulariser(p)
        return r if extra is None else r + extra


class Architect:
    """Alpha's optimiser (Adam) and gradient.

    ``step(train_batch, val_batch, weights_fn, w_lr, ...)``: ``weights_fn(alpha) -> (weights, hard)``
    maps alpha to this step's mixing weights (tempered softmax or a fixed Gumbel sample).
    ``probs_fn(alpha)`` gives the op probabilities the penalties act on.

    Order 1: grad = dL_val(w, alpha)/dalpha. Order 2 (DARTS, Liu et al. 2019, eq. 7-8):
    ``w' = w - xi (dL_train/dw + wd w)``, ``grad = dL_val(w', alpha)/dalpha
    - xi * (dL_train(w+, alpha)/dalpha - dL_train(w-, alpha)/dalpha) / (2 eps)``,
    ``w+- = w +- eps dL_val(w', alpha)/dw'``, ``eps = fd_eps / |dL_val/dw'|`` (fd_eps = 0.01 as in
    DARTS). The unrolled step leaves out the weight optimiser's momentum. With ReLU networks the
    finite difference straddles activation kinks, so it estimates a smoothed Hessian-vector product.
    """

    def __init__(self, model: torch.nn.Module, *, order: int = 1, lr: float = 3e-3, betas=(0.5, 0.999),
                 weight_decay: float = 1e-3, penalties: Penalties | None = None, surgery: bool = False,
                 w_weight_decay: float = 0.0, fd_eps: float = 0.01):
        if order not in (1, 2):
            raise ConfigError(f"order must be 1 or 2, got {order!r}")
        self.model = model
        self.order = order
        self.penalties = penalties or Penalties()
        self.surgery = surgery
        self.w_weight_decay = w_weight_decay
        if not fd_eps > 0:
            raise ConfigError(f"fd_eps must be positive, got {fd_eps!r}")
        self.fd_eps = fd_eps
        self.optimizer = torch.optim.Adam(model.arch_parameters(), lr=lr, betas=betas, weight_decay=weight_decay)

    # -- losses with explicit weights (functional) --------------------------------------------
    def _loss(self, params: dict, x, y, weights, hard) -> torch.Tensor:
        buffers = {n: b.clone() for n, b in self.model.named_buffers()}
        logits = functional_call(self.model, {**params, **buffers}, (x, weights, hard))
        return F.cross_entropy(logits, y)

    def accuracy_gradient(self, train_batch, val_batch, weights_fn: Callable, xi: float) -> tuple[torch.Tensor, float]:
        """The gradient of the validation loss w.r.t. alpha (first or second order), and that loss."""
        alpha = self.model.alpha
        x_va, y_va = val_batch
        if self.order == 1:
            weights, hard = weights_fn(alpha)
            loss = F.cross_entropy(self.model(x_va, weights, hard), y_va)
            (g,) = torch.autograd.grad(loss, alpha)
            return g, float(loss.detach())
        return self.unrolled_gradient(train_batch, val_batch, weights_fn, xi)

    def unrolled_gradient(self, train_batch, val_batch, weights_fn: Callable, xi: float,
                          eps_scale: float | None = None) -> tuple[torch.Tensor, float]:
        eps_scale = self.fd_eps if eps_scale is None else eps_scale
        model, alpha = self.model, self.model.alpha
        (x_tr, y_tr), (x_va, y_va) = train_batch, val_batch
        names = [n for n, _ in model.named_weight_parameters()]
        w = {n: p.detach() for n, p in model.named_weight_parameters()}
        # one virtual SGD step on the training loss
        w_req = {n: t.clone().requires_grad_(True) for n, t in w.items()}
        weights, hard = weights_fn(alpha)
        loss_tr = self._loss(w_req, x_tr, y_tr, weights.detach(), hard)
        g_tr = torch.autograd.grad(loss_tr, [w_req[n] for n in names], allow_unused=True)
        w_prime = {}
        for n, g in zip(names, g_tr):
            g = torch.zeros_like(w[n]) if g is None else g
            w_prime[n] = (w[n] - xi * (g + self.w_weight_decay * w[n])).requires_grad_(True)
        # validation loss at w'
        weights, hard = weights_fn(alpha)
        loss_va = self._loss(w_prime, x_va, y_va, weights, hard)
        grads = torch.autograd.grad(loss_va, [alpha] + [w_prime[n] for n in names], allow_unused=True)
        d_alpha = grads[0]
        d_w = [torch.zeros_like(w[n]) if g is None else g for n, g in zip(names, grads[1:])]
        if xi == 0:
            return d_alpha, float(loss_va.detach())
        # finite-difference Hessian-vector product d^2 L_train / dalpha dw . d_w
        norm = torch.sqrt(sum((g * g).sum() for g in d_w))
        eps = eps_scale / float(norm.clamp_min(1e-12))
        hv = []
        for sign in (1.0, -1.0):
            w_eps = {n: w[n] + sign * eps * g for n, g in zip(names, d_w)}
            weights, hard = weights_fn(alpha)
            (ga,) = torch.autograd.grad(self._loss(w_eps, x_tr, y_tr, weights, hard), alpha)
            hv.append(ga)
        hvp = (hv[0] - hv[1]) / (2 * eps)
        return d_alpha - xi * hvp, float(loss_va.detach())

    # -- the step -------------------------------------------------------------------------------
    def step(self, train_batch, val_batch, weights_fn: Callable, probs_fn: Callable, xi: float) -> dict:
        alpha = self.model.alpha
        g_acc, loss_va = self.accuracy_gradient(train_batch, val_batch, weights_fn, xi)
        p = probs_fn(alpha)
        log = {"val_loss": loss_va, "cos": float("nan"), "conflict": False}
        g = g_acc
        cost = self.penalties.cost(p)
        if cost is not None:
            (g_cost,) = torch.autograd.grad(cost, alpha, retain_graph=True)
            if self.surgery:
                g, cos = pcgrad(g_acc, g_cost)
            else:
                g, cos = g_acc + g_cost, cosine(g_acc, g_cost)
            log.update(cos=cos, conflict=cos < 0, cost_penalty=float(cost.detach()))
        reg = self.penalties.regulariser(p)
        if reg.requires_grad:
            (g_reg,) = torch.autograd.grad(reg, alpha)
            g = g + g_reg
            log["regulariser"] = float(reg.detach())
        self.optimizer.zero_grad(set_to_none=True)
        alpha.grad = g.detach().clone()
        self.optimizer.step()
        return log
