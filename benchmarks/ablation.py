"""Ablation: queries until each run first evaluates the validation optimum, stopping there.

A bench run always pays its whole budget; to compare variants of a strategy on *queries to the
optimum* a run can stop at its first hit, which costs a fraction of the CPU (a boed run's asks get
slower as observations grow). Every (spec, dataset, seed) run is one JSON line appended to
``--out``; a rerun skips the lines already there, so an interrupted ablation resumes. The summary
is the median over seeds (a run that never finds the optimum within the budget counts as
infinitely many), the IQR and how many found it.

Use held-out seeds (not the ones a report is made on) so that a default chosen here is not tuned
to the reported runs:

    python benchmarks/ablation.py run --strategies "boed,boed[kernel=categorical+additive]" \\
        --dataset cifar10,cifar100 --seeds 20-27 --budget 150 --out benchmarks/results/nb201/ablation/runs.jsonl
    python benchmarks/ablation.py report benchmarks/results/nb201/ablation/runs.jsonl
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


def queries_to_optimum(spec: str, dataset: str, seed: int, budget: int) -> dict:
    """Run ``spec`` on ``dataset`` with ``seed`` until it evaluates the validation optimum's class
    (or ``budget`` queries); the record has ``queries`` (None if not found), ``seconds`` (wall) and
    ``cpu_seconds``."""
    import torch

    torch.set_num_threads(1)
    from boed_nas.registry import make_strategy

    bench = NB201Benchmark(dataset, seed=seed)
    strategy = make_strategy(spec, seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    traj = run_search(strategy, bench, budget, stop_at_optimum=True)
    found = len(traj) if traj["found_optimum"].iloc[-1] else None
    return {"spec": spec, "dataset": bench.dataset, "seed": seed, "budget": budget, "queries": found,
            "seconds": round(time.perf_counter() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1)}


def run(specs: list[str], datasets: list[str], seeds: list[int], budget: int, out: str, jobs: int) -> None:
    from boed_nas.registry import make_strategy

    for spec in specs:  # a bad spec fails now, not in a worker an hour later
        make_strategy(spec, seed=0)
    done = set()
    if os.path.exists(out):
        with open(out) as f:
            done = {(r["spec"], r["dataset"], r["seed"]) for r in map(json.loads, f)}
    datasets = [resolve_dataset(d).name for d in datasets]
    # seed-major order: every variant gets the same seeds first, so a partial run is still paired
    todo = [(sp, ds, se, budget) for se, ds, sp in itertools.product(seeds, datasets, specs) if (sp, ds, se) not in done]
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
                     "wall s per run (median)": float(g.seconds.median())})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    from boed_nas.registry import split_specs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--strategies", required=True, help="comma-separated strategy specs, e.g. 'boed,boed[n_init=5]'")
    r.add_argument("--dataset", default="cifar10", help="comma-separated NB201 datasets")
    r.add_argument("--seeds", default="20-27", help="a range 20-27 or a list 20,21")
    r.add_argument("--budget", type=int, default=150)
    r.add_argument("--jobs", type=int, default=2)
    r.add_argument("--out", required=True, help="a JSON-lines file; existing runs in it are skipped")
    p = sub.add_parser("report")
    p.add_argument("path")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "run":
            run(split_specs(args.strategies), [d.strip() for d in args.dataset.split(",") if d.strip()],
                parse_seeds(args.seeds), args.budget, args.out, args.jobs)
        table = report(args.out if args.cmd == "run" else args.path)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(markdown_frame(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
