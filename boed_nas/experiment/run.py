"""One search on the shipped NB201 table, in a run folder: what ``boed-nas search`` and each run of
``boed-nas bench`` do, resumable.

``SearchRun(strategy="boed", dataset="cifar100", seed=0, budget=100, workers=4, clock="simulated")``
describes a run (it is saved as ``run.json``); ``run_nb201(run, out)`` checks every setting
before it writes anything, refuses a folder that already holds a search unless ``resume=True``
(then the settings must be the saved ones, the budget may grow), runs it through
``run_search`` and writes ``summary.json`` and plots when it is done.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine import CLOCKS, check_timeout, check_workers, make_engine
from ..errors import ConfigError, check_int
from ..jsonable import json_default
from ..mo.pareto import HypervolumeReport, mo_report, plot_front
from ..nb201.benchmark import EPOCHS, NB201Benchmark
from ..nb201.space import Cell
from ..spaces.fidelity import Fidelity, split_point
from ..registry import make_strategy, parse_spec, strategy_class
from ..registry import multiobjective_strategies as mo_strategies
from ..strategy import Strategy
from .loop import TableRecorder, check_rule_reported, parse_stop_rule, point_objective, run_search
from .plots import plot_belief, plot_hypervolume_ratio, plot_regret
from .runfolder import RunFolder


@dataclass(frozen=True)
class SearchRun:
    """One search on NB201: the strategy spec and everything that decides its trajectory."""

    strategy: str = "boed"
    dataset: str = "cifar10"
    seed: int = 0
    budget: int = 100
    workers: int = 1
    clock: str = "wall"
    batch_size: int | None = None
    synchronous: bool = False  # synchronous batches of ``workers`` cells (batch_size = workers)
    ask_seconds: float = 0.0
    max_retries: int = 0
    stop_at_optimum: bool = False
    timeout: float | None = None  # seconds per evaluation (simulated seconds on a simulated clock)
    retry_timeouts: bool = False  # a timed-out evaluation is transient: run again within max_retries
    stop_when: str | None = None  # e.g. "prob_best>=0.9": stop when the belief is sure enough
    objectives: tuple[str, ...] | None = None
    constraints: tuple[str, ...] | None = None
    scalarization: float | None = None
    fidelity: str | None = None  # e.g. "epochs=12,200": search over NB201's 12- and 200-epoch results

    def __post_init__(self) -> None:
        for label, lo in (("seed", 0), ("budget", 1), ("max_retries", 0)):
            check_int(label, getattr(self, label), lo)
        check_workers(self.workers)
        check_timeout(self.timeout)
        if self.clock not in CLOCKS:
            raise ConfigError(f"unknown clock {self.clock!r}; expected one of {list(CLOCKS)}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise ConfigError(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if not (isinstance(self.ask_seconds, (int, float)) and math.isfinite(self.ask_seconds) and self.ask_seconds >= 0):
            raise ConfigError(f"ask_seconds must be a non-negative number, got {self.ask_seconds!r}")
        if self.fidelity is not None:
            fidelity = Fidelity.parse(self.fidelity)
            if fidelity.name != "epochs" or set(fidelity.levels) - set(EPOCHS) or fidelity.target != 200:
                raise ConfigError(f"fidelity {self.fidelity!r}: the NB201 table answers at epochs={','.join(map(str, EPOCHS))} "
                                  "with target 200 (e.g. 'epochs=12,200')")
            object.__setattr__(self, "fidelity", fidelity.spec)
        for name in ("objectives", "constraints"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(v))
        # the hypervolume columns are there for a front of more than one objective (build's report)
        parse_stop_rule(self.stop_when, TableRecorder.column_names(
            fidelity=self.fidelity is not None, hypervolume=self.objectives is not None and len(self.objectives) > 1))
        if self.stop_at_optimum and (self.constraints or self.scalarization is not None):
            # the optimum it stops at is the table's best validation accuracy, which a search under a
            # constraint or a cost trade-off is not after (and may never evaluate): it would never stop
            raise ConfigError("stop_at_optimum (--stop-at-optimum) ends a run at the table's validation optimum, "
                              "which a search under constraints or a scalarization is not after; leave it out "
                              "(summary.json's table_optimum_cell and recommended_utility_regret are that search's)")
        if self.multiobjective and parse_spec(self.strategy)[0] == "boed":  # boed's multi-objective form
            object.__setattr__(self, "strategy", "boed-mo" + self.strategy[len("boed"):])
        check_rule_reported(self.stop_when, strategy_class(self.strategy))

    @property
    def multiobjective(self) -> bool:
        return bool(self.objectives or self.constraints or self.scalarization is not None)

    def meta(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> SearchRun:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in meta.items() if k in fields})

    def build(self, state_path: str | Path | None = None) -> tuple[NB201Benchmark, Strategy, HypervolumeReport | None]:
        """The benchmark, a fresh strategy and (multi-objective) the hypervolume protocol; every
        setting is checked here, before anything is written."""
        bench = NB201Benchmark(self.dataset, seed=self.seed)
        if not self.multiobjective:
            extra = {} if self.fidelity is None else {"fidelity": self.fidelity}
            return bench, make_strategy(self.strategy, seed=self.seed, state_path=state_path, **extra), None
        if self.fidelity is not None:
            raise ConfigError("a fidelity with objectives or constraints is not supported yet: the multi-objective "
                              "strategies evaluate at one fidelity")
        name = self.strategy
        if not getattr(strategy_class(name), "multiobjective", False):
            raise ConfigError(f"strategy {name!r} is single-objective; with objectives or constraints use one of "
                              f"{mo_strategies()}")
        extra = {} if self.scalarization is None else {"scalarization": self.scalarization}
        strategy = make_strategy(name, seed=self.seed, state_path=state_path, objectives=list(self.objectives or
                                 ["accuracy"]), costs=f"nb201:{bench.dataset}", constraints=self.constraints, **extra)
        names = [o.name for o in strategy.problem.objectives]
        report = mo_report(bench, names, self.constraints) if len(names) > 1 else None
        return bench, strategy, report


def run_nb201(run: SearchRun, out: str | Path | None = None, *, resume: bool = False, scheduler: str | None = None,
              callback: Callable[[dict[str, Any]], None] | None = None,
              progress: Callable[[dict[str, int]], None] | None = None,
              plots: bool = True) -> tuple[Strategy, pd.DataFrame, dict[str, Any]]:
    """Run (or, with ``resume``, continue) ``run`` in the folder ``out``; (strategy, trajectory, summary).
    The folder is locked for this process while it runs (``RunFolder.lock``)."""
    folder = None if out is None else RunFolder(out)
    bench, strategy, report = run.build()  # every setting checked before any file is written
    if folder is None:
        return _run_nb201(run, None, bench, strategy, report, resume, scheduler, callback, progress, plots)
    folder.prepare()
    folder.lock()  # one process per run folder, from before its first read
    try:
        return _run_nb201(run, folder, bench, strategy, report, resume, scheduler, callback, progress, plots)
    finally:
        folder.unlock()


def _run_nb201(run, folder, bench, strategy, report, resume, scheduler, callback, progress, plots):
    if folder is not None:
        if resume and folder.holds_run():
            saved = folder.meta()
            same = {k: v for k, v in run.meta().items() if k != "budget"}
            folder.check_meta(same)
            strategy = folder.load_strategy()
            if run.budget < len(strategy.history):
                raise ConfigError(f"--budget {run.budget} is below the {len(strategy.history)} evaluations the run in "
                                  f"{str(folder.path)!r} already told")
            if saved.get("budget") != run.budget:
                folder.write_meta({**run.meta(), "resumed_from_budget": saved.get("budget")})
        else:
            folder.check_new()
            folder.write_meta(run.meta())
            strategy.state_path = folder.state
    engine = make_engine(point_objective(strategy, bench.evaluate), run.workers, clock=run.clock, scheduler=scheduler, timeout=run.timeout,
                         transient=(TimeoutError,) if run.retry_timeouts else ())
    t0 = time.perf_counter()
    try:
        batch_size = run.workers if run.synchronous else run.batch_size
        traj = run_search(strategy, bench, run.budget, batch_size=batch_size, callback=callback,
                          hypervolume=report, stop_at_optimum=run.stop_at_optimum, engine=engine,
                          ask_seconds=run.ask_seconds, max_retries=run.max_retries, out=folder, progress=progress,
                          stop_when=run.stop_when)
    finally:
        engine.close()
    summary = summarize_run(run, bench, strategy, traj, report, time.perf_counter() - t0)
    if folder is not None:
        (folder.path / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default) + "\n")
        if plots and len(traj):
            labelled = traj.assign(dataset=bench.dataset, strategy=run.strategy, seed=run.seed)
            plot_regret(labelled, folder.path / "regret.png")
            plot_belief(traj, folder.path / "belief.png", title=f"{run.strategy} on NB201 {bench.dataset}")
            if report is not None:
                plot_hypervolume_ratio(labelled, folder.path / "hypervolume_ratio.png")
                feasible = [o.cell.code for o in strategy.history
                            if not o.outcome.failed and strategy.problem.feasible_cells[o.cell.code]]
                plot_front(report, feasible, folder.path / "front.png",
                           title=f"{strategy.name} on NB201 {bench.dataset}: HV ratio {summary['hypervolume_ratio']:.4f}")
    return strategy, traj, summary


def level_totals(traj: pd.DataFrame, levels: Sequence[Any]) -> dict[str, tuple[int, float]]:
    """Each of a fidelity's ``levels`` (cheapest first), as text: the trajectory's evaluations at it and
    their summed ``cost`` (0 and 0.0 where none ran); what ``summary.json`` and the CLI report per level."""
    groups = traj.groupby(traj["fidelity"].astype(str))["cost"]
    size, cost = groups.size(), groups.sum()
    return {str(level): (int(size.get(str(level), 0)), float(cost.get(str(level), 0.0))) for level in levels}


def summarize_run(run: SearchRun, bench: NB201Benchmark, strategy: Strategy, traj: pd.DataFrame,
                  report: HypervolumeReport | None, wall_seconds: float) -> dict[str, Any]:
    """``summary.json``: the run's settings, what it found and what it recommends, on test accuracy."""
    opt_cell, opt_val = bench.optimum("val_acc")
    rec = split_point(strategy.recommend())[0]
    summary: dict[str, Any] = {
        **run.meta(), "strategy_name": strategy.name, "val_split": bench.info.val_split,
        "test_split": bench.info.test_split, "queries": len(strategy.history),
        "failed": sum(o.outcome.failed for o in strategy.history),
        "found_validation_optimum": bool(len(traj) and traj["found_optimum"].iloc[-1]),
        "optimum_first_evaluated_at": (int(traj.loc[traj["found_optimum"].astype(bool), "query"].iloc[0])
                                       if len(traj) and traj["found_optimum"].astype(bool).any() else None),
        "validation_optimum_cell": str(opt_cell), "validation_optimum_val_acc": opt_val,
        "table_best_test_acc": bench.best_test_acc,
        "simulated_training_time": float(traj["cost"].sum()) if len(traj) else 0.0,
        "engine_seconds": float(traj["finished"].max()) if len(traj) else 0.0,
        "wall_seconds": wall_seconds,
        "recommended_cell": None if rec is None else str(rec),
    }
    if traj.attrs.get("stopped_by"):  # the stop rule ended the run before its budget
        summary["stopped_by"] = traj.attrs["stopped_by"]
    fidelity = getattr(strategy.space, "fidelity", None)
    if run.fidelity is not None and fidelity is not None and len(traj):  # evaluations and charged time at each level
        told = {level: totals for level, totals in level_totals(traj, fidelity.levels).items() if totals[0]}
        summary["evaluations_per_level"] = {level: n for level, (n, _) in told.items()}
        summary["cost_per_level"] = {level: cost for level, (_, cost) in told.items()}
        if fidelity.learn_costs and hasattr(strategy, "level_costs"):
            summary["learned_relative_costs"] = dict(zip(map(str, fidelity.levels), strategy.level_costs()))
    if rec is not None:
        look = bench.lookup(rec)
        summary.update(recommended_val_acc_mean=look["val_acc_mean"], recommended_test_acc=look["test_acc"],
                       recommended_test_regret=bench.test_regret(rec))
    if not run.multiobjective:
        best = strategy.best_observed()
        if best is not None:
            look = bench.lookup(split_point(best.cell)[0])
            summary.update(best_cell=str(split_point(best.cell)[0]), best_arch_index=look["arch_index"],
                           best_val_acc=best.outcome.metrics["val_acc"], best_test_acc=look["test_acc"],
                           test_regret=bench.test_regret(split_point(best.cell)[0]))
        return summary
    problem = strategy.problem
    summary["constraints"] = dict(problem.constraints)
    if rec is not None:
        summary.update(recommended_costs={k: float(v[rec.code]) for k, v in problem.costs.values.items()},
                       recommended_within_constraints=bool(problem.feasible_cells[rec.code]))
    if problem.constraints or run.scalarization is not None:
        # the answer the search was after, from the full table (val: mean over training seeds)
        util = bench.val_mean.copy()
        if run.scalarization is not None:
            util = util - run.scalarization * problem.costs[problem.cost_objectives[0].name]
        util[~problem.feasible_cells] = -np.inf
        best = int(np.argmax(util))
        summary.update(table_optimum_cell=str(Cell.from_code(best)), table_optimum_val_acc_mean=float(bench.val_mean[best]),
                       table_optimum_test_acc=float(bench.test_acc[best]))
        if rec is not None:
            summary["recommended_utility_regret"] = float(util[best] - util[rec.code])
        if run.scalarization is not None:
            summary.update({"lambda": run.scalarization,
                            "utility": "val_acc_mean - lambda * " + problem.cost_objectives[0].name})
    if report is not None:
        feasible = [o.cell.code for o in strategy.history if not o.outcome.failed and problem.feasible_cells[o.cell.code]]
        summary.update(report.summary(feasible))
        own = strategy.recommend_front()
        summary["recommended_front"] = [str(c) for c in own]
        summary["recommended_front_hypervolume_ratio"] = report.ratio([c.code for c in own])
    return summary




def run_folder_name(strategy: str, seed: int, workers: int | None = None, objectives: Sequence[str] | None = None) -> str:
    """A folder name for one run of a bench: the strategy spec made file-safe, the seed (and workers)."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in strategy)
    parts = [slug] + (["+".join(objectives)] if objectives else []) + ([f"M{workers}"] if workers else [])
    return "/".join(parts) + f"/seed{seed}"


__all__ = ["SearchRun", "level_totals", "run_folder_name", "run_nb201", "summarize_run"]
