"""The baselines (boed_nas.strategies.baselines): random search, regularised evolution, local search."""

import pytest

from boed_nas.experiment.bench import run_bench, summarize
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import make_strategy
from tests.helpers import drive

FAST = ["random", "evolution", "local"]


@pytest.mark.parametrize("name", FAST)
def test_same_seed_same_trajectory(name):
    a = drive(make_strategy(name, seed=5), NB201Benchmark(seed=5), 40)
    b = drive(make_strategy(name, seed=5), NB201Benchmark(seed=5), 40)
    c = drive(make_strategy(name, seed=6), NB201Benchmark(seed=5), 40)
    assert a == b and a != c


def test_evolution_and_local_search_beat_random():
    # the check (median final test regret over seeds), at a smaller scale than the README run
    traj = run_bench(FAST, "cifar10", range(6), 150, progress=False)
    s = summarize(traj).set_index("strategy")
    assert s.loc["evolution", "final_test_regret_median"] < s.loc["random", "final_test_regret_median"]
    assert s.loc["local", "final_test_regret_median"] < s.loc["random", "final_test_regret_median"]
