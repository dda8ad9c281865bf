"""The NB201 study through Optuna's own API (issue 34): ``BOEDSampler`` against Optuna's
``GPSampler`` and ``TPESampler``.

    python -m benchmarks.optuna_study run --datasets cifar10 --seeds 0-9 --out benchmarks/results/optuna/cifar10
    python -m benchmarks.optuna_study run --datasets cifar100 --seeds 0-9 --out benchmarks/results/optuna/cifar100
    python -m benchmarks.optuna_study report benchmarks/results/optuna

Every arm is a plain Optuna study (in memory) whose objective suggests NB201's six edges with
``trial.suggest_categorical(edge, ops)`` and answers from the table as the NB201 protocol says:
one training seed's validation accuracy (``NB201Benchmark(dataset, seed=seed).evaluate``, the
training seed drawn from the run's seed and the cell). A trial of a network already evaluated (the
same cell, or an isomorphic one: Optuna's samplers do not know NB201's isomorphism) is answered from
the table's cache at no cost and is not a query. Arms:

- ``boed``: ``BOEDSampler(space="nb201", seed=seed)``, boed's default settings (the shipped signals);
- ``gp``: ``optuna.samplers.GPSampler(seed=seed)``; ``tpe``: ``optuna.samplers.TPESampler(seed=seed)``.

Figures, per run: queries (distinct networks paid for) until the validation optimum (the class of
the best mean validation accuracy) is first evaluated, counting that query; a run that has not found
it within ``--trials`` trials is "not found". CPU per trial: ``time.process_time`` (this process,
all its threads) from the end of one trial to the end of the next, which is the sampler's work (the
table lookup is microseconds), averaged over trials 181-200; a run stops at ``--trials`` trials,
not at the optimum, so that every run has that window. Torch runs on one thread (as GPSampler sets
itself), the same for every arm. Medians: boed-nas's one convention (``boed_nas.experiment.bench.quantile``:
numpy's linear interpolation, a run that never found the optimum counting as infinitely many
queries, "nf" where a median or quartile interpolates towards one).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import median_iqr

ARMS = ("boed", "gp", "tpe")
WINDOW = (181, 200)  # the trials whose CPU is averaged: "CPU per trial at 200 trials"


def make_sampler(arm: str, seed: int):
    import optuna

    if arm == "boed":
        from boed_nas.integrations.optuna import BOEDSampler

        return BOEDSampler(space="nb201", seed=seed)
    if arm == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if arm == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise SystemExit(f"unknown arm {arm!r}; expected one of {ARMS}")


def run_one(arm: str, dataset: str, seed: int, trials: int) -> pd.DataFrame:
    """One study: a row per trial (query count, whether the optimum was evaluated, CPU)."""
    import optuna

    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.nb201.space import CELL_SPACE, OPS

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    bench = NB201Benchmark(dataset, seed=seed)
    target = bench.optimum("val_acc")[0].canonical().code
    names = [v.name for v in CELL_SPACE.variables]
    rows: list[dict] = []

    def objective(trial: optuna.Trial) -> float:
        cell = CELL_SPACE.from_parameters({n: trial.suggest_categorical(n, list(OPS)) for n in names})
        out = bench.evaluate(cell)
        rows.append({"trial": trial.number + 1, "cell": str(cell), "val_acc": out.metrics["val_acc"],
                     "test_acc": out.info["test_acc"], "paid": not out.info["cached"],
                     "optimum": cell.canonical().code == target})
        return out.metrics["val_acc"]

    clock = [time.process_time()]

    def timed(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        now = time.process_time()
        rows[-1]["cpu_s"] = now - clock[0]
        clock[0] = now

    study = optuna.create_study(direction="maximize", sampler=make_sampler(arm, seed))
    study.optimize(objective, n_trials=trials, callbacks=[timed])
    df = pd.DataFrame(rows)
    df["query"] = df["paid"].cumsum()
    df.insert(0, "seed", seed)
    df.insert(0, "dataset", dataset)
    df.insert(0, "arm", arm)
    return df


def summarise(traj: pd.DataFrame, trials: int) -> pd.DataFrame:
    out = []
    for (arm, dataset, seed), run in traj.groupby(["arm", "dataset", "seed"]):
        hit = run[run["optimum"]]
        window = run[(run["trial"] >= WINDOW[0]) & (run["trial"] <= WINDOW[1])]
        out.append({"arm": arm, "dataset": dataset, "seed": seed, "found": not hit.empty,
                    "queries_to_optimum": int(hit["query"].iloc[0]) if not hit.empty else np.nan,
                    "trials_to_optimum": int(hit["trial"].iloc[0]) if not hit.empty else np.nan,
                    "queries": int(run["query"].iloc[-1]), "trials": len(run),
                    "cpu_per_trial_at_200": window["cpu_s"].mean() if len(window) else np.nan,
                    "cpu_total": run["cpu_s"].sum()})
    return pd.DataFrame(out)


def _fmt(v: float) -> str:
    return "nf" if math.isinf(v) else f"{v:g}"


def table(summary: pd.DataFrame, trials: int) -> str:
    """Median [IQR] queries to the optimum (boed-nas's one convention: ``median_iqr``, a run that
    never found it counting as infinitely many) and CPU per trial, with boed's ratios to GPSampler's."""
    lines = ["| dataset | arm | found | queries to the optimum, median [IQR] | CPU-s per trial at trials 181-200, median | "
             "queries / gp's | CPU / gp's |", "|---|---|---|---|---|---|---|"]
    for dataset, d in summary.groupby("dataset"):
        stats = {}
        for arm, g in d.groupby("arm"):
            med, lo, hi = median_iqr(g["queries_to_optimum"].fillna(math.inf).to_numpy())
            stats[arm] = (med, lo, hi, float(np.nanmedian(g["cpu_per_trial_at_200"])), int(g["found"].sum()), len(g))
        for arm in [a for a in ARMS if a in stats]:
            med, lo, hi, cpu, found, n = stats[arm]
            gp = stats.get("gp")
            ratio_q = f"{med / gp[0]:.2f}" if gp and math.isfinite(med) and math.isfinite(gp[0]) else "-"
            ratio_c = f"{cpu / gp[3]:.2f}" if gp else "-"
            lines.append(f"| {dataset} | {arm} | {found}/{n} | {_fmt(med)} [{_fmt(lo)}, {_fmt(hi)}] | {cpu:.3f} | "
                         f"{ratio_q} | {ratio_c} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the studies, append to OUT/trajectories.csv.gz, write the table")
    r.add_argument("--arms", default=",".join(ARMS))
    r.add_argument("--datasets", default="cifar10,cifar100")
    r.add_argument("--seeds", default="0-9", help="a range A-B or a comma list")
    r.add_argument("--trials", type=int, default=200)
    r.add_argument("--out", required=True)
    p = sub.add_parser("report", help="the table of OUT's trajectories")
    p.add_argument("out")
    p.add_argument("--trials", type=int, default=200)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    out = Path(args.out if args.cmd == "report" else args.out)
    path = out / "trajectories.csv.gz"
    if args.cmd == "run":
        out.mkdir(parents=True, exist_ok=True)
        a, dash, b = args.seeds.partition("-")
        seeds = list(range(int(a), int(b) + 1)) if dash else [int(s) for s in args.seeds.split(",")]
        done = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["arm", "dataset", "seed"])
        have = set(zip(done["arm"], done["dataset"], done["seed"]))
        for dataset in args.datasets.split(","):
            for seed in seeds:
                for arm in args.arms.split(","):
                    if (arm, dataset, seed) in have:
                        continue
                    t0 = time.time()
                    df = run_one(arm, dataset, seed, args.trials)
                    done = pd.concat([done, df], ignore_index=True) if len(done) else df
                    done.to_csv(path, index=False)  # after every run: an interrupted study resumes
                    s = summarise(df, args.trials).iloc[0]
                    print(f"{dataset} {arm} seed {seed}: optimum at query {s['queries_to_optimum']}, "
                          f"{s['cpu_per_trial_at_200']:.3f} CPU-s per trial at 181-200 ({time.time() - t0:.0f} s)",
                          flush=True)
    # a folder's own runs, or those of its subfolders (one per dataset, run side by side)
    paths = [path] if path.exists() else sorted(out.glob("*/trajectories.csv.gz"))
    traj = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    summary = summarise(traj, args.trials)
    summary.to_csv(out / "summary.csv", index=False)
    text = (f"{table(summary, args.trials)}\n\n{args.trials} trials per run; machine: {platform.machine()}, "
            f"{os.cpu_count()} cores; `python -m benchmarks.optuna_study report {out}`\n")
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
