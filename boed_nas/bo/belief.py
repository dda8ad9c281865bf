r"""The belief: a Gaussian process over cells, built on gpytorch/botorch.

``fit_belief(X, Y, features)`` returns a fitted botorch ``SingleTaskGP`` whose inputs ``X`` are
the cells' encodings (``features = CellFeatures(kernel)``, ``X = features(cells)``), its kernel
chosen by name:

- ``"categorical"``: botorch's ``CategoricalKernel`` (a Hamming-distance kernel with one
  lengthscale per edge) on the six op ids, times a learned scale;
- ``"wl"``: ``WeisfeilerLehmanKernel``, the normalised dot product of Weisfeiler-Lehman subtree
  features of the cell graph (the kernel of NAS-BOWL, Ru et al. 2021), times a learned scale;
- ``"additive"``: a first-order additive kernel, one Hamming kernel per edge, each with its own
  scale, summed: :math:`k(x, x') = \sum_i s_i \exp(-[x_i \ne x'_i] / \ell_i)`; its functions are
  sums of per-edge op effects, which a handful of observations already pin down;
- any ``+``-joined combination of these, e.g. ``"categorical+wl"`` or ``"categorical+additive"``
  (main effects plus the product kernel's interactions): the sum of the parts.

Fixed per-cell scores known before any training (a supernet's op prior, the signals at
initialisation of ``boed_nas.nb201.signals``, a user's own) enter through ``CellFeatures``: in the
prior mean :math:`m(x) = c + \sum_k w_k s_k(x)` (``PriorScoreMean``, the weights fitted with the
other hyperparameters) or as inputs of an added Matern kernel.

Observation noise is learned (NB201 reports 2-3 training seeds per cell: noise is real). The
posterior over a large pool is computed in chunks (``posterior_mean_var``); joint samples over a
set of cells come from ``joint_samples`` with an explicit generator.

Outputs are transformed before fitting (``OutputTransform``): ``"rank"`` maps observations to
normal scores of their ranks, which is robust to the heavy lower tail of accuracy tables (cells
at chance level) without knowing the metric's range; ``"standardize"`` is the usual z-score.
Both are monotone, so the argmax of the belief is the argmax of the metric.
"""

from __future__ import annotations

import functools
import math
import numbers
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.utils.sampling import manual_seed
from gpytorch.constraints import GreaterThan, Interval, Positive
from gpytorch.kernels import Kernel, MaternKernel, ProductKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean, Mean
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior, LogNormalPrior, NormalPrior
from linear_operator.utils.cholesky import psd_safe_cholesky
from scipy.stats import norm

from ..errors import ConfigError
from ..nb201.encodings import wl_features
from ..nb201.space import N_CELLS, N_EDGES, N_OPS, Cell, all_cells

KERNEL_PARTS = ("categorical", "additive", "wl")
DTYPE = torch.float64


def _parse_parts(label: str, value: str, known: tuple[str, ...], example: str) -> tuple[str, ...]:
    """The ``+``-joined parts of ``value``, each one of ``known`` and none twice, in ``known``'s order."""
    parts = [p.strip() for p in value.split("+")] if isinstance(value, str) else []
    bad = [p for p in parts if p not in known]
    if not parts or bad or len(set(parts)) != len(parts):
        raise ConfigError(f"unknown {label} {value!r}; expected one of {list(known)} or a '+'-joined "
                          f"combination of distinct parts, e.g. {example!r}")
    return tuple(p for p in known if p in parts)


def parse_kernel(name: str) -> tuple[str, ...]:
    """The parts of a kernel name (``"categorical+additive"`` -> both), validated, in canonical order."""
    return _parse_parts("kernel", name, KERNEL_PARTS, "categorical+wl")


class WeisfeilerLehmanKernel(Kernel):
    r"""Normalised Weisfeiler-Lehman subtree kernel on precomputed WL feature counts.

    .. math::
        k(x, x') = \frac{\langle \phi(x), \phi(x') \rangle}{\lVert \phi(x) \rVert \, \lVert \phi(x') \rVert}

    where :math:`\phi` counts the WL subtree patterns of a cell graph up to ``h`` iterations
    (``boed_nas.nb201.encodings.wl_features``). Inputs are the feature vectors, ``batch x n x F``.

    Reference: Ru, Wan, Dong, Osborne. Interpretable Neural Architecture Search via Bayesian
    Optimisation with Weisfeiler-Lehman Kernels. ICLR 2021.
    """

    has_lengthscale = False

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params) -> torch.Tensor:
        n1 = x1 / x1.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        n2 = n1 if x2 is x1 else x2 / x2.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        if diag:
            return (n1 * n2).sum(-1)
        return n1 @ n2.transpose(-2, -1)


