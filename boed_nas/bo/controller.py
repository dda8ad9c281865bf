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

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import ConfigError, StateError
from ..spaces.fidelity import AtFidelity, FidelitySpace
from ..strategy import Strategy
from .acquisition import PoolAcquisition, PoolBelief, make_acquisition, seeded_argmax
from .belief import posterior_mean_var
from .config import AUTO, PENDING, SHIPPED, BOEDConfig
from .design import InitialDesign
from .fidelity import FIDELITY_ACQUISITIONS, FidelityFeatures, fidelity_pool_posterior
from .inputs import INIT_TOP_FRACTION, SIGNAL_SALT, belief_inputs, op_prior_array, resolve_signals
from .model import Belief, check_belief_state
from .pool import POOL_PARENTS, POOL_RANDOM, CandidatePool


class BOEDController(Strategy):
    r"""Bayesian optimal experimental design over NB201 cells or a space of your own.

    The controller composes its parts: the space's ``belief_inputs`` (GP inputs, kernel, signals),
    the candidate pool (``boed_nas.bo.pool``), the belief (``boed_nas.bo.model``: the GP, its fit
    schedule, pending fantasies, the pool posterior), the acquisition (``boed_nas.bo.acquisition``,
    one class each) and the initial design (``boed_nas.bo.design``). Its settings are one
    ``BOEDConfig`` (``boed_nas.bo.config``): pass them as keyword arguments (or ``config=``);
    ``self.config`` holds them and ``ctl.<setting>`` reads them.

    Parameters
    ----------
    kernel:
        ``"categorical"`` (Hamming kernel per edge), ``"additive"`` (a sum of per-edge kernels),
        ``"wl"`` (Weisfeiler-Lehman graph kernel), or a ``+``-joined sum such as ``"categorical+wl"``.
        The default ``"categorical+additive"`` (per-edge main effects plus the product kernel's
        interactions), with ``n_init=5``, was chosen on held-out seeds 20-27 of NB201 CIFAR-10 and
        CIFAR-100: fewer queries to the optimum than ``"categorical"`` with ``n_init=10``, and a
        shorter worst run (the figures: ``benchmarks/results/nb201/ablation``).
    acquisition:
        ``"mes"`` (max-value entropy search, GIBBON form, the default), ``"es"`` (entropy of the
        argmax), ``"jes"``, ``"ei"``, ``"ucb"``, ``"ts"``. mes took the fewest queries to the optimum
        on held-out NB201 seeds 20-27, CIFAR-10 and CIFAR-100, the other settings at their defaults
        (the figures: ``benchmarks/results/nb201/ablation/acquisitions_seeds20to27.md``). With a
        fidelity, ``"mes"`` or ``"es"``, each per unit cost (``boed_nas.bo.fidelity``).
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
        NB201's op prior: a ``ChoicePrior`` over its cells (``ChoicePrior(CELL_SPACE,
        {"edge_0_to_1": [...], ...}, kind="probs")``, one categorical per edge over ``OPS``) or a
        6 x 5 array of op probabilities per edge (e.g. a supernet's softmax(alpha)); enters the GP
        prior mean with a weight fitted by marginal likelihood. On a space of your own a
        ``ChoicePrior`` is passed as ``signals`` instead.
    signals:
        Per-cell scores known before any training. Default ``"auto"``: ``"shipped"`` for a search
        without a fidelity, none for one with a fidelity. ``"shipped"``: the signals the space
        ships (its ``shipped_signals``; NB201: ``params+flops+synflow+snip+grad_norm+jacob_cov+naswot``,
        which took fewer queries to the optimum than none on all three datasets and stalled less
        on the 12-epoch landscape: ``benchmarks/README.md``), none on a space that ships none.
        With a fidelity the cheap levels do what the signals did, and better without them: on
        held-out NB201 seeds multi-fidelity boed without signals reached the optimum sooner than
        with them in 29 of 32 runs (``benchmarks/results/fidelity10_nosignals/heldout/``).
        ``None``: none (``boed[signals=None]``, the default until 2026-12). Otherwise names of the
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
    refit_fraction:
        Multiplies ``refit_every`` and ``cold_start_every`` by ``max(1, floor(refit_fraction * n))``
        after a fit on ``n`` observations (default 0.05: at every tell up to 39 observations, every
        10th at 200, every 50th at 1,000), so the hyperparameters are refitted as the history grows
        by a fraction of itself; 0 for the plain counts (the only schedule before 2026-12). The belief is
        conditioned on every tell either way. This is what keeps an ask cheap late in a search
        (``benchmarks/README.md``, "Ask cost").
    pending:
        How cells that are being evaluated (pending: asked, not yet told; the other workers' cells,
        or the earlier picks of a batch) enter the belief. ``"believer"`` (default): the kriging
        believer, each fantasised at its posterior mean, so the GP's variance shrinks around them
        and the next pick goes elsewhere. ``"fantasy"``: each is fantasised at one joint posterior
        draw of its noisy observation instead (a seeded hallucination: the mean moves too).
        ``"ignore"``: the belief leaves them out (they are still never proposed). The last two are
        the comparisons of the parallel study (``benchmarks/README.md``, scale-out).
    random_every:
        Every ``random_every``-th ask (default 10; see ``random_when``) is a uniformly random new
        configuration instead of the acquisition's pick (interleaved random search, as SMAC's
        random design does); 0 for none (``boed[random_every=0]``, the default until 2026-12-07).
        A guard against a belief that is sure and wrong: an op observed only in poor company (on
        NB201's 12-epoch landscape, ``skip_connect`` on edge 0->3 seen three times, each beside
        ``skip_connect`` on edge 0->1) gets a confident main effect, the cells that need it fall out of the plausible set, and no
        acquisition computed from that belief proposes them again; a random configuration shows
        the op in other company. The draws come from ``self.rng``, saved with the state, on a
        schedule of the asks (told and pending), so a resumed run draws the same
        (``benchmarks/README.md``, "The stall on the 12-epoch objective").
    random_when:
        ``"stalled"`` (default): the ``random_every`` turns come only while the search has
        stalled, on the ``k``-th, ``2k``-th, ... ask after the last observation better than all
        earlier ones (a search that keeps improving draws none); ``"always"``: on a fixed
        schedule. Both ended every stall measured; ``"stalled"`` cost fewer queries on NB201's
        200-epoch table (``benchmarks/results/stall_12epoch_random/``,
        ``benchmarks/results/nb201/signals/random_seeds0to19.md``).
    cold_start_every:
        Each fit optimises from the previous fit's hyperparameters and, every
        ``cold_start_every`` tells (default 10; 1: at every fit), also from gpytorch's defaults,
        keeping the better marginal likelihood. The start from the defaults is about two thirds of
        a fit; on held-out NB201 seeds 20-27 (CIFAR-10 and CIFAR-100) 10 and 1 took identical
        numbers of queries to the optimum in all 16 runs (``benchmarks/README.md``, "Ask time").
    noise:
        With a fidelity: ``"shared"`` (default), one observation-noise variance for every level;
        ``"level"``, one per level (``boed_nas.bo.fidelity.LevelNoise``), so a noisier cheap level
        is believed to tell less about the target. A search without a fidelity takes only
        ``"shared"``.
    level_kernel:
        With a fidelity: ``"scaled"`` (default), the correlation between levels fixed at 1, every
        level the target up to a scale (and the prior mean's offset per level); ``"icm"``, a
        correlation learned for each pair of levels (``boed_nas.bo.fidelity.FidelityKernel``).
        Chosen on held-out NB201 seeds 100-111 (``benchmarks/results/fidelity_level_kernel/``):
        ``"scaled"`` reached the optimum sooner in 21 of the 30 runs where the two differ (sign test
        p = 0.043) and found it in 6 of 8 ImageNet16-120 runs against 3. A search without a
        fidelity has no levels and does not use it (its saved states keep what they were made
        with). On the real learning curves of the ``k13lc`` table, where the 1-epoch level ranks the
        best networks poorly, ``"icm"`` found the optimum in 3 of 6 runs and ``"scaled"`` in 0: there
        ``"icm"`` is the safer setting. With a fidelity ``acquisition="es"`` never left the cheapest
        level on NB201.
    """

    name = "boed"
    fidelities = True
    belief_columns = ("prob_best", "argmax_entropy", "information_gain")  # its reports (_record_report)
    config_class: ClassVar[type[BOEDConfig]] = BOEDConfig

    def __init__(self, *, config: BOEDConfig | None = None, **kw: Any) -> None:
        settings, base = self.config_class.split(kw)
        config = config if config is not None else self.config_class()
        if not isinstance(config, self.config_class):
            raise StateError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config.replace(**settings) if settings else config  # checked here, before anything else
        super().__init__(**base)
        self.reports: list[dict[str, Any]] = []
        self._build_parts()

    def __getattr__(self, name: str) -> Any:
        # ctl.n_init, ctl.kernel, ...: the settings, read from the config (only called when an
        # attribute is not found the usual way)
        config = self.__dict__.get("config")
        if config is not None and name in type(config).names():
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_parts(self) -> None:
        """The parts, from the space and ``self.config``."""
        c = self.config
        base = self.base_space
        if self.fidelity is not None and c.acquisition not in FIDELITY_ACQUISITIONS:
            raise ConfigError(f"acquisition {c.acquisition!r} with a fidelity: boed weighs information against cost "
                              f"with {sorted(FIDELITY_ACQUISITIONS)} only ('mes': max-value entropy search per unit "
                              "cost; 'es': entropy search over the pool per unit cost)")
        self.proposals = [base.parse(p) for p in (c.proposals or [])]
        setting = c.signals
        if isinstance(setting, str) and setting == AUTO:  # with a fidelity the cheap levels take the signals' part
            setting = SHIPPED if self.fidelity is None else None
        shipped = isinstance(setting, str) and setting == SHIPPED
        signals = getattr(base, "shipped_signals", None) if shipped else setting
        inputs = belief_inputs(base, c.kernel, signals=signals, signal_use=c.signal_use, op_prior=c.op_prior,
                               seed=self.seed)
        self.signals = inputs.signals  # the form saved in get_params
        # with a fidelity: the space's own inputs of the configuration, then the level (boed_nas.bo.fidelity)
        if self.fidelity is None and c.noise != "shared":
            raise ConfigError(f"noise={c.noise!r} is a noise per fidelity level; this search has no fidelity")
        self.features = (inputs.features if self.fidelity is None
                         else FidelityFeatures(inputs.features, self.fidelity, level_noise=c.noise == "level",
                                               level_kernel=c.level_kernel))
        self.pool = CandidatePool(self.space, self.features)
        self.belief = Belief(self.features, c.output_transform, c.refit_every, c.cold_start_every, c.pending,
                             c.refit_fraction)
        self.design = self._design(inputs.init_top)
        self._acquisition: PoolAcquisition | None = None

    def _design(self, top: list[Any] | None) -> Any:
        """The initial design part (a variant gives its own)."""
        return InitialDesign(self.base_space, self.proposals, top)

    @property
    def fidelity(self) -> Any:
        """The fidelity searched over (``boed_nas.spaces.Fidelity``), or None."""
        return self.space.fidelity if isinstance(self.space, FidelitySpace) else None

    @property
    def base_space(self) -> Any:
        """The space of configurations (without the fidelity's levels)."""
        return self.space.base if isinstance(self.space, FidelitySpace) else self.space

    def prepare(self) -> None:
        """Called before every use of the parts (a fit, a proposal): a variant completes them here,
        e.g. with a supernet search run on first use (``use_prior``). Nothing by default."""

    def use_prior(self, *, proposals: Any = None, op_prior: Any = None) -> None:
        """Proposals and an op prior found after construction (a supernet search run lazily): the
        config takes them and the parts are rebuilt (nothing is told yet that they would change)."""
        self.config = self.config.replace(proposals=proposals, op_prior=op_prior)
        hyper = self.belief.state()
        self._build_parts()
        self.belief.load_state(hyper)

    def get_params(self) -> dict[str, Any]:
        c = self.config
        params = {name: getattr(c, name) for name in type(c).names()}
        params.update(proposals=[self.base_space.format(p) for p in self.proposals],
                      op_prior=None if c.op_prior is None else op_prior_array(c.op_prior).tolist(),
                      signals=self.signals)
        return {**super().get_params(), **params}

    # ------------------------------------------------------------------ the parts, as the variants read them
    @property
    def acquisition_function(self) -> PoolAcquisition:
        if self._acquisition is None:
            self._acquisition = (make_acquisition(self.config.acquisition) if self.fidelity is None
                                 else FIDELITY_ACQUISITIONS[self.config.acquisition]())
        return self._acquisition

    @property
    def pending_mode(self) -> str:
        return self.config.pending

    @property
    def universe(self) -> list[Any]:
        """The candidate pool's configurations (NB201: the 6,466 isomorphism classes)."""
        return self.pool.configs

    @property
    def X(self) -> torch.Tensor:
        """GP inputs of every pool member (built once per pool)."""
        return self.pool.X

    def level_costs(self) -> list[float]:
        """The relative cost of an evaluation at each level of the fidelity (the target's is 1): the
        fidelity's own, or, where it learns them (``Fidelity(costs="learned")``), learned from the
        measured costs of every successful evaluation told so far (``Fidelity.learned_costs``)."""
        f = self.fidelity
        if f is None:
            raise ConfigError("level_costs: this search has no fidelity")
        if not f.learn_costs:
            return list(f.costs)
        return f.learned_costs((o.cell.level, o.outcome.cost) for o in self._successes())

    def _index(self, cell: Any) -> int:
        return self.pool.index(cell)

    def _successes(self) -> list:
        return [o for o in self.history if not o.outcome.failed]

    def _refresh_pool(self) -> None:
        """A generated pool rebuilt for the current history (``CandidatePool.refresh``)."""
        if not self.pool.stale(len(self.history), self.pending.values()):
            return
        parents = [o.cell for o in sorted(self._successes(), key=self.signed, reverse=True)[:POOL_PARENTS]]
        if self.pool.refresh(self.seed, [o.cell for o in self.history], self.proposals, parents,
                             list(self.pending.values())):
            self.belief.invalidate()

    # ------------------------------------------------------------------ belief
    def fit(self) -> tuple[Any, np.ndarray] | None:
        """The GP fitted to every successful observation (cached until the next tell), and the
        pool indices of its training configurations; None before two successes."""
        self.prepare()
        ok = self._successes()
        if len(ok) < 2:
            return None
        self._refresh_pool()
        hit = self.belief.cached(len(self.history))
        if hit is not None:
            return hit
        idx = np.array([self.pool.index(o.cell) for o in ok])
        groups = None if self.fidelity is None else idx // self.pool.n_configs  # each level transformed on its own
        return self.belief.fit(self.pool.X, idx, np.array([self.signed(o) for o in ok]), len(self.history),
                               seed=self.seed + len(self.history), groups=groups)

    def _generator(self, *salt: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.derived_seed(*salt))

    def pool_belief(self, model: Any, evaluated: np.ndarray, pending: list[int], generator: torch.Generator) -> PoolBelief:
        """The posterior over the pool with the ``pending`` members fantasised (``pending`` mode)."""
        Xp = self.pool.X[torch.tensor(pending, dtype=torch.long)]
        model = self.belief.condition_on_pending(model, Xp, generator)
        # every told configuration (failed ones too) and every pending one is off the candidate list
        taken = {self.pool.index(o.cell) for o in self.history} | set(evaluated.tolist()) | set(pending)
        if self.fidelity is not None:
            # a configuration is evaluated at a level above the highest it has been started at, never below
            n = self.pool.n_configs
            started: dict[int, int] = {}
            for i in taken:
                started[i % n] = max(started.get(i % n, -1), i // n)
            candidates = torch.tensor([i for i in range(len(self.pool)) if i // n > started.get(i % n, -1)],
                                      dtype=torch.long)
            return fidelity_pool_posterior(model, self.pool.X, n, self.fidelity, evaluated, candidates,
                                           self.config.plausible_size, self.config.n_samples, generator,
                                           costs=self.level_costs())
        candidates = torch.tensor([i for i in range(len(self.pool)) if i not in taken], dtype=torch.long)
        return self.belief.pool_posterior(model, self.pool.X, evaluated, candidates, self.config.plausible_size,
                                          self.config.n_samples, generator)

    # ------------------------------------------------------------------ ask
    def _initial_cell(self) -> Any:
        taken = [o.cell for o in self.history] + list(self.pending.values())
        if self.fidelity is None:
            return self.design.next(taken, self.is_new, self.random_new_cell, self.rng)
        # with a fidelity: new configurations (at no level yet) at the cheapest level
        base, lowest = self.base_space, self.fidelity.levels[0]
        started = {base.key(p.config) for p in taken}

        def new(config: Any) -> bool:
            return base.key(config) not in started

        return AtFidelity(self.design.next([p.config for p in taken], new, self._random_new_config, self.rng), lowest)

    def _random_turn(self) -> bool:
        """Whether this ask is an interleaved random one (``random_every = k``), counting every ask
        (told or pending): with ``random_when="always"`` the ``k``-th, ``2k``-th, ... ask after the
        initial design's ``n_init``; with ``"stalled"`` the ``k``-th, ``2k``-th, ... ask after the
        last observation better than every earlier one (after the initial design)."""
        k, position = self.config.random_every, len(self.history) + len(self.pending)
        if k == 0 or position < self.config.n_init:
            return False
        if self.config.random_when == "always":
            return (position + 1 - self.config.n_init) % k == 0
        best, last = -math.inf, self.config.n_init - 1  # the ask that last improved on every earlier observation
        for i, o in enumerate(self.history):
            if not o.outcome.failed and self.signed(o) > best:
                best, last = self.signed(o), max(i, self.config.n_init - 1)
        since = position - last
        return since % k == 0

    def _random_cell(self) -> Any:
        """A uniformly random new configuration (with a fidelity: at the cheapest level), drawn from
        ``self.rng`` (saved with the state, so a resumed run draws the same)."""
        if self.fidelity is None:
            return self.random_new_cell()
        return AtFidelity(self._random_new_config(), self.fidelity.levels[0])

    def _random_new_config(self) -> Any:
        """With a fidelity: a uniformly random configuration new at every level."""
        base = self.base_space
        started = {base.key(p.config) for p in [o.cell for o in self.history] + list(self.pending.values())}
        for _ in range(10_000):
            config = self.random_new_cell().config  # a target-level point whose configuration is new ...
            if base.key(config) not in started:  # ... and new at every level
                return config
        raise ConfigError(f"no new configuration of space {base.name!r} in 10,000 random draws")

    def _propose_one(self, pick: int) -> Any:
        self.prepare()
        if len(self._successes()) < self.config.n_init or (fitted := self.fit()) is None:
            return self._initial_cell()
        if self._random_turn():
            return self._random_cell()
        model, evaluated = fitted
        pending = [self.pool.index(c) for c in self.pending.values()]
        b = self.pool_belief(model, evaluated, pending, self._generator(pick, 0))
        s = self.acquisition_function(b, self._generator(pick, 1))
        if (self.config.acquisition == "es" and not bool((s > 0).any())) or not bool(torch.isfinite(s).any()):
            # nothing informative left (es), or no candidate in the plausible set (ts): UCB
            s = b.mean[b.candidates] + 2 * b.var[b.candidates].sqrt()
        choice = int(b.candidates[seeded_argmax(s, self._generator(pick, 2))])  # ties: a seeded draw
        if pick == 0:
            self._record_report(b, evaluated)
        return self.pool.configs[choice]

    def _recommended_index(self, mean_of: Any, evaluated: np.ndarray) -> int:
        """The pool index the controller recommends: of the evaluated members, the one with the
        highest posterior mean (``mean_of(indices)``); with a fidelity, of the configurations
        evaluated at the target level (else of all evaluated ones), the highest target-level mean,
        as the index of its target-level point."""
        if self.fidelity is None:
            return int(evaluated[int(torch.argmax(mean_of(evaluated)))])
        n, t = self.pool.n_configs, self.fidelity.target_index
        at_target = sorted({int(i) % n for i in evaluated if int(i) // n == t})
        configs = at_target or sorted({int(i) % n for i in evaluated})
        twins = np.array([t * n + j for j in configs])
        return int(twins[int(torch.argmax(mean_of(twins)))])

    def _record_report(self, b: PoolBelief, evaluated: np.ndarray) -> None:
        cells, probs = b.argmax_distribution()
        best = self._recommended_index(lambda idx: b.mean[torch.as_tensor(idx, dtype=torch.long)], evaluated)
        h = b.argmax_entropy()
        prev = self.reports[-1].get("argmax_entropy") if self.reports else None
        if not _finite_number(prev):  # the first report (or a hand-edited state's last one without it)
            prev = math.log(self.pool.n_configs)
        self.reports.append({
            "observations": len(self._successes()),
            "recommended_cell": str(self.pool.configs[best]),
            "prob_best": float(probs[cells == best].sum()),
            "argmax_entropy": h,
            "information_gain": prev - h,
            "noise_var": b.noise_var,
            "n_plausible": int(len(b.plausible)),
        })

    # ------------------------------------------------------------------ recommend
    def recommend(self) -> Any:
        """The evaluated configuration with the highest posterior mean (the denoised best), not the
        luckiest observation; the best observed one while there are fewer than ``n_init`` successes."""
        fitted = self.fit() if len(self._successes()) >= self.config.n_init else None
        if fitted is None:  # before the GP is used (or with fewer than two successes to fit it to)
            return super().recommend()
        model, idx = fitted
        if self.fidelity is not None:  # what the belief says at the target level, never a cheaper one
            best = self._recommended_index(lambda i: posterior_mean_var(model, self.pool.X[torch.as_tensor(i)])[0], idx)
            return self.pool.configs[best]
        mean, _ = posterior_mean_var(model, self.pool.X[idx])
        return self._successes()[int(torch.argmax(mean))].cell

    def predict(self, configs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray] | None:
        """The belief's posterior mean and standard deviation of the metric at ``configs``, in the
        metric's own units (what Ax's analyses plot); None before the GP has two successes.

        The GP models the output-transformed values (``output_transform``: normal scores of ranks by
        default), so its mean is mapped back through the observed values' transform (monotone
        interpolation between the observations, linear beyond them) and its standard deviation by
        the local slope of that map: an approximation, exact for ``output_transform="standardize"``.
        With a fidelity, ``configs`` are points at levels (a bare configuration: the target level),
        each mapped back through its own level's observations."""
        fitted = self.fit()
        if fitted is None:
            return None
        model, _ = fitted
        configs = [self.space.parse(c) for c in configs]
        X = self.pool.features(configs) if configs else self.pool.X[:0]
        mean, var = posterior_mean_var(model, X)
        m, sd = mean.detach().numpy().astype(np.float64), np.sqrt(np.clip(var.detach().numpy(), 0, None))
        ok = self._successes()
        signed = np.array([self.signed(o) for o in ok])
        # with a fidelity each level's values were transformed on their own (fit), so each level's
        # predictions are mapped back through that level's observations (all of them for a level
        # with none yet)
        level_of = (lambda p: 0) if self.fidelity is None else (lambda p: self.fidelity.index(p.level))
        observed = np.array([level_of(o.cell) for o in ok])
        asked = np.array([level_of(c) for c in configs], dtype=int)
        mu, spread = np.empty_like(m), np.empty_like(m)
        for level in np.unique(asked):
            at = asked == level
            values = signed[observed == level] if (observed == level).any() else signed
            back = _back_transform(self.belief.transform(values), values)
            mu[at], spread[at] = back(m[at]), (back(m[at] + sd[at]) - back(m[at] - sd[at])) / 2
        return (mu if self.maximize else -mu), np.abs(spread)

    # ------------------------------------------------------------------ state
    def _extra_state(self) -> dict[str, Any]:
        return {"reports": self.reports, "belief": self.belief.state()}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        reports, belief = extra.get("reports", []), extra.get("belief")
        if not isinstance(reports, list) or not all(isinstance(r, Mapping) for r in reports):
            raise StateError("corrupt boed state: 'reports' is not a list of records")
        self.belief.load_state(belief)
        self.reports = list(reports)


def _back_transform(z: np.ndarray, values: np.ndarray) -> Any:
    """The map from the GP's transformed scale back to the metric's: monotone interpolation between
    the observations' (normal score, value) pairs, linear beyond them."""
    order = np.argsort(z, kind="stable")
    zs, ys = z[order], values[order]
    keep = np.concatenate([[True], np.diff(zs) > 0])  # tied values share one normal score
    zs, ys = zs[keep], ys[keep]

    def back(t: np.ndarray) -> np.ndarray:
        if len(zs) < 2:
            return np.full_like(t, ys[0])
        out = np.interp(t, zs, ys)
        lo, hi = (ys[1] - ys[0]) / (zs[1] - zs[0]), (ys[-1] - ys[-2]) / (zs[-1] - zs[-2])
        return np.where(t < zs[0], ys[0] + (t - zs[0]) * lo, np.where(t > zs[-1], ys[-1] + (t - zs[-1]) * hi, out))

    return back


def _finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_check_belief = check_belief_state  # the name earlier releases had

__all__ = ["INIT_TOP_FRACTION", "PENDING", "POOL_PARENTS", "POOL_RANDOM", "SIGNAL_SALT", "BOEDConfig", "BOEDController",
           "resolve_signals"]
