"""How often a search stopped by ``--stop-when`` stops right, and what it saves (issue 34, point 2).

    boed-nas bench --strategies boed --stop-when "prob_best>=0.9" --seeds 5 --budget 200 \\
        --dataset cifar10,cifar100,ImageNet16-120 --out benchmarks/results/stop_when --quiet
    python -m benchmarks.scripts.stop_rule_report benchmarks/results/stop_when

Reads the bench's ``trajectories.csv``: per run, the query at which it stopped (the rule met, or
the budget), whether the recommendation at the stop is the validation optimum's class (the
table's best by mean validation accuracy, what the search is after) and its test regret. Writes
``stop_rule.md`` beside it and compresses the trajectories to ``trajectories.csv.gz``.

With ``--thresholds 0.9,0.99`` it reads runs made *without* a stop rule, to the full budget, and
stops each at the first row whose ``prob_best`` reaches the threshold: the rule reads the latest
row (``boed_nas.experiment.loop``), so this is the run the rule would have stopped, and one set of
runs measures every threshold.
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
    ap.add_argument("--thresholds", default=None,
                    help="e.g. 0.9,0.99: stop full-budget runs at the first row with prob_best >= each")
    args = ap.parse_args(argv)
    folder = Path(args.folder)
    path = folder / "trajectories.csv"
    traj = pd.read_csv(path if path.exists() else folder / "trajectories.csv.gz")
    if args.thresholds is None:
        text = _report(traj, args.budget, None)
    else:
        text = "\n\n".join(f"### prob_best >= {t:g}\n\n" + _report(traj, args.budget, t)
                           for t in (float(x) for x in args.thresholds.split(",")))
    text += f"\n\nCommand: `python -m benchmarks.scripts.stop_rule_report {' '.join(argv or sys.argv[1:])}`\n"
    (folder / "stop_rule.md").write_text(text)
    if path.exists():
        traj.to_csv(folder / "trajectories.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    print(text)
    return 0


def _report(traj: pd.DataFrame, budget: int, threshold: float | None) -> str:
    rows = []
    for (ds, seed), g in traj.groupby(["dataset", "seed"], sort=False):
        g = g.sort_values("query")
        if threshold is not None:
            if int(g["query"].iloc[-1]) < budget:
                raise SystemExit(f"{ds} seed {seed} ends at query {int(g['query'].iloc[-1])}, before the budget "
                                 f"{budget}: --thresholds needs runs made without a stop rule")
            hit = g.index[(g["prob_best"] >= threshold).to_numpy()]
            g = g.loc[: hit[0]] if len(hit) else g
        last = g.iloc[-1]
        opt = NB201Benchmark(ds).optimum("val_acc")[0].canonical()
        rec = Cell.from_str(last["recommended_cell"]).canonical() if isinstance(last["recommended_cell"], str) else None
        rows.append({"dataset": ds, "seed": int(seed), "stopped_at": int(last["query"]),
                     "by_rule": int(last["query"]) < budget if threshold is None else bool(last["prob_best"] >= threshold), "prob_best": float(last["prob_best"]),
                     "recommends_the_optimum": rec == opt, "test_regret": float(last["recommended_test_regret"]),
                     "optimum_evaluated": bool(last["found_optimum"])})
    df = pd.DataFrame(rows)
    lines = ["| dataset | runs | stopped by the rule | stop query, median [IQR] | trainings saved of the budget (median) "
             "| recommendation = validation optimum | of the stopped runs | test regret at the stop, median [max] |",
             "|---|---|---|---|---|---|---|---|"]
    for ds, g in list(df.groupby("dataset", sort=False)) + [("all", df)]:
        m, lo, hi = median_iqr(g["stopped_at"].to_numpy(dtype=float))
        stopped = g[g.by_rule]
        lines.append(f"| {ds} | {len(g)} | {int(g.by_rule.sum())} | {m:g} [{lo:g}, {hi:g}] | "
                     f"{budget - m:g} | {int(g.recommends_the_optimum.sum())} of {len(g)} | "
                     f"{int(stopped.recommends_the_optimum.sum())} of {len(stopped)} | "
                     f"{np.median(g.test_regret):.2f} [{g.test_regret.max():.2f}] |")
    return "\n".join(lines) + "\n\nPer run:\n\n" + markdown_frame(df.round(3))


if __name__ == "__main__":
    sys.exit(main())
