"""The NAS-Bench-201 cell space.

A cell is a DAG on 4 nodes (node 0 is the cell input, node 3 its output). Each of the 6 edges
``j <- i`` (i < j) carries one of 5 operations. This module fixes *the one* op order and edge
order used everywhere in boed-nas; both agree with NB201's ``op_code`` convention and official
arch strings.

Official arch string, edges in ``EDGES`` order::

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
     1<-0    2<-0 2<-1    3<-0 3<-1 3<-2

The integer code of a cell is the base-5 number whose digits are its ops in edge order
(edge 0 most significant), so codes run 0..15624 and ``Cell.from_code(c).code == c``. The code
is *not* NB201's ``arch_index``; the benchmark maps between them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SpaceError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Operation names; an op id is an index into this tuple (NB201's ``op_code`` order)."""

EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
EDGE_PARAMETERS: tuple[str, ...] = tuple(f"edge_{src}_to_{to}" for to, src in EDGES)
"""A cell's edges as parameter names (``CellSpace.to_parameters``), in ``EDGES`` order."""
"""Edges as ``(to_node, from_node)``, in the order of the official arch string."""

NASLIB_OPS: tuple[str, ...] = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's op order: its ``op_indices`` index into this (not ``OPS``: index 0 is skip_connect there)."""
NASLIB_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
"""NASLib's edge order of ``op_indices`` as ``(to_node, from_node)``: by source node first (its
``EDGE_LIST``), not by target node as the arch string and ``EDGES`` are."""

N_NODES = 4
N_EDGES = len(EDGES)
N_OPS = len(OPS)
N_CELLS = N_OPS**N_EDGES  # 15,625

PARAMETRIC_OPS: frozenset[int] = frozenset({OPS.index("nor_conv_1x1"), OPS.index("nor_conv_3x3")})
NONE = OPS.index("none")
SKIP = OPS.index("skip_connect")

ARCH_STR_FORM = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op in " + ", ".join(OPS)
_TOKEN = re.compile(r"^([A-Za-z0-9_]+)~(\d+)$")


def op_id(name: str) -> int:
    """The id of an op name; SpaceError naming the valid ops otherwise."""
    try:
        return OPS.index(name)
    except ValueError:
        raise SpaceError(f"unknown op {name!r}; expected one of {list(OPS)}") from None


