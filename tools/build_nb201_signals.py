"""Compute the signals at initialisation of every NB201 isomorphism class and ship them.

For each of the 6,466 canonical cells, ``boed_nas.nb201.signals.cell_signals(cell, seed)`` builds
the cell's NB201 network (C=16, N=5, 10 classes, 3 x 32 x 32 inputs) with weights seeded by
(seed, cell code) and computes params, FLOPs, synflow, snip, grad_norm, jacob_cov and naswot
(definitions in that module's docstring; the probe batch is 64 of scikit-learn's bundled digits).
No results table is read. Each cell is computed alone in one thread, so the numbers do not depend
on ``--jobs``.

    python -m tools.build_nb201_signals --jobs 2          # all 6,466 classes -> the shipped file
    python -m tools.build_nb201_signals --limit 150 --out /tmp/signals_150.csv.gz   # a sample

Writes ``boed_nas/nb201/data/signals.csv.gz`` (one row per class: ``code``, the representative's
cell code, then one column per signal; gzip with mtime 0, so the same numbers give the same bytes).
About 1.4 CPU-seconds per cell (``--limit`` prints the measured rate): the shipped table took 2.6 CPU-hours.
``--limit K`` computes a random sample of K classes (seeded by ``--sample-seed``) and must be
written elsewhere (``--out``): the shipped file is always the whole space.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from boed_nas.nb201.signals import SIGNALS, signal_table
from boed_nas.nb201.space import canonical_cells

SHIPPED = Path(__file__).resolve().parents[1] / "boed_nas" / "nb201" / "data" / "signals.csv.gz"
GZIP = {"method": "gzip", "mtime": 0}


def _init_worker() -> None:
    torch.set_num_threads(1)


def _chunk(args: tuple[list[int], int]) -> tuple[pd.DataFrame, float]:
    codes, seed = args
    t0 = time.process_time()
    df = signal_table(codes, seed=seed, progress=False)
    return df, time.process_time() - t0


def build(codes: list[int], seed: int, jobs: int, chunk: int = 16) -> tuple[pd.DataFrame, float]:
    """The signal table of ``codes`` (sorted by code) and the CPU seconds the computation took."""
    chunks = [(codes[i : i + chunk], seed) for i in range(0, len(codes), chunk)]
    parts, cpu, done, t0 = [], 0.0, 0, time.time()
    if jobs == 1:
        _init_worker()
        results = map(_chunk, chunks)
        pool = None
    else:
        pool = mp.get_context("spawn").Pool(jobs, initializer=_init_worker)
        results = pool.imap_unordered(_chunk, chunks)
    try:
        for df, seconds in results:
            parts.append(df)
            cpu += seconds
            done += len(df)
            print(f"  {done}/{len(codes)} cells, {time.time() - t0:.0f} s, {cpu / done:.2f} CPU-s per cell",
                  file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    table = pd.concat(parts, ignore_index=True).sort_values("code", ignore_index=True)
    return table.astype({"code": "int64", "params": "int64", "flops": "int64"}), cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    ap.add_argument("--limit", type=int, default=None, help="compute a random sample of this many classes")
    ap.add_argument("--sample-seed", type=int, default=0, help="the sample's seed (with --limit)")
    ap.add_argument("--seed", type=int, default=0, help="the signals' seed (weights and probe batch)")
    ap.add_argument("--out", type=Path, default=SHIPPED)
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error(f"--jobs must be >= 1, got {args.jobs}")
    codes = [c.code for c in canonical_cells()]
    if args.limit is not None:
        if not 1 <= args.limit <= len(codes):
            ap.error(f"--limit must be in 1..{len(codes)}, got {args.limit}")
        if args.out.resolve() == SHIPPED.resolve():
            ap.error(f"--limit computes a sample; write it elsewhere with --out (the shipped {SHIPPED.name} is "
                     "always all 6,466 classes)")
        rng = np.random.default_rng(args.sample_seed)
        codes = sorted(int(c) for c in rng.choice(codes, size=args.limit, replace=False))
    t0 = time.time()
    table, cpu = build(codes, args.seed, args.jobs)
    assert list(table.columns) == ["code", *SIGNALS]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, compression=GZIP if args.out.suffix == ".gz" else None)
    print(f"wrote {args.out}: {len(table)} classes, {cpu:.0f} CPU-s ({cpu / len(table):.2f} per cell), "
          f"{time.time() - t0:.0f} s wall with {args.jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
