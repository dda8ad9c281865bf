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

from ..blueprint.pipeline import run_blueprint, run_lambda_sweep
from ..blueprint.search import BlueprintConfig
from .config_args import add_config_arguments, config_from_args


def _floats(text: str) -> list[float]:
    try:
        vals = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return vals


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Every ``BlueprintConfig`` setting as a flag, plus the output folder, the sweep and what to skip."""
    p.add_argument("--out", default="runs/blueprint", help="output folder. Default: runs/blueprint")
    add_config_arguments(p, BlueprintConfig)
    r = p.add_argument_group("pipeline")
    r.add_argument("--lambdas", type=_floats, default=None,
                   help="sweep: one search per lambda, e.g. 0,0.3,1,3; writes sweep.csv/md/png")
    r.add_argument("--no-retrain", action="store_true", help="skip retraining (no accuracy, no accuracy gap)")
    r.add_argument("--no-baseline", action="store_true", help="skip the hand-made baseline")


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(BlueprintConfig, args)
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

