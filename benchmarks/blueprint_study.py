"""Measurements of the whole-network blueprint search (boed_nas.blueprint) on CPU.

    python -m benchmarks.blueprint_study --study budgets                     # 3 budgets x 3 seeds
    python -m benchmarks.blueprint_study --study lambda --lambdas 0,1,3,10   # the accuracy-latency family
    python -m benchmarks.blueprint_study --study all

budgets -- for each FLOPs budget and seed: search (bilevel, on the training / validation halves of
  the 80 % of scikit-learn's 8x8 digits not held out), derive the blueprint (argmax, repaired if over
  budget), count its FLOPs on the built network, retrain it from scratch, and retrain the hand-made
  baseline (uniform 3x3, the costliest of a uniform width/depth family within the budget) with the same
  seed, epochs and data. Reports actual FLOPs vs budget, retrained accuracy vs the baseline, the cost gap
  (derived counted FLOPs minus E[FLOPs] under the final mixing weights), the accuracy gap (supernet's
  mixed-network validation accuracy minus the derived network's, retrained) and search time:
  ``budgets.csv`` (one row per run), ``budgets.md`` (table), ``budgets.png``, ``runs/`` (each run's files).
lambda -- no budget, lambda * E[latency ms] from a latency table measured here first; the derived
  blueprints on the accuracy-FLOPs and accuracy-latency planes: ``lambda/`` (``sweep.csv/md/png``).

Validation accuracy is what search and derivation see; test accuracy (the 20 % held out) is reported only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from boed_nas.blueprint import BlueprintConfig, run_blueprint, run_lambda_sweep

BASE = BlueprintConfig(verbose=False, threads=1)


def _fmt(v, nd=2):
    return "nan" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{nd}f}"


def _ms(x: pd.Series, nd=2) -> str:
    x = x.astype(float)
    return f"{x.mean():.{nd}f} ± {x.std(ddof=1):.{nd}f}" if len(x) > 1 else f"{x.mean():.{nd}f}"


def study_budgets(out: Path, budgets, seeds, cfg: BlueprintConfig) -> pd.DataFrame:
    from tqdm.auto import tqdm

    rows = []
    jobs = [(b, s) for b in budgets for s in seeds]
    for b, s in tqdm(jobs, desc="budgets x seeds", unit="run"):
        t0 = time.perf_counter()
        sm = run_blueprint(replace(cfg, budget=b, seed=s), out=out / "runs" / f"B{b:g}_seed{s}", progress=False)
        d, base = sm["derived"], sm["baseline"]
        rows.append({
            "budget_MFLOPs": b, "seed": s, "derived": sm["derived_blueprint"], "argmax": sm["argmax_blueprint"],
            "repair_steps": len(sm["derivation"]["repair_steps"]),
            "derived_MFLOPs": d["flops_M"], "argmax_MFLOPs": sm["argmax"]["flops_M"],
            "expected_MFLOPs": sm["expected"]["flops_M"], "expected_MFLOPs_tau1": sm["expected_tau1"]["flops_M"],
            "within_budget": sm["within_budget"], "budget_used": d["flops_M"] / b,
            "cost_gap_MFLOPs": sm["cost_gap"]["derived_minus_expected_flops_M"],
            "derived_params": round(1e6 * d["params_M"]), "derived_latency_ms": d["latency_ms"],
            "supernet_val_acc": sm["supernet_val_acc"], "derived_val_acc": d["val_acc"], "derived_test_acc": d["test_acc"],
            "accuracy_gap": sm["accuracy_gap"],
            "baseline": base["blueprint"], "baseline_MFLOPs": base["flops_M"], "baseline_params": round(1e6 * base["params_M"]),
            "baseline_latency_ms": base["latency_ms"], "baseline_val_acc": base["val_acc"], "baseline_test_acc": base["test_acc"],
            "search_s": sm["search_seconds"], "run_s": time.perf_counter() - t0, "load_1m": os.getloadavg()[0],
        })
        pd.DataFrame(rows).to_csv(out / "budgets.csv", index=False)
    df = pd.DataFrame(rows)
    agg = []
    for b, g in df.groupby("budget_MFLOPs"):
        agg.append({
            "budget MFLOPs": f"{b:g}", "seeds": len(g),
            "derived MFLOPs (counted)": _ms(g.derived_MFLOPs, 3), "max / budget": _fmt(g.budget_used.max(), 3),
            "E[MFLOPs] end of search": _ms(g.expected_MFLOPs, 3), "cost gap (derived - E)": _ms(g.cost_gap_MFLOPs, 3),
            "repaired runs": int((g.repair_steps > 0).sum()),
            "supernet val %": _ms(g.supernet_val_acc), "derived val %": _ms(g.derived_val_acc),
            "accuracy gap (supernet - derived)": _ms(g.accuracy_gap),
            "derived test %": _ms(g.derived_test_acc),
            "baseline MFLOPs": _ms(g.baseline_MFLOPs, 3), "baseline test %": _ms(g.baseline_test_acc),
            "derived - baseline test": _ms(g.derived_test_acc - g.baseline_test_acc),
            "search s": _ms(g.search_s, 0),
        })
    table = pd.DataFrame(agg)
    per_run = df[["budget_MFLOPs", "seed", "derived", "derived_MFLOPs", "expected_MFLOPs", "repair_steps",
                  "derived_val_acc", "derived_test_acc", "baseline", "baseline_MFLOPs", "baseline_test_acc", "search_s"]]
    (out / "budgets.md").write_text(
        "# Blueprint search under a FLOPs budget (digits 8x8)\n\n" + _md(table) + "\n\n## Per run\n\n" + _md(per_run)
        + f"\n\nSettings: {_settings(cfg)}\n")
    plot_budgets(df, out / "budgets.png")
    return df


def _settings(cfg: BlueprintConfig) -> str:
    d = cfg.to_dict()
    keys = ["stages", "kernels", "stem_channels", "epochs", "warmup_epochs", "batch_size", "alpha_lr", "mode",
            "tau_start", "tau_end", "tau_schedule", "budget_weight", "retrain_epochs", "data", "test_fraction", "threads"]
    return ", ".join(f"{k}={d[k]}" for k in keys)


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(lines)


def plot_budgets(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for i, (b, g) in enumerate(df.groupby("budget_MFLOPs")):
        c = f"C{i}"
        ax.axvline(b, color=c, ls=":", alpha=0.7)
        ax.scatter(g.derived_MFLOPs, g.derived_test_acc, color=c, marker="o", label=f"derived, B={b:g}")
        ax.scatter(g.baseline_MFLOPs, g.baseline_test_acc, color=c, marker="s", facecolors="none", label=f"baseline, B={b:g}")
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(sorted(set(df.budget_MFLOPs)) + [0.1])
    ax.set_xlabel("MFLOPs (counted, batch 1); dotted: budget")
    ax.set_ylabel("test accuracy % (retrained from scratch)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.scatter(df.expected_MFLOPs, df.derived_MFLOPs, c="C0", label="derived")
    ax.scatter(df.expected_MFLOPs, df.argmax_MFLOPs, c="C3", marker="x", label="argmax (before repair)")
    lim = [0, max(df.expected_MFLOPs.max(), df.argmax_MFLOPs.max(), df.budget_MFLOPs.max()) * 1.1]
    ax.plot(lim, lim, "k--", lw=0.8, label="no gap")
    ax.set_xlabel("E[MFLOPs] under the final mixing weights")
    ax.set_ylabel("counted MFLOPs")
    ax.set_title("discretisation gap in cost", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", choices=("budgets", "lambda", "all"), default="budgets")
    ap.add_argument("--budgets", default="0.15,0.4,1.0", help="MFLOPs. Default: 0.15,0.4,1.0")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=BASE.epochs)
    ap.add_argument("--retrain-epochs", type=int, default=BASE.retrain_epochs)
    ap.add_argument("--lambdas", default="0,1,3,10")
    ap.add_argument("--latency-table", default=None, help="CSV from measure_blueprint_latency.py (lambda study)")
    ap.add_argument("--out", default="benchmarks/results/blueprint")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = replace(BASE, epochs=args.epochs, retrain_epochs=args.retrain_epochs)
    t0 = time.perf_counter()
    if args.study in ("budgets", "all"):
        budgets = [float(b) for b in args.budgets.split(",")]
        df = study_budgets(out, budgets, range(args.seeds), cfg)
        print((out / "budgets.md").read_text())
        print(f"derived over budget in {int((~df.within_budget).sum())} of {len(df)} runs")
    if args.study in ("lambda", "all"):
        lams = [float(v) for v in args.lambdas.split(",")]
        sweep = run_lambda_sweep(replace(cfg, latency_table=args.latency_table, lam_metric="latency"), lams,
                                 out / "lambda", baseline=False, progress=False)
        print(sweep.to_string(index=False))
    (out / f"run_{args.study}.json").write_text(json.dumps(
        {"argv": sys.argv[1:], "wall_s": time.perf_counter() - t0, "load_average_end": list(os.getloadavg()),
         "cpus": os.cpu_count(), "torch_threads": 1, "settings": cfg.to_dict()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
