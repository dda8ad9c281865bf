r"""Objectives, Pareto fronts and hypervolume for multi-objective NAS on the NB201 cell space.

Objectives have a name and a direction::

    accuracy  validation accuracy (%)     maximise   learned: a training answers it
    latency   NB201's latency field (s)   minimise   known before training (a lookup table)
    flops     FLOPs (M)                   minimise   known before training
    params    parameters (M)              minimise   known before training

``parse_objectives("accuracy,latency")`` reads them (ConfigError listing the valid names
otherwise). Cost metrics are *known*: ``KnownCosts`` holds them as arrays over the 15,625 cell
codes, from the NB201 table (``KnownCosts.nb201("cifar10")``) or from the user's own lookup (a
mapping name -> array over codes, or a callable cell -> value).

``ParetoProblem`` ties objectives, known costs and constraints (``"latency<=0.01"``) together and
fixes which member of each isomorphism class is evaluated: isomorphic cells compute the same
function, so accuracy is a property of the class, but their deployed costs differ (a convolution
on an edge whose input is always zero still runs and is still timed); as costs are known, a search
evaluates the cheapest feasible member of each class.

Fronts and hypervolume use pymoo (``find_non_dominated`` and ``pymoo.indicators.hv.HV``, both
backed by moocore) on objectives converted to minimisation (maximised objectives negated).

Hypervolume protocol (``hypervolume_report``): the reference point is the worst value of each
objective over the full table (lowest accuracy, highest cost, over all 15,625 cells), a fixed rule,
not tuned; the true front is the non-dominated set of the full table (feasible cells only under
constraints) on the table's mean validation accuracy over training seeds; the found front is the
non-dominated set of the evaluated cells valued the same way. So found/true is comparable across
strategies, and at most 1.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import find_non_dominated

from ..errors import ConfigError
from ..nb201.benchmark import NB201Benchmark
from ..nb201.space import CELL_SPACE, N_CELLS, N_EDGES, N_OPS, Cell, all_cells, canonical_cells
from ..spaces.base import parse_cost_bound


@dataclass(frozen=True)
class Objective:
    """One objective: its name, the outcome metric / table column it reads, and its direction."""

    name: str
    metric: str
    maximize: bool
    unit: str
    learned: bool

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize else "minimize"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction, "metric": self.metric, "unit": self.unit,
                "learned": self.learned}


OBJECTIVES: dict[str, Objective] = {
    "accuracy": Objective("accuracy", "val_acc", True, "%", True),
    "latency": Objective("latency", "latency", False, "s", False),
    "flops": Objective("flops", "flops_M", False, "M", False),
    "params": Objective("params", "params_M", False, "M", False),
}
COST_NAMES = tuple(n for n, o in OBJECTIVES.items() if not o.learned)


def _objective(name: str) -> Objective:
    key = str(name).strip().lower()
    if key not in OBJECTIVES:
        raise ConfigError(f"unknown objective {name!r}; expected one of {list(OBJECTIVES)}")
    return OBJECTIVES[key]


def parse_objectives(spec: str | Sequence[str | Objective], *, min_count: int = 1) -> tuple[Objective, ...]:
    """Objectives from ``"accuracy,latency"`` or a sequence of names; accuracy is required (it is
    the one objective a search learns), at most three, no repeats. ConfigError otherwise."""
    names = [s for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    objs = [n if isinstance(n, Objective) else _objective(n) for n in names if not isinstance(n, str) or n.strip()]
    if not objs:
        raise ConfigError(f"objectives {spec!r} name no objective; expected a comma-separated subset of {list(OBJECTIVES)}")
    seen = [o.name for o in objs]
    if len(set(seen)) != len(seen):
        raise ConfigError(f"objectives {seen} repeat a name; each of {list(OBJECTIVES)} may appear once")
    if "accuracy" not in seen:
        raise ConfigError(f"objectives {seen} lack 'accuracy': the costs {list(COST_NAMES)} are known before "
                         "training, so without accuracy there is nothing to search for")
    if not min_count <= len(objs) <= 3:
        raise ConfigError(f"objectives {seen}: expected {min_count} to 3 of {list(OBJECTIVES)}")
    return tuple(sorted(objs, key=lambda o: not o.learned))  # accuracy first, then costs as given


def parse_constraint(spec: str) -> tuple[str, float]:
    """``"latency<=0.01"`` -> ("latency", 0.01): a known NB201 cost at most a bound."""
    try:
        name, bound = parse_cost_bound(spec)
    except ConfigError as e:
        raise ConfigError(f"{e}; COST is one of {list(COST_NAMES)} here") from None
    if name.lower() not in COST_NAMES:
        raise ConfigError(f"constraint {spec!r} is on {name!r}; expected a known cost, one of {list(COST_NAMES)}")
    return name.lower(), bound


class KnownCosts:
    """Cost metrics known before training, as arrays over the 15,625 cell codes.

    ``KnownCosts({"latency": array_or_callable, ...})``: an array has one value per cell code
    (``Cell.code``, 0..15624); a callable maps a ``Cell`` to a value and is evaluated once on every
    cell. ``KnownCosts.nb201("cifar100")`` reads params, FLOPs and latency from the shipped table.
    ``spec`` is a JSON-able name for the source (saved with a strategy's state so it can be
    rebuilt), None for user-given costs.
    """

    def __init__(self, costs: Mapping[str, np.ndarray | Sequence[float] | Callable[[Cell], float]],
                 spec: str | None = None) -> None:
        self.values: dict[str, np.ndarray] = {}
        for name, v in costs.items():
            key = str(name).lower()
            if key not in COST_NAMES:
                raise ConfigError(f"unknown cost {name!r}; expected one of {list(COST_NAMES)}")
            arr = np.array([float(v(Cell.from_code(c))) for c in range(N_CELLS)]) if callable(v) \
                else np.asarray(v, dtype=np.float64)
            if arr.shape != (N_CELLS,):
                raise ConfigError(f"cost {name!r} must give one value per cell code ({N_CELLS}), got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ConfigError(f"cost {name!r} has non-finite values (e.g. at code {int(np.argmin(np.isfinite(arr)))})")
            self.values[key] = arr
        self.spec = spec

    @classmethod
    def nb201(cls, dataset: str = "cifar10") -> KnownCosts:
        return _nb201_costs(dataset)

    @classmethod
    def resolve(cls, costs: KnownCosts | str | Mapping[str, Any] | None) -> KnownCosts:
        """A ``KnownCosts`` from itself, ``"nb201:<dataset>"`` or a mapping; None means NB201 CIFAR-10."""
        if costs is None:
            return cls.nb201("cifar10")
        if isinstance(costs, KnownCosts):
            return costs
        if isinstance(costs, str):
            kind, _, dataset = costs.partition(":")
            if kind.lower() != "nb201" or not dataset:
                raise ConfigError(f"costs {costs!r}: expected 'nb201:<dataset>' or a mapping cost name -> array/callable")
            return cls.nb201(dataset)
        if isinstance(costs, Mapping):
            return cls(costs)
        raise ConfigError(f"costs {costs!r}: expected 'nb201:<dataset>', a KnownCosts or a mapping name -> array/callable")

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.values:
            raise ConfigError(f"no known cost {name!r}; these costs hold {list(self.values)}")
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values


@functools.lru_cache(maxsize=4)
def _nb201_costs(dataset: str) -> KnownCosts:
    b = NB201Benchmark(dataset)
    return KnownCosts({"latency": b.latency, "flops": b.flops_M, "params": b.params_M}, spec=f"nb201:{b.dataset}")


# ---------------------------------------------------------------------------------- fronts, HV
def to_minimization(F: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Objective values (n x m, in the objectives' own directions) with maximised columns negated."""
    F = np.asarray(F, dtype=np.float64).reshape(-1, len(objectives))
    return F * np.array([-1.0 if o.maximize else 1.0 for o in objectives])


