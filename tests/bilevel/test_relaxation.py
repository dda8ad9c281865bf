"""Mixing weights from logits and the temperature schedule (boed_nas.bilevel.relaxation)."""

from __future__ import annotations

import pytest
import torch

from boed_nas.bilevel import TemperatureSchedule, mixing_weights, sample_gumbel
from boed_nas.nb201.space import N_EDGES, N_OPS
from boed_nas.supernet import Supernet

torch.set_num_threads(1)


def test_hard_mode_samples_one_op_per_edge_and_passes_gradient_to_alpha():
    alpha = torch.zeros(N_EDGES, N_OPS, requires_grad=True)
    g = torch.Generator().manual_seed(0)

    w, hard = mixing_weights(alpha, 1.0, "hard", sample_gumbel((N_EDGES, N_OPS), g))
    assert len(hard) == N_EDGES and torch.allclose(w.detach().sum(-1), torch.ones(N_EDGES))
    assert torch.allclose(w.detach().max(-1).values, torch.ones(N_EDGES))
    sup = Supernet(C=2, N=1, num_classes=3, in_channels=1)
    sup(torch.randn(2, 1, 8, 8), w, hard).sum().backward()
    assert alpha.grad is not None and alpha.grad.abs().sum() > 0


def test_annealing_makes_the_weights_sharper():
    sched = TemperatureSchedule(5.0, 0.1, "exp")
    taus = [sched(e, 10) for e in range(10)]
    assert taus[0] == pytest.approx(5.0) and taus[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(taus, taus[1:]))
    lin = TemperatureSchedule(2.0, 0.5, "linear")
    assert lin(0, 5) == 2.0 and lin(4, 5) == 0.5 and lin(2, 5) == pytest.approx(1.25)
    alpha = torch.randn(N_EDGES, N_OPS, generator=torch.Generator().manual_seed(1))
    ent = []
    for tau in taus:
        p, _ = mixing_weights(alpha, tau)
        ent.append(float(-(p * p.log()).sum(-1).mean()))
        assert torch.allclose(p.sum(-1), torch.ones(N_EDGES))
    assert all(a > b for a, b in zip(ent, ent[1:]))
    assert max(p.max(-1).values) > 0.99  # cold: nearly one-hot
