"""The outcome of a supernet search: alpha, discretisation (with the guard), proposals and priors."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..jsonable import json_default
from ..nb201.benchmark import NB201Benchmark
from ..nb201.space import EDGES, N_CELLS, N_EDGES, N_OPS, OPS, Cell, all_cells
from ..seeding import as_rng
from .cost import COST_METRICS
from .guard import check_min_param, parametric_depth


@functools.lru_cache(maxsize=1)
def _all_ops() -> np.ndarray:
    return np.array([c.ops for c in all_cells()], dtype=np.int64)  # (15625, 6), row = code


@functools.lru_cache(maxsize=8)
def _guard_mask(min_param: int) -> np.ndarray:
    return np.array([parametric_depth(c) >= min_param for c in all_cells()])


def check_alpha(alpha) -> np.ndarray:
    a = np.asarray(alpha, dtype=np.float64)
    if a.shape != (N_EDGES, N_OPS) or not np.all(np.isfinite(a)):
        raise ConfigError(f"alpha must be a finite {N_EDGES} x {N_OPS} array (edges x ops in OPS order), got shape {a.shape}")
    return a


def cell_log_probs(alpha, tau: float = 1.0) -> np.ndarray:
    """log P(cell) under the product distribution softmax(alpha / tau), for all 15,625 codes."""
    logp = log_softmax(check_alpha(alpha) / tau)
    return logp[np.arange(N_EDGES), _all_ops()].sum(axis=1)


def log_softmax(a: np.ndarray) -> np.ndarray:
    m = a.max(axis=-1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=-1, keepdims=True))


def top_k_cells(alpha, k: int, guard: bool = False, min_param: int = 1, feasible: np.ndarray | None = None) -> list[Cell]:
    """The k most probable cells under the product distribution (exact, by enumeration; ties by code).

    ``feasible``: an optional boolean mask over the 15,625 codes (e.g. cost <= budget); only those cells.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"k must be a non-negative integer, got {k!r}")
    lp = cell_log_probs(alpha)
    order = np.lexsort((np.arange(N_CELLS), -lp))
    if guard:
        check_min_param(min_param)
        order = order[_guard_mask(min_param)[order]]
    if feasible is not None:
        order = order[_check_mask(feasible)[order]]
    return [Cell.from_code(int(c)) for c in order[:k]]


def _check_mask(feasible) -> np.ndarray:
    m = np.asarray(feasible)
    if m.shape != (N_CELLS,) or m.dtype != bool:
        raise ConfigError(f"feasible must be a boolean mask over the {N_CELLS} cell codes, got {m.dtype} {m.shape}")
    return m


