"""The NB201 supernet: every edge of every cell a mixed op over the five NB201 ops.

Every edge of every cell is a ``boed_nas.bilevel.mixed.MixedOp``: the weighted sum of its
candidate ops, the weights being a row of the (6 x 5) mixing-weight matrix computed from the
architecture logits ``alpha`` (an ``nn.Parameter`` in ``space.OPS`` order).

The macro skeleton is ``boed_nas.nb201.network.NB201Network`` with a ``cell_factory`` that builds
:class:`MixedCell` s; :class:`Supernet` only adds ``alpha`` and passes the weights to the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..bilevel.mixed import ArchitectureParameters, MixedOp
from ..errors import ConfigError, SpaceError
from ..nb201.network import NB201Network, make_op
from ..nb201.space import N_EDGES, N_NODES, N_OPS, OPS


def nb201_mixed_op(channels: int, ops: Sequence[str] = OPS, affine: bool = False) -> MixedOp:
    """A mixed op over NB201 ops (default all five, in ``OPS`` order)."""
    for name in ops:
        if name not in OPS:
            raise SpaceError(f"unknown op {name!r}; expected one of {list(OPS)}")
    return MixedOp([make_op(name, channels, affine=affine) for name in ops], channels)


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


class Supernet(ArchitectureParameters, nn.Module):
    """The NB201 skeleton (stem, 3 stages of N mixed cells, residual reductions, head) plus alpha.

    ``forward(x, weights=None, hard=None)``: ``weights`` (6 x 5) default to ``softmax(alpha)``.
    """

    def __init__(self, C: int = 8, N: int = 1, num_classes: int = 10, in_channels: int = 1, affine: bool = False):
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1 or in_channels < 1:
            raise ConfigError(f"C, N, num_classes and in_channels must be positive, got C={C}, N={N}, "
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
