"""How closely NB201's 12-epoch validation accuracy follows the 200-epoch one, where it matters.

Reads the shipped tables (``NB201Benchmark``: the 200-epoch validation mean over training seeds and
the 12-epoch value, one per cell), over the 6,466 isomorphism classes, and prints per dataset:
the Spearman correlation over all classes and among the top 1% and top 100 by 200-epoch value; the
rank, by 12-epoch value, of the 200-epoch validation optimum; and how many of the top 1% by 12-epoch
value are in the top 1% by 200 epochs. A screening level helps a search find the optimum only as far
as it ranks the best networks as the target does. Usage::

    python -m benchmarks.scripts.fidelity_tie > benchmarks/results/fidelity/tie.md
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from benchmarks.fidelity_bound import levels
from boed_nas.nb201.benchmark import DATASETS


def main() -> None:
    print("| dataset | Spearman, all classes | top 1% (by 200 ep) | top 100 | 12-epoch rank of the 200-epoch optimum "
          "| top-1% overlap (12 vs 200 ep) |")
    print("|---|---|---|---|---|---|")
    for name in DATASETS:
        v12, v200, _ = levels(name)  # per isomorphism class, as the promotion oracle reads them
        order = np.argsort(-v200)
        top1, top100 = order[: len(order) // 100], order[:100]
        rank12 = int((v12 > v12[order[0]]).sum()) + 1
        k = len(order) // 100
        overlap = len(set(np.argsort(-v12)[:k]) & set(top1))
        print(f"| {name} | {spearmanr(v12, v200).statistic:.3f} | {spearmanr(v12[top1], v200[top1]).statistic:.3f} "
              f"| {spearmanr(v12[top100], v200[top100]).statistic:.3f} | {rank12} of {len(order)} | {overlap} of {k} |")
    print("\nCommand: `python -m benchmarks.scripts.fidelity_tie` (the shipped 12- and 200-epoch tables; "
          "200-epoch: validation mean over training seeds).")


if __name__ == "__main__":
    main()
