"""boed-nas inside Ax vs Ax's own strategies on NB201: regret, queries to optimum, time per trial.

Arms (every one drives a real Ax ``Client`` on the NB201 experiment of ``boed_nas.integrations.ax``):

- ``boed-node``: an Ax service loop (``get_next_trials`` / ``complete_trial``) with
  ``boed_generation_strategy(seed=s, space_filling="sobol")``: 10 Sobol trials, then the BOED node.
- ``ax``: Ax's default generation strategy (``method="fast"``), through the ``"ax"`` ask/tell
  strategy and ``boed_nas.experiment.loop.run_search``.
- ``sobol``: Ax's quasi-random search, through the ``"sobol"`` strategy and ``run_search``.

Every arm pays for a query once per isomorphism class: a trial isomorphic to an earlier one is
answered from the known result and not counted (``run_search`` strategies never propose one; the
Ax loop counts such trials in ``duplicates``). Search sees one training seed's validation
accuracy; regret is in test-accuracy points against the table's best.

    python -m benchmarks.ax_study --arms boed-node,sobol --seeds 0-9 --budget 100
    python -m benchmarks.ax_study --arms ax --seeds 0-1 --budget 100
    python -m benchmarks.ax_study --report                      # table and plot from every run so far

Each (arm, seed) run is written to ``OUT/runs/`` as soon as it ends (a rerun skips it), and the
report (``trajectories.csv.gz``, ``runs.csv``, ``summary.csv``, ``table.md``, ``regret.png``) is
rebuilt from all of them and from the runs of the committed ``trajectories.csv.gz`` / ``runs.csv``
that ``runs/`` (git-ignored) lacks, so seeds added on a fresh clone join the committed ones. Wall time per trial is the median time of one ``ask`` (Ax's
``get_next_trials`` plus the strategy's bookkeeping); CPU time per trial is the process CPU time of
a whole run divided by its budget. The machine's load average is kept with every run.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


ARMS = ("boed-node", "ax", "sobol")
CHECKPOINTS = (10, 25, 50, 75, 100, 150, 200)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "ax"


def run_ax_loop(bench: Any, budget: int, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The Ax service loop with the BOED generation strategy; trajectory rows in ``run_search``'s columns."""
    from ax.api.client import Client

    from boed_nas.integrations.ax import (
        boed_generation_strategy,
        boed_node,
        cell_of,
        configure_nb201,
        quiet_ax,
    )

    quiet = 40  # logging.ERROR: Ax's INFO line per trial is noise here
    client = Client(random_seed=seed)
    with quiet_ax(quiet):
        configure_nb201(client, "val_acc")
        client.set_generation_strategy(boed_generation_strategy(seed=seed, space_filling="sobol"))
    node = boed_node(client._generation_strategy)  # a study script (not the library) may read the client
    opt_key = bench.optimum("val_acc")[0].canonical().code
    rows: list[dict[str, Any]] = []
    best_val, best_cell, cum_cost, found, duplicates = -math.inf, None, 0.0, False, 0
    nodes: dict[str, int] = {}
    while len(rows) < budget:
        t0 = time.perf_counter()
        with quiet_ax(quiet):
            trials = client.get_next_trials(max_trials=1)
        ask_seconds = time.perf_counter() - t0
        for index, params in trials.items():
            cell = cell_of(params)
            out = bench.evaluate(cell)
            with quiet_ax(quiet):
                if out.failed:
                    client.mark_trial_failed(index)
                else:
                    client.complete_trial(index, raw_data={"val_acc": out.metrics["val_acc"]})
            method = client._experiment.trials[index].generation_method_str
            nodes[method] = nodes.get(method, 0) + 1
            if out.info.get("cached"):
                duplicates += 1  # isomorphic to an earlier trial: answered from the table's cache, not paid
                continue
            cum_cost += out.cost
            val = out.metrics.get("val_acc", math.nan)
            if not out.failed and val > best_val:
                best_val, best_cell = val, cell
            found = found or cell.canonical().code == opt_key
            q = len(rows) + 1
            rec = None
            if q in CHECKPOINTS or q == budget:
                # the controller's recommendation (posterior mean), after telling it this trial too;
                # the GP it fits is the one the next ask would fit, so the trajectory is unchanged
                with quiet_ax(quiet):
                    node.update_generator_state(client._experiment, client._experiment.lookup_data())
                rec = node.controller.recommend()
            rows.append({
                "query": q, "cell": str(cell), "arch_index": bench.index_of(cell), "val_acc": val,
                "test_acc": out.info.get("test_acc", math.nan), "failed": out.failed, "cost": out.cost,
                "cumulative_cost": cum_cost, "best_val_so_far": best_val, "best_cell": str(best_cell),
                "test_regret": bench.test_regret(best_cell) if best_cell is not None else math.nan,
                "recommended_cell": str(rec) if rec is not None else "",
                "recommended_test_regret": bench.test_regret(rec) if rec is not None else math.nan,
                "found_optimum": found, "ask_seconds": ask_seconds, "generation_node": method,
            })
    return pd.DataFrame(rows), {"duplicates": duplicates, "generation_nodes": nodes}


