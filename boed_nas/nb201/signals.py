r"""Signals at initialisation: what a network says about its accuracy before it is trained.

Every signal here is computed by boed-nas from the network it would train, at initialisation,
and from nothing else: never from a results table. For an NB201 cell the network is
``NB201Network(cell, C=16, N=5, num_classes=10)`` (the benchmark's CIFAR size, 3 x 32 x 32
inputs), its weights drawn by PyTorch's default initialisers from a generator seeded by
``(seed, cell.code)`` (the global RNG state is left as it was). The signals:

``params``
    The number of parameters.
``flops``
    FLOPs of one forward pass of one image (``boed_nas.nb201.network.count_flops``: 2 per
    multiply-add of convolutions and linear layers).
``synflow``
    :math:`\log \sum_\theta |\theta \, \partial R / \partial \theta|` over the weights of the
    convolutions and linear layers, where :math:`R` is the sum of the outputs of the network with
    every parameter replaced by its absolute value and BatchNorm replaced by the identity, on an
    all-ones input, in float64. Data-free. ``log1p`` rather than ``log``, so that a network whose
    output does not depend on its weights (a cell whose output is always zero) scores 0 instead of
    minus infinity; for every other NB201 cell the score is far above 1 and the two agree.
``snip``
    :math:`\sum_\theta |\theta \, \partial L / \partial \theta|` (convolutions and linear layers),
    :math:`L` the cross-entropy of the probe batch, the network in training mode.
``grad_norm``
    :math:`\sum_{\text{layers}} \lVert \partial L / \partial W \rVert_2` over the same layers and
    the same batch.
``jacob_cov``
    :math:`-\sum_i [\log(\lambda_i + k) + 1/(\lambda_i + k)]`, :math:`k = 10^{-5}`, over the
    eigenvalues of the correlation matrix of the per-image input gradients
    :math:`\partial (\sum \text{outputs}) / \partial x` on the probe batch (an image whose
    gradient is constant, e.g. zero, counts as perfectly correlated with every other: the worst
    score, finite).
``naswot``
    :math:`\log \lvert K_H + I \rvert` where :math:`K_H[i, j]` counts the ReLU units on which
    images i and j of the probe batch agree (both active or both inactive); the ReLU codes are read
    at the inputs of every ``nn.ReLU`` module. (Mellor et al. take :math:`\log \lvert K_H \rvert`;
    the identity, tiny against counts in the thousands, keeps a batch of identical codes finite.)

Larger is better for every one of them, as the literature reports them on NB201.

The probe batch (``probe_batch``) is drawn from a dataset that ships inside an installed package:
scikit-learn's 8x8 grey digits (``sklearn.datasets.load_digits``, 1,797 images, 10 classes),
scaled to [0, 1], upsampled bilinearly to 32 x 32, standardised over the whole set and repeated to
3 channels; a draw of 64 images (and their labels) without replacement seeded by ``seed``. Nothing
is downloaded.

References: Tanaka, Kunin, Yamins, Ganguli. Pruning neural networks without any data by
iteratively conserving synaptic flow (SynFlow). NeurIPS 2020. Lee, Ajanthan, Torr. SNIP:
single-shot network pruning based on connection sensitivity. ICLR 2019. Abdelfattah, Mehrotra,
Dudziak, Lane. Zero-cost proxies for lightweight NAS. ICLR 2021 (``grad_norm``, the
BatchNorm-free synflow). Mellor, Turner, Storkey, Crowley. Neural architecture search without
training. ICML 2021 (``jacob_cov``: its first version; ``naswot``: its second).

``network_signals(net, input_shape)`` computes all of them for any built torch network (a space
of the search-space abstraction where a configuration builds a network); ``cell_signals`` and
``signal_table`` do it for NB201 cells. ``load_signals()`` reads the table built for the 6,466
isomorphism classes and shipped in ``boed_nas/nb201/data/signals.csv.gz``
(``tools/build_nb201_signals.py``).
"""

from __future__ import annotations

