"""Signals at initialisation: computed from the network alone, seeded, and as the formulas say."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from boed_nas.errors import ConfigError
from boed_nas.nb201 import signals as S
from boed_nas.nb201.network import NB201Network, count_params
from boed_nas.nb201.space import Cell

# cheap networks: no convolution in the cell (half a CPU-second each)
CHEAP = Cell.from_str("|skip_connect~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|avg_pool_3x3~1|skip_connect~2|")
ZERO = Cell((0,) * 6)  # the output of every cell is zero: the network ignores its input


def test_a_cell_gets_its_signals_with_the_results_table_unavailable(monkeypatch):
    from boed_nas.nb201 import benchmark

    def unavailable(*a, **kw):
        raise AssertionError("the signals read the results table")

    monkeypatch.setattr(benchmark, "load_table", unavailable)
    got = S.cell_signals(CHEAP, seed=0)
    assert list(got) == list(S.SIGNALS)
    assert all(isinstance(v, float) and math.isfinite(v) for v in got.values())
    net = NB201Network(CHEAP, C=16, N=5, num_classes=10)
    assert got["params"] == count_params(net)  # the benchmark's network, at the benchmark's size


@pytest.fixture(scope="module")
def cheap():
    return S.cell_signals(CHEAP, seed=0)


def test_signals_are_deterministic_for_a_seed_and_leave_the_global_rng_alone(cheap):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = S.cell_signals(CHEAP, seed=0)
    assert torch.equal(torch.get_rng_state(), state)
    assert a == cheap
    b = S.cell_signals(CHEAP, seed=1)  # other weights and another probe batch
    assert b["params"] == a["params"] and b["flops"] == a["flops"]
    assert b["snip"] != a["snip"] and b["synflow"] != a["synflow"]
    # the weights are seeded by (seed, cell code): an isomorphic cell with another code gets others
    w0 = S.build_network(CHEAP, 0).stem[0].weight
    assert torch.equal(w0, S.build_network(CHEAP, 0).stem[0].weight)
    assert not torch.equal(w0, S.build_network(Cell((3,) * 6), 0).stem[0].weight)


def test_probe_batch_is_digits_upsampled_to_three_channel_images_with_labels():
    x, y = S.probe_batch(0)
    assert x.shape == (64, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (64,)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    assert set(y.tolist()) <= set(range(10)) and len(set(y.tolist())) >= 8
    x2, y2 = S.probe_batch(0)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(S.probe_batch(1)[1], y)
    assert S.probe_batch(0, n=8, input_shape=(1, 16, 16))[0].shape == (8, 1, 16, 16)
    with pytest.raises(ConfigError, match="square"):
        S.probe_batch(0, input_shape=(3, 16, 32))


def test_synflow_is_the_log_of_the_conserved_synaptic_flow_of_a_hand_computed_network():
    # |W1| = [[1, 2], [3, 4]], |W2| = [[1, 2]], input ones: h = [3, 7], R = 17, and each layer's
    # sum of |theta dR/dtheta| equals R (synaptic flow is conserved layer by layer): 17 + 17
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.BatchNorm1d(2), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
        net[2].weight.copy_(torch.tensor([[-1.0, 2.0]]))
        net[1].running_var.fill_(100.0)  # ignored: BatchNorm is removed
    assert S.synflow(net, (2,)) == pytest.approx(math.log1p(34.0), rel=1e-12)
    assert net[0].weight[0, 1] == -2.0 and isinstance(net[1], nn.BatchNorm1d)  # the network is unchanged


def test_a_network_that_ignores_its_input_gets_finite_worst_scores(cheap):
    zero = S.cell_signals(ZERO)
    assert all(math.isfinite(v) for v in zero.values())
    assert zero["synflow"] == 0.0 and zero["snip"] == 0.0 and zero["grad_norm"] == 0.0
    for name in ("synflow", "snip", "grad_norm", "jacob_cov", "naswot"):
        assert zero[name] < cheap[name], name


def test_network_signals_take_any_built_network_and_input_shape():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(4, 10))
    before = [p.detach().clone() for p in net.parameters()]
    got = S.network_signals(net, (1, 16, 16), seed=0)
    assert list(got) == list(S.SIGNALS) and all(math.isfinite(v) for v in got.values())
    assert got["params"] == sum(p.numel() for p in net.parameters())
    assert got["flops"] == 2 * (16 * 16 * 4 * 9) + 2 * 40  # the conv's and the linear layer's multiply-adds
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert all(p.device.type == "cpu" for p in net.parameters())


def test_signal_table_has_one_row_per_cell_and_the_signal_columns(cheap):
    df = S.signal_table([CHEAP, str(CHEAP)], seed=0, progress=False)
    assert list(df.columns) == ["code", *S.SIGNALS] and df["code"].tolist() == [CHEAP.code] * 2
    assert df.iloc[0, 1:].to_dict() == cheap


def test_the_shipped_table_absent_is_a_config_error_naming_the_command(monkeypatch, tmp_path):
    class Missing:
        def joinpath(self, name):
            return tmp_path / name

    monkeypatch.setattr(S.resources, "files", lambda package: Missing())
    S.load_signals.cache_clear()
    try:
        with pytest.raises(ConfigError, match="python -m tools.build_nb201_signals"):
            S.load_signals()
        # a table that is there is read, indexed by code
        pd.DataFrame({"code": [5, 1], "synflow": [1.0, 2.0]}).to_csv(tmp_path / S.SIGNALS_FILE, index=False,
                                                                     compression="gzip")
        S.load_signals.cache_clear()
        got = S.load_signals()
        assert got.index.tolist() == [1, 5] and np.allclose(got["synflow"], [2.0, 1.0])
    finally:
        S.load_signals.cache_clear()
