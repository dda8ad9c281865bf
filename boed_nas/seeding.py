"""Where randomness comes from: one ``seed`` per run, turned into generators in one place.

``as_rng(seed)`` is the one place a seed becomes a ``numpy.random.Generator``;
``derive_seed(*entropy)`` is the one recipe for a seed derived from several integers (the run's
seed, how many observations there are, which pick of a batch...): a ``numpy.random.SeedSequence``
of them, so derived seeds are independent streams and the same integers give the same seed on any
machine. ``torch_generator(*entropy)`` wraps it for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import ConfigError

if TYPE_CHECKING:
    import torch


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The one place a seed becomes a generator (a Generator passes through unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
    return np.random.default_rng(seed)


def derive_seed(*entropy: int, bits: int = 63) -> int:
    """A non-negative seed of ``bits`` bits (63 or 31) drawn from ``SeedSequence(entropy)``."""
    seq = np.random.SeedSequence([int(e) for e in entropy])
    if bits == 63:
        return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    if bits == 31:
        return int(seq.generate_state(1, dtype=np.uint32)[0] >> np.uint32(1))
    raise ConfigError(f"bits must be 63 or 31, got {bits!r}")


def torch_generator(*entropy: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``derive_seed(*entropy)``."""
    import torch  # here, not at the top: ``import boed_nas`` (cells, strategies, outcomes) stays free of torch

    return torch.Generator().manual_seed(derive_seed(*entropy))


__all__ = ["as_rng", "derive_seed", "torch_generator"]
