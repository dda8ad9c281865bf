"""The outcome of a blueprint search: the logits, the space and its costs, the search's history."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .cost import BlueprintCosts
from .discretise import derive
from .network import group_probs
from .space import Blueprint, BlueprintSpace


@dataclass
class BlueprintSearchResult:
    alpha: np.ndarray  # flat logits, layout of space.groups()
    space: BlueprintSpace
    costs: BlueprintCosts
    config: dict
    history: list[dict] = field(default_factory=list)
    alpha_history: list[dict] = field(default_factory=list)
    splits: object = None
    model: object = None
    search_seconds: float = float("nan")
    data_name: str = ""

    @property
    def final_tau(self) -> float:
        return float(self.history[-1]["tau"]) if self.history else 1.0

    def probs(self, tau: float = 1.0) -> np.ndarray:
        return group_probs(torch.as_tensor(self.alpha), self.space.groups(), tau).numpy()

    def expected(self, metric: str = "flops_M", tau: float = 1.0) -> float:
        return float(self.costs.expected(torch.as_tensor(self.probs(tau)), metric))

    def derive(self, budget: float | None | str = "config", metric: str | None = None) -> tuple[Blueprint, dict]:
        """The derived blueprint and the derivation report (budget: the search's unless given)."""
        budget = self.config.get("budget") if budget == "config" else budget
        metric = metric or self.config.get("budget_metric", "flops_M")
        return derive(self.alpha, self.space, self.costs, budget, metric)

    @property
    def supernet_val_acc(self) -> float:
        return float(self.history[-1].get("supernet_val_acc", float("nan"))) if self.history else float("nan")

    def gate_history(self) -> list[dict]:
        return [{"epoch": r["epoch"], "stage": r["stage"], "layer": r["layer"], "p_keep": r["prob"],
                 "alpha_keep": r["alpha"]} for r in self.alpha_history if r["kind"] == "gate" and r["option"] == "keep"]
