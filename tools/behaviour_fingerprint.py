"""Record the trajectories of a fixed set of runs, to check that a refactoring changed no behaviour.

    python -m tools.behaviour_fingerprint record OUT     # write OUT/single.csv.gz, mo.csv, ax_loop.txt
    python -m tools.behaviour_fingerprint check OUT REF  # record into OUT, then compare with REF

The runs: boed, bananas and evolution on CIFAR-10, CIFAR-100 and ImageNet16-120, seeds 0-2, budget
60; boed-mo on CIFAR-10 accuracy+latency, seed 0, budget 60; and ``examples/ax_loop.py``'s output.
Timing columns (``ask_seconds``) and the temporary file name the example prints are left out;
everything else must be byte-identical. ``benchmarks/results/fingerprint/`` holds the current
reference, recorded on 2026-12-07 from commit 07799ac (``ax_loop.txt`` again after c2b77c2, when the Ax node's
default start changed) (after the ask-cost schedule and the shipped
signals as boed's default; ``single.csv.gz`` and ``ax_loop.txt`` again on 2026-12-07 after the
random turns when stalled became boed's default; ``single.csv.gz`` again on 2026-12-07 in a fresh
environment, where the commits before and after that day's change gave the same 140 rows of 1,620
different from the old reference (one boed and three bananas runs: a package, not the code); the reference before, from 1afe7c1, is described in
``benchmarks/README.md``, behaviour fingerprint). The event columns' wall-clock times,
``submitted``/``started``/``finished``, are left out. About 5 minutes on 2 cores. ``benchmarks/results/restructure/`` is the older reference, recorded before the 0.2
restructure (commit ce95776); boed's trajectories have differed from it since the acquisition's
ties became a seeded draw (``benchmarks/README.md``, acquisition ties).
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from boed_nas.experiment.bench import run_bench

FILES = ("single.csv.gz", "mo.csv", "ax_loop.txt")
WALL_CLOCK = ["ask_seconds", "submitted", "started", "finished"]  # times of this machine's run, not behaviour
GZIP = {"method": "gzip", "mtime": 0}  # no time stamp in the header: the same rows give the same bytes


def _text(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def _comparable(path: Path, ref: Path) -> bytes:
    """``path``'s text, a trajectory file cut to the reference's columns (columns added since, such as
    the engine's event times, are not behaviour the reference recorded)."""
    if ref.suffix == ".txt":
        return _text(path)
    cols = pd.read_csv(ref, nrows=0).columns
    text = pd.read_csv(path)[list(cols)].to_csv(index=False).encode()
    return text if text == _text(ref) else _text(path)


def record(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    parts = [run_bench(["boed", "bananas", "evolution"], ds, range(3), 60, jobs=2, progress=False)
             for ds in ("cifar10", "cifar100", "ImageNet16-120")]
    pd.concat(parts, ignore_index=True).drop(columns=WALL_CLOCK, errors="ignore").to_csv(
        out / "single.csv.gz", index=False, compression=GZIP)
    mo = run_bench(["boed-mo"], "cifar10", [0], 60, progress=False, objectives="accuracy,latency")
    mo.drop(columns=WALL_CLOCK, errors="ignore").to_csv(out / "mo.csv", index=False)
    example = Path(__file__).resolve().parents[1] / "examples" / "ax_loop.py"
    text = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, check=True).stdout
    (out / "ax_loop.txt").write_text(re.sub(r"--- saved and reloaded .*? \(", "--- saved and reloaded <tmp> (", text))


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "record":
        record(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "check":
        out, ref = Path(argv[1]), Path(argv[2])
        record(out)
        differ = [f for f in FILES if _comparable(out / f, ref / f) != _text(ref / f)]
        for f in FILES:
            print(f"{f}: {'DIFFERS' if f in differ else 'identical'}")
        return 1 if differ else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
