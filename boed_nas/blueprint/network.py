"""The discrete network of a blueprint and the blueprint supernet (mixed kernels, widths and depth gates).

Discrete (:class:`BlueprintNetwork`): stem Conv3x3-BN, then per stage a layer
``ReLU-Conv(k, stride)-BN`` to the stage width followed by the kept residual blocks
``x + ReLU-Conv(k)-BN(x)``, then BN-ReLU, global average pooling and a linear classifier.

Supernet (:class:`BlueprintSupernet`): every layer is a ``supernet.ops.MixedOp`` over all (kernel,
width) candidates, GoogLeNet-style parallel branches whose outputs are summed with the mixing
weights ``p_kernel[k] * p_width[w]``; a candidate narrower than the stage's common width (its
largest candidate) goes through a learnable 1x1 ``ChannelAdapter`` to the common width, so every
candidate's output has the same shape. An optional block is a :class:`GatedBlock`,
``x + g * block(x)`` with ``g = P(keep)`` from the block's gate logits: ``g = 0`` is the network
without the block, ``g = 1`` the network with it. All architecture logits are one flat parameter
``alpha`` laid out as :meth:`BlueprintSpace.groups` says, so the supernet ``Architect`` (which
optimises ``model.alpha``) drives this supernet unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from boed_nas.nb201.network import ReLUConvBN

from ..bilevel.mixed import ArchitectureParameters, MixedOp
from ..bilevel.relaxation import mixing_weights
from ..errors import ConfigError
from .space import Blueprint, BlueprintSpace, ChoiceGroup


def make_layer(c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True) -> nn.Module:
    """The one conv layer of the space (a candidate op): ReLU -> Conv(k x k, same padding) -> BN."""
    return ReLUConvBN(c_in, c_out, kernel, stride=stride, affine=affine)


def make_stem(in_channels: int, channels: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))


class ResidualBlock(nn.Module):
    """``x + body(x)``: an optional block of a blueprint that was kept."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Head(nn.Module):
    """BN-ReLU, global average pooling and the linear classifier."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.lastact(x)).flatten(1))


class BlueprintNetwork(nn.Module):
    """The discrete network of ``blueprint`` in ``space`` (bypassed blocks are absent)."""

    def __init__(self, blueprint: Blueprint | str, space: BlueprintSpace | None = None):
        super().__init__()
        space = space or BlueprintSpace()
        bp = space.parse(blueprint)
        self.blueprint, self.space = bp, space
        self.stem = make_stem(space.in_channels, space.stem_channels)
        stages = []
        c = space.stem_channels
        for s, st in enumerate(space.stages):
            w = bp.widths[s]
            kept = bp.kept_kernels(s)
            layers = [make_layer(c, w, kept[0], st.stride)]
            layers += [ResidualBlock(make_layer(w, w, k)) for k in kept[1:]]
            stages.append(nn.Sequential(*layers))
            c = w
        self.stages = nn.ModuleList(stages)
        self.head = Head(c, space.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)


# ------------------------------------------------------------------------------------ relaxation
def group_probs(alpha: torch.Tensor, groups: Sequence[ChoiceGroup], tau: float = 1.0) -> torch.Tensor:
    """``softmax(alpha / tau)`` within each choice group, concatenated (the flat layout of alpha)."""
    if not tau > 0:
        raise ConfigError(f"temperature must be positive, got {tau!r}")
    return torch.cat([torch.softmax(alpha[g.slice] / tau, -1) for g in groups])


def group_mixing(alpha: torch.Tensor, groups: Sequence[ChoiceGroup], tau: float = 1.0, mode: str = "softmax",
                 gumbel: torch.Tensor | None = None) -> tuple[torch.Tensor, list[int] | None]:
    """Mixing weights per group (``supernet.ops.mixing_weights`` applied group by group), concatenated;
    in ``hard`` mode also the sampled option of every group."""
    parts, hard = [], []
    for g in groups:
        noise = None if gumbel is None else gumbel[g.slice].unsqueeze(0)
        w, h = mixing_weights(alpha[g.slice].unsqueeze(0), tau, mode, noise)
        parts.append(w[0])
        if h is not None:
            hard.append(h[0])
    return torch.cat(parts), (hard if mode == "hard" else None)


class GatedBlock(nn.Module):
    """A depth gate around an optional block: ``x + g * block(x)``; g = 0 bypasses it, g = 1 keeps it."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor, gate: torch.Tensor, *args) -> torch.Tensor:
        if not gate.requires_grad and float(gate) == 0.0:  # a bypassed block on a fixed path (single-path
            return x                                        # training, an estimate): nothing to compute
        return x + gate * self.block(x, *args)


