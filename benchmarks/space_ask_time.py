"""Ask time of boed on spaces of your own: enumerated (under 50,000 configurations) and generated.

    python -m benchmarks.space_ask_time --out benchmarks/results/space

For each space, seeds 0-2: a boed search on a synthetic landscape (one optimum; main effects and
one interaction) told 200 evaluations one at a time; the CPU seconds (``time.process_time``, this
process, all its threads) of the ask at 50 and at 200 observations, and the median of the asks
around each (the 5 asks before it and it). Writes ``ask_time.md`` and ``ask_time.csv``.

Spaces: ``categorical 4 x 5^6`` (62,500 configurations: just above the enumeration limit, so
generated), ``mixed 480`` (enumerated), and ``billion`` (9 ordered variables of 10 values,
10^9 configurations, generated). On a generated space each ask scores ``POOL_RANDOM`` random
configurations plus the neighbours of the ``POOL_PARENTS`` best observed ones (about 2,000 to
2,500), so its cost is bounded by the pool, not by the space.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas import make_strategy
from boed_nas.bo.controller import POOL_PARENTS, POOL_RANDOM
from boed_nas.experiment.bench import median_iqr
from boed_nas.spaces import Categorical, Integer, Ordered, Space

CHECKPOINTS = (50, 200)


def spaces() -> dict[str, tuple[Space, callable]]:
    cat = Space([Categorical("block", list("abcd"))] + [Categorical(f"e{i}", list("vwxyz")) for i in range(6)],
                name="categorical 4 x 5^6")
    mixed = Space([Categorical("block", ["conv", "mbconv", "fused", "attn"]), Integer("depth", 1, 6),
                   Ordered("width", [8, 16, 32, 64, 128]), Categorical("act", ["relu", "gelu", "silu", "tanh"])],
                  name="mixed 480")
    big = Space([Integer(f"x{i}", 0, 9) for i in range(9)], name="billion")

    def f_cat(c):
        return sum(c[f"e{i}"] == "x" for i in range(6)) + (c["block"] == "c") * (1 + (c["e0"] == "x"))

    def f_mixed(c):
        return -(c["depth"] - 4) ** 2 - abs(np.log2(c["width"]) - 5) + (c["block"] == "mbconv") + (c["act"] == "gelu") * (c["depth"] > 2)

    def f_big(c):
        return -sum(abs(c[f"x{i}"] - 7) for i in range(9)) + 2 * (c["x0"] == 7) * (c["x1"] == 7)

    return {s.name: (s, f) for s, f in ((cat, f_cat), (mixed, f_mixed), (big, f_big))}


def measure(space: Space, f, seed: int, n: int) -> list[float]:
    s = make_strategy("boed", space=space, seed=seed)
    times = []
    for _ in range(n):
        t = time.process_time()
        (c,) = s.ask()
        times.append(time.process_time() - t)
        s.tell(c, {"val_acc": float(f(c))})
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/space")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for name, (space, f) in spaces().items():
        for seed in range(args.seeds):
            times = measure(space, f, seed, max(CHECKPOINTS) + 1)
            for n in CHECKPOINTS:  # the ask after n observations is times[n]
                rows.append({"space": name, "configurations": space.size, "enumerated": space.enumerable, "seed": seed,
                             "observations": n, "ask_cpu_s": times[n], "ask_cpu_s_window": float(np.median(times[n - 5:n + 1]))})
            print(f"{name} seed {seed}: ask CPU-s at 50 {times[50]:.2f}, at 200 {times[200]:.2f}", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "ask_time.csv", index=False)
    lines = ["| space | configurations | pool | observations | ask CPU-s: median [IQR] over seeds of the median of the 6 asks ending at it |",
             "|---|---|---|---|---|"]
    for (name, n), g in df.groupby(["space", "observations"], sort=False):
        med, lo, hi = median_iqr(g["ask_cpu_s_window"].to_numpy())
        pool = "enumerated" if g["enumerated"].iloc[0] else f"generated (~{POOL_RANDOM} random + neighbours of {POOL_PARENTS})"
        lines.append(f"| {name} | {g['configurations'].iloc[0]:,} | {pool} | {n} | {med:.2f} [{lo:.2f}, {hi:.2f}] |")
    text = "\n".join(lines) + f"\n\nCommand: `python -m benchmarks.space_ask_time --out {args.out} --seeds {args.seeds}`\n"
    (out / "ask_time.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
