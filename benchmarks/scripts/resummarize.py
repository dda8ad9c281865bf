"""Rebuild ``summary.csv`` and ``table.md`` of committed bench folders from their trajectories.

A bench folder's table is a summary of its trajectories; when the summary's convention changes
(e.g. how a median is taken), the table can be rebuilt without rerunning anything. Unlike
``boed-nas report <folder> --out <folder>``, this leaves ``trajectories.csv.gz`` and the plots as
they are and keeps the table's ``Command:`` line (the ``boed-nas bench`` that made the runs), so
``git diff`` shows only the numbers that changed:

    python -m benchmarks.scripts.resummarize benchmarks/results/nb201/baselines_c10_300 \\
        benchmarks/results/nb201/supernet_prior_c10_seeds5to19

(``--check`` prints what would change and writes nothing.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def resummarize(folder: Path, write: bool = True) -> list[str]:
    """The summary rows that change, as ``dataset strategy column: old -> new``; rewrites the
    folder's ``summary.csv`` and ``table.md`` if ``write``."""
    import math

    import pandas as pd

    from boed_nas.experiment.bench import markdown_table, summarize
    from boed_nas.experiment.report import read_trajectories

    old = pd.read_csv(folder / "summary.csv")
    new = summarize(read_trajectories(folder))
    changes = []
    for i in range(len(old)):
        for c in old.columns:
            a, b = old[c].iloc[i], new[c].iloc[i]
            if isinstance(a, float) and isinstance(b, float) and (a == b or (math.isnan(a) and math.isnan(b))):
                continue
            if a != b:
                changes.append(f"{old['dataset'].iloc[i]} {old['strategy'].iloc[i]} {c}: {a} -> {b}")
    if write:
        text = (folder / "table.md").read_text()
        tail = text[text.index("\n\nCommand:"):] if "\n\nCommand:" in text else "\n"
        new.to_csv(folder / "summary.csv", index=False)
        (folder / "table.md").write_text(markdown_table(new) + tail)
    return changes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", help="bench folders with trajectories.csv(.gz), summary.csv and table.md")
    ap.add_argument("--check", action="store_true", help="print the changes, write nothing")
    args = ap.parse_args(argv)
    for f in args.folders:
        changes = resummarize(Path(f), write=not args.check)
        print(f"{f}: {len(changes)} value(s) changed")
        for line in changes:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
