"""Mixed operations: a weighted sum of candidate modules, with channel adapters for mixed widths.

A :class:`MixedOp` is the weighted sum of its candidate ops, the weights one row of the mixing
weights computed from the architecture logits ``alpha``. Candidates whose output width differs
from the op's common width go through a learnable 1x1 :class:`ChannelAdapter` first, so a mixed op
can also mix *widths* (:func:`width_candidates`). A model searched by a bilevel search holds its
logits in one parameter ``alpha`` (:class:`ArchitectureParameters`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from boed_nas.nb201.network import ReLUConvBN

from ..errors import ConfigError


class ChannelAdapter(nn.Module):
    """A learnable 1x1 projection (conv + BN) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        if c_in < 1 or c_out < 1:
            raise ConfigError(f"adapter channels must be positive, got {c_in} -> {c_out}")
        self.c_in, self.c_out = c_in, c_out
        self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class MixedOp(nn.Module):
    """``sum_k w_k * adapt_k(op_k(x))`` over candidate ops.

    Parameters
    ----------
    candidates:
        The candidate modules.
    width:
        The common output width.
    out_channels:
        Each candidate's output width (default: all ``width``). A candidate whose width differs
        gets a :class:`ChannelAdapter` to ``width``; ``adapters[k]`` is ``None`` where none is needed.
    """

    def __init__(self, candidates: Sequence[nn.Module], width: int, out_channels: Sequence[int] | None = None):
        super().__init__()
        if len(candidates) == 0:
            raise ConfigError("a mixed op needs at least one candidate")
        out_channels = [width] * len(candidates) if out_channels is None else list(out_channels)
        if len(out_channels) != len(candidates):
            raise ConfigError(f"{len(candidates)} candidates but {len(out_channels)} output widths")
        self.width = width
        self.ops = nn.ModuleList(candidates)
        self.adapters = nn.ModuleList(
            nn.Identity() if c == width else ChannelAdapter(c, width) for c in out_channels
        )
        self.out_channels = tuple(out_channels)

    def candidate(self, k: int, x: torch.Tensor) -> torch.Tensor:
        return self.adapters[k](self.ops[k](x))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, hard_index: int | None = None) -> torch.Tensor:
        """Mix with ``weights`` (shape ``(len(candidates),)``).

        ``hard_index`` (GDAS): run only that candidate, scaled by its (straight-through) weight; the
        other weights still enter the sum as zeros so their gradient reaches alpha.
        """
        if weights.shape != (len(self.ops),):
            raise ConfigError(f"expected {len(self.ops)} mixing weights, got shape {tuple(weights.shape)}")
        if hard_index is not None:
            out = weights[hard_index] * self.candidate(hard_index, x)
            # GDAS: the unsampled weights are ~0 in value but pass the output's gradient on to alpha
            others = [weights[k] for k in range(len(self.ops)) if k != hard_index]
            return out + torch.stack(others).sum() if others else out
        return sum(weights[k] * self.candidate(k, x) for k in range(len(self.ops)))


def width_candidates(c_in: int, widths: Sequence[int], width: int, kernel: int = 3) -> MixedOp:
    """A mixed op choosing the width of a ReLU-conv-BN among ``widths``; adapters project to ``width``."""
    widths = list(widths)
    if not widths or any(int(w) < 1 for w in widths):
        raise ConfigError(f"widths must be positive integers, got {widths!r}")
    return MixedOp([ReLUConvBN(c_in, int(w), kernel) for w in widths], width, out_channels=widths)


class ArchitectureParameters:
    """The split a bilevel search needs: architecture logits ``alpha`` (one parameter) vs network weights."""

    alpha: nn.Parameter

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def named_weight_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.named_parameters() if n != "alpha"]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for _, p in self.named_weight_parameters()]
