"""Measure the FLOPs of the real NB201 network for every one of the 15,625 cells.

Uses ``torch.utils.flop_counter.FlopCounterMode`` on ``boed_nas.nb201.network.NB201Network`` with
C=16, N=5: a 1x3x32x32 input for CIFAR-10 (10 classes) and CIFAR-100 (100 classes), and a
1x3x16x16 input for ImageNet16-120 (120 classes). FlopCounterMode counts 2 FLOPs per
multiply-add of convolutions and linear layers (nothing for BN, ReLU, pooling, additions), so
half of each value is the multiply-add count that the NB201 paper reports as "FLOPs".

How: one counted forward pass per op (the cell with that op on all six edges) gives, through
FlopCounterMode's per-module counts, the FLOPs of every edge module for every op at every
position (15 cells x 6 edges), and the skeleton's (stem, reductions, head). A cell's FLOPs are the
skeleton's plus its edges' modules'. This is exact because an edge module's shapes are fixed by
the skeleton, whatever the other edges hold; the script checks it by counting the whole network
of ``--verify`` random cells per dataset directly and requiring identical integers. (Counting
all 46,875 networks directly costs about 45 CPU-minutes of FlopCounterMode overhead.)

    python -m tools.measure_flops --out benchmarks/data/nb201_flops.csv.gz
    python -m tools.build_nb201_data
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from boed_nas.nb201.network import NB201Network
from boed_nas.nb201.space import N_CELLS, N_EDGES, N_OPS, Cell, all_cells

DATASETS = {"c10": (10, 32), "c100": (100, 32), "in16": (120, 16)}
_EDGE = re.compile(r"^(?:.*\.)?cells\.(\d+)\.edges\.(\d+)$")


def count(cell: Cell, num_classes: int, hw: int) -> tuple[int, dict[str, int]]:
    """Total FLOPs of the network around ``cell`` and the FLOPs of each module, by name."""
    net = NB201Network(cell, C=16, N=5, num_classes=num_classes).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, 3, hw, hw))
    per_module = {name: int(sum(ops.values())) for name, ops in counter.get_flop_counts().items()}
    return int(counter.get_total_flops()), per_module


def edge_table(num_classes: int, hw: int) -> tuple[int, np.ndarray]:
    """(skeleton FLOPs, FLOPs[op, cell position, edge]) from one counted pass per op."""
    table: dict[tuple[int, int, int], int] = {}
    skeleton = None
    for o in range(N_OPS):
        total, per_module = count(Cell((o,) * N_EDGES), num_classes, hw)
        edges = {}
        for name, flops in per_module.items():
            m = _EDGE.match(name)
            if m:
                edges[(int(m.group(1)), int(m.group(2)))] = flops
        for (pos, e), flops in edges.items():
            table[(o, pos, e)] = flops
        rest = total - sum(edges.values())
        assert skeleton is None or skeleton == rest, "the skeleton's FLOPs must not depend on the cell"
        skeleton = rest
    positions = sorted({p for _, p, _ in table})
    arr = np.zeros((N_OPS, len(positions), N_EDGES), dtype=np.int64)
    for (o, p, e), flops in table.items():
        arr[o, positions.index(p), e] = flops
    return skeleton, arr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/data/nb201_flops.csv.gz"))
    ap.add_argument("--verify", type=int, default=200, help="cells per dataset counted whole as a check")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    ops = np.array([c.ops for c in all_cells()])  # 15625 x 6, in code order
    df = pd.DataFrame({"code": np.arange(N_CELLS)})
    rng = np.random.default_rng(args.seed)
    for key, (num_classes, hw) in DATASETS.items():
        skeleton, arr = edge_table(num_classes, hw)
        # FLOPs of a cell's edges summed over the 15 cell positions: arr[op, :, edge].sum()
        per_edge = arr.sum(axis=1)  # op x edge
        flops = skeleton + per_edge[ops, np.arange(N_EDGES)].sum(axis=1)
        for code in rng.choice(N_CELLS, size=args.verify, replace=False):
            direct, _ = count(Cell.from_code(int(code)), num_classes, hw)
            if direct != flops[code]:
                raise AssertionError(f"{key}: cell {Cell.from_code(int(code))}: whole-network count {direct} "
                                     f"!= composed count {flops[code]}")
        df[f"{key}_flops_M"] = flops / 1e6
        print(f"{key}: skeleton {skeleton / 1e6:.3f} MFLOPs, {args.verify} whole-network counts agree; "
              f"range {flops.min() / 1e6:.3f} .. {flops.max() / 1e6:.3f} MFLOPs "
              f"({flops.min() / 2e6:.2f} .. {flops.max() / 2e6:.2f} M multiply-adds)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out, index=False, float_format="%.6f")
    print(f"wrote {args.out}: {len(df)} cells in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
