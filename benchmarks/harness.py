"""Run strategies on NB201: one search, or strategies x seeds side by side, and summarise.

The loop is the whole protocol: ask, evaluate (validation accuracy of one training seed), tell
(test accuracy withheld), record. Regret is reported on *test* accuracy against the table's best.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from boed_nas.strategy import Strategy

from .nb201 import NB201Benchmark

if TYPE_CHECKING:
    from boed_nas.pareto import HypervolumeReport

TRAJECTORY_COLUMNS = [
    "query", "cell", "arch_index", "val_acc", "test_acc", "failed", "cost", "cumulative_cost",
    "best_val_so_far", "best_cell", "test_regret", "recommended_cell", "recommended_test_regret",
    "found_optimum", "ask_seconds",
]
MO_COLUMNS = ["hypervolume", "hypervolume_ratio"]
MO_KEY = "__multiobjective__"  # strategy_kwargs entry that carries objectives and constraints to workers


def mo_strategies() -> list[str]:
    from strategies import available, strategy_class

    return [n for n in available() if getattr(strategy_class(n), "multiobjective", False)]


def run_search(
    strategy: Strategy,
    bench: NB201Benchmark,
    budget: int,
    *,
    batch_size: int = 1,
    callback: Callable[[dict[str, Any]], None] | None = None,
    hypervolume: HypervolumeReport | None = None,
    stop_at_optimum: bool = False,
) -> pd.DataFrame:
    """Run ``strategy`` on ``bench`` for ``budget`` paid queries; one trajectory row per query.

    ``best_*`` and ``test_regret`` follow the best cell *by observed validation accuracy*;
    ``recommended_*`` follow the strategy's own ``recommend()`` (the BOED controller recommends
    by posterior mean). With ``hypervolume`` (a multi-objective search, see ``mo_report``), each
    row also has ``hypervolume`` and ``hypervolume_ratio`` of the cells evaluated so far. With
    ``stop_at_optimum`` the run ends at the query that first evaluates the validation optimum's
    class (``benchmarks/ablation.py``: queries to the optimum without paying the whole budget).
    """
    if budget < 1 or batch_size < 1:
        raise ValueError(f"budget and batch_size must be positive, got budget={budget}, batch_size={batch_size}")
    opt_cell, _ = bench.optimum("val_acc")
    opt_key = opt_cell.canonical().code
    rows: list[dict[str, Any]] = []
    best_val, best_cell = -math.inf, None
    cum_cost, found = 0.0, False
    evaluated: list[int] = []
    waiting: dict[str, Any] | None = None  # the last row told, its recommendation not yet taken

    def finish(row: dict[str, Any]) -> None:
        # a model-based strategy fits its model on the first call after a tell, be it ask() or
        # recommend(); the last row of a batch takes its recommendation after the next ask, so
        # that ask_seconds holds the fit, as it does in a user's ask/tell loop that never asks for
        # a recommendation (same history, same model: the trajectory does not change)
        rec = strategy.recommend()
        row["recommended_cell"] = str(rec) if rec is not None else ""
        row["recommended_test_regret"] = bench.test_regret(rec) if rec is not None else math.nan
        rows.append(row)
        if callback is not None:
            callback(row)

    while len(rows) + (waiting is not None) < budget and not (found and stop_at_optimum):
        t0 = time.perf_counter()
        cells = strategy.ask(min(batch_size, budget - len(rows) - (waiting is not None)))
        ask_seconds = (time.perf_counter() - t0) / len(cells)
        if waiting is not None:
            finish(waiting)
            waiting = None
        for k, cell in enumerate(cells):
            out = bench.evaluate(cell)
            strategy.tell(cell, out)
            cum_cost += out.cost
            val = out.metrics.get("val_acc", math.nan)
            if not out.failed and val > best_val:
                best_val, best_cell = val, cell
            found = found or cell.canonical().code == opt_key
            row = {
                "query": len(rows) + 1,
                "cell": str(cell),
                "arch_index": bench.index_of(cell),
                "val_acc": val,
                "test_acc": out.info.get("test_acc", math.nan),
                "failed": out.failed,
                "cost": out.cost,
                "cumulative_cost": cum_cost,
                "best_val_so_far": best_val,
                "best_cell": str(best_cell),
                "test_regret": bench.test_regret(best_cell) if best_cell is not None else math.nan,
                "found_optimum": found,
                "ask_seconds": ask_seconds,
            }
            if hypervolume is not None:
                if not out.failed:
                    evaluated.append(cell.code)
                row["hypervolume"] = hypervolume.hypervolume(evaluated)
                row["hypervolume_ratio"] = row["hypervolume"] / hypervolume.true_hypervolume
            last = k == len(cells) - 1 and len(rows) + 1 < budget and not (found and stop_at_optimum)
            if last:
                waiting = row
            else:
                finish(row)
            if found and stop_at_optimum:
                break
    if waiting is not None:
        finish(waiting)
    return pd.DataFrame(rows, columns=TRAJECTORY_COLUMNS + (MO_COLUMNS if hypervolume is not None else []))


def _run_one(args: tuple[str, str, int, int, dict[str, Any]]) -> pd.DataFrame:
    name, dataset, seed, budget, kwargs = args
    import torch

    torch.set_num_threads(1)
    from strategies import make_strategy

    mo = kwargs.get(MO_KEY)
    bench = NB201Benchmark(dataset, seed=seed)
    if mo is None:
        strategy = make_strategy(name, seed=seed, **kwargs.get(name, {}))
        traj = run_search(strategy, bench, budget)
    else:
        strategy = make_strategy(name, seed=seed, objectives=mo["objectives"], costs=f"nb201:{bench.dataset}",
                                 constraints=mo.get("constraints"), **kwargs.get(name, {}))
        traj = run_search(strategy, bench, budget, hypervolume=mo_report(bench, mo["objectives"], mo.get("constraints")))
    traj.insert(0, "seed", seed)
    traj.insert(0, "strategy", name)
    traj.insert(0, "dataset", dataset)
    return traj


def run_bench(
    strategies: Sequence[str],
    dataset: str = "cifar10",
    seeds: Sequence[int] = range(10),
    budget: int = 100,
    *,
    jobs: int = 1,
    strategy_kwargs: dict[str, dict[str, Any]] | None = None,
    progress: bool = True,
    objectives: str | Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every strategy x seed on one dataset; the concatenated trajectories (with strategy, seed).

    Run ``seed`` uses the same benchmark seed for every strategy, so all strategies see the same
    training-seed noise for the same cell (common random numbers). With ``objectives`` (e.g.
    ``"accuracy,latency"``) the strategies must be multi-objective ones (``mo_strategies()``); they
    get the table's known costs, and the trajectories gain ``hypervolume`` and ``hypervolume_ratio``.
    """
    from strategies import make_strategy, strategy_class

    for name in strategies:
        cls = strategy_class(name)  # unknown names fail before any work
        if "[" in name and objectives is None:
            make_strategy(name)  # and so do a spec's unknown or bad settings
        if objectives is not None and not getattr(cls, "multiobjective", False):
            raise ValueError(f"strategy {name!r} is single-objective; with objectives use one of {mo_strategies()}")
    NB201Benchmark(dataset)  # so does an unknown dataset
    kwargs = dict(strategy_kwargs or {})
    if objectives is not None:
        from boed_nas.pareto import ParetoProblem

        problem = ParetoProblem(objectives, f"nb201:{NB201Benchmark(dataset).dataset}", constraints)  # bad names fail here
        kwargs[MO_KEY] = {"objectives": [o.name for o in problem.objectives],
                          "constraints": [f"{k}<={v!r}" for k, v in problem.constraints.items()]}
    tasks = [(s, dataset, int(seed), budget, kwargs) for s in strategies for seed in seeds]
    results: list[pd.DataFrame] = []
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=f"bench {dataset}", unit="run", disable=not progress)
    if jobs <= 1:
        for t in tasks:
            bar.set_postfix_str(f"{t[0]} seed {t[2]}")
            results.append(_run_one(t))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, os.cpu_count() or 1)) as pool:
            for df in pool.map(_run_one, tasks):
                results.append(df)
                bar.update()
    bar.close()
    return pd.concat(results, ignore_index=True)


