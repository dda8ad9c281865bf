"""Count the GP picks of recorded ``boed`` runs where the acquisition's maximum is tied.

For each run it replays the recorded observations into a ``boed`` controller, one tell at a
time, and at every GP pick within the first ``--queries`` queries scores the pool exactly as the
ask did (same fit schedule, same seeded generators). It prints the picks where more than one
candidate scores within ``--rtol`` (relative to the largest score) of the maximum: there the
controller breaks the tie by a seeded draw (``boed_nas.bo.acquisition.seeded_argmax``; before
that, ``argmax`` took the candidate first in the pool's order or the one that won by last-bit
rounding). It also checks that the replayed pick is the cell the run asked for next.

    python -m benchmarks.acquisition_ties benchmarks/results/nb201/current_default --seeds 0-19 --queries 20

(``--label`` picks the runs to replay where a folder holds several strategies.)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import replay_arguments, replayed_beliefs
    from boed_nas import Cell
    from boed_nas.bo.acquisition import score, seeded_argmax

    def more(ap):
        ap.add_argument("--queries", type=int, default=20, help="look at the picks up to this query")
        ap.add_argument("--rtol", type=float, default=1e-9, help="scores this close to the maximum count as tied")

    parsed = replay_arguments(__doc__, "0-19", argv, more)
    if parsed is None:
        return 2
    args, traj, seeds = parsed
    by_dataset: dict[str, list[int]] = {}
    mismatches = 0
    for (dataset, seed), run in traj.groupby(["dataset", "seed"]):
        if seed not in seeds:
            continue
        run = run.sort_values("query").head(args.queries)
        cells = [Cell.parse(c) for c in run["cell"]]
        tied: list[str] = []
        # after the q-th tell the pick is the (q+1)-th cell, so the last cell is only checked, not told
        for q, s, b in replayed_beliefs(run.iloc[:-1], seed, spec=args.spec):
            sc = score(s.acquisition, b, s._generator(0, 1))
            top = sc.max()
            n_tied = int((sc >= top - args.rtol * top.abs()).sum())
            pick = s.universe[int(b.candidates[seeded_argmax(sc, s._generator(0, 2))])]
            if pick.canonical().code != cells[q].canonical().code:
                mismatches += 1
                print(f"{dataset} seed {seed} query {q + 1}: replay picks {pick}, the run asked {cells[q]}")
            if n_tied > 1:
                tied.append(f"query {q + 1} ({n_tied} tied)")
        by_dataset.setdefault(dataset, []).append(len(tied) > 0)
        print(f"{dataset} seed {seed}: {', '.join(tied) if tied else 'no tie'}", flush=True)
    for dataset, hit in by_dataset.items():
        print(f"{dataset}: {sum(hit)} of {len(hit)} runs meet a tied maximum within their first {args.queries} queries")
    print(f"replayed picks that differ from the recorded run: {mismatches}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
