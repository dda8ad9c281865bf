r"""What a space gives the belief: GP inputs and kernel (``features``), and its signals at
initialisation, through the space's ``belief_inputs`` hook.

Every space may provide ``belief_inputs(kernel, *, signals, signal_use, op_prior, seed)``; it
returns ``BeliefInputs``. NB201's cell space answers with ``cell_inputs`` (op ids, the
Weisfeiler-Lehman features, the signals shipped in ``boed_nas/nb201/data/signals.csv.gz``, an op
prior per edge); ``boed_nas.spaces.Space`` with ``space_inputs`` (its ``encode``, a Hamming kernel
on categorical variables and a Matern kernel on ordered ones, signals as functions of a
configuration). A space of your own following the protocol without the hook gets ``space_inputs``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..seeding import derive_seed
from .belief import CellFeatures, SpaceFeatures, SpaceSignals, parse_signal_use, signal_scores

INIT_TOP_FRACTION = 0.05
"""With ``signal_use`` "init", the initial design draws from this top fraction of the classes by
combined signal (the mean of the signals' normal scores): 323 of NB201's 6,466; on a space of your
own, of the signals' reference set (the whole space, or its seeded sample where it is too large)."""
SIGNAL_SALT = 0x516A  # the reference sample of a space's signals (SpaceSignals)


@dataclass
class BeliefInputs:
    """``features``: configurations -> GP inputs, and the kernel and mean built on them;
    ``signals``: the signals as saved in the controller's parameters (None without);
    ``init_top``: the configurations the initial design draws from with ``signal_use`` "init"."""

    features: Any
    signals: Any = None
    init_top: list[Any] | None = None


def _top(configs: Sequence[Any], scores: np.ndarray) -> list[Any]:
    order = np.argsort(-scores.mean(axis=1), kind="stable")
    return [configs[i] for i in order[: math.ceil(INIT_TOP_FRACTION * len(order))]]


def cell_inputs(kernel: str, *, signals: Any = None, signal_use: str = "mean", op_prior: Any = None,
                seed: int = 0) -> BeliefInputs:
    """NB201's cells: ``CellFeatures`` over the op ids and WL features; signals by name from the
    shipped table or as arrays over the cell codes or the classes (``resolve_signals``)."""
    from ..nb201.space import N_CELLS, Cell, canonical_cells

    uses = parse_signal_use(signal_use)
    universe = canonical_cells()
    saved, values = resolve_signals(signals)
    by_code, top = None, None
    if values is not None:
        scores = signal_scores(values)
        if "init" in uses:
            top = _top(universe, scores)
        uidx = {c.code: i for i, c in enumerate(universe)}
        class_of_code = [uidx[Cell.from_code(k).canonical().code] for k in range(N_CELLS)]
        by_code = scores[class_of_code]
    return BeliefInputs(CellFeatures(kernel, op_prior=op_prior_array(op_prior), signals=by_code, signal_use=signal_use),
                        saved, top)


def op_prior_array(op_prior: Any) -> np.ndarray | None:
    """NB201's op prior as a 6 x 5 array of op probabilities per edge: the array itself, or a
    ``ChoicePrior`` over NB201's cell space (one categorical per edge, ``EDGE_PARAMETERS``)."""
    from ..spaces.prior import ChoicePrior

    if op_prior is None:
        return None
    if isinstance(op_prior, ChoicePrior):
        if len(op_prior.log_probs) != 6 or any(len(lp) != 5 for lp in op_prior.log_probs):
            raise ConfigError(f"op_prior is a ChoicePrior over space {op_prior.space.name!r}; NB201's op prior is "
                              "one over its cells (ChoicePrior(CELL_SPACE, {'edge_0_to_1': [...], ...}))")
        return np.exp(np.stack(op_prior.log_probs))
    return np.asarray(op_prior, dtype=np.float64)


def space_inputs(space: Any, kernel: str, *, signals: Any = None, signal_use: str = "mean", op_prior: Any = None,
                 seed: int = 0) -> BeliefInputs:
    """A space of your own: ``SpaceFeatures`` over ``space.encode``; signals are ``"costs"``, a
    function ``config -> {name: value}``, its ``"pkg.module:function"`` reference, or a
    ``ChoicePrior`` (``SpaceSignals``: normal scores against a fixed reference sample)."""
    if op_prior is not None:
        raise ConfigError("op_prior is NB201's (per edge and op); a space of your own takes none")
    uses = parse_signal_use(signal_use)
    saved, fn = _space_signals(space, signals, uses, signal_use)
    sig = None if fn is None else SpaceSignals(space, fn, seed=derive_seed(seed, SIGNAL_SALT))
    top = None
    if sig is not None and "init" in uses:  # the top of the reference set by mean signal score
        ref = sig.reference_configs
        top = _top(ref, sig.scores(ref))
    return BeliefInputs(SpaceFeatures(space, kernel, signals=sig if "mean" in uses else None), saved, top)


class IndexEncoding:
    """A space that follows the protocol without an encoding of its own (no ``encode``), read as
    categorical variables over its value indices (``space.indices``): what ``SpaceFeatures`` needs."""

    def __init__(self, space: Any):
        self.space = space
        first = space.enumerate()
        probe = first[0] if first else space.sample(np.random.default_rng(0))
        self.variables = list(range(len(space.indices(probe))))
        self.n_categorical = len(self.variables)

    def encode(self, configs: Sequence[Any]) -> np.ndarray:
        return np.array([self.space.indices(c) for c in configs], dtype=np.float64).reshape(len(configs), -1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.space, name)


def belief_inputs(space: Any, kernel: str, **kw: Any) -> BeliefInputs:
    """The space's own ``belief_inputs`` hook; for a space without one, ``space_inputs`` (over its
    value indices, ``IndexEncoding``, where it has no ``encode`` either)."""
    hook = getattr(space, "belief_inputs", None)
    if hook is not None:
        return hook(kernel, **kw)
    return space_inputs(space if callable(getattr(space, "encode", None)) else IndexEncoding(space), kernel, **kw)


def _space_signals(space: Any, signals: Any, uses: tuple[str, ...], signal_use: str) -> tuple[Any, Any]:
    """``signals`` on a space of your own -> (the reference saved in the parameters, the function)."""
    if signals is None:
        return None, None
    if "features" in uses:
        raise ConfigError(f"signal_use {signal_use!r}: on a space of your own the signals enter the prior "
                          "mean ('mean') and the initial design ('init'), not the kernel")
    if signals == "costs":
        if getattr(space, "cost_fn", None) is None:
            raise ConfigError(f"signals='costs' but space {space.name!r} has no known costs (Space(costs=...))")
        return "costs", space.costs
    if isinstance(signals, str):
        from ..spaces.base import load_object

        return signals, load_object(signals, "signals")
    from ..spaces.prior import ChoicePrior

    if isinstance(signals, Mapping) and set(signals) == {"choice_prior"}:  # a saved ChoicePrior
        doc = signals["choice_prior"]
        signals = ChoicePrior(space, doc["log_probs"], name=doc["name"])
    if isinstance(signals, ChoicePrior):  # saved as data, so a loaded strategy has it back
        return {"choice_prior": signals.to_dict()}, signals
    if callable(signals):
        return f"{getattr(signals, '__module__', '?')}:{getattr(signals, '__qualname__', '?')}", signals
    raise ConfigError(f"signals on a space of your own: 'costs', a function config -> {{name: value}} or its "
                      f"'pkg.module:function' reference, got {signals!r}")


def resolve_signals(signals: Any) -> tuple[list[str] | dict[str, list[float]] | None, np.ndarray | None]:
    """NB201 ``signals`` as ``BOEDController`` takes them -> (the form saved in its parameters, the
    values per isomorphism class, ``n_classes x K`` in ``canonical_cells()`` order), or (None, None).

    Names are read from the shipped table (``boed_nas.nb201.signals.load_signals``: a ConfigError
    naming the command that builds it when it is absent), NASLib's proxy names (``nwot``, ``jacov``)
    as aliases of ours; a mapping's arrays are taken over the 15,625 cell codes (each class at its
    representative's code) or over the 6,466 classes, and a mapping's mappings (arch string, code
    or ``Cell`` -> value, as NASLib's zero-cost tables key them) give each class the mean of its
    members' values.
    """
    from ..nb201.space import N_CELLS, canonical_cells

    if signals is None:
        return None, None
    universe = canonical_cells()
    if isinstance(signals, Mapping):
        if not signals:
            raise ConfigError("signals is an empty mapping; pass None for no signals")
        saved, cols = {}, []
        for name, arr in signals.items():
            if isinstance(arr, Mapping):  # values keyed by cell (arch string, code, NASLib's tables' form)
                arr = _per_class(name, arr, universe)
            try:
                v = np.asarray(arr, dtype=np.float64)
            except (TypeError, ValueError):
                v = np.empty((0, 0))
            if not isinstance(name, str) or v.ndim != 1 or len(v) not in (N_CELLS, len(universe)):
                raise ConfigError(f"signal {name!r} must be an array over the {N_CELLS} cell codes or the "
                                  f"{len(universe)} classes of canonical_cells(), or a mapping arch string -> value, "
                                  f"got shape {v.shape}")
            if len(v) == N_CELLS:
                v = v[[c.code for c in universe]]
            if not np.all(np.isfinite(v)):
                raise ConfigError(f"signal {name!r} has {int((~np.isfinite(v)).sum())} non-finite values among the "
                                  "isomorphism classes' representatives")
            saved[name] = v.tolist()
            cols.append(v)
        return saved, np.stack(cols, axis=1)
    names = [n.strip() for n in signals.replace(",", "+").split("+")] if isinstance(signals, str) else signals
    if (isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names
            or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names)):
        raise ConfigError(f"signals must be distinct signal names (a list or a '+'-joined string) or a mapping "
                          f"name -> array over the {N_CELLS} cell codes, got {signals!r}")
    from ..nb201.signals import NASLIB_NAMES, load_signals

    names = [NASLIB_NAMES.get(n, n) for n in names]  # NASLib's proxy names as aliases of ours
    if len(set(names)) != len(names):
        raise ConfigError(f"signals {signals!r} name one signal twice (NASLib's names are aliases: {NASLIB_NAMES})")
    table = load_signals()
    unknown = [n for n in names if n not in table.columns]
    if unknown:
        raise ConfigError(f"unknown signals {unknown}; the shipped table has {list(table.columns)}")
    codes = [c.code for c in universe]
    missing = np.setdiff1d(codes, table.index.to_numpy())
    if len(missing):
        raise ConfigError(f"the shipped signal table lacks {len(missing)} of the {len(universe)} isomorphism "
                          "classes; rebuild it with `python -m tools.build_nb201_signals`")
    values = table.loc[codes, list(names)].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ConfigError("the shipped signal table holds non-finite values; rebuild it")
    return list(names), values


