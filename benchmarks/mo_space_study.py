"""The Pareto search on a space of your own with a known front (issue 31, point 4): validation accuracy
against FLOPs on the ``k13`` blueprint table (1,728 networks of a blueprint macro space, each trained
3 times on digits; ``benchmarks/data/blueprint_digits_k13/PROVENANCE.md``).

Every strategy searches the table's space (``SPACE_K13``, FLOPs its known cost) with
``objectives="val_acc,flops"``; an evaluation returns the validation accuracy of one training seed,
drawn from (run seed, network), as in the NB201 protocol. Hypervolume protocol, as on NB201: the
true front is the non-dominated set of the table on (mean validation accuracy over training seeds,
FLOPs); the reference point is the worst value of each over the whole table; a run's found front is
the non-dominated set of the networks it evaluated, valued the same way. Reported: the hypervolume
ratio found / true after 25, 50 and 100 evaluations, median [IQR] over seeds (numpy's linear
interpolation, the convention of every table in this repository), and sign tests of boed-mo against
each baseline at each count.

    python -m benchmarks.mo_space_study --seeds 0-9 --budget 100 --out benchmarks/results/mo_space
    python -m benchmarks.mo_space_study --report benchmarks/results/mo_space

Each run's evaluated networks are kept in ``runs.csv.gz`` (one row per run and evaluation), so the
report is recomputed from it; a run already in it is not rerun.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.blueprint_table import K13, TableObjective, load_table
from benchmarks.common import sign_test
from boed_nas import make_strategy
from boed_nas.mo.pareto import Objective, hypervolume, non_dominated
from boed_nas.spaces import Space
from boed_nas.experiment.bench import parse_seeds

STRATEGIES = ("boed-mo", "nsga2", "mo-random", "qnehvi", "parego")
CHECKPOINTS = (25, 50, 100)
OBJECTIVES = (Objective("val_acc", "val_acc", True, "%", True), Objective("flops", "flops", False, "", False))


class TrueFront:
    """The table's front and hypervolume on (mean validation accuracy, FLOPs)."""

    def __init__(self) -> None:
        table = load_table("k13")
        space = K13.space
        self.values = {}
        for config in space.enumerate():
            key = str(config)
            self.values[key] = (float(table.loc[key, "val_mean"]), space.costs(config)["flops"])
        F = np.array(list(self.values.values()))
        self.reference = np.array([F[:, 0].min(), F[:, 1].max()])
        on_front = non_dominated(F, OBJECTIVES)
        keys = list(self.values)
        self.front = [keys[i] for i in on_front]
        self.hypervolume = hypervolume(F[on_front], self.reference, OBJECTIVES)

    def ratio(self, configs: list[str]) -> float:
        if not configs:
            return 0.0
        F = np.array([self.values[c] for c in configs])
        return hypervolume(F, self.reference, OBJECTIVES) / self.hypervolume


def tabled_space(truth: TrueFront) -> Space:
    """The table's space with its FLOPs read from the table of known costs computed once (computing
    them builds each network: minutes for 1,728, per run otherwise)."""
    flops = {k: v[1] for k, v in truth.values.items()}
    space = copy.copy(K13.space)
    space.cost_fn = lambda config: {"flops": flops[str(config)]}
    return space


def one_run(strategy: str, seed: int, budget: int, space: Space) -> pd.DataFrame:
    s = make_strategy(strategy, seed=seed, space=space, objectives="val_acc,flops")
    objective = TableObjective(seed, "k13")
    rows = []
    for q in range(1, budget + 1):
        t0 = time.process_time()
        (config,) = s.ask(1)
        ask_cpu = time.process_time() - t0
        outcome = objective(config)
        s.tell(config, outcome)
        rows.append({"strategy": strategy, "seed": seed, "query": q, "config": str(config),
                     "val_acc": outcome.metrics["val_acc"], "ask_cpu_seconds": ask_cpu})
    return pd.DataFrame(rows)


