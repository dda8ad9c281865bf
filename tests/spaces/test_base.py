"""boed_nas.spaces.base: a space of your own, its configurations and its errors."""

import json
import pickle

import numpy as np
import pytest

from boed_nas.errors import ConfigError, SpaceError
from boed_nas.spaces import ENUMERATE_LIMIT, Categorical, Config, Integer, Ordered, Space, load_space


def small_space(**kw):
    return Space([Categorical("block", ["conv", "mbconv"]), Integer("depth", 1, 4), Ordered("width", [64, 16, 32])],
                 name="small", **kw)


def test_size_enumeration_and_sorted_grid():
    s = small_space()
    assert s.size == 2 * 4 * 3 == s.n_distinct == len(s.enumerate())
    assert s.variables[2].values == [16, 32, 64]  # an ordered grid is sorted
    assert len({s.key(c) for c in s.enumerate()}) == s.size


def test_constraint_filters_enumeration_sampling_and_parse():
    s = small_space(constraint=lambda c: c["depth"] * c["width"] <= 64)
    valid = s.enumerate()
    assert all(c["depth"] * c["width"] <= 64 for c in valid) and s.n_distinct == len(valid) < s.size
    rng = np.random.default_rng(0)
    assert all(s.sample(rng) in valid for _ in range(50))
    with pytest.raises(SpaceError, match="violates the constraint"):
        s.parse({"block": "conv", "depth": 4, "width": 64})


def test_config_is_hashable_json_and_picklable():
    s = small_space()
    c = s.parse({"block": "mbconv", "depth": 2, "width": 32})
    assert c == s.parse(str(c)) == s.parse(json.loads(str(c)))
    assert hash(c) == hash(s.parse(str(c))) and pickle.loads(pickle.dumps(c)) == c
    assert c["depth"] == 2 and list(c) == ["block", "depth", "width"]
    assert isinstance(c, Config)


@pytest.mark.parametrize("value, match", [
    ({"block": "transformer", "depth": 1, "width": 16}, r"'transformer' is not a value of categorical variable 'block'"),
    ({"block": "conv", "depth": 7, "width": 16}, r"7 is not a value of ordered variable 'depth'"),
    ({"block": "conv", "depth": 1}, r"missing variables \['width'\]"),
    ({"block": "conv", "depth": 1, "width": 16, "lr": 0.1}, r"unknown variables \['lr'\]"),
    ("not json", "not a configuration"),
    ([1, 2, 3], "is a mapping"),
])
def test_bad_configurations_name_the_variable(value, match):
    with pytest.raises(SpaceError, match=match):
        small_space().parse(value)


@pytest.mark.parametrize("build, match", [
    (lambda: Space([]), "at least one variable"),
    (lambda: Space([Categorical("a", [1, 2]), Categorical("a", [3])]), r"\['a'\] appear twice"),
    (lambda: Categorical("a", []), "non-empty list of values"),
    (lambda: Categorical("a", ["x", "x"]), "lists a value twice"),
    (lambda: Ordered("lr", [0.1, "fast"]), r"ordered variable 'lr' needs finite numbers"),
    (lambda: Ordered("lr", [0.1, float("nan")]), "finite numbers"),
    (lambda: Integer("depth", 4, 1), "low <= high"),
    (lambda: Space([Categorical("a", [1])], constraint="yes"), "constraint must be a function"),
])
def test_bad_spaces_say_what_is_wrong(build, match):
    with pytest.raises(SpaceError, match=match):
        build()


def test_a_bool_is_a_value_of_its_own_beside_its_integer():
    # Optuna takes suggest_categorical("c", [0, False, None]); so must a space of those choices
    s = Space([Categorical("c", [0, False, None, 1])])
    assert [s.parse({"c": v})["c"] for v in (0, False, None, 1)] == [0, False, None, 1]
    assert len({s.key(c) for c in s.enumerate()}) == 4 and s.parse({"c": False})["c"] is False
    for twice in ([1, 1.0], [True, True]):
        with pytest.raises(SpaceError, match="lists a value twice"):
            Categorical("c", twice)