def _per_class(name: str, values: Mapping[Any, Any], universe: Sequence[Any]) -> np.ndarray:
    """One value per isomorphism class of ``universe`` from values keyed by cell (arch strings,
    codes, ``Cell``s): the mean over the class's members given; ConfigError naming a key that is not
    a cell or a class none of whose members is given."""
    from ..errors import SpaceError
    from ..nb201.space import Cell

    sums: dict[Any, list[float]] = {}
    for key, value in values.items():
        try:
            cell = Cell.parse(key)
        except SpaceError as e:
            raise ConfigError(f"signal {name!r}: key {key!r} is not a cell ({e})") from None
        try:
            sums.setdefault(cell.canonical(), []).append(float(value))
        except (TypeError, ValueError):
            raise ConfigError(f"signal {name!r}: the value of {key!r} is not a number: {value!r}") from None
    missing = [c for c in universe if c not in sums]
    if missing:
        raise ConfigError(f"signal {name!r} has no value for {len(missing)} of the {len(universe)} isomorphism classes, "
                          f"e.g. {missing[0]}")
    return np.array([np.mean(sums[c]) for c in universe])


__all__ = ["INIT_TOP_FRACTION", "BeliefInputs", "belief_inputs", "cell_inputs", "resolve_signals", "space_inputs"]
