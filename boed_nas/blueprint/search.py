"""Bilevel blueprint search: supernet weights on the training split, choice logits on the validation split.

The machinery is the cell supernet's, ``boed_nas.bilevel``: the ``Architect`` (first-order or
unrolled second-order gradient on ``model.alpha``, Adam, optional PCGrad surgery between the
accuracy and the cost gradient), ``TemperatureSchedule`` for annealing, ``mixing_weights``
(softmax, Gumbel-softmax or GDAS hard sampling, here applied per choice group) and the bilevel
loop. Only the penalties are the space's own: :class:`BlueprintPenalties` takes the expected cost
from the exact per-candidate tables of :class:`~boed_nas.blueprint.cost.BlueprintCosts`::

    budget_weight * max(0, E[cost] - B)^2 / B^2  +  lam * E[lam_metric]

(the hinge of the supernet issue, divided by B^2 so that one weight suits any budget: it is the
same hinge on the cost measured in units of the budget).

Everything random comes from ``config.seed`` (the data split, the model's initialisation inside
``torch.random.fork_rng``, batches and Gumbel noise from a private generator).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..bilevel.architect import Architect, Penalties, sparsity_penalty
from ..bilevel.config import BilevelConfig
from ..bilevel.data import Splits, make_splits
from ..bilevel.loop import bilevel_epoch, evaluate_mixed
from ..errors import ConfigError
from ..settings import setting
from .cost import (
    EXACT_METRICS,
    METRICS,
    BlueprintCosts,
    load_latency_table,
    measure_latency_table,
)
from .discretise import argmax_blueprint, check_feasible
from .network import BlueprintSupernet, group_mixing, group_probs
from .result import BlueprintSearchResult
from .space import (
    DEFAULT_KERNELS,
    DIGITS_STAGES,
    BlueprintSpace,
    parse_kernels,
    parse_stages,
)

DEFAULT_STAGES = ";".join(f"{','.join(map(str, s.widths))}:{s.depth}:{s.stride}" for s in DIGITS_STAGES)


@dataclass
class BlueprintConfig(BilevelConfig):
    """Every setting of a blueprint search (and of the retraining that follows it):
    ``BilevelConfig``'s (with the defaults below), the space, the cost metrics and retraining."""

    # space (stages as "w,w,w:depth:stride;...")
    stages: str = setting(DEFAULT_STAGES, "stages as 'w,w:depth:stride;...' (layer 0 mandatory, depth-1 gated "
                                          "blocks)", group="space")
    kernels: tuple[int, ...] = setting(DEFAULT_KERNELS, "kernel sizes per layer, comma-separated", group="space")
    stem_channels: int = setting(8, "channels of the stem", group="space")
    # data: a share held out for reported test accuracy
    test_fraction: float = setting(0.2, "share held out from search, for the reported test accuracy",
                                   group="data and run")
    # schedule and alpha: defaults of their own
    epochs: int = 8
    warmup_epochs: int = 1
    alpha_lr: float = 0.1  # a CPU demo makes ~80 alpha steps; logits must separate for the argmax to mean much
    tau_end: float = 0.1  # anneal hard: E[cost] under softmax(alpha / tau) then tracks the argmax's cost
    tau_schedule: str = "exp"
    # cost: the hinge on an exactly counted metric, lam on any
    budget_metric: str = setting("flops_M", "the exactly counted metric of the hard budget: the derived "
                                            "blueprint's counted cost never exceeds the budget", group="cost",
                                 choices=EXACT_METRICS)
    lam_metric: str = setting("latency", "latency (ms, a lookup table measured on this machine), flops_M or "
                                         "params_M", group="cost", choices=tuple(METRICS))
    latency_table: str | None = setting(None, "CSV from tools/measure_blueprint_latency.py; none: "
                                              "measured when lambda needs it", group="cost")
    # retraining from scratch
    retrain_epochs: int = setting(20, "epochs to retrain the derived network (and the baseline) from scratch",
                                  group="retraining")
    retrain_lr: float = setting(0.05, "learning rate of the retraining", group="retraining")

    min_data_limit = 8
    zero_budget_ok = False  # the hinge is divided by B^2

    def __post_init__(self) -> None:
        if isinstance(self.kernels, str):
            self.kernels = parse_kernels(self.kernels)
        self.kernels = tuple(self.kernels)
        BlueprintSpace(parse_stages(self.stages), self.kernels, self.stem_channels)  # validates stages and kernels
        super().__post_init__()
        for n in ("stem_channels", "retrain_epochs"):
            self._check_int(n)
        self._check_nonneg("retrain_lr", strict=True)
        if self.budget_metric not in EXACT_METRICS:
            raise ConfigError(f"budget_metric must be an exactly counted metric, one of {list(EXACT_METRICS)}; got "
                             f"{self.budget_metric!r} (latency enters through lam)")
        if self.lam_metric not in METRICS:
            raise ConfigError(f"unknown lam_metric {self.lam_metric!r}; expected one of {list(METRICS)}")
        if not 0 <= self.test_fraction < 1:
            raise ConfigError(f"test_fraction must be in [0, 1), got {self.test_fraction!r}")

    def make_space(self, splits: Splits) -> BlueprintSpace:
        return BlueprintSpace(parse_stages(self.stages), self.kernels, self.stem_channels,
                              in_channels=splits.in_channels, num_classes=splits.num_classes,
                              input_size=tuple(int(v) for v in splits.x_train.shape[-2:]))

    def needs_latency(self) -> bool:
        return self.lam > 0 and self.lam_metric == "latency"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kernels"] = list(self.kernels)
        return d


