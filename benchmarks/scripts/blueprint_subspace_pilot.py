"""The pilot that chose the sub-space of the ``k13`` blueprint table: which of two candidate
1,728-network sub-spaces separates its networks better, measured on 48 random networks of each
(seed 0), each trained with training seeds 0 and 1 exactly as the tables train (8 epochs on the
digits' split of ``benchmarks.real_training``).

    python -m benchmarks.scripts.blueprint_subspace_pilot > benchmarks/results/matched_supernet_k13/pilot.txt   # ~4 min on 2 cores

Printed per candidate: ICC(1) of the validation accuracy over the 48 networks (the share of a
training's variance that is the network), the Spearman of training seed 0 with seed 1, the range of
the networks' mean validation accuracy, and the Spearman of mean validation with mean test accuracy.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from boed_nas.blueprint.space import BlueprintSpace, StageSpec  # noqa: E402

CANDIDATES = {
    "kernels 1, 3, 5; widths 16, 32, 64": BlueprintSpace(
        stages=(StageSpec((16,), 2, 1), StageSpec((32,), 2, 2), StageSpec((64,), 2, 2)), kernels=(1, 3, 5)),
    "kernels 1, 3; widths (8, 16), (16, 32), (32, 64) (k13)": BlueprintSpace(
        stages=(StageSpec((8, 16), 2, 1), StageSpec((16, 32), 2, 2), StageSpec((32, 64), 2, 2)), kernels=(1, 3)),
}
NETWORKS, SEEDS = 48, (0, 1)


def train(key: str, config_text: str, seed: int) -> tuple:
    import torch

    from benchmarks.real_training import EPOCHS, splits
    from boed_nas.blueprint.train import train_blueprint

    torch.set_num_threads(1)
    macro = CANDIDATES[key]
    space = macro.search_space(flops=False)
    r = train_blueprint(macro.blueprint_of(space.parse(config_text)), macro, splits(), epochs=EPOCHS, seed=seed)
    return key, config_text, seed, r["val_acc"], r["test_acc"], r["train_seconds"]


def main() -> int:
    from scipy.stats import spearmanr

    from benchmarks.dataset_separation import icc1

    jobs = []
    for key, macro in CANDIDATES.items():
        configs = macro.search_space(flops=False).enumerate()
        pick = np.random.default_rng(0).choice(len(configs), NETWORKS, replace=False)
        jobs += [(key, str(configs[i]), s) for i in pick for s in SEEDS]
    results: dict[str, dict[str, dict[int, tuple]]] = {}
    with ProcessPoolExecutor(2) as pool:
        for key, config, seed, *r in pool.map(train, *zip(*jobs)):
            results.setdefault(key, {}).setdefault(config, {})[seed] = r
    print(f"| sub-space ({NETWORKS} random networks x {len(SEEDS)} training seeds) | ICC(1) | Spearman seed 0 vs 1 "
          "| range of mean validation accuracy (%) | Spearman mean validation vs mean test | median training s |")
    print("|---|---|---|---|---|---|")
    for key, d in results.items():
        val = np.array([[d[c][s][0] for s in SEEDS] for c in d])
        test = np.array([[d[c][s][1] for s in SEEDS] for c in d])
        secs = np.median([d[c][s][2] for c in d for s in SEEDS])
        m = val.mean(1)
        print(f"| {key} | {icc1(val):.2f} | {spearmanr(val[:, 0], val[:, 1]).statistic:.2f} | {m.min():.2f}-{m.max():.2f} "
              f"| {spearmanr(m, test.mean(1)).statistic:.2f} | {secs:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
