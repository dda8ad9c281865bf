"""The stop-rule report stops full-budget runs where the rule would have."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.scripts import stop_rule_report
from boed_nas.nb201.benchmark import NB201Benchmark


def test_thresholds_stop_each_run_at_its_first_row_that_meets_them():
    best = str(NB201Benchmark("cifar10").optimum("val_acc")[0])
    other = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    probs = [0.5, 0.92, 0.95, 0.995, 0.97]
    traj = pd.DataFrame({"dataset": "cifar10", "seed": 0, "query": range(1, 6), "prob_best": probs,
                         "recommended_cell": [other, other, best, best, best],
                         "recommended_test_regret": [5.0, 5.0, 0.0, 0.0, 0.0], "found_optimum": [False, False, True, True, True]})
    at_09 = stop_rule_report._report(traj, 5, 0.9)
    assert "| cifar10 | 1 | 1 | 2 [2, 2] | 3 | 0 of 1 | 0 of 1 |" in at_09  # stopped at query 2, on the wrong cell
    at_099 = stop_rule_report._report(traj, 5, 0.99)
    assert "| cifar10 | 1 | 1 | 4 [4, 4] | 1 | 1 of 1 | 1 of 1 |" in at_099
    never = stop_rule_report._report(traj, 5, 0.999)
    assert "| cifar10 | 1 | 0 | 5 [5, 5] | 0 | 1 of 1 | 0 of 0 |" in never
    with pytest.raises(SystemExit, match="before the budget"):
        stop_rule_report._report(traj, 10, 0.9)
