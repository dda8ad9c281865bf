"""Command-line flags generated from configuration dataclasses (boed_nas.cli.config_args)."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from boed_nas.blueprint import BlueprintConfig
from boed_nas.cli import build_parser
from boed_nas.cli.config_args import add_config_arguments, config_from_args
from boed_nas.errors import ConfigError
from boed_nas.settings import setting
from boed_nas.supernet import SearchConfig


@dataclasses.dataclass
class Toy:
    epochs: int = setting(3, "how many", group="run")
    rate: float | None = setting(None, "a rate")
    mode: str = setting("a", "a or b", choices=("a", "b"))
    clever: bool = setting(False, "be clever")
    sizes: tuple[int, ...] = setting((1, 2), "sizes")
    verbose: bool = setting(True, "say less", flag="--quiet", action="store_false")
    lam: float = setting(0.0, "lambda", aliases=("--lambda",))

    def __post_init__(self):
        if isinstance(self.sizes, str):
            self.sizes = tuple(int(v) for v in self.sizes.split(","))
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")


@dataclasses.dataclass
class ToyChild(Toy):
    epochs: int = 5  # a changed default keeps its parent's help


def _parse(cls, argv):
    p = argparse.ArgumentParser()
    add_config_arguments(p, cls)
    return p, p.parse_args(argv)


def test_every_field_becomes_a_typed_flag_with_its_default_and_help():
    p, args = _parse(Toy, [])
    assert config_from_args(Toy, args) == Toy()
    _, args = _parse(Toy, ["--epochs", "7", "--rate", "0.5", "--mode", "b", "--clever", "--sizes", "3,4", "--quiet",
                           "--lambda", "2"])
    assert config_from_args(Toy, args) == Toy(7, 0.5, "b", True, (3, 4), False, 2.0)
    _, args = _parse(Toy, ["--rate", "none", "--no-clever"])
    assert config_from_args(Toy, args).rate is None and not config_from_args(Toy, args).clever
    text = p.format_help()
    assert "how many. Default: 3" in text and "--no-clever" in text and "run:" in text
    _, child = _parse(ToyChild, [])
    assert config_from_args(ToyChild, child).epochs == 5
    p2 = argparse.ArgumentParser()
    add_config_arguments(p2, ToyChild)
    assert "how many. Default: 5" in p2.format_help()


def test_bad_values_are_refused_by_argparse_or_by_the_config():
    p = argparse.ArgumentParser()
    add_config_arguments(p, Toy)
    with pytest.raises(SystemExit):
        p.parse_args(["--mode", "c"])
    with pytest.raises(SystemExit):
        p.parse_args(["--epochs", "two"])
    with pytest.raises(ConfigError, match="epochs"):
        config_from_args(Toy, p.parse_args(["--epochs", "0"]))


@pytest.mark.parametrize("command, cls", [("supernet", SearchConfig), ("blueprint", BlueprintConfig)])
def test_the_supernet_and_blueprint_commands_have_a_flag_for_every_config_field(command, cls):
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    dests = {a.dest for a in sub._actions}
    assert {f.name for f in dataclasses.fields(cls)} <= dests
    args = sub.parse_args([])
    assert config_from_args(cls, args) == cls()