def _one_hot_pair(x1: torch.Tensor, x2: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot codes (``... x n x d x V``) of two sets of categorical inputs (value indices stored
    as floats), with one width ``V`` for both: the largest index seen plus one."""
    i1, i2 = x1.long(), x2.long()
    n_values = max(int(i1.max()) if i1.numel() else 0, int(i2.max()) if i2.numel() else 0) + 1
    one_hot = torch.nn.functional.one_hot
    return one_hot(i1, n_values).to(dtype), one_hot(i2, n_values).to(dtype)


class HammingKernel(CategoricalKernel):
    r"""botorch's ``CategoricalKernel``, :math:`k(x, x') = \exp(-\frac{1}{d}\sum_i [x_i \ne x'_i] / \ell_i)`,
    computed through one-hot codes: :math:`\sum_i [x_i \ne x'_i] / \ell_i = \sum_i 1/\ell_i -
    \langle o(x) \odot w, o(x') \rangle` with :math:`o` the one-hot code of every column and
    :math:`w` each column's :math:`1/\ell_i` repeated over its values. One matrix product replaces
    the parent's ``n x m x d`` tensor of mismatches and its backward pass (the parent's way cost
    most of an ask's time: every marginal-likelihood evaluation of the fit, and the covariance
    between the pool and the observations); the diagonal is computed in O(n), not from the full
    matrix. Inputs are the columns' value indices (whole numbers stored as floats)."""

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params) -> torch.Tensor:
        if params.get("last_dim_is_batch", False):
            return super().forward(x1, x2, diag=diag, **params)
        w = 1.0 / self.lengthscale  # (*batch, 1, d)
        if diag:
            return torch.exp(-((x1 != x2).to(w.dtype) * w).mean(-1))
        o1, o2 = _one_hot_pair(x1, x2, w.dtype)
        same = (o1 * w.unsqueeze(-1)).flatten(-2) @ o2.flatten(-2).transpose(-2, -1)  # sum_i w_i [x_i == x'_i]
        return torch.exp(-(w.sum(-1, keepdim=True) - same).clamp_min(0.0) / x1.shape[-1])


class AdditiveHammingKernel(Kernel):
    r"""A first-order additive kernel over ``d`` categorical columns, one scaled single-column
    Hamming kernel per column, summed:

    .. math::
        k(x, x') = \sum_i s_i \exp(-[x_i \ne x'_i] / \ell_i)
                 = \sum_i s_i e^{-1/\ell_i} + \sum_i s_i (1 - e^{-1/\ell_i}) [x_i = x'_i],

    the second form computed as one product of one-hot codes. It is the sum of ``d`` of gpytorch's
    ``ScaleKernel(HammingKernel)`` on one column each, with the same priors and constraints per
    column (``lengthscale_prior``, ``lengthscale_constraint``, ``outputscale_prior``), held as
    one vector of each: the ``d`` separate kernels cost ``d`` evaluations of an ``n x m`` matrix
    and their gpytorch overhead at every step of the fit. gpytorch's ``AdditiveStructureKernel``
    shares one lengthscale and one scale across columns, which is not this model.
    """

    has_lengthscale = True

    def __init__(self, n_columns: int, outputscale_prior=None, **kwargs):
        super().__init__(ard_num_dims=n_columns, **kwargs)
        self.register_parameter("raw_outputscale", torch.nn.Parameter(torch.zeros(n_columns, dtype=self.raw_lengthscale.dtype)))
        self.register_constraint("raw_outputscale", Positive())
        if outputscale_prior is not None:
            self.register_prior("outputscale_prior", outputscale_prior, self._outputscale_param, self._outputscale_closure)

    @staticmethod
    def _outputscale_param(m: AdditiveHammingKernel) -> torch.Tensor:
        return m.outputscale

    @staticmethod
    def _outputscale_closure(m: AdditiveHammingKernel, v: torch.Tensor) -> None:
        m.initialize(raw_outputscale=m.raw_outputscale_constraint.inverse_transform(torch.as_tensor(v).to(m.raw_outputscale)))

    @property
    def outputscale(self) -> torch.Tensor:
        return self.raw_outputscale_constraint.transform(self.raw_outputscale)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params) -> torch.Tensor:
        s = self.outputscale
        e = torch.exp(-1.0 / self.lengthscale.squeeze(-2))  # (*batch, d): the covariance factor of a mismatch
        if diag:
            return (s * torch.where(x1 != x2, e.unsqueeze(-2), torch.ones_like(e).unsqueeze(-2))).sum(-1)
        o1, o2 = _one_hot_pair(x1, x2, s.dtype)
        same = (o1 * (s * (1.0 - e)).unsqueeze(-2).unsqueeze(-1)).flatten(-2) @ o2.flatten(-2).transpose(-2, -1)
        return (s * e).sum(-1, keepdim=True).unsqueeze(-1) + same


