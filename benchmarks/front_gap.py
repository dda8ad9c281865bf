"""Where along the cost axis a found front falls short of the true one (two-objective MO runs).

For each run of a multi-objective results folder (``mo_study.py``), it takes the cells evaluated
by query ``--at`` and splits the hypervolume still missing (as a share of the true front's, so
the two parts add up to 1 - the hypervolume ratio) at the ``--quantile`` of the true front's
costs: the cheap end below it, the expensive, accurate end above it. It also counts the queries
that went to cells costing at least that much. Per (dataset, objectives, strategy) it prints the
medians over the seeds::

    python -m benchmarks.front_gap benchmarks/results/mo --strategies boed-mo,qnehvi --seeds 0-4

With accuracy maximised and one cost minimised, the dominated region is the area under the
front's step function A(c) (the best accuracy among front cells costing at most c), from the
cheapest cell to the reference cost; the missing part is the integral of A_true - A_found, which
is exact here on the merged breakpoints (pymoo's indicator gives the total, not where it lies).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np


def front_level(report, codes: Sequence[int], at: np.ndarray) -> np.ndarray:
    """The step function A(c) of the cells ``codes`` (the same as of their front): for each cost c
    in ``at``, the best accuracy among them costing at most c, or the reference accuracy where none
    does. boed-mo's ``front_levels`` (a running maximum over cells sorted by cost) computes it."""
    import torch

    from boed_nas.mo.controller import front_levels

    (acc_j,), (cost_j,) = _axes(report)
    codes = np.asarray(list(codes), dtype=np.int64)
    ref = report.reference_point[acc_j]
    if len(codes) == 0:
        return np.full(len(at), ref)
    T = report.table
    level = front_levels(torch.as_tensor(T[codes, acc_j])[None, :], T[codes][:, [cost_j]],
                         np.asarray(at, dtype=np.float64)[:, None])[0].numpy()
    return np.maximum(level, ref)  # -inf where no cell is that cheap


def _axes(report) -> tuple[list[int], list[int]]:
    acc = [j for j, o in enumerate(report.objectives) if o.maximize]
    cost = [j for j, o in enumerate(report.objectives) if not o.maximize]
    if len(acc) != 1 or len(cost) != 1:
        raise ValueError(f"front_gap needs one maximised and one minimised objective, got "
                         f"{[o.name for o in report.objectives]}")
    return acc, cost


def missing_by_cost(report, codes: Sequence[int], split: float) -> tuple[float, float]:
    """(below, above): the true hypervolume not covered by the front of ``codes``, as shares of
    the true hypervolume, on costs below ``split`` and at or above it."""
    (acc_j,), (cost_j,) = _axes(report)
    found = report.front(codes)  # feasible cells only, as the hypervolume counts them
    ref_c = report.reference_point[cost_j]
    T = report.table
    # A_true and A_found only change at front costs: integrate exactly between breakpoints
    cuts = np.unique(np.concatenate([T[report.true_front, cost_j], T[found, cost_j],
                                     [min(max(split, T[:, cost_j].min()), ref_c), ref_c]]))
    cuts = cuts[cuts <= ref_c]
    left, width = cuts[:-1], np.diff(cuts)
    area = (front_level(report, report.true_front, left) - front_level(report, found, left)) * width
    total = report.true_hypervolume
    return float(area[left < split].sum() / total), float(area[left >= split].sum() / total)


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from benchmarks.common import runs_of
    from boed_nas.experiment.bench import markdown_frame, parse_seeds
    from boed_nas.experiment.report import read_trajectories
    from boed_nas.mo.pareto import mo_report
    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.nb201.space import Cell
    from boed_nas.registry import split_specs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a multi-objective results folder (mo_study.py report's trajectories.csv.gz)")
    ap.add_argument("--strategies", default=None, help="comma-separated labels (default: all in the folder)")
    ap.add_argument("--seeds", default="0-19")
    ap.add_argument("--at", type=int, default=100, help="the cells evaluated by this query")
    ap.add_argument("--quantile", type=float, default=0.75, help="split at this quantile of the true front's costs")
    args = ap.parse_args(argv)
    if not 0 < args.quantile < 1:
        print(f"error: --quantile must be in (0, 1), got {args.quantile}", file=sys.stderr)
        return 2
    try:  # labels such as "boed-mo[acquisition=pfes,n_init=5]" keep their commas
        traj = read_trajectories(args.folder) if args.strategies is None else runs_of(
            args.folder, split_specs(args.strategies))
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    traj = traj[traj["seed"].isin(parse_seeds(args.seeds)) & (traj["query"] <= args.at)]
    rows = []
    for (dataset, objectives), g in traj.groupby(["dataset", "objectives"], sort=False):
        report = mo_report(NB201Benchmark(dataset, seed=0), objectives.replace("+", ","))
        try:
            _, (cost_j,) = _axes(report)
        except ValueError as e:
            print(f"skipped {dataset} {objectives}: {e}")
            continue
        split = float(np.quantile(report.table[report.true_front, cost_j], args.quantile))
        for (strategy, seed), run in g.groupby(["strategy", "seed"], sort=False):
            codes = np.array([Cell.from_str(s).code for s in run["cell"]])
            below, above = missing_by_cost(report, codes, split)
            rows.append({"dataset": dataset, "objectives": objectives, "strategy": strategy, "seed": seed,
                         "split": split, "missing_below": below, "missing_above": above,
                         "queries_above": int((report.table[codes, cost_j] >= split).sum())})
    if not rows:
        print("error: no runs matched", file=sys.stderr)
        return 2
    df = pd.DataFrame(rows)
    summary = df.groupby(["dataset", "objectives", "strategy"], sort=False).agg(
        seeds=("seed", "nunique"), split=("split", "first"), missing_below=("missing_below", "median"),
        missing_above=("missing_above", "median"), queries_above=("queries_above", "median")).reset_index()
    summary["queries_above"] = summary["queries_above"].map(lambda v: f"{v:g}")
    print(f"Hypervolume missing at query {args.at} (share of the true front's; medians over seeds), split at the "
          f"{args.quantile:g} quantile of the true front's costs, and the queries at or above that cost:\n")
    print(markdown_frame(summary, floatfmt=4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
