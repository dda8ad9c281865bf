"""The simulated engine: a virtual clock of table training times, n workers, the next free worker takes the next ask."""

from __future__ import annotations

import math

import pytest

from boed_nas import Cell, Outcome, make_strategy
from boed_nas.engine import InProcessEngine, SimulatedEngine, TransientError
from boed_nas.errors import ConfigError
from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark


def _timed(durations):
    """An objective whose evaluation of cell code c takes durations[c] seconds and reports val_acc = c."""
    return lambda cell: Outcome({"val_acc": float(cell.code)}, cost=durations[cell.code])


def test_jobs_finish_in_order_of_their_end_times_on_the_free_workers():
    engine = SimulatedEngine(_timed({1: 10.0, 2: 3.0, 3: 5.0, 4: 1.0}), n_workers=2)
    a, b = engine.submit(Cell.from_code(1)), engine.submit(Cell.from_code(2))
    assert engine.free_workers() == 0
    with pytest.raises(RuntimeError, match="busy"):
        engine.submit(Cell.from_code(3))
    r = engine.wait()
    assert (r.job, r.started, r.finished, engine.now()) == (b, 0.0, 3.0, 3.0)
    engine.charge(0.5)  # the next ask took half a second
    c = engine.submit(Cell.from_code(3))
    assert c.submitted == 3.5
    assert [engine.wait().job for _ in range(2)] == [c, a]  # 3.5 + 5 = 8.5 < 10
    assert engine.now() == 10.0 and engine.running() == []
    with pytest.raises(ConfigError):
        engine.charge(-1)


def test_one_simulated_worker_gives_the_serial_trajectory():
    for spec in ("local", "boed[n_init=3,n_samples=16,plausible_size=32]"):
        serial = run_search(make_strategy(spec, seed=4), NB201Benchmark("cifar100", seed=4), 12)
        simulated = run_search(make_strategy(spec, seed=4), NB201Benchmark("cifar100", seed=4), 12, clock="simulated")
        assert simulated["cell"].tolist() == serial["cell"].tolist()
        assert simulated["recommended_cell"].tolist() == serial["recommended_cell"].tolist()
        # one worker, no ask time charged: each result arrives when the previous training time has passed
        assert simulated["finished"].tolist() == pytest.approx(simulated["cumulative_cost"].tolist())


def test_many_workers_overlap_trainings_and_never_run_a_cell_twice():
    bench = NB201Benchmark("cifar10", seed=1)
    traj = run_search(make_strategy("evolution", seed=1), bench, 40, workers=8, clock="simulated", ask_seconds=2.0)
    assert len(traj) == 40 and traj["cell"].map(lambda c: Cell.from_str(c).canonical()).is_unique
    assert traj["worker"].nunique() == 8
    assert traj["finished"].is_monotonic_increasing
    assert traj["finished"].iloc[-1] < traj["cumulative_cost"].iloc[-1] / 4  # trainings overlapped
    # every ask was charged 2 simulated seconds: the first 8 submissions 2 s apart
    first = sorted(traj["submitted"])[:8]
    assert first == pytest.approx([2.0 * (k + 1) for k in range(8)])


def test_synchronous_batches_wait_for_the_whole_batch():
    traj = run_search(make_strategy("random", seed=0), NB201Benchmark("cifar10", seed=0), 12, workers=4,
                      clock="simulated", batch_size=4)
    starts = traj["submitted"].round(9).tolist()
    assert len(set(starts)) == 3  # three batches, each submitted at once
    for batch_start in sorted(set(starts))[1:]:
        previous = traj[traj["submitted"] < batch_start]
        assert previous["finished"].max() <= batch_start  # the next batch started after the last result


def test_an_objective_that_raises_is_a_failed_row_or_a_retry():
    calls = []

    def flaky(cell):
        calls.append(cell.code)
        if cell.code % 3 == 0:
            raise RuntimeError(f"CUDA out of memory on {cell.code}")
        if cell.code % 3 == 1 and calls.count(cell.code) == 1:
            raise TransientError("node preempted")
        return {"val_acc": 50.0 + cell.code % 7}

    s = make_strategy("random", seed=2)
    traj = run_search(s, NB201Benchmark("cifar10"), 30, engine=InProcessEngine(flaky), max_retries=1)
    assert len(traj) == 30
    failed = traj[traj["failed"]]
    assert len(failed) and failed["error"].str.contains("RuntimeError: CUDA out of memory").all()
    assert failed["cell"].map(lambda c: Cell.from_str(c).code % 3).eq(0).all()
    retried = traj[traj["attempt"] == 1]
    assert len(retried) and retried["cell"].map(lambda c: Cell.from_str(c).code % 3).eq(1).all()
    assert not retried["failed"].any()
    assert sum(o.outcome.failed for o in s.history) == len(failed)
    assert math.isnan(failed["test_acc"].iloc[0])
