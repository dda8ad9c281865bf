"""Plots of bench trajectories: regret and hypervolume ratio per query (median and IQR over seeds)."""

from __future__ import annotations

import os

import pandas as pd


def plot_regret(trajectories: pd.DataFrame, path: str | os.PathLike[str], column: str = "test_regret") -> None:
    """Median regret per query with an interquartile band, one line per strategy (and dataset panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(trajectories["dataset"])) if "dataset" in trajectories else [None]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        sub = trajectories if ds is None else trajectories[trajectories["dataset"] == ds]
        for name, g in sub.groupby("strategy", sort=False):
            wide = g.pivot(index="query", columns="seed", values=column)
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.set_xlabel("queries (trainings)")
        ax.set_ylabel(f"{column.replace('_', ' ')} (test accuracy points)")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"NB201 {ds}" if ds else "NB201")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_hypervolume_ratio(trajectories: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Median hypervolume ratio (found/true) per query with an interquartile band, one line per
    strategy, one panel per (dataset, objectives)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in ("dataset", "objectives") if k in trajectories.columns]
    panels = list(trajectories.groupby(keys, sort=False)) if keys else [(None, trajectories)]
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 4 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (key, sub) in zip(axes.ravel(), panels):
        for name, g in sub.groupby("strategy", sort=False):
            wide = g.pivot(index="query", columns="seed", values="hypervolume_ratio")
            q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
            ax.plot(q.index, q[0.5], label=f"{name} (n={wide.shape[1]})")
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.2)
        ax.axhline(0.99, color="k", lw=0.8, ls="--")
        ax.set_xlabel("queries (trainings)")
        ax.set_ylabel("hypervolume ratio (found / true)")
        lo = float(sub.groupby("strategy")["hypervolume_ratio"].quantile(0.25).min()) if len(sub) else 0.8
        ax.set_ylim(max(0.0, min(0.9, lo)), 1.002)
        title = key if not isinstance(key, tuple) else " ".join(str(k) for k in key)
        ax.set_title(f"NB201 {title}" if title is not None else "NB201")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
