"""Old module paths of boed-nas 0.1, kept importable for one release with a ``DeprecationWarning``.

0.2 grouped the library by concept (``nb201``, ``bo``, ``mo``, ``bilevel``, ``integrations``,
``experiment``, ``cli``). ``import boed_nas.controller`` still works and gives the module now at
``boed_nas.bo.controller`` (the same module object, so classes and registries are shared), with a
warning naming the new path. One finder serves every moved path (``MOVED``); it is removed in 0.3.
The top-level ``strategies`` and ``benchmarks`` packages are gone for good (they were generic
import names installed into users' environments): see README, "What changed in 0.2".
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED: dict[str, str] = {
    "boed_nas.space": "boed_nas.nb201.space",
    "boed_nas.encodings": "boed_nas.nb201.encodings",
    "boed_nas.network": "boed_nas.nb201.network",
    "boed_nas.data": "boed_nas.nb201.data",
    "boed_nas.belief": "boed_nas.bo.belief",
    "boed_nas.acquisition": "boed_nas.bo.acquisition",
    "boed_nas.controller": "boed_nas.bo.controller",
    "boed_nas.pareto": "boed_nas.mo.pareto",
    "boed_nas.multiobjective": "boed_nas.mo.controller",
    "boed_nas.ax": "boed_nas.integrations.ax",
    "boed_nas.supernet.data": "boed_nas.bilevel.data",
    "boed_nas.supernet.surgery": "boed_nas.bilevel.surgery",
    "boed_nas.supernet.cli": "boed_nas.cli.supernet",
    "boed_nas.blueprint.cli": "boed_nas.cli.blueprint",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path of ``MOVED`` and loads it as the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> None:
        return None  # a placeholder module; exec_module puts the real one in its place

    def exec_module(self, module: ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(f"{module.__name__} moved to {new} in boed-nas 0.2; the old path goes in 0.3",
                      DeprecationWarning, stacklevel=2)
        # the import system hands out whatever sys.modules holds under the old name once this returns
        sys.modules[module.__name__] = importlib.import_module(new)


_FINDER = _MovedModuleFinder()


def install() -> None:
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
