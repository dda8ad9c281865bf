r"""The Pareto search's acquisitions, one class each (as ``boed_nas.bo.acquisition`` for one objective).

An acquisition is called as ``acq(ctl, model, F, free, cand, mean, var, generator)``: the controller
(``MultiObjectiveBOED``: its problem, costs, settings), the fitted GP of accuracy, the feasible classes
considered ``F`` (pool indices) with their posterior ``mean``/``var``, the mask ``free`` of those not
told or pending and ``cand = F[free]``; it returns one score per candidate and a report (what
the controller's ``reports`` record). The controller proposes the argmax.

Acquisition ``"pfes"``: Pareto-front entropy search for one learned objective and known costs.
With known costs the Pareto front is a step function of cost. For a joint posterior sample
:math:`f^{(s)}` of accuracy over the cells that could plausibly be on the front, the sampled
front's level at a cell x is

.. math::
    t_s(x) = \max\{ f^{(s)}(z) : c(z) \le c(x) \}

(the best sampled accuracy among cells whose costs weakly dominate x's, x included). Given the
front, :math:`f(x) \le t_s(x)`; as in max-value entropy search this truncation gives the
information gain about the front in closed form, averaged over samples. We use the GIBBON form
(Moss et al., JMLR 2021), which accounts for observation noise:

.. math::
    \alpha(x) = \frac{1}{S} \sum_s -\tfrac12 \log\Big(1 - \rho^2(x)\, r_s(x)\big(\gamma_s(x) + r_s(x)\big)\Big),
    \quad \gamma_s = \frac{t_s(x) - \mu(x)}{\sigma(x)}, \quad r_s = \frac{\phi(\gamma_s)}{\Phi(\gamma_s)},
    \quad \rho^2 = \frac{\sigma^2}{\sigma^2 + \sigma_n^2}.

With one objective :math:`t_s` is the sampled maximum and this is GIBBON itself (MES); under a
constraint ``cost <= B`` the pool is the feasible cells, so it is max-value entropy search over
them; with a scalarisation ``accuracy - lambda * cost`` the threshold becomes
:math:`t_s(x) = \max_z [f^{(s)}(z) - \lambda c(z)] + \lambda c(x)`. Written by hand because
botorch's max-value acquisitions take one threshold per sample shared by every candidate, and its
multi-objective entropy searches (MO-JES) need a model per objective, costs included.
References: Wang & Jegelka, Max-value entropy search, ICML 2017; Suzuki et al., Multi-objective
Bayesian optimization using Pareto-frontier entropy (PFES), ICML 2020; Belakaria et al., MESMO,
NeurIPS 2019.

Acquisition ``"ehvi"``: expected hypervolume improvement, exact and in closed form. With known
costs a cell x adds to the current front's dominated region the set of (accuracy a, costs c) with
:math:`c \ge c(x)`, :math:`a \le f(x)` and :math:`a > A(c)`, where :math:`A(c)` is the front's
level at c (its best accuracy among points costing at most c, or the reference). A is constant on
the grid that the front's cost coordinates cut, so

.. math::
    \mathrm{EHVI}(x) = \sum_{g} |g \cap \{c \ge c(x)\}| \; \mathrm{EI}\big(\mu(x), \sigma(x); A_g\big),
    \quad \mathrm{EI}(\mu, \sigma; t) = \sigma\,[\phi(z) + z\,\Phi(z)],\ z = (\mu - t)/\sigma,

a sum over grid cells g of their volume above c(x) times the expected improvement over their
level. The front is that of the posterior means of the evaluated cells (a plug-in for noisy
observations); the reference is the worst posterior mean of those cells and the worst cost of the
pool. botorch's qLogNEHVI computes the same quantity by Monte Carlo over box decompositions with a
model per objective; with one learned objective the sum is exact, and it scores the whole pool
in one pass (no joint samples).

"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..bo.belief import joint_samples, noise_variance, posterior_mean_var
from ..errors import ConfigError
from .pareto import OBJECTIVES, non_dominated

MO_ACQUISITIONS = ("pfes", "ehvi")


def gibbon_information_gain(mean: torch.Tensor, var: torch.Tensor, thresholds: torch.Tensor,
                            noise_var: float) -> torch.Tensor:
    """GIBBON's q=1 information gain (botorch ``qLowerBoundMaxValueEntropy``'s formula) with a
    threshold per sample *and per candidate*: ``mean``/``var`` (N) of the latent f, ``thresholds``
    (S x N); returns N values, averaged over samples."""
    sd = var.clamp_min(1e-12).sqrt()
    gamma = (thresholds - mean) / sd
    normal = torch.distributions.Normal(torch.zeros((), dtype=mean.dtype), torch.ones((), dtype=mean.dtype))
    ratio = torch.exp(normal.log_prob(gamma) - torch.special.log_ndtr(gamma))
    rho2 = var / (var + noise_var)
    inner = 1 - rho2 * ratio * (gamma + ratio)
    return (-0.5 * inner.clamp_min(1e-12).log()).mean(0)


def expected_hypervolume_improvement(mean: torch.Tensor, var: torch.Tensor, query_costs: np.ndarray,
                                     front_values: np.ndarray, front_costs: np.ndarray,
                                     reference: Sequence[float]) -> torch.Tensor:
    """Exact EHVI (see the module docstring) of candidates with latent ``mean``/``var`` (N) and
    known ``query_costs`` (N x k, k = 1 or 2, minimised) over a front of ``front_values`` (F,
    maximised) at ``front_costs`` (F x k), with ``reference`` = (value, cost_1, ..., cost_k)."""
    k = query_costs.shape[1]
    if k not in (1, 2):
        raise ConfigError(f"exact EHVI needs one or two known costs, got {k}")
    ref_v, ref_c = float(reference[0]), np.asarray(reference[1:], dtype=np.float64)
    fv, fc = np.asarray(front_values, dtype=np.float64), np.asarray(front_costs, dtype=np.float64).reshape(-1, k)
    inside = (fc <= ref_c).all(1) & (fv > ref_v)
    fv, fc = fv[inside], fc[inside]
    # per cost dimension the grid lines: the front's coordinates and the reference
    hi = [np.unique(np.concatenate([fc[:, d], [ref_c[d]]])) for d in range(k)]
    lo = [np.concatenate([[-np.inf], h[:-1]]) for h in hi]  # grid cell d-intervals [lo, hi)
    # the front's level on each grid cell: the best value among points costing at most its lower
    # corner, or the reference (also when the front is empty)
    corner = np.stack(np.meshgrid(*lo, indexing="ij"), -1).reshape(-1, k)  # G x k
    dominated = (fc[None, :, :] <= corner[:, None, :]).all(-1)  # G x F
    level = np.where(dominated, fv[None, :], -np.inf).max(1, initial=ref_v)
    # the volume of each grid cell above the candidate's costs: a product of per-dimension widths
    qc = np.asarray(query_costs, dtype=np.float64)
    widths = [np.clip(hi[d][None, :] - np.maximum(qc[:, d:d + 1], lo[d][None, :]), 0, None) for d in range(k)]
    vol = widths[0] if k == 1 else (widths[0][:, :, None] * widths[1][:, None, :]).reshape(len(qc), -1)  # N x G
    # EI against one threshold per (candidate, grid cell): botorch's analytic ExpectedImprovement
    # takes a single best_f for all candidates, so the closed form is written out here
    sd = var.clamp_min(1e-12).sqrt()[:, None]
    z = (mean[:, None] - torch.as_tensor(level)[None, :]) / sd
    normal = torch.distributions.Normal(torch.zeros((), dtype=mean.dtype), torch.ones((), dtype=mean.dtype))
    ei = sd * (normal.log_prob(z).exp() + z * torch.special.ndtr(z))
    return (torch.as_tensor(vol, dtype=mean.dtype) * ei).sum(1)


def front_levels(values: torch.Tensor, costs: np.ndarray, query_costs: np.ndarray) -> torch.Tensor:
    """``t[s, x] = max{values[s, z] : costs[z] <= query_costs[x] componentwise}`` (-inf if none).

    ``values`` S x P, ``costs`` P x k, ``query_costs`` N x k. One cost: a running maximum over
    cells sorted by cost. Several: per sample, only the sampled front can attain the maximum (a
    dominated z has a front point w with c(w) <= c(z) and f(w) >= f(z)), so the masked maximum
    runs over the front alone.
    """
    S, P = values.shape
    k = costs.shape[1]
    if k == 0:
        return values.max(dim=1, keepdim=True).values.expand(S, len(query_costs))
    if k == 1:
        order = np.argsort(costs[:, 0], kind="stable")
        run = torch.cummax(values[:, torch.as_tensor(order)], dim=1).values
        pos = np.searchsorted(costs[order, 0], query_costs[:, 0], side="right")
        out = run[:, torch.as_tensor(np.maximum(pos - 1, 0))]
        out[:, torch.as_tensor(pos == 0)] = -torch.inf
        return out
    objs = (OBJECTIVES["accuracy"],) + (OBJECTIVES["latency"],) * k  # only directions matter here
    out = torch.full((S, len(query_costs)), -torch.inf, dtype=values.dtype)
    qc = torch.as_tensor(query_costs)
    cz = torch.as_tensor(costs)
    v = values.numpy()
    for s in range(S):
        front = non_dominated(np.concatenate([v[s][:, None], costs], axis=1), objs)
        dom = (cz[front][:, None, :] <= qc[None, :, :]).all(-1)  # F x N
        out[s] = torch.where(dom, values[s, torch.as_tensor(front)][:, None], -torch.inf).max(0).values
    return out


class ParetoAcquisition:
    """One acquisition of the Pareto search (see the module docstring); a subclass names itself and
    writes ``__call__``."""

    name = ""

    def __call__(self, ctl: Any, model: Any, F: np.ndarray, free: torch.Tensor, cand: np.ndarray,
                 mean: torch.Tensor, var: torch.Tensor, generator: torch.Generator
                 ) -> tuple[torch.Tensor, dict[str, Any]]:
        raise NotImplementedError


class FrontEntropySearch(ParetoAcquisition):
    """``"pfes"``: the information an evaluation gives about the front (or, constrained or
    scalarised, the best utility), GIBBON's form over joint samples of the plausible cells."""

    name = "pfes"

    def __call__(self, ctl, model, F, free, cand, mean, var, generator):
        sd = var.sqrt()
        level = ctl._levels(mean - 3 * sd, F, F)
        margin = mean + 3 * sd - level
        keep = torch.nonzero(margin >= 0).squeeze(-1)
        if len(keep) > ctl.plausible_size:
            keep = keep[torch.argsort(margin[keep], descending=True)[: ctl.plausible_size]]
        keep = torch.sort(keep).values
        plausible = F[keep.numpy()]
        samples = joint_samples(model, ctl.X[torch.as_tensor(plausible)], ctl.n_samples, generator)
        off = ctl._utility_offset()
        if ctl._front_mode():
            t = front_levels(samples, ctl._pool_costs[plausible], ctl._pool_costs[cand])
            # no plausible cell weakly cheaper (the plausible set was truncated): the sure level
            t = torch.where(torch.isfinite(t), t, level[free][None, :])
        else:
            best = (samples - torch.as_tensor(off[plausible])[None, :]).max(dim=1, keepdim=True).values
            t = best + torch.as_tensor(off[cand])[None, :]
        scores = gibbon_information_gain(mean[free], var[free], t, noise_variance(model))
        return scores, {"n_candidates": int(len(cand)), "n_plausible": int(len(plausible)),
                        "max_information_gain": float(scores.max()) if len(scores) else 0.0,
                        "noise_var": noise_variance(model)}


