"""Search strategies, all on the one ask/tell interface of ``boed_nas.strategy.Strategy``."""

from __future__ import annotations

import ast
import re
from typing import Any

from boed_nas.strategy import Strategy, registered_strategies

from .baselines import LocalSearch, RandomSearch, RegularizedEvolution

# name -> "module:Class"; imported on first use so that light strategies stay light
_LAZY = {
    "boed": "boed_nas.controller:BOEDController",
    "bananas": "strategies.bananas:Bananas",
    "boed-supernet": "strategies.supernet:SupernetBOED",
    "darts": "strategies.supernet:DARTS",
    "ax": "strategies.ax:AxDefault",
    "sobol": "strategies.ax:AxSobol",
    "boed-mo": "boed_nas.multiobjective:MultiObjectiveBOED",
    "mo-random": "strategies.multiobjective:MORandomSearch",
    "nsga2": "strategies.multiobjective:NSGA2Search",
    "qnehvi": "strategies.multiobjective:QNEHVI",
    "parego": "strategies.multiobjective:ParEGO",
}


def available() -> list[str]:
    return sorted(set(registered_strategies()) | set(_LAZY))


_SPEC = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*(?:\[(.*)\])?\s*$", re.S)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A strategy with settings: ``"boed[n_init=5,kernel=wl]"`` -> ``("boed", {"n_init": 5, "kernel": "wl"})``.

    Values are Python literals (``5``, ``0.1``, ``None``, ``True``, ``'x'``); anything else is
    taken as a string. A bare name has no settings. Used for ablations on the command line
    (``boed-nas bench --strategies "boed,boed[n_init=5]"``), where the spec is the run's label.
    """
    m = _SPEC.match(spec) if isinstance(spec, str) else None
    if m is None:
        raise ValueError(f"strategy spec {spec!r} is not NAME or NAME[key=value,...]")
    name, body = m.group(1), m.group(2)
    kwargs: dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in (body or "").split(","))):
        key, eq, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not eq or not key.isidentifier() or not raw:
            raise ValueError(f"setting {item!r} in strategy spec {spec!r} is not key=value")
        if key in kwargs or key == "seed":
            raise ValueError(f"setting {key!r} in strategy spec {spec!r} is repeated or reserved (seed)")
        try:
            kwargs[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            kwargs[key] = raw
    return name, kwargs


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of strategy specs, keeping commas inside ``[...]``."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [s.strip() for s in out if s.strip()]


def strategy_class(name: str) -> type[Strategy]:
    """The class of a strategy name (or of a spec's name, ``"boed[n_init=5]"``)."""
    if "[" in name:
        name = parse_spec(name)[0]
    reg = registered_strategies()
    if name not in reg and name in _LAZY:
        import importlib

        mod, _, cls = _LAZY[name].partition(":")
        try:
            getattr(importlib.import_module(mod), cls)
        except ModuleNotFoundError as e:
            raise ValueError(f"strategy {name!r} is not available: {e}") from e
        reg = registered_strategies()
    if name not in reg:
        raise ValueError(f"unknown strategy {name!r}; expected one of {available()}")
    return reg[name]


def make_strategy(name: str, *, seed: int = 0, **kwargs: Any) -> Strategy:
    """Build a strategy by name or spec, e.g. ``make_strategy("evolution", seed=3)``,
    ``make_strategy("boed[n_init=5]", seed=3)``; a setting given both ways is an error."""
    base, settings = parse_spec(name)
    clash = sorted(set(settings) & set(kwargs))
    if clash:
        raise ValueError(f"settings {clash} are given both in the spec {name!r} and as arguments")
    cls = strategy_class(base)
    try:
        return cls(seed=seed, **settings, **kwargs)
    except TypeError as e:
        raise ValueError(f"strategy {base!r} does not take these settings {sorted({**settings, **kwargs})}: {e}") from e


__all__ = ["LocalSearch", "RandomSearch", "RegularizedEvolution", "Strategy", "available", "make_strategy",
           "parse_spec", "split_specs", "strategy_class"]
