"""Measurements of the supernet search (boed_nas.supernet) on CPU, in minutes.

    python -m benchmarks.supernet_study --study all            # everything below, ~15-25 min on 2 cores
    python -m benchmarks.supernet_study --study collapse --seeds 5 --epochs 15
    python -m benchmarks.supernet_study --study order --seeds 3 --epochs 6
    python -m benchmarks.supernet_study --study lambda --epochs 10
    python -m benchmarks.supernet_study --study costfit

Studies (results in benchmarks/results/supernet/):

* costfit  -- least-squares per-(edge, op) cost tables for latency, params and FLOPs (if the FLOPs
  column holds measurements) and their fit errors: ``cost_fit.md``.
* collapse -- guard off vs on, several seeds: the share of skip_connect/none in the derived cell
  and in softmax(alpha) over epochs, and the NB201 CIFAR-10 test accuracy of the derived cells
  (the NB201 paper reports DARTS collapsing to all-skip cells at 54.30%): ``collapse.*``.
* order    -- first- vs second-order DARTS: seconds per epoch and derived cells: ``order.*``.
* lambda   -- the latency weight lambda swept; the derived cells on NB201's accuracy-latency plane
  against the true Pareto front of the table: ``lambda_sweep.*``.

The supernet trains on scikit-learn's 8x8 digits (train half for the weights, the other half for
alpha); NB201 numbers are table lookups of the derived cells (CIFAR-10: latency and ori-test
accuracy). Search settings are written next to each result.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import markdown_frame
from boed_nas.nb201.space import NONE, SKIP, Cell
from boed_nas.supernet import SearchConfig, fit_cost_table, search_supernet

DARTS_COLLAPSE_C10 = 54.30  # NB201 paper, Table 5: DARTS-V1/V2 on CIFAR-10 (test), all-skip cell

BASE = SearchConfig(C=8, N=1, epochs=15, batch_size=64, alpha_lr=3e-2, verbose=False, threads=1)


def _bench():
    from boed_nas.nb201.benchmark import NB201Benchmark

    return NB201Benchmark("cifar10")


def _settings(cfg: SearchConfig) -> str:
    d = cfg.to_dict()
    keys = ["C", "N", "epochs", "batch_size", "w_lr", "alpha_lr", "order", "mode", "tau_start", "tau_end",
            "tau_schedule", "guard", "min_param", "guard_weight", "lam", "budget", "surgery", "data", "threads"]
    return ", ".join(f"{k}={d[k]}" for k in keys)


def skip_none(cell: Cell) -> int:
    return sum(o in (SKIP, NONE) for o in cell.ops)


def run_row(cfg: SearchConfig, bench, **extra) -> tuple[dict, object]:
    t0 = time.perf_counter()
    r = search_supernet(cfg, bench=bench)
    wall = time.perf_counter() - t0
    cell, argmax, rep = r.derive()
    look, look_arg = bench.lookup(cell), bench.lookup(argmax)
    hist = r.history
    row = {**extra, "seed": cfg.seed, "derived_cell": str(cell), "argmax_cell": str(argmax),
           "guard_changed": rep["changed"], "changed_edges": ";".join(f"{c['edge']}:{c['from']}->{c['to']}" for c in rep["changed_edges"]),
           "derived_skip_none_edges": skip_none(cell), "argmax_skip_none_edges": skip_none(argmax),
           "argmax_has_parametric_path": argmax.has_parametric_path(),
           "alpha_skip_none_share": hist[-1]["skip_none_share"],
           "c10_test_acc": look["test_acc"], "argmax_c10_test_acc": look_arg["test_acc"],
           "latency_ms": 1000 * look["latency"], "params_M": look["params_M"],
           "supernet_val_acc": hist[-1]["val_acc"],
           "sec_per_epoch": float(np.mean([h["seconds"] for h in hist[1:]])), "wall_s": wall}
    if not cfg.guard:  # what the guard would do at discretisation alone, on this (unguarded) alpha
        g_cell = r.derive(guard=True)[0]
        row["disc_guard_cell"] = str(g_cell)
        row["disc_guard_changed"] = g_cell != cell
        row["disc_guard_c10_test_acc"] = bench.lookup(g_cell)["test_acc"]
    if "expected_latency" in hist[-1]:
        row["expected_latency_ms"] = hist[-1]["expected_latency"]
    if not np.isnan(hist[-1].get("mean_cos", np.nan)):
        row["mean_cos"] = float(np.nanmean([h["mean_cos"] for h in hist[1:]]))
        row["conflict_share"] = float(np.nanmean([h["conflict_share"] for h in hist[1:]]))
    return row, r


# ----------------------------------------------------------------------------- cost fit
def study_costfit(out: Path, bench) -> None:
    rows = []
    for m in ("latency", "params_M", "flops_M"):
        try:
            t = fit_cost_table(bench, m)
        except ValueError as e:
            rows.append({"metric": m, "status": str(e).split(":")[0]})
            continue
        conv3 = float(np.mean(t.table[:, 3]))
        rows.append({"metric": m, "unit": t.unit, "status": "fitted", "intercept": t.intercept,
                     "mean c[conv3x3]": conv3, "mean c[conv1x1]": float(np.mean(t.table[:, 2])),
                     "mean c[skip]": float(np.mean(t.table[:, 1])), "mean c[pool]": float(np.mean(t.table[:, 4])),
                     "R2": t.r2, "RMSE": t.rmse, "MAPE %": t.mape, "max |err|": t.max_abs_err,
                     "range": f"{t.value_range[0]:.3f}..{t.value_range[1]:.3f}"})
        pd.DataFrame(t.table, columns=["none", "skip", "conv1x1", "conv3x3", "pool"]).assign(
            edge=["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]).to_csv(out / f"cost_table_{m}.csv", index=False)
    df = pd.DataFrame(rows)
    (out / "cost_fit.md").write_text(
        "# Per-op cost tables fitted to NB201 (CIFAR-10), additive model b + sum_e c[e, op_e]\n\n"
        "Least squares over all 15,625 cells; `none` fixed at 0 per edge (absorbed in b).\n\n"
        + markdown_frame(df, 3) + "\n")
    print((out / "cost_fit.md").read_text())


# ----------------------------------------------------------------------------- collapse
ARMS = {"off": dict(guard=False), "on": dict(guard=True, min_param=1), "on2": dict(guard=True, min_param=2),
        "target": dict(guard=True, min_param=1, guard_target=0.5)}


def _arm_name(kw: dict) -> str:
    if not kw["guard"]:
        return "off"
    return f"on (min_param={kw['min_param']}" + (f", target={kw['guard_target']})" if kw.get("guard_target") else ")")


def study_collapse(out: Path, bench, seeds: int, epochs: int, arms=("off", "on", "on2"), append: bool = False) -> None:
    rows, shares = [], []
    for a in arms:
        kw = ARMS[a]
        arm = _arm_name(kw)
        for seed in range(seeds):
            cfg = replace(BASE, epochs=epochs, seed=seed, **kw)
            row, r = run_row(cfg, bench, guard=arm)
            rows.append(row)
            for h in r.history:
                shares.append({"guard": arm, "seed": seed, "epoch": h["epoch"], "alpha_skip_none_share": h["skip_none_share"],
                               "argmax_skip_none_edges": h["argmax_skip_none_edges"], "soft_guard": h["soft_guard"]})
            print(f"collapse guard {arm} seed={seed}: {row['derived_cell']} c10 {row['c10_test_acc']:.2f} "
                  f"skip/none {row['derived_skip_none_edges']} ({row['wall_s']:.0f}s)", flush=True)
    df, sh = pd.DataFrame(rows), pd.DataFrame(shares)
    if append and (out / "collapse_runs.csv").exists():
        old, old_sh = pd.read_csv(out / "collapse_runs.csv"), pd.read_csv(out / "collapse_alpha_share.csv")
        new_arms = set(df.guard)
        df = pd.concat([old[~old.guard.isin(new_arms)], df], ignore_index=True)
        sh = pd.concat([old_sh[~old_sh.guard.isin(new_arms)], sh], ignore_index=True)
    df.to_csv(out / "collapse_runs.csv", index=False)
    sh.to_csv(out / "collapse_alpha_share.csv", index=False)
    agg = df.groupby("guard").agg(runs=("seed", "size"), c10_test_acc_mean=("c10_test_acc", "mean"),
                                  c10_test_acc_min=("c10_test_acc", "min"), c10_test_acc_max=("c10_test_acc", "max"),
                                  derived_skip_none_edges=("derived_skip_none_edges", "mean"),
                                  alpha_skip_none_share=("alpha_skip_none_share", "mean"),
                                  guard_changed_runs=("guard_changed", "sum"),
                                  argmax_without_param_path=("argmax_has_parametric_path",
                                                             lambda s: int((~s.astype(bool)).sum())),
                                  supernet_val_acc=("supernet_val_acc", "mean"),
                                  sec_per_epoch=("sec_per_epoch", "mean")).reset_index()
    cols = ["guard", "seed", "derived_cell", "c10_test_acc", "derived_skip_none_edges", "alpha_skip_none_share",
            "guard_changed", "changed_edges", "supernet_val_acc"]
    extra = ""
    if "disc_guard_cell" in df:
        cols += ["disc_guard_changed", "disc_guard_c10_test_acc"]
        off = df[df.guard == "off"]
        if len(off) and off.disc_guard_c10_test_acc.notna().all():
            extra = (f"\nGuard at discretisation only (applied to the guard-off alphas): changes "
                     f"{int(off.disc_guard_changed.astype(bool).sum())} of {len(off)} derived cells; mean CIFAR-10 test "
                     f"{off.c10_test_acc.mean():.2f} -> {off.disc_guard_c10_test_acc.mean():.2f}.\n")
    md = [f"# Collapse: degeneracy guard off vs on ({seeds} seeds)\n",
          f"Settings: {_settings(replace(BASE, epochs=epochs))}; guard on = penalty -log P(guard) in search "
          "(weight 1; with target t the hinge max(0, log t - log P)) and the most probable passing cell at "
          "discretisation; min_param = convs required on the deepest live input-output path.\n",
          f"NB201 paper reference: DARTS (V1/V2) collapses to all-skip cells, CIFAR-10 test {DARTS_COLLAPSE_C10:.2f}%. "
          f"Table best {bench.best_test_acc:.2f}%, table mean {np.mean(bench.test_acc):.2f}%.\n",
          markdown_frame(agg), "\n", extra, "\nPer run:\n", markdown_frame(df[[c for c in cols if c in df]]), "\n"]
    (out / "collapse.md").write_text("\n".join(md))
    _plot_collapse(sh, out / "collapse.png")
    print(markdown_frame(agg) + extra)


def _plot_collapse(sh: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for guard, color in zip(sorted(sh.guard.unique()), ("tab:red", "tab:blue", "tab:green", "tab:orange")):
        d = sh[sh.guard == guard]
        for _, s in d.groupby("seed"):
            ax[0].plot(s.epoch, s.alpha_skip_none_share, color=color, alpha=0.3)
            ax[1].plot(s.epoch, s.argmax_skip_none_edges, color=color, alpha=0.3)
        m = d.groupby("epoch").mean(numeric_only=True)
        ax[0].plot(m.index, m.alpha_skip_none_share, color=color, lw=2, label=f"guard {guard}")
        ax[1].plot(m.index, m.argmax_skip_none_edges, color=color, lw=2, label=f"guard {guard}")
    ax[0].axhline(0.4, ls=":", color="grey")
    ax[0].set(xlabel="epoch", ylabel="mean P(skip) + P(none) per edge", title="alpha: skip/none share (uniform = 0.4)")
    ax[1].set(xlabel="epoch", ylabel="edges", title="argmax cell: skip/none edges (of 6)")
    for a in ax:
        a.legend()
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- order
def time_orders(repeats: int = 3, epochs: int = 1) -> pd.DataFrame:
    """Seconds per epoch of first vs second order, interleaved (1, 2, 1, 2, ...) so shared-CPU load hits both."""
    rows = []
    for rep in range(repeats):
        for order in (1, 2):
            r = search_supernet(replace(BASE, epochs=epochs, order=order, seed=100 + rep))
            rows.append({"order": order, "repeat": rep, "sec_per_epoch": float(np.mean([h["seconds"] for h in r.history[1:]]))})
            print(f"timing order={order} repeat={rep}: {rows[-1]['sec_per_epoch']:.2f} s/epoch", flush=True)
    return pd.DataFrame(rows)


def study_order(out: Path, bench, seeds: int, epochs: int, timing_repeats: int = 3) -> None:
    rows = []
    for order in (1, 2):
        for seed in range(seeds):
            cfg = replace(BASE, epochs=epochs, order=order, seed=seed)
            row, _ = run_row(cfg, bench, order=order)
            rows.append(row)
            print(f"order={order} seed={seed}: {row['sec_per_epoch']:.1f} s/epoch {row['derived_cell']} "
                  f"c10 {row['c10_test_acc']:.2f}", flush=True)
    pd.DataFrame(rows).to_csv(out / "order.csv", index=False)
    if timing_repeats:
        time_orders(timing_repeats).to_csv(out / "order_timing.csv", index=False)
    report_order(out, seeds, epochs)


def report_order(out: Path, seeds: int, epochs: int) -> None:
    df = pd.read_csv(out / "order.csv")
    agg = df.groupby("order").agg(runs=("seed", "size"), sec_per_epoch=("sec_per_epoch", "mean"),
                                  c10_test_acc_mean=("c10_test_acc", "mean"),
                                  supernet_val_acc=("supernet_val_acc", "mean"),
                                  derived_skip_none_edges=("derived_skip_none_edges", "mean")).reset_index()
    agg["slowdown"] = agg.sec_per_epoch / agg.sec_per_epoch.iloc[0]
    same = sum(a == b for a, b in zip(df[df.order == 1].derived_cell, df[df.order == 2].derived_cell))
    md = [f"# First- vs second-order DARTS ({seeds} seeds)\n", f"Settings: {_settings(replace(BASE, epochs=epochs))}.\n",
          "sec_per_epoch in the search runs below was measured on 2 CPU cores shared with other jobs (load 5-8), "
          "so it is noisy; order_timing.csv has interleaved timings (1, 2, 1, 2, ...) that share the load.\n",
          markdown_frame(agg)]
    if (out / "order_timing.csv").exists():
        t = pd.read_csv(out / "order_timing.csv")
        med = t.groupby("order").sec_per_epoch.median()
        md.append(f"\nInterleaved timing (median of {t.repeat.nunique()} one-epoch runs, C=8, N=1, 15 steps/epoch): "
                  f"first order {med.loc[1]:.2f} s/epoch, second order {med.loc[2]:.2f} s/epoch "
                  f"({med.loc[2] / med.loc[1]:.2f}x).\n")
    md += [f"\nSame derived cell for both orders in {same} of {seeds} seeds.\n\nPer run:\n",
           markdown_frame(df[["order", "seed", "derived_cell", "c10_test_acc", "sec_per_epoch", "supernet_val_acc"]]), "\n"]
    (out / "order.md").write_text("\n".join(md))
    print("\n".join(md[3:5]))


# ----------------------------------------------------------------------------- lambda sweep
def pareto_front(latency: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Codes of the non-dominated cells (min latency, max accuracy), by increasing latency."""
    order = np.lexsort((-acc, latency))
    front, best = [], -np.inf
    for c in order:
        if acc[c] > best:
            front.append(c)
            best = acc[c]
    return np.array(front)


