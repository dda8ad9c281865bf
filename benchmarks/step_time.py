"""Time one ask (model fit included) at given query numbers by replaying recorded bench runs.

A full bench pays every ask of a run to time three of them; this replays a recorded trajectory
instead: for query q it tells the strategy the run's first q-2 results, lets it fit once (the
warm start the real run had for its next fit), tells result q-1 and times ``ask(1)``, which fits
the model on q-1 observations and scores the pool, as a user's ask/tell loop does. Wall and CPU
seconds are both reported: on a shared machine CPU time is the comparable figure.

    python -m benchmarks.step_time benchmarks/results/nb201/additive_cifar100 \\
        --label "boed[kernel=categorical+additive,n_init=5]" --spec boed --seeds 0-4 --at 50,100,200
    python -m benchmarks.step_time benchmarks/results/mo --label boed-mo --seeds 0-2 --at 50,100

(a multi-objective run is replayed with its objectives and the table's costs for its dataset).
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd


from benchmarks.common import recorded_outcome, runs_of
from boed_nas.experiment.bench import markdown_frame, parse_seeds


def time_ask(spec: str, traj: pd.DataFrame, dataset: str, seed: int, query: int, objectives: str | None = None) -> dict:
    """Replay ``traj`` (one run's rows, in query order) up to ``query - 1`` results and time the ask;
    ``objectives`` (e.g. ``"accuracy+latency"``) for a multi-objective run, with the table's costs."""
    import torch

    torch.set_num_threads(1)
    from boed_nas import Cell
    from boed_nas.registry import make_strategy

    if query < 3 or query > len(traj):
        raise ValueError(f"query must be in [3, {len(traj)}] for this run, got {query}")
    mo = {} if objectives is None else {"objectives": objectives.replace("+", ","), "costs": f"nb201:{dataset}"}
    strategy = make_strategy(spec, seed=seed, **mo)
    for i, r in enumerate(traj.head(query - 1).itertuples()):
        if i == query - 2:
            strategy.recommend()  # a model-based strategy fits here: the warm start of the timed fit
        strategy.tell(Cell.parse(r.cell), recorded_outcome(r))
    t0, c0 = time.perf_counter(), time.process_time()
    (cell,) = strategy.ask(1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # the replayed fit starts from one cold fit, not the run's chain of warm starts: a different
    # pick than the run's is possible, so the table says how often the pick was the same
    same = cell.canonical() == Cell.parse(traj["cell"].iloc[query - 1]).canonical()
    return {"dataset": dataset, **({} if objectives is None else {"objectives": objectives}), "seed": seed,
            "query": query, "wall_s": wall, "cpu_s": cpu, "same_cell": bool(same)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", help="a bench folder (trajectories.csv or .csv.gz) or a trajectories file")
    ap.add_argument("--label", required=True, help="the strategy label of the runs to replay")
    ap.add_argument("--spec", default=None, help="the strategy spec to time (default: the label)")
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--at", default="50,100,200", help="query numbers")
    args = ap.parse_args(argv)
    try:
        runs = runs_of(args.folder, args.label)
        queries = [int(q) for q in args.at.split(",")]
        rows = []
        keys = ["dataset", "objectives", "seed"] if "objectives" in runs else ["dataset", "seed"]
        for key, run in runs.groupby(keys):
            dataset, seed, objectives = key[0], key[-1], key[1] if len(key) == 3 else None
            if seed not in parse_seeds(args.seeds):
                continue
            run = run.sort_values("query")
            for q in queries:
                rec = time_ask(args.spec or args.label, run, dataset, int(seed), q, objectives)
                print(rec, file=sys.stderr, flush=True)
                rows.append(rec)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    df = pd.DataFrame(rows)
    table = df.groupby([k for k in ("dataset", "objectives", "query") if k in df]).agg(runs=("seed", "size"), wall_s_median=("wall_s", "median"),
                                                 cpu_s_median=("cpu_s", "median"), cpu_s_max=("cpu_s", "max"),
                                                 same_cell_as_run=("same_cell", "sum"))
    print(markdown_frame(table.reset_index().round(3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
