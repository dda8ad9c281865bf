"""The search loop: ask, evaluate, tell, record; one trajectory row per paid query.

``run_search(strategy, benchmark, budget)`` is the whole protocol on a table benchmark: the
strategy sees the validation metric of one training (``Outcome.metrics``) and nothing else;
test accuracy travels in ``Outcome.info`` for the report. Regret is reported on *test* accuracy
against the table's best.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ConfigError
from ..nb201.benchmark import NB201Benchmark
from ..strategy import Strategy

if TYPE_CHECKING:
    from ..mo.pareto import HypervolumeReport


TRAJECTORY_COLUMNS = [
    "query", "cell", "arch_index", "val_acc", "test_acc", "failed", "cost", "cumulative_cost",
    "best_val_so_far", "best_cell", "test_regret", "recommended_cell", "recommended_test_regret",
    "found_optimum", "ask_seconds",
]


MO_COLUMNS = ["hypervolume", "hypervolume_ratio"]


def run_search(
    strategy: Strategy,
    bench: NB201Benchmark,
    budget: int,
    *,
    batch_size: int = 1,
    callback: Callable[[dict[str, Any]], None] | None = None,
    hypervolume: HypervolumeReport | None = None,
    stop_at_optimum: bool = False,
) -> pd.DataFrame:
    """Run ``strategy`` on ``bench`` for ``budget`` paid queries; one trajectory row per query.

    ``best_*`` and ``test_regret`` follow the best cell *by observed validation accuracy*;
    ``recommended_*`` follow the strategy's own ``recommend()`` (the BOED controller recommends
    by posterior mean). With ``hypervolume`` (a multi-objective search, see ``mo_report``), each
    row also has ``hypervolume`` and ``hypervolume_ratio`` of the cells evaluated so far. With
    ``stop_at_optimum`` the run ends at the query that first evaluates the validation optimum's
    class (``benchmarks/ablation.py``: queries to the optimum without paying the whole budget).
    """
    if budget < 1 or batch_size < 1:
        raise ConfigError(f"budget and batch_size must be positive, got budget={budget}, batch_size={batch_size}")
    opt_cell, _ = bench.optimum("val_acc")
    opt_key = opt_cell.canonical().code
    rows: list[dict[str, Any]] = []
    best_val, best_cell = -math.inf, None
    cum_cost, found = 0.0, False
    evaluated: list[int] = []
    waiting: dict[str, Any] | None = None  # the last row told, its recommendation not yet taken

    def finish(row: dict[str, Any]) -> None:
        # a model-based strategy fits its model on the first call after a tell, be it ask() or
        # recommend(); the last row of a batch takes its recommendation after the next ask, so
        # that ask_seconds holds the fit, as it does in a user's ask/tell loop that never asks for
        # a recommendation (same history, same model: the trajectory does not change)
        rec = strategy.recommend()
        row["recommended_cell"] = str(rec) if rec is not None else ""
        row["recommended_test_regret"] = bench.test_regret(rec) if rec is not None else math.nan
        rows.append(row)
        if callback is not None:
            callback(row)

    while len(rows) + (waiting is not None) < budget and not (found and stop_at_optimum):
        t0 = time.perf_counter()
        cells = strategy.ask(min(batch_size, budget - len(rows) - (waiting is not None)))
        ask_seconds = (time.perf_counter() - t0) / len(cells)
        if waiting is not None:
            finish(waiting)
            waiting = None
        for k, cell in enumerate(cells):
            out = bench.evaluate(cell)
            strategy.tell(cell, out)
            cum_cost += out.cost
            val = out.metrics.get("val_acc", math.nan)
            if not out.failed and val > best_val:
                best_val, best_cell = val, cell
            found = found or cell.canonical().code == opt_key
            row = {
                "query": len(rows) + 1,
                "cell": str(cell),
                "arch_index": bench.index_of(cell),
                "val_acc": val,
                "test_acc": out.info.get("test_acc", math.nan),
                "failed": out.failed,
                "cost": out.cost,
                "cumulative_cost": cum_cost,
                "best_val_so_far": best_val,
                "best_cell": str(best_cell),
                "test_regret": bench.test_regret(best_cell) if best_cell is not None else math.nan,
                "found_optimum": found,
                "ask_seconds": ask_seconds,
            }
            if hypervolume is not None:
                if not out.failed:
                    evaluated.append(cell.code)
                row["hypervolume"] = hypervolume.hypervolume(evaluated)
                row["hypervolume_ratio"] = row["hypervolume"] / hypervolume.true_hypervolume
            last = k == len(cells) - 1 and len(rows) + 1 < budget and not (found and stop_at_optimum)
            if last:
                waiting = row
            else:
                finish(row)
            if found and stop_at_optimum:
                break
    if waiting is not None:
        finish(waiting)
    return pd.DataFrame(rows, columns=TRAJECTORY_COLUMNS + (MO_COLUMNS if hypervolume is not None else []))
