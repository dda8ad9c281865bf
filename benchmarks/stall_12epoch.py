"""The stall of issue 31 (point 6): queries until boed first evaluates the best class when the
objective is the 12-epoch schedule's validation accuracy alone (noise-free, one value per cell).

    python -m benchmarks.stall_12epoch --specs default,signals,wl --runs c10:50-55,c100:50-52 --out benchmarks/results/stall_12epoch
    python -m benchmarks.stall_12epoch --report benchmarks/results/stall_12epoch
    python -m benchmarks.stall_12epoch --probe none:c10:51:60     # the belief of one run after 60 queries

The values are the staged NB201 table's ``c10v_val_12`` / ``c100_val_12`` columns
(``../shared/data/nb201/nb201_table.csv.gz``, see its PROVENANCE.md), looked up by the cell's code
(``int(op_code without '-', 5)``: the table's ``arch_index`` is NB201's index, not ``Cell.code``).
Classes are ranked by their canonical representative's value; a run stops when it first evaluates
the best class, or at 200 queries ("nf"). One process, one torch thread; wall seconds per run.
A diagnosis, not a tuning: the specs are the default and the candidate mends it was asked about.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from boed_nas import make_strategy
from boed_nas.nb201.space import canonical_cells

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT.parent / "shared/data/nb201/nb201_table.csv.gz"
COLUMNS = {"c10": "c10v_val_12", "c100": "c100_val_12"}
SPECS = {"default": "boed", "none": "boed[signals=None,random_every=0]",
         "signals": "boed[signals='params+flops+synflow+snip+grad_norm+jacob_cov+naswot',random_every=0]",
         "wl": "boed[kernel='categorical+additive+wl',random_every=0]",
         "fit_every_tell": "boed[refit_fraction=0,random_every=0]",
         "random10": "boed[random_every=10,random_when='always']",
         "none_random10": "boed[signals=None,random_every=10,random_when='always']",
         "stalled10": "boed[random_every=10,random_when='stalled']",
         "none_stalled10": "boed[signals=None,random_every=10,random_when='stalled']"}
"""``default`` is whatever ``boed`` is when the script runs: until 2026-12 it had no signals (the
``none`` spec now), then the shipped signals (the ``signals`` spec), and since 2026-12-07 the
shipped signals with random turns when stalled (the ``stalled10`` spec). The other specs spell out
``random_every`` so that they stay what they were when their runs were made."""
BUDGET = 200


def load(table: Path) -> pd.DataFrame:
    t = pd.read_csv(table, dtype={"op_code": str})
    t.index = pd.Index([int(s.replace("-", ""), 5) for s in t["op_code"]], name="code")
    return t.sort_index()


def run(table: pd.DataFrame, spec: str, dataset: str, seed: int) -> dict:
    codes = np.array([c.code for c in canonical_cells()])
    values = table[COLUMNS[dataset]]
    rank = dict(zip(codes.tolist(), pd.Series(-values.to_numpy()[codes]).rank(method="min").astype(int).tolist()))
    t0 = time.time()
    s = make_strategy(SPECS[spec], seed=seed)
    found, best = None, 10**9
    for q in range(1, BUDGET + 1):
        (cell,) = s.ask(1)
        best = min(best, rank[cell.canonical().code])
        s.tell(cell, {"val_acc": float(values[cell.code])})
        if best == 1:
            found = q
            break
    return {"spec": spec, "dataset": dataset, "seed": seed, "found_at": found, "best_rank": best,
            "seconds": round(time.time() - t0, 1)}


def probe(table: pd.DataFrame, spec: str, dataset: str, seed: int, queries: int) -> str:
    """What the belief of one run holds after ``queries`` queries: where it ranks the best classes,
    and how the search sampled the (edge, op) choices the best classes share. A diagnosis after
    the fact: the table's values are read here, never by the search."""
    from boed_nas.bo.belief import posterior_mean_var

    values = table[COLUMNS[dataset]]
    s = make_strategy(SPECS.get(spec, spec), seed=seed)
    for _ in range(queries):
        (cell,) = s.ask(1)
        s.tell(cell, {"val_acc": float(values[cell.code])})
    model, idx = s.fit()
    mean, var = posterior_mean_var(model, s.pool.X)
    truth = np.array([values[c.code] for c in s.pool.configs])
    ops = np.array([c.ops for c in s.pool.configs])
    top = np.argsort(-truth)[:20]
    belief_rank = (-mean).argsort().argsort()
    lines = [f"{spec} on {dataset}, seed {seed}, after {queries} queries ({len(idx)} observed):",
             f"the 20 best classes: posterior-mean rank median {int(np.median(belief_rank[top].numpy()))} "
             f"of {len(truth)}, best {int(belief_rank[top].min())}; posterior sd median "
             f"{float(var[top].sqrt().median()):.2f}; the best observed class ranks "
             f"{int((truth > truth[idx].max()).sum()) + 1}",
             "", "| edge | op | share of the 20 best | observed | mean observed value | mean over all classes |",
             "|---|---|---|---|---|---|"]
    from boed_nas.nb201.space import OPS
    for e in range(ops.shape[1]):
        o = int(np.bincount(ops[top, e]).argmax())
        seen = idx[ops[idx, e] == o]
        lines.append(f"| {e} | {OPS[o]} | {(ops[top, e] == o).mean():.2f} | {len(seen)} | "
                     f"{truth[seen].mean() if len(seen) else float('nan'):.2f} | {truth[ops[:, e] == o].mean():.2f} |")
    return "\n".join(lines) + "\n"


