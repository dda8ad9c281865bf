"""Tables of real trainings on sub-spaces of the blueprint macro space (scikit-learn's digits).

Two tables, each every network of a sub-space trained from scratch with each of its training seeds
exactly as ``benchmarks.real_training.evaluate`` trains (8 epochs of SGD on 60% of scikit-learn's
8x8 digits, the same split); a table holds per training seed the validation accuracy (the 20% the
search sees) and the test accuracy (the last 20%, never seen by a search). Both sub-spaces have three
stages of strides 1, 2, 2 and per stage a mandatory layer and one optional residual block (bypassed
or kept), 12 choices per stage, 12^3 = 1,728 networks, every one valid:

- ``k35`` (``benchmarks/data/blueprint_digits/``): widths (8, 16), (16, 32), (32, 64), kernels 3 and 5,
  2 training seeds. It separates its networks hardly at all (the seeds agree at a Spearman of 0.06).
- ``k13`` (``benchmarks/data/blueprint_digits_k13/``): the same widths, kernels 1 and 3, 3 training
  seeds. It keeps the 1x1 kernels, which are what made random blueprints differ; chosen over
  kernels 1, 3, 5 at fixed widths 16, 32, 64 by a pilot of 48 random networks x 2 seeds of each
  (ICC(1) 0.93 against 0.82; mean validation ranks mean test at 0.87 against 0.58).

Build one with ``python -m tools.build_blueprint_table --table NAME`` (provenance in
the table's folder, ``PROVENANCE.md``); ``python -m benchmarks.blueprint_table --table NAME`` says
how well it separates its networks.

Searches on a table follow the NB201 protocol: an evaluation of a configuration returns the
validation accuracy of one of its training seeds, drawn from (run seed, configuration), so every
strategy of a run sees the same noise for the same network; reports use the mean test accuracy
over training seeds, and regret against the table's best mean test accuracy.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.blueprint.space import BlueprintSpace, StageSpec
from boed_nas.errors import ConfigError
from boed_nas.outcome import Outcome
from boed_nas.spaces import Space

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BlueprintTable:
    """One table: its sub-space (``macro``; ``space`` is its search space, FLOPs as the known cost),
    where it ships, and the training seeds of its build."""

    name: str
    macro: BlueprintSpace
    folder: str
    training_seeds: tuple[int, ...]
    curves: bool = False  # the table records the validation accuracy after every epoch, too

    @property
    def path(self) -> Path:
        return DATA / self.folder / "table.csv.gz"

    @functools.cached_property
    def space(self) -> Space:
        space = self.macro.search_space(flops=True)
        space.name = f"blueprint-digits-{self.name}"
        space.ref = f"benchmarks.blueprint_table:SPACE_{self.name.upper()}"
        return space

    def stages_arg(self) -> str:
        """The sub-space's stages as ``BlueprintConfig.stages`` (and the CLI's ``--stages``) write them."""
        return ";".join(f"{','.join(map(str, st.widths))}:{st.depth}:{st.stride}" for st in self.macro.stages)


K35 = BlueprintTable("k35", BlueprintSpace(stages=(StageSpec((8, 16), 2, 1), StageSpec((16, 32), 2, 2),
                                                   StageSpec((32, 64), 2, 2)), kernels=(3, 5)),
                     "blueprint_digits", (0, 1))
K13 = BlueprintTable("k13", BlueprintSpace(stages=(StageSpec((8, 16), 2, 1), StageSpec((16, 32), 2, 2),
                                                   StageSpec((32, 64), 2, 2)), kernels=(1, 3)),
                     "blueprint_digits_k13", (0, 1, 2))
# k13's networks and trainings again, with the learning curve of every training (issue 32's real curves)
K13LC = BlueprintTable("k13lc", K13.macro, "blueprint_digits_k13_curves", (0, 1), curves=True)
TABLES = {t.name: t for t in (K35, K13, K13LC)}
SPACE_K35, SPACE_K13, SPACE_K13LC = K35.space, K13.space, K13LC.space


def table_spec(name: str) -> BlueprintTable:
    """The table called ``name``; ConfigError naming the known ones otherwise."""
    if name not in TABLES:
        raise ConfigError(f"unknown blueprint table {name!r}; expected one of {sorted(TABLES)}")
    return TABLES[name]


def training_seeds(table: pd.DataFrame) -> tuple[int, ...]:
    """The training seeds a table holds, read from its ``val_acc_s{seed}`` columns."""
    return tuple(sorted(int(m.group(1)) for c in table.columns if (m := re.fullmatch(r"val_acc_s(\d+)", c))))


def curve_epochs(table: pd.DataFrame) -> list[int]:
    """The epochs a table with learning curves records, read from its ``val_acc_s{seed}_e{epoch}`` columns
    (none for a table without)."""
    return sorted({int(m.group(1)) for c in table.columns if (m := re.fullmatch(r"val_acc_s\d+_e(\d+)", c))})


@functools.lru_cache(maxsize=4)
def load_table(which: str | Path) -> pd.DataFrame:
    """A table (by name, or the path of a ``table.csv.gz``), indexed by the configuration's string form
    (``str(config)``), with the means over training seeds ``val_mean`` and ``test_mean`` added."""
    path = table_spec(which).path if isinstance(which, str) and which in TABLES else Path(which)
    if not path.exists():
        name = next((t.name for t in TABLES.values() if t.path == path), "NAME")
        raise ConfigError(f"the blueprint table {path} is missing; build it with "
                          f"python -m tools.build_blueprint_table --table {name}")
    table = pd.read_csv(path).set_index("config")
    seeds = training_seeds(table)
    if not seeds:
        raise ConfigError(f"{path} has no val_acc_s<seed> columns; not a blueprint table")
    table["val_mean"] = table[[f"val_acc_s{s}" for s in seeds]].mean(axis=1)
    table["test_mean"] = table[[f"test_acc_s{s}" for s in seeds]].mean(axis=1)
    return table


class TableObjective:
    """The objective of one search on a table: the validation accuracy of one training seed."""

    def __init__(self, seed: int, table: pd.DataFrame | str | Path):
        self.seed = int(seed)
        self.table = table if isinstance(table, pd.DataFrame) else load_table(table)
        self.seeds = training_seeds(self.table)

    def training_seed(self, config) -> int:
        # a seeded generator mixes (seed, network); crc32 alone is affine in its input, so its parity
        # would flip for all networks at once between two run seeds
        draw = np.random.default_rng([self.seed, zlib.crc32(str(config).encode())]).integers(len(self.seeds))
        return self.seeds[int(draw)]

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


def describe(table: pd.DataFrame | str | Path) -> str:
    """How well the table separates its networks: spread, agreement of the training seeds, optimum."""
    from scipy.stats import spearmanr

    from .dataset_separation import icc1

    t = table if isinstance(table, pd.DataFrame) else load_table(table)
    seeds = training_seeds(t)
    val = t[[f"val_acc_s{s}" for s in seeds]].to_numpy()
    k = val.shape[1]
    msw = np.sum((val - val.mean(1, keepdims=True)) ** 2) / (len(val) * (k - 1))  # within-network variance
    q = np.percentile(t["val_mean"], [0, 50, 90, 99, 100])
    best = t["val_mean"].idxmax()
    optima = TableObjective(0, t).val_optima()
    pairs = [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1:]]
    rho = np.mean([spearmanr(t[f"val_acc_s{a}"], t[f"val_acc_s{b}"]).statistic for a, b in pairs])
    lines = [f"{len(t)} networks x {k} training seeds, "
             f"{t[[f'train_seconds_s{s}' for s in seeds]].to_numpy().sum():.0f} training seconds in all",
             f"mean validation accuracy (%): min {q[0]:.2f}, median {q[1]:.2f}, 90th percentile {q[2]:.2f}, "
             f"99th {q[3]:.2f}, max {q[4]:.2f}",
             f"training seeds against each other, validation accuracy: Spearman {rho:.3f} (mean over pairs), "
             f"ICC(1) {icc1(val):.3f}, seed-to-seed sd {np.sqrt(msw):.2f} points",
             f"validation optimum: {len(optima)} network(s) at {t['val_mean'].max():.2f}, e.g. {t.loc[best, 'blueprint'] if 'blueprint' in t else best} "
             f"(test {t.loc[best, 'test_mean']:.2f}, regret {t['test_mean'].max() - t.loc[best, 'test_mean']:.2f})",
             f"best mean test accuracy: {t['test_mean'].max():.2f}; Spearman of mean validation with mean test accuracy "
             f"{spearmanr(t['val_mean'], t['test_mean']).statistic:.3f}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="How well a blueprint table separates its networks.")
    ap.add_argument("--table", required=True, help=f"one of {sorted(TABLES)}, or a table.csv.gz path")
    print(describe(ap.parse_args(argv).table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
