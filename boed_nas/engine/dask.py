"""The Dask engine: evaluations on the workers of a Dask cluster (``dask.distributed``).

``DaskEngine(objective, n_workers=8)`` starts a ``LocalCluster`` of 8 worker processes (one
thread each) on this machine and stops it on ``close()``: zero set-up. ``DaskEngine(objective,
scheduler="tcp://host:8786")`` uses a cluster that is already running, e.g. one whose workers a
batch system started (SLURM through dask-jobqueue: see the README); ``n_workers`` is then how many
evaluations run at once (default: the cluster's worker threads). ``resources={"GPU": 1}`` reserves
a Dask worker resource per evaluation (workers declare theirs, e.g. ``dask worker --resources
GPU=2``; ``worker_resources`` declares them for the local cluster).

The objective is sent to the cluster once (``Client.scatter``), so it must pickle; each
evaluation runs it on one worker and returns the outcome (or the objective's error, as data). A
worker that dies while it evaluates is replaced by its nanny, and the evaluation runs again: the
scheduler reschedules it, or, where the cluster dropped it, this engine submits it again (and sends
the objective again if no worker holds it any more); ``resubmitted`` counts those. A job the
cluster gives up on (``KilledWorker``) comes back as a transient error, so the search loop retries
it within its ``max_retries``.
"""

from __future__ import annotations

import itertools
import logging
import socket
import time
from collections.abc import Mapping
from typing import Any

from distributed import Client, LocalCluster, get_worker
from distributed import wait as wait_for
from distributed.client import FuturesCancelledError

from ..errors import ConfigError
from .base import Configuration, Engine, Job, Objective, Result, check_workers, evaluate


def _run(objective: Objective, cell: Configuration, transient: tuple, t0: float) -> tuple:
    """On a worker: one evaluation, timed against the driver's clock start ``t0`` (wall seconds)."""
    started = time.time() - t0
    e = evaluate(objective, cell, transient)
    try:
        worker = get_worker().address
    except ValueError:
        worker = socket.gethostname()
    return e.outcome, e.error, e.transient, started, time.time() - t0, worker, e.returned


class DaskEngine(Engine):
    """Evaluations on a Dask cluster; see the module docstring."""

    def __init__(self, objective: Objective, n_workers: int | None = None, *, scheduler: str | None = None,
                 client: Client | None = None, resources: Mapping[str, float] | None = None,
                 worker_resources: Mapping[str, float] | None = None,
                 transient: tuple[type[BaseException], ...] = ()) -> None:
        self._cluster: LocalCluster | None = None
        self._own_client = client is None
        if client is None:
            if scheduler is None:
                n = check_workers(n_workers if n_workers is not None else 1)
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR,
                                             resources=dict(worker_resources) if worker_resources else None)
                client = Client(self._cluster)
            else:
                try:
                    client = Client(scheduler, timeout="20s")
                except OSError as e:
                    raise ConfigError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from e
        self.client = client
        threads = sum(client.nthreads().values())
        self.n_workers = check_workers(n_workers if n_workers is not None else max(threads, 1))
        self.resources = dict(resources) if resources else None
        self.transient = tuple(transient)
        self._t0 = time.time()
        self._objective_value = objective
        self._objective = client.scatter(objective, broadcast=True, hash=False)
        self._futures: dict[int, tuple[Job, Any]] = {}
        self._ids = itertools.count()
        self._resubmissions = itertools.count()
        self.resubmitted = 0  # evaluations the cluster lost (a worker died) and that were run again

    def now(self) -> float:
        return time.time() - self._t0

    def running(self) -> list[Job]:
        return [job for job, _ in sorted(self._futures.values(), key=lambda jf: jf[0].id)]

    def submit(self, cell: Configuration, attempt: int = 0) -> Job:
        job = Job(next(self._ids), cell, attempt, self.now())
        self._futures[job.id] = (job, self._start(job))
        return job

    def _start(self, job: Job) -> Any:
        if self._objective.status != "finished":  # every worker that held the objective died
            self._objective = self.client.scatter(self._objective_value, broadcast=True, hash=False)
        key = f"boed-nas-eval-{job.id}-{job.attempt}-{next(self._resubmissions)}-{id(self)}"
        return self.client.submit(_run, self._objective, job.cell, self.transient, self._t0, pure=False, key=key,
                                  resources=self.resources)

    def wait(self) -> Result:
        if not self._futures:
            raise RuntimeError("wait() with no job running")
        while True:
            try:
                wait_for([f for _, f in self._futures.values()], return_when="FIRST_COMPLETED")
            except FuturesCancelledError:
                pass  # the cluster dropped an evaluation (its worker died): it is run again below
            lost = [jid for jid, (_, f) in self._futures.items() if f.cancelled()]
            for jid in lost:
                job = self._futures[jid][0]
                self._futures[jid] = (job, self._start(job))
                self.resubmitted += 1
            done = sorted(jid for jid, (_, f) in self._futures.items() if f.done())
            if done:
                break
        job, future = self._futures.pop(done[0])
        if future.status == "finished":
            outcome, error, transient, started, finished, worker, returned = future.result()
            return Result(job, outcome, error, transient, started, finished, worker, returned)
        # the cluster gave up on it (KilledWorker after repeated worker deaths) or it was cancelled
        exc = future.exception() if future.status == "error" else None
        text = f"{type(exc).__name__}: {exc}" if exc is not None else f"evaluation {future.status} on the cluster"
        return Result(job, None, text, True, job.submitted, self.now(), "")

    def cancel(self, job: Job) -> None:
        entry = self._futures.pop(job.id, None)
        if entry is not None:
            entry[1].cancel()

    def close(self) -> None:
        for _, f in self._futures.values():
            f.cancel()
        self._futures.clear()
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
