r"""Acquisition over a discrete pool of cells: which evaluation teaches the most.

Information-theoretic acquisitions (the BOED core):

- ``"es"``: entropy search over the pool. The expected reduction of the entropy of
  :math:`p(x^\star \mid D)`, the posterior over *which cell is best*, from observing cell x:

  .. math::
      \alpha(x) = H[p(x^\star \mid D)] - \mathbb{E}_{y \sim p(y_x \mid D)} H[p(x^\star \mid D, y_x = y)]

  estimated by Monte Carlo from S exact joint posterior samples :math:`f^{(s)}` over a plausible
  set of cells (those with a non-negligible chance of being best): :math:`p(x^\star)` is the
  frequency of each argmax, and the expected conditional entropy is a plug-in estimate over
  equal-count bins of the samples' noisy observations of x (hand-written, because botorch has no
  estimator for the entropy of a discrete argmax). Reference: Hennig & Schuler,
  Entropy Search for Information-Efficient Global Optimization, JMLR 2012.
- ``"mes"``: max-value entropy search in botorch's GIBBON form (``qLowerBoundMaxValueEntropy``),
  its max values taken exactly from the joint samples over the pool instead of a Gumbel fit.
- ``"jes"``: joint entropy search (botorch ``qJointEntropySearch``, lower bound), its optimal
  inputs and outputs taken exactly from the joint samples over the pool.

And for comparison: ``"ei"`` (botorch ``LogExpectedImprovement`` against the best posterior
mean among evaluated cells), ``"ucb"`` (botorch ``UpperConfidenceBound``) and ``"ts"``
(Thompson sampling: the argmax of one joint sample).

Each acquisition returns one score per candidate; the controller takes the argmax
(``seeded_argmax``: scores tied within ``TIE_RTOL`` of the maximum are broken by a seeded draw,
not by the pool's order or floating-point rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound
from botorch.acquisition.joint_entropy_search import qJointEntropySearch
from botorch.acquisition.max_value_entropy_search import qLowerBoundMaxValueEntropy
from botorch.models import SingleTaskGP
from botorch.models.model import Model
from botorch.posteriors import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DiagLinearOperator

from ..errors import ConfigError
from .belief import entropy

ACQUISITIONS = ("es", "mes", "jes", "ei", "ucb", "ts")
TIE_RTOL = 1e-9
"""Scores within this relative distance of the maximum count as tied (``seeded_argmax``)."""


def seeded_argmax(scores: torch.Tensor, generator: torch.Generator, rtol: float = TIE_RTOL) -> int:
    """The index of the largest score; where several are tied (within ``rtol`` of the maximum,
    relative), a uniform draw among them from ``generator``.

    ``torch.argmax`` takes the first of tied scores, so the pick would depend on how the pool is
    ordered and, for ties that are exact only up to rounding, on the BLAS build; the draw makes it
    depend on the seed alone. NaN scores never win. The generator is used only when there is a tie.
    """
    s = torch.nan_to_num(scores.detach().double(), nan=-math.inf)
    if s.numel() == 0:
        raise ValueError("seeded_argmax of an empty score vector")
    top = s.max()
    if not bool(torch.isfinite(top)):
        return int(torch.argmax(s))
    tied = torch.nonzero(s >= top - rtol * top.abs()).squeeze(-1)
    if len(tied) == 1:
        return int(tied[0])
    return int(tied[int(torch.randint(len(tied), (1,), generator=generator))])


@dataclass
class PoolBelief:
    """What the acquisitions read, computed once per pick.

    ``X`` are the inputs of every cell in the universe (``N x d``), ``mean``/``var`` the marginal
    posterior of f there; ``plausible`` indexes the cells given joint samples ``samples``
    (``S x P``); ``candidates`` indexes the cells that may be proposed; ``noise_var`` is the
    learned observation noise; ``incumbent`` is the best posterior mean among evaluated cells.
    """

    model: SingleTaskGP
    X: torch.Tensor
    mean: torch.Tensor
    var: torch.Tensor
    plausible: torch.Tensor
    samples: torch.Tensor
    candidates: torch.Tensor
    noise_var: float
    incumbent: float

    def argmax_distribution(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(cells, probabilities): the Monte Carlo posterior over which cell is best."""
        idx = self.samples.argmax(dim=1)
        cells, counts = torch.unique(idx, return_counts=True)
        return self.plausible[cells], counts.to(self.samples.dtype) / idx.numel()

    def argmax_entropy(self) -> float:
        return float(entropy(self.argmax_distribution()[1]))


