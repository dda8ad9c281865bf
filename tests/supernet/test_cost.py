"""Per-op cost tables fitted to NB201 (boed_nas.supernet.cost)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from boed_nas.nb201.space import N_EDGES, N_OPS, NONE, PARAMETRIC_OPS, SKIP, Cell
from boed_nas.supernet import fit_cost_table

torch.set_num_threads(1)


def test_cost_table_fit_and_expected_cost(bench):
    t = fit_cost_table(bench, "latency")
    assert t.table.shape == (N_EDGES, N_OPS) and np.all(t.table[:, NONE] == 0)
    assert t.r2 > 0.9 and t.mape < 10
    conv = sorted(PARAMETRIC_OPS)
    assert (t.table[:, conv].min(1) > t.table[:, [SKIP]].max(1)).all()  # convs cost more than skips
    cells = [Cell.from_code(c) for c in (0, 1234, 15624)]
    for c in cells:
        w = F.one_hot(torch.tensor(c.ops), N_OPS).double()
        assert float(t.expected(w)) == pytest.approx(float(t.predict([c])[0]))
    p = fit_cost_table(bench, "params_M")
    assert p.r2 > 0.99


def test_cost_fit_refuses_a_constant_column():
    class Fake:
        dataset = "fake"
        flops_M = np.zeros(15625)

    with pytest.raises(ValueError, match="constant"):
        fit_cost_table(Fake(), "flops_M")
    with pytest.raises(ValueError, match="unknown cost metric"):
        fit_cost_table(Fake(), "energy")
