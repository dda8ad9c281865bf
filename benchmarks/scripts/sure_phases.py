"""How many evaluations a multi-fidelity search asked while its belief was already sure.

A run's trajectory row carries the belief's probability that the current recommendation is the best
(``prob_best``, recorded at each ask the model made). A search whose belief says ``prob_best >= 0.999``
while it has not yet evaluated the optimum is overconfident: its information-gain acquisition then
scores every candidate near zero, and a cheap level divides those near-zeros into the largest
scores, so the search keeps screening at the cheapest level and promotes nothing. This prints, per
dataset, arm and M: the runs with such a stretch, the evaluations asked while sure (median over
runs, and at the cheapest level), the worker-hours charged before the optimum was found and while
sure (with one worker, the simulated clock itself), and the runs that found the optimum. Usage::

    python -m benchmarks.scripts.sure_phases benchmarks/results/fidelity10_grid "runs/x=label" ...

Sources as for ``benchmarks.fidelity_study report`` (folders of trajectories, ``FOLDER=LABEL``);
``--arm NAME`` keeps only the named arms. ``--sure 0.9`` counts at another threshold: a run with a
stretch at 0.9 is one that ``--stop-when 'prob_best>=0.9'`` would have stopped before it had
evaluated the optimum, so on a recommendation that is not the optimum.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from benchmarks.scaleout_study import load
from boed_nas.experiment.bench import median_iqr

SURE = 0.999


def per_run(traj: pd.DataFrame, sure: float = SURE) -> pd.DataFrame:
    """One row per run: evaluations asked while ``prob_best >= sure`` before the optimum was first
    evaluated (all of them, and those at the cheapest level), and whether it was found."""
    rows = []
    for (ds, name, m, seed), r in traj.groupby(["dataset", "strategy", "workers", "seed"], sort=False):
        r = r.sort_values("query")
        found = r["found_optimum"].astype(bool).to_numpy()
        before = np.arange(len(r)) < (int(np.argmax(found)) if found.any() else len(r))  # asked before the find
        is_sure = (r["prob_best"].to_numpy(dtype=float) >= sure) & before
        cheapest = r["fidelity"].min() if "fidelity" in r and r["fidelity"].notna().any() else None
        at_cheapest = (r["fidelity"].to_numpy() == cheapest) if cheapest is not None else np.zeros(len(r), bool)
        cost = r["cost"].to_numpy(dtype=float) / 3600 if "cost" in r else np.full(len(r), np.nan)
        rows.append({"dataset": ds, "strategy": name, "workers": int(m), "seed": int(seed),
                     "sure": int(is_sure.sum()), "sure_cheapest": int((is_sure & at_cheapest).sum()),
                     "hours_before": float(cost[before].sum()), "hours_sure": float(cost[is_sure].sum()),
                     "evaluations": len(r), "found": bool(found.any())})
    return pd.DataFrame(rows)


def markdown(runs: pd.DataFrame, sure: float = SURE) -> str:
    lines = [f"| dataset | arm | M | runs with a stretch at prob_best >= {sure:g} | evaluations asked while sure, "
             "median [IQR] | of them at the cheapest level, median | worker-hours charged before the find, median "
             "| of them while sure, median | before the find less while sure, median | evaluations, median | found |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]

    def med(x: pd.Series) -> float:
        return median_iqr(x.to_numpy(float))[0]

    for (ds, name, m), g in runs.groupby(["dataset", "strategy", "workers"], sort=True):
        mid, lo, hi = median_iqr(g["sure"].to_numpy(float))
        lines.append(f"| {ds} | {name} | {m} | {int((g['sure'] > 0).sum())}/{len(g)} | {mid:g} [{lo:g}, {hi:g}] "
                     f"| {med(g['sure_cheapest']):g} | {med(g['hours_before']):.1f} | {med(g['hours_sure']):.1f} "
                     f"| {med(g['hours_before'] - g['hours_sure']):.1f} "
                     f"| {med(g['evaluations']):g} | {int(g['found'].sum())}/{len(g)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", nargs="+", help="folders of trajectories, each FOLDER or FOLDER=LABEL")
    ap.add_argument("--arm", action="append", metavar="NAME", help="keep only this arm (repeatable)")
    ap.add_argument("--sure", type=float, default=SURE, help=f"the prob_best that counts as sure. Default: {SURE}")
    args = ap.parse_args(argv)
    traj = load(args.sources)
    if args.arm:
        missing = sorted(set(args.arm) - set(traj["strategy"]))
        if missing:
            ap.error(f"--arm {missing}: no source has them; the sources have {sorted(set(traj['strategy']))}")
        traj = traj[traj["strategy"].isin(args.arm)]
    traj = traj[traj["fidelity"].notna()] if "fidelity" in traj else traj.iloc[0:0]
    if traj.empty:
        ap.error("no multi-fidelity trajectories in the sources (none has a fidelity column with values)")
    print(markdown(per_run(traj, args.sure), args.sure))
    print(f"\nCommand: `python -m benchmarks.scripts.sure_phases {' '.join(repr(s) if ' ' in s else s for s in args.sources)}"
          + "".join(f" --arm '{a}'" for a in args.arm or []) + (f" --sure {args.sure:g}" if args.sure != SURE else "") + "`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
