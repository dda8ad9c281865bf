r"""Search spaces of your own: categorical and ordered variables, a validity constraint, known costs.

A space is a list of variables; a point of it is a ``Config`` (an immutable mapping from variable
name to value, printed as JSON)::

    from boed_nas.spaces import Categorical, Ordered, Space

    SPACE = Space(
        [Categorical("block", ["conv", "mbconv", "fused"]),
         Ordered("depth", [1, 2, 3, 4]),
         Ordered("width", [16, 32, 64, 128]),
         Ordered("lr", [1e-3, 3e-3, 1e-2])],
        constraint=lambda c: c["depth"] * c["width"] <= 256,   # optional: which configs are valid
        costs=lambda c: {"flops": c["depth"] * c["width"] ** 2},  # optional: known before training
    )
    SPACE.sample(rng); SPACE.parse({"block": "conv", "depth": 2, "width": 32, "lr": 0.01})

Every strategy takes the space through one protocol, which the NB201 cell space
(``boed_nas.nb201.space.CELL_SPACE``) follows too: ``parse`` (a point, or its string, or a mapping;
``SpaceError`` naming the variable otherwise), ``key`` (equal keys are the same network: NB201's
isomorphism classes, here the values themselves), ``format`` (the string saved in state files),
``n_distinct`` (how many keys there are, or None when that is not known without enumerating),
``sample(rng)`` and ``enumerate()`` (every valid point, or None above ``ENUMERATE_LIMIT``).

GP inputs (``encode``): a categorical variable is its choice index (read by a Hamming kernel), an
ordered one the position of its value in its grid scaled to [0, 1] (read by a Matern kernel), so a
grid of widths 16, 32, 64, 128 is spaced evenly, as a log scale would space it.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import itertools
import json
import math
import numbers
import os
import re
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, SpaceError

ENUMERATE_LIMIT = 50_000
"""Spaces with at most this many configurations (before the constraint) are enumerated: the
controller scores every valid configuration. Larger ones are searched through generated candidates."""

SAMPLE_TRIES = 10_000


class Config(Mapping[str, Any]):
    """One point of a ``Space``: an immutable, hashable mapping from variable name to value, in the
    space's variable order; ``str`` gives its JSON form (what state files and logs hold)."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[tuple[str, Any]]):
        self._items = tuple(items)

    def __getitem__(self, name: str) -> Any:
        for k, v in self._items:
            if k == name:
                return v
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Config):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __str__(self) -> str:
        return json.dumps(dict(self._items))

    def __repr__(self) -> str:
        return f"Config({dict(self._items)!r})"


class Variable:
    """A named variable with a finite list of values; subclasses say how the GP reads it."""

    kind = "variable"

    def __init__(self, name: str, values: Sequence[Any]):
        if not isinstance(name, str) or not name:
            raise SpaceError(f"a variable's name must be a non-empty string, got {name!r}")
        if isinstance(values, np.ndarray):  # numpy's values as Python's: a state and a log hold them as JSON
            values = values.tolist()
        values = ([v.item() if isinstance(v, np.generic) else v for v in values]
                  if isinstance(values, Sequence) and not isinstance(values, str) else None)
        if not values:
            raise SpaceError(f"variable {name!r} needs a non-empty list of values, got {values!r}")
        if len(set(map(_hashable, values))) != len(values):
            raise SpaceError(f"variable {name!r} lists a value twice: {values!r}")
        self.name = name
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def index(self, value: Any) -> int:
        """The index of ``value`` among the values; SpaceError naming the variable otherwise."""
        for i, v in enumerate(self.values):
            if _same(v, value):
                return i
        raise SpaceError(f"{value!r} is not a value of {self.kind} variable {self.name!r}; expected one of {self.values}")

    def encode(self, i: int) -> float:
        return float(i)

    def neighbours(self, i: int) -> list[int]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "values": self.values}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.values!r})"


class Categorical(Variable):
    """Unordered choices (op names, block types, optimisers): a Hamming kernel, any change is one step."""

    kind = "categorical"

    def neighbours(self, i: int) -> list[int]:
        return [j for j in range(len(self.values)) if j != i]