@functools.lru_cache(maxsize=8)
def space_costs(space: BlueprintSpace) -> BlueprintCosts:
    """The exact cost tables of a space (FlopCounterMode on every candidate; cached per space)."""
    return BlueprintCosts(space)


# ---------------------------------------------------------------------------------- penalties
@dataclass
class BlueprintPenalties(Penalties):
    """The blueprint search's alpha-side terms: ``Penalties``' with the expected costs of the exact
    per-candidate tables (``costs``), the hinge in units of the budget (divided by B^2, so one
    weight suits any budget) and sparsity summed over the choice groups."""

    costs: BlueprintCosts
    budget_metric: str = field(default="flops_M", kw_only=True)
    groups: tuple = field(init=False, default=())

    def __post_init__(self) -> None:
        self.groups = self.costs.space.groups()

    def expected(self, p: torch.Tensor, metric: str) -> torch.Tensor:
        return self.costs.expected(p, metric)

    def hinge_scale(self) -> float:
        return self.budget ** 2

    def sparsity_term(self, p: torch.Tensor) -> torch.Tensor:
        r = p.new_zeros(())
        for g in self.groups:
            r = r + sparsity_penalty(p[g.slice].unsqueeze(0))
        return r


# ---------------------------------------------------------------------------------- the search
def search_blueprint(config: BlueprintConfig | None = None, data=None, progress: bool | None = None,
                     splits: Splits | None = None) -> BlueprintSearchResult:
    """One bilevel search; returns a :class:`~boed_nas.blueprint.result.BlueprintSearchResult`.

    ``data``: None (``config.data``), an (X, y) pair or a torch Dataset, split by ``config``'s
    fractions with ``config.seed``. ``splits``: a ready :class:`~boed_nas.bilevel.data.Splits`
    instead, e.g. the very split the trainings a search is compared with use (the weights train on
    its training split, alpha on its validation split; its test split is never read here).
    """
    cfg = config or BlueprintConfig()
    progress = cfg.verbose if progress is None else progress
    if splits is not None and data is not None:
        raise ConfigError("pass data or splits to search_blueprint, not both")
    if splits is not None and not isinstance(splits, Splits):
        raise ConfigError(f"splits must be a boed_nas.bilevel.data.Splits, got {type(splits).__name__}")
    if splits is None:
        splits = make_splits(cfg.data if data is None else data, cfg.val_fraction, cfg.seed, cfg.data_limit,
                             cfg.test_fraction)
    space = cfg.make_space(splits)
    costs = space_costs(space)
    latency = None
    if cfg.latency_table is not None:
        latency = load_latency_table(cfg.latency_table)
    elif cfg.needs_latency():
        latency = measure_latency_table(space, min_run_time=0.01, threads=1, progress=progress)
    if latency is not None:
        costs = costs.with_latency(latency)
    if cfg.budget is not None:
        check_feasible(costs, cfg.budget, cfg.budget_metric)
    penalties = BlueprintPenalties(costs=costs, sparsity=cfg.sparsity, budget=cfg.budget, budget_metric=cfg.budget_metric,
                                   budget_weight=cfg.budget_weight, lam=cfg.lam, lam_metric=cfg.lam_metric)
    old = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            t0 = time.perf_counter()
            model, history, rows = _search(cfg, space, splits, penalties, progress)
            seconds = time.perf_counter() - t0
    finally:
        torch.set_num_threads(old)
    return BlueprintSearchResult(alpha=model.alpha.detach().double().numpy().copy(), space=space, costs=costs,
                                 config=cfg.to_dict(), history=history, alpha_history=rows, splits=splits,
                                 model=model, search_seconds=seconds, data_name=splits.name)


