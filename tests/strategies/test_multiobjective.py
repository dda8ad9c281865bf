"""The multi-objective strategies side by side (boed-mo, and the baselines of
boed_nas.strategies.multiobjective: mo-random, nsga2, qnehvi, parego): failures, constraints, costs, resume."""

import numpy as np
import pytest

from boed_nas.mo.pareto import KnownCosts
from boed_nas.nb201.space import Cell
from boed_nas.registry import make_strategy
from boed_nas.strategy import Strategy
from tests.helpers import drive

FAST = {"n_samples": 64, "plausible_size": 256, "n_init": 6}  # a small belief keeps the tests quick


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
    ({"constraints": ["latency<=0"]}, "no configuration satisfies the constraints"),
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
