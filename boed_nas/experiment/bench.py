"""Run strategies on NB201: one search, or strategies x seeds side by side, and summarise.

The loop is the whole protocol: ask, evaluate (validation accuracy of one training seed), tell
(test accuracy withheld), record. Regret is reported on *test* accuracy against the table's best.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..errors import ConfigError
from ..mo.pareto import parse_objectives
from ..nb201.benchmark import NB201Benchmark
from .run import SearchRun, run_folder_name, run_nb201
from .runfolder import RunFolder


def _run_one(task: tuple[SearchRun, str | None, bool]) -> pd.DataFrame:
    run, folder, resume = task
    torch.set_num_threads(1)
    if folder is not None and resume and RunFolder(folder).finished():
        traj = pd.DataFrame(RunFolder(folder).rows())  # done before: read, not run again
    else:
        _, traj, _ = run_nb201(run, folder, resume=resume, plots=False)
    traj.insert(0, "workers", run.workers)
    traj.insert(0, "seed", run.seed)
    traj.insert(0, "strategy", run.strategy)
    traj.insert(0, "dataset", NB201Benchmark(run.dataset).dataset)
    return traj


def run_bench(
    strategies: Sequence[str],
    dataset: str = "cifar10",
    seeds: Sequence[int] = range(10),
    budget: int = 100,
    *,
    jobs: int = 1,
    progress: bool = True,
    objectives: str | Sequence[str] | None = None,
    constraints: Sequence[str] | None = None,
    workers: Sequence[int] = (1,),
    clock: str = "wall",
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    **run_settings: Any,
) -> pd.DataFrame:
    """Every strategy x seed (x number of workers) on one dataset; the concatenated trajectories,
    with columns dataset, strategy, seed and workers.

    Run ``seed`` uses the same benchmark seed for every strategy, so all strategies see the same
    training-seed noise for the same cell (common random numbers). With ``objectives`` (e.g.
    ``"accuracy,latency"``) the strategies must be multi-objective ones; they get the table's
    known costs, and the trajectories gain ``hypervolume`` and ``hypervolume_ratio``. Each run is a
    ``SearchRun`` (``run_settings``: batch_size, ask_seconds, stop_at_optimum, max_retries...);
    with ``out``, each runs in its own folder ``out/runs/<dataset>/<strategy>/M<workers>/seed<s>``,
    and ``resume=True`` reads the finished ones and continues the one that was interrupted.
    """
    objs = None
    if objectives is not None:
        objs = tuple(o.name for o in parse_objectives(objectives))
    runs = [SearchRun(strategy=s, dataset=dataset, seed=int(seed), budget=budget, workers=int(m), clock=clock,
                      objectives=objs, constraints=tuple(constraints) if constraints else None, **run_settings)
            for s in strategies for m in workers for seed in seeds]
    for s in strategies:  # unknown names, bad settings and an unknown dataset fail before any work
        runs[[r.strategy for r in runs].index(s)].build()
    root = None if out is None else Path(out) / "runs" / NB201Benchmark(dataset).dataset
    tasks = [(r, None if root is None else str(root / run_folder_name(r.strategy, r.seed, r.workers, objs)), resume)
             for r in runs]
    if root is not None and not resume:
        taken = [t[1] for t in tasks if RunFolder(t[1]).holds_run()]
        if taken:
            raise ConfigError(f"{str(out)!r} already holds runs of this bench (e.g. {taken[0]!r}); resume them with "
                              "--resume, or choose a new --out")
    results: list[pd.DataFrame] = []
    bar = tqdm(total=len(tasks), desc=f"bench {dataset}", unit="run", disable=None if progress else True)
    if jobs <= 1:
        for t in tasks:
            bar.set_postfix_str(f"{t[0].strategy} seed {t[0].seed}" + (f" M={t[0].workers}" if len(workers) > 1 else ""))
            results.append(_run_one(t))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, os.cpu_count() or 1)) as pool:
            for df in pool.map(_run_one, tasks):
                results.append(df)
                bar.update()
    bar.close()
    return pd.concat(results, ignore_index=True)


def parse_seeds(spec: str) -> list[int]:
    """Seeds from ``"0-19"``, ``"20,21"`` or ``"0,3,5-7"`` (ranges inclusive); ConfigError otherwise."""
    out: list[int] = []
    for part in str(spec).split(","):
        a, _, b = part.strip().partition("-")
        try:
            out += list(range(int(a), int(b) + 1)) if b else [int(a)]
        except ValueError:
            raise ConfigError(f"seeds {spec!r}: expected e.g. 0-19 or 0,3,5-7") from None
    return out


def queries_to_optimum(traj: pd.DataFrame) -> float:
    """First query that evaluated the validation optimum (its isomorphism class); inf if never."""
    hit = traj.index[traj["found_optimum"].to_numpy()]
    return float(traj.loc[hit[0], "query"]) if len(hit) else math.inf


def quantile(x: Sequence[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile of ``x`` with linear interpolation (numpy's default: the median of an
    even count is the mean of the two middle values), where ``inf`` stands for "never": a run that
    never reached the target counts as infinitely many queries, and a percentile that interpolates
    towards such a run is ``inf`` too. The one convention of every table boed-nas writes."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return math.nan
    finite = x[np.isfinite(x)]
    if len(finite) == len(x):
        return float(np.percentile(x, q))
    if len(finite) == 0:
        return math.inf
    # a finite stand-in far above every finite value: whatever interpolates towards it lands above them
    top = float(finite.max())
    v = float(np.percentile(np.where(np.isfinite(x), x, top + 1e300), q))
    return math.inf if v > top else v


def median_iqr(x: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """(median, 25th, 75th percentile) by ``quantile``'s convention."""
    return quantile(x, 50), quantile(x, 25), quantile(x, 75)


