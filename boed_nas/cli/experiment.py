"""``boed-nas search``, ``bench`` and ``report``: searches on the shipped NB201 table and their reports;
``search --space MODULE:NAME --objective MODULE:FUNCTION`` searches a space and objective of your own.

Every argument is checked before anything is written. A search runs in its ``--out`` folder
(``boed_nas.experiment.runfolder``): a folder that already holds one is never overwritten;
``--resume`` continues it. A bench runs each (strategy, seed, workers) in its own run folder under
``--out/runs``; ``--resume`` keeps the finished runs and continues the interrupted one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ..engine import CLOCKS
from ..errors import ConfigError
from ..experiment.bench import (
    markdown_table,
    markdown_table_mo,
    run_bench,
    summarize,
    summarize_mo,
)
from ..experiment.plots import plot_belief, plot_hypervolume_ratio, plot_regret
from ..experiment.loop import (
    ObjectiveRecorder,
    check_objective_signature,
    check_rule_reported,
    parse_stop_rule,
    run_objective,
)
from ..experiment.report import merge_trajectories, parse_renames, report_plots, write_report
from ..experiment.run import SearchRun, level_totals, run_nb201
from ..experiment.runfolder import RunFolder
from ..mo.pareto import parse_objectives
from ..nb201.benchmark import NB201Benchmark
from ..registry import available, make_strategy, parse_spec, split_specs, strategy_class
from ..registry import multiobjective_strategies as mo_strategies
from ..spaces.base import load_object, load_space
from ..spaces.fidelity import FidelitySpace

DEFAULT_STRATEGY = "boed"
MO_DEFAULT_STRATEGIES = "boed-mo,qnehvi,parego,nsga2,mo-random"


def _int_at_least(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
        return v

    return parse


_positive_int = _int_at_least(1, "a positive integer")


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return v
_non_negative_int = _int_at_least(0, "an integer >= 0")


def _workers_list(text: str) -> list[int]:
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated worker counts, e.g. 1,4,16, got {text!r}") from None
    if not vals or min(vals) < 1:
        raise argparse.ArgumentTypeError(f"expected positive worker counts, e.g. 1,4,16, got {text!r}")
    return vals


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="cifar10",
                   help="NB201 dataset: cifar10 (search on cifar10-valid x-valid, report cifar10 ori-test), "
                        "cifar100 or ImageNet16-120 (x-valid / x-test). Default: cifar10")
    p.add_argument("--budget", type=_positive_int, default=100, help="paid queries (trainings) per run. Default: 100")
    g = p.add_argument_group("where evaluations run")
    g.add_argument("--clock", choices=CLOCKS, default="wall",
                   help="wall: real evaluations (in this process, or on a Dask cluster with --workers > 1); simulated: "
                        "each evaluation takes its table training time on a virtual clock. Default: wall")
    g.add_argument("--ask-seconds", type=float, default=0.0,
                   help="simulated seconds charged for each ask (--clock simulated). Default: 0")
    g.add_argument("--batch-size", type=_positive_int, default=None,
                   help="ask for this many cells at once and wait for all of them (synchronous batches); "
                        "default: asynchronous, one ask whenever a worker frees up")
    g.add_argument("--synchronous", action="store_true",
                   help="synchronous batches of --workers cells (the batch size follows the number of workers)")
    g.add_argument("--max-retries", type=_non_negative_int, default=0,
                   help="evaluations whose error is transient are run again up to this many times. Default: 0")
    g.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                   help="stop an evaluation that has not returned after this many seconds (simulated seconds on "
                        "--clock simulated) and tell it as failed. Default: none")
    g.add_argument("--retry-timeouts", action="store_true",
                   help="a timed-out evaluation is transient: run it again, up to --max-retries times")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (it is off anyway when the output is not a terminal)")
    g.add_argument("--stop-when", default=None, metavar="RULE",
                   help="stop when the belief is sure enough, e.g. 'prob_best>=0.9' (the probability that the "
                        "recommendation is the best network; columns prob_best, argmax_entropy, information_gain, or "
                        "another numeric column of the trajectory, e.g. 'finished>=3600'); a column the trajectory "
                        "lacks, or a probability bound outside [0, 1], is refused")
    g.add_argument("--stop-at-optimum", action="store_true",
                   help="end a run when it first evaluates the validation optimum (time / queries to the optimum)")
    g.add_argument("--fidelity", default=None, metavar="NAME=LEVELS",
                   help="search over cheaper evaluations too, e.g. 'epochs=12,200' on the NB201 table (12-epoch "
                        "trainings charged 12/200 of the 200-epoch time) or 'epochs=1,2,4,8' with your --objective, "
                        "called as objective(config, level); for boed, asha and hyperband. Relative costs: "
                        "';costs=0.01,1', or learned from the measured times: ';costs=learned'")


def _add_multiobjective(p: argparse.ArgumentParser, bench: bool) -> None:
    g = p.add_argument_group("multi-objective (accuracy vs known costs)")
    g.add_argument("--objectives", action="append" if bench else "store", default=None,
                   help="accuracy and up to two of latency, flops, params, e.g. accuracy,latency: search for the "
                        "Pareto front (costs are known from the table; only accuracy is learned). With --space: the "
                        "--metric and up to two of the space's known costs, e.g. val_acc,flops (nsga2 and mo-random "
                        "also take measured metrics of your own with a direction, e.g. val_acc,latency_ms:min)"
                        + (". Repeat for several objective sets" if bench else ""))
    g.add_argument("--constraint", action="append", default=None, metavar="COST<=BOUND",
                   help="e.g. latency<=0.012 (latency in s, flops and params in M): no cell over the bound is "
                        "evaluated or recommended; with --objectives accuracy, the best accuracy within the budget. "
                        "With --space: a bound on one of the space's known costs, in its costs' units "
                        "(e.g. flops<=5e5)")
    if not bench:
        g.add_argument("--lambdas", default=None,
                       help="comma-separated lambdas: one boed-mo search per lambda for the best accuracy - lambda x cost "
                            "(accuracy in %%, the one cost objective in its unit), and a sweep summary")


def _no_bar(args: argparse.Namespace) -> bool | None:
    """tqdm's ``disable``: off with ``--quiet``; None (off when the output is not a terminal, so a
    redirected log gets no carriage returns) otherwise."""
    return True if getattr(args, "quiet", False) else None


def _run_settings(args: argparse.Namespace) -> dict:
    if args.ask_seconds < 0 or not math.isfinite(args.ask_seconds):
        raise ConfigError(f"--ask-seconds must be a non-negative number, got {args.ask_seconds}")
    if args.synchronous and args.batch_size is not None:
        raise ConfigError("--synchronous sets the batch size to --workers: leave out --batch-size")
    if args.retry_timeouts and args.timeout is None:
        raise ConfigError("--retry-timeouts needs --timeout SECONDS")
    if args.clock == "simulated" and getattr(args, "scheduler", None):  # before the run folder is touched
        raise ConfigError("a simulated clock runs no cluster: leave out --scheduler")
    # a table search's rule is checked against its trajectory's columns by SearchRun, before any folder;
    # a trajectory of your own objective here
    columns = (ObjectiveRecorder.column_names(args.metric, fidelity=args.fidelity is not None)
               if getattr(args, "space", None) or getattr(args, "objective", None) else None)
    try:
        parse_stop_rule(args.stop_when, columns)
    except ConfigError as e:  # named as the user typed it
        raise ConfigError(f"--stop-when: {e}") from None
    return {"clock": args.clock, "ask_seconds": args.ask_seconds, "batch_size": args.batch_size,
            "synchronous": args.synchronous, "max_retries": args.max_retries, "stop_at_optimum": args.stop_at_optimum,
            "timeout": args.timeout, "retry_timeouts": args.retry_timeouts, "stop_when": args.stop_when,
            "fidelity": args.fidelity}


# ----------------------------------------------------------------------------- search
def _search_one(args: argparse.Namespace, run: SearchRun, out: Path) -> dict:
    bench = NB201Benchmark(run.dataset, seed=run.seed)
    run.build()  # every setting checked before the folder is touched
    folder = RunFolder(out)
    folder.prepare()
    resumed = args.resume and folder.holds_run()
    if resumed:
        folder.check_meta({k: v for k, v in run.meta().items() if k != "budget"})
    else:
        folder.check_new()
    print(f"{bench}\nstrategy {run.strategy}, budget {run.budget}, seed {run.seed}, workers {run.workers} "
          f"({run.clock} clock)" + (f", objectives {list(run.objectives)}" if run.objectives else "")
          + (f", constraints {list(run.constraints)}" if run.constraints else "")
          + (f", lambda {run.scalarization}" if run.scalarization is not None else "")
          + (f"; resuming {out}" if resumed else ""))
    bar = tqdm(total=run.budget, desc=f"{run.strategy} on {bench.dataset}", unit="query", disable=_no_bar(args))

    def on_row(row: dict) -> None:
        bar.n = int(row["query"])
        post = {"best_val": f"{row['best_val_so_far']:.2f}", "test_regret": f"{row['test_regret']:.2f}"}
        if "hypervolume_ratio" in row:
            post = {"hv_ratio": f"{row['hypervolume_ratio']:.4f}"}
        bar.set_postfix(post, refresh=False)
        bar.refresh()

    def on_progress(status: dict) -> None:
        bar.set_description(f"{run.strategy} on {bench.dataset}: {status['running']} running, "
                            f"{status['failed']} failed", refresh=True)

    try:
        strategy, traj, summary = run_nb201(run, out, resume=args.resume, scheduler=args.scheduler, callback=on_row,
                                            progress=on_progress)
    finally:
        bar.close()
    return summary


def _search_objective(args: argparse.Namespace) -> int:
    """``boed-nas search --space MODULE:NAME --objective MODULE:FUNCTION``: a search of your own."""
    if not (args.space and args.objective):
        raise ConfigError("--space and --objective go together: the space to search and the function that trains "
                          "one of its configurations")
    nb201_only = {"--dataset": args.dataset != "cifar10", "--lambdas": args.lambdas is not None,
                  "--clock simulated": args.clock == "simulated", "--stop-at-optimum": args.stop_at_optimum,
                  "--ask-seconds": args.ask_seconds != 0}
    clash = [k for k, v in nb201_only.items() if v]
    _run_settings(args)  # the checks the engine settings share with NB201 searches
    if clash:
        raise ConfigError(f"{clash} belong to searches on the NB201 table; a search with --space/--objective takes "
                          "--strategy, --seed, --budget, --workers, --scheduler, --batch-size/--synchronous, "
                          "--max-retries, --metric, --minimize, --constraint, --objectives, --out, --resume")
    space = load_space(args.space)
    if args.constraint:  # bounds on the space's known costs, in the units its costs function returns
        space = space.bounded(args.constraint)
    objective = load_object(args.objective, "--objective")
    if not callable(objective):
        raise ConfigError(f"--objective {args.objective!r} names a {type(objective).__name__}, not a function")
    mo = {}
    if args.objectives:  # a Pareto search: the measured metric(s) and the space's known costs
        if parse_spec(args.strategy)[0] == "boed":
            args.strategy = "boed-mo" + args.strategy[len("boed"):]
        if not getattr(strategy_class(args.strategy), "multiobjective", False):
            raise ConfigError(f"--objectives needs a multi-objective strategy; {args.strategy!r} is single-objective. "
                              f"On a space of your own: {[n for n in mo_strategies() if n in available(any_space=True)]}")
        mo = {"objectives": args.objectives}
    fidelity = {} if args.fidelity is None else {"fidelity": args.fidelity}  # kept apart: ``mo`` means a Pareto search
    strategy = make_strategy(args.strategy, seed=args.seed, space=space, metric=args.metric, maximize=not args.minimize,
                             **mo, **fidelity)
    # an objective that cannot take the level (or the configuration), or a stop rule on a figure the strategy
    # does not report, is refused before the folder is touched
    check_objective_signature(objective, strategy.space.fidelity if isinstance(strategy.space, FidelitySpace) else None)
    check_rule_reported(args.stop_when, type(strategy))
    meta = {"kind": "objective", "space": args.space, "objective": args.objective, "strategy": args.strategy,
            "seed": args.seed, "budget": args.budget, "workers": args.workers, "metric": args.metric,
            "maximize": not args.minimize, "batch_size": args.workers if args.synchronous else args.batch_size,
            "max_retries": args.max_retries}
    if args.timeout is not None:  # (absent from run.json when not set, as in runs made before it existed)
        meta.update(timeout=args.timeout, retry_timeouts=args.retry_timeouts)
    if args.stop_when is not None:
        meta["stop_when"] = args.stop_when
    if args.fidelity is not None:
        meta["fidelity"] = args.fidelity
    if args.constraint:
        meta["constraints"] = list(args.constraint)
    if mo:
        meta["objectives"] = [o.name for o in strategy.problem.objectives]
    out = Path(args.out)
    _check_resumable(args, out)
    folder = RunFolder(out)
    folder.prepare()
    folder.lock()  # one process per run folder, from before its first read
    resumed = args.resume and folder.holds_run()
    if resumed:
        folder.check_meta({k: v for k, v in meta.items() if k != "budget"})
        strategy = folder.load_strategy()
        if args.budget < len(strategy.history):
            raise ConfigError(f"--budget {args.budget} is below the {len(strategy.history)} evaluations the run in "
                              f"{str(out)!r} already told")
    else:
        folder.check_new()
    folder.write_meta(meta)
    size = space.n_distinct
    print(f"space {space.name!r}: {len(space.variables)} variables, "
          + (f"{size:,} configurations" if size is not None else f"{space.size:,} configurations before its constraint")
          + f"\nstrategy {args.strategy}, budget {args.budget}, seed {args.seed}, workers {args.workers}"
          + (f"; resuming {out}" if resumed else ""))
    bar = tqdm(total=args.budget, desc=f"{args.strategy} on {space.name}", unit="eval", disable=_no_bar(args))

    def on_row(row: dict) -> None:
        bar.n = int(row["query"])
        bar.set_postfix({"best": f"{row['best_so_far']:.4g}"}, refresh=False)
        bar.refresh()

    def on_progress(status: dict) -> None:
        bar.set_description(f"{args.strategy} on {space.name}: {status['running']} running, {status['failed']} failed",
                            refresh=True)

    try:
        traj = run_objective(strategy, objective, args.budget, workers=args.workers, scheduler=args.scheduler,
                             batch_size=meta["batch_size"], max_retries=args.max_retries, out=folder, callback=on_row,
                             progress=on_progress, timeout=args.timeout, stop_when=args.stop_when,
                             transient=(TimeoutError,) if args.retry_timeouts else ())
    finally:
        bar.close()
    folder.mark_finished(len(strategy.history))
    print(f"{len(traj)} evaluations ({int(traj['failed'].astype(bool).sum())} failed)"
          + (f"; the space holds only {len(traj)} distinct configurations, all evaluated"
             if len(traj) < args.budget and strategy.remaining == 0 else ""))
    last = traj.iloc[-1] if len(traj) else None
    best = _text(last["best_config"]) if last is not None else None  # with a fidelity: at the target level
    recommended = _text(last["recommended_config"]) if last is not None else None
    fid = strategy.space.fidelity if isinstance(strategy.space, FidelitySpace) else None
    target = f" (at the target level {fid.name}={fid.target})" if fid is not None else ""
    if best is not None:
        print(f"best observed{target}: {best}  {args.metric} {last['best_so_far']:.6g}")
    if recommended is not None:  # with a fidelity, possibly before any target-level result
        print(f"recommended by {args.strategy}{target}: {recommended}")
    elif fid is not None and len(traj):
        print(f"no recommendation from {args.strategy} yet: it recommends from results at the target level "
              f"{fid.name}={fid.target}, and none has come in")
    said = _final_belief(traj, recommended)
    if said.get("prob_best") is not None:
        after, of = said.get("prob_best_after"), said.get("prob_best_of")
        print(f"P(recommendation is the best): {said['prob_best']:.3g}"
              + (f" for {of}, the recommendation after evaluation {after}" if of else
                 f" (the belief after evaluation {after})" if after is not None else "")
              + (f"; the belief reports at each ask, and none follows evaluation {len(traj)}"
                 if after is not None else ""))
    stopped_by = traj.attrs.get("stopped_by")
    if stopped_by:
        print(f"stopped by --stop-when {stopped_by} after {len(traj)} evaluations (budget {args.budget})")
    if mo:
        front = front_table(strategy)
        front.to_csv(out / "front.csv", index=False)
        print(f"Pareto front ({', '.join(o.name for o in strategy.problem.objectives)}): {len(front)} configurations, "
              f"in {out}/front.csv")
        if len(front):
            print(front.to_string(index=False, max_rows=20))
    per_level = _per_level(strategy, traj)
    if per_level:  # a search over a fidelity: what each level took
        print("evaluations per level: " + ", ".join(f"{level}: {n} (cost {c:.4g})" for level, (n, c) in per_level.items()))
    args.summary = {"space": args.space, "strategy": args.strategy, "seed": args.seed, "out": str(out),
                    "evaluations": len(traj), "failed": int(traj["failed"].astype(bool).sum()), "metric": args.metric,
                    "best_config": best,
                    "best_value": float(last["best_so_far"]) if best is not None else None,
                    "recommended_config": recommended, "prob_best": None, **said,
                    "stopped_by": stopped_by or None}
    if per_level:
        args.summary["evaluations_per_level"] = {level: n for level, (n, _) in per_level.items()}
    belief = plot_belief(traj, out / "belief.png", title=f"{args.strategy} on {space.name}")
    print(f"wrote {out}/trajectory.csv, evaluations.jsonl, state.json, run.json" + (", front.csv" if mo else "")
          + (", belief.png" if belief else ""))
    return 0


def _text(value) -> str | None:
    """A text cell of a trajectory (a configuration), or None where it is empty (``""``, or NaN as read back)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value == "" else str(value)