class PoolMarginals(Model):
    """The GP's marginal posterior over a discrete pool, computed once per pick (``PoolBelief``'s
    ``mean`` and ``var``), served to botorch's one-point acquisitions by pool index.

    The inputs are pool indices (``... x 1`` float tensors), not cell features. GIBBON, EI and UCB
    at q=1 read only the marginal mean and variance of each candidate (plus the noise, for
    GIBBON's noisy observation), which ``posterior_mean_var`` has already computed for every
    cell. Handing botorch the GP itself made it evaluate the kernel between every candidate and
    the training set twice more (GIBBON asks for the noiseless and the noisy posterior): 0.9 s of
    a 1.25 s ask at 200 observations. botorch has no posterior-from-given-marginals model, hence
    this one; a q>1 or joint acquisition (JES, batch GIBBON) needs the GP itself.
    """

    def __init__(self, mean: torch.Tensor, var: torch.Tensor, noise_var: float):
        super().__init__()
        self._mean, self._var, self._noise_var = mean, var, noise_var

    @property
    def num_outputs(self) -> int:
        return 1

    def posterior(self, X: torch.Tensor, output_indices=None, observation_noise: bool = False,
                  posterior_transform=None, **kwargs) -> GPyTorchPosterior:
        if output_indices not in (None, [0]) or posterior_transform is not None:
            raise NotImplementedError("PoolMarginals serves one output without a posterior transform")
        if not isinstance(observation_noise, bool):
            raise NotImplementedError("PoolMarginals adds its learned noise only (observation_noise=True/False)")
        idx = X[..., 0].long()  # batch x q pool indices
        var = self._var[idx] + (self._noise_var if observation_noise else 0.0)
        return GPyTorchPosterior(MultivariateNormal(self._mean[idx], DiagLinearOperator(var)))


class DiscreteMaxValueEntropy(qLowerBoundMaxValueEntropy):
    """GIBBON (botorch) with max values given from exact joint samples over a discrete pool."""

    def __init__(self, model: SingleTaskGP, candidate_set: torch.Tensor, max_values: torch.Tensor):
        self._given_max_values = max_values.reshape(-1, 1)
        super().__init__(model, candidate_set, num_mv_samples=self._given_max_values.shape[0])

    def _sample_max_values(self, num_samples: int, X_pending: torch.Tensor | None = None) -> None:
        self.posterior_max_values = self._given_max_values


