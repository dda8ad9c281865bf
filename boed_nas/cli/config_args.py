"""Command-line flags generated from a configuration dataclass, one per field.

``add_config_arguments(parser, SearchConfig)`` adds ``--epochs``, ``--w-lr``... with the field's
type, default, help and choices (``boed_nas.settings``); ``config_from_args(SearchConfig, args)``
builds the config back. Booleans get ``--flag/--no-flag``; ``X | None`` fields take ``none``;
tuple fields take a comma-separated list (the config parses it). The config validates every
value, so a bad flag value is refused with the config's own message.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from ..settings import setting_info


def _unwrap(kind: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) of an annotation such as ``int | None``."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else str), True
    return kind, False


def _optional(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.strip().lower() == "none" else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names the type in its error message
    return parse


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One flag per field of the dataclass ``cls`` (but ``skip``), in argument groups by setting."""
    hints = typing.get_type_hints(cls)
    defaults = cls()
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in dataclasses.fields(cls):
        info = setting_info(cls, f.name)
        if f.name in skip or info.get("cli", True) is False:
            continue
        group_name = info.get("group", "settings")
        if group_name not in groups:
            groups[group_name] = parser.add_argument_group(group_name)
        default = getattr(defaults, f.name)
        flags = [info.get("flag", "--" + f.name.replace("_", "-")), *info.get("aliases", ())]
        kw: dict[str, Any] = {"dest": f.name, "default": default}
        kind, optional = _unwrap(hints[f.name])
        action = info.get("action")
        if action is not None:
            kw["action"] = action
        elif kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            convert = str if typing.get_origin(kind) is tuple else kind
            kw["type"] = _optional(convert) if optional else convert
            kw["metavar"] = f.name.upper() if "choices" not in info else None
            if "choices" in info:
                kw["choices"] = tuple(info["choices"])
        help_text = info.get("help", "")
        if action is None and kind is not bool:
            help_text += f". Default: {_shown(default)}"
        kw["help"] = help_text.replace("%", "%%")
        groups[group_name].add_argument(*flags, **kw)


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """The config ``cls`` from the parsed flags that ``add_config_arguments`` added (and ``overrides``)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **overrides})


__all__ = ["add_config_arguments", "config_from_args"]
