"""Optuna integration: boed-nas's acquisition as an Optuna sampler (``BOEDSampler``).

Keep your Optuna study, its storage and its ``optimize`` loop; let boed-nas choose the trials::

    import optuna
    from boed_nas.integrations.optuna import BOEDSampler

    def objective(trial):
        depth = trial.suggest_int("depth", 1, 4)
        width = trial.suggest_categorical("width", [16, 32, 64, 128])
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)      # continuous: sampled independently
        return train_and_validate(depth, width, lr)

    study = optuna.create_study(direction="maximize", sampler=BOEDSampler(seed=0),
                                storage="sqlite:///nas.db", study_name="nas", load_if_exists=True)
    study.optimize(objective, n_trials=100)

What the sampler searches (Optuna's *relative* sampling):

- Without ``space=``: the parameters every finished trial of the study has (Optuna's intersection
  search space), as a ``boed_nas.spaces.Space``: a categorical parameter is a ``Categorical``
  variable, an integer parameter and a float parameter with a ``step`` an ``Ordered`` one on its
  grid (at most ``MAX_GRID`` values). Continuous floats, larger grids, and every parameter of the
  first trial (the study has no search space yet) go to ``independent_sampler`` (Optuna's
  ``RandomSampler`` with the same seed by default), as in Optuna's own ``GPSampler``.
- With ``space=`` (a ``Space``, ``"nb201"``, ``"pkg.module:NAME"``): that space, its parameters
  named by ``space.to_parameters`` (NB201: ``edge_0`` ... ``edge_5``, one op name each), so its
  constraint, known costs, key (NB201's isomorphism classes: one training per network) and
  shipped signals all apply. The objective suggests those parameters as categoricals (or, for an
  ``Ordered`` variable, ``suggest_int`` / stepped ``suggest_float`` over exactly its values).

What it tells the boed-nas strategy, as a trial of this process ends and, before each proposal,
of the others: every trial that finished (COMPLETE with its value; FAIL and PRUNED as failures, never proposed again), in
trial-number order, read from the study's storage; a trial whose parameters are not a point of
the space (a constraint it breaks, a parameter it lacks) is left out, and a trial of a network
already told (an isomorphic cell, the same configuration enqueued twice) is not told again. Every
RUNNING trial is pending, so that ``n_jobs`` threads, several processes on one storage, or Dask
workers get different networks. The strategy is kept between trials (its GP's fit schedule, its
generator): nothing is refitted from scratch unless the search space changes.

Multi-objective studies: ``objectives=`` names each of the study's values, e.g.
``("val_acc", "flops")``; a name that is a known cost of the space (``Space(costs=...)``) is read
from the space, the others from the trial's values, and the Pareto controller (``boed-mo``)
searches, as ``boed-nas search --objectives`` does.

Randomness: one ``seed`` (a random one, kept as ``sampler.seed``, when None) seeds the strategy
and the independent sampler; a sequential study with the same seed is the same trajectory.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any

try:
    import optuna
    from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.samplers import BaseSampler
    from optuna.study import StudyDirection
    from optuna.trial import FrozenTrial, TrialState
except ImportError as e:  # an optional dependency: say how to get it
    raise ImportError("boed_nas.integrations.optuna needs Optuna 5: pip install 'boed-nas[optuna]'") from e

from ..errors import ConfigError, SpaceError
from ..registry import make_strategy, multiobjective_strategies
from ..spaces.base import Categorical, Ordered, Space
from ..spaces.protocol import cost_names
from ..strategy import Strategy, resolve_space

logger = logging.getLogger("boed_nas.optuna")

MAX_GRID = 10_000
"""An integer or stepped float parameter with more values than this is sampled independently."""

_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def variable_of(name: str, distribution: BaseDistribution) -> Categorical | Ordered | None:
    """The boed-nas variable of an Optuna distribution, or None where it is left to the independent
    sampler (a continuous float, a grid of more than ``MAX_GRID`` values)."""
    if isinstance(distribution, CategoricalDistribution):
        return Categorical(name, list(distribution.choices))
    if isinstance(distribution, IntDistribution):
        step = 1 if distribution.log else distribution.step
        n = (distribution.high - distribution.low) // step + 1
        return Ordered(name, list(range(distribution.low, distribution.high + 1, step))) if n <= MAX_GRID else None
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        n = int(round((distribution.high - distribution.low) / distribution.step)) + 1
        if n > MAX_GRID:
            return None
        # the grid as Optuna's own suggest_float(step=...) rounds it, so every value is one it accepts
        grid = [distribution.to_external_repr(distribution.low + k * distribution.step) for k in range(n)]
        return Ordered(name, [min(max(v, distribution.low), distribution.high) for v in grid])
    return None


def space_of(search_space: Mapping[str, BaseDistribution], name: str = "optuna") -> Space | None:
    """The ``Space`` of the parameters of ``search_space`` that boed-nas searches (``variable_of``),
    in name order; None where there are none."""
    variables = [v for v in (variable_of(k, search_space[k]) for k in sorted(search_space)) if v is not None]
    return Space(variables, name=name) if variables else None


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


class BOEDSampler(BaseSampler):
    """An Optuna sampler whose relative proposals come from a boed-nas strategy (see the module
    docstring).

    Parameters
    ----------
    space:
        None (the study's discrete parameters), or a boed-nas space: a ``Space``, ``"nb201"``,
        ``"pkg.module:NAME"``.
    strategy:
        The boed-nas strategy by name or spec (``"boed"``, ``"boed[signals=none]"``, ``"evolution"``
        ...); for a multi-objective study ``"boed-mo"`` by default.
    seed:
        The one seed (None: a random one, kept as ``self.seed``).
    independent_sampler:
        What samples the parameters boed-nas does not (default ``RandomSampler(seed)``).
    objectives:
        Multi-objective studies: the name of each of the study's values, in order (a metric, or a
        known cost of ``space``).
    **options:
        Settings of the strategy (``make_strategy``), e.g. ``signals="none"``.
    """

    def __init__(self, space: Any = None, *, strategy: str | None = None, seed: int | None = None,
                 independent_sampler: BaseSampler | None = None, objectives: Sequence[str] | str | None = None,
                 **options: Any) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = secrets.randbits(32) if seed is None else seed
        self._given_space = None if space is None else resolve_space(space)
        if self._given_space is not None and getattr(self._given_space, "fidelity", None) is not None:
            raise ConfigError(f"space {self._given_space.name!r} declares a fidelity; BOEDSampler proposes one "
                              "evaluation per trial (use Optuna's pruners for early stopping)")
        if isinstance(objectives, str):
            objectives = [s.strip() for s in objectives.split(",") if s.strip()]
        self._objectives = None if objectives is None else list(objectives)
        if self._objectives is not None and (not self._objectives or not all(isinstance(o, str) and o for o in self._objectives)):
            raise ConfigError(f"objectives must name each of the study's values, e.g. ('val_acc', 'flops'); got {objectives!r}")
        self._spec = strategy
        self._options = dict(options)
        self._independent = independent_sampler or optuna.samplers.RandomSampler(seed=self.seed)
        self._intersection = optuna.search_space.IntersectionSearchSpace(include_pruned=True)
        self._lock = threading.RLock()
        self.strategy: Strategy | None = None  # the boed-nas strategy, built at the first relative proposal
        self._signature: Any = None  # what the strategy was built for (space, directions)
        self._told: set[int] = set()  # trial numbers already read (told, or left out)
        self._proposed: dict[int, Any] = {}  # trial number -> configuration proposed in this process, in flight

    # ------------------------------------------------------------------ pickling (Dask, multiprocessing)
    def __getstate__(self) -> dict[str, Any]:
        # a copy in another process rebuilds its strategy from the storage at its first proposal
        state = dict(self.__dict__)
        state.update(_lock=None, strategy=None, _signature=None, _told=set(), _proposed={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def reseed_rng(self) -> None:
        # Optuna reseeds each thread's sampler under n_jobs > 1: only the independent sampler; the
        # strategy's generator is its state (derived from seed), shared by the threads under the lock
        self._independent.reseed_rng()

    # ------------------------------------------------------------------ the search space
    def _names(self) -> list[str] | None:
        space = self._given_space
        if space is None:
            return None
        variables = getattr(space, "variables", None)
        if variables is None:
            raise ConfigError(f"space {space.name!r} has no named parameters (the hooks variables, to_parameters and "
                              "from_parameters); BOEDSampler needs them to map a trial's parameters to a configuration")
        return [v.name for v in variables]

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        found = {k: d for k, d in self._intersection.calculate(study).items() if not d.single()}
        names = self._names()
        if names is None:
            return {k: d for k, d in found.items() if variable_of(k, d) is not None}
        if not all(n in found for n in names):
            return {}  # the first trials, before every parameter of the space was suggested: independent
        return {n: found[n] for n in names}

    # ------------------------------------------------------------------ relative sampling
    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock:
            strategy = self._sync(study, search_space, current=trial.number)
            if strategy.remaining == 0:
                logger.info("every configuration of the space is told or pending; trial %d is sampled independently",
                            trial.number)
                return {}
            config = strategy.ask(1)[0]
            self._proposed[trial.number] = config
            params = dict(self._to_parameters(strategy.space, config))
        outside = {k: v for k, v in params.items() if k in search_space and not _contains(search_space[k], v)}
        if outside:
            k, v = next(iter(outside.items()))
            raise ConfigError(f"the space proposes {k}={v!r}, which the study's distribution {search_space[k]} of "
                              f"{k!r} does not contain; suggest {k!r} over exactly the space's values")
        return {k: v for k, v in params.items() if k in search_space}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._independent.after_trial(study, trial, state, values)
        with self._lock:  # told now, so that recommend() knows it (a trial of another process: at the next proposal)
            if self.strategy is not None and self._signature[2] == tuple(study.directions):
                self._tell(trial, state, values)

    # ------------------------------------------------------------------ the strategy
    def _to_parameters(self, space: Any, config: Any) -> Mapping[str, Any]:
        to_parameters = getattr(space, "to_parameters", None)
        return to_parameters(config) if to_parameters is not None else dict(config)

    def _config_of(self, space: Any, params: Mapping[str, Any], names: Sequence[str]) -> Any:
        if not all(n in params for n in names):
            return None
        chosen = {n: params[n] for n in names}
        try:
            from_parameters = getattr(space, "from_parameters", None)
            return from_parameters(chosen) if from_parameters is not None else space.parse(chosen)
        except SpaceError:
            return None

    def _build(self, study: optuna.Study, search_space: Mapping[str, BaseDistribution]) -> Strategy:
        directions = list(study.directions)
        space = self._given_space if self._given_space is not None else space_of(search_space, name=study.study_name)
        if len(directions) == 1:
            if self._objectives is not None and len(self._objectives) != 1:
                raise ConfigError(f"objectives {self._objectives} name {len(self._objectives)} values; the study has one")
            metric = self._objectives[0] if self._objectives else "value"
            spec = self._spec or "boed"
            options = dict(metric=metric, maximize=directions[0] == StudyDirection.MAXIMIZE)
        else:
            if self._objectives is None or len(self._objectives) != len(directions):
                raise ConfigError(f"a study with {len(directions)} objectives needs objectives= naming each of its values "
                                  f"in order, e.g. ('val_acc', 'flops'); got {self._objectives!r}")
            spec = self._spec or "boed-mo"
            costs = cost_names(space)
            measured = [(o, d) for o, d in zip(self._objectives, directions) if o not in costs]
            for o, d in zip(self._objectives, directions):
                if o in costs and d != StudyDirection.MINIMIZE:
                    raise ConfigError(f"objective {o!r} is a known cost of space {space.name!r}, which the Pareto "
                                      "search minimises; create the study with direction 'minimize' for it")
            if not measured:
                raise ConfigError(f"objectives {self._objectives} are all known costs of the space; name the measured one")
            options = dict(metric=measured[0][0], maximize=measured[0][1] == StudyDirection.MAXIMIZE)
            if spec.split("[")[0] not in multiobjective_strategies():
                raise ConfigError(f"strategy {spec!r} searches one objective; a study with {len(directions)} takes one of "
                                  f"{multiobjective_strategies()}")
            options["objectives"] = ",".join(self._objectives)
        logger.info("BOEDSampler: %s on %s (%s configurations)", spec, space.name, space.n_distinct)
        return make_strategy(spec, seed=self.seed, space=space, **options, **self._options)

    def _sync(self, study: optuna.Study, search_space: Mapping[str, BaseDistribution], current: int) -> Strategy:
        """The strategy, told every trial finished since the last call, with the running ones pending."""
        names = self._names() or sorted(search_space)
        signature = (tuple(names), tuple(repr(search_space[n]) for n in names), tuple(study.directions))
        if self.strategy is None or signature != self._signature:
            self.strategy = self._build(study, {n: search_space[n] for n in names})
            self._signature, self._told = signature, set()
        strategy = self.strategy
        trials = study.get_trials(deepcopy=False, states=(*_FINISHED, TrialState.RUNNING))
        pending = []
        for t in sorted(trials, key=lambda t: t.number):
            if t.state == TrialState.RUNNING:
                if t.number == current:
                    continue
                config = self._proposed.get(t.number)
                config = config if config is not None else self._config_of(strategy.space, t.params, names)
                if config is not None:
                    pending.append(config)
                continue
            self._tell(t, t.state, t.values)
        strategy.set_pending(pending)
        return strategy

    def _tell(self, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        """Tell the strategy one finished trial, once; one whose parameters are not a point of the
        space, or whose network was told already, is left out."""
        strategy = self.strategy
        if strategy is None or trial.number in self._told:
            return
        self._told.add(trial.number)
        self._proposed.pop(trial.number, None)
        config = self._config_of(strategy.space, trial.params, self._signature[0])
        if config is None:
            logger.debug("trial %d: its parameters %s are not a point of the space; not told", trial.number, trial.params)
            return
        if not strategy.is_new(config) and strategy.space.key(config) not in strategy.pending:
            return  # this network was told already (an isomorphic cell, an enqueued repeat)
        strategy.tell(config, self._outcome(strategy, state, values))

    def _outcome(self, strategy: Strategy, state: TrialState, values: Sequence[float] | None) -> Mapping[str, float] | None:
        if state != TrialState.COMPLETE or values is None:
            return None  # FAIL, PRUNED: a failure, never proposed again
        names = self._objectives or [strategy.metric]
        told = {n: float(v) for n, v in zip(names, values)}
        return told if all(math.isfinite(v) for v in told.values()) else None

    def recommend(self) -> Any:
        """The strategy's recommendation (boed: the belief's best, which may not be the best trial
        so far) as the parameters a trial takes; None before the first relative proposal."""
        with self._lock:
            if self.strategy is None:
                return None
            config = self.strategy.recommend()
            return None if config is None else dict(self._to_parameters(self.strategy.space, config))


__all__ = ["MAX_GRID", "BOEDSampler", "space_of", "variable_of"]
