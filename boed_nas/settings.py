"""Documented settings: the fields of a configuration dataclass carry their own help.

    @dataclass
    class SearchConfig:
        epochs: int = setting(10, "search epochs", group="search")
        mode: str = setting("softmax", "softmax, gumbel or hard", group="relaxation", choices=MODES)

``setting(default, help, **cli)`` is ``dataclasses.field`` with the help text and command-line
hints in its metadata; ``boed_nas.cli.config_args`` builds one flag per field from them, so a
command never copies a config's fields by hand. A subclass that only changes a default writes the
plain default (``epochs: int = 8``): the help is looked up along the class's bases.
Command-line hints: ``group`` (the ``--help`` section), ``choices``, ``flag`` (a flag name other
than ``--field-name``), ``aliases`` (more flag names), ``action`` (an argparse action, e.g.
``store_false`` for ``verbose`` as ``--quiet``), ``cli=False`` (no flag).
"""

from __future__ import annotations

import dataclasses
from typing import Any

_MISSING = dataclasses.MISSING


def setting(default: Any = _MISSING, help: str = "", *, default_factory: Any = _MISSING, **cli: Any) -> Any:
    """A dataclass field with its help text and command-line hints (see the module docstring)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"help": help, **cli})


def setting_info(cls: type, name: str) -> dict[str, Any]:
    """The metadata of field ``name``, from the first class along ``cls``'s bases that documents it."""
    for klass in cls.__mro__:
        f = getattr(klass, "__dataclass_fields__", {}).get(name)
        if f is not None and f.metadata:
            return dict(f.metadata)
    return {}


__all__ = ["setting", "setting_info"]
