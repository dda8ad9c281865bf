"""The whole blueprint pipeline (search, derive, measure, retrain) and its files.

:func:`run_blueprint` is what ``boed-nas blueprint`` runs: search, derive the blueprint (with the hard
budget repair), count its FLOPs and parameters on the built network, time it, retrain it from
scratch, retrain a hand-made baseline of similar FLOPs, and report the two discretisation gaps:

* cost: the derived (and the argmax) blueprint's counted cost minus the expected cost under the
  search's final mixing distribution;
* accuracy: the supernet's mixed-network validation accuracy minus the derived network's validation
  accuracy after retraining from scratch (same training and validation splits).

:func:`run_lambda_sweep` repeats it over lambda values and writes the family of blueprints on the
accuracy-cost plane.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..bilevel.data import make_splits
from ..errors import ConfigError
from ..jsonable import json_default
from .cost import (
    measure_latency_table,
    measure_network_latency,
    network_flops,
    network_params,
)
from .discretise import baseline_blueprint, fits
from .result import BlueprintSearchResult
from .search import BlueprintConfig, search_blueprint
from .train import train_blueprint


# ------------------------------------------------------------------------------------ the pipeline
def run_blueprint(config=None, data=None, out: str | Path | None = None, retrain: bool = True,
                  baseline: bool = True, time_latency: bool = True, progress: bool | None = None) -> dict:
    """Search, derive, measure, retrain; returns the summary (and writes the files when ``out`` is given)."""
    cfg = config or BlueprintConfig()
    progress = cfg.verbose if progress is None else progress
    result = search_blueprint(cfg, data, progress)
    space, costs = result.space, result.costs
    bp, report = result.derive()
    argmax = space.parse(report["argmax_blueprint"])
    tau = result.final_tau
    metric = cfg.budget_metric
    derived = {"blueprint": str(bp), "flops_M": network_flops(bp, space) / 1e6,
               "params_M": network_params(bp, space) / 1e6, "depths": list(bp.depths)}
    if "latency" in costs.metrics:
        derived["predicted_latency_ms"] = costs.of(bp, "latency")
    if time_latency:
        derived.update(measure_network_latency(bp, space, threads=1))
    summary = {
        "derived_blueprint": str(bp),
        "argmax_blueprint": str(argmax),
        "budget": cfg.budget, "budget_metric": metric, "lam": cfg.lam, "lam_metric": cfg.lam_metric,
        "derived": derived,
        "argmax": {"flops_M": network_flops(argmax, space) / 1e6, "params_M": network_params(argmax, space) / 1e6},
        "expected": {m: result.expected(m, tau) for m in costs.metrics},
        "expected_tau1": {m: result.expected(m, 1.0) for m in costs.metrics},
        "final_tau": tau,
        "derivation": report,
        "within_budget": None if cfg.budget is None else fits(derived[metric], cfg.budget),
        "supernet_val_acc": result.supernet_val_acc,
        "search_seconds": result.search_seconds,
        "search_threads": cfg.threads,
        "space": space.describe(),
        "space_size": space.size(),
        "data": result.data_name,
        "splits": {"train": len(result.splits.x_train), "val": len(result.splits.x_val),
                   "test": 0 if result.splits.x_test is None else len(result.splits.x_test)},
        "settings": cfg.to_dict(),
    }
    e = summary["expected"]
    summary["cost_gap"] = {f"derived_minus_expected_{m}": derived[m] - e[m] for m in ("flops_M", "params_M")}
    summary["cost_gap"].update({f"argmax_minus_expected_{m}": summary["argmax"][m] - e[m] for m in ("flops_M", "params_M")})
    if retrain:
        kw = dict(epochs=cfg.retrain_epochs, seed=cfg.seed, batch_size=cfg.batch_size, lr=cfg.retrain_lr,
                  threads=cfg.threads, progress=progress)
        r = train_blueprint(bp, space, result.splits, desc="retrain derived", **kw)
        summary["derived"].update({k: r[k] for k in ("val_acc", "test_acc", "train_acc", "train_seconds")})
        summary["accuracy_gap"] = result.supernet_val_acc - r["val_acc"]
        if baseline:
            b_budget = cfg.budget if cfg.budget is not None else derived["flops_M"]
            b_metric = metric if cfg.budget is not None else "flops_M"
            base = baseline_blueprint(space, costs, b_budget, b_metric)
            rb = train_blueprint(base, space, result.splits, desc="retrain baseline", **kw)
            summary["baseline"] = {"blueprint": str(base), "flops_M": network_flops(base, space) / 1e6,
                                   "params_M": network_params(base, space) / 1e6,
                                   **{k: rb[k] for k in ("val_acc", "test_acc", "train_acc", "train_seconds")}}
            if time_latency:
                summary["baseline"].update(measure_network_latency(base, space, threads=1))
    if out is not None:
        save(result, summary, out)
    return summary


def save(result: BlueprintSearchResult, summary: dict, out: str | Path) -> None:
    """summary.json, history.csv, alpha_history.csv (kernels, widths), gate_history.csv, blueprint.png."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=json_default) + "\n")
    pd.DataFrame(result.history).to_csv(out / "history.csv", index=False)
    ah = pd.DataFrame(result.alpha_history)
    ah[ah.kind != "gate"].to_csv(out / "alpha_history.csv", index=False)
    pd.DataFrame(result.gate_history()).to_csv(out / "gate_history.csv", index=False)
    if result.costs.latency_table is not None:
        result.costs.latency_table.to_csv(out / "latency_table.csv", index=False)
    plot_history(result, out / "blueprint.png", summary)




