"""A one-shot supernet as a cheap estimate of every blueprint's accuracy (a fidelity level, or a signal).

``train_one_shot`` trains a ``BlueprintSupernet``'s weights by single-path uniform sampling (Guo et
al., "Single Path One-Shot NAS", ECCV 2020): every step runs one blueprint drawn uniformly from the
space, so every path is trained about equally and none is favoured by architecture logits (the
bilevel search of ``search.py`` trains the paths its alpha prefers, which biases a ranking).
``OneShotEstimator`` then scores any blueprint with the inherited weights: BatchNorm statistics
recalibrated on a few training batches for that path (the supernet's running statistics mix every
path's), then the validation accuracy in eval mode. Each estimate is timed, so a search can charge
it its forward passes and the supernet its training once::

    from boed_nas.blueprint.oneshot import train_one_shot
    estimator = train_one_shot(space, splits, epochs=16, seed=0)   # estimator.train_seconds
    acc, seconds = estimator.estimate(blueprint)

Written here rather than taken from a library: the NAS libraries' one-shot trainers (NNI's
``RandomOneShot``, NASLib's ``OneShotOptimizer``) are tied to their own spaces and training loops;
the supernet and its single-path forward (``BlueprintSupernet.forward(hard=...)``) are boed-nas's own.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..bilevel.data import Splits
from ..errors import ConfigError
from .network import BlueprintSupernet
from .space import Blueprint, BlueprintSpace
from .train import seeded_training, torch_threads


def _path(space: BlueprintSpace, bp: Blueprint) -> tuple[torch.Tensor, list[int]]:
    """The one-hot mixing weights and the option index per group that run only ``bp``'s path."""
    return torch.as_tensor(space.one_hot(bp), dtype=torch.float32), list(space.to_indices(bp))


class OneShotEstimator:
    """Weight-sharing validation accuracy of a blueprint in a trained ``BlueprintSupernet``.

    ``recalibrate_batches`` training batches of ``batch_size`` (a fixed slice of the training split,
    the same for every blueprint) re-estimate the BatchNorm statistics of the blueprint's path before
    it is scored; 0 scores with the supernet's own running statistics.
    """

    def __init__(self, supernet: BlueprintSupernet, splits: Splits, *, train_seconds: float = 0.0,
                 recalibrate_batches: int = 4, batch_size: int = 64, threads: int | None = 1):
        if isinstance(recalibrate_batches, bool) or not isinstance(recalibrate_batches, int) or recalibrate_batches < 0:
            raise ConfigError(f"recalibrate_batches must be a non-negative integer, got {recalibrate_batches!r}")
        self.supernet, self.splits, self.space = supernet, splits, supernet.space
        self.train_seconds = float(train_seconds)
        self.recalibrate_batches, self.batch_size, self.threads = recalibrate_batches, batch_size, threads
        self._bns = [m for m in supernet.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]

    @torch.no_grad()
    def estimate(self, blueprint: Blueprint | str) -> tuple[float, float]:
        """(validation accuracy %, seconds the estimate took: recalibration and scoring)."""
        bp = self.space.parse(blueprint)
        weights, hard = _path(self.space, bp)
        net, s = self.supernet, self.splits
        saved = [(bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone(), bn.momentum)
                 for bn in self._bns]
        with torch_threads(self.threads):
            t0 = time.perf_counter()
            try:
                if self.recalibrate_batches:
                    for bn in self._bns:  # a cumulative average over the calibration batches, from scratch
                        bn.reset_running_stats()
                        bn.momentum = None
                    net.train()
                    n = min(len(s.x_train), self.recalibrate_batches * self.batch_size)
                    for i in range(0, n, self.batch_size):
                        net(s.x_train[i:i + self.batch_size], weights, hard)
                net.eval()
                correct = 0
                for i in range(0, len(s.x_val), 512):
                    correct += int((net(s.x_val[i:i + 512], weights, hard).argmax(-1) == s.y_val[i:i + 512]).sum())
                seconds = time.perf_counter() - t0
            finally:
                for bn, (mean, var, count, momentum) in zip(self._bns, saved):  # the supernet as it was
                    bn.running_mean.copy_(mean)
                    bn.running_var.copy_(var)
                    bn.num_batches_tracked.copy_(count)
                    bn.momentum = momentum
        return 100.0 * correct / max(1, len(s.x_val)), seconds


def train_one_shot(space: BlueprintSpace, splits: Splits, *, epochs: int = 16, seed: int = 0, batch_size: int = 64,
                   lr: float = 0.05, lr_min: float = 1e-3, momentum: float = 0.9, weight_decay: float = 3e-4,
                   grad_clip: float = 5.0, threads: int | None = 1, recalibrate_batches: int = 4) -> OneShotEstimator:
    """Train a supernet of ``space`` on ``splits.x_train`` by single-path uniform sampling (one blueprint
    drawn uniformly per step, from ``seed``), SGD with momentum and a cosine learning rate as
    ``train_blueprint``; the estimator carries the measured training seconds."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive integer, got {epochs!r}")
    with seeded_training(seed, threads) as gen:
        rng = np.random.default_rng(seed + 2)
        net = BlueprintSupernet(space)
        params = net.weight_parameters()
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs, eta_min=lr_min)
        n = len(splits.x_train)
        steps = max(1, math.ceil(n / batch_size))
        t0 = time.perf_counter()
        net.train()
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for s in range(steps):
                idx = perm[s * batch_size:(s + 1) * batch_size]
                weights, hard = _path(space, space.sample(rng))
                loss = F.cross_entropy(net(splits.x_train[idx], weights, hard), splits.y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(params, grad_clip)
                opt.step()
            sched.step()
        seconds = time.perf_counter() - t0
    return OneShotEstimator(net, splits, train_seconds=seconds, recalibrate_batches=recalibrate_batches,
                            batch_size=batch_size, threads=threads)
