"""The search loop: keep every worker busy, tell each result as it arrives, record; nothing lost.

``run_search(strategy, benchmark, budget)`` is the whole protocol on a table benchmark: the
strategy sees the validation metric of one training (``Outcome.metrics``) and nothing else; test
accuracy travels in ``Outcome.info`` for the report. Regret is reported on *test* accuracy
against the table's best. One trajectory row per paid query (a told evaluation, failed ones too).

Where evaluations run is an engine (``boed_nas.engine``): by default this process, one at a time
(the serial loop: ask, evaluate, tell); ``workers=M`` runs M at once, on a Dask ``LocalCluster``
(``clock="wall"``) or on the simulated clock of the table's training times
(``clock="simulated"``). Asynchronous by default: whenever a worker frees up, the strategy is
asked for one cell while the others still run (they are pending in it); ``batch_size=B`` asks for
B cells at once and waits for all of them (synchronous batches, to compare).

Faults: an objective that raises is told as failed, with its error in the trajectory, or run again
up to ``max_retries`` times when the error is transient (``TransientError``, or a type in
``transient``). With ``out`` the run lives in a folder and survives a crash at any moment
(``RunFolder``): every finished evaluation is appended to ``evaluations.jsonl`` (fsync) *before*
it is told, the strategy's state is saved after every ask and tell, and the trajectory is written
row by row. ``run_search(RunFolder(out).load_strategy(), ...)`` resumes it: evaluations that
finished but were not told are told from the log (never run twice), cells that were running are
run again first, and the run continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import operator
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..engine import Engine, MetricObjective, Result, make_engine
from ..errors import ConfigError, NonFiniteMetricError, ObjectiveError, OutcomeError, check_int
from ..nb201.benchmark import NB201Benchmark
from ..spaces.fidelity import FidelityObjective, FidelitySpace, split_point
from ..spaces.protocol import Configuration
from ..outcome import Outcome
from ..strategy import Strategy
from .runfolder import RunFolder

if TYPE_CHECKING:
    from ..mo.pareto import HypervolumeReport


logger = logging.getLogger("boed_nas.experiment.loop")
"""One INFO line per told evaluation (the library prints nothing itself; the CLI shows a bar)."""

TRAJECTORY_COLUMNS = [
    "query", "cell", "arch_index", "val_acc", "test_acc", "failed", "cost", "cumulative_cost",
    "best_val_so_far", "best_cell", "test_regret", "recommended_cell", "recommended_test_regret",
    "found_optimum", "ask_seconds",
]
MO_COLUMNS = ["hypervolume", "hypervolume_ratio"]
BELIEF_COLUMNS = ["prob_best", "argmax_entropy", "information_gain"]
"""What the belief said when the row's recommendation was taken (strategies that report it, such as
``boed``; empty otherwise): the probability that the recommendation is the best network, the
entropy (nats) of the distribution of which network is best, and the entropy that the last
evaluation removed."""
EVENT_COLUMNS = ["worker", "attempt", "error", "submitted", "started", "finished"]
"""Where and when each evaluation ran, on the engine's clock (simulated seconds on a simulated
clock, wall seconds since the run started otherwise)."""

STOP_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
TEXT_COLUMNS = frozenset({"cell", "config", "best_cell", "best_config", "recommended_cell", "recommended_config",
                          "known_costs", "worker", "error", "fidelity"})
"""Trajectory columns that a stop rule cannot read: text, and the level (a name or a value, not a measure)."""
PROBABILITY_COLUMNS = frozenset({"prob_best"})
NON_NEGATIVE_COLUMNS = frozenset({"argmax_entropy"})


def stop_rule_columns(columns: Sequence[str]) -> list[str]:
    """The columns of a trajectory (``columns``) that a stop rule can read: the numeric ones."""
    return [c for c in columns if c not in TEXT_COLUMNS]


def parse_stop_rule(rule: str | None, columns: Sequence[str] | None = None) -> tuple[str, str, float] | None:
    """``"prob_best>=0.9"`` -> ("prob_best", ">=", 0.9): stop when the latest row's column meets the
    bound (``BELIEF_COLUMNS`` or any numeric trajectory column); ``ConfigError`` naming the rule.
    With ``columns`` (the trajectory's), a column the rule cannot read is refused by name, with the
    ones it can; a bound that a probability (``prob_best``) or an entropy can never meet is refused
    too: the rule would silently never end the search."""
    if rule is None:
        return None
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*", rule) if isinstance(rule, str) else None
    try:
        bound = float(m.group(3)) if m else math.nan
    except ValueError:
        bound = math.nan
    if m is None or not math.isfinite(bound):
        raise ConfigError(f"stop rule {rule!r}: expected COLUMN OP NUMBER, e.g. 'prob_best>=0.9' (OP one of "
                          f"{list(STOP_OPS)}; columns such as {BELIEF_COLUMNS})")
    column, op, bound = m.group(1), m.group(2), bound
    if columns is not None and column not in stop_rule_columns(columns):
        raise ConfigError(f"stop rule {rule!r}: the trajectory has no column {column!r} a rule can read; expected "
                          f"one of {stop_rule_columns(columns)}")
    if column in PROBABILITY_COLUMNS and not 0 <= bound <= 1:
        raise ConfigError(f"stop rule {rule!r}: {column} is a probability, so the bound {bound:g} must be within "
                          "[0, 1], e.g. 'prob_best>=0.9'")
    never = {">": bound >= 1, "<": bound <= 0, ">=": False, "<=": False} if column in PROBABILITY_COLUMNS else {}
    if column in NON_NEGATIVE_COLUMNS:
        never = {"<": bound <= 0, "<=": bound < 0, ">": False, ">=": False}
    if never.get(op):
        raise ConfigError(f"stop rule {rule!r}: {column} never is {op} {bound:g} "
                          f"({'a probability, within [0, 1]' if column in PROBABILITY_COLUMNS else 'never negative'}), "
                          "so the rule would never stop the search")
    return column, op, bound


def check_rule_reported(rule: str | None, strategy: type) -> None:
    """``ConfigError`` when a stop rule reads a belief column (``BELIEF_COLUMNS``) that the strategy
    class does not report (``Strategy.belief_columns``): the column would stay empty and the rule
    never end the search."""
    parsed = parse_stop_rule(rule)
    if parsed is not None and parsed[0] in BELIEF_COLUMNS and parsed[0] not in getattr(strategy, "belief_columns", ()):
        raise ConfigError(f"stop rule {rule!r}: strategy {getattr(strategy, 'name', strategy.__name__)!r} does not "
                          f"report {parsed[0]} (the belief's figures of boed); use a budget, or a rule on another column")


def check_objective_signature(objective: Callable[..., Any], fidelity: Any = None) -> None:
    """``ConfigError`` when ``objective``, a plain Python function (or method), cannot be called as
    the search calls it: ``objective(config)``, or with a ``fidelity`` ``objective(config, level)``.
    Checked before the first evaluation, since otherwise each one fails with a ``TypeError`` and
    the search stops only after ``max_initial_failures``. Other callables are left to the call."""
    if not (inspect.isfunction(objective) or inspect.ismethod(objective)):
        return
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):  # no signature to read: the call will say
        return
    args = (None, None) if fidelity is not None else (None,)
    try:
        sig.bind(*args)
    except TypeError:
        name = getattr(objective, "__qualname__", repr(objective))
        if fidelity is not None:
            raise ConfigError(f"objective {name}{sig} cannot take the level: with fidelity {fidelity.spec!r} it is "
                              f"called as {name}(config, {fidelity.name}), e.g. "
                              f"def {name}(config, {fidelity.name}): ...") from None
        raise ConfigError(f"objective {name}{sig} cannot be called as {name}(config): without a fidelity it is given "
                          "the configuration alone (give a fidelity, e.g. --fidelity 'epochs=1,2,4,8', for "
                          "objective(config, level))") from None


def point_objective(strategy: Strategy, objective: Callable[..., Any]) -> Callable[[Any], Any]:
    """The function of one point that the engines call: ``objective`` itself, or, where the strategy
    searches over a fidelity, ``objective(config, level)`` behind a ``FidelityObjective``."""
    space = strategy.space
    return FidelityObjective(objective, space.fidelity) if isinstance(space, FidelitySpace) else objective


def _fidelity_of(strategy: Strategy) -> Any:
    return strategy.space.fidelity if isinstance(strategy.space, FidelitySpace) else None


class TableRecorder:
    """Trajectory rows of a search on a table benchmark: the running best by observed validation
    accuracy, its test regret, whether the validation optimum's class was evaluated, the
    cumulative cost and (with ``hypervolume``) the hypervolume of the evaluated cells.

    With a ``fidelity`` (a multi-fidelity search) each row also has its ``fidelity`` level; the
    running best, and whether the optimum was found, count evaluations at the target level only."""

    def __init__(self, bench: NB201Benchmark, hypervolume: HypervolumeReport | None = None, fidelity: Any = None) -> None:
        self.bench, self.hypervolume, self.fidelity = bench, hypervolume, fidelity
        self.opt_key = bench.optimum("val_acc")[0].canonical().code
        self.best_val, self.best_cell = -math.inf, None
        self.cum_cost, self.found, self.evaluated = 0.0, False, []

    @property
    def columns(self) -> list[str]:
        return self.column_names(fidelity=self.fidelity is not None, hypervolume=self.hypervolume is not None)

    @staticmethod
    def column_names(fidelity: bool = False, hypervolume: bool = False) -> list[str]:
        """The trajectory's columns, with or without a fidelity and a hypervolume (known before a run)."""
        return (TRAJECTORY_COLUMNS + (["fidelity"] if fidelity else []) + (MO_COLUMNS if hypervolume else [])
                + EVENT_COLUMNS + BELIEF_COLUMNS)

    def row(self, query: int, point: Configuration, outcome: Outcome) -> dict[str, Any]:
        self.cum_cost += outcome.cost
        cell, level = split_point(point)
        at_target = level is None or level == self.fidelity.target
        val = outcome.metrics.get("val_acc", math.nan)
        if not outcome.failed and at_target and val > self.best_val:
            self.best_val, self.best_cell = val, cell
        self.found = self.found or (not outcome.failed and at_target and cell.canonical().code == self.opt_key)
        row = {
            "query": query,
            "cell": str(cell),
            "arch_index": self.bench.index_of(cell),
            "val_acc": val,
            "test_acc": outcome.info.get("test_acc", math.nan if outcome.failed else self.bench.lookup(cell)["test_acc"]),
            "failed": outcome.failed,
            "cost": outcome.cost,
            "cumulative_cost": self.cum_cost,
            "best_val_so_far": self.best_val,
            "best_cell": "" if self.best_cell is None else str(self.best_cell),
            "test_regret": self.bench.test_regret(self.best_cell) if self.best_cell is not None else math.nan,
            "found_optimum": self.found,
        }
        if self.fidelity is not None:
            row["fidelity"] = level
        if self.hypervolume is not None:
            if not outcome.failed:
                self.evaluated.append(cell.code)
            row["hypervolume"] = self.hypervolume.hypervolume(self.evaluated)
            row["hypervolume_ratio"] = row["hypervolume"] / self.hypervolume.true_hypervolume
        return row

    def recommended(self, row: dict[str, Any], rec: Configuration | None) -> None:
        rec = split_point(rec)[0]
        row["recommended_cell"] = str(rec) if rec is not None else ""
        row["recommended_test_regret"] = self.bench.test_regret(rec) if rec is not None else math.nan


class ObjectiveRecorder:
    """Trajectory rows of a search on your own objective: the told value of the strategy's metric,
    the running best (by observed value) and the strategy's recommendation, the cumulative cost,
    the space's known costs of each configuration (JSON), and where and when it ran."""

    found = False  # no table, no known optimum: a run stops at its budget

    def __init__(self, strategy: Strategy) -> None:
        self.space, self.metric, self.sign = strategy.space, strategy.metric, 1.0 if strategy.maximize else -1.0
        self.fidelity = _fidelity_of(strategy)
        self.base = self.space.base if self.fidelity is not None else self.space
        self.best, self.best_config, self.cum_cost = -math.inf, None, 0.0

    @property
    def columns(self) -> list[str]:
        return self.column_names(self.metric, fidelity=self.fidelity is not None)

    @staticmethod
    def column_names(metric: str, fidelity: bool = False) -> list[str]:
        """The trajectory's columns for the strategy's ``metric`` (known before a run)."""
        return (["query", "config"] + (["fidelity"] if fidelity else [])
                + [metric, "failed", "error", "cost", "cumulative_cost", "best_so_far",
                   "best_config", "recommended_config", "known_costs", "ask_seconds"]
                + [c for c in EVENT_COLUMNS if c != "error"] + BELIEF_COLUMNS)

    def row(self, query: int, point: Any, outcome: Outcome) -> dict[str, Any]:
        self.cum_cost += outcome.cost
        config, level = split_point(point)
        at_target = level is None or level == self.fidelity.target
        value = outcome.metrics.get(self.metric, math.nan)
        if not outcome.failed and at_target and self.sign * value > self.best:
            self.best, self.best_config = self.sign * value, config
        known = self.base.costs(config)  # may build the network (FLOPs): once per row
        row = {"query": query, "config": self.base.format(config), self.metric: value, "failed": outcome.failed,
               "cost": outcome.cost, "cumulative_cost": self.cum_cost,
               "best_so_far": self.sign * self.best if self.best_config is not None else math.nan,
               "best_config": "" if self.best_config is None else self.base.format(self.best_config),
               "known_costs": json.dumps(known) if known else ""}
        if self.fidelity is not None:
            row["fidelity"] = level
        return row

    def recommended(self, row: dict[str, Any], rec: Any) -> None:
        row["recommended_config"] = "" if rec is None else self.base.format(split_point(rec)[0])


def run_objective(
    strategy: Strategy,
    objective: Callable[[Any], Outcome | dict[str, float] | None],
    budget: int,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resources: dict[str, float] | None = None,
    engine: Engine | None = None,
    batch_size: int | None = None,
    max_retries: int = 0,
    transient: Sequence[type[BaseException]] = (),
    out: str | Path | RunFolder | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
    max_initial_failures: int | None = 5,
    timeout: float | None = None,
    stop_when: str | Callable[[dict[str, Any]], bool] | None = None,
) -> pd.DataFrame:
    """Run ``strategy`` (on its ``space``) against your ``objective`` until ``budget`` evaluations
    are told; the trajectory (``ObjectiveRecorder``'s columns).

    ``objective(config)`` (with a fidelity, ``objective(config, level)``: the strategy's
    ``fidelity``, e.g. ``"epochs=1,2,4,8"``, says at which level) trains and validates one
    configuration and returns its metrics (a dict
    holding the strategy's ``metric``, a bare number that is its value, or an ``Outcome`` with
    ``cost`` and ``info``); ``None`` or a raised error is a failed evaluation (retried up to
    ``max_retries`` when transient), and so is a NaN or infinite metric (the reason is in the
    trajectory's ``error``, for ``None`` too). A plain function that cannot be called so (one
    parameter with a fidelity) is a ``ConfigError`` before the first evaluation. A result of another shape (a string, a dict without the metric) stops
    the search with ``ObjectiveError`` at the first such evaluation, before it is told or logged
    as final, so that a resume after the fix runs it again; so do ``max_initial_failures``
    evaluations that all failed (None: never), and a run whose evaluations all failed.
    ``stop_when`` (e.g. ``"prob_best>=0.9"``): stop when the latest row meets it (``BELIEF_COLUMNS``:
    what the belief says of its recommendation, for strategies that report it; or any numeric
    column of the trajectory: another is a ``ConfigError`` before the first evaluation, as is a
    probability's bound outside [0, 1]); or a function of
    the latest row (a dict of the trajectory's columns) that returns True to stop, e.g. when a table
    benchmark of your own first evaluates its known optimum. A run that it ends before the budget
    has the rule in the trajectory's ``attrs["stopped_by"]``.
    ``timeout`` (seconds): an evaluation that has not returned by then is stopped and told as
    failed (a ``TimeoutError``; transient, so run again within ``max_retries``, if ``TimeoutError``
    is among ``transient``); in this process that means each evaluation runs in a worker process
    (``boed_nas.engine.inprocess``), so the objective must be importable there. With
    ``workers > 1`` (or a ``scheduler`` address) the evaluations run on Dask, asynchronously: the
    objective must be importable by the workers (a module-level function). ``out``, resume and
    faults: as ``run_search``.
    """
    check_int("budget", budget, 1)
    check_int("max_retries", max_retries, 0)
    if not callable(objective):
        raise ConfigError(f"objective must be a function of a configuration, got {objective!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch_size must be a positive integer or None (asynchronous), got {batch_size!r}")
    if max_initial_failures is not None:
        check_int("max_initial_failures", max_initial_failures, 1)
    check_objective_signature(objective, _fidelity_of(strategy))
    folder = out if isinstance(out, RunFolder) or out is None else RunFolder(out)
    own_engine = engine is None
    engine = engine if engine is not None else make_engine(MetricObjective(point_objective(strategy, objective),
                                                                           strategy.metric), workers,
                                                           scheduler=scheduler, resources=resources,
                                                           transient=tuple(transient), timeout=timeout)
    try:
        return _Loop(strategy, engine, ObjectiveRecorder(strategy), budget, batch_size, callback, False, 0.0,
                     max_retries, folder, progress, max_initial_failures=max_initial_failures, stop_when=stop_when).run()
    finally:
        if own_engine:
            engine.close()


def run_search(
    strategy: Strategy,
    bench: NB201Benchmark,
    budget: int,
    *,
    batch_size: int | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    hypervolume: HypervolumeReport | None = None,
    stop_at_optimum: bool = False,
    min_queries: int = 0,
    engine: Engine | None = None,
    workers: int = 1,
    clock: str = "wall",
    ask_seconds: float = 0.0,
    max_retries: int = 0,
    transient: Sequence[type[BaseException]] = (),
    out: str | Path | RunFolder | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
    timeout: float | None = None,
    stop_when: str | None = None,
) -> pd.DataFrame:
    """Run ``strategy`` on ``bench`` until ``budget`` paid queries are told; the trajectory.

    ``best_*`` and ``test_regret`` follow the best cell *by observed validation accuracy*;
    ``recommended_*`` follow the strategy's own ``recommend()`` (the BOED controller recommends
    by posterior mean). With ``hypervolume`` (a multi-objective search, see ``mo_report``), each
    row also has ``hypervolume`` and ``hypervolume_ratio`` of the cells evaluated so far. With
    ``stop_at_optimum`` the run ends at the query that first evaluates the validation optimum's
    class (running evaluations are abandoned), or at ``min_queries`` told queries if that comes
    later (a study can then read the regret at fixed query counts and still stop early).
    ``engine`` (else one made by ``make_engine(workers, clock)``), ``batch_size``, ``ask_seconds``
    (simulated seconds charged per ask), retries, ``timeout``, ``stop_when`` and ``out``: see the
    module docstring and ``run_objective``.
    ``callback(row)`` after every row; ``progress({"running", "done", "failed"})`` after every
    result.
    """
    check_int("budget", budget, 1)
    check_int("max_retries", max_retries, 0)
    check_int("min_queries", min_queries, 0)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ConfigError(f"batch_size must be a positive integer or None (asynchronous), got {batch_size!r}")
    if not (isinstance(ask_seconds, (int, float)) and math.isfinite(ask_seconds) and ask_seconds >= 0):
        raise ConfigError(f"ask_seconds must be a non-negative number of seconds, got {ask_seconds!r}")
    folder = out if isinstance(out, RunFolder) or out is None else RunFolder(out)
    recorder = TableRecorder(bench, hypervolume, fidelity=_fidelity_of(strategy))
    own_engine = engine is None
    engine = engine if engine is not None else make_engine(point_objective(strategy, bench.evaluate), workers, clock=clock,
                                                           transient=tuple(transient), timeout=timeout)
    try:
        return _Loop(strategy, engine, recorder, budget, batch_size, callback, stop_at_optimum, float(ask_seconds),
                     max_retries, folder, progress, min_queries, stop_when=stop_when).run()
    finally:
        if own_engine:
            engine.close()


class _Loop:
    """One run of ``run_search`` (its state between events)."""

    def __init__(self, strategy, engine, recorder, budget, batch_size, callback, stop_at_optimum, ask_charge,
                 max_retries, folder, progress, min_queries=0, max_initial_failures=None, stop_when=None):
        self.strategy, self.engine, self.recorder, self.budget = strategy, engine, recorder, budget
        self.batch_size, self.callback, self.stop_at_optimum = batch_size, callback, stop_at_optimum
        self.ask_charge, self.max_retries, self.folder, self.progress = ask_charge, max_retries, folder, progress
        self.min_queries = min_queries  # with stop_at_optimum: run on to at least this many told queries
        self.max_initial_failures = max_initial_failures  # stop when this many evaluations, all so far, failed
        if stop_when is not None and not isinstance(stop_when, str) and not callable(stop_when):
            raise ConfigError(f"stop_when must be a rule such as 'prob_best>=0.9' or a function of a trajectory row, "
                              f"got {stop_when!r}")
        self.stop_fn = stop_when if callable(stop_when) else None
        self.stop_rule = None if callable(stop_when) else parse_stop_rule(stop_when, recorder.columns)
        self.stop_text = (f"{getattr(stop_when, '__name__', 'a function')} (stop_when)" if callable(stop_when)
                          else stop_when)
        self.stopped_by: str | None = None  # the stop rule, once it has ended the run before its budget
        check_rule_reported(stop_when if not callable(stop_when) else None, type(strategy))
        if self.stop_rule is not None and self.stop_rule[0] in BELIEF_COLUMNS and isinstance(strategy.space, FidelitySpace):
            logger.warning("stop rule %r with a fidelity: the belief can be sure of a network it has only screened at a "
                           "cheap level (on NB201, 'prob_best>=0.9' would have stopped 81 of 90 such runs before the "
                           "optimum's target-level evaluation); stop on a budget or on time instead (docs/fidelity.md)",
                           stop_when)
        self.rows: list[dict[str, Any]] = []
        self.waiting: list[dict[str, Any]] = []  # rows told, their recommendation not yet taken
        self.queue: list[tuple[Configuration, int, float]] = []  # (cell, attempt, ask seconds): asked, not yet submitted
        self.asked: dict[int, float] = {}  # job id -> ask seconds
        self.failed = 0

    # -------------------------------------------------------------------------------- bookkeeping
    @property
    def told(self) -> int:
        return len(self.strategy.history)

    def stopping(self) -> bool:
        return (self.told >= self.budget or self.exhausted() or self.rule_met()
                or (self.stop_at_optimum and self.recorder.found and self.told >= self.min_queries))

    def rule_met(self) -> bool:
        """The stop rule (``stop_when``) holds on the latest written row."""
        if not self.rows:
            return False
        if self.stop_fn is not None:
            met = bool(self.stop_fn(dict(self.rows[-1])))
        elif self.stop_rule is None:
            return False
        else:
            column, op, bound = self.stop_rule
            try:
                value = float(self.rows[-1].get(column, math.nan))
            except (TypeError, ValueError):
                return False
            met = math.isfinite(value) and STOP_OPS[op](value, bound)
        if met and self.told < self.budget:  # said in the trajectory's attrs, and so in the CLI's summary
            self.stopped_by = self.stop_text
        return met

    def exhausted(self) -> bool:
        """Every configuration of the space is told (a space smaller than the budget)."""
        return self.strategy.remaining == 0 and not self.strategy.pending

    def _finish_rows(self) -> None:
        # a model-based strategy fits its model on the first call after a tell, be it ask() or
        # recommend(); a row takes its recommendation after the next ask, so that ask_seconds holds
        # the fit, as in a user's ask/tell loop that never asks for a recommendation (same history,
        # same model: the trajectory does not change)
        if not self.waiting:
            return
        rec = self.strategy.recommend()
        belief = self._belief()
        if self.folder is not None:  # logged, so that a row lost with the trajectory is rebuilt as it was
            self.folder.log_recommendation(self.told, "" if rec is None else self.strategy.space.format(rec), belief)
        self._write_rows(rec, belief)

    def _belief(self) -> dict[str, float]:
        """``BELIEF_COLUMNS`` from the strategy's latest report, if it reports on the current history."""
        reports = getattr(self.strategy, "reports", None)
        successes = sum(not o.outcome.failed for o in self.strategy.history)
        if not reports or not isinstance(reports[-1], dict) or reports[-1].get("observations") != successes:
            return {}
        return {k: float(reports[-1][k]) for k in BELIEF_COLUMNS if k in reports[-1]}

    def _write_rows(self, rec: Configuration | None, belief: dict[str, float]) -> None:
        """The waiting rows with the recommendation ``rec`` and what the belief said then."""
        for row in self.waiting:
            row.update({k: belief.get(k, math.nan) for k in BELIEF_COLUMNS})
            self.recorder.recommended(row, rec)
            self.rows.append(row)
            if self.folder is not None:
                self.folder.append_row(row, self.recorder.columns)
            if self.callback is not None:
                self.callback(row)
        self.waiting = []

    # -------------------------------------------------------------------------------- resume
    def _resume(self) -> None:
        """Bring a strategy loaded from a run folder up to the folder's log: rows for its history,
        tells for the logged results it missed; the cells it has pending run again first."""
        s, log = self.strategy, self.folder.evaluations() if self.folder is not None else []
        done_rows = self.folder.rows() if self.folder is not None else []
        finals = [e for e in log if e["final"]]
        space = s.space
        by_key = {space.key(space.parse(e["cell"])): e for e in finals}
        told = {space.key(o.cell) for o in s.history}
        for e in finals:  # finished and logged, not told before the crash: told now, never run again
            cell = space.parse(e["cell"])
            if space.key(cell) not in told:
                s.tell(cell, _told_outcome(e))
                told.add(space.key(cell))
        recommended = self.folder.recommendations() if self.folder is not None else {}
        for q, obs in enumerate(s.history, start=1):
            row = self.recorder.row(q, obs.cell, obs.outcome)
            e = by_key.get(space.key(obs.cell), {})
            row.update({"ask_seconds": e.get("ask_seconds", math.nan), **_events(e)})
            if q <= len(done_rows):
                self.rows.append(done_rows[q - 1])
                continue
            # lost (a crash between the tell and the row, a torn or deleted trajectory): rebuilt with
            # the recommendation logged at the time, if the log has it
            self.waiting.append(row)
            later = [n for n in recommended if n >= q]
            if later:
                text, belief = recommended[min(later)]
                self._write_rows(space.parse(text) if text else None, belief)
                self.waiting = []
        # rows still waiting (told, and no recommendation logged after them) are written at the next
        # ask or after the running cells start again, with what the belief says then: as in the run
        # that did not stop (written here, before the next ask, their belief columns were empty)
        self._restart_running(log)

    def _restart_running(self, log: list[dict[str, Any]]) -> None:
        """Bring the engine to where the run stopped: its clock (the simulated one goes on from the
        last logged start or end; ``Engine.resubmit``), and the cells asked and running then, run
        again in the order they started, each where and when it was (a real clock submits them
        now). A cell whose last attempt ended as a transient failure is retried first, at the next
        attempt; a cell asked and never started is queued. A run that had met its stop goes on as
        it would have: what was running ends (the first to finish is told), and what was asked and
        not started is dropped."""
        s, space = self.strategy, self.strategy.space
        starts = self.folder.submissions() if self.folder is not None else []
        now = max([float(e.get("finished") or 0.0) for e in log]
                  + [float(r.get("submitted") or 0.0) for r in starts if not r.get("cancelled")], default=0.0)
        pending = list(s.pending.values())
        # per cell: its starts (in order) and how many of them ended (a logged result, or a cancellation);
        # counted, not matched by attempt, since a resumed run starts attempts again
        started: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
        ends: dict[Any, int] = {}
        last_end: dict[Any, dict[str, Any]] = {}

        def key_of(text: str) -> Any:
            try:
                return space.key(space.parse(text))
            except (KeyError, ValueError, TypeError):
                return None  # not a cell of this space

        for i, rec in enumerate(starts):
            k = key_of(rec.get("cell"))
            if rec.get("cancelled"):
                ends[k] = ends.get(k, 0) + 1
            else:
                started.setdefault(k, []).append((i, rec))
        for e in log:
            k = key_of(e["cell"])
            ends[k] = ends.get(k, 0) + 1
            last_end[k] = e
        running, retries, queued = [], [], []
        for cell in pending:
            k = space.key(cell)
            mine = started.get(k, [])
            if len(mine) > ends.get(k, 0):  # its last start has not ended: it was running
                running.append((*mine[-1], cell))
            elif k in last_end and not last_end[k]["final"]:  # a transient failure, its retry not yet started
                e = last_end[k]
                retries.append((cell, int(e.get("attempt", 0)) + 1, _logged_seconds(e)))
            else:
                queued.append((cell, 0, math.nan))  # asked, never started
        running.sort(key=lambda r: r[0])
        room = self.engine.free_workers()
        queued = [(cell, int(rec.get("attempt", 0)), math.nan) for _, rec, cell in running[room:]] + queued
        running = running[:room]
        jobs = self.engine.resubmit([(cell, int(rec.get("attempt", 0)), float(rec.get("submitted") or 0.0),
                                      str(rec.get("worker") or "")) for _, rec, cell in running], now)
        for job, (_, rec, _) in zip(jobs, running):
            self.asked[job.id] = _logged_seconds(rec)
            if self.folder is not None:
                self.folder.log_submission(job, self.asked[job.id])
        if self.stopping():  # the stop was met: what was asked and not started is dropped, as the run drops it
            for cell, _, _ in retries + queued:
                s.forget_pending(cell)
            return
        self.queue.extend(retries + queued)  # retries first, as the run that did not stop puts them

    # -------------------------------------------------------------------------------- the loop
    def _fill(self) -> None:
        """Give every free worker a cell: from the queue, else asked now (one per free worker, or a
        synchronous batch when no evaluation is running)."""
        engine = self.engine
        while engine.free_workers() > 0 and not self.stopping():
            if not self.queue:
                room = self.budget - self.told - len(engine.running())
                left = self.strategy.remaining
                if left is not None:
                    room = min(room, left)
                if room <= 0:
                    break
                if self.batch_size is None:
                    n = 1
                elif engine.running():
                    break
                else:
                    n = min(self.batch_size, room)
                t0 = time.perf_counter()
                cells = self.strategy.ask(n)
                seconds = (time.perf_counter() - t0) / len(cells)
                engine.charge(self.ask_charge * len(cells))
                self.queue.extend((c, 0, seconds) for c in cells)
                self._finish_rows()
                if self.rule_met():  # the rows just written meet the stop rule: what was asked is not run
                    for cell, _, _ in self.queue:
                        self.strategy.forget_pending(cell)
                    self.queue = []
                    break
            cell, attempt, seconds = self.queue.pop(0)
            job = engine.submit(cell, attempt)
            self.asked[job.id] = seconds
            if self.folder is not None:  # so that a resume starts it again where and when it was
                self.folder.log_submission(job, seconds)
        self._finish_rows()

    def _stop_on_objective(self, result: Result, seconds: float, what: str) -> None:
        """The objective's result cannot be told: log the attempt (not as final: a resume runs the
        configuration again) and stop the search with one line."""
        if self.folder is not None:
            self.folder.log(result, seconds, final=False)
        s = self.strategy
        expected = (f"a dict of metrics holding {list(s.required_metrics)} (or a bare number, the value of "
                    f"{s.metric!r}), an Outcome, or None for a failed evaluation")
        raise ObjectiveError(f"the objective {what} for {s.space.format(result.job.cell)}; expected {expected}. "
                             "Nothing was told for it: fix the objective and resume")

    def _assess(self, result: Result, seconds: float) -> Result:
        """``result`` as it will be logged and told: a non-finite metric makes it a failure with the
        reason; a result that is not one stops the search (``_stop_on_objective``); an outcome
        without a cost is charged the seconds its evaluation took."""
        if result.returned is not None:
            self._stop_on_objective(result, seconds, f"returned {result.returned}")
        if result.outcome is None:
            return result
        if result.outcome.failed and not result.error:  # None (or a failed Outcome): say so in ``error``
            reason = result.outcome.info.get("error") or "the objective returned None (or Outcome(failed=True))"
            result = dataclasses.replace(result, error=str(reason))
        try:
            self.strategy.check_outcome(result.outcome)
        except NonFiniteMetricError as e:
            return dataclasses.replace(result, outcome=None, error=f"NonFiniteMetricError: {e}".split(";")[0],
                                       transient=False)
        except OutcomeError as e:
            self._stop_on_objective(result, seconds, f"returned an outcome that cannot be told ({e})")
        took = result.finished - result.started
        if not result.outcome.failed and not result.outcome.cost and math.isfinite(took) and took > 0:
            # an objective that reports no cost cost what its evaluation took (the engine's clock): a
            # fidelity whose costs are learned reads it, and the trajectory's cost column shows it
            result = dataclasses.replace(result, outcome=dataclasses.replace(result.outcome, cost=took))
        return result

    def _check_failures(self) -> None:
        """``ObjectiveError`` when every evaluation so far failed: after ``max_initial_failures`` of
        them, or at the end of the run."""
        s = self.strategy
        if not s.history or any(not o.outcome.failed for o in s.history):
            return
        if self.stopping() or (self.max_initial_failures is not None and len(s.history) >= self.max_initial_failures):
            self._finish_rows()
            first = next((r for r in self.rows if r.get("error")), None)
            where = "" if first is None else f"; the first error ({first.get('config', first.get('cell'))}): {first['error']}"
            raise ObjectiveError(f"all {len(s.history)} evaluations so far failed{where}. What was told is saved: fix "
                                 "the objective and resume")

    def _handle(self, result: Result) -> None:
        job = result.job
        seconds = self.asked.pop(job.id, math.nan)
        result = self._assess(result, seconds)
        retry = result.error is not None and result.transient and job.attempt < self.max_retries
        if self.folder is not None:
            self.folder.log(result, seconds, final=not retry)
        if retry:
            self.queue.insert(0, (job.cell, job.attempt + 1, seconds))
            return
        outcome = result.outcome if result.outcome is not None else _failure(result.error)
        self.failed += outcome.failed
        self.strategy.tell(job.cell, outcome)
        logger.info("evaluation %d of %d: %s %s", self.told, self.budget, self.strategy.space.format(job.cell),
                    f"failed ({result.error})" if outcome.failed else
                    f"{self.strategy.metric} {outcome.metrics.get(self.strategy.metric)}")
        row = self.recorder.row(self.told, job.cell, outcome)
        row.update({"ask_seconds": seconds, **_events(_event_record(result))})
        self.waiting.append(row)

    def run(self) -> pd.DataFrame:
        took_lock = self.folder is not None and self.folder.attach(self.strategy)
        try:
            return self._run()
        finally:
            if took_lock:
                self.folder.unlock()

    def _run(self) -> pd.DataFrame:
        self._resume()
        try:
            while True:
                if not self.stopping():
                    self._fill()
                if not self.engine.running():
                    break
                self._handle(self.engine.wait())
                self._check_failures()
                if self.progress is not None:
                    self.progress({"running": len(self.engine.running()), "done": self.told, "failed": self.failed})
                if self.stopping():  # stopped at the optimum: abandon what still runs or waits
                    for job in self.engine.running():
                        self.engine.cancel(job)
                        self.strategy.forget_pending(job.cell)
                        if self.folder is not None:  # ended: a resume must not start it again
                            self.folder.log_cancellation(job)
                    for cell, _, _ in self.queue:
                        self.strategy.forget_pending(cell)
                    self.queue = []
            self._finish_rows()
        finally:
            if self.folder is not None:
                self.folder.flush()
        if self.folder is not None and self.stopping():
            self.folder.mark_finished(self.told)
        traj = pd.DataFrame(self.rows, columns=self.recorder.columns)
        if self.stopped_by is not None:
            traj.attrs["stopped_by"] = self.stopped_by
        return traj


def _logged_seconds(record: Mapping[str, Any]) -> float:
    """A log record's ``ask_seconds`` (None where it was not measured) as the loop keeps it: NaN."""
    seconds = record.get("ask_seconds")
    return math.nan if seconds is None else float(seconds)


def _event_record(result: Result) -> dict[str, Any]:
    return {"worker": result.worker, "attempt": result.job.attempt, "error": result.error or "",
            "submitted": result.job.submitted, "started": result.started, "finished": result.finished}


def _events(e: dict[str, Any]) -> dict[str, Any]:
    """The event columns of a logged evaluation (empty where the log has nothing)."""
    text = ("worker", "error")
    return {k: (e.get(k) or "") if k in text else e.get(k, math.nan) for k in EVENT_COLUMNS}


def _failure(error: str | None) -> Outcome:
    """What an evaluation whose objective raised is told as: a failure (the error is in the log and the trajectory)."""
    return Outcome(failed=True, info={"error": error or ""})


def _told_outcome(e: dict[str, Any]) -> Outcome:
    """The outcome told for a logged evaluation: its outcome, or a failure."""
    return Outcome.from_dict(e["outcome"]) if e.get("outcome") is not None else _failure(e.get("error"))


__all__ = ["BELIEF_COLUMNS", "EVENT_COLUMNS", "MO_COLUMNS", "check_objective_signature", "check_rule_reported", "parse_stop_rule",
           "point_objective", "stop_rule_columns", "TRAJECTORY_COLUMNS", "ObjectiveRecorder", "RunFolder", "TableRecorder",
           "run_objective", "run_search"]
