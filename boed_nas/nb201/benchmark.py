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

``evaluate(cell, epochs)`` answers at one of two fidelities, ``EPOCHS`` = (12, 200): 200 (the default)
is the NB201 protocol below; 12 is the validation accuracy of the 12-epoch schedule (one training per
cell, ``nb201_12epoch.csv.gz``), charged 12/200 of the cell's 200-epoch training time (the table
records no 12-epoch time: the same network at the same time per epoch, an assumption). A 12-epoch
query reads only the 12-epoch column; a 200-epoch value is read only by a 200-epoch query.

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

EPOCHS = (12, 200)
"""The fidelities the table answers: 12 epochs (a second, cheaper schedule) and 200 (the target)."""

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


@functools.lru_cache(maxsize=1)
def load_12epoch_table() -> pd.DataFrame:
    """The shipped 12-epoch validation accuracies, indexed by arch index."""
    with resources.files("boed_nas.nb201.data").joinpath("nb201_12epoch.csv.gz").open("rb") as raw, gzip.open(raw) as f:
        return pd.read_csv(f).set_index("arch_index").sort_index()


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
        self._cache: dict[tuple[int, int], Outcome] = {}
        self._val_12: np.ndarray | None = None  # read on the first 12-epoch query

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

    def val_12(self, cell: Cell | str | int) -> float:
        """The 12-epoch validation accuracy of ``cell`` (no ledger entry: for analysis)."""
        if self._val_12 is None:
            self._val_12 = load_12epoch_table()[f"{self.info.prefix}_val_12"].to_numpy(np.float64)
        return float(self._val_12[self.arch_index[Cell.parse(cell).code]])

    def evaluate(
        self,
        cell: Cell | str | int,
        epochs: int = 200,
        *,
        val: Literal["sample", "mean"] | int = "sample",
    ) -> Outcome:
        """Query the table as one training of ``cell`` for ``epochs`` (12 or 200) would answer, and
        log it in the ledger.

        At 200 epochs, ``val="sample"``: the validation accuracy of one training seed (the NB201
        protocol); ``val="mean"``: the mean over training seeds; an int: that training seed
        (0-based). At 12 epochs: the one 12-epoch training, charged 12/200 of the 200-epoch time.
        A cell isomorphic to one already evaluated at these epochs is answered from the cache at no cost.
        """
        cell = Cell.parse(cell)
        if isinstance(epochs, bool) or epochs not in EPOCHS:
            raise ConfigError(f"epochs={epochs!r}; the NB201 table answers at {list(EPOCHS)} epochs")
        rep = cell.canonical().code
        if (rep, epochs) in self._cache:
            out = self._cache[(rep, epochs)]
            self.ledger.append(LedgerEntry(len(self.ledger) + 1, cell, 0.0, True))
            return Outcome(out.metrics, 0.0, out.failed, {**out.info, "cached": True})
        c = cell.code
        if epochs == 12:
            out = Outcome(
                metrics={"val_acc": self.val_12(cell), "params_M": float(self.params_M[c]),
                         "flops_M": float(self.flops_M[c]), "latency": float(self.latency[c])},
                cost=float(self.train_time[c]) * 12 / 200,
                info={"test_acc": float(self.test_acc[c]), "epochs": 12, "arch_index": int(self.arch_index[c]),
                      "cached": False},
            )
            self._cache[(rep, 12)] = out
            self.ledger.append(LedgerEntry(len(self.ledger) + 1, cell, out.cost, False))
            return out
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
        self._cache[(rep, 200)] = out
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