class Ordered(Variable):
    """Numbers on a grid (depths, widths, kernel sizes, learning rates), sorted on construction: a
    Matern kernel on the grid position, a step goes to an adjacent value."""

    kind = "ordered"

    def __init__(self, name: str, values: Sequence[float]):
        super().__init__(name, values)
        bad = [v for v in self.values if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)]
        if bad:
            raise SpaceError(f"ordered variable {name!r} needs finite numbers, got {bad}")
        self.values = sorted(v.item() if isinstance(v, np.generic) else v for v in self.values)

    def encode(self, i: int) -> float:
        return i / (len(self.values) - 1) if len(self.values) > 1 else 0.0

    def neighbours(self, i: int) -> list[int]:
        return [j for j in (i - 1, i + 1) if 0 <= j < len(self.values)]


def Integer(name: str, low: int, high: int, step: int = 1) -> Ordered:
    """The ordered variable of the integers ``low, low + step, ..., high``."""
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (low, high, step)) or step < 1 or high < low:
        raise SpaceError(f"Integer({name!r}) needs integers low <= high and step >= 1, got {low!r}, {high!r}, {step!r}")
    return Ordered(name, list(range(int(low), int(high) + 1, int(step))))


def _hashable(v: Any) -> Hashable:
    # a bool is not its integer: [0, False, None] are three values (as ``_same`` and Optuna's choices say)
    if isinstance(v, bool):
        return ("bool", v)
    return v if isinstance(v, Hashable) else repr(v)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):  # a tuple value comes back from JSON a list
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (type(a) is type(b) and a == b)
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b or (isinstance(a, float) or isinstance(b, float)) and math.isclose(a, b, rel_tol=1e-12)
    return a == b


