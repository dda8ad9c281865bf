"""What a user's objective can do wrong, and what the loop makes of it (issue 33): a non-finite
metric is a failed evaluation with its reason; a result of the wrong shape stops the search before
anything is told, and a resume after the fix continues; a bare number is the search metric; an
objective that always fails stops the search after a few evaluations with its first error."""

import json

import numpy as np
import pytest

from boed_nas.cli import main as cli
from boed_nas.errors import ObjectiveError, OutcomeError
from boed_nas.experiment.loop import run_objective
from boed_nas.experiment.runfolder import RunFolder
from boed_nas.outcome import Outcome
from boed_nas.registry import make_strategy
from tests.faulty_objectives import exits_at_depth_3, hangs_at_depth_2
from tests.spaces.user_objective import SPACE, score

OBJ = "tests.experiment.test_faults"


def _strategy(seed=0):
    return make_strategy("random", seed=seed, space=SPACE)


def nan_at_depth_3(c):
    return {"val_acc": float("nan") if c["depth"] == 3 else score(c)}


def test_a_non_finite_metric_is_a_failed_evaluation_with_its_reason_and_the_search_goes_on(tmp_path):
    traj = run_objective(_strategy(), nan_at_depth_3, 40, out=tmp_path / "run")
    bad = traj[traj["config"].str.contains('"depth": 3')]
    assert len(traj) == 40 and len(bad) > 0
    assert bad["failed"].all() and bad["error"].str.startswith("NonFiniteMetricError: metric 'val_acc' = nan").all()
    assert not traj.loc[~traj.index.isin(bad.index), "failed"].any()
    # logged as a final failure: a resume tells it as failed, never the NaN
    log = RunFolder(tmp_path / "run").evaluations()
    nan_logged = [e for e in log if '"depth": 3' in e["cell"]]
    assert all(e["final"] and e["outcome"] is None and "not finite" in e["error"] for e in nan_logged)
    resumed = RunFolder(tmp_path / "run").load_strategy(space=SPACE)
    assert len(resumed.history) == 40


def returns_a_string(c):
    return "great"


def returns_another_metric(c):
    return {"accuracy": score(c)}


@pytest.mark.parametrize("bad, shows", [(returns_a_string, "returned 'great' (a str)"),
                                        (returns_another_metric, "lacks the search metric 'val_acc'")])
def test_a_result_of_the_wrong_shape_stops_at_once_and_a_resume_after_the_fix_continues(tmp_path, bad, shows):
    out = tmp_path / "run"
    with pytest.raises(ObjectiveError, match="expected a dict of metrics holding") as e:
        run_objective(_strategy(), bad, 10, out=out)
    assert shows in str(e.value)
    folder = RunFolder(out)
    log = folder.evaluations()
    assert len(log) == 1 and not log[0]["final"]  # never logged as a result
    s = folder.load_strategy(space=SPACE)
    assert not s.history and len(s.pending) == 1  # nothing told; the configuration is still to run
    traj = run_objective(s, lambda c: {"val_acc": score(c)}, 10, out=out)
    assert len(traj) == 10 and not traj["failed"].any()
    assert traj["config"].iloc[0] == log[0]["cell"]  # the one that came back wrong, run again first


@pytest.mark.parametrize("number", [float, np.float32, np.float64, int])
def test_a_bare_number_is_the_value_of_the_search_metric(number):
    s = make_strategy("random", seed=0, space=SPACE, metric="loss", maximize=False)
    traj = run_objective(s, lambda c: number(100 - score(c)), 8)
    assert not traj["failed"].any()
    assert [o.outcome.metrics for o in s.history] == [{"loss": float(number(100 - score(o.cell)))} for o in s.history]


def always_raises(c):
    raise RuntimeError(f"cannot build depth {c['depth']}")


def test_an_objective_that_always_fails_stops_after_five_with_the_first_error_and_resumes(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ObjectiveError, match=r"all 5 evaluations so far failed; the first error .*RuntimeError: cannot build"):
        run_objective(_strategy(), always_raises, 30, out=out)
    s = RunFolder(out).load_strategy(space=SPACE)
    assert len(s.history) == 5
    traj = run_objective(s, lambda c: {"val_acc": score(c)}, 30, out=out)
    assert len(traj) == 30 and traj["failed"].sum() == 5
    # a run shorter than five whose evaluations all failed is an error too; None turns the stop off
    with pytest.raises(ObjectiveError, match="all 3 evaluations"):
        run_objective(_strategy(), always_raises, 3)
    traj = run_objective(_strategy(), lambda c: None if c["depth"] < 6 else score(c), 12, max_initial_failures=None)
    assert len(traj) == 12


