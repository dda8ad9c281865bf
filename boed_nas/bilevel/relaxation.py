"""The continuous relaxation of a discrete choice: mixing weights from architecture logits.

``mixing_weights(alpha, tau, mode)`` turns logits into weights on the simplex: a tempered softmax
(DARTS), a Gumbel-softmax sample (soft), or a GDAS-style hard one-hot sample with a
straight-through gradient; ``TemperatureSchedule`` anneals ``tau`` over epochs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError

MODES = ("softmax", "gumbel", "hard")
"""How mixing weights come from alpha: a tempered softmax, a Gumbel-softmax sample (soft), or a
GDAS-style hard one-hot sample with a straight-through gradient (only the sampled op is run)."""

SCHEDULES = ("constant", "linear", "exp")


def mixing_weights(
    alpha: torch.Tensor,
    tau: float = 1.0,
    mode: str = "softmax",
    gumbel: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[int] | None]:
    """Mixing weights (same shape as alpha, rows on the simplex) and, in ``hard`` mode, the sampled ops.

    ``gumbel``: Gumbel(0, 1) noise of alpha's shape for the ``gumbel`` and ``hard`` modes (drawn by
    the caller from its own generator, so a step can reuse one sample).
    """
    if not tau > 0:
        raise ConfigError(f"temperature must be positive, got {tau!r}")
    if mode not in MODES:
        raise ConfigError(f"unknown mixing mode {mode!r}; expected one of {list(MODES)}")
    if mode == "softmax":
        return F.softmax(alpha / tau, dim=-1), None
    if gumbel is None:
        raise ConfigError(f"mode {mode!r} needs Gumbel noise")
    soft = F.softmax((alpha + gumbel) / tau, dim=-1)
    if mode == "gumbel":
        return soft, None
    index = soft.argmax(dim=-1)
    hard = F.one_hot(index, alpha.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft, [int(i) for i in index]


def sample_gumbel(shape: Sequence[int], generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    u = torch.rand(tuple(shape), generator=generator, dtype=dtype).clamp_(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(u))


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
                raise ConfigError(f"temperature {name} must be a positive number, got {v!r}")
        if self.kind not in SCHEDULES:
            raise ConfigError(f"unknown temperature schedule {self.kind!r}; expected one of {list(SCHEDULES)}")

    def __call__(self, epoch: int, epochs: int) -> float:
        if self.kind == "constant" or epochs <= 1:
            return float(self.start)
        t = min(max(epoch / (epochs - 1), 0.0), 1.0)
        if self.kind == "linear":
            return float(self.start + (self.end - self.start) * t)
        return float(self.start * (self.end / self.start) ** t)
