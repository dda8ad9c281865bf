"""The NAS-Bench-201 network in PyTorch: its five cell ops and the macro skeleton.

Skeleton (NB201 paper, Fig. 1): a 3x3 conv stem with C channels, three stages of N cells at
C, 2C and 4C channels joined by residual reduction blocks (stride 2), then BN-ReLU, global
average pooling and a linear classifier. A cell node is the sum of its incoming edges' ops.

The parameter count of ``NB201Network(cell, C=16, N=5, num_classes=10)`` equals NB201's
``params`` for every cell (a test checks it against the shipped table), which pins the skeleton.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..errors import ConfigError, SpaceError
from .space import N_NODES, OPS, Cell


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv(k x k, no bias) -> BatchNorm: NB201's ``nor_conv_kxk``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class Zero(nn.Module):
    """The ``none`` op: outputs zeros of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def _pool(c: int, affine: bool) -> nn.Module:
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


OP_FACTORIES: dict[str, Callable[[int, bool], nn.Module]] = {
    "none": lambda c, affine: Zero(),
    "skip_connect": lambda c, affine: nn.Identity(),
    "nor_conv_1x1": lambda c, affine: ReLUConvBN(c, c, 1, affine=affine),
    "nor_conv_3x3": lambda c, affine: ReLUConvBN(c, c, 3, affine=affine),
    "avg_pool_3x3": _pool,
}
assert tuple(OP_FACTORIES) == OPS, "OP_FACTORIES must follow space.OPS"


def make_op(op: int | str, channels: int, affine: bool = True) -> nn.Module:
    name = OPS[op] if isinstance(op, int) else op
    if name not in OP_FACTORIES:
        raise SpaceError(f"unknown op {op!r}; expected one of {list(OPS)}")
    return OP_FACTORIES[name](channels, affine)


class ResNetBasicBlock(nn.Module):
    """NB201's reduction block: two ReLUConvBN 3x3 (the first strided) plus a pooled 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class CellModule(nn.Module):
    """A discrete NB201 cell: node j = sum over i < j of op_{j<-i}(node i)."""

    def __init__(self, cell: Cell, channels: int):
        super().__init__()
        self.cell = cell
        self.edges = nn.ModuleList(make_op(o, channels) for o in cell.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for j in range(1, N_NODES):
            nodes.append(sum(self.edges[k + i](nodes[i]) for i in range(j)))
            k += j
        return nodes[-1]


class NB201Network(nn.Module):
    """The NB201 macro skeleton around one cell (or, via ``cell_factory``, any cell module)."""

    def __init__(
        self,
        cell: Cell | None,
        C: int = 16,
        N: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
        cell_factory: Callable[[int], nn.Module] | None = None,
    ):
        super().__init__()
        if cell is None and cell_factory is None:
            raise ConfigError("NB201Network needs a cell or a cell_factory")
        if C < 1 or N < 1 or num_classes < 1:
            raise ConfigError(f"C, N and num_classes must be positive, got C={C}, N={N}, num_classes={num_classes}")
        factory = cell_factory or (lambda c: CellModule(cell, c))
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        c = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c))
                c *= 2
            layers.extend(factory(c) for _ in range(N))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x)
        x = self.global_pooling(self.lastact(x)).flatten(1)
        return self.classifier(x)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass as counted by ``torch.utils.flop_counter.FlopCounterMode``.

    FlopCounterMode counts 2 FLOPs per multiply-add of convolutions and matrix products and
    nothing for BN, ReLU, pooling or additions. Runs on the meta device, so no arithmetic is done.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = model.to("meta")
    x = torch.empty(input_shape, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())
