"""How good each signal at initialisation is on its own: Spearman with NB201's validation accuracy.

    python -m benchmarks.scripts.signal_spearman                              # the shipped signals.csv.gz
    python -m benchmarks.scripts.signal_spearman /tmp/signals_150.csv.gz      # a --limit sample

For every class in the signal table (``build_nb201_signals.py``), the Spearman rank correlation of
each signal with the mean over training seeds of the class representative's validation accuracy
(the NB201 protocol's ``val_acc``), per dataset, with a bootstrap 95% interval; then the same among
the better half of the classes (validation accuracy at least the median), where a search spends
its time; then, per dataset, the top classes by validation accuracy with their test regret and
their rank by the combined signal (is the optimum among the cells the prior favours?). Two combined signals: the mean of the normal scores of all signals, and of synflow and
naswot. This analysis reads the table's accuracies; the signals themselves never do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from boed_nas.bo.belief import signal_scores
from boed_nas.nb201.benchmark import DATASETS, load_table
from boed_nas.nb201.signals import SIGNALS, load_signals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("signals", type=Path, nargs="?", help="a signal table (default: the shipped one)")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=5, help="list the top classes by validation accuracy")
    args = ap.parse_args(argv)
    sig = load_signals() if args.signals is None else pd.read_csv(args.signals).set_index("code")
    names = [s for s in SIGNALS if s in sig.columns]
    sig = sig.assign(**{"combined (all)": signal_scores(sig[names].to_numpy()).mean(1),
                        "synflow+naswot": signal_scores(sig[["synflow", "naswot"]].to_numpy()).mean(1)})
    cols = [*names, "combined (all)", "synflow+naswot"]
    table = load_table()
    rng = np.random.default_rng(args.seed)
    whole, interval, better = {}, {}, {}
    for name, info in DATASETS.items():
        seeds = [c for c in table.columns if c.startswith(f"{info.prefix}_val_s")]
        val = table.loc[sig.index, seeds].mean(axis=1, skipna=True).to_numpy()
        draws = [rng.integers(len(val), size=len(val)) for _ in range(args.bootstrap)]
        good = val >= np.median(val)
        whole[name] = {c: spearmanr(sig[c], val).statistic for c in cols}
        interval[name] = {c: "[{:.2f}, {:.2f}]".format(*np.percentile(
            [spearmanr(sig[c].to_numpy()[d], val[d]).statistic for d in draws], [2.5, 97.5])) for c in cols}
        better[name] = {c: spearmanr(sig[c].to_numpy()[good], val[good]).statistic for c in cols}
    print(f"{len(sig)} classes; Spearman with the mean validation accuracy over training seeds")
    print(pd.DataFrame(whole).round(3).to_string())
    print(f"\nbootstrap 95% intervals ({args.bootstrap} resamples, seed {args.seed})")
    print(pd.DataFrame(interval).to_string())
    print(f"\namong the better half of the classes (validation accuracy >= median, {int(good.sum())} classes)")
    print(pd.DataFrame(better).round(3).to_string())
    comb = sig["combined (all)"]
    print(f"\nthe top {args.top} classes by validation accuracy, per dataset: their test regret (points below the "
          "best mean test accuracy) and their rank among the 6,466 by the combined signal (1 = highest)")
    for name, info in DATASETS.items():
        seeds = [c for c in table.columns if c.startswith(f"{info.prefix}_val_s")]
        val = table.loc[sig.index, seeds].mean(axis=1, skipna=True)
        test = table.loc[sig.index, f"{info.prefix}_test"]
        top = val.sort_values(ascending=False, kind="stable").index[:args.top]
        rows = pd.DataFrame({"dataset": name, "code": top, "val_acc": val[top].round(3).to_numpy(),
                             "test_regret": (table[f"{info.prefix}_test"].max() - test[top]).round(4).to_numpy(),
                             "signal_rank": [int((comb > comb[c]).sum()) + 1 for c in top]})
        print(rows.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
