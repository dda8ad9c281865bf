"""Fidelities: cheaper evaluations of the same network (shorter trainings, a supernet's estimate).

A ``Fidelity`` is named, ordered levels, the target level (the one the search is about, usually the
last) and a relative cost per level (the target's is 1):

    from boed_nas.spaces import Fidelity
    Fidelity("epochs", [12, 200])                   # target 200; a 12-epoch training costs 12/200
    Fidelity("epochs", [1, 2, 4, 8], costs=[1, 2, 4, 8])   # costs are relative: divided by the target's
    Fidelity("estimate", ["supernet", "trained"], costs=[0.01, 1])
    Fidelity("epochs", [1, 2, 4, 8], costs="learned")     # learned from the measured evaluation times

Learned costs (``costs="learned"``, or ``learn_costs=True`` beside given costs, which are then the
prior) are each level's median measured cost over the search's own evaluations: an outcome's
``cost`` where the objective reports one, else the seconds its evaluation took (the search loop
fills it in). A level not measured yet takes its prior rescaled by what the measured levels say
(``Fidelity.learned_costs``). They are a function of what was told, so a resumed search has them.

A strategy that uses fidelities (``boed``, ``asha``, ``hyperband``) is given one (``fidelity=``, or
the space's own ``fidelity``) and searches ``FidelitySpace(space, fidelity)``: its points are
``AtFidelity(config, level)``, written ``"<config>@<name>=<level>"``, one key per (network, level),
so a network may be evaluated once at each level. The objective is called as
``objective(config, level)``. A bare configuration given where a point is expected means the
configuration at the target level.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import ConfigError, SpaceError


class Fidelity:
    """Named, ordered levels of one kind of evaluation, a target level and relative costs.

    ``levels``: distinct values, cheapest first (numbers or names; numbers without ``costs`` must
    increase). ``target``: the level the search is about (default the last). ``costs``: one
    positive number per level, relative (divided by the target's), never decreasing from one level
    to the next (cheapest first: no level before the target costs more than it); default: each
    level's value over the target's where the levels are positive numbers (epochs: a 12-epoch
    training costs 12/200 of a 200-epoch one), else required. ``ConfigError`` otherwise.
    ``costs="learned"``: learned from the measured costs of the search's evaluations, starting from
    the default (levels that are not positive numbers: every level alike); ``learn_costs=True``:
    learned, starting from the ``costs`` given (see the module docstring).
    """

    def __init__(self, name: str, levels: Sequence[Any], target: Any = None,
                 costs: Sequence[float] | str | None = None, learn_costs: bool = False):
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"a fidelity's name must be an identifier such as 'epochs', got {name!r}")
        levels = list(levels) if isinstance(levels, Sequence) and not isinstance(levels, str) else None
        if not levels or len(levels) < 2:
            raise ConfigError(f"fidelity {name!r} needs at least two levels (cheapest first), got {levels!r}")
        if len({str(v) for v in levels}) != len(levels) or any("@" in str(v) or "," in str(v) for v in levels):
            raise ConfigError(f"fidelity {name!r}: levels must be distinct and their names free of '@' and ',', "
                              f"got {levels!r}")
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in levels)
        if numeric and any(not math.isfinite(float(v)) for v in levels):
            raise ConfigError(f"fidelity {name!r}: levels must be finite, got {levels!r}")
        if numeric and not _given_costs(costs) and any(float(a) >= float(b) for a, b in zip(levels, levels[1:])):
            # without costs of their own, numeric levels are their costs (epochs): cheapest first
            raise ConfigError(f"fidelity {name!r}: levels {levels} must increase, cheapest first (e.g. "
                              f"{sorted(levels, key=float)}, the target last), or give costs=[...] in their order")
        target = levels[-1] if target is None else target
        if target not in levels:
            raise ConfigError(f"fidelity {name!r}: target {target!r} is not one of the levels {levels}")
        if not isinstance(learn_costs, bool):
            raise ConfigError(f"fidelity {name!r}: learn_costs must be True or False, got {learn_costs!r}")
        if isinstance(costs, str):
            if costs.strip() != "learned":
                raise ConfigError(f"fidelity {name!r}: costs must be one positive number per level or 'learned', "
                                  f"got {costs!r}")
            learn_costs = True
            positive = numeric and all(float(v) > 0 for v in levels)
            costs = [float(v) for v in levels] if positive else [1.0] * len(levels)
        if costs is None:
            if not numeric or any(float(v) <= 0 for v in levels):
                raise ConfigError(f"fidelity {name!r}: levels {levels} are not positive numbers, so give costs=[...] "
                                  "(one relative cost per level)")
            costs = [float(v) for v in levels]
        costs = list(costs) if isinstance(costs, Sequence) and not isinstance(costs, str) else None
        if (costs is None or len(costs) != len(levels)
                or any(isinstance(c, bool) or not isinstance(c, numbers.Real) or not math.isfinite(c) or c <= 0
                       for c in costs)):
            raise ConfigError(f"fidelity {name!r}: costs must be one positive finite number per level "
                              f"({len(levels)}), got {costs!r}")
        for (a, ca), (b, cb) in zip(zip(levels, costs), zip(levels[1:], costs[1:])):
            if ca > cb:  # the order is the promotion order (ASHA's rungs, boed's never-below rule)
                raise ConfigError(f"fidelity {name!r}: levels go cheapest first, but level {a!r} costs {ca:g}, more "
                                  f"than the next level {b!r} ({cb:g}); got levels {levels}, costs {costs}")
        self.name, self.levels, self.target = name, levels, target
        self.target_index = levels.index(target)
        self.costs = [float(c) / float(costs[self.target_index]) for c in costs]
        self.learn_costs = learn_costs
        """Whether the costs are learned from measured evaluations (``costs`` is then the prior)."""

    def learned_costs(self, measured: Iterable[tuple[Any, float]]) -> list[float]:
        """Relative costs per level (the target's is 1) from measured ``(level, cost)`` pairs, in any
        unit (seconds): each measured level's median cost; a level not measured yet its prior cost
        (``costs``) times the median, over the measured levels, of measured over prior (on a log
        scale), so that one measured level rescales the rest. Costs that are not positive and
        finite are skipped; with none measured, the prior. Written by hand: a median per group and
        one scale, nothing a library adds to."""
        by_level: dict[int, list[float]] = {}
        for level, cost in measured:
            c = float(cost)
            if math.isfinite(c) and c > 0:
                by_level.setdefault(self.index(level), []).append(c)
        if not by_level:
            return list(self.costs)
        median = {i: float(np.median(v)) for i, v in by_level.items()}
        scale = math.exp(float(np.median([math.log(m / self.costs[i]) for i, m in median.items()])))
        est = [median.get(i, self.costs[i] * scale) for i in range(len(self.levels))]
        return [e / est[self.target_index] for e in est]

    def index(self, level: Any) -> int:
        """The position of ``level`` among the levels (a level's name as text is read too)."""
        for i, v in enumerate(self.levels):
            if level == v or (isinstance(level, str) and level.strip() == str(v)):
                return i
        raise SpaceError(f"{level!r} is not a level of fidelity {self.name!r}; expected one of {self.levels}")

    def level(self, value: Any) -> Any:
        """``value`` as one of the levels (``"12"`` -> 12)."""
        return self.levels[self.index(value)]

    def cost(self, level: Any) -> float:
        """The relative cost of an evaluation at ``level`` (the target's is 1)."""
        return self.costs[self.index(level)]

    @property
    def spec(self) -> str:
        """``"epochs=12,200"`` (and ``";target=..."``/``";costs=..."`` where not the defaults): what
        ``parse`` reads, the form saved with a strategy's parameters."""
        out = f"{self.name}=" + ",".join(str(v) for v in self.levels)
        if self.target_index != len(self.levels) - 1:
            out += f";target={self.target}"
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in self.levels)
        positive = numeric and all(float(v) > 0 for v in self.levels)
        ratios = [float(v) / float(self.target) for v in self.levels] if positive else [1.0] * len(self.levels)
        default = np.allclose(self.costs, ratios)  # what costs=None (or "learned") gives
        if self.learn_costs and default:
            out += ";costs=learned"
        elif self.learn_costs or not (positive and default):
            out += ";costs=" + ",".join(f"{c:.12g}" for c in self.costs) + (",learned" if self.learn_costs else "")
        return out

    @classmethod
    def parse(cls, value: Any) -> Fidelity:
        """A ``Fidelity`` from itself or its ``spec`` (``"epochs=1,2,4,8"``, ``"epochs=12,200;target=200"``,
        ``"estimate=supernet,trained;costs=0.01,1"``, ``"epochs=1,2,4,8;costs=learned"``, learned from
        a prior: ``"estimate=supernet,8;costs=0.02,1,learned"``); numbers are read as numbers."""
        if isinstance(value, Fidelity):
            return value
        m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^;]+?)\s*((?:;\s*(?:target|costs)\s*=[^;]+)*)\s*",
                         value) if isinstance(value, str) else None
        if m is None:
            raise ConfigError(f"fidelity {value!r}: expected NAME=LEVEL,LEVEL,... (cheapest first), e.g. "
                              "'epochs=12,200', optionally ';target=LEVEL' and ';costs=C,C,...'")

        def number(text: str) -> Any:
            text = text.strip()
            try:
                f = float(text)
            except ValueError:
                return text
            return int(f) if f.is_integer() and re.fullmatch(r"[-+]?\d+", text) else f

        levels = [number(t) for t in m.group(2).split(",")]
        extra = dict(re.findall(r";\s*(target|costs)\s*=\s*([^;]+)", m.group(3) or ""))
        target = number(extra["target"]) if "target" in extra else None
        words = [t.strip() for t in extra["costs"].split(",")] if "costs" in extra else []
        learn = bool(words) and words[-1] == "learned"
        if learn:
            words = words[:-1]
        try:
            costs = [float(t) for t in words] if words else None
        except ValueError:
            raise ConfigError(f"fidelity {value!r}: costs must be numbers, optionally followed by 'learned', "
                              "or 'learned' alone") from None
        if learn and costs is None:
            return cls(m.group(1), levels, target, "learned")
        return cls(m.group(1), levels, target, costs, learn_costs=learn)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fidelity) and self.spec == other.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    def __repr__(self) -> str:
        return f"Fidelity({self.spec!r})"