def recorded_outcome(row: Any) -> Any:
    """The ``Outcome`` a strategy was told for one trajectory row (a failure, or its ``val_acc``),
    for replaying a recorded run."""
    from boed_nas import Outcome

    if row.failed:
        return Outcome(failed=True, cost=float(row.cost))
    return Outcome(metrics={"val_acc": float(row.val_acc)}, cost=float(row.cost))


def replayed_beliefs(run: pd.DataFrame, seed: int, want: Callable[[int], bool] = lambda q: True):
    """Replay a recorded ``boed`` run (its trajectory rows) into a fresh ``boed`` controller, one
    tell at a time. After the q-th tell, where ``want(q)`` and the GP is in use, yield ``(q,
    controller, belief)``: the belief over the pool built as the next ask would build it (the
    controller's fit, its seeded generator, nothing pending)."""
    from boed_nas import Cell
    from strategies import make_strategy

    s = make_strategy("boed", seed=int(seed))
    for q, r in enumerate(run.sort_values("query").itertuples(), start=1):
        s.tell(Cell.parse(r.cell), recorded_outcome(r))
        if not want(q) or len(s._successes()) < s.n_init:
            continue
        model, evaluated = s.fit()
        yield q, s, s.pool_belief(model, evaluated, [], s._generator(0, 0))


