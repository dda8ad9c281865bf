"""Mixed ops and channel adapters (boed_nas.bilevel.mixed)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from boed_nas.bilevel import width_candidates

torch.set_num_threads(1)


def test_channel_adapters_project_candidates_to_the_common_width():
    torch.manual_seed(0)
    mixed = width_candidates(3, [2, 4, 6], width=4)
    assert isinstance(mixed.adapters[1], torch.nn.Identity)
    assert mixed.adapters[0].c_in == 2 and mixed.adapters[2].c_in == 6
    x = torch.randn(2, 3, 5, 5)
    for k in range(3):
        w = F.one_hot(torch.tensor(k), 3).float()
        out = mixed(x, w)
        assert out.shape == (2, 4, 5, 5)
        assert torch.allclose(out, mixed.adapters[k](mixed.ops[k](x)), atol=1e-6)
    w = torch.tensor([0.2, 0.3, 0.5])
    out = mixed(x, w)
    out.sum().backward()
    assert mixed.adapters[0].proj[0].weight.grad is not None
