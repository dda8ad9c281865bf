import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import drive  # noqa: E402
from pymoo.indicators.hv import HV

from boed_nas.bo.acquisition import DiscreteMaxValueEntropy
from boed_nas.bo.belief import (
    CellFeatures,
    fit_belief,
    noise_variance,
    posterior_mean_var,
)
from boed_nas.cli import main
from boed_nas.mo.controller import (
    MultiObjectiveBOED,
    expected_hypervolume_improvement,
    front_levels,
    gibbon_information_gain,
)
from boed_nas.mo.pareto import KnownCosts
from boed_nas.nb201.space import Cell, canonical_cells
from boed_nas.registry import make_strategy
from boed_nas.strategy import Strategy

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


@pytest.mark.parametrize("name", ["boed-mo", "nsga2", "mo-random"])
def test_failed_trials_are_not_proposed_again(name):
    from boed_nas.nb201.benchmark import NB201Benchmark

    kw = {"boed-mo": FAST, "nsga2": {"pop_size": 4}}.get(name, {})
    s = make_strategy(name, seed=0, objectives="accuracy,latency", costs="nb201:cifar10", **kw)
    bench, failed = NB201Benchmark("cifar10", seed=0), set()
    for i in range(10):
        (c,) = s.ask()
        if i % 3 == 0:
            s.tell(c, None)
            failed.add(c.canonical())
        else:
            s.tell(c, bench.evaluate(c))
    assert not {c.canonical() for c in s.ask(3)} & failed
    assert s.recommend().canonical() not in failed


def test_constrained_search_never_answers_with_a_cell_over_the_budget(c10):
    from boed_nas.nb201.benchmark import NB201Benchmark

    bound = float(np.quantile(c10.latency, 0.2))
    bench = NB201Benchmark("cifar10", seed=0)
    # the most accurate cell of the table is over the budget; tell it as the very first result
    best = max(range(len(c10.val_mean)), key=lambda c: c10.val_mean[c])
    assert c10.latency[best] > bound
    for name, kw in (("boed-mo", FAST), ("mo-random", {}), ("nsga2", {"pop_size": 4})):
        s = make_strategy(name, seed=0, objectives="accuracy", costs="nb201:cifar10",
                          constraints=[f"latency<={bound!r}"], **kw)
        s.tell(Cell.from_code(best), {"val_acc": 99.0})
        assert s.recommend() is None  # nothing feasible evaluated yet: no answer rather than a wrong one
        cells = drive(s, bench, 8)
        assert all(c10.latency[Cell.parse(c).code] <= bound for c in cells), name
        rec = s.recommend()
        assert rec is not None and c10.latency[rec.code] <= bound, name


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


def test_user_given_costs_work_and_must_be_passed_again_on_load(tmp_path):
    rng = np.random.default_rng(0)
    lat = rng.uniform(1, 2, 15625)
    s = make_strategy("mo-random", seed=0, objectives="accuracy,latency", costs={"latency": lat},
                      state_path=tmp_path / "r.json")
    (cell,) = s.ask()
    members = [c for c in range(15625) if Cell.from_code(c).canonical() == cell.canonical()]
    assert lat[cell.code] == lat[members].min()  # the cheapest member of the class is evaluated
    s.tell(cell, {"val_acc": 50.0})
    assert s.get_params()["costs"] is None
    r = Strategy.load(tmp_path / "r.json", costs=KnownCosts({"latency": lat}))
    assert [str(c) for c in r.ask(2)] == [str(c) for c in s.ask(2)]


@pytest.mark.parametrize("bad, msg", [
    ({"objectives": "accuracy,speed"}, "unknown objective 'speed'; expected one of"),
    ({"constraints": ["latency<=0"]}, "no cell satisfies the constraints"),
    ({"costs": "table:cifar10"}, "expected 'nb201:<dataset>'"),
])
def test_mo_strategies_reject_bad_input(bad, msg):
    for name in ("boed-mo", "nsga2"):
        with pytest.raises(ValueError, match=msg):
            make_strategy(name, **bad)


# ----------------------------------------------------------------------------- baselines
def test_nsga2_is_seeded_deduplicated_and_resumes_by_replay(tmp_path):
    from boed_nas.nb201.benchmark import NB201Benchmark

    a = make_strategy("nsga2", seed=3, objectives="accuracy,flops", costs="nb201:cifar10", pop_size=6,
                      state_path=tmp_path / "n.json")
    cells = drive(a, NB201Benchmark("cifar10", seed=3), 20)
    assert len({a.problem.class_of_code[o.cell.code] for o in a.history}) == 20
    pool = {str(c) for c in a.problem.pool}
    assert all(c in pool for c in cells)
    b = make_strategy("nsga2", seed=3, objectives="accuracy,flops", costs="nb201:cifar10", pop_size=6)
    assert drive(b, NB201Benchmark("cifar10", seed=3), 20) == cells
    resumed = Strategy.load(tmp_path / "n.json")
    assert [str(c) for c in resumed.ask(3)] == [str(c) for c in a.ask(3)]
    c = make_strategy("nsga2", seed=4, objectives="accuracy,flops", costs="nb201:cifar10", pop_size=6)
    assert drive(c, NB201Benchmark("cifar10", seed=4), 20) != cells


@pytest.fixture
def no_cpp_extension(monkeypatch):
    # qLogNEHVI compiles a C++ extension on first use (about a minute); botorch falls back to its
    # pure-Python path when the load was already attempted, which is what the test suite uses
    import botorch.acquisition.multi_objective.logei as logei

    monkeypatch.setattr(logei, "_load_attempted", True)
    monkeypatch.setattr(logei, "_C", None)


