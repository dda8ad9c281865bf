"""The belief (boed_nas.bo.belief): output transforms, kernel names, GP inputs, the fitted GP, its
chunked posterior and joint samples, hyperparameters for warm starts and resume."""

import json
import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from boed_nas.bo.belief import (
    KERNEL_PARTS,
    CellFeatures,
    OutputTransform,
    entropy,
    fit_belief,
    hyperparameters,
    joint_samples,
    noise_variance,
    parse_kernel,
    posterior_mean_var,
    set_hyperparameters,
)
from boed_nas.errors import ConfigError
from boed_nas.nb201.encodings import wl_features, wl_vocabulary
from tests.bo.helpers import POOL, synthetic


def test_chunked_posterior_matches_gpytorch():
    feats = CellFeatures("categorical")
    cells = list(POOL[:40])
    X = feats(cells)
    Y = torch.tensor(OutputTransform("standardize")(np.array([synthetic(c) for c in cells])))[:, None]
    model = fit_belief(X, Y, feats)
    Xall = feats(POOL)
    m1, v1 = posterior_mean_var(model, Xall, chunk=500)  # 13 chunks
    m2, v2 = posterior_mean_var(model, Xall, chunk=7000)  # one
    assert torch.allclose(m1, m2) and torch.allclose(v1, v2)
    with torch.no_grad():
        post = model.posterior(Xall[:300])
    assert torch.allclose(post.mean.squeeze(-1), m1[:300], atol=1e-8)
    assert torch.allclose(post.variance.squeeze(-1), v1[:300], atol=1e-8)
    # the posterior is sharp at the data and wide elsewhere
    assert v1[:40].max() < v1[40:].median()


def test_kernel_names_combine_parts_and_bad_names_are_rejected():
    from boed_nas.bo.belief import parse_kernel

    assert parse_kernel("wl+categorical") == ("categorical", "wl")
    assert parse_kernel("additive") == ("additive",)
    for bad in ("rbf", "categorical+categorical", "", "categorical+"):
        with pytest.raises(ValueError, match="unknown kernel"):
            parse_kernel(bad)


def test_additive_kernel_learns_per_edge_effects_from_few_cells():
    # f(cell) = sum over edges of an op effect: 30 observations fix the 30 effects up to noise,
    # so the additive kernel's posterior mean must rank the whole pool almost exactly
    from scipy.stats import spearmanr

    effect = np.random.default_rng(7).normal(size=(6, 5))
    truth = np.array([effect[np.arange(6), list(c.ops)].sum() for c in POOL])
    idx = np.random.default_rng(8).choice(len(POOL), 30, replace=False)
    feats = CellFeatures("additive")
    X, Xall = feats([POOL[i] for i in idx]), feats(POOL)
    model = fit_belief(X, torch.tensor(truth[idx])[:, None], feats)
    mean, _ = posterior_mean_var(model, Xall)
    assert spearmanr(mean.numpy(), truth)[0] > 0.95


def _fitted(kernel="categorical", n=20, seed=0, op_prior=None):
    """A GP fitted to ``n`` random classes of the synthetic landscape: (model, features, training cells)."""
    cells = [POOL[i] for i in np.random.default_rng(seed).choice(len(POOL), n, replace=False)]
    feats = CellFeatures(kernel, op_prior=op_prior)
    y = OutputTransform("standardize")(np.array([synthetic(c) for c in cells]))
    return fit_belief(feats(cells), torch.tensor(y)[:, None], feats, seed=seed), feats, cells


# ------------------------------------------------------------------------------ output transforms
def test_rank_transform_gives_normal_scores_of_mid_ranks_and_ties_share_them():
    y = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    # ranks 1..5 with the tied 2.0s sharing (2 + 3) / 2: 1.0 -> 1, 2.0 -> 2.5, 3.0 -> 4, 5.0 -> 5
    mid = np.array([4.0, 1.0, 2.5, 2.5, 5.0])
    np.testing.assert_allclose(OutputTransform("rank")(y), norm.ppf((mid - 0.5) / 5), rtol=0, atol=1e-12)
    # all tied: every value the normal score of the middle rank, 0
    np.testing.assert_allclose(OutputTransform("rank")(np.full(4, 7.0)), 0.0, atol=1e-12)
    # a rank transform reads only the order: any increasing map of y gives the same targets
    z = np.random.default_rng(0).integers(0, 6, 40).astype(float)
    np.testing.assert_array_equal(OutputTransform("rank")(z), OutputTransform("rank")(np.exp(z) - 3.0))