def report(rows: list[dict]) -> str:
    df = pd.DataFrame(rows)
    specs = [s for s in SPECS if s in set(df["spec"])]
    lines = ["Queries until the best class is first evaluated (nf: not within 200; the best class rank reached), "
             "12-epoch validation accuracy as the objective.", "",
             "| dataset / seed | " + " | ".join(specs) + " |", "|---|" + "---|" * len(specs)]
    for (ds, seed), g in df.groupby(["dataset", "seed"], sort=True):
        cells = []
        for sp in specs:
            r = g[g["spec"] == sp]
            if not len(r):
                cells.append("-")
                continue
            r = r.iloc[-1]
            cells.append(f"{int(r['found_at'])}" if pd.notna(r["found_at"]) else f"nf (best {int(r['best_rank'])})")
        lines.append(f"| {ds} {seed} | " + " | ".join(cells) + " |")
    missed = {sp: int(df[(df["spec"] == sp)]["found_at"].isna().sum()) for sp in specs}
    runs = {sp: int((df["spec"] == sp).sum()) for sp in specs}
    lines += ["", "Not found: " + ", ".join(f"{sp} {missed[sp]} of {runs[sp]}" for sp in specs) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--specs", default="default,signals")
    ap.add_argument("--runs", default="c10:50-55,c100:50-52", help="dataset:seeds,... (seeds a-b or a)")
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--out", default="benchmarks/results/stall_12epoch")
    ap.add_argument("--report", default=None, metavar="FOLDER")
    ap.add_argument("--probe", default=None, metavar="SPEC:DATASET:SEED:QUERIES")
    args = ap.parse_args(argv)
    if args.probe:
        spec, ds, seed, queries = args.probe.split(":")
        torch.set_num_threads(1)
        print(probe(load(args.table), spec, ds, int(seed), int(queries)), end="")
        return 0
    out = Path(args.report or args.out)
    path = out / "runs.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    if args.report is None:
        torch.set_num_threads(1)
        table = load(args.table)
        out.mkdir(parents=True, exist_ok=True)
        for item in args.runs.split(","):
            ds, _, seeds = item.partition(":")
            lo, _, hi = seeds.partition("-")
            for seed in range(int(lo), int(hi or lo) + 1):
                for spec in args.specs.split(","):
                    row = run(table, spec, ds, seed)
                    rows.append(row)
                    with path.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    text = report(rows)
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