def _search(cfg: BlueprintConfig, space: BlueprintSpace, splits: Splits, penalties: BlueprintPenalties,
            progress: bool):
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model = BlueprintSupernet(space)
    groups = space.groups()
    w_opt = torch.optim.SGD(model.weight_parameters(), lr=cfg.w_lr, momentum=cfg.w_momentum,
                            weight_decay=cfg.w_weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, cfg.epochs, eta_min=cfg.w_lr_min)
    architect = Architect(model, order=cfg.order, lr=cfg.alpha_lr, weight_decay=cfg.alpha_weight_decay,
                          penalties=penalties, surgery=cfg.surgery, w_weight_decay=cfg.w_weight_decay)
    steps = max(1, math.ceil(len(splits.x_train) / cfg.batch_size))
    temps = cfg.schedule
    costs = penalties.costs
    history: list[dict] = []
    rows: list[dict] = []

    def record(epoch: int, tau: float, extra: dict) -> None:
        a = model.alpha.detach().double()
        prior = group_probs(a, groups)
        mix = group_probs(a, groups, tau)
        for g in groups:
            for i, o in enumerate(g.options):
                rows.append({"epoch": epoch, "group": g.name, "kind": g.kind, "stage": g.stage, "layer": g.layer,
                             "option": o, "prob": float(prior[g.start + i]), "mixing_weight": float(mix[g.start + i]),
                             "alpha": float(a[g.start + i])})
        bp = argmax_blueprint(a.numpy(), space)
        row = {"epoch": epoch, "tau": tau, "argmax_blueprint": str(bp),
               "argmax_flops_M": costs.of(bp, "flops_M"), "argmax_params_M": costs.of(bp, "params_M"),
               "entropy": float(np.mean([-(prior[g.slice] * prior[g.slice].clamp_min(1e-12).log()).sum() for g in groups]))}
        for m in costs.metrics:
            row[f"expected_{m}"] = float(costs.expected(prior, m))
        row.update(extra)
        history.append(row)
        if progress:
            tqdm.write(f"epoch {epoch:3d} tau {tau:.3f}  argmax {bp} ({row['argmax_flops_M']:.3f} MFLOPs)  E[MFLOPs] "
                       f"{row['expected_flops_M']:.3f}  " +
                       "  ".join(f"{k} {v:.4g}" for k, v in extra.items() if isinstance(v, float)))

    record(0, temps(0, cfg.epochs), {})
    bar = tqdm(total=cfg.epochs * steps, desc="blueprint search", unit="step", disable=not progress)
    for epoch in range(cfg.epochs):
        tau = temps(epoch, cfg.epochs)
        t0 = time.perf_counter()
        stats, logs = bilevel_epoch(
            model, architect, w_opt, splits, cfg, gen, steps=steps, noise_shape=(space.n_logits,),
            mixing=lambda alpha, noise, tau=tau: group_mixing(alpha, groups, tau, cfg.mode, noise),
            probs=lambda alpha, tau=tau: group_probs(alpha, groups, tau if cfg.mode == "softmax" else 1.0),
            search_alpha=epoch >= cfg.warmup_epochs, bar=bar)
        sched.step()
        seconds = time.perf_counter() - t0
        val_acc = evaluate_supernet(model, splits.x_val, splits.y_val, tau if cfg.mode == "softmax" else 1.0)
        cos = [a["cos"] for a in logs if not math.isnan(a["cos"])]
        extra = {"train_loss": stats["train_loss"], "train_acc": stats["train_acc"], "supernet_val_acc": val_acc,
                 "seconds": seconds, "w_lr": stats["w_lr"],
                 "cost_penalty": float(np.mean([a.get("cost_penalty", 0.0) for a in logs])) if logs else 0.0,
                 "mean_cos": float(np.mean(cos)) if cos else float("nan")}
        bar.set_postfix(val_acc=f"{val_acc:.1f}", tau=f"{tau:.2f}")
        record(epoch + 1, tau, extra)
    bar.close()
    return model, history, rows


def evaluate_supernet(model: BlueprintSupernet, x: torch.Tensor, y: torch.Tensor, tau: float = 1.0,
                      batch_size: int = 256) -> float:
    """Accuracy (%) of the mixed network, weights ``softmax(alpha / tau)`` per group (see ``evaluate_mixed``)."""
    return evaluate_mixed(model, x, y, group_probs(model.alpha.detach(), model.groups, tau), batch_size)
