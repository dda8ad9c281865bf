"""Information per unit cost on real learning curves (issue 32): the ``k13lc`` table, a space of
your own whose every training recorded its validation accuracy after each epoch.

    python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --budget 300 --seconds 100 --jobs 2 --out runs/curves
    python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --budget 2000 --seconds 100 --jobs 2 \
        --arms boed-mf,asha,hyperband --out runs/curves      # those that stopped at 300 evaluations, on to the time limit
    python -m benchmarks.curve_study report runs/curves --seeds 0-5 --out benchmarks/results/curves

The table (``benchmarks/data/blueprint_digits_k13_curves/``, see its PROVENANCE.md) holds every
network of the 1,728-network ``k13`` sub-space of the blueprint macro space, trained twice
for 8 epochs on scikit-learn's digits, with the validation accuracy and the training seconds at
the end of every epoch. A search follows the NB201 protocol: an evaluation of a network at ``e``
epochs returns the validation accuracy after epoch ``e`` of one of its training seeds, drawn from
(run seed, network) and the same at every level (one training, stopped early), and takes that
training's measured seconds to the end of epoch ``e`` on the simulated clock. The levels are
epochs 1, 2, 4 and 8 (the target). Reports use the mean test accuracy over the training seeds
after 8 epochs.

Arms (every one on the same table, noise and clock): ``boed`` (8 epochs only), ``boed-mf`` (boed
over epochs 1, 2, 4, 8: the GP over (network, level) and information gain per unit cost),
``boed-mf-icm`` (the same with a correlation learned between levels, ``boed[level_kernel=icm]``:
``boed-mf`` until ``scaled`` became the default), ``boed-mf-noise`` (``boed-mf`` with a noise
variance per level, ``boed[noise='level']``),
``boed-sn`` (boed over two levels, a one-shot supernet's weight-sharing estimate and 8 epochs),
``boed-sn-signal`` (boed at 8 epochs with every network's supernet estimate in the prior mean),
``asha`` and ``hyperband`` (``strategies/fidelity.py``, rungs 1, 2, 4, 8), and
``random`` (8 epochs). The supernet (``supernet.csv.gz`` beside the table, built by
``python -m tools.build_supernet_estimates``; one of its supernet seeds per run, drawn from the run
seed) is trained before the search: its measured training seconds pass on the clock before the
first evaluation, every worker waiting. ``boed-sn`` charges each estimate its measured seconds
(its relative cost for the acquisition: the median estimate's seconds over the median 8-epoch
training's); ``boed-sn-signal`` charges every network's estimate before the search, spread evenly
over the workers. Each run ends when it first evaluates, at 8 epochs, a network of the table's best mean
validation accuracy at 8 epochs, or at ``--seconds`` of simulated time, or at ``--budget``
evaluations. Reported: the simulated time to that optimum (median [IQR]; a run that never found
it counts as infinitely long), the evaluations at each level, and the test regret of each arm's
recommendation against simulated time (a table at fixed times and a plot). Every run is one JSON
line of ``<out>/runs.jsonl``: a rerun resumes, and with a larger ``--budget`` runs again the runs
that stopped at their budget before the time limit (the last record of a run counts).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.errors import ConfigError
from boed_nas.experiment.bench import median_iqr, parse_seeds
from boed_nas.outcome import Outcome
from boed_nas.spaces import Fidelity

from .blueprint_table import K13LC, TABLES, TableObjective, curve_epochs, load_table, table_spec, training_seeds
from .common import sign_test

LEVELS = (1, 2, 4, 8)
FIDELITY = "epochs=" + ",".join(map(str, LEVELS))
SUPERNET = "supernet"  # the one-shot supernet's estimate, a level of its own in boed-sn
ARMS = {  # name -> (strategy spec, fidelity; SUPERNET: levels supernet and 8 epochs, costs measured)
    "boed": ("boed", None),
    "boed-mf": ("boed", FIDELITY),
    "boed-mf-icm": ("boed[level_kernel=icm]", FIDELITY),  # boed-mf before level_kernel=scaled became the default
    "boed-mf-noise": ("boed[noise='level']", FIDELITY),  # a noise variance per level
    "boed-sn": ("boed", SUPERNET),
    "boed-sn-signal": ("boed", None),
    "asha": ("asha", FIDELITY),
    "hyperband": ("hyperband", FIDELITY),
    "random": ("random", None),
}
TIMES = (10, 25, 50, 100)  # simulated seconds at which the report reads the recommendation's regret


class CurveObjective(TableObjective):
    """``objective(config, epochs)`` on a table with learning curves: the validation accuracy after
    ``epochs`` epochs of the network's training seed for this run, charged that training's seconds
    to the end of that epoch. Without a level, the last epoch (the target)."""

    def __init__(self, seed: int, table: pd.DataFrame | str | Path):
        super().__init__(seed, table)
        self.epochs = curve_epochs(self.table)
        if not self.epochs:
            raise ConfigError("the table records no learning curves (no val_acc_s<seed>_e<epoch> columns); "
                              "build one with python -m tools.build_blueprint_table --table k13lc")

    def __call__(self, config, epochs: int | str | None = None) -> Outcome:
        if epochs == SUPERNET and self.supernet is not None:
            row = self.supernet.loc[str(config)]
            return Outcome(metrics={"val_acc": float(row[f"sn_acc_s{self.supernet_seed}"])},
                           cost=float(row[f"sn_seconds_s{self.supernet_seed}"]))
        e = self.epochs[-1] if epochs is None else int(epochs)
        if e not in self.epochs:
            raise ConfigError(f"the table records epochs {self.epochs}, not {epochs!r}")
        row = self.table.loc[str(config)]
        s = self.training_seed(config)
        return Outcome(metrics={"val_acc": float(row[f"val_acc_s{s}_e{e}"])},
                       cost=float(row[f"train_seconds_s{s}_e{e}"]))

    supernet = None  # with_supernet sets the estimates

    def with_supernet(self, folder: Path) -> CurveObjective:
        """The one-shot supernet's estimates too (``supernet.csv.gz`` and ``supernet.json`` in ``folder``,
        ``python -m tools.build_supernet_estimates``): this run's supernet is one of the built ones,
        drawn from the run seed; ``supernet_seconds`` is its measured training time."""
        path = Path(folder) / "supernet.csv.gz"
        if not path.exists():
            raise ConfigError(f"{path} is missing; build it with python -m tools.build_supernet_estimates")
        meta = json.loads((Path(folder) / "supernet.json").read_text())
        seeds = sorted(int(k) for k in meta["train_seconds"])
        self.supernet = pd.read_csv(path).set_index("config")
        self.supernet_seed = seeds[self.seed % len(seeds)]
        self.supernet_seconds = float(meta["train_seconds"][str(self.supernet_seed)])
        return self

    def supernet_estimate(self, config) -> dict[str, float]:
        """The estimate as a signal at initialisation (``boed[signals=...]``)."""
        return {"supernet": float(self.supernet.loc[str(config), f"sn_acc_s{self.supernet_seed}"])}

    def supernet_cost(self) -> float:
        """An estimate's cost relative to a target-level training: median seconds over median seconds."""
        s = self.supernet_seed
        target = self.table[[f"train_seconds_s{t}_e{self.epochs[-1]}" for t in training_seeds(self.table)]]
        return float(np.median(self.supernet[f"sn_seconds_s{s}"]) / np.median(target.to_numpy()))


