"""Queries until a run first evaluates one of the top-k validation classes of the table.

"Queries to the optimum" (k = 1) mixes two things: reaching the region of the best cells, and then
picking the one optimum among cells whose validation accuracies differ by less than a training
seed's noise. This report separates them: for k in 1, 3, 5, 10, the median (as in the bench table:
a run that never gets there counts as infinitely many) over the runs of a bench folder, plus the
table's near-tie statistics (the top classes' validation means and the seed-to-seed standard
deviation among the top 200 classes).

    python -m benchmarks.topk benchmarks/results/nb201/boed_merged [--k 1,3,5,10]
"""

from __future__ import annotations

import argparse
import functools
import sys

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import median_iqr
from boed_nas.experiment.report import read_trajectories
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.nb201.space import N_CELLS, Cell, canonical_cells


@functools.lru_cache(maxsize=1)
def _class_codes() -> tuple[np.ndarray, np.ndarray]:
    """(representative code of every cell, the representatives' codes) from ``boed_nas.nb201.space``."""
    return (np.array([Cell.from_code(c).canonical().code for c in range(N_CELLS)]),
            np.array([c.code for c in canonical_cells()]))


def class_ranks(bench: NB201Benchmark) -> np.ndarray:
    """Rank (0 = best) of every cell's isomorphism class by the table's mean validation accuracy."""
    canon, reps = _class_codes()
    order = reps[np.argsort(-bench.val_mean[reps], kind="stable")]
    rank_of_rep = np.empty(N_CELLS, dtype=np.int64)
    rank_of_rep[order] = np.arange(len(order))
    return rank_of_rep[canon]


def near_ties(bench: NB201Benchmark, top: int = 200) -> dict[str, float]:
    """The top classes' spread against the training-seed noise (standard deviation over seeds)."""
    reps = _class_codes()[1]
    m = bench.val_mean[reps]
    order = np.argsort(-m)
    seeds = bench._val_seeds[reps][order[:top]]
    sd = float(np.nanmedian(np.nanstd(seeds, axis=1, ddof=1)))
    return {"optimum_val": float(m[order[0]]), "gap_1_2": float(m[order[0]] - m[order[1]]), "seed_sd": sd,
            "classes_within_one_sd": int((m > m[order[0]] - sd).sum())}


def topk_table(traj: pd.DataFrame, ks: tuple[int, ...] = (1, 3, 5, 10)) -> pd.DataFrame:
    rows = []
    for dataset, g in traj.groupby("dataset", sort=False):
        bench = NB201Benchmark(dataset)
        rank = class_ranks(bench)
        ties = near_ties(bench)
        for name, h in g.groupby("strategy", sort=False):
            row: dict = {"dataset": dataset, "strategy": name, "seeds": h["seed"].nunique()}
            per_run = [rank[[Cell.parse(c).code for c in r.sort_values("query")["cell"]]] for _, r in h.groupby("seed")]
            for k in ks:
                first = np.array([float(np.argmax(rk < k) + 1) if (rk < k).any() else np.inf for rk in per_run])
                row[f"top-{k}"] = median_iqr(first)[0]
            rows.append({**row, **ties})
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame, ks: tuple[int, ...]) -> str:
    def q(v: float) -> str:
        return "not found" if np.isinf(v) else f"{v:g}"

    head = ["dataset", "strategy", "seeds", *[f"top-{k}" for k in ks], "classes within one seed sd of the optimum",
            "gap 1st-2nd", "seed sd"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in df.to_dict("records"):
        lines.append("| " + " | ".join([d["dataset"], d["strategy"], str(d["seeds"]), *[q(d[f"top-{k}"]) for k in ks],
                                         str(d["classes_within_one_sd"]), f"{d['gap_1_2']:.2f}",
                                         f"{d['seed_sd']:.2f}"]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", help="a bench output folder or trajectories file")
    p.add_argument("--k", default="1,3,5,10", help="comma-separated k values. Default: 1,3,5,10")
    args = p.parse_args(argv)
    ks = tuple(int(k) for k in args.k.split(","))
    if not ks or min(ks) < 1:
        p.error(f"--k must be positive integers, got {args.k!r}")
    print(markdown(topk_table(read_trajectories(args.source), ks), ks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
