"""The check suite every strategy must pass (ask/tell contract, seeding, resume, bad input)."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import drive  # noqa: E402

from boed_nas import DuplicateTellError, Outcome, StateError, Strategy
from boed_nas.experiment.bench import run_bench, summarize
from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import available, make_strategy

FAST = ["random", "evolution", "local"]


@pytest.mark.parametrize("name", FAST)
def test_same_seed_same_trajectory(name):
    a = drive(make_strategy(name, seed=5), NB201Benchmark(seed=5), 40)
    b = drive(make_strategy(name, seed=5), NB201Benchmark(seed=5), 40)
    c = drive(make_strategy(name, seed=6), NB201Benchmark(seed=5), 40)
    assert a == b and a != c


@pytest.mark.parametrize("name", FAST)
def test_never_pays_twice_for_a_class(name):
    s = make_strategy(name, seed=1)
    cells = drive(s, NB201Benchmark(seed=1), 120, batch=3)
    from boed_nas.nb201.space import Cell

    classes = [Cell.from_str(c).canonical() for c in cells]
    assert len(set(classes)) == len(classes)


@pytest.mark.parametrize("name", FAST)
def test_resume_after_crash_continues_identically(name, tmp_path):
    bench = NB201Benchmark(seed=2)
    full = drive(make_strategy(name, seed=2), bench, 40)
    path = tmp_path / "state.json"
    s = make_strategy(name, seed=2, state_path=path)
    bench = NB201Benchmark(seed=2)
    first = drive(s, bench, 23)
    del s  # "crash": only the file written after the last tell survives
    resumed = Strategy.load(path)
    assert resumed.name == name and len(resumed.history) == 23
    rest = drive(resumed, bench, 17)
    assert first + rest == full


@pytest.mark.parametrize("name", FAST)
def test_bad_outcomes_are_rejected_and_nothing_is_recorded(name):
    s = make_strategy(name, seed=0)
    (c,) = s.ask()
    for bad, msg in [({"val_acc": math.nan}, "not finite"), ({"val_acc": math.inf}, "not finite"),
                     ({"loss": 1.0}, "lacks the search metric 'val_acc'"), ({"val_acc": "high"}, "not a number"),
                     (42, "cannot read an outcome")]:
        with pytest.raises(ValueError, match=msg):
            s.tell(c, bad)
        assert s.history == []
    s.tell(c, {"val_acc": 80.0})
    with pytest.raises(DuplicateTellError, match="already told"):
        s.tell(c, {"val_acc": 81.0})
    assert len(s.history) == 1 and s.history[0].outcome.metrics["val_acc"] == 80.0
    with pytest.raises(ValueError, match=r"arch string .\|bad\|. has 1 node groups"):
        s.tell("|bad|", {"val_acc": 1.0})
    with pytest.raises(ValueError, match="positive integer"):
        s.ask(0)


@pytest.mark.parametrize("name", FAST)
def test_failed_trials_are_recorded_and_not_retried(name):
    s = make_strategy(name, seed=0)
    bench = NB201Benchmark(seed=0)
    failed = []
    for i in range(30):
        (c,) = s.ask()
        if i % 4 == 0:
            s.tell(c, None)
            failed.append(c.canonical())
        else:
            s.tell(c, bench.evaluate(c))
    assert sum(o.outcome.failed for o in s.history) == len(failed)
    later = [c.canonical() for c in s.ask(20)]
    assert not set(later) & set(failed)
    assert not s.recommend().canonical() in failed


def test_corrupt_state_files_get_clear_errors(tmp_path):
    s = make_strategy("evolution", seed=0)
    drive(s, NB201Benchmark(), 5)
    good = tmp_path / "good.json"
    s.save(good)
    text = good.read_text()
    (tmp_path / "trunc.json").write_text(text[: len(text) // 2])
    with pytest.raises(StateError, match="cannot read strategy state"):
        Strategy.load(tmp_path / "trunc.json")
    state = json.loads(text)
    state["strategy"] = "simulated-annealing"
    (tmp_path / "unknown.json").write_text(json.dumps(state))
    with pytest.raises(StateError, match="names strategy 'simulated-annealing'"):
        Strategy.load(tmp_path / "unknown.json")
    state = json.loads(text)
    state["history"][0]["cell"] = "|nope|"
    (tmp_path / "cell.json").write_text(json.dumps(state))
    with pytest.raises(StateError, match="corrupt strategy state"):
        Strategy.load(tmp_path / "cell.json")
    # a failed load leaves the strategy as it was
    t = make_strategy("evolution", seed=0)
    with pytest.raises(StateError):
        t.load_state_dict(state)
    assert t.history == []
    assert Strategy.load(good).state_dict() == s.state_dict()


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown strategy 'tpe'.*evolution.*local.*random"):
        make_strategy("tpe")
    assert {"random", "evolution", "local", "boed"} <= set(available())


def test_evolution_and_local_search_beat_random():
    # the check (median final test regret over seeds), at a smaller scale than the README run
    traj = run_bench(FAST, "cifar10", range(6), 150, progress=False)
    s = summarize(traj).set_index("strategy")
    assert s.loc["evolution", "final_test_regret_median"] < s.loc["random", "final_test_regret_median"]
    assert s.loc["local", "final_test_regret_median"] < s.loc["random", "final_test_regret_median"]


def test_trajectory_columns_and_monotone_best(c10):
    c10.reset()
    traj = run_search(make_strategy("random", seed=0), c10, 60)
    c10.reset()
    assert list(traj["query"]) == list(range(1, 61))
    assert np.all(np.diff(traj["best_val_so_far"]) >= 0)
    assert {"query", "cell", "val_acc", "test_acc", "best_val_so_far", "test_regret"} <= set(traj.columns)
    assert (traj["test_regret"] >= 0).all()
    assert traj["cost"].gt(0).all()


@pytest.mark.parametrize("batch_size", [1, 3])
def test_the_model_fit_is_timed_in_the_ask_not_in_recommend(c10, batch_size):
    # a model-based strategy fits on the first call after a tell; the bench must make that call
    # the ask (as in a user's loop that never asks for a recommendation): the recommendation for
    # the last cell of a batch is taken after the next ask, the others' at once
    calls = []

    class Logged:  # what run_search calls, logged
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def ask(self, n=1):
            calls.append("ask")
            return self.inner.ask(n)

        def recommend(self):
            calls.append("recommend")
            return self.inner.recommend()

    c10.reset()
    traj = run_search(Logged(make_strategy("local", seed=0)), c10, 7, batch_size=batch_size)
    c10.reset()
    plain = run_search(make_strategy("local", seed=0), c10, 7, batch_size=batch_size)
    c10.reset()
    assert traj.drop(columns="ask_seconds").equals(plain.drop(columns="ask_seconds"))  # same trajectory
    n_asks = -(-7 // batch_size)
    assert calls.count("ask") == n_asks and calls.count("recommend") == 7
    asks = [i for i, c in enumerate(calls) if c == "ask"]
    assert asks[1] - asks[0] - 1 == batch_size - 1, calls  # the batch's last recommendation waits
    assert all(calls[i + 1] == "recommend" for i in asks[1:]), calls  # ... and comes right after the ask


def test_outcome_coercion():
    assert Outcome.coerce(None).failed
    assert Outcome.coerce({"val_acc": 1}).metrics == {"val_acc": 1}
    with pytest.raises(ValueError, match="cost"):
        Outcome({"val_acc": 1.0}, cost=-1).checked("val_acc")


def test_strategy_specs_carry_settings_and_bad_ones_are_named():
    from boed_nas.registry import make_strategy, parse_spec, split_specs

    assert parse_spec("boed[n_init=5, kernel=wl, plausible_size=None]") == (
        "boed", {"n_init": 5, "kernel": "wl", "plausible_size": None})
    assert parse_spec("local") == ("local", {})
    assert split_specs("boed,boed[n_init=5,kernel=wl] , local") == ["boed", "boed[n_init=5,kernel=wl]", "local"]
    s = make_strategy("evolution[population_size=7]", seed=1)
    assert s.population_size == 7 and s.seed == 1
    for bad, match in (("boed[n_init]", "is not key=value"), ("boed[seed=3]", "reserved"),
                       ("boed[n_init=5", "is not NAME"), ("nope[a=1]", "unknown strategy 'nope'"),
                       ("evolution[colour=1]", "does not take these settings")):
        with pytest.raises(ValueError, match=match):
            make_strategy(bad)
    with pytest.raises(ValueError, match="given both in the spec"):
        make_strategy("evolution[population_size=7]", population_size=8)


def test_bench_runs_a_spec_as_its_own_strategy(tmp_path):
    from boed_nas.cli import main

    assert main(["bench", "--strategies", "local,evolution[population_size=5,sample_size=2]", "--seeds", "1",
                 "--budget", "15", "--out", str(tmp_path)]) == 0
    traj = pd.read_csv(tmp_path / "trajectories.csv")
    assert set(traj["strategy"]) == {"local", "evolution[population_size=5,sample_size=2]"}
    assert main(["bench", "--strategies", "evolution[colour=1]", "--seeds", "1", "--budget", "5",
                 "--out", str(tmp_path / "x")]) == 2
