"""The one strategy registry: entry points (ours and a third party's), classes defined in-process, specs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from boed_nas import Strategy
from boed_nas.errors import ConfigError, StateError, UnknownStrategyError
from boed_nas.nb201.benchmark import NB201Benchmark
from boed_nas.registry import (
    available,
    make_strategy,
    parse_spec,
    split_specs,
    strategy_class,
)

OURS = ["ax", "bananas", "boed", "boed-mo", "boed-supernet", "darts", "evolution", "local", "mo-random", "nsga2",
        "parego", "qnehvi", "random", "sobol"]


def _plugin(root: Path) -> Path:
    """A tiny out-of-tree package that registers strategy 'my-search' through its entry points."""
    pkg = root / "my_nas_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        from boed_nas import Strategy

        class MySearch(Strategy):
            '''Always the lowest unevaluated cell code.'''
            name = "my-search"

            def __init__(self, *, offset=0, **kw):
                super().__init__(**kw)
                self.offset = offset

            def get_params(self):
                return {**super().get_params(), "offset": self.offset}

            def _propose_one(self, k):
                from boed_nas import Cell
                code = self.offset
                while not self.is_new(Cell.from_code(code)):
                    code += 1
                return Cell.from_code(code)
    """))
    info = root / "my_nas_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-nas-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[boed_nas.strategies]\nmy-search = my_nas_plugin:MySearch\n")
    return root


def test_the_registry_lists_every_strategy_of_ours_without_importing_them():
    assert set(OURS) <= set(available())
    r = subprocess.run([sys.executable, "-c", "import sys, boed_nas; boed_nas.available(); "
                        "print(any(m.startswith('boed_nas.strategies.') for m in sys.modules))"],
                       capture_output=True, text=True, cwd="/")
    assert r.stdout.strip() == "False", r.stderr


def test_a_third_party_package_registers_a_strategy_through_entry_points(tmp_path, monkeypatch, c10):
    root = _plugin(tmp_path)
    monkeypatch.syspath_prepend(str(root))
    assert "my-search" in available()
    s = make_strategy("my-search[offset=7]", seed=1, state_path=tmp_path / "state.json")
    assert type(s).__module__ == "my_nas_plugin"
    for _ in range(3):
        (cell,) = s.ask()
        s.tell(cell, c10.evaluate(cell))
    again = Strategy.load(tmp_path / "state.json")  # found by the name in the state file
    assert type(again).__name__ == "MySearch" and again.offset == 7
    assert [str(o.cell) for o in again.history] == [str(o.cell) for o in s.history]


@pytest.mark.slow
def test_the_command_lists_a_plugin_strategy(tmp_path):
    root = _plugin(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "boed_nas", "--help"], capture_output=True, text=True, env=env, cwd="/")
    assert r.returncode == 0, r.stderr
    listed = " ".join(r.stdout.split()).split("entry-point group 'boed_nas.strategies'): ")[1]
    assert {s.strip(" .,") for s in listed.split(",")} >= set(OURS) | {"my-search"}


def test_a_strategy_class_defined_in_a_script_is_found_by_name():
    class Mine(Strategy):
        name = "test-registry-mine"

        def _propose_one(self, k):
            return self.random_new_cell()

    assert strategy_class("test-registry-mine") is Mine
    assert isinstance(make_strategy("test-registry-mine", seed=3), Mine)

    class Unnamed(Mine):  # inherits the name: must not take it over
        pass

    assert strategy_class("test-registry-mine") is Mine


def test_unknown_names_and_bad_specs_are_typed_errors_naming_them(tmp_path):
    with pytest.raises(UnknownStrategyError, match="'nope'.*random"):
        make_strategy("nope")
    with pytest.raises(ConfigError, match="n_init"):
        make_strategy("boed[n_init=0]")
    with pytest.raises(ConfigError, match="does not take"):
        make_strategy("random[bogus=1]")
    with pytest.raises(ConfigError, match="reserved"):
        parse_spec("boed[seed=3]")
    assert parse_spec("boed[n_init=5,kernel=wl]") == ("boed", {"n_init": 5, "kernel": "wl"})
    assert split_specs("boed[a=1,b=2], random") == ["boed[a=1,b=2]", "random"]
    bad = tmp_path / "state.json"
    bad.write_text('{"format": "boed-nas strategy state", "version": 1, "strategy": "nope"}')
    with pytest.raises(StateError, match="nope"):
        Strategy.load(bad)


def test_loading_a_saved_boed_state_needs_no_prior_import(tmp_path):
    # in a fresh interpreter, nothing has imported boed_nas.bo.controller: the entry point finds it
    c10 = NB201Benchmark("cifar10", seed=0)
    s = make_strategy("random", seed=0)
    path = tmp_path / "state.json"
    s2 = make_strategy("boed", seed=0, state_path=path)
    for cell in s.ask(3):
        s2.tell(cell, c10.evaluate(cell))
    r = subprocess.run([sys.executable, "-c", f"from boed_nas import Strategy; s = Strategy.load({str(path)!r}); "
                        "print(type(s).__name__, len(s.history))"], capture_output=True, text=True, cwd="/")
    assert r.stdout.split() == ["BOEDController", "3"], r.stderr
