"""``boed-nas search``, ``bench`` and ``report``: searches on the shipped NB201 table and their reports."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import ConfigError
from ..experiment.bench import (
    markdown_table,
    markdown_table_mo,
    mo_report,
    mo_strategies,
    run_bench,
    summarize,
    summarize_mo,
)
from ..experiment.loop import run_search
from ..experiment.plots import plot_hypervolume_ratio, plot_regret
from ..experiment.report import merge_trajectories, parse_renames, write_report
from ..mo.pareto import parse_objectives, plot_front
from ..nb201.benchmark import NB201Benchmark
from ..nb201.space import Cell
from ..registry import available, make_strategy, split_specs, strategy_class

DEFAULT_STRATEGY = "boed"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="cifar10",
                   help="NB201 dataset: cifar10 (search on cifar10-valid x-valid, report cifar10 ori-test), "
                        "cifar100 or ImageNet16-120 (x-valid / x-test). Default: cifar10")
    p.add_argument("--budget", type=int, default=100, help="paid queries (trainings) per run. Default: 100")


def _positive(name: str, v: int) -> None:
    if v < 1:
        raise ConfigError(f"--{name} must be a positive integer, got {v}")


def cmd_search(args: argparse.Namespace) -> int:
    if _multiobjective(args):
        return cmd_search_mo(args)

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
    if _multiobjective(args):
        return cmd_bench_mo(args)
    if args.strategies is None:
        args.strategies = "random,evolution,local"

    _positive("budget", args.budget)
    _positive("seeds", args.seeds)

    names = split_specs(args.strategies)
    if not names:
        raise ConfigError(f"--strategies {args.strategies!r} names no strategy")
    datasets = [d.strip() for d in args.dataset.split(",") if d.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    trajs = []
    for ds in datasets:
        trajs.append(run_bench(names, ds, range(args.seed0, args.seed0 + args.seeds), args.budget, jobs=args.jobs))
    traj = pd.concat(trajs, ignore_index=True)
    return _write_bench(out, traj, summarize, markdown_table, {
        "regret.png": lambda path: plot_regret(traj, path),
        "recommended_regret.png": lambda path: plot_regret(traj, path, column="recommended_test_regret")})


def _write_bench(out: Path, traj, summarize, markdown_table, plots: dict) -> int:
    """Write a bench's trajectories, summary, table (with the command that made it) and plots."""
    traj.to_csv(out / "trajectories.csv", index=False)
    summary = summarize(traj)
    summary.to_csv(out / "summary.csv", index=False)
    table = markdown_table(summary)
    cmd = "boed-nas " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["bench"] else "boed-nas bench"
    (out / "table.md").write_text(f"{table}\n\nCommand: `{cmd}`\n")
    for name, plot in plots.items():
        plot(out / name)
    print(table)
    print(f"\nwrote {out}/trajectories.csv, summary.csv, table.md, " + ", ".join(plots))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    traj = merge_trajectories(args.folders, budget=args.budget, renames=parse_renames(args.rename))
    table = write_report(traj, args.out, command="boed-nas " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["report"]
                         else "")
    print(table)
    print(f"\nwrote {args.out}/trajectories.csv.gz, summary.csv, table.md, regret.png, recommended_regret.png")
    return 0


# ----------------------------------------------------------------------------- multi-objective
MO_DEFAULT_STRATEGIES = "boed-mo,qnehvi,parego,nsga2,mo-random"


def _add_multiobjective(p: argparse.ArgumentParser, bench: bool) -> None:
    g = p.add_argument_group("multi-objective (accuracy vs known costs)")
    g.add_argument("--objectives", action="append" if bench else "store", default=None,
                   help="accuracy and up to two of latency, flops, params, e.g. accuracy,latency: search for the "
                        "Pareto front (costs are known from the table; only accuracy is learned)"
                        + (". Repeat for several objective sets" if bench else ""))
    g.add_argument("--constraint", action="append", default=None, metavar="COST<=BOUND",
                   help="e.g. latency<=0.012 (latency in s, flops and params in M): no cell over the bound is "
                        "evaluated or recommended; with --objectives accuracy, the best accuracy within the budget")
    if not bench:
        g.add_argument("--lambdas", default=None,
                       help="comma-separated lambdas: one boed-mo search per lambda for the best accuracy - lambda x cost "
                            "(accuracy in %%, the one cost objective in its unit), and a sweep summary")


def _multiobjective(args: argparse.Namespace) -> bool:
    return bool(args.objectives or args.constraint or getattr(args, "lambdas", None))


