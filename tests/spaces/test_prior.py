"""ChoicePrior: a supernet's per-choice belief over a space of your own, as boed's proposals and signal."""

import math

import numpy as np
import pytest

from boed_nas import make_strategy
from boed_nas.errors import ConfigError, SpaceError
from boed_nas.spaces import Integer, Space
from boed_nas.spaces.prior import ChoicePrior

from .user_objective import SPACE, score


def random_prior(seed, space=SPACE):
    rng = np.random.default_rng(seed)
    return ChoicePrior(space, {v.name: rng.normal(size=len(v)) * 2 for v in space.variables}, kind="logits")


@pytest.mark.parametrize("seed", range(3))
def test_most_probable_is_the_top_of_the_valid_configurations(seed):
    prior = random_prior(seed)
    valid = SPACE.enumerate()
    assert math.isclose(np.logaddexp.reduce([prior.log_prob(c) for c in SPACE.enumerate()]
                                            + [prior.log_prob(SPACE._config(i)) for i in _invalid()]), 0, abs_tol=1e-9)
    best = sorted((prior.log_prob(c) for c in valid), reverse=True)[:25]
    top = prior.most_probable(25, seed=seed)
    assert [prior.log_prob(c) for c in top] == pytest.approx(best) and all(c in valid for c in top)
    assert len(set(top)) == 25


def _invalid():
    import itertools

    for idx in itertools.product(*(range(len(v)) for v in SPACE.variables)):
        if not SPACE._valid(SPACE._config(idx)):
            yield idx


def test_most_probable_on_a_billion_configurations_without_enumerating():
    big = Space([Integer(f"x{i}", 0, 9) for i in range(9)], constraint=lambda c: c["x0"] != c["x1"], name="big")
    rng = np.random.default_rng(0)
    peaked = {"x0": np.eye(10)[3] * 5 + 0.5, "x1": np.eye(10)[3] * 5 + 0.5}  # P(3) = 0.53 each
    prior = ChoicePrior(big, {**peaked, **{f"x{i}": rng.random(10) ** 8 for i in range(2, 9)}}, kind="probs")  # peaked, as a searched supernet's
    top = prior.most_probable(4, seed=0)
    assert len(top) == 4 and all(c["x0"] != c["x1"] for c in top)  # (3, 3, ...) is the most probable, and invalid
    assert {(c["x0"], c["x1"]) for c in top} <= {(3, j) for j in range(10)} | {(i, 3) for i in range(10)}
    assert prior.log_prob(top[0]) == pytest.approx(max(prior.log_prob(big.parse({**dict(top[0]), "x0": i, "x1": j}))
                                                       for i in range(10) for j in range(10) if i != j))
    uniform = ChoicePrior(big, {})  # every configuration ties: the order is a seeded draw
    assert uniform.most_probable(3, seed=0) == uniform.most_probable(3, seed=0) != uniform.most_probable(3, seed=1)


def test_boed_evaluates_the_proposals_first_and_reads_the_log_probability():
    prior = random_prior(0)
    kwargs = prior.boed_kwargs(2)
    assert kwargs["proposals"] == prior.most_probable(2) and kwargs["signals"] is prior
    s = make_strategy("boed", space=SPACE, seed=0, **kwargs)
    asked = []
    for _ in range(8):
        (c,) = s.ask()
        asked.append(c)
        s.tell(c, {"val_acc": score(c)})
    assert asked[:2] == kwargs["proposals"]
    assert prior(asked[0]) == {"supernet_logp": prior.log_prob(asked[0])}


def test_a_variable_left_out_is_uniform_and_probabilities_are_normalised():
    prior = ChoicePrior(SPACE, {"block": [1, 2, 1]}, kind="probs")
    c = SPACE.enumerate()[0]
    expected = math.log({"conv": 0.25, "mbconv": 0.5, "fused": 0.25}[c["block"]]) - math.log(6 * 5 * 2)
    assert prior.log_prob(c) == pytest.approx(expected)


def test_bad_priors_name_the_variable():
    with pytest.raises(SpaceError, match="variable 'blocks', which space 'toy' does not have"):
        ChoicePrior(SPACE, {"blocks": [1, 2, 3]})
    with pytest.raises(SpaceError, match="variable 'width' needs 5 numbers"):
        ChoicePrior(SPACE, {"width": [0.0, 1.0]})
    with pytest.raises(SpaceError, match="variable 'act': probabilities must be finite, non-negative"):
        ChoicePrior(SPACE, {"act": [-1.0, 2.0]}, kind="probs")
    with pytest.raises(SpaceError, match="variable 'act': logits must be numbers below"):
        ChoicePrior(SPACE, {"act": [float("nan"), 0.0]}, kind="logits")
    with pytest.raises(ConfigError, match="kind must be"):
        ChoicePrior(SPACE, {}, kind="softmax")
    with pytest.raises(ConfigError, match="positive integer k, got 0"):
        ChoicePrior(SPACE, {}).most_probable(0)


def test_a_strategy_with_a_prior_resumes_with_it(tmp_path):
    from boed_nas.strategy import Strategy

    prior = random_prior(1)
    s = make_strategy("boed", space=SPACE, seed=2, state_path=tmp_path / "state.json", **prior.boed_kwargs(2))
    for _ in range(7):
        (c,) = s.ask()
        s.tell(c, {"val_acc": score(c)})
    loaded = Strategy.load(tmp_path / "state.json", space=SPACE)
    assert loaded.ask(2) == s.ask(2)
    assert loaded.features.signals is not None and loaded.get_params()["signals"] == s.get_params()["signals"]