def derive(alpha, guard: bool = True, min_param: int = 1, cost: np.ndarray | None = None,
           budget: float | None = None) -> tuple[Cell, Cell, dict]:
    """(derived cell, unguarded argmax cell, report).

    Unguarded: argmax per edge. Guarded: the most probable cell that passes the guard (the argmax
    if it passes), i.e. the fewest / least costly changes to the argmax under alpha. With a hard
    ``budget`` on ``cost`` (an array over the 15,625 codes, e.g. the table's measured latency,
    known before training), the derived cell is the most probable one within the budget: the
    expected-cost penalty in the search only steers alpha, this guarantees the answer.
    """
    a = check_alpha(alpha)
    lp = cell_log_probs(a)
    argmax = Cell(tuple(int(i) for i in a.argmax(axis=1)))
    feasible = None
    if budget is not None:
        if cost is None:
            raise ConfigError("a budget needs the cost of every cell (cost=array over the 15,625 codes)")
        cost = np.asarray(cost, dtype=np.float64)
        if cost.shape != (N_CELLS,):
            raise ConfigError(f"cost must have one value per cell code ({N_CELLS}), got shape {cost.shape}")
        feasible = cost <= budget
        if not (feasible & (_guard_mask(min_param) if guard else True)).any():
            raise ConfigError(f"no cell{' passing the guard' if guard else ''} has cost <= budget {budget} "
                             f"(the smallest is {cost[_guard_mask(min_param)].min() if guard else cost.min():.6g})")
    if guard or feasible is not None:
        cell = top_k_cells(a, 1, guard=guard, min_param=min_param, feasible=feasible)[0]
    else:
        cell = argmax
    changed = [e for e in range(N_EDGES) if cell.ops[e] != argmax.ops[e]]
    report = {
        "guard": bool(guard), "min_param": int(min_param), "changed": bool(changed),
        "argmax_cell": str(argmax), "derived_cell": str(cell),
        "argmax_parametric_depth": parametric_depth(argmax), "derived_parametric_depth": parametric_depth(cell),
        "argmax_has_parametric_path": argmax.has_parametric_path(),
        "changed_edges": [{"edge": f"{EDGES[e][0]}<-{EDGES[e][1]}", "from": OPS[argmax.ops[e]], "to": OPS[cell.ops[e]]}
                          for e in changed],
        "log_prob_cost": float(lp[argmax.code] - lp[cell.code]),
    }
    if budget is not None:
        report.update({"budget": float(budget), "argmax_cost": float(cost[argmax.code]),
                       "derived_cost": float(cost[cell.code]), "argmax_within_budget": bool(feasible[argmax.code])})
    return cell, argmax, report


