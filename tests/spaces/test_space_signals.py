"""Signals at initialisation on a space of your own: the prior mean of boed's belief."""

import numpy as np
import pytest

from boed_nas import make_strategy
from boed_nas.bo.belief import SpaceSignals
from boed_nas.errors import ConfigError
from boed_nas.spaces import Categorical, Space

from .user_objective import SPACE, score

# 4,096 configurations, and a landscape no kernel on the variables can learn from 20 points: each
# configuration's value is a hash of it. The signal is that value; the objective, it plus noise.
BIG = Space([Categorical(f"v{i}", ["a", "b", "c", "d"]) for i in range(6)], name="hashed")


def signal(c) -> dict[str, float]:
    key = BIG.key(c)
    return {"s": float(np.random.default_rng(list(key)).normal())}


BEST = max(BIG.enumerate(), key=lambda c: signal(c)["s"])


def queries_to_best(seed: int, budget: int, **kw) -> int | None:
    s = make_strategy("boed", space=BIG, seed=seed, n_init=3, **kw)
    rng = np.random.default_rng(seed)
    for q in range(1, budget + 1):
        (c,) = s.ask()
        s.tell(c, {"val_acc": signal(c)["s"] + 0.05 * rng.normal()})
        if c == BEST:
            return q
    return None


def test_a_signal_that_knows_the_landscape_cuts_the_queries_to_the_optimum():
    for seed in (0, 1):
        q = queries_to_best(seed, 20, signals=signal)
        assert q is not None and q <= 20, (seed, q)
    assert queries_to_best(0, 20) is None  # without it, 20 queries of 4,096 miss it


def test_scores_are_normal_scores_of_ranks_in_a_fixed_reference():
    from boed_nas.bo.belief import signal_scores

    configs = BIG.enumerate()
    raw = np.array([signal(c)["s"] for c in configs])
    # an enumerable space is its own reference: the scores are signal_scores' over the space
    np.testing.assert_allclose(SpaceSignals(BIG, signal).scores(configs), signal_scores(raw[:, None]), atol=1e-12)
    # a space too large to enumerate: a seeded reference sample; the order of every configuration
    # is kept, also beyond the sample's range, and the same seed gives the same scores
    huge = Space([Categorical(f"v{i}", ["a", "b", "c", "d"]) for i in range(10)], name="huge")

    def h(c):
        return {"s": float(np.random.default_rng(list(huge.key(c))).normal())}

    sig = SpaceSignals(huge, h, seed=0, n_reference=256)
    assert sig.names == ["s"] and sig.reference.shape == (256, 1)
    rng = np.random.default_rng(5)
    others = [huge.sample(rng) for _ in range(2000)]
    z = sig.scores(others)[:, 0]
    hv = np.array([h(c)["s"] for c in others])
    assert np.all(np.isfinite(z)) and (hv > sig.reference.max()).any()
    order = np.argsort(hv)
    assert np.all(np.diff(z[order]) > 0)
    np.testing.assert_array_equal(SpaceSignals(huge, h, seed=0, n_reference=256).scores(others[:5]), sig.scores(others[:5]))


def test_known_costs_as_signals_and_a_reference_to_a_function():
    s = make_strategy("boed", space=SPACE, seed=0, signals="costs")
    for _ in range(7):
        (c,) = s.ask()
        s.tell(c, {"val_acc": score(c)})
    assert s.get_params()["signals"] == "costs"
    assert type(s.fit()[0].mean_module).__name__ == "PriorScoreMean"
    r = make_strategy("boed", space=BIG, seed=0, signals="tests.spaces.test_space_signals:signal")
    assert r.features.signals.names == ["s"]


def test_bad_signals_are_clear_errors():
    with pytest.raises(ConfigError, match="no known costs"):
        make_strategy("boed", space=BIG, signals="costs")
    with pytest.raises(ConfigError, match="not the kernel"):
        make_strategy("boed", space=SPACE, signals="costs", signal_use="features")
    with pytest.raises(ConfigError, match="mapping name -> number"):
        make_strategy("boed", space=SPACE, signals=lambda c: 1.0)
    with pytest.raises(ConfigError, match="finite numbers"):
        make_strategy("boed", space=SPACE, signals=lambda c: {"s": float("nan")})
    with pytest.raises(ConfigError, match="expected 'pkg.module:NAME'"):
        make_strategy("boed", space=SPACE, signals="synflow")
    with pytest.raises(ConfigError, match="every configuration must give"):  # found in the reference sample
        make_strategy("boed", space=BIG, seed=0, signals=lambda c: {"s": 1.0} if c["v0"] != "d" else {"s": 1.0, "t": 2.0})


def test_init_draws_the_initial_design_from_the_top_of_the_signal():
    """signal_use="init" on a space of your own: after the proposals, the initial design comes from the
    top INIT_TOP_FRACTION of the reference set by signal; "init" alone leaves the prior mean without it."""
    from boed_nas.bo.controller import INIT_TOP_FRACTION
    from boed_nas.spaces.base import Config

    flops = sorted(SPACE.costs(c)["flops"] for c in SPACE.enumerate())
    cut = flops[-int(np.ceil(INIT_TOP_FRACTION * len(flops)))]
    s = make_strategy("boed", space=SPACE, seed=0, signals="costs", signal_use="init", n_init=4)
    asked = s.ask(4)
    assert all(SPACE.costs(c)["flops"] >= cut for c in asked) and len(set(asked)) == 4
    assert s.features.signals is None
    plain = make_strategy("boed", space=SPACE, seed=0, n_init=4).ask(4)
    assert any(SPACE.costs(c)["flops"] < cut for c in plain)  # without "init" the design is anywhere
    both = make_strategy("boed", space=BIG, seed=0, signals="tests.spaces.test_space_signals:signal",
                         signal_use="mean+init")
    assert both.features.signals is not None and all(isinstance(c, Config) for c in both.ask(2))
