"""A search's folder on disk, written so that a crash at any moment loses nothing that was told.

    run.json            what was run (strategy spec, seed, dataset, budget, workers...) and its status
    state.json          the strategy's state, saved after every ask and every tell (atomic, fsync)
    evaluations.jsonl   every finished evaluation, appended and fsync'd *before* it is told: cell,
                        outcome or error, attempt, worker, submitted / started / finished times
    trajectory.csv      one row per told evaluation, appended as results arrive
    recommendations.jsonl  the strategy's recommendation after each row (to rebuild lost rows)
    submissions.jsonl   every evaluation as it starts: cell, attempt, submitted time, worker (so that a
                        resumed run on the simulated clock starts again what was running, where and
                        when it was)

``RunFolder(out).check_new()`` refuses a folder that already holds a search, or what is left of
one (resume it, or choose another folder); ``RunFolder(out).load_strategy()`` rebuilds the strategy
of a stopped run, which ``run_search(..., out=out)`` then continues (see
``boed_nas.experiment.loop``).

One writer per folder: the process that runs a search holds an exclusive lock on ``.lock``
(``fcntl.flock``, which the system releases when the process ends, however it ends: a lock left by
a dead process is simply taken). A second process gets ``FolderInUseError`` naming the holder's
pid. A crash in the middle of a write can leave a last line cut short in ``evaluations.jsonl`` or
``trajectory.csv``: readers leave it out (it was never acknowledged) and writers cut it off before
they append. ``recommendations.jsonl`` records, after each row, the strategy's recommendation at
that moment (``{"told": n, "recommended": ...}``), so that rows lost with ``trajectory.csv`` are
rebuilt as they were.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os

try:
    import fcntl
except ImportError:  # Windows: no flock; one writer per folder is then the user's to keep
    fcntl = None  # type: ignore[assignment]
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine import Result
from ..errors import ConfigError, FolderInUseError, StateError
from ..spaces.fidelity import AtFidelity
from ..strategy import Strategy

RUN_FORMAT = "boed-nas run"


class RunFolder:
    """The files of one search run (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._log = None
        self._job_offset: int | None = None  # added to this session's job ids (set at its first log)
        self._lock = None
        self._appending: set[Path] = set()  # files this object has checked for a torn last line
        self._space: Any = None  # the attached strategy's space (``_attach``)

    # -------------------------------------------------------------------------------- paths
    @property
    def state(self) -> Path:
        return self.path / "state.json"

    @property
    def meta_path(self) -> Path:
        return self.path / "run.json"

    @property
    def log_path(self) -> Path:
        return self.path / "evaluations.jsonl"

    @property
    def trajectory(self) -> Path:
        return self.path / "trajectory.csv"

    @property
    def recommendations_path(self) -> Path:
        return self.path / "recommendations.jsonl"

    @property
    def submissions_path(self) -> Path:
        return self.path / "submissions.jsonl"

    # -------------------------------------------------------------------------------- checks
    def prepare(self) -> None:
        """Create the folder; a clear ``ConfigError`` (one line) if it cannot be a folder we write in."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"output folder {str(self.path)!r} is a file; choose a folder (--out)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise ConfigError(f"cannot write in output folder {str(self.path)!r}: {e.strerror or e}") from e

    def holds_run(self) -> bool:
        return self.state.exists() or self.log_path.exists()

    def check_new(self) -> None:
        """``ConfigError`` if the folder already holds a search, or files of one (a trajectory without
        its state): never overwrite or append to what an earlier run wrote."""
        if self.holds_run():
            n = len(self.evaluations())
            raise ConfigError(f"{str(self.path)!r} already holds a search ({n} evaluations logged); resume it with "
                              "--resume (in Python: the strategy RunFolder(out).load_strategy() gives, with space=SPACE "
                              "for a space without a ref, and the same out), or choose a new --out")
        left = [p.name for p in (self.trajectory, self.recommendations_path, self.submissions_path,
                                 self.path / "summary.json") if p.exists()]
        if left:
            raise ConfigError(f"{str(self.path)!r} holds {left} of an earlier run but not its state.json and "
                              "evaluations.jsonl, so it cannot be resumed; choose a new --out (or remove them)")

    # -------------------------------------------------------------------------------- the lock
    def lock(self) -> bool:
        """Hold this folder for this process (until ``unlock`` or the process ends): True if this
        call took the lock, False if this object held it already; ``FolderInUseError`` naming the
        pid of the live process that holds it."""
        if self._lock is not None or fcntl is None:
            return False
        self.prepare()
        f = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            who = "this process (another RunFolder of it)" if holder == str(os.getpid()) else f"another process (pid {holder})"
            raise FolderInUseError(f"{str(self.path)!r} is being run by {who}; one process per run folder: wait for "
                                   "it, or stop it, then resume") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock = f
        return True

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the flock
            self._lock = None

    # -------------------------------------------------------------------------------- run.json
    def write_meta(self, meta: Mapping[str, Any]) -> None:
        _write_json(self.meta_path, {"format": RUN_FORMAT, "version": 1, "status": "running", **meta})

    def meta(self) -> dict[str, Any]:
        try:
            meta = json.loads(self.meta_path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{str(self.path)!r} holds no search run (no run.json); nothing to resume") from None
        except (OSError, json.JSONDecodeError) as e:
            raise StateError(f"cannot read {str(self.meta_path)!r}: {e}") from e
        if not isinstance(meta, dict) or meta.get("format") != RUN_FORMAT:
            raise StateError(f"{str(self.meta_path)!r} is not a boed-nas run description")
        return meta

    def check_meta(self, expected: Mapping[str, Any]) -> dict[str, Any]:
        """The saved run description; ``ConfigError`` naming every setting that differs from ``expected``."""
        meta = self.meta()
        def same(k: str, v: Any) -> bool:
            if k not in meta:  # a setting that runs made before it existed do not record: off (None, False)
                return v is None or v is False
            return meta[k] == v

        differ = {k: (meta.get(k), v) for k, v in expected.items() if not same(k, v)}
        if differ:
            text = ", ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in differ.items())
            raise ConfigError(f"--resume of {str(self.path)!r} with other settings than the run had ({text}); "
                              "resume with the same settings, or choose a new --out")
        return meta

    def mark_finished(self, evaluations: int) -> None:
        if self.meta_path.exists():
            meta = self.meta()
            meta.update(status="finished", evaluations=evaluations)
            _write_json(self.meta_path, meta)

    def finished(self) -> bool:
        return self.meta_path.exists() and self.meta().get("status") == "finished"

    # -------------------------------------------------------------------------------- strategy
    def attach(self, strategy: Strategy) -> bool:
        """Save ``strategy`` in this folder from now on (its ``state_path``); the folder is locked
        for this process (``lock``: True if this call took the lock)."""
        self.prepare()
        took = self.lock()
        self._job_offset = None  # a new engine numbers its jobs from 0 again: on from the log's
        try:
            self._attach(strategy)
        except BaseException:
            if took:
                self.unlock()
            raise
        return took

    def _attach(self, strategy: Strategy) -> None:
        self._space = strategy.space  # writes the points of a multi-fidelity search ("<config>@epochs=12")
        if strategy.state_path is None:
            strategy.state_path = self.state
        elif Path(strategy.state_path).resolve() != self.state.resolve():
            raise ConfigError(f"the strategy saves to {str(strategy.state_path)!r}, not to this run's "
                              f"{str(self.state)!r}")
        if not strategy.history and not strategy.pending:  # a new search: nothing of an old one here
            self.check_new()

    def load_strategy(self, **overrides: Any) -> Strategy:
        """The strategy of the run in this folder, as it was after its last ask or tell; ``overrides``
        replace saved settings (``space=SPACE`` for a space that was given without a ``ref``)."""
        if not self.state.exists():
            raise ConfigError(f"{str(self.path)!r} holds no strategy state (state.json); nothing to resume")
        return Strategy.load(self.state, state_path=self.state, **overrides)

    # -------------------------------------------------------------------------------- the log
    def log(self, result: Result, ask_seconds: float, *, final: bool) -> None:
        """Append one finished evaluation (before it is told), flushed and fsync'd."""
        text = self._cell_text(result.job.cell)
        if self._job_offset is None:  # an engine numbers its jobs from 0: after a resume, on from the log's
            self._start_appending(self.log_path)
            self._job_offset = 1 + max((int(e.get("job", -1)) for e in self.evaluations()), default=-1)
        entry = {"job": result.job.id + self._job_offset, "cell": text, "attempt": result.job.attempt,
                 "outcome": None if result.outcome is None else result.outcome.to_dict(),
                 "error": result.error, "transient": result.transient, "final": final,
                 "submitted": result.job.submitted, "started": result.started, "finished": result.finished,
                 "worker": result.worker, "ask_seconds": None if math.isnan(ask_seconds) else ask_seconds}
        if result.returned is not None:  # what the objective returned instead of a result (never told)
            entry["returned"] = result.returned
        self._append_log(entry)

    def _cell_text(self, cell: Any) -> str:
        """A cell as the log writes it (a point at a level: the space's format of it)."""
        return self._space.format(cell) if isinstance(cell, AtFidelity) else str(cell)

    def log_submission(self, job: Any, ask_seconds: float) -> None:
        """Record that ``job`` started (its cell, attempt, submitted time and worker), fsync'd: what a
        resume needs to start it again where and when it was (the simulated clock)."""
        text = self._cell_text(job.cell)
        self._append_record(self.submissions_path, {
            "cell": text, "attempt": job.attempt, "submitted": job.submitted, "worker": job.worker,
            "ask_seconds": None if math.isnan(ask_seconds) else ask_seconds})

    def log_cancellation(self, job: Any) -> None:
        """Record that a started ``job`` was given up on (a run that stopped before its budget): it
        ended, and a resume does not start it again."""
        text = self._cell_text(job.cell)
        self._append_record(self.submissions_path, {"cell": text, "attempt": job.attempt, "cancelled": True})

    def submissions(self) -> list[dict[str, Any]]:
        """Every logged start of an evaluation, in order (a last line cut short by a crash left out)."""
        return _read_jsonl(self.submissions_path, "a logged submission")

    def log_recommendation(self, told: int, recommended: str, belief: Mapping[str, float] | None = None) -> None:
        """Record the recommendation after ``told`` evaluations (its trajectory row's) and what the
        belief said of it, fsync'd."""
        self._append_record(self.recommendations_path,
                            {"told": told, "recommended": recommended, "belief": dict(belief or {})})

    def _append_record(self, path: Path, record: Mapping[str, Any]) -> None:
        """One JSON line appended to ``path`` (a torn last line cut off first), flushed and fsync'd."""
        self._start_appending(path)
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _append_log(self, entry: Mapping[str, Any]) -> None:
        if self._log is None:
            self._start_appending(self.log_path)
            self._log = open(self.log_path, "a")
        self._log.write(json.dumps(entry) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    def _start_appending(self, path: Path) -> None:
        """Before this object's first append to ``path``: cut a torn last line a crash left (once:
        while the folder is locked, no other process appends to it)."""
        if path not in self._appending:
            _cut_torn_line(path)
            self._appending.add(path)

    def evaluations(self) -> list[dict[str, Any]]:
        """Every logged evaluation, in order; a last line cut short by a crash is left out."""
        return _read_jsonl(self.log_path, "a logged evaluation")

    def recommendations(self) -> dict[int, tuple[str, dict[str, float]]]:
        """The logged recommendation after each number of told evaluations, with the belief's figures."""
        return {int(r["told"]): (r["recommended"], r.get("belief") or {})
                for r in _read_jsonl(self.recommendations_path, "a recommendation")}

    # -------------------------------------------------------------------------------- trajectory
    def append_row(self, row: Mapping[str, Any], columns: Sequence[str]) -> None:
        self._start_appending(self.trajectory)
        new = not self.trajectory.exists() or self.trajectory.stat().st_size == 0
        # one line per row (an error's text may span lines): a torn last line is then one row
        flat = {k: v.replace("\r", " ").replace("\n", " | ") if isinstance(v, str) else v for k, v in row.items()}
        with open(self.trajectory, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(flat)

    def rows(self) -> list[dict[str, Any]]:
        """The trajectory's rows; a last line cut short by a crash is left out."""
        if not self.trajectory.exists() or self.trajectory.stat().st_size == 0:
            return []
        text = self.trajectory.read_text()
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
        if text.count("\n") < 2:  # the header alone
            return []
        return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=["", "nan", "NaN"]).to_dict("records")

    def flush(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, in order; a last line a crash cut short is left out (it
    was never acknowledged), any other unreadable line is a ``StateError``."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            rec = None
        if not isinstance(rec, dict):
            if i == len(lines) - 1 and not text.endswith("\n"):
                break
            raise StateError(f"{str(path)!r} line {i + 1} is not {what}")
        out.append(rec)
    return out


def _cut_torn_line(path: Path) -> None:
    """Cut a last line that a crash left without its newline (it was never acknowledged), so that
    the next append starts a line of its own."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        data = f.seek(0) or f.read()
        f.truncate(data.rfind(b"\n") + 1)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


__all__ = ["RUN_FORMAT", "RunFolder"]
