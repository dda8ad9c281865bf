"""boed-nas: neural architecture search by Bayesian optimal experimental design.

The library, one folder per concept:

- ``boed_nas.nb201``: the NB201 cell space (``Cell``), its encodings and network, and the shipped
  table of results as a benchmark (``NB201Benchmark``);
- ``boed_nas.spaces``: spaces of your own (``Space``: categorical and ordered variables, a
  constraint, known costs), searched through the same strategies (``make_strategy(name, space=...)``);
- ``boed_nas.bo``: the Bayesian core: belief (GP), acquisition (information gain), controller (``boed``);
- ``boed_nas.mo``: multi-objective search: Pareto fronts, hypervolume, the ``boed-mo`` controller;
- ``boed_nas.bilevel``, ``boed_nas.supernet``, ``boed_nas.blueprint``: the differentiable side;
- ``boed_nas.integrations.ax``: the boed generation node for Ax;
- ``boed_nas.experiment``: the search loop, benches and reports; ``boed_nas.cli``: the command.

What this module exports (cells, outcomes, the strategy protocol and registry, the errors) loads
without torch; the GP controller and the supernet import it when used.
"""

from . import _compat
from .errors import (
    BoedNasError,
    ConfigError,
    DuplicateTellError,
    OutcomeError,
    SpaceError,
    StateError,
    UnknownDatasetError,
    UnknownStrategyError,
)
from .nb201.space import EDGES, OPS, Cell, all_cells, canonical_cells, sample_cell
from .outcome import Outcome
from .registry import available, make_strategy
from .strategy import Observation, Strategy

__version__ = "0.2.0"

__all__ = ["EDGES", "OPS", "BoedNasError", "Cell", "ConfigError", "DuplicateTellError", "Observation", "Outcome",
           "OutcomeError", "SpaceError", "StateError", "Strategy", "UnknownDatasetError", "UnknownStrategyError",
           "all_cells", "available", "canonical_cells", "make_strategy", "sample_cell"]

_compat.install()
