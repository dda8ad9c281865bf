"""The blueprint command (boed_nas.cli.blueprint): one search, and a lambda sweep."""

from __future__ import annotations

import json

from tests.blueprint.helpers import TINY_STAGES


def test_cli_blueprint_runs_and_rejects_bad_input(tmp_path, capsys):
    from boed_nas.cli import main

    args = ["blueprint", "--stages", TINY_STAGES, "--kernels", "1,3", "--stem-channels", "3", "--epochs", "2",
            "--warmup-epochs", "0", "--batch-size", "16", "--data-limit", "80", "--retrain-epochs", "1", "--quiet",
            "--no-baseline", "--budget", "0.02", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "derived blueprint" in capsys.readouterr().out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["derived"]["flops_M"] <= 0.02
    assert main(args[:-4] + ["--budget", "1e-9", "--out", str(tmp_path / "x")]) == 2
    assert "below the cheapest blueprint" in capsys.readouterr().err
    assert main(args[:-2] + ["--out", str(tmp_path / "y"), "--kernels", "2,4"]) == 2


def test_cli_lambda_sweep_writes_the_family_and_lambda_lowers_the_expected_cost(tmp_path):
    import pandas as pd

    from boed_nas.cli import main

    args = ["blueprint", "--stages", TINY_STAGES, "--kernels", "1,3", "--stem-channels", "3", "--epochs", "2",
            "--warmup-epochs", "0", "--batch-size", "16", "--data-limit", "80", "--retrain-epochs", "1", "--quiet",
            "--lambdas", "0,50", "--lam-metric", "flops_M", "--no-baseline", "--out", str(tmp_path)]
    assert main(args) == 0
    df = pd.read_csv(tmp_path / "sweep.csv")
    assert list(df.lam) == [0.0, 50.0] and df.pareto_flops.dtype == bool
    assert df.expected_flops_M[1] < df.expected_flops_M[0]
    for lam in ("0", "50"):
        assert (tmp_path / f"lam_{lam}" / "summary.json").exists()
    assert (tmp_path / "sweep.png").stat().st_size > 0
