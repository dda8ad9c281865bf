"""benchmarks/topk.py: queries until one of the k best classes is evaluated."""

from boed_nas.experiment.bench import run_bench


def test_topk_top1_is_queries_to_optimum_and_k_is_monotone():
    from benchmarks.topk import class_ranks, topk_table
    from boed_nas.experiment.bench import summarize
    from boed_nas.nb201.benchmark import NB201Benchmark

    bench = NB201Benchmark("cifar10")
    rank = class_ranks(bench)
    assert rank[bench.optimum("val_acc")[0].code] == 0
    assert rank[bench.optimum("val_acc")[0].canonical().code] == 0  # a class shares one rank
    traj = run_bench(["local"], "cifar10", range(3), 150, progress=False)
    table = topk_table(traj, ks=(1, 3, 10))
    row = table.iloc[0]
    assert row["top-1"] == summarize(traj).iloc[0]["queries_to_optimum_median"]
    assert row["top-10"] <= row["top-3"] <= row["top-1"]
