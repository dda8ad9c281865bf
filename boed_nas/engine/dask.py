"""The Dask engine: evaluations on the workers of a Dask cluster (``dask.distributed``).

``DaskEngine(objective, n_workers=8)`` starts a ``LocalCluster`` of 8 worker processes (one
thread each) on this machine and stops it on ``close()``: zero set-up. ``DaskEngine(objective,
scheduler="tcp://host:8786")`` uses a cluster that is already running, e.g. one whose workers a
batch system started (SLURM through dask-jobqueue: see the README); ``n_workers`` is then how many
evaluations run at once (default: the cluster's worker threads). ``resources={"GPU": 1}`` reserves
a Dask worker resource per evaluation (workers declare theirs, e.g. ``dask worker --resources
GPU=2``; ``worker_resources`` declares them for the local cluster).

The objective travels with each evaluation (it must pickle: a module-level function, or a small
object), not scattered once: scattered data dies with the workers that hold it, and every
evaluation that needed it was then cancelled with it. Each evaluation runs the objective on one
worker and returns the outcome (or the objective's error, as data). A worker that dies while it
evaluates is replaced by its nanny, and the evaluation runs again: the scheduler reschedules it,
or, where the cluster dropped it, this engine submits it again; ``resubmitted`` counts those, and an
evaluation the cluster loses ``max_lost`` times (default 3) comes back failed (``WorkerDied``)
instead of being run again forever. A job the cluster gives up on (``KilledWorker``: its
evaluation killed a worker more often than the scheduler allows) comes back as a transient error,
so the search loop retries it within its ``max_retries`` and then tells it as failed with that
reason.

With ``timeout`` (seconds), an evaluation that has not returned that long after it was submitted
is given up: its worker is restarted (the only way to stop a running task; the nanny starts a new
one) and it comes back as a ``TimeoutError``. When the cluster has no worker left, the engine
waits up to ``worker_wait`` seconds (default 120) for one to come back, then raises
``ClusterError``; so does a lost scheduler. The dashboard of the ``LocalCluster`` is off unless
``dashboard_address`` is given (e.g. ``":8787"``).
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from concurrent.futures import CancelledError
import socket
import time
from collections.abc import Mapping
from typing import Any

import cloudpickle
import dask
from distributed import Client, LocalCluster, get_worker
from distributed import wait as wait_for
from distributed.client import FutureCancelledError, FuturesCancelledError
from distributed.scheduler import KilledWorker

from ..errors import ClusterError, ConfigError, check_int
from .base import Configuration, Engine, Job, Objective, Result, check_timeout, check_workers, evaluate, timeout_error

logger = logging.getLogger(__name__)


def _load(payload: bytes) -> Objective:
    """On a worker: the objective from its pickled bytes (unpickled once per worker process)."""
    cached = _LOADED.get(payload)
    if cached is None:
        cached = _LOADED[payload] = cloudpickle.loads(payload)
    return cached


_LOADED: dict[bytes, Objective] = {}

# Dask's scheduler by default sends a worker slightly more tasks than it has threads
# (``worker-saturation`` 1.1: two tasks for a one-thread worker). An evaluation that kills its worker
# then takes the task queued behind it down too, and the scheduler counts that task as a suspect:
# after ``allowed-failures`` + 1 such deaths an evaluation that did nothing wrong fails with
# ``KilledWorker`` (seen in this project's CI). At 1.0 a task waits on the scheduler until a thread
# is free, so only the evaluation that ran when a worker died is counted.
_ONE_TASK_PER_THREAD = {"distributed.scheduler.worker-saturation": 1.0}


def _warn_if_tasks_queue_on_workers(client: Client) -> None:
    """On a cluster this engine did not start: say so (once, in the log) where its scheduler sends
    workers more tasks than threads, since an evaluation that kills its worker then fails others."""
    try:
        saturation = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION)
    except Exception:  # a scheduler that does not allow run_on_scheduler, or an older one
        return
    if saturation > 1.0:  # a float > 0, or inf (no queue on the scheduler at all)
        logger.warning("the Dask scheduler queues tasks on busy workers (distributed.scheduler.worker-saturation = "
                       "%s): an evaluation that kills its worker can then fail the one queued behind it with "
                       "KilledWorker; start the scheduler with worker-saturation 1.0 (DASK_DISTRIBUTED__SCHEDULER__"
                       "WORKER_SATURATION=1.0) to avoid it", saturation)


def _run(payload: bytes, cell: Configuration, transient: tuple, t0: float) -> tuple:
    """On a worker: one evaluation, timed against the driver's clock start ``t0`` (wall seconds)."""
    started = time.time() - t0
    e = evaluate(_load(payload), cell, transient)
    try:
        worker = get_worker().address
    except ValueError:
        worker = socket.gethostname()
    return e, started, time.time() - t0, worker