def report(runs: pd.DataFrame, truth: TrueFront) -> str:
    rows = []
    ratios: dict[tuple[str, int], dict[int, float]] = {}
    for (strategy, seed), run in runs.groupby(["strategy", "seed"]):
        run = run.sort_values("query")
        for k in CHECKPOINTS:
            if len(run) >= k:
                ratios.setdefault((strategy, k), {})[seed] = truth.ratio(list(run["config"].iloc[:k]))
    lines = [f"# Pareto search on a space of your own: val_acc vs FLOPs on the k13 blueprint table",
             "",
             f"True front: {len(truth.front)} of 1,728 networks on (mean validation accuracy over 3 training seeds, "
             f"FLOPs); reference point (worst of each over the table): val_acc {truth.reference[0]:.4f}, FLOPs "
             f"{truth.reference[1]:.0f}; true hypervolume {truth.hypervolume:.6g}.",
             "",
             "Hypervolume ratio found / true after k evaluations, median [IQR] over seeds (numpy's linear "
             "interpolation); runs: seeds per cell.",
             "",
             "| strategy | " + " | ".join(f"after {k}" for k in CHECKPOINTS) + " | runs | median ask CPU-s |",
             "|---|" + "---|" * (len(CHECKPOINTS) + 2)]
    for strategy in [s for s in STRATEGIES if s in set(runs["strategy"])]:
        cells = []
        for k in CHECKPOINTS:
            v = np.array(list(ratios.get((strategy, k), {}).values()))
            cells.append(f"{np.median(v):.4f} [{np.percentile(v, 25):.4f}, {np.percentile(v, 75):.4f}]" if len(v) else "-")
        n = runs[runs["strategy"] == strategy]["seed"].nunique()
        ask = runs[runs["strategy"] == strategy]["ask_cpu_seconds"].median()
        lines.append(f"| {strategy} | " + " | ".join(cells) + f" | {n} | {ask:.3f} |")
    lines += ["", "Sign tests of boed-mo against each baseline on the same seeds (wins / losses / ties, two-sided p):", "",
              "| against | " + " | ".join(f"after {k}" for k in CHECKPOINTS) + " |", "|---|" + "---|" * len(CHECKPOINTS)]
    for other in [s for s in STRATEGIES[1:] if s in set(runs["strategy"])]:
        cells = []
        for k in CHECKPOINTS:
            a, b = ratios.get(("boed-mo", k), {}), ratios.get((other, k), {})
            common = sorted(set(a) & set(b))
            if not common:
                cells.append("-")
                continue
            w, l, t, p = sign_test([-a[s] for s in common], [-b[s] for s in common])  # larger ratio is better
            cells.append(f"{w} / {l} / {t}, p={p:.3g}")
        lines.append(f"| {other} | " + " | ".join(cells) + " |")
    lines += ["", "Ask CPU-s: the median over every ask of every run (initial designs included), on the shared 2-core "
              "machine. Command: `python -m benchmarks.mo_space_study --seeds 0-9 --budget 100 --out "
              "benchmarks/results/mo_space` (then `--report benchmarks/results/mo_space` rewrites this table)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--out", default="benchmarks/results/mo_space")
    ap.add_argument("--report", default=None, metavar="FOLDER", help="only write the report of FOLDER/runs.csv.gz")
    args = ap.parse_args(argv)
    truth = TrueFront()
    space = tabled_space(truth)
    out = Path(args.report or args.out)
    path = out / "runs.csv.gz"
    runs = pd.read_csv(path) if path.exists() else pd.DataFrame()
    if args.report is None:
        out.mkdir(parents=True, exist_ok=True)
        for seed in parse_seeds(args.seeds):
            for strategy in args.strategies.split(","):
                done = len(runs) and ((runs["strategy"] == strategy) & (runs["seed"] == seed)).any()
                if done:
                    continue
                t0 = time.perf_counter()
                run = one_run(strategy, seed, args.budget, space)
                runs = pd.concat([runs, run], ignore_index=True)
                runs.to_csv(path, index=False, compression={"method": "gzip", "mtime": 0})
                print(f"{strategy} seed {seed}: HV ratio after {args.budget} {truth.ratio(list(run['config'])):.4f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    text = report(runs, truth)
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
