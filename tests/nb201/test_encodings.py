from collections import defaultdict

import numpy as np
import pytest

from boed_nas.nb201.encodings import (
    N_PATH_FEATURES,
    ROUTES,
    adjacency,
    onehot,
    path_encoding,
    path_names,
    wl_features,
    wl_vocabulary,
)
from boed_nas.nb201.space import (
    EDGES,
    N_CELLS,
    NONE,
    OPS,
    Cell,
    all_cells,
    canonical_cells,
)

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
# 0 -conv3-> 1 -conv1-> 3; the rest none (so 2<-1 and 2<-0 are dead: node 2 feeds nothing)
CHAIN = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|nor_conv_1x1~1|none~2|"


def nonzero(names, row):
    return {n: float(v) for n, v in zip(names, row) if v}


# ------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("fn, width", [(onehot, 30), (path_encoding, 84), (wl_features, len(wl_vocabulary(2)))])
def test_shapes_dtype_and_input_forms(fn, width):
    cells = [Cell.from_str(EXAMPLE), Cell.from_str(ALL_CONV), Cell.from_str(ALL_NONE)]
    x = fn(cells)
    assert x.shape == (3, width) and x.dtype == np.float64
    assert fn(cells[0]).shape == (1, width)  # a single cell is one row
    np.testing.assert_array_equal(fn([str(c) for c in cells]), x)  # arch strings == cells
    np.testing.assert_array_equal(fn(EXAMPLE), x[:1])
    np.testing.assert_array_equal(fn(c for c in cells), x)  # any iterable
    assert fn([]).shape == (0, width)


def test_wl_vocabulary_sizes_and_names():
    assert len(wl_vocabulary(0)) == 6  # input, output and the 4 non-none ops
    assert len(wl_vocabulary(1)) == 102
    assert len(wl_vocabulary(2)) == 4608
    assert wl_vocabulary(2)[: len(wl_vocabulary(0))] == wl_vocabulary(0)
    assert len(path_names()) == N_PATH_FEATURES == 84


# ------------------------------------------------------------------------------ one-hot
def test_onehot_is_edge_major():
    x = onehot(EXAMPLE)[0]
    ops = Cell.from_str(EXAMPLE).ops  # (3, 3, 4, 1, 3, 1)
    assert set(np.flatnonzero(x)) == {e * 5 + o for e, o in enumerate(ops)} == {3, 8, 14, 16, 23, 26}
    blocks = onehot(list(all_cells())).reshape(N_CELLS, 6, 5)
    assert (blocks.sum(axis=2) == 1).all()


# ------------------------------------------------------------------------------ adjacency
def test_adjacency_by_hand():
    a, labels = adjacency(EXAMPLE)
    assert labels == ["input", "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3",
                      "skip_connect", "output"]
    # node 1 + e is the op of EDGES[e]: 1 (1<-0), 2 (2<-0), 3 (2<-1), 4 (3<-0), 5 (3<-1), 6 (3<-2)
    arcs = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
    assert {tuple(map(int, ij)) for ij in np.argwhere(a)} == arcs
    assert a.shape == (8, 8) and a.dtype == np.int64
    assert not np.tril(a).any()  # node order is topological


def test_adjacency_drops_none_edges_and_prunes_dead_nodes():
    a, labels = adjacency(CHAIN)
    assert labels[2] == "none"
    # the none op nodes (2, 3, 4, 6) have no arcs
    assert {tuple(map(int, ij)) for ij in np.argwhere(a)} == {(0, 1), (1, 5), (5, 7)}
    dead = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|none~2|"
    a, _ = adjacency(dead)  # 2<-0 and 2<-1 feed node 2, which feeds nothing
    assert a[0, 2] == 1 and a[1, 3] == 1 and not a[:, 7][[2, 3]].any()
    p, _ = adjacency(dead, prune=True)
    assert not p[:, [2, 3]].any() and not p[[2, 3], :].any()
    assert {tuple(map(int, ij)) for ij in np.argwhere(p)} == {(0, 1), (1, 5), (5, 7)}
    assert not adjacency(ALL_NONE, prune=True)[0].any()


