"""The bilevel loop: alternate architecture steps (validation split) and weight steps (training split)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .architect import Architect
from .data import Splits
from .relaxation import sample_gumbel


def bilevel_epoch(model, architect: Architect, w_opt, splits: Splits, cfg, gen: torch.Generator, *, steps: int,
                  noise_shape: tuple[int, ...], mixing, probs, search_alpha: bool, bar=None) -> tuple[dict, list[dict]]:
    """One epoch of the bilevel loop, shared by the cell supernet and the blueprint search.

    Per step: an alpha step on a validation batch (``architect.step``, skipped while
    ``search_alpha`` is False, i.e. during warm-up), then a weight step on a training batch.
    ``mixing(alpha, noise) -> (weights, hard)`` and ``probs(alpha)`` give the relaxation of the
    space at this epoch's temperature; Gumbel noise of ``noise_shape`` is drawn from ``gen`` unless
    ``cfg.mode`` is softmax. Returns ({train_loss, train_acc, w_lr}, the architect's step logs).
    """
    model.train()
    n_tr, n_va = len(splits.x_train), len(splits.x_val)
    perm_tr = torch.randperm(n_tr, generator=gen)
    perm_va = torch.randperm(n_va, generator=gen)
    w_lr = w_opt.param_groups[0]["lr"]
    xi = w_lr if cfg.xi is None else cfg.xi
    tot_loss = tot_correct = tot_n = 0.0
    logs: list[dict] = []
    for s in range(steps):
        idx = perm_tr[s * cfg.batch_size:(s + 1) * cfg.batch_size]
        vdx = perm_va[(s * cfg.batch_size) % n_va:][:cfg.batch_size]
        if len(vdx) == 0:
            vdx = perm_va[:cfg.batch_size]
        xb, yb = splits.x_train[idx], splits.y_train[idx]
        noise = sample_gumbel(noise_shape, gen) if cfg.mode != "softmax" else None
        if search_alpha:
            logs.append(architect.step((xb, yb), (splits.x_val[vdx], splits.y_val[vdx]),
                                       lambda alpha, _noise=noise: mixing(alpha, _noise), probs, xi))
        noise_w = sample_gumbel(noise_shape, gen) if cfg.mode != "softmax" else None
        with torch.no_grad():
            weights, hard = mixing(model.alpha, noise_w)
        w_opt.zero_grad(set_to_none=True)
        logits = model(xb, weights, hard)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        model.alpha.grad = None
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.weight_parameters(), cfg.grad_clip)
        w_opt.step()
        tot_loss += float(loss.detach()) * len(yb)
        tot_correct += float((logits.argmax(-1) == yb).sum())
        tot_n += len(yb)
        if bar is not None:
            bar.update()
    return {"train_loss": tot_loss / tot_n, "train_acc": 100 * tot_correct / tot_n, "w_lr": w_lr}, logs


@torch.no_grad()
def evaluate_mixed(model, x: torch.Tensor, y: torch.Tensor, weights, batch_size: int = 256) -> float:
    """Accuracy (%) of a mixed network under fixed mixing ``weights``.

    BatchNorm uses batch statistics (the running averages lag behind a supernet whose mixing
    changes every step); the running buffers are restored afterwards.
    """
    saved = {n: b.clone() for n, b in model.named_buffers()}
    was = model.training
    model.train()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size], weights).argmax(-1) == y[i:i + batch_size]).sum())
    for n, b in model.named_buffers():
        b.copy_(saved[n])
    model.train(was)
    return 100.0 * correct / len(x)
