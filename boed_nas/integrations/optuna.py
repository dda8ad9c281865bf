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
  named by ``space.to_parameters`` (NB201: ``edge_0_to_1`` ... ``edge_2_to_3``, one op name per
  edge), so its constraint, known costs, key (NB201's isomorphism classes: one training per
  network) and shipped signals all apply. The objective suggests those parameters as categoricals
  (or, for an ``Ordered`` variable, ``suggest_int`` / stepped ``suggest_float`` over exactly its
  values). Before relative sampling starts (the first trial), the space's parameters are those of
  one ``space.sample`` per trial, so that they too satisfy the space's constraint. A WARNING says
  when the study's parameter names are not the space's (the sampler would be random).

What it tells the boed-nas strategy, as a trial of this process ends and, before each proposal,
of the others: every trial that finished (COMPLETE with its value; FAIL and PRUNED as failures,
never proposed again), in trial-number order, read from the study's storage; a trial whose
parameters are not a point of the space (a constraint it breaks, a parameter it lacks) is left
out, and a trial of a network already told (an isomorphic cell, the same configuration enqueued
twice) is not told again. Every RUNNING trial is pending, so that ``n_jobs`` threads, several
processes on one storage, or Dask workers get different networks: each proposal is written to its
trial's system attributes in the storage as it is made (a trial's parameters reach the storage
only at each ``suggest_*``), and a proposal that another process made for the same network
meanwhile is replaced. The strategy is kept between trials (its GP's fit schedule, its
generator): nothing is refitted from scratch unless the search space changes.

Multi-objective studies: ``objectives=`` names each of the study's values, e.g.
``("val_acc", "flops")``, each direction read from the study (a ``":min"`` / ``":max"`` suffix may
repeat it); a name that is a known cost of the space (``Space(costs=...)``) is read from the
space, the others from the trial's values. With one measured value the Pareto controller
(``boed-mo``) searches, as ``boed-nas search --objectives`` does; with several (``boed-mo`` learns
one measured objective beside known costs) ``nsga2`` does unless ``strategy=`` says otherwise.

