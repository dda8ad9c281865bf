"""Many workers on the simulated clock: time to the validation optimum with M = 1, 4, 16 workers.

The runs are ``boed-nas bench`` commands (the engine itself: the simulated clock, each evaluation
taking its cell's NB201 training time, one ask whenever a worker frees up), each run stopped when
it first evaluates the validation optimum or after 300 evaluations; one folder per dataset, so that
each command writes its trajectories when it ends::

    B="boed-nas bench --seeds 10 --budget 300 --workers 1,4,16 --clock simulated --stop-at-optimum --jobs 2"
    R=benchmarks/results/scaleout
    for ds in cifar100 cifar10 ImageNet16-120; do
        $B --strategies boed,random,evolution,local --dataset $ds --out $R/async/$ds
    done
    $B --strategies "boed[pending='ignore']" --dataset cifar100 --workers 4,16 --out $R/ignore
    $B --strategies boed --dataset cifar100 --workers 4,16 --synchronous --out $R/sync
    $B --strategies "boed[pending='fantasy']" --dataset cifar100 --workers 4,16 --out $R/fantasy

(each resumable with ``--resume``; the runs/ folders are not committed), then::

    python -m benchmarks.scaleout_study report $R/async/cifar10 $R/async/cifar100 $R/async/ImageNet16-120 \\
        $R/ignore "$R/sync=boed (synchronous batches)" $R/fantasy --out $R

writes ``trajectories.csv.gz`` (every run), ``table.md`` (per dataset, strategy and M: simulated time to
the optimum, median [IQR] over seeds and runs that found it; evaluations used; speed-up T(1)/T(M)),
and ``regret_over_time.png``. A run that never found the optimum counts as infinitely long; medians
are ``boed_nas.experiment.bench.quantile``'s (linear; a median leaning on such a run is "not found").
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import median_iqr, queries_to_optimum, time_to_optimum
from boed_nas.experiment.plots import plot_regret_over_time
from boed_nas.experiment.report import GZIP, read_trajectories

HOUR = 3600.0


def load(sources: list[str], renames: dict[str, str] | None = None) -> pd.DataFrame:
    """The trajectories of every ``folder`` or ``folder=label``. ``renames`` maps the strategy names
    as the sources wrote them to new ones (a name written when a default was different); a label
    then replaces every name of its folder."""
    parts, renamed = [], set()
    for source in sources:
        folder, _, label = source.partition("=")
        t = read_trajectories(folder)
        if renames:
            renamed |= set(renames) & set(t["strategy"])
            t = t.assign(strategy=t["strategy"].replace(renames))
        if label:
            t = t.assign(strategy=label)
        parts.append(t)
    missing = sorted(set(renames or {}) - renamed)
    if missing:
        raise ValueError(f"no source has the strategies {missing} to rename")
    traj = pd.concat(parts, ignore_index=True)
    dup = traj.drop_duplicates(["dataset", "strategy", "workers", "seed", "query"]).shape[0] != len(traj)
    if dup:
        raise ValueError("two sources hold the same (dataset, strategy, workers, seed) run; label one of them")
    return traj


def _fmt(v: float, digits: int | None = 1) -> str:
    """A figure, or "not found"; ``digits=None``: as many as it has (a median of counts may end in .5)."""
    if not math.isfinite(v):
        return "not found"
    return f"{v:g}" if digits is None else f"{v:.{digits}f}"


def table(traj: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (ds, name, m), g in traj.groupby(["dataset", "strategy", "workers"], sort=False):
        runs = {s: r.sort_values("query") for s, r in g.groupby("seed")}
        t = np.array([time_to_optimum(r) / HOUR for r in runs.values()])
        q = np.array([queries_to_optimum(r) for r in runs.values()])
        used = np.array([len(r) for r in runs.values()])
        med, lo, hi = median_iqr(t)
        rows.append({"dataset": ds, "strategy": name, "workers": int(m), "seeds": len(runs), "hours_median": med,
                     "hours_q25": lo, "hours_q75": hi, "found": int(np.isfinite(t).sum()),
                     "evaluations_to_optimum_median": median_iqr(q)[0], "evaluations_run_median": median_iqr(used)[0],
                     "ask_seconds_median": median_iqr(g["ask_seconds"].dropna().to_numpy())[0],
                     "_times": dict(zip(runs, t))})
    out = pd.DataFrame(rows)
    speed, paired = [], []
    for _, r in out.iterrows():
        base = out[(out.dataset == r.dataset) & (out.strategy == r.strategy) & (out.workers == 1)]
        if base.empty:  # a variant run at M > 1 only (pending handling, batches): with one worker it is
            # its strategy's plain run (nothing is pending), so its M = 1 row is that one's
            plain = re.split(r"[\[ (]", r.strategy, maxsplit=1)[0]
            base = out[(out.dataset == r.dataset) & (out.strategy == plain) & (out.workers == 1)]
        if base.empty:
            speed.append(math.nan)
            paired.append(math.nan)
            continue
        b = base.iloc[0]
        speed.append(b.hours_median / r.hours_median if math.isfinite(r.hours_median) and r.hours_median > 0 else math.nan)
        ratios = [b["_times"][s] / t for s, t in r["_times"].items()
                  if s in b["_times"] and math.isfinite(t) and math.isfinite(b["_times"][s]) and t > 0]
        paired.append(median_iqr(ratios)[0] if ratios else math.nan)
    out["speedup_of_medians"] = speed
    out["speedup_median_per_seed"] = paired
    return out.drop(columns="_times")


def markdown(t: pd.DataFrame) -> str:
    head = ["dataset", "strategy", "workers M", "simulated hours to the optimum, median [IQR]", "found",
            "evaluations to the optimum (median)", "evaluations run (median)", "speed-up T(1)/T(M) (of medians)",
            "speed-up (median over seeds)", "measured ask s (median; charged 0)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in t.iterrows():
        lines.append("| " + " | ".join([
            r.dataset, r.strategy, str(r.workers), f"{_fmt(r.hours_median)} [{_fmt(r.hours_q25)}, {_fmt(r.hours_q75)}]",
            f"{r.found}/{r.seeds}", _fmt(r.evaluations_to_optimum_median, None), _fmt(r.evaluations_run_median, None),
            _fmt(r.speedup_of_medians), _fmt(r.speedup_median_per_seed), f"{r.ask_seconds_median:.3f}"]) + " |")
    return "\n".join(lines)


def write_tables(sources: list[str], out: Path, table: Any, markdown: Any,
                 renames: dict[str, str] | None = None, arms: list[str] | None = None,
                 per_run: Any = None, write_runs: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The trajectories of ``sources`` (``load``, with ``renames``; only the strategies ``arms``
    where given, so a report that reads a committed folder copies only what it compares) into ``out``
    as ``trajectories.csv.gz``, and ``table`` of them as ``summary.csv``. With ``per_run`` (a function
    of the trajectories giving one row per run), ``table`` reads its rows instead, computed once, and
    with ``write_runs`` they are written as ``runs.csv.gz`` in place of the trajectories (for studies
    of many long runs). Returns the trajectories, the per-run rows (None without ``per_run``) and
    ``markdown`` of the table."""
    traj = load(sources, renames)
    if arms:
        missing = sorted(set(arms) - set(traj["strategy"]))
        if missing:
            raise ValueError(f"no source has the strategies {missing}; they have {sorted(set(traj['strategy']))}")
        traj = traj[traj["strategy"].isin(arms)].reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    runs = None if per_run is None else per_run(traj)
    if write_runs and runs is not None:
        runs.to_csv(out / "runs.csv.gz", index=False, compression=GZIP)
    else:
        traj.to_csv(out / "trajectories.csv.gz", index=False, compression=GZIP)
    t = table(traj if runs is None else runs)
    t.to_csv(out / "summary.csv", index=False)
    return traj, runs, markdown(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="one table and plot from the bench folders")
    r.add_argument("sources", nargs="+", help="bench folders, each optionally FOLDER=LABEL")
    r.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    traj, _, text = write_tables(args.sources, out, table, markdown)
    (out / "table.md").write_text(text + "\n\nCommand: `python -m benchmarks.scaleout_study report "
                                  + " ".join(f'"{s}"' if " " in s else s for s in args.sources)
                                  + f" --out {args.out}`\n")
    plot_regret_over_time(traj, out / "regret_over_time.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
