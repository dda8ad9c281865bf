"""The one import direction (benchmarks/ -> strategies/ -> boed_nas/) and what a user's install holds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKED_IMPORTS = textwrap.dedent("""
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("strategies", "benchmarks", "boed_nas.strategies")

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"the library imported {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    import boed_nas
    failed = []
    for m in pkgutil.walk_packages(boed_nas.__path__, "boed_nas."):
        if m.name.startswith("boed_nas.strategies") or m.name == "boed_nas.__main__":
            continue  # the plugins themselves; the command's entry module runs the command
        try:
            importlib.import_module(m.name)
        except Exception as e:
            failed.append(f"{m.name}: {type(e).__name__}: {e}")
    leaked = sorted(n for n in sys.modules if n.split(".")[0] in ("strategies", "benchmarks")
                    or n.startswith("boed_nas.strategies"))
    print("modules", len([m for m in sys.modules if m.startswith("boed_nas")]))
    print("failed", failed)
    print("leaked", leaked)
""")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/",
                          env={**os.environ, "PYTHONWARNINGS": "ignore", **env}, timeout=600)


@pytest.mark.slow
def test_every_library_module_imports_with_strategies_and_benchmarks_unimportable():
    r = _run(BLOCKED_IMPORTS)
    assert r.returncode == 0, r.stderr
    out = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    assert int(out["modules"]) > 40
    assert out["failed"] == "[]"
    assert out["leaked"] == "[]"


def test_importing_the_package_loads_neither_torch_nor_study_code():
    r = _run("import sys, boed_nas; c = boed_nas.Cell.from_code(5); "
             "print(sorted(m for m in ('torch', 'strategies', 'benchmarks', 'boed_nas.strategies') if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_old_module_paths_import_with_a_deprecation_warning():
    import importlib

    import boed_nas._compat as compat

    for old, new in compat.MOVED.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
            mod = importlib.import_module(old)
        assert mod is importlib.import_module(new)
        sys.modules.pop(old, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from boed_nas.bo.controller import BOEDController  # the new paths do not warn
    assert BOEDController.name == "boed"


@pytest.mark.slow
def test_the_wheel_installs_boed_nas_and_nothing_else_at_the_top_level(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("boed_nas-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"boed_nas"}
    # every package folder of the tree is in it (pyproject lists them: a new folder must be added there)
    folders = [p.parent.relative_to(ROOT / "boed_nas") for p in (ROOT / "boed_nas").rglob("__init__.py")]
    for f in folders:
        assert f"boed_nas/{f.as_posix()}/__init__.py".replace("/./", "/") in names, f
    for p in (ROOT / "strategies").glob("*.py"):
        assert f"boed_nas/strategies/{p.name}" in names
    assert "boed_nas/nb201/data/nb201.csv.gz" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[boed_nas.strategies]" in text and "boed = boed_nas.bo.controller:BOEDController" in text
