"""The supernet command (boed_nas.cli.supernet)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from boed_nas.nb201.space import N_EDGES, N_OPS, OPS, Cell


def _parse(argv):
    from boed_nas.cli import supernet as cli

    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    return cli, p.parse_args(argv)


def test_cli_writes_summary_history_and_plot(tmp_path):
    cli, args = _parse(["--epochs", "1", "--C", "2", "--data-limit", "48", "--batch-size", "16", "--quiet",
                        "--threads", "1", "--lam", "0.05", "--surgery", "--tau-start", "2", "--tau-end", "0.5",
                        "--tau-schedule", "exp", "--seed", "7", "--out", str(tmp_path)])
    assert cli.main(args) == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    cell = Cell.from_str(s["derived_cell"])
    assert cell.has_parametric_path()
    assert np.array(s["alpha"]).shape == (N_EDGES, N_OPS) and s["ops"] == list(OPS)
    assert s["settings"]["seed"] == 7 and s["settings"]["lam"] == 0.05 and s["settings"]["surgery"] is True
    assert s["nb201"]["cifar10"]["derived"]["test_acc"] > 0
    assert "latency" in s["cost_fit"] and len(s["proposals"]) > 0
    import pandas as pd

    h = pd.read_csv(tmp_path / "alpha_history.csv")
    assert {"epoch", "edge", "op", "weight"} <= set(h.columns) and len(h) == 2 * N_EDGES * N_OPS
    assert (tmp_path / "alpha.png").stat().st_size > 1000


def test_cli_bad_options():
    cli, args = _parse(["--tau-start", "-1", "--quiet"])
    with pytest.raises(ValueError, match="temperature start"):
        cli.main(args)
    with pytest.raises(SystemExit):
        _parse(["--order", "3"])
    with pytest.raises(SystemExit):
        _parse(["--mode", "sparsemax"])