@dataclass(frozen=True, order=True, slots=True)
class Cell:
    """An NB201 cell: an immutable tuple of 6 op ids in ``EDGES`` order."""

    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        ops = tuple(self.ops)
        if len(ops) != N_EDGES:
            raise SpaceError(f"a cell has {N_EDGES} edges, got {len(ops)} ops: {ops!r}")
        for o in ops:
            if isinstance(o, bool) or not isinstance(o, (int, np.integer)) or not 0 <= o < N_OPS:
                raise SpaceError(f"op id {o!r} in {ops!r} is not an integer in 0..{N_OPS - 1} ({list(OPS)})")
        object.__setattr__(self, "ops", tuple(int(o) for o in ops))

    # ---- construction ------------------------------------------------------------------------
    @classmethod
    def from_str(cls, arch: str) -> Cell:
        """Parse an official NB201 arch string; SpaceError quoting the string on any defect."""
        if not isinstance(arch, str):
            raise SpaceError(f"an arch string must be a str, got {type(arch).__name__}: {arch!r}")
        s = arch.strip()
        if not (s.startswith("|") and s.endswith("|")):
            raise SpaceError(f"malformed arch string {arch!r}: expected {ARCH_STR_FORM}")
        nodes = s[1:-1].split("|+|")
        if len(nodes) != N_NODES - 1:
            raise SpaceError(
                f"arch string {arch!r} has {len(nodes)} node groups, expected {N_NODES - 1}: {ARCH_STR_FORM}"
            )
        ops: list[int] = []
        for j, group in enumerate(nodes, start=1):
            tokens = group.split("|")
            if len(tokens) != j:
                raise SpaceError(
                    f"arch string {arch!r}: node {j} has {len(tokens)} input edges, expected {j} "
                    f"(wrong edge count); expected {ARCH_STR_FORM}"
                )
            for i, tok in enumerate(tokens):
                m = _TOKEN.match(tok)
                if m is None:
                    raise SpaceError(f"arch string {arch!r}: malformed edge {tok!r}, expected 'op~{i}'")
                name, src = m.group(1), int(m.group(2))
                if src != i:
                    raise SpaceError(f"arch string {arch!r}: edge {tok!r} into node {j} must come from node {i}")
                ops.append(op_id(name))
        return cls(tuple(ops))

    @classmethod
    def from_code(cls, code: int) -> Cell:
        """The cell with integer code ``code`` (0..15624)."""
        if isinstance(code, bool) or not isinstance(code, (int, np.integer)) or not 0 <= code < N_CELLS:
            raise SpaceError(f"cell code {code!r} is not an integer in 0..{N_CELLS - 1}")
        return _cell_of_code(int(code))

    @classmethod
    def from_names(cls, names: Sequence[str]) -> Cell:
        """Build from 6 op names in edge order."""
        names = list(names)
        if len(names) != N_EDGES:
            raise SpaceError(f"a cell has {N_EDGES} edges, got {len(names)} op names: {names!r}")
        return cls(tuple(op_id(n) for n in names))

    @classmethod
    def from_naslib(cls, op_indices: Sequence[int]) -> Cell:
        """The cell of NASLib's NB201 ``op_indices`` (six ints, ``NASLIB_EDGES`` order, each an index
        into ``NASLIB_OPS``), which are not boed-nas's op ids: read as ``Cell(...)`` they would be
        another cell. SpaceError naming the value otherwise."""
        values = list(op_indices) if isinstance(op_indices, (Sequence, np.ndarray)) and not isinstance(op_indices, str) else None
        if (values is None or len(values) != N_EDGES
                or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < N_OPS for v in values)):
            raise SpaceError(f"NASLib op_indices are {N_EDGES} integers in 0..{N_OPS - 1} (indices into {list(NASLIB_OPS)}), "
                             f"got {op_indices!r}")
        by_edge = {edge: OPS.index(NASLIB_OPS[int(v)]) for edge, v in zip(NASLIB_EDGES, values)}
        return cls(tuple(by_edge[edge] for edge in EDGES))

    def to_naslib(self) -> tuple[int, ...]:
        """NASLib's ``op_indices`` of this cell (``from_naslib``'s inverse)."""
        by_edge = dict(zip(EDGES, self.ops))
        return tuple(NASLIB_OPS.index(OPS[by_edge[edge]]) for edge in NASLIB_EDGES)

    @classmethod
    def parse(cls, value: Cell | str | int | Sequence[int]) -> Cell:
        """Accept a Cell, an arch string, an integer code or a sequence of 6 op ids."""
        if isinstance(value, Cell):
            return value
        if isinstance(value, str):
            return cls.from_str(value)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return cls.from_code(int(value))
        if isinstance(value, Sequence) or isinstance(value, np.ndarray):
            return cls(tuple(value))
        raise SpaceError(f"cannot read a cell from {value!r}; expected an arch string ({ARCH_STR_FORM}), "
                         f"a code in 0..{N_CELLS - 1} or 6 op ids")

    # ---- views -------------------------------------------------------------------------------
    @property
    def code(self) -> int:
        c = 0
        for o in self.ops:
            c = c * N_OPS + o
        return c

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(OPS[o] for o in self.ops)

    def __str__(self) -> str:
        groups = []
        k = 0
        for j in range(1, N_NODES):
            groups.append("|".join(f"{OPS[self.ops[k + i]]}~{i}" for i in range(j)))
            k += j
        return "|" + "|+|".join(groups) + "|"

    def __repr__(self) -> str:
        return f"Cell('{self}')"

    # ---- structure ---------------------------------------------------------------------------
    @property
    def iso_key(self) -> str:
        """A string equal for isomorphic cells (NB201's ``get_unique_str`` convention).

        A node is written as the sorted sum of its incoming terms: ``#`` for a zero input (a
        ``none`` edge or a zero source), the source itself for ``skip_connect``, else
        ``(source)@op``. Two cells with the same key compute the same function; NB201 has 6,466
        distinct keys.
        """
        return _iso_key(self.ops)

    def canonical(self) -> Cell:
        """The representative of this cell's isomorphism class (its member with the lowest code)."""
        return _canonical_table()[0][self.code]

    def is_canonical(self) -> bool:
        return self.canonical() == self

    def neighbours(self) -> list[Cell]:
        """All 24 cells that differ from this one in the op on exactly one edge."""
        out = []
        for e in range(N_EDGES):
            for o in range(N_OPS):
                if o != self.ops[e]:
                    ops = list(self.ops)
                    ops[e] = o
                    out.append(Cell(tuple(ops)))
        return out

    def mutate(self, rng: np.random.Generator) -> Cell:
        """One uniformly random neighbour (one edge, a different op)."""
        e = int(rng.integers(N_EDGES))
        o = int(rng.integers(N_OPS - 1))
        o = o if o < self.ops[e] else o + 1
        ops = list(self.ops)
        ops[e] = o
        return Cell(tuple(ops))

    def has_parametric_path(self) -> bool:
        """True if some input-to-output path passes through a convolution and no ``none`` edge."""
        return _has_parametric_path(self.ops)


