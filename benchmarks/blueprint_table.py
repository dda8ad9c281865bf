"""A table of real trainings on a 1,728-network sub-space of the blueprint macro space (digits).

The sub-space: three stages of widths (8, 16), (16, 32), (32, 64) and strides 1, 2, 2, each a
mandatory layer of kernel 3 or 5 and one optional residual block (bypassed, kernel 3 or kernel 5):
2 x 2 x 3 choices per stage, 12^3 = 1,728 networks, every one of them valid. Each was trained from
scratch twice (training seeds 0 and 1) exactly as ``benchmarks.real_training.evaluate`` trains
(8 epochs of SGD on 60% of scikit-learn's 8x8 digits, the same split); the table holds its
validation accuracy (the 20% the search sees) and its test accuracy (the last 20%, never seen by a
search) per training seed. Rebuild it with ``python benchmarks/scripts/build_blueprint_table.py``
(provenance: ``benchmarks/data/blueprint_digits/PROVENANCE.md``).

Searches on the table follow the NB201 protocol: an evaluation of a configuration returns the
validation accuracy of one of its training seeds, drawn from (run seed, configuration), so every
strategy of a run sees the same noise for the same network; reports use the mean test accuracy
over training seeds, and regret against the table's best mean test accuracy.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.blueprint.space import BlueprintSpace, StageSpec
from boed_nas.errors import ConfigError
from boed_nas.outcome import Outcome

TABLE_PATH = Path(__file__).resolve().parent / "data" / "blueprint_digits" / "table.csv.gz"
TRAINING_SEEDS = (0, 1)
MACRO = BlueprintSpace(stages=(StageSpec((8, 16), 2, 1), StageSpec((16, 32), 2, 2), StageSpec((32, 64), 2, 2)),
                       kernels=(3, 5))
SPACE = MACRO.search_space(flops=True)
SPACE.name = "blueprint-digits-1728"
SPACE.ref = "benchmarks.blueprint_table:SPACE"


@functools.lru_cache(maxsize=1)
def load_table(path: str | Path | None = None) -> pd.DataFrame:
    """The table, indexed by the configuration's string form (``str(config)``)."""
    path = Path(path or TABLE_PATH)
    if not path.exists():
        raise ConfigError(f"the blueprint table {path} is missing; build it with "
                          f"python benchmarks/scripts/build_blueprint_table.py")
    table = pd.read_csv(path).set_index("config")
    table["val_mean"] = table[[f"val_acc_s{s}" for s in TRAINING_SEEDS]].mean(axis=1)
    table["test_mean"] = table[[f"test_acc_s{s}" for s in TRAINING_SEEDS]].mean(axis=1)
    return table


class TableObjective:
    """The objective of one search on the table: the validation accuracy of one training seed."""

    def __init__(self, seed: int, table: pd.DataFrame | None = None):
        self.seed = int(seed)
        self.table = load_table() if table is None else table

    def training_seed(self, config) -> int:
        # a seeded generator mixes (seed, network); crc32 alone is affine in its input, so its parity
        # would flip for all networks at once between two run seeds
        draw = np.random.default_rng([self.seed, zlib.crc32(str(config).encode())]).integers(len(TRAINING_SEEDS))
        return TRAINING_SEEDS[int(draw)]

    def __call__(self, config) -> Outcome:
        row = self.table.loc[str(config)]
        s = self.training_seed(config)
        return Outcome(metrics={"val_acc": float(row[f"val_acc_s{s}"])}, cost=float(row[f"train_seconds_s{s}"]))

    def test_regret(self, config) -> float:
        """Points of mean test accuracy below the table's best network."""
        return float(self.table["test_mean"].max() - self.table.loc[str(config), "test_mean"])

    def val_optima(self) -> set[str]:
        """The networks of the table's best mean validation accuracy (there may be ties)."""
        v = self.table["val_mean"]
        return set(v.index[np.isclose(v, v.max(), rtol=0, atol=1e-9)])


def describe(table: pd.DataFrame | None = None) -> str:
    """How well the table separates its networks: spread, agreement of the training seeds, optimum."""
    from scipy.stats import spearmanr

    from .dataset_separation import icc1

    t = load_table() if table is None else table
    val = t[[f"val_acc_s{s}" for s in TRAINING_SEEDS]].to_numpy()
    k = val.shape[1]
    msw = np.sum((val - val.mean(1, keepdims=True)) ** 2) / (len(val) * (k - 1))  # within-network variance
    q = np.percentile(t["val_mean"], [0, 50, 90, 99, 100])
    best = t["val_mean"].idxmax()
    optima = TableObjective(0, t).val_optima()
    lines = [f"{len(t)} networks x {k} training seeds, "
             f"{t[[f'train_seconds_s{s}' for s in TRAINING_SEEDS]].to_numpy().sum():.0f} training seconds in all",
             f"mean validation accuracy (%): min {q[0]:.2f}, median {q[1]:.2f}, 90th percentile {q[2]:.2f}, "
             f"99th {q[3]:.2f}, max {q[4]:.2f}",
             f"training seed 0 against seed 1, validation accuracy: Spearman {spearmanr(val[:, 0], val[:, 1]).statistic:.3f}, "
             f"ICC(1) {icc1(val):.3f}, seed-to-seed sd {np.sqrt(msw):.2f} points",
             f"validation optimum: {len(optima)} network(s) at {t['val_mean'].max():.2f}, e.g. {t.loc[best, 'blueprint'] if 'blueprint' in t else best} "
             f"(test {t.loc[best, 'test_mean']:.2f}, regret {t['test_mean'].max() - t.loc[best, 'test_mean']:.2f})",
             f"best mean test accuracy: {t['test_mean'].max():.2f}; Spearman of mean validation with mean test accuracy "
             f"{spearmanr(t['val_mean'], t['test_mean']).statistic:.3f}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe())
