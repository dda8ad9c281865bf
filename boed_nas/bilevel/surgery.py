"""Gradient surgery (PCGrad, Yu et al. 2020) between the accuracy and the cost gradient on alpha."""

from __future__ import annotations

import torch

from ..errors import ConfigError


def cosine(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-12) -> float:
    na, nb = a.norm(), b.norm()
    if na < eps or nb < eps:
        return 0.0
    return float((a * b).sum() / (na * nb))


def pcgrad(g_acc: torch.Tensor, g_cost: torch.Tensor, eps: float = 1e-12) -> tuple[torch.Tensor, float]:
    """Combine two gradients; when they conflict (cosine < 0) project each onto the other's normal plane.

    Returns ``(g, cos)``: ``g = g_acc + g_cost`` if ``cos >= 0``, else
    ``(g_acc - (g_acc.g_cost/|g_cost|^2) g_cost) + (g_cost - (g_cost.g_acc/|g_acc|^2) g_acc)``,
    and the cosine between the original gradients.
    """
    if g_acc.shape != g_cost.shape:
        raise ConfigError(f"gradient shapes differ: {tuple(g_acc.shape)} vs {tuple(g_cost.shape)}")
    cos = cosine(g_acc, g_cost, eps)
    if cos >= 0:
        return g_acc + g_cost, cos
    dot = (g_acc * g_cost).sum()
    a = g_acc - dot / g_cost.pow(2).sum().clamp_min(eps) * g_cost
    c = g_cost - dot / g_acc.pow(2).sum().clamp_min(eps) * g_acc
    return a + c, cos
