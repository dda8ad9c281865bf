"""The in-process engine: one worker, the calling process; each job runs when it is waited for.

With a ``timeout``, each evaluation runs in a worker process instead (one, started with
``multiprocessing``'s "spawn" and kept between evaluations): an evaluation that has not returned
after ``timeout`` seconds is stopped with its process (a thread cannot be stopped), reported as a
``TimeoutError``, and the next evaluation gets a fresh process; an objective that kills its process
(``os._exit``, a crash in native code) fails that evaluation only. The objective must then be
importable by the worker process (a module-level function, as for the Dask engine); it is loaded
once per process, before the clock of an evaluation starts. "spawn", not
"fork": a process forked from one that has run torch's thread pool can hang in its first parallel
operation.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
import traceback
from typing import Any

from ..errors import ConfigError
from .base import Configuration, Engine, Evaluation, Job, Objective, Result, check_timeout, evaluate, timeout_error


STARTUP_SECONDS = 300.0
"""How long a worker process may take to start and import the objective (not counted in the timeout)."""


def _serve(conn: Any) -> None:
    """The worker process: load the objective, say so, then evaluate what the engine sends until it
    closes the pipe."""
    try:
        objective, transient = pickle.loads(conn.recv_bytes())
    except Exception as e:
        conn.send(("error", "".join(traceback.format_exception_only(type(e), e)).strip()))
        return
    conn.send(("ready", None))
    while True:
        try:
            cell = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(evaluate(objective, cell, transient))


class _WorkerProcess:
    """One worker process for evaluations with a timeout (see the module docstring)."""

    def __init__(self, objective: Objective, transient: tuple) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        try:
            self._payload = pickle.dumps((objective, transient))
        except Exception as e:
            raise ConfigError(f"with a timeout every evaluation runs in a worker process, so the objective must be "
                              f"importable there (a module-level function); {objective!r} cannot be sent ({e})") from None
        self._objective = objective

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child,), daemon=True, name="boed-nas-evaluation")
        self._proc.start()
        child.close()
        self._conn = parent
        parent.send_bytes(self._payload)
        status = parent.recv() if parent.poll(STARTUP_SECONDS) else ("error", f"not ready within {STARTUP_SECONDS:g} s")
        if status[0] != "ready":
            self.stop()
            raise ConfigError(f"the objective {self._objective!r} cannot be loaded in a worker process: {status[1]}")

    def stop(self) -> None:
        if self._proc is not None:
            self._conn.close()
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join()
            self._proc = self._conn = None

    def run(self, cell: Configuration, timeout: float, transient: tuple) -> Evaluation:
        if self._proc is None or not self._proc.is_alive():
            self.stop()
            self._start()
        self._conn.send(cell)
        if not self._conn.poll(timeout):
            self.stop()
            return Evaluation(None, *timeout_error(timeout, transient))
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            self._proc.join(5)
            code = self._proc.exitcode
            self.stop()
            return Evaluation(None, f"WorkerDied: the evaluation's process ended without a result (exit code {code})")


class InProcessEngine(Engine):
    """One worker: ``wait()`` runs the job submitted last and returns its result (wall clock);
    with ``timeout`` (seconds), in a worker process that is stopped when it overruns."""

    n_workers = 1

    def __init__(self, objective: Objective, transient: tuple[type[BaseException], ...] = (),
                 timeout: float | None = None) -> None:
        self.objective, self.transient = objective, tuple(transient)
        self.timeout = check_timeout(timeout)
        self._worker = _WorkerProcess(objective, self.transient) if self.timeout is not None else None
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
        if self._worker is None:
            e = evaluate(self.objective, job.cell, self.transient)
        else:
            e = self._worker.run(job.cell, self.timeout, self.transient)
        return Result(job, e.outcome, e.error, e.transient, started, self.now(), "local", e.returned)

    def cancel(self, job: Job) -> None:
        self._jobs = [j for j in self._jobs if j.id != job.id]

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
