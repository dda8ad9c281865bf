"""Build the NB201 table that ships in the package: ``boed_nas/nb201/data/nb201.csv.gz``.

Input: the staged table ``shared/data/nb201/nb201_table.csv.gz`` (see its PROVENANCE.md) and the
FLOPs measured by ``measure_flops.py`` (``benchmarks/data/nb201_flops.csv.gz``). Output: one row
per NB201 arch index with only the columns the library reads (200-epoch values only):

    arch_index, op_code,
    {c10v,c100,in16}_val_s1..s3   validation accuracy per training seed (x-valid, 200 epochs)
    {c10,c100,in16}_test          test accuracy, mean over seeds (ori-test / x-test, 200 epochs)
    {c10,c100,in16}_params_M      NB201 params (millions)
    {c10,c100,in16}_latency       NB201's own latency field (batch 256; unit not stated by NB201)
    {c10,c100,in16}_train_time    NB201 training time of the 200-epoch schedule (unit not stated)
    {c10,c100,in16}_flops_M       FlopCounterMode FLOPs of one image (2 per multiply-add)

and ``boed_nas/nb201/data/nb201_12epoch.csv.gz``, the second fidelity: one row per arch index,

    arch_index, {c10,c100,in16}_val_12   validation accuracy after the 12-epoch schedule (one
                                         training per cell; staged columns c10v_val_12, ...)

Usage (from the repository root; needs the sibling ``shared/`` folder):

    python -m tools.build_nb201_data [--table PATH] [--flops PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = {  # shipped prefix -> (validation prefix in the staged table, test/params prefix)
    "c10": ("c10v", "c10"),
    "c100": ("c100", "c100"),
    "in16": ("in16", "in16"),
}


def build(table: Path, flops: Path) -> pd.DataFrame:
    df = pd.read_csv(table)
    fl = pd.read_csv(flops).set_index("code")
    codes = df["op_code"].map(lambda s: int(s.replace("-", ""), 5))
    assert sorted(codes) == list(range(15625)), "op codes must cover the space"
    out = pd.DataFrame({"arch_index": df["arch_index"], "op_code": df["op_code"]})
    for short, (vp, tp) in SRC.items():
        for s in (1, 2, 3):
            out[f"{short}_val_s{s}"] = df[f"{vp}_val_200_s{s}"]
        out[f"{short}_test"] = df[f"{tp}_test_200"]
        out[f"{short}_params_M"] = df[f"{vp}_params_M"]
        out[f"{short}_latency"] = df[f"{vp}_latency"]
        out[f"{short}_train_time"] = df[f"{vp}_train_time_200"]
        out[f"{short}_flops_M"] = fl.loc[codes.values, f"{short}_flops_M"].values
    assert not out.drop(columns=[c for c in out if c.endswith("_s3")]).isna().any().any()
    # the mean of the shipped seed values reproduces the staged mean
    for short, (vp, _) in SRC.items():
        mean = out[[f"{short}_val_s{s}" for s in (1, 2, 3)]].mean(axis=1)
        assert np.allclose(mean, df[f"{vp}_val_200"], atol=1e-6)
    return out


def build_12epoch(table: Path) -> pd.DataFrame:
    df = pd.read_csv(table)
    out = pd.DataFrame({"arch_index": df["arch_index"]})
    for short, (vp, _) in SRC.items():
        out[f"{short}_val_12"] = df[f"{vp}_val_12"]
    assert not out.isna().any().any()
    return out.sort_values("arch_index")


def write(frame: pd.DataFrame, path: Path) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as g, io.TextIOWrapper(g, newline="") as f:
        frame.to_csv(f, index=False, float_format="%.8g")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(frame)} rows, {frame.shape[1]} columns)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", type=Path, default=ROOT.parent / "shared/data/nb201/nb201_table.csv.gz")
    ap.add_argument("--flops", type=Path, default=ROOT / "benchmarks/data/nb201_flops.csv.gz")
    ap.add_argument("--out", type=Path, default=ROOT / "boed_nas/nb201/data/nb201.csv.gz")
    ap.add_argument("--out-12", type=Path, default=ROOT / "boed_nas/nb201/data/nb201_12epoch.csv.gz")
    args = ap.parse_args()
    write(build(args.table, args.flops), args.out)
    write(build_12epoch(args.table), args.out_12)


if __name__ == "__main__":
    main()
