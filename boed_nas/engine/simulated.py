"""The simulated engine: a virtual clock for table benchmarks.

Every evaluation is answered at once (a table lookup), but it *takes* ``duration(outcome)``
seconds of simulated time, by default the outcome's ``cost`` (for NB201, the training time the
table records for the cell). ``n_workers`` simulated workers run in parallel; the search loop
gives the next free worker the next ask, and ``wait()`` returns the job that finishes first. Each
ask is charged ``ask_seconds`` of simulated time (``charge``; default 0 in the loop), so a
simulated run is deterministic; the measured ask times are reported beside it. With one worker
the order of events is the serial loop's, so the trajectory is the in-process engine's.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from ..errors import ConfigError
from ..outcome import Outcome
from .base import Configuration, Engine, Evaluation, Job, Objective, Result, check_timeout, check_workers, evaluate, timeout_error


def _worker_number(label: str | None) -> int | None:
    """The number of a simulated worker's label (``"sim-3"`` -> 3); None for another label."""
    if isinstance(label, str) and label.startswith("sim-") and label[4:].isdigit():
        return int(label[4:])
    return None


def training_time(outcome: Outcome | None) -> float:
    """The simulated duration of an evaluation: its outcome's cost (0 for an objective that raised)."""
    return 0.0 if outcome is None else float(outcome.cost)


class SimulatedEngine(Engine):
    """``n_workers`` workers on a virtual clock; see the module docstring."""

    def __init__(self, objective: Objective, n_workers: int = 1, *,
                 duration: Callable[[Outcome | None], float] = training_time,
                 transient: tuple[type[BaseException], ...] = (), timeout: float | None = None) -> None:
        self.objective, self.n_workers = objective, check_workers(n_workers)
        self.duration, self.transient = duration, tuple(transient)
        self.timeout = check_timeout(timeout)  # simulated seconds: a longer evaluation is stopped then
        self._clock = 0.0
        self._heap: list[tuple[float, int, Result]] = []  # (finish, job id, result)
        self._busy: set[int] = set()  # worker numbers
        self._next_id = 0

    def now(self) -> float:
        return self._clock

    def charge(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ConfigError(f"an ask is charged a non-negative number of seconds, got {seconds!r}")
        self._clock += float(seconds)

    def running(self) -> list[Job]:
        return [r.job for _, _, r in sorted(self._heap, key=lambda e: e[1])]

    def submit(self, cell: Configuration, attempt: int = 0) -> Job:
        return self._submit(cell, attempt, self._clock, None)

    def resubmit(self, jobs: Sequence[tuple[Configuration, int, float, str]], now: float) -> list[Job]:
        """The jobs running when a run stopped, each on its worker from the time it was submitted, and
        the clock at ``now`` (a resumed simulated run goes on as if it had not stopped: the results
        are the objective's, computed again, and finish when they did)."""
        out = [self._submit(cell, attempt, float(submitted), worker) for cell, attempt, submitted, worker in jobs]
        self._clock = max(self._clock, float(now))
        return out

    def _submit(self, cell: Configuration, attempt: int, at: float, label: str | None) -> Job:
        if len(self._busy) >= self.n_workers:
            raise RuntimeError(f"all {self.n_workers} simulated workers are busy")
        free = set(range(self.n_workers)) - self._busy
        wanted = _worker_number(label)
        worker = wanted if wanted in free else min(free)
        self._busy.add(worker)
        job = Job(self._next_id, cell, attempt, at, f"sim-{worker}")
        self._next_id += 1
        e = evaluate(self.objective, cell, self.transient)
        seconds = float(self.duration(e.outcome))
        if not seconds >= 0:
            raise ConfigError(f"duration of {cell} is {seconds!r}; expected a non-negative number of seconds")
        if self.timeout is not None and seconds > self.timeout:  # stopped at the timeout, its result never seen
            seconds = self.timeout
            e = Evaluation(None, *timeout_error(self.timeout, self.transient))
        result = Result(job, e.outcome, e.error, e.transient, at, at + seconds, f"sim-{worker}", e.returned)
        heapq.heappush(self._heap, (result.finished, job.id, result))
        return job

    def wait(self) -> Result:
        if not self._heap:
            raise RuntimeError("wait() with no job running")
        finished, _, result = heapq.heappop(self._heap)
        self._clock = max(self._clock, finished)
        self._busy.discard(_worker_number(result.worker))
        return result

    def cancel(self, job: Job) -> None:
        for i, (_, jid, r) in enumerate(self._heap):
            if jid == job.id:
                self._heap.pop(i)
                heapq.heapify(self._heap)
                self._busy.discard(_worker_number(r.worker))
                return