class ExpectedHypervolumeImprovement(ParetoAcquisition):
    """``"ehvi"``: exact EHVI of the candidates over the front of the evaluated feasible cells'
    posterior means (pending cells, fantasised at their mean by the controller, are in the model but
    not in this front: batches are diversified by the kriging believer in the GP only)."""

    name = "ehvi"

    def __call__(self, ctl, model, F, free, cand, mean, var, generator):
        obs = ctl._feasible_successes()
        idx = np.array([ctl._index(o.cell) for o in obs], dtype=np.int64)
        fm, _ = posterior_mean_var(model, ctl.X[torch.as_tensor(idx)])
        fcost = ctl.problem.costs_of([o.cell for o in obs])
        keep = non_dominated(np.concatenate([fm.numpy()[:, None], fcost], 1), ctl.problem.objectives)
        reference = [float(fm.min()), *ctl._worst_feasible_costs]
        scores = expected_hypervolume_improvement(mean[free], var[free], ctl._pool_costs[cand], fm.numpy()[keep],
                                                  fcost[keep], reference)
        return scores, {"n_candidates": int(len(cand)), "front_size": int(len(keep)),
                        "max_ehvi": float(scores.max()) if len(scores) else 0.0, "noise_var": noise_variance(model)}


PARETO_ACQUISITIONS: dict[str, type[ParetoAcquisition]] = {
    cls.name: cls for cls in (FrontEntropySearch, ExpectedHypervolumeImprovement)}


def make_pareto_acquisition(name: str) -> ParetoAcquisition:
    """The Pareto acquisition called ``name`` (one of ``MO_ACQUISITIONS``); ConfigError otherwise."""
    if name not in PARETO_ACQUISITIONS:
        raise ConfigError(f"unknown acquisition {name!r}; expected one of {list(MO_ACQUISITIONS)}")
    return PARETO_ACQUISITIONS[name]()


__all__ = ["MO_ACQUISITIONS", "PARETO_ACQUISITIONS", "ExpectedHypervolumeImprovement", "FrontEntropySearch",
           "ParetoAcquisition", "expected_hypervolume_improvement", "front_levels", "gibbon_information_gain",
           "make_pareto_acquisition"]