def run_strategy(name: str, bench: Any, budget: int, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from boed_nas.experiment.loop import run_search
    from boed_nas.registry import make_strategy

    strategy = make_strategy(name, seed=seed)
    traj = run_search(strategy, bench, budget)
    return traj, {"duplicates": strategy.duplicates, "generation_nodes": strategy.generation_nodes()}


def run_one(arm: str, dataset: str, seed: int, budget: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    import ax.api.client  # noqa: F401  (Ax's import, seconds, stays out of the timings)

    from boed_nas.nb201.benchmark import NB201Benchmark

    bench = NB201Benchmark(dataset, seed=seed)
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    if arm == "boed-node":
        traj, extra = run_ax_loop(bench, budget, seed)
    else:
        traj, extra = run_strategy(arm, bench, budget, seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    traj.insert(0, "seed", seed)
    traj.insert(0, "strategy", arm)
    traj.insert(0, "dataset", dataset)
    run = {"dataset": dataset, "strategy": arm, "seed": seed, "budget": budget, "wall_s": wall, "cpu_s": cpu,
           "wall_s_per_trial": wall / budget, "cpu_s_per_trial": cpu / budget,
           "loadavg_start": load0, "loadavg_end": os.getloadavg()[0], **extra}
    return traj, run


def _nodes(d: Any) -> dict[str, int]:
    """A run's ``generation_nodes``: a dict (from its JSON) or its text in ``runs.csv`` (JSON, or the
    Python literal older reports wrote)."""
    if isinstance(d, dict):
        return d
    try:
        return json.loads(d)
    except json.JSONDecodeError:
        return ast.literal_eval(d)


def _runs(out: Path, runs_only: bool = False) -> pd.DataFrame:
    """The run records (``runs/*.json``, and unless ``runs_only`` those of the committed ``runs.csv``
    that ``runs/`` lacks)."""
    from benchmarks.common import with_committed
    from boed_nas.experiment.report import KEY

    runs, _ = with_committed([pd.DataFrame([json.loads(p.read_text())]) for p in sorted((out / "runs").glob("*.json"))],
                             None if runs_only else out / "runs.csv", KEY)
    return runs


def report(out: Path, runs_only: bool = False) -> str:
    """Merge every run under ``out/runs`` and, unless ``runs_only``, the runs of the committed
    ``trajectories.csv.gz`` / ``runs.csv`` that ``runs/`` lacks (``runs/`` is git-ignored: on a fresh
    clone it holds only the runs made there) into the trajectories, summary, table and plot."""
    from benchmarks.common import with_committed
    from boed_nas.experiment.bench import queries_to_optimum, summarize
    from boed_nas.experiment.plots import plot_regret
    from boed_nas.experiment.report import GZIP, KEY

    files = sorted((out / "runs").glob("*.csv.gz"))
    traj, n_kept = with_committed([pd.read_csv(f) for f in files],
                                  None if runs_only else out / "trajectories.csv.gz", KEY)
    if not len(traj):
        raise SystemExit(f"no runs under {out / 'runs'}" + ("" if runs_only else " and no committed trajectories"))
    runs = _runs(out, runs_only)
    lacking = set(map(tuple, traj[KEY].drop_duplicates().values)) - set(map(tuple, runs[KEY].values))
    if lacking:
        raise SystemExit(f"{len(lacking)} run(s) have a trajectory but no record (runs/*.json or runs.csv), e.g. "
                         f"{sorted(lacking)[0]}")
    runs["generation_nodes"] = [json.dumps(_nodes(d)) for d in runs["generation_nodes"]]
    settings = runs[["dataset", "budget"]].drop_duplicates()
    if len(settings) > 1:  # the table has one row per arm: one dataset and budget per --out
        raise SystemExit(f"{out} would mix runs of {[tuple(r) for r in settings.values]} (dataset, budget); "
                         "give each setting its own --out (or --runs-only to report runs/ alone)")
    print(f"{len(files)} runs from {out / 'runs'}, {n_kept} kept from {out / 'trajectories.csv.gz'}", flush=True)
    order = {a: i for i, a in enumerate(ARMS)}
    traj = traj.sort_values(["strategy", "seed", "query"], key=lambda s: s.map(order) if s.name == "strategy" else s)
    traj.to_csv(out / "trajectories.csv.gz", index=False, compression=GZIP)
    runs.to_csv(out / "runs.csv", index=False)
    summary = summarize(traj, checkpoints=(25, 50, 100))
    summary.to_csv(out / "summary.csv", index=False)
    lines = [
        "| arm | seeds | budget | final test regret, median [IQR] | recommended-cell regret (median) "
        "| regret @25 | regret @50 | queries to optimum, median [IQR] | found | wall s / trial (median ask) "
        "| CPU s / trial | load avg | isomorphic duplicates (per run) | trials by Ax generation node (all runs) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def q(v: float) -> str:
        return "not found" if not math.isfinite(v) else f"{v:g}"

    for _, s in summary.iterrows():
        arm = s["strategy"]
        r = runs[runs["strategy"] == arm]
        g = traj[traj["strategy"] == arm]
        per_seed = [queries_to_optimum(x.sort_values("query")) for _, x in g.groupby("seed")]
        nodes: dict[str, int] = {}
        for d in r["generation_nodes"]:
            for k, v in _nodes(d).items():
                nodes[k] = nodes.get(k, 0) + int(v)
        lines.append(
            f"| {arm} | {s['seeds']} | {s['budget']} | {s['final_test_regret_median']:.2f} "
            f"[{s['final_test_regret_q25']:.2f}, {s['final_test_regret_q75']:.2f}] "
            f"| {s['recommended_test_regret_median']:.2f} "
            f"| {s.get('test_regret_at_25', float('nan')):.2f} | {s.get('test_regret_at_50', float('nan')):.2f} "
            f"| {q(s['queries_to_optimum_median'])} [{q(s['queries_to_optimum_q25'])}, "
            f"{q(s['queries_to_optimum_q75'])}] | {int(np.isfinite(per_seed).sum())}/{len(per_seed)} "
            f"| {g['ask_seconds'].median():.2f} | {r['cpu_s_per_trial'].mean():.2f} "
            f"| {r['loadavg_start'].mean():.1f} | {r['duplicates'].mean():.1f} "
            f"| {', '.join(f'{k} {v}' for k, v in sorted(nodes.items(), key=lambda kv: -kv[1]))} |")
    per_seed_lines = ["", "Queries to the validation optimum per seed:", ""]
    for arm, g in traj.groupby("strategy", sort=False):
        vals = [f"{int(x['seed'].iloc[0])}: {q(queries_to_optimum(x.sort_values('query')))}"
                for _, x in g.groupby("seed")]
        per_seed_lines.append(f"- {arm}: " + ", ".join(vals))
    table = "\n".join(lines + per_seed_lines) + "\n"
    (out / "table.md").write_text(table)
    plot_regret(traj, out / "regret.png")
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arms", default="boed-node,ax,sobol", help=f"comma-separated, from {list(ARMS)}")
    p.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (benchmark and strategy seed)")
    p.add_argument("--budget", type=int, default=100, help="paid queries per run. Default: 100")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--report", action="store_true", help="only rebuild the report from the runs so far")
    p.add_argument("--runs-only", action="store_true",
                   help="report the runs under OUT/runs only, not those of the committed trajectories.csv.gz")
    args = p.parse_args(argv)
    import torch

    from boed_nas.experiment.bench import parse_seeds

    torch.set_num_threads(1)
    if not args.report:
        arms = [a.strip() for a in args.arms.split(",") if a.strip()]
        bad = [a for a in arms if a not in ARMS]
        if bad or args.budget < 1:
            p.error(f"unknown arms {bad}; expected some of {list(ARMS)}" if bad else "--budget must be positive")
        done = _runs(args.out, args.runs_only)
        other = done[(done["dataset"] != args.dataset) | (done["budget"] != args.budget)] if len(done) else done
        if len(other):  # refuse before the compute, not at the report
            p.error(f"{args.out} holds runs of (dataset, budget) {sorted({tuple(r) for r in other[['dataset', 'budget']].values})}, "
                    f"not ({args.dataset!r}, {args.budget}); give this setting its own --out")
        (args.out / "runs").mkdir(parents=True, exist_ok=True)
        for seed in parse_seeds(args.seeds):
            for arm in arms:
                stem = args.out / "runs" / f"{args.dataset}_{arm}_b{args.budget}_s{seed}"
                if stem.with_suffix(".json").exists():
                    continue
                traj, run = run_one(arm, args.dataset, seed, args.budget)
                traj.to_csv(f"{stem}.csv.gz", index=False)
                stem.with_suffix(".json").write_text(json.dumps(run))
                print(f"{arm} seed {seed}: final regret {traj['test_regret'].iloc[-1]:.2f}, "
                      f"wall {run['wall_s_per_trial']:.2f} s/trial, cpu {run['cpu_s_per_trial']:.2f} s/trial, "
                      f"load {run['loadavg_start']:.1f}, nodes {run['generation_nodes']}", flush=True)
    print(report(args.out, args.runs_only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