class _Slice(Kernel):
    """Apply ``base`` to the input columns ``[start, stop)`` (gpytorch's active_dims, but contiguous)."""

    def __init__(self, base: Kernel, start: int, stop: int):
        super().__init__()
        self.base, self.start, self.stop = base, start, stop

    def forward(self, x1, x2, diag=False, **params):
        return self.base.forward(x1[..., self.start : self.stop], x2[..., self.start : self.stop], diag=diag, **params)


class PriorScoreMean(Mean):
    r"""A prior mean :math:`m(x) = c + \sum_k w_k\,s_k(x)` over fixed score columns :math:`s_k(x)`
    (the last ``n_scores`` input columns) with learned :math:`c, w`: a supernet's op prior and the
    signals at initialisation (``CellFeatures``) enter the belief this way, and marginal likelihood
    decides how much to trust each (:math:`w_k \to 0` if it does not help).

    ``weight_sd``: a ``Normal(0, weight_sd^2)`` prior on each :math:`w_k` (the fit maximises the
    marginal likelihood plus its log density), which keeps several correlated columns from
    explaining a handful of observations away; None (the op prior alone, as before) for none.
    """

    def __init__(self, n_scores: int = 1, weight_sd: float | None = None):
        super().__init__()
        self.n_scores = n_scores
        self.register_parameter("constant", torch.nn.Parameter(torch.zeros(1, dtype=DTYPE)))
        self.register_parameter("weight", torch.nn.Parameter(torch.zeros(n_scores, dtype=DTYPE)))
        if weight_sd is not None:
            self.register_prior("weight_prior", NormalPrior(0.0, weight_sd), "weight")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.n_scores == 1:
            return self.constant + self.weight * x[..., -1]
        return self.constant + (x[..., -self.n_scores :] * self.weight).sum(-1)


SIGNAL_USES = ("mean", "features", "init")
SIGNAL_WEIGHT_SD = 1.0
"""The sd of the Normal prior on each signal's weight in the prior mean (targets and signals are
both normal scores, sd 1: a weight of 1 is a signal that alone ranks the cells perfectly)."""


def parse_signal_use(use: str) -> tuple[str, ...]:
    """The parts of a ``signal_use`` (``"mean+init"`` -> both), validated, in canonical order."""
    return _parse_parts("signal_use", use, SIGNAL_USES, "mean+init")


def signal_scores(values: np.ndarray) -> np.ndarray:
    """Per-class signals (``n_classes x K``, one row per isomorphism class, any scale) as normal
    scores of their mid-ranks over the classes, column by column: the Gaussian copula that
    ``OutputTransform("rank")`` applies to the observations, so a signal that ranks the cells
    exactly as the metric does is, on the GP's scale, the metric itself."""
    values = np.asarray(values, dtype=np.float64)
    return np.stack([OutputTransform("rank")(values[:, k]) for k in range(values.shape[1])], axis=1)