class AtFidelity(NamedTuple):
    """One evaluation of a multi-fidelity search: a configuration at a level of the fidelity."""

    config: Any
    level: Any


class FidelitySpace:
    """``base`` x the levels of ``fidelity``: the space a multi-fidelity strategy searches.

    Points are ``AtFidelity(config, level)``; keys are (the base key, the level's index), so a
    network is evaluated at most once per level; ``format`` writes ``"<config>@<name>=<level>"``.
    ``sample`` and ``neighbours`` stay at the target level (a point is made cheaper by the strategy,
    not by the space); ``enumerate`` is level-major (every configuration at the first level, then
    at the next, ...), the order a strategy's candidate pool relies on.
    """

    def __init__(self, base: Any, fidelity: Fidelity | str):
        if isinstance(base, FidelitySpace):
            raise ConfigError("the space already has a fidelity; give one fidelity")
        self.base, self.fidelity = base, Fidelity.parse(fidelity)
        if self.fidelity.name in (getattr(base, "names", None) or ()):
            raise ConfigError(f"fidelity {self.fidelity.name!r} has the name of one of the space's variables "
                              f"{list(base.names)}; name it apart")
        self.name, self.ref, self.unit = base.name, base.ref, f"{base.unit} x {self.fidelity.name} levels"

    @property
    def levels(self) -> list[Any]:
        return self.fidelity.levels

    @property
    def target(self) -> Any:
        return self.fidelity.target

    @property
    def enumerable(self) -> bool:
        return self.base.enumerable

    @property
    def n_distinct(self) -> int | None:
        n = self.base.n_distinct
        return None if n is None else n * len(self.levels)

    def at(self, config: Any, level: Any = None) -> AtFidelity:
        """``config`` at ``level`` (default the target)."""
        return AtFidelity(config, self.target if level is None else self.fidelity.level(level))

    def parse(self, value: Any) -> AtFidelity:
        if isinstance(value, AtFidelity) or (isinstance(value, tuple) and len(value) == 2
                                             and not isinstance(value, (str, bytes)) and _is_level_pair(value, self)):
            return AtFidelity(self.base.parse(value[0]), self.fidelity.level(value[1]))
        if isinstance(value, str) and "@" in value:
            text, _, level = value.rpartition("@")
            name, eq, level = level.partition("=")
            if not eq or name.strip() != self.fidelity.name:
                raise SpaceError(f"{value!r}: expected '<config>@{self.fidelity.name}=<level>'")
            return AtFidelity(self.base.parse(text), self.fidelity.level(level))
        return AtFidelity(self.base.parse(value), self.target)  # a bare configuration: at the target level

    def to_parameters(self, point: AtFidelity) -> dict[str, Any]:
        """A point as named parameters (what Ax and Optuna see): the configuration's, and the level
        under the fidelity's name."""
        return {**self.base.to_parameters(point.config), self.fidelity.name: point.level}

    def from_parameters(self, parameters: Any) -> AtFidelity:
        """The point of named parameters; without the fidelity's name, the target level."""
        params = dict(parameters)
        level = params.pop(self.fidelity.name, self.target)
        return AtFidelity(self.base.from_parameters(params), self.fidelity.level(level))

    def key(self, point: AtFidelity) -> Hashable:
        return (self.base.key(point.config), self.fidelity.index(point.level))

    def format(self, point: AtFidelity) -> str:
        return f"{self.base.format(point.config)}@{self.fidelity.name}={point.level}"

    def indices(self, point: AtFidelity) -> tuple[int, ...]:
        return tuple(self.base.indices(point.config)) + (self.fidelity.index(point.level),)

    def sample(self, rng: np.random.Generator) -> AtFidelity:
        return AtFidelity(self.base.sample(rng), self.target)

    def enumerate(self) -> list[AtFidelity] | None:
        configs = self.base.enumerate()
        return None if configs is None else [AtFidelity(c, v) for v in self.levels for c in configs]

    def neighbours(self, point: AtFidelity) -> list[AtFidelity]:
        return [AtFidelity(c, point.level) for c in self.base.neighbours(point.config)]

    def mutate(self, point: AtFidelity, rng: np.random.Generator) -> AtFidelity:
        return AtFidelity(self.base.mutate(point.config, rng), point.level)

    def costs(self, point: AtFidelity) -> dict[str, float]:
        return self.base.costs(point.config)

    def cost(self, point: AtFidelity) -> float:
        """The relative cost of evaluating ``point`` (``Fidelity.cost`` of its level)."""
        return self.fidelity.cost(point.level)


