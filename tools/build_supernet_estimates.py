"""Build the one-shot supernet estimates of a blueprint table's networks: for each supernet seed,
a ``BlueprintSupernet`` trained by single-path uniform sampling on the table's training split
(``boed_nas.blueprint.oneshot``), then every network's weight-sharing validation accuracy.

    python -m tools.build_supernet_estimates --table k13lc --seeds 0-2 --jobs 2   # ~4 min on 2 cores

Writes ``supernet.csv.gz`` beside the table: one row per network, ``config`` and per supernet seed
``sn_acc_s{seed}`` (validation accuracy %, BatchNorm recalibrated on 4 training batches for the
network's path) and ``sn_seconds_s{seed}`` (the measured seconds of that estimate), and
``supernet.json`` with each supernet's measured training seconds and the settings. One process per
supernet seed, one torch thread each.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from benchmarks.blueprint_table import TABLES, load_table, table_spec
from boed_nas.experiment.bench import parse_seeds

EPOCHS = 32  # 32 epochs of single paths: about five 8-epoch trainings of compute
RECALIBRATE = 4


def build_one(name: str, seed: int, epochs: int, limit: int | None) -> tuple[int, float, pd.DataFrame]:
    import torch
    from tqdm.auto import tqdm

    from benchmarks.real_training import splits
    from boed_nas.blueprint.oneshot import train_one_shot

    torch.set_num_threads(1)
    spec = table_spec(name)
    configs = list(load_table(name).index)[:limit]
    est = train_one_shot(spec.macro, splits(), epochs=epochs, seed=seed, recalibrate_batches=RECALIBRATE)
    acc, secs = [], []
    for c in tqdm(configs, desc=f"supernet {seed}", unit="net", disable=not sys.stderr.isatty()):
        a, s = est.estimate(spec.macro.blueprint_of(spec.space.parse(c)))
        acc.append(round(a, 6))
        secs.append(round(s, 5))
    return seed, est.train_seconds, pd.DataFrame({"config": configs, f"sn_acc_s{seed}": acc, f"sn_seconds_s{seed}": secs})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", default="k13lc", choices=sorted(TABLES))
    ap.add_argument("--seeds", default="0-2", help="supernet seeds, e.g. 0-2")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="only the first N networks (a pilot)")
    ap.add_argument("--out", default=None, help="folder (default: the table's)")
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    out = Path(args.out) if args.out else table_spec(args.table).path.parent
    out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(build_one, [args.table] * len(seeds), seeds, [args.epochs] * len(seeds),
                                [args.limit] * len(seeds)))
    frame = results[0][2]
    for _, _, f in results[1:]:
        frame = frame.merge(f, on="config")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(index=False).encode())
    (out / "supernet.csv.gz").write_bytes(buf.getvalue())
    meta = {"table": args.table, "epochs": args.epochs, "recalibrate_batches": RECALIBRATE, "batch_size": 64,
            "train_seconds": {str(s): round(t, 4) for s, t, _ in results},
            "command": f"python -m tools.build_supernet_estimates --table {args.table} --seeds {args.seeds} "
                       f"--epochs {args.epochs} --jobs {args.jobs}"}
    (out / "supernet.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out / 'supernet.csv.gz'} ({len(frame)} networks, supernet seeds {seeds}); "
          f"training seconds {meta['train_seconds']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
