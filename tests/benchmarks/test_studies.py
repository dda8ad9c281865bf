"""The declared studies (benchmarks/studies.py, issue 35): each one's outputs are in the repository,
every committed result belongs to a study, INDEX.md lists them, and the results keep to a size budget."""

import re
import subprocess

import pytest

from benchmarks.__main__ import main
from benchmarks.studies import ROOT, STUDIES, anchor, index

RESULTS_BUDGET_MB = 36
"""The committed results, summaries, tables, plots and gzipped trajectories (31 MB on 2026-12-07)."""
LARGEST_TEXT_KB = 1024
"""A text file (csv, jsonl, md, txt) above this is committed gzipped."""


def tracked_results() -> list[str]:
    done = subprocess.run(["git", "ls-files", "benchmarks/results"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode or not done.stdout.strip():
        pytest.skip("not a git checkout")
    return done.stdout.split()


def test_every_study_names_its_section_and_its_outputs_exist():
    headings = {anchor(h) for h in re.findall(r"^## (.*)$", (ROOT / "benchmarks/README.md").read_text(), re.M)}
    assert len({s.name for s in STUDIES}) == len(STUDIES)
    for s in STUDIES:
        assert anchor(s.section) in headings or any(h.startswith(anchor(s.section)) for h in headings), s.name
        assert s.commands and all(c.strip() for c in s.commands), s.name
        missing = [o for o in s.outputs if not (ROOT / o).exists()]
        assert not missing, f"study {s.name}: {missing} not in the repository"


def test_every_committed_result_belongs_to_a_study():
    outputs = [o.rstrip("/") for s in STUDIES for o in s.outputs]
    orphans = [f for f in tracked_results() if not any(f == o or f.startswith(o + "/") for o in outputs)]
    assert not orphans, f"committed results no study in benchmarks/studies.py made: {orphans[:10]}"


def test_the_results_keep_to_their_size_budget():
    files = [ROOT / f for f in tracked_results()]
    total = sum(f.stat().st_size for f in files if f.exists())
    assert total <= RESULTS_BUDGET_MB * 2**20, f"benchmarks/results holds {total / 2**20:.1f} MB, over {RESULTS_BUDGET_MB}"
    big = [str(f.relative_to(ROOT)) for f in files if f.exists() and f.suffix in (".csv", ".jsonl", ".md", ".txt")
           and f.stat().st_size > LARGEST_TEXT_KB * 1024]
    assert not big, f"text results over {LARGEST_TEXT_KB} KB, to be gzipped: {big}"


def test_the_index_lists_every_study_as_written_from_the_declarations():
    def undated(text: str) -> str:
        return re.sub(r"\| (\d{4}-\d{2}-\d{2}|not committed) \|", "| DATE |", text)

    assert undated((ROOT / "benchmarks/INDEX.md").read_text()) == undated(index()), "python -m benchmarks index"


def test_the_runner_lists_shows_and_dry_runs_a_study(capsys):
    assert main(["list"]) == 0
    assert main(["run", "stall-12epoch", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "stall-12epoch" in out and "python -m benchmarks.stall_12epoch --specs" in out
    with pytest.raises(SystemExit, match="no study 'nope'; expected one of"):
        main(["show", "nope"])
