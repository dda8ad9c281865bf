"""Fixed-length encodings of NB201 cells: one-hot, op-on-node DAG, BANANAS paths, WL features.

Every encoder takes a single cell or a sequence of cells, where a cell is a :class:`Cell` or an
official arch string, and returns a float64 array with one row per cell (a single cell gives one
row). Anything else raises SpaceError naming the bad value. Integer codes are refused on purpose:
``[3, 3, 4, 1, 3, 1]`` could be six codes or the op ids of one cell.

Speed: each encoder tabulates all 15,625 cells on its first use (one-hot and paths: a few
milliseconds; WL with ``h=2``: about a second) and afterwards only gathers rows by cell code:
encoding all 6,466 ``canonical_cells()`` takes milliseconds (WL ``h=2`` dense: ~0.3 s, most of it
allocating the 6,466 x 4,608 array; ``sparse=True``: milliseconds).

The op-on-node DAG (:func:`adjacency`)
--------------------------------------
NB201 puts operations on edges. The usual node-labelled form (as in BANANAS and NAS-BOWL) has 8
nodes: node 0 ``'input'``, node ``1 + e`` for edge ``e`` of ``EDGES`` labelled with that edge's
op, and node 7 ``'output'``. The op node of edge ``j <- i`` is fed by the input if ``i == 0``,
else by the op nodes of all edges into cell node ``i``; it feeds the output if ``j == 3``, else
the op nodes of all edges out of cell node ``j``.

``none`` edges are dropped: the op node of a ``none`` edge keeps its label and its place (so the
matrix is always 8 x 8 in the same node order) but has no incoming or outgoing arc. With
``prune=True`` every op node that lies on no input-to-output path (a dead node: e.g. the ops
behind a ``none`` edge into node 1, or the ops into node 2 when nothing leaves node 2) is cut
off the same way.

Path encoding (:func:`path_encoding`, BANANAS)
----------------------------------------------
The NB201 cell has four input-to-output routes through cell nodes: ``0->3``, ``0->1->3``,
``0->2->3`` and ``0->1->2->3``. A route through a ``none`` edge carries nothing and does not
exist; every other route is the sequence of its ops. Feature ``k`` counts the routes whose op
sequence is the ``k``-th of the 84 sequences over the four non-``none`` ops
(:data:`PATH_OPS`), ordered by length (4 of length 1, then 16 of length 2, then 64 of length 3)
and, within a length, lexicographically by op id with the first op most significant
(:func:`path_names` lists them). Counts are at most 2 (two different length-2 routes with the
same ops); ``binary=True`` gives BANANAS' 0/1 indicators instead.

WL features (:func:`wl_features`, NAS-BOWL)
-------------------------------------------
Weisfeiler-Lehman subtree features as in NAS-BOWL (Ru et al., ICLR 2021), computed on the
*pruned* op-on-node DAG restricted to its live nodes (input, output and the op nodes on an
input-to-output path). Iteration 0 labels a node by its op name (``'input'``/``'output'`` for
the ends); iteration ``t`` relabels a node by ``(its label at t-1, sorted labels at t-1 of its
in-neighbours)``, so a label is the subtree of computation feeding that node, following the
direction of data flow. Feature = number of live nodes carrying a label, for iterations
``0..h``. The vocabulary (the columns) is built once per ``h`` over all 15,625 cells and cached,
so features of different calls share columns; columns are sorted by (iteration, label), and
:func:`wl_vocabulary` names them. ``h=2`` has 4,608 columns, ``h=1`` 102; ``sparse=True``
returns a ``scipy.sparse.csr_matrix`` instead of a dense array.

Isomorphism (``Cell.iso_key``)
------------------------------
Isomorphic cells get identical path and WL features *unless* the isomorphism goes through a
``skip_connect`` (identity) edge. ``iso_key`` identifies, e.g., ``skip`` on ``1<-0`` followed by
a conv on ``3<-1`` with a conv on ``3<-0`` (everything else ``none``); the graph encodings see a
route with an extra ``skip_connect`` op. Measured over all 15,625 cells (checked in
``tests/test_encodings.py``): 5,167 of the 6,466 isomorphism classes have one path encoding and
one WL encoding (``h=2``) shared by all their members, among them every class whose members
differ only in dead ops (ops on no input-to-output path, which neither encoding sees). Each of the other 1,299 classes has a member with a live ``skip_connect``, and
its members' encodings differ by the identity steps (near-identical, not identical).
11,635 of the 15,625 cells have the path encoding of their class representative. Conversely,
different classes can share an encoding (the path encoding does not see how routes share
edges): 8,445 distinct path encodings and 8,765 distinct WL encodings over all cells. One-hot
encodings of isomorphic cells differ whenever the cells do.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, SpaceError
from .space import EDGES, N_CELLS, N_EDGES, N_OPS, NONE, OPS, Cell

__all__ = [
    "PATH_OPS", "ROUTES", "N_PATH_FEATURES", "onehot", "adjacency", "path_encoding", "path_names",
    "wl_features", "wl_vocabulary",
]

PATH_OPS: tuple[int, ...] = tuple(o for o in range(N_OPS) if o != NONE)
"""The op ids a path can carry (every op but ``none``), in op-id order."""

ROUTES: tuple[tuple[int, ...], ...] = (
    (EDGES.index((3, 0)),),
    (EDGES.index((1, 0)), EDGES.index((3, 1))),
    (EDGES.index((2, 0)), EDGES.index((3, 2))),
    (EDGES.index((1, 0)), EDGES.index((2, 1)), EDGES.index((3, 2))),
)
"""The four input-to-output routes (0->3, 0->1->3, 0->2->3, 0->1->2->3) as edge indices."""

_SEQUENCES: tuple[tuple[int, ...], ...] = tuple(
    seq for length in (1, 2, 3) for seq in itertools.product(PATH_OPS, repeat=length)
)
assert NONE == 0 and PATH_OPS == (1, 2, 3, 4)  # _path_table's column arithmetic relies on it
N_PATH_FEATURES = len(_SEQUENCES)  # 84
N_NODES_DAG = N_EDGES + 2  # input, 6 op nodes, output


# ------------------------------------------------------------------------------ input handling
def _codes(cells: Any, fn: str) -> np.ndarray:
    """Cell codes of a single cell / arch string or of a sequence of them; SpaceError otherwise."""
    if isinstance(cells, (Cell, str)):
        cells = [cells]
    elif isinstance(cells, (bytes, bytearray, Mapping)) or not isinstance(cells, Iterable) or (
            isinstance(cells, np.ndarray) and cells.ndim != 1):
        raise SpaceError(
            f"{fn}() needs a Cell, an NB201 arch string or a sequence of them, got "
            f"{type(cells).__name__}: {cells!r}"
        )
    out = []
    for i, c in enumerate(cells):
        if isinstance(c, Cell):
            out.append(c.code)
        elif isinstance(c, str):
            try:
                out.append(Cell.from_str(c).code)
            except ValueError as e:
                raise SpaceError(f"{fn}(): item {i} is not a valid cell: {e}") from None
        else:
            raise SpaceError(
                f"{fn}(): item {i} is {type(c).__name__} {c!r}; expected a Cell or an NB201 arch string"
            )
    return np.asarray(out, dtype=np.int64)


def _one_cell(cell: Any, fn: str) -> Cell:
    if isinstance(cell, Cell):
        return cell
    if isinstance(cell, str):
        try:
            return Cell.from_str(cell)
        except ValueError as e:
            raise SpaceError(f"{fn}(): {e}") from None
    raise SpaceError(f"{fn}() needs one Cell or NB201 arch string, got {type(cell).__name__}: {cell!r}")


# ------------------------------------------------------------------------------ one-hot
@functools.lru_cache(maxsize=1)
def _onehot_table() -> np.ndarray:
    ops = _all_ops()
    table = np.zeros((N_CELLS, N_EDGES * N_OPS), dtype=np.float64)
    rows = np.repeat(np.arange(N_CELLS), N_EDGES)
    cols = (np.arange(N_EDGES) * N_OPS + ops).ravel()
    table[rows, cols] = 1.0
    table.flags.writeable = False
    return table


def onehot(cells: Cell | str | Sequence[Cell | str]) -> np.ndarray:
    """(n, 30) float64 one-hot ops, edge-major: column ``e * 5 + o`` is 1 iff edge ``e`` carries op ``o``."""
    return _onehot_table()[_codes(cells, "onehot")]


# ------------------------------------------------------------------------------ op-on-node DAG
def _preds(ops: tuple[int, ...]) -> list[list[int]]:
    """In-neighbours of each of the 8 DAG nodes, ``none`` edges dropped."""
    preds: list[list[int]] = [[] for _ in range(N_NODES_DAG)]
    for k, (dst, src) in enumerate(EDGES):
        if ops[k] == NONE:
            continue
        if src == 0:
            preds[k + 1].append(0)
        else:
            preds[k + 1].extend(m + 1 for m, (d2, _) in enumerate(EDGES) if d2 == src and ops[m] != NONE)
        if dst == EDGES[-1][0]:
            preds[N_NODES_DAG - 1].append(k + 1)
    return preds


def _live(preds: list[list[int]]) -> set[int]:
    """Nodes on some input-to-output path (node order 0..7 is a topological order)."""
    fwd = {0}
    for n in range(1, N_NODES_DAG):
        if any(p in fwd for p in preds[n]):
            fwd.add(n)
    bwd = {N_NODES_DAG - 1}
    for n in range(N_NODES_DAG - 1, -1, -1):
        if n in bwd:
            bwd.update(preds[n])
    return fwd & bwd


def adjacency(cell: Cell | str, *, prune: bool = False) -> tuple[np.ndarray, list[str]]:
    """The cell as an op-on-node DAG: (8 x 8 int64 adjacency, 8 node labels).

    ``A[i, j] == 1`` iff node ``i`` feeds node ``j``. Nodes: 0 ``'input'``, ``1 + e`` the op of
    edge ``e`` (``EDGES`` order), 7 ``'output'``. ``none`` op nodes keep their label but have no
    arcs; ``prune=True`` also cuts every op node on no input-to-output path (module docstring).
    """
    c = _one_cell(cell, "adjacency")
    preds = _preds(c.ops)
    keep = _live(preds) if prune else set(range(N_NODES_DAG))
    a = np.zeros((N_NODES_DAG, N_NODES_DAG), dtype=np.int64)
    for n, ps in enumerate(preds):
        for p in ps:
            if n in keep and p in keep:
                a[p, n] = 1
    labels = ["input", *(OPS[o] for o in c.ops), "output"]
    return a, labels


# ------------------------------------------------------------------------------ paths
def path_names() -> list[str]:
    """The 84 path-encoding columns, e.g. ``'skip_connect>nor_conv_3x3'``."""
    return [">".join(OPS[o] for o in seq) for seq in _SEQUENCES]


def _all_ops() -> np.ndarray:
    """(15625, 6) op ids of every cell, row = code."""
    codes = np.arange(N_CELLS)
    return np.stack([(codes // N_OPS ** (N_EDGES - 1 - e)) % N_OPS for e in range(N_EDGES)], axis=1)


def _live_ops() -> np.ndarray:
    """``_all_ops()`` with every op on no input-to-output path (a dead op) set to ``none``."""
    ops = _all_ops()
    nz = ops != NONE
    e = {edge: k for k, edge in enumerate(EDGES)}
    # reach[j]: cell node j is reachable from the input; coreach[j]: it reaches the output
    reach = {0: np.ones(N_CELLS, dtype=bool)}
    for j in (1, 2, 3):
        reach[j] = np.zeros(N_CELLS, dtype=bool)
        for i in range(j):
            reach[j] |= nz[:, e[(j, i)]] & reach[i]
    coreach = {3: np.ones(N_CELLS, dtype=bool)}
    for i in (2, 1, 0):
        coreach[i] = np.zeros(N_CELLS, dtype=bool)
        for j in range(i + 1, 4):
            coreach[i] |= nz[:, e[(j, i)]] & coreach[j]
    live = np.stack([nz[:, k] & reach[i] & coreach[j] for k, (j, i) in enumerate(EDGES)], axis=1)
    return np.where(live, ops, NONE)


@functools.lru_cache(maxsize=1)
def _path_table() -> np.ndarray:
    ops = _all_ops()
    table = np.zeros((N_CELLS, N_PATH_FEATURES), dtype=np.float64)
    n_path_ops = len(PATH_OPS)
    offset = 0
    for length in (1, 2, 3):
        for route in (r for r in ROUTES if len(r) == length):
            seq = ops[:, list(route)]  # (15625, length)
            alive = (seq != NONE).all(axis=1)
            col = np.zeros(N_CELLS, dtype=np.int64)
            for k in range(length):  # first op most significant; op o -> digit PATH_OPS.index(o) = o - 1
                col = col * n_path_ops + (seq[:, k] - 1)
            np.add.at(table, (np.flatnonzero(alive), offset + col[alive]), 1.0)
        offset += n_path_ops**length
    table.flags.writeable = False
    return table


def path_encoding(cells: Cell | str | Sequence[Cell | str], *, binary: bool = False) -> np.ndarray:
    """(n, 84) float64 BANANAS path encoding: counts (or 0/1 with ``binary``) of op sequences."""
    x = _path_table()[_codes(cells, "path_encoding")]
    return (x > 0).astype(np.float64) if binary else x


# ------------------------------------------------------------------------------ WL
@functools.lru_cache(maxsize=4)
def _wl_table(h: int) -> tuple[Any, tuple[str, ...]]:
    """(CSR matrix of all 15,625 cells' WL counts, column names) for ``h`` iterations.

    Labels are interned as integers per iteration: ``key[t][(own id, sorted in-neighbour ids)]``;
    each id keeps a readable name for the vocabulary.
    """
    from scipy import sparse

    end = N_NODES_DAG - 1
    ids: list[dict[Any, int]] = [{}]  # per iteration: label key -> interned id (first seen)
    id_names: list[list[str]] = [[]]
    for it in range(1, h + 1):
        ids.append({})
        id_names.append([])

    def intern(it: int, key: Any, name_fn: Any) -> int:
        table = ids[it]
        i = table.get(key)
        if i is None:
            i = table[key] = len(table)
            id_names[it].append(name_fn())
        return i

    base = ["input", *OPS, "output"]  # iteration-0 keys: 0 input, 1 + op, 6 output
    rows: list[int] = []
    labels: list[tuple[int, int]] = []  # (iteration, id) per entry
    # the WL labels depend only on the live ops: compute them once per distinct live-masked cell
    masked = _live_ops()
    uniq, inverse = np.unique(masked @ (N_OPS ** np.arange(N_EDGES - 1, -1, -1)), return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse[::-1]] = np.arange(N_CELLS)[::-1]
    for u, ops in enumerate(masked[first].tolist()):
        preds = _preds(tuple(ops))
        nodes = sorted(_live(preds) | {0, end})
        cur = {n: intern(0, b, lambda b=b: base[b])
               for n, b in ((n, 0 if n == 0 else len(base) - 1 if n == end else 1 + ops[n - 1]) for n in nodes)}
        entries = [(0, cur[n]) for n in nodes]
        live = set(nodes)
        for it in range(1, h + 1):
            prev = cur
            cur = {}
            for n in nodes:
                key = (prev[n], tuple(sorted(prev[p] for p in preds[n] if p in live)))
                cur[n] = intern(it, key, lambda it=it, key=key: (
                    f"{id_names[it - 1][key[0]]}<-[{', '.join(sorted(id_names[it - 1][k] for k in key[1]))}]"))
            entries.extend((it, cur[n]) for n in nodes)
        rows.extend([u] * len(entries))
        labels.extend(entries)
    # columns sorted by (iteration, name)
    order = sorted(((it, nm, i) for it in range(h + 1) for i, nm in enumerate(id_names[it])))
    column = {(it, i): k for k, (it, _, i) in enumerate(order)}
    cols = [column[lab] for lab in labels]
    data = np.ones(len(rows), dtype=np.float64)
    m = sparse.csr_matrix((data, (rows, cols)), shape=(len(uniq), len(order)))
    m.sum_duplicates()
    m = m[inverse.ravel()]  # row = cell code
    return m, tuple(f"h{it}:{nm}" for it, nm, _ in order)


def _check_h(h: Any) -> int:
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 0 <= h <= 4:
        raise ConfigError(f"h (WL iterations) must be an integer in 0..4, got {h!r}")
    return int(h)


def wl_features(cells: Cell | str | Sequence[Cell | str], h: int = 2, *, sparse: bool = False) -> Any:
    """(n, F) float64 WL subtree-label counts, iterations 0..h, columns shared across calls.

    Dense ``np.ndarray`` by default; ``sparse=True`` gives a ``scipy.sparse.csr_matrix``.
    """
    h = _check_h(h)
    codes = _codes(cells, "wl_features")
    m = _wl_table(h)[0][codes]
    return m if sparse else m.toarray()


def wl_vocabulary(h: int = 2) -> list[str]:
    """Names of the ``wl_features(.., h)`` columns, e.g. ``'h1:nor_conv_3x3<-[input]'``."""
    return list(_wl_table(_check_h(h))[1])