def _final_belief(traj: pd.DataFrame, recommended: str | None) -> dict:
    """What the belief said of the recommendation, from the last row that has it: a row takes the
    belief of the ask after it, so the last row of a run that ends on its budget has none. With
    ``prob_best_after`` (the evaluations it had seen) where that is not the last row, and
    ``prob_best_of`` where the recommendation it was about is not ``recommended`` (the final one)."""
    if "prob_best" not in traj:
        return {}
    rows = traj[pd.to_numeric(traj["prob_best"], errors="coerce").notna()]
    if not len(rows):
        return {}
    row = rows.iloc[-1]
    out: dict = {"prob_best": float(row["prob_best"])}
    if int(row["query"]) != int(traj["query"].iloc[-1]):
        out["prob_best_after"] = int(row["query"])
        of = _text(row.get("recommended_config", row.get("recommended_cell")))
        if of is not None and of != recommended:
            out["prob_best_of"] = of
    return out


def _check_resumable(args: argparse.Namespace, out: Path) -> None:
    """``--resume`` on a folder that does not exist starts the search there, and says so: a job that
    is requeued with the same command (``--resume`` on its first run too) works, and a mistyped
    --out is not silent."""
    if getattr(args, "resume", False) and not out.exists():
        print(f"--resume: {str(out)!r} does not exist, so there is no search to continue; starting a new one there",
              file=sys.stderr)


