"""Summarise benchmark runs made in pieces: several ``boed-nas bench`` output folders -> one report.

A 20-seed bench can be split by seed range (``--seed0 0 --seeds 5`` here, ``--seed0 5 --seeds 15``
there, on different machines or days); every run's trajectory depends only on (strategy, dataset,
seed, budget), so the union of the pieces is the same data as one long run. ``merge_trajectories``
refuses overlapping pieces (the same dataset, strategy and seed twice) and pieces whose budgets
differ, rather than silently double-counting or truncating.

``budget=N`` (``boed-nas report --budget N``) cuts every run to its first N queries. A strategy
never sees the budget (``run_search`` asks one cell at a time until it is spent), so a run's first
N queries are exactly a budget-N run: benches of different budgets compare at the smaller one. A
run shorter than N is refused (it cannot be extended).

    boed-nas report runs/bench_a runs/bench_b --out runs/bench_all
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .bench import markdown_table, summarize
from .loop import TRAJECTORY_COLUMNS
from .plots import plot_regret

KEY = ["dataset", "strategy", "seed"]
# gzip stamps the write time into its header; a fixed stamp keeps a merged trajectories.csv.gz
# byte-identical when a report is rebuilt from the same runs, so git sees no change
GZIP = {"method": "gzip", "mtime": 0}


def read_trajectories(source: str | os.PathLike[str]) -> pd.DataFrame:
    """The trajectories of one bench output folder (``trajectories.csv`` or ``.csv.gz``) or file."""
    path = Path(source)
    if path.is_dir():
        for name in ("trajectories.csv", "trajectories.csv.gz"):
            if (path / name).exists():
                path = path / name
                break
        else:
            raise FileNotFoundError(f"{str(source)!r} has no trajectories.csv or trajectories.csv.gz")
    df = pd.read_csv(path)
    missing = [c for c in (*KEY, *TRAJECTORY_COLUMNS) if c not in df.columns]
    if missing:
        raise ConfigError(f"{str(path)!r} is not a bench trajectory file: it lacks columns {missing}")
    return df


def parse_renames(items: Sequence[str] | None) -> dict[str, str]:
    """``["OLD=NEW", ...]`` (strategy labels) as a dict; ConfigError naming a malformed item. A
    spec's settings hold '=' too, so the split is at the first '=' outside brackets."""
    out: dict[str, str] = {}
    for item in items or []:
        depth, cut = 0, None
        for i, ch in enumerate(item):
            depth += (ch == "[") - (ch == "]")
            if ch == "=" and depth == 0:
                cut = i
                break
        old, new = (item[:cut].strip(), item[cut + 1:].strip()) if cut is not None else ("", "")
        if not old or not new:
            raise ConfigError(f"--rename expects OLD=NEW (two strategy labels), got {item!r}")
        out[old] = new
    return out


def merge_trajectories(sources: Sequence[str | os.PathLike[str]], budget: int | None = None,
                       renames: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Concatenate bench trajectories, each run cut to its first ``budget`` queries if given;
    ``renames`` maps strategy labels to new ones first (a label written when a default was
    different, spelled out); ConfigError on overlapping runs, unequal budgets or a run shorter
    than ``budget``, and on a rename whose label no source has."""
    if not sources:
        raise ConfigError("merge_trajectories needs at least one bench folder")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ConfigError(f"budget must be a positive integer, got {budget!r}")
    parts = [read_trajectories(s) for s in sources]
    if renames:
        labels = set().union(*(set(p["strategy"]) for p in parts))
        unknown = [k for k in renames if k not in labels]
        if unknown:
            raise ConfigError(f"--rename: no run is labelled {unknown[0]!r}; labels: {sorted(labels)}")
        parts = [p.assign(strategy=p["strategy"].replace(dict(renames))) for p in parts]
    if budget is not None:
        for p, s in zip(parts, sources):
            lengths = p.groupby(KEY)["query"].max()
            short = lengths[lengths < budget]
            if len(short):
                (ds, name, seed), n = next(iter(short.items()))
                raise ConfigError(f"run ({ds}, {name}, seed {seed}) in {str(s)!r} has {int(n)} queries, fewer than "
                                 f"budget {budget}: a run can be cut, not extended")
        parts = [p[p["query"] <= budget] for p in parts]
    runs = pd.concat([p[KEY].drop_duplicates().assign(source=str(s)) for p, s in zip(parts, sources)])
    dup = runs[runs.duplicated(KEY, keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise ConfigError(
            f"run ({first['dataset']}, {first['strategy']}, seed {first['seed']}) appears in more than one source: "
            f"{list(dup[(dup[KEY] == first[KEY]).all(axis=1)]['source'])}"
        )
    traj = pd.concat(parts, ignore_index=True)
    budgets = traj.groupby(KEY)["query"].max().groupby(level=["dataset", "strategy"]).unique()
    mixed = budgets[budgets.map(len) > 1]
    if len(mixed):
        (ds, name), b = next(iter(mixed.items()))
        raise ConfigError(f"runs of {name} on {ds} have different budgets {sorted(int(x) for x in b)}; "
                         "merge only pieces of one bench command")
    # datasets and strategies in order of first appearance (as the bench ran them), then seed, query
    rank = {c: {v: i for i, v in enumerate(dict.fromkeys(traj[c]))} for c in ("dataset", "strategy")}
    return traj.sort_values(["dataset", "strategy", "seed", "query"], kind="stable",
                            key=lambda c: c.map(rank[c.name]) if c.name in rank else c).reset_index(drop=True)


def write_report(traj: pd.DataFrame, out: str | os.PathLike[str], command: str = "") -> str:
    """``trajectories.csv.gz``, ``summary.csv``, ``table.md`` and regret plots in ``out``; the table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    traj.to_csv(out / "trajectories.csv.gz", index=False, compression=GZIP)
    summary = summarize(traj)
    summary.to_csv(out / "summary.csv", index=False)
    table = markdown_table(summary)
    (out / "table.md").write_text(table + (f"\n\nCommand: `{command}`\n" if command else "\n"))
    plot_regret(traj, out / "regret.png")
    plot_regret(traj, out / "recommended_regret.png", column="recommended_test_regret")
    return table
