"""Every code block of README.md and docs/*.md runs (issue 35), so an example that stops working
fails CI.

Each fenced ``python`` block runs as its own script and each line of a ``bash`` block as its own
command, in document order, in one working folder per document (a later block may read what an
earlier one wrote: the README's resume reads the state its first loop saved). What a test changes
is the size, never the code:

* budgets are cut to about a twentieth (``N // 20 + 2``, at least 4, so a larger budget stays
  larger): ``budget=``, ``n_trials=``, ``range(N)`` for N >= 10, ``--budget N``; ``--seeds N`` to 1, ``--epochs N`` to 2, 4 or 16 workers to 2, and a ``search``
  or ``bench`` without ``--budget`` gets ``--budget 4``;
* ``train_and_validate`` and ``train``, the user's own training in the examples, are a
  deterministic stand-in returning a number from the arguments' hash, defined above a block that
  uses them without defining them;
* a block whose first line is ``# myproject/search.py`` is written to that file (the module the
  other examples import), which is then imported;
* the commands in ``NOT_RUN`` are not run, each for the reason given there.

``boed-nas`` commands run in this process (``boed_nas.cli.main``), ``python`` ones in a child.
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
NOT_RUN = {
    "pip install": "the suite's environment is that install",
    "python -m pytest": "the suite itself (.ci/run runs it)",
    "python -m tools.build_nb201_signals": "rebuilds the shipped signals: about 2.6 CPU-hours",
    "python examples/ax_custom_space.py": "real trainings on digits, about 4 minutes on 2 cores",
}
STUB = '''\
def train_and_validate(*args, **kwargs):  # the docs' test: a stand-in for your training
    import zlib
    return 0.5 + zlib.crc32(repr((args, sorted(kwargs.items()))).encode()) % 1000 / 2000


train = train_and_validate
'''


def blocks() -> list:
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            lang, body = m.groups()
            if lang in ("python", "bash"):
                line = text[: m.start()].count("\n") + 1
                out.append(pytest.param(doc, lang, body, id=f"{doc.relative_to(ROOT)}:{line}"))
    return out


def cut(n: int) -> int:
    return max(4, n // 20 + 2)


def smaller(m: re.Match) -> str:
    return f"{m.group(1)}{cut(int(m.group(2)))}"


def smaller_python(code: str) -> str:
    code = re.sub(r"\b(budget=|n_trials=)(\d+)", smaller, code)
    code = re.sub(r"\b(range\()(\d{2,})(?=\))", smaller, code)
    return re.sub(r"\bworkers=(4|16)\b", "workers=2", code)


def smaller_command(argv: list[str]) -> list[str]:
    out, it = [], iter(argv)
    for a in it:
        if a in ("--budget", "--seeds", "--epochs", "--workers"):
            v = next(it)
            if a == "--budget" and v.isdigit():
                v = str(cut(int(v)))
            elif a == "--seeds":
                v = "1"
            elif a == "--epochs":
                v = "2"  # a blueprint's warm-up needs more than one
            elif a == "--workers":
                v = ",".join(sorted({str(min(int(w), 2)) for w in v.split(",")}, key=int))
            out += [a, v]
        else:
            out.append(a)
    if argv[:1] in (["search"], ["bench"]) and "--budget" not in out:
        out += ["--budget", "4"]
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {}


def work(folders, tmp_path_factory, doc: Path) -> Path:
    if doc not in folders:
        folders[doc] = tmp_path_factory.mktemp(doc.stem)
        (folders[doc] / "myproject").mkdir()
        (folders[doc] / "myproject" / "__init__.py").write_text("")
        readme = DOCS[0].read_text()
        module = next(b for _, b in FENCE.findall(readme) if b.startswith("# myproject/search.py"))
        (folders[doc] / "myproject" / "search.py").write_text(STUB + smaller_python(module))
    return folders[doc]


def uses_stub(code: str) -> bool:
    return bool(re.search(r"\btrain(_and_validate)?\(", code)) and not re.search(r"def train(_and_validate)?\(", code)


@pytest.mark.parametrize(("doc", "lang", "body"), blocks())
def test_every_documented_example_runs(doc, lang, body, folders, tmp_path_factory, monkeypatch, capsys):
    from boed_nas.cli import main

    cwd = work(folders, tmp_path_factory, doc)
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))
    # Dask's worker processes import the user's module too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(cwd), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for name in [m for m in sys.modules if m == "myproject" or m.startswith("myproject.")]:
        monkeypatch.delitem(sys.modules, name)
    if lang == "python":
        if body.startswith("# myproject/search.py"):
            runpy.run_module("myproject.search")
            return
        script = cwd / "example.py"
        script.write_text((STUB + "\n\n" if uses_stub(body) else "") + smaller_python(body))
        runpy.run_path(str(script), run_name="__main__")
        return
    for line in body.splitlines():
        command = line.split("  #")[0].strip()
        for part in [p.strip() for p in command.split("&&")]:
            if not part or any(part.startswith(p) for p in NOT_RUN):
                continue
            argv = shlex.split(part)
            if argv[0] == "boed-nas":
                code = main(smaller_command(argv[1:]))
                assert code == 0, f"{line!r} exited {code}: {capsys.readouterr().err[-2000:]}"
            elif argv[0] == "python":
                done = subprocess.run([sys.executable, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, f"{line!r}: {done.stderr[-2000:]}"
            else:
                pytest.fail(f"{doc.name}: a command the docs' test does not know how to run: {part!r}")


def test_the_commands_not_run_are_in_the_docs():
    text = "\n".join(d.read_text() for d in DOCS)
    assert all(prefix in text for prefix in NOT_RUN)
