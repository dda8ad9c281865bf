"""Mixed operations, channel adapters and the NB201 supernet.

Every edge of every cell is a :class:`MixedOp`: the weighted sum of its candidate ops, the weights
being a row of the (6 x 5) mixing-weight matrix computed from the architecture logits ``alpha``
(an ``nn.Parameter`` in ``space.OPS`` order). Candidates whose output width differs from the
edge's common width go through a learnable 1x1 :class:`ChannelAdapter` first, so a mixed op can
also mix *widths* (see :func:`width_candidates`); the NB201 ops all keep the width, so the cell
search itself needs no adapter.

The macro skeleton is ``boed_nas.network.NB201Network`` with a ``cell_factory`` that builds
:class:`MixedCell` s; :class:`Supernet` only adds ``alpha`` and passes the weights to the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from boed_nas.network import NB201Network, ReLUConvBN, make_op
from boed_nas.space import N_EDGES, N_NODES, N_OPS, OPS

MODES = ("softmax", "gumbel", "hard")
"""How mixing weights come from alpha: a tempered softmax, a Gumbel-softmax sample (soft), or a
GDAS-style hard one-hot sample with a straight-through gradient (only the sampled op is run)."""


class ChannelAdapter(nn.Module):
    """A learnable 1x1 projection (conv + BN) from ``c_in`` to ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        if c_in < 1 or c_out < 1:
            raise ValueError(f"adapter channels must be positive, got {c_in} -> {c_out}")
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
            raise ValueError("a mixed op needs at least one candidate")
        out_channels = [width] * len(candidates) if out_channels is None else list(out_channels)
        if len(out_channels) != len(candidates):
            raise ValueError(f"{len(candidates)} candidates but {len(out_channels)} output widths")
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
            raise ValueError(f"expected {len(self.ops)} mixing weights, got shape {tuple(weights.shape)}")
        if hard_index is not None:
            out = weights[hard_index] * self.candidate(hard_index, x)
            # GDAS: the unsampled weights are ~0 in value but pass the output's gradient on to alpha
            others = [weights[k] for k in range(len(self.ops)) if k != hard_index]
            return out + torch.stack(others).sum() if others else out
        return sum(weights[k] * self.candidate(k, x) for k in range(len(self.ops)))


def nb201_mixed_op(channels: int, ops: Sequence[str] = OPS, affine: bool = False) -> MixedOp:
    """A mixed op over NB201 ops (default all five, in ``OPS`` order)."""
    for name in ops:
        if name not in OPS:
            raise ValueError(f"unknown op {name!r}; expected one of {list(OPS)}")
    return MixedOp([make_op(name, channels, affine=affine) for name in ops], channels)


def width_candidates(c_in: int, widths: Sequence[int], width: int, kernel: int = 3) -> MixedOp:
    """A mixed op choosing the width of a ReLU-conv-BN among ``widths``; adapters project to ``width``."""
    widths = list(widths)
    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"widths must be positive integers, got {widths!r}")
    return MixedOp([ReLUConvBN(c_in, int(w), kernel) for w in widths], width, out_channels=widths)


class MixedCell(nn.Module):
    """An NB201 cell whose 6 edges are mixed ops: node j = sum_i mixed_{j<-i}(node i)."""

    def __init__(self, channels: int, affine: bool = False):
        super().__init__()
        self.edges = nn.ModuleList(nb201_mixed_op(channels, affine=affine) for _ in range(N_EDGES))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, hard: Sequence[int] | None = None) -> torch.Tensor:
        nodes = [x]
        k = 0
        for j in range(1, N_NODES):
            terms = [self.edges[k + i](nodes[i], weights[k + i], None if hard is None else hard[k + i])
                     for i in range(j)]
            nodes.append(sum(terms))
            k += j
        return nodes[-1]


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
        raise ValueError(f"temperature must be positive, got {tau!r}")
    if mode not in MODES:
        raise ValueError(f"unknown mixing mode {mode!r}; expected one of {list(MODES)}")
    if mode == "softmax":
        return F.softmax(alpha / tau, dim=-1), None
    if gumbel is None:
        raise ValueError(f"mode {mode!r} needs Gumbel noise")
    soft = F.softmax((alpha + gumbel) / tau, dim=-1)
    if mode == "gumbel":
        return soft, None
    index = soft.argmax(dim=-1)
    hard = F.one_hot(index, alpha.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft, [int(i) for i in index]


def sample_gumbel(shape: Sequence[int], generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    u = torch.rand(tuple(shape), generator=generator, dtype=dtype).clamp_(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(u))


class ArchitectureParameters:
    """The split a bilevel search needs: architecture logits ``alpha`` (one parameter) vs network weights."""

    alpha: nn.Parameter

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha]

    def named_weight_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.named_parameters() if n != "alpha"]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for _, p in self.named_weight_parameters()]


class Supernet(ArchitectureParameters, nn.Module):
    """The NB201 skeleton (stem, 3 stages of N mixed cells, residual reductions, head) plus alpha.

    ``forward(x, weights=None, hard=None)``: ``weights`` (6 x 5) default to ``softmax(alpha)``.
    """

    def __init__(self, C: int = 8, N: int = 1, num_classes: int = 10, in_channels: int = 1, affine: bool = False):
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1 or in_channels < 1:
            raise ValueError(f"C, N, num_classes and in_channels must be positive, got C={C}, N={N}, "
                             f"num_classes={num_classes}, in_channels={in_channels}")
        self.C, self.N, self.num_classes, self.in_channels = C, N, num_classes, in_channels
        self.net = NB201Network(None, C=C, N=N, num_classes=num_classes, in_channels=in_channels,
                                cell_factory=lambda c: MixedCell(c, affine=affine))
        self.alpha = nn.Parameter(1e-3 * torch.randn(N_EDGES, N_OPS))

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None,
                hard: Sequence[int] | None = None) -> torch.Tensor:
        if weights is None:
            weights = F.softmax(self.alpha, dim=-1)
        net = self.net
        x = net.stem(x)
        for layer in net.cells:
            x = layer(x, weights, hard) if isinstance(layer, MixedCell) else layer(x)
        x = net.global_pooling(net.lastact(x)).flatten(1)
        return net.classifier(x)
