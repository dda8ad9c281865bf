"""The supernet-fed strategies: boed-supernet (BOED controller with supernet proposals and prior) and darts."""

import numpy as np
import pytest

from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import make_strategy
from boed_nas.strategy import Strategy
from boed_nas.supernet.result import cell_log_probs, derive, top_k_cells
from tests.helpers import drive

ALPHA = np.random.default_rng(7).normal(size=(6, 5)) * 2.0


def test_boed_supernet_starts_from_proposals_and_uses_the_op_prior(c10):
    s = make_strategy("boed-supernet", seed=3, alpha=ALPHA, n_top=4, n_sampled=2, n_init=6)
    drive(s, c10, 6)
    asked = [o.cell for o in s.history]
    assert asked[:4] == top_k_cells(ALPHA, 4, guard=True)
    assert len({c.canonical() for c in asked}) == 6
    p = np.exp(ALPHA) / np.exp(ALPHA).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(s.op_prior, p)
    assert s.features.log_prior is not None  # the prior enters the GP mean
    drive(s, c10, 3)  # and the GP-driven phase runs with it


def test_boed_supernet_without_prior_keeps_plain_features():
    s = make_strategy("boed-supernet", seed=0, alpha=ALPHA, prior=False)
    s.ask(1)
    assert s.op_prior is None and s.features.log_prior is None
    assert len(s.proposals) == 10


def test_boed_supernet_runs_the_supernet_once_and_resumes_without_it(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    s = make_strategy("boed-supernet", seed=1, supernet={"epochs": 1, "data_limit": 200, "C": 4}, n_init=3,
                      state_path=path)
    bench = NB201Benchmark("cifar10", seed=1)
    drive(s, bench, 5)
    assert s.alpha is not None and s.alpha.shape == (6, 5)
    import boed_nas.strategies.supernet

    import boed_nas.supernet as sn

    boed_nas.strategies.supernet._ALPHA_CACHE.clear()  # so only the saved alpha can spare the search

    def fail(*a, **k):
        raise AssertionError("the supernet must not run again on resume")

    monkeypatch.setattr(sn, "search_supernet", fail)
    resumed = Strategy.load(path)
    np.testing.assert_array_equal(resumed.alpha, s.alpha)
    assert resumed.ask(2) == s.ask(2)


def test_boed_supernet_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown supernet setting.*'epoch'"):
        make_strategy("boed-supernet", supernet={"epoch": 3})
    with pytest.raises(ValueError, match="strategy's own seed"):
        make_strategy("boed-supernet", supernet={"seed": 3})
    with pytest.raises(ValueError, match="use strategy 'boed'"):
        make_strategy("boed-supernet", proposals=["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    with pytest.raises(ValueError, match="alpha must be a finite 6 x 5"):
        make_strategy("boed-supernet", alpha=np.zeros((5, 5)))
    with pytest.raises(ValueError, match="n_top"):
        make_strategy("boed-supernet", alpha=ALPHA, n_top=-1)


def test_darts_queries_the_derived_cell_then_decreasing_probability(c10):
    s = make_strategy("darts", seed=0, alpha=ALPHA)
    drive(s, c10, 12)
    cells = [o.cell for o in s.history]
    assert cells[0] == derive(ALPHA, guard=True)[0]
    lp = cell_log_probs(ALPHA)
    assert all(lp[a.code] >= lp[b.code] for a, b in zip(cells, cells[1:]))
    assert len({c.canonical() for c in cells}) == len(cells)
    assert all(c.has_parametric_path() for c in cells)
