"""Shared test helpers."""

from pathlib import Path


def drive(strategy, bench, steps, *, batch=1):
    """ask/tell ``steps`` cells on ``bench``; return them as arch strings, in order."""
    out = []
    while len(out) < steps:
        for cell in strategy.ask(batch):
            strategy.tell(cell, bench.evaluate(cell))
            out.append(str(cell))
    return out


def _piece(tmp_path, name, seeds, budget=12):
    """A bench folder of random and local search on CIFAR-100 for ``seeds``, as a seed-range piece of a
    larger bench (gzipped when ``name`` ends in 'gz')."""
    from boed_nas.experiment.bench import run_bench

    traj = run_bench(["random", "local"], "cifar100", seeds, budget, progress=False)
    folder = tmp_path / name
    folder.mkdir()
    traj.to_csv(folder / ("trajectories.csv.gz" if name.endswith("gz") else "trajectories.csv"), index=False)
    return folder


def _gzip_mtime(path):
    """The write time gzip stamps into bytes 4-8 of its header; a report fixes it at 0, so the
    merged file of a rebuilt report is byte-identical and shows no change in git."""
    return int.from_bytes(Path(path).read_bytes()[4:8], "little")


def killed_and_resumed(tmp_path, args, at):
    """Run ``boed-nas <args>`` whole in ``tmp_path/whole``; run it again in ``tmp_path/killed``, kill
    it with SIGKILL once its evaluation log has ``at`` lines, and resume it there. Returns (the
    whole run's folder, the killed-and-resumed run's folder, the log's line count at the kill)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "boed_nas"] + list(args)
    subprocess.run(cmd + ["--out", str(tmp_path / "whole")], check=True, capture_output=True, timeout=600)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--out", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = killed / "evaluations.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= at:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(log.read_text().splitlines())
    r = subprocess.run(cmd + ["--out", str(killed), "--resume"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return tmp_path / "whole", killed, before