@functools.lru_cache(maxsize=None)
def _cell_of_code(code: int) -> Cell:
    ops = []
    for _ in range(N_EDGES):
        ops.append(code % N_OPS)
        code //= N_OPS
    return Cell(tuple(reversed(ops)))


def _iso_key(ops: tuple[int, ...]) -> str:
    nodes = ["0"]
    for j in range(1, N_NODES):
        terms = []
        for (to, src), o in zip(EDGES, ops):
            if to != j:
                continue
            if o == NONE or nodes[src] == "#":
                terms.append("#")
            elif o == SKIP:
                terms.append(nodes[src])
            else:
                terms.append(f"({nodes[src]})@{OPS[o]}")
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]


def _has_parametric_path(ops: tuple[int, ...]) -> bool:
    # reach[j] = (reachable from input without 'none', reachable with >= 1 conv on the way)
    reach = {0: (True, False)}
    for j in range(1, N_NODES):
        any_path, conv_path = False, False
        for (to, src), o in zip(EDGES, ops):
            if to != j or o == NONE:
                continue
            r, c = reach[src]
            any_path |= r
            conv_path |= r and (c or o in PARAMETRIC_OPS)
        reach[j] = (any_path, conv_path)
    return reach[N_NODES - 1][1]


@functools.lru_cache(maxsize=1)
def _canonical_table() -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
    """(representative of every code, all representatives in code order); built once, ~50 ms."""
    rep_of_key: dict[str, Cell] = {}
    reps = []
    for code in range(N_CELLS):
        cell = _cell_of_code(code)
        key = _iso_key(cell.ops)
        if key not in rep_of_key:
            rep_of_key[key] = cell
        reps.append(rep_of_key[key])
    return tuple(reps), tuple(sorted(set(reps)))


def all_cells() -> Iterator[Cell]:
    """Every one of the 15,625 cells, in code order."""
    return (_cell_of_code(c) for c in range(N_CELLS))


def canonical_cells() -> tuple[Cell, ...]:
    """The 6,466 isomorphism-class representatives, in code order."""
    return _canonical_table()[1]


def sample_cell(rng: np.random.Generator) -> Cell:
    """A cell drawn uniformly from the 15,625 cells."""
    return _cell_of_code(int(rng.integers(N_CELLS)))


