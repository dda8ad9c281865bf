"""What an evaluation engine is: submit a cell, wait for the next result.

An engine runs a user's *objective* (``objective(cell) -> Outcome | dict of metrics | None``) on
its workers. The search loop (``boed_nas.experiment.loop.run_search``) keeps every free worker
busy with a cell the strategy asked for while the others still run, and tells the strategy each
result as it arrives. Three engines: ``InProcessEngine`` (one worker, the calling process: today's
serial loop), ``DaskEngine`` (many workers on a Dask cluster, a ``LocalCluster`` by default) and
``SimulatedEngine`` (a virtual clock for table benchmarks: an evaluation takes the training time
the table records).

An objective that raises is not a crash of the search: the result carries the error text and the
cell is told as failed, or evaluated again (up to the loop's ``max_retries``) when the error is
*transient*: a ``TransientError`` the objective raises, or an exception of a type the user lists.
"""

from __future__ import annotations

import math
import numbers
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..errors import ConfigError, OutcomeError
from ..spaces.protocol import Configuration
from ..outcome import Outcome

Objective = Callable[[Configuration], "Outcome | Mapping[str, float] | None"]


class TransientError(Exception):
    """Raise it from an objective for a failure worth another attempt (a lost GPU, a preempted node)."""


@dataclass(frozen=True)
class Job:
    """One attempt at evaluating ``cell``: the engine's ``id`` for it, the ``attempt`` (0 first),
    when it was submitted (engine clock, seconds) and, where the engine knows it at submission (the
    simulated one), its worker."""

    id: int
    cell: Configuration
    attempt: int = 0
    submitted: float = 0.0
    worker: str = ""


@dataclass(frozen=True)
class Result:
    """A finished job: the outcome (None when the objective raised), the error text, whether the
    error is transient, when it started and finished (engine clock) and on which worker."""

    job: Job
    outcome: Outcome | None
    error: str | None = None
    transient: bool = False
    started: float = 0.0
    finished: float = 0.0
    worker: str = ""
    returned: str | None = None
    """Set when the objective returned something that is not a result (a string, a list): what
    came back, as text. The search loop stops on it; it is never told."""


class Evaluation(NamedTuple):
    """What one call of an objective gave: the outcome, or the error text of what it raised (and
    whether that is transient), or (``returned``) the text of a value that is not a result."""

    outcome: Outcome | None
    error: str | None = None
    transient: bool = False
    returned: str | None = None


def evaluate(objective: Objective, cell: Configuration, transient: tuple[type[BaseException], ...] = ()
             ) -> Evaluation:
    """One call of ``objective`` on ``cell``; never raises for an exception of the objective (a
    ``KeyboardInterrupt`` still stops the run). An objective that calls ``sys.exit`` has failed
    this evaluation, it does not end the search."""
    try:
        value = objective(cell)
    except SystemExit as e:
        return Evaluation(None, f"SystemExit: the objective called sys.exit({e.code!r})")
    except Exception as e:  # the objective's own failure: recorded, told as failed or retried
        text = "".join(traceback.format_exception_only(type(e), e)).strip()
        return Evaluation(None, text, isinstance(e, (TransientError, *transient)))
    try:
        return Evaluation(Outcome.coerce(value))
    except OutcomeError:
        return Evaluation(None, returned=f"{value!r:.200} (a {type(value).__name__})")


def is_bare_number(value: Any) -> bool:
    """A real number (Python's, numpy's, a one-element tensor), not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    size = getattr(value, "size", None)
    size = size() if callable(size) else size
    return hasattr(value, "__float__") and hasattr(value, "dtype") and size == 1 and not isinstance(value, Mapping)


class MetricObjective:
    """``objective`` with its bare-number results read as the value of ``metric`` (Optuna's
    convention: ``return 93.1``); everything else passes through. Pickles when ``objective``
    does (the Dask engine sends it to the workers)."""

    def __init__(self, objective: Objective, metric: str) -> None:
        self.objective, self.metric = objective, metric

    def __call__(self, cell: Configuration) -> Any:
        value = self.objective(cell)
        return {self.metric: float(value)} if is_bare_number(value) else value

    def __repr__(self) -> str:
        return f"MetricObjective({self.objective!r}, {self.metric!r})"


class Engine(ABC):
    """Runs an objective's evaluations on ``n_workers`` workers."""

    n_workers: int = 1

    @abstractmethod
    def submit(self, cell: Configuration, attempt: int = 0) -> Job:
        """Start evaluating ``cell`` on a free worker (``free_workers() > 0``)."""

    @abstractmethod
    def wait(self) -> Result:
        """Block until a running job finishes; its result (the earliest, where several have)."""

    @abstractmethod
    def running(self) -> list[Job]:
        """The jobs submitted and not yet returned by ``wait``, in submission order."""

    @abstractmethod
    def now(self) -> float:
        """The engine's clock in seconds since it started (simulated for ``SimulatedEngine``)."""

    def free_workers(self) -> int:
        return self.n_workers - len(self.running())

    def resubmit(self, jobs: Sequence[tuple[Configuration, int, float, str]], now: float) -> list[Job]:
        """After a resume: start again the jobs that were running when the run stopped, given as
        (cell, attempt, submitted, worker) from the run folder, where ``now`` was the clock then. A
        real clock goes on from ``now`` (the time the run was stopped does not count) and submits
        them now; the simulated engine puts its clock and each job back where they were
        (``SimulatedEngine.resubmit``)."""
        self._go_on_from(now)
        return [self.submit(cell, attempt) for cell, attempt, _, _ in jobs]

    def _go_on_from(self, now: float) -> None:
        """A real clock (seconds since the run started, ``_t0`` its origin) read ``now`` or later from
        here on: a resumed run's times go on from the stopped one's, and a stop rule on time
        (``finished>=...``) keeps its budget."""
        origin = getattr(self, "_t0", None)
        if origin is not None and self.now() < now:
            self._t0 = origin - (now - self.now())

    def charge(self, seconds: float) -> None:
        """The search spent ``seconds`` choosing the next cell (a simulated clock advances; a real one
        has already moved)."""

    def cancel(self, job: Job) -> None:
        """Give up on a running job (its result is never returned)."""

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def check_timeout(timeout: Any) -> float | None:
    """``timeout`` (seconds per evaluation) as a float, or None for none; ``ConfigError`` otherwise."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds per evaluation (or None), got {timeout!r}")
    return float(timeout)


def timeout_error(timeout: float, transient: tuple[type[BaseException], ...]) -> tuple[str, bool]:
    """The error text of an evaluation stopped after ``timeout`` seconds, and whether it is
    transient (``TimeoutError`` among the user's ``transient`` types)."""
    return (f"TimeoutError: no result within {timeout:g} s; the evaluation was stopped",
            any(issubclass(TimeoutError, t) for t in transient))


def check_workers(n_workers: Any) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ConfigError(f"workers must be a positive integer, got {n_workers!r}")
    return n_workers


__all__ = ["Engine", "Evaluation", "Job", "MetricObjective", "Objective", "Result", "TransientError", "check_timeout",
           "check_workers", "evaluate", "is_bare_number", "timeout_error"]
