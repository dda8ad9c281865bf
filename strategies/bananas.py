"""BANANAS (White, Neiswanger & Savani, AAAI 2021), reimplemented from the paper's description.

BANANAS is Bayesian optimisation with a neural predictor:

1. evaluate ``n_init`` random cells;
2. then, at every ``ask``: train an ensemble of ``n_models`` feed-forward networks (same data,
   different random initialisations) on the *path encoding* of the evaluated cells
   (:func:`boed_nas.nb201.encodings.path_encoding`) to predict the search metric;
3. generate about ``n_candidates`` candidates by mutating the ``n_parents`` best evaluated cells
   (1 to ``max_edits`` edges changed each), keeping only cells of unevaluated, non-pending
   isomorphism classes;
4. score each candidate by independent Thompson sampling (ITS: one draw from a Gaussian with the
   ensemble's mean and standard deviation for that candidate, independently per candidate) or by
   UCB (mean + ``ucb_beta`` x std), and propose the best ``n``.

Choices of this implementation (the paper leaves them open or they differ by search space):

- the predictor is trained on the signed metric (negated when minimising), standardised by the
  mean and std of the observations; failed trials are not training data (they still block their
  class from being proposed again);
- the ensemble members are trained together as one batched network (one weight tensor per
  layer with a leading ensemble axis), which is exactly ``n_models`` independent networks with
  their own initialisation and their own Adam state, just ~n_models times faster;
- full-batch Adam with an L1 (mean absolute error) loss, as in the paper's predictor; the
  default network is smaller than the paper's deep, narrow one (2 hidden layers of 32 against
  10 of 20): on NB201 cifar10, trained on 200 random cells, both rank 1,000 held-out cells
  equally well (Kendall tau 0.72) and the small one trains ~4x faster (``hidden`` sets it);
- parents are the ``n_parents`` best successful cells by observed metric; candidate ``k``
  mutates parent ``k mod n_parents`` on ``1 + (k // n_parents) mod max_edits`` distinct edges,
  so the parents share the candidates evenly and every edit distance appears; duplicates (by
  isomorphism class) are dropped; if mutation finds fewer than ``n`` new classes, random new
  cells fill up.

On a space of your own (``space=``, a ``Space``): the genome is each variable's value, a candidate
changes 1 to ``max_edits`` variables to another of their values (a configuration the space's
constraint rejects is dropped), and the predictor reads a one-hot of the values; NB201 keeps the
paper's path encoding (the space's ``path_encoding`` hook).

Randomness: a fresh ``torch.Generator`` per ask, seeded from ``self.rng`` (the global torch RNG is
never used), and ITS draws come from ``self.rng``. The model is retrained from the history at
every ask, so the saved state (history, pending, rng) is all a resume needs: ``Strategy.load``
continues the identical trajectory (torch CPU arithmetic is deterministic for a fixed number
of threads; the harness and tests use one).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from boed_nas.errors import ConfigError, SpaceError, check_int
from boed_nas.nb201.space import Cell
from boed_nas.strategy import Observation, Strategy

ACQUISITIONS = ("its", "ucb")


class EnsembleMLP:
    """``n_models`` independent ReLU MLPs, trained in one batched computation (torch, CPU).

    Each layer is one weight tensor with a leading ensemble axis, so one training step is a few
    dozen tensor operations whatever the ensemble size (at NB201's sizes per-operation overhead,
    not arithmetic, is the cost). The loss is the sum of the members' own losses, member ``m``
    only touches index ``m`` of each tensor, and Adam is elementwise, so this is exactly
    ``n_models`` separately initialised and separately trained networks.
    """

    def __init__(self, n_inputs: int, hidden: tuple[int, ...], n_models: int, generator: Any) -> None:
        sizes = [n_inputs, *hidden, 1]
        self.params: list[Any] = []  # w0, b0, w1, b1, ...
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default initialisation: U(-bound, bound)
            for shape in ((n_models, fan_in, fan_out), (n_models, 1, fan_out)):
                u = torch.rand(shape, generator=generator, dtype=torch.float32)
                self.params.append(((u * 2 - 1) * bound).requires_grad_())
        self.n_models = n_models

    def forward(self, x: Any) -> Any:
        """(N, D) inputs -> (n_models, N) predictions."""
        h = x.unsqueeze(0).expand(self.n_models, -1, -1)
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            h = torch.baddbmm(self.params[2 * i + 1], h, self.params[2 * i])
            if i < n_layers - 1:
                h = torch.relu(h)
        return h.squeeze(-1)

    def fit(self, x: Any, y: Any, *, epochs: int, lr: float) -> float:
        """Full-batch Adam on each member's mean absolute error; returns the final mean loss."""
        opt = torch.optim.Adam(self.params, lr=lr)
        loss = torch.zeros(())
        for _ in range(epochs):
            opt.zero_grad(set_to_none=True)
            loss = (self.forward(x) - y).abs().mean(dim=1).sum()  # sum over members of their own losses
            loss.backward()
            opt.step()
        return float(loss.detach()) / self.n_models

    def predict(self, x: Any) -> np.ndarray:
        """(n_models, N) float64 predictions."""
        with torch.no_grad():
            return self.forward(x).double().numpy()


