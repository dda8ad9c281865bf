"""The BOED controller's settings, in one place: ``BOEDConfig``.

Every setting is written once, as a field: the controller takes them as keyword arguments (what
``make_strategy("boed[n_init=5,kernel='wl']")`` passes), checks them here, saves them with its
state (``params``) and reads them as ``self.config.<name>``. A variant with other defaults or more
settings subclasses the dataclass (``boed_nas.mo.controller.MOConfig``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import ConfigError, check_int
from .acquisition import ACQUISITIONS
from .belief import parse_kernel, parse_signal_use

PENDING = ("believer", "fantasy", "ignore")
SHIPPED = "shipped"
"""``signals="shipped"``: the signals the space ships (its ``shipped_signals`` hook), none without."""
AUTO = "auto"
"""``signals="auto"`` (the default): ``"shipped"`` for a search without a fidelity, none for one with
a fidelity, whose cheap levels do what the signals did, better (measured on NB201's held-out seeds)."""
OUTPUT_TRANSFORMS = ("rank", "standardize")
RANDOM_WHEN = ("always", "stalled")
"""When the ``random_every`` turns come: on a fixed schedule, or while the search has stalled (no
better observation in the last ``random_every`` asks)."""
LEVEL_NOISE = ("shared", "level")
"""With a fidelity, the observation noise: one variance for every level, or one per level."""
LEVEL_KERNELS = ("icm", "scaled")
"""With a fidelity, the kernel between levels: a correlation learned per pair of levels (the intrinsic
coregionalisation model), or every level the target up to a scale (correlation fixed at 1)."""


@dataclass(frozen=True)
class BOEDConfig:
    """The settings of ``BOEDController`` (its docstring says what each does)."""

    kernel: str = "categorical+additive"
    acquisition: str = "mes"
    n_init: int = 5
    output_transform: str = "rank"
    n_samples: int = 256
    plausible_size: int = 1024
    proposals: Sequence[Any] | None = None
    op_prior: Any = None
    signals: str | Sequence[str] | Mapping[str, Any] | Any = "auto"
    signal_use: str = "mean"
    refit_every: int = 1
    cold_start_every: int = 10
    refit_fraction: float = 0.05
    pending: str = "believer"
    random_every: int = 10
    random_when: str = "stalled"
    noise: str = "shared"
    level_kernel: str = "scaled"

    acquisitions: ClassVar[tuple[str, ...]] = ACQUISITIONS

    def __post_init__(self) -> None:
        self._check_acquisition()
        parse_kernel(self.kernel)
        parse_signal_use(self.signal_use)
        if self.output_transform not in OUTPUT_TRANSFORMS:
            raise ConfigError(f"unknown output_transform {self.output_transform!r}; expected 'rank' or 'standardize'")
        for label, lo in (("n_init", 1), ("n_samples", 2), ("plausible_size", 2), ("refit_every", 1),
                          ("cold_start_every", 1), ("random_every", 0)):
            check_int(label, getattr(self, label), lo)
        f = self.refit_fraction
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f <= 1:
            raise ConfigError(f"refit_fraction must be a number in [0, 1], got {f!r}")
        if self.random_when not in RANDOM_WHEN:
            raise ConfigError(f"unknown random_when {self.random_when!r}; expected one of {list(RANDOM_WHEN)}")
        if self.noise not in LEVEL_NOISE:
            raise ConfigError(f"unknown noise {self.noise!r}; expected one of {list(LEVEL_NOISE)}")
        if self.level_kernel not in LEVEL_KERNELS:
            raise ConfigError(f"unknown level_kernel {self.level_kernel!r}; expected one of {list(LEVEL_KERNELS)}")
        if self.pending not in PENDING:
            raise ConfigError(f"unknown pending {self.pending!r}; expected one of {list(PENDING)}")

    def _check_acquisition(self) -> None:
        if self.acquisition not in self.acquisitions:
            raise ConfigError(f"unknown acquisition {self.acquisition!r}; expected one of {list(self.acquisitions)}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def split(cls, kw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``kw`` as (this config's settings, the rest: the base strategy's arguments)."""
        names = set(cls.names())
        return {k: v for k, v in kw.items() if k in names}, {k: v for k, v in kw.items() if k not in names}

    def replace(self, **changes: Any) -> BOEDConfig:
        return dataclasses.replace(self, **changes)


__all__ = ["AUTO", "BOEDConfig", "OUTPUT_TRANSFORMS", "PENDING", "SHIPPED"]
