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
    pareto = [_is_pareto(p) for p in parts]
    if len(set(pareto)) > 1:  # one table is either kind's: regret against the optimum, or hypervolume ratio
        kinds = {str(s): "Pareto (hypervolume)" if m else "single-objective" for s, m in zip(sources, pareto)}
        raise ConfigError(f"the sources mix Pareto and single-objective benches {kinds}; report each kind apart")
    key = KEY + ["objectives"] if pareto[0] and all("objectives" in p.columns for p in parts) else KEY
    if renames:
        labels = set().union(*(set(p["strategy"]) for p in parts))
        unknown = [k for k in renames if k not in labels]
        if unknown:
            raise ConfigError(f"--rename: no run is labelled {unknown[0]!r}; labels: {sorted(labels)}")
        parts = [p.assign(strategy=p["strategy"].replace(dict(renames))) for p in parts]
    if budget is not None:
        for p, s in zip(parts, sources):
            lengths = p.groupby(key)["query"].max()
            short = lengths[lengths < budget]
            if len(short):
                (ds, name, seed, *_), n = next(iter(short.items()))
                raise ConfigError(f"run ({ds}, {name}, seed {seed}) in {str(s)!r} has {int(n)} queries, fewer than "
                                 f"budget {budget}: a run can be cut, not extended")
        parts = [p[p["query"] <= budget] for p in parts]
    runs = pd.concat([p[key].drop_duplicates().assign(source=str(s)) for p, s in zip(parts, sources)])
    dup = runs[runs.duplicated(key, keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise ConfigError(
            f"run ({first['dataset']}, {first['strategy']}, seed {first['seed']}) appears in more than one source: "
            f"{list(dup[(dup[key] == first[key]).all(axis=1)]['source'])}"
        )
    traj = pd.concat(parts, ignore_index=True)
    budgets = traj.groupby(key)["query"].max().groupby(level=["dataset", "strategy"]).unique()
    mixed = budgets[budgets.map(len) > 1]
    if len(mixed):
        (ds, name), b = next(iter(mixed.items()))
        raise ConfigError(f"runs of {name} on {ds} have different budgets {sorted(int(x) for x in b)}; "
                         "merge only pieces of one bench command")
    # datasets and strategies in order of first appearance (as the bench ran them), then seed, query
    rank = {c: {v: i for i, v in enumerate(dict.fromkeys(traj[c]))} for c in ("dataset", "strategy")}
    return traj.sort_values(["dataset", "strategy", "seed", "query"], kind="stable",
                            key=lambda c: c.map(rank[c.name]) if c.name in rank else c).reset_index(drop=True)


def _is_pareto(traj: pd.DataFrame) -> bool:
    """A Pareto bench's trajectories (with the hypervolume columns), not a single-objective one's."""
    return "hypervolume_ratio" in traj.columns and traj["hypervolume_ratio"].notna().any()


def write_report(traj: pd.DataFrame, out: str | os.PathLike[str], command: str = "") -> str:
    """``trajectories.csv.gz``, ``summary.csv``, ``table.md`` and plots in ``out``, as the bench that
    made them writes them: regret for a single-objective bench, the hypervolume ratio for a Pareto
    one; the table."""
    from .bench import markdown_table_mo, summarize_mo
    from .plots import plot_hypervolume_ratio

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    traj.to_csv(out / "trajectories.csv.gz", index=False, compression=GZIP)
    pareto = _is_pareto(traj)
    summary = summarize_mo(traj) if pareto else summarize(traj)
    summary.to_csv(out / "summary.csv", index=False)
    table = markdown_table_mo(summary) if pareto else markdown_table(summary)
    (out / "table.md").write_text(table + (f"\n\nCommand: `{command}`\n" if command else "\n"))
    if pareto:
        plot_hypervolume_ratio(traj, out / "hypervolume_ratio.png")
    else:
        plot_regret(traj, out / "regret.png")
        plot_regret(traj, out / "recommended_regret.png", column="recommended_test_regret")
    return table


def report_plots(traj: pd.DataFrame) -> list[str]:
    """The plots ``write_report`` writes for these trajectories."""
    return ["hypervolume_ratio.png"] if _is_pareto(traj) else ["regret.png", "recommended_regret.png"]