def study_lambda(out: Path, bench, lambdas: list[float], seeds: int, epochs: int, surgery: bool) -> None:
    lat_ms, acc = 1000 * bench.latency, bench.test_acc
    front = pareto_front(lat_ms, acc)
    pd.DataFrame({"code": front, "cell": [str(Cell.from_code(int(c))) for c in front], "latency_ms": lat_ms[front],
                  "c10_test_acc": acc[front]}).to_csv(out / "pareto_front.csv", index=False)
    rows = []
    for s in ([False, True] if surgery else [False]):
        for lam in lambdas:
            for seed in range(seeds):
                cfg = replace(BASE, epochs=epochs, lam=lam, surgery=s, seed=seed)
                row, _ = run_row(cfg, bench, lam=lam, surgery=s)
                f_acc = acc[front][np.searchsorted(lat_ms[front], row["latency_ms"], side="right") - 1]
                row["front_acc_at_latency"] = float(f_acc)
                row["gap_to_front"] = float(f_acc - row["c10_test_acc"])
                rows.append(row)
                print(f"lambda={lam} surgery={s} seed={seed}: {row['derived_cell']} latency {row['latency_ms']:.2f} ms "
                      f"(E {row.get('expected_latency_ms', float('nan')):.2f}) c10 {row['c10_test_acc']:.2f}", flush=True)
    pd.DataFrame(rows).to_csv(out / "lambda_sweep.csv", index=False)
    report_lambda(out, bench, seeds, epochs)