class CellFeatures:
    """Encodes cells as GP inputs for a kernel: op ids, WL features, or both; plus fixed scores.

    Columns, in order: the op ids (categorical and additive kernels), the WL features (wl), the
    signals (if they enter the mean or the kernel), the op prior's score (if any).

    ``op_prior`` (6 x 5 op probabilities per edge, e.g. a supernet's softmax(alpha)) adds one
    column, the cell's standardised log-probability under it, read by ``PriorScoreMean``.

    ``signals`` (``N_CELLS x K`` by cell code, e.g. ``signal_scores`` of the signals at
    initialisation of ``boed_nas.nb201.signals``, each class's value at all its members) add K
    columns, used as ``signal_use`` says (``parse_signal_use``): ``"mean"``, read by
    ``PriorScoreMean`` together with the op prior's column (one weight each); ``"features"``, read
    by a Matern kernel added to the cell kernel (cells with similar signals covary); ``"init"``
    needs no column (it is the controller's initial design).
    """

    def __init__(self, kernel: str = "categorical", op_prior: np.ndarray | None = None, wl_h: int = 2,
                 signals: np.ndarray | None = None, signal_use: str = "mean"):
        self.parts = parse_kernel(kernel)
        self.kernel = kernel
        self.wl_h = wl_h
        self.log_prior = None
        if op_prior is not None:
            p = np.asarray(op_prior, dtype=np.float64)
            if p.shape != (N_EDGES, N_OPS) or not np.all(np.isfinite(p)) or (p < 0).any():
                raise ConfigError(f"op_prior must be a finite non-negative {N_EDGES}x{N_OPS} array, got shape {p.shape}")
            p = p / p.sum(axis=1, keepdims=True)
            self.log_prior = np.log(np.clip(p, 1e-6, None))
        self._prior_stats: tuple[float, float] | None = None
        self.signal_use = parse_signal_use(signal_use)
        self.signals = None
        if signals is not None:
            sig = np.asarray(signals, dtype=np.float64)
            if sig.ndim != 2 or sig.shape[0] != N_CELLS or sig.shape[1] < 1 or not np.all(np.isfinite(sig)):
                raise ConfigError(f"signals must be a finite {N_CELLS} x K array (one row per cell code, K >= 1), "
                                  f"got shape {sig.shape}")
            self.signals = sig

    @property
    def n_cat(self) -> int:
        return N_EDGES if {"categorical", "additive"} & set(self.parts) else 0

    @property
    def n_signal_columns(self) -> int:
        """Signal columns among the inputs (0 unless signals enter the mean or the kernel)."""
        used = self.signals is not None and bool({"mean", "features"} & set(self.signal_use))
        return self.signals.shape[1] if used else 0

    @property
    def n_trailing(self) -> int:
        """Columns after the cell's own encoding: the signals' and the op prior's."""
        return self.n_signal_columns + (self.log_prior is not None)

    @property
    def n_mean(self) -> int:
        """The last ``n_mean`` columns are the scores the prior mean reads (0: a constant mean)."""
        signals = self.n_signal_columns if "mean" in self.signal_use else 0
        return signals + (self.log_prior is not None)

    def covariance(self, n_inputs: int) -> Kernel:
        """The GP's covariance for inputs of ``n_inputs`` columns (``make_kernel``)."""
        return make_kernel(self, n_inputs)

    def prior_mean(self) -> Mean:
        """The GP's prior mean: constant, or over the score columns (``_prior_mean``)."""
        return _prior_mean(self)

    def __call__(self, cells: Sequence[Cell]) -> torch.Tensor:
        cols = []
        if self.n_cat:
            cols.append(np.array([c.ops for c in cells], dtype=np.float64).reshape(len(cells), N_EDGES))
        if "wl" in self.parts:
            cols.append(_wl(tuple(cells), self.wl_h))
        if self.n_signal_columns:
            cols.append(self.signals[[c.code for c in cells]])
        if self.log_prior is not None:
            score = np.array([self.log_prior[np.arange(N_EDGES), list(c.ops)].sum() for c in cells])
            if self._prior_stats is None:  # fixed once so that every call shares one scale
                self._prior_stats = (-np.log(N_OPS) * N_EDGES, max(float(np.abs(self.log_prior).sum()) / 5, 1e-3))
            cols.append(((score - self._prior_stats[0]) / self._prior_stats[1])[:, None])
        return torch.tensor(np.concatenate(cols, axis=1), dtype=DTYPE)


@functools.lru_cache(maxsize=4)
def _wl_all(h: int) -> tuple[dict[Cell, int], np.ndarray]:
    cells = list(all_cells())
    feats = np.asarray(wl_features(cells, h=h), dtype=np.float64)
    return {c: i for i, c in enumerate(cells)}, feats


def _wl(cells: tuple[Cell, ...], h: int) -> np.ndarray:
    index, feats = _wl_all(h)
    return feats[[index[c] for c in cells]]


def _additive_hamming(n_columns: int) -> AdditiveHammingKernel:
    """One scaled Hamming kernel per categorical column, summed, with the priors of a single one."""
    return AdditiveHammingKernel(n_columns, outputscale_prior=GammaPrior(2.0, 2.0),
                                 lengthscale_constraint=Interval(0.05, 20.0), lengthscale_prior=LogNormalPrior(0.0, 1.0))


