"""The Ax baselines (boed_nas.strategies.ax: "ax", "sobol") on the ask/tell interface."""

import pytest

from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import Cell
from boed_nas.registry import make_strategy
from boed_nas.strategy import Strategy

pytest.importorskip("ax.api.client")
boed_ax = pytest.importorskip("boed_nas.integrations.ax")


def test_sobol_strategy_seeded_resumable_and_never_pays_twice(tmp_path):
    from tests.helpers import drive

    bench = NB201Benchmark(seed=2)
    full = drive(make_strategy("sobol", seed=2), bench, 10, batch=2)
    assert drive(make_strategy("sobol", seed=3), NB201Benchmark(seed=2), 4, batch=2) != full[:4]
    path = tmp_path / "state.json"
    s = make_strategy("sobol", seed=2, state_path=path)
    bench = NB201Benchmark(seed=2)
    first = drive(s, bench, 6, batch=2)
    del s  # "crash": the state written after the last tell holds Ax's JSON snapshot
    resumed = Strategy.load(path)
    assert resumed.name == "sobol" and len(resumed.history) == 6
    rest = drive(resumed, bench, 4, batch=2)
    assert first + rest == full
    classes = [Cell.from_str(c).canonical() for c in full]
    assert len(set(classes)) == len(classes)
    counts = resumed.generation_nodes()
    assert sum(counts.values()) == 10 + resumed.duplicates and set(counts) == {"Sobol"}


def test_ax_strategy_settles_isomorphic_proposals_inside_ax_and_reports_failures():
    s = make_strategy("ax", seed=0)
    # node 1 is zero (edge 0->1 is 'none'), so the ops on the edges out of node 1 do not matter
    known = Cell.from_str("|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    twin = Cell.from_str("|none~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    assert twin != known and twin.canonical() == known.canonical()
    s.tell(known, {"val_acc": 80.0})  # told without being asked: attached to Ax and completed
    exp = s.client._experiment
    index = s.client.attach_trial(boed_ax.parameters_of(twin))  # as if Ax had proposed the twin
    assert s._accept(index, twin) is None and s.duplicates == 1
    assert exp.trials[index].status.is_completed  # answered from the known result, not charged
    assert exp.lookup_data(trial_indices=[index]).df["mean"].tolist() == [80.0]
    index = s.client.attach_trial(boed_ax.parameters_of(Cell.from_code(77)))
    assert s._accept(index, Cell.from_code(77), taken={Cell.from_code(77).canonical().code}) is None
    assert exp.trials[index].status.is_abandoned  # isomorphic to a pending cell: no result yet
    (a, b) = s.ask(2)
    ia, ib = s._trial_of[a.canonical().code], s._trial_of[b.canonical().code]
    s.tell(a, None)
    s.forget_pending(b)
    assert exp.trials[ia].status.is_failed and exp.trials[ib].status.is_abandoned
    assert not s.pending and len(s.history) == 2


def test_ax_strategies_search_a_space_of_your_own_without_a_function_constraint(tmp_path):
    from boed_nas.errors import ConfigError
    from boed_nas.spaces import Categorical, Ordered, Space
    from tests.spaces.user_objective import SPACE

    space = Space([Categorical("block", ["conv", "mbconv"]), Ordered("width", [16, 32, 64]), Ordered("depth", [1, 2, 3])],
                  name="plain")
    s = make_strategy("sobol", seed=1, space=space, state_path=tmp_path / "s.json")
    for _ in range(5):
        (c,) = s.ask()
        assert space.parse(dict(c)) == c
        s.tell(c, {"val_acc": c["width"] / 16 + c["depth"]})
    assert len({space.key(o.cell) for o in s.history}) == 5
    resumed = Strategy.load(tmp_path / "s.json", space=space)
    assert resumed.ask(1) == s.ask(1)
    with pytest.raises(ConfigError, match="has a constraint, a function Ax cannot take"):
        make_strategy("ax", space=SPACE)