def _mo_strategy_names(names: list[str]) -> list[str]:
    out = []
    for n in names:
        if n.split("[", 1)[0].strip() == "boed":
            n = "boed-mo" + n.split("boed", 1)[1]
        if not getattr(strategy_class(n), "multiobjective", False):
            raise ConfigError(f"strategy {n!r} is single-objective; with --objectives/--constraint use one of "
                             f"{mo_strategies()}")
        out.append(n)
    return out


def _mo_search_one(args, strategy_name: str, objectives, out: Path, scalarization: float | None = None) -> dict:
    bench = NB201Benchmark(args.dataset, seed=args.seed)
    out.mkdir(parents=True, exist_ok=True)
    extra = {} if scalarization is None else {"scalarization": scalarization}
    strategy = make_strategy(strategy_name, seed=args.seed, state_path=out / "state.json", objectives=objectives,
                             costs=f"nb201:{bench.dataset}", constraints=args.constraint, **extra)
    problem = strategy.problem
    multi = len(problem.objectives) > 1
    report = mo_report(bench, [o.name for o in problem.objectives], args.constraint)
    print(f"{bench}\nstrategy {strategy.name}, objectives {[o.name for o in problem.objectives]}, "
          f"constraints {problem.constraints or 'none'}"
          + (f", lambda {scalarization}" if scalarization is not None else "") + f", budget {args.budget}, seed {args.seed}")
    bar = tqdm(total=args.budget, desc=f"{strategy.name} on {bench.dataset}", unit="query")

    def progress(row: dict) -> None:
        bar.update()
        if "hypervolume_ratio" in row:
            bar.set_postfix(hv_ratio=f"{row['hypervolume_ratio']:.4f}")

    t0 = time.perf_counter()
    traj = run_search(strategy, bench, args.budget, callback=progress, hypervolume=report if multi else None)
    bar.close()
    wall = time.perf_counter() - t0
    traj.to_csv(out / "trajectory.csv", index=False)
    evaluated = [o.cell.code for o in strategy.history if not o.outcome.failed]
    feasible_eval = [c for c in evaluated if problem.feasible_cells[c]]
    rec = strategy.recommend()
    summary = {
        "strategy": strategy.name, "dataset": bench.dataset, "val_split": bench.info.val_split,
        "test_split": bench.info.test_split, "seed": args.seed, "budget": args.budget,
        "constraints": dict(problem.constraints),
        "recommended_cell": None if rec is None else str(rec),
    }
    if rec is not None:
        look = bench.lookup(rec)
        summary.update({"recommended_val_acc_mean": look["val_acc_mean"], "recommended_test_acc": look["test_acc"],
                        "recommended_costs": {k: float(v[rec.code]) for k, v in problem.costs.values.items()},
                        "recommended_within_constraints": bool(problem.feasible_cells[rec.code])})
    if problem.constraints or scalarization is not None:
        # the answer the search was after, from the full table (val: mean over training seeds)
        util = bench.val_mean.copy()
        if scalarization is not None:
            util = util - scalarization * problem.costs[problem.cost_objectives[0].name]
        util[~problem.feasible_cells] = -np.inf
        best = int(np.argmax(util))
        summary.update({"table_optimum_cell": str(Cell.from_code(best)),
                        "table_optimum_val_acc_mean": float(bench.val_mean[best]),
                        "table_optimum_test_acc": float(bench.test_acc[best])})
        if rec is not None:
            summary["recommended_utility_regret"] = float(util[best] - util[rec.code])
        if scalarization is not None:
            summary["lambda"] = scalarization
            summary["utility"] = "val_acc_mean - lambda * " + problem.cost_objectives[0].name
    if multi:
        summary.update(report.summary(feasible_eval))
        own = strategy.recommend_front()
        summary["recommended_front"] = [str(c) for c in own]
        summary["recommended_front_hypervolume_ratio"] = report.ratio([c.code for c in own])
        plot_front(report, feasible_eval, out / "front.png",
                   title=f"{strategy.name} on NB201 {bench.dataset}: HV ratio {summary['hypervolume_ratio']:.4f}")
        traj.insert(0, "seed", args.seed)
        traj.insert(0, "strategy", strategy.name)
        traj.insert(0, "dataset", bench.dataset)
        plot_hypervolume_ratio(traj, out / "hypervolume_ratio.png")
    summary.update({"queries": int(len(strategy.history)), "wall_seconds": wall})
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def cmd_search_mo(args: argparse.Namespace) -> int:
    _positive("budget", args.budget)
    objectives = parse_objectives(args.objectives or "accuracy")
    (name,) = _mo_strategy_names([args.strategy])
    out = Path(args.out)
    if args.lambdas is None:
        s = _mo_search_one(args, name, [o.name for o in objectives], out)
        if "hypervolume_ratio" in s:
            print(f"found front: {len(s['front'])} cells, hypervolume {s['hypervolume']:.6g} of the true "
                  f"{s['true_hypervolume']:.6g} (ratio {s['hypervolume_ratio']:.4f}); reference point "
                  f"{s['reference_point']}")
        if s.get("recommended_cell"):
            print(f"recommended: {s['recommended_cell']} (val {s['recommended_val_acc_mean']:.2f}, "
                  f"test {s['recommended_test_acc']:.2f})")
        print(f"wrote {out}/trajectory.csv, summary.json" + (", front.png, hypervolume_ratio.png" if "front" in s else ""))
        return 0
    try:
        lambdas = [float(x) for x in args.lambdas.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--lambdas {args.lambdas!r}: expected comma-separated numbers, e.g. 0,100,500") from None
    if not lambdas:
        raise ConfigError(f"--lambdas {args.lambdas!r} names no lambda")
    if name != "boed-mo":
        raise ConfigError(f"--lambdas runs boed-mo (the scalarised search); got --strategy {name!r}")
    rows = []
    for lam in lambdas:
        s = _mo_search_one(args, name, [o.name for o in objectives], out / f"lambda_{lam:g}", scalarization=lam)
        rows.append({**{k: s.get(k) for k in ("lambda", "recommended_cell", "recommended_val_acc_mean",
                                             "recommended_test_acc")},
                     objectives[-1].name: (s.get("recommended_costs") or {}).get(objectives[-1].name),
                     **{k: s.get(k) for k in ("table_optimum_cell", "table_optimum_val_acc_mean",
                                             "recommended_utility_regret")}})
        print(f"lambda {lam:g}: {rows[-1]}")

    pd.DataFrame(rows).to_csv(out / "sweep.csv", index=False)
    print(f"wrote {out}/sweep.csv and one folder per lambda")
    return 0


def cmd_bench_mo(args: argparse.Namespace) -> int:
    _positive("budget", args.budget)
    _positive("seeds", args.seeds)

    names = _mo_strategy_names(split_specs(args.strategies or MO_DEFAULT_STRATEGIES))
    sets = [[o.name for o in parse_objectives(o, min_count=2)] for o in (args.objectives or ["accuracy,latency"])]
    datasets = [d.strip() for d in args.dataset.split(",") if d.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trajs = []
    for ds in datasets:
        for objs in sets:
            t = run_bench(names, ds, range(args.seed0, args.seed0 + args.seeds), args.budget, jobs=args.jobs,
                          objectives=objs, constraints=args.constraint)
            t.insert(1, "objectives", "+".join(objs))
            trajs.append(t)
    traj = pd.concat(trajs, ignore_index=True)
    return _write_bench(out, traj, summarize_mo, markdown_table_mo,
                        {"hypervolume_ratio.png": lambda path: plot_hypervolume_ratio(traj, path)})



def add_commands(sub: argparse._SubParsersAction) -> None:
    """The ``search``, ``bench`` and ``report`` subcommands."""
    p = sub.add_parser("search", help="run one search on NB201")
    _add_common(p)
    p.add_argument("--strategy", default=DEFAULT_STRATEGY, help=f"one of {available()}. Default: {DEFAULT_STRATEGY}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/search", help="output folder. Default: runs/search")
    _add_multiobjective(p, bench=False)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("bench", help="strategies x seeds side by side")
    _add_common(p)
    p.add_argument("--strategies", default=None,
                   help="comma-separated strategy names, each optionally with settings for an ablation, "
                        "e.g. 'boed,boed[n_init=5,kernel=wl]' (the spec labels its rows). Default: random,evolution,local "
                        "(with --objectives: boed-mo,qnehvi,parego,nsga2,mo-random)")
    p.add_argument("--seeds", type=int, default=10, help="number of seeds. Default: 10")
    p.add_argument("--seed0", type=int, default=0, help="first seed. Default: 0")
    p.add_argument("--jobs", type=int, default=1, help="parallel worker processes. Default: 1")
    p.add_argument("--out", default="runs/bench", help="output folder. Default: runs/bench")
    _add_multiobjective(p, bench=True)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="one table and plots from several bench folders (e.g. seed ranges)")
    p.add_argument("folders", nargs="+", help="bench output folders (or trajectories files) to merge")
    p.add_argument("--out", default="runs/report", help="output folder. Default: runs/report")
    p.add_argument("--budget", type=int, default=None,
                   help="cut every run to its first N queries (equal to a budget-N run: strategies never see "
                        "the budget), so benches of different budgets compare. Default: keep whole runs")
    p.add_argument("--rename", action="append", default=None, metavar="OLD=NEW",
                   help="relabel a strategy, e.g. 'boed=boed[cold_start_every=1]' for runs made when a default "
                        "was different (repeatable; labels that become equal merge)")
    p.set_defaults(func=cmd_report)

