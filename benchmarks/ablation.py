"""Ablation: queries until each run first evaluates the validation optimum, stopping there.

A bench run always pays its whole budget; to compare variants of a strategy on *queries to the
optimum* a run can stop at its first hit, which costs a fraction of the CPU (a boed run's asks get
slower as observations grow). Every (spec, dataset, seed) run is one JSON line appended to
``--out``; a rerun skips the lines already there, so an interrupted ablation resumes. The summary
is the median over seeds (a run that never finds the optimum within the budget counts as
infinitely many), the IQR and how many found it. With ``--min-queries N`` a run goes on past its
first hit to N queries, so the summary also has the recommendation's test regret at the
checkpoints 10 / 25 / 50 / 100 / 200 every run reached (and the ask time at query 200).

Use held-out seeds (not the ones a report is made on) so that a default chosen here is not tuned
to the reported runs:

    python -m benchmarks.ablation run --strategies "boed,boed[kernel=categorical+additive]" \\
        --dataset cifar10,cifar100 --seeds 20-27 --budget 150 --out benchmarks/results/nb201/ablation/runs.jsonl
    python -m benchmarks.ablation report benchmarks/results/nb201/ablation/runs.jsonl
    python -m benchmarks.ablation paired runs.jsonl "boed[signals=synflow]" boed   # seed by seed, a sign test
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import _fmt_q, markdown_frame, median_iqr, parse_seeds
from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark, resolve_dataset

from benchmarks.common import sign_test  # noqa: E402


CHECKPOINTS = (10, 25, 50, 100, 200)
"""Query counts at which a record keeps the recommendation's test regret and the ask time."""


