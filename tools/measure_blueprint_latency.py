"""Hardware in the loop: a latency lookup table of every candidate op of the blueprint space, on this machine.

Each distinct part a blueprint network can contain (the stem, every (input width, output width,
kernel) of each stage's first layer, every (width, kernel) of its residual blocks, the head per
last-stage width) is timed in isolation with ``torch.utils.benchmark.Timer`` (eval mode, no_grad,
batch ``--batch``, ``--threads`` threads): the table keeps the median and the interquartile range
over timed blocks. The search's ``lam * E[latency]`` term sums these medians under the mixing
probabilities (``BlueprintCosts.set_latency_table``).

``--check N`` also times N random whole networks and compares them with the table's additive
prediction (sum of the parts' medians), which leaves out the residual additions and Python
overhead between modules: the report gives that error and its spread.

    python -m tools.measure_blueprint_latency --out benchmarks/results/blueprint/latency_table.csv --check 20
    boed-nas blueprint --lam 0.3 --latency-table benchmarks/results/blueprint/latency_table.csv
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from boed_nas.blueprint import (
    BlueprintConfig,
    BlueprintCosts,
    BlueprintSpace,
    measure_latency_table,
    parse_kernels,
    parse_stages,
)
from boed_nas.blueprint.cost import measure_network_latency


def main(argv=None) -> int:
    d = BlueprintConfig()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stages", default=d.stages)
    ap.add_argument("--kernels", default=",".join(map(str, d.kernels)))
    ap.add_argument("--stem-channels", type=int, default=d.stem_channels)
    ap.add_argument("--in-channels", type=int, default=1)
    ap.add_argument("--num-classes", type=int, default=10)
    ap.add_argument("--input-size", type=int, default=8)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-run-time", type=float, default=0.05, help="seconds of timing per part (Timer.blocked_autorange)")
    ap.add_argument("--check", type=int, default=20, help="random whole networks timed against the additive prediction")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/blueprint/latency_table.csv")
    args = ap.parse_args(argv)

    space = BlueprintSpace(parse_stages(args.stages), parse_kernels(args.kernels), args.stem_channels,
                           args.in_channels, args.num_classes, args.input_size)
    print(space.describe())
    t0 = time.perf_counter()
    table = measure_latency_table(space, batch=args.batch, min_run_time=args.min_run_time, threads=args.threads,
                                  progress=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    rel = table.iqr_ms / table.median_ms
    report = {"parts": len(table), "seconds": time.perf_counter() - t0, "batch": args.batch, "threads": args.threads,
              "load_average_1m_5m_15m": list(os.getloadavg()), "torch": torch.__version__,
              "part_median_ms": {"min": float(table.median_ms.min()), "median": float(table.median_ms.median()),
                                 "max": float(table.median_ms.max())},
              "part_iqr_over_median": {"median": float(rel.median()), "max": float(rel.max())}}
    print(f"wrote {out}: {len(table)} parts, medians {table.median_ms.min():.4f}..{table.median_ms.max():.4f} ms, "
          f"IQR/median median {rel.median():.3f} (max {rel.max():.3f})")
    if args.check > 0:
        costs = BlueprintCosts(space, latency_table=table)
        rng = np.random.default_rng(args.seed)
        rows = []
        for _ in range(args.check):
            bp = space.sample(rng)
            m = measure_network_latency(bp, space, batch=args.batch, min_run_time=max(args.min_run_time, 0.1),
                                        threads=args.threads)
            rows.append({"blueprint": str(bp), "predicted_ms": costs.of(bp, "latency"), "measured_ms": m["latency_ms"],
                         "measured_iqr_ms": m["latency_iqr_ms"], "flops_M": costs.of(bp, "flops_M")})
        chk = pd.DataFrame(rows)
        chk["error_ms"] = chk.predicted_ms - chk.measured_ms
        chk.to_csv(out.with_name(out.stem + "_check.csv"), index=False)
        err = chk.error_ms / chk.measured_ms
        report["check"] = {"networks": len(chk), "mean_rel_error": float(err.mean()),
                           "mean_abs_rel_error": float(err.abs().mean()),
                           "pearson_r_predicted_measured": float(np.corrcoef(chk.predicted_ms, chk.measured_ms)[0, 1]),
                           "pearson_r_flops_measured": float(np.corrcoef(chk.flops_M, chk.measured_ms)[0, 1])}
        print(f"additive prediction vs {len(chk)} timed networks: mean relative error {err.mean():+.3f} "
              f"(|.| {err.abs().mean():.3f}), r(predicted, measured) {report['check']['pearson_r_predicted_measured']:.3f}, "
              f"r(FLOPs, measured) {report['check']['pearson_r_flops_measured']:.3f}")
    out.with_name(out.stem + "_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