@dataclass
class SearchResult:
    alpha: np.ndarray  # (6, 5) architecture logits, OPS order
    config: dict
    history: list[dict] = field(default_factory=list)  # one row per epoch (0 = before training)
    alpha_history: list[dict] = field(default_factory=list)  # epoch, edge, op, weight, ...
    cost_tables: dict = field(default_factory=dict)
    data_name: str = ""
    model: object = None

    def __post_init__(self) -> None:
        self.alpha = check_alpha(self.alpha)

    # ---- priors and cells ------------------------------------------------------------------
    def op_prior(self, tau: float = 1.0) -> np.ndarray:
        """Op probabilities per edge, softmax(alpha / tau): a (6, 5) array in OPS order, rows sum to 1."""
        if not tau > 0:
            raise ConfigError(f"temperature must be positive, got {tau!r}")
        return np.exp(log_softmax(self.alpha / tau))

    @property
    def guard(self) -> bool:
        return bool(self.config.get("guard", True))

    @property
    def min_param(self) -> int:
        return int(self.config.get("min_param", 1))

    def budget_cost(self) -> np.ndarray | None:
        """The measured cost of every cell in the budget's units when the search had a budget, else None."""
        budget = self.config.get("budget")
        if budget is None:
            return None
        metric = self.config.get("budget_metric", "latency")
        return getattr(_bench(self.config.get("cost_dataset", "cifar10")), metric) * COST_METRICS[metric]

    def derive(self, guard: bool | None = None) -> tuple[Cell, Cell, dict]:
        """The derived cell: guarded argmax, within the search's budget (measured cost) if it had one."""
        return derive(self.alpha, self.guard if guard is None else guard, self.min_param,
                      cost=self.budget_cost(), budget=self.config.get("budget"))

    @property
    def derived_cell(self) -> Cell:
        return self.derive()[0]

    def within_budget(self) -> np.ndarray | None:
        """Boolean mask over the cell codes: measured cost <= the search's budget (None without one)."""
        cost = self.budget_cost()
        return None if cost is None else cost <= self.config["budget"]

    def top_k(self, k: int, guard: bool | None = None) -> list[Cell]:
        """The k most probable cells (passing the guard, and within the budget if the search had one)."""
        return top_k_cells(self.alpha, k, self.guard if guard is None else guard, self.min_param,
                           feasible=self.within_budget())

    def sample(self, n: int, rng=None, guard: bool | None = None) -> list[Cell]:
        """n cells drawn independently from the product distribution, rejecting those failing the guard
        (and, if the search had a budget, those over it)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"n must be a non-negative integer, got {n!r}")
        rng = as_rng(rng)
        guard = self.guard if guard is None else guard
        p = self.op_prior()
        mask = _guard_mask(self.min_param) if guard else None
        budget = self.within_budget()
        if budget is not None:
            mask = budget if mask is None else mask & budget
        out: list[Cell] = []
        tries = 0
        while len(out) < n and tries < 1000 * max(n, 1):
            ops = tuple(int(rng.choice(N_OPS, p=p[e])) for e in range(N_EDGES))
            tries += 1
            cell = Cell(ops)
            if mask is None or mask[cell.code]:
                out.append(cell)
        return out

    def proposals(self, k: int = 5, n_samples: int = 5, rng=None) -> list[Cell]:
        """The k most probable cells, then up to n_samples further distinct cells sampled from alpha.

        With the guard on (the search's setting) every proposal passes it. No duplicates.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
            raise ConfigError(f"n_samples must be a non-negative integer, got {n_samples!r}")
        rng = as_rng(rng)
        out = self.top_k(k)
        seen = set(out)
        extra = 0
        for _ in range(50):
            if extra >= n_samples:
                break
            for c in self.sample(4 * n_samples, rng):
                if c not in seen and extra < n_samples:
                    seen.add(c)
                    out.append(c)
                    extra += 1
        return out

    # ---- reporting ---------------------------------------------------------------------------
    def summary(self, bench_datasets=("cifar10", "cifar100", "ImageNet16-120"), proposals: int = 10) -> dict:
        cell, argmax, report = self.derive()
        out = {
            "derived_cell": str(cell),
            "argmax_cell": str(argmax),
            "guard_report": report,
            "alpha": self.alpha.round(6).tolist(),
            "op_prior": self.op_prior().round(6).tolist(),
            "ops": list(OPS),
            "edges": [f"{t}<-{s}" for t, s in EDGES],
            "settings": self.config,
            "data": self.data_name,
            "top_k": [str(c) for c in self.top_k(proposals)],
        }
        if self.history:
            last = self.history[-1]
            out["final"] = {k: v for k, v in last.items() if isinstance(v, (int, float, str, bool))}
            out["seconds_per_epoch"] = float(np.mean([h["seconds"] for h in self.history if "seconds" in h]))
        if self.cost_tables:
            out["cost_fit"] = {m: t.summary() for m, t in self.cost_tables.items()}
        if bench_datasets:

            out["nb201"] = {}
            for d in bench_datasets:
                b = _bench(d)
                out["nb201"][d] = {"derived": b.lookup(cell), "argmax": b.lookup(argmax),
                                   "best_test_acc": b.best_test_acc}
        return out

    def save(self, out: str | Path, plot: bool = True, **summary_kwargs) -> dict:
        """Write summary.json, alpha_history.csv, history.csv and alpha.png into ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        summary = self.summary(**summary_kwargs)
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default))
        pd.DataFrame(self.alpha_history).to_csv(out / "alpha_history.csv", index=False)
        pd.DataFrame(self.history).to_csv(out / "history.csv", index=False)
        if plot:
            plot_alpha_history(self.alpha_history, out / "alpha.png", title=f"derived {summary['derived_cell']}")
        return summary


@functools.lru_cache(maxsize=4)
def _bench(dataset: str):
    return NB201Benchmark(dataset)




def plot_alpha_history(rows: list[dict], path, title: str = "") -> None:
    """One panel per edge: the probability of each op over epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True, sharey=True)
    for e, ax in enumerate(axes.flat):
        d = df[df.edge == e]
        for op in OPS:
            s = d[d.op == op]
            ax.plot(s.epoch, s.weight, label=op, marker="." if len(s) < 30 else None)
        ax.set_title(f"edge {EDGES[e][0]}<-{EDGES[e][1]}")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("softmax(alpha)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
