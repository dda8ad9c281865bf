r"""The belief and the acquisition over (network, fidelity): information per unit cost.

With a fidelity (``boed_nas.spaces.Fidelity``: named levels, a target, relative costs) the
controller's belief is one GP over (configuration, level), fitted to every evaluation at every
level:

.. math::
    k((x, l), (x', l')) = k_{\text{net}}(x, x')\, B_{l l'}, \qquad B = D R D,

with :math:`k_{\text{net}}` the space's own kernel (NB201: Hamming, additive, WL), :math:`R` a
correlation matrix between levels and :math:`D` a scale per level (the target's fixed at 1, so the
network kernel's scale is the target's), both fitted by marginal likelihood with the rest
(``FidelityKernel``): it learns how closely each level follows the target. The prior mean adds one
offset per level (the target's fixed at 0) to the space's own (``LevelMean``). This is the
intrinsic coregionalisation model of botorch's ``MultiTaskGP`` with a full-rank correlation over a
handful of levels, written as a kernel on a level column so that it plugs into the same belief,
pending fantasies and pool posterior as a space without a fidelity (``MultiTaskGP`` would need its
own fit and posterior path, and gpytorch's ``IndexKernel`` draws its initial factor from torch's
global generator, which would break the one-seed rule).

Two forms of :math:`R`, the controller's ``level_kernel``: ``"scaled"`` (the default) fixes it at
all ones, so every level is the target up to its scale and offset and a cheap result moves the
belief about its network's target value as far as the noise allows; ``"icm"`` fits it. On held-out
NB201 seeds ``"scaled"`` reached the optimum sooner in 21 of 30 runs that differ (p = 0.043;
``benchmarks/README.md``): fitted, the correlation came out low (0.05-0.23 on CIFAR-100), and the
belief then learned little from 12-epoch results that do rank networks usefully.

The acquisition (``MultiFidelityMaxValueEntropy``) is max-value entropy search in GIBBON's form
(Moss et al., JMLR 2021; botorch's ``qMultiFidelityLowerBoundMaxValueEntropy``) over the discrete
pool: the information an observation of :math:`(x, l)` gives about :math:`f^\star`, the best value
*at the target level*, through its correlation :math:`\rho` with :math:`f(x, \text{target})`,

.. math::
    \alpha(x, l) = \frac{1}{c_l}\; \mathbb{E}_{f^\star}\Big[-\tfrac12 \log\big(1 - \rho^2\,
    r(\gamma)\,(\gamma + r(\gamma))\big)\Big], \quad \gamma = \frac{f^\star - \mu_t(x)}{\sigma_t(x)},
    \; r = \varphi/\Phi,

divided by the level's relative cost :math:`c_l`. The max values come from exact joint samples over
the target-level pool, as for ``"mes"`` without a fidelity; at the target level
:math:`\rho^2 = \sigma_t^2/(\sigma_t^2 + \sigma_n^2)` and the score is ``"mes"``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import Kernel
from gpytorch.likelihoods.gaussian_likelihood import _GaussianLikelihoodBase
from gpytorch.likelihoods.noise_models import Noise
from gpytorch.means import Mean
from gpytorch.priors import GammaPrior, NormalPrior
from linear_operator.operators import DiagLinearOperator

from .acquisition import PoolAcquisition, PoolBelief, entropy_search
from .belief import DTYPE, _predictor, joint_samples, noise_at, noise_variance

CLAMP = 1e-10


def _dense(k: Any) -> torch.Tensor:
    return k.to_dense() if hasattr(k, "to_dense") else k


class FidelityKernel(Kernel):
    r"""``base`` on every column but the last, times :math:`B_{l l'}` of the last (the level index):
    :math:`B = D R D`, :math:`R` the correlation of the rows of a lower-triangular factor, :math:`D`
    a positive scale per level, the target's fixed at 1 (see the module docstring)."""

    def __init__(self, base: Kernel, n_levels: int, target_index: int, correlation: float = 0.5,
                 scaled: bool = False):
        super().__init__()
        self.base, self.n_levels, self.target_index = base, n_levels, target_index
        self.scaled = scaled  # R fixed at all ones: every level the target up to a scale (and the mean's offset)
        # the factor of R = c 11^T + (1 - c) I: every pair of levels starts at correlation c
        start = torch.linalg.cholesky(correlation * torch.ones(n_levels, n_levels, dtype=DTYPE)
                                      + (1 - correlation) * torch.eye(n_levels, dtype=DTYPE))
        self.register_parameter("raw_factor", torch.nn.Parameter(start.contiguous().clone()))
        self.register_parameter("raw_scale", torch.nn.Parameter(torch.zeros(n_levels, dtype=DTYPE)))
        # log scale ~ Normal(0, 1): a cheaper level's variance is not let collapse to 0 on a few points (the
        # signals in the prior mean can explain five of them exactly, and the level would then teach nothing)
        self.register_prior("scale_prior", NormalPrior(0.0, 1.0), "raw_scale")

    @property
    def correlation(self) -> torch.Tensor:
        if self.scaled:
            return torch.ones(self.n_levels, self.n_levels, dtype=self.raw_factor.dtype)
        F = torch.tril(self.raw_factor)
        F = F / F.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return F @ F.transpose(-2, -1)

    @property
    def scale(self) -> torch.Tensor:
        mask = torch.ones(self.n_levels, dtype=DTYPE)
        mask[self.target_index] = 0.0
        return torch.exp(self.raw_scale * mask)

    @property
    def level_covariance(self) -> torch.Tensor:
        d = self.scale
        return d[:, None] * self.correlation * d[None, :]

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, diag: bool = False, **params) -> torch.Tensor:
        k = _dense(self.base(x1[..., :-1], x2[..., :-1], diag=diag))
        B = self.level_covariance
        l1, l2 = x1[..., -1].long(), x2[..., -1].long()
        if diag:
            return k * B[l1, l2]
        return k * B[l1.unsqueeze(-1), l2.unsqueeze(-2)]