def test_standardize_is_the_z_score_and_a_constant_stays_finite():
    y = np.array([90.0, 80.0, 85.0, 70.0])
    t = OutputTransform("standardize")(y)
    np.testing.assert_allclose(t, (y - 81.25) / np.std(y), rtol=1e-12)
    assert t.mean() == pytest.approx(0.0, abs=1e-12) and t.std() == pytest.approx(1.0)
    np.testing.assert_array_equal(OutputTransform("standardize")(np.full(3, 5.0)), np.zeros(3))


@pytest.mark.parametrize("kind", ["rank", "standardize"])
def test_both_transforms_are_monotone_so_the_argmax_is_kept(kind):
    y = np.random.default_rng(1).integers(0, 10, 60).astype(float)  # many ties
    t = OutputTransform(kind)(y)
    less = y[:, None] < y[None, :]
    assert (t[:, None] < t[None, :])[less].all()
    assert (np.abs(t[:, None] - t[None, :]) < 1e-12)[y[:, None] == y[None, :]].all()
    assert y[np.argmax(t)] == y.max()


def test_unknown_output_transform_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown output transform 'log'"):
        OutputTransform("log")(np.ones(3))


# ------------------------------------------------------------------------------ kernel names
def test_every_combination_of_parts_parses_to_canonical_order():
    import itertools

    for r in range(1, len(KERNEL_PARTS) + 1):
        for parts in itertools.permutations(KERNEL_PARTS, r):
            got = parse_kernel("+".join(parts))
            assert got == tuple(p for p in KERNEL_PARTS if p in parts), parts
    assert parse_kernel(" wl + categorical ") == ("categorical", "wl")


@pytest.mark.parametrize("bad", ["rbf", "wl+wl", "categorical+rbf", "additive+categorical+additive", "+", None, 3])
def test_unknown_or_repeated_parts_are_config_errors(bad):
    with pytest.raises(ConfigError, match="unknown kernel"):
        parse_kernel(bad)


# ------------------------------------------------------------------------------ GP inputs
@pytest.mark.parametrize("kernel, width", [
    ("categorical", 6), ("additive", 6), ("categorical+additive", 6),
    ("wl", len(wl_vocabulary(2))), ("categorical+wl", 6 + len(wl_vocabulary(2))),
])
def test_cell_features_have_one_row_per_cell_and_the_kernels_columns(kernel, width):
    cells = list(POOL[:7])
    X = CellFeatures(kernel)(cells)
    assert X.shape == (7, width) and X.dtype == torch.float64
    feats = CellFeatures(kernel)
    if feats.n_cat:  # op ids first
        np.testing.assert_array_equal(X[:, :6].numpy(), np.array([c.ops for c in cells]))
    if "wl" in kernel:  # then the WL subtree counts, h = 2
        np.testing.assert_array_equal(X[:, feats.n_cat:].numpy(), wl_features(cells, h=2))


def test_op_prior_adds_one_score_column_on_a_fixed_scale():
    prior = np.full((6, 5), 0.1)
    prior[:, 3] = 0.6  # conv3x3 favoured on every edge
    feats = CellFeatures("categorical", op_prior=prior)
    cells = list(POOL[:50])
    X = feats(cells)
    assert X.shape == (50, 7) and feats.log_prior.shape == (6, 5)
    n_conv = np.array([c.ops.count(3) for c in cells])
    score = X[:, -1].numpy()
    # the score is the cell's log-probability under the prior: it grows with each conv3x3
    assert all(score[i] < score[j] for i in range(50) for j in range(50) if n_conv[i] < n_conv[j])
    # fixed once: the same cell scores the same whatever else is encoded with it
    assert feats(cells[3:4])[0, -1] == X[3, -1] and feats(cells[::-1])[-1, -1] == X[0, -1]
    for bad in (np.ones((5, 5)), -prior, np.full((6, 5), np.nan)):
        with pytest.raises(ConfigError, match="op_prior must be"):
            CellFeatures("categorical", op_prior=bad)


