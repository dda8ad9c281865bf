"""A search in a run folder survives a crash at any moment: resumed, it is the uninterrupted run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from boed_nas import Strategy, make_strategy
from boed_nas.cli import main
from boed_nas.engine import InProcessEngine
from boed_nas.errors import ConfigError
from boed_nas.experiment.loop import run_search
from boed_nas.experiment.run import SearchRun, run_nb201
from boed_nas.experiment.runfolder import RunFolder
from boed_nas.nb201.benchmark import NB201Benchmark
from tests.helpers import killed_and_resumed

SPEC = "local[n_init=3]"
COLUMNS = ["query", "cell", "val_acc", "test_acc", "best_cell", "recommended_cell", "found_optimum", "attempt"]


class Crash(BaseException):
    """Stands for a kill: not an Exception, so nothing in the loop catches it."""


class Counting:
    def __init__(self, bench, crash_at=None):
        self.bench, self.crash_at, self.calls = bench, crash_at, 0

    def __call__(self, cell):
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash
        return self.bench.evaluate(cell)


def _uninterrupted(budget=14):
    bench = NB201Benchmark("cifar100", seed=2)
    return run_search(make_strategy(SPEC, seed=2), bench, budget)[COLUMNS]


def _resume(folder, budget=14):
    bench = NB201Benchmark("cifar100", seed=2)
    objective = Counting(bench)
    run_search(RunFolder(folder).load_strategy(), bench, budget, engine=InProcessEngine(objective), out=folder)
    return pd.read_csv(folder / "trajectory.csv")[COLUMNS], objective.calls


def test_a_crash_while_a_cell_is_evaluated_reruns_that_cell(tmp_path):
    bench = NB201Benchmark("cifar100", seed=2)
    with pytest.raises(Crash):
        run_search(make_strategy(SPEC, seed=2), bench, 14, engine=InProcessEngine(Counting(bench, crash_at=6)),
                   out=tmp_path)
    saved = Strategy.load(tmp_path / "state.json")
    assert len(saved.history) == 5 and len(saved.pending) == 1  # asked, running when it crashed
    resumed, calls = _resume(tmp_path)
    assert calls == 9  # the interrupted cell again, then the 8 left
    pd.testing.assert_frame_equal(resumed, _uninterrupted())
    jobs = [e["job"] for e in RunFolder(tmp_path).evaluations()]
    assert jobs == list(range(len(jobs))) and len(jobs) == 14  # numbered on across the resume, not from 0 again


def test_a_crash_between_the_log_and_the_tell_tells_from_the_log_without_running_again(tmp_path, monkeypatch):
    bench = NB201Benchmark("cifar100", seed=2)
    s = make_strategy(SPEC, seed=2)
    real_tell, told = s.tell, []

    def tell(cell, outcome):
        if len(told) == 7:
            raise Crash
        told.append(cell)
        real_tell(cell, outcome)

    monkeypatch.setattr(s, "tell", tell)
    with pytest.raises(Crash):
        run_search(s, bench, 14, out=tmp_path)
    assert len(RunFolder(tmp_path).evaluations()) == 8 and len(Strategy.load(tmp_path / "state.json").history) == 7
    resumed, calls = _resume(tmp_path)
    assert calls == 6  # the logged 8th result is told from the log: never evaluated twice
    pd.testing.assert_frame_equal(resumed, _uninterrupted())


def test_a_crash_before_the_rows_are_written_rebuilds_them(tmp_path, monkeypatch):
    bench = NB201Benchmark("cifar100", seed=2)
    s = make_strategy(SPEC, seed=2)
    real, calls = s.recommend, []

    def recommend():
        calls.append(1)
        if len(calls) == 10:
            raise Crash
        return real()

    monkeypatch.setattr(s, "recommend", recommend)
    with pytest.raises(Crash):
        run_search(s, bench, 14, out=tmp_path)
    assert len(pd.read_csv(tmp_path / "trajectory.csv")) == 9 and len(RunFolder(tmp_path).evaluations()) == 10
    resumed, _ = _resume(tmp_path)
    pd.testing.assert_frame_equal(resumed, _uninterrupted())


def test_a_folder_holding_a_search_is_never_overwritten(tmp_path):
    run_nb201(SearchRun("random", budget=3), tmp_path / "r")
    with pytest.raises(ConfigError, match="already holds a search.*--resume"):
        run_nb201(SearchRun("random", budget=3), tmp_path / "r")
    with pytest.raises(ConfigError, match="strategy: saved 'random', now 'local'"):
        run_nb201(SearchRun("local", budget=3), tmp_path / "r", resume=True)
    _, traj, summary = run_nb201(SearchRun("random", budget=5), tmp_path / "r", resume=True)
    assert len(traj) == 5 and summary["queries"] == 5
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"


def test_the_command_refuses_bad_paths_and_arguments_in_one_line_before_writing(tmp_path, capsys):
    afile = tmp_path / "a_file"
    afile.write_text("")
    for argv, expected in [
        (["search", "--out", str(afile)], "is a file"),
        (["search", "--out", str(afile / "below")], "cannot write"),
        (["search", "--strategy", "nope", "--out", str(tmp_path / "x")], "unknown strategy 'nope'"),
        (["bench", "--dataset", "nope", "--out", str(tmp_path / "y")], "unknown dataset 'nope'"),
        (["search", "--strategy", "boed[n_init=0]", "--out", str(tmp_path / "z")], "n_init"),
        (["search", "--resume", "--out", str(tmp_path / "w"), "--clock", "simulated", "--scheduler", "tcp://x:1"],
         "simulated clock runs no cluster"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert expected in err[-1] and err[-1].startswith("boed-nas ")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists() and not (tmp_path / "z").exists()
    assert main(["bench", "--jobs", "0"]) == 2
    assert "--jobs: expected a positive integer, got 0" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_of_the_command_then_resume_gives_the_uninterrupted_run(tmp_path):
    args = ["search", "--strategy", "boed[n_init=3,n_samples=32,plausible_size=64]", "--dataset", "cifar100",
            "--budget", "12", "--seed", "1"]
    _, killed, before = killed_and_resumed(tmp_path, args, at=5)
    assert 5 <= before < 12
    whole = pd.read_csv(tmp_path / "whole" / "trajectory.csv")
    resumed = pd.read_csv(killed / "trajectory.csv")
    cols = ["query", "cell", "val_acc", "best_cell", "found_optimum"]
    pd.testing.assert_frame_equal(resumed[cols], whole[cols])
    logged = [json.loads(line)["cell"] for line in (killed / "evaluations.jsonl").read_text().splitlines()]
    assert len(logged) == len(set(logged)) == 12  # every evaluation counted exactly once


def test_a_crash_on_the_simulated_clock_resumes_the_same_run_on_the_same_clock(tmp_path):
    # two simulated workers: what was running when the run stopped starts again on its worker from the
    # time it started, and the clock goes on from where it was (it restarted at 0, and the runs parted)
    from boed_nas.engine import SimulatedEngine

    def run(engine, out, strategy=None, budget=24):
        bench = NB201Benchmark("cifar100", seed=2)
        strategy = strategy or make_strategy("evolution[population_size=6,sample_size=3]", seed=2)
        return run_search(strategy, bench, budget, engine=engine, out=out)

    columns = [*COLUMNS, "submitted", "started", "finished", "worker"]
    whole = run(SimulatedEngine(Counting(NB201Benchmark("cifar100", seed=2)), 2), tmp_path / "whole")[columns]
    with pytest.raises(Crash):
        run(SimulatedEngine(Counting(NB201Benchmark("cifar100", seed=2), crash_at=15), 2), tmp_path / "killed")
    folder = RunFolder(tmp_path / "killed")
    assert len(folder.load_strategy().pending) == 2  # one running, one asked when the crash came
    resumed = run(SimulatedEngine(Counting(NB201Benchmark("cifar100", seed=2)), 2), tmp_path / "killed",
                  strategy=folder.load_strategy())
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "killed" / "trajectory.csv")[columns], whole.reset_index(drop=True),
                                  check_dtype=False)
    assert resumed["finished"].is_monotonic_increasing


class _Flaky(Counting):
    """A transient failure at call ``flaky_at`` (its retry is the next call)."""

    def __init__(self, bench, flaky_at, crash_at=None):
        super().__init__(bench, crash_at)
        self.flaky_at = flaky_at

    def __call__(self, cell):
        from boed_nas.engine import TransientError

        if self.calls + 1 == self.flaky_at:
            self.calls += 1
            raise TransientError("a lost GPU")
        return super().__call__(cell)


@pytest.mark.parametrize("case", ["one worker", "a retry not yet started", "a stop met"])
def test_a_resume_on_the_simulated_clock_is_the_run_that_did_not_stop(tmp_path, case):
    # one worker: nothing runs at the crash, and the clock still goes on from where it was; a retry
    # whose start the crash came before runs at its next attempt, first; a run killed as its stop rule
    # is met ends as it would have (its running evaluations end; the first to finish is told)
    from boed_nas.engine import SimulatedEngine

    workers, budget, extra = {"one worker": (1, 10, {}), "a retry not yet started": (2, 12, {"max_retries": 1}),
                              "a stop met": (3, 12, {})}[case]

    def objective(crash_at=None):
        bench = NB201Benchmark("cifar100", seed=2)
        return _Flaky(bench, 6, crash_at) if case == "a retry not yet started" else Counting(bench, crash_at)

    class StopAt4:  # the stop rule; in the killed run, the kill comes right after the rule is met
        def __init__(self, crash=False):
            self.crash = crash

        def __call__(self, row):
            if self.crash and row["query"] == 4:
                raise Crash
            return row["query"] >= 4

    def run(engine, out, strategy=None, crash=False):
        stop = {"stop_when": StopAt4(crash)} if case == "a stop met" else {}
        return run_search(strategy or make_strategy("evolution[population_size=6,sample_size=3]", seed=2),
                          NB201Benchmark("cifar100", seed=2), budget, engine=engine, out=out, **extra, **stop)

    columns = [*COLUMNS, "submitted", "started", "finished", "worker"]
    whole = run(SimulatedEngine(objective(), workers), tmp_path / "whole")
    crash_at = {"one worker": 5, "a retry not yet started": 7, "a stop met": None}[case]
    with pytest.raises(Crash):
        run(SimulatedEngine(objective(crash_at), workers), tmp_path / "killed", crash=case == "a stop met")
    folder = RunFolder(tmp_path / "killed")
    bench = NB201Benchmark("cifar100", seed=2)
    run(SimulatedEngine(Counting(bench), workers), tmp_path / "killed", strategy=folder.load_strategy())
    resumed = pd.read_csv(tmp_path / "killed" / "trajectory.csv")
    pd.testing.assert_frame_equal(resumed[columns], whole[columns].reset_index(drop=True), check_dtype=False)
    attempts = [(e["cell"], e["attempt"]) for e in folder.evaluations()]
    assert len(attempts) == len(set(attempts))  # no attempt run twice


def test_a_resumed_run_on_a_real_clock_goes_on_from_its_times(tmp_path):
    # seconds since the run started go on from the stopped run's (the time it was stopped does not
    # count), so times stay in order and a stop rule on time keeps its budget
    bench = NB201Benchmark("cifar100", seed=2)
    with pytest.raises(Crash):
        run_search(make_strategy(SPEC, seed=2), bench, 8, engine=InProcessEngine(Counting(bench, crash_at=5)),
                   out=tmp_path)
    before = pd.read_csv(tmp_path / "trajectory.csv")["finished"].max()
    run_search(RunFolder(tmp_path).load_strategy(), bench, 8, engine=InProcessEngine(Counting(bench)), out=tmp_path)
    times = pd.read_csv(tmp_path / "trajectory.csv")
    assert len(times) == 8 and times["finished"].is_monotonic_increasing
    assert times["submitted"].iloc[4:].min() >= before
