"""Multi-objective BOED (boed_nas.mo.controller): the acquisition pieces and the boed-mo strategy."""

import numpy as np
import pytest
import torch
from pymoo.indicators.hv import HV

from boed_nas.bo.acquisition import DiscreteMaxValueEntropy
from boed_nas.bo.belief import (
    CellFeatures,
    fit_belief,
    noise_variance,
    posterior_mean_var,
)
from boed_nas.mo.controller import (
    MultiObjectiveBOED,
    expected_hypervolume_improvement,
    front_levels,
    gibbon_information_gain,
)
from boed_nas.nb201.space import Cell, canonical_cells
from boed_nas.strategy import Strategy
from tests.helpers import drive

FAST = {"n_samples": 64, "plausible_size": 256, "n_init": 6}  # a small belief keeps the tests quick


# ----------------------------------------------------------------------------- acquisition pieces
@pytest.mark.parametrize("k", [0, 1, 2])
def test_front_levels_agree_with_brute_force(k):
    rng = np.random.default_rng(k)
    values = torch.tensor(rng.normal(size=(5, 40)))
    costs = rng.integers(0, 6, size=(40, k)).astype(float)  # ties included
    query = rng.integers(-1, 7, size=(30, k)).astype(float)
    got = front_levels(values, costs, query)
    for s in range(5):
        for x in range(30):
            dom = (costs <= query[x]).all(1)
            want = values[s, torch.as_tensor(dom)].max() if dom.any() else -torch.inf
            assert float(got[s, x]) == pytest.approx(float(want))