# ------------------------------------------------------------------------------ paths
def test_path_encoding_by_hand():
    names = path_names()
    assert nonzero(names, path_encoding(EXAMPLE)[0]) == {
        "skip_connect": 1.0,  # 0->3
        "nor_conv_3x3>nor_conv_3x3": 1.0,  # 0->1->3
        "nor_conv_3x3>skip_connect": 1.0,  # 0->2->3
        "nor_conv_3x3>avg_pool_3x3>skip_connect": 1.0,  # 0->1->2->3
    }
    assert nonzero(names, path_encoding(ALL_CONV)[0]) == {
        "nor_conv_3x3": 1.0, "nor_conv_3x3>nor_conv_3x3": 2.0, "nor_conv_3x3>nor_conv_3x3>nor_conv_3x3": 1.0,
    }
    assert nonzero(names, path_encoding(ALL_CONV, binary=True)[0]) == {
        "nor_conv_3x3": 1.0, "nor_conv_3x3>nor_conv_3x3": 1.0, "nor_conv_3x3>nor_conv_3x3>nor_conv_3x3": 1.0,
    }
    # fixed column order: length 1 (4), then 2 (16), then 3 (64), first op most significant
    assert names[:4] == list(OPS[1:])
    assert names[4] == "skip_connect>skip_connect" and names[5] == "skip_connect>nor_conv_1x1"
    assert names[20] == "skip_connect>skip_connect>skip_connect" and names[-1] == ">".join(["avg_pool_3x3"] * 3)


def test_none_edge_removes_paths():
    cut = "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    # EXAMPLE with 1<-0 cut: 0->1->3 and 0->1->2->3 vanish, the other two stay
    assert nonzero(path_names(), path_encoding(cut)[0]) == {"skip_connect": 1.0, "nor_conv_3x3>skip_connect": 1.0}
    assert not path_encoding(ALL_NONE).any()


def test_path_counts_equal_live_routes_for_every_cell():
    cells = list(all_cells())
    x = path_encoding(cells)
    live = np.array([sum(all(c.ops[e] != NONE for e in r) for r in ROUTES) for c in cells])
    np.testing.assert_array_equal(x.sum(axis=1), live)
    assert {len(r) for r in ROUTES} == {1, 2, 3} and all(EDGES[r[-1]][0] == 3 for r in ROUTES)


# ------------------------------------------------------------------------------ WL
def test_wl_by_hand():
    names = wl_vocabulary(1)
    assert nonzero(names, wl_features(CHAIN, h=1)[0]) == {
        "h0:input": 1.0, "h0:nor_conv_3x3": 1.0, "h0:nor_conv_1x1": 1.0, "h0:output": 1.0,
        "h1:input<-[]": 1.0, "h1:nor_conv_3x3<-[input]": 1.0, "h1:nor_conv_1x1<-[nor_conv_3x3]": 1.0,
        "h1:output<-[nor_conv_1x1]": 1.0,
    }
    x = nonzero(wl_vocabulary(2), wl_features(EXAMPLE, h=2)[0])
    assert x["h0:nor_conv_3x3"] == 3 and x["h0:skip_connect"] == 2
    assert x["h1:output<-[nor_conv_3x3, skip_connect, skip_connect]"] == 1
    assert x["h1:skip_connect<-[avg_pool_3x3, nor_conv_3x3]"] == 1
    assert sum(x.values()) == 8 * 3  # 8 live nodes, one label each per iteration 0..2


def test_wl_ignores_dead_ops_and_shares_columns_across_calls():
    dead_a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|none~2|"
    dead_b = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|none~2|"
    np.testing.assert_array_equal(wl_features(dead_a), wl_features(CHAIN))
    np.testing.assert_array_equal(wl_features(dead_b), wl_features(CHAIN))
    both = wl_features([ALL_CONV, EXAMPLE])
    np.testing.assert_array_equal(both[1], wl_features(EXAMPLE)[0])
    np.testing.assert_array_equal(wl_features([EXAMPLE], sparse=True).toarray(), wl_features(EXAMPLE))


