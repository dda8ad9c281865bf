"""The 12-epoch promotion oracle: cells trained at the target in the order of their cheap value, on
M workers, until the optimum's training ends; and when a run screened and promoted its optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.fidelity_bound import promotion_delays, promotion_oracle_hours

HOUR = 3600.0


def test_the_oracle_trains_the_cells_ahead_of_the_optimum_at_12_epochs_then_the_optimum():
    v12 = np.array([0.9, 0.5, 0.8, 0.7, 0.1])
    v200 = np.array([0.6, 0.7, 0.5, 0.95, 0.2])  # the optimum (cell 3) is third at 12 epochs
    seconds = np.array([2.0, 9.0, 3.0, 4.0, 9.0]) * HOUR
    assert promotion_oracle_hours(v12, v200, seconds, 1) == 2 + 3 + 4  # cells 0, 2, then 3
    assert promotion_oracle_hours(v12, v200, seconds, 2) == 2 + 4  # 0 and 2 at once; 3 where 0 ends
    assert promotion_oracle_hours(v12, v200, seconds, 8) == 4  # every cell ahead runs beside it
    v12[0] = v12[3]  # a tie at 12 epochs goes the optimum's way: it is a bound
    assert promotion_oracle_hours(v12, v200, seconds, 1) == 3 + 4


def test_promotion_delays_time_the_first_12_epoch_result_and_the_200_epoch_submission(tmp_path):
    rows = [  # seed 0: cell 7 (the optimum) screened at 1 h behind cell 5, sent to 200 epochs at 2 h
        (5, 12, 0.80, 0.0, 0.5, False), (7, 12, 0.70, 0.5, 1.0, False), (6, 12, 0.90, 1.0, 3.0, False),
        (7, 200, 0.95, 2.0, 4.0, True)]
    traj = pd.DataFrame([{"dataset": "cifar100", "strategy": "mf", "workers": 4, "seed": 0, "query": q,
                          "arch_index": a, "fidelity": f, "val_acc": v, "submitted": s * HOUR,
                          "finished": e * HOUR, "found_optimum": found}
                         for q, (a, f, v, s, e, found) in enumerate(rows)])
    traj.to_csv(tmp_path / "trajectories.csv.gz", index=False)
    d = promotion_delays(tmp_path / "trajectories.csv.gz")
    assert d.iloc[0][["screened_h", "sent_to_200_h", "found_h", "screened_before", "ahead_at_12"]].tolist() == \
        [1.0, 2.0, 4.0, 2, 1]  # cell 6's 12-epoch result came after the submission: not counted