def exits(c):
    raise SystemExit(4)


def test_an_objective_that_calls_sys_exit_fails_its_evaluation_not_the_search():
    traj = run_objective(_strategy(), lambda c: exits(c) if c["depth"] == 2 else score(c), 20)
    failed = traj[traj["failed"]]
    assert len(traj) == 20 and len(failed) and failed["error"].str.contains(r"sys.exit\(4\)").all()


def test_a_malformed_failed_flag_is_refused_not_read_as_true():
    with pytest.raises(OutcomeError, match="failed = 'no'"):
        _strategy().tell(SPACE.sample(np.random.default_rng(0)), Outcome.from_dict({"metrics": {"val_acc": 1.0},
                                                                                    "failed": "no"}))


def test_the_cli_ends_an_objective_error_with_one_line_and_exit_code_3(tmp_path, capsys):
    code = cli(["search", "--space", "tests.spaces.user_objective:SPACE", "--objective", f"{OBJ}:returns_a_string",
                "--strategy", "random", "--budget", "5", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and err[-1].startswith("boed-nas search: objective error: the objective returned 'great'")
    assert json.loads((tmp_path / "run" / "evaluations.jsonl").read_text())["returned"] == "'great' (a str)"


# ------------------------------------------------------------------------------ one writer per folder
def test_a_second_process_on_a_run_folder_is_refused_naming_the_holder_and_a_dead_holders_lock_is_taken(tmp_path):
    import subprocess
    import sys

    from boed_nas.errors import FolderInUseError

    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from boed_nas.experiment.runfolder import RunFolder; "
        f"f = RunFolder({str(out)!r}); f.lock(); print('locked', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderInUseError, match=f"another process \\(pid {holder.pid}\\)"):
            run_objective(_strategy(), lambda c: score(c), 3, out=out)
        code = cli(["search", "--space", "tests.spaces.user_objective:SPACE", "--objective",
                    "tests.spaces.user_objective:objective", "--budget", "3", "--out", str(out), "--resume"])
        assert code == 2
    finally:
        holder.kill()
        holder.wait()
    assert not (out / "state.json").exists()  # the refused runs wrote nothing
    traj = run_objective(_strategy(), lambda c: score(c), 3, out=out)  # the dead holder's lock is simply taken
    assert len(traj) == 3 and (out / ".lock").read_text().strip() == str(__import__("os").getpid())


# ------------------------------------------------------------------------------ torn and missing files
def _cut(path, n_bytes):
    data = path.read_bytes()
    path.write_bytes(data[:-n_bytes])


def test_torn_last_lines_are_left_out_and_cut_before_the_next_append(tmp_path):
    out = tmp_path / "run"
    full = run_objective(_strategy(), lambda c: score(c), 12, out=out)
    for name in ("evaluations.jsonl", "trajectory.csv"):
        _cut(out / name, 7)  # a crash in the middle of the last write
    folder = RunFolder(out)
    assert len(folder.rows()) == 11
    for _ in range(2):  # every later resume works too
        s = RunFolder(out).load_strategy(space=SPACE)
        traj = run_objective(s, lambda c: score(c), 20 if _ == 0 else 24, out=out)
    assert len(traj) == 24 and list(traj["query"]) == list(range(1, 25))
    cols = ["query", "config", "val_acc", "failed", "best_so_far", "best_config", "recommended_config"]
    assert traj.iloc[:12][cols].equals(full[cols])
    rows = RunFolder(out).rows()
    assert [r["query"] for r in rows] == list(range(1, 25))
    assert all(line.startswith("{") for line in (out / "evaluations.jsonl").read_text().splitlines())


def test_a_deleted_trajectory_is_rebuilt_with_the_recommendations_of_the_time(tmp_path):
    out = tmp_path / "run"
    s = make_strategy("boed", seed=0, space=SPACE)
    full = run_objective(s, lambda c: score(c), 12, out=out)
    assert full["recommended_config"].nunique() > 1  # the recommendation moved during the run
    (out / "trajectory.csv").unlink()
    again = run_objective(RunFolder(out).load_strategy(space=SPACE), lambda c: score(c), 12, out=out)
    cols = ["query", "config", "val_acc", "failed", "best_so_far", "best_config", "recommended_config"]
    assert again[cols].equals(full[cols])


def test_a_folder_with_the_leftovers_of_an_old_run_and_no_state_is_refused(tmp_path):
    from boed_nas.errors import ConfigError

    out = tmp_path / "run"
    run_objective(_strategy(), lambda c: score(c), 4, out=out)
    (out / "state.json").unlink()
    (out / "evaluations.jsonl").unlink()
    with pytest.raises(ConfigError, match=r"holds \['trajectory.csv', 'recommendations.jsonl', 'submissions.jsonl'\] of an earlier run"):
        run_objective(_strategy(), lambda c: score(c), 4, out=out)
    assert len(RunFolder(out).rows()) == 4  # untouched


# ------------------------------------------------------------------------------ timeouts
def test_a_hung_evaluation_is_stopped_at_its_timeout_and_told_failed_in_process(tmp_path):
    import time

    t0 = time.time()
    traj = run_objective(_strategy(), hangs_at_depth_2, 12, timeout=3, out=tmp_path / "run")
    hung = traj[traj["config"].str.contains('"depth": 2')]
    assert len(traj) == 12 and len(hung) >= 1 and hung["failed"].all()
    assert hung["error"].str.startswith("TimeoutError: no result within 3 s").all()
    assert time.time() - t0 < 60 + 5 * len(hung)
    # an evaluation that kills its process fails alone; the next gets a fresh process
    traj = run_objective(_strategy(seed=1), exits_at_depth_3, 12, timeout=60)
    died = traj[traj["config"].str.contains('"depth": 3')]
    assert len(died) >= 1 and died["error"].str.contains("exit code 9").all() and not traj.loc[
        ~traj.index.isin(died.index), "failed"].any()


def test_a_timeout_needs_an_objective_the_worker_process_can_import():
    from boed_nas.errors import ConfigError

    with pytest.raises(ConfigError, match="must be importable there"):
        run_objective(_strategy(), lambda c: score(c), 3, timeout=5)


def test_timed_out_evaluations_are_transient_when_the_user_says_so_and_the_simulated_clock_stops_them():
    from boed_nas.engine import SimulatedEngine

    engine = SimulatedEngine(lambda c: Outcome({"val_acc": score(c)}, cost=100.0 * c["depth"]), 2, timeout=250,
                             transient=(TimeoutError,))
    s = _strategy()
    traj = run_objective(s, None or (lambda c: None), 10, engine=engine, max_retries=1, max_initial_failures=None)
    slow = traj[traj["config"].str.contains('"depth": [3456]', regex=True)]
    assert len(slow) and slow["failed"].all() and (slow["attempt"] == 1).all()  # retried once, then told failed
    assert (slow["finished"] - slow["started"] == 250).all()
    assert not traj.loc[~traj.index.isin(slow.index), "failed"].any()


def test_the_cli_takes_a_timeout_and_refuses_a_bad_one(tmp_path, capsys):
    assert cli(["search", "--space", "tests.spaces.user_objective:SPACE", "--objective", "tests.faulty_objectives:hangs_at_depth_2",
                "--strategy", "random", "--budget", "6", "--timeout", "2", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "6 evaluations" in out
    for bad in ("0", "-1", "nan", "soon"):
        assert cli(["search", "--timeout", bad, "--out", str(tmp_path / "x")]) == 2
        assert "--timeout: expected a positive number of seconds" in capsys.readouterr().err
    assert cli(["search", "--retry-timeouts", "--out", str(tmp_path / "x")]) == 2
    assert "--retry-timeouts needs --timeout" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------ the smaller items
def _tiny():
    from boed_nas.spaces import Categorical, Space

    return Space([Categorical("a", ["x", "y", "z"]), Categorical("b", ["p", "q"])], name="tiny")


TINY = _tiny()  # six configurations, fewer than the budgets below


def test_a_space_smaller_than_the_budget_ends_with_every_row_and_a_summary(tmp_path, capsys):
    for name in ("random", "boed"):
        s = make_strategy(name, seed=0, space=_tiny())
        traj = run_objective(s, lambda c: float(len(c["a"]) + (c["b"] == "q")), 10)
        assert len(traj) == 6 and list(traj["query"]) == list(range(1, 7)) and s.remaining == 0
    code = cli(["search", "--space", f"{OBJ}:TINY", "--objective", f"{OBJ}:tiny_objective", "--strategy", "random",
                "--budget", "10", "--out", str(tmp_path / "r")])
    assert code == 0 and "the space holds only 6 distinct configurations, all evaluated" in capsys.readouterr().out
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"


def tiny_objective(c):
    return float(len(c["a"]) + (c["b"] == "q"))


def test_a_state_with_a_told_cell_still_pending_is_refused(tmp_path):
    from boed_nas.errors import StateError

    s = _strategy()
    (c,) = s.ask()
    s.tell(c, {"val_acc": 1.0})
    state = s.state_dict()
    state["pending"] = [SPACE.format(c)]
    with pytest.raises(StateError, match="both told and pending"):
        _strategy().load_state_dict(state)


def test_maximize_and_metric_of_the_wrong_type_are_refused():
    from boed_nas.errors import ConfigError

    with pytest.raises(ConfigError, match="maximize must be True or False, got 'false'"):
        make_strategy("random", space=SPACE, maximize="false")
    with pytest.raises(ConfigError, match="metric must be"):
        make_strategy("random", space=SPACE, metric=3)


def test_state_json_has_the_mode_of_the_other_run_files(tmp_path):
    import os
    import stat

    run_objective(_strategy(), lambda c: score(c), 3, out=tmp_path / "r")
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in (tmp_path / "r").iterdir() if p.suffix != ""}
    assert modes["state.json"] == modes["evaluations.jsonl"] == modes["trajectory.csv"]


def not_a_space(c):
    return 1


def test_cli_one_liners_for_a_space_that_is_a_function_and_a_bench_without_datasets(tmp_path, capsys):
    assert cli(["search", "--space", f"{OBJ}:not_a_space", "--objective", f"{OBJ}:tiny_objective",
                "--out", str(tmp_path / "a")]) == 2
    assert "names a function that does not build a space" in capsys.readouterr().err
    assert cli(["bench", "--dataset", ",", "--out", str(tmp_path / "b")]) == 2
    assert "names no dataset" in capsys.readouterr().err


def test_a_plot_that_cannot_be_written_names_its_file_and_leaves_no_cut_file(tmp_path, monkeypatch):
    import matplotlib.figure
    import pandas as pd

    from boed_nas.experiment.plots import plot_regret

    def full_disk(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full_disk)
    traj = pd.DataFrame({"query": [1, 2], "test_regret": [1.0, 0.5], "strategy": "random", "seed": 0,
                         "dataset": "cifar10"})
    with pytest.raises(OSError, match="cannot write the plot .*regret.png.*No space left"):
        plot_regret(traj, tmp_path / "regret.png")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ outcomes, as properties
KINDS = ("ok", "bare", "nan", "inf", "none", "raise", "str", "missing")


class Scripted:
    """An objective whose n-th call returns the n-th scripted kind of result."""

    def __init__(self, kinds):
        self.kinds, self.calls = list(kinds), 0

    def __call__(self, c):
        kind = self.kinds[self.calls % len(self.kinds)]
        self.calls += 1
        return {"ok": lambda: {"val_acc": score(c)}, "bare": lambda: score(c), "nan": lambda: {"val_acc": float("nan")},
                "inf": lambda: {"val_acc": float("inf")}, "none": lambda: None,
                "raise": lambda: (_ for _ in ()).throw(ValueError("diverged")), "str": lambda: "done",
                "missing": lambda: {"loss": 1.0}}[kind]()


def test_every_sequence_of_results_ends_in_told_rows_or_one_objective_error_and_a_folder_that_resumes(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    runs = iter(range(10**6))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=12), st.integers(1, 12))
    def check(kinds, budget):
        out = tmp_path / f"run{next(runs)}"
        objective = Scripted(kinds)
        try:
            traj = run_objective(_strategy(), objective, budget, out=out)
        except ObjectiveError as e:
            seen = [kinds[i % len(kinds)] for i in range(objective.calls)]
            wrong = [k for k in seen if k in ("str", "missing")]
            failing = [k for k in seen if k in ("nan", "inf", "none", "raise")]
            assert (wrong and seen[-1] == wrong[0]) or (len(failing) == len(seen) and
                                                        (len(seen) >= 5 or len(seen) == budget)), (kinds, str(e))
            traj = None
        s = RunFolder(out).load_strategy(space=SPACE)
        finals = [e for e in RunFolder(out).evaluations() if e["final"]]
        assert len(finals) == len(s.history) == len(RunFolder(out).rows())  # nothing lost, nothing twice
        assert all(o.outcome.failed or np.isfinite(o.outcome.metrics["val_acc"]) for o in s.history)
        if traj is not None:
            assert len(traj) == budget
            told = [kinds[i % len(kinds)] for i in range(budget)]
            assert list(traj["failed"]) == [k in ("nan", "inf", "none", "raise") for k in told]

    check()


def test_a_redirected_log_gets_no_progress_bar_and_the_command_tells_its_version(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "boed_nas", "search", "--space", "tests.spaces.user_objective:SPACE",
                        "--objective", "tests.spaces.user_objective:objective", "--strategy", "random", "--budget", "4",
                        "--out", str(tmp_path / "r")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "\r" not in r.stdout + r.stderr and "it/s" not in r.stderr
    v = subprocess.run([sys.executable, "-m", "boed_nas", "--version"], capture_output=True, text=True, timeout=60)
    assert v.stdout.strip().startswith("boed-nas ") and v.returncode == 0


def test_each_told_evaluation_is_one_info_line_of_the_boed_nas_logger(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="boed_nas"):
        run_objective(_strategy(), lambda c: score(c) if c["depth"] != 2 else None, 6)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("boed_nas")]
    assert len(lines) == 6 and lines[0].startswith("evaluation 1 of 6: {")


def test_a_failed_boed_ask_leaves_its_reports_as_they_were(tmp_path):
    from boed_nas.errors import StateError

    s = make_strategy("boed[n_init=2,n_samples=16,plausible_size=32]", seed=0, space=SPACE, state_path=tmp_path / "s.json")
    for _ in range(4):
        (c,) = s.ask()
        s.tell(c, {"val_acc": score(c)})
    before = (len(s.reports), len(s.pending), s.state_dict()["rng"])
    assert before[0] > 0  # the belief has reported on its asks
    (tmp_path / "s.json").unlink()
    (tmp_path / "s.json").mkdir()  # the save after the ask fails: the ask must not count
    with pytest.raises(StateError):
        s.ask()
    assert (len(s.reports), len(s.pending), s.state_dict()["rng"]) == before


# ------------------------------------------------------------------------------ the belief on screen (issue 34)
def test_rows_carry_the_beliefs_figures_and_a_stop_rule_ends_the_search_when_it_is_sure(tmp_path):
    from boed_nas.experiment.loop import BELIEF_COLUMNS

    s = make_strategy("boed[n_init=3,n_samples=64,plausible_size=128]", seed=0, space=SPACE)
    traj = run_objective(s, lambda c: score(c), 40, out=tmp_path / "run", stop_when="prob_best>=0.5")
    assert set(BELIEF_COLUMNS) <= set(traj.columns)
    shown = traj.dropna(subset=["prob_best"])
    assert len(shown) and shown["prob_best"].between(0, 1).all() and (shown["argmax_entropy"] >= 0).all()
    assert traj["prob_best"].iloc[:2].isna().all()  # the initial design: no belief yet (the GP asks from row 3 on)
    assert len(traj) < 40 and traj["prob_best"].iloc[-1] >= 0.5 and (traj["prob_best"].iloc[:-1].fillna(0) < 0.5).all()
    # as written, and rebuilt as it was from the logged recommendations
    (tmp_path / "run" / "trajectory.csv").unlink()
    again = run_objective(RunFolder(tmp_path / "run").load_strategy(space=SPACE), lambda c: score(c), len(traj),
                          out=tmp_path / "run")
    assert np.allclose(again["prob_best"].fillna(-1), traj["prob_best"].fillna(-1))
    # a strategy without a belief leaves them empty; a bad rule is one ConfigError
    assert run_objective(_strategy(), lambda c: score(c), 3)["prob_best"].isna().all()
    from boed_nas.errors import ConfigError

    for bad in ("prob_best=>0.9", "prob_best>=high", ">=0.9"):
        with pytest.raises(ConfigError, match="expected COLUMN OP NUMBER"):
            run_objective(_strategy(), lambda c: score(c), 3, stop_when=bad)


def test_a_search_on_your_own_space_plots_its_belief(tmp_path, capsys):
    code = cli(["search", "--space", "tests.spaces.user_objective:SPACE", "--objective", f"{OBJ}:tiny_like_score",
                "--strategy", "boed[n_init=3,n_samples=32,plausible_size=64]", "--budget", "8", "--out",
                str(tmp_path / "r"), "--quiet"])
    assert code == 0 and "belief.png" in capsys.readouterr().out
    assert (tmp_path / "r" / "belief.png").read_bytes()[:4] == b"\x89PNG"


def tiny_like_score(c):
    return score(c)


def test_search_json_prints_one_json_summary_on_stdout(tmp_path, capsys):
    assert cli(["search", "--space", "tests.spaces.user_objective:SPACE", "--objective", f"{OBJ}:tiny_like_score",
                "--strategy", "random", "--budget", "5", "--out", str(tmp_path / "a"), "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["evaluations"] == 5 and doc["best_config"].startswith("{") and out.count("\n") == 1
    assert cli(["search", "--strategy", "random", "--budget", "5", "--out", str(tmp_path / "b"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["queries"] == 5 and "recommended_cell" in doc
