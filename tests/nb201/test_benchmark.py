import math
import time

import numpy as np
import pytest

from boed_nas.nb201.benchmark import NB201Benchmark, load_table, resolve_dataset
from boed_nas.nb201.space import Cell


def test_known_optima(c10):
    # NB201 facts: best CIFAR-10 test 94.37 (cell 6111, tied with 13714), best CIFAR-10 validation 91.61
    assert c10.best_test_acc == pytest.approx(94.373333, abs=1e-5)
    assert c10.test_acc[c10.cell_of_index(6111).code] == pytest.approx(94.373333, abs=1e-5)
    cell, val = c10.optimum("val_acc")
    assert val == pytest.approx(91.60667, abs=1e-4)
    assert c10.index_of(cell) == 6111
    assert NB201Benchmark("cifar100").best_test_acc == pytest.approx(73.51333, abs=1e-4)
    assert NB201Benchmark("ImageNet16-120").best_test_acc == pytest.approx(47.31111, abs=1e-4)


def test_arch_index_mapping(c10):
    first = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert str(c10.cell_of_index(0)) == first
    assert c10.index_of(first) == 0
    look = c10.lookup(first)
    assert look["test_acc"] == pytest.approx(85.86333, abs=1e-4)
    assert look["val_acc_mean"] == pytest.approx(81.98267, abs=1e-4)
    assert look["params_M"] == pytest.approx(0.129306, abs=1e-6)


def test_evaluate_protocol_and_ledger():
    b = NB201Benchmark("cifar10", seed=3)
    cell = b.cell_of_index(6111)
    out = b.evaluate(cell)
    seeds = b._val_seeds[cell.code][: b.n_training_seeds(cell)]
    assert out.metrics["val_acc"] in seeds  # one training seed, not the mean
    assert "test_acc" not in out.metrics and out.info["test_acc"] == pytest.approx(94.373333, abs=1e-5)
    assert set(out.metrics) == {"val_acc", "params_M", "flops_M", "latency"}
    assert out.cost == pytest.approx(b.train_time[cell.code])
    # the same cell again is a free cache hit; so is an isomorphic one
    again = b.evaluate(cell)
    assert again.cost == 0 and again.info["cached"] and again.metrics == out.metrics
    iso = [c for c in map(Cell.from_code, range(15625)) if c.canonical() == Cell((0, 0, 0, 3, 0, 0)).canonical()]
    assert len(iso) > 1
    b.evaluate(iso[0])
    paid = b.total_cost
    b.evaluate(iso[1])
    assert b.total_cost == paid and b.n_queries == 2
    # mean and explicit seeds
    b.reset()
    assert b.evaluate(cell, val="mean").metrics["val_acc"] == pytest.approx(91.60667, abs=1e-4)
    b.reset()
    assert b.evaluate(cell, val=0).metrics["val_acc"] == seeds[0]
    b.reset()
    with pytest.raises(ValueError, match="training seed"):
        b.evaluate(cell, val=7)


def test_noise_is_common_across_runs_with_the_same_seed():
    a, b, c = NB201Benchmark("cifar100", seed=1), NB201Benchmark("cifar100", seed=1), NB201Benchmark("cifar100", seed=2)
    cells = [Cell.from_code(i) for i in range(0, 15625, 97)]
    va = [a.evaluate(x).metrics["val_acc"] for x in cells]
    assert va == [b.evaluate(x).metrics["val_acc"] for x in cells]
    assert va != [c.evaluate(x).metrics["val_acc"] for x in cells]


def test_table_shape_speed_and_columns():
    load_table.cache_clear()
    t0 = time.perf_counter()
    t = load_table()
    assert time.perf_counter() - t0 < 1.0
    assert len(t) == 15625 and list(t.index) == list(range(15625))
    b = NB201Benchmark("ImageNet16-120")
    assert not np.isnan(b.val_mean).any() and set(np.unique(b._nseeds)) <= {2, 3}
    cell = Cell.from_code(1234)
    t0 = time.perf_counter()
    for _ in range(1000):
        b.lookup(cell)
    assert (time.perf_counter() - t0) / 1000 < 1e-3  # a lookup answers in microseconds


def test_flops_column_matches_nb201_range():
    # FlopCounterMode counts 2 FLOPs per multiply-add; NB201 reports multiply-adds: 7.78M..220.11M on CIFAR-10
    b = NB201Benchmark("cifar10")
    assert b.flops_M.min() / 2 == pytest.approx(7.78, abs=0.01)
    assert b.flops_M.max() / 2 == pytest.approx(220.11, abs=0.02)
    i16 = NB201Benchmark("ImageNet16-120").flops_M
    assert 0 < i16.min() < i16.max() < b.flops_M.max() / 3
    # FLOPs grow with convolutions: the all-conv3x3 cell is the most expensive
    assert b.flops_M.argmax() == Cell((3,) * 6).code


def test_unknown_dataset_and_aliases():
    with pytest.raises(ValueError, match=r"unknown dataset 'cifar-11'.*cifar10.*cifar100.*ImageNet16-120"):
        NB201Benchmark("cifar-11")
    assert resolve_dataset("imagenet16-120").name == "ImageNet16-120"
    assert resolve_dataset("CIFAR10").val_split == "cifar10-valid/x-valid"
    assert resolve_dataset("cifar100").test_split == "cifar100/x-test"


def test_regret(c10):
    best = c10.optimum("test_acc")[0]
    assert c10.test_regret(best) == 0
    assert math.isclose(c10.test_regret(c10.cell_of_index(0)), 94.373333 - 85.863333, abs_tol=1e-4)
