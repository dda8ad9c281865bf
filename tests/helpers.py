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
