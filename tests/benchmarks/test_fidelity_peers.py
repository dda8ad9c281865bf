"""The fidelity peers in the harness (Optuna's pruners; Syne Tune's schedulers when installed beside):
each network screened at the first level, survivors evaluated at the target, none paid twice."""

from __future__ import annotations

import importlib

import pytest

from boed_nas import make_strategy
from boed_nas.nb201.benchmark import NB201Benchmark


def _drive(strategy, n):
    bench = NB201Benchmark("cifar100", seed=0)
    told = []
    for _ in range(n):
        (point,) = strategy.ask(1)
        config, level = point
        strategy.tell(point, bench.evaluate(config, int(level)))
        told.append((config.canonical(), int(level)))
    return told


@pytest.mark.parametrize("module, names", [("benchmarks.optuna_fidelity", ("optuna-sha", "optuna-hyperband")),
                                           ("benchmarks.synetune_fidelity", ("st-asha", "st-hyperband", "st-bohb"))])
def test_peers_screen_at_12_promote_to_200_and_pay_no_network_twice(module, names):
    pytest.importorskip("optuna" if "optuna" in module else "syne_tune")
    importlib.import_module(module)  # registers its strategies
    for name in names:
        strategy = make_strategy(name, seed=0, fidelity="epochs=12,200")
        told = _drive(strategy, 40)
        assert len(set(told)) == len(told)  # no (network, level) twice
        at_200 = [c for c, lv in told if lv == 200]
        at_12 = {c for c, lv in told if lv == 12}
        assert at_200, name  # some survive the screen
        assert len(strategy.values) == len(at_200), name  # every target value reached the peer's bookkeeping
        if name not in ("optuna-hyperband", "st-hyperband"):  # Hyperband's other bracket skips the screen
            assert set(at_200) <= at_12, name
        assert len(at_200) < len(at_12), name
        again = _drive(make_strategy(name, seed=0, fidelity="epochs=12,200"), 40)
        assert again == told, name  # one seed, one trajectory
