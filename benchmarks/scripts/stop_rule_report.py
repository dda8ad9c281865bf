"""How often a search stopped by ``--stop-when`` stops right, and what it saves (issue 34, point 2).

    boed-nas bench --strategies boed --stop-when "prob_best>=0.9" --seeds 5 --budget 200 \\
        --dataset cifar10,cifar100,ImageNet16-120 --out benchmarks/results/stop_when --quiet
    python -m benchmarks.scripts.stop_rule_report benchmarks/results/stop_when

Reads the bench's ``trajectories.csv``: per run, the query at which it stopped (the rule met, or
the budget), whether the recommendation at the stop is the validation optimum's class (the
table's best by mean validation accuracy, what the search is after) and its test regret. Writes
``stop_rule.md`` beside it and compresses the trajectories to ``trajectories.csv.gz``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import markdown_frame, median_iqr
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import Cell


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--budget", type=int, default=200)
    args = ap.parse_args(argv)
    folder = Path(args.folder)
    path = folder / "trajectories.csv"
    traj = pd.read_csv(path if path.exists() else folder / "trajectories.csv.gz")
    rows = []
    for (ds, seed), g in traj.groupby(["dataset", "seed"], sort=False):
        last = g.iloc[-1]
        opt = NB201Benchmark(ds).optimum("val_acc")[0].canonical()
        rec = Cell.from_str(last["recommended_cell"]).canonical() if isinstance(last["recommended_cell"], str) else None
        rows.append({"dataset": ds, "seed": int(seed), "stopped_at": int(last["query"]),
                     "by_rule": int(last["query"]) < args.budget, "prob_best": float(last["prob_best"]),
                     "recommends_the_optimum": rec == opt, "test_regret": float(last["recommended_test_regret"]),
                     "optimum_evaluated": bool(last["found_optimum"])})
    df = pd.DataFrame(rows)
    lines = ["| dataset | runs | stopped by the rule | stop query, median [IQR] | trainings saved of the budget (median) "
             "| recommendation = validation optimum | test regret at the stop, median [max] |", "|---|---|---|---|---|---|---|"]
    for ds, g in list(df.groupby("dataset", sort=False)) + [("all", df)]:
        m, lo, hi = median_iqr(g["stopped_at"].to_numpy(dtype=float))
        lines.append(f"| {ds} | {len(g)} | {int(g.by_rule.sum())} | {m:g} [{lo:g}, {hi:g}] | "
                     f"{args.budget - m:g} | {int(g.recommends_the_optimum.sum())} of {len(g)} | "
                     f"{np.median(g.test_regret):.2f} [{g.test_regret.max():.2f}] |")
    text = ("\n".join(lines) + "\n\nPer run:\n\n" + markdown_frame(df.round(3)) + "\n\nCommand: "
            f"`python -m benchmarks.scripts.stop_rule_report {args.folder}`\n")
    (folder / "stop_rule.md").write_text(text)
    if path.exists():
        traj.to_csv(folder / "trajectories.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
