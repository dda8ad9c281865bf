"""Helpers the study scripts share: picking runs out of result files, merging new runs with the
committed ones, replaying recorded runs of ``boed``.

Not installed and imported by nothing outside ``benchmarks/``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from boed_nas import Cell, Outcome
from boed_nas.experiment.report import read_trajectories
from boed_nas.registry import make_strategy


def recorded_outcome(row: Any) -> Outcome:
    """The ``Outcome`` a strategy was told for one trajectory row (a failure, or its ``val_acc``),
    for replaying a recorded run."""
    if row.failed:
        return Outcome(failed=True, cost=float(row.cost))
    return Outcome(metrics={"val_acc": float(row.val_acc)}, cost=float(row.cost))


def replayed_beliefs(run: pd.DataFrame, seed: int, want: Callable[[int], bool] = lambda q: True, spec: str = "boed"):
    """Replay a recorded ``boed`` run (its trajectory rows) into a fresh controller of ``spec``, one
    tell at a time. After the q-th tell, where ``want(q)`` and the GP is in use, yield ``(q,
    controller, belief)``: the belief over the pool built as the next ask would build it (the
    controller's fit, its seeded generator, nothing pending)."""
    s = make_strategy(spec, seed=int(seed))
    for q, r in enumerate(run.sort_values("query").itertuples(), start=1):
        s.tell(Cell.parse(r.cell), recorded_outcome(r))
        if not want(q) or len(s._successes()) < s.n_init:
            continue
        model, evaluated = s.fit()
        yield q, s, s.pool_belief(model, evaluated, [], s._generator(0, 0))


def replay_arguments(doc: str, seeds: str, argv: list[str] | None,
                     more: Callable[[argparse.ArgumentParser], None] = lambda ap: None):
    """The command line of a tool that replays recorded ``boed`` runs (a bench folder, ``--label``,
    ``--seeds``, ``--spec``, and the tool's own arguments added by ``more``), parsed, with torch on
    one thread: ``(args, the runs' trajectories, the seeds)``, or None after printing the error
    line when the runs cannot be read (the tool exits 2)."""
    import torch

    from boed_nas.experiment.bench import parse_seeds

    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("folder", help="a bench folder with trajectories.csv(.gz)")
    ap.add_argument("--label", default=None, help="the strategy label of the runs (default: the folder's only one)")
    ap.add_argument("--seeds", default=seeds)
    ap.add_argument("--spec", default="boed", help="the strategy spec the runs were made with (default: boed)")
    more(ap)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        traj = runs_of(args.folder, args.label)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    return args, traj, parse_seeds(args.seeds)


def runs_of(source: str | os.PathLike[str], label: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The trajectories of the runs labelled ``label`` (or any of a list of labels) in a bench
    folder or file; without a label, of the folder's only strategy. ValueError naming the labels
    there when that is ambiguous or a label is absent."""
    traj = read_trajectories(source)
    labels = sorted(traj["strategy"].unique())
    if label is None:
        if len(labels) != 1:
            raise ValueError(f"{str(source)!r} holds several strategies; give a label, one of {labels}")
        label = labels[0]
    wanted = [label] if isinstance(label, str) else list(label)
    absent = [w for w in wanted if w not in labels]
    if absent:
        raise ValueError(f"no runs labelled {', '.join(map(repr, absent))} in {str(source)!r}; labels: {labels}")
    return traj[traj["strategy"].isin(wanted)]


def with_committed(new: Sequence[pd.DataFrame], committed: str | os.PathLike[str] | None,
                   key: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """``new`` (runs made here, one frame per run file) together with the runs of ``committed`` (a
    merged file an earlier report wrote; None or a missing file: none) whose ``key`` none of ``new`` has, so a run made
    again replaces its committed copy; and how many runs were kept from ``committed``.

    For studies that write one file per run to a git-ignored ``runs/`` and commit the merge: on a
    fresh clone ``runs/`` holds only the runs made there, and a report of those alone would replace
    the committed merge with a fraction of it. ValueError when ``committed`` lacks a key column.
    """
    key = list(key)
    parts = list(new)
    path = None if committed is None else Path(committed)
    if path is None or not path.exists():
        return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=key)), 0
    old = pd.read_csv(path)
    missing = [c for c in key if c not in old.columns]
    if missing:
        raise ValueError(f"{str(path)!r} has no column(s) {missing}; expected the run key {key} "
                         "(a file written by the study's report)")
    made = {k for p in parts for k in p[key].itertuples(index=False, name=None)}
    kept = old[~pd.MultiIndex.from_frame(old[key]).isin(made)]
    return pd.concat([*parts, kept], ignore_index=True), int(len(kept[key].drop_duplicates()))


def sign_test(x: Sequence[float], y: Sequence[float], tol: float = 1e-9) -> tuple[int, int, int, float]:
    """Paired by position, lower is better: (pairs where x is lower, where y is lower, ties within
    ``tol``, the two-sided sign test's p: scipy's binomial test on the pairs that differ, 1 if none)."""
    from scipy.stats import binomtest

    wins = sum(u < v - tol for u, v in zip(x, y))
    losses = sum(v < u - tol for u, v in zip(x, y))
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return wins, losses, len(x) - wins - losses, float(p)