class BlueprintSupernet(ArchitectureParameters, nn.Module):
    """All blueprints of ``space`` in one network; ``alpha`` is the flat vector of all choice logits.

    ``forward(x, weights=None, hard=None)``: ``weights`` is a flat probability vector in the layout of
    ``space.groups()`` (default: per-group ``softmax(alpha)``); ``hard`` (GDAS) one sampled option per
    group, so each layer runs only its sampled (kernel, width) candidate.
    """

    def __init__(self, space: BlueprintSpace | None = None, affine: bool = False):
        super().__init__()
        space = space or BlueprintSpace()
        self.space = space
        self.groups = space.groups()
        self._gidx = {(g.kind, g.stage, g.layer): i for i, g in enumerate(self.groups)}
        self.stem = make_stem(space.in_channels, space.stem_channels)
        c_in = space.stem_channels
        stages = []
        for st in space.stages:
            W = st.common_width
            layers = []
            for ell in range(st.depth):
                stride = st.stride if ell == 0 else 1
                cands = [make_layer(c_in if ell == 0 else W, w, k, stride, affine=affine)
                         for k in space.kernels for w in st.widths]  # index = kernel index * n_widths + width index
                mixed = MixedOp(cands, W, out_channels=[w for _ in space.kernels for w in st.widths])
                layers.append(mixed if ell == 0 else GatedBlock(mixed))
            stages.append(nn.ModuleList(layers))
            c_in = W
        self.stages = nn.ModuleList(stages)
        self.head = Head(c_in, space.num_classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(space.n_logits))

    def probs(self, tau: float = 1.0) -> torch.Tensor:
        return group_probs(self.alpha, self.groups, tau)

    def candidate_index(self, stage: int, kernel_index: int, width_index: int) -> int:
        return kernel_index * len(self.space.stages[stage].widths) + width_index

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None = None,
                hard: Sequence[int] | None = None) -> torch.Tensor:
        if weights is None:
            weights = group_probs(self.alpha, self.groups)
        if weights.shape != (self.space.n_logits,):
            raise ConfigError(f"expected a flat weight vector of {self.space.n_logits} entries, got {tuple(weights.shape)}")
        gi = self._gidx
        x = self.stem(x)
        for s, layers in enumerate(self.stages):
            i_w = gi[("width", s, None)]
            p_w = weights[self.groups[i_w].slice]
            for ell, layer in enumerate(layers):
                i_k = gi[("kernel", s, ell)]
                p_k = weights[self.groups[i_k].slice]
                mix = (p_k[:, None] * p_w[None, :]).reshape(-1)
                h = None if hard is None else self.candidate_index(s, hard[i_k], hard[i_w])
                if ell == 0:
                    x = layer(x, mix, h)
                else:
                    gate = weights[self.groups[gi[("gate", s, ell)]].slice][1]  # P(keep)
                    x = layer(x, gate, mix, h)
        return self.head(x)

    @torch.no_grad()
    def inherit(self, blueprint: Blueprint | str) -> BlueprintNetwork:
        """The discrete network of ``blueprint`` with the supernet's weights for its chosen candidates.

        Only blueprints whose every width is its stage's common (largest) width map weight for weight:
        a narrower candidate is followed by an adapter in the supernet, which the discrete network does
        not have. ConfigError otherwise.
        """
        bp = self.space.parse(blueprint)
        for s, st in enumerate(self.space.stages):
            if bp.widths[s] != st.common_width:
                raise ConfigError(f"inherit needs every stage at its common width {st.common_width}; stage {s} has "
                                 f"width {bp.widths[s]} (its candidates pass through an adapter in the supernet)")
        net = BlueprintNetwork(bp, self.space)
        net.stem.load_state_dict(self.stem.state_dict())
        net.head.load_state_dict(self.head.state_dict())
        for s, st in enumerate(self.space.stages):
            wi = st.widths.index(bp.widths[s])
            j = 0
            for ell, k in enumerate(bp.kernels[s]):
                if k is None:
                    continue
                layer = self.stages[s][ell]
                mixed = layer if ell == 0 else layer.block
                src = mixed.ops[self.candidate_index(s, self.space.kernels.index(k), wi)]
                dst = net.stages[s][j] if j == 0 else net.stages[s][j].body
                _copy_layer(src, dst)
                j += 1
        return net


def _copy_layer(src: nn.Module, dst: nn.Module) -> None:
    """Copy a ReLUConvBN's conv weight and BN statistics (and BN affine parameters where both have them)."""
    dst[1].weight.copy_(src[1].weight)
    sb, db = src[2], dst[2]
    db.running_mean.copy_(sb.running_mean)
    db.running_var.copy_(sb.running_var)
    db.num_batches_tracked.copy_(sb.num_batches_tracked)
    if db.affine:
        if sb.affine:
            db.weight.copy_(sb.weight)
            db.bias.copy_(sb.bias)
        else:
            db.weight.fill_(1.0)
            db.bias.zero_()
