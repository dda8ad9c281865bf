"""Search strategies, all on the one ask/tell interface of ``boed_nas.strategy.Strategy``."""

from __future__ import annotations

from typing import Any

from boed_nas.strategy import Strategy, registered_strategies

from .baselines import LocalSearch, RandomSearch, RegularizedEvolution

# name -> "module:Class"; imported on first use so that light strategies stay light
_LAZY = {
    "boed": "boed_nas.controller:BOEDController",
    "bananas": "strategies.bananas:Bananas",
    "boed-supernet": "strategies.supernet:SupernetBOED",
    "darts": "strategies.supernet:DARTS",
    "ax": "strategies.ax:AxDefault",
    "sobol": "strategies.ax:AxSobol",
    "boed-mo": "boed_nas.multiobjective:MultiObjectiveBOED",
    "mo-random": "strategies.multiobjective:MORandomSearch",
    "nsga2": "strategies.multiobjective:NSGA2Search",
    "qnehvi": "strategies.multiobjective:QNEHVI",
    "parego": "strategies.multiobjective:ParEGO",
}


def available() -> list[str]:
    return sorted(set(registered_strategies()) | set(_LAZY))


def strategy_class(name: str) -> type[Strategy]:
    reg = registered_strategies()
    if name not in reg and name in _LAZY:
        import importlib

        mod, _, cls = _LAZY[name].partition(":")
        try:
            getattr(importlib.import_module(mod), cls)
        except ModuleNotFoundError as e:
            raise ValueError(f"strategy {name!r} is not available: {e}") from e
        reg = registered_strategies()
    if name not in reg:
        raise ValueError(f"unknown strategy {name!r}; expected one of {available()}")
    return reg[name]


def make_strategy(name: str, *, seed: int = 0, **kwargs: Any) -> Strategy:
    """Build a strategy by name, e.g. ``make_strategy("evolution", seed=3)``."""
    return strategy_class(name)(seed=seed, **kwargs)


__all__ = ["LocalSearch", "RandomSearch", "RegularizedEvolution", "Strategy", "available", "make_strategy",
           "strategy_class"]
