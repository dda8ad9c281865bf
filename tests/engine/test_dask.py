"""The Dask engine on a real LocalCluster of 2 worker processes (started here, nothing by hand)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from boed_nas import Cell, Outcome, make_strategy
from boed_nas.engine import SimulatedEngine
from boed_nas.experiment.loop import run_search
from boed_nas.nb201.benchmark import NB201Benchmark

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, Client(c) as cl:
        yield cl


def _engine(objective, client, n=None):
    from boed_nas.engine.dask import DaskEngine

    return DaskEngine(objective, n, client=client)


class Sleepy:
    """An objective that sleeps ``seconds[cell code]`` (else ``default``) and reports the table's value;
    it raises for cell codes divisible by 7 (``diverge``), and once, transiently, for codes divisible
    by 5 (with a ``marker_dir`` to remember the first attempt across worker processes)."""

    def __init__(self, seconds=None, marker_dir=None, default=0.05, diverge=True):
        self.bench = NB201Benchmark("cifar10", seed=0)
        self.seconds, self.marker_dir, self.default, self.diverge = seconds or {}, marker_dir, default, diverge

    def __call__(self, cell):
        time.sleep(self.seconds.get(cell.code, self.default))
        if self.marker_dir is not None and cell.code % 5 == 0:
            marker = Path(self.marker_dir) / str(cell.code)
            if not marker.exists():  # the first attempt on this cell fails, transiently
                marker.write_text("")
                from boed_nas.engine import TransientError

                raise TransientError("worker lost its GPU")
        if self.diverge and cell.code % 7 == 0:
            raise ValueError("diverged")
        return self.bench.evaluate(cell)


def test_one_dask_worker_gives_the_in_process_trajectory(cluster):
    inproc = run_search(make_strategy("local", seed=3), NB201Benchmark("cifar10", seed=3), 10)
    bench = NB201Benchmark("cifar10", seed=3)
    dask = run_search(make_strategy("local", seed=3), bench, 10, engine=_engine(bench.evaluate, cluster, 1))
    assert dask["cell"].tolist() == inproc["cell"].tolist()
    assert dask["val_acc"].tolist() == inproc["val_acc"].tolist()
    assert dask["worker"].str.startswith("tcp://").all()


def test_errors_are_failed_rows_transient_ones_retried_and_the_run_goes_on(cluster, tmp_path):
    s = make_strategy("random", seed=5)
    traj = run_search(s, NB201Benchmark("cifar10"), 24, engine=_engine(Sleepy(marker_dir=tmp_path), cluster, 2),
                      max_retries=2)
    assert len(traj) == 24
    codes = traj["cell"].map(lambda c: Cell.from_str(c).code)
    assert traj["failed"].tolist() == (codes % 7 == 0).tolist()
    assert traj.loc[traj["failed"], "error"].str.contains("ValueError: diverged").all()
    assert (traj.loc[codes % 5 == 0, "attempt"] >= 1).all()  # retried after the transient failure
    assert traj["cell"].map(lambda c: Cell.from_str(c).canonical()).is_unique


class KillsItsWorker:
    """Evaluates from the table, except that the third evaluation started kills its own worker process
    (SIGKILL, mid-evaluation) the first time: a worker death at a fixed point, not at a moment a test
    must catch. Files in ``folder`` count the starts and remember the kill across worker processes."""

    def __init__(self, folder):
        self.bench = NB201Benchmark("cifar10", seed=0)
        self.folder = Path(folder)

    def __call__(self, cell):
        start = self.folder / f"start-{cell.code}-{os.getpid()}-{time.monotonic_ns()}"
        start.write_text("")
        if len(list(self.folder.glob("start-*"))) >= 3 and not (self.folder / "killed").exists():
            (self.folder / "killed").write_text(str(cell.code))
            os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-evaluation (its nanny restarts it)
        time.sleep(0.05)
        return self.bench.evaluate(cell)


def test_a_killed_worker_loses_no_evaluation(tmp_path):
    from distributed import Client, LocalCluster

    bench = NB201Benchmark("cifar10", seed=0)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, Client(c) as cl:
        engine = _engine(KillsItsWorker(tmp_path), cl, 2)
        s = make_strategy("random", seed=1)
        traj = run_search(s, bench, 10, engine=engine)
    killed = Cell.from_code(int((tmp_path / "killed").read_text()))
    assert len(traj) == 10 and len(s.history) == 10
    assert traj["cell"].map(lambda c: Cell.from_str(c).canonical()).is_unique
    assert not traj["failed"].any()
    assert str(killed) in set(traj["cell"])  # the evaluation that died with its worker was run again


def test_evaluations_finish_in_the_order_the_simulator_predicts(cluster):
    # durations far apart (0.15 s steps), so scheduling jitter cannot swap two results
    cells = [Cell.from_code(c) for c in (11, 222, 3333, 4444, 5555, 6666)]
    seconds = {c.code: 0.15 * k for k, c in enumerate([cells[3], cells[0], cells[5], cells[1], cells[4], cells[2]], 1)}

    def order(engine):
        queue, done = list(cells), []
        while queue or engine.running():
            while queue and engine.free_workers():
                engine.submit(queue.pop(0))
            done.append(engine.wait().job.cell.code)
        return done

    simulated = order(SimulatedEngine(lambda c: Outcome({"val_acc": 1.0}, cost=seconds[c.code]), 2))
    real = order(_engine(Sleepy(seconds, diverge=False), cluster, 2))
    assert real == simulated


def test_a_script_without_a_main_guard_gets_one_line_saying_so(tmp_path):
    # Dask's spawned workers import the user's script again; without `if __name__ == "__main__":` the
    # script would start a cluster inside each worker. The worker exits quietly, the script's process
    # raises one ConfigError naming the guard.
    import subprocess
    import sys

    script = tmp_path / "search.py"
    script.write_text(
        "from boed_nas.experiment.loop import run_objective\n"
        "from boed_nas import make_strategy\n"
        "from boed_nas.spaces import Integer, Space\n"
        "SPACE = Space([Integer('depth', 1, 6)], name='s')\n"
        "def evaluate(config):\n"
        "    return {'val_acc': float(config['depth'])}\n"
        "run_objective(make_strategy('random', space=SPACE, seed=0), evaluate, budget=2, workers=2)\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("boed_nas.errors.ConfigError") and 'if __name__ == "__main__":' in last
    assert "bootstrapping phase" not in r.stderr  # the workers did not try to start processes of their own
