"""An Ax service loop on a space that is not NB201, each trial a real training.

    python examples/ax_custom_space.py     # about 3 minutes on a 2-core laptop CPU, offline

The space is the blueprint macro space (``boed_nas.blueprint``: per stage a width and a first
kernel, per optional block "bypassed" or a kernel size; 884,736 networks), given to Ax as choice
parameters (``ax_parameters``); the BOED node reads them back as a ``boed_nas.spaces.Space`` and,
the space being too large to enumerate, scores a generated pool at each ask. Each trial trains the
network from scratch for 8 epochs on scikit-learn's 8x8 digits (shipped with scikit-learn; 60% of
the images train, 20% validate: the search sees validation accuracy) and reports it to Ax. The
last 20% are held out: the recommended network is retrained with 3 seeds and tested on them.
"""

import logging

import numpy as np
import torch
from ax.api.client import Client
from ax.utils.common.logger import set_stderr_log_level

from boed_nas.bilevel.data import make_splits
from boed_nas.blueprint.space import BlueprintSpace
from boed_nas.blueprint.train import train_blueprint
from boed_nas.integrations.ax import ax_parameters, boed_generation_strategy, recommend

torch.set_num_threads(1)
set_stderr_log_level(logging.WARNING)

TRIALS = 30
SEED = 0
EPOCHS = 8
macro = BlueprintSpace()
space = macro.search_space(flops=False)
splits = make_splits("digits", val_fraction=0.25, test_fraction=0.2, seed=SEED)  # 60 / 20 / 20


def train_and_validate(parameters, seed=0):
    """A real training: the network of these parameters, from scratch, on the digits' training split."""
    return train_blueprint(macro.blueprint_of(parameters), macro, splits, epochs=EPOCHS, seed=seed)


client = Client(random_seed=SEED)
client.configure_experiment(parameters=ax_parameters(space), name="blueprint-digits")
client.configure_optimization(objective="val_acc")
strategy = boed_generation_strategy(seed=SEED, initialization_budget=8)
client.set_generation_strategy(strategy)
print(f"{space.size:,} networks; Ax sees {len(space.variables)} choice parameters")

done = 0
while done < TRIALS:
    for index, parameters in client.get_next_trials(max_trials=2).items():  # two at a time, as two GPUs would
        r = train_and_validate(parameters)
        client.complete_trial(index, raw_data={"val_acc": r["val_acc"]})
        print(f"trial {index:3d}  {macro.blueprint_of(parameters)!s:32}  val_acc {r['val_acc']:6.2f}  ({r['train_seconds']:.1f} s)")
        done += 1

summary = client.summarize()
print("trials by node:", {k: int(v) for k, v in summary["generation_node"].value_counts().items()})
best = recommend(strategy)  # the BOED node, told every finished trial
bp = macro.blueprint_of(best)
tests = [train_and_validate(best, seed=s)["test_acc"] for s in (1, 2, 3)]
print(f"recommended: {bp}  test accuracy over 3 retrainings {np.mean(tests):.2f} (sd {np.std(tests):.2f}), "
      f"held-out 20% of the digits")
