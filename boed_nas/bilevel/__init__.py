"""The bilevel machinery the supernet and the blueprint search share.

A differentiable architecture search trains the network's weights on a training split and the
architecture logits ``alpha`` on a validation split, in turn:

- ``config``: ``BilevelConfig``, the settings every such search shares (a space adds its own);
- ``relaxation``: mixing weights from logits (softmax, Gumbel-softmax, GDAS hard sampling) and the
  temperature schedule;
- ``mixed``: mixed ops (a weighted sum of candidates, channel adapters for mixed widths) and the
  ``alpha`` / weights split of a searched model;
- ``architect``: alpha's optimiser and gradient (first order or unrolled second order) and the
  penalties (hinge budget, lambda * E[cost], sparsity), with PCGrad ``surgery`` between the
  accuracy and the cost gradient;
- ``loop``: one epoch of alternating alpha and weight steps, and the mixed network's accuracy;
- ``data``: offline data sets (scikit-learn's digits by default) and their seeded splits.
"""

from .architect import Architect, Penalties, hinge_budget, sparsity_penalty
from .config import BilevelConfig
from .data import Splits, load_data, make_splits
from .loop import bilevel_epoch, evaluate_mixed
from .mixed import ArchitectureParameters, ChannelAdapter, MixedOp, width_candidates
from .relaxation import (
           MODES,
           SCHEDULES,
           TemperatureSchedule,
           mixing_weights,
           sample_gumbel,
)
from .surgery import cosine, pcgrad

__all__ = ["MODES", "SCHEDULES", "Architect", "ArchitectureParameters", "BilevelConfig", "ChannelAdapter",
           "MixedOp", "Penalties", "Splits", "TemperatureSchedule", "bilevel_epoch", "cosine", "evaluate_mixed",
           "hinge_budget", "load_data", "make_splits", "mixing_weights", "pcgrad", "sample_gumbel",
           "sparsity_penalty", "width_candidates"]