Randomness: one ``seed`` (a random one, kept as ``sampler.seed``, when None) seeds the strategy
and the independent sampler; a sequential study with the same seed is the same trajectory.
"""

from __future__ import annotations

import logging
import math
import numbers
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

try:
    import optuna
    from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.samplers import BaseSampler
    from optuna.study import StudyDirection
    from optuna.trial import FrozenTrial, TrialState
except ImportError as e:  # an optional dependency: say how to get it
    raise ImportError("boed_nas.integrations.optuna needs Optuna 5: pip install 'boed-nas[optuna]'") from e

from ..errors import ConfigError, SpaceError
from ..registry import accepted_settings, check_settings, make_strategy, multiobjective_strategies, parse_spec, strategy_class
from ..spaces.base import Categorical, Ordered, Space
from ..spaces.protocol import cost_names
from ..strategy import Strategy, resolve_space

logger = logging.getLogger("boed_nas.optuna")

MAX_GRID = 10_000
"""An integer or stepped float parameter with more values than this is sampled independently."""

PROPOSAL_ATTR = "boed_nas:proposal"
"""The trial system attribute holding the parameters the sampler proposed for a trial."""

_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
_DEFAULTS = ("boed", "boed-mo", "nsga2")  # what an unspecified strategy= may become (see _plan)
_SET_BY_SAMPLER = ("seed", "space", "metric", "maximize", "objectives")  # from seed=, space=, the study, objectives=
_REPROPOSE_TRIES = 3  # proposals made again when another process proposed the same network meanwhile
_CLAIM_WAIT = 0.2  # seconds an earlier trial waits for a later one with the same proposal to give way
_FEW_TRIALS = 3  # finished trials after which a space whose parameters the study lacks is worth a warning


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


def _plain(value: Any) -> Any:
    # a numpy scalar of a space's values as the JSON value an RDB storage keeps
    return value.item() if isinstance(value, np.generic) else value


def _known_costs(space: Any) -> set[str]:
    """The objective names a space knows before training: its ``costs``, and for a space with its
    own Pareto problem (NB201: costs from its table, ``costs()`` empty) the names that problem reads
    from its table."""
    if space is None:
        return set()
    known = set(cost_names(space))
    if getattr(space, "pareto_problem", None) is not None:
        from ..mo.pareto import COST_NAMES  # imported here: it loads pymoo

        known |= set(COST_NAMES)
    return known


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
        ...); for a multi-objective study ``"boed-mo"`` by default, ``"nsga2"`` where more than one
        of its values is measured (not a known cost of ``space``).
    seed:
        The one seed (None: a random one, kept as ``self.seed``).
    independent_sampler:
        What samples the parameters boed-nas does not (an Optuna ``BaseSampler``; default
        ``RandomSampler(seed)``).
    objectives:
        Multi-objective studies: the name of each of the study's values, in order (a metric, or a
        known cost of ``space``); each direction is the study's, which a ``":min"`` / ``":max"``
        suffix may repeat (``("val_acc", "latency_ms:min")``).
    **options:
        Settings of the strategy (``make_strategy``), e.g. ``signals="none"``.
    """

    def __init__(self, space: Any = None, *, strategy: str | None = None, seed: int | None = None,
                 independent_sampler: BaseSampler | None = None, objectives: Sequence[str] | str | None = None,
                 **options: Any) -> None:
        # any integral seed (numpy's too), stored as int; bool is an int Python-wise but no seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = secrets.randbits(32) if seed is None else int(seed)
        self._given_space = None if space is None else resolve_space(space)
        if self._given_space is not None and getattr(self._given_space, "fidelity", None) is not None:
            raise ConfigError(f"space {self._given_space.name!r} declares a fidelity; BOEDSampler proposes one "
                              "evaluation per trial (use Optuna's pruners for early stopping)")
        self._objectives, self._suffixes = self._parse_objectives(objectives)
        self._check_strategy(strategy, options)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise ConfigError(f"independent_sampler must be an Optuna sampler (optuna.samplers.BaseSampler) or None, "
                              f"got {independent_sampler!r}")
        self._spec = strategy
        self._options = dict(options)
        self._independent = independent_sampler or optuna.samplers.RandomSampler(seed=self.seed)
        self._intersection = optuna.search_space.IntersectionSearchSpace(include_pruned=True)
        self._lock = threading.RLock()
        self.strategy: Strategy | None = None  # the boed-nas strategy, built at the first relative proposal
        self._signature: Any = None  # what the strategy was built for (space, directions)
        self._told: set[int] = set()  # trial numbers already read (told, or left out)
        self._proposed: dict[int, Any] = {}  # trial number -> configuration proposed in this process, in flight
        self._plans: dict[tuple[StudyDirection, ...], tuple[str, dict[str, Any]]] = {}  # directions -> (spec, settings)
        self._drawn: dict[int, Mapping[str, Any]] = {}  # trial number -> parameters of a space.sample (independent)
        self._warned: set[str] = set()  # the one-time warnings given

    @staticmethod
    def _parse_objectives(objectives: Sequence[str] | str | None) -> tuple[list[str] | None, list[str]]:
        """(bare names, direction suffixes '' / 'min' / 'max') of ``objectives=``."""
        if objectives is None:
            return None, []
        given = objectives
        if isinstance(objectives, str):
            objectives = [s.strip() for s in objectives.split(",") if s.strip()]
        objectives = list(objectives)
        if not objectives or not all(isinstance(o, str) and o.strip() for o in objectives):
            raise ConfigError(f"objectives must name each of the study's values, e.g. ('val_acc', 'flops'); got {given!r}")
        names, suffixes = [], []
        for raw in objectives:
            name, _, suffix = raw.partition(":")
            name, suffix = name.strip(), suffix.strip().lower()
            if not name or suffix not in ("", "min", "max"):
                raise ConfigError(f"objective {raw!r}: expected NAME, NAME:min or NAME:max")
            names.append(name)
            suffixes.append(suffix)
        if len(set(names)) != len(names):
            raise ConfigError(f"objectives {names} repeat a name; each of the study's values has its own")
        return names, suffixes

    @staticmethod
    def _check_strategy(strategy: str | None, options: Mapping[str, Any]) -> None:
        """Refuse, before any trial is trained, an unknown strategy or a setting it does not take."""
        clash = sorted(set(options) & set(_SET_BY_SAMPLER))
        if clash:
            raise ConfigError(f"BOEDSampler sets {clash} itself (from seed=, space=, the study's directions and "
                              "objectives=); leave them out of the strategy's settings")
        if strategy is not None:
            if not isinstance(strategy, str):
                raise ConfigError(f"strategy must be a strategy name or spec such as 'boed' or 'boed[n_init=5]', "
                                  f"got {strategy!r}")
            parse_spec(strategy)  # ConfigError for a malformed spec
            strategy_class(strategy)  # UnknownStrategyError, naming the strategies there are
            check_settings(strategy, list(options))
            return
        # unspecified: the strategy is 'boed', 'boed-mo' or 'nsga2' by the study (known at its first trial,
        # where _plan checks the settings against the one chosen); here only a setting none of them takes
        # is refused, so that a boed-mo or nsga2 setting given for a multi-objective study is not
        if not options:
            return  # nothing to check: the strategies are imported when the first is built
        accepted = [accepted_settings(strategy_class(n)) for n in _DEFAULTS]
        if any(a is None for a in accepted):
            return
        unknown = sorted(set(options) - set().union(*accepted))
        if unknown:
            raise ConfigError(f"BOEDSampler's strategies ({', '.join(_DEFAULTS)}) do not take the settings {unknown}; "
                              f"they take {sorted(set().union(*accepted) - set(_SET_BY_SAMPLER))}")

    # ------------------------------------------------------------------ pickling (Dask, multiprocessing)
    def __getstate__(self) -> dict[str, Any]:
        # a copy in another process rebuilds its strategy from the storage at its first proposal
        state = dict(self.__dict__)
        state.update(_lock=None, strategy=None, _signature=None, _told=set(), _proposed={}, _drawn={})
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
        every = self._intersection.calculate(study)
        found = {k: d for k, d in every.items() if not d.single()}
        names = self._names()
        if names is None:
            searched = {k: d for k, d in found.items() if variable_of(k, d) is not None}
            if not searched:
                self._warn_nothing_to_search(study)
            return searched
        if not all(n in found for n in names):
            if not all(n in every for n in names):
                self._warn_names_unmatched(study, names)
            return {}  # the first trials, before every parameter of the space was suggested: independent
        return {n: found[n] for n in names}

    def _warn_names_unmatched(self, study: optuna.Study, names: Sequence[str]) -> None:
        # a study whose parameter names are not the space's gets random trials, silently: say so, once
        if "names" in self._warned:
            return
        finished = study.get_trials(deepcopy=False, states=_FINISHED)
        if len(finished) < _FEW_TRIALS:
            return
        self._warned.add("names")
        params = sorted({k for t in finished for k in t.params})
        logger.warning("BOEDSampler: space %r names its parameters %s, but the study's %d finished trials do not all "
                       "have them (their parameters: %s); every trial is sampled independently (at random). Suggest "
                       "the names space.to_parameters gives.", self._given_space.name, list(names), len(finished), params)

    def _warn_nothing_to_search(self, study: optuna.Study) -> None:
        # a study of continuous parameters only gets the independent sampler's trials: say so, once
        if "nothing" in self._warned:
            return
        finished = study.get_trials(deepcopy=False, states=_FINISHED)
        if not finished:
            return
        self._warned.add("nothing")
        params = sorted({k for t in finished for k in t.params})
        logger.warning("BOEDSampler: the study's finished trials have no parameter boed-nas can search (%s: a "
                       "categorical, an integer, or a float with a step, of at most %d values, that every trial "
                       "suggests); every trial is sampled by the independent sampler %s", params, MAX_GRID,
                       type(self._independent).__name__)

    # ------------------------------------------------------------------ relative sampling
    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        with self._lock:
            # the study's objectives are checked at its first trial (relative_params is read at the first
            # suggest_* of every trial), before anything is trained
            self._plan(study.directions)
            if not search_space:
                return {}
            strategy = self._sync(study, search_space, current=trial.number)
            if strategy.remaining == 0:
                logger.info("every configuration of the space is told or pending; trial %d is sampled independently",
                            trial.number)
                return {}
            config = strategy.ask(1)[0]
            params = dict(self._to_parameters(strategy.space, config))
            config, params = self._claim(study, trial, strategy, config, params)
            self._proposed[trial.number] = config
        outside = {k: v for k, v in params.items() if k in search_space and not _contains(search_space[k], v)}
        if outside:
            k, v = next(iter(outside.items()))
            raise ConfigError(f"the space proposes {k}={v!r}, which the study's distribution {search_space[k]} of "
                              f"{k!r} does not contain; suggest {k!r} over exactly the space's values")
        return {k: v for k, v in params.items() if k in search_space}

    def _record(self, study: optuna.Study, trial: FrozenTrial, params: Mapping[str, Any]) -> None:
        # Optuna's own samplers (GPSampler's relative params, NSGA-II's generation) keep such state in
        # the trial's system attributes through study._storage; the parameters themselves reach the
        # storage only at each suggest_*, too late for another process proposing meanwhile
        try:
            study._storage.set_trial_system_attr(trial._trial_id, PROPOSAL_ATTR, {k: _plain(v) for k, v in params.items()})
        except (TypeError, ValueError) as e:  # a value the storage cannot keep as JSON: pending in this process only
            logger.debug("trial %d: its proposal %s is not stored (%s)", trial.number, params, e)

    def _claim(self, study: optuna.Study, trial: FrozenTrial, strategy: Strategy, config: Any,
               params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Record the proposal, then check the other trials, running or finished since ``_sync``;
        where another has the same network, one of the two proposes again, with it pending (a few
        tries). Each process writes before it reads, so of two racing proposals at least one process
        sees the other's; the two may see each other, and would then, with the same data, both move
        to the same next network. So the rule is asymmetric: the later trial (the larger number)
        gives way at once, withdrawing its proposal before it proposes again; the earlier one keeps
        its network unless, looked at again a moment later, the later one still holds it (it read
        before this proposal was written, so it will not give way). A finished trial never gives way."""
        names, space = self._signature[0], strategy.space
        for attempt in range(_REPROPOSE_TRIES + 1):
            self._record(study, trial, params)
            others = self._others(study, strategy, names, trial.number)
            clash = [o for o in others if space.key(o[2]) == space.key(config)]
            if clash and all(running and number > trial.number for number, running, _ in clash):
                time.sleep(_CLAIM_WAIT)  # the later trials give way now if they saw this proposal
                others = self._others(study, strategy, names, trial.number)
                clash = [o for o in others if space.key(o[2]) == space.key(config)]
            if not clash:
                break
            if attempt == _REPROPOSE_TRIES:
                logger.info("trial %d: another trial has the same network; kept after %d tries",
                            trial.number, _REPROPOSE_TRIES)
                break
            self._record(study, trial, {})  # withdrawn while this process chooses again
            strategy.set_pending([*strategy.pending.values(), *(c for _, _, c in others)])
            if strategy.remaining == 0:
                break  # nothing else to propose: keep it
            logger.debug("trial %d: another trial has %s; proposing again", trial.number, config)
            config = strategy.ask(1)[0]
            params = dict(self._to_parameters(strategy.space, config))
        return config, params

    def _others(self, study: optuna.Study, strategy: Strategy, names: Sequence[str],
                current: int) -> list[tuple[int, bool, Any]]:
        """(number, running, configuration) of the trials other than ``current`` that the strategy
        does not know: RUNNING, or finished since the last ``_sync`` (a trial of another process may
        start and end while this process chooses), read from the storage."""
        out = []
        for t in study.get_trials(deepcopy=False, states=(*_FINISHED, TrialState.RUNNING)):
            if t.number != current and t.number not in self._told:
                config = self._running_config(strategy, t, names)
                if config is not None:
                    out.append((t.number, t.state == TrialState.RUNNING, config))
        return out

    def _running_config(self, strategy: Strategy, trial: FrozenTrial, names: Sequence[str]) -> Any:
        """The configuration a RUNNING trial evaluates: proposed in this process, else the parameters
        it has suggested so far over those fixed by enqueue_trial over the proposal it stored."""
        config = self._proposed.get(trial.number)
        if config is not None:
            return config
        attrs = trial.system_attrs
        params = {**(attrs.get(PROPOSAL_ATTR) or {}), **(attrs.get("fixed_params") or {}), **trial.params}
        return self._config_of(strategy.space, params, names)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        names = self._names()
        if names is not None and param_name in names:
            # before relative sampling starts (the first trial), a parameter of the given space is taken from
            # one valid configuration per trial (its constraint holds), drawn reproducibly from (seed, number)
            with self._lock:
                drawn = self._drawn.get(trial.number)
                if drawn is None:
                    config = self._given_space.sample(np.random.default_rng([self.seed, trial.number]))
                    drawn = self._drawn[trial.number] = dict(self._to_parameters(self._given_space, config))
            if param_name in drawn and _contains(param_distribution, drawn[param_name]):
                return drawn[param_name]
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._independent.after_trial(study, trial, state, values)
        with self._lock:  # told now, so that recommend() knows it (a trial of another process: at the next proposal)
            self._drawn.pop(trial.number, None)
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

    def _plan(self, directions: Sequence[StudyDirection]) -> tuple[str, dict[str, Any]]:
        """The strategy spec and the settings the study gives it (metric, direction, objectives), or
        a ConfigError where ``objectives=`` and ``strategy=`` do not fit the study's directions."""
        key = tuple(directions)
        if key in self._plans:
            return self._plans[key]
        names = self._objectives
        if names is not None and len(names) != len(directions):
            if len(directions) == 1:
                raise ConfigError(f"objectives {names} name {len(names)} values; the study has one")
            raise ConfigError(f"a study with {len(directions)} objectives needs objectives= naming each of its values "
                              f"in order, e.g. ('val_acc', 'flops'); got {names!r}")
        if names is None and len(directions) > 1:
            raise ConfigError(f"a study with {len(directions)} objectives needs objectives= naming each of its values "
                              f"in order, e.g. ('val_acc', 'flops'); got None")
        maximize = [d == StudyDirection.MAXIMIZE for d in directions]
        for name, suffix, up in zip(names or [], self._suffixes, maximize):
            if suffix and (suffix == "max") != up:
                raise ConfigError(f"objective '{name}:{suffix}' contradicts the study, whose direction for {name!r} is "
                                  f"{'maximize' if up else 'minimize'}; drop the suffix (the study's direction is used)")
        if len(directions) == 1:
            spec = self._spec or "boed"
            options = dict(metric=names[0] if names else "value", maximize=maximize[0])
        else:
            space = self._given_space
            known = _known_costs(space)
            for name, up in zip(names, maximize):
                if name in known and up:
                    raise ConfigError(f"objective {name!r} is a known cost of space {space.name!r}, which the Pareto "
                                      "search minimises; create the study with direction 'minimize' for it")
            measured = [(n, up) for n, up in zip(names, maximize) if n not in known]
            if not measured:
                raise ConfigError(f"objectives {names} are all known costs of the space; name the measured one")
            base = parse_spec(self._spec)[0] if self._spec else None
            if len(measured) > 1 and base == "boed-mo":
                raise ConfigError(f"strategy 'boed-mo' learns one measured objective beside known costs of the space; "
                                  f"objectives {names} measure {len(measured)} ({[n for n, _ in measured]}); use "
                                  f"strategy='nsga2' or 'mo-random', or make the others known costs (Space(costs=...))")
            if self._spec is None and len(measured) > 1:
                spec = "nsga2"
                logger.warning("BOEDSampler: objectives %s measure %d values (none of them a known cost of the space), "
                               "and boed-mo learns one measured objective beside known costs: searching with nsga2 "
                               "(strategy= picks another of %s)", names, len(measured), multiobjective_strategies())
            else:
                spec = self._spec or "boed-mo"
            if parse_spec(spec)[0] not in multiobjective_strategies():
                raise ConfigError(f"strategy {spec!r} searches one objective; a study with {len(directions)} takes one of "
                                  f"{multiobjective_strategies()}")
            # the strategy's spelling: the search metric and known costs bare, another measured metric with its
            # direction (boed_nas.mo.pareto: a measured metric other than the search metric must say it)
            first = measured[0][0]
            spelled = [n if n in known or n == first else f"{n}:{'max' if up else 'min'}"
                       for n, up in zip(names, maximize)]
            options = dict(metric=first, maximize=measured[0][1], objectives=",".join(spelled))
        if self._spec is None:
            check_settings(spec, list(self._options))  # the default chosen now: its own settings, before any training
        self._plans[key] = (spec, options)
        return spec, options

    def _build(self, study: optuna.Study, search_space: Mapping[str, BaseDistribution]) -> Strategy:
        spec, options = self._plan(study.directions)
        space = self._given_space if self._given_space is not None else space_of(search_space, name=study.study_name)
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
                if t.number != current:
                    config = self._running_config(strategy, t, names)
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
        names = self._objectives or [strategy.metric]  # the bare names: the strategy reads its outcomes by them
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


__all__ = ["MAX_GRID", "PROPOSAL_ATTR", "BOEDSampler", "space_of", "variable_of"]
