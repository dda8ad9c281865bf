"""How tightly NB201's 12-epoch level ties to its 200-epoch target, and what that level alone can buy.

Issue 32 asks multi-fidelity boed to reach the 200-epoch validation optimum 3x sooner than
single-fidelity boed, and, where the 12-epoch level is too loosely tied to 200 epochs for that, for
the figures that say so. These are those figures; an analysis of the table, not a search (it reads
every cell's 12- and 200-epoch validation accuracy, which no search here does).

``python -m benchmarks.fidelity_bound report --out benchmarks/results/fidelity_bound
[--runs TRAJECTORIES]`` writes ``table.md`` with, per dataset:

* the 200-epoch optimum's rank at 12 epochs, over NB201's 6,466 isomorphism classes (each class
  by its canonical cell, as ``benchmarks/scripts/fidelity_tie.py``, whose table has the rank
  correlations);
* **the 12-epoch promotion oracle**: every class's 12-epoch value known for free, classes trained
  at 200 epochs in the order of their 12-epoch value (ties in the optimum's favour) on M workers
  (each takes the next class when it is free, each training its NB201 time), until the optimum's
  training ends. Any search that promotes by the 12-epoch value alone needs at least this
  long; against it, single-fidelity boed's median time to the optimum (the committed fidelity
  studies) and the goal's third of it;
* with ``--runs`` (a fidelity study's ``trajectories.csv.gz``), for each multi-fidelity run: when
  the optimum was first evaluated at 12 epochs, when it was sent to 200 epochs, and how many of
  the cells evaluated at 12 epochs before then had a higher 12-epoch value (medians over seeds).

Medians are ``boed_nas.experiment.bench.median_iqr``'s, as everywhere in this project.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import median_iqr
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import canonical_cells

HOUR = 3600.0
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
SINGLE = "boed, 200 epochs"
SUMMARIES = ("benchmarks/results/fidelity10_grid/summary.csv", "benchmarks/results/fidelity10/summary.csv",
             "benchmarks/results/fidelity/summary.csv")
"""Single-fidelity boed's committed medians: the ten-seed studies first, the three-seed one where they have none."""


