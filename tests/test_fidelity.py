"""Fidelities: the declaration, the space of (configuration, level) points, NB201's 12-epoch level,
boed's belief and acquisition per unit cost, ASHA and Hyperband, the loop and resume."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from boed_nas import Strategy, make_strategy
from boed_nas.bo.acquisition import EntropySearch, MaxValueEntropySearch, PoolBelief
from boed_nas.bo.fidelity import FidelityPoolBelief, MultiFidelityEntropySearch, MultiFidelityMaxValueEntropy
from boed_nas.outcome import Outcome
from boed_nas.engine import InProcessEngine
from boed_nas.errors import ConfigError, SpaceError
from boed_nas.experiment.loop import run_objective, run_search
from boed_nas.experiment.run import SearchRun, run_nb201
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import Cell
from boed_nas.spaces import AtFidelity, Categorical, Fidelity, FidelitySpace, Space
from tests.helpers import killed_and_resumed

SMALL = "boed[n_init=3,n_samples=32,plausible_size=64]"
FID = "epochs=12,200"


# ----------------------------------------------------------------------------- the declaration
def test_a_fidelity_reads_its_spec_and_defaults_costs_to_the_levels():
    f = Fidelity.parse("epochs=1,2,4,8")
    assert f.levels == [1, 2, 4, 8] and f.target == 8 and f.costs == [0.125, 0.25, 0.5, 1.0]
    assert Fidelity.parse(f.spec) == f
    g = Fidelity.parse("estimate=supernet,trained;costs=0.5,50")
    assert g.levels == ["supernet", "trained"] and g.costs == [0.01, 1.0] and Fidelity.parse(g.spec) == g
    assert Fidelity("epochs", [12, 200]).cost(12) == pytest.approx(0.06)


def test_learned_costs_are_each_levels_median_and_rescale_the_prior_of_a_level_not_measured():
    f = Fidelity.parse("estimate=supernet,2,8;costs=learned")  # names among the levels: every level alike
    assert f.learn_costs and f.costs == [1.0, 1.0, 1.0] and Fidelity.parse(f.spec) == f
    assert f.learned_costs([]) == [1.0, 1.0, 1.0]  # nothing measured: the prior
    # supernet median 0.2, 8 epochs 10: the 2-epoch level takes its prior times the median scale
    learned = f.learned_costs([("supernet", 0.1), ("supernet", 0.2), ("supernet", 0.3), (8, 10.0), (8, 0.0), (2, float("nan"))])
    assert learned == pytest.approx([0.02, np.sqrt(0.2 * 10.0) / 10.0, 1.0])
    g = Fidelity("epochs", [1, 2, 4, 8], costs="learned")  # numbers: the prior is the levels' ratios
    assert g.costs == [0.125, 0.25, 0.5, 1.0] and g.spec == "epochs=1,2,4,8;costs=learned"
    assert g.learned_costs([(1, 3.0)]) == pytest.approx(g.costs)  # one level measured rescales, not reshapes
    h = Fidelity("estimate", ["supernet", 8], costs=[0.02, 1], learn_costs=True)  # learned from a prior given
    assert h.spec == "estimate=supernet,8;costs=0.02,1,learned" and Fidelity.parse(h.spec) == h
    assert Fidelity.parse(h.spec) != Fidelity("estimate", ["supernet", 8], costs=[0.02, 1])
    k = Fidelity("epochs", [1, 2], costs=[1, 1], learn_costs=True)  # a prior that is not the default is kept
    assert Fidelity.parse(k.spec).costs == [1.0, 1.0]
    with pytest.raises(ConfigError, match="'learned'"):
        Fidelity("epochs", [1, 2], costs="measured")


def test_boed_learns_each_levels_cost_from_what_was_told_and_resumes_with_it(tmp_path):
    s = make_strategy(SMALL, seed=0, space=_toy(), fidelity="epochs=1,3;costs=learned", state_path=tmp_path / "s.json")
    assert s.level_costs() == pytest.approx([1 / 3, 1.0])  # the prior before anything is measured
    seconds = {1: 2.0, 3: 40.0}  # the cheap level costs 1/20 of the target, not the levels' 1/3
    while not any(o.cell.level == 3 for o in s.history):
        (p,) = s.ask()
        s.tell(p, Outcome(metrics=_score(p.config, p.level), cost=seconds[p.level]))
    assert s.level_costs() == pytest.approx([0.05, 1.0])
    (p,) = s.ask()  # what the acquisition divides by
    belief = s.pool_belief(*_fitted(s), s._generator(0))
    assert belief.cost.unique().tolist() == pytest.approx([0.05, 1.0])
    assert Strategy.load(tmp_path / "s.json", space=_toy()).level_costs() == pytest.approx([0.05, 1.0])  # a function of the history
    given = make_strategy(SMALL, seed=0, space=_toy(), fidelity="epochs=1,3")
    assert given.level_costs() == [pytest.approx(1 / 3), 1.0]


def _fitted(s):
    model, idx = s.fit()
    return model, idx, []


def test_an_objective_that_reports_no_cost_is_charged_the_seconds_it_took(tmp_path):
    def objective(config, level):
        return _score(config, level)  # no cost: the loop charges the evaluation's measured seconds

    s = make_strategy(SMALL, seed=0, space=_toy(), fidelity="epochs=1,3;costs=learned")
    traj = run_objective(s, objective, 5, out=tmp_path / "r")
    assert traj["cost"].gt(0).all() and all(o.outcome.cost > 0 for o in s.history)
    logged = [json.loads(line)["outcome"]["cost"] for line in (tmp_path / "r" / "evaluations.jsonl").read_text().splitlines()]
    assert logged == pytest.approx([o.outcome.cost for o in s.history])  # logged as told: a resume tells the same


@pytest.mark.parametrize("bad", ["epochs", "epochs=12", "epochs=12,200;target=50", "x=a,b", "epochs=12,200;costs=1,-1",
                                 "epochs=12,12", "epochs=12,200;costs=soon", "epochs=12,200;costs=learned,1"])
def test_a_bad_fidelity_is_refused_by_name(bad):
    with pytest.raises(ConfigError, match="fidelity"):
        Fidelity.parse(bad)


@pytest.mark.parametrize("bad, says", [
    ("epochs=8,4,2", r"levels \[8, 4, 2\] must increase, cheapest first \(e.g. \[2, 4, 8\]"),
    ("epochs=8,4,2;target=8", r"levels \[8, 4, 2\] must increase"),
    ("epochs=2,1;costs=learned", r"levels \[2, 1\] must increase"),
    ("epochs=1,2;costs=5,1", r"level 1 costs 5, more than the next level 2 \(1\)"),
    ("epochs=1,2,4;costs=0.1,0.5,0.3", r"level 2 costs 0.5, more than the next level 4 \(0.3\)"),
    ("estimate=supernet,trained;costs=2,1", r"level 'supernet' costs 2, more than the next level 'trained'"),
])
def test_levels_go_cheapest_first(bad, says):
    with pytest.raises(ConfigError, match=says):
        Fidelity.parse(bad)


@pytest.mark.parametrize("good, target", [
    ("epochs=1,2,4,8;target=4", 4),  # a target before the last: the levels above it cost more
    ("estimate=supernet,trained;costs=0.01,1", "trained"),
    ("estimate=supernet,8;costs=0.02,1,learned", 8),
    ("estimate=supernet,2,8;costs=learned", 8),  # names among the levels: every level alike, in the order given
    ("epochs=1,2;costs=1,1", 2),
    ("res=64,32;costs=0.25,1", 32),  # costs of their own order the levels, not the numbers
])
def test_levels_in_cost_order_are_taken(good, target):
    f = Fidelity.parse(good)
    assert f.target == target and Fidelity.parse(f.spec) == f


def test_points_round_trip_and_a_bare_configuration_is_the_target_level():
    space = FidelitySpace(Space([Categorical("a", ["x", "y"])], name="s"), "epochs=1,4")
    p = space.parse({"a": "y"})
    assert p.level == 4 and space.parse(space.format(AtFidelity(p.config, 1))) == AtFidelity(p.config, 1)
    assert space.key(AtFidelity(p.config, 1)) != space.key(p) and space.n_distinct == 4
    assert [q.level for q in space.enumerate()] == [1, 1, 4, 4]  # level-major
    with pytest.raises(SpaceError, match="level"):
        space.parse(AtFidelity(p.config, 3))


def test_a_strategy_that_evaluates_at_one_fidelity_refuses_one():
    with pytest.raises(ConfigError, match="asha"):
        make_strategy("random", fidelity=FID)


def test_a_space_may_declare_its_fidelity():
    space = Space([Categorical("a", ["x", "y", "z"])], name="s", fidelity="epochs=1,4")
    s = make_strategy("boed", space=space)
    assert isinstance(s.space, FidelitySpace) and s.space.fidelity == Fidelity("epochs", [1, 4])
    assert make_strategy("boed", space=space, fidelity="epochs=2,4").space.levels == [2, 4]  # the strategy's wins
    with pytest.raises(ConfigError, match="fidelity"):
        make_strategy("random", space=space)


# ----------------------------------------------------------------------------- NB201's 12-epoch level
def test_nb201_answers_at_12_epochs_from_the_12_epoch_column_alone_and_charges_12_of_200():
    bench = NB201Benchmark("cifar100", seed=0)
    cell = Cell.parse(123)
    look = bench.lookup(cell)
    bench._val_seeds[:] = np.nan  # a 12-epoch query must not read a 200-epoch value
    out = bench.evaluate(cell, 12)
    assert out.metrics["val_acc"] == bench.val_12(cell) and np.isfinite(out.metrics["val_acc"])
    assert out.cost == pytest.approx(look["train_time"] * 12 / 200)
    assert bench.evaluate(cell, 12).cost == 0.0  # the same training again: from the cache
    with pytest.raises(ConfigError, match="epochs"):
        bench.evaluate(cell, 50)


# ----------------------------------------------------------------------------- the acquisition
def test_mes_per_unit_cost_at_the_target_level_is_gibbon():
    g = torch.Generator().manual_seed(0)
    n = 40
    mean, var = torch.randn(n, generator=g, dtype=torch.float64), torch.rand(n, generator=g, dtype=torch.float64) + 0.1
    samples = torch.randn(64, 10, generator=g, dtype=torch.float64) + 1.0
    cand = torch.arange(5, n)
    common = dict(model=None, X=None, mean=mean, var=var, plausible=torch.arange(10), samples=samples,
                  candidates=cand, noise_var=0.05, incumbent=0.0)
    plain = MaxValueEntropySearch()(PoolBelief(**common), g)
    idx = torch.arange(n)
    mf = MultiFidelityMaxValueEntropy()(FidelityPoolBelief(**common, twin=idx, cross=var.clone(),
                                                           cost=torch.ones(n, dtype=torch.float64)), g)
    assert torch.allclose(mf, plain, rtol=1e-5, atol=1e-8)
    # an uncorrelated cheaper level teaches nothing; a perfectly correlated one, per unit cost, more
    half = FidelityPoolBelief(**common, twin=idx, cross=torch.zeros(n, dtype=torch.float64),
                              cost=torch.full((n,), 0.1, dtype=torch.float64))
    assert torch.all(MultiFidelityMaxValueEntropy()(half, g) < 1e-8)


def test_es_per_unit_cost_at_the_target_level_is_es_and_a_level_teaches_through_its_correlation():
    g = torch.Generator().manual_seed(0)
    n = 40
    mean, var = torch.randn(n, generator=g, dtype=torch.float64), torch.rand(n, generator=g, dtype=torch.float64) + 0.1
    samples = torch.randn(256, 10, generator=g, dtype=torch.float64) + 1.0
    common = dict(model=None, X=None, mean=mean, var=var, plausible=torch.arange(10), samples=samples,
                  candidates=torch.arange(n), noise_var=0.05, incumbent=0.0)
    plain = EntropySearch()(PoolBelief(**common), torch.Generator().manual_seed(1))
    idx, one = torch.arange(n), torch.ones(n, dtype=torch.float64)
    mf = MultiFidelityEntropySearch()(FidelityPoolBelief(**common, twin=idx, cross=var.clone(), cost=one),
                                      torch.Generator().manual_seed(1))
    assert torch.allclose(mf, plain, rtol=1e-6, atol=1e-9) and mf[:10].gt(0).all() and mf[10:].eq(0).all()
    # points 20-39 a cheaper level of 0-19: uncorrelated teaches nothing, a weaker correlation less, a
    # tenth of the cost more per unit cost
    twin = torch.cat([idx[:20], idx[:20]])
    cross = torch.cat([var[:20], var[:20] * 0.0])
    cheap = torch.cat([one[:20], one[:20] * 0.1])
    b = FidelityPoolBelief(**{**common, "var": torch.cat([var[:20], var[:20]])}, twin=twin, cross=cross, cost=cheap)
    assert MultiFidelityEntropySearch()(b, torch.Generator().manual_seed(1))[20:].eq(0).all()
    b.cross = torch.cat([var[:20], var[:20] * 0.4])
    weak = MultiFidelityEntropySearch()(b, torch.Generator().manual_seed(1))
    assert torch.all(weak[20:30] * 0.1 < weak[:10]) and torch.all(weak[20:30] > weak[:10])


def test_the_default_signals_are_the_shipped_ones_without_a_fidelity_and_none_with_one(tmp_path):
    plain = make_strategy("boed", seed=0)
    assert plain.config.signals == "auto" and plain.get_params()["signals"]  # NB201's shipped signals
    with_fidelity = make_strategy("boed", seed=0, fidelity=FID, state_path=tmp_path / "s.json")
    assert with_fidelity.get_params()["signals"] is None
    assert with_fidelity.features.base.n_mean == 0  # no signal column in the prior mean
    asked = with_fidelity.ask()
    resumed = Strategy.load(tmp_path / "s.json")
    assert resumed.get_params()["signals"] is None and list(resumed.pending.values()) == asked
    shipped = make_strategy("boed[signals=shipped]", seed=0, fidelity=FID)
    assert shipped.get_params()["signals"] == plain.get_params()["signals"]  # asked for by name: kept


def test_the_default_level_kernel_fixes_the_correlation_at_one_and_icm_learns_it(tmp_path):
    spec = "boed[n_init=3,n_samples=32,plausible_size=64,acquisition=es{}]"
    s = make_strategy(spec.format(""), seed=0, space=_toy(), fidelity="epochs=1,3")
    run_objective(s, _score, 8)
    kernel = s.fit()[0].covar_module
    assert s.config.level_kernel == "scaled" and kernel.scaled
    assert torch.equal(kernel.correlation, torch.ones(2, 2, dtype=torch.float64))
    icm = make_strategy(spec.format(",level_kernel=icm"), seed=0, space=_toy(), fidelity="epochs=1,3",
                        state_path=tmp_path / "s.json")
    run_objective(icm, _score, 8)
    assert Strategy.load(tmp_path / "s.json", space=_toy()).config.level_kernel == "icm"  # resumed as it was made
    fitted = icm.fit()[0].covar_module
    assert not fitted.scaled and 0 < float(fitted.correlation.detach()[0, 1]) < 1
    with pytest.raises(ConfigError, match="unknown level_kernel 'ar1'"):
        make_strategy("boed[level_kernel=ar1]", fidelity=FID)
    # without a fidelity there are no levels: either value is kept (a saved state's) and unused
    assert make_strategy("boed[level_kernel=icm]").get_params()["level_kernel"] == "icm"


# ----------------------------------------------------------------------------- boed with a fidelity
def test_boed_with_a_fidelity_climbs_levels_charges_each_and_recommends_at_the_target():
    run = SearchRun(strategy=SMALL, dataset="cifar100", seed=3, budget=16, workers=2, clock="simulated", fidelity=FID)
    strategy, traj, summary = run_nb201(run, None)
    assert all(isinstance(o.cell, AtFidelity) for o in strategy.history)
    assert set(traj["fidelity"]) <= {12, 200} and (traj["fidelity"] == 12).sum() >= 3  # the design: 12 epochs
    bench = NB201Benchmark("cifar100", seed=3)
    for o, cost in zip(strategy.history, traj["cost"]):  # every level charged: 12/200 of the 200-epoch time
        full = bench.lookup(o.cell.config)["train_time"]
        assert cost == pytest.approx(full * (12 / 200 if o.cell.level == 12 else 1.0))
    levels: dict = {}
    for o in strategy.history:  # never a cheaper level after a dearer one of the same network
        key = o.cell.config.canonical().code
        assert o.cell.level > levels.get(key, 0)
        levels[key] = o.cell.level
    rec = strategy.recommend()
    assert isinstance(rec, AtFidelity) and rec.level == 200
    assert summary["evaluations_per_level"] == {str(k): int(v) for k, v in traj.groupby("fidelity").size().items()}
    at_target = traj[traj["fidelity"] == 200]
    if len(at_target):  # the running best counts target-level values only
        assert traj["best_val_so_far"].max() == at_target["val_acc"].max()


def test_a_multi_fidelity_run_stopped_and_resumed_is_the_uninterrupted_run(tmp_path):
    def run(budget, out, resume=False):
        r = SearchRun(strategy=SMALL, dataset="cifar10", seed=1, budget=budget, fidelity=FID)
        run_nb201(r, out, resume=resume, plots=False)
        return pd.read_csv(out / "trajectory.csv")

    whole = run(12, tmp_path / "whole")
    run(7, tmp_path / "part")
    resumed = run(12, tmp_path / "part", resume=True)
    cols = ["query", "cell", "fidelity", "val_acc", "cost", "recommended_cell"]
    pd.testing.assert_frame_equal(resumed[cols], whole[cols])
    loaded = Strategy.load(tmp_path / "part" / "state.json")
    assert loaded.space.fidelity == Fidelity.parse(FID) and len(loaded.history) == 12


def test_kill_9_in_a_multi_fidelity_search_resumes_without_losing_or_repeating(tmp_path):
    args = ["search", "--strategy", SMALL, "--dataset", "cifar100", "--budget", "12", "--seed", "1", "--fidelity", FID]
    _, killed, before = killed_and_resumed(tmp_path, args, at=6)
    assert 6 <= before < 12
    cols = ["query", "cell", "fidelity", "val_acc", "best_cell"]
    pd.testing.assert_frame_equal(pd.read_csv(killed / "trajectory.csv")[cols],
                                  pd.read_csv(tmp_path / "whole" / "trajectory.csv")[cols])
    logged = [json.loads(line)["cell"] for line in (killed / "evaluations.jsonl").read_text().splitlines()]
    assert len(logged) == len(set(logged)) == 12


def test_acquisitions_other_than_mes_and_es_are_refused_with_a_fidelity():
    with pytest.raises(ConfigError, match="'es'"):
        make_strategy("boed[acquisition='ei']", fidelity=FID)


# ----------------------------------------------------------------------------- ASHA and Hyperband
def _toy():
    return Space([Categorical("a", list("abcdefgh")), Categorical("b", list("abcdefgh"))], name="toy")


def _score(config, level):
    return {"val_acc": "abcdefgh".index(config["a"]) + "abcdefgh".index(config["b"]) + 0.1 * level}


def test_asha_promotes_the_top_third_of_a_rung():
    s = make_strategy("asha", seed=0, space=_toy(), fidelity="epochs=1,3")
    for _ in range(3):
        (p,) = s.ask()
        assert p.level == 1
        s.tell(p, _score(*p))
    best = max(s.history, key=lambda o: o.outcome.metrics["val_acc"]).cell
    (p,) = s.ask()
    assert p == AtFidelity(best.config, 3)  # 1 of 3 results is the top third


def test_hyperband_draws_brackets_as_synchronous_hyperband_sizes_them():
    s = make_strategy("hyperband", seed=0, space=_toy(), fidelity="epochs=1,3")
    assert np.allclose(s.bracket_probabilities(), [0.6, 0.4])
    levels = [s.ask()[0].level for _ in range(20)]
    assert set(levels) == {1, 3}


def test_run_objective_calls_the_objective_with_the_level_and_records_it(tmp_path):
    calls = []

    def objective(config, level):
        calls.append(level)
        return _score(config, level)

    for name in ("asha", "boed[n_init=3,n_samples=32,plausible_size=64]"):
        calls.clear()
        s = make_strategy(name, seed=0, space=_toy(), fidelity="epochs=1,3")
        traj = run_objective(s, objective, 10, engine=None, out=tmp_path / name.split("[")[0])
        assert list(traj["fidelity"]) == calls and set(calls) <= {1, 3}
        rec = s.recommend()
        assert rec is None or rec.level == 3


def test_a_space_without_a_fidelity_saves_no_fidelity():
    s = make_strategy("boed", seed=0)
    assert "fidelity" not in s.get_params() and not isinstance(s.space, FidelitySpace)
    bench = NB201Benchmark("cifar10", seed=0)
    traj = run_search(make_strategy("random", seed=0), bench, 3, engine=InProcessEngine(bench.evaluate))
    assert "fidelity" not in traj.columns


def test_boed_with_a_fidelity_on_a_space_too_large_to_enumerate():
    big = Space([Categorical(f"v{i}", list(range(10))) for i in range(10)], name="big")
    assert not big.enumerable
    s = make_strategy("boed[n_init=3,n_samples=32,plausible_size=64]", seed=0, space=big, fidelity="epochs=1,4")
    for _ in range(5):  # the design, then two picks over a generated pool of every configuration at both levels
        (p,) = s.ask()
        s.tell(p, {"val_acc": sum(p.config.values()) + 0.5 * p.level})
    assert len(s.pool) == 2 * s.pool.n_configs > 2000
    rec = s.recommend()
    assert rec is None or rec.level == 4


def test_the_search_command_says_what_each_level_took(tmp_path, capsys):
    from boed_nas.cli import main

    assert main(["search", "--fidelity", FID, "--dataset", "cifar10", "--budget", "4", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "evaluations per level: 12: 4 (training time" in out  # the design runs at the cheapest level
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["evaluations_per_level"] == {"12": 4} and summary["fidelity"] == FID
    learned = FID + ";costs=learned"
    assert main(["search", "--fidelity", learned, "--dataset", "cifar10", "--budget", "3", "--out", str(tmp_path / "l")]) == 0
    assert "relative cost per level, learned: 12: 0.06, 200: 1" in capsys.readouterr().out
    assert json.loads((tmp_path / "l" / "summary.json").read_text())["learned_relative_costs"] == pytest.approx(
        {"12": 0.06, "200": 1.0})


def test_the_search_command_runs_a_fidelity_on_a_space_of_your_own_and_resumes_it(tmp_path, capsys):
    from boed_nas.cli import main

    user = "tests.spaces.user_objective"
    args = ["search", "--space", f"{user}:SPACE", "--objective", f"{user}:objective_at_level", "--fidelity",
            "epochs=1,2,4,8", "--strategy", SMALL, "--seed", "0", "--out", str(tmp_path / "r")]
    assert main([*args, "--budget", "8"]) == 0
    out = capsys.readouterr().out
    assert "evaluations per level: 1: " in out and ", 8: " in out  # every level named, cheapest first
    traj = pd.read_csv(tmp_path / "r" / "trajectory.csv")
    assert set(traj["fidelity"]) <= {1, 2, 4, 8} and (traj["fidelity"] == 1).sum() >= 3  # the design: 1 epoch
    assert json.loads((tmp_path / "r" / "run.json").read_text())["fidelity"] == "epochs=1,2,4,8"
    assert main([*args, "--budget", "10", "--resume"]) == 0
    resumed = pd.read_csv(tmp_path / "r" / "trajectory.csv")
    assert len(resumed) == 10 and resumed.iloc[:8]["config"].tolist() == traj["config"].tolist()


def test_points_as_named_parameters_round_trip_and_the_fidelity_may_not_take_a_variables_name():
    space = FidelitySpace(_toy(), "epochs=1,3")
    p = AtFidelity(space.base.parse({"a": "c", "b": "d"}), 1)
    assert space.to_parameters(p) == {"a": "c", "b": "d", "epochs": 1}
    assert space.from_parameters({"a": "c", "b": "d", "epochs": "1"}) == p
    assert space.from_parameters({"a": "c", "b": "d"}).level == 3  # without the level: the target
    with pytest.raises(ConfigError, match="name of one of the space's variables"):
        FidelitySpace(_toy(), "a=1,3")


def test_predict_answers_at_each_points_level_in_that_levels_units():
    s = make_strategy("boed[n_init=3,n_samples=32,plausible_size=64]", seed=0, space=_toy(), fidelity="epochs=1,3")

    def objective(config, level):  # the cheap level on another scale: 100 points lower
        return {"val_acc": _score(config, level)["val_acc"] - (100.0 if level == 1 else 0.0)}

    run_objective(s, objective, 14)
    told = [o.cell for o in s.history if not o.outcome.failed]
    mean, sd = s.predict(told)
    assert len(mean) == len(told) and np.all(sd >= 0)
    for point, m in zip(told, mean):  # each level's predictions on its own level's scale
        assert (m < -50) == (point.level == 1)
    bare = s.predict([told[0].config])[0][0]
    assert bare == pytest.approx(s.predict([AtFidelity(told[0].config, 3)])[0][0])  # a bare configuration: the target


def test_a_noise_per_level_enters_the_fit_the_fantasies_and_the_information_and_needs_a_fidelity():
    from boed_nas.bo.belief import noise_at
    from boed_nas.bo.fidelity import LevelGaussianLikelihood

    s = make_strategy("boed[n_init=3,n_samples=32,plausible_size=64,noise='level',pending='fantasy']", seed=0,
                      space=_toy(), fidelity="epochs=1,8")
    run_objective(s, _score, 14, workers=2)  # pending points fantasised with their own level's noise
    assert len(s.history) == 14
    assert len(s.belief.hyper["params"]["likelihood.noise_covar.raw_noise"]) == 2  # one variance per level
    shared = make_strategy("boed[n_init=3,n_samples=32,plausible_size=64]", seed=0, space=_toy(), fidelity="epochs=1,8")
    run_objective(shared, _score, 6)
    assert len(shared.belief.hyper["params"]["likelihood.noise_covar.raw_noise"]) == 1
    lik = LevelGaussianLikelihood(2)
    lik.noise_covar._noise_closure(lik.noise_covar, torch.tensor([0.5, 1e-3], dtype=torch.float64))
    X = torch.tensor([[0.0, 1.0], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(lik.noise_at(X), torch.tensor([1e-3, 0.5, 1e-3], dtype=torch.float64))

    class Model:  # noise_at reads the likelihood's own per-row noise
        likelihood = lik
    assert torch.allclose(noise_at(Model(), X), lik.noise_at(X))
    # the information of a point falls with its level's noise, all else equal
    g = torch.Generator().manual_seed(0)
    n = 6
    var = torch.full((n,), 0.5, dtype=torch.float64)
    common = dict(model=None, X=None, mean=torch.zeros(n, dtype=torch.float64), var=var, plausible=torch.arange(n),
                  samples=torch.randn(32, n, generator=g, dtype=torch.float64) + 1.0, candidates=torch.arange(n),
                  noise_var=1e-3, incumbent=0.0, twin=torch.arange(n), cross=var.clone(),
                  cost=torch.ones(n, dtype=torch.float64))
    quiet = MultiFidelityMaxValueEntropy()(FidelityPoolBelief(**common, noise=torch.full((n,), 1e-3, dtype=torch.float64)), g)
    loud = MultiFidelityMaxValueEntropy()(FidelityPoolBelief(**common, noise=torch.full((n,), 1.0, dtype=torch.float64)), g)
    assert torch.all(loud < quiet)
    with pytest.raises(ConfigError, match="no fidelity"):
        make_strategy("boed[noise='level']", space=_toy())
    with pytest.raises(ConfigError, match="noise"):
        make_strategy("boed[noise='loud']", space=_toy(), fidelity="epochs=1,8")


def test_a_stop_rule_on_the_belief_with_a_fidelity_is_warned_against(caplog):
    import logging

    spec = "boed[n_init=3,n_samples=32,plausible_size=64]"
    with caplog.at_level(logging.WARNING, logger="boed_nas"):
        run_objective(make_strategy(spec, seed=0, space=_toy(), fidelity="epochs=1,3"), _score, 3,
                      stop_when="prob_best>=0.9")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("boed_nas")]
    assert len(warned) == 1 and "'prob_best>=0.9' with a fidelity" in warned[0] and "docs/fidelity.md" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="boed_nas"):  # a rule on time, or no fidelity: nothing to warn
        run_objective(make_strategy(spec, seed=0, space=_toy(), fidelity="epochs=1,3"), _score, 3,
                      stop_when="finished>=1e9")
        run_objective(make_strategy(spec, seed=0, space=_toy()), lambda c: _score(c, 3), 3, stop_when="prob_best>=0.9")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("boed_nas")]