def parse_seeds(spec: str) -> list[int]:
    """Seeds from ``"0-19"``, ``"20,21"`` or ``"0,3,5-7"`` (ranges inclusive); ValueError otherwise."""
    out: list[int] = []
    for part in str(spec).split(","):
        a, _, b = part.strip().partition("-")
        try:
            out += list(range(int(a), int(b) + 1)) if b else [int(a)]
        except ValueError:
            raise ValueError(f"seeds {spec!r}: expected e.g. 0-19 or 0,3,5-7") from None
    return out


def queries_to_optimum(traj: pd.DataFrame) -> float:
    """First query that evaluated the validation optimum (its isomorphism class); inf if never."""
    hit = traj.index[traj["found_optimum"].to_numpy()]
    return float(traj.loc[hit[0], "query"]) if len(hit) else math.inf


def _iqr(x: np.ndarray) -> tuple[float, float, float]:
    q = np.percentile(x, [25, 50, 75], method="lower") if np.isinf(x).any() else np.percentile(x, [25, 50, 75])
    return float(q[1]), float(q[0]), float(q[2])


def summarize(trajectories: pd.DataFrame, checkpoints: Sequence[int] = (50, 100, 200)) -> pd.DataFrame:
    """One row per (dataset, strategy): regret and queries-to-optimum statistics over seeds."""
    rows = []
    for (dataset, name), g in trajectories.groupby(["dataset", "strategy"], sort=False):
        runs = [r.sort_values("query") for _, r in g.groupby("seed")]
        budget = int(min(r["query"].max() for r in runs))
        final = np.array([r["test_regret"].iloc[budget - 1] for r in runs])
        rec = np.array([r["recommended_test_regret"].iloc[budget - 1] for r in runs])
        q = np.array([queries_to_optimum(r) for r in runs])
        med, lo, hi = _iqr(final)
        qmed, qlo, qhi = _iqr(q)
        row = {
            "dataset": dataset,
            "strategy": name,
            "seeds": len(runs),
            "budget": budget,
            "final_test_regret_median": med,
            "final_test_regret_q25": lo,
            "final_test_regret_q75": hi,
            "recommended_test_regret_median": float(np.median(rec)),
            "queries_to_optimum_median": qmed,
            "queries_to_optimum_q25": qlo,
            "queries_to_optimum_q75": qhi,
            "found_optimum": int(np.isfinite(q).sum()),
            "ask_seconds_median": float(np.median(np.concatenate([r["ask_seconds"].to_numpy() for r in runs]))),
        }
        for c in checkpoints:
            if c <= budget:
                row[f"test_regret_at_{c}"] = float(np.median([r["test_regret"].iloc[c - 1] for r in runs]))
                row[f"recommended_test_regret_at_{c}"] = float(
                    np.median([r["recommended_test_regret"].iloc[c - 1] for r in runs]))
                row[f"ask_seconds_at_{c}"] = float(np.median([r["ask_seconds"].iloc[c - 1] for r in runs]))
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_q(v: float) -> str:
    return "not found" if not math.isfinite(v) else f"{v:.0f}"