def _per_level(strategy, traj: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """With a fidelity: each level's evaluations and summed cost, cheapest level first (empty without one)."""
    fidelity = getattr(strategy.space, "fidelity", None)
    if fidelity is None or "fidelity" not in traj or not len(traj):
        return {}
    return level_totals(traj, fidelity.levels)


def front_table(strategy) -> pd.DataFrame:
    """The strategy's recommended Pareto front on a space of your own: each configuration with its
    told measured objectives and its known costs, by the first cost (or the metric)."""
    told = {strategy.space.key(o.cell): o for o in strategy.history if not o.outcome.failed}
    rows = []
    for c in strategy.recommend_front():
        o = told[strategy.space.key(c)]
        row = {"config": strategy.space.format(c)}
        row.update({m.name: o.outcome.metrics.get(m.metric, float("nan")) for m in strategy.problem.measured})
        row.update({k: v for k, v in zip(strategy.problem.cost_names, strategy.problem.costs_of([c])[0])})
        rows.append(row)
    cols = ["config", *[m.name for m in strategy.problem.measured], *strategy.problem.cost_names]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(cols[-1]).reset_index(drop=True) if len(out) else out


def cmd_search(args: argparse.Namespace) -> int:
    """``search``; with ``--json`` what it would print goes to stderr and stdout gets one JSON document
    (the run's summary)."""
    if not getattr(args, "json", False):
        return _cmd_search(args)
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        code = _cmd_search(args)
    print(json.dumps(getattr(args, "summary", {}), default=str), file=stdout)
    return code


def _cmd_search(args: argparse.Namespace) -> int:
    if args.space or args.objective:
        return _search_objective(args)
    multi = bool(args.objectives or args.constraint or args.lambdas)
    settings = _run_settings(args)
    objectives = None
    if multi:
        objectives = tuple(o.name for o in parse_objectives(args.objectives or "accuracy"))
    base = dict(strategy=args.strategy, dataset=args.dataset, seed=args.seed, budget=args.budget, workers=args.workers,
                objectives=objectives, constraints=tuple(args.constraint) if args.constraint else None, **settings)
    out = Path(args.out)
    _check_resumable(args, out)  # the sweep's own folders may be missing: one per lambda, made in turn
    if args.lambdas is not None:
        return _lambda_sweep(args, base, out)
    s = _search_one(args, SearchRun(**base), out)
    args.summary = s
    if s.get("stopped_by"):
        print(f"stopped by --stop-when {s['stopped_by']} after {s['queries']} queries (budget {args.budget})")
    if "hypervolume_ratio" in s:
        print(f"found front: {len(s['front'])} cells, hypervolume {s['hypervolume']:.6g} of the true "
              f"{s['true_hypervolume']:.6g} (ratio {s['hypervolume_ratio']:.4f}); reference point {s['reference_point']}")
    if "best_cell" in s:
        print(f"best cell by validation accuracy: {s['best_cell']}")
        print(f"  val {s['best_val_acc']:.2f} ({s['val_split']}, one training seed), test {s['best_test_acc']:.2f} "
              f"({s['test_split']}), test regret {s['test_regret']:.2f}")
    if s.get("recommended_cell") and s.get("recommended_cell") != s.get("best_cell"):
        print(f"recommended by {s.get('strategy') or args.strategy}: {s['recommended_cell']}\n  test "
              f"{s['recommended_test_acc']:.2f}, test regret {s['recommended_test_regret']:.2f}")
    if s.get("table_optimum_cell"):  # under constraints / a scalarization: the answer that search was after
        regret = s.get("recommended_utility_regret")
        print(f"the table's best within the constraints: {s['table_optimum_cell']} (val {s['table_optimum_val_acc_mean']:.2f} "
              f"mean, test {s['table_optimum_test_acc']:.2f})"
              + (f"; the recommendation's regret against it {regret:.2f}" if regret is not None else ""))
    first = s.get("optimum_first_evaluated_at")
    print((f"validation optimum first evaluated at query {first}" if first is not None else
           "validation optimum not evaluated") + f"; {s['queries']} queries ({s['failed']} failed); "
          f"{s['engine_seconds']:.0f} {args.clock}-clock seconds")
    if s.get("evaluations_per_level"):  # a search over a fidelity: what each level took
        print("evaluations per level: " + ", ".join(
            f"{level}: {n} (training time {s['cost_per_level'][level]:.0f} s)" for level, n in s["evaluations_per_level"].items()))
        if s.get("learned_relative_costs"):
            print("relative cost per level, learned: " + ", ".join(
                f"{level}: {c:.3g}" for level, c in s["learned_relative_costs"].items()))
    print(f"wrote {out}/trajectory.csv, evaluations.jsonl, state.json, summary.json, regret.png"
          + (", belief.png" if (out / "belief.png").exists() else "")
          + (", front.png, hypervolume_ratio.png" if "front" in s else ""))
    return 0


def _lambda_sweep(args: argparse.Namespace, base: dict, out: Path) -> int:
    try:
        lambdas = [float(x) for x in args.lambdas.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--lambdas {args.lambdas!r}: expected comma-separated numbers, e.g. 0,100,500") from None
    if not lambdas:
        raise ConfigError(f"--lambdas {args.lambdas!r} names no lambda")
    if args.strategy.split("[")[0] not in ("boed", "boed-mo"):
        raise ConfigError(f"--lambdas runs boed-mo (the scalarised search); got --strategy {args.strategy!r}")
    runs = [SearchRun(**{**base, "scalarization": lam}) for lam in lambdas]
    for run in runs:
        run.build()
    rows = []
    for run in runs:
        s = _search_one(args, run, out / f"lambda_{run.scalarization:g}")
        cost = list(base["objectives"])[-1]
        rows.append({**{k: s.get(k) for k in ("lambda", "recommended_cell", "recommended_val_acc_mean",
                                             "recommended_test_acc")},
                     cost: (s.get("recommended_costs") or {}).get(cost),
                     **{k: s.get(k) for k in ("table_optimum_cell", "table_optimum_val_acc_mean",
                                             "recommended_utility_regret")}})
        print(f"lambda {run.scalarization:g}: {rows[-1]}")
    pd.DataFrame(rows).to_csv(out / "sweep.csv", index=False)
    print(f"wrote {out}/sweep.csv and one folder per lambda")
    return 0


# ----------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    multi = bool(args.objectives or args.constraint)
    names = split_specs(args.strategies or (MO_DEFAULT_STRATEGIES if multi else "random,evolution,local"))
    if not names:
        raise ConfigError(f"--strategies {args.strategies!r} names no strategy")
    settings = _run_settings(args)
    datasets = [d.strip() for d in args.dataset.split(",") if d.strip()]
    if not datasets:
        raise ConfigError(f"--dataset {args.dataset!r} names no dataset; expected e.g. cifar10,cifar100")
    sets = [[o.name for o in parse_objectives(o, min_count=2)] for o in (args.objectives or ["accuracy,latency"])] \
        if multi else [None]
    if multi:
        names = ["boed-mo" + n[len("boed"):] if n.split("[")[0] == "boed" else n for n in names]
    out = Path(args.out)
    seeds = range(args.seed0, args.seed0 + args.seeds)
    jobs = [(ds, objs) for ds in datasets for objs in sets]
    for ds, objs in jobs:  # check every setting of every run before anything is written
        for n in names:
            for m in args.workers:
                SearchRun(strategy=n, dataset=ds, seed=args.seed0, budget=args.budget, workers=m,
                          objectives=objs, constraints=tuple(args.constraint) if args.constraint else None,
                          **settings).build()
    RunFolder(out).prepare()
    trajs = []
    for ds, objs in jobs:
        t = run_bench(names, ds, seeds, args.budget, jobs=args.jobs, objectives=objs, constraints=args.constraint,
                      workers=args.workers, out=out, resume=args.resume, progress=not args.quiet, **settings)
        if objs is not None:
            t.insert(1, "objectives", "+".join(objs))
        trajs.append(t)
    traj = pd.concat(trajs, ignore_index=True)
    if multi:
        return _write_bench(out, traj, summarize_mo, markdown_table_mo,
                            {"hypervolume_ratio.png": lambda path: plot_hypervolume_ratio(traj, path)})
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
    print(f"\nwrote {out}/trajectories.csv, summary.csv, table.md, " + ", ".join(plots) + "; one run folder per "
          f"run under {out}/runs")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    traj = merge_trajectories(args.folders, budget=args.budget, renames=parse_renames(args.rename))
    RunFolder(args.out).prepare()
    table = write_report(traj, args.out, command="boed-nas " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["report"]
                         else "")
    print(table)
    print(f"\nwrote {args.out}/trajectories.csv.gz, summary.csv, table.md, {', '.join(report_plots(traj))}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The ``search``, ``bench`` and ``report`` subcommands."""
    p = sub.add_parser("search", help="run one search: on NB201, or on --space with --objective of your own")
    _add_common(p)
    p.add_argument("--json", action="store_true",
                   help="print the run's summary as one JSON document on stdout (the rest goes to stderr)")
    p.add_argument("--strategy", default=DEFAULT_STRATEGY, help=f"one of {available()}. Default: {DEFAULT_STRATEGY}")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="the run's one seed. Default: 0")
    p.add_argument("--out", default="runs/search", help="the run folder. Default: runs/search")
    p.add_argument("--resume", action="store_true",
                   help="continue the search in --out where it stopped (same settings; --budget may grow); "
                        "an --out that does not exist starts a new search there, and says so")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="evaluations at once: a Dask LocalCluster of this many worker processes (--clock wall) or "
                        "simulated workers (--clock simulated). Default: 1, in this process")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="a running Dask cluster's scheduler, e.g. tcp://10.0.0.5:8786 (--clock wall)")
    _add_multiobjective(p, bench=False)
    g = p.add_argument_group("your own space and objective (instead of the NB201 table)")
    g.add_argument("--space", default=None, metavar="MODULE:NAME",
                   help="a boed_nas.spaces.Space to search, e.g. myproject.spaces:SPACE (or path/to/file.py:SPACE); "
                        "with --objective")
    g.add_argument("--objective", default=None, metavar="MODULE:FUNCTION",
                   help="the function that trains one configuration and returns its metrics, e.g. "
                        "myproject.train:evaluate; with --space")
    g.add_argument("--metric", default="val_acc", help="the metric to optimise, a key of what the objective returns. "
                                                      "Default: val_acc")
    g.add_argument("--minimize", action="store_true", help="smaller --metric is better (a loss, an error rate)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("bench", help="strategies x seeds (x workers) side by side")
    _add_common(p)
    p.add_argument("--strategies", default=None,
                   help="comma-separated strategy names, each optionally with settings for an ablation, "
                        "e.g. 'boed,boed[n_init=5,kernel=wl]' (the spec labels its rows). Default: random,evolution,local "
                        "(with --objectives: boed-mo,qnehvi,parego,nsga2,mo-random)")
    p.add_argument("--seeds", type=_positive_int, default=10, help="number of seeds. Default: 10")
    p.add_argument("--seed0", type=_non_negative_int, default=0, help="first seed. Default: 0")
    p.add_argument("--jobs", type=_positive_int, default=1, help="runs at once, in worker processes. Default: 1")
    p.add_argument("--workers", type=_workers_list, default=[1],
                   help="evaluations at once within a run, e.g. 1,4,16 (one run per value). Default: 1")
    p.add_argument("--out", default="runs/bench", help="output folder. Default: runs/bench")
    p.add_argument("--resume", action="store_true", help="keep the finished runs in --out and continue the others")
    _add_multiobjective(p, bench=True)
    p.set_defaults(func=cmd_bench, scheduler=None)

    p = sub.add_parser("report", help="one table and plots from several bench folders (e.g. seed ranges)")
    p.add_argument("folders", nargs="+", help="bench output folders (or trajectories files) to merge")
    p.add_argument("--out", default="runs/report", help="output folder. Default: runs/report")
    p.add_argument("--budget", type=_positive_int, default=None,
                   help="cut every run to its first N queries (equal to a budget-N run: strategies never see "
                        "the budget), so benches of different budgets compare. Default: keep whole runs")
    p.add_argument("--rename", action="append", default=None, metavar="OLD=NEW",
                   help="relabel a strategy, e.g. 'boed=boed[cold_start_every=1]' for runs made when a default "
                        "was different (repeatable; labels that become equal merge)")
    p.set_defaults(func=cmd_report)
