"""Measure the FLOPs of the real NB201 network for every one of the 15,625 cells.

Uses ``torch.utils.flop_counter.FlopCounterMode`` on ``boed_nas.network.NB201Network`` with
C=16, N=5: a 1x3x32x32 input for CIFAR-10 (10 classes) and CIFAR-100 (100 classes), and a
1x3x16x16 input for ImageNet16-120 (120 classes). FlopCounterMode counts 2 FLOPs per
multiply-add of convolutions and linear layers (nothing for BN, ReLU, pooling, additions), so
half of each value is the multiply-add count that the NB201 paper reports as "FLOPs".

This ran once to make the ``*_flops_M`` columns of ``boed_nas/data/nb201.csv.gz``:

    python benchmarks/scripts/measure_flops.py --out benchmarks/data/nb201_flops.csv.gz --workers 2
    python benchmarks/scripts/build_nb201_data.py

About 25 minutes on 2 cores. ``--limit`` measures the first K cells only (for a quick check).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import pandas as pd

DATASETS = {"c10": (10, 32), "c100": (100, 32), "in16": (120, 16)}


def _measure(code: int) -> tuple[int, int, int, int]:
    import torch

    from boed_nas.network import NB201Network
    from boed_nas.space import Cell

    torch.set_num_threads(1)
    cell = Cell.from_code(code)
    out = []
    for num_classes, hw in DATASETS.values():
        from torch.utils.flop_counter import FlopCounterMode

        net = NB201Network(cell, C=16, N=5, num_classes=num_classes).eval()
        x = torch.zeros(1, 3, hw, hw)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(x)
        out.append(int(counter.get_total_flops()))
    return (code, *out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/data/nb201_flops.csv.gz")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()

    from tqdm import tqdm

    from boed_nas.space import N_CELLS

    codes = list(range(N_CELLS if args.limit is None else args.limit))
    t0 = time.time()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        rows = list(tqdm(pool.imap(_measure, codes, chunksize=64), total=len(codes), desc="FLOPs"))
    df = pd.DataFrame(rows, columns=["code"] + [f"{k}_flops" for k in DATASETS])
    for k in DATASETS:
        df[f"{k}_flops_M"] = df.pop(f"{k}_flops") / 1e6
    df.to_csv(args.out, index=False, float_format="%.6f")
    print(f"wrote {args.out}: {len(df)} cells in {time.time() - t0:.0f} s")
    print(df.describe().loc[["min", "max"]].to_string())


if __name__ == "__main__":
    main()
