"""What an evaluation returns, and the checks every strategy applies to it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NonFiniteMetricError, OutcomeError


@dataclass(frozen=True)
class Outcome:
    """The result of evaluating (training) one cell.

    ``metrics`` are what the search may see (validation accuracy, and costs known before or
    measured during training: params, FLOPs, latency). ``cost`` is what the evaluation cost (for
    NB201, its simulated training time). ``failed`` marks a trial that produced no usable metric.
    ``info`` carries what the search must *not* use, such as NB201's test accuracy; strategies
    drop it on ``tell``.
    """

    metrics: Mapping[str, float] = field(default_factory=dict)
    cost: float = 0.0
    failed: bool = False
    info: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, value: Outcome | Mapping[str, float] | None) -> Outcome:
        """An Outcome from an Outcome, a plain dict of metrics, or None (a failed trial)."""
        if isinstance(value, Outcome):
            return value
        if value is None:
            return cls(failed=True)
        if isinstance(value, Mapping):
            return cls(metrics=dict(value))
        raise OutcomeError(
            f"cannot read an outcome from {value!r}; expected an Outcome, a dict of metric -> float, "
            "or None for a failed trial"
        )

    def checked(self, metric: str | Sequence[str]) -> Outcome:
        """This outcome with its metrics checked: finite floats, ``metric`` (or each of several)
        present unless failed.

        Returns a copy without ``info``; raises ``OutcomeError`` naming the bad value
        (``NonFiniteMetricError`` for NaN or inf).
        """
        required = [metric] if isinstance(metric, str) else list(metric)
        metrics: dict[str, float] = {}
        for name, v in self.metrics.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
                raise OutcomeError(f"metric {name!r} = {v!r} is not a number")
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise OutcomeError(f"metric {name!r} = {v!r} is not a number") from None
            if not math.isfinite(f):
                raise NonFiniteMetricError(
                    f"metric {name!r} = {f!r} is not finite; report a trial that produced no metric as "
                    "failed (Outcome(failed=True) or tell(cell, None)) instead"
                )
            metrics[name] = f
        missing = [m for m in required if m not in metrics]
        if not self.failed and missing:
            what = f"the search metric {missing[0]!r}" if missing == required[:1] else f"the metrics {missing}"
            raise OutcomeError(f"outcome lacks {what}; got metrics {sorted(metrics)}")
        try:
            cost = float(self.cost)
        except (TypeError, ValueError):
            raise OutcomeError(f"cost = {self.cost!r} must be a finite non-negative number") from None
        if not math.isfinite(cost) or cost < 0:
            raise OutcomeError(f"cost = {self.cost!r} must be a finite non-negative number")
        if not isinstance(self.failed, (bool, int)) or isinstance(self.failed, int) and self.failed not in (0, 1):
            raise OutcomeError(f"failed = {self.failed!r} must be True or False")
        return Outcome(metrics=metrics, cost=cost, failed=bool(self.failed))

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": dict(self.metrics), "cost": self.cost, "failed": self.failed}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outcome:
        # read as written: a malformed value ("failed": "no") is refused by checked(), not guessed
        return cls(metrics=dict(d.get("metrics", {})), cost=d.get("cost", 0.0), failed=d.get("failed", False))
