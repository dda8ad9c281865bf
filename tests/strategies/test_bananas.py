"""BANANAS (boed_nas.strategies.bananas): an ensemble of MLPs on path encodings, ask/tell."""

import numpy as np
import pytest
from boed_nas.strategies.bananas import Bananas

from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import make_strategy, strategy_class
from boed_nas.strategy import Strategy
from tests.helpers import drive

FAST = dict(n_init=5, epochs=15, n_candidates=30)


def test_registered_and_params_round_trip():
    assert strategy_class("bananas") is Bananas
    s = make_strategy("bananas", seed=4, acquisition="ucb", hidden=[8, 8], max_edits=2)
    assert isinstance(s, Bananas) and s.name == "bananas"
    again = Bananas(**s.get_params())
    assert again.get_params() == s.get_params()
    assert again.hidden == (8, 8) and again.acquisition == "ucb"


@pytest.mark.parametrize("kw, fragment", [
    (dict(n_init=0), "n_init"), (dict(n_models=1), "n_models"), (dict(acquisition="ei"), "acquisition"),
    (dict(max_edits=7), "max_edits"), (dict(hidden=(8, 0)), "hidden"), (dict(lr=-1.0), "lr"),
    (dict(ucb_beta=float("nan")), "ucb_beta"), (dict(epochs=True), "epochs"), (dict(hidden=32), "hidden"),
])
def test_bad_parameters(kw, fragment):
    with pytest.raises(ValueError, match=fragment):
        Bananas(**kw)


def test_same_seed_same_trajectory_and_seed_matters():
    a = drive(Bananas(seed=3, **FAST), NB201Benchmark("cifar10", seed=0), 14)
    b = drive(Bananas(seed=3, **FAST), NB201Benchmark("cifar10", seed=0), 14)
    c = drive(Bananas(seed=4, **FAST), NB201Benchmark("cifar10", seed=0), 14)
    assert a == b
    assert a != c


def test_uses_its_own_torch_generator_not_the_global_one():
    import torch

    torch.manual_seed(0)
    a = drive(Bananas(seed=5, **FAST), NB201Benchmark("cifar10"), 8)
    state = torch.get_rng_state()
    torch.manual_seed(123)
    b = drive(Bananas(seed=5, **FAST), NB201Benchmark("cifar10"), 8)
    assert a == b
    torch.manual_seed(0)
    drive(Bananas(seed=5, **FAST), NB201Benchmark("cifar10"), 8)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator was never drawn from


@pytest.mark.parametrize("acquisition", ["its", "ucb"])
def test_resume_after_save_and_load_continues_identically(tmp_path, acquisition):
    kw = dict(seed=7, acquisition=acquisition, **FAST)
    full = drive(Bananas(**kw), NB201Benchmark("cifar10"), 14)

    bench = NB201Benchmark("cifar10")
    s = Bananas(**kw)
    first = drive(s, bench, 8)
    pending = s.ask(1)[0]  # saved while a trial is running
    s.save(tmp_path / "bananas.json")
    resumed = Strategy.load(tmp_path / "bananas.json")
    assert isinstance(resumed, Bananas) and resumed.get_params() == s.get_params()
    resumed.tell(pending, bench.evaluate(pending))
    rest = drive(resumed, bench, 5)
    assert first + [str(pending)] + rest == full


def test_batches_never_repeat_an_evaluated_or_pending_class(c10):
    s = Bananas(seed=2, **FAST)
    seen = set()
    for _ in range(5):
        cells = s.ask(4)
        keys = [c.canonical().code for c in cells]
        assert len(set(keys)) == 4 and not set(keys) & seen
        seen.update(keys)
        for c in cells[:3]:  # the fourth stays pending
            s.tell(c, c10.evaluate(c))
    assert len(s.pending) == 5
    assert {c.canonical().code for c in s.pending.values()} <= seen


def test_fills_with_random_cells_when_mutation_finds_too_few(c10):
    s = Bananas(seed=1, n_init=3, epochs=5, n_candidates=2)
    drive(s, c10, 3)
    cells = s.ask(6)  # only 2 candidates per ask: 4 random fill-ins
    assert len({c.canonical().code for c in cells}) == 6


def test_failed_trials_are_not_training_data_but_are_not_proposed_again():
    bench = NB201Benchmark("cifar10")
    s = Bananas(seed=0, **FAST)
    failed = set()
    for i in range(12):
        cell = s.ask(1)[0]
        key = cell.canonical().code
        assert key not in failed
        if i % 3 == 0:
            s.tell(cell, None)
            failed.add(key)
        else:
            s.tell(cell, bench.evaluate(cell))
    assert sum(o.outcome.failed for o in s.history) == 4


def test_minimising_the_negated_metric_gives_the_same_trajectory():
    bench = NB201Benchmark("cifar10")
    up, down = Bananas(seed=6, **FAST), Bananas(seed=6, metric="err", maximize=False, **FAST)
    for _ in range(12):
        a, b = up.ask(1)[0], down.ask(1)[0]
        assert a == b
        acc = bench.lookup(a)["val_acc_mean"]
        up.tell(a, {"val_acc": acc})
        down.tell(b, {"err": 100.0 - acc})


def test_beats_random_search_on_nb201_cifar10():
    """Budget 50, seeds 0-2, reduced training (40 epochs) to keep the test fast."""
    finals = {}
    for name, kw in (("random", {}), ("bananas", dict(epochs=40))):
        runs = [run_search(make_strategy(name, seed=s, **kw), NB201Benchmark("cifar10", seed=s), 50)
                for s in range(3)]
        finals[name] = (np.array([r["best_val_so_far"].iloc[-1] for r in runs]),
                        np.array([r["test_regret"].iloc[-1] for r in runs]))
    (val_b, reg_b), (val_r, reg_r) = finals["bananas"], finals["random"]
    assert np.median(val_b) > np.median(val_r)
    assert np.median(reg_b) < np.median(reg_r)
    assert (val_b > val_r).sum() >= 2  # seed by seed, not just in the median


def test_bananas_on_a_space_of_your_own_mutates_values_and_encodes_them_one_hot(tmp_path):
    from boed_nas.errors import ConfigError
    from tests.spaces.user_objective import SPACE, score

    s = make_strategy("bananas[n_init=4,epochs=30,n_models=2]", space=SPACE, seed=1, state_path=tmp_path / "b.json")
    assert s._encode(SPACE.enumerate()[:3]).shape == (3, sum(len(v.values) for v in SPACE.variables))
    for _ in range(10):
        (c,) = s.ask()
        assert SPACE.parse(dict(c)) == c  # within the constraint
        s.tell(c, {"val_acc": score(c)})
    assert len({SPACE.key(o.cell) for o in s.history}) == 10
    assert Strategy.load(tmp_path / "b.json", space=SPACE).ask(1) == s.ask(1)
    with pytest.raises(ConfigError, match="max_edits must be at most 4"):
        make_strategy("bananas[max_edits=5]", space=SPACE)