def table_folder(table: str) -> Path:
    """The folder of a table given by name or by the path of its ``table.csv.gz`` (where its
    ``supernet.csv.gz`` lies)."""
    return table_spec(table).path.parent if table in TABLES else Path(table).parent


def one_run(arm: str, seed: int, workers: int, budget: int, horizon: float, table: str) -> dict:
    import torch

    from boed_nas import make_strategy
    from boed_nas.engine import MetricObjective
    from boed_nas.engine.simulated import SimulatedEngine
    from boed_nas.experiment.loop import point_objective, run_objective

    torch.set_num_threads(1)  # one run per core
    spec, fidelity = ARMS[arm]
    space = K13LC.space
    objective = CurveObjective(seed, table)
    optima = objective.val_optima()
    target = str(objective.epochs[-1])
    kwargs = {"fidelity": fidelity} if fidelity and fidelity != SUPERNET else {}
    offset = 0.0  # simulated seconds before the search starts: the supernet's training (and estimates)
    if arm.startswith("boed-sn"):
        objective.with_supernet(table_folder(table))
        offset = objective.supernet_seconds  # trained once, before the first evaluation, every worker waiting
        if fidelity == SUPERNET:  # each estimate a level of its own, charged its measured seconds
            kwargs["fidelity"] = Fidelity("estimate", [SUPERNET, objective.epochs[-1]],
                                          costs=[objective.supernet_cost(), 1.0])
        else:  # every network's estimate before the search, spread over the workers, in the prior mean
            kwargs["signals"] = objective.supernet_estimate
            offset += float(objective.supernet[f"sn_seconds_s{objective.supernet_seed}"].sum()) / workers
    strategy = make_strategy(spec, space=space, seed=seed, **kwargs)
    engine = SimulatedEngine(MetricObjective(point_objective(strategy, objective), strategy.metric), workers)

    def found(row) -> bool:  # a target-level evaluation of an optimum
        at_target = "fidelity" not in row or str(row["fidelity"]) == target
        return at_target and not row["failed"] and str(space.parse(row["config"])) in optima

    traj = run_objective(strategy, objective, budget, engine=engine,
                         stop_when=lambda row: found(row) or offset + row["finished"] >= horizon)
    hit = next((r for r in traj.to_dict("records") if found(r)), None)
    levels = traj["fidelity"].astype(str).value_counts().to_dict() if "fidelity" in traj else {target: len(traj)}
    regret = [(round(offset + float(f), 4), round(objective.test_regret(space.parse(c)), 6) if c else None)
              for f, c in zip(traj["finished"], traj["recommended_config"])]
    return {"arm": arm, "seed": seed, "workers": workers, "budget": budget, "horizon": horizon,
            "time_to_optimum": None if hit is None else offset + float(hit["finished"]),
            "evaluations_to_optimum": None if hit is None else int(hit["query"]),
            "evaluations": len(traj), "levels": {str(k): int(v) for k, v in levels.items()},
            "start": round(offset, 4), "clock_end": offset + float(traj["finished"].max()), "regret": regret}