def non_dominated(F: np.ndarray, objectives: Sequence[Objective]) -> np.ndarray:
    """Indices (sorted) of the rows of ``F`` no other row dominates (pymoo's ``find_non_dominated``;
    rows with equal values are all kept)."""
    G = to_minimization(F, objectives)
    if len(G) == 0:
        return np.array([], dtype=np.int64)
    return np.sort(np.asarray(find_non_dominated(G), dtype=np.int64))


def hypervolume(F: np.ndarray, reference_point: Sequence[float], objectives: Sequence[Objective]) -> float:
    """Hypervolume (pymoo ``HV``) of the points ``F`` w.r.t. ``reference_point``, both in the
    objectives' own directions; points not strictly better than the reference add nothing."""
    G = to_minimization(F, objectives)
    ref = to_minimization(np.asarray(reference_point, dtype=np.float64)[None, :], objectives)[0]
    G = G[np.all(G < ref, axis=1)]
    if len(G) == 0:
        return 0.0
    return float(HV(ref_point=ref)(G))


def objective_table(objectives: Sequence[Objective], accuracy: np.ndarray, costs: KnownCosts) -> np.ndarray:
    """N_CELLS x m objective values: ``accuracy`` (one value per code) for the learned objective,
    the known costs for the others."""
    cols = [np.asarray(accuracy, dtype=np.float64) if o.learned else costs[o.name] for o in objectives]
    return np.stack(cols, axis=1)