def _given_costs(costs: Any) -> bool:
    """Costs given as numbers (not None, not ``"learned"``): they, not the levels' values, order the levels."""
    return costs is not None and not isinstance(costs, str)


def _is_level_pair(value: tuple, space: FidelitySpace) -> bool:
    """A (config, level) pair rather than a configuration that happens to be a 2-tuple."""
    try:
        space.fidelity.index(value[1])
    except SpaceError:
        return False
    return True


class FidelityObjective:
    """``objective(config, level)`` seen by the engines as a function of one point (an
    ``AtFidelity``, or a bare configuration: the target level). Picklable where ``objective`` is,
    so it travels to Dask workers."""

    def __init__(self, objective: Any, fidelity: Fidelity):
        self.objective, self.fidelity = objective, fidelity

    def __call__(self, point: Any) -> Any:
        if isinstance(point, AtFidelity):
            return self.objective(point.config, point.level)
        return self.objective(point, self.fidelity.target)


def split_point(point: Any) -> tuple[Any, Any]:
    """(configuration, level) of a point; (point, None) for a point without a fidelity."""
    return (point.config, point.level) if isinstance(point, AtFidelity) else (point, None)


__all__ = ["AtFidelity", "Fidelity", "FidelityObjective", "FidelitySpace", "split_point"]
