"""Search spaces of your own (``Space``: categorical and ordered variables, a constraint, known
costs; ``ChoicePrior``, a supernet's belief over them), the protocol every strategy searches through; see ``boed_nas.spaces.base``."""

from .base import (ENUMERATE_LIMIT, Categorical, Config, Integer, Ordered, Space, Variable, load_object, load_space,
                   parse_cost_bound)
from .fidelity import AtFidelity, Fidelity, FidelitySpace
from .prior import ChoicePrior
from .protocol import SearchSpace

__all__ = ["ENUMERATE_LIMIT", "AtFidelity", "Categorical", "ChoicePrior", "Config", "Fidelity", "FidelitySpace", "Integer", "Ordered", "SearchSpace", "Space",
           "Variable", "load_object", "load_space", "parse_cost_bound"]
