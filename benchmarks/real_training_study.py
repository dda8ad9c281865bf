"""Real trainings end to end: boed, regularised evolution and random search on the blueprint macro
space (884,736 networks, FLOPs known), each evaluation a real training on the digits, through the
Dask engine (a LocalCluster of 2 worker processes, asynchronous).

    python -m benchmarks.real_training_study --seeds 3 --budget 30 --out benchmarks/results/real_training

Per (strategy, seed): a run folder under ``--out/runs`` (resumable: finished runs are kept), then
the recommended network (boed: by posterior mean; the others: the best observed) retrained with 5
seeds and tested on the held-out 20% of the digits. Writes ``table.md`` (median [IQR] over seeds of
the best validation accuracy seen at 10 / 20 / 30 trainings and of the recommended network's mean
test accuracy) and ``runs.csv``. The search never sees test accuracy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas import make_strategy
from boed_nas.experiment.bench import median_iqr
from boed_nas.experiment.loop import run_objective
from boed_nas.experiment.runfolder import RunFolder

from .real_training import SPACE, evaluate, retrain_and_test

STRATEGIES = ("boed", "evolution", "random")


def one_run(name: str, seed: int, budget: int, folder: Path) -> dict:
    rf = RunFolder(folder)
    if rf.holds_run():  # finished, or interrupted and resumed below
        strategy = rf.load_strategy()
    else:
        strategy = make_strategy(name, space=SPACE, seed=seed)
        rf.prepare()
        rf.write_meta({"kind": "objective", "space": SPACE.ref, "strategy": name, "seed": seed, "budget": budget})
    if not rf.finished():
        run_objective(strategy, evaluate, budget, workers=2, out=rf)
    traj = pd.read_csv(rf.trajectory)
    rec = strategy.recommend()
    result_file = folder / "recommended.json"
    if result_file.exists():
        tests = json.loads(result_file.read_text())["test_acc"]
    else:
        tests = retrain_and_test(rec)
        result_file.write_text(json.dumps({"config": str(rec), "test_acc": tests}) + "\n")
    row = {"strategy": name, "seed": seed, "recommended": str(rec), "test_acc_mean": float(np.mean(tests)),
           "flops_recommended": SPACE.costs(rec)["flops"], "train_seconds": float(traj["cost"].sum())}
    for k in (10, 20, 30):
        if k <= len(traj):
            row[f"best_val_at_{k}"] = float(traj["best_so_far"].iloc[k - 1])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--out", default="benchmarks/results/real_training")
    args = ap.parse_args()
    out = Path(args.out)
    rows = []
    for seed in range(args.seeds):
        for name in STRATEGIES:
            r = one_run(name, seed, args.budget, out / "runs" / f"{name}_seed{seed}")
            rows.append(r)
            print(f"{name} seed {seed}: best val at 10/20/30 "
                  f"{r.get('best_val_at_10', float('nan')):.2f}/{r.get('best_val_at_20', float('nan')):.2f}/"
                  f"{r.get('best_val_at_30', float('nan')):.2f}; recommended {r['recommended']} test "
                  f"{r['test_acc_mean']:.2f}", flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(out / "runs.csv", index=False)
    cols = [c for c in ("best_val_at_10", "best_val_at_20", "best_val_at_30", "test_acc_mean") if c in df]
    lines = ["| strategy | seeds | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for name, g in df.groupby("strategy", sort=False):
        cells = []
        for c in cols:
            m, lo, hi = median_iqr(g[c].to_numpy())
            cells.append(f"{m:.2f} [{lo:.2f}, {hi:.2f}]")
        lines.append(f"| {name} | {len(g)} | " + " | ".join(cells) + " |")
    text = ("\n".join(lines) + "\n\nmedian [IQR] over seeds; best val: the best validation accuracy (%) seen after "
            "10 / 20 / 30 trainings; test acc mean: the recommended network retrained with 5 seeds, mean test "
            f"accuracy (%) on the held-out 20%.\n\nCommand: `python -m benchmarks.real_training_study --seeds {args.seeds} "
            f"--budget {args.budget} --out {args.out}`\n")
    (out / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