def _loadable(payload: bytes) -> str | None:
    """On a worker: None if the objective unpickles (imports) there, else the error's text."""
    try:
        _load(payload)
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


def _rerun_by_a_worker() -> bool:
    """Whether this process is a spawned worker that is importing the parent's ``__main__`` script
    (as ``__mp_main__``) and the script itself asked for a cluster: a script without a main guard."""
    if "__mp_main__" not in sys.modules:  # multiprocessing's name for the parent's script in a spawned child
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "__mp_main__":
            return True
        frame = frame.f_back
    return False


class DaskEngine(Engine):
    """Evaluations on a Dask cluster; see the module docstring."""

    def __init__(self, objective: Objective, n_workers: int | None = None, *, scheduler: str | None = None,
                 client: Client | None = None, resources: Mapping[str, float] | None = None,
                 worker_resources: Mapping[str, float] | None = None,
                 transient: tuple[type[BaseException], ...] = (), timeout: float | None = None,
                 max_lost: int = 3, worker_wait: float = 120.0, dashboard_address: str | None = None) -> None:
        self._cluster: LocalCluster | None = None
        self._own_client = client is None
        self.timeout = check_timeout(timeout)
        self.max_lost = check_int("max_lost", max_lost, 1)
        self.worker_wait = float(worker_wait)
        self.scheduler = scheduler
        if client is None:
            if scheduler is None:
                n = check_workers(n_workers if n_workers is not None else 1)
                # without a dashboard the scheduler still serves health checks over HTTP, by default on
                # 8787: on a port of the system's choosing instead, so no fixed port is taken
                if _rerun_by_a_worker():
                    # this process is a Dask worker starting up, and importing the user's script ran the
                    # script's search again: the script has no main guard. Exit quietly; the parent says why.
                    raise SystemExit(1)
                try:
                    # one task per worker thread at a time (see _ONE_TASK_PER_THREAD)
                    with dask.config.set(_ONE_TASK_PER_THREAD):
                        self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                     dashboard_address=dashboard_address, silence_logs=logging.ERROR,
                                                     resources=dict(worker_resources) if worker_resources else None,
                                                     scheduler_kwargs=None if dashboard_address else
                                                     {"dashboard_address": "127.0.0.1:0"})
                except RuntimeError as e:
                    main = sys.modules.get("__main__")
                    hint = (f" Worker processes import your script {getattr(main, '__file__', '')!r} again: put the "
                            "search under `if __name__ == \"__main__\":` (Python's rule for scripts that start "
                            "processes)." if getattr(main, "__file__", None) else "")
                    raise ConfigError(f"Dask could not start {n} local worker processes ({e}).{hint}") from None
                client = Client(self._cluster)
            else:
                try:
                    client = Client(scheduler, timeout="20s")
                except OSError as e:
                    raise ConfigError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from e
        self.client = client
        if self._cluster is None:
            _warn_if_tasks_queue_on_workers(client)
        threads = sum(client.nthreads().values())
        self.n_workers = check_workers(n_workers if n_workers is not None else max(threads, 1))
        self.resources = dict(resources) if resources else None
        self.transient = tuple(transient)
        self._t0 = time.time()
        self._objective = objective
        # sent as bytes and unpickled by the task itself: a worker that fails to unpickle a task's
        # arguments drops its connection to the scheduler and the task hangs, where this reports
        try:
            self._payload = cloudpickle.dumps(objective)
        except Exception as e:
            raise ConfigError(f"the objective {objective!r} cannot be sent to Dask workers ({e}); use a module-level "
                              "function") from None
        self._check_loadable()
        self._futures: dict[int, tuple[Job, Any]] = {}
        self._lost: dict[int, int] = {}  # job id -> times the cluster lost it
        self._ids = itertools.count()
        self._resubmissions = itertools.count()
        self.resubmitted = 0  # evaluations the cluster lost (a worker died) and that were run again
        self._no_workers_since: float | None = None
        self._restarts: list[threading.Thread] = []  # worker restarts after a timeout, each in a thread
        self._closing = False

    def now(self) -> float:
        return time.time() - self._t0

    def running(self) -> list[Job]:
        return [job for job, _ in sorted(self._futures.values(), key=lambda jf: jf[0].id)]

    def free_workers(self) -> int:
        # a worker still restarting after a timeout is not free: a task sent now would queue behind the
        # hung one until the restart kills it (and count against its own timeout meanwhile)
        self._restarts = [t for t in self._restarts if t.is_alive()]
        return max(self.n_workers - len(self.running()) - len(self._restarts), 0)

    def submit(self, cell: Configuration, attempt: int = 0) -> Job:
        job = Job(next(self._ids), cell, attempt, self.now())
        self._futures[job.id] = (job, self._start(job))
        return job

    def _start(self, job: Job) -> Any:
        key = f"boed-nas-eval-{job.id}-{job.attempt}-{next(self._resubmissions)}-{id(self)}"
        return self.client.submit(_run, self._payload, job.cell, self.transient, self._t0, pure=False, key=key,
                                  resources=self.resources)

    def wait(self) -> Result:
        if not self._futures:
            raise RuntimeError("wait() with no job running")
        while True:
            self._check_cluster()
            try:
                wait_for([f for _, f in self._futures.values()], timeout=self._next_check(),
                         return_when="FIRST_COMPLETED")
            except FuturesCancelledError:
                pass  # the cluster dropped an evaluation (its worker died): it is run again below
            except TimeoutError:
                pass  # a deadline or a cluster check is due
            except OSError as e:  # the connection to the scheduler broke
                raise ClusterError(self._lost_scheduler(e)) from None
            for jid in [jid for jid, (_, f) in self._futures.items() if f.cancelled()]:
                given_up = self._rerun_lost(jid)
                if given_up is not None:
                    return given_up
            for jid in sorted(jid for jid, (_, f) in self._futures.items() if f.done()):
                job, future = self._futures[jid]
                exc = None
                if future.status == "finished":
                    try:
                        e, started, finished, worker = future.result()
                    except (FutureCancelledError, FuturesCancelledError, CancelledError):
                        # finished, but its result was lost with its worker ("already forgotten")
                        given_up = self._rerun_lost(jid)
                        if given_up is not None:
                            return given_up
                        continue
                    except KilledWorker as killed:  # given up on between the status check and the read
                        exc = killed
                    else:
                        del self._futures[jid]
                        self._lost.pop(jid, None)
                        return Result(job, e.outcome, e.error, e.transient, started, finished, worker, e.returned)
                del self._futures[jid]
                self._lost.pop(jid, None)
                # the cluster gave up on it (KilledWorker after repeated worker deaths) or it was cancelled
                if exc is None and future.status == "error":
                    exc = future.exception()
                text = f"{type(exc).__name__}: {exc}" if exc is not None else f"evaluation {future.status} on the cluster"
                return Result(job, None, text, True, job.submitted, self.now(), "")
            expired = self._expired()
            if expired is not None:
                return expired

    def _rerun_lost(self, jid: int) -> Result | None:
        """Submit a job the cluster lost again; after ``max_lost`` losses, its failed result instead."""
        job = self._futures[jid][0]
        self._lost[jid] = self._lost.get(jid, 0) + 1
        if self._lost[jid] >= self.max_lost:  # it takes its worker down with it: given up
            del self._futures[jid]
            return Result(job, None, f"WorkerDied: the cluster lost this evaluation {self._lost.pop(jid)} times "
                          "(its worker died each time)", False, job.submitted, self.now(), "")
        self._futures[jid] = (job, self._start(job))
        self.resubmitted += 1
        return None

    def _check_loadable(self) -> None:
        """``ConfigError`` (one line) unless a worker can load the objective: an objective that only
        the driver can import would otherwise fail every evaluation, one by one."""
        probe = self.client.submit(_loadable, self._payload, pure=False, resources=self.resources)
        try:
            error = probe.result(timeout=self.worker_wait)
        except TimeoutError:
            probe.cancel()
            raise ClusterError(f"no Dask worker took a task within {self.worker_wait:g} s") from None
        if error is not None:
            raise ConfigError(f"the objective {self._objective!r} cannot be loaded on the Dask workers ({error}); it "
                              "must be importable there (install its package on the workers, or define it in an "
                              "importable module)")

    def _next_check(self) -> float:
        """Seconds until the earliest deadline of a running evaluation, or the next look at the cluster."""
        wait = 5.0
        if self.timeout is not None:
            first = min(job.submitted for job, _ in self._futures.values())
            wait = min(wait, max(first + self.timeout - self.now(), 0.0) + 0.05)
        return wait

    def _expired(self) -> Result | None:
        """The first running evaluation past its deadline, given up (its worker restarted), as a result."""
        if self.timeout is None:
            return None
        late = [(jid, job, f) for jid, (job, f) in self._futures.items() if self.now() - job.submitted >= self.timeout]
        if not late:
            return None
        jid, job, future = min(late, key=lambda x: x[1].submitted)
        del self._futures[jid]
        workers = [w for w, keys in self.client.processing().items() if future.key in keys]
        future.cancel()
        if workers:  # a running task cannot be stopped, only its worker: the nanny starts a new one
            # in a thread of its own: a restart takes seconds (a minute where the worker is slow to come
            # back), and the other workers' results are told meanwhile, not held behind it
            thread = threading.Thread(target=self._restart, args=(workers,), name="boed-nas-restart", daemon=True)
            thread.start()
            self._restarts.append(thread)
        text, transient = timeout_error(self.timeout, self.transient)
        return Result(job, None, text, transient, job.submitted, self.now(), workers[0] if workers else "")

    def _restart(self, workers: list[str]) -> None:
        try:
            status = self.client.restart_workers(workers, timeout=60, raise_for_error=False)
        except Exception as e:  # the worker is gone already, or the cluster is closing
            status = {w: f"{type(e).__name__}: {e}" for w in workers}
        failed = {w: v for w, v in status.items() if v != "OK"}
        if failed and not self._closing:
            logger.warning("restarting worker %s after a timeout: %s", list(failed), ", ".join(map(str, failed.values())))

    def _check_cluster(self) -> None:
        """``ClusterError`` when the scheduler is lost or no worker has been there for ``worker_wait`` s."""
        if self.client.status not in ("running", "connecting", "newly-created"):
            raise ClusterError(self._lost_scheduler(None))
        try:
            n = len(self.client.nthreads())
        except OSError as e:
            raise ClusterError(self._lost_scheduler(e)) from None
        if n:
            self._no_workers_since = None
            return
        now = self.now()
        if self._no_workers_since is None:
            self._no_workers_since = now
            logger.warning("the Dask cluster has no worker; waiting up to %g s for one", self.worker_wait)
        elif now - self._no_workers_since > self.worker_wait:
            raise ClusterError(f"the Dask cluster has had no worker for {self.worker_wait:g} s; what was told is saved: "
                               "resume when workers are back")

    def _lost_scheduler(self, e: BaseException | None) -> str:
        where = self.scheduler or "the local cluster"
        return (f"lost the Dask scheduler ({where}){f': {e}' if e else ''}; what was told is saved: resume when it is "
                "back")

    def cancel(self, job: Job) -> None:
        entry = self._futures.pop(job.id, None)
        if entry is not None:
            entry[1].cancel()

    def close(self) -> None:
        self._closing = True
        for thread in self._restarts:  # a restart under way, a little time to finish before the cluster closes
            thread.join(timeout=10)
        for _, f in self._futures.values():
            f.cancel()
        self._futures.clear()
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