class Space:
    """A search space: variables, an optional validity ``constraint`` (config -> bool) and optional
    known ``costs`` (config -> {name: value}, e.g. FLOPs, params, latency).

    ``name`` labels the space in logs and state files; give ``ref`` ("pkg.module:NAME", what
    ``load_space`` imports) so that a saved strategy can rebuild the space, constraint and all.
    ``fidelity`` (a ``Fidelity`` or its text, ``"epochs=1,2,4,8"``): cheaper levels of an evaluation,
    which ``boed``, ``asha`` and ``hyperband`` search over (``docs/fidelity.md``); the other
    strategies refuse such a space by name.
    """

    unit = "configurations"  # what n_distinct counts

    def __init__(self, variables: Sequence[Variable], *, constraint: Callable[[Config], bool] | None = None,
                 costs: Callable[[Config], Mapping[str, float]] | None = None, name: str = "space",
                 ref: str | None = None, fidelity: Any = None):
        variables = list(variables)
        if not variables:
            raise SpaceError("a space needs at least one variable")
        bad = [v for v in variables if not isinstance(v, Variable)]
        if bad:
            raise SpaceError(f"a space's variables must be Categorical or Ordered, got {bad!r}")
        names = [v.name for v in variables]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SpaceError(f"variable names must be distinct; {dup} appear twice")
        for label, f in (("constraint", constraint), ("costs", costs)):
            if f is not None and not callable(f):
                raise SpaceError(f"{label} must be a function of a config, got {f!r}")
        self.variables = variables
        self.names = names
        self.constraint = constraint
        self.cost_fn = costs
        self.name = name
        self.ref = ref
        # cheaper levels of an evaluation (boed_nas.spaces.fidelity): boed, asha and hyperband search over them
        from .fidelity import Fidelity

        self.fidelity = None if fidelity is None else Fidelity.parse(fidelity)
        self._enumerated: list[Config] | None = None

    # ------------------------------------------------------------------ size
    @property
    def size(self) -> int:
        """Configurations before the constraint: the product of the variables' sizes."""
        return math.prod(len(v) for v in self.variables)

    @property
    def enumerable(self) -> bool:
        return self.size <= ENUMERATE_LIMIT

    @property
    def n_distinct(self) -> int | None:
        """How many valid configurations there are; None for a constrained space too large to count."""
        if self.constraint is None:
            return self.size
        all_ = self.enumerate()
        return None if all_ is None else len(all_)

    def enumerate(self) -> list[Config] | None:
        """Every valid configuration, in a fixed order (cached); None above ``ENUMERATE_LIMIT``."""
        if not self.enumerable:
            return None
        if self._enumerated is None:
            out = []
            for idx in itertools.product(*(range(len(v)) for v in self.variables)):
                c = self._config(idx)
                if self._valid(c):
                    out.append(c)
            if not out:
                raise SpaceError(f"the constraint of space {self.name!r} rejects every configuration")
            self._enumerated = out
        return self._enumerated

    # ------------------------------------------------------------------ points
    def _config(self, idx: Sequence[int]) -> Config:
        return Config([(v.name, v.values[i]) for v, i in zip(self.variables, idx)])

    def _valid(self, c: Config) -> bool:
        if self.constraint is None:
            return True
        try:
            return bool(self.constraint(c))
        except Exception as e:  # a constraint that raises is a bug in the user's space: say where
            raise SpaceError(f"the constraint of space {self.name!r} raised {type(e).__name__}: {e} on {c}") from e

    def indices(self, c: Config) -> tuple[int, ...]:
        return tuple(v.index(c[v.name]) for v in self.variables)

    def parse(self, value: Config | Mapping[str, Any] | str) -> Config:
        """A valid ``Config`` from a config, a mapping or its JSON string; SpaceError naming the
        variable (unknown, missing, or a value it does not have) or the violated constraint."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as e:
                raise SpaceError(f"{value!r} is not a configuration of space {self.name!r} (JSON: {e})") from None
        if not isinstance(value, Mapping):
            raise SpaceError(f"a configuration of space {self.name!r} is a mapping of {self.names}, got {value!r}")
        unknown = [k for k in value if k not in self.names]
        missing = [n for n in self.names if n not in value]
        if unknown or missing:
            raise SpaceError(f"configuration {dict(value)!r} of space {self.name!r}: "
                             + (f"unknown variables {unknown}" if unknown else "")
                             + ("; " if unknown and missing else "") + (f"missing variables {missing}" if missing else "")
                             + f"; expected exactly {self.names}")
        idx = [v.index(value[v.name]) for v in self.variables]
        c = self._config(idx)
        if not self._valid(c):
            raise SpaceError(f"configuration {c} violates the constraint of space {self.name!r}")
        return c

    def key(self, c: Config) -> tuple[int, ...]:
        """The de-duplication key: the value indices (two configs are the same network iff equal)."""
        return self.indices(c)

    def format(self, c: Config) -> str:
        return str(c)

    def sample(self, rng: np.random.Generator) -> Config:
        """A uniformly random valid configuration (rejection sampling under the constraint)."""
        for _ in range(SAMPLE_TRIES):
            c = self._config([int(rng.integers(len(v))) for v in self.variables])
            if self._valid(c):
                return c
        raise SpaceError(f"no valid configuration of space {self.name!r} in {SAMPLE_TRIES} random draws; "
                         "is its constraint satisfiable?")

    def neighbours(self, c: Config) -> list[Config]:
        """The valid configurations one step away: another choice of one categorical variable, or
        the adjacent value of one ordered variable."""
        idx = list(self.indices(c))
        out = []
        for k, v in enumerate(self.variables):
            for j in v.neighbours(idx[k]):
                n = self._config(idx[:k] + [j] + idx[k + 1:])
                if self._valid(n):
                    out.append(n)
        return out

    def mutate(self, c: Config, rng: np.random.Generator) -> Config:
        """A random valid neighbour: one variable drawn uniformly, moved to one of its neighbouring
        values; a random configuration if ``c`` has no valid neighbour."""
        idx = list(self.indices(c))
        for _ in range(100):
            k = int(rng.integers(len(self.variables)))
            options = self.variables[k].neighbours(idx[k])
            if not options:
                continue
            n = self._config(idx[:k] + [options[int(rng.integers(len(options)))]] + idx[k + 1:])
            if self._valid(n):
                return n
        return self.sample(rng)

    def costs(self, c: Config) -> dict[str, float]:
        """The configuration's known costs ({} without a ``costs`` function); a cost that is not a
        finite number is a SpaceError naming it."""
        if self.cost_fn is None:
            return {}
        out = dict(self.cost_fn(c))
        bad = {k: v for k, v in out.items() if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)}
        if bad:
            raise SpaceError(f"the costs of space {self.name!r} at {c} must be finite numbers, got {bad}")
        return {k: float(v) for k, v in out.items()}

    # ------------------------------------------------------------------ GP inputs
    def encode(self, configs: Sequence[Config]) -> np.ndarray:
        """``n x d`` GP inputs: categorical columns first (choice index), then ordered ones (grid
        position in [0, 1]); ``categorical_dims`` and ``ordered_dims`` say which is which."""
        cat = [k for k, v in enumerate(self.variables) if isinstance(v, Categorical)]
        ordv = [k for k, v in enumerate(self.variables) if not isinstance(v, Categorical)]
        rows = []
        for c in configs:
            idx = self.indices(c)
            rows.append([float(idx[k]) for k in cat] + [self.variables[k].encode(idx[k]) for k in ordv])
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(self.variables))

    @property
    def n_categorical(self) -> int:
        return sum(isinstance(v, Categorical) for v in self.variables)

    def to_parameters(self, c: Config) -> dict[str, Any]:
        """A configuration as named parameters (what Ax and Optuna see): its variables' values."""
        return dict(c)

    def from_parameters(self, parameters: Mapping[str, Any]) -> Config:
        """The configuration of named parameters (``parse``)."""
        return self.parse(dict(parameters) if isinstance(parameters, Mapping) else parameters)

    def belief_inputs(self, kernel: str, **kw: Any) -> Any:
        """The GP inputs of this space's configurations (``encode``) and its signals
        (``boed_nas.bo.inputs.space_inputs``); a subclass may give its own."""
        from ..bo.inputs import space_inputs

        return space_inputs(self, kernel, **kw)

    def bounded(self, bounds: Mapping[str, float] | Sequence[str] | str) -> Space:
        """This space without the configurations whose known cost exceeds a bound: a search under a
        FLOPs, params or latency budget. ``bounds``: ``{"flops": 5e5}``, or ``"flops<=5e5"`` strings
        (the CLI's ``--constraint``), on the names the space's ``costs`` return, in their units.

        The bounds join the space's own constraint, so every strategy's asks, mutations and pools
        respect them; the new space's ``ref`` carries them (``"pkg.module:SPACE|flops<=500000.0"``),
        so a saved strategy rebuilds the bounded space. SpaceError if the space has no costs or a
        bound names a cost it does not have.
        """
        if isinstance(bounds, str):
            bounds = [bounds]
        pairs = list(bounds.items()) if isinstance(bounds, Mapping) else [parse_cost_bound(b) for b in bounds]
        if not pairs:
            return self
        if self.cost_fn is None:
            raise SpaceError(f"space {self.name!r} has no known costs (give Space(costs=...)); cannot bound "
                             f"{[n for n, _ in pairs]}")
        checked = {}
        for name, bound in pairs:
            if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
                raise SpaceError(f"the bound on {name!r} must be a finite number, got {bound!r}")
            checked[str(name)] = float(bound)
        from .protocol import cost_names

        known = cost_names(self)
        unknown = sorted(set(checked) - set(known))
        if unknown:
            raise SpaceError(f"space {self.name!r} has no cost {unknown[0]!r} to bound; its costs are {sorted(known)}")
        base = self.constraint

        def within(c: Config) -> bool:
            if base is not None and not base(c):
                return False
            costs = self.costs(c)
            return all(costs[n] <= b for n, b in checked.items())

        label = ",".join(f"{n}<={b!r}" for n, b in checked.items())
        out = copy.copy(self)  # a subclass keeps its parse, key and format
        out.constraint = within
        out.name = f"{self.name}[{label}]"
        out.ref = None if self.ref is None else f"{self.ref}|{label.replace(',', '|')}"
        out._enumerated = None
        return out

    def to_dict(self) -> dict[str, Any]:
        """The variables as JSON-able data (the constraint and costs are functions: see ``ref``)."""
        return {"name": self.name, "ref": self.ref, "variables": [v.to_dict() for v in self.variables],
                "constrained": self.constraint is not None}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Space:
        """The space of ``to_dict()`` output (its variables; a constraint or costs are not data)."""
        kinds = {"categorical": Categorical, "ordered": Ordered}
        try:
            if doc.get("constrained"):
                raise SpaceError("a space with a constraint cannot be rebuilt from data; give its ref")
            variables = [kinds[v["kind"]](v["name"], v["values"]) for v in doc["variables"]]
        except (KeyError, TypeError, AttributeError) as e:
            raise SpaceError(f"not a space description: {doc!r:.200} ({type(e).__name__}: {e})") from None
        return cls(variables, name=doc.get("name", "space"), ref=doc.get("ref"))

    def __repr__(self) -> str:
        return f"Space({self.variables!r}, name={self.name!r})"


