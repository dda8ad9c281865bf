"""A real Dask run finishes evaluations in the order the simulated clock predicts.

    python -m tools.dask_order_check --out benchmarks/results/scaleout/dask_order_check.md

Random search (its cells do not depend on the results, so both runs evaluate the same cells in
the same order of asks) on NB201 CIFAR-10, 2 workers, 24 evaluations: once on the simulated
clock, once on a Dask ``LocalCluster`` of 2 worker processes (started here) whose objective sleeps
for the cell's NB201 training time / 10,000 (0.1-3 s). Prints both finish orders, the pairs that
finished in the other order and how close the simulator put them, and the real run's times beside
the simulated ones (divided by 10,000); exits 1 if two results 50 ms or more apart came in the
other order.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from boed_nas import make_strategy
from boed_nas.engine import SimulatedEngine
from boed_nas.engine.dask import DaskEngine
from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark

SCALE = 10_000


class SleepsTrainingTime:
    """The table's answer, after sleeping the cell's training time / ``SCALE`` seconds."""

    def __init__(self, dataset: str, seed: int) -> None:
        self.bench = NB201Benchmark(dataset, seed=seed)

    def __call__(self, cell):
        out = self.bench.evaluate(cell)
        time.sleep(out.cost / SCALE)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evaluations", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the report here (markdown)")
    args = ap.parse_args(argv)
    bench = NB201Benchmark("cifar10", seed=args.seed)
    sim = run_search(make_strategy("random", seed=args.seed), bench, args.evaluations,
                     engine=SimulatedEngine(bench.evaluate, 2))
    engine = DaskEngine(SleepsTrainingTime("cifar10", args.seed), 2)
    try:
        real = run_search(make_strategy("random", seed=args.seed), NB201Benchmark("cifar10", seed=args.seed),
                          args.evaluations, engine=engine)
    finally:
        engine.close()
    same = sim["cell"].tolist() == real["cell"].tolist()
    # the pairs finished in the other order, and how far apart the simulator put them
    t_sim = dict(zip(sim["cell"], sim["finished"] / SCALE))
    pos_real = {c: k for k, c in enumerate(real["cell"])}
    cells = sim["cell"].tolist()
    swapped = [(a, b) for i, a in enumerate(cells) for b in cells[i + 1:] if pos_real[a] > pos_real[b]]
    gap = max((abs(t_sim[b] - t_sim[a]) for a, b in swapped), default=0.0)
    verdict = "identical" if same else (f"{len(swapped)} pair(s) in the other order, at most {gap * 1000:.0f} ms "
                                        f"apart on the simulated clock (/ 10,000), i.e. {gap * SCALE:.0f} s of training")
    lines = [f"# Dask LocalCluster (2 worker processes) against the simulated clock: {args.evaluations} evaluations",
             "", f"Command: `python -m tools.dask_order_check --evaluations {args.evaluations} --seed {args.seed}`", "",
             f"Finish order: **{verdict}**; positions identical: {sum(a == b for a, b in zip(cells, real['cell']))} of "
             f"{len(cells)}. The Dask times include the cluster's start and each task's dispatch.", "",
             "| # | cell (simulated order) | simulated finish / 10,000 (s) | cell (Dask order) | Dask finish (s) |",
             "|---|---|---|---|---|"]
    for k, (a, b) in enumerate(zip(sim.itertuples(), real.itertuples()), 1):
        lines.append(f"| {k} | {a.cell} | {a.finished / SCALE:.3f} | {b.cell} | {b.finished:.3f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0 if gap < 0.05 else 1  # inversions only between finishes less than 50 ms (500 s of training) apart


if __name__ == "__main__":
    sys.exit(main())
