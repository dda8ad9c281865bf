"""The one registry of search strategies: entry points, plus classes defined in this process.

A strategy is found by its name in two places, one registry:

- the entry-point group ``boed_nas.strategies`` of every installed distribution, the standard Python
  plugin mechanism: boed-nas registers its own strategies there (``pyproject.toml``), and a
  third-party package registers its own in its ``pyproject.toml``::

      [project.entry-points."boed_nas.strategies"]
      my-search = "my_package.search:MySearch"      # a boed_nas.Strategy subclass with name = "my-search"

  Names are read from the installed metadata without importing anything; the class is imported
  when the strategy is first built;
- every ``Strategy`` subclass defined in the running process (a class in a user's script), by its
  ``name``, so that ``Strategy.load`` and ``make_strategy`` find it without packaging.

``make_strategy("boed[n_init=5]", seed=3)`` builds one from a spec: a name with settings, the
constructor's keyword arguments (``boed-nas bench --strategies "boed,boed[kernel=wl]"`` labels its
rows with the spec).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, UnknownStrategyError

if TYPE_CHECKING:
    from .strategy import Strategy

ENTRY_POINT_GROUP = "boed_nas.strategies"

_DEFINED: dict[str, type[Strategy]] = {}
"""Strategy subclasses defined in this process, by name (filled by ``Strategy.__init_subclass__``)."""


def register(cls: type[Strategy]) -> type[Strategy]:
    """Make ``cls`` findable by its ``name`` (done for every ``Strategy`` subclass as it is defined).

    A name an installed entry point gives to another class is refused: a class in a script must not
    silently take over ``make_strategy("random")`` (and a plugin module imported under a second
    name would register its classes twice)."""
    ep = _entry_points().get(cls.name)
    if ep is not None and ep.value != f"{cls.__module__}:{cls.__qualname__}":
        raise ConfigError(f"strategy name {cls.name!r} is taken by the installed {ep.value}; give "
                          f"{cls.__module__}.{cls.__qualname__} another name")
    _DEFINED[cls.name] = cls
    return cls


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    # a distribution installed twice (e.g. an editable install and a build on the path) lists the
    # same entry point twice; the first found wins, as for imports
    out: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        out.setdefault(ep.name, ep)
    return out


def available(any_space: bool = False, fidelities: bool = False) -> list[str]:
    """Every strategy name: installed (entry points) and defined in this process; nothing is
    imported. With ``any_space``, only those that search any space (no ``Strategy.requires``: they
    use the ``SearchSpace`` protocol alone); with ``fidelities``, only those that search over
    fidelities (``Strategy.fidelities``); either imports the classes."""
    names = sorted(set(_entry_points()) | set(_DEFINED))
    if not any_space and not fidelities:
        return names
    out = []
    for n in names:
        try:
            cls = strategy_class(n)
            if (not any_space or not getattr(cls, "requires", ())) and (not fidelities or getattr(cls, "fidelities", False)):
                out.append(n)
        except UnknownStrategyError:  # an installed plugin that does not import here
            pass
    return out


def strategy_class(name: str) -> type[Strategy]:
    """The class of a strategy name (or of a spec's name, ``"boed[n_init=5]"``)."""
    if "[" in name:
        name = parse_spec(name)[0]
    if name in _DEFINED:
        return _DEFINED[name]
    eps = _entry_points()
    if name not in eps:
        raise UnknownStrategyError(f"unknown strategy {name!r}; expected one of {available()}")
    try:
        cls = eps[name].load()
    except ModuleNotFoundError as e:
        raise UnknownStrategyError(f"strategy {name!r} is not available: {e}") from e
    from .strategy import Strategy

    if not (isinstance(cls, type) and issubclass(cls, Strategy)) or cls.name != name:
        raise UnknownStrategyError(
            f"entry point {name!r} = {eps[name].value!r} is not a boed_nas Strategy subclass named {name!r}")
    return cls


def multiobjective_strategies() -> list[str]:
    """The strategies that search a Pareto front of accuracy and known costs (``multiobjective = True``)."""
    return [n for n in available() if getattr(strategy_class(n), "multiobjective", False)]


_SPEC = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*(?:\[(.*)\])?\s*$", re.S)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A strategy with settings: ``"boed[n_init=5,kernel=wl]"`` -> ``("boed", {"n_init": 5, "kernel": "wl"})``.

    Values are Python literals (``5``, ``0.1``, ``None``, ``True``, ``'x'``, ``(32, 32)``,
    ``'accuracy,latency'``); anything else is taken as a string. A bare name has no settings.
    """
    m = _SPEC.match(spec) if isinstance(spec, str) else None
    if m is None:
        raise ConfigError(f"strategy spec {spec!r} is not NAME or NAME[key=value,...]")
    name, body = m.group(1), m.group(2)
    kwargs: dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in _split_top_level(body or ""))):
        key, eq, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not eq or not key.isidentifier() or not raw:
            raise ConfigError(f"setting {item!r} in strategy spec {spec!r} is not key=value")
        if key in kwargs or key == "seed":
            raise ConfigError(f"setting {key!r} in strategy spec {spec!r} is repeated or reserved (seed)")
        try:
            kwargs[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            kwargs[key] = raw
    return name, kwargs


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, parentheses and quotes."""
    out, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += ch
    out.append(cur)
    return out


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of strategy specs, keeping the commas of their settings
    (``"boed[n_init=5,kernel='wl'],random"`` is two specs)."""
    return [s.strip() for s in _split_top_level(text) if s.strip()]


def make_strategy(name: str, *, seed: int = 0, **kwargs: Any) -> Strategy:
    """Build a strategy by name or spec, e.g. ``make_strategy("evolution", seed=3)``,
    ``make_strategy("boed[n_init=5]", seed=3)``; a setting given both ways is an error."""
    base, settings = parse_spec(name)
    clash = sorted(set(settings) & set(kwargs))
    if clash:
        raise ConfigError(f"settings {clash} are given both in the spec {name!r} and as arguments")
    cls = strategy_class(base)
    check_settings(cls, [*settings, *kwargs])
    try:
        return cls(seed=seed, **settings, **kwargs)
    except TypeError as e:  # a setting of the right name and a wrong kind, met inside the constructor
        raise ConfigError(f"strategy {base!r} could not be built with the settings {sorted({**settings, **kwargs})}: "
                          f"{e}") from e


def accepted_settings(cls: type) -> set[str] | None:
    """The settings (keyword arguments) a strategy class takes, from its constructors' signatures
    along the MRO (a constructor with ``**kw`` passes on to the next, and a ``config_class``'s
    fields are settings too); None where a ``**kw`` goes nowhere that can be read."""
    import inspect

    names: set[str] = set(getattr(getattr(cls, "config_class", None), "names", lambda: ())())
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return None


def check_settings(strategy: str | type, keys: Any) -> None:
    """ConfigError naming each of ``keys`` that the strategy (a name, spec or class) does not take,
    and what it does take: before anything is built or evaluated."""
    cls = strategy if isinstance(strategy, type) else strategy_class(strategy)
    accepted = accepted_settings(cls)
    if accepted is None:
        return
    unknown = sorted(set(keys) - accepted)
    if unknown:
        word = "setting" if len(unknown) == 1 else "settings"
        raise ConfigError(f"strategy {cls.name!r} does not take the {word} {unknown}; it takes {sorted(accepted - {'seed'})}")


__all__ = ["ENTRY_POINT_GROUP", "accepted_settings", "available", "check_settings", "make_strategy", "multiobjective_strategies", "parse_spec", "register", "split_specs",
           "strategy_class"]
