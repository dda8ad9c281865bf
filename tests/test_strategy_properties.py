"""Property-based checks of the ask/tell protocol: random sequences of ask / tell / failure / bad
outcome / duplicate tell / save / load / crash / failing save, against every strategy.

Invariants, after every operation:
- no cell is evaluated twice (told cells are distinct up to isomorphism; a second tell is refused);
- an operation that raises changes nothing (the state is the one before it);
- ``recommend()`` returns a cell or None, never raises;
- a run interrupted anywhere (a crash: the object is dropped and ``Strategy.load`` reads the state
  file) continues exactly as the uninterrupted run: at the end both states are equal.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from boed_nas import Cell, Strategy, make_strategy
from boed_nas.errors import DuplicateTellError, OutcomeError, SpaceError, StateError
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import CELL_SPACE

ALPHA = np.random.default_rng(0).normal(size=(6, 5)).round(3).tolist()  # a given supernet result: no search runs
# (spec, examples); the cheap strategies run enough examples of up to LONG operations to reach the
# states where an in-place change can escape a rollback (a LocalSearch queue popped by an ask whose
# save then fails needs ask, ask, tell, tell, failing save: 100 examples of up to 16 operations find it,
# 25 of up to 9 did not)
SPECS = {
    "random": ("random", 100),
    "evolution": ("evolution[population_size=3,sample_size=2]", 100),
    "local": ("local[n_init=2]", 100),
    "mo-random": ("mo-random[objectives='accuracy,latency']", 40),
    "nsga2": ("nsga2[pop_size=4,objectives='accuracy,flops']", 40),
    "darts": ("darts", 10),
    "bananas": ("bananas[n_init=2,n_models=2,epochs=10,n_candidates=20]", 8),
    "boed": ("boed[n_init=2,n_samples=16,plausible_size=32]", 6),
    "boed-mo": ("boed-mo[n_init=2,n_samples=16,plausible_size=32]", 4),
    "boed-supernet": ("boed-supernet[n_init=2,n_top=1,n_sampled=1,n_samples=16,plausible_size=32]", 4),
    "sobol": ("sobol", 3),
    "parego": ("parego[n_init=2,mc_samples=8,objectives='accuracy,params']", 3),
    # on a space of your own (its ref: a crash resumes from the state file alone)
    "random@space": ("random", 40),
    "local@space": ("local[n_init=2]", 40),
    "nsga2@space": ("nsga2[pop_size=4,objectives='val_acc,flops']", 40),
    "bananas@space": ("bananas[n_init=2,n_models=2,epochs=10,n_candidates=20]", 8),
    "boed@space": ("boed[n_init=2,n_samples=16,plausible_size=32]", 6),
    "boed-mo@space": ("boed-mo[n_init=2,n_samples=16,plausible_size=32,objectives='val_acc,flops']", 4),
}
USER_SPACE = "tests.spaces.user_objective:SPACE"
BENCH = NB201Benchmark("cifar10", seed=0)


def _evaluate(cell):
    if not isinstance(cell, Cell):  # a configuration of the user space
        from tests.spaces.user_objective import score

        return {"val_acc": score(cell)}
    BENCH.reset()  # subject and twin share the table: no answer from its cache (cost 0) for either
    return BENCH.evaluate(cell)


LONG, SHORT = 16, 9  # most operations per example: cheap strategies (>= 40 examples), the others


def operations(max_size: int):
    return st.lists(
        st.one_of(
            st.tuples(st.just("ask"), st.integers(1, 2)),
            st.tuples(st.just("tell"), st.integers(0, 3)),
            st.tuples(st.just("fail"), st.integers(0, 3)),
            st.tuples(st.just("bad"), st.sampled_from([math.nan, math.inf, "x", None])),
            st.tuples(st.just("duplicate"), st.integers(0, 3)),
            st.tuples(st.just("crash"), st.just(0)),
            st.tuples(st.just("save_fails"), st.integers(0, 1)),
        ),
        min_size=1, max_size=max_size,
    )


def _state(s: Strategy) -> str:
    state = s.state_dict()
    state["extra"].pop("ax_client", None)  # Ax's own snapshot carries time stamps; its trials are in trial_of
    return json.dumps(state, sort_keys=True)


def _build(spec: str, tmp_path, name: str) -> Strategy:
    extra = {"alpha": ALPHA} if spec.split("[")[0] in ("darts", "boed-supernet") else {}
    if getattr(tmp_path, "user_space", False):
        extra["space"] = USER_SPACE
    s = make_strategy(spec, seed=3, state_path=tmp_path / f"{name}.json", **extra)
    s.spec = spec
    return s


def spec_of(s: Strategy) -> str:
    return s.spec


def _pick(s: Strategy, i: int) -> Cell | None:
    pending = sorted(s.pending.values(), key=lambda c: c.code if isinstance(c, Cell) else s.space.format(c))
    return pending[i % len(pending)] if pending else None


def _apply(s: Strategy, op: str, arg, *, interrupted: bool, monkeypatch) -> Strategy:
    """One operation; returns the strategy to go on with (a fresh one after a crash)."""
    before = _state(s)
    if op == "ask":
        s.ask(arg)
    elif op in ("tell", "fail"):
        cell = _pick(s, arg)
        if cell is not None:
            s.tell(cell, _evaluate(cell) if op == "tell" else None)
    elif op == "bad":
        cell = _pick(s, 0)
        if cell is not None:
            with pytest.raises(OutcomeError):
                s.tell(cell, {s.metric: arg} if arg is not None else {"no_such_metric": 1.0})
            assert _state(s) == before
    elif op == "duplicate":
        if s.history:
            told = s.history[arg % len(s.history)]
            with pytest.raises(DuplicateTellError):
                s.tell(told.cell, _evaluate(told.cell))
            assert _state(s) == before
    elif op == "crash" and interrupted:
        if s.state_path.exists():
            spec = s.spec
            s = Strategy.load(s.state_path, state_path=s.state_path)
            s.spec = spec
        else:  # nothing was saved yet: a driver starts the run afresh
            folder = s.state_path.parent
            if s.space is not CELL_SPACE:  # pathlib's parent drops the _UserFolder mark
                folder = _UserFolder(folder)
            s = _build(spec_of(s), folder, s.state_path.stem)
        # recommend() may fit a belief (a cache the next ask reuses, saved with that ask): the
        # resumed strategy, once asked for its recommendation too, is where the running one was
        s.recommend()
        assert _state(s) == before
    elif op == "save_fails" and interrupted:
        def broken(path):
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as m:
            m.setattr(s, "save", broken)
            with pytest.raises(StateError, match="not applied"):
                if arg == 0 or not s.pending:
                    s.ask(1)
                else:
                    s.tell(_pick(s, 0), _evaluate(_pick(s, 0)))
        assert _state(s) == before
    return s


def _check(s: Strategy) -> None:
    keys = [s.space.key(o.cell) for o in s.history]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & set(s.pending)
    rec = s.recommend()
    assert rec is None or s.space.key(rec) in set(keys)


class _UserFolder(type(Path())):
    """A run folder whose strategies search the user space (``_build`` reads the mark)."""

    user_space = True


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_random_operation_sequences_keep_the_invariants(name, tmp_path_factory, monkeypatch):
    spec, examples = SPECS[name]

    slow = examples < 5  # Ax and botorch: a failing case is shown as found, without minutes of shrinking
    @settings(max_examples=examples, deadline=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate] if slow else list(Phase),
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(ops=operations(LONG if examples >= 40 else SHORT))
    def run(ops):
        folder = tmp_path_factory.mktemp(name.replace("@", "_"))
        if name.endswith("@space"):
            folder = _UserFolder(folder)
        subject, twin = _build(spec, folder, "subject"), _build(spec, folder, "twin")
        for op, arg in ops:
            subject = _apply(subject, op, arg, interrupted=True, monkeypatch=monkeypatch)
            twin = _apply(twin, op, arg, interrupted=False, monkeypatch=monkeypatch)
            _check(subject)
            _check(twin)  # the same queries of both: recommend() may fit a belief
        assert _state(subject) == _state(twin)

    run()


# ----------------------------------------------------------------------------- fuzzing the inputs
@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet="|+~0123 _abcdefgilmnoprstuvxyz3", max_size=80)))
def test_any_string_is_a_cell_or_a_space_error(text):
    try:
        cell = Cell.from_str(text)
    except SpaceError:
        return
    assert Cell.from_str(str(cell)) == cell


def _mutations():
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 20000), st.floats(allow_nan=True),
                     st.text(max_size=12))
    value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                             max_size=3), max_leaves=6)
    return st.lists(st.tuples(st.sampled_from(["drop", "set"]), st.lists(st.integers(0, 30), min_size=1, max_size=4),
                              value), min_size=1, max_size=3)


def _mutate(doc, path, action, value):
    node = doc
    for i, step in enumerate(path):
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            return
        key = keys[step % len(keys)]
        if i == len(path) - 1 or not isinstance(node[key], (dict, list)):
            if action == "drop":
                del node[key]
            else:
                node[key] = value
            return
        node = node[key]


@pytest.fixture(scope="module")
def saved_states(tmp_path_factory):
    """A saved state of random, local and boed after a few tells."""
    out = {}
    for spec in ("random", "local[n_init=2]", "boed[n_init=2,n_samples=16,plausible_size=32]"):
        s = make_strategy(spec, seed=1)
        for _ in range(4):
            (cell,) = s.ask()
            s.tell(cell, _evaluate(cell))
        s.ask()
        out[spec] = s.state_dict()
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 2), edits=_mutations())
def test_a_hand_edited_state_file_loads_or_raises_state_error(saved_states, tmp_path, which, edits):
    doc = json.loads(json.dumps(list(saved_states.values())[which]))
    for action, path, value in edits:
        _mutate(doc, path, action, value)
    path = tmp_path / "state.json"
    try:
        path.write_text(json.dumps(doc))
    except ValueError:
        return  # not JSON-able (e.g. NaN keys): nothing to test
    try:
        s = Strategy.load(path)
    except StateError:
        return
    s.recommend()
    if s.pending or len(s.history) < 15_000:
        s.ask(1)  # a state that loads is a state that works
