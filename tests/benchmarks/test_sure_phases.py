"""The count of evaluations a multi-fidelity search asked while its belief was already sure."""

from __future__ import annotations

import pandas as pd

import pytest

from benchmarks.scripts.sure_phases import main, markdown, per_run


def _run(seed: int, prob_best: list[float], levels: list[int], found_at: int | None) -> list[dict]:
    return [{"dataset": "cifar10", "strategy": "boed, 12+200 epochs", "workers": 1, "seed": seed, "query": q + 1,
             "prob_best": p, "fidelity": lv, "cost": 3600.0 * (1 if lv == 200 else 0.25), "found_optimum": found_at is not None and q >= found_at}
            for q, (p, lv) in enumerate(zip(prob_best, levels))]


def test_only_the_asks_made_sure_before_the_optimum_was_found_count():
    traj = pd.DataFrame(
        _run(0, [float("nan"), 0.5, 1.0, 1.0, 0.9995, 1.0, 1.0], [12, 12, 200, 12, 12, 200, 12], found_at=5)
        + _run(1, [0.2, 0.5, 0.998, 1.0], [12, 12, 12, 12], found_at=None))
    runs = per_run(traj).set_index("seed")
    # seed 0: asks 3-5 are sure before the find at ask 6 (the find itself and later asks do not count)
    assert runs.loc[0, "sure"] == 3 and runs.loc[0, "sure_cheapest"] == 2 and runs.loc[0, "found"]
    assert runs.loc[1, "sure"] == 1 and runs.loc[1, "sure_cheapest"] == 1 and not runs.loc[1, "found"]
    # seed 0: asks 1-5 before the find (0.25 + 0.25 + 1 + 0.25 + 0.25 h), asks 3-5 while sure (1.5 h)
    assert runs.loc[0, "hours_before"] == 2.0 and runs.loc[0, "hours_sure"] == 1.5
    text = markdown(per_run(traj))
    assert "| cifar10 | boed, 12+200 epochs | 1 | 2/2 | 2 [1.5, 2.5] | 1.5 | 1.5 | 0.9 | 0.6 | 5.5 | 1/2 |" in text


def test_an_arm_no_source_has_is_one_usage_error_naming_it(capsys):
    with pytest.raises(SystemExit):
        main(["benchmarks/results/fidelity10_grid", "--arm", "boed[no such arm]"])
    err = capsys.readouterr().err
    assert "--arm ['boed[no such arm]']: no source has them" in err and "'boed, 12+200 epochs'" in err
