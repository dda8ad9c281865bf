r"""The BOED controller: a GP belief over cells and an information-gain acquisition, ask/tell.

    from boed_nas.bo.controller import BOEDController
    ctl = BOEDController(seed=0)                     # kernel="categorical+additive", acquisition="mes"
    for _ in range(100):
        (cell,) = ctl.ask()
        ctl.tell(cell, {"val_acc": train_and_validate(cell)})
    ctl.recommend()                                  # best evaluated cell by posterior mean
    ctl.reports[-1]                                  # P(it is the best), entropy, information gained

Each ask: fit the GP to the told outcomes (output-transformed, failures excluded), condition it on
pending cells with the kriging believer (their posterior mean as a fantasy observation, so a
batch ``ask(n)`` and parallel workers get diverse cells), compute the chunked posterior over all
6,466 isomorphism classes, draw exact joint samples over the cells that could plausibly be best,
and propose the unevaluated cell with the highest acquisition value. The first ``n_init`` cells are
the outside proposals (a supernet's, say), then a maximin space-filling design.

Signals at initialisation (``signals``: per-cell scores known before any training, such as
``boed_nas.nb201.signals``'s synflow or FLOPs, or a user's own) enter as ``signal_use`` says: in
the GP's prior mean, :math:`m(x) = c + \sum_k w_k s_k(x)` with the weights fitted by marginal
likelihood (``"mean"``); as extra kernel inputs (``"features"``); in the initial design
(``"init"``); or a ``+``-joined combination. Without signals the controller is what it was.

Randomness: the initial design draws from ``self.rng`` (saved with the state); every later draw
uses a generator seeded by (seed, number of observations, pending, pick), so a run resumed from
its saved state continues with the identical trajectory.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, StateError, check_int
from ..nb201.space import CELL_SPACE, N_CELLS, Cell, canonical_cells
from ..seeding import derive_seed
from ..strategy import Strategy
from .acquisition import ACQUISITIONS, PoolBelief, score, seeded_argmax
from .belief import (
    CellFeatures,
    OutputTransform,
    SpaceFeatures,
    SpaceSignals,
    fit_belief,
    hyperparameters,
    joint_samples,
    noise_variance,
    parse_kernel,
    parse_signal_use,
    posterior_mean_var,
    signal_scores,
)

PENDING = ("believer", "fantasy", "ignore")
POOL_RANDOM = 2000
"""On a space too large to enumerate, each ask scores this many random configurations ..."""
POOL_PARENTS = 10
"""... and the one-step neighbours of this many best observed configurations."""
SIGNAL_SALT = 0x516A  # the reference sample of a space's signals (SpaceSignals)
POOL_SALT = 0x9001  # keeps the pool's draws apart from the other seeds derived from (seed, history size)
INIT_TOP_FRACTION = 0.05
"""With ``signal_use`` "init", the initial design draws from this top fraction of the classes by
combined signal (the mean of the signals' normal scores): 323 of NB201's 6,466; on a space of your
own, of the signals' reference set (the whole space, or its seeded sample where it is too large)."""


class BOEDController(Strategy):
    r"""Bayesian optimal experimental design over NB201 cells.

    Parameters
    ----------
    kernel:
        ``"categorical"`` (Hamming kernel per edge), ``"additive"`` (a sum of per-edge kernels),
        ``"wl"`` (Weisfeiler-Lehman graph kernel), or a ``+``-joined sum such as ``"categorical+wl"``.
        The default ``"categorical+additive"`` (per-edge main effects plus the product kernel's
        interactions), with ``n_init=5``, was chosen on held-out seeds 20-27 of NB201 CIFAR-10 and
        CIFAR-100 (``benchmarks/results/nb201/ablation``): median queries to the optimum 40 / 28
        against 43 / 40 for ``"categorical"`` with ``n_init=10``, worst run 56 / 43 against 149 / 84.
    acquisition:
        ``"mes"`` (max-value entropy search, GIBBON form, the default), ``"es"`` (entropy of the
        argmax), ``"jes"``, ``"ei"``, ``"ucb"``, ``"ts"``. On held-out NB201 seeds 20-27 (CIFAR-10 /
        CIFAR-100, the other settings at their defaults) mes took median 40 / 27.5 queries to the
        optimum, ei 46 / 29, ts 54.5 / 32, es 55.5 / 35.5
        (``benchmarks/results/nb201/ablation/acquisitions_seeds20to27.md``).
    n_init:
        Size of the initial design before the GP is used (default 5).
    output_transform:
        ``"rank"`` (default) or ``"standardize"``; see ``boed_nas.bo.belief.OutputTransform``.
    n_samples:
        Joint posterior samples per pick (for es/mes/jes/ts and the reports).
    plausible_size:
        At most this many cells (highest upper confidence bound) enter the joint samples.
    proposals:
        Cells to evaluate first (e.g. a supernet's top cells), as cells or arch strings.
    op_prior:
        A 6 x 5 array of op probabilities per edge (e.g. a supernet's softmax(alpha)); enters the
        GP prior mean with a weight fitted by marginal likelihood.
    signals:
        Per-cell scores known before any training (default None: none). Either names of the
        signals at initialisation shipped in ``boed_nas/nb201/data/signals.csv.gz``
        (``boed_nas.nb201.signals.SIGNALS``: ``"synflow"``, ``"flops"``, ...; a list, or one string
        joined by ``+`` or ``,``), or a mapping name -> array of values over the 15,625 cell codes
        (or over the 6,466 classes in ``canonical_cells()`` order), a user's own. Each is used as
        the normal scores of its ranks over the classes (``boed_nas.bo.belief.signal_scores``), so
        its scale does not matter; for ``"init"``, larger must mean better.
        On a space of your own (``space=``): ``"costs"`` (the space's known costs, e.g. FLOPs and
        params), a function ``config -> {name: value}``, or its ``"pkg.module:function"``
        reference; used in the prior mean and, with ``"init"``, the initial design
        (``boed_nas.bo.belief.SpaceSignals``: normal scores against a fixed reference sample of the space). The function is called once per candidate
        configuration, so it must be cheap where the pool is large.
    signal_use:
        How the signals are used (``"mean"`` by default; parts may be ``+``-joined):
        ``"mean"``: the GP prior mean :math:`c + \sum_k w_k s_k(x)` (with the op prior's score, if
        any), the weights fitted by marginal likelihood under a Normal(0, 1) prior each;
        ``"features"``: a Matern kernel on the signals added to ``kernel``; ``"init"``: the initial
        design (after ``proposals``) draws from the top ``INIT_TOP_FRACTION`` of the classes by
        combined signal (the mean of the normal scores), keeping the maximin diversity.
    refit_every:
        Fit the GP's hyperparameters by marginal likelihood after every ``refit_every`` tells
        (default 1: after each); in between the model is conditioned on the new data with the
        last fitted hyperparameters. The fit is most of an ask's cost, so a larger value makes
        asks cheaper; on held-out NB201 seeds, 5 cost 8-9 more queries to the optimum in median
        (``benchmarks/README.md``, "Ask time").
    pending:
        How cells that are being evaluated (pending: asked, not yet told; the other workers' cells,
        or the earlier picks of a batch) enter the belief. ``"believer"`` (default): the kriging
        believer, each fantasised at its posterior mean, so the GP's variance shrinks around them
        and the next pick goes elsewhere. ``"fantasy"``: each is fantasised at one joint posterior
        draw of its noisy observation instead (a seeded hallucination: the mean moves too).
        ``"ignore"``: the belief leaves them out (they are still never proposed). The last two are
        the comparisons of the parallel study (``benchmarks/README.md``, scale-out).
    cold_start_every:
        Each fit optimises from the previous fit's hyperparameters and, every
        ``cold_start_every`` tells (default 10; 1: at every fit), also from gpytorch's defaults,
        keeping the better marginal likelihood. The start from the defaults is about two thirds of
        a fit; on held-out NB201 seeds 20-27 (CIFAR-10 and CIFAR-100) 10 and 1 took identical
        numbers of queries to the optimum in all 16 runs (``benchmarks/README.md``, "Ask time").
    """

    name = "boed"
    any_space = True

    def __init__(
        self,
        *,
        kernel: str = "categorical+additive",
        acquisition: str = "mes",
        n_init: int = 5,
        output_transform: str = "rank",
        n_samples: int = 256,
        plausible_size: int = 1024,
        proposals: Sequence[Cell | str] | None = None,
        op_prior: Sequence[Sequence[float]] | np.ndarray | None = None,
        signals: str | Sequence[str] | Mapping[str, Any] | None = None,
        signal_use: str = "mean",
        refit_every: int = 1,
        cold_start_every: int = 10,
        pending: str = "believer",
        **kw: Any,
    ) -> None:
        parse_kernel(kernel)
        uses = parse_signal_use(signal_use)
        if acquisition not in ACQUISITIONS:
            raise ConfigError(f"unknown acquisition {acquisition!r}; expected one of {list(ACQUISITIONS)}")
        if output_transform not in ("rank", "standardize"):
            raise ConfigError(f"unknown output_transform {output_transform!r}; expected 'rank' or 'standardize'")
        for label, v, lo in (("n_init", n_init, 1), ("n_samples", n_samples, 2), ("plausible_size", plausible_size, 2),
                             ("refit_every", refit_every, 1), ("cold_start_every", cold_start_every, 1)):
            check_int(label, v, lo)
        super().__init__(**kw)
        self.kernel = kernel
        self.acquisition = acquisition
        self.n_init = n_init
        self.output_transform = output_transform
        self.n_samples = n_samples
        self.plausible_size = plausible_size
        self.refit_every = refit_every
        self.cold_start_every = cold_start_every
        if pending not in PENDING:
            raise ConfigError(f"unknown pending {pending!r}; expected one of {list(PENDING)}")
        self.pending_mode = pending
        self.proposals = [self.space.parse(c) for c in (proposals or [])]
        self.op_prior = None if op_prior is None else np.asarray(op_prior, dtype=np.float64)
        self._pool_at: int | None = None  # history size at which a generated pool was built
        self.signal_use = signal_use
        self._init_pool: list[Cell] | None = None  # with "init": the top classes by combined signal
        if self.space is CELL_SPACE:
            self.universe = canonical_cells()
            self._uidx = {c.code: i for i, c in enumerate(self.universe)}
            self.signals, values = resolve_signals(signals)  # the form saved in get_params; classes x K
            by_code = None
            if values is not None:
                scores = signal_scores(values)
                if "init" in uses:
                    order = np.argsort(-scores.mean(axis=1), kind="stable")
                    self._init_pool = [self.universe[i] for i in order[: math.ceil(INIT_TOP_FRACTION * len(order))]]
                class_of_code = [self._uidx[Cell.from_code(k).canonical().code] for k in range(N_CELLS)]
                by_code = scores[class_of_code]
            self.features = CellFeatures(kernel, op_prior=self.op_prior, signals=by_code, signal_use=signal_use)
        else:  # a space of your own: its configurations (or, above ENUMERATE_LIMIT, a pool per ask)
            if op_prior is not None:
                raise ConfigError("op_prior is NB201's (per edge and op); a space of your own takes none")
            self.signals, fn = self._space_signals(signals, uses)
            sig = None if fn is None else SpaceSignals(self.space, fn, seed=derive_seed(self.seed, SIGNAL_SALT))
            if sig is not None and "init" in uses:  # the top of the reference set by mean signal score
                ref = sig.reference_configs
                order = np.argsort(-sig.scores(ref).mean(axis=1), kind="stable")
                self._init_pool = [ref[i] for i in order[: math.ceil(INIT_TOP_FRACTION * len(ref))]]
            self.features = SpaceFeatures(self.space, kernel, signals=sig if "mean" in uses else None)
            self.universe = self.space.enumerate() or []  # [] until the first pool (``_ensure_pool``)
            self._uidx = {self.space.key(c): i for i, c in enumerate(self.universe)}
        self._transform = OutputTransform(output_transform)
        self._X: torch.Tensor | None = None
        self._model_cache: tuple[int, Any, np.ndarray] | None = None
        self._hyper: dict[str, Any] | None = None  # last fitted hyperparameters and the history size
        self.reports: list[dict[str, Any]] = []

    def _space_signals(self, signals: Any, uses: tuple[str, ...]) -> tuple[str | None, Any]:
        """``signals`` on a space of your own -> (the reference saved in get_params, the function)."""
        if signals is None:
            return None, None
        if "features" in uses:
            raise ConfigError(f"signal_use {self.signal_use!r}: on a space of your own the signals enter the prior "
                              "mean ('mean') and the initial design ('init'), not the kernel")
        if signals == "costs":
            if self.space.cost_fn is None:
                raise ConfigError(f"signals='costs' but space {self.space.name!r} has no known costs (Space(costs=...))")
            return "costs", self.space.costs
        if isinstance(signals, str):
            from ..spaces.base import load_object

            return signals, load_object(signals, "signals")
        from ..spaces.prior import ChoicePrior

        if isinstance(signals, Mapping) and set(signals) == {"choice_prior"}:  # a saved ChoicePrior
            doc = signals["choice_prior"]
            signals = ChoicePrior(self.space, doc["log_probs"], name=doc["name"])
        if isinstance(signals, ChoicePrior):  # saved as data, so a loaded strategy has it back
            return {"choice_prior": signals.to_dict()}, signals
        if callable(signals):
            return f"{getattr(signals, '__module__', '?')}:{getattr(signals, '__qualname__', '?')}", signals
        raise ConfigError(f"signals on a space of your own: 'costs', a function config -> {{name: value}} or its "
                          f"'pkg.module:function' reference, got {signals!r}")

    def _ensure_pool(self) -> None:
        """On a space too large to enumerate: the candidate pool of the current history (built once
        per history size): the told configurations, the ``proposals``, ``POOL_RANDOM`` random ones
        and the neighbours of the ``POOL_PARENTS`` best observed ones, then the pending ones. Its draws are seeded by
        (seed, history size), so a resumed run rebuilds the identical pool."""
        if self.space.enumerable:
            return
        if self._pool_at == len(self.history) and all(k in self._uidx for k in self.pending):
            return  # (a cell made pending from outside, set_pending, needs a new pool)
        rng = np.random.default_rng(derive_seed(self.seed, len(self.history), POOL_SALT))
        pool: dict[Any, Any] = {}
        for o in self.history:
            pool.setdefault(self.space.key(o.cell), o.cell)
        for c in self.proposals:  # e.g. a supernet's most probable configurations: candidates on every ask
            pool.setdefault(self.space.key(c), c)
        for o in sorted(self._successes(), key=self.signed, reverse=True)[:POOL_PARENTS]:
            for c in self.space.neighbours(o.cell):
                pool.setdefault(self.space.key(c), c)
        for _ in range(POOL_RANDOM):
            c = self.space.sample(rng)
            pool.setdefault(self.space.key(c), c)
        for c in self.pending.values():
            pool.setdefault(self.space.key(c), c)
        self.universe = list(pool.values())
        self._uidx = {k: i for i, k in enumerate(pool)}
        self._X, self._model_cache, self._pool_at = None, None, len(self.history)

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "kernel": self.kernel,
            "acquisition": self.acquisition,
            "n_init": self.n_init,
            "output_transform": self.output_transform,
            "n_samples": self.n_samples,
            "plausible_size": self.plausible_size,
            "proposals": [self.space.format(c) for c in self.proposals],
            "op_prior": None if self.op_prior is None else self.op_prior.tolist(),
            "signals": self.signals,
            "signal_use": self.signal_use,
            "refit_every": self.refit_every,
            "cold_start_every": self.cold_start_every,
            "pending": self.pending_mode,
        }

    # ------------------------------------------------------------------ belief
    @property
    def X(self) -> torch.Tensor:
        """GP inputs of every isomorphism class representative (built once)."""
        if self._X is None:
            self._X = self.features(self.universe)
        return self._X

    def _index(self, cell: Cell) -> int:
        return self._uidx[self.space.key(cell)]

    def _successes(self) -> list:
        return [o for o in self.history if not o.outcome.failed]

    def fit(self) -> tuple[Any, np.ndarray] | None:
        """The GP fitted to every successful observation (cached until the next tell), and the
        universe indices of its training cells; None before two successes."""
        ok = self._successes()
        if len(ok) < 2:
            return None
        self._ensure_pool()
        if self._model_cache is not None and self._model_cache[0] == len(self.history):
            return self._model_cache[1], self._model_cache[2]
        idx = np.array([self._index(o.cell) for o in ok])
        y = self._transform(np.array([self.signed(o) for o in ok]))
        # warm start from the last fit; a belief saved at this very history is rebuilt, not refitted,
        # so a resumed run holds the identical model
        exact = self._hyper is not None and self._hyper["n"] == len(self.history)
        def due(key: str, every: int) -> tuple[int | None, bool]:
            # (history size when it was last done, whether it is due now); states saved before
            # these settings existed fitted with a cold start at every tell, i.e. at "n"
            at = None if self._hyper is None else self._hyper.get(key, self._hyper["n"])
            return at, at is None or len(self.history) - at >= every

        fitted_at, refit = due("fitted_at", self.refit_every)
        cold_at, cold = due("cold_at", self.cold_start_every)
        optimize = not exact and refit
        model = fit_belief(self.X[idx], torch.tensor(y)[:, None], self.features, seed=self.seed + len(self.history),
                           init=None if self._hyper is None else self._hyper["params"], optimize=optimize,
                           cold_start=cold)
        self._hyper = {"n": len(self.history), "params": hyperparameters(model),
                       "fitted_at": len(self.history) if optimize else fitted_at,
                       "cold_at": len(self.history) if optimize and cold else cold_at}
        self._model_cache = (len(self.history), model, idx)
        return model, idx

    def _generator(self, *salt: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.derived_seed(*salt))

    def pool_belief(self, model: Any, evaluated: np.ndarray, pending: list[int], generator: torch.Generator) -> PoolBelief:
        """The posterior over the universe with ``pending`` cells fantasised (``pending`` mode): at
        their posterior mean (believer) or at one joint draw of their noisy observations (fantasy)."""
        if pending and self.pending_mode != "ignore":
            pidx = torch.tensor(pending)
            if self.pending_mode == "believer":
                mp, _ = posterior_mean_var(model, self.X[pidx])
            else:
                draw = joint_samples(model, self.X[pidx], 1, generator)[0]
                mp = draw + noise_variance(model) ** 0.5 * torch.randn(len(pending), generator=generator, dtype=draw.dtype)
            model = copy.deepcopy(model)
            X_train = model.train_inputs[0]
            model.set_train_data(torch.cat([X_train, self.X[pidx]]), torch.cat([model.train_targets, mp]), strict=False)
        mean, var = posterior_mean_var(model, self.X)
        sd = var.sqrt()
        ucb = mean + 3 * sd
        floor = (mean - 3 * sd).max()
        plausible = torch.nonzero(ucb >= floor).squeeze(-1)
        if len(plausible) > self.plausible_size:
            plausible = plausible[torch.argsort(ucb[plausible], descending=True)[: self.plausible_size]]
        plausible = torch.sort(plausible).values
        samples = joint_samples(model, self.X[plausible], self.n_samples, generator)
        # every told cell (failed ones too) and every pending one is off the candidate list
        taken = {self._index(o.cell) for o in self.history} | set(evaluated.tolist()) | set(pending)
        candidates = torch.tensor([i for i in range(len(self.universe)) if i not in taken], dtype=torch.long)
        return PoolBelief(
            model=model, X=self.X, mean=mean, var=var, plausible=plausible, samples=samples,
            candidates=candidates, noise_var=noise_variance(model), incumbent=float(mean[evaluated].max()),
        )

    # ------------------------------------------------------------------ ask
    def _initial_cell(self) -> Cell:
        for c in self.proposals:
            if self.is_new(c):
                return c
        taken = [o.cell for o in self.history] + list(self.pending.values())
        draw = self.random_new_cell if self._init_pool is None else self._random_new_top_cell
        if not taken:
            return draw()
        T = np.array([self.space.indices(c) for c in taken])
        cands = [draw() for _ in range(64)]
        C = np.array([self.space.indices(c) for c in cands])
        dist = (C[:, None, :] != T[None, :, :]).sum(-1).min(axis=1)
        return cands[int(np.argmax(dist))]  # maximin Hamming distance to what is taken

    def _random_new_top_cell(self) -> Cell:
        """A uniformly random class among the top ones by combined signal that is neither evaluated
        nor pending (any new cell once they all are)."""
        free = [c for c in self._init_pool if self.is_new(c)]
        return free[int(self.rng.integers(len(free)))] if free else self.random_new_cell()

    def _propose_one(self, pick: int) -> Cell:
        if len(self._successes()) < self.n_init or (fitted := self.fit()) is None:
            return self._initial_cell()
        model, evaluated = fitted
        pending = [self._index(c) for c in self.pending.values()]
        b = self.pool_belief(model, evaluated, pending, self._generator(pick, 0))
        s = score(self.acquisition, b, self._generator(pick, 1))
        if (self.acquisition == "es" and not bool((s > 0).any())) or not bool(torch.isfinite(s).any()):
            # nothing informative left (es), or no candidate in the plausible set (ts): UCB
            s = b.mean[b.candidates] + 2 * b.var[b.candidates].sqrt()
        choice = int(b.candidates[seeded_argmax(s, self._generator(pick, 2))])  # ties: a seeded draw
        if pick == 0:
            self._record_report(b, evaluated)
        return self.universe[choice]

    def _record_report(self, b: PoolBelief, evaluated: np.ndarray) -> None:
        cells, probs = b.argmax_distribution()
        best = int(evaluated[int(torch.argmax(b.mean[evaluated]))])
        h = b.argmax_entropy()
        prev = self.reports[-1]["argmax_entropy"] if self.reports else math.log(len(self.universe))
        self.reports.append({
            "observations": len(self._successes()),
            "recommended_cell": str(self.universe[best]),
            "prob_best": float(probs[cells == best].sum()),
            "argmax_entropy": h,
            "information_gain": prev - h,
            "noise_var": b.noise_var,
            "n_plausible": int(len(b.plausible)),
        })

    # ------------------------------------------------------------------ recommend
    def recommend(self) -> Cell | None:
        """The evaluated cell with the highest posterior mean (the denoised best), not the luckiest
        observation; the best observed cell while there are fewer than ``n_init`` successes."""
        fitted = self.fit() if len(self._successes()) >= self.n_init else None
        if fitted is None:  # before the GP is used (or with fewer than two successes to fit it to)
            return super().recommend()
        model, idx = fitted
        mean, _ = posterior_mean_var(model, self.X[idx])
        return self._successes()[int(torch.argmax(mean))].cell

    # ------------------------------------------------------------------ state
    def _extra_state(self) -> dict[str, Any]:
        return {"reports": self.reports, "belief": self._hyper}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        reports, belief = extra.get("reports", []), extra.get("belief")
        if not isinstance(reports, list) or not all(isinstance(r, Mapping) for r in reports):
            raise StateError("corrupt boed state: 'reports' is not a list of records")
        if belief is not None:
            _check_belief(belief)
        self.reports, self._hyper, self._model_cache = list(reports), belief, None


