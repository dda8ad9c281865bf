"""Information per unit cost on the simulated clock: NB201's 12- and 200-epoch levels, M = 1, 4, 16.

Every run is a ``boed-nas bench`` command on the simulated clock (each 200-epoch evaluation takes its
cell's NB201 training time; a 12-epoch one is charged 12/200 of it: the table records no 12-epoch
time, so the same time per epoch is assumed), stopped when it first evaluates, at 200 epochs, the
200-epoch validation optimum. One folder per arm and dataset::

    B="boed-nas bench --seeds 3 --workers 1,4,16 --clock simulated --stop-at-optimum --quiet"
    F="--fidelity epochs=12,200"
    P="--budget 1000 --stop-when finished>=259200"     # the peers: 1,000 evaluations or 72 h
    R=runs/fidelity    # the runs are not committed; the report below is
    for ds in cifar100 cifar10; do
        $B --strategies boed --budget 600 $F --dataset $ds --out $R/mf/$ds      # multi-fidelity boed
    done
    for ds in cifar100 cifar10 ImageNet16-120; do
        $B --strategies boed --budget 300 --dataset $ds --out $R/sf/$ds         # single-fidelity boed
        $B --strategies asha,hyperband $P $F --dataset $ds --out $R/peers/$ds
        PYTHONPATH=$PEERS:. python -m benchmarks.optuna_fidelity bench \
            --strategies optuna-sha,optuna-hyperband $P $F --dataset $ds --seeds 3 --workers 1,4,16 \
            --clock simulated --stop-at-optimum --quiet --out $R/optuna/$ds
        PYTHONPATH=$PEERS:. python -m benchmarks.synetune_fidelity bench \
            --strategies st-asha,st-hyperband,st-bohb $P $F --dataset $ds --seeds 3 --workers 1,4,16 \
            --clock simulated --stop-at-optimum --quiet --out $R/synetune/$ds
    done
    G="boed-nas bench --seeds 2 --clock simulated --stop-at-optimum --quiet --strategies boed --budget 600 $F"
    $G --dataset ImageNet16-120 --workers 1 --out $R/mf_in16_m1      # 2 seeds: the time it takes
    $G --dataset ImageNet16-120 --workers 4,16 --out $R/mf_in16_m416
    $B --strategies "boed[signals=None]" --budget 300 --dataset cifar100 --out $R/sf_nosig/cifar100
    $B --strategies "boed[signals=None]" --budget 600 $F --dataset cifar100 --out $R/mf_nosig/cifar100

then ``python -m benchmarks.fidelity_study report`` with every folder (the exact line is at the end
of ``benchmarks/results/fidelity/table.md``; a folder of boed runs is labelled ``FOLDER=LABEL``)
writes ``table.md`` (per dataset, arm and M: simulated hours to the optimum, median [IQR] over seeds,
a run that never found it counting as infinitely long; runs that found it; evaluations at each level,
median; the speed-up over single-fidelity boed at the same M and at M = 1, medians' ratios),
``summary.csv``, ``trajectories.csv.gz`` (with ``--per-run``, ``runs.csv.gz``: one row per run) and
``regret_over_time.png`` (the recommendation's test
regret against simulated hours). Medians are ``boed_nas.experiment.bench.median_iqr``'s (linear
interpolation, numpy's default), as everywhere in this project.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.scaleout_study import HOUR, _fmt, write_tables
from boed_nas.experiment.bench import median_iqr, time_to_optimum
from boed_nas.experiment.plots import plot_regret_over_time
from boed_nas.experiment.report import parse_renames

SINGLE = "boed, 200 epochs"
"""The label of the single-fidelity boed arm the others are compared with."""


def per_run(traj: pd.DataFrame) -> pd.DataFrame:
    """One row per run (dataset, arm, M, seed): simulated hours to the optimum (inf: never found),
    evaluations at 12 and at 200 epochs (a run without a fidelity: all at 200) and in all, the
    simulated hours it ran: what ``table`` and ``paired`` read, without the trajectories."""
    rows = []
    for (ds, name, m, seed), r in traj.groupby(["dataset", "strategy", "workers", "seed"], sort=False):
        r = r.sort_values("query")
        level = "fidelity" if "fidelity" in r.columns and r["fidelity"].notna().any() else None
        rows.append({"dataset": ds, "strategy": name, "workers": int(m), "seed": int(seed),
                     "hours_to_optimum": time_to_optimum(r) / HOUR,
                     "evaluations_12": int((r[level] == 12).sum()) if level else 0,
                     "evaluations_200": int((r[level] == 200).sum()) if level else len(r),
                     "evaluations": len(r), "hours_run": float(r["finished"].max()) / HOUR})
    return pd.DataFrame(rows)


def table(traj: pd.DataFrame, single: str = SINGLE) -> pd.DataFrame:
    """Per dataset, arm and M, from the trajectories (see ``table_of_runs``)."""
    return table_of_runs(per_run(traj), single)


def table_of_runs(runs: pd.DataFrame, single: str = SINGLE) -> pd.DataFrame:
    """Per dataset, arm and M, from ``per_run``'s rows: hours to the optimum (median, IQR, found),
    evaluations at each level (median) and the speed-ups over ``single``."""
    rows = []
    for (ds, name, m), g in runs.groupby(["dataset", "strategy", "workers"], sort=False):
        t = g["hours_to_optimum"].to_numpy()
        n12, n200 = g["evaluations_12"].tolist(), g["evaluations_200"].tolist()
        med, lo, hi = median_iqr(t)
        rows.append({"dataset": ds, "strategy": name, "workers": int(m), "seeds": len(g), "hours_median": med,
                     "hours_q25": lo, "hours_q75": hi, "found": int(np.isfinite(t).sum()),
                     "evaluations_12_median": median_iqr(n12)[0], "evaluations_200_median": median_iqr(n200)[0]})
    out = pd.DataFrame(rows)

    def ratio(r: pd.Series, workers: int | None) -> float:
        base = out[(out.dataset == r.dataset) & (out.strategy == single) & (out.workers == (workers or r.workers))]
        if base.empty or not math.isfinite(r.hours_median) or r.hours_median <= 0:
            return math.nan
        return float(base.iloc[0].hours_median / r.hours_median)

    out["speedup_vs_single_same_M"] = [ratio(r, None) for _, r in out.iterrows()]
    out["speedup_vs_single_M1"] = [ratio(r, 1) for _, r in out.iterrows()]
    return out


def markdown(t: pd.DataFrame, single: str = SINGLE) -> str:
    against = "single-fidelity boed" if single == SINGLE else single
    head = ["dataset", "arm", "workers M", "simulated hours to the optimum, median [IQR]", "found",
            "evaluations at 12 epochs (median)", "at 200 epochs (median)",
            f"speed-up vs {against}, same M", f"vs {against}, M = 1"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in t.iterrows():
        lines.append("| " + " | ".join([
            r.dataset, r.strategy, str(r.workers), f"{_fmt(r.hours_median)} [{_fmt(r.hours_q25)}, {_fmt(r.hours_q75)}]",
            f"{r.found}/{r.seeds}", _fmt(r.evaluations_12_median, None), _fmt(r.evaluations_200_median, None),
            *(_fmt(v, 2) if ((t.dataset == r.dataset) & (t.strategy == single) & (t.workers == (m or r.workers))).any()
              else "" for v, m in ((r.speedup_vs_single_same_M, None), (r.speedup_vs_single_M1, 1)))]) + " |")
    return "\n".join(lines)


def paired(traj: pd.DataFrame, single: str = SINGLE) -> str:
    """Each arm against ``single``, seed by seed, from the trajectories (see ``paired_of_runs``)."""
    return paired_of_runs(per_run(traj), single)


def paired_of_runs(runs: pd.DataFrame, single: str = SINGLE) -> str:
    """Each arm against ``single``, seed by seed at the same dataset and M, from ``per_run``'s rows:
    the runs where the arm reached the optimum sooner, later, at the same time (both never count as
    the same), and the two-sided sign test's p (``benchmarks.common.sign_test``); for an arm run on
    several datasets, one more row pools their pairs ("all N")."""
    from .common import sign_test

    hours = {(r.dataset, r.strategy, r.workers, r.seed): r.hours_to_optimum for r in runs.itertuples()}
    lines = [f"| dataset | arm | M | sooner than {single} | later | same | sign test p |", "|---|---|---|---|---|---|---|"]
    pooled: dict[tuple, tuple[list, list, set]] = {}
    for (ds, name, m), _ in runs.groupby(["dataset", "strategy", "workers"], sort=False):
        if name == single:
            continue
        seeds = sorted(s for (d, n, w, s) in hours if (d, n, w) == (ds, name, m) and (ds, single, m, s) in hours)
        if not seeds:
            continue
        x = [hours[(ds, name, m, s)] for s in seeds]
        y = [hours[(ds, single, m, s)] for s in seeds]
        # sign_test compares with a tolerance; two runs that never found it are the same
        x, y = list(np.nan_to_num(x, posinf=1e18)), list(np.nan_to_num(y, posinf=1e18))
        w, lo, tie, pv = sign_test(x, y)
        lines.append(f"| {ds} | {name} | {m} | {w} | {lo} | {tie} | {pv:.3g} |")
        px, py, pds = pooled.setdefault((name, m), ([], [], set()))
        px += x
        py += y
        pds.add(ds)
    for (name, m), (x, y, pds) in pooled.items():  # one test over every dataset's pairs
        if len(pds) > 1:
            w, lo, tie, pv = sign_test(x, y)
            lines.append(f"| all {len(pds)} | {name} | {m} | {w} | {lo} | {tie} | {pv:.3g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="one table and plot from the bench folders")
    r.add_argument("sources", nargs="+", help="bench folders, each FOLDER=LABEL")
    r.add_argument("--single", default=SINGLE, help=f"the label of single-fidelity boed. Default: {SINGLE!r}")
    r.add_argument("--paired", action="store_true", help="add each arm against --single, seed by seed (a sign test)")
    r.add_argument("--rename", action="append", metavar="OLD=NEW",
                   help="a strategy name written when a default was different, spelled out (repeatable)")
    r.add_argument("--arm", action="append", metavar="NAME",
                   help="keep only this strategy (after renames; repeatable). Default: every one the sources have")
    r.add_argument("--per-run", action="store_true",
                   help="write one row per run (runs.csv.gz) instead of every trajectory (trajectories.csv.gz)")
    r.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    try:
        traj, runs, text = write_tables(args.sources, out, lambda r: table_of_runs(r, args.single),
                                        lambda t: markdown(t, args.single), renames=parse_renames(args.rename),
                                        arms=args.arm, per_run=per_run, write_runs=args.per_run)
    except ValueError as e:  # a rename or an --arm no source has: one usage line, not a traceback
        ap.error(str(e))
    if args.paired:
        text += "\n\nSeed by seed, simulated hours to the optimum:\n\n" + paired_of_runs(runs, args.single)
    (out / "table.md").write_text(
        text + "\n\nA 12-epoch evaluation is charged 12/200 of the cell's 200-epoch NB201 training time (the table "
        "records none; same time per epoch assumed). Hours: simulated, to the first 200-epoch evaluation of the "
        "200-epoch validation optimum; a run that never found it counts as infinitely long (\"not found\").\n\n"
        "Command: `python -m benchmarks.fidelity_study report "
        + " ".join(f'"{s}"' for s in args.sources)
        + (f" --single '{args.single}'" if args.single != SINGLE else "") + (" --paired" if args.paired else "")
        + "".join(f" --rename '{r}'" for r in args.rename or [])
        + "".join(f" --arm '{a}'" for a in args.arm or []) + (" --per-run" if args.per_run else "")
        + f" --out {args.out}`\n")
    plot_regret_over_time(traj, out / "regret_over_time.png", column="recommended_test_regret")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
