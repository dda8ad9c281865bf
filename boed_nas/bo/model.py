"""The belief as a part of the controller: a GP fitted on a schedule, pending evaluations as
fantasies, and the posterior over a candidate pool that the acquisitions read.

``Belief.fit`` fits the GP (``fit_belief``) to the told outcomes (output-transformed): by marginal
likelihood every ``refit_every`` tells, warm-started from the last fit and, every
``cold_start_every`` tells, also from gpytorch's defaults (the better marginal likelihood is kept);
in between it conditions on the new data with the last hyperparameters. With ``refit_fraction``
both counts are multiplied by ``max(1, floor(refit_fraction * n))`` at a fit on ``n`` observations:
the hyperparameters are refitted when the history has grown by that fraction, not at every tell. A belief saved at this
very history is rebuilt, not refitted, so a resumed run holds the identical model. ``state`` /
``load_state`` save that schedule (JSON).

``Belief.condition_on_pending`` adds the pending evaluations to the model as fantasies: at their
posterior mean (the kriging believer), at one joint draw of their noisy observation, or not at all.
``Belief.pool_posterior`` gives the marginal posterior over the pool, the plausible set (upper
bound above the best lower bound) and exact joint samples over it (``PoolBelief``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..errors import StateError
from .acquisition import PoolBelief
from .belief import (
    OutputTransform,
    fit_belief,
    hyperparameters,
    joint_samples,
    noise_at,
    noise_variance,
    posterior_mean_var,
)


class Belief:
    """The GP over a pool's inputs and its fit schedule (see the module docstring)."""

    def __init__(self, features: Any, output_transform: str = "rank", refit_every: int = 1,
                 cold_start_every: int = 10, pending: str = "believer", refit_fraction: float = 0.0):
        self.features = features
        self.transform = OutputTransform(output_transform)
        self.refit_every, self.cold_start_every, self.pending_mode = refit_every, cold_start_every, pending
        self.refit_fraction = refit_fraction
        self.hyper: dict[str, Any] | None = None  # last fitted hyperparameters and the history size
        self._cache: tuple[int, Any, np.ndarray] | None = None

    def stretch(self, at: int) -> int:
        """The factor on ``refit_every`` and ``cold_start_every`` after a fit at history size ``at``:
        ``max(1, floor(refit_fraction * at))``, so hyperparameters are refitted when the history
        has grown by that fraction (1: the plain counts)."""
        return max(1, math.floor(self.refit_fraction * at))

    def invalidate(self) -> None:
        """Forget the cached model (the pool or its inputs changed)."""
        self._cache = None

    def cached(self, n_history: int) -> tuple[Any, np.ndarray] | None:
        if self._cache is not None and self._cache[0] == n_history:
            return self._cache[1], self._cache[2]
        return None

    def fit(self, X: torch.Tensor, idx: np.ndarray, signed: np.ndarray, n_history: int,
            seed: int, groups: np.ndarray | None = None) -> tuple[Any, np.ndarray]:
        """The GP fitted to the observations at pool indices ``idx`` with values ``signed`` (larger
        is better), at history size ``n_history``; cached until the history grows. ``groups`` (one
        label per observation, e.g. its fidelity level): the output transform is applied within
        each group, so each level's values keep their own spread (the belief's level means and
        correlations relate them)."""
        hit = self.cached(n_history)
        if hit is not None:
            return hit
        if groups is None:
            y = self.transform(signed)
        else:
            y = np.empty(len(signed))
            for g in np.unique(groups):
                y[groups == g] = self.transform(np.asarray(signed)[groups == g])
        exact = self.hyper is not None and self.hyper["n"] == n_history

        def due(key: str, every: int) -> tuple[int | None, bool]:
            # (history size when it was last done, whether it is due now); states saved before
            # these settings existed fitted with a cold start at every tell, i.e. at "n"
            at = None if self.hyper is None else self.hyper.get(key, self.hyper["n"])
            return at, at is None or n_history - at >= every * self.stretch(at)

        fitted_at, refit = due("fitted_at", self.refit_every)
        cold_at, cold = due("cold_at", self.cold_start_every)
        optimize = not exact and refit
        model = fit_belief(X[idx], torch.tensor(y)[:, None], self.features, seed=seed,
                           init=None if self.hyper is None else self.hyper["params"], optimize=optimize,
                           cold_start=cold)
        self.hyper = {"n": n_history, "params": hyperparameters(model),
                      "fitted_at": n_history if optimize else fitted_at,
                      "cold_at": n_history if optimize and cold else cold_at}
        self._cache = (n_history, model, idx)
        return model, idx

    def condition_on_pending(self, model: Any, Xp: torch.Tensor, generator: torch.Generator) -> Any:
        """``model`` with the pending inputs ``Xp`` fantasised (``pending`` mode); ``model`` itself
        when there are none or the mode is ``"ignore"``."""
        if len(Xp) == 0 or self.pending_mode == "ignore":
            return model
        if self.pending_mode == "believer":
            mp, _ = posterior_mean_var(model, Xp)
        else:
            draw = joint_samples(model, Xp, 1, generator)[0]
            z = torch.randn(len(Xp), generator=generator, dtype=draw.dtype)
            if hasattr(model.likelihood, "noise_at"):  # a noise per level
                mp = draw + noise_at(model, Xp).sqrt() * z
            else:
                mp = draw + noise_variance(model) ** 0.5 * z
        model = copy.deepcopy(model)
        model.set_train_data(torch.cat([model.train_inputs[0], Xp]), torch.cat([model.train_targets, mp]), strict=False)
        return model

    @staticmethod
    def pool_posterior(model: Any, X: torch.Tensor, evaluated: np.ndarray, candidates: torch.Tensor,
                       plausible_size: int, n_samples: int, generator: torch.Generator) -> PoolBelief:
        """The posterior over every pool member (inputs ``X``): marginals, the plausible set (the
        members whose mean + 3 sd reaches the best mean - 3 sd, at most ``plausible_size`` by upper
        bound) and ``n_samples`` exact joint samples over it."""
        mean, var = posterior_mean_var(model, X)
        sd = var.sqrt()
        ucb = mean + 3 * sd
        floor = (mean - 3 * sd).max()
        plausible = torch.nonzero(ucb >= floor).squeeze(-1)
        if len(plausible) > plausible_size:
            plausible = plausible[torch.argsort(ucb[plausible], descending=True)[:plausible_size]]
        plausible = torch.sort(plausible).values
        samples = joint_samples(model, X[plausible], n_samples, generator)
        return PoolBelief(model=model, X=X, mean=mean, var=var, plausible=plausible, samples=samples,
                          candidates=candidates, noise_var=noise_variance(model), incumbent=float(mean[evaluated].max()))

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any] | None:
        return self.hyper

    def load_state(self, hyper: Any) -> None:
        if hyper is not None:
            check_belief_state(hyper)
        self.hyper, self._cache = hyper, None


def check_belief_state(belief: Any) -> None:
    """StateError unless ``belief`` is a saved fit: ``{"n": int, "params": {name: finite numbers}, ...}``."""
    def numbers(v: Any) -> bool:
        if isinstance(v, list):
            return all(numbers(x) for x in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if not isinstance(belief, Mapping) or not isinstance(belief.get("n"), int) or belief["n"] < 0:
        raise StateError(f"corrupt boed state: 'belief' must hold the history size 'n' of its fit, got {belief!r:.200}")
    params = belief.get("params")
    if not isinstance(params, Mapping) or not all(isinstance(k, str) and numbers(v) for k, v in params.items()):
        raise StateError("corrupt boed state: the belief's 'params' must map hyperparameter names to finite numbers")
    for key in ("fitted_at", "cold_at"):
        if belief.get(key) is not None and not isinstance(belief[key], int):
            raise StateError(f"corrupt boed state: the belief's {key!r} must be an integer, got {belief[key]!r}")


__all__ = ["Belief", "check_belief_state"]
