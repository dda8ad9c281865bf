import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # tests run on 2-core CI machines; keep torch from oversubscribing them
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def c10():
    from boed_nas.nb201.benchmark import NB201Benchmark

    return NB201Benchmark("cifar10", seed=0)


@pytest.fixture(scope="session")
def bench():
    """The CIFAR-10 table for read-only use (cost tables, budgets), apart from ``c10``'s ledger."""
    from boed_nas.nb201.benchmark import NB201Benchmark

    return NB201Benchmark("cifar10")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
