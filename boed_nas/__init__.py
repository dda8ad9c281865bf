"""boed-nas: neural architecture search by Bayesian optimal experimental design.

The NB201 cell space (``Cell``), the ask/tell ``Strategy`` interface and ``Outcome`` load without
torch; the GP controller (``boed_nas.controller``) and the supernet import it when used.
"""

from .outcome import Outcome
from .space import EDGES, OPS, Cell, all_cells, canonical_cells, sample_cell
from .strategy import DuplicateTellError, StateError, Strategy

__version__ = "0.1.0"

__all__ = ["EDGES", "OPS", "Cell", "DuplicateTellError", "Outcome", "StateError", "Strategy", "all_cells",
           "canonical_cells", "sample_cell"]
