"""The design's claim on matched data: do the supernet's proposals help boed when the supernet sees
the same data as the trainings?

    python -m benchmarks.matched_supernet_study --table k13 --seeds 0-19 --budget 100 --jobs 2 \
        --out benchmarks/results/matched_supernet_k13

On a table of real trainings of ``benchmarks.blueprint_table`` (every network of a 1,728-network
sub-space of the blueprint macro space, each trained with 2 or 3 training seeds on the digits), per seed:

1. **The supernet** of that sub-space (``boed_nas.blueprint.search_blueprint``: the bilevel DARTS-family
   search, no cost penalty) is trained on *the same split* as the table's trainings: its weights on
   the trainings' training split, its architecture logits on their validation split (the split the
   searches see); the test split is read by neither. Its logits give every network a log-probability
   (independent choice groups, ``blueprint_log_prob``).
2. Six strategies each spend ``--budget`` trainings (table lookups, the NB201 protocol: one training
   seed's validation accuracy, drawn from (seed, network)):
   ``random``, ``evolution`` (regularised), ``boed`` (the default), ``boed+supernet`` (boed whose
   first two evaluations are the supernet's derived network and its next most probable, and whose
   prior mean takes the log-probability as a signal at initialisation, ``signals=``, its weight
   fitted by marginal likelihood), ``boed+supernet-init`` (the same, and the rest of boed's initial
   design drawn from the top 5% of the supernet's ranking: ``signal_use="mean+init"``), and
   ``supernet`` alone (the networks in decreasing probability:
   the derived network, the next most probable, ...; recommending the best observed).

Reported: the test regret (points of mean test accuracy below the table's best) of each strategy's
recommendation at 10 / 25 / 50 / 100 trainings, median [IQR] over seeds; the queries until a run first
evaluates a network of the table's best mean validation accuracy; and two-sided sign tests, seed by
seed, of ``boed+supernet`` (and ``-init``) against ``boed`` and of ``boed`` against the baselines. The supernet's own search cost is not in the
training budget; it is reported in seconds and in trainings' worth. Every (strategy, seed) run is a
JSON line of ``<out>/runs.jsonl`` and every supernet a file of ``<out>/supernets/``: a rerun
resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from boed_nas.experiment.bench import median_iqr, parse_seeds

from .blueprint_table import TABLES, BlueprintTable, TableObjective, load_table, table_spec
from .common import sign_test

STRATEGIES = ("random", "evolution", "boed", "boed+supernet", "boed+supernet-init", "supernet")
CHECKPOINTS = (10, 25, 50, 100)
SIGN_TESTS = (("boed+supernet", "boed"), ("boed+supernet-init", "boed"), ("boed+supernet", "supernet"),
              ("boed", "random"), ("boed", "evolution"))
N_PROPOSALS = 2  # the derived network and the next most probable
SUPERNET = {"stem_channels": 8, "epochs": 8, "budget": None, "lam": 0.0, "threads": 1, "verbose": False}


def supernet(table: str, seed: int, folder: Path) -> dict:
    """The supernet of ``seed`` on table ``table``'s sub-space, trained on the table's split (cached in ``folder``)."""
    path = folder / f"seed{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    from boed_nas.blueprint import BlueprintConfig, search_blueprint

    from .real_training import splits

    spec = table_spec(table)
    res = search_blueprint(BlueprintConfig(**SUPERNET, stages=spec.stages_arg(), kernels=spec.macro.kernels, seed=seed),
                           splits=splits())
    if res.space.groups() != spec.macro.groups():
        raise RuntimeError("the supernet's space is not the table's sub-space")
    doc = {"seed": seed, "alpha": res.alpha.tolist(), "search_seconds": res.search_seconds,
           "supernet_val_acc": res.history[-1].get("supernet_val_acc")}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc) + "\n")
    os.replace(tmp, path)
    return doc


def prior(spec: BlueprintTable, alpha):
    """The supernet's belief over the table's space (``boed_nas.blueprint.choice_prior``)."""
    from boed_nas.blueprint import choice_prior

    return choice_prior(np.asarray(alpha), spec.macro, spec.space)


def one_run(table: str, name: str, seed: int, budget: int, folder: Path) -> dict:
    import torch

    from boed_nas import make_strategy

    torch.set_num_threads(1)  # one run per core

    spec = table_spec(table)
    space = spec.space
    objective = TableObjective(seed, table)
    optima = objective.val_optima()
    if "supernet" in name:  # supernet, boed+supernet, boed+supernet-init
        belief = prior(spec, supernet(table, seed, folder / "supernets")["alpha"])
        ranked = belief.most_probable(budget, seed=seed)  # ties: a seeded draw
    if name == "supernet":
        evaluated = ranked[:budget]
        vals = [objective(c).metrics["val_acc"] for c in evaluated]
        recs = {k: evaluated[int(np.argmax(vals[:k]))] for k in CHECKPOINTS if k <= budget}
    else:
        kwargs = {}
        if name.startswith("boed+supernet"):
            kwargs = {"proposals": ranked[:N_PROPOSALS], "signals": belief}  # = belief.boed_kwargs(N_PROPOSALS)
            if name == "boed+supernet-init":  # and the rest of the initial design from the top of its ranking
                kwargs["signal_use"] = "mean+init"
        strategy = make_strategy("boed" if name.startswith("boed") else name, space=space, seed=seed, **kwargs)
        evaluated, recs = [], {}
        for q in range(1, budget + 1):
            (c,) = strategy.ask(1)
            strategy.tell(c, objective(c))
            evaluated.append(c)
            if q in CHECKPOINTS:
                recs[q] = strategy.recommend()
    hit = next((i + 1 for i, c in enumerate(evaluated) if str(c) in optima), None)
    index = {str(c): i for i, c in enumerate(space.enumerate())}
    return {"table": table, "strategy": name, "seed": seed, "budget": budget, "queries_to_optimum": hit,
            "evaluated": [index[str(c)] for c in evaluated],  # positions in SPACE.enumerate()
            "regret": {str(k): round(objective.test_regret(c), 6) for k, c in recs.items()},
            "recommended": {str(k): str(c) for k, c in recs.items()}}


def _queries(v) -> float:
    """Queries to the optimum, a run that never found it counting as infinitely many."""
    return math.inf if v is None or pd.isna(v) else float(v)


def report(runs: pd.DataFrame, folder: Path, name: str) -> str:
    spec = table_spec(name)
    table = load_table(name)
    n_seeds = len(spec.training_seeds)
    lines = ["| strategy | seeds | " + " | ".join(f"test regret @{k}" for k in CHECKPOINTS)
             + " | queries to the validation optimum | found |", "|---|---|" + "---|" * (len(CHECKPOINTS) + 2)]
    for name in STRATEGIES:
        g = runs[runs.strategy == name]
        if g.empty:
            continue
        cells = []
        for k in CHECKPOINTS:
            v = np.array([r.get(str(k), np.nan) for r in g.regret], dtype=float)
            if np.isnan(v).any():  # a checkpoint beyond the budget
                cells.append("n/a")
                continue
            m, lo, hi = median_iqr(v)
            cells.append(f"{m:.2f} [{lo:.2f}, {hi:.2f}]")
        q = np.array([_queries(v) for v in g.queries_to_optimum])
        m, lo, hi = median_iqr(q)
        fmt = lambda v: "nf" if math.isinf(v) else f"{v:g}"  # noqa: E731
        lines.append(f"| {name} | {len(g)} | " + " | ".join(cells)
                     + f" | {fmt(m)} [{fmt(lo)}, {fmt(hi)}] | {int(np.isfinite(q).sum())}/{len(g)} |")
    out = ["\n".join(lines), "",
           f"Test regret: points of mean test accuracy ({n_seeds} training seeds) below the table's best network "
           f"({table['test_mean'].max():.2f}%), of each strategy's recommendation (boed: by posterior mean; "
           "the others: the best observed); median [IQR] over seeds (linear interpolation). Queries to the "
           f"validation optimum: until a run first evaluates one of the {len(TableObjective(0, table).val_optima())} "
           "network(s) of the table's best mean validation accuracy (nf: not within the budget)."]
    for first, second in SIGN_TESTS:  # the design's claim first, then boed against the baselines
        a = runs[runs.strategy == first].set_index("seed")
        b = runs[runs.strategy == second].set_index("seed")
        seeds = sorted(set(a.index) & set(b.index))
        if not seeds:
            continue
        out += ["", f"Sign test, {first} against {second}, seed by seed ({len(seeds)} seeds; two-sided binomial "
                "test on the seeds that differ; lower regret and fewer queries are better):", "",
                f"| measure | {first} better | {second} better | equal | p |", "|---|---|---|---|---|"]
        pairs = [(f"test regret @{k}", [a.regret[s].get(str(k)) for s in seeds], [b.regret[s].get(str(k)) for s in seeds])
                 for k in CHECKPOINTS]
        pairs.append(("queries to the validation optimum", [_queries(a.queries_to_optimum[s]) for s in seeds],
                      [_queries(b.queries_to_optimum[s]) for s in seeds]))
        for label, x, y in pairs:
            ok = [(u, v) for u, v in zip(x, y) if u is not None and v is not None]
            if not ok:  # a checkpoint the runs did not record
                continue
            wins, losses, ties, p = sign_test([u for u, _ in ok], [v for _, v in ok])
            out.append(f"| {label} | {wins} | {losses} | {ties} | {p:.3f} |")
    sn = [json.loads(p.read_text()) for p in sorted((folder / "supernets").glob("seed*.json"))]
    if sn:
        secs = np.array([d["search_seconds"] for d in sn])
        train = np.median(table[[c for c in table.columns if c.startswith("train_seconds_s")]].to_numpy())
        out += ["", f"Supernet searches: {len(sn)}, {np.median(secs):.0f} s each in median (wall, one thread), "
                f"about {np.median(secs) / train:.0f} trainings' worth (a training of the table takes "
                f"{train:.2f} s in median); not counted in the training budget above."]
        from scipy.stats import spearmanr

        rho = {"val": [], "test": []}
        for d in sn:  # how much the supernet's belief says about the trained networks
            belief = prior(spec, d["alpha"])
            x = np.array([belief.log_prob(k) for k in table.index])
            rho["val"].append(spearmanr(x, table["val_mean"]).statistic)
            rho["test"].append(spearmanr(x, table["test_mean"]).statistic)
        mv, lv, hv = median_iqr(np.array(rho["val"]))
        mt, lt, ht = median_iqr(np.array(rho["test"]))
        out += ["", f"Spearman of a supernet's log-probability with the table's mean validation accuracy: "
                f"{mv:.3f} [{lv:.3f}, {hv:.3f}]; with mean test accuracy: {mt:.3f} [{lt:.3f}, {ht:.3f}] "
                f"(median [IQR] over the {len(sn)} supernets)."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", required=True, choices=sorted(TABLES), help="which table")
    ap.add_argument("--seeds", default="0-19", help="a range, e.g. 0-19")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--strategies", default=",".join(STRATEGIES))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None,
                    help="default: benchmarks/results/matched_supernet (k35) or matched_supernet_<table>")
    args = ap.parse_args(argv)
    spec = table_spec(args.table)
    if args.out is None:
        args.out = Path("benchmarks/results/matched_supernet" + ("" if spec.name == "k35" else f"_{spec.name}"))
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        ap.error(f"unknown strategies {unknown}; expected some of {list(STRATEGIES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "runs.jsonl"
    done = set()
    if path.exists():
        old = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        other = sorted({str(r.get("table")) for r in old} - {spec.name})
        if other:
            ap.error(f"{path} holds runs on table(s) {other}, not {spec.name!r}: give another --out")
        done = {(r["strategy"], r["seed"]) for r in old}
    seeds = parse_seeds(args.seeds)
    if any("supernet" in n for n in names):  # supernets first: both strategies share them
        with ProcessPoolExecutor(args.jobs) as pool:
            for f in as_completed([pool.submit(supernet, spec.name, s, args.out / "supernets") for s in seeds]):
                d = f.result()
                print(f"supernet seed {d['seed']}: {d['search_seconds']:.0f} s", file=sys.stderr, flush=True)
    todo = [(n, s) for s in seeds for n in names if (n, s) not in done]
    print(f"{len(todo)} runs to do ({len(done)} already in {path})", file=sys.stderr)
    with ProcessPoolExecutor(args.jobs) as pool, path.open("a") as log:
        futures = [pool.submit(one_run, spec.name, n, s, args.budget, args.out) for n, s in todo]
        for i, f in enumerate(as_completed(futures), 1):
            r = f.result()
            log.write(json.dumps(r) + "\n")
            log.flush()
            print(f"[{i}/{len(todo)}] {r['strategy']} seed {r['seed']}: queries to optimum {r['queries_to_optimum']}, "
                  f"regret {r['regret']}", file=sys.stderr, flush=True)
    runs = pd.DataFrame([json.loads(x) for x in path.read_text().splitlines() if x.strip()])
    text = report(runs, args.out, spec.name)
    (args.out / "table.md").write_text(text + f"\nCommand: `python -m benchmarks.matched_supernet_study --table {spec.name} --seeds "
                                              f"{args.seeds} --budget {args.budget} --jobs {args.jobs} --out {args.out}`\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
