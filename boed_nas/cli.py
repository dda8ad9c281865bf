"""The ``boed-nas`` command.

    boed-nas search   one search on NB201 (default: CIFAR-10, budget 100), with a progress bar
    boed-nas bench    several strategies x seeds side by side: a markdown table and regret plots
    boed-nas report   merge bench folders run by seed range into one table and plots
    boed-nas supernet differentiable (DARTS-family) search that proposes cells
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DEFAULT_STRATEGY = "boed"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="cifar10",
                   help="NB201 dataset: cifar10 (search on cifar10-valid x-valid, report cifar10 ori-test), "
                        "cifar100 or ImageNet16-120 (x-valid / x-test). Default: cifar10")
    p.add_argument("--budget", type=int, default=100, help="paid queries (trainings) per run. Default: 100")


def _positive(name: str, v: int) -> None:
    if v < 1:
        raise ValueError(f"--{name} must be a positive integer, got {v}")


def cmd_search(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from benchmarks.harness import plot_regret, run_search
    from benchmarks.nb201 import NB201Benchmark
    from strategies import make_strategy

    _positive("budget", args.budget)
    bench = NB201Benchmark(args.dataset, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.json"  # written after every tell: Strategy.load(state_path) resumes
    strategy = make_strategy(args.strategy, seed=args.seed, state_path=state_path)
    print(f"{bench}\nstrategy {strategy.name}, budget {args.budget}, seed {args.seed}")
    bar = tqdm(total=args.budget, desc=f"{strategy.name} on {bench.dataset}", unit="query")

    def progress(row: dict) -> None:
        bar.update()
        bar.set_postfix(best_val=f"{row['best_val_so_far']:.2f}", test_regret=f"{row['test_regret']:.2f}")

    t0 = time.perf_counter()
    traj = run_search(strategy, bench, args.budget, callback=progress)
    bar.close()
    wall = time.perf_counter() - t0
    traj.to_csv(out / "trajectory.csv", index=False)
    last = traj.iloc[-1]
    best = strategy.best_observed()
    rec = strategy.recommend()
    opt_cell, opt_val = bench.optimum("val_acc")
    look = bench.lookup(best.cell)
    summary = {
        "strategy": strategy.name,
        "dataset": bench.dataset,
        "val_split": bench.info.val_split,
        "test_split": bench.info.test_split,
        "seed": args.seed,
        "budget": args.budget,
        "best_cell": str(best.cell),
        "best_arch_index": look["arch_index"],
        "best_val_acc": best.outcome.metrics["val_acc"],
        "best_test_acc": look["test_acc"],
        "test_regret": bench.test_regret(best.cell),
        "recommended_cell": str(rec),
        "recommended_test_acc": bench.lookup(rec)["test_acc"],
        "recommended_test_regret": bench.test_regret(rec),
        "table_best_test_acc": bench.best_test_acc,
        "validation_optimum_cell": str(opt_cell),
        "validation_optimum_val_acc": opt_val,
        "found_validation_optimum": bool(last["found_optimum"]),
        "queries": int(len(strategy.history)),
        "simulated_training_time": float(bench.total_cost),
        "wall_seconds": wall,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    traj.insert(0, "seed", args.seed)
    traj.insert(0, "strategy", strategy.name)
    traj.insert(0, "dataset", bench.dataset)
    plot_regret(traj, out / "regret.png")
    print(f"best cell by validation accuracy: {best.cell}")
    print(f"  val {summary['best_val_acc']:.2f} ({bench.info.val_split}, one training seed), "
          f"test {summary['best_test_acc']:.2f} ({bench.info.test_split}), test regret {summary['test_regret']:.2f}")
    if rec != best.cell:
        print(f"recommended by {strategy.name}: {rec}\n  test {summary['recommended_test_acc']:.2f}, "
              f"test regret {summary['recommended_test_regret']:.2f}")
    print(f"validation optimum {'found' if summary['found_validation_optimum'] else 'not found'}; "
          f"wrote {out}/trajectory.csv, summary.json, regret.png")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from benchmarks.harness import markdown_table, plot_regret, run_bench, summarize

    _positive("budget", args.budget)
    _positive("seeds", args.seeds)
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not names:
        raise ValueError(f"--strategies {args.strategies!r} names no strategy")
    datasets = [d.strip() for d in args.dataset.split(",") if d.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    trajs = []
    for ds in datasets:
        trajs.append(run_bench(names, ds, range(args.seed0, args.seed0 + args.seeds), args.budget, jobs=args.jobs))
    traj = pd.concat(trajs, ignore_index=True)
    traj.to_csv(out / "trajectories.csv", index=False)
    summary = summarize(traj)
    summary.to_csv(out / "summary.csv", index=False)
    table = markdown_table(summary)
    cmd = "boed-nas " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "boed-nas bench"
    (out / "table.md").write_text(f"{table}\n\nCommand: `{cmd}`\n")
    plot_regret(traj, out / "regret.png")
    plot_regret(traj, out / "recommended_regret.png", column="recommended_test_regret")
    print(table)
    print(f"\nwrote {out}/trajectories.csv, summary.csv, table.md, regret.png, recommended_regret.png")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from benchmarks.report import merge_trajectories, write_report

    traj = merge_trajectories(args.folders)
    table = write_report(traj, args.out, command="boed-nas " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["report"]
                         else "")
    print(table)
    print(f"\nwrote {args.out}/trajectories.csv.gz, summary.csv, table.md, regret.png, recommended_regret.png")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from strategies import available

    parser = argparse.ArgumentParser(prog="boed-nas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("search", help="run one search on NB201")
    _add_common(p)
    p.add_argument("--strategy", default=DEFAULT_STRATEGY, help=f"one of {available()}. Default: {DEFAULT_STRATEGY}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/search", help="output folder. Default: runs/search")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("bench", help="strategies x seeds side by side")
    _add_common(p)
    p.add_argument("--strategies", default="random,evolution,local", help="comma-separated strategy names")
    p.add_argument("--seeds", type=int, default=10, help="number of seeds. Default: 10")
    p.add_argument("--seed0", type=int, default=0, help="first seed. Default: 0")
    p.add_argument("--jobs", type=int, default=1, help="parallel worker processes. Default: 1")
    p.add_argument("--out", default="runs/bench", help="output folder. Default: runs/bench")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="one table and plots from several bench folders (e.g. seed ranges)")
    p.add_argument("folders", nargs="+", help="bench output folders (or trajectories files) to merge")
    p.add_argument("--out", default="runs/report", help="output folder. Default: runs/report")
    p.set_defaults(func=cmd_report)

    try:
        from boed_nas.supernet import cli as supernet_cli
    except ImportError:
        supernet_cli = None
    if supernet_cli is not None:
        p = sub.add_parser("supernet", help="differentiable supernet search (DARTS family)")
        supernet_cli.add_arguments(p)
        p.set_defaults(func=supernet_cli.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as e:
        print(f"boed-nas {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
