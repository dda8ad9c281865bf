import numpy as np
import pandas as pd
import pytest

from benchmarks.front_gap import front_level, main, missing_by_cost
from boed_nas.mo.pareto import KnownCosts, hypervolume_report, parse_objectives
from boed_nas.nb201.space import N_CELLS, Cell

ACC_LAT = parse_objectives("accuracy,latency")


def _synthetic(seed=0):
    rng = np.random.default_rng(seed)
    acc = rng.uniform(0, 90, N_CELLS)
    lat = rng.uniform(1, 10, N_CELLS)
    return hypervolume_report(ACC_LAT, acc, KnownCosts({"latency": lat}))


def test_missing_parts_add_up_to_one_minus_the_hypervolume_ratio():
    rep = _synthetic()
    rng = np.random.default_rng(1)
    for size in (1, 30, 300):
        codes = rng.choice(N_CELLS, size, replace=False)
        split = float(np.median(rep.table[rep.true_front, 1]))
        below, above = missing_by_cost(rep, codes, split)
        assert below >= 0 and above >= 0
        assert below + above == pytest.approx(1 - rep.ratio(codes), abs=1e-9)  # pymoo's total
    assert missing_by_cost(rep, rep.true_front, 5.0) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert sum(missing_by_cost(rep, [], 5.0)) == pytest.approx(1.0)


def test_a_front_missing_only_its_expensive_end_is_short_only_above_the_split():
    rep = _synthetic()
    tf = rep.true_front[np.argsort(rep.table[rep.true_front, 1])]
    cheap_half = tf[: len(tf) // 2]
    split = float(rep.table[tf[len(tf) // 2], 1])  # the cost of the first cell left out
    below, above = missing_by_cost(rep, cheap_half, split)
    assert below == pytest.approx(0.0, abs=1e-12) and above > 0
    # the step function: the front's best accuracy among cells costing at most c
    c = rep.table[tf, 1]
    assert np.allclose(front_level(rep, tf, c), rep.table[tf, 0])
    assert front_level(rep, tf, np.array([c[0] - 1e-6]))[0] == rep.reference_point[0]


def test_three_objectives_are_rejected_by_name():
    rng = np.random.default_rng(0)
    objs = parse_objectives("accuracy,latency,flops")
    rep = hypervolume_report(objs, rng.uniform(0, 90, N_CELLS),
                             KnownCosts({"latency": rng.uniform(1, 2, N_CELLS), "flops": rng.uniform(1, 2, N_CELLS)}))
    with pytest.raises(ValueError, match="one maximised and one minimised.*flops"):
        missing_by_cost(rep, [0, 1], 1.5)


def test_cli_reports_runs_of_a_results_folder(tmp_path, capsys, c10):
    from boed_nas.experiment.loop import TRAJECTORY_COLUMNS
    from boed_nas.mo.pareto import mo_report

    rep = mo_report(c10, "accuracy,latency")
    rows = []
    for seed, codes in ((0, rep.true_front), (1, rep.true_front[::3])):
        for q, code in enumerate(codes, 1):
            rows.append({"dataset": "cifar10", "objectives": "accuracy+latency", "strategy": "s", "seed": seed,
                         **{k: 0 for k in TRAJECTORY_COLUMNS}, "query": q, "cell": str(Cell.from_code(int(code)))})
    pd.DataFrame(rows).to_csv(tmp_path / "trajectories.csv.gz", index=False)
    assert main([str(tmp_path), "--seeds", "0", "--at", "1000"]) == 0
    out = capsys.readouterr().out
    assert "| cifar10 | accuracy+latency | s | 1 |" in out
    assert "| 0.0000 | 0.0000 |" in out  # the true front itself misses nothing
    assert main([str(tmp_path), "--strategies", "nope"]) == 2
    assert "no runs labelled 'nope'" in capsys.readouterr().err
