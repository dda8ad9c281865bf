"""Where evaluations run: in this process, on a Dask cluster, or on a simulated clock.

The search loop (``boed_nas.experiment.loop.run_search``) keeps every worker of an engine busy:
each time one frees up, the strategy is asked for one cell while the others still run (they are
pending in the strategy, so it proposes none of them and, for ``boed``, conditions its belief on
them). ``make_engine(objective, workers, clock=...)`` picks the engine for a command line.
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import (
    Engine,
    check_timeout,
    Evaluation,
    Job,
    MetricObjective,
    Objective,
    Result,
    TransientError,
    check_workers,
    evaluate,
)
from .inprocess import InProcessEngine
from .simulated import SimulatedEngine, training_time

CLOCKS = ("wall", "simulated")


def make_engine(objective: Objective, workers: int = 1, *, clock: str = "wall", scheduler: str | None = None,
                resources: dict[str, float] | None = None,
                transient: tuple[type[BaseException], ...] = (), timeout: float | None = None) -> Engine:
    """``clock="simulated"``: a ``SimulatedEngine`` of ``workers``; ``"wall"``: in this process for one
    worker and no scheduler, else a ``DaskEngine`` (a ``LocalCluster`` of ``workers``, or the cluster
    at ``scheduler``). ``timeout``: seconds per evaluation (simulated seconds on a simulated clock),
    after which it is stopped and reported as a ``TimeoutError``."""
    check_workers(workers)
    check_timeout(timeout)
    if clock not in CLOCKS:
        raise ConfigError(f"unknown clock {clock!r}; expected one of {list(CLOCKS)}")
    if clock == "simulated":
        if scheduler is not None:
            raise ConfigError("a simulated clock runs no cluster: leave out the scheduler address")
        return SimulatedEngine(objective, workers, transient=transient, timeout=timeout)
    if workers == 1 and scheduler is None and not resources:
        return InProcessEngine(objective, transient, timeout=timeout)
    from .dask import (
        DaskEngine,  # imports dask.distributed (a second): only when a cluster is used
    )

    return DaskEngine(objective, workers, scheduler=scheduler, resources=resources, transient=transient, timeout=timeout)


__all__ = ["CLOCKS", "Engine", "Evaluation", "InProcessEngine", "Job", "MetricObjective", "Objective", "Result", "SimulatedEngine", "TransientError",
           "check_workers", "evaluate", "make_engine", "training_time"]