def markdown_frame(df: pd.DataFrame, floatfmt: int = 2) -> str:
    """Any data frame as a markdown table (pandas' to_markdown needs tabulate, not a dependency)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for i in range(len(df)):
        cells = []
        for c in cols:
            v = df[c].iloc[i]
            if isinstance(v, (float, np.floating)):
                cells.append(f"{v:.3g}" if v != 0 and abs(v) < 0.1 else f"{v:.{floatfmt}f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a markdown table (regret in test-accuracy points)."""
    checkpoints = [c for c in summary.columns if c.startswith("test_regret_at_")]
    asks = [c for c in summary.columns if c.startswith("ask_seconds_at_")]
    head = ["dataset", "strategy", "seeds", "budget", "final test regret, median [IQR]",
            "recommended-cell regret (median)", *[f"regret @{c.rsplit('_', 1)[1]}" for c in checkpoints],
            "queries to optimum, median [IQR]", "found", "ask s (median)",
            *[f"ask s @{c.rsplit('_', 1)[1]}" for c in asks]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in summary.iterrows():
        cells = [
            r["dataset"], r["strategy"], str(r["seeds"]), str(r["budget"]),
            f"{r['final_test_regret_median']:.2f} [{r['final_test_regret_q25']:.2f}, {r['final_test_regret_q75']:.2f}]",
            f"{r['recommended_test_regret_median']:.2f}",
            *[f"{r[c]:.2f}" if pd.notna(r[c]) else "" for c in checkpoints],
            f"{_fmt_q(r['queries_to_optimum_median'])} [{_fmt_q(r['queries_to_optimum_q25'])}, "
            f"{_fmt_q(r['queries_to_optimum_q75'])}]",
            f"{r['found_optimum']}/{r['seeds']}",
            f"{r['ask_seconds_median']:.4f}",
            *[f"{r[c]:.3f}" if pd.notna(r[c]) else "" for c in asks],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_regret(trajectories: pd.DataFrame, path: str | os.PathLike[str], column: str = "test_regret") -> None:
    """Median regret per query with an interquartile band, one line per strategy (and dataset panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(trajectories["dataset"])) if "dataset" in trajectories else [None]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        sub = trajectories if ds is None else trajectories[trajectories["dataset"] == ds]
        for name, g in sub.groupby("strategy", sort=False):
            wide = g.pivot(index="query", columns="seed", values=column)
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.set_xlabel("queries (trainings)")
        ax.set_ylabel(f"{column.replace('_', ' ')} (test accuracy points)")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"NB201 {ds}" if ds else "NB201")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------------- multi-objective
def mo_report(bench: NB201Benchmark, objectives: str | Sequence[str],
              constraints: Sequence[str] | None = None) -> HypervolumeReport:
    """The hypervolume protocol on ``bench``: the table's mean validation accuracy over training
    seeds and its known costs, the reference point = the worst value of each objective over all
    15,625 cells, the true front over the cells within ``constraints``."""
    from boed_nas.pareto import KnownCosts, ParetoProblem, hypervolume_report

    problem = ParetoProblem(objectives, KnownCosts.nb201(bench.dataset), constraints)
    feasible = problem.feasible_cells if problem.constraints else None
    return hypervolume_report(problem.objectives, bench.val_mean, problem.costs, feasible)


def queries_to_ratio(traj: pd.DataFrame, target: float = 0.99) -> float:
    """First query at which the hypervolume ratio reached ``target``; inf if never."""
    hit = traj.index[(traj["hypervolume_ratio"] >= target).to_numpy()]
    return float(traj.loc[hit[0], "query"]) if len(hit) else math.inf


def summarize_mo(trajectories: pd.DataFrame, checkpoints: Sequence[int] = (25, 50, 100),
                 target: float = 0.99) -> pd.DataFrame:
    """One row per (dataset, objectives, strategy): hypervolume ratio statistics over seeds."""
    rows = []
    keys = [k for k in ("dataset", "objectives", "strategy") if k in trajectories.columns]
    for key, g in trajectories.groupby(keys, sort=False):
        runs = [r.sort_values("query") for _, r in g.groupby("seed")]
        budget = int(min(r["query"].max() for r in runs))
        final = np.array([r["hypervolume_ratio"].iloc[budget - 1] for r in runs])
        q = np.array([queries_to_ratio(r, target) for r in runs])
        med, lo, hi = _iqr(final)
        qmed, qlo, qhi = _iqr(q)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update({
            "seeds": len(runs), "budget": budget,
            "hv_ratio_final_median": med, "hv_ratio_final_q25": lo, "hv_ratio_final_q75": hi,
            f"queries_to_{target:g}_median": qmed, f"queries_to_{target:g}_q25": qlo,
            f"queries_to_{target:g}_q75": qhi, f"reached_{target:g}": int(np.isfinite(q).sum()),
            "ask_seconds_median": float(np.median(np.concatenate([r["ask_seconds"].to_numpy() for r in runs]))),
        })
        for c in checkpoints:
            if c <= budget:
                row[f"hv_ratio_at_{c}"] = float(np.median([r["hypervolume_ratio"].iloc[c - 1] for r in runs]))
        rows.append(row)
    return pd.DataFrame(rows)


def _never(v: float) -> str:
    return "never" if not math.isfinite(v) else f"{v:.0f}"


def markdown_table_mo(summary: pd.DataFrame, target: float = 0.99) -> str:
    """The multi-objective summary as a markdown table (hypervolume ratios found/true)."""
    checkpoints = [c for c in summary.columns if c.startswith("hv_ratio_at_")]
    keys = [k for k in ("dataset", "objectives", "strategy") if k in summary.columns]
    head = [*keys, "seeds", "budget", *[f"HV ratio @{c.rsplit('_', 1)[1]}" for c in checkpoints],
            "final HV ratio, median [IQR]", f"queries to {target:g}, median [IQR]", f"reached {target:g}",
            "ask s (median)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    t = f"{target:g}"
    for _, r in summary.iterrows():
        cells = [
            *[str(r[k]) for k in keys], str(r["seeds"]), str(r["budget"]),
            *[f"{r[c]:.4f}" if pd.notna(r[c]) else "" for c in checkpoints],
            f"{r['hv_ratio_final_median']:.4f} [{r['hv_ratio_final_q25']:.4f}, {r['hv_ratio_final_q75']:.4f}]",
            f"{_never(r[f'queries_to_{t}_median'])} [{_never(r[f'queries_to_{t}_q25'])}, {_never(r[f'queries_to_{t}_q75'])}]",
            f"{r[f'reached_{t}']}/{r['seeds']}",
            f"{r['ask_seconds_median']:.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_hypervolume_ratio(trajectories: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Median hypervolume ratio (found/true) per query with an interquartile band, one line per
    strategy, one panel per (dataset, objectives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in ("dataset", "objectives") if k in trajectories.columns]
    panels = list(trajectories.groupby(keys, sort=False)) if keys else [(None, trajectories)]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (key, sub) in zip(axes.ravel(), panels):
        for name, g in sub.groupby("strategy", sort=False):
            wide = g.pivot(index="query", columns="seed", values="hypervolume_ratio")
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.axhline(0.99, color="k", lw=0.8, ls="--")
        ax.set_xlabel("queries (trainings)")
        ax.set_ylabel("hypervolume ratio (found / true)")
        lo = float(sub.groupby("strategy")["hypervolume_ratio"].quantile(0.25).min()) if len(sub) else 0.8
        ax.set_ylim(max(0.0, min(0.9, lo)), 1.002)
        title = key if not isinstance(key, tuple) else " ".join(str(k) for k in key)
        ax.set_title(f"NB201 {title}" if title is not None else "NB201")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
