import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boed_nas.nb201.space import (
    EDGES,
    N_CELLS,
    OPS,
    Cell,
    all_cells,
    canonical_cells,
    sample_cell,
)
from boed_nas.seeding import as_rng

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
codes = st.integers(min_value=0, max_value=N_CELLS - 1)


def test_op_and_edge_order_are_nb201s():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def test_parse_official_string():
    c = Cell.from_str(EXAMPLE)
    assert c.names == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect")
    assert str(c) == EXAMPLE
    assert c.ops == (3, 3, 4, 1, 3, 1)
    assert c.code == int("334131", 5)


@given(codes)
def test_code_and_string_round_trip(code):
    c = Cell.from_code(code)
    assert c.code == code
    assert Cell.from_str(str(c)) == c
    assert Cell.parse(str(c)) == Cell.parse(code) == Cell.parse(list(c.ops)) == c


@pytest.mark.parametrize("bad, fragment", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "node groups"),
    ("nor_conv_3x3~0|+|a~0|b~1|+|c~0|d~1|e~2|", "malformed"),
    ("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_7x7'"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "wrong edge count"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~1|", "must come from node 2"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "malformed edge 'none0'"),
])
def test_bad_strings_name_the_value_and_the_form(bad, fragment):
    with pytest.raises(ValueError) as e:
        Cell.from_str(bad)
    assert fragment in str(e.value)
    assert repr(bad) in str(e.value) or "conv_7x7" in str(e.value)


def test_bad_codes_and_ops():
    for bad in (-1, N_CELLS, 3.5, True):
        with pytest.raises(ValueError, match="cell code"):
            Cell.from_code(bad)
    with pytest.raises(ValueError, match="6 edges"):
        Cell((1, 2, 3))
    with pytest.raises(ValueError, match="op id 5"):
        Cell((0, 0, 0, 0, 0, 5))
    with pytest.raises(ValueError, match="unknown op 'conv'"):
        Cell.from_names(["conv"] * 6)


def test_enumeration_and_the_6466_isomorphism_classes():
    cells = list(all_cells())
    assert len(cells) == N_CELLS == len(set(cells))
    assert len({c.iso_key for c in cells}) == 6466
    reps = canonical_cells()
    assert len(reps) == 6466
    assert all(r.is_canonical() for r in reps)
    # the representative is the class member with the lowest code
    by_key = {}
    for c in cells:
        by_key.setdefault(c.iso_key, []).append(c)
    for members in list(by_key.values())[:500]:
        assert all(m.canonical() == min(members, key=lambda x: x.code) for m in members)


def test_isomorphism_examples():
    # a skip edge into node 1 then a conv from node 1 equals a conv straight from the input when the
    # other paths are dead
    a = Cell.from_str("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    b = Cell.from_str("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    c = Cell.from_str("|none~0|+|none~0|none~1|+|nor_conv_1x1~0|none~1|none~2|")
    assert a.canonical() == b.canonical() != c.canonical()
    # ops on edges whose source is zero do not matter
    d = Cell.from_str("|none~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|")
    e = Cell.from_str("|none~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|none~2|")
    assert d.canonical() == e.canonical()


def test_neighbours_and_mutation(rng):
    c = Cell.from_str(EXAMPLE)
    nb = c.neighbours()
    assert len(nb) == 24 == len(set(nb))
    assert all(sum(x != y for x, y in zip(n.ops, c.ops)) == 1 for n in nb)
    for _ in range(200):
        assert c.mutate(rng) in nb


def test_uniform_sampling_is_seeded_and_covers_ops():
    a = [sample_cell(as_rng(7)).code for _ in range(3)]
    assert a[0] == a[1] == a[2]
    r = as_rng(1)
    draws = np.array([sample_cell(r).ops for _ in range(5000)])
    freq = np.bincount(draws.ravel(), minlength=5) / draws.size
    assert np.all(np.abs(freq - 0.2) < 0.02)
    with pytest.raises(ValueError, match="seed"):
        as_rng(-3)


def test_parametric_path():
    assert Cell.from_str(EXAMPLE).has_parametric_path()
    assert not Cell((1, 1, 1, 1, 1, 1)).has_parametric_path()
    assert not Cell((0, 0, 0, 0, 0, 3)).has_parametric_path()  # conv 2->3, but node 2 is zero
    assert Cell((3, 0, 0, 0, 1, 0)).has_parametric_path()