@pytest.mark.parametrize("name", ["qnehvi", "parego"])
def test_botorch_baselines_propose_feasible_pool_cells_reproducibly(name, no_cpp_extension, c10):
    from boed_nas.nb201.benchmark import NB201Benchmark

    bound = float(np.quantile(c10.latency, 0.5))
    kw = dict(objectives="accuracy,latency", costs="nb201:cifar10", constraints=[f"latency<={bound!r}"],
              n_init=5, mc_samples=16, chunk=2048)
    runs = []
    for _ in range(2):
        s = make_strategy(name, seed=2, **kw)
        runs.append(drive(s, NB201Benchmark("cifar10", seed=2), 7))
    assert runs[0] == runs[1]
    pool = {str(c) for c in s.problem.pool}
    assert all(c in pool and c10.latency[s.history[i].cell.code] <= bound for i, c in enumerate(runs[0]))
    assert len(s.recommend_front()) >= 1


# ----------------------------------------------------------------------------- CLI
def test_cli_search_reports_front_and_hypervolumes_that_recompute(tmp_path, capsys):
    out = tmp_path / "S"
    argv = ["search", "--objectives", "accuracy,latency", "--strategy", "nsga2", "--budget", "25", "--out", str(out)]
    assert main(argv) == 0
    s = json.loads((out / "summary.json").read_text())
    assert [o["name"] for o in s["objectives"]] == ["accuracy", "latency"]
    assert [o["direction"] for o in s["objectives"]] == ["maximize", "minimize"]
    ref = np.array([s["reference_point"]["accuracy"], s["reference_point"]["latency"]])
    F = np.array([[r["accuracy"], r["latency"]] for r in s["front"]])
    T = np.array([[r["accuracy"], r["latency"]] for r in s["true_front"]])
    hv, true_hv = HV(ref_point=ref * [-1, 1])(F * [-1, 1]), HV(ref_point=ref * [-1, 1])(T * [-1, 1])
    assert s["hypervolume"] == pytest.approx(hv) and s["true_hypervolume"] == pytest.approx(true_hv)
    assert s["hypervolume_ratio"] == pytest.approx(hv / true_hv) and 0 < s["hypervolume_ratio"] <= 1
    traj = pd.read_csv(out / "trajectory.csv")
    assert traj["hypervolume_ratio"].iloc[-1] == pytest.approx(s["hypervolume_ratio"])
    assert traj["hypervolume_ratio"].is_monotonic_increasing
    assert (out / "front.png").stat().st_size > 1000
    assert "hypervolume" in capsys.readouterr().out


def test_cli_constrained_search_and_bad_objectives(tmp_path, capsys):
    out = tmp_path / "C"
    assert main(["search", "--objectives", "accuracy", "--constraint", "latency<=0.01", "--strategy", "mo-random",
                 "--budget", "15", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["recommended_within_constraints"] and s["recommended_costs"]["latency"] <= 0.01
    assert s["constraints"] == {"latency": 0.01}
    assert main(["search", "--objectives", "accuracy,speed", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown objective 'speed'; expected one of ['accuracy', 'latency', 'flops', 'params']" in err
    assert main(["search", "--objectives", "accuracy,latency", "--strategy", "local", "--out", str(tmp_path / "y")]) == 2
    assert "strategy 'local' is single-objective" in capsys.readouterr().err


def test_cli_bench_gains_hypervolume_ratio_curves(tmp_path):
    out = tmp_path / "B"
    assert main(["bench", "--objectives", "accuracy,flops", "--strategies", "nsga2,mo-random", "--seeds", "2",
                 "--budget", "12", "--out", str(out)]) == 0
    traj = pd.read_csv(out / "trajectories.csv")
    assert {"hypervolume", "hypervolume_ratio", "objectives"} <= set(traj.columns)
    assert set(traj["strategy"]) == {"nsga2", "mo-random"} and len(traj) == 2 * 2 * 12
    assert (traj["hypervolume_ratio"] <= 1 + 1e-12).all()
    assert "| cifar10 | accuracy+flops | nsga2 | 2 | 12 |" in (out / "table.md").read_text()
    assert (out / "hypervolume_ratio.png").exists()


def test_cli_lambda_sweep_writes_one_search_per_lambda(tmp_path):
    out = tmp_path / "L"
    assert main(["search", "--objectives", "accuracy,flops", "--lambdas", "0,1000", "--budget", "6",
                 "--out", str(out)]) == 0
    sweep = pd.read_csv(out / "sweep.csv")
    assert sweep["lambda"].tolist() == [0, 1000] and "flops" in sweep.columns
    for lam in ("0", "1000"):
        s = json.loads((out / f"lambda_{lam}" / "summary.json").read_text())
        assert s["strategy"] == "boed-mo" and s["lambda"] == float(lam)
        assert s["recommended_utility_regret"] >= 0
    # at lambda = 1000 points per MFLOP only the cheapest evaluated cell can be the answer
    s = json.loads((out / "lambda_1000" / "summary.json").read_text())
    t = pd.read_csv(out / "lambda_1000" / "trajectory.csv")
    from boed_nas.nb201.benchmark import NB201Benchmark

    flops = NB201Benchmark("cifar10").flops_M
    assert s["recommended_costs"]["flops"] == min(flops[Cell.from_str(c).code] for c in t["cell"])
    with pytest.raises(SystemExit):
        main(["search", "--lambdas"])
