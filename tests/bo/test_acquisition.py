"""Acquisition over the pool (boed_nas.bo.acquisition): every acquisition scores every candidate;
entropy search by hand; the pool's marginals against botorch on the GP itself."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from boed_nas.bo.acquisition import (
    ACQUISITIONS,
    PoolBelief,
    PoolMarginals,
    entropy_search,
    score,
    score_on_gp,
)
from boed_nas.errors import ConfigError
from tests.bo.helpers import small, synthetic


@pytest.mark.parametrize("acq", ["mes", "ei", "ucb"])
def test_pool_marginals_give_botorch_scores_on_the_gp_itself(acq):
    # the one-point acquisitions read the pool's precomputed marginals; botorch given the GP
    # itself must score every candidate the same
    from boed_nas.bo.acquisition import score, score_on_gp

    c = small(seed=3, n_init=8)
    rng = np.random.default_rng(3)
    for _ in range(12):
        (cell,) = c.ask()
        c.tell(cell, {"val_acc": synthetic(cell, rng)})
    model, evaluated = c.fit()
    b = c.pool_belief(model, evaluated, [], c._generator(0, 0))
    expected = score_on_gp(acq, b)
    got = score(acq, b, c._generator(0, 1))
    assert got.shape == (len(b.candidates),)
    assert torch.allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert int(got.argmax()) == int(expected.argmax())


@pytest.fixture(scope="module")
def belief():
    """A PoolBelief from a controller fitted to 10 observations of the synthetic landscape, cut to 300
    candidates: the first 150 in the plausible set and 150 outside it."""
    c = small(seed=5, n_init=5)
    rng = np.random.default_rng(5)
    for _ in range(10):
        (cell,) = c.ask()
        c.tell(cell, {"val_acc": synthetic(cell, rng)})
    model, evaluated = c.fit()
    b = c.pool_belief(model, evaluated, [], c._generator(0, 0))
    plausible = set(b.plausible.tolist())
    inside = [int(i) for i in b.candidates if int(i) in plausible][:150]
    outside = [int(i) for i in b.candidates if int(i) not in plausible][:150]
    assert len(inside) == len(outside) == 150
    return dataclasses.replace(b, candidates=torch.tensor(sorted(inside + outside)))


def _in_plausible(b):
    plausible = set(b.plausible.tolist())
    return torch.tensor([int(i) in plausible for i in b.candidates])


@pytest.mark.parametrize("name", ACQUISITIONS)
def test_every_acquisition_scores_every_candidate(belief, name):
    s = score(name, belief, torch.Generator().manual_seed(0))
    assert s.shape == (len(belief.candidates),) and s.dtype == torch.float64
    inside = _in_plausible(belief)
    if name == "ts":  # one joint sample: known only on the plausible set, -inf (never picked) outside it
        assert torch.isfinite(s[inside]).all() and (s[~inside] == -math.inf).all()
    else:
        assert torch.isfinite(s).all()
    if name == "es":  # a plug-in mutual information: non-negative, 0 outside the plausible set
        assert (s[~inside] == 0).all() and (s >= -1e-12).all() and (s > 0).any()
    assert torch.equal(s, score(name, belief, torch.Generator().manual_seed(0)))  # seeded by the generator


def test_unknown_acquisition_is_a_config_error(belief):
    with pytest.raises(ConfigError, match=r"unknown acquisition 'pi'; expected one of \['es', 'mes'"):
        score("pi", belief, torch.Generator())
    with pytest.raises(ConfigError, match="score_on_gp covers"):
        score_on_gp("es", belief)


def _hand_belief(samples, plausible, candidates, noise_var=1e-4):
    """A PoolBelief holding only what entropy search reads (the samples and the index sets)."""
    n = int(max(plausible + candidates)) + 1
    return PoolBelief(model=None, X=torch.zeros(n, 1), mean=torch.zeros(n), var=torch.ones(n),
                      plausible=torch.tensor(plausible), samples=samples, candidates=torch.tensor(candidates),
                      noise_var=noise_var, incumbent=0.0)


def test_entropy_search_by_hand_values_the_cell_that_decides_the_argmax():
    # three plausible cells: cell 0 is +1 or -1 with equal odds, cell 1 is 0, cell 2 is known at -5;
    # so the best is cell 0 or cell 1, each half the time, and observing cell 0 settles which
    S = 512
    s0 = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(S // 2)  # exactly half: the bins split at the sign
    samples = torch.stack([s0, torch.zeros(S, dtype=torch.float64), torch.full((S,), -5.0, dtype=torch.float64)], 1)
    b = _hand_belief(samples, plausible=[0, 1, 2], candidates=[0, 1, 2, 3])
    cells, probs = b.argmax_distribution()
    assert cells.tolist() == [0, 1] and float(probs.sum()) == pytest.approx(1.0)
    assert b.argmax_entropy() == pytest.approx(math.log(2), abs=0.01)
    es = entropy_search(b, generator=torch.Generator().manual_seed(1))
    assert es[0] == pytest.approx(b.argmax_entropy(), abs=1e-9)  # the whole entropy: the argmax is then known
    assert es[1] == pytest.approx(0.0, abs=0.05)  # cell 1 is always 0: seeing it teaches (almost) nothing
    assert es[2] == pytest.approx(0.0, abs=0.05)  # nor does a cell already known
    assert es[0] > es[1] + 0.5 and es[0] > es[2] + 0.5
    assert es[3] == 0.0  # not in the plausible set: not scored


def test_entropy_search_is_zero_when_the_argmax_is_already_certain():
    S = 64
    samples = torch.randn(S, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    samples[:, 1] += 100.0  # cell 1 is the best in every sample
    es = entropy_search(_hand_belief(samples, [0, 1, 2], [0, 1, 2]), generator=torch.Generator().manual_seed(0))
    assert torch.equal(es, torch.zeros(3, dtype=torch.float64))


def test_pool_marginals_serve_the_precomputed_mean_and_variance_by_pool_index():
    mean, var = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64), torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    pool = PoolMarginals(mean, var, noise_var=0.05)
    X = torch.tensor([[[2.0]], [[0.0]]], dtype=torch.float64)  # batch 2, q 1, pool indices
    post = pool.posterior(X)
    np.testing.assert_allclose(post.mean.squeeze().numpy(), [2.0, 0.0])
    np.testing.assert_allclose(post.variance.squeeze().numpy(), [0.3, 0.1])
    np.testing.assert_allclose(pool.posterior(X, observation_noise=True).variance.squeeze().numpy(), [0.35, 0.15])
    with pytest.raises(NotImplementedError):
        pool.posterior(X, output_indices=[1])
