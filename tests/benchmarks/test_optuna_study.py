"""The Optuna study script runs its three arms and reports by boed-nas's median convention."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("optuna")

from benchmarks import optuna_study  # noqa: E402


def test_each_arm_runs_and_the_table_counts_not_found_as_infinitely_many(tmp_path):
    runs = [optuna_study.run_one(arm, "cifar10", 0, 6) for arm in optuna_study.ARMS]
    for run in runs:
        assert list(run["trial"]) == list(range(1, 7))
        assert (run["query"].diff().fillna(1) >= 0).all() and run["cpu_s"].notna().all()
    summary = optuna_study.summarise(__import__("pandas").concat(runs), 6)
    assert not summary["found"].any() or summary.loc[summary["found"], "queries_to_optimum"].le(6).all()
    text = optuna_study.table(summary, 6)
    assert "| cifar10 | boed |" in text and "| cifar10 | gp |" in text
    if not summary["found"].any():
        assert "nf [nf, nf]" in text
    assert math.isnan(summary["cpu_per_trial_at_200"].iloc[0])  # 6 trials: no trials 181-200 to average
