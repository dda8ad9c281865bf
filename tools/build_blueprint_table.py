"""Build a table of real trainings of ``benchmarks.blueprint_table``: every network of the table's
sub-space trained with each of its training seeds, on a Dask ``LocalCluster``.

    python -m tools.build_blueprint_table --table k13 --workers 2   # ~65 minutes on 2 cores
    python -m tools.build_blueprint_table --table k13 --sample 48 --out /tmp/t.csv.gz   # a pilot
    python -m tools.build_blueprint_table --table k13lc --workers 2   # k13 with learning curves, 2 seeds (~40 min)

Every finished training is appended to ``<out>.partial.jsonl`` as it arrives, so an interrupted build
resumes where it stopped (rerun the same command); the table is written at the end, one row per
network: ``config`` (its string form), ``blueprint``, ``flops`` (counted on the built network),
``params``, and per training seed ``val_acc_s{seed}``, ``test_acc_s{seed}``, ``train_seconds_s{seed}``;
a table with learning curves (``k13lc``) adds per training seed and epoch ``val_acc_s{seed}_e{epoch}``
and ``train_seconds_s{seed}_e{epoch}`` (training seconds to the end of that epoch).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from benchmarks.blueprint_table import TABLES, table_spec  # noqa: E402
from benchmarks.real_training import EPOCHS  # noqa: E402


def train_one(name: str, config_text: str, seed: int) -> dict:
    """One training of table ``name``'s objective (run on a worker)."""
    from benchmarks.real_training import splits
    from boed_nas.blueprint.train import train_blueprint

    spec = table_spec(name)
    config = spec.space.parse(config_text)
    r = train_blueprint(spec.macro.blueprint_of(config), spec.macro, splits(), epochs=EPOCHS, seed=seed,
                        curve=spec.curves)
    out = {"config": config_text, "seed": seed, "val_acc": r["val_acc"], "test_acc": r["test_acc"],
           "train_seconds": r["train_seconds"]}
    if spec.curves:
        out.update(val_curve=r["val_curve"], seconds_curve=r["seconds_curve"])
    return out


def main(argv: list[str] | None = None) -> int:
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    from boed_nas.blueprint.cost import network_flops, network_params

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", required=True, choices=sorted(TABLES), help="which sub-space")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N networks")
    ap.add_argument("--sample", type=int, default=None,
                    help="only N networks drawn at random (seed 0): a pilot of how well the sub-space separates")
    ap.add_argument("--out", type=Path, default=None, help="default: the table's shipped path")
    args = ap.parse_args(argv)
    spec = table_spec(args.table)
    args.out = args.out or spec.path
    if args.workers < 1:
        ap.error(f"--workers must be at least 1, got {args.workers}")
    for opt in ("limit", "sample"):
        if getattr(args, opt) is not None and getattr(args, opt) < 1:
            ap.error(f"--{opt} must be at least 1, got {getattr(args, opt)}")
    if args.sample is not None and args.out == spec.path:
        ap.error("--sample writes a pilot, not the shipped table: give --out")
    configs = spec.space.enumerate()[:args.limit]
    if args.sample is not None:
        pick = np.random.default_rng(0).choice(len(configs), min(args.sample, len(configs)), replace=False)
        configs = [configs[i] for i in sorted(pick)]
    seeds = spec.training_seeds
    partial = args.out.with_name(args.out.name + ".partial.jsonl")
    done = {}
    if partial.exists():
        for line in partial.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                done[(r["config"], r["seed"])] = r
    todo = [(str(c), s) for c in configs for s in seeds if (str(c), s) not in done]
    print(f"table {spec.name}: {len(configs)} networks x {len(seeds)} training seeds; {len(done)} trainings already in "
          f"{partial}, {len(todo)} to run on {args.workers} workers", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if todo:
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client, partial.open("a") as log:
            futures = client.map(train_one, [spec.name] * len(todo), [c for c, _ in todo], [s for _, s in todo],
                                 pure=False)
            for fut in tqdm(as_completed(futures), total=len(futures), desc="trainings", unit="net", mininterval=10):
                r = fut.result()
                log.write(json.dumps(r) + "\n")
                log.flush()
                done[(r["config"], r["seed"])] = r
    rows = []
    for c in configs:
        bp = spec.macro.blueprint_of(c)
        row = {"config": str(c), "blueprint": str(bp), "flops": float(network_flops(bp, spec.macro)),
               "params": float(network_params(bp, spec.macro))}
        for s in seeds:
            r = done[(str(c), s)]
            row.update({f"val_acc_s{s}": round(r["val_acc"], 6), f"test_acc_s{s}": round(r["test_acc"], 6),
                        f"train_seconds_s{s}": round(r["train_seconds"], 4)})
            for e, (v, t) in enumerate(zip(r.get("val_curve", ()), r.get("seconds_curve", ())), start=1):
                row.update({f"val_acc_s{s}_e{e}": round(v, 6), f"train_seconds_s{s}_e{e}": round(t, 4)})
        rows.append(row)
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write(pd.DataFrame(rows).to_csv(index=False).encode())
    cpu = sum(r["train_seconds"] for r in done.values())
    print(f"wrote {args.out}: {len(rows)} networks, {cpu:.0f} training seconds in all, "
          f"{time.perf_counter() - t0:.0f} s wall this call", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