def resolve_signals(signals: Any) -> tuple[list[str] | dict[str, list[float]] | None, np.ndarray | None]:
    """``signals`` as ``BOEDController`` takes them -> (the form saved in its parameters, the values
    per isomorphism class, ``n_classes x K`` in ``canonical_cells()`` order), or (None, None).

    Names are read from the shipped table (``boed_nas.nb201.signals.load_signals``: a ConfigError
    naming the command that builds it when it is absent); a mapping's arrays are taken over the
    15,625 cell codes (each class at its representative's code) or over the 6,466 classes.
    """
    if signals is None:
        return None, None
    universe = canonical_cells()
    if isinstance(signals, Mapping):
        if not signals:
            raise ConfigError("signals is an empty mapping; pass None for no signals")
        saved, cols = {}, []
        for name, arr in signals.items():
            try:
                v = np.asarray(arr, dtype=np.float64)
            except (TypeError, ValueError):
                v = np.empty((0, 0))
            if not isinstance(name, str) or v.ndim != 1 or len(v) not in (N_CELLS, len(universe)):
                raise ConfigError(f"signal {name!r} must be an array over the {N_CELLS} cell codes or the "
                                  f"{len(universe)} classes of canonical_cells(), got shape {v.shape}")
            if len(v) == N_CELLS:
                v = v[[c.code for c in universe]]
            if not np.all(np.isfinite(v)):
                raise ConfigError(f"signal {name!r} has {int((~np.isfinite(v)).sum())} non-finite values among the "
                                  "isomorphism classes' representatives")
            saved[name] = v.tolist()
            cols.append(v)
        return saved, np.stack(cols, axis=1)
    names = [n.strip() for n in signals.replace(",", "+").split("+")] if isinstance(signals, str) else signals
    if (isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or not names
            or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names)):
        raise ConfigError(f"signals must be distinct signal names (a list or a '+'-joined string) or a mapping "
                          f"name -> array over the {N_CELLS} cell codes, got {signals!r}")
    from ..nb201.signals import load_signals

    table = load_signals()
    unknown = [n for n in names if n not in table.columns]
    if unknown:
        raise ConfigError(f"unknown signals {unknown}; the shipped table has {list(table.columns)}")
    codes = [c.code for c in universe]
    missing = np.setdiff1d(codes, table.index.to_numpy())
    if len(missing):
        raise ConfigError(f"the shipped signal table lacks {len(missing)} of the {len(universe)} isomorphism "
                          "classes; rebuild it with `python benchmarks/scripts/build_nb201_signals.py`")
    values = table.loc[codes, list(names)].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ConfigError("the shipped signal table holds non-finite values; rebuild it")
    return list(names), values


def _check_belief(belief: Any) -> None:
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