def reference_point(objectives: Sequence[Objective], table: np.ndarray) -> np.ndarray:
    """The worst value of each objective over the full table (min of maximised, max of minimised)."""
    return np.array([table[:, j].min() if o.maximize else table[:, j].max() for j, o in enumerate(objectives)])


@dataclass
class HypervolumeReport:
    objectives: tuple[Objective, ...]
    reference_point: np.ndarray
    true_front: np.ndarray  # cell codes
    true_hypervolume: float
    table: np.ndarray  # N_CELLS x m objective values
    feasible: np.ndarray | None = None  # per code; cells outside it count for nothing

    def _feasible(self, codes: Sequence[int]) -> np.ndarray:
        codes = np.asarray(list(codes), dtype=np.int64)
        return codes if self.feasible is None else codes[self.feasible[codes]]

    def front(self, codes: Sequence[int]) -> np.ndarray:
        """The non-dominated subset of the feasible ``codes`` (cell codes), by the table's values."""
        codes = self._feasible(codes)
        if len(codes) == 0:
            return codes
        return codes[non_dominated(self.table[codes], self.objectives)]

    def hypervolume(self, codes: Sequence[int]) -> float:
        codes = self._feasible(codes)
        if len(codes) == 0:
            return 0.0
        return hypervolume(self.table[codes], self.reference_point, self.objectives)

    def ratio(self, codes: Sequence[int]) -> float:
        return self.hypervolume(codes) / self.true_hypervolume if self.true_hypervolume > 0 else float("nan")

    def front_records(self, codes: Sequence[int]) -> list[dict[str, Any]]:
        """``[{"cell": official NB201 string, <objective>: value, ...}]`` by the first objective's order."""
        codes = self.front(codes)
        rows = [{"cell": str(Cell.from_code(int(c))), **{o.name: float(self.table[c, j])
                                                         for j, o in enumerate(self.objectives)}} for c in codes]
        key = self.objectives[1].name if len(self.objectives) > 1 else self.objectives[0].name
        return sorted(rows, key=lambda r: r[key])

    def summary(self, evaluated_codes: Sequence[int]) -> dict[str, Any]:
        hv = self.hypervolume(evaluated_codes)
        return {
            "objectives": [o.to_dict() for o in self.objectives],
            "front": self.front_records(evaluated_codes),
            "reference_point": {o.name: float(v) for o, v in zip(self.objectives, self.reference_point)},
            "reference_point_rule": "worst value of each objective over the full table (all 15,625 cells)",
            "hypervolume": hv,
            "true_hypervolume": self.true_hypervolume,
            "hypervolume_ratio": hv / self.true_hypervolume,
            "true_front": self.front_records(self.true_front),
        }


def hypervolume_report(objectives: Sequence[Objective], accuracy: np.ndarray, costs: KnownCosts,
                       feasible: np.ndarray | None = None) -> HypervolumeReport:
    """The true front and hypervolume of a table (``accuracy``: the table's mean validation accuracy
    per code) for ``objectives``; the reference point is taken over the full table, the true front
    over the ``feasible`` cells (all if None)."""
    objectives = tuple(objectives)
    table = objective_table(objectives, accuracy, costs)
    ref = reference_point(objectives, table)
    pool = np.arange(N_CELLS) if feasible is None else np.flatnonzero(feasible)
    front = pool[non_dominated(table[pool], objectives)]
    hv = hypervolume(table[front], ref, objectives)
    return HypervolumeReport(objectives, ref, front, hv, table, None if feasible is None else np.asarray(feasible, bool))


