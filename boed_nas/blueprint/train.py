"""Training a discrete blueprint network from scratch (the derived network, or a baseline) and scoring it."""

from __future__ import annotations

import contextlib
import math
import time

import torch
import torch.nn.functional as F

from ..bilevel.data import Splits
from ..errors import ConfigError
from .network import BlueprintNetwork
from .space import Blueprint, BlueprintSpace


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """torch's intra-op threads set to ``threads`` (None: as they are) for the block, then restored."""
    old = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def seeded_training(seed: int, threads: int | None):
    """A training's randomness and threads: torch's global generator seeded with ``seed`` (the
    weights' initialisation; restored after the block) and ``threads`` set; yields the generator of
    the data order (``seed + 1``)."""
    with torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed + 1)


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    """Accuracy (%) in eval mode (BatchNorm running statistics)."""
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size]).argmax(-1) == y[i:i + batch_size]).sum())
    model.train(was)
    return 100.0 * correct / max(1, len(x))


def train_blueprint(blueprint: Blueprint | str, space: BlueprintSpace, splits: Splits, *, epochs: int = 20,
                    seed: int = 0, batch_size: int = 64, lr: float = 0.05, lr_min: float = 1e-3,
                    momentum: float = 0.9, weight_decay: float = 3e-4, grad_clip: float = 5.0,
                    threads: int | None = 1, progress: bool = False, desc: str = "retrain",
                    curve: bool = False) -> dict:
    """Train the blueprint's network from a fresh initialisation (seeded) on ``splits.x_train``.

    SGD with momentum and a cosine learning rate, as the supernet's weights. Returns validation
    accuracy (the split the search used for alpha) and, when ``splits`` has one, test accuracy
    (held out from search), plus training accuracy/loss and seconds.

    ``curve``: also the learning curve, ``val_curve`` (validation accuracy after each epoch of this
    schedule) and ``seconds_curve`` (training seconds up to the end of each epoch, the validation
    passes not counted). Scoring in eval mode draws no random numbers and updates no statistic, so
    the training, and its final accuracies, are those of ``curve=False``.
    """
    from tqdm.auto import tqdm

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive integer, got {epochs!r}")
    bp = space.parse(blueprint)
    with seeded_training(seed, threads) as gen:
        net = BlueprintNetwork(bp, space)
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs, eta_min=lr_min)
        n = len(splits.x_train)
        steps = max(1, math.ceil(n / batch_size))
        t0 = time.perf_counter()
        bar = tqdm(total=epochs * steps, desc=desc, unit="step", disable=not progress, leave=False)
        loss_sum = correct = seen = 0.0
        val_curve, seconds_curve, scoring = [], [], 0.0
        for _ in range(epochs):
            net.train()
            perm = torch.randperm(n, generator=gen)
            loss_sum = correct = seen = 0.0
            for s in range(steps):
                idx = perm[s * batch_size:(s + 1) * batch_size]
                xb, yb = splits.x_train[idx], splits.y_train[idx]
                logits = net(xb)
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
                opt.step()
                loss_sum += float(loss.detach()) * len(yb)
                correct += float((logits.argmax(-1) == yb).sum())
                seen += len(yb)
                bar.update()
            sched.step()
            if curve:
                t1 = time.perf_counter()
                seconds_curve.append(t1 - t0 - scoring)
                val_curve.append(accuracy(net, splits.x_val, splits.y_val))
                scoring += time.perf_counter() - t1
        bar.close()
        seconds = time.perf_counter() - t0 - scoring
        out = {"blueprint": str(bp), "epochs": epochs, "seed": seed, "train_loss": loss_sum / seen,
               "train_acc": 100 * correct / seen, "val_acc": accuracy(net, splits.x_val, splits.y_val),
               "test_acc": (accuracy(net, splits.x_test, splits.y_test) if splits.x_test is not None else None),
               "train_seconds": seconds}
        if curve:
            out.update(val_curve=val_curve, seconds_curve=seconds_curve)
    return out
