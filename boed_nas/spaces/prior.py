"""A supernet's belief about a space of your own, as ``boed`` takes it: proposals and a prior signal.

A differentiable supernet (DARTS and its family) ends its search with a categorical distribution
per choice: architecture weights over the ops of an edge, the kernels of a layer, the widths of a
stage. ``ChoicePrior`` holds that belief over a ``Space``'s variables, one log-probability per
value, the choices independent (as the supernet's softmaxes are), and gives ``boed`` the two things
it takes from any supernet::

    from boed_nas.spaces.prior import ChoicePrior

    prior = ChoicePrior(SPACE, {"block": [0.2, 0.7, 0.1], "width": [0.1, 0.2, 0.6, 0.1]}, kind="probs")
    strategy = make_strategy("boed", space=SPACE, seed=0, **prior.boed_kwargs(2))
    # = proposals=prior.most_probable(2) (evaluated first; candidates on every ask)
    #   signals=prior (its log-probability, a signal at initialisation in the prior mean)

``most_probable(k)`` finds the k most probable valid configurations without enumerating the space
(a best-first search over the per-variable rankings, so it works on 10^9 configurations); exact ties
are broken by a seeded draw. A variable the supernet does not choose (a training hyperparameter, say)
is left out of the mapping and is uniform. The blueprint supernet's logits become one with
``boed_nas.blueprint.choice_prior(alpha, macro)``.

Written here rather than taken from a library: BoTorch and Ax take priors over continuous inputs or
fixed arms; neither has a product-of-categoricals prior with k-best decoding over a constrained space.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import log_softmax

from ..errors import ConfigError, SpaceError
from .base import Config, Space

MAX_POPS = 200_000  # configurations examined by most_probable before it gives up (a constraint rejecting nearly all)


class ChoicePrior:
    """Independent categorical log-probabilities over the values of a space's variables.

    ``values``: ``{variable name: one number per value of that variable, in the space's order}``:
    log-probabilities (``kind="log_probs"``), probabilities (``kind="probs"``) or unnormalised
    logits (``kind="logits"``, softmaxed per variable). Each vector is normalised. ``name`` is the
    signal's name in ``boed``'s prior mean.
    """

    def __init__(self, space: Space, values: Mapping[str, Sequence[float]], *, kind: str = "log_probs",
                 name: str = "supernet_logp") -> None:
        if kind not in ("log_probs", "probs", "logits"):
            raise ConfigError(f"kind must be 'log_probs', 'probs' or 'logits', got {kind!r}")
        unknown = sorted(set(values) - set(space.names))
        if unknown:
            raise SpaceError(f"the prior names variable {unknown[0]!r}, which space {space.name!r} does not have; "
                             f"its variables are {space.names}")
        self.space = space
        self.name = str(name)
        self.log_probs: list[np.ndarray] = []
        for v in space.variables:
            if v.name not in values:
                self.log_probs.append(np.full(len(v), -math.log(len(v))))
                continue
            x = np.asarray(values[v.name], dtype=np.float64).reshape(-1)
            if x.shape != (len(v),):
                raise SpaceError(f"the prior of variable {v.name!r} needs {len(v)} numbers (one per value "
                                 f"{list(v.values)}), got {x.shape[0]}")
            if kind == "probs":
                if np.any(~np.isfinite(x)) or np.any(x < 0) or x.sum() <= 0:
                    raise SpaceError(f"the prior of variable {v.name!r}: probabilities must be finite, non-negative "
                                     f"and not all 0, got {x.tolist()}")
                with np.errstate(divide="ignore"):
                    x = np.log(x)
            elif np.any(np.isnan(x)) or np.any(x == np.inf) or not np.any(np.isfinite(x)):
                raise SpaceError(f"the prior of variable {v.name!r}: {kind} must be numbers below +inf with one "
                                 f"finite, got {x.tolist()}")
            self.log_probs.append(log_softmax(x))  # normalised per variable, whichever kind came in

    # ------------------------------------------------------------------ the belief
    def log_prob(self, config: Config | Mapping[str, Any] | str) -> float:
        """log P(config) under the prior (-inf for a value of probability 0)."""
        idx = self.space.indices(config if isinstance(config, Config) else self.space.parse(config))
        return float(sum(lp[i] for lp, i in zip(self.log_probs, idx)))

    def __call__(self, config: Config) -> dict[str, float]:
        """The signal ``boed`` reads (``signals=prior``): ``{name: log P(config)}``, floored at a finite value."""
        return {self.name: max(self.log_prob(config), -1e6)}

    def most_probable(self, k: int, *, seed: int = 0) -> list[Config]:
        """The ``k`` most probable valid configurations, most probable first (fewer if the space has fewer).

        Best-first over the per-variable rankings: the next most probable configuration is always
        one step down one variable's ranking from one already taken, so a heap of those frontiers
        finds the k best after examining O(k x variables) configurations, not the whole space.
        Exact ties in log-probability are ordered by a draw seeded by ``seed``. A constraint is a black
        box here: one that rejects a large plateau of equally probable configurations (say, a bound
        on variables the prior leaves uniform) makes the search examine that plateau, up to
        ``MAX_POPS`` configurations, then a SpaceError.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"most_probable(k) needs a positive integer k, got {k!r}")
        rng = np.random.default_rng(seed)
        # per variable: value indices by decreasing log-probability, ties in a seeded order
        orders = [sorted(range(len(lp)), key=lambda i, lp=lp, r=rng.random(len(lp)): (-lp[i], r[i])) for lp in self.log_probs]

        def score(ranks: tuple[int, ...]) -> float:
            return float(sum(lp[o[r]] for lp, o, r in zip(self.log_probs, orders, ranks)))

        def tie(ranks: tuple[int, ...]) -> float:  # a seeded draw per configuration, for exact ties
            return float(np.random.default_rng([seed, *ranks]).random())

        start = (0,) * len(orders)
        heap = [(-score(start), tie(start), start)]
        queued = {start}
        out: list[Config] = []
        pops = 0
        while heap and len(out) < k:
            neg, _, ranks = heapq.heappop(heap)
            pops += 1
            if pops > MAX_POPS:
                raise SpaceError(f"most_probable({k}): {MAX_POPS} configurations examined and only {len(out)} valid "
                                 f"under the constraint of space {self.space.name!r}")
            if neg == math.inf:  # probability 0: nothing more probable remains
                break
            config = self.space._config([o[r] for o, r in zip(orders, ranks)])
            if self.space._valid(config):
                out.append(config)
            for j in range(len(ranks)):
                if ranks[j] + 1 < len(orders[j]):
                    nxt = ranks[:j] + (ranks[j] + 1,) + ranks[j + 1:]
                    if nxt not in queued:
                        queued.add(nxt)
                        heapq.heappush(heap, (-score(nxt), tie(nxt), nxt))
        return out

    def boed_kwargs(self, n_proposals: int = 2, *, seed: int = 0) -> dict[str, Any]:
        """``proposals`` (the ``n_proposals`` most probable configurations) and ``signals`` (this prior)
        for ``make_strategy("boed", space=..., **prior.boed_kwargs())``."""
        return {"proposals": self.most_probable(n_proposals, seed=seed), "signals": self}

    def to_dict(self) -> dict[str, Any]:
        """The log-probabilities as JSON-able data (``ChoicePrior(space, doc["log_probs"])`` rebuilds it)."""
        return {"name": self.name, "log_probs": {v.name: [float(x) if np.isfinite(x) else -1e300 for x in lp]
                                                 for v, lp in zip(self.space.variables, self.log_probs)}}


__all__ = ["ChoicePrior"]