# ----------------------------------------------------------------------------------- multi-objective
def mo_report(bench: NB201Benchmark, objectives: str | Sequence[str],
              constraints: Sequence[str] | None = None) -> HypervolumeReport:
    """The hypervolume protocol on ``bench``: the table's mean validation accuracy over training
    seeds and its known costs, the reference point = the worst value of each objective over all
    15,625 cells, the true front over the cells within ``constraints``."""
    problem = ParetoProblem(objectives, KnownCosts.nb201(bench.dataset), constraints)
    feasible = problem.feasible_cells if problem.constraints else None
    return hypervolume_report(problem.objectives, bench.val_mean, problem.costs, feasible)


def plot_front(report: HypervolumeReport, evaluated_codes: Sequence[int], path: Any, title: str = "") -> None:
    """PNG of the found front (evaluated cells) against the true front, accuracy against each cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    objs = report.objectives
    costs = [j for j, o in enumerate(objs) if not o.learned]
    acc = next(j for j, o in enumerate(objs) if o.learned)
    ev = np.asarray(list(evaluated_codes), dtype=np.int64)
    found = report.front(ev)
    fig, axes = plt.subplots(1, max(1, len(costs)), figsize=(6 * max(1, len(costs)), 4.5), squeeze=False)
    for ax, j in zip(axes[0], costs or [acc]):
        T = report.table
        ax.scatter(T[:, j], T[:, acc], s=2, c="0.85", label="all cells (table)", rasterized=True)
        tf = report.true_front[np.argsort(T[report.true_front, j])]
        ax.plot(T[tf, j], T[tf, acc], "-o", c="k", ms=3, lw=1, drawstyle="steps-post" if len(costs) == 1 else "default",
                label=f"true front ({len(tf)} cells)")
        if len(ev):
            ax.scatter(T[ev, j], T[ev, acc], s=10, c="tab:blue", alpha=0.5, label=f"evaluated ({len(ev)})")
        ff = found[np.argsort(T[found, j])] if len(found) else found
        if len(ff):
            ax.plot(T[ff, j], T[ff, acc], "-s", c="tab:red", ms=4, lw=1,
                    drawstyle="steps-post" if len(costs) == 1 else "default", label=f"found front ({len(ff)})")
        ax.set_xlabel(f"{objs[j].name} ({objs[j].unit})")
        ax.set_ylabel(f"{objs[acc].name}: mean validation accuracy (%)")
        lo = np.percentile(T[:, acc], 5)
        ax.set_ylim(lo, T[:, acc].max() + 0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title(title)
    fig.tight_layout()
    from ..experiment.plots import save_figure

    save_figure(fig, path)


# ---------------------------------------------------------------------------------- the problem
class ParetoProblem:
    """Objectives + known costs + constraints, and the cell each isomorphism class is evaluated as.

    ``pool[i]`` is the cell evaluated for class ``canonical_cells()[i]``: among its feasible
    members, the one with the lowest sum of cost objectives (each divided by its range over the
    table), then of constrained costs, then the lowest code. ``feasible[i]`` says whether the class
    has a member within every constraint.
    """

    def __init__(self, objectives: str | Sequence[str | Objective] = ("accuracy", "latency"),
                 costs: KnownCosts | str | Mapping[str, Any] | None = None,
                 constraints: Mapping[str, float] | Sequence[str] | str | None = None) -> None:
        self.objectives = parse_objectives(objectives)
        self.costs = KnownCosts.resolve(costs)
        self.constraints = _parse_constraints(constraints)
        self.cost_objectives = tuple(o for o in self.objectives if not o.learned)
        for name in [o.name for o in self.cost_objectives] + list(self.constraints):
            self.costs[name]  # every cost used must be known (ConfigError naming it otherwise)
        ok = np.ones(N_CELLS, dtype=bool)
        for name, bound in self.constraints.items():
            ok &= self.costs[name] <= bound
        self.feasible_cells = ok  # per code
        score = np.zeros(N_CELLS)
        for names, weight in (([o.name for o in self.cost_objectives], 1.0), (list(self.constraints), 1e-6)):
            for name in names:
                c = self.costs[name]
                score += weight * (c - c.min()) / max(c.max() - c.min(), 1e-300)
        self.classes = canonical_cells()
        rep_of = np.array([c.canonical().code for c in all_cells()])
        index_of_rep = {c.code: i for i, c in enumerate(self.classes)}
        cls = np.array([index_of_rep[int(r)] for r in rep_of])
        order = np.lexsort((np.arange(N_CELLS), score, ~ok, cls))  # by class, feasible first, cheapest, code
        first = np.ones(N_CELLS, dtype=bool)
        first[1:] = cls[order][1:] != cls[order][:-1]
        chosen = order[first]
        self.pool_codes = chosen[np.argsort(cls[chosen])]  # one code per class, in class order
        self.feasible = ok[self.pool_codes]
        self.class_of_code = cls
        self.pool = [Cell.from_code(int(c)) for c in self.pool_codes]

    @property
    def cost_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.cost_objectives)

    def cost_matrix(self, codes: Sequence[int] | np.ndarray) -> np.ndarray:
        """n x k known cost objectives of the cells with ``codes``."""
        codes = np.asarray(codes, dtype=np.int64)
        if not self.cost_objectives:
            return np.zeros((len(codes), 0))
        return np.stack([self.costs[o.name][codes] for o in self.cost_objectives], axis=1)

    def is_feasible(self, cell: Cell | str | int) -> bool:
        return bool(self.feasible_cells[Cell.parse(cell).code])

    def describe(self) -> dict[str, Any]:
        return {"objectives": [o.name for o in self.objectives],
                "constraints": {k: v for k, v in self.constraints.items()}, "costs": self.costs.spec}

    # -------------------------------------------- the interface every multi-objective strategy uses
    @property
    def measured(self) -> tuple[Objective, ...]:
        """The objectives a training answers (read from the told outcome), in order."""
        return tuple(o for o in self.objectives if o.learned)

    @property
    def pool_costs(self) -> np.ndarray:
        """P x k known cost objectives of the pool (the member of each class that is evaluated)."""
        return self.cost_matrix(self.pool_codes)

    def index(self, cell: Cell) -> int:
        """The pool index of ``cell``'s isomorphism class."""
        return int(self.class_of_code[Cell.parse(cell).code])

    def costs_of(self, cells: Sequence[Cell]) -> np.ndarray:
        """n x k known cost objectives of ``cells``."""
        return self.cost_matrix([c.code for c in cells])

    def costs_record(self, cell: Cell) -> dict[str, float]:
        """Every known cost of ``cell`` by name."""
        return {k: float(v[cell.code]) for k, v in self.costs.values.items()}

    # the genome NSGA-II searches: the six op ids of a cell
    @property
    def genome_upper(self) -> np.ndarray:
        return np.full(N_EDGES, N_OPS - 1)

    def repair(self, X: np.ndarray) -> np.ndarray:
        """Each genome replaced by the op ids of the member of its class that is evaluated."""
        X = np.clip(np.round(np.asarray(X, dtype=float)), 0, N_OPS - 1).astype(int)
        codes = (X * N_OPS ** np.arange(N_EDGES - 1, -1, -1)).sum(axis=1)
        members = self.pool_codes[self.class_of_code[codes]]
        return np.array([Cell.from_code(int(c)).ops for c in members])

    def decode(self, X: np.ndarray) -> list[Cell | None]:
        """The cells of integer genomes (never None here: every genome is a cell)."""
        return [Cell(tuple(int(v) for v in x)) for x in np.asarray(X, dtype=int)]

    @property
    def n_violations(self) -> int:
        return len(self.constraints)

    def scaled_cost_lookup(self) -> Callable[[Any], Any]:
        """``X -> costs``: the known cost objectives, each scaled to [0, 1] by its range over the
        table, of the class whose GP inputs (``CellFeatures``: op ids first) are the rows of ``X``:
        what a deterministic cost model (botorch's ``GenericDeterministicModel``) reads."""
        import torch

        cols = []
        for o in self.cost_objectives:
            c = self.costs[o.name]
            cols.append((c - c.min()) / max(c.max() - c.min(), 1e-300))
        by_rep = np.full((N_OPS**N_EDGES, len(cols)), np.nan)
        if cols:
            by_rep[[c.code for c in self.classes]] = np.stack(cols, axis=1)[self.pool_codes]
        table = torch.tensor(by_rep)
        powers = torch.tensor([N_OPS ** (N_EDGES - 1 - e) for e in range(N_EDGES)], dtype=torch.float64)

        def lookup(X: Any) -> Any:
            return table[(X[..., :N_EDGES] * powers).sum(-1).round().long()].to(X)

        return lookup

    def violations(self, cells: Sequence[Cell | None]) -> np.ndarray:
        """n x ``n_violations``: each bound's cost minus the bound (> 0: over it)."""
        return np.array([[self.costs[k][c.code] - b for k, b in self.constraints.items()] for c in cells],
                        dtype=float).reshape(len(cells), self.n_violations)