class CellSpace:
    """The NB201 cell space under the search-space protocol every strategy uses (the one of
    ``boed_nas.spaces.Space``): points are ``Cell`` objects, keys are isomorphism classes."""

    name = "nb201"
    ref = "nb201"  # what a strategy saves as its space (resolve_space("nb201") is this space)
    constraint = None  # every one of the 15,625 op assignments is a cell
    # boed's default signals here: the seven shipped in boed_nas/nb201/data/signals.csv.gz, the
    # combination chosen on held-out seeds 20-24 (docs/signals.md)
    shipped_signals = "params+flops+synflow+snip+grad_norm+jacob_cov+naswot"

    names = EDGE_PARAMETERS  # the variables' names

    @functools.cached_property
    def variables(self) -> list[Any]:
        """The six edges as categorical variables over the op names (``EDGE_PARAMETERS``): how a
        ``ChoicePrior`` or Ax sees a cell (its ``to_parameters``)."""
        from ..spaces.base import Categorical

        return [Categorical(name, list(OPS)) for name in EDGE_PARAMETERS]
    unit = "isomorphism classes"  # what n_distinct counts
    enumerable = True

    def parse(self, value: Cell | str | int | Sequence[int]) -> Cell:
        return Cell.parse(value)

    def key(self, cell: Cell) -> int:
        """The code of the class representative: isomorphic cells are the same network."""
        return cell.canonical().code

    def format(self, cell: Cell) -> str:
        return str(cell)

    def indices(self, cell: Cell) -> tuple[int, ...]:
        """The class representative's op ids: where the cell sits for a Hamming distance."""
        return cell.canonical().ops

    @property
    def n_distinct(self) -> int:
        return len(canonical_cells())

    def sample(self, rng: np.random.Generator) -> Cell:
        return sample_cell(rng)

    def enumerate(self) -> list[Cell]:
        return list(canonical_cells())

    def neighbours(self, cell: Cell) -> list[Cell]:
        return cell.neighbours()

    def mutate(self, cell: Cell, rng: np.random.Generator) -> Cell:
        return cell.mutate(rng)

    def costs(self, cell: Cell) -> dict[str, float]:
        return {}

    # ------------------------------------------------------------------ hooks (see boed_nas.spaces.protocol)
    def belief_inputs(self, kernel: str, **kw: Any) -> Any:
        """The GP inputs of cells: op ids, Weisfeiler-Lehman features, the shipped signals, an op
        prior per edge (``boed_nas.bo.inputs.cell_inputs``)."""
        from ..bo.inputs import cell_inputs

        return cell_inputs(kernel, **kw)

    def path_encoding(self, cells: Sequence[Cell]) -> np.ndarray:
        """BANANAS's path encoding of each cell (``boed_nas.nb201.encodings.path_encoding``)."""
        from .encodings import path_encoding

        return path_encoding(list(cells))

    def cell_network(self) -> Any:
        """The NB201 cell network a supernet is built from (``boed_nas.nb201.network``)."""
        from . import network

        return network

    def to_parameters(self, cell: Cell) -> dict[str, str]:
        """A cell as named parameters, one op name per edge (``EDGE_PARAMETERS``): what Ax and
        Optuna see."""
        return dict(zip(EDGE_PARAMETERS, Cell.parse(cell).names))

    def from_parameters(self, parameters: Any) -> Cell:
        """The cell of named parameters (``to_parameters``); SpaceError naming what is outside the space."""
        if not isinstance(parameters, Mapping):
            raise SpaceError(f"a parameterisation is a mapping of parameter name -> op name, got {parameters!r}")
        missing = [n for n in EDGE_PARAMETERS if n not in parameters]
        extra = sorted(set(parameters) - set(EDGE_PARAMETERS))
        if missing or extra:
            raise SpaceError(
                f"parameterisation {dict(parameters)!r} is outside the NB201 space: "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unexpected {extra}" if extra else "")
                + f"; expected exactly the parameters {list(EDGE_PARAMETERS)}"
            )
        ops = []
        for n in EDGE_PARAMETERS:
            v = parameters[n]
            if not isinstance(v, str) or v not in OPS:
                raise SpaceError(f"parameter {n!r} = {v!r} is outside the NB201 space; expected one of {list(OPS)}")
            ops.append(OPS.index(v))
        return Cell(tuple(ops))

    def pareto_problem(self, objectives: Any, costs: Any = None, constraints: Any = None) -> Any:
        """The multi-objective problem on cells: NB201's known costs, each class evaluated as its
        cheapest feasible member (``boed_nas.mo.pareto.ParetoProblem``)."""
        from ..mo.pareto import ParetoProblem

        return ParetoProblem(objectives, costs, constraints)

    def to_dict(self) -> dict[str, Any]:
        """The space as data (what a saved Ax node holds): its ref."""
        return {"name": self.name, "ref": self.ref}

    def __repr__(self) -> str:
        return "CellSpace()"


CELL_SPACE = CellSpace()
"""The NB201 cell space; the default ``space`` of every strategy."""