# ------------------------------------------------------------------------------ the fitted GP
@pytest.mark.parametrize("kernel, ratio", [("categorical", 0.6), ("categorical+additive", 0.35)])
def test_a_fit_on_twenty_cells_predicts_a_smooth_function_far_better_than_the_mean(kernel, ratio):
    model, feats, cells = _fitted(kernel, n=20)
    rest = [c for c in POOL[::13] if c not in set(cells)]
    truth = np.array([synthetic(c) for c in rest])
    y = np.array([synthetic(c) for c in cells])
    mean, _ = posterior_mean_var(model, feats(rest))
    pred = mean.numpy() * y.std() + y.mean()  # back from the standardised scale
    mse, mse_of_mean = np.mean((pred - truth) ** 2), np.mean((y.mean() - truth) ** 2)
    assert mse < ratio * mse_of_mean, (mse, mse_of_mean)
    assert 1e-4 <= noise_variance(model) < 0.5  # the landscape is noiseless: little noise is learned


@pytest.mark.parametrize("kernel, prior", [("wl", False), ("additive", False), ("categorical+wl", False),
                                           ("categorical+additive", True)])
def test_posterior_mean_var_is_gpytorchs_posterior(kernel, prior):
    op_prior = np.random.default_rng(2).dirichlet(np.ones(5), size=6) if prior else None
    model, feats, _ = _fitted(kernel, n=15, seed=1, op_prior=op_prior)
    X = feats(list(POOL[100:160]))
    mean, var = posterior_mean_var(model, X, chunk=16)
    with torch.no_grad():
        post = model.posterior(X)
    assert torch.allclose(mean, post.mean.squeeze(-1), atol=1e-6)
    assert torch.allclose(var, post.variance.squeeze(-1), atol=1e-6)
    if prior:
        assert type(model.mean_module).__name__ == "PriorScoreMean"


def test_joint_samples_are_seeded_and_have_the_posterior_mean_and_covariance():
    model, feats, cells = _fitted("categorical", n=12, seed=3)
    X = feats([cells[0]] + list(POOL[200:204]))  # a training cell (sharp) and four others
    a = joint_samples(model, X, 8, torch.Generator().manual_seed(5))
    assert a.shape == (8, 5) and torch.equal(a, joint_samples(model, X, 8, torch.Generator().manual_seed(5)))
    assert not torch.equal(a, joint_samples(model, X, 8, torch.Generator().manual_seed(6)))
    s = joint_samples(model, X, 20000, torch.Generator().manual_seed(0))
    with torch.no_grad():
        post = model.posterior(X)
    mean, cov = post.mean.squeeze(-1), post.covariance_matrix
    se = (cov.diagonal() / len(s)).sqrt()
    assert ((s.mean(0) - mean).abs() < 5 * se).all()
    emp = torch.cov(s.T)
    # a sample covariance entry has standard error about sqrt((s_ii s_jj + s_ij^2) / n)
    tol = 5 * ((cov.diagonal()[:, None] * cov.diagonal()[None, :] + cov**2) / len(s)).sqrt() + 1e-7
    assert ((emp - cov).abs() < tol).all()
    assert cov[0, 0] < cov.diagonal()[1:].min()  # and the training cell's value is the surest


def test_hyperparameters_round_trip_through_json_and_rebuild_the_same_posterior():
    model, feats, _ = _fitted("categorical+additive", n=15, seed=4)
    h = json.loads(json.dumps(hyperparameters(model)))
    assert h and all(isinstance(v, (list, float)) for v in h.values())
    X, Y = model.train_inputs[0], model.train_targets[:, None]
    rebuilt = fit_belief(X, Y, feats, init=h, optimize=False)  # as a resumed controller does
    assert hyperparameters(rebuilt) == hyperparameters(model)
    Xq = feats(list(POOL[300:340]))
    m1, v1 = posterior_mean_var(model, Xq)
    m2, v2 = posterior_mean_var(rebuilt, Xq)
    assert torch.allclose(m1, m2, atol=1e-10) and torch.allclose(v1, v2, atol=1e-10)
    default = fit_belief(X, Y, feats, optimize=False)  # the defaults: not the fitted belief
    assert hyperparameters(default) != h
    # set_hyperparameters copies what fits and leaves names or shapes that do not
    name = next(iter(h))
    set_hyperparameters(default, {**h, name: [1.0] * 99, "no.such.parameter": [0.0]})
    got = hyperparameters(default)
    assert got[name] != h[name] and all(got[k] == v for k, v in h.items() if k != name)


