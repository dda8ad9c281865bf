"""Strategies that start from a differentiable supernet search (``boed_nas.supernet``).

``boed-supernet``
    The BOED controller fed by a supernet: its initial design is the supernet's proposals (the
    most probable cells under alpha, then cells sampled from it), and softmax(alpha) enters the
    GP prior mean as an op prior whose weight is fitted by marginal likelihood (so a prior that
    does not transfer is down-weighted by the data rather than trusted).
``darts``
    The supernet alone, as DARTS would be used with an evaluation budget: evaluate the derived
    cell, then the next most probable cells under alpha (with the degeneracy guard), in order.

Both run the supernet search lazily, on the first ``ask`` (or the first fit), with the strategy's
own ``seed``, and keep its alpha in their parameters, so a saved state resumes without re-running
it. Pass ``alpha`` (a 6 x 5 array of logits in the space's op order, e.g. ``summary.json["alpha"]``
from ``boed-nas supernet``) to reuse a search you already ran; pass ``supernet`` (a dict of
``SearchConfig`` fields, e.g. ``{"epochs": 20, "data": "mnist"}``) to change how it is run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from boed_nas import (
    supernet as cell_supernet,  # the module, so tests can replace its search
)
from boed_nas.bo.controller import BOEDController
from boed_nas.errors import ConfigError
from boed_nas.nb201.space import Cell
from boed_nas.strategy import Strategy
from boed_nas.supernet import SearchConfig, SearchResult
from boed_nas.supernet.result import check_alpha, top_k_cells

_ALPHA_CACHE: dict[str, np.ndarray] = {}
"""Supernet alphas computed in this process, keyed by the full search config (seed included)."""


def _check_config(supernet: Mapping[str, Any] | None) -> dict[str, Any]:
    cfg = dict(supernet or {})
    if "seed" in cfg:
        raise ConfigError("supernet={'seed': ...} is not allowed: the supernet runs with the strategy's own seed")
    fields = {f.name for f in dataclasses.fields(SearchConfig)}
    unknown = sorted(set(cfg) - fields)
    if unknown:
        raise ConfigError(f"unknown supernet setting(s) {unknown}; expected fields of SearchConfig: {sorted(fields)}")
    return cfg


class _SupernetSource:
    """Mixin: the supernet search result (alpha), run once with the strategy's seed, or given."""

    seed: int
    supernet: dict[str, Any]
    alpha: np.ndarray | None

    def _init_supernet(self, alpha: Any, supernet: Mapping[str, Any] | None) -> None:
        self.supernet = _check_config(supernet)
        self.alpha = None if alpha is None else check_alpha(alpha)

    def supernet_result(self):
        """The ``SearchResult`` (alpha and the guard settings) this strategy starts from."""
        cfg = SearchConfig(**{"verbose": False, **self.supernet, "seed": self.seed})
        if self.alpha is None:
            key = (json.dumps(dataclasses.asdict(cfg), sort_keys=True, default=repr))
            if key not in _ALPHA_CACHE:  # boed-supernet and darts with one seed share one search
                _ALPHA_CACHE[key] = cell_supernet.search_supernet(cfg).alpha
            self.alpha = _ALPHA_CACHE[key].copy()
        return SearchResult(alpha=self.alpha, config=dataclasses.asdict(cfg))

    def _supernet_params(self) -> dict[str, Any]:
        return {"alpha": None if self.alpha is None else self.alpha.tolist(), "supernet": dict(self.supernet)}


class SupernetBOED(_SupernetSource, BOEDController):
    """BOED controller whose initial design and prior mean come from a supernet search.

    Parameters
    ----------
    alpha:
        Architecture logits (6 x 5, OPS order) of a supernet search already run; None runs one.
    supernet:
        ``SearchConfig`` fields for the search (default: the CPU demo on 8x8 digits, ~1 minute).
    n_top, n_sampled:
        The initial design: the ``n_top`` most probable cells under alpha, then ``n_sampled``
        further cells drawn from it (all passing the degeneracy guard).
    prior:
        Whether softmax(alpha) enters the GP prior mean (else proposals only).
    **kw:
        ``BOEDController`` arguments (kernel, acquisition, n_init, ...), except ``proposals`` and
        ``op_prior``, which come from the supernet here (use ``boed`` to pass your own).
    """

    name = "boed-supernet"
    fidelities = False  # its supernet is its own cheap estimate; as a level of a fidelity: not yet
    requires = ("cell_network",)  # the supernet is built from the cell network

    def __init__(
        self,
        *,
        alpha: Any = None,
        supernet: Mapping[str, Any] | None = None,
        n_top: int = 5,
        n_sampled: int = 5,
        prior: bool = True,
        **kw: Any,
    ) -> None:
        for key in ("proposals", "op_prior"):
            if kw.get(key) is not None:
                raise ConfigError(f"boed-supernet takes its {key} from the supernet; use strategy 'boed' to pass {key}")
            kw.pop(key, None)
        kw.setdefault("signals", None)  # its prior is the supernet's; measured without the shipped signals
        for label, v in (("n_top", n_top), ("n_sampled", n_sampled)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"{label} must be a non-negative integer, got {v!r}")
        super().__init__(**kw)
        self._init_supernet(alpha, supernet)
        self.n_top, self.n_sampled, self.prior = n_top, n_sampled, bool(prior)
        self._prior_applied = False

    def get_params(self) -> dict[str, Any]:
        params = {k: v for k, v in super().get_params().items() if k not in ("proposals", "op_prior")}
        return {**params, **self._supernet_params(), "n_top": self.n_top, "n_sampled": self.n_sampled,
                "prior": self.prior}

    def prepare(self) -> None:
        """The supernet's proposals (and op prior) enter on first use: a search runs here if no
        ``alpha`` was given, so building the strategy stays cheap."""
        if self._prior_applied:
            return
        result = self.supernet_result()
        # proposals sampled from a generator of their own, so self.rng (saved state) is untouched
        rng = np.random.default_rng([self.seed, 0x5EED])
        proposals = result.proposals(k=self.n_top, n_samples=self.n_sampled, rng=rng)
        # the same parts with the supernet's proposals and op prior (signals, if any, are kept)
        self.use_prior(proposals=proposals, op_prior=result.op_prior() if self.prior else None)
        self._prior_applied = True


class DARTS(_SupernetSource, Strategy):
    """The supernet's own ranking as a search: cells in decreasing probability under alpha.

    The first query is the derived cell (argmax per edge, repaired by the degeneracy guard); each
    later one is the next most probable cell that passes the guard and is new up to isomorphism.
    """

    name = "darts"
    requires = ("cell_network",)  # the supernet is built from the cell network

    def __init__(self, *, alpha: Any = None, supernet: Mapping[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self._init_supernet(alpha, supernet)
        self._order: list[int] | None = None

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), **self._supernet_params()}

    def _propose(self, n: int) -> list[Cell]:
        if self._order is None:
            result = self.supernet_result()
            ranked = top_k_cells(result.alpha, 15_625, guard=result.guard, min_param=result.min_param)
            rest = top_k_cells(result.alpha, 15_625)  # cells failing the guard come last
            seen = {c.code for c in ranked}
            self._order = [c.code for c in ranked] + [c.code for c in rest if c.code not in seen]
        out: list[Cell] = []
        for code in self._order:
            cell = Cell.from_code(code)
            if self.is_new(cell) and all(cell.canonical() != c.canonical() for c in out):
                out.append(cell)
                if len(out) == n:
                    break
        return out
