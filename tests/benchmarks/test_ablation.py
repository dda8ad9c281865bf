"""benchmarks/ablation.py: runs that stop at the optimum, resumable, one record per run."""

from boed_nas.experiment.bench import run_bench


def test_ablation_stops_at_the_optimum_resumes_and_rejects_bad_specs(tmp_path, capsys):
    import json

    from benchmarks import ablation
    from boed_nas.experiment.bench import queries_to_optimum

    out = tmp_path / "runs.jsonl"
    args = ["run", "--strategies", "local,random", "--dataset", "cifar10", "--seeds", "0-1", "--budget", "60",
            "--jobs", "1", "--out", str(out)]
    assert ablation.main(args) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 4 and {r["spec"] for r in recs} == {"local", "random"}
    # a run that stops at its first hit agrees with the full bench's queries to the optimum
    full = run_bench(["local"], "cifar10", seeds=[0], budget=60)
    want = queries_to_optimum(full)
    got = next(r["queries"] for r in recs if r["spec"] == "local" and r["seed"] == 0)
    assert (got if got is not None else float("inf")) == want
    from boed_nas.experiment.loop import run_search
    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.registry import make_strategy

    stopped = run_search(make_strategy("local", seed=0), NB201Benchmark("cifar10", seed=0), 60, stop_at_optimum=True)
    assert stopped["found_optimum"].sum() == (1 if want <= 60 else 0)  # the last row, at the first hit
    assert len(stopped) == min(want, 60)
    assert ablation.main(args) == 0  # everything done: nothing is rerun or appended
    assert len(out.read_text().splitlines()) == 4
    assert "| cifar10 | local | 0-1 (2) |" in capsys.readouterr().out
    assert ablation.main(["run", "--strategies", "boed[n_inti=5]", "--seeds", "0", "--out", str(out)]) == 2
    assert "n_inti" in capsys.readouterr().err


def test_paired_counts_seed_by_seed_wins_and_sign_tests_them(tmp_path, capsys):
    import json

    from benchmarks import ablation

    path = tmp_path / "runs.jsonl"
    recs = []
    for seed in range(8):  # "a" finds it in fewer queries on 7 seeds, ties on one; "a" never found on none
        recs.append({"spec": "a", "dataset": "cifar10", "seed": seed, "queries": 10 + (seed == 7) * 10,
                     "recommended_regret": {"10": 0.5, "25": 0.0}})
        recs.append({"spec": "b", "dataset": "cifar10", "seed": seed, "queries": None if seed == 0 else 20,
                     "recommended_regret": {"10": 0.5 if seed else 0.1, "25": 0.0}})
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    t = ablation.paired(str(path), "a", "b").set_index("measure")
    assert t.loc["queries to optimum", ["a better", "b better", "equal"]].tolist() == [7, 0, 1]
    assert t.loc["queries to optimum", "sign test p"] == round(2 * 0.5 ** 7, 4)
    assert t.loc["rec. regret @10", ["a better", "b better", "equal"]].tolist() == [0, 1, 7]
    assert t.loc["rec. regret @25", "sign test p"] == 1.0
    assert ablation.main(["paired", str(path), "a", "c"]) == 2
    assert "no runs of ['c']" in capsys.readouterr().err