def test_entropy_in_nats():
    assert float(entropy(torch.full((4,), 0.25))) == pytest.approx(math.log(4))
    assert float(entropy(torch.tensor([1.0, 0.0, 0.0]))) == 0.0
    p = torch.tensor([[0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(entropy(p, dim=1).numpy(), [math.log(2), -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))])


def test_one_hot_hamming_kernels_equal_the_sums_of_mismatches_they_replace():
    # HammingKernel and AdditiveHammingKernel compute through one-hot codes; the definitions are
    # botorch's CategoricalKernel and a sum of scaled single-column ones, evaluated directly here
    from botorch.models.kernels.categorical import CategoricalKernel

    from boed_nas.bo.belief import AdditiveHammingKernel, HammingKernel

    g = torch.Generator().manual_seed(3)
    x1 = torch.randint(0, 5, (40, 6), generator=g).double()
    x2 = torch.randint(0, 4, (30, 6), generator=g).double()
    ls = torch.rand(1, 6, generator=g, dtype=torch.float64) * 3 + 0.1
    scales = torch.rand(6, generator=g, dtype=torch.float64) + 0.2

    ham, ref = HammingKernel(ard_num_dims=6).double(), CategoricalKernel(ard_num_dims=6).double()
    ham.lengthscale = ref.lengthscale = ls
    assert torch.allclose(ham.forward(x1, x2), ref.forward(x1, x2), rtol=0, atol=1e-12)
    assert torch.allclose(ham.forward(x1, x1[[3, 0] * 20], diag=True), ref.forward(x1, x1[[3, 0] * 20], diag=True), atol=1e-12)

    add = AdditiveHammingKernel(6).double()
    add.lengthscale = ls
    add.initialize(raw_outputscale=add.raw_outputscale_constraint.inverse_transform(scales))
    direct = sum(scales[i] * torch.exp(-(x1[:, None, i] != x2[None, :, i]).double() / ls[0, i]) for i in range(6))
    assert torch.allclose(add.forward(x1, x2), direct, rtol=0, atol=1e-12)
    assert torch.allclose(add.forward(x1, x1.flip(0), diag=True), torch.diagonal(
        sum(scales[i] * torch.exp(-(x1[:, None, i] != x1.flip(0)[None, :, i]).double() / ls[0, i]) for i in range(6))), atol=1e-12)
    # the belief's part has the priors of six separate scaled kernels, over one value per column
    from boed_nas.bo.belief import _additive_hamming

    part = _additive_hamming(6)
    assert {n for n, *_ in part.named_priors()} == {"lengthscale_prior", "outputscale_prior"}
    assert part.raw_lengthscale.shape == (1, 6) and part.raw_outputscale.shape == (6,)


def test_a_saved_fit_of_other_parameter_names_is_fitted_again_not_restored_half():
    model, feats, _ = _fitted("categorical+additive", n=15, seed=4)
    X, Y = model.train_inputs[0], model.train_targets[:, None]
    saved = hyperparameters(model)
    # the names a version with one ScaleKernel per edge saved: the additive part's are not loadable
    stale = {k.replace("kernels.1.base.", "kernels.1.base_kernel.base."): v for k, v in saved.items()}
    assert stale != saved
    assert set_hyperparameters(fit_belief(X, Y, feats, optimize=False), saved)
    assert not set_hyperparameters(fit_belief(X, Y, feats, optimize=False), stale)
    rebuilt = fit_belief(X, Y, feats, init=stale, optimize=False, seed=0)
    # fitted from the defaults: a fresh fit's model, not the defaults with half the saved values
    assert hyperparameters(rebuilt) == hyperparameters(fit_belief(X, Y, feats, seed=0))


def test_a_model_asked_for_its_posterior_is_freed_when_dropped():
    """The predictor cache is keyed weakly by the model and must not hold the model itself: every
    ask builds models (fits, fantasies), and each kept one holds its training Cholesky."""
    import gc
    import weakref

    from boed_nas.bo.belief import _PREDICTORS

    feats = CellFeatures("categorical")
    cells = list(POOL[:30])
    Y = torch.tensor(OutputTransform("standardize")(np.array([synthetic(c) for c in cells])))[:, None]
    model = fit_belief(feats(cells), Y, feats)
    posterior_mean_var(model, feats(POOL[:50]))
    assert model in _PREDICTORS
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