def make_kernel(features: CellFeatures, n_inputs: int) -> Kernel:
    # CategoricalKernel's lengthscales live in (0.05, 20): a lengthscale of ~1 means that changing
    # one edge's op multiplies the covariance by exp(-1/6)
    parts: list[Kernel] = []
    if "categorical" in features.parts:
        cat = HammingKernel(ard_num_dims=N_EDGES, lengthscale_constraint=Interval(0.05, 20.0),
                            lengthscale_prior=LogNormalPrior(0.0, 1.0))
        parts.append(ScaleKernel(_Slice(cat, 0, N_EDGES), outputscale_prior=GammaPrior(2.0, 0.5)))
    if "additive" in features.parts:
        # one scaled single-edge Hamming kernel (a constant plus an indicator of equal ops) per edge
        parts.append(_Slice(_additive_hamming(N_EDGES), 0, N_EDGES))
    stop = n_inputs - features.n_trailing  # the end of the cell's own encoding
    if "wl" in features.parts:
        parts.append(ScaleKernel(_Slice(WeisfeilerLehmanKernel(), features.n_cat, stop),
                                 outputscale_prior=GammaPrior(2.0, 0.5)))
    if "features" in features.signal_use and features.n_signal_columns:
        # the signals are normal scores (sd 1): with lengthscales about 1, cells whose signals are
        # within about one standard deviation covary; the cell kernel carries the rest
        k = features.n_signal_columns
        matern = MaternKernel(nu=2.5, ard_num_dims=k, lengthscale_prior=LogNormalPrior(0.0, 1.0))
        parts.append(ScaleKernel(_Slice(matern, stop, stop + k), outputscale_prior=GammaPrior(2.0, 0.5)))
    kernel = parts[0]
    for p in parts[1:]:
        kernel = kernel + p
    return kernel