# ------------------------------------------------------------------------------ isomorphism
def test_cells_isomorphic_by_dead_ops_share_path_and_wl_features():
    # with 1<-0 none, node 1 is zero: the ops on 2<-1 and 3<-1 do not matter
    a = Cell.from_str("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    b = Cell.from_str("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    assert a.iso_key == b.iso_key and a != b
    np.testing.assert_array_equal(path_encoding(a), path_encoding(b))
    np.testing.assert_array_equal(wl_features(a), wl_features(b))
    assert not np.array_equal(onehot(a), onehot(b))


def test_isomorphism_through_skip_connect_is_only_near_identical():
    # skip then conv (0->1->3) computes the same as conv on 0->3: isomorphic, different graphs
    a = Cell.from_str("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    b = Cell.from_str("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    assert a.iso_key == b.iso_key
    assert nonzero(path_names(), path_encoding(a)[0]) == {"skip_connect>nor_conv_3x3": 1.0}
    assert nonzero(path_names(), path_encoding(b)[0]) == {"nor_conv_3x3": 1.0}
    assert not np.array_equal(wl_features(a), wl_features(b))


def test_isomorphism_classes_sharing_encodings_match_the_documented_counts():
    classes = defaultdict(list)
    for c in all_cells():
        classes[c.iso_key].append(c.code)
    assert len(classes) == 6466
    p = path_encoding(list(all_cells()))
    w = wl_features(list(all_cells()), sparse=True)
    w_rows = [tuple(w.indices[w.indptr[i]:w.indptr[i + 1]]) + tuple(w.data[w.indptr[i]:w.indptr[i + 1]])
              for i in range(N_CELLS)]
    same_p = [all(np.array_equal(p[m[0]], p[c]) for c in m) for m in classes.values()]
    same_w = [all(w_rows[m[0]] == w_rows[c] for c in m) for m in classes.values()]
    assert sum(same_p) == 5167 and sum(same_w) == 5167
    assert same_p == same_w
    # every class whose members differ has a member with a skip_connect on a live route
    live_skips = wl_features(list(all_cells()), h=0)[:, wl_vocabulary(0).index("h0:skip_connect")]
    for members, ok in zip(classes.values(), same_p):
        assert ok or live_skips[members].max() > 0


# ------------------------------------------------------------------------------ errors, speed
@pytest.mark.parametrize("fn", [onehot, path_encoding, wl_features])
@pytest.mark.parametrize("bad, fragment", [
    (5, "got int: 5"),
    ([Cell.from_str(EXAMPLE), 7], "item 1 is int 7"),
    ([(3, 3, 4, 1, 3, 1)], "item 0 is tuple"),
    (None, "got NoneType"),
    (["|nor_conv_3x3~0|"], "item 0 is not a valid cell"),
    ({"cell": EXAMPLE}, "got dict"),
])
def test_bad_input_raises_value_error_naming_it(fn, bad, fragment):
    with pytest.raises(ValueError, match=fragment.replace("|", r"\|")):
        fn(bad)


def test_adjacency_and_h_errors():
    with pytest.raises(ValueError, match="needs one Cell"):
        adjacency([EXAMPLE])
    with pytest.raises(ValueError, match="unknown op 'conv_7x7'"):
        adjacency(EXAMPLE.replace("avg_pool_3x3", "conv_7x7"))
    for h in (-1, 5, 1.5, True):
        with pytest.raises(ValueError, match="h \\(WL iterations\\)"):
            wl_features(EXAMPLE, h=h)


def test_encoding_all_canonical_cells_is_batched_and_consistent():
    # speed is a benchmark matter, not a unit-test one (a timed assert fails on a loaded machine);
    # here: the batched encoding of all 6,466 classes equals the per-cell encoding
    cells = canonical_cells()
    for fn in (onehot, path_encoding, lambda c: wl_features(c, sparse=True), wl_features):
        x = fn(cells)
        assert x.shape[0] == 6466
        one = fn(cells[100:101])
        row = x[100:101]
        row = row.toarray() if hasattr(row, "toarray") else row
        one = one.toarray() if hasattr(one, "toarray") else one
        np.testing.assert_array_equal(np.asarray(row), np.asarray(one))