class SpaceParetoProblem:
    """The Pareto problem on a space of your own (``boed_nas.spaces.Space``): objectives are measured
    metrics (read from each told outcome) and the space's known costs (``Space(costs=...)``).

    ``objectives``: ``"val_acc,flops"`` or a sequence; each name is either one of the space's known
    costs (minimised: they are costs) or a measured metric, optionally with its direction,
    ``"latency_ms:min"`` / ``"val_acc:max"``. The search ``metric`` is measured in the direction of
    ``maximize`` unless the name says otherwise; any other measured metric must say its direction.
    ``constraints``: bounds on the known costs (``"flops<=5e4"``); configurations over one are never
    proposed nor recommended. The space must be enumerable (at most ``ENUMERATE_LIMIT``
    configurations before its constraint): the pool is every valid configuration, in the space's
    order, with its known costs computed once.
    """

    def __init__(self, space: Any, objectives: str | Sequence[str], *, metric: str = "val_acc",
                 maximize: bool = True, constraints: Mapping[str, float] | Sequence[str] | str | None = None) -> None:
        from ..spaces.base import SpaceError

        self.space = space
        pool = space.enumerate()
        if pool is None:
            raise ConfigError(f"a Pareto search on space {space.name!r} needs an enumerable space (at most 50,000 "
                              f"configurations before its constraint); it has {space.size:,}")
        try:
            sample_costs = space.costs(pool[0])
        except SpaceError as e:
            raise ConfigError(str(e)) from None
        cost_names = list(sample_costs)
        self.objectives = _space_objectives(objectives, cost_names, metric, maximize)
        self.cost_objectives = tuple(o for o in self.objectives if not o.learned)
        self.constraints = _bounds(constraints, cost_names, space.name)
        self.pool = list(pool)
        self._index = {space.key(c): i for i, c in enumerate(self.pool)}
        names = sorted({o.name for o in self.cost_objectives} | set(self.constraints))
        self._cost_table = {n: np.empty(len(self.pool)) for n in names}
        for i, c in enumerate(self.pool):  # known before training: computed once for the whole pool
            record = space.costs(c) if names else {}
            for n in names:
                self._cost_table[n][i] = record[n]
        ok = np.ones(len(self.pool), dtype=bool)
        for n, b in self.constraints.items():
            ok &= self._cost_table[n] <= b
        self.feasible = ok
        self.pool_costs = self._matrix(np.arange(len(self.pool)))

    @property
    def measured(self) -> tuple[Objective, ...]:
        return tuple(o for o in self.objectives if o.learned)

    @property
    def cost_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.cost_objectives)

    def _matrix(self, idx: np.ndarray) -> np.ndarray:
        if not self.cost_objectives:
            return np.zeros((len(idx), 0))
        return np.stack([self._cost_table[o.name][idx] for o in self.cost_objectives], axis=1)

    def index(self, config: Any) -> int:
        return self._index[self.space.key(self.space.parse(config))]

    def costs_of(self, configs: Sequence[Any]) -> np.ndarray:
        return self._matrix(np.array([self.index(c) for c in configs], dtype=np.int64))

    def costs_record(self, config: Any) -> dict[str, float]:
        return self.space.costs(config)

    def is_feasible(self, config: Any) -> bool:
        return bool(self.feasible[self.index(config)])

    def describe(self) -> dict[str, Any]:
        return {"objectives": [o.name for o in self.objectives], "constraints": dict(self.constraints),
                "space": self.space.name}

    # the genome NSGA-II searches: one value index per variable
    @property
    def genome_upper(self) -> np.ndarray:
        return np.array([len(v) - 1 for v in self.space.variables])

    def repair(self, X: np.ndarray) -> np.ndarray:
        return np.clip(np.round(np.asarray(X, dtype=float)), 0, self.genome_upper).astype(int)

    def decode(self, X: np.ndarray) -> list[Any | None]:
        """The configurations of integer genomes; None where the space's constraint rejects one."""
        out = []
        for x in np.asarray(X, dtype=int):
            i = self._index.get(tuple(int(v) for v in x))
            out.append(None if i is None else self.pool[i])
        return out

    @property
    def n_violations(self) -> int:
        return len(self.constraints) + (self.space.constraint is not None)

    @property
    def classes(self) -> list[Any]:
        """The configurations the GP's inputs are built from (every one is its own class here)."""
        return self.pool

    def scaled_cost_lookup(self) -> Callable[[Any], Any]:
        """``X -> costs``: the known cost objectives, each scaled to [0, 1] by its range over the
        pool, of the configuration whose GP inputs (``Space.encode``: categorical choice indices,
        then ordered grid positions) are the rows of ``X``. The inputs are read back as value
        indices and looked up in a table over the whole grid (at most ``ENUMERATE_LIMIT`` entries)."""
        import torch

        variables = self.space.variables
        order = ([k for k, v in enumerate(variables) if v.kind == "categorical"]
                 + [k for k, v in enumerate(variables) if v.kind != "categorical"])  # encode's column order
        sizes = [len(variables[k].values) for k in order]
        steps = torch.tensor([1.0 if variables[k].kind == "categorical" else max(len(variables[k].values) - 1, 1)
                              for k in order], dtype=torch.float64)
        radix = np.cumprod([1, *sizes[:-1]])
        index = np.array([[self.space.indices(c)[k] for k in order] for c in self.pool], dtype=np.int64)
        cols = [self._cost_table[o.name] for o in self.cost_objectives]
        table = np.full((int(np.prod(sizes)), len(cols)), np.nan)
        if cols:
            raw = np.stack(cols, axis=1)
            span = np.maximum(raw.max(0) - raw.min(0), 1e-300)
            table[index @ radix] = (raw - raw.min(0)) / span
        table_t, radix_t = torch.tensor(table), torch.tensor(radix, dtype=torch.float64)

        def lookup(X: Any) -> Any:
            idx = (X[..., : len(order)] * steps).round()
            return table_t[(idx * radix_t).sum(-1).long()].to(X)

        return lookup

    def violations(self, configs: Sequence[Any | None]) -> np.ndarray:
        """n x ``n_violations``: each bound's cost minus the bound, then (for a constrained space)
        1 for a configuration its constraint rejects, -1 otherwise."""
        rows = []
        for c in configs:
            if c is None:
                rows.append([1.0] * self.n_violations)
                continue
            i = self.index(c)
            row = [self._cost_table[n][i] - b for n, b in self.constraints.items()]
            rows.append(row + ([-1.0] if self.space.constraint is not None else []))
        return np.array(rows, dtype=float).reshape(len(configs), self.n_violations)


