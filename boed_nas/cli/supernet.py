"""``boed-nas supernet``: one differentiable supernet search, written to an output folder.

Writes ``summary.json`` (derived cell as an NB201 arch string, alpha 6x5 in OPS order, op prior,
guard report, settings, NB201 accuracies of the derived cell, cost fits), ``alpha_history.csv``
(epoch, edge, op, weight = softmax(alpha)), ``history.csv`` (per-epoch log) and ``alpha.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ConfigError
from ..supernet.search import SearchConfig, search_supernet
from .config_args import add_config_arguments, config_from_args


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Every ``SearchConfig`` setting as a flag, plus the output folder and the proposals listed."""
    p.add_argument("--out", default="runs/supernet", help="output folder. Default: runs/supernet")
    add_config_arguments(p, SearchConfig)
    o = p.add_argument_group("proposals")
    o.add_argument("--top-k", type=int, default=10, help="most probable cells listed in summary.json. Default: 10")
    o.add_argument("--samples", type=int, default=10, help="further cells sampled from alpha for proposals. Default: 10")


def main(args: argparse.Namespace) -> int:
    cfg = config_from_args(SearchConfig, args)
    if args.top_k < 0 or args.samples < 0:
        raise ConfigError(f"--top-k and --samples must be non-negative, got {args.top_k}, {args.samples}")
    out = Path(args.out)
    result = search_supernet(cfg)
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

