"""NAS-Bench-201 as a benchmark: the real 200-epoch results of all 15,625 cells, offline.

The table ships inside the package (``boed_nas/data/nb201.csv.gz``, see PROVENANCE.md there).

The NB201 protocol, with splits named explicitly:

==================  ==============================  ==============================
dataset             search sees (``val_acc``)       reported (``test_acc``)
==================  ==============================  ==============================
``cifar10``         ``cifar10-valid`` / x-valid      ``cifar10`` / ori-test
                    (trained on the 25k train half)  (trained on train+valid)
``cifar100``        ``cifar100`` / x-valid           ``cifar100`` / x-test
``ImageNet16-120``  ``ImageNet16-120`` / x-valid     ``ImageNet16-120`` / x-test
==================  ==============================  ==============================

``evaluate(cell)`` answers as one training run would: the validation accuracy of *one* training
seed (NB201 has 2 or 3 per cell; which one is drawn from the benchmark's seed and the cell, so
every strategy run with the same seed sees the same noise), or the mean over seeds if asked. Test
accuracy travels in ``Outcome.info`` for reporting only; strategies never see it.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from boed_nas.nb201.space import N_CELLS, Cell
from boed_nas.outcome import Outcome
from boed_nas.seeding import as_rng

from ..errors import ConfigError, UnknownDatasetError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    prefix: str
    val_split: str
    test_split: str
    num_classes: int
    image_size: int


DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo("cifar10", "c10", "cifar10-valid/x-valid", "cifar10/ori-test", 10, 32),
    "cifar100": DatasetInfo("cifar100", "c100", "cifar100/x-valid", "cifar100/x-test", 100, 32),
    "ImageNet16-120": DatasetInfo("ImageNet16-120", "in16", "ImageNet16-120/x-valid", "ImageNet16-120/x-test", 120, 16),
}
_ALIASES = {k.lower(): k for k in DATASETS} | {"c10": "cifar10", "c100": "cifar100", "in16": "ImageNet16-120",
                                               "imagenet16": "ImageNet16-120", "imagenet": "ImageNet16-120"}

METRICS = ("val_acc", "params_M", "flops_M", "latency")
"""Metrics a search may see. ``val_acc`` is learned by training; the others are known costs."""


def resolve_dataset(name: str) -> DatasetInfo:
    key = _ALIASES.get(str(name).lower())
    if key is None:
        raise UnknownDatasetError(f"unknown dataset {name!r}; expected one of {list(DATASETS)}")
    return DATASETS[key]


@functools.lru_cache(maxsize=1)
def load_table() -> pd.DataFrame:
    """The shipped table, one row per cell, indexed by cell code (0..15624)."""
    with resources.files("boed_nas.nb201.data").joinpath("nb201.csv.gz").open("rb") as raw, gzip.open(raw) as f:
        df = pd.read_csv(f, dtype={"op_code": str})
    df.index = pd.Index([int(s.replace("-", ""), 5) for s in df["op_code"]], name="code")
    return df.sort_index()


@dataclass
class LedgerEntry:
    query: int
    cell: Cell
    cost: float
    cached: bool


class NB201Benchmark:
    """The NB201 table for one dataset, answering queries and keeping a ledger of their cost.

    Parameters
    ----------
    dataset:
        ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``.
    seed:
        Seeds which training seed answers ``evaluate(cell)`` (with ``val="sample"``).
    """

    def __init__(self, dataset: str = "cifar10", *, seed: int = 0) -> None:
        self.info = resolve_dataset(dataset)
        self.dataset = self.info.name
        as_rng(seed)  # validates the seed
        self.seed = int(seed)
        p = self.info.prefix
        t = load_table()
        self._val_seeds = t[[f"{p}_val_s{s}" for s in (1, 2, 3)]].to_numpy(np.float64)
        self._nseeds = (~np.isnan(self._val_seeds)).sum(axis=1)
        self.val_mean = np.nanmean(self._val_seeds, axis=1)
        self.test_acc = t[f"{p}_test"].to_numpy(np.float64)
        self.params_M = t[f"{p}_params_M"].to_numpy(np.float64)
        self.flops_M = t[f"{p}_flops_M"].to_numpy(np.float64)
        self.latency = t[f"{p}_latency"].to_numpy(np.float64)
        self.train_time = t[f"{p}_train_time"].to_numpy(np.float64)
        self.arch_index = t["arch_index"].to_numpy(np.int64)
        self._code_of_index = np.empty(N_CELLS, dtype=np.int64)
        self._code_of_index[self.arch_index] = np.arange(N_CELLS)
        self.ledger: list[LedgerEntry] = []
        self._cache: dict[int, Outcome] = {}

    def __repr__(self) -> str:
        return f"NB201Benchmark({self.dataset!r}, seed={self.seed}; search on {self.info.val_split}, report {self.info.test_split})"

    # ------------------------------------------------------------------ lookups (free)
    def cell_of_index(self, arch_index: int) -> Cell:
        """The cell with NB201 ``arch_index`` (the official API's index)."""
        if not 0 <= int(arch_index) < N_CELLS:
            raise ConfigError(f"arch_index {arch_index!r} is not in 0..{N_CELLS - 1}")
        return Cell.from_code(int(self._code_of_index[int(arch_index)]))

    def index_of(self, cell: Cell | str | int) -> int:
        return int(self.arch_index[Cell.parse(cell).code])

    def n_training_seeds(self, cell: Cell | str | int) -> int:
        return int(self._nseeds[Cell.parse(cell).code])

    def lookup(self, cell: Cell | str | int) -> dict[str, float]:
        """Every tabulated value of ``cell`` (no ledger entry): for reporting and analysis."""
        c = Cell.parse(cell).code
        return {
            "val_acc_mean": float(self.val_mean[c]),
            "test_acc": float(self.test_acc[c]),
            "params_M": float(self.params_M[c]),
            "flops_M": float(self.flops_M[c]),
            "latency": float(self.latency[c]),
            "train_time": float(self.train_time[c]),
            "n_training_seeds": int(self._nseeds[c]),
            "arch_index": int(self.arch_index[c]),
        }

    def optimum(self, metric: Literal["val_acc", "test_acc"] = "val_acc") -> tuple[Cell, float]:
        """The best cell of the table and its value (val_acc: mean over training seeds)."""
        values = {"val_acc": self.val_mean, "test_acc": self.test_acc}.get(metric)
        if values is None:
            raise ConfigError(f"unknown metric {metric!r}; expected 'val_acc' or 'test_acc'")
        c = int(np.argmax(values))
        return Cell.from_code(c), float(values[c])

    @property
    def best_test_acc(self) -> float:
        return float(self.test_acc.max())

    def test_regret(self, cell: Cell | str | int) -> float:
        """Best test accuracy in the table minus the test accuracy of ``cell`` (points)."""
        return self.best_test_acc - float(self.test_acc[Cell.parse(cell).code])

    # ------------------------------------------------------------------ queries (paid)
    def training_seed(self, cell: Cell) -> int:
        """Which of the cell's training seeds answers a sampled query (0-based)."""
        rng = np.random.default_rng([self.seed, cell.code])
        return int(rng.integers(self._nseeds[cell.code]))

    def evaluate(
        self,
        cell: Cell | str | int,
        *,
        val: Literal["sample", "mean"] | int = "sample",
    ) -> Outcome:
        """Query the table as one training of ``cell`` would answer, and log it in the ledger.

        ``val="sample"``: the validation accuracy of one training seed (the NB201 protocol);
        ``val="mean"``: the mean over training seeds; an int: that training seed (0-based).
        A cell isomorphic to one already evaluated is answered from the cache at no cost.
        """
        cell = Cell.parse(cell)
        rep = cell.canonical().code
        if rep in self._cache:
            out = self._cache[rep]
            self.ledger.append(LedgerEntry(len(self.ledger) + 1, cell, 0.0, True))
            return Outcome(out.metrics, 0.0, out.failed, {**out.info, "cached": True})
        c = cell.code
        if val == "sample":
            k = self.training_seed(cell)
            v = self._val_seeds[c, k]
        elif val == "mean":
            k, v = None, self.val_mean[c]
        elif isinstance(val, (int, np.integer)) and not isinstance(val, bool) and 0 <= val < self._nseeds[c]:
            k, v = int(val), self._val_seeds[c, int(val)]
        else:
            raise ConfigError(
                f"val={val!r}; expected 'sample', 'mean' or a training seed in 0..{self._nseeds[c] - 1} for {cell}"
            )
        out = Outcome(
            metrics={"val_acc": float(v), "params_M": float(self.params_M[c]), "flops_M": float(self.flops_M[c]),
                     "latency": float(self.latency[c])},
            cost=float(self.train_time[c]),
            info={"test_acc": float(self.test_acc[c]), "training_seed": k, "arch_index": int(self.arch_index[c]),
                  "cached": False},
        )
        self._cache[rep] = out
        self.ledger.append(LedgerEntry(len(self.ledger) + 1, cell, out.cost, False))
        return out

    @property
    def n_queries(self) -> int:
        """Paid queries so far (cache hits excluded)."""
        return sum(not e.cached for e in self.ledger)

    @property
    def total_cost(self) -> float:
        return float(sum(e.cost for e in self.ledger))

    def reset(self) -> None:
        """Forget the ledger and the cache."""
        self.ledger.clear()
        self._cache.clear()