def test_unsatisfiable_constraint_is_an_error_not_a_hang():
    s = small_space(constraint=lambda c: False)
    with pytest.raises(SpaceError, match="rejects every configuration"):
        s.enumerate()
    with pytest.raises(SpaceError, match="no valid configuration"):
        s.sample(np.random.default_rng(0))


def test_neighbours_and_mutate_move_one_variable_one_step():
    s = small_space()
    c = s.parse({"block": "conv", "depth": 2, "width": 32})
    nbrs = s.neighbours(c)
    # block: 1 other choice; depth 2: 1 and 3; width 32: 16 and 64
    assert len(nbrs) == 5
    for n in nbrs + [s.mutate(c, np.random.default_rng(k)) for k in range(20)]:
        diff = [v for v in s.names if n[v] != c[v]]
        assert len(diff) == 1


def test_encode_categorical_index_then_ordered_position():
    s = small_space()
    X = s.encode([s.parse({"block": "mbconv", "depth": 4, "width": 16})])
    assert X.tolist() == [[1.0, 1.0, 0.0]]


def test_large_space_is_not_enumerated():
    s = Space([Integer(f"x{i}", 0, 9) for i in range(9)])
    assert s.size == 10**9 > ENUMERATE_LIMIT and s.enumerate() is None and s.n_distinct == 10**9
    assert Space([Integer(f"x{i}", 0, 9) for i in range(9)], constraint=lambda c: True).n_distinct is None


def test_costs_are_checked():
    assert small_space(costs=lambda c: {"flops": c["depth"] * 2}).costs(small_space().enumerate()[0]) == {"flops": 2.0}
    bad = small_space(costs=lambda c: {"flops": float("inf")})
    with pytest.raises(SpaceError, match="finite numbers"):
        bad.costs(bad.enumerate()[0])


def test_load_space_by_reference(tmp_path, monkeypatch):
    (tmp_path / "my_spaces.py").write_text(
        "from boed_nas.spaces import Categorical, Space\nSPACE = Space([Categorical('op', ['a', 'b'])])\nNOT = 3\n")
    monkeypatch.chdir(tmp_path)
    s = load_space("my_spaces:SPACE")
    assert s.ref == "my_spaces:SPACE" and s.size == 2
    assert load_space(f"{tmp_path / 'my_spaces.py'}:SPACE").size == 2
    (tmp_path / "broken_space.py").write_text("SPACE = undefined_name\n")
    for ref, match in [("my_spaces", "expected 'pkg.module:NAME'"), ("nope_module:SPACE", "cannot import"),
                       ("broken_space:SPACE", "NameError: name 'undefined_name' is not defined"),
                       ("my_spaces:MISSING", "has no 'MISSING'"), ("my_spaces:NOT", "not a boed_nas.spaces.Space")]:
        with pytest.raises(ConfigError, match=match):
            load_space(ref)


def test_numpy_and_tuple_values_survive_a_saved_state(tmp_path):
    # numpy values become Python's (a state and a log are JSON); a tuple value comes back from JSON a
    # list, and is still that value
    from boed_nas import Strategy, make_strategy

    assert Categorical("u", np.array([32, 64])).values == [32, 64]
    assert all(type(v) is int for v in Categorical("u", list(np.array([32, 64]))).values)
    space = Space([Categorical("kernel", [(3, 3), (1, 7)]), Categorical("units", list(np.array([32, 64])))],
                  name="tuples")
    s = make_strategy("random", space=space, seed=0, state_path=tmp_path / "state.json")
    for _ in range(3):
        (c,) = s.ask(1)
        s.tell(c, {"val_acc": float(c["units"] + c["kernel"][1])})
    loaded = Strategy.load(tmp_path / "state.json", space=space)
    assert [o.cell for o in loaded.history] == [o.cell for o in s.history]
    assert loaded.history[0].cell["kernel"] in [(3, 3), (1, 7)] and space.parse({"kernel": [1, 7], "units": 64})