def plot_history(result: BlueprintSearchResult, path, summary: dict | None = None) -> None:
    """Per stage: width probabilities and, per layer, kernel probabilities with P(keep) dashed;
    bottom row: expected vs argmax FLOPs against the budget, and the supernet's validation accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sp = result.space
    df = pd.DataFrame(result.alpha_history)
    hist = pd.DataFrame(result.history)
    ncol = 1 + max(st.depth for st in sp.stages)
    fig, axes = plt.subplots(sp.n_stages + 1, ncol, figsize=(3.1 * ncol, 2.3 * (sp.n_stages + 1)), squeeze=False)
    for s, st in enumerate(sp.stages):
        ax = axes[s, 0]
        d = df[(df.kind == "width") & (df.stage == s)]
        for o, g in d.groupby("option"):
            ax.plot(g.epoch, g.prob, label=f"w={o}")
        ax.set_title(f"stage {s} width", fontsize=9)
        ax.legend(fontsize=6)
        for ell in range(ncol - 1):
            ax = axes[s, ell + 1]
            if ell >= st.depth:
                ax.axis("off")
                continue
            d = df[(df.kind == "kernel") & (df.stage == s) & (df.layer == ell)]
            for o, g in d.groupby("option"):
                ax.plot(g.epoch, g.prob, label=f"k={o}")
            if ell > 0:
                gk = df[(df.kind == "gate") & (df.stage == s) & (df.layer == ell) & (df.option == "keep")]
                ax.plot(gk.epoch, gk.prob, "k--", label="P(keep)")
            ax.set_title(f"stage {s} layer {ell}" + (" (gated)" if ell else ""), fontsize=9)
            ax.legend(fontsize=6)
    for ax in axes[:-1].flat:
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    ax = axes[-1, 0]
    ax.plot(hist.epoch, hist.expected_flops_M, label="E[MFLOPs], softmax(alpha)")
    ax.plot(hist.epoch, hist.argmax_flops_M, label="argmax MFLOPs")
    budget = result.config.get("budget")
    if budget is not None:
        ax.axhline(budget, color="r", ls=":", label="budget")
    ax.set_title("cost", fontsize=9)
    ax.legend(fontsize=6)
    ax = axes[-1, 1] if ncol > 1 else None
    if ax is not None and "supernet_val_acc" in hist:
        ax.plot(hist.epoch, hist.supernet_val_acc, label="supernet (mixed)")
        if summary and "val_acc" in summary.get("derived", {}):
            ax.axhline(summary["derived"]["val_acc"], color="g", ls="--", label="derived, retrained")
        ax.set_title("validation accuracy %", fontsize=9)
        ax.legend(fontsize=6)
    for ax in axes[-1, 2:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("epoch", fontsize=8)
    title = f"derived {summary['derived_blueprint']}" if summary else ""
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.07, top=0.92, hspace=0.45, wspace=0.25)  # tight_layout: slow
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------------ lambda sweep
def run_lambda_sweep(config, lambdas, out: str | Path, data=None, retrain: bool = True, baseline: bool = False,
                     progress: bool | None = None):
    """One pipeline run per lambda (``out/lam_<value>/``), then ``sweep.csv``, ``sweep.md`` and ``sweep.png``:
    the family of derived blueprints on the accuracy-cost plane, its non-dominated members marked."""
    lambdas = [float(v) for v in lambdas]
    if not lambdas or any(not np.isfinite(v) or v < 0 for v in lambdas):
        raise ConfigError(f"lambdas must be non-negative numbers, got {lambdas!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = config
    if cfg.latency_table is None and any(v > 0 for v in lambdas) and cfg.lam_metric == "latency":
        # one table for the whole sweep, measured once on this machine
        splits = make_splits(cfg.data if data is None else data, cfg.val_fraction, cfg.seed, cfg.data_limit,
                             cfg.test_fraction)
        table = measure_latency_table(cfg.make_space(splits), min_run_time=0.01, progress=progress or False)
        table.to_csv(out / "latency_table.csv", index=False)
        cfg = replace(cfg, latency_table=str(out / "latency_table.csv"))
    rows = []
    for lam in lambdas:
        s = run_blueprint(replace(cfg, lam=lam), data, out / f"lam_{lam:g}", retrain, baseline, True, progress)
        d = s["derived"]
        rows.append({"lam": lam, "blueprint": s["derived_blueprint"], "flops_M": d["flops_M"], "params_M": d["params_M"],
                     "latency_ms": d.get("latency_ms"), "latency_iqr_ms": d.get("latency_iqr_ms"),
                     "predicted_latency_ms": d.get("predicted_latency_ms"),
                     "expected_latency_ms": s["expected"].get("latency"), "expected_flops_M": s["expected"]["flops_M"],
                     "supernet_val_acc": s["supernet_val_acc"], "val_acc": d.get("val_acc"),
                     "test_acc": d.get("test_acc"), "search_seconds": s["search_seconds"]})
    df = pd.DataFrame(rows)
    if retrain:
        df["pareto_flops"] = _non_dominated(df, "flops_M")
        if df.latency_ms.notna().all():
            df["pareto_latency"] = _non_dominated(df, "latency_ms")
    df.to_csv(out / "sweep.csv", index=False)
    (out / "sweep.md").write_text(_md(df) + "\n")
    if retrain:
        plot_sweep(df, out / "sweep.png")
    return df


def _non_dominated(df, cost: str) -> list[bool]:
    """Members of the first non-dominated front (max validation accuracy, min cost), by pymoo."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = np.column_stack([-df.val_acc.to_numpy(float), df[cost].to_numpy(float)])
    front = NonDominatedSorting().do(F, only_non_dominated_front=True)
    mask = np.zeros(len(df), dtype=bool)
    mask[front] = True
    return mask.tolist()


def _md(df) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(lines)


def plot_sweep(df, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    costs = [("flops_M", "MFLOPs (counted)")]
    if df.latency_ms.notna().all():
        costs.append(("latency_ms", "latency ms (measured, batch 1)"))
    fig, axes = plt.subplots(1, len(costs), figsize=(5.5 * len(costs), 4), squeeze=False)
    for ax, (c, label) in zip(axes[0], costs):
        ax.scatter(df[c], df.val_acc, c="C0", label="derived, retrained (val)")
        if "test_acc" in df and df.test_acc.notna().all():
            ax.scatter(df[c], df.test_acc, c="C1", marker="x", label="test (reported only)")
        col = f"pareto_{c.split('_')[0]}"
        if col in df:
            pf = df[df[col]].sort_values(c)
            ax.step(pf[c], pf.val_acc, where="post", color="C0", alpha=0.5, label="non-dominated")
        for _, r in df.iterrows():
            ax.annotate(f"λ={r.lam:g}", (r[c], r.val_acc), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy %")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("lambda sweep: derived blueprints on the accuracy-cost plane", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    fig.savefig(path, dpi=110)
    plt.close(fig)
