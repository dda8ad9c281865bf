"""Bilevel supernet search: weights on the training split, alpha on the validation split.

:class:`SearchConfig` holds every setting (validated: bad values raise ValueError);
:class:`Architect` owns alpha's optimiser and computes its gradient (first order, or the
second-order unrolled DARTS gradient with a finite-difference Hessian-vector product), adds the
penalties (sparsity, degeneracy guard, hinge budget, lambda * E[latency]) and optionally
applies PCGrad surgery between the accuracy and the cost gradient; :func:`run_search` alternates
weight and alpha steps and returns a :class:`~boed_nas.supernet.result.SearchResult`.

Everything random comes from ``config.seed``: the model is initialised inside
``torch.random.fork_rng`` (the global torch RNG is left as it was) and batches and Gumbel noise
come from a private ``torch.Generator``; the same seed gives the same result on CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from boed_nas.space import N_EDGES, N_OPS, NONE, OPS, SKIP, Cell

from .cost import COST_METRICS, CostTable, fit_cost_table, hinge_budget
from .data import Splits, make_splits
from .guard import check_min_param, guard_penalty, soft_guard
from .ops import MODES, Supernet, mixing_weights, sample_gumbel
from .surgery import cosine, pcgrad

SCHEDULES = ("constant", "linear", "exp")


# ---------------------------------------------------------------------------------- temperature
@dataclass(frozen=True)
class TemperatureSchedule:
    """Softmax temperature over epochs, from ``start`` (hot) to ``end`` (cold)."""

    start: float = 1.0
    end: float = 1.0
    kind: str = "constant"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"temperature {name} must be a positive number, got {v!r}")
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown temperature schedule {self.kind!r}; expected one of {list(SCHEDULES)}")

    def __call__(self, epoch: int, epochs: int) -> float:
        if self.kind == "constant" or epochs <= 1:
            return float(self.start)
        t = min(max(epoch / (epochs - 1), 0.0), 1.0)
        if self.kind == "linear":
            return float(self.start + (self.end - self.start) * t)
        return float(self.start * (self.end / self.start) ** t)


# ---------------------------------------------------------------------------------- config
@dataclass
class BilevelConfig:
    """The settings every bilevel search shares (the cell supernet's :class:`SearchConfig` and the
    blueprint search's ``BlueprintConfig``): data split, schedule, the weights' SGD, alpha's Adam,
    the relaxation and the cost penalties' weights. Subclasses add their space's settings and may
    change defaults; ``__post_init__`` validates the shared ones (bad values raise ValueError)."""

    # data
    data: str = "digits"
    val_fraction: float = 0.5
    data_limit: int | None = None
    # schedule
    epochs: int = 10
    warmup_epochs: int = 0
    batch_size: int = 64
    # weights w (SGD, cosine-annealed learning rate)
    w_lr: float = 0.05
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float = 5.0
    # alpha (Adam)
    order: int = 1
    alpha_lr: float = 3e-2  # DARTS uses 3e-4 for ~20k steps; a CPU demo makes a few hundred
    alpha_weight_decay: float = 1e-3
    xi: float | None = None  # unrolled step size; None: the current w learning rate
    # relaxation
    mode: str = "softmax"  # softmax | gumbel | hard
    tau_start: float = 1.0
    tau_end: float = 1.0
    tau_schedule: str = "constant"
    sparsity: float = 0.0
    # cost penalties: hinge max(0, E[cost] - budget)^2 and lam * E[cost]
    budget: float | None = None
    budget_weight: float = 1.0
    lam: float = 0.0
    surgery: bool = False
    # misc
    seed: int = 0
    threads: int | None = 1  # tiny models: one thread is as fast and does not fight for shared cores
    verbose: bool = True

    min_data_limit = 4  # class constants (not fields): what a subclass's data needs
    zero_budget_ok = True

    def _check_int(self, name: str, minimum: int = 1) -> None:
        v = getattr(self, name)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")

    def _check_nonneg(self, name: str, strict: bool = False) -> None:
        v = getattr(self, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (strict and v == 0):
            raise ValueError(f"{name} must be a {'positive' if strict else 'non-negative'} number, got {v!r}")

    def __post_init__(self) -> None:
        for n in ("epochs", "batch_size"):
            self._check_int(n)
        self._check_int("warmup_epochs", 0)
        self._check_int("seed", 0)
        if self.threads is not None:
            self._check_int("threads")
        if self.data_limit is not None:
            self._check_int("data_limit", self.min_data_limit)
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be smaller than epochs ({self.epochs})")
        for n in ("w_lr", "alpha_lr"):
            self._check_nonneg(n, strict=True)
        for n in ("w_lr_min", "w_momentum", "w_weight_decay", "grad_clip", "alpha_weight_decay", "sparsity",
                  "budget_weight", "lam"):
            self._check_nonneg(n)
        if self.xi is not None:
            self._check_nonneg("xi")
        if self.budget is not None:
            self._check_nonneg("budget", strict=not self.zero_budget_ok)
        if self.order not in (1, 2):
            raise ValueError(f"order must be 1 (first-order) or 2 (second-order, unrolled), got {self.order!r}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; expected one of {list(MODES)}")
        TemperatureSchedule(self.tau_start, self.tau_end, self.tau_schedule)  # validates
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")

    @property
    def schedule(self) -> TemperatureSchedule:
        return TemperatureSchedule(self.tau_start, self.tau_end, self.tau_schedule)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchConfig(BilevelConfig):
    """Every setting of a supernet search: :class:`BilevelConfig`'s, the supernet's size, the
    degeneracy guard and the NB201 cost. Defaults: a CPU demo on 8x8 digits (C=8, N=1, 10 epochs)
    in under a minute on one core."""

    # supernet
    C: int = 8
    N: int = 1
    # degeneracy guard
    guard: bool = True
    min_param: int = 1
    guard_weight: float = 1.0
    guard_target: float | None = None  # None: penalty -log P(guard); p in (0,1): hinge, zero while P >= p
    # cost: budget and lam (weight of E[latency] in ms) are BilevelConfig's
    cost_dataset: str = "cifar10"
    budget_metric: str = "latency"

    def __post_init__(self) -> None:
        super().__post_init__()
        for n in ("C", "N"):
            self._check_int(n)
        self._check_nonneg("guard_weight")
        check_min_param(self.min_param)
        if self.guard_target is not None and not (isinstance(self.guard_target, (int, float))
                                                  and 0 < self.guard_target < 1):
            raise ValueError(f"guard_target must be a probability in (0, 1) or None, got {self.guard_target!r}")
        if self.budget_metric not in COST_METRICS:
            raise ValueError(f"unknown budget metric {self.budget_metric!r}; expected one of {list(COST_METRICS)}")


# ---------------------------------------------------------------------------------- penalties
def sparsity_penalty(p: torch.Tensor) -> torch.Tensor:
    """L1 norm of each edge's mixing weights minus their largest one, summed over edges.

    Rows of p lie on the simplex, where the plain L1 norm is constant (1); the L1 mass *outside*
    the dominant op is what sparsity has to remove. Zero exactly for one-hot rows.
    """
    return (p.abs().sum(-1) - p.abs().max(-1).values).sum()


@dataclass
class Penalties:
    """The alpha-side regularisers; ``cost_tables`` maps metric -> fitted table."""

    sparsity: float = 0.0
    guard: bool = True
    min_param: int = 1
    guard_weight: float = 1.0
    budget: float | None = None
    budget_metric: str = "latency"
    budget_weight: float = 1.0
    lam: float = 0.0
    cost_tables: dict[str, CostTable] = field(default_factory=dict)
    guard_target: float | None = None

    def regulariser(self, p: torch.Tensor) -> torch.Tensor:
        r = p.new_zeros(())
        if self.sparsity > 0:
            r = r + self.sparsity * sparsity_penalty(p)
        if self.guard and self.guard_weight > 0:
            r = r + self.guard_weight * guard_penalty(p, self.min_param, target=self.guard_target)
        return r

    def cost(self, p: torch.Tensor) -> torch.Tensor | None:
        c = None
        if self.budget is not None and self.budget_weight > 0:
            c = self.budget_weight * hinge_budget(self.cost_tables[self.budget_metric].expected(p), self.budget)
        if self.lam > 0:
            t = self.lam * self.cost_tables["latency"].expected(p)
            c = t if c is None else c + t
        return c


# ---------------------------------------------------------------------------------- architect
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

    def __init__(self, model: Supernet, *, order: int = 1, lr: float = 3e-3, betas=(0.5, 0.999),
                 weight_decay: float = 1e-3, penalties: Penalties | None = None, surgery: bool = False,
                 w_weight_decay: float = 0.0, fd_eps: float = 0.01):
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        self.model = model
        self.order = order
        self.penalties = penalties or Penalties(guard=False)
        self.surgery = surgery
        self.w_weight_decay = w_weight_decay
        if not fd_eps > 0:
            raise ValueError(f"fd_eps must be positive, got {fd_eps!r}")
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


# ---------------------------------------------------------------------------------- the search
def _entropy(p: np.ndarray) -> float:
    return float(-(p * np.log(np.clip(p, 1e-12, None))).sum(-1).mean())


def run_search(config: SearchConfig | None = None, data=None, bench=None, progress: bool | None = None):
    """Run one search. ``data``: None (``config.data``), an (X, y) pair or a torch Dataset.

    ``bench``: an ``NB201Benchmark`` for cost tables (default ``NB201Benchmark(config.cost_dataset)``;
    loaded only when a cost term is on).
    """
    from .result import SearchResult

    cfg = config or SearchConfig()
    progress = cfg.verbose if progress is None else progress
    splits: Splits = make_splits(cfg.data if data is None else data, cfg.val_fraction, cfg.seed, cfg.data_limit)
    tables: dict[str, CostTable] = {}
    if cfg.budget is not None or cfg.lam > 0:
        if bench is None:
            from benchmarks.nb201 import NB201Benchmark

            bench = NB201Benchmark(cfg.cost_dataset)
        metrics = ({cfg.budget_metric} if cfg.budget is not None else set()) | ({"latency"} if cfg.lam > 0 else set())
        tables = {m: fit_cost_table(bench, m) for m in sorted(metrics)}
    penalties = Penalties(cfg.sparsity, cfg.guard, cfg.min_param, cfg.guard_weight, cfg.budget, cfg.budget_metric,
                          cfg.budget_weight, cfg.lam, tables, cfg.guard_target)
    old_threads = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            return _search(cfg, splits, penalties, progress, SearchResult)
    finally:
        torch.set_num_threads(old_threads)


def _search(cfg: SearchConfig, splits: Splits, penalties: Penalties, progress: bool, SearchResult):
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model = Supernet(cfg.C, cfg.N, splits.num_classes, splits.in_channels)
    w_opt = torch.optim.SGD(model.weight_parameters(), lr=cfg.w_lr, momentum=cfg.w_momentum,
                            weight_decay=cfg.w_weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, cfg.epochs, eta_min=cfg.w_lr_min)
    architect = Architect(model, order=cfg.order, lr=cfg.alpha_lr, weight_decay=cfg.alpha_weight_decay,
                          penalties=penalties, surgery=cfg.surgery, w_weight_decay=cfg.w_weight_decay)
    steps = max(1, math.ceil(len(splits.x_train) / cfg.batch_size))
    temps = cfg.schedule
    history: list[dict] = []
    alpha_rows: list[dict] = []

    def record(epoch: int, tau: float, extra: dict) -> None:
        a = model.alpha.detach().double()
        prior = torch.softmax(a, -1).numpy()
        mix = torch.softmax(a / tau, -1).numpy()
        for e in range(N_EDGES):
            for o in range(N_OPS):
                alpha_rows.append({"epoch": epoch, "edge": e, "op": OPS[o], "weight": float(prior[e, o]),
                                   "mixing_weight": float(mix[e, o]), "alpha": float(a[e, o])})
        cell = Cell(tuple(int(i) for i in prior.argmax(-1)))
        row = {"epoch": epoch, "tau": tau, "entropy": _entropy(prior), "mixing_entropy": _entropy(mix),
               "skip_none_share": float(prior[:, [SKIP, NONE]].sum() / N_EDGES),
               "argmax_cell": str(cell), "argmax_skip_none_edges": sum(o in (SKIP, NONE) for o in cell.ops),
               "argmax_has_parametric_path": cell.has_parametric_path(),
               "soft_guard": float(soft_guard(torch.as_tensor(prior), cfg.min_param))}
        for m, t in penalties.cost_tables.items():
            row[f"expected_{m}"] = float(t.expected(torch.as_tensor(prior)))
        row.update(extra)
        history.append(row)
        if progress:
            tqdm.write(f"epoch {epoch:3d} tau {tau:.3f}  argmax {cell}  " +
                       "  ".join(f"{k} {v:.4g}" for k, v in extra.items() if isinstance(v, float)))
            tqdm.write(format_alpha(prior))

    record(0, temps(0, cfg.epochs), {})
    bar = tqdm(total=cfg.epochs * steps, desc="supernet search", unit="step", disable=not progress)
    for epoch in range(cfg.epochs):
        tau = temps(epoch, cfg.epochs)
        t0 = time.perf_counter()
        stats, arch_logs = bilevel_epoch(
            model, architect, w_opt, splits, cfg, gen, steps=steps, noise_shape=(N_EDGES, N_OPS),
            mixing=lambda alpha, noise, tau=tau: mixing_weights(alpha, tau, cfg.mode, noise),
            probs=lambda alpha, tau=tau: torch.softmax(alpha / tau if cfg.mode == "softmax" else alpha, -1),
            search_alpha=epoch >= cfg.warmup_epochs, bar=bar)
        sched.step()
        seconds = time.perf_counter() - t0
        val_acc = evaluate(model, splits.x_val, splits.y_val, tau, cfg.mode)
        cos = [a["cos"] for a in arch_logs if not math.isnan(a["cos"])]
        extra = {"train_loss": stats["train_loss"], "train_acc": stats["train_acc"], "val_acc": val_acc,
                 "seconds": seconds, "w_lr": stats["w_lr"],
                 "mean_cos": float(np.mean(cos)) if cos else float("nan"),
                 "conflict_share": float(np.mean([c < 0 for c in cos])) if cos else float("nan")}
        bar.set_postfix(val_acc=f"{val_acc:.1f}", tau=f"{tau:.2f}")
        record(epoch + 1, tau, extra)
    bar.close()
    return SearchResult(alpha=model.alpha.detach().double().numpy().copy(), config=cfg.to_dict(), history=history,
                        alpha_history=alpha_rows, cost_tables=penalties.cost_tables, data_name=splits.name,
                        model=model)


def bilevel_epoch(model, architect: Architect, w_opt, splits: Splits, cfg, gen: torch.Generator, *, steps: int,
                  noise_shape: tuple[int, ...], mixing, probs, search_alpha: bool, bar=None) -> tuple[dict, list[dict]]:
    """One epoch of the bilevel loop, shared by the cell supernet and the blueprint search.

    Per step: an alpha step on a validation batch (``architect.step``, skipped while
    ``search_alpha`` is False, i.e. during warm-up), then a weight step on a training batch.
    ``mixing(alpha, noise) -> (weights, hard)`` and ``probs(alpha)`` give the relaxation of the
    space at this epoch's temperature; Gumbel noise of ``noise_shape`` is drawn from ``gen`` unless
    ``cfg.mode`` is softmax. Returns ({train_loss, train_acc, w_lr}, the architect's step logs).
    """
    model.train()
    n_tr, n_va = len(splits.x_train), len(splits.x_val)
    perm_tr = torch.randperm(n_tr, generator=gen)
    perm_va = torch.randperm(n_va, generator=gen)
    w_lr = w_opt.param_groups[0]["lr"]
    xi = w_lr if cfg.xi is None else cfg.xi
    tot_loss = tot_correct = tot_n = 0.0
    logs: list[dict] = []
    for s in range(steps):
        idx = perm_tr[s * cfg.batch_size:(s + 1) * cfg.batch_size]
        vdx = perm_va[(s * cfg.batch_size) % n_va:][:cfg.batch_size]
        if len(vdx) == 0:
            vdx = perm_va[:cfg.batch_size]
        xb, yb = splits.x_train[idx], splits.y_train[idx]
        noise = sample_gumbel(noise_shape, gen) if cfg.mode != "softmax" else None
        if search_alpha:
            logs.append(architect.step((xb, yb), (splits.x_val[vdx], splits.y_val[vdx]),
                                       lambda alpha, _noise=noise: mixing(alpha, _noise), probs, xi))
        noise_w = sample_gumbel(noise_shape, gen) if cfg.mode != "softmax" else None
        with torch.no_grad():
            weights, hard = mixing(model.alpha, noise_w)
        w_opt.zero_grad(set_to_none=True)
        logits = model(xb, weights, hard)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        model.alpha.grad = None
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.weight_parameters(), cfg.grad_clip)
        w_opt.step()
        tot_loss += float(loss.detach()) * len(yb)
        tot_correct += float((logits.argmax(-1) == yb).sum())
        tot_n += len(yb)
        if bar is not None:
            bar.update()
    return {"train_loss": tot_loss / tot_n, "train_acc": 100 * tot_correct / tot_n, "w_lr": w_lr}, logs


@torch.no_grad()
def evaluate_mixed(model, x: torch.Tensor, y: torch.Tensor, weights, batch_size: int = 256) -> float:
    """Accuracy (%) of a mixed network under fixed mixing ``weights``.

    BatchNorm uses batch statistics (the running averages lag behind a supernet whose mixing
    changes every step); the running buffers are restored afterwards.
    """
    saved = {n: b.clone() for n, b in model.named_buffers()}
    was = model.training
    model.train()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size], weights).argmax(-1) == y[i:i + batch_size]).sum())
    for n, b in model.named_buffers():
        b.copy_(saved[n])
    model.train(was)
    return 100.0 * correct / len(x)


def evaluate(model: Supernet, x: torch.Tensor, y: torch.Tensor, tau: float = 1.0, mode: str = "softmax",
             batch_size: int = 256) -> float:
    """Accuracy (%) of the supernet with ``softmax(alpha / tau)`` mixing (``tau = 1`` for the sampling modes)."""
    weights = torch.softmax(model.alpha.detach() / (tau if mode == "softmax" else 1.0), -1)
    return evaluate_mixed(model, x, y, weights, batch_size)


def format_alpha(p: np.ndarray) -> str:
    """A small table: one line per edge, the op probabilities in OPS order."""
    from boed_nas.space import EDGES

    head = "  edge     " + " ".join(f"{o[:12]:>12}" for o in OPS)
    lines = [head]
    for e, (to, src) in enumerate(EDGES):
        lines.append(f"  {to}<-{src}     " + " ".join(f"{v:12.3f}" for v in p[e]))
    return "\n".join(lines)
