"""The one protocol every strategy searches through: ``SearchSpace`` (a ``typing.Protocol``).

NB201's cells (``boed_nas.nb201.space.CELL_SPACE``), ``boed_nas.spaces.Space`` and any object of
yours with these members are spaces alike; no strategy checks which space it was given, only what
it can do. A point of a space is a *configuration* (NB201: a ``Cell``; ``Space``: a ``Config``).

Members every space has:

- ``name``, ``ref`` (the ``"pkg.module:NAME"`` a saved strategy rebuilds it from; NB201's is
  ``"nb201"``), ``unit`` (what ``n_distinct`` counts), ``enumerable``, ``n_distinct``;
- ``parse(value)`` (a configuration from itself, its string or a mapping; ``SpaceError`` otherwise),
  ``key(config)`` (equal keys are the same network: NB201's isomorphism classes), ``format(config)``
  (the string state files hold), ``indices(config)`` (value indices, for Hamming distances);
- ``sample(rng)``, ``enumerate()`` (every valid configuration, or None when too many),
  ``neighbours(config)``, ``mutate(config, rng)``, ``costs(config)`` (known costs, ``{}`` if none).

Hooks a space may provide (a strategy that needs one lists it in ``Strategy.requires`` and is
refused by name on a space without it):

- ``belief_inputs(kernel, *, signals, signal_use, op_prior, seed)``: GP inputs, kernel and signals
  (``boed_nas.bo.inputs``); without it, the general encoding of ``Space`` is used;
- ``variables``, ``to_parameters(config)``, ``from_parameters(mapping)``: the configuration as
  named parameters, each a variable with a list of values (``Space``; NB201: an op per edge),
  what ``bananas`` mutates and Ax sees;
- ``path_encoding(configs)``: BANANAS's input on NB201 (without it, a one-hot of the values);
- ``cell_network()``: the network a weight-sharing supernet is built from (NB201: ``darts``,
  ``boed-supernet``);
- ``pareto_problem(objectives, costs, constraints)``: the multi-objective problem (NB201: its cost
  tables, each class as its cheapest member); without it, ``SpaceParetoProblem`` over ``costs``;
- ``shipped_signals``: the signals at initialisation that ``boed`` uses by default on this space
  (``signals="shipped"``, what the default ``"auto"`` means without a fidelity), in the form its
  ``signals`` setting takes (NB201: the seven shipped with the package, chosen on held-out seeds);
  without it, none.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

Configuration = Any
"""A point of a space (NB201: a ``Cell``; ``Space``: a ``Config``): what strategies, engines and
objectives pass around."""

HOOKS = ("belief_inputs", "variables", "to_parameters", "from_parameters", "path_encoding", "cell_network", "pareto_problem",
         "shipped_signals")


@runtime_checkable
class SearchSpace(Protocol):
    """What every strategy may use of a space (see the module docstring)."""

    name: str
    ref: str | None
    unit: str

    @property
    def enumerable(self) -> bool: ...

    @property
    def n_distinct(self) -> int | None: ...

    def parse(self, value: Any) -> Any: ...

    def key(self, config: Any) -> Hashable: ...

    def format(self, config: Any) -> str: ...

    def indices(self, config: Any) -> tuple[int, ...]: ...

    def sample(self, rng: np.random.Generator) -> Any: ...

    def enumerate(self) -> Sequence[Any] | None: ...

    def neighbours(self, config: Any) -> list[Any]: ...

    def mutate(self, config: Any, rng: np.random.Generator) -> Any: ...

    def costs(self, config: Any) -> dict[str, float]: ...


def cost_names(space: Any) -> list[str]:
    """The names of a space's known costs (``costs`` of one configuration; every configuration has
    the same), sorted; [] for a space without costs."""
    return sorted(space.costs(space.sample(np.random.default_rng(0))))


def missing_hooks(space: Any, required: Sequence[str]) -> list[str]:
    """The hooks of ``required`` that ``space`` lacks."""
    return [h for h in required if getattr(space, h, None) is None]


__all__ = ["HOOKS", "Configuration", "SearchSpace", "cost_names", "missing_hooks"]