def _chunked(acqf, X: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([acqf(X[i : i + chunk].unsqueeze(-2)) for i in range(0, X.shape[0], chunk)])


def entropy_search(b: PoolBelief, n_bins: int = 8, generator: torch.Generator | None = None,
                   chunk: int = 128, observes: torch.Tensor | None = None,
                   noise_sd: torch.Tensor | None = None) -> torch.Tensor:
    """ES scores for ``b.candidates``: the mutual information between which cell is best and the
    noisy observation of each candidate, from the same S joint samples; 0 where a candidate is not
    in the plausible set.

    For a candidate x, sample s gives the pair (argmax of f^(s), y^(s) = f^(s)(x) + noise). The
    observations are cut into ``n_bins`` bins of equal counts and the plug-in estimate
    H[x*] - sum_b P(b) H[x* | b] is taken. Equal-count bins give every candidate the same
    estimator bias, so the ranking is not pulled towards high-variance cells (an importance-weight
    estimator is: its weights degenerate exactly there, which reads as a large entropy reduction).

    ``observes`` and ``noise_sd`` (one per candidate) generalise the observation: candidate i
    observes f at the pool index ``observes[i]`` (default: itself; 0 where that is not in the
    plausible set) plus noise of standard deviation ``noise_sd[i]`` (default the observation
    noise; infinite: it observes nothing, score 0). A cheaper level's observation is its
    target-level twin plus the noise that its correlation leaves
    (``boed_nas.bo.fidelity.MultiFidelityEntropySearch``).
    """
    S = b.samples.shape[0]
    n_bins = max(2, min(n_bins, S // 8))
    arg = b.samples.argmax(dim=1)
    uniq, inv = torch.unique(arg, return_inverse=True)
    onehot = torch.nn.functional.one_hot(inv, len(uniq)).to(b.samples.dtype)  # S x U
    h0 = entropy(onehot.mean(0))
    pos = {int(p): i for i, p in enumerate(b.plausible.tolist())}
    observed = b.candidates if observes is None else observes
    cols = torch.tensor([pos.get(int(c), -1) for c in observed.tolist()], dtype=torch.long)
    scores = torch.zeros(len(b.candidates), dtype=b.samples.dtype)
    ok = cols >= 0
    if noise_sd is not None:
        ok &= torch.isfinite(noise_sd)
    ok = torch.nonzero(ok).squeeze(-1)
    if len(ok) == 0 or len(uniq) == 1:
        return scores
    sigma = max(b.noise_var, 1e-12) ** 0.5
    z = torch.randn(S, generator=generator, dtype=b.samples.dtype)  # one draw per sample, shared by the candidates
    per_bin = S // n_bins
    for i in range(0, len(ok), chunk):
        j = cols[ok[i : i + chunk]]
        sd = sigma if noise_sd is None else noise_sd[ok[i : i + chunk], None]
        y = b.samples[:, j].T + sd * z  # J x S noisy observations
        ranks = torch.argsort(torch.argsort(y, dim=1), dim=1)
        bins = torch.clamp(ranks // per_bin, max=n_bins - 1)  # J x S equal-count bins
        member = torch.nn.functional.one_hot(bins, n_bins).to(b.samples.dtype)  # J x S x B
        counts = member.transpose(1, 2) @ onehot  # J x B x U
        pb = counts.sum(-1)  # J x B
        cond = entropy(counts / pb.clamp_min(1).unsqueeze(-1))  # J x B
        scores[ok[i : i + chunk]] = h0 - (pb / S * cond).sum(-1)
    return scores


ONE_POINT = ("mes", "ei", "ucb")


def _one_point(name: str, b: PoolBelief, model: Model, X: torch.Tensor) -> torch.Tensor:
    """Acquisition ``name`` (one of ``ONE_POINT``) of ``model`` at the inputs ``X``, one row per
    candidate of ``b``."""
    if name == "mes":
        acqf = DiscreteMaxValueEntropy(model, X[:1], b.samples.max(dim=1).values)
    elif name == "ei":
        acqf = LogExpectedImprovement(model, best_f=b.incumbent)
    else:
        acqf = UpperConfidenceBound(model, beta=4.0)
    return _chunked(acqf, X)


def score_on_gp(name: str, b: PoolBelief) -> torch.Tensor:
    """The one-point acquisitions ``"mes"``, ``"ei"`` and ``"ucb"`` scored by botorch on the GP
    itself, the way ``score`` did before ``PoolMarginals``: slower, same values. Kept as the
    reference that tests and ``tools/pool_marginals_check.py`` compare ``score`` with."""
    if name not in ONE_POINT:
        raise ConfigError(f"score_on_gp covers {list(ONE_POINT)}, got {name!r}")
    return _one_point(name, b, b.model, b.X[b.candidates])


class PoolAcquisition:
    """One acquisition over the pool: ``acq(b, generator)`` scores ``b.candidates`` (one value
    each; the controller proposes the argmax). A subclass names itself and writes ``__call__``."""

    name = ""

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


class _OnePoint(PoolAcquisition):
    """GIBBON, EI and UCB at q=1 from the pool's marginals (``PoolMarginals``): the candidates'
    pool indices are the inputs botorch sees."""

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        pool = PoolMarginals(b.mean, b.var, b.noise_var)
        return _one_point(self.name, b, pool, b.candidates.to(b.mean.dtype).unsqueeze(-1))


class MaxValueEntropySearch(_OnePoint):
    """``"mes"``: GIBBON (botorch ``qLowerBoundMaxValueEntropy``), max values from the joint samples."""

    name = "mes"


class ExpectedImprovement(_OnePoint):
    """``"ei"``: botorch ``LogExpectedImprovement`` over the best posterior mean of the evaluated cells."""

    name = "ei"


class UpperConfidenceBoundAcquisition(_OnePoint):
    """``"ucb"``: botorch ``UpperConfidenceBound`` with beta 4 (mean + 2 sd)."""

    name = "ucb"


class EntropySearch(PoolAcquisition):
    """``"es"``: entropy search over the pool (``entropy_search``)."""

    name = "es"

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        return entropy_search(b, generator=generator)


class JointEntropySearch(PoolAcquisition):
    """``"jes"``: botorch ``qJointEntropySearch`` (lower bound), optima from the joint samples."""

    name = "jes"

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        n_opt = min(32, b.samples.shape[0])
        arg = b.samples[:n_opt].argmax(dim=1)
        acqf = qJointEntropySearch(
            b.model, optimal_inputs=b.X[b.plausible[arg]], optimal_outputs=b.samples[:n_opt].max(dim=1).values[:, None],
            estimation_type="LB",
        )
        return _chunked(acqf, b.X[b.candidates], chunk=256)


class ThompsonSampling(PoolAcquisition):
    """``"ts"``: one joint sample's values (-inf outside the plausible set)."""

    name = "ts"

    def __call__(self, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
        pos = {int(p): i for i, p in enumerate(b.plausible.tolist())}
        s = b.samples[int(torch.randint(b.samples.shape[0], (1,), generator=generator))]
        return torch.tensor([s[pos[int(c)]] if int(c) in pos else -torch.inf for c in b.candidates], dtype=s.dtype)


ACQUISITION_CLASSES: dict[str, type[PoolAcquisition]] = {
    cls.name: cls for cls in (EntropySearch, MaxValueEntropySearch, JointEntropySearch, ExpectedImprovement,
                              UpperConfidenceBoundAcquisition, ThompsonSampling)}


def make_acquisition(name: str) -> PoolAcquisition:
    """The acquisition called ``name`` (one of ``ACQUISITIONS``); ConfigError otherwise."""
    if name not in ACQUISITION_CLASSES:
        raise ConfigError(f"unknown acquisition {name!r}; expected one of {list(ACQUISITIONS)}")
    return ACQUISITION_CLASSES[name]()


def score(name: str, b: PoolBelief, generator: torch.Generator) -> torch.Tensor:
    """Acquisition values of ``b.candidates`` under acquisition ``name``."""
    return make_acquisition(name)(b, generator)
