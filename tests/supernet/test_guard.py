"""The degeneracy guard (boed_nas.supernet.guard): a parametric path from input to output."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from boed_nas.nb201.space import N_EDGES, N_OPS, PARAMETRIC_OPS, SKIP, Cell, all_cells
from boed_nas.supernet import (
    SearchConfig,
    guard_penalty,
    parametric_depth,
    passes_guard,
    soft_guard,
)

torch.set_num_threads(1)


def test_parametric_depth_agrees_with_has_parametric_path():
    for cell in itertools.islice(all_cells(), 0, 15625, 7):
        assert (parametric_depth(cell) >= 1) == cell.has_parametric_path()
        assert passes_guard(cell, 1) == cell.has_parametric_path()


def test_soft_guard_is_exact_for_one_hot_weights():
    rng = np.random.default_rng(0)
    for code in list(rng.integers(0, 15625, 150)) + [0, 1, 15624]:
        cell = Cell.from_code(int(code))
        w = F.one_hot(torch.tensor(cell.ops), N_OPS).double()
        for m in (1, 2, 3):
            assert float(soft_guard(w, m)) == float(passes_guard(cell, m))


def test_guard_penalty_pulls_alpha_away_from_collapse():
    alpha = torch.zeros(N_EDGES, N_OPS)
    alpha[:, SKIP] = 4.0
    alpha.requires_grad_(True)
    before = float(soft_guard(torch.softmax(alpha.detach(), -1)))
    guard_penalty(torch.softmax(alpha, -1)).backward()
    conv = sorted(PARAMETRIC_OPS)
    assert (alpha.grad[:, conv] < 0).all()  # descent raises the convolutions
    with torch.no_grad():
        after = float(soft_guard(torch.softmax(alpha - 5 * alpha.grad, -1)))
    assert after > before


def test_guard_target_makes_the_penalty_a_hinge():
    uniform = torch.full((N_EDGES, N_OPS), 1 / N_OPS)
    p_uniform = float(soft_guard(uniform))  # ~0.89 for min_param=1
    assert float(guard_penalty(uniform, target=0.5)) == 0.0
    assert float(guard_penalty(uniform)) == pytest.approx(-math.log(p_uniform))
    collapsed = torch.softmax(torch.eye(N_OPS)[[SKIP] * N_EDGES] * 5, -1)
    p_c = float(soft_guard(collapsed))
    assert float(guard_penalty(collapsed, target=0.5)) == pytest.approx(math.log(0.5) - math.log(p_c), rel=1e-5)
    with pytest.raises(ValueError, match="guard target"):
        guard_penalty(uniform, target=1.5)
    with pytest.raises(ValueError, match="guard_target"):
        SearchConfig(guard_target=0.0)