def levels(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per isomorphism class (its canonical cell): 12-epoch val, 200-epoch val (mean over training
    seeds), 200-epoch training seconds."""
    b = NB201Benchmark(dataset)
    classes = canonical_cells()
    v12 = np.array([b.val_12(c) for c in classes])
    return v12, np.array([b.val_mean[c.code] for c in classes]), np.array([b.train_time[c.code] for c in classes])


def promotion_oracle_hours(v12: np.ndarray, v200: np.ndarray, seconds: np.ndarray, workers: int) -> float:
    """Simulated hours until the 200-epoch optimum's training ends when cells are trained at 200
    epochs in 12-epoch order (ties in its favour) on ``workers`` workers, each taking the next cell
    as soon as it is free. Written by hand: a list schedule of a few dozen jobs."""
    opt = int(np.nanargmax(v200))
    ahead = np.flatnonzero(v12 > v12[opt])
    order = list(ahead[np.argsort(-v12[ahead], kind="stable")]) + [opt]
    free = [0.0] * workers
    end = 0.0
    for cell in order:
        start = heapq.heappop(free)
        end = start + float(seconds[cell])
        heapq.heappush(free, end)
    return end / HOUR


def single_fidelity_hours(dataset: str, workers: int, root: Path) -> tuple[float, int] | None:
    """Single-fidelity boed's committed median hours to the optimum and its seeds, or None."""
    for rel in SUMMARIES:
        path = root / rel
        if not path.exists():
            continue
        s = pd.read_csv(path)
        row = s[(s.dataset == dataset) & (s.strategy == SINGLE) & (s.workers == workers)]
        if not row.empty:
            return float(row.iloc[0].hours_median), int(row.iloc[0].seeds)
    return None


def oracle_table(root: Path, workers: tuple[int, ...] = (1, 4, 16)) -> pd.DataFrame:
    rows = []
    for ds in DATASETS:
        v12, v200, seconds = levels(ds)
        ok = ~np.isnan(v12) & ~np.isnan(v200)
        v12, v200, seconds = v12[ok], v200[ok], seconds[ok]
        opt = int(np.argmax(v200))
        for m in workers:
            sf = single_fidelity_hours(ds, m, root)
            oracle = promotion_oracle_hours(v12, v200, seconds, m)
            rows.append({"dataset": ds, "classes": int(ok.sum()),
                         "optimum_rank_at_12": int((v12 > v12[opt]).sum()) + 1, "workers": m,
                         "oracle_hours": oracle, "single_fidelity_hours": sf[0] if sf else np.nan,
                         "single_fidelity_seeds": sf[1] if sf else 0,
                         "goal_hours": sf[0] / 3 if sf else np.nan})
    return pd.DataFrame(rows)


def promotion_delays(trajectories: Path, strategy: str | None = None) -> pd.DataFrame:
    """For each multi-fidelity run in ``trajectories``: hours to the optimum's first 12-epoch result
    and to its 200-epoch submission, and the cells screened by then with a higher 12-epoch value."""
    t = pd.read_csv(trajectories)
    t = t[t["fidelity"].notna()]
    if strategy is not None:
        t = t[t["strategy"] == strategy]
    rows = []
    for (ds, name, m, seed), r in t.groupby(["dataset", "strategy", "workers", "seed"], sort=False):
        r = r.sort_values("query")
        found = r[r["found_optimum"].astype(bool) & (r["fidelity"] == 200)]
        if found.empty:
            continue
        first = found.iloc[0]
        screened = r[(r["arch_index"] == first["arch_index"]) & (r["fidelity"] == 12)]
        row = {"dataset": ds, "strategy": name, "workers": int(m), "seed": int(seed),
               "sent_to_200_h": first["submitted"] / HOUR, "found_h": first["finished"] / HOUR,
               "screened_h": np.nan, "ahead_at_12": np.nan, "screened_before": np.nan}
        if not screened.empty:
            before = r[(r["fidelity"] == 12) & (r["finished"] <= first["submitted"])]
            row.update(screened_h=screened["finished"].min() / HOUR, screened_before=len(before),
                       ahead_at_12=int((before["val_acc"] > screened["val_acc"].iloc[0]).sum()))
        rows.append(row)
    return pd.DataFrame(rows)


def _h(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.1f}"


def markdown(oracle: pd.DataFrame, delays: pd.DataFrame | None) -> str:
    lines = ["| dataset | optimum's rank at 12 epochs (classes) | M | 12-epoch promotion oracle, h | "
             "single-fidelity boed, median h (seeds) | goal: a third of it, h |",
             "|---|---|---|---|---|---|"]
    for _, r in oracle.iterrows():
        lines.append(f"| {r.dataset} | {r.optimum_rank_at_12} of {r.classes} | {r.workers} | {_h(r.oracle_hours)} | "
                     f"{_h(r.single_fidelity_hours)} "
                     f"({r.single_fidelity_seeds}) | {_h(r.goal_hours)} |")
    if delays is not None and not delays.empty:
        lines += ["", "Multi-fidelity runs, medians over seeds (runs that found the optimum):", "",
                  "| dataset | arm | M | runs | optimum first evaluated at 12 epochs, h | sent to 200 epochs, h | "
                  "found, h | 12-epoch results by then | of them higher than the optimum's |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for (ds, name, m), g in delays.groupby(["dataset", "strategy", "workers"], sort=False):
            med = {c: median_iqr(g[c].dropna().to_numpy())[0] if g[c].notna().any() else np.nan
                   for c in ("screened_h", "sent_to_200_h", "found_h", "screened_before", "ahead_at_12")}
            lines.append(f"| {ds} | {name} | {m} | {len(g)} | {_h(med['screened_h'])} | {_h(med['sent_to_200_h'])} | "
                         f"{_h(med['found_h'])} | {med['screened_before']:g} | {med['ahead_at_12']:g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="the table of the 12-epoch level's tie to 200 epochs")
    r.add_argument("--runs", help="a fidelity study's trajectories.csv.gz: when its runs screened and promoted the optimum")
    r.add_argument("--strategy", help="only this arm of --runs")
    r.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    oracle = oracle_table(Path("."))
    oracle.to_csv(out / "oracle.csv", index=False)
    delays = None
    if args.runs:
        delays = promotion_delays(Path(args.runs), args.strategy)
        delays.to_csv(out / "promotion_delays.csv", index=False)
    text = markdown(oracle, delays)
    cmd = "python -m benchmarks.fidelity_bound report" + (f" --runs {args.runs}" if args.runs else "") + (
        f" --strategy '{args.strategy}'" if args.strategy else "") + f" --out {args.out}"
    (out / "table.md").write_text(
        text + "\n\nThe oracle knows every class's 12-epoch value for free and trains at 200 epochs in that order; "
        "it is what promotion by the 12-epoch value alone can buy, not a search. NB201's 200-epoch training "
        "times; the optimum is the 200-epoch validation optimum (mean over training seeds).\n\n"
        f"Command: `{cmd}`\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