def _space_objectives(spec: str | Sequence[str], cost_names: Sequence[str], metric: str,
                      maximize: bool) -> tuple[Objective, ...]:
    """Objectives on a space of your own (see ``SpaceParetoProblem``); measured ones first."""
    if not isinstance(spec, (str, Sequence)):
        raise ConfigError(f"objectives must be a comma-separated string or a list of names, got {spec!r}")
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else [str(n).strip() for n in spec]
    names = [n for n in names if n]
    out: list[Objective] = []
    for raw in names:
        name, _, direction = raw.partition(":")
        name, direction = name.strip(), direction.strip().lower()
        if direction not in ("", "min", "max"):
            raise ConfigError(f"objective {raw!r}: the direction after ':' is 'min' or 'max', got {direction!r}")
        if name in cost_names:
            if direction == "max":
                raise ConfigError(f"objective {raw!r}: {name!r} is a known cost of the space, always minimised")
            out.append(Objective(name, name, False, "", False))
            continue
        if name == "accuracy":  # NB201's name for the measured search metric
            name = metric
        if not direction and name != metric:
            raise ConfigError(f"objective {name!r} is neither a known cost of the space ({list(cost_names)}) nor the "
                              f"search metric {metric!r}; a measured metric of your own needs its direction, "
                              f"'{name}:min' or '{name}:max'")
        if name == metric and direction and (direction == "max") != bool(maximize):
            raise ConfigError(f"objective {raw!r} contradicts the search metric's direction (maximize={maximize}); "
                              f"set maximize={direction == 'max'} (the CLI's --minimize) instead")
        out.append(Objective(name, name, direction == "max" if direction else bool(maximize), "", True))
    seen = [o.name for o in out]
    if not out:
        raise ConfigError(f"objectives {spec!r} name no objective; expected measured metrics and/or the space's "
                          f"known costs {list(cost_names)}")
    if len(set(seen)) != len(seen):
        raise ConfigError(f"objectives {seen} repeat a name")
    if not any(o.learned for o in out):
        raise ConfigError(f"objectives {seen} are all known costs: with nothing measured there is nothing to search "
                          f"for; add the search metric {metric!r}")
    if metric not in seen:
        raise ConfigError(f"objectives {seen} leave out the search metric {metric!r}; name it, or set metric= "
                          "(--metric) to one of the measured objectives")
    return tuple(sorted(out, key=lambda o: (not o.learned, o.name != metric)))


