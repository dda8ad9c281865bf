"""The base Strategy protocol (boed_nas.strategy, boed_nas.outcome): ask/tell checks, pending cells,
de-duplication, failures, save/load; the check suite every strategy must pass, run on the fast baselines."""

import json
import math

import pytest

from boed_nas import ConfigError, DuplicateTellError, Outcome, StateError, Strategy
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import Cell
from boed_nas.registry import available, make_strategy
from tests.helpers import drive

FAST = ["random", "evolution", "local"]


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
    for name in ("[", "boed[n_init=", "boed[=1]"):  # not a strategy spec at all: still the file's error
        state["strategy"] = name
        (tmp_path / "spec.json").write_text(json.dumps(state))
        with pytest.raises(StateError, match="names strategy"):
            Strategy.load(tmp_path / "spec.json")
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


def test_outcome_coercion():
    assert Outcome.coerce(None).failed
    assert Outcome.coerce({"val_acc": 1}).metrics == {"val_acc": 1}
    with pytest.raises(ValueError, match="cost"):
        Outcome({"val_acc": 1.0}, cost=-1).checked("val_acc")


def test_a_batch_is_pending_until_told_or_forgotten_and_set_pending_replaces_it():
    s = make_strategy("random", seed=0)
    batch = s.ask(3)
    assert list(s.pending.values()) == batch  # each cell pending as it is proposed, in order
    s.tell(batch[0], {"val_acc": 1.0})
    s.forget_pending(batch[1])
    assert list(s.pending.values()) == [batch[2]]
    with pytest.raises(ConfigError, match="is not pending"):
        s.forget_pending(batch[1])
    s.set_pending([batch[0], batch[1]])  # exactly these, less the one already told
    assert list(s.pending.values()) == [batch[1]]
    later = {c.canonical() for c in s.ask(100)}
    assert batch[0].canonical() not in later and batch[1].canonical() not in later


def test_a_proposal_that_fails_part_way_leaves_nothing_of_its_batch_pending():
    class Flaky(Strategy):  # no name: a test class stays out of the registry
        def _propose_one(self, k):
            if k == 2:
                raise RuntimeError("the proposal broke")
            return self.random_new_cell()

    class Repeats(Strategy):
        def _propose_one(self, k):
            return Cell.from_code(0)

    s = Flaky(seed=0)
    (kept,) = s.ask(1)
    with pytest.raises(RuntimeError, match="the proposal broke"):
        s.ask(4)
    assert list(s.pending.values()) == [kept]  # the earlier ask's cell stays pending
    r = Repeats()
    with pytest.raises(RuntimeError, match="already evaluated or pending"):
        r.ask(2)
    assert r.pending == {}



def test_a_plugin_that_changes_itself_in_place_is_rolled_back_by_the_base_class(tmp_path, monkeypatch):
    """A plugin pops a queue and appends to a list in place, then the save fails: the base class
    puts it back exactly (the plugin follows no rollback rule of its own)."""
    class Queued(Strategy):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.queue = [Cell.from_code(k) for k in (7, 11, 13, 17)]
            self.log = []

        def _propose_one(self, k):
            self.log.append(k)
            while self.queue:
                c = self.queue.pop(0)
                if self.is_new(c):
                    return c
            return self.random_new_cell()

        def _extra_state(self):
            return {"queue": [str(c) for c in self.queue], "log": self.log}

        def _load_extra_state(self, extra):
            self.queue = [Cell.from_str(c) for c in extra.get("queue", [])]
            self.log = list(extra.get("log", []))

    s = Queued(seed=0, state_path=tmp_path / "state.json")
    s.ask(1)
    before = json.dumps(s.state_dict())

    def broken(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(s, "save", broken)
    with pytest.raises(StateError, match="not applied"):
        s.ask(2)
    assert json.dumps(s.state_dict()) == before
    assert [c.code for c in s.queue] == [11, 13, 17] and s.log == [0]


def test_local_search_keeps_its_queue_when_an_ask_is_not_applied(tmp_path, monkeypatch):
    bench = NB201Benchmark("cifar10", seed=0)
    s = make_strategy("local[n_init=2]", seed=3, state_path=tmp_path / "state.json")
    for cell in s.ask(2):
        s.tell(cell, bench.evaluate(cell))
    queue = list(s.queue)
    assert queue  # the current cell's neighbours
    monkeypatch.setattr(s, "save", lambda path: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(StateError, match="not applied"):
        s.ask(1)
    assert s.queue == queue and not s.pending

# ------------------------------------------------------------------------------ the registry (make_strategy, specs)
def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown strategy 'tpe'.*evolution.*local.*random"):
        make_strategy("tpe")
    assert {"random", "evolution", "local", "boed"} <= set(available())


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
                       ("evolution[colour=1]", r"does not take the setting \['colour'\]; it takes \['fidelity', 'maximize'")):
        with pytest.raises(ValueError, match=match):
            make_strategy(bad)
    with pytest.raises(ValueError, match="given both in the spec"):
        make_strategy("evolution[population_size=7]", population_size=8)
    # only the unknown settings are named, and BOEDController's settings (its config's fields) are known
    with pytest.raises(ConfigError, match=r"does not take the settings \['n_int', 'zz'\]; it takes \[.*'n_init'"):
        make_strategy("boed[n_int=3,zz=1]", metric="val_acc", maximize=True)


def test_a_numpy_seed_is_its_integer_none_is_drawn_once_and_a_generator_is_refused(tmp_path):
    import numpy as np

    from tests.spaces.user_objective import SPACE

    a, b = (make_strategy("random", space=SPACE, seed=s) for s in (np.int64(3), 3))
    assert type(a.seed) is int and a.ask(2) == b.ask(2)  # saved as JSON, the same run as seed 3
    s = make_strategy("boed[n_init=2,n_samples=16,plausible_size=32]", space=SPACE, seed=None,
                      state_path=tmp_path / "state.json")
    assert isinstance(s.seed, int)
    for _ in range(3):
        (c,) = s.ask(1)
        s.tell(c, {"val_acc": float(c["depth"])})
    assert Strategy.load(tmp_path / "state.json").seed == s.seed  # kept: a resume goes on alike
    with pytest.raises(ConfigError, match="got a numpy Generator"):
        make_strategy("random", space=SPACE, seed=np.random.default_rng(0))
