"""Differentiable (DARTS-family) supernet search over the NB201 cell space.

Quick use::

    from boed_nas.supernet import SearchConfig, run_search
    result = run_search(SearchConfig(epochs=10, seed=0))
    result.derived_cell, result.op_prior(), result.proposals(k=5, n_samples=5, rng=0)

Modules: ``ops`` (mixed op, channel adapter, supernet), ``search`` (config, temperature,
architect, the bilevel loop), ``guard`` (degeneracy guard), ``cost`` (fitted per-op cost
tables, hinge budget), ``surgery`` (PCGrad), ``result`` (discretisation, proposals, reports),
``data`` (offline datasets), ``cli`` (``boed-nas supernet``).
"""

from .cost import CostTable, fit_cost_table, hinge_budget
from .data import Splits, load_data, make_splits
from .guard import guard_penalty, parametric_depth, passes_guard, soft_guard
from .ops import ChannelAdapter, MixedCell, MixedOp, Supernet, mixing_weights, nb201_mixed_op, width_candidates
from .result import SearchResult, cell_log_probs, derive, top_k_cells
from .search import Architect, Penalties, SearchConfig, TemperatureSchedule, run_search, sparsity_penalty
from .surgery import cosine, pcgrad

__all__ = ["Architect", "ChannelAdapter", "CostTable", "MixedCell", "MixedOp", "Penalties", "SearchConfig",
           "SearchResult", "Splits", "Supernet", "TemperatureSchedule", "cell_log_probs", "cosine", "derive",
           "fit_cost_table", "guard_penalty", "hinge_budget", "load_data", "make_splits", "mixing_weights",
           "nb201_mixed_op", "parametric_depth", "passes_guard", "pcgrad", "run_search", "soft_guard",
           "sparsity_penalty", "top_k_cells", "width_candidates"]
