"""The ``boed-nas`` command.

    boed-nas search    one search on NB201 (default: CIFAR-10, budget 100), resumable (--resume),
                       on many workers (--workers, --scheduler) or a simulated clock (--clock simulated);
                       or on a space and objective of your own (--space MODULE:NAME --objective MODULE:FUNCTION)
    boed-nas bench     several strategies x seeds (x workers) side by side: a markdown table and plots
    boed-nas report    merge bench folders run by seed range into one table and plots
    boed-nas supernet  differentiable (DARTS-family) search that proposes cells
    boed-nas blueprint whole-network search of kernels, depths and widths under a FLOPs budget
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import ClusterError, ObjectiveError
from ..registry import ENTRY_POINT_GROUP, available
from . import blueprint, experiment, supernet


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boed-nas", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="strategies (--strategy, --strategies; registered under the entry-point group "
               f"'{ENTRY_POINT_GROUP}'): {', '.join(available())}")
    parser.add_argument("--version", action="version", version=f"boed-nas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    experiment.add_commands(sub)
    p = sub.add_parser("supernet", help="differentiable supernet search (DARTS family)")
    supernet.add_arguments(p)
    p.set_defaults(func=supernet.main)
    p = sub.add_parser("blueprint", help="whole-network blueprint search (kernels, depth, width) under a FLOPs budget")
    blueprint.add_arguments(p)
    p.set_defaults(func=blueprint.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage and its one-line error (or the help)
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"boed-nas {args.command}: interrupted; what was told is saved in the run folder (continue with --resume)",
              file=sys.stderr)
        return 130
    except ClusterError as e:  # the evaluation cluster is gone: what was told is saved
        print(f"boed-nas {args.command}: cluster error: {e}", file=sys.stderr)
        return 4
    except ObjectiveError as e:  # the user's objective stopped the search: what was told is saved
        print(f"boed-nas {args.command}: objective error: {e}", file=sys.stderr)
        return 3
    except (ValueError, OSError) as e:  # bad input (BoedNasError is a ValueError) or a file system refusal
        print(f"boed-nas {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