def _median(x: Sequence[float] | np.ndarray) -> float:
    return quantile(x, 50)


def time_to_optimum(traj: pd.DataFrame) -> float:
    """Engine-clock seconds (``finished``) at which the validation optimum was first evaluated; inf if never."""
    hit = traj.index[traj["found_optimum"].to_numpy()]
    return float(traj.loc[hit[0], "finished"]) if len(hit) else math.inf


def _groups(trajectories: pd.DataFrame, keys: Sequence[str]):
    """(key dict, frame) per group of ``keys`` present in ``trajectories`` (workers: only when a run has more than one)."""
    keys = [k for k in keys if k in trajectories.columns]
    if "workers" in keys and trajectories["workers"].fillna(1).eq(1).all():
        keys.remove("workers")
    for key, g in trajectories.groupby(keys, sort=False):
        yield dict(zip(keys, key if isinstance(key, tuple) else (key,))), g


def summarize(trajectories: pd.DataFrame, checkpoints: Sequence[int] = (50, 100, 200)) -> pd.DataFrame:
    """One row per (dataset, strategy[, workers]): regret, queries and time to the optimum over seeds."""
    rows = []
    for keys, g in _groups(trajectories, ["dataset", "strategy", "workers"]):
        runs = [r.sort_values("query") for _, r in g.groupby("seed")]
        budget = int(min(r["query"].max() for r in runs))
        final = np.array([r["test_regret"].iloc[budget - 1] for r in runs])
        rec = np.array([r["recommended_test_regret"].iloc[budget - 1] for r in runs])
        q = np.array([queries_to_optimum(r) for r in runs])
        med, lo, hi = median_iqr(final)
        qmed, qlo, qhi = median_iqr(q)
        row = {
            **keys,
            "seeds": len(runs),
            "budget": budget,
            "final_test_regret_median": med,
            "final_test_regret_q25": lo,
            "final_test_regret_q75": hi,
            "recommended_test_regret_median": _median(rec),
            "queries_to_optimum_median": qmed,
            "queries_to_optimum_q25": qlo,
            "queries_to_optimum_q75": qhi,
            "found_optimum": int(np.isfinite(q).sum()),
            "ask_seconds_median": _median(np.concatenate([r["ask_seconds"].to_numpy() for r in runs])),
        }
        if "finished" in g.columns and g["finished"].notna().all():
            tmed, tlo, thi = median_iqr(np.array([time_to_optimum(r) for r in runs]))
            row.update(time_to_optimum_median=tmed, time_to_optimum_q25=tlo, time_to_optimum_q75=thi)
        for c in checkpoints:
            if c <= budget:
                row[f"test_regret_at_{c}"] = _median([r["test_regret"].iloc[c - 1] for r in runs])
                row[f"recommended_test_regret_at_{c}"] = _median([r["recommended_test_regret"].iloc[c - 1] for r in runs])
                row[f"ask_seconds_at_{c}"] = _median([r["ask_seconds"].iloc[c - 1] for r in runs])
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_q(v: float) -> str:
    return "not found" if not math.isfinite(v) else f"{v:g}"


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
    workers = "workers" in summary.columns
    timed = "time_to_optimum_median" in summary.columns
    head = ["dataset", "strategy", *(["workers"] if workers else []), "seeds", "budget", "final test regret, median [IQR]",
            "recommended-cell regret (median)", *[f"regret @{c.rsplit('_', 1)[1]}" for c in checkpoints],
            "queries to optimum, median [IQR]", "found",
            *(["time to optimum (engine s), median [IQR]"] if timed else []), "ask s (median)",
            *[f"ask s @{c.rsplit('_', 1)[1]}" for c in asks]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in summary.iterrows():
        cells = [
            r["dataset"], r["strategy"], *([str(r["workers"])] if workers else []), str(r["seeds"]), str(r["budget"]),
            f"{r['final_test_regret_median']:.2f} [{r['final_test_regret_q25']:.2f}, {r['final_test_regret_q75']:.2f}]",
            f"{r['recommended_test_regret_median']:.2f}",
            *[f"{r[c]:.2f}" if pd.notna(r[c]) else "" for c in checkpoints],
            f"{_fmt_q(r['queries_to_optimum_median'])} [{_fmt_q(r['queries_to_optimum_q25'])}, "
            f"{_fmt_q(r['queries_to_optimum_q75'])}]",
            f"{r['found_optimum']}/{r['seeds']}",
            *([f"{_fmt_q(r['time_to_optimum_median'])} [{_fmt_q(r['time_to_optimum_q25'])}, "
               f"{_fmt_q(r['time_to_optimum_q75'])}]"] if timed else []),
            f"{r['ask_seconds_median']:.4f}",
            *[f"{r[c]:.3f}" if pd.notna(r[c]) else "" for c in asks],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def queries_to_ratio(traj: pd.DataFrame, target: float = 0.99) -> float:
    """First query at which the hypervolume ratio reached ``target``; inf if never."""
    hit = traj.index[(traj["hypervolume_ratio"] >= target).to_numpy()]
    return float(traj.loc[hit[0], "query"]) if len(hit) else math.inf


def summarize_mo(trajectories: pd.DataFrame, checkpoints: Sequence[int] = (25, 50, 100),
                 target: float = 0.99) -> pd.DataFrame:
    """One row per (dataset, objectives, strategy): hypervolume ratio statistics over seeds."""
    rows = []
    for keys, g in _groups(trajectories, ["dataset", "objectives", "strategy", "workers"]):
        runs = [r.sort_values("query") for _, r in g.groupby("seed")]
        budget = int(min(r["query"].max() for r in runs))
        final = np.array([r["hypervolume_ratio"].iloc[budget - 1] for r in runs])
        q = np.array([queries_to_ratio(r, target) for r in runs])
        med, lo, hi = median_iqr(final)
        qmed, qlo, qhi = median_iqr(q)
        row = dict(keys)
        row.update({
            "seeds": len(runs), "budget": budget,
            "hv_ratio_final_median": med, "hv_ratio_final_q25": lo, "hv_ratio_final_q75": hi,
            f"queries_to_{target:g}_median": qmed, f"queries_to_{target:g}_q25": qlo,
            f"queries_to_{target:g}_q75": qhi, f"reached_{target:g}": int(np.isfinite(q).sum()),
            "ask_seconds_median": _median(np.concatenate([r["ask_seconds"].to_numpy() for r in runs])),
        })
        for c in checkpoints:
            if c <= budget:
                row[f"hv_ratio_at_{c}"] = _median([r["hypervolume_ratio"].iloc[c - 1] for r in runs])
        rows.append(row)
    return pd.DataFrame(rows)


def _never(v: float) -> str:
    return "never" if not math.isfinite(v) else f"{v:g}"


def markdown_table_mo(summary: pd.DataFrame, target: float = 0.99) -> str:
    """The multi-objective summary as a markdown table (hypervolume ratios found/true)."""
    checkpoints = [c for c in summary.columns if c.startswith("hv_ratio_at_")]
    keys = [k for k in ("dataset", "objectives", "strategy", "workers") if k in summary.columns]
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
