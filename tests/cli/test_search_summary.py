"""What ``boed-nas search --space ... --objective ...`` reports at the end (the printed summary and
``--json``), and the arguments it refuses before the first evaluation."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from boed_nas.cli import main

USER = "tests.spaces.user_objective"
SMALL = "boed[n_init=3,n_samples=32,plausible_size=64]"


def _search(tmp_path, capsys, *extra: str, name: str = "r") -> tuple[int, dict | None, str]:
    code = main(["search", "--space", f"{USER}:SPACE", "--out", str(tmp_path / name), "--json", "--quiet", *extra])
    captured = capsys.readouterr()
    doc = json.loads(captured.out) if captured.out.strip() else None
    return code, doc, captured.err


def test_json_reports_what_the_belief_said_when_the_search_ends_on_its_budget(tmp_path, capsys):
    code, doc, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--strategy", SMALL,
                             "--budget", "6")
    assert code == 0
    traj = pd.read_csv(tmp_path / "r" / "trajectory.csv")
    assert pd.isna(traj["prob_best"].iloc[-1])  # the trajectory is as it was: no ask follows the last tell
    told = traj.dropna(subset=["prob_best"]).iloc[-1]
    assert doc["prob_best"] == pytest.approx(told["prob_best"]) and doc["prob_best_after"] == told["query"] == 5
    assert ("prob_best_of" in doc) == (told["recommended_config"] != doc["recommended_config"])
    assert doc["stopped_by"] is None
    assert "P(recommendation is the best): " in err and "after evaluation 5" in err


def test_a_fidelity_search_reports_its_target_level_recommendation_before_any_target_result(tmp_path, capsys):
    fid = ["--objective", f"{USER}:objective_at_level", "--fidelity", "epochs=1,2,4,8", "--budget", "6"]
    code, doc, err = _search(tmp_path, capsys, *fid, "--strategy", SMALL)
    assert code == 0
    traj = pd.read_csv(tmp_path / "r" / "trajectory.csv")
    assert (traj["fidelity"] != 8).all()  # no result at the target level yet ...
    assert doc["best_config"] is None and doc["best_value"] is None
    assert doc["recommended_config"] == traj["recommended_config"].iloc[-1]  # ... and still a recommendation
    assert doc["recommended_config"].startswith("{")
    assert f"recommended by {SMALL} (at the target level epochs=8): {doc['recommended_config']}" in err
    # asha recommends only from target-level results: none yet, and it says so
    code, doc, err = _search(tmp_path, capsys, *fid, "--strategy", "asha", name="asha")
    traj = pd.read_csv(tmp_path / "asha" / "trajectory.csv")
    assert code == 0 and (traj["fidelity"] != 8).all() and traj["recommended_config"].isna().all()
    assert doc["recommended_config"] is None and "no recommendation from asha yet" in err


@pytest.mark.parametrize("rule, says", [
    ("prob>=0.9", "no column 'prob'"),
    ("prob_best>=1.5", "bound 1.5 must be within [0, 1]"),
    ("prob_best>1", "never is > 1"),
    ("argmax_entropy<0", "never is < 0"),
])
def test_a_stop_rule_that_cannot_fire_is_refused_in_one_line_before_any_evaluation(tmp_path, capsys, rule, says):
    code, doc, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--budget", "5",
                             "--stop-when", rule)
    assert code == 2 and doc is None  # nothing on stdout
    lines = err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "--stop-when" in lines[0]
    if rule.startswith("prob>"):
        assert "'prob_best'" in lines[0] and "'val_acc'" in lines[0]  # the columns a rule can read
    assert not (tmp_path / "r").exists()


def test_a_search_a_stop_rule_ends_says_so_and_json_has_the_rule(tmp_path, capsys):
    code, doc, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--strategy", "random",
                             "--budget", "10", "--stop-when", "query>=4")
    assert code == 0 and doc["evaluations"] == 4 and doc["stopped_by"] == "query>=4"
    assert "stopped by --stop-when query>=4 after 4 evaluations (budget 10)" in err
    code, doc, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--strategy", "random",
                             "--budget", "3", "--stop-when", "query>=4", name="budget")
    assert code == 0 and doc["evaluations"] == 3 and doc["stopped_by"] is None and "stopped by" not in err


def test_an_objective_that_cannot_take_the_level_is_refused_before_the_first_evaluation(tmp_path, capsys):
    code, _, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--fidelity", "epochs=1,2,4,8",
                           "--budget", "6")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "cannot take the level" in lines[0] and "objective(c)" in lines[0]
    code, _, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective_at_level", "--budget", "6")
    assert code == 2 and "cannot be called as objective_at_level(config)" in err
    assert not (tmp_path / "r").exists()


def test_resume_of_a_folder_that_does_not_exist_starts_the_search_and_says_so(tmp_path, capsys):
    code, _, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--budget", "3", "--resume")
    assert code == 0 and "does not exist, so there is no search to continue; starting a new one there" in err
    assert (tmp_path / "r" / "state.json").exists()

def test_a_constrained_nb201_search_names_its_own_answer_and_refuses_stop_at_optimum(tmp_path, capsys):
    # the table's validation optimum breaks this latency bound on CIFAR-10: a constrained search never
    # evaluates it, so --stop-at-optimum could never fire; the summary names the search's own answer
    args = ["search", "--strategy", "mo-random", "--objectives", "accuracy", "--constraint", "latency<=0.012",
            "--budget", "8", "--quiet"]
    assert main([*args, "--stop-at-optimum", "--out", str(tmp_path / "a")]) == 2
    assert "stop_at_optimum (--stop-at-optimum)" in capsys.readouterr().err and not (tmp_path / "a").exists()
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert f"the table's best within the constraints: {summary['table_optimum_cell']}" in out
    assert "recommended by mo-random" in out or summary["recommended_cell"] == summary.get("best_cell")


def test_a_stop_rule_on_a_figure_the_strategy_does_not_report_is_refused(tmp_path, capsys):
    # random search has no belief: its prob_best column stays empty, and the rule would never fire
    assert main(["search", "--strategy", "random", "--stop-when", "prob_best>=0.9", "--budget", "5", "--quiet",
                 "--out", str(tmp_path / "nb")]) == 2
    assert "strategy 'random' does not report prob_best" in capsys.readouterr().err and not (tmp_path / "nb").exists()
    code, _, err = _search(tmp_path, capsys, "--objective", f"{USER}:objective", "--strategy", "evolution",
                           "--stop-when", "argmax_entropy<1", "--budget", "5")
    assert code == 2 and "strategy 'evolution' does not report argmax_entropy" in err and not (tmp_path / "r").exists()


def test_a_stop_rule_on_the_hypervolume_of_a_search_without_a_front_is_refused_before_writing(tmp_path, capsys):
    # under a constraint alone the search is after accuracy: no front, no hypervolume column
    assert main(["search", "--strategy", "mo-random", "--objectives", "accuracy", "--constraint", "latency<=0.02",
                 "--stop-when", "hypervolume_ratio>=0.9", "--budget", "5", "--quiet", "--out", str(tmp_path / "a")]) == 2
    assert "no column 'hypervolume_ratio'" in capsys.readouterr().err and not (tmp_path / "a").exists()