def _bounds(constraints: Mapping[str, float] | Sequence[str] | str | None, cost_names: Sequence[str],
            space_name: str) -> dict[str, float]:
    if constraints is None:
        return {}
    if isinstance(constraints, str):
        constraints = [c for c in constraints.split(",") if c.strip()]
    if not isinstance(constraints, (Mapping, Sequence)):
        raise ConfigError(f"constraints must be 'COST<=BOUND' strings or a mapping cost -> bound, got {constraints!r}")
    pairs = list(constraints.items()) if isinstance(constraints, Mapping) else [parse_cost_bound(c) for c in constraints]
    out: dict[str, float] = {}
    for name, bound in pairs:
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not np.isfinite(bound):
            raise ConfigError(f"the bound on {name!r} must be a finite number, got {bound!r}")
        if name not in cost_names:
            raise ConfigError(f"constraint on {name!r}: space {space_name!r} has no such known cost; its costs are "
                              f"{list(cost_names)}")
        out[name] = min(float(bound), out.get(name, np.inf))
    return out


def pareto_problem(space: Any, objectives: str | Sequence[str], costs: Any = None, constraints: Any = None, *,
                   metric: str = "val_acc", maximize: bool = True) -> ParetoProblem | SpaceParetoProblem:
    """The Pareto problem of a multi-objective strategy on ``space`` (None: NB201's cells): the
    space's own ``pareto_problem`` hook (NB201: ``ParetoProblem``, its costs from its table or
    ``costs``), else a ``SpaceParetoProblem`` over its known costs (``costs`` must be None)."""
    space = CELL_SPACE if space is None else space
    hook = getattr(space, "pareto_problem", None)
    if hook is not None:
        return hook(objectives, costs, constraints)
    if costs is not None:
        raise ConfigError(f"costs={costs!r}: on a space of your own the known costs are the space's "
                          "(Space(costs=...)), not a separate table")
    return SpaceParetoProblem(space, objectives, metric=metric, maximize=maximize, constraints=constraints)


def _parse_constraints(constraints: Mapping[str, float] | Sequence[str] | str | None) -> dict[str, float]:
    if constraints is None:
        return {}
    if isinstance(constraints, str):
        constraints = [c for c in constraints.split(",") if c.strip()]
    if isinstance(constraints, Mapping):
        out = {}
        for k, v in constraints.items():
            name, bound = parse_constraint(f"{k}<={float(v)!r}")
            out[name] = bound
        return out
    out = {}
    for c in constraints:
        name, bound = parse_constraint(c)
        out[name] = min(bound, out.get(name, np.inf))
    return out


__all__ = [
    "COST_NAMES", "OBJECTIVES", "HypervolumeReport", "KnownCosts", "Objective", "ParetoProblem", "SpaceParetoProblem",
    "hypervolume", "pareto_problem",
    "hypervolume_report", "non_dominated", "objective_table", "parse_constraint", "parse_objectives",
    "plot_front", "reference_point", "to_minimization",
]
