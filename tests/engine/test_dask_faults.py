"""What users' objectives and clusters do to a Dask run (issue 33, point 3), on real LocalClusters
of 2 worker processes: a hung evaluation stopped at its timeout (its worker restarted), a
configuration that kills its worker told as failed rather than run again forever, and a cluster
with no worker left stopping the run with one ``ClusterError`` after ``worker_wait``."""

from __future__ import annotations

import time

import pytest

from boed_nas.errors import ClusterError
from boed_nas.experiment.loop import run_objective
from boed_nas.experiment.runfolder import RunFolder
from boed_nas.registry import make_strategy
from tests.faulty_objectives import exits_at_depth_3, hangs_at_depth_2
from tests.spaces.user_objective import SPACE, score

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


def _cluster():
    from distributed import Client, LocalCluster

    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    return c, Client(c)


def test_a_hung_evaluation_on_a_worker_is_stopped_at_its_timeout_and_its_worker_restarted(tmp_path):
    from boed_nas.engine.dask import DaskEngine

    c, client = _cluster()
    with c, client:
        engine = DaskEngine(hangs_at_depth_2, 2, client=client, timeout=4)
        t0 = time.time()
        traj = run_objective(make_strategy("random", seed=0, space=SPACE), hangs_at_depth_2, 14, engine=engine,
                             out=tmp_path / "run")
        hung = traj[traj["config"].str.contains('"depth": 2')]
        assert len(traj) == 14 and len(hung) >= 1 and hung["failed"].all()
        assert hung["error"].str.startswith("TimeoutError: no result within 4 s").all()
        assert time.time() - t0 < 90
        engine.close()
        client.wait_for_workers(2, timeout=60)  # the restarted worker is back (restarts run beside the search)
        assert len(client.nthreads()) == 2


def test_a_configuration_that_kills_its_worker_is_told_failed_not_run_forever(tmp_path):
    from boed_nas.engine.dask import DaskEngine

    # the engine's own LocalCluster (the default path): seed 3 puts a depth-3 configuration beside
    # others, where a task queued behind it on its worker used to be counted a suspect and failed
    engine = DaskEngine(exits_at_depth_3, 2)
    try:
        assert engine.client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0
        traj = run_objective(make_strategy("random", seed=3, space=SPACE), exits_at_depth_3, 10, engine=engine,
                             out=tmp_path / "run")
    finally:
        engine.close()
    deadly = traj[traj["config"].str.contains('"depth": 3')]
    assert len(traj) == 10 and len(deadly) >= 1 and deadly["failed"].all()
    assert deadly["error"].str.contains("KilledWorker|WorkerDied", regex=True).all()
    assert not traj.loc[~traj.index.isin(deadly.index), "failed"].any()
    # told as failed once, in the log as a final result: a resume does not run it again
    finals = [e for e in RunFolder(tmp_path / "run").evaluations() if e["final"] and '"depth": 3' in e["cell"]]
    assert len(finals) == len(deadly)


def test_a_cluster_that_queues_tasks_on_busy_workers_is_named_in_the_log(caplog):
    from boed_nas.engine.dask import DaskEngine

    c, client = _cluster()  # Dask's default worker-saturation, 1.1
    with c, client, caplog.at_level("WARNING", logger="boed_nas.engine.dask"):
        DaskEngine(exits_at_depth_3, 2, client=client)
    assert "worker-saturation = 1.1" in caplog.text and "WORKER_SATURATION=1.0" in caplog.text


def test_an_objective_the_workers_cannot_import_fails_before_the_first_evaluation_in_one_line(tmp_path):
    import pickle
    import sys
    import types

    from boed_nas.engine.dask import DaskEngine
    from boed_nas.errors import ConfigError

    mod = types.ModuleType("only_on_the_driver")  # importable here, not on the workers
    exec("def objective(c):\n    return {'val_acc': 1.0}\n", mod.__dict__)
    mod.objective.__module__ = "only_on_the_driver"
    sys.modules["only_on_the_driver"] = mod
    try:
        assert pickle.loads(pickle.dumps(mod.objective)) is mod.objective
        c, client = _cluster()
        with c, client, pytest.raises(ConfigError, match="cannot be loaded on the Dask workers.*only_on_the_driver"):
            DaskEngine(mod.objective, 2, client=client)
    finally:
        del sys.modules["only_on_the_driver"]


def test_a_cluster_without_workers_stops_the_run_with_a_cluster_error_and_a_folder_that_resumes(tmp_path):
    from boed_nas.engine.dask import DaskEngine

    c, client = _cluster()
    with c, client:
        engine = DaskEngine(hangs_at_depth_2, 2, client=client, worker_wait=3)
        stopped = []

        def stop_workers(row):
            if row["query"] == 3 and not stopped:
                stopped.append(True)
                for w in list(c.workers.values()):
                    c.sync(w.close)  # the cluster loses every worker (its nannies too)

        s = make_strategy("random", seed=5, space=SPACE)
        with pytest.raises(ClusterError, match="no worker for 3 s"):
            run_objective(s, lambda cfg: {"val_acc": score(cfg)}, 10, engine=engine, out=tmp_path / "run",
                          callback=stop_workers)
    resumed = RunFolder(tmp_path / "run").load_strategy(space=SPACE)
    assert len(resumed.history) >= 3
    traj = run_objective(resumed, lambda cfg: {"val_acc": score(cfg)}, 10, out=tmp_path / "run")
    assert len(traj) == 10