def report_lambda(out: Path, bench, seeds: int, epochs: int) -> None:
    lat_ms, acc = 1000 * bench.latency, bench.test_acc
    front = pareto_front(lat_ms, acc)
    df = pd.read_csv(out / "lambda_sweep.csv")
    lambdas = sorted(df.lam.unique())
    cols = ["lam", "surgery", "seed", "derived_cell", "latency_ms", "expected_latency_ms", "c10_test_acc",
            "front_acc_at_latency", "gap_to_front", "derived_skip_none_edges", "guard_changed",
            "mean_cos", "conflict_share"]
    md = [f"# Lambda sweep: lambda * E[latency in ms] ({seeds} seed(s) per lambda)\n",
          f"Settings: {_settings(replace(BASE, epochs=epochs))}; lambdas {lambdas}.\n",
          f"True Pareto front of the table (min latency, max CIFAR-10 test acc): {len(front)} cells "
          "(pareto_front.csv). gap_to_front = front accuracy at the derived cell's latency minus its accuracy. "
          "expected_latency_ms = the fitted additive model under softmax(alpha) at the end; mean_cos = mean cosine "
          "between accuracy and cost gradients on alpha; conflict_share = share of steps with cosine < 0.\n",
          markdown_frame(df[[c for c in cols if c in df]]), "\n"]
    (out / "lambda_sweep.md").write_text("\n".join(md))
    _plot_lambda(df, lat_ms, acc, front, out / "lambda_sweep.png")
    print(md[-2])


