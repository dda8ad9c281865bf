"""The degeneracy guard: keep a cell from collapsing into skip connections / ``none``.

The quantity guarded is the *parametric depth* of a cell: the largest number of convolutions
(``nor_conv_1x1``, ``nor_conv_3x3``) on any live input-to-output path (a path with no ``none``
edge). A cell passes the guard with ``min_param = m`` when its parametric depth is >= m; with
m = 1 this is exactly ``Cell.has_parametric_path()``.

Why the deepest path and not *every* path: NB201's best cells keep a parameter-free residual
edge ``skip_connect~0`` into the output node (the CIFAR-10 optimum does), so requiring a conv on
every path would forbid them. Collapse means that *no* path computes anything, which this rules out.

In search, :func:`soft_guard` is a differentiable surrogate: the probability, under the product
distribution of the mixing weights and treating edges into a node as independent, that some live
path carries >= m convolutions. It is exact (0 or 1) for one-hot weights. The penalty is
``-log(soft_guard)``, or with a target probability the hinge ``max(0, log(target) - log(soft_guard))``.
"""

from __future__ import annotations

import math

import torch

from boed_nas.nb201.space import EDGES, N_NODES, NONE, OPS, PARAMETRIC_OPS, Cell

from ..errors import ConfigError

_CONV = sorted(PARAMETRIC_OPS)
_FREE = [o for o in range(len(OPS)) if o not in PARAMETRIC_OPS and o != NONE]  # skip, pool


def parametric_depth(cell: Cell) -> int:
    """Most convolutions on any live input-to-output path; -1 if the output is disconnected."""
    depth = {0: 0}
    for j in range(1, N_NODES):
        best = -1
        for (to, src), o in zip(EDGES, cell.ops):
            if to != j or o == NONE or depth[src] < 0:
                continue
            best = max(best, depth[src] + (o in PARAMETRIC_OPS))
        depth[j] = best
    return depth[N_NODES - 1]


def passes_guard(cell: Cell, min_param: int = 1) -> bool:
    """True if the cell has a live path with at least ``min_param`` convolutions (and >= 1 conv path)."""
    check_min_param(min_param)
    return cell.has_parametric_path() and parametric_depth(cell) >= min_param


def check_min_param(min_param: int) -> None:
    if isinstance(min_param, bool) or not isinstance(min_param, int) or not 1 <= min_param <= N_NODES - 1:
        raise ConfigError(f"min_param (convolutions required on the deepest path) must be an integer in "
                         f"1..{N_NODES - 1}, got {min_param!r}")


def soft_guard(weights: torch.Tensor, min_param: int = 1) -> torch.Tensor:
    """P(some live path carries >= min_param convs) under mixing weights (6 x 5); differentiable."""
    check_min_param(min_param)
    K = min_param
    p_conv = weights[:, _CONV].sum(-1)
    p_free = weights[:, _FREE].sum(-1)
    one = weights.new_ones(())
    # s[j][k] = P(some live path into node j with >= k convs), k = 0..K
    s = [[one] + [weights.new_zeros(()) for _ in range(K)]]
    for j in range(1, N_NODES):
        miss = [one for _ in range(K + 1)]
        for e, (to, src) in enumerate(EDGES):
            if to != j:
                continue
            for k in range(K + 1):
                via = (p_conv[e] + p_free[e]) * s[src][0] if k == 0 else p_conv[e] * s[src][k - 1] + p_free[e] * s[src][k]
                miss[k] = miss[k] * (1 - via)
        s.append([1 - m for m in miss])
    return s[N_NODES - 1][K]


def guard_penalty(weights: torch.Tensor, min_param: int = 1, eps: float = 1e-6,
                  target: float | None = None) -> torch.Tensor:
    """``-log(soft_guard)``: small for healthy mixing weights, large as the cell nears collapse.

    ``target`` in (0, 1) makes it a constraint-like hinge ``max(0, log(target) - log(soft_guard))``:
    exactly zero (no pull towards convolutions) while P(guard holds) >= target.
    """
    nll = -torch.log(soft_guard(weights, min_param).clamp_min(eps))
    if target is None:
        return nll
    if not 0 < target < 1:
        raise ConfigError(f"guard target must be a probability in (0, 1), got {target!r}")
    return torch.clamp(nll + math.log(target), min=0.0)
