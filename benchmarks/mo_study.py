"""Multi-objective study on NB201: hypervolume ratio (found / true) per query, strategies side by side.

The full run the issue asks for (3 datasets x 2 objective pairs x 20 seeds x budget 100 x 5
strategies) is the default::

    python -m benchmarks.mo_study run --out benchmarks/results/mo
    python -m benchmarks.mo_study report --out benchmarks/results/mo

``run`` writes one file per (dataset, objectives, strategy, seed) under ``<out>/runs/`` and skips
runs already there, so the study can be run in pieces (by strategy, dataset or seed range, on
several machines) and stopped at any time; ``report`` summarises whatever runs exist (the table
says how many seeds each row has). ``runs/`` is not committed, so ``report`` also keeps the runs of
the ``trajectories.csv.gz`` already in ``<out>`` (the committed merge) that ``runs/`` lacks: on a
fresh clone, new seeds are added to the committed ones, not put in their place (``--runs-only``
reports ``runs/`` alone). It writes ``trajectories.csv.gz`` (every run merged), ``summary.csv``,
``table.md``, ``hypervolume_ratio.png`` and,
per setting, ``front_<dataset>_<objectives>.png`` (the seed-0 boed-mo front against the true one).
Every run is ``boed_nas.experiment.loop.run_search`` with the same benchmark seed for every strategy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd


DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
OBJECTIVE_SETS = ("accuracy,latency", "accuracy,flops")
STRATEGIES = ("boed-mo", "qnehvi", "parego", "nsga2", "mo-random")
RUN_KEY = ["dataset", "objectives", "strategy", "seed"]  # one run: one file under runs/


def run_file(out: Path, dataset: str, objectives: str, strategy: str, seed: int) -> Path:
    return out / "runs" / f"{dataset}__{objectives.replace(',', '+')}__{strategy}__seed{seed}.csv.gz"


def _run(task: tuple[str, str, str, str, int, int]) -> str:
    out, dataset, objectives, strategy, seed, budget = task
    import torch

    torch.set_num_threads(1)
    from boed_nas.experiment.loop import run_search
    from boed_nas.mo.pareto import mo_report
    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.registry import make_strategy

    path = run_file(Path(out), dataset, objectives, strategy, seed)
    bench = NB201Benchmark(dataset, seed=seed)
    s = make_strategy(strategy, seed=seed, objectives=objectives, costs=f"nb201:{bench.dataset}")
    t0 = time.perf_counter()
    traj = run_search(s, bench, budget, hypervolume=mo_report(bench, objectives))
    for i, (k, v) in enumerate((("dataset", bench.dataset), ("objectives", objectives.replace(",", "+")),
                                ("strategy", strategy), ("seed", seed))):
        traj.insert(i, k, v)
    tmp = path.with_suffix(".tmp")
    traj.to_csv(tmp, index=False, compression="gzip")
    os.replace(tmp, path)
    return (f"{dataset} {objectives} {strategy} seed {seed}: HV ratio @25 {traj['hypervolume_ratio'].iloc[24]:.4f} "
            f"@50 {traj['hypervolume_ratio'].iloc[49]:.4f} final {traj['hypervolume_ratio'].iloc[-1]:.4f}, "
            f"{time.perf_counter() - t0:.0f} s")


def cmd_run(args: argparse.Namespace) -> None:
    from boed_nas.experiment.bench import parse_seeds
    from boed_nas.mo.pareto import parse_objectives
    from boed_nas.nb201.benchmark import resolve_dataset
    from boed_nas.registry import split_specs, strategy_class

    out = Path(args.out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    datasets = [resolve_dataset(d).name for d in args.datasets.split(",")]
    objective_sets = [",".join(o.name for o in parse_objectives(s, min_count=2)) for s in args.objectives]
    strategies = split_specs(args.strategies)  # "boed-mo[acquisition=pfes,n_init=5]" stays one spec
    for s in strategies:
        if not getattr(strategy_class(s), "multiobjective", False):
            raise ValueError(f"strategy {s!r} is not multi-objective")
    tasks = [(str(out), d, o, s, seed, args.budget) for seed in parse_seeds(args.seeds) for d in datasets
             for o in objective_sets for s in strategies if not run_file(out, d, o, s, seed).exists()]
    print(f"{len(tasks)} runs to do", flush=True)
    if args.jobs <= 1:
        for t in tasks:
            print(_run(t), flush=True)
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for msg in pool.map(_run, tasks):
                print(msg, flush=True)


def collect_runs(out: Path, runs_only: bool = False) -> tuple[pd.DataFrame, int, int]:
    """Every run under ``out/runs`` and, unless ``runs_only``, the runs of ``out/trajectories.csv.gz``
    (the committed merge) that ``runs/`` lacks; and how many runs came from each."""
    from benchmarks.common import with_committed

    files = sorted((out / "runs").glob("*.csv.gz"))
    merged = out / "trajectories.csv.gz"
    traj, n_kept = with_committed([pd.read_csv(f) for f in files], None if runs_only else merged, RUN_KEY)
    if not files and not n_kept:
        raise FileNotFoundError(f"no runs under {out / 'runs'}"
                                + ("" if runs_only else f" and none in {merged}"))
    return traj, len(files), n_kept


def cmd_report(args: argparse.Namespace) -> None:
    from boed_nas.experiment.bench import markdown_table_mo, summarize_mo
    from boed_nas.experiment.plots import plot_hypervolume_ratio
    from boed_nas.experiment.report import GZIP
    from boed_nas.mo.pareto import mo_report, plot_front
    from boed_nas.nb201.benchmark import NB201Benchmark

    out = Path(args.out)
    traj, n_files, n_kept = collect_runs(out, args.runs_only)
    print(f"{n_files} runs from {out / 'runs'}, {n_kept} kept from {out / 'trajectories.csv.gz'}", flush=True)
    order = {c: {v: i for i, v in enumerate(vals)} for c, vals in
             (("dataset", DATASETS), ("objectives", [o.replace(",", "+") for o in OBJECTIVE_SETS]),
              ("strategy", STRATEGIES))}
    traj = traj.sort_values(["dataset", "objectives", "strategy", "seed", "query"], kind="stable",
                            key=lambda c: c.map(lambda v: order[c.name].get(v, 99)) if c.name in order else c)
    # one merged file next to the summary: runs/ is git-ignored, this is what the table is made from
    traj.to_csv(out / "trajectories.csv.gz", index=False, compression=GZIP)
    summary = summarize_mo(traj)
    summary.to_csv(out / "summary.csv", index=False)
    table = markdown_table_mo(summary)
    (out / "table.md").write_text(table + "\n\nCommand: `python -m benchmarks.mo_study report --out "
                                  f"{args.out}` (runs made with `mo_study.py run`, see README)\n")
    plot_hypervolume_ratio(traj, out / "hypervolume_ratio.png")
    for (ds, objs), g in traj.groupby(["dataset", "objectives"], sort=False):
        pick = g[(g["strategy"] == "boed-mo") & (g["seed"] == g["seed"].min())]
        if len(pick):
            bench = NB201Benchmark(ds)
            rep = mo_report(bench, objs.replace("+", ","))
            codes = [bench.cell_of_index(int(i)).code for i in pick["arch_index"]]
            plot_front(rep, codes, out / f"front_{ds}_{objs}.png",
                       title=f"boed-mo seed {int(pick['seed'].iloc[0])}, NB201 {ds}: HV ratio "
                             f"{pick['hypervolume_ratio'].iloc[-1]:.4f}")
    print(table)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--datasets", default=",".join(DATASETS))
    r.add_argument("--objectives", nargs="+", default=list(OBJECTIVE_SETS))
    r.add_argument("--strategies", default=",".join(STRATEGIES))
    r.add_argument("--seeds", default="0-19", help="e.g. 0-19 or 0,3,5-7. Default: 0-19")
    r.add_argument("--budget", type=int, default=100)
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--out", default="benchmarks/results/mo")
    r.set_defaults(func=cmd_run)
    s = sub.add_parser("report")
    s.add_argument("--out", default="benchmarks/results/mo")
    s.add_argument("--runs-only", action="store_true",
                   help="report the runs under <out>/runs only, not those of <out>/trajectories.csv.gz")
    s.set_defaults(func=cmd_report)
    args = p.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"mo_study: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
