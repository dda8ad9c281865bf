"""A search's folder on disk, written so that a crash at any moment loses nothing that was told.

    run.json            what was run (strategy spec, seed, dataset, budget, workers...) and its status
    state.json          the strategy's state, saved after every ask and every tell (atomic, fsync)
    evaluations.jsonl   every finished evaluation, appended and fsync'd *before* it is told: cell,
                        outcome or error, attempt, worker, submitted / started / finished times
    trajectory.csv      one row per told evaluation, appended as results arrive

``RunFolder(out).check_new()`` refuses a folder that already holds a search (resume it, or choose
another folder); ``RunFolder(out).load_strategy()`` rebuilds the strategy of a stopped run, which
``run_search(..., out=out)`` then continues (see ``boed_nas.experiment.loop``).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine import Result
from ..errors import ConfigError, StateError
from ..strategy import Strategy

RUN_FORMAT = "boed-nas run"


class RunFolder:
    """The files of one search run (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._log = None

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
        """``ConfigError`` if the folder already holds a search: never overwrite what was told."""
        if self.holds_run():
            n = len(self.evaluations())
            raise ConfigError(f"{str(self.path)!r} already holds a search ({n} evaluations logged); resume it with "
                              "--resume, or choose a new --out")

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
        differ = {k: (meta.get(k), v) for k, v in expected.items() if meta.get(k) != v}
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
    def attach(self, strategy: Strategy) -> None:
        """Save ``strategy`` in this folder from now on (its ``state_path``)."""
        self.prepare()
        if strategy.state_path is None:
            strategy.state_path = self.state
        elif Path(strategy.state_path).resolve() != self.state.resolve():
            raise ConfigError(f"the strategy saves to {str(strategy.state_path)!r}, not to this run's "
                              f"{str(self.state)!r}")
        if not strategy.history and not strategy.pending and self.holds_run():
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
        entry = {"job": result.job.id, "cell": str(result.job.cell), "attempt": result.job.attempt,
                 "outcome": None if result.outcome is None else result.outcome.to_dict(),
                 "error": result.error, "transient": result.transient, "final": final,
                 "submitted": result.job.submitted, "started": result.started, "finished": result.finished,
                 "worker": result.worker, "ask_seconds": None if math.isnan(ask_seconds) else ask_seconds}
        if result.returned is not None:  # what the objective returned instead of a result (never told)
            entry["returned"] = result.returned
        if self._log is None:
            self._log = open(self.log_path, "a")
        self._log.write(json.dumps(entry) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    def evaluations(self) -> list[dict[str, Any]]:
        """Every logged evaluation, in order; a last line cut short by a crash is left out."""
        if not self.log_path.exists():
            return []
        out = []
        lines = self.log_path.read_text().splitlines()
        for i, line in enumerate(lines):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                if i == len(lines) - 1:
                    break  # the crash interrupted this write: the evaluation was not told either
                raise StateError(f"{str(self.log_path)!r} line {i + 1} is not a logged evaluation") from None
        return out

    # -------------------------------------------------------------------------------- trajectory
    def append_row(self, row: Mapping[str, Any], columns: Sequence[str]) -> None:
        new = not self.trajectory.exists() or self.trajectory.stat().st_size == 0
        with open(self.trajectory, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(dict(row))

    def rows(self) -> list[dict[str, Any]]:
        if not self.trajectory.exists() or self.trajectory.stat().st_size == 0:
            return []
        return pd.read_csv(self.trajectory, keep_default_na=False, na_values=[""]).to_dict("records")

    def flush(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


__all__ = ["RUN_FORMAT", "RunFolder"]