_COST_BOUND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*<=\s*(\S+)\s*$")


def parse_cost_bound(spec: str) -> tuple[str, float]:
    """``"flops<=5e5"`` -> ("flops", 500000.0): a known cost at most a finite bound; ConfigError naming
    the text otherwise."""
    m = _COST_BOUND.match(str(spec))
    if m is None:
        raise ConfigError(f"malformed constraint {spec!r}; expected COST<=BOUND, e.g. 'flops<=5e5'")
    try:
        bound = float(m.group(2))
    except ValueError:
        raise ConfigError(f"constraint {spec!r}: bound {m.group(2)!r} is not a number") from None
    if not math.isfinite(bound):
        raise ConfigError(f"constraint {spec!r}: bound must be finite")
    return m.group(1), bound


def load_space(ref: str) -> Space:
    """The ``Space`` that ``"pkg.module:NAME"`` names (imported; NAME may also be a function that
    returns one), with any cost bounds that follow it (``"pkg.module:NAME|flops<=5e5"``, see
    ``Space.bounded``). ConfigError naming the reference if it does not import or is not a space."""
    if isinstance(ref, str) and "|" in ref:
        base, *bounds = ref.split("|")
        return load_space(base).bounded(bounds)
    obj = load_object(ref, "space")
    if callable(obj) and not isinstance(obj, Space):
        try:
            obj = obj()
        except TypeError as e:
            raise ConfigError(f"--space {ref!r} names a function that does not build a space without arguments "
                              f"({e}); name a boed_nas.spaces.Space, or a function of no arguments that returns one") from None
    if not isinstance(obj, Space):
        raise ConfigError(f"--space {ref!r} names a {type(obj).__name__}, not a boed_nas.spaces.Space")
    if obj.ref is None:
        obj.ref = ref
    return obj


def load_object(ref: str, what: str) -> Any:
    """The object ``"pkg.module:NAME"`` names (a file path ``path/to/file.py:NAME`` works too)."""
    if os.getcwd() not in sys.path:  # "pkg.module" of the folder the command runs in, as python -m finds it
        sys.path.insert(0, os.getcwd())
    module_name, sep, attr = (ref or "").partition(":") if isinstance(ref, str) else ("", "", "")
    if not sep or not module_name or not attr:
        raise ConfigError(f"{what} {ref!r}: expected 'pkg.module:NAME' (or 'file.py:NAME')")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or not path.is_file():
                raise ImportError(f"no file {module_name!r}")
            module = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(path.stem, module)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except Exception as e:  # ImportError, or the user's module failing as it runs: one line naming the ref
        raise ConfigError(f"{what} {ref!r}: cannot import {module_name!r} ({type(e).__name__}: {e})") from e
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"{what} {ref!r}: module {module_name!r} has no {attr!r}") from None


__all__ = ["ENUMERATE_LIMIT", "Categorical", "Config", "Integer", "Ordered", "Space", "Variable", "load_object",
           "load_space", "parse_cost_bound"]