def _records(log: Path) -> list[dict]:
    """The runs of a log, the last record of each (arm, seed, workers) (a run again with a larger budget)."""
    last = {}
    for line in log.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            last[(r["arm"], r["seed"], r["workers"])] = r
    return list(last.values())


def _budget_ended(r: dict) -> bool:
    """The run stopped at its evaluation budget, before the time limit and the optimum."""
    return math.isinf(_time(r["time_to_optimum"])) and r["evaluations"] >= r["budget"] and r["clock_end"] < r["horizon"]


def run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    done = set()
    if log.exists():
        for r in _records(log):
            if not (_budget_ended(r) and args.budget > r["budget"]):  # else it would go on: run again
                done.add((r["arm"], r["seed"], r["workers"]))
    tasks = [(a, s, m) for a in args.arms for m in args.workers for s in args.seeds if (a, s, m) not in done]
    print(f"{len(done)} runs in {log}; {len(tasks)} to run", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool, log.open("a") as f:
        futures = {pool.submit(one_run, a, s, m, args.budget, args.seconds, args.table): (a, s, m)
                   for a, s, m in tasks}
        for fut in as_completed(futures):
            r = fut.result()
            f.write(json.dumps(r) + "\n")
            f.flush()
            t = r["time_to_optimum"]
            print(f"{r['arm']} seed {r['seed']} M={r['workers']}: "
                  + ("not found" if t is None else f"optimum at {t:.0f} s") + f", {r['evaluations']} evaluations "
                  f"{r['levels']}", file=sys.stderr)
    return 0


def _time(v) -> float:
    return math.inf if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _fmt(v: float) -> str:
    return "not found" if math.isinf(v) else f"{v:.0f}"


def regret_at(regret: list, t: float) -> float:
    """The recommendation's test regret at simulated time ``t``: that of the last row finished by then."""
    vals = [g for f, g in regret if f <= t and g is not None]
    return vals[-1] if vals else math.nan


def level_tie(table: pd.DataFrame, supernet: Path | None = None) -> str:
    """How closely each epoch's validation accuracy follows the 8th epoch's (means over training
    seeds), over all networks and among the best: what a cheap level can tell about the target.
    With ``supernet`` (a folder with ``supernet.csv.gz``), each one-shot supernet's estimates too."""
    from scipy.stats import spearmanr

    seeds, epochs = training_seeds(table), curve_epochs(table)
    mean = {e: table[[f"val_acc_s{s}_e{e}" for s in seeds]].mean(axis=1) for e in epochs}
    secs = {e: np.median(table[[f"train_seconds_s{s}_e{e}" for s in seeds]].to_numpy()) for e in epochs}
    if supernet is not None and (Path(supernet) / "supernet.csv.gz").exists():
        sn = pd.read_csv(Path(supernet) / "supernet.csv.gz").set_index("config").loc[table.index]
        for k in sorted(int(c[len("sn_acc_s"):]) for c in sn.columns if c.startswith("sn_acc_s")):
            mean[f"supernet {k}"] = sn[f"sn_acc_s{k}"]
            secs[f"supernet {k}"] = float(np.median(sn[f"sn_seconds_s{k}"]))
        epochs = [e for e in mean if isinstance(e, str)] + epochs
    target = mean[epochs[-1]]
    top = target >= target.quantile(0.99)
    best = target.idxmax()
    lines = ["| epochs | median training seconds (x target) | mean validation accuracy, median | Spearman with 8 epochs, all "
             "networks | among the top 1% (by 8 epochs) | rank of the 8-epoch optimum | top-1% overlap |",
             "|---|---|---|---|---|---|---|"]
    for e in epochs:
        rank = int((mean[e] > mean[e][best]).sum()) + 1
        k = int(top.sum())
        overlap = len(set(mean[e].nlargest(k).index) & set(target[top].index))
        lines.append(f"| {e} | {secs[e]:.2f} ({secs[e] / secs[epochs[-1]]:.2f}) | {np.median(mean[e]):.2f} | "
                     f"{spearmanr(mean[e], target).statistic:.3f} | {spearmanr(mean[e][top], target[top]).statistic:.3f} | "
                     f"{rank} of {len(table)} | {overlap} of {k} |")
    note = ("" if not any(isinstance(e, str) for e in epochs) else
            " `supernet k`: the weight-sharing validation accuracy of each network in the one-shot supernet of seed k "
            "(`python -m tools.build_supernet_estimates`), its seconds those of one estimate; the supernet's own training "
            "is not in them.")
    return "\n".join(lines) + (f"\n\nMeans over the {len(seeds)} training seeds; the 8-epoch optimum: the network of the best "
                               "mean validation accuracy after 8 epochs (ties: the first)." + note + " Command: `python -m "
                               "benchmarks.curve_study tie`.\n")


def report(args) -> int:
    runs = pd.DataFrame(_records(Path(args.folder) / "runs.jsonl"))
    table = load_table(args.table)
    n_opt = len(TableObjective(0, table).val_optima())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    arms = [a for a in ARMS if a in set(runs.arm)]
    lines = ["| arm | workers M | runs | simulated s to the optimum, median [IQR] | found | evaluations at "
             + " / ".join(f"{e}" for e in (SUPERNET,) + LEVELS) + " epochs (median) | "
             + " | ".join(f"test regret @{t} s" for t in TIMES) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(TIMES)]
    budget_ended = []
    for m in sorted(set(runs.workers)):
        for a in arms:
            g = runs[(runs.arm == a) & (runs.workers == m)]
            if g.empty:
                continue
            tt = np.array([_time(v) for v in g.time_to_optimum])
            med, lo, hi = median_iqr(tt)
            lev = " / ".join(f"{np.median([r.get(str(e), 0) for r in g.levels]):g}" for e in (SUPERNET,) + LEVELS)
            cells = []
            for t in TIMES:
                v = np.array([regret_at(r, t) for r in g.regret])
                v = v[np.isfinite(v)]
                cells.append("n/a" if len(v) == 0 else "{:.2f} [{:.2f}, {:.2f}]".format(*median_iqr(v)))
            short = [int(r["seed"]) for r in g.to_dict("records") if _budget_ended(r)]
            if short:  # not found because the evaluations ran out before the time did
                budget_ended.append(f"{a} at M = {m}, seed(s) {', '.join(map(str, short))}")
            lines.append(f"| {a} | {m} | {len(g)} | {_fmt(med)} [{_fmt(lo)}, {_fmt(hi)}] | "
                         f"{int(np.isfinite(tt).sum())}/{len(g)} | {lev} | " + " | ".join(cells) + " |")
    text = ["\n".join(lines), "",
            f"Table `{args.table}`: {len(table)} networks; the optimum is the {n_opt} network(s) of the best mean validation "
            f"accuracy after 8 epochs ({table['val_mean'].max():.2f}%). Simulated seconds: the measured training seconds "
            "of each evaluation (to the end of its epoch). Test regret: points of mean test accuracy after 8 epochs "
            f"below the table's best ({table['test_mean'].max():.2f}%), of the recommendation when that time had passed "
            "(boed: by posterior mean at 8 epochs; the others: the best observed at 8 epochs); median [IQR] over the runs "
            "that had a recommendation by then. A run ends at the optimum, so later regrets of a run that found it are "
            "its regret then. boed-sn and boed-sn-signal start after the supernet's training (and boed-sn-signal after "
            "every network's estimate, spread over the workers): the clock of their runs includes it.",
            "", "Runs that ended at the evaluation budget before the time limit without finding the optimum: "
            + ("; ".join(budget_ended) if budget_ended else "none") + "."]
    for m in sorted(set(runs.workers)):  # the design's claim, seed by seed
        for first, second in (("boed-mf", "boed"), ("boed-mf", "asha"), ("boed-mf", "hyperband"), ("boed-mf", "boed-mf-icm"),
                              ("boed-mf-noise", "boed-mf"), ("boed-sn", "boed"), ("boed-sn-signal", "boed")):
            a = runs[(runs.arm == first) & (runs.workers == m)].set_index("seed")
            b = runs[(runs.arm == second) & (runs.workers == m)].set_index("seed")
            seeds = sorted(set(a.index) & set(b.index))
            if not seeds:
                continue
            w, l_, t_, p = sign_test([_time(a.time_to_optimum[s]) for s in seeds],
                                     [_time(b.time_to_optimum[s]) for s in seeds])
            text.append(f"\nSign test, M = {m}, {first} against {second}, time to the optimum ({len(seeds)} seeds): "
                        f"{first} sooner in {w}, {second} sooner in {l_}, equal {t_}, p = {p:.3f}.")
    budgets = sorted({int(b) for b in runs.budget})
    text.append(f"\nCommand: `python -m benchmarks.curve_study report {args.folder} --seeds {args.seed_text} --out {args.out}`; "
                f"the runs (budgets {budgets}, {runs.horizon.max():g} simulated seconds): `python -m benchmarks show curves`.")
    (out / "table.md").write_text("\n".join(text) + "\n")
    print("\n".join(text))
    plot(runs, arms, out / "regret_over_time.png")
    return 0


def plot(runs: pd.DataFrame, arms: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms = sorted(set(runs.workers))
    fig, axes = plt.subplots(1, len(ms), figsize=(5 * len(ms), 3.6), squeeze=False, sharey=True)
    grid = np.linspace(0, float(runs.horizon.max()), 200)
    for ax, m in zip(axes[0], ms):
        for a in arms:
            g = runs[(runs.arm == a) & (runs.workers == m)]
            curves = np.array([[regret_at(r, t) for t in grid] for r in g.regret])
            med = np.array([np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in curves.T])
            ax.plot(grid, med, label=a)
        ax.set_title(f"M = {m} workers")
        ax.set_xlabel("simulated seconds")
        ax.set_xscale("symlog", linthresh=5)
    axes[0][0].set_ylabel("test regret of the recommendation (points, median)")
    axes[0][-1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run (and resume) the arms")
    r.add_argument("--seeds", default="0-9")
    r.add_argument("--workers", default="1,4", help="simulated workers, e.g. 1,4")
    r.add_argument("--arms", default=",".join(ARMS), help=f"some of {list(ARMS)}")
    r.add_argument("--budget", type=int, default=600, help="evaluations at most per run")
    r.add_argument("--seconds", type=float, default=100.0, help="simulated seconds at most per run (the clock's unit: "
                   "a target-level training of the k13lc table takes 2.5 s in median)")
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--table", default="k13lc", help="the table's name, or a table.csv.gz with learning curves")
    r.add_argument("--out", required=True)
    t = sub.add_parser("tie", help="how closely each epoch follows the 8th (writes tie.md to --out, if given)")
    t.add_argument("--table", default="k13lc")
    t.add_argument("--out", default=None)
    p = sub.add_parser("report", help="the table and the plot from a folder of runs")
    p.add_argument("folder")
    p.add_argument("--table", default="k13lc")
    p.add_argument("--seeds", dest="seed_text", default="0-9", help="as given to run (for the command line shown)")
    p.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        args.seeds = parse_seeds(args.seeds)
        args.workers = [int(w) for w in args.workers.split(",")]
        args.arms = [a.strip() for a in args.arms.split(",")]
        unknown = sorted(set(args.arms) - set(ARMS))
        if unknown:
            ap.error(f"unknown arms {unknown}; expected some of {list(ARMS)}")
        return run(args)
    if args.cmd == "tie":
        text = level_tie(load_table(args.table), table_folder(args.table))
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / "tie.md").write_text(text)
        print(text)
        return 0
    return report(args)


if __name__ == "__main__":
    raise SystemExit(main())
