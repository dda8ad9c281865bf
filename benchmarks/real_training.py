"""The space and objective of the real-training study (``real_training_study.py``): the blueprint
macro space with FLOPs as a known cost, each evaluation a real training on scikit-learn's digits.

Usable as any user's space and objective would be::

    boed-nas search --space benchmarks.real_training:SPACE --objective benchmarks.real_training:evaluate \\
        --workers 2 --budget 30 --out runs/real

Data: the 1,797 8x8 digits shipped with scikit-learn, shuffled once (seed 0) into 60% training,
20% validation (what the search sees) and 20% test (held out: only ``retrain_and_test`` reads it).
A training is 8 epochs of SGD from scratch; its seed is drawn from the configuration (one of three
per configuration, as NB201 reports one of its training seeds), so the same configuration gives
the same answer to every strategy.
"""

from __future__ import annotations

import functools
import zlib

from boed_nas.blueprint.space import BlueprintSpace
from boed_nas.outcome import Outcome

EPOCHS = 8
MACRO = BlueprintSpace()
SPACE = MACRO.search_space(flops=True)
SPACE.name = "blueprint-digits"
SPACE.ref = "benchmarks.real_training:SPACE"


@functools.lru_cache(maxsize=1)
def splits():
    from boed_nas.bilevel.data import make_splits

    return make_splits("digits", val_fraction=0.25, test_fraction=0.2, seed=0)


def training_seed(config) -> int:
    return zlib.crc32(str(config).encode()) % 3


def evaluate(config) -> Outcome:
    """One real training of ``config``'s network; the search sees its validation accuracy."""
    from boed_nas.blueprint.train import train_blueprint

    r = train_blueprint(MACRO.blueprint_of(config), MACRO, splits(), epochs=EPOCHS, seed=training_seed(config))
    return Outcome(metrics={"val_acc": r["val_acc"]}, cost=r["train_seconds"])


def retrain_and_test(config, seeds=(10, 11, 12, 13, 14)) -> list[float]:
    """Held-out test accuracy of ``config``'s network retrained with each of ``seeds`` (for reports only)."""
    from boed_nas.blueprint.train import train_blueprint

    return [train_blueprint(MACRO.blueprint_of(config), MACRO, splits(), epochs=EPOCHS, seed=s)["test_acc"]
            for s in seeds]