class Bananas(Strategy):
    """BANANAS: path encoding + ensemble of MLPs + ITS/UCB over mutations of the best cells.

    Parameters
    ----------
    n_init:
        Random cells before the predictor is used (also used while fewer than 2 trials succeeded).
    n_models:
        Ensemble size (paper: 5).
    n_candidates:
        Candidates per ask, generated by mutation (paper: 100).
    n_parents:
        How many of the best evaluated cells are mutated (our default; the paper mutates "the
        best architectures found so far").
    max_edits:
        A candidate differs from its parent on 1..max_edits edges (our default).
    acquisition:
        ``"its"`` (independent Thompson sampling, the paper's choice) or ``"ucb"``.
    ucb_beta:
        UCB exploration weight: score = mean + ucb_beta * std (standardised units).
    hidden:
        Hidden layer widths of each MLP.
    epochs, lr:
        Full-batch Adam steps and learning rate per ask.
    """

    name = "bananas"
    # its genome: the value of each variable (NB201: the op on each edge) as named parameters
    requires = ("variables", "to_parameters", "from_parameters")

    def __init__(
        self,
        *,
        n_init: int = 10,
        n_models: int = 5,
        n_candidates: int = 100,
        n_parents: int = 2,
        max_edits: int = 3,
        acquisition: str = "its",
        ucb_beta: float = 0.5,
        hidden: tuple[int, ...] | list[int] = (32, 32),
        epochs: int = 200,
        lr: float = 0.01,
        **kw: Any,
    ) -> None:
        n_init = check_int("n_init", n_init, 1)
        n_models = check_int("n_models", n_models, 2)
        n_candidates = check_int("n_candidates", n_candidates, 1)
        n_parents = check_int("n_parents", n_parents, 1)
        max_edits = check_int("max_edits", max_edits, 1)
        epochs = check_int("epochs", epochs, 1)
        if acquisition not in ACQUISITIONS:
            raise ConfigError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
        if not isinstance(hidden, (tuple, list)):
            raise ConfigError(f"hidden must be a tuple or list of layer widths, got {hidden!r}")
        hidden = tuple(check_int("hidden layer width", h, 1) for h in hidden)
        if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ConfigError(f"lr must be a positive finite number, got {lr!r}")
        if isinstance(ucb_beta, bool) or not (
                isinstance(ucb_beta, (int, float)) and math.isfinite(ucb_beta) and ucb_beta >= 0):
            raise ConfigError(f"ucb_beta must be a non-negative finite number, got {ucb_beta!r}")
        super().__init__(**kw)
        self._mutable = [k for k, v in enumerate(self.space.variables) if len(v.values) > 1]
        if max_edits > len(self._mutable):
            raise ConfigError(f"max_edits must be at most {len(self._mutable)} (the variables with a choice; "
                              f"NB201: its edges), got {max_edits}")
        self.n_init = n_init
        self.n_models = n_models
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.max_edits = max_edits
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)
        self.hidden = hidden
        self.epochs = epochs
        self.lr = float(lr)
        self.last_fit_loss: float | None = None  # diagnostics of the latest ask (not saved)

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(), "n_init": self.n_init, "n_models": self.n_models,
            "n_candidates": self.n_candidates, "n_parents": self.n_parents, "max_edits": self.max_edits,
            "acquisition": self.acquisition, "ucb_beta": self.ucb_beta, "hidden": list(self.hidden),
            "epochs": self.epochs, "lr": self.lr,
        }

    # ------------------------------------------------------------------ proposal
    def _propose(self, n: int) -> Iterator[Cell]:
        ok = [o for o in self.history if not o.outcome.failed]
        n_asked = len(self.history) + len(self.pending)
        n_random = n if len(ok) < 2 else min(n, max(0, self.n_init - n_asked))
        for _ in range(n_random):
            yield self.random_new_cell()
        if n > n_random:
            yield from self._model_based(n - n_random, ok)

    def _genome(self, config: Any) -> list[int]:
        """The value index of each variable (NB201: the op id on each edge of the cell itself)."""
        params = self.space.to_parameters(config)
        return [v.index(params[v.name]) for v in self.space.variables]

    def _config(self, genome: list[int]) -> Any | None:
        """The configuration of a genome; None where the space rejects it (its constraint)."""
        try:
            return self.space.from_parameters({v.name: v.values[i] for v, i in zip(self.space.variables, genome)})
        except SpaceError:
            return None

    def _candidates(self, parents: list[Any]) -> list[Any]:
        seen: set[Any] = set()
        cands: list[Any] = []
        variables = self.space.variables
        for k in range(self.n_candidates * 10):
            if len(cands) >= self.n_candidates:
                break
            parent = parents[k % len(parents)]
            n_edits = 1 + (k // len(parents)) % self.max_edits
            edits = self.rng.choice(len(self._mutable), size=n_edits, replace=False)
            genome = self._genome(parent)
            for j in edits:
                e = self._mutable[int(j)]
                o = int(self.rng.integers(len(variables[e].values) - 1))  # another value, uniformly
                genome[e] = o if o < genome[e] else o + 1
            config = self._config(genome)
            if config is None:
                continue
            key = self.space.key(config)
            if key not in seen and self.is_new(config):
                seen.add(key)
                cands.append(config)
        return cands

    def _encode(self, configs: list[Any]) -> np.ndarray:
        """The predictor's inputs: the space's path encoding where it has one (NB201, the paper's),
        else a one-hot of each variable's value."""
        hook = getattr(self.space, "path_encoding", None)
        if hook is not None:
            return hook(configs)
        sizes = [len(v.values) for v in self.space.variables]
        out = np.zeros((len(configs), sum(sizes)), dtype=np.float32)
        offsets = np.cumsum([0, *sizes[:-1]])
        for r, c in enumerate(configs):
            out[r, offsets + np.array(self._genome(c), dtype=int)] = 1.0
        return out

    def _model_based(self, n: int, ok: list[Observation]) -> Iterator[Cell]:
        """``n`` cells by acquisition over mutations of the best cells, then random ones if the
        mutations found fewer than ``n`` new classes."""
        ranked = sorted(ok, key=self.signed, reverse=True)
        cands = self._candidates([o.cell for o in ranked[: self.n_parents]])
        chosen: list[Cell] = []
        if cands:
            y = np.array([self.signed(o) for o in ok])
            y = (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)
            gen = torch.Generator().manual_seed(int(self.rng.integers(2**63)))
            encode = self._encode
            model = EnsembleMLP(encode([]).shape[1], self.hidden, self.n_models, gen)
            x = torch.as_tensor(encode([o.cell for o in ok]), dtype=torch.float32)
            self.last_fit_loss = model.fit(x, torch.as_tensor(y, dtype=torch.float32), epochs=self.epochs, lr=self.lr)
            pred = model.predict(torch.as_tensor(encode(cands), dtype=torch.float32))  # (models, cands)
            mean, std = pred.mean(axis=0), pred.std(axis=0, ddof=1)
            if self.acquisition == "its":
                score = mean + std * self.rng.standard_normal(len(cands))
            else:
                score = mean + self.ucb_beta * std
            order = np.argsort(-score, kind="stable")
            chosen = [cands[i] for i in order[:n]]
        yield from chosen
        for _ in range(n - len(chosen)):
            yield self.random_new_cell()
