"""Check that GIBBON, EI and UCB pick the same cell from the pool's precomputed marginals
(``PoolMarginals``) as from botorch's posterior of the GP itself, on recorded bench runs.

For each run and every ``--every``-th query it replays the run's observations into a ``boed``
controller, builds the belief over the pool once, and scores the candidates both ways; it prints
whether the argmax agrees, the largest score difference relative to the largest score, and the
CPU seconds of the GIBBON scoring each way.

    python -m tools.pool_marginals_check benchmarks/results/nb201/additive_cifar100 --seeds 0-2

(``--label`` picks the runs to replay where a folder holds several strategies.)
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import replay_arguments, replayed_beliefs
    from boed_nas.bo.acquisition import score, score_on_gp

    parsed = replay_arguments(__doc__, "0-2", argv,
                              lambda ap: ap.add_argument("--every", type=int, default=25))
    if parsed is None:
        return 2
    args, traj, seeds = parsed
    n = differ = 0
    worst = cpu_gp = cpu_pool = 0.0
    for (dataset, seed), run in traj.groupby(["dataset", "seed"]):
        if seed not in seeds:
            continue
        for q, s, b in replayed_beliefs(run, seed, want=lambda q: q % args.every == 0, spec=args.spec):
            for name in ("mes", "ei", "ucb"):
                c0 = time.process_time()
                ref = score_on_gp(name, b)
                c1 = time.process_time()
                got = score(name, b, s._generator(0, 1))
                c2 = time.process_time()
                if name == "mes":
                    cpu_gp, cpu_pool = cpu_gp + c1 - c0, cpu_pool + c2 - c1
                rel = float((ref - got).abs().max() / ref.abs().max())
                same = int(ref.argmax()) == int(got.argmax())
                n, differ, worst = n + 1, differ + (not same), max(worst, rel)
                print(f"{dataset} seed {seed} query {q} {name}: {'same' if same else 'DIFFERENT'} argmax, "
                      f"relative difference {rel:.1e}", flush=True)
    points = max(1, n // 3)
    print(f"{n} scorings at {points} (run, query) points: argmax differs in {differ}; largest relative "
          f"difference {worst:.1e}; GIBBON CPU s per point: on the GP {cpu_gp / points:.2f}, "
          f"from the pool's marginals {cpu_pool / points:.2f}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