def queries_to_optimum(spec: str, dataset: str, seed: int, budget: int, min_queries: int = 0) -> dict:
    """Run ``spec`` on ``dataset`` with ``seed`` until it evaluates the validation optimum's class
    (or ``budget`` queries), going on to at least ``min_queries``; the record has ``queries``
    (None if not found), ``seconds`` (wall), ``cpu_seconds``, and for each checkpoint the run
    reached, ``recommended_regret`` (test regret of the strategy's recommendation, in points) and
    ``ask_seconds`` (wall seconds of the ask that made that query, the GP fit included)."""
    import torch

    torch.set_num_threads(1)
    from boed_nas.registry import make_strategy

    bench = NB201Benchmark(dataset, seed=seed)
    strategy = make_strategy(spec, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    traj = run_search(strategy, bench, budget, stop_at_optimum=True, min_queries=min(min_queries, budget))
    hit = np.flatnonzero(traj["found_optimum"].to_numpy())
    found = int(hit[0]) + 1 if len(hit) else None
    at = [c for c in CHECKPOINTS if c <= len(traj)]
    return {"spec": spec, "dataset": bench.dataset, "seed": seed, "budget": budget, "queries": found,
            "seconds": round(time.perf_counter() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1),
            "recommended_regret": {str(c): round(float(traj["recommended_test_regret"].iloc[c - 1]), 4) for c in at},
            "ask_seconds": {str(c): round(float(traj["ask_seconds"].iloc[c - 1]), 3) for c in at}}


def run(specs: list[str], datasets: list[str], seeds: list[int], budget: int, out: str, jobs: int,
        min_queries: int = 0) -> None:
    from boed_nas.registry import make_strategy

    for spec in specs:  # a bad spec fails now, not in a worker an hour later
        make_strategy(spec, seed=0)
    done = set()
    if os.path.exists(out):
        with open(out) as f:
            done = {(r["spec"], r["dataset"], r["seed"]) for r in map(json.loads, f)}
    datasets = [resolve_dataset(d).name for d in datasets]
    # seed-major order: every variant gets the same seeds first, so a partial run is still paired
    todo = [(sp, ds, se, budget, min_queries) for se, ds, sp in itertools.product(seeds, datasets, specs) if (sp, ds, se) not in done]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    print(f"{len(todo)} runs to do ({len(done)} already in {out})", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=jobs) as pool, open(out, "a") as f:
        for i, rec in enumerate(pool.map(queries_to_optimum, *zip(*todo)) if todo else []):
            print(json.dumps(rec), file=f, flush=True)
            print(f"[{i + 1}/{len(todo)}] {rec}", file=sys.stderr)


def report(path: str) -> pd.DataFrame:
    with open(path) as f:
        runs = pd.DataFrame([json.loads(line) for line in f])
    rows = []
    for (ds, spec), g in runs.groupby(["dataset", "spec"], sort=False):
        q = g["queries"].astype(float).fillna(math.inf).to_numpy()
        med, lo, hi = median_iqr(q)
        rows.append({"dataset": ds, "strategy": spec, "seeds": f"{g.seed.min()}-{g.seed.max()} ({len(g)})",
                     "queries to optimum, median [IQR]": f"{_fmt_q(med)} [{_fmt_q(lo)}, {_fmt_q(hi)}]",
                     "worst": _fmt_q(float(np.max(q))), "found": f"{int(np.isfinite(q).sum())}/{len(q)}",
                     "wall s per run (median)": float(g.seconds.median()),
                     **_at_checkpoints(g)})
    return pd.DataFrame(rows)


def _at_checkpoints(g: pd.DataFrame) -> dict[str, str]:
    """Median [IQR] of the recommendation's test regret at every checkpoint all of ``g``'s runs
    reached, and the median ask seconds at query 200 over the runs that reached it."""
    out: dict[str, str] = {}
    if "recommended_regret" not in g:
        return out
    for c in map(str, CHECKPOINTS):
        vals = [r.get(c) for r in g["recommended_regret"] if isinstance(r, dict)]
        if len(vals) == len(g) and all(v is not None for v in vals):
            med, lo, hi = median_iqr(np.asarray(vals, dtype=float))
            out[f"rec. regret @{c}"] = f"{med:.2f} [{lo:.2f}, {hi:.2f}]"
    asks = [r["200"] for r in g["ask_seconds"] if isinstance(r, dict) and "200" in r]
    if asks:
        out["ask s @200 (runs)"] = f"{median_iqr(asks)[0]:.2f} ({len(asks)})"
    return out


def paired(path: str, a: str, b: str) -> pd.DataFrame:
    """Seed by seed, ``a`` against ``b`` (the runs of both on the same dataset and seed): how many
    seeds each does better on (fewer queries to the optimum, a never-found run counting as
    infinitely many; lower recommendation regret at each checkpoint both reached), how many tie, and
    the two-sided sign test (binomial, on the seeds that differ)."""
    with open(path) as f:
        runs = pd.DataFrame([json.loads(line) for line in f])
    missing = [s for s in (a, b) if s not in set(runs.spec)]
    if missing:
        raise ValueError(f"{path} has no runs of {missing}; it has {sorted(set(runs.spec))}")
    rows = []
    for ds, g in runs.groupby("dataset", sort=False):
        x, y = g[g.spec == a].set_index("seed"), g[g.spec == b].set_index("seed")
        seeds = sorted(set(x.index) & set(y.index))
        if not seeds:
            continue
        measures = {"queries to optimum": ([_inf(x.queries[s]) for s in seeds], [_inf(y.queries[s]) for s in seeds])}
        for c in map(str, CHECKPOINTS):
            u = [x.recommended_regret[s].get(c) if isinstance(x.recommended_regret[s], dict) else None for s in seeds]
            v = [y.recommended_regret[s].get(c) if isinstance(y.recommended_regret[s], dict) else None for s in seeds]
            if all(w is not None for w in u + v):
                measures[f"rec. regret @{c}"] = (u, v)
        for name, (u, v) in measures.items():
            wins, losses, ties, pval = sign_test(u, v)
            rows.append({"dataset": ds, "measure": name, "seeds": len(seeds), f"{a} better": wins,
                         f"{b} better": losses, "equal": ties, "sign test p": round(pval, 4)})
    return pd.DataFrame(rows)


def versions(old_path: str, new_path: str) -> pd.DataFrame:
    """The same runs (spec, dataset, seed) in two files, made by two versions of the code: per
    dataset and spec, the median [IQR] queries to the optimum and the runs that found it in each,
    and seed by seed how many the new code does better and worse on (queries to the optimum, CPU
    seconds), with the two-sided sign test."""
    def load(path: str) -> pd.DataFrame:
        with open(path) as f:
            return pd.DataFrame([json.loads(line) for line in f]).set_index(["spec", "dataset", "seed"])

    old, new = load(old_path), load(new_path)
    rows = []
    for (spec, ds), g in new.groupby(level=["spec", "dataset"], sort=False):
        keys = [k for k in g.index if k in old.index]
        if not keys:
            continue
        q_old, q_new = [_inf(old.queries[k]) for k in keys], [_inf(new.queries[k]) for k in keys]
        row = {"dataset": ds, "spec": spec, "seeds": len(keys)}
        for tag, q in (("old", q_old), ("new", q_new)):
            m, lo, hi = median_iqr(np.asarray(q, dtype=float))
            row[f"queries, {tag}"] = f"{_fmt_q(m)} [{_fmt_q(lo)}, {_fmt_q(hi)}], {int(np.isfinite(q).sum())}/{len(q)}"
        wins, losses, ties, pval = sign_test(q_new, q_old)
        row.update({"new better / worse / equal": f"{wins} / {losses} / {ties}", "sign test p": round(pval, 4)})
        c_old, c_new = [old.cpu_seconds[k] for k in keys], [new.cpu_seconds[k] for k in keys]
        row["CPU s per run, old -> new (median)"] = f"{np.median(c_old):.1f} -> {np.median(c_new):.1f}"
        wins, losses, _, pval = sign_test(c_new, c_old)
        row["CPU: new less / more, p"] = f"{wins} / {losses}, {pval:.2g}"
        row["queries per seed, old -> new (where they differ)"] = " ".join(
            f"{k[2]}:{_fmt_q(a)}->{_fmt_q(b)}" for k, a, b in zip(keys, q_old, q_new) if a != b)
        rows.append(row)
    return pd.DataFrame(rows)


def _inf(v) -> float:
    return math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def main(argv: list[str] | None = None) -> int:
    from boed_nas.registry import split_specs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--strategies", required=True, help="comma-separated strategy specs, e.g. 'boed,boed[n_init=5]'")
    r.add_argument("--dataset", default="cifar10", help="comma-separated NB201 datasets")
    r.add_argument("--seeds", default="20-27", help="a range 20-27 or a list 20,21")
    r.add_argument("--budget", type=int, default=150)
    r.add_argument("--min-queries", type=int, default=0,
                   help="run on past the first hit to this many queries (regret at fixed query counts)")
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--out", required=True, help="a JSON-lines file; existing runs in it are skipped")
    p = sub.add_parser("report")
    p.add_argument("path")
    q = sub.add_parser("paired", help="seed by seed, one spec against another, with a sign test")
    q.add_argument("path")
    q.add_argument("a", help="a strategy spec in the file")
    q.add_argument("b", help="the spec it is compared with")
    v = sub.add_parser("versions", help="the same runs made by two versions of the code, seed by seed")
    v.add_argument("old", help="the runs of the older code (a JSON-lines file of 'run')")
    v.add_argument("new", help="the same specs, datasets and seeds, run by the newer code")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "versions":
            print(markdown_frame(versions(args.old, args.new)))
            return 0
        if args.cmd == "paired":
            print(markdown_frame(paired(args.path, args.a, args.b)))
            return 0
        if args.cmd == "run":
            run(split_specs(args.strategies), [d.strip() for d in args.dataset.split(",") if d.strip()],
                parse_seeds(args.seeds), args.budget, args.out, args.jobs, args.min_queries)
        table = report(args.out if args.cmd == "run" else args.path)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(markdown_frame(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