class LevelMean(Mean):
    """``base`` on every column but the last, plus an offset per level (the target's fixed at 0)."""

    def __init__(self, base: Mean, n_levels: int, target_index: int):
        super().__init__()
        self.base, self.target_index = base, target_index
        self.register_parameter("raw_offset", torch.nn.Parameter(torch.zeros(n_levels, dtype=DTYPE)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.ones_like(self.raw_offset)
        mask[self.target_index] = 0.0
        return self.base(x[..., :-1]) + (self.raw_offset * mask)[x[..., -1].long()]


class LevelNoise(Noise):
    """A observation-noise variance per level, read from the level column (the inputs' last): the
    heteroskedastic noise of a GP over (network, level) whose cheap levels are noisier than the
    target. Each variance has the shared noise's prior and floor (``fit_belief``)."""

    def __init__(self, n_levels: int):
        super().__init__()
        self.register_parameter("raw_noise", torch.nn.Parameter(torch.zeros(n_levels, dtype=DTYPE)))
        self.register_constraint("raw_noise", GreaterThan(1e-4))
        self.register_prior("noise_prior", GammaPrior(1.1, 0.05), LevelNoise._noise_param, LevelNoise._noise_closure)

    @staticmethod
    def _noise_param(m: LevelNoise) -> torch.Tensor:
        return m.noise

    @staticmethod
    def _noise_closure(m: LevelNoise, value: torch.Tensor) -> None:
        m.initialize(raw_noise=m.raw_noise_constraint.inverse_transform(torch.as_tensor(value, dtype=DTYPE)))

    @property
    def noise(self) -> torch.Tensor:
        return self.raw_noise_constraint.transform(self.raw_noise)

    def at(self, X: torch.Tensor) -> torch.Tensor:
        """The noise variance of each row of ``X`` (its level's)."""
        return self.noise[X[..., -1].long()]

    def forward(self, *params: Any, shape: torch.Size | None = None, **kwargs: Any) -> DiagLinearOperator:
        return DiagLinearOperator(self.at(params[0]))


class LevelGaussianLikelihood(_GaussianLikelihoodBase):
    """A Gaussian likelihood with ``LevelNoise``; ``noise`` is the per-level vector and ``noise_at(X)``
    each row's variance (what ``boed_nas.bo.belief`` reads instead of the one shared variance)."""

    def __init__(self, n_levels: int):
        super().__init__(noise_covar=LevelNoise(n_levels))

    @property
    def noise(self) -> torch.Tensor:
        return self.noise_covar.noise

    def noise_at(self, X: torch.Tensor) -> torch.Tensor:
        return self.noise_covar.at(X)


class FidelityFeatures:
    """GP inputs of ``AtFidelity`` points: ``base``'s columns of the configuration, then the level's
    index; the kernel ``FidelityKernel`` and the mean ``LevelMean`` over ``base``'s own; with
    ``level_noise``, the likelihood ``LevelGaussianLikelihood`` (else the shared noise of ``fit_belief``)."""

    def __init__(self, base: Any, fidelity: Any, level_noise: bool = False, level_kernel: str = "scaled"):
        self.base, self.fidelity, self.level_noise = base, fidelity, level_noise
        self.level_kernel = level_kernel

    def likelihood(self) -> LevelGaussianLikelihood | None:
        """``fit_belief``'s likelihood hook: a noise per level, or None for the shared one."""
        return LevelGaussianLikelihood(len(self.fidelity.levels)) if self.level_noise else None

    def __call__(self, points) -> torch.Tensor:
        X = self.base([p.config for p in points])
        levels = torch.tensor([[float(self.fidelity.index(p.level))] for p in points], dtype=X.dtype).reshape(-1, 1)
        return torch.cat([X, levels], dim=1)

    def covariance(self, n_inputs: int) -> Kernel:
        return FidelityKernel(self.base.covariance(n_inputs - 1), len(self.fidelity.levels), self.fidelity.target_index,
                              scaled=self.level_kernel == "scaled")

    def prior_mean(self) -> Mean:
        return LevelMean(self.base.prior_mean(), len(self.fidelity.levels), self.fidelity.target_index)


@dataclass
class FidelityPoolBelief(PoolBelief):
    """``PoolBelief`` over a level-major pool of (configuration, level) points, plus, per point:
    ``twin``, the pool index of the same configuration at the target level; ``cross``, the
    posterior covariance of f at the point and at its twin; ``cost``, the level's relative cost.
    ``plausible`` and ``samples`` are over target-level points only."""

    twin: torch.Tensor | None = None
    cross: torch.Tensor | None = None
    cost: torch.Tensor | None = None
    noise: torch.Tensor | None = None  # the observation noise variance at each point's level


def fidelity_pool_posterior(model: Any, X: torch.Tensor, n_configs: int, fidelity: Any, evaluated: Any,
                            candidates: torch.Tensor, plausible_size: int, n_samples: int,
                            generator: torch.Generator, chunk: int = 1024,
                            costs: Any = None) -> FidelityPoolBelief:
    """The posterior over a level-major pool (``n_configs`` configurations at each level): marginals
    of every point, each point's covariance with its target-level twin, the plausible set among the
    target-level points and exact joint samples over it. ``costs``: the relative cost per level
    (default the fidelity's own; learned ones where the controller learns them)."""
    n_levels, t = len(fidelity.levels), fidelity.target_index
    # one pass over the pool, a chunk of configurations at every level at a time: each point's
    # cross-covariance with the training data (V) is computed once and gives its mean, its variance
    # and, with its target-level twin's V, their covariance
    mean, var, cross = (torch.empty(len(X), dtype=X.dtype) for _ in range(3))
    idx = torch.arange(len(X))
    twin = t * n_configs + idx % n_configs
    pred = _predictor(model)
    with torch.no_grad():
        for i in range(0, n_configs, chunk):
            j = torch.arange(i, min(i + chunk, n_configs))
            Xt = X[t * n_configs + j]
            Vs = {}
            for level in range(n_levels):
                rows = level * n_configs + j
                m, V = pred.mean_and_cross(X[rows])
                mean[rows] = m
                var[rows] = (_dense(model.covar_module(X[rows], diag=True)) - (V ** 2).sum(0)).clamp_min(1e-12)
                Vs[level] = V
            for level in range(n_levels):
                rows = level * n_configs + j
                if level == t:  # at the target level the twin is the point itself
                    cross[rows] = var[rows]
                else:
                    prior = _dense(model.covar_module(X[rows], Xt, diag=True))
                    cross[rows] = prior - (Vs[level] * Vs[t]).sum(0)
    target = torch.arange(t * n_configs, (t + 1) * n_configs)
    sd = var[target].sqrt()
    ucb = mean[target] + 3 * sd
    floor = (mean[target] - 3 * sd).max()
    plausible = torch.nonzero(ucb >= floor).squeeze(-1)
    if len(plausible) > plausible_size:
        plausible = plausible[torch.argsort(ucb[plausible], descending=True)[:plausible_size]]
    plausible = target[torch.sort(plausible).values]
    samples = joint_samples(model, X[plausible], n_samples, generator)
    ev = torch.as_tensor(evaluated, dtype=torch.long)
    level_costs = fidelity.costs if costs is None else costs
    costs = torch.tensor(level_costs, dtype=mean.dtype)[idx // n_configs]
    noise = noise_at(model, X)
    return FidelityPoolBelief(model=model, X=X, mean=mean, var=var, plausible=plausible, samples=samples,
                              candidates=candidates, noise_var=float(noise[target[0]]),
                              incumbent=float(mean[twin[ev]].max()), twin=twin, cross=cross, cost=costs, noise=noise)


def gibbon_information(mean_t: torch.Tensor, var_t: torch.Tensor, rho2: torch.Tensor,
                       max_values: torch.Tensor) -> torch.Tensor:
    r"""GIBBON's one-point information about the max value: :math:`\mathbb{E}_{f^\star}[-\frac12
    \log(1 - \rho^2 r(\gamma)(\gamma + r(\gamma)))]` with :math:`\gamma = (f^\star - \mu_t)/\sigma_t`
    (``mean_t``, ``var_t``, ``rho2``: one per candidate; ``max_values``: the samples of
    :math:`f^\star`)."""
    normal = torch.distributions.Normal(torch.zeros((), dtype=mean_t.dtype), torch.ones((), dtype=mean_t.dtype))
    gamma = (max_values[None, :] - mean_t[:, None]) / var_t.clamp_min(CLAMP).sqrt()[:, None]
    ratio = torch.exp(normal.log_prob(gamma) - torch.special.log_ndtr(gamma))
    inner = 1 - rho2.clamp(0.0, 1.0)[:, None] * ratio * (gamma + ratio)
    return -0.5 * inner.clamp_min(CLAMP).log().mean(dim=1)


def _target_correlation(b: PoolBelief) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""For each candidate of ``b``: its target-level twin's pool index, the twin's variance and
    :math:`\rho^2`, the squared correlation of an observation of the candidate (its level's noise
    included) with f at the twin, what both acquisitions read."""
    if not isinstance(b, FidelityPoolBelief):
        raise TypeError("a multi-fidelity acquisition reads a FidelityPoolBelief")
    c = b.candidates
    t = b.twin[c]
    var_t = b.var[t].clamp_min(CLAMP)
    noise = b.noise[c] if b.noise is not None else b.noise_var
    return t, var_t, b.cross[c] ** 2 / (var_t * (b.var[c] + noise))


class MultiFidelityMaxValueEntropy(PoolAcquisition):
    """``"mes"`` with a fidelity: the information about the target level's max value per unit cost
    (see the module docstring)."""

    name = "mes"

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        t, var_t, rho2 = _target_correlation(b)
        info = gibbon_information(b.mean[t], var_t, rho2, b.samples.max(dim=1).values)
        return info / b.cost[b.candidates]


class MultiFidelityEntropySearch(PoolAcquisition):
    r"""``"es"`` with a fidelity: the information an observation of :math:`(x, l)` gives about *which*
    configuration is best at the target level, per unit cost. The project's entropy search over the
    pool (``entropy_search``: binned mutual information from the joint samples) with each point's
    observation written through its target-level twin: :math:`y = f(x, t) + \varepsilon`, with the
    noise variance :math:`\sigma_t^2 (1/\rho^2 - 1)` that the correlation :math:`\rho` leaves (at the
    target level, the observation noise). That treats the part of :math:`f(x, l)` not explained by
    :math:`f(x, t)` as independent of the other configurations' target values, which is exact for
    the prior of ``FidelityKernel`` and an approximation under the posterior."""

    name = "es"

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        t, var_t, rho2 = _target_correlation(b)
        rho2 = rho2.clamp(0.0, 1.0)
        sd = torch.where(rho2 > CLAMP, (var_t * (1 / rho2.clamp_min(CLAMP) - 1)).clamp_min(0.0).sqrt(),
                         torch.full_like(rho2, torch.inf))
        info = entropy_search(b, generator=generator, observes=t, noise_sd=sd)
        return info / b.cost[b.candidates]


FIDELITY_ACQUISITIONS = {"mes": MultiFidelityMaxValueEntropy, "es": MultiFidelityEntropySearch}
"""The acquisitions that weigh information about the target level against each level's cost."""


__all__ = ["FIDELITY_ACQUISITIONS", "FidelityFeatures", "FidelityKernel", "FidelityPoolBelief",
           "LevelGaussianLikelihood", "LevelMean", "LevelNoise", "MultiFidelityEntropySearch",
           "MultiFidelityMaxValueEntropy", "fidelity_pool_posterior", "gibbon_information"]