import copy
import functools
import gzip
import math
from collections.abc import Iterable
from importlib import resources

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..errors import ConfigError
from ..seeding import derive_seed
from .network import NB201Network, count_flops, count_params
from .space import Cell

SIGNALS: tuple[str, ...] = ("params", "flops", "synflow", "snip", "grad_norm", "jacob_cov", "naswot")
"""The signals ``cell_signals`` computes, in the order of ``signal_table``'s columns."""

NASLIB_NAMES: dict[str, str] = {"jacov": "jacob_cov", "nwot": "naswot"}
"""NASLib's zero-cost proxy names that differ from ours (``params``, ``flops``, ``synflow``,
``snip``, ``grad_norm`` are the same): ``signals="nwot+synflow"`` reads the shipped columns of the
same measures (computed by boed-nas, see above; not NASLib's numbers)."""

INPUT_SHAPE = (3, 32, 32)
"""One NB201 CIFAR image: the input of the network the signals are computed on."""
NUM_CLASSES = 10
BATCH_SIZE = 64
SIGNALS_FILE = "signals.csv.gz"
BUILD_COMMAND = "python -m tools.build_nb201_signals --jobs 2"
_BATCH_SALT = 0xD161  # the probe batch's stream, apart from the weights' (seed, cell code)
_WEIGHTED = (nn.Conv2d, nn.Linear)


# ------------------------------------------------------------------------------ the probe batch
@functools.lru_cache(maxsize=1)
def _digits(image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None]  # 1797 x 1 x 8 x 8 in [0, 1]
    x = nn.functional.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    x = (x - x.mean()) / x.std()
    return x, torch.tensor(d.target, dtype=torch.long)


