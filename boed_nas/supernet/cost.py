"""Cost awareness: per-op cost tables fitted to the benchmark, expected cost and budget penalties.

A cell's cost is modelled additively, ``cost(cell) ~ b + sum_e c[e, op_e]``, with the 30
coefficients ``c`` (``none`` fixed at 0 per edge, so the model is identifiable) and the intercept
``b`` fitted by least squares to the benchmark's measured column over all 15,625 cells. The
expected cost of the mixing weights ``p`` is then ``b + sum_e sum_o p[e, o] c[e, o]``:
differentiable in alpha.

Units: ``latency`` in milliseconds (the table stores seconds), ``flops_M`` in MFLOPs,
``params_M`` in millions of parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from boed_nas.nb201.space import N_CELLS, N_EDGES, N_OPS, NONE, all_cells

from ..errors import ConfigError

COST_METRICS = {"latency": 1000.0, "flops_M": 1.0, "params_M": 1.0}
"""Metric name -> factor from the table's unit to the unit used here."""
UNITS = {"latency": "ms", "flops_M": "MFLOPs", "params_M": "M params"}


@dataclass(frozen=True)
class CostTable:
    """An additive per-(edge, op) cost model of one metric, with its fit error."""

    metric: str
    dataset: str
    intercept: float
    table: np.ndarray  # (6, 5), OPS order, none = 0
    rmse: float
    mae: float
    r2: float
    mape: float  # mean |error| / value, in %
    max_abs_err: float
    value_range: tuple[float, float]

    @property
    def unit(self) -> str:
        return UNITS[self.metric]

    def predict(self, cells) -> np.ndarray:
        ops = np.array([c.ops for c in cells]).reshape(-1, N_EDGES)
        return self.intercept + self.table[np.arange(N_EDGES), ops].sum(axis=1)

    def expected(self, weights: torch.Tensor) -> torch.Tensor:
        """Expected cost under mixing weights (6 x 5): ``b + sum p * c``."""
        t = torch.as_tensor(self.table, dtype=weights.dtype, device=weights.device)
        return self.intercept + (weights * t).sum()

    def summary(self) -> dict:
        return {"metric": self.metric, "unit": self.unit, "dataset": self.dataset, "intercept": self.intercept,
                "table": self.table.round(6).tolist(), "rmse": self.rmse, "mae": self.mae, "r2": self.r2,
                "mape_pct": self.mape, "max_abs_err": self.max_abs_err, "value_range": list(self.value_range)}


def _design() -> np.ndarray:
    ops = np.array([c.ops for c in all_cells()])  # (15625, 6)
    X = np.zeros((N_CELLS, N_EDGES * N_OPS))
    X[np.arange(N_CELLS)[:, None], np.arange(N_EDGES) * N_OPS + ops] = 1.0
    keep = [e * N_OPS + o for e in range(N_EDGES) for o in range(N_OPS) if o != NONE]
    return np.hstack([np.ones((N_CELLS, 1)), X[:, keep]])


def fit_cost_table(bench, metric: str = "latency") -> CostTable:
    """Least-squares fit of the additive model to ``bench``'s column ``metric``.

    ``bench`` is an ``NB201Benchmark`` (arrays indexed by cell code). ConfigError if the metric is
    unknown or its column is missing or constant (e.g. the all-zero FLOPs placeholder).
    """
    if metric not in COST_METRICS:
        raise ConfigError(f"unknown cost metric {metric!r}; expected one of {list(COST_METRICS)}")
    y = np.asarray(getattr(bench, metric), dtype=np.float64) * COST_METRICS[metric]
    if y.shape != (N_CELLS,) or not np.all(np.isfinite(y)):
        raise ConfigError(f"benchmark column {metric!r} is missing or has non-finite values")
    if np.ptp(y) == 0:
        raise ConfigError(f"benchmark column {metric!r} of {getattr(bench, 'dataset', '?')} is constant "
                         f"({y[0]}): no cost to fit (the FLOPs column is a zero placeholder until measured); "
                         f"use another cost metric, e.g. 'latency' or 'params_M'")
    X = _design()
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    table = np.zeros((N_EDGES, N_OPS))
    i = 1
    for e in range(N_EDGES):
        for o in range(N_OPS):
            if o != NONE:
                table[e, o] = coef[i]
                i += 1
    err = X @ coef - y
    nz = np.abs(y) > 0
    return CostTable(
        metric=metric, dataset=str(getattr(bench, "dataset", "?")), intercept=float(coef[0]), table=table,
        rmse=float(np.sqrt(np.mean(err**2))), mae=float(np.mean(np.abs(err))),
        r2=float(1 - np.sum(err**2) / np.sum((y - y.mean()) ** 2)),
        mape=float(100 * np.mean(np.abs(err[nz]) / np.abs(y[nz]))), max_abs_err=float(np.max(np.abs(err))),
        value_range=(float(y.min()), float(y.max())),
    )


