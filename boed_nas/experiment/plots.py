"""Plots of bench trajectories: regret and hypervolume ratio per query (median and IQR over seeds)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd


def save_figure(fig, path: str | os.PathLike[str]) -> None:
    """Save ``fig`` to ``path`` whole or not at all (a temporary file renamed over it), and close
    it; an ``OSError`` (a full disk) names the file."""
    path = os.fspath(path)
    tmp = f"{path}.tmp"
    try:
        fig.savefig(tmp, dpi=120, format=os.path.splitext(path)[1].lstrip(".") or "png")
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OSError(e.errno, f"cannot write the plot {path!r}: {e.strerror or e}") from e
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def _lines(sub: pd.DataFrame):
    """(label, frame) per plotted line: one per strategy, and per number of workers where runs differ in it."""
    by_workers = "workers" in sub.columns and sub["workers"].nunique() > 1
    keys = ["strategy", "workers"] if by_workers else ["strategy"]
    for key, g in sub.groupby(keys, sort=False):
        yield (f"{key[0]}, {key[1]} workers" if by_workers else key if isinstance(key, str) else key[0]), g


def plot_regret(trajectories: pd.DataFrame, path: str | os.PathLike[str], column: str = "test_regret") -> None:
    """Median regret per query with an interquartile band, one line per strategy (and dataset panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    datasets = list(dict.fromkeys(trajectories["dataset"])) if "dataset" in trajectories else [None]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        sub = trajectories if ds is None else trajectories[trajectories["dataset"] == ds]
        for name, g in _lines(sub):
            wide = g.pivot(index="query", columns="seed", values=column)
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.set_xlabel("queries (trainings)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{column.replace('_', ' ')} (test accuracy points)")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"NB201 {ds}" if ds else "NB201")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def plot_hypervolume_ratio(trajectories: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Median hypervolume ratio (found/true) per query with an interquartile band, one line per
    strategy, one panel per (dataset, objectives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    keys = [k for k in ("dataset", "objectives") if k in trajectories.columns]
    panels = list(trajectories.groupby(keys, sort=False)) if keys else [(None, trajectories)]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (key, sub) in zip(axes.ravel(), panels):
        for name, g in _lines(sub):
            wide = g.pivot(index="query", columns="seed", values="hypervolume_ratio")
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.axhline(0.99, color="k", lw=0.8, ls="--")
        ax.set_xlabel("queries (trainings)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("hypervolume ratio (found / true)")
        lo = float(sub.groupby("strategy")["hypervolume_ratio"].quantile(0.25).min()) if len(sub) else 0.8
        ax.set_ylim(max(0.0, min(0.9, lo)), 1.002)
        title = key if not isinstance(key, tuple) else " ".join(str(k) for k in key)
        ax.set_title(f"NB201 {title}" if title is not None else "NB201")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def plot_regret_over_time(trajectories: pd.DataFrame, path: str | os.PathLike[str], column: str = "test_regret",
                          points: int = 200) -> None:
    """Median regret against the engine's clock (``finished``: simulated hours on a simulated clock),
    with an interquartile band over seeds; one line per strategy and number of workers, one panel
    per dataset. Each run's regret is a step function of time (it holds until the next result)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    datasets = list(dict.fromkeys(trajectories["dataset"])) if "dataset" in trajectories else [None]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        sub = trajectories if ds is None else trajectories[trajectories["dataset"] == ds]
        hours = sub["finished"].to_numpy(dtype=float) / 3600
        grid = np.geomspace(max(np.nanmin(hours[hours > 0]) if (hours > 0).any() else 1e-3, 1e-3), np.nanmax(hours),
                            points)
        strategies = list(dict.fromkeys(sub["strategy"]))
        worker_counts = sorted(sub["workers"].unique()) if "workers" in sub else []
        for name, g in _lines(sub):
            # one colour per strategy, one line style per number of workers (solid: the fewest)
            color = plt.get_cmap("tab10")(strategies.index(g["strategy"].iloc[0]) % 10)
            style = ["-", "--", ":", "-."][worker_counts.index(g["workers"].iloc[0]) % 4] if worker_counts else "-"
            curves = []
            for _, run in g.groupby("seed"):
                run = run.sort_values("finished")
                t, v = run["finished"].to_numpy(dtype=float) / 3600, run[column].to_numpy(dtype=float)
                idx = np.searchsorted(t, grid, side="right") - 1
                curve = np.where(idx >= 0, v[np.clip(idx, 0, None)], np.nan)
                curve[grid > t[-1]] = v[-1]  # a run that ended (budget or optimum) keeps its last value
                curves.append(curve)
            q = np.nanquantile(np.array(curves), [0.25, 0.5, 0.75], axis=0)
            ax.plot(grid, q[1], label=f"{name} (n={len(curves)})", color=color, linestyle=style)
            ax.fill_between(grid, q[0], q[2], alpha=0.12, color=color)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_xlabel("time (engine clock, hours)")
        ax.set_ylabel(f"{column.replace('_', ' ')} (test accuracy points)")
        ax.set_title(f"NB201 {ds}" if ds else "NB201")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_belief(trajectory: pd.DataFrame, path: str | os.PathLike[str], title: str = "") -> bool:
    """What the belief said along one search (``BELIEF_COLUMNS`` of its trajectory): the probability
    that the recommendation is the best network, and the entropy of which network is best, per
    query. False (nothing written) when the strategy reported no belief."""
    trajectory = trajectory.assign(**{c: pd.to_numeric(trajectory[c], errors="coerce")
                                      for c in ("query", "prob_best", "argmax_entropy") if c in trajectory})
    cols = [c for c in ("prob_best", "argmax_entropy") if c in trajectory and trajectory[c].notna().any()]
    if len(cols) < 2:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(trajectory["query"], trajectory["prob_best"], color="tab:blue", marker=".", label="P(recommendation is the best)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("queries (trainings)")
    ax.set_ylabel("P(recommendation is the best)", color="tab:blue")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2 = ax.twinx()
    ax2.plot(trajectory["query"], trajectory["argmax_entropy"], color="tab:red", marker=".", label="entropy of the best")
    ax2.set_ylabel("entropy of which network is best (nats)", color="tab:red")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    return True
