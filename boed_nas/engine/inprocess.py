"""The in-process engine: one worker, the calling process; each job runs when it is waited for."""

from __future__ import annotations

import time

from .base import Configuration, Engine, Job, Objective, Result, evaluate


class InProcessEngine(Engine):
    """One worker: ``wait()`` runs the job submitted last and returns its result (wall clock)."""

    n_workers = 1

    def __init__(self, objective: Objective, transient: tuple[type[BaseException], ...] = ()) -> None:
        self.objective, self.transient = objective, tuple(transient)
        self._t0 = time.perf_counter()
        self._jobs: list[Job] = []
        self._next_id = 0

    def now(self) -> float:
        return time.perf_counter() - self._t0

    def running(self) -> list[Job]:
        return list(self._jobs)

    def submit(self, cell: Configuration, attempt: int = 0) -> Job:
        if self._jobs:
            raise RuntimeError("the in-process engine has one worker and it is busy")
        job = Job(self._next_id, cell, attempt, self.now())
        self._next_id += 1
        self._jobs.append(job)
        return job

    def wait(self) -> Result:
        if not self._jobs:
            raise RuntimeError("wait() with no job running")
        job = self._jobs.pop(0)
        started = self.now()
        e = evaluate(self.objective, job.cell, self.transient)
        return Result(job, e.outcome, e.error, e.transient, started, self.now(), "local", e.returned)

    def cancel(self, job: Job) -> None:
        self._jobs = [j for j in self._jobs if j.id != job.id]
