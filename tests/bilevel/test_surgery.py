"""Gradient surgery between the accuracy and the cost gradient (boed_nas.bilevel.surgery)."""

from __future__ import annotations

import math

import pytest
import torch

from boed_nas.bilevel import pcgrad


def test_surgery_leaves_agreeing_gradients_unchanged():
    a, c = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([0.5, 0.0, 1.0])
    g, cos = pcgrad(a, c)
    assert cos > 0 and torch.equal(g, a + c)
    g, cos = pcgrad(a, torch.tensor([0.0, 0.0, 3.0]))  # orthogonal: no conflict either
    assert cos == 0 and torch.equal(g, a + torch.tensor([0.0, 0.0, 3.0]))


def test_surgery_removes_the_conflicting_component():
    a, c = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    g, cos = pcgrad(a, c)
    assert cos == pytest.approx(-1 / math.sqrt(2))
    a_proj = a - (a @ c) / (c @ c) * c
    c_proj = c - (c @ a) / (a @ a) * a
    assert float(a_proj @ c) == pytest.approx(0.0) and float(c_proj @ a) == pytest.approx(0.0)
    assert torch.allclose(g, a_proj + c_proj) and torch.allclose(g, torch.tensor([0.5, 1.5]))
