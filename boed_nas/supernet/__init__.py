"""Differentiable (DARTS-family) supernet search over the NB201 cell space.

Quick use::

    from boed_nas.supernet import SearchConfig, search_supernet
    result = search_supernet(SearchConfig(epochs=10, seed=0))
    result.derived_cell, result.op_prior(), result.proposals(k=5, n_samples=5, rng=0)

Modules: ``ops`` (the NB201 supernet of mixed cells), ``search`` (config, penalties, the search),
``guard`` (degeneracy guard), ``cost`` (per-op cost tables fitted to NB201), ``result``
(discretisation, proposals, reports). The machinery it shares with the blueprint search (the
architect, the bilevel loop, relaxations, mixed ops, data) is ``boed_nas.bilevel``; the command is
``boed-nas supernet`` (``boed_nas.cli.supernet``).
"""

from .cost import CostTable, fit_cost_table
from .guard import guard_penalty, parametric_depth, passes_guard, soft_guard
from .ops import MixedCell, Supernet, nb201_mixed_op
from .result import SearchResult, cell_log_probs, derive, top_k_cells
from .search import CellPenalties, SearchConfig, search_supernet

__all__ = ["CellPenalties", "CostTable", "MixedCell", "SearchConfig", "SearchResult", "Supernet", "cell_log_probs",
           "derive", "fit_cost_table", "guard_penalty", "nb201_mixed_op", "parametric_depth", "passes_guard",
           "search_supernet", "soft_guard", "top_k_cells"]