def _plot_lambda(df, lat_ms, acc, front, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.scatter(lat_ms, acc, s=2, color="lightgrey", label="NB201 cells (15,625)", rasterized=True)
    ax.step(lat_ms[front], acc[front], where="post", color="black", lw=1.2, label="true Pareto front")
    lams = sorted(df.lam.unique())
    cmap = plt.get_cmap("viridis")
    for i, lam in enumerate(lams):
        for s, marker in ((False, "o"), (True, "^")):
            d = df[(df.lam == lam) & (df.surgery == s)]
            if len(d):
                ax.scatter(d.latency_ms, d.c10_test_acc, s=70, marker=marker, color=cmap(i / max(1, len(lams) - 1)),
                           edgecolor="black", zorder=3, label=f"lambda={lam}" + (" +surgery" if s else ""))
    ax.set(xlabel="latency (ms, NB201 CIFAR-10)", ylabel="CIFAR-10 test accuracy (%)",
           title="cells derived along the lambda sweep vs the true front")
    ax.set_ylim(max(0, np.percentile(acc, 5) - 5), acc.max() + 1)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study", default="all", choices=("all", "costfit", "collapse", "order", "lambda"))
    ap.add_argument("--seeds", type=int, default=None, help="seeds (collapse 5, order 3, lambda 1 by default)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (collapse 15, order 6, lambda 10 by default)")
    ap.add_argument("--lambdas", default="0,0.03,0.1,0.3,1,3")
    ap.add_argument("--surgery", action="store_true", help="lambda sweep: also with PCGrad surgery")
    ap.add_argument("--arms", default="off,on,on2",
                    help="collapse arms: off, on (min_param 1), on2 (min_param 2), target (hinge at P=0.5)")
    ap.add_argument("--report-only", action="store_true", help="order/lambda: rebuild markdown and plots from the CSVs")
    ap.add_argument("--timing-only", action="store_true", help="order: only the interleaved timing, then the report")
    ap.add_argument("--append", action="store_true", help="collapse: replace only these arms in existing results")
    ap.add_argument("--out", default="benchmarks/results/supernet")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bench = _bench()
    t0 = time.perf_counter()
    if args.study in ("all", "costfit"):
        study_costfit(out, bench)
    if args.study in ("all", "collapse"):
        study_collapse(out, bench, args.seeds or 5, args.epochs or 15, args.arms.split(","), args.append)
    if args.report_only or args.timing_only:
        if args.study == "order":
            if args.timing_only:
                time_orders().to_csv(out / "order_timing.csv", index=False)
            report_order(out, args.seeds or 3, args.epochs or 6)
        elif args.study == "lambda":
            report_lambda(out, bench, args.seeds or 1, args.epochs or 10)
        return
    if args.study in ("all", "order"):
        study_order(out, bench, args.seeds or 3, args.epochs or 6)
    if args.study in ("all", "lambda"):
        study_lambda(out, bench, [float(x) for x in args.lambdas.split(",")], args.seeds or 1, args.epochs or 10,
                     args.surgery)
    (out / f"run_{args.study}.json").write_text(json.dumps({"argv": vars(args), "wall_s": time.perf_counter() - t0}))
    print(f"done in {time.perf_counter() - t0:.0f}s; results in {out}")


if __name__ == "__main__":
    main()
