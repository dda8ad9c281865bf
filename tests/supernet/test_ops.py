"""The NB201 supernet (boed_nas.supernet.ops): mixed ops and the supernet of mixed cells."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from boed_nas.nb201.network import NB201Network
from boed_nas.nb201.space import N_OPS, Cell
from boed_nas.supernet import Supernet, nb201_mixed_op

torch.set_num_threads(1)


@pytest.mark.parametrize("k", range(N_OPS))
def test_mixed_op_with_one_hot_weights_is_that_op(k):
    torch.manual_seed(0)
    mixed = nb201_mixed_op(4)
    x = torch.randn(3, 4, 6, 6)
    w = F.one_hot(torch.tensor(k), N_OPS).float()
    assert torch.allclose(mixed(x, w), mixed.ops[k](x), atol=1e-6)
    assert torch.allclose(mixed(x, w, hard_index=k), mixed.ops[k](x), atol=1e-6)
    assert all(isinstance(a, torch.nn.Identity) for a in mixed.adapters)  # NB201 ops keep the width


def test_supernet_with_one_hot_alpha_equals_the_discrete_network():
    cell = Cell.from_str("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    torch.manual_seed(0)
    sup = Supernet(C=4, N=2, num_classes=5, in_channels=1, affine=True)
    net = NB201Network(cell, C=4, N=2, num_classes=5, in_channels=1)
    src = sup.net.state_dict()
    state = {}
    for name in net.state_dict():
        parts = name.split(".")
        if parts[0] == "cells" and parts[2] == "edges":
            e = int(parts[3])
            state[name] = src[".".join(parts[:4] + ["ops", str(cell.ops[e])] + parts[4:])]
        else:
            state[name] = src[name]
    net.load_state_dict(state)
    x = torch.randn(4, 1, 8, 8)
    w = F.one_hot(torch.tensor(cell.ops), N_OPS).float()
    assert torch.allclose(sup(x, w), net(x), atol=1e-5)