@dataclass
class OutputTransform:
    """Monotone map from observed metric values to GP targets; ``kind`` is 'rank' or 'standardize'."""

    kind: Literal["rank", "standardize"] = "rank"

    def __call__(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if self.kind == "standardize":
            sd = y.std()
            return (y - y.mean()) / (sd if sd > 0 else 1.0)
        if self.kind == "rank":
            # normal scores of mid-ranks (ties share a rank), a Gaussian copula of the observations
            order = np.argsort(y, kind="stable")
            ranks = np.empty(len(y))
            ranks[order] = np.arange(1, len(y) + 1)
            _, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
            sums = np.bincount(inv, weights=ranks)
            ranks = (sums / counts)[inv]
            return norm.ppf((ranks - 0.5) / len(y))
        raise ConfigError(f"unknown output transform {self.kind!r}; expected 'rank' or 'standardize'")


def _prior_mean(features: CellFeatures) -> Mean:
    """A constant mean, or a ``PriorScoreMean`` over the score columns (with a Normal prior on the
    weights when signals are among them; the op prior's column alone keeps none, as before)."""
    if not features.n_mean:
        return ConstantMean()
    with_signals = features.n_mean > (features.log_prior is not None)
    return PriorScoreMean(features.n_mean, SIGNAL_WEIGHT_SD if with_signals else None)


def fit_belief(
    X: torch.Tensor,
    Y: torch.Tensor,
    features: CellFeatures | SpaceFeatures,
    *,
    seed: int = 0,
    init: dict[str, list] | None = None,
    optimize: bool = True,
    cold_start: bool = True,
) -> SingleTaskGP:
    """Fit a GP to inputs ``X`` (``n x d``, from ``features``) and targets ``Y`` (``n x 1``).

    Hyperparameters are fitted by maximising the marginal likelihood (botorch's
    ``fit_gpytorch_mll``, L-BFGS-B), starting from ``init`` (a previous fit's
    ``hyperparameters()``, a warm start) or gpytorch's defaults; the same data and start give the
    same model, and the random restarts botorch may draw on failure are seeded by ``seed``. With
    ``optimize=False`` the model is built with ``init`` as it is (to restore a saved belief).
    With ``init`` and ``cold_start=False`` only the warm start is optimised (about a third of the
    cost: the start from the defaults is the long one).
    """
    def build() -> SingleTaskGP:
        hook = getattr(features, "likelihood", None)  # a features object may bring its own (a noise per level)
        likelihood = None if hook is None else hook()
        if likelihood is None:
            likelihood = GaussianLikelihood(noise_prior=GammaPrior(1.1, 0.05), noise_constraint=GreaterThan(1e-4))
        mean = features.prior_mean()
        return SingleTaskGP(
            X.to(DTYPE), Y.to(DTYPE), covar_module=features.covariance(X.shape[-1]), mean_module=mean,
            likelihood=likelihood, outcome_transform=None, input_transform=None,
        )

    if not optimize:
        model = build()
        if init is None or set_hyperparameters(model, init):
            return model.eval()
        # a fit saved by a version whose kernel had other parameters: fitted again, not guessed
        init = None
    # two starts, gpytorch's defaults and the warm start, and keep the higher marginal likelihood:
    # a warm start alone can stay stuck in a degenerate optimum found on the first few points
    best, best_mll = None, -math.inf
    for start in [None] if init is None else [None, init] if cold_start else [init]:
        model = build()
        if start is not None:
            set_hyperparameters(model, start)
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with manual_seed(seed):
            fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": 200}})
        model.train()
        with torch.no_grad():
            value = float(mll(model(*model.train_inputs), model.train_targets, *model.train_inputs))
        if value > best_mll or best is None:
            best, best_mll = model, value
    return best.eval()


def hyperparameters(model: SingleTaskGP) -> dict[str, list]:
    """The model's raw hyperparameters as plain lists (JSON-able), for warm starts and resume."""
    return {name: p.detach().tolist() for name, p in model.named_parameters()}


def set_hyperparameters(model: SingleTaskGP, values: dict[str, list]) -> bool:
    """Load ``hyperparameters()`` output; names or shapes that do not fit are left as they are.
    True when every parameter of ``model`` was loaded."""
    loaded = 0
    with torch.no_grad():
        params = list(model.named_parameters())
        for name, p in params:
            if name in values:
                v = torch.as_tensor(values[name], dtype=p.dtype)
                if v.shape == p.shape:
                    p.copy_(v)
                    loaded += 1
    return loaded == len(params)


class SpaceFeatures:
    r"""GP inputs and kernel for a space of your own (``boed_nas.spaces.Space``): the columns of
    ``space.encode`` (categorical choice indices, then ordered grid positions in [0, 1]).

    ``kernel`` parts, as for cells: ``"categorical"``, the product of a Hamming kernel over the
    categorical variables and a Matern-5/2 kernel over the ordered ones (one lengthscale each),
    scaled; ``"additive"``, one scaled kernel per variable (Hamming or Matern), summed; the default
    ``"categorical+additive"`` is their sum (main effects plus interactions), as for NB201.
    """

    def __init__(self, space, kernel: str = "categorical+additive", signals: SpaceSignals | None = None):
        self.parts = parse_kernel(kernel)
        if "wl" in self.parts:
            raise ConfigError(f"kernel {kernel!r}: the Weisfeiler-Lehman kernel reads NB201 cell graphs; "
                              "a space of your own takes 'categorical', 'additive' or 'categorical+additive'")
        self.space = space
        self.kernel_name = kernel
        self.n_cat = space.n_categorical
        self.n_ord = len(space.variables) - self.n_cat
        self.signals = signals

    def __call__(self, configs) -> torch.Tensor:
        X = self.space.encode(configs)
        if self.signals is not None:  # the prior mean's columns, after the ones the kernel reads
            X = np.concatenate([X, self.signals.scores(configs)], axis=1)
        return torch.tensor(X, dtype=DTYPE)

    def _part(self, start: int, stop: int, categorical: bool) -> Kernel:
        if categorical:
            base = HammingKernel(ard_num_dims=stop - start, lengthscale_constraint=Interval(0.05, 20.0),
                                 lengthscale_prior=LogNormalPrior(0.0, 1.0))
        else:  # grid positions in [0, 1]: lengthscales about 0.5 make neighbouring values covary strongly
            base = MaternKernel(nu=2.5, ard_num_dims=stop - start, lengthscale_prior=LogNormalPrior(-0.5, 1.0))
        return _Slice(base, start, stop)

    def covariance(self, n_inputs: int) -> Kernel:
        c, d = self.n_cat, self.n_cat + self.n_ord
        parts: list[Kernel] = []
        if "categorical" in self.parts:
            pieces = ([self._part(0, c, True)] if c else []) + ([self._part(c, d, False)] if self.n_ord else [])
            joint = pieces[0] if len(pieces) == 1 else ProductKernel(*pieces)
            parts.append(ScaleKernel(joint, outputscale_prior=GammaPrior(2.0, 0.5)))
        if "additive" in self.parts:
            if c:
                parts.append(_Slice(_additive_hamming(c), 0, c))
            for k in range(c, d):
                parts.append(ScaleKernel(self._part(k, k + 1, False), outputscale_prior=GammaPrior(2.0, 2.0)))
        kernel = parts[0]
        for p in parts[1:]:
            kernel = kernel + p
        return kernel

    def prior_mean(self) -> Mean:
        if self.signals is None:
            return ConstantMean()
        return PriorScoreMean(len(self.signals.names), SIGNAL_WEIGHT_SD)


class SpaceSignals:
    """Signals at initialisation on a space of your own: per-configuration numbers known before
    any training (``fn(config) -> {name: value}``: the space's known costs, a score computed from
    the network the configuration builds, ...), as the prior mean's columns.

    Each value becomes a normal score of its rank in a fixed reference set: every configuration
    of an enumerable space (so the scores are exactly those ``signal_scores`` gives NB201's
    classes), else ``n_reference`` configurations drawn by ``space.sample`` from a generator
    seeded by ``seed``. Between the reference's values the score is interpolated linearly, beyond
    them it goes on at the slope of one reference sd per unit sd, so the order of configurations
    the sample never saw is kept. A configuration's score does not change with the candidate
    pool, and a signal that ranks the configurations as the metric does is on the GP's scale the
    metric itself. ``fn`` is called once per distinct configuration (cached by ``space.key``),
    once per candidate in the pool: it must be cheap where the pool is large.
    """

    def __init__(self, space, fn: Callable[[Any], Mapping[str, float]], seed: int = 0, n_reference: int = 2048):
        self.space, self.fn = space, fn
        self._cache: dict[Any, np.ndarray] = {}
        ref = space.enumerate()
        if ref is None:
            rng = np.random.default_rng(seed)
            ref = [space.sample(rng) for _ in range(n_reference)]
        self.reference_configs = list(ref)  # what the scores are ranked against (and "init" draws from)
        self.names = sorted(self._call(ref[0]))
        if not self.names:
            raise ConfigError("the signals function returned no values; pass signals=None for none")
        self.reference = np.sort(np.stack([self.values(c) for c in ref]), axis=0)  # per column
        self._knots = [self._column_knots(self.reference[:, k]) for k in range(len(self.names))]

    @staticmethod
    def _column_knots(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        u, counts = np.unique(r, return_counts=True)
        mid = np.cumsum(counts) - (counts - 1) / 2.0  # mid-ranks of the distinct values, 1-based
        sd = float(r.std())
        return u, norm.ppf((mid - 0.5) / len(r)), sd if sd > 0 else 1.0

    def _call(self, c) -> dict[str, float]:
        out = self.fn(c)
        if not isinstance(out, Mapping):
            raise ConfigError(f"signals must return a mapping name -> number, got {type(out).__name__} at {c}")
        bad = {k: v for k, v in out.items()
               if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v)}
        if bad:
            raise ConfigError(f"signals at {c} must be finite numbers, got {bad}")
        return {str(k): float(v) for k, v in out.items()}

    def values(self, c) -> np.ndarray:
        """The raw signals of one configuration, in ``names`` order (computed once)."""
        k = self.space.key(c)
        if k not in self._cache:
            out = self._call(c)
            if sorted(out) != self.names:
                raise ConfigError(f"signals at {c} are {sorted(out)}; every configuration must give {self.names}")
            self._cache[k] = np.array([out[n] for n in self.names])
        return self._cache[k]

    def scores(self, configs) -> np.ndarray:
        """``n x K`` normal scores of the configurations' signals (see the class)."""
        v = np.stack([self.values(c) for c in configs]) if len(configs) else np.empty((0, len(self.names)))
        out = np.empty_like(v)
        for k, (u, z, sd) in enumerate(self._knots):
            x = v[:, k]
            out[:, k] = np.interp(x, u, z)
            out[:, k] = np.where(x < u[0], z[0] - (u[0] - x) / sd, out[:, k])
            out[:, k] = np.where(x > u[-1], z[-1] + (x - u[-1]) / sd, out[:, k])
        return out


class _Predictor:
    """Exact GP predictive marginals and joints from one Cholesky of the training covariance.

    Hand-written because gpytorch's ``posterior`` evaluates the joint [train; test] kernel matrix
    even when only marginal variances are wanted, which cost ~1.3 s per ask over 6,466 cells.
    """

    def __init__(self, model: SingleTaskGP):
        # the model's parts, not the model: _PREDICTORS is keyed weakly by the model, and a value that
        # held the model would keep every model an ask ever built (and its Cholesky) alive
        self.covar_module, self.mean_module = model.covar_module, model.mean_module
        X = self.train_x = model.train_inputs[0]
        K = model.covar_module(X).to_dense() + torch.diag(noise_at(model, X))  # shared, or one per level
        self.L = psd_safe_cholesky(K)
        resid = (model.train_targets - model.mean_module(X)).unsqueeze(-1)
        self.alpha = torch.cholesky_solve(resid, self.L)

    def mean_and_cross(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        Kx = self.covar_module(X, self.train_x).to_dense()
        mean = self.mean_module(X) + (Kx @ self.alpha).squeeze(-1)
        V = torch.linalg.solve_triangular(self.L, Kx.transpose(-2, -1), upper=False)
        return mean, V


_PREDICTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _predictor(model: SingleTaskGP) -> _Predictor:
    """The model's ``_Predictor``, built once per training data: an ask asks a model for the pool's
    marginals and then for joint samples, and each ``_Predictor`` is a Cholesky of the training
    covariance (the largest single cost of an ask at 1,000 observations). A model whose training
    data was replaced (``set_train_data``) gets a new one; fitted models' hyperparameters are not
    changed after they are built."""
    x, y = model.train_inputs[0], model.train_targets
    hit = _PREDICTORS.get(model)
    if hit is None or hit[0] is not x or hit[1] is not y:
        hit = (x, y, _Predictor(model))
        _PREDICTORS[model] = hit
    return hit[2]


def posterior_mean_var(model: SingleTaskGP, X: torch.Tensor, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Marginal posterior mean and variance of the latent f over ``X`` (``n x d``), in chunks of
    ``chunk`` rows: a single posterior over all NB201 cells at once does not fit in memory."""
    means, variances = [], []
    with torch.no_grad():
        pred = _predictor(model)
        for i in range(0, X.shape[0], chunk):
            Xc = X[i : i + chunk]
            mean, V = pred.mean_and_cross(Xc)
            prior_var = model.covar_module(Xc, diag=True)
            prior_var = prior_var.to_dense() if hasattr(prior_var, "to_dense") else prior_var
            means.append(mean)
            variances.append((prior_var - (V**2).sum(0)).clamp_min(1e-12))
    return torch.cat(means), torch.cat(variances)


def joint_samples(model: SingleTaskGP, X: torch.Tensor, n_samples: int, generator: torch.Generator) -> torch.Tensor:
    """``n_samples x n`` exact joint posterior samples of f over ``X`` (keep n to ~1-2 thousand)."""
    with torch.no_grad():
        mean, V = _predictor(model).mean_and_cross(X)
        cov = model.covar_module(X).to_dense() - V.transpose(-2, -1) @ V
        L = psd_safe_cholesky(cov + 1e-8 * torch.eye(cov.shape[-1], dtype=cov.dtype))
        z = torch.randn(n_samples, X.shape[0], generator=generator, dtype=cov.dtype)
        return mean.unsqueeze(0) + z @ L.transpose(-2, -1)


def noise_variance(model: SingleTaskGP) -> float:
    """The shared observation-noise variance (with a noise per level: the first level's; see ``noise_at``)."""
    return float(model.likelihood.noise.detach().reshape(-1)[0])


def noise_at(model: SingleTaskGP, X: torch.Tensor) -> torch.Tensor:
    """The observation-noise variance of each row of ``X``: the likelihood's ``noise_at`` where it
    has a noise per row (``boed_nas.bo.fidelity.LevelGaussianLikelihood``), else the shared one."""
    if hasattr(model.likelihood, "noise_at"):
        return model.likelihood.noise_at(X).detach()
    return torch.full((X.shape[0],), noise_variance(model), dtype=X.dtype)


def entropy(p: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy in nats of probability vectors along ``dim``."""
    return -(p * torch.log(p.clamp_min(1e-30))).sum(dim)


__all__ = [
    "KERNEL_PARTS", "SIGNAL_USES", "parse_kernel", "parse_signal_use", "signal_scores", "CellFeatures", "SpaceFeatures", "SpaceSignals",
    "OutputTransform", "PriorScoreMean", "WeisfeilerLehmanKernel", "entropy",
    "fit_belief", "hyperparameters", "joint_samples", "make_kernel", "noise_at", "noise_variance", "posterior_mean_var",
]
