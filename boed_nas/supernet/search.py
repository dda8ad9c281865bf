"""Supernet search over the NB201 cell: weights on the training split, alpha on the validation split.

:class:`SearchConfig` holds every setting (validated: bad values raise ``ConfigError``);
:func:`search_supernet` runs the bilevel loop of ``boed_nas.bilevel`` (the architect's first- or
second-order gradient on alpha, the penalties of :class:`CellPenalties`: sparsity, the degeneracy
guard, a hinge budget and lambda * E[latency], optional PCGrad surgery) and returns a
:class:`~boed_nas.supernet.result.SearchResult`.

Everything random comes from ``config.seed``: the model is initialised inside
``torch.random.fork_rng`` (the global torch RNG is left as it was) and batches and Gumbel noise
come from a private ``torch.Generator``; the same seed gives the same result on CPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..bilevel.architect import Architect, Penalties
from ..bilevel.config import BilevelConfig
from ..bilevel.data import Splits, make_splits
from ..bilevel.loop import bilevel_epoch, evaluate_mixed
from ..bilevel.relaxation import mixing_weights
from ..errors import ConfigError
from ..nb201.benchmark import NB201Benchmark
from ..nb201.space import EDGES, N_EDGES, N_OPS, NONE, OPS, SKIP, Cell
from ..settings import setting
from .cost import COST_METRICS, CostTable, fit_cost_table
from .guard import check_min_param, guard_penalty, soft_guard
from .ops import Supernet
from .result import SearchResult


@dataclass
class SearchConfig(BilevelConfig):
    """Every setting of a supernet search: :class:`BilevelConfig`'s, the supernet's size, the
    degeneracy guard and the NB201 cost. Defaults: a CPU demo on 8x8 digits (C=8, N=1, 10 epochs)
    in under a minute on one core."""

    # supernet
    C: int = setting(8, "channels of the first stage", group="supernet", flag="--C")
    N: int = setting(1, "cells per stage", group="supernet", flag="--N")
    # degeneracy guard
    guard: bool = setting(True, "the degeneracy guard, in search (a penalty) and at discretisation",
                          group="degeneracy guard")
    min_param: int = setting(1, "convolutions required on the deepest live input-output path",
                             group="degeneracy guard")
    guard_weight: float = setting(1.0, "weight of the guard penalty -log P(guard holds)", group="degeneracy guard")
    guard_target: float | None = setting(None, "make the guard penalty a hinge, zero while P(guard holds) >= this "
                                               "probability", group="degeneracy guard")
    # cost: budget and lam (weight of E[latency] in ms) are BilevelConfig's
    cost_dataset: str = setting("cifar10", "NB201 dataset whose latency / FLOPs / params define the costs",
                                group="cost")
    budget_metric: str = setting("latency", "latency (ms), flops_M or params_M, fitted per op to the NB201 table",
                                 group="cost", choices=tuple(COST_METRICS))

    def __post_init__(self) -> None:
        super().__post_init__()
        for n in ("C", "N"):
            self._check_int(n)
        self._check_nonneg("guard_weight")
        check_min_param(self.min_param)
        if self.guard_target is not None and not (isinstance(self.guard_target, (int, float))
                                                  and 0 < self.guard_target < 1):
            raise ConfigError(f"guard_target must be a probability in (0, 1) or None, got {self.guard_target!r}")
        if self.budget_metric not in COST_METRICS:
            raise ConfigError(f"unknown budget metric {self.budget_metric!r}; expected one of {list(COST_METRICS)}")


@dataclass(kw_only=True)
class CellPenalties(Penalties):
    """The supernet's alpha-side terms: ``Penalties``' budget hinge and lambda * E[latency] from the
    per-op cost tables fitted to NB201 (``cost_tables``: metric -> table), sparsity per edge, and the
    degeneracy guard's penalty."""

    cost_tables: dict[str, CostTable] = field(default_factory=dict)
    guard: bool = True
    min_param: int = 1
    guard_weight: float = 1.0
    guard_target: float | None = None

    def expected(self, p: torch.Tensor, metric: str) -> torch.Tensor:
        return self.cost_tables[metric].expected(p)

    def extra_regulariser(self, p: torch.Tensor) -> torch.Tensor | None:
        if self.guard and self.guard_weight > 0:
            return self.guard_weight * guard_penalty(p, self.min_param, target=self.guard_target)
        return None


# ---------------------------------------------------------------------------------- the search
def _entropy(p: np.ndarray) -> float:
    return float(-(p * np.log(np.clip(p, 1e-12, None))).sum(-1).mean())


def search_supernet(config: SearchConfig | None = None, data=None, bench=None, progress: bool | None = None
                    ) -> SearchResult:
    """Run one search. ``data``: None (``config.data``), an (X, y) pair or a torch Dataset.

    ``bench``: an ``NB201Benchmark`` for cost tables (default ``NB201Benchmark(config.cost_dataset)``;
    loaded only when a cost term is on).
    """
    cfg = config or SearchConfig()
    progress = cfg.verbose if progress is None else progress
    splits: Splits = make_splits(cfg.data if data is None else data, cfg.val_fraction, cfg.seed, cfg.data_limit)
    tables: dict[str, CostTable] = {}
    if cfg.budget is not None or cfg.lam > 0:
        if bench is None:
            bench = NB201Benchmark(cfg.cost_dataset)
        metrics = ({cfg.budget_metric} if cfg.budget is not None else set()) | ({"latency"} if cfg.lam > 0 else set())
        tables = {m: fit_cost_table(bench, m) for m in sorted(metrics)}
    penalties = CellPenalties(sparsity=cfg.sparsity, budget=cfg.budget, budget_metric=cfg.budget_metric,
                              budget_weight=cfg.budget_weight, lam=cfg.lam, lam_metric="latency", cost_tables=tables,
                              guard=cfg.guard, min_param=cfg.min_param, guard_weight=cfg.guard_weight,
                              guard_target=cfg.guard_target)
    old_threads = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            return _search(cfg, splits, penalties, progress)
    finally:
        torch.set_num_threads(old_threads)


def _search(cfg: SearchConfig, splits: Splits, penalties: CellPenalties, progress: bool) -> SearchResult:
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


def evaluate(model: Supernet, x: torch.Tensor, y: torch.Tensor, tau: float = 1.0, mode: str = "softmax",
             batch_size: int = 256) -> float:
    """Accuracy (%) of the supernet with ``softmax(alpha / tau)`` mixing (``tau = 1`` for the sampling modes)."""
    weights = torch.softmax(model.alpha.detach() / (tau if mode == "softmax" else 1.0), -1)
    return evaluate_mixed(model, x, y, weights, batch_size)


def format_alpha(p: np.ndarray) -> str:
    """A small table: one line per edge, the op probabilities in OPS order."""
    head = "  edge     " + " ".join(f"{o[:12]:>12}" for o in OPS)
    lines = [head]
    for e, (to, src) in enumerate(EDGES):
        lines.append(f"  {to}<-{src}     " + " ".join(f"{v:12.3f}" for v in p[e]))
    return "\n".join(lines)
