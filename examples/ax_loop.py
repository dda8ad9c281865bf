"""An Ax service loop on NAS-Bench-201 in which boed-nas chooses the trials.

    python examples/ax_loop.py            # about a minute on a laptop CPU, offline

The loop is plain Ax (``Client``: get_next_trials -> train -> complete_trial); boed-nas only
supplies the search space and the generation strategy: 10 Sobol trials, then the BOED node (a GP
belief over cells and max-value entropy search). "Training" is a lookup in the NB201 table that
ships with boed-nas: the validation accuracy of one training seed, as one real training would
report it. Halfway through, the experiment is saved with Ax's JSON storage and loaded back, and
the loop carries on from the file.
"""

import logging
import tempfile
from pathlib import Path

import torch
from ax.api.client import Client
from ax.utils.common.logger import set_stderr_log_level

from boed_nas.integrations.ax import (
    PARAMETER_NAMES,
    boed_generation_strategy,
    cell_of,
    configure_nb201,
)
from boed_nas.nb201.benchmark import NB201Benchmark

torch.set_num_threads(1)
set_stderr_log_level(logging.WARNING)  # Ax logs every trial at INFO; this script prints its own lines

TRIALS = 40
SEED = 0
nb201 = NB201Benchmark("cifar10", seed=SEED)  # search sees cifar10-valid x-valid; test accuracy is for the report


def train_and_validate(cell):
    """Stand-in for a real training run: NB201's recorded validation accuracy (one training seed)."""
    return nb201.evaluate(cell).metrics["val_acc"]


# 1. An Ax experiment over the NB201 cell space: one choice parameter per edge, five ops each.
client = Client(random_seed=SEED)
configure_nb201(client, objective="val_acc")

# 2. Let boed-nas choose the trials: a short Sobol start, then the BOED node.
client.set_generation_strategy(boed_generation_strategy(seed=SEED, initialization_budget=10))


# 3. The usual Ax loop. Two trials at a time, as if two GPUs trained in parallel: the BOED node sees
#    the running trial as pending and picks a different cell for the other GPU.
def run(client, n_trials):
    done = 0
    while done < n_trials:
        for index, parameters in client.get_next_trials(max_trials=2).items():
            cell = cell_of(parameters)  # a boed_nas Cell; str(cell) is NB201's arch string
            if index == 13:
                # a training that crashes (simulated): Ax marks it failed; BOED counts it as a failure
                client.mark_trial_failed(index, failed_reason="simulated out-of-memory")
                print(f"trial {index:3d}  {cell}  FAILED")
            else:
                val_acc = train_and_validate(cell)
                client.complete_trial(index, raw_data={"val_acc": val_acc})
                print(f"trial {index:3d}  {cell}  val_acc {val_acc:6.2f}")
            done += 1


run(client, TRIALS // 2)

# 4. Save with Ax's JSON storage (the BOED node and its controller state included), load, carry on.
path = Path(tempfile.mkdtemp()) / "nb201_boed.json"
client.save_to_json_file(str(path))
client = Client.load_from_json_file(str(path))
print(f"--- saved and reloaded {path} ({path.stat().st_size // 1024} KiB); continuing ---")
run(client, TRIALS - TRIALS // 2)

# 5. Which node proposed what (Ax's own trial table), and what to deploy: the controller's
#    recommendation is the evaluated cell with the highest posterior mean (denoised), not the
#    luckiest single training.
table = client.summarize()
print("\ntrials per generation node:", table["generation_node"].value_counts().to_dict())
# Ax's best-point query answers with the controller's pick (its posterior mean and variance), as of
# the node's last proposal; recommend(strategy) would tell it the latest trials first
params, predicted, _, _ = client.get_best_parameterization()
best = cell_of(params)
opt_cell, opt_val = nb201.optimum("val_acc")
seen = {cell_of(p).canonical() for p in table[list(PARAMETER_NAMES)].to_dict("records")}
print(f"recommended cell {best}")
print(f"  validation accuracy (mean over training seeds) {nb201.lookup(best)['val_acc_mean']:.2f}; "
      f"the table's best {opt_val:.2f}; the validation optimum was evaluated: {opt_cell.canonical() in seen}")
print(f"  test accuracy {nb201.lookup(best)['test_acc']:.2f}, test regret {nb201.test_regret(best):.2f} points "
      "(for the report only: the search never saw test accuracy)")
print(f"  the belief's prediction of its validation accuracy {predicted['val_acc'][0]:.2f} "
      f"(sd {predicted['val_acc'][1] ** 0.5:.2f})")
cards = client.compute_analyses(display=False)  # Ax's analyses, predicting with the node's belief
print(f"  Ax's analyses: {len(cards)} card group(s), {sum(len(c.flatten()) for c in cards)} cards")
