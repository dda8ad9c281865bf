"""Ask cost of boed at 200 and 1,000 observations, with signals on (issue 31, point 5).

    python -m benchmarks.ask_cost --out benchmarks/results/ask_cost

Two settings, seeds 0-2 each:

- ``nb201``: NB201 CIFAR-10 (6,466 classes), ``boed[signals='synflow+flops']``, the objective the
  NB201 protocol's (one training seed's validation accuracy);
- ``space-1080``: a space of your own of 1,080 configurations (block 4 x depth 6 x width 5 x
  activation 3 x kernel 3) with known costs, ``boed[signals='costs']``, a synthetic landscape
  with noise.

For each observation count n: n - 1 random distinct configurations are told, then one ask and tell
warm the belief (its first fit, from gpytorch's defaults, as at the start of a cold-start cycle),
then the CPU time (``time.process_time``: this process, all its threads) of every ask of one full
cycle of the fit schedule, each told before the next: ``cold_start_every`` x ``max(1,
floor(refit_fraction * n))`` asks (100 at 200 observations, 500 at 1,000 with the defaults), or as
many as the space has configurations left. The figure is the mean over that window (the amortised
cost: the asks that refit the hyperparameters, warm or cold, are in it in their true proportion),
then the median [IQR] over seeds (numpy's linear interpolation); the slowest single ask is
reported beside it. ``--threads`` sets torch's thread count (default 1: one worker's core; CPU
time with more threads counts every thread). The share of the window spent fitting the GP is
reported too.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from boed_nas import make_strategy
from boed_nas.bo import model as belief_module
from boed_nas.experiment.bench import median_iqr
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.spaces import Categorical, Integer, Ordered, Space

CHECKPOINTS = (200, 1000)

SPACE_1080 = Space([Categorical("block", ["conv", "mbconv", "fused", "attn"]), Integer("depth", 1, 6),
                    Ordered("width", [8, 16, 32, 64, 128]), Categorical("act", ["relu", "gelu", "silu"]),
                    Ordered("kernel", [1, 3, 5])],
                   costs=lambda c: {"flops": c["depth"] * c["width"] ** 2 * c["kernel"] ** 2,
                                    "params": c["depth"] * c["width"] * c["kernel"]}, name="space-1080")


def _space_value(c, rng) -> float:
    return (-(c["depth"] - 4) ** 2 - abs(np.log2(c["width"]) - 5) + (c["block"] == "mbconv")
            + (c["act"] == "gelu") * (c["depth"] > 2) - 0.5 * (c["kernel"] == 5) + rng.normal(0, 0.3))


def setting(name: str, seed: int):
    """(strategy, configurations to tell, objective) of one setting."""
    rng = np.random.default_rng([seed, 7])
    if name == "nb201":
        bench = NB201Benchmark("cifar10", seed=seed)
        s = make_strategy("boed[signals='synflow+flops']", seed=seed)
        configs = list(s.space.enumerate())
        return s, [configs[i] for i in rng.permutation(len(configs))], lambda c: bench.evaluate(c)
    s = make_strategy("boed[signals='costs']", seed=seed, space=SPACE_1080)
    configs = SPACE_1080.enumerate()
    return s, [configs[i] for i in rng.permutation(len(configs))], lambda c: {"val_acc": _space_value(c, rng)}


def measure(name: str, seed: int, n: int) -> dict:
    s, order, objective = setting(name, seed)
    for c in order[: n - 1]:
        s.tell(c, objective(c))
    (c,) = s.ask()  # warms the belief: its first fit, a cold start
    s.tell(c, objective(c))
    cfg = s.config
    window = min(cfg.cold_start_every * max(1, math.floor(cfg.refit_fraction * n)), len(order) - n)
    fit_seconds = []
    real_fit = belief_module.fit_belief

    def timed_fit(*a, **kw):
        t = time.process_time()
        out = real_fit(*a, **kw)
        fit_seconds.append(time.process_time() - t)
        return out

    belief_module.fit_belief = timed_fit
    try:
        asks = []
        for _ in range(window):
            t = time.process_time()
            (c,) = s.ask()
            asks.append(time.process_time() - t)
            s.tell(c, objective(c))
    finally:
        belief_module.fit_belief = real_fit
    return {"setting": name, "seed": seed, "observations": n, "window": window, "ask_cpu_s": float(np.mean(asks)),
            "max_ask_cpu_s": float(np.max(asks)), "fit_share": float(sum(fit_seconds) / sum(asks))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="benchmarks/results/ask_cost")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch's thread count (default 1)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for name in ("nb201", "space-1080"):
        for n in CHECKPOINTS:
            for seed in range(args.seeds):
                rows.append(measure(name, seed, n))
                r = rows[-1]
                print(f"{name} seed {seed} at {n}: ask {r['ask_cpu_s']:.3f} CPU-s, mean of {r['window']} "
                      f"(slowest {r['max_ask_cpu_s']:.2f}; {r['fit_share']:.0%} fitting)", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "ask_cost.csv", index=False)
    lines = ["| setting | observations | asks in the window | ask CPU-s, mean over the window: median [IQR] over seeds "
             "| slowest ask (median over seeds) | share fitting the GP | target |", "|---|---|---|---|---|---|---|"]
    for (name, n), g in df.groupby(["setting", "observations"], sort=False):
        med, lo, hi = median_iqr(g["ask_cpu_s"].to_numpy())
        lines.append(f"| {name} | {n} | {int(g['window'].median())} | {med:.3f} [{lo:.3f}, {hi:.3f}] | "
                     f"{g['max_ask_cpu_s'].median():.2f} | {g['fit_share'].median():.0%} | {0.25 if n == 200 else 1.0} |")
    text = ("\n".join(lines) + f"\n\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"torch threads {args.threads}, seeds 0-{args.seeds - 1}. Command: "
            f"`python -m benchmarks.ask_cost --out {args.out} --seeds {args.seeds} --threads {args.threads}`\n")
    (out / "ask_cost.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