def probe_batch(seed: int = 0, n: int = BATCH_SIZE, input_shape: tuple[int, int, int] = INPUT_SHAPE
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (``n x C x H x W``, float32) and their labels (10 classes) from scikit-learn's
    bundled 8x8 digits, upsampled to ``H x W`` (square) and repeated to ``C`` channels; the draw
    is seeded by ``seed`` and the same on every machine."""
    c, h, w = input_shape
    if h != w:
        raise ConfigError(f"probe_batch makes square images, got input_shape={input_shape}")
    x, y = _digits(h)
    idx = np.random.default_rng(derive_seed(seed, _BATCH_SALT)).choice(len(y), size=n, replace=False)
    idx = torch.as_tensor(np.sort(idx))
    return x[idx].repeat(1, c, 1, 1), y[idx]


# ------------------------------------------------------------------------------ the signals
def _weights(net: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in net.modules() if isinstance(m, _WEIGHTED)]


def _without_batchnorm(net: nn.Module) -> nn.Module:
    for name, child in net.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            _without_batchnorm(child)
    return net


def synflow(net: nn.Module, input_shape: tuple[int, ...] = INPUT_SHAPE) -> float:
    """log1p of the SynFlow score of ``net`` (left unchanged): a float64 copy with absolute-valued
    parameters and BatchNorm removed, an all-ones input of one image."""
    net = _without_batchnorm(copy.deepcopy(net)).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    net(torch.ones((1, *input_shape), dtype=torch.float64)).sum().backward()
    with torch.no_grad():
        score = sum(float((w * w.grad).abs().sum()) for w in _weights(net) if w.grad is not None)
    return math.log1p(score)


def gradient_signals(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """``snip``, ``grad_norm``, ``jacob_cov`` and ``naswot`` of ``net`` (a copy, in training mode)
    on the batch ``(x, y)``, from one forward pass and two backward passes."""
    net = copy.deepcopy(net).train()
    n = x.shape[0]
    K = torch.zeros(n, n, dtype=torch.float64)

    def relu_codes(module, inputs):
        c = (inputs[0].detach().reshape(n, -1) > 0).float()
        K.add_((c @ c.T + (1 - c) @ (1 - c).T).double())

    hooks = [m.register_forward_pre_hook(relu_codes) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        x = x.clone().requires_grad_(True)
        out = net(x)
    finally:
        for h in hooks:
            h.remove()
    weights = _weights(net)
    loss = nn.functional.cross_entropy(out, y)
    grads = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
    pairs = [(w, g) for w, g in zip(weights, grads) if g is not None]
    snip = sum(float((w.detach() * g).abs().sum()) for w, g in pairs)
    grad_norm = sum(float(g.norm()) for _, g in pairs)
    (jac,) = torch.autograd.grad(out.sum(), x)
    return {"snip": snip, "grad_norm": grad_norm, "jacob_cov": _jacob_cov(jac.reshape(n, -1)),
            "naswot": float(torch.linalg.slogdet(K + torch.eye(n, dtype=K.dtype))[1])}


def _jacob_cov(jac: torch.Tensor, k: float = 1e-5) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jac.double().numpy())
    # an image whose input gradient is constant (zero: the output ignores the input) has no
    # correlation; it counts as perfectly correlated, the degenerate end of the scale
    corr = np.nan_to_num(corr, nan=1.0)
    v = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def network_signals(net: nn.Module, input_shape: tuple[int, int, int] = INPUT_SHAPE, *, seed: int = 0,
                    batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, float]:
    """Every signal in ``SIGNALS`` for a built network taking ``input_shape`` images (``net`` is
    left unchanged); the gradient signals on ``batch``, by default ``probe_batch(seed)``."""
    x, y = probe_batch(seed, input_shape=input_shape) if batch is None else batch
    out: dict[str, float] = {"params": float(count_params(net)),
                             "flops": float(count_flops(copy.deepcopy(net), (1, *input_shape))),
                             "synflow": synflow(net, input_shape)}
    out.update(gradient_signals(net, x, y))
    return {k: out[k] for k in SIGNALS}


def build_network(cell: Cell | str | int, seed: int = 0) -> NB201Network:
    """``NB201Network(cell, C=16, N=5, num_classes=10)`` with weights from a generator seeded by
    ``(seed, cell.code)``; the global RNG state is left as it was."""
    cell = Cell.parse(cell)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, cell.code))
        return NB201Network(cell, C=16, N=5, num_classes=NUM_CLASSES)


def cell_signals(cell: Cell | str | int, seed: int = 0) -> dict[str, float]:
    """The signals at initialisation of ``cell``'s NB201 network (CIFAR size), computed from the
    network alone (no results table is read). The same cell and seed give the same numbers."""
    return network_signals(build_network(cell, seed), INPUT_SHAPE, seed=seed)


def signal_table(cells: Iterable[Cell | str | int], seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """One row per cell: its ``code`` and every signal in ``SIGNALS``."""
    cells = [Cell.parse(c) for c in cells]
    if progress:
        from tqdm.auto import tqdm

        cells_iter = tqdm(cells, desc="signals", unit="cell")
    else:
        cells_iter = cells
    rows = [{"code": c.code, **cell_signals(c, seed)} for c in cells_iter]
    return pd.DataFrame(rows, columns=["code", *SIGNALS])


# ------------------------------------------------------------------------------ the shipped table
@functools.lru_cache(maxsize=1)
def load_signals() -> pd.DataFrame:
    """The shipped signals of the 6,466 isomorphism classes (``boed_nas/nb201/data/signals.csv.gz``),
    indexed by the class representative's code; ConfigError naming the command that builds it if
    it is absent."""
    ref = resources.files("boed_nas.nb201.data").joinpath(SIGNALS_FILE)
    if not ref.is_file():
        raise ConfigError(f"the NB201 signal table boed_nas/nb201/data/{SIGNALS_FILE} is not built; build it with "
                          f"`{BUILD_COMMAND}` (about an hour per CPU core), or pass your own signals as a "
                          f"mapping name -> array over the 15,625 cell codes")
    with ref.open("rb") as raw, gzip.open(raw) as f:
        df = pd.read_csv(f)
    return df.set_index("code").sort_index()


__all__ = ["INPUT_SHAPE", "NASLIB_NAMES", "SIGNALS", "build_network", "cell_signals", "gradient_signals", "load_signals",
           "network_signals", "probe_batch", "signal_table", "synflow"]