def test_information_gain_with_shared_thresholds_is_botorch_gibbon():
    # with one threshold per sample shared by all candidates, the hand-written form must be
    # botorch's qLowerBoundMaxValueEntropy (GIBBON) exactly
    cells = list(canonical_cells()[:300])
    feats = CellFeatures("categorical")
    X = feats(cells)
    y = torch.tensor(np.random.default_rng(0).normal(size=(25, 1)))
    model = fit_belief(X[:25], y, feats, seed=0)
    maxes = torch.tensor([1.2, 1.5, 2.0, 2.6])
    ref = DiscreteMaxValueEntropy(model, X[:1], maxes)(X[25:].unsqueeze(-2))
    mean, var = posterior_mean_var(model, X[25:])
    ours = gibbon_information_gain(mean, var, maxes[:, None].expand(4, len(mean)), noise_variance(model))
    assert torch.allclose(ours, ref, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("k", [1, 2])
def test_exact_ehvi_is_pymoo_hypervolume_improvement(k):
    # with a sure value (variance ~0) EHVI is the hypervolume a point adds, which pymoo computes
    # by its own algorithm; with uncertainty it is a Monte Carlo average of those
    rng = np.random.default_rng(10 + k)
    fv, fc = rng.uniform(0, 1, 7), rng.integers(0, 5, size=(7, k)).astype(float)  # cost ties included
    ref = [-0.1] + [5.5] * k
    hv = HV(ref_point=np.array([0.1] + [5.5] * k))
    base = hv(np.column_stack([-fv, fc]))

    def hvi(f, c):
        return hv(np.vstack([np.column_stack([-fv, fc]), np.r_[-f, c]])) - base

    qc = rng.integers(0, 6, size=(40, k)).astype(float)
    mu = torch.tensor(rng.uniform(-0.2, 1.1, 40))
    sure = expected_hypervolume_improvement(mu, torch.full((40,), 1e-14), qc, fv, fc, ref)
    assert np.allclose(sure.numpy(), [hvi(float(m), c) for m, c in zip(mu, qc)], atol=1e-6)
    assert (sure > 0).any() and (sure == 0).any()
    draws = np.random.default_rng(0).normal(0.6, 0.3, 20000)
    got = float(expected_hypervolume_improvement(torch.tensor([0.6]), torch.tensor([0.09]), qc[:1], fv, fc, ref))
    mc = np.mean([hvi(f, qc[0]) for f in draws])
    assert got == pytest.approx(mc, rel=0.03, abs=1e-3)


# ----------------------------------------------------------------------------- boed-mo
def test_boed_mo_proposes_pool_members_deterministically_and_resumes(c10, tmp_path):
    from boed_nas.nb201.benchmark import NB201Benchmark

    a = MultiObjectiveBOED(objectives="accuracy,latency", costs="nb201:cifar10", seed=1, acquisition="pfes", **FAST,
                           state_path=tmp_path / "s.json")
    cells = drive(a, NB201Benchmark("cifar10", seed=1), 9)
    pool = {str(c) for c in a.problem.pool}
    assert all(c in pool for c in cells)  # the cheapest member of each class
    assert len({a.problem.class_of_code[o.cell.code] for o in a.history}) == 9
    assert a.reports and a.reports[-1]["n_plausible"] >= 2
    resumed = Strategy.load(tmp_path / "s.json")
    assert resumed.get_params() == a.get_params()
    b = MultiObjectiveBOED(objectives="accuracy,latency", costs="nb201:cifar10", seed=1, acquisition="pfes", **FAST)
    bench = NB201Benchmark("cifar10", seed=1)
    assert drive(b, bench, 9) == cells
    nxt = [str(c) for c in a.ask(1)]
    assert [str(c) for c in resumed.ask(1)] == nxt == [str(c) for c in b.ask(1)]
    front = a.recommend_front()
    assert front and a.recommend() in front


def test_boed_mo_ehvi_acquisition_proposes_new_feasible_cells(c10):
    from boed_nas.nb201.benchmark import NB201Benchmark

    s = MultiObjectiveBOED(objectives="accuracy,flops,latency", costs="nb201:cifar10", acquisition="ehvi", seed=2,
                           **FAST)
    cells = drive(s, NB201Benchmark("cifar10", seed=2), 9)
    assert len({s.problem.class_of_code[Cell.parse(c).code] for c in cells}) == 9
    assert s.reports[-1]["max_ehvi"] > 0 and s.reports[-1]["front_size"] >= 1
    with pytest.raises(ValueError, match="'ehvi' needs a front"):
        MultiObjectiveBOED(objectives="accuracy", constraints=["latency<=0.02"], acquisition="ehvi")
    with pytest.raises(ValueError, match="unknown acquisition 'qehvi'"):
        MultiObjectiveBOED(acquisition="qehvi")
    # the default: EHVI for a front, information gain where there is none (constraint, scalarisation)
    assert MultiObjectiveBOED(objectives="accuracy,latency").acquisition == "ehvi"
    assert MultiObjectiveBOED(objectives="accuracy", constraints=["latency<=0.02"]).acquisition == "pfes"
    assert MultiObjectiveBOED(objectives="accuracy,flops", scalarization=0.1).acquisition == "pfes"
    # the GP's target: ranks for a front (measured), raw-scale standardisation for a linear utility
    assert MultiObjectiveBOED(objectives="accuracy,latency").output_transform == "rank"
    assert MultiObjectiveBOED(objectives="accuracy,latency", output_transform="standardize").output_transform == "standardize"
    assert MultiObjectiveBOED(objectives="accuracy,flops", scalarization=0.1).output_transform == "standardize"
    with pytest.raises(ValueError, match="scalarization needs output_transform='standardize'.*got output_transform='rank'"):
        MultiObjectiveBOED(objectives="accuracy,flops", scalarization=0.1, output_transform="rank")


def test_boed_mo_can_take_its_candidates_from_nsga2_on_the_posterior(c10):
    from boed_nas.nb201.benchmark import NB201Benchmark

    kw = dict(objectives="accuracy,latency", costs="nb201:cifar10", candidates="nsga2", nsga2_generations=3,
              nsga2_pop_size=10, seed=4, **FAST)
    a = MultiObjectiveBOED(**kw)
    cells = drive(a, NB201Benchmark("cifar10", seed=4), 8)
    assert cells == drive(MultiObjectiveBOED(**kw), NB201Benchmark("cifar10", seed=4), 8)
    pool = {str(c) for c in a.problem.pool}
    assert all(c in pool for c in cells)
    # only the classes NSGA-II visited (and those taken) were scored, not the whole pool
    assert 0 < a.reports[-1]["n_candidates"] <= 3 * 10 + 1
    with pytest.raises(ValueError, match="unknown candidates 'grid'"):
        MultiObjectiveBOED(candidates="grid")


def test_scalarised_search_recommends_by_accuracy_minus_lambda_cost(c10):
    from boed_nas.nb201.benchmark import NB201Benchmark

    with pytest.raises(ValueError, match="exactly one cost objective"):
        MultiObjectiveBOED(objectives="accuracy,latency,flops", scalarization=1.0)
    with pytest.raises(ValueError, match="lambda"):
        MultiObjectiveBOED(objectives="accuracy,flops", scalarization=-1.0)
    lam = 0.05  # accuracy points per MFLOP: trades ~20 points across the FLOPs range
    s = MultiObjectiveBOED(objectives="accuracy,flops", costs="nb201:cifar10", scalarization=lam, seed=0, **FAST)
    drive(s, NB201Benchmark("cifar10", seed=0), 8)
    obs = [o for o in s.history if not o.outcome.failed]
    est = s._estimates(obs)
    m, sd = s._y_scale()
    util = m + sd * est - lam * c10.flops_M[[o.cell.code for o in obs]]
    assert s.recommend() == obs[int(np.argmax(util))].cell
    assert s.get_params()["scalarization"] == lam


def test_boed_mo_refuses_random_turns_it_would_not_draw():
    from boed_nas import make_strategy
    from boed_nas.errors import ConfigError

    assert make_strategy("boed-mo").config.random_every == 0
    with pytest.raises(ConfigError, match="random_every=3: .* boed-mo does not draw them"):
        make_strategy("boed-mo[random_every=3]")
