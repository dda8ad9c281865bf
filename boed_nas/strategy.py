"""The one ask/tell interface every search strategy follows.

A strategy proposes cells with ``ask(n)``, learns from ``tell(cell, outcome)``, recommends a cell
with ``recommend()``, and turns into plain JSON-able data with ``state_dict()``. The base class
owns what every strategy shares, so each subclass writes only its proposal rule:

- one seeded ``numpy.random.Generator`` (``self.rng``), saved with the state;
- the history of observations and the set of pending (asked, not yet told) cells;
- de-duplication by isomorphism class: a strategy never proposes a cell isomorphic to one
  already evaluated or pending, so a search never pays twice for the same network;
- the pending cells of a batch: ``ask(n)`` marks each proposed cell pending as soon as it is
  proposed, so the next pick of the same batch already sees it (a subclass proposes one cell at a
  time in ``_propose_one``, or a whole batch in ``_propose``, as a generator or a list);
- one seed-derivation recipe (``derived_seed``) for randomness that must not depend on ``self.rng``;
- checks on told outcomes (finite metrics, no duplicate tell) that raise before anything is
  recorded;
- checkpointing: with ``state_path`` set, the state is written after every ask and every tell,
  atomically and durably (a temporary file, fsync, rename), and ``Strategy.load(path)`` resumes
  the identical trajectory;
- all or nothing: ``ask``, ``tell``, ``forget_pending`` and ``load_state_dict`` either complete (the
  state saved, where there is a ``state_path``) or leave the strategy exactly as it was and raise.
  The base class keeps this rule, not the subclass: before each operation it takes the strategy's
  attributes and its ``state_dict()``; if the operation raises, it puts the attributes back and
  reloads that state, so whatever a subclass changed in place (a queue it popped, a report it
  appended, an outside client it advanced) is as it was. A plugin author follows no rule beyond
  saving in ``_extra_state`` what ``_load_extra_state`` needs to resume.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import registry
from .errors import ConfigError, DuplicateTellError, StateError, UnknownStrategyError
from .nb201.space import CELL_SPACE
from .outcome import Outcome
from .seeding import as_rng, derive_seed
from .spaces.fidelity import Fidelity, FidelitySpace
from .spaces.protocol import Configuration, SearchSpace, missing_hooks

STATE_VERSION = 1


@dataclass(frozen=True)
class Observation:
    cell: Configuration  # the point of the strategy's space (NB201: a Cell)
    outcome: Outcome

    def value(self, metric: str) -> float | None:
        return None if self.outcome.failed else self.outcome.metrics[metric]


def _plain_seed(seed: Any) -> int:
    """The strategy's one seed as a plain int, what its saved state holds: a numpy integer as its
    value, None as a seed drawn once now (kept, so that a resume goes on alike); a Generator is
    refused, as a state cannot hold it."""
    if seed is None:
        return secrets.randbits(32)
    if isinstance(seed, np.random.Generator):
        raise ConfigError("seed must be a non-negative integer or None, got a numpy Generator (a strategy's saved "
                          "state holds its seed; give the integer the Generator was made from)")
    as_rng(seed)  # ConfigError naming a bad seed
    return int(seed)


class Strategy:
    """Base class of all strategies. Subclasses implement ``_propose`` (and may override more).

    Parameters
    ----------
    seed:
        The one source of randomness; the same seed gives the same trajectory.
    metric:
        The metric to optimise, read from each told outcome (``"val_acc"`` for NB201).
    maximize:
        Whether larger values of ``metric`` are better.
    state_path:
        If given, the state is saved there (atomically) after every tell.
    space:
        The search space: any object following ``boed_nas.spaces.SearchSpace`` (a
        ``boed_nas.spaces.Space``, NB201's cells), ``"nb201"``, or ``"pkg.module:NAME"`` naming one.
        Default: NB201's cells. A strategy that needs a hook of the space (``requires``) is refused
        by name on a space without it.
    """

    name: ClassVar[str] = "base"
    space: SearchSpace = CELL_SPACE
    """The search space (``boed_nas.spaces.SearchSpace``): NB201's cells unless another is given."""
    requires: ClassVar[tuple[str, ...]] = ()
    """Hooks the space must provide beyond the protocol (``boed_nas.spaces.protocol.HOOKS``), e.g.
    ``("path_encoding",)``; a strategy with none searches any space."""
    fidelities: ClassVar[bool] = False
    """Whether the strategy searches over fidelities (``boed``, ``asha``, ``hyperband``): given a
    ``fidelity``, its space is ``FidelitySpace(space, fidelity)`` and it proposes ``AtFidelity``
    points; the others refuse a fidelity by name."""
    belief_columns: ClassVar[tuple[str, ...]] = ()
    """What the strategy's belief reports at each ask, as trajectory columns (``boed``: ``prob_best``,
    ``argmax_entropy``, ``information_gain``); a stop rule on another of those columns is refused."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and cls.name != "base":  # a subclass that names itself is findable by name
            registry.register(cls)

    def __init__(
        self,
        *,
        seed: int = 0,
        metric: str = "val_acc",
        maximize: bool = True,
        state_path: str | os.PathLike[str] | None = None,
        space: Any = None,
        fidelity: Any = None,
    ) -> None:
        resolved = self.space if space is None else resolve_space(space)
        if isinstance(resolved, FidelitySpace):  # a space given with its fidelity
            resolved, fidelity = resolved.base, resolved.fidelity if fidelity is None else fidelity
        fidelity = getattr(resolved, "fidelity", None) if fidelity is None else fidelity
        missing = missing_hooks(resolved, self.requires)
        if missing:
            raise ConfigError(f"strategy {self.name!r} needs the space hooks {missing}, which space {resolved.name!r} "
                              f"lacks (NB201's cells have them); the strategies that take any space are "
                              f"{registry.available(any_space=True)}")
        if not isinstance(maximize, bool):
            raise ConfigError(f"maximize must be True or False, got {maximize!r}")
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"metric must be a metric's name (a non-empty string), got {metric!r}")
        if fidelity is not None:
            if not self.fidelities:
                raise ConfigError(f"strategy {self.name!r} evaluates at one fidelity, but a fidelity {fidelity!r} was "
                                  f"given; the strategies that use fidelities are {registry.available(fidelities=True)}")
            resolved = FidelitySpace(resolved, Fidelity.parse(fidelity))
        self.space = resolved
        self.seed = _plain_seed(seed)
        self.metric = metric
        self.maximize = maximize
        self.state_path = None if state_path is None else Path(state_path)
        self.rng = as_rng(self.seed)
        self.history: list[Observation] = []
        self.pending: dict[Any, Configuration] = {}  # space key (NB201: isomorphism class) -> asked configuration
        self._seen: dict[Any, Configuration] = {}  # space key -> evaluated configuration

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able), used to rebuild the strategy from a saved state."""
        # the space as a reference resolve_space reads ("nb201", "pkg.module:NAME"; None: give space= to load)
        params = {"seed": self.seed, "metric": self.metric, "maximize": self.maximize, "space": self.space.ref}
        if isinstance(self.space, FidelitySpace):  # only then: a single-fidelity state is as it was
            params["fidelity"] = self.space.fidelity.spec
        return params

    # ------------------------------------------------------------------ ask / tell
    @property
    def remaining(self) -> int | None:
        """How many distinct configurations are neither told nor pending (None: the space is not
        enumerable, never exhausted)."""
        distinct = self.space.n_distinct
        return None if distinct is None else distinct - len(self._seen) - len(self.pending)

    def ask(self, n: int = 1) -> list[Configuration]:
        """Propose ``n`` new cells, none isomorphic to an evaluated or pending cell; they become pending.

        Each proposed cell is pending from the moment it is proposed, so later picks of the same
        batch see it; if the proposal fails part-way, the cells of this batch are pending no more.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"ask(n) needs a positive integer n, got {n!r}")
        remaining = self.remaining
        if remaining is not None and n > remaining:
            raise ConfigError(f"ask({n}) but only {remaining} unevaluated {self.space.unit} remain")
        out: list[Configuration] = []
        with self._all_or_nothing("ask"):
            for cell in self._propose(int(n)):
                key = self.space.key(cell)
                if key in self._seen or key in self.pending:
                    raise RuntimeError(f"{self.name} proposed {cell}, which is already evaluated or pending")
                if len(out) == n:
                    raise RuntimeError(f"{self.name} proposed more than {n} cells for ask({n})")
                self.pending[key] = cell
                out.append(cell)
            if len(out) != n:
                raise RuntimeError(f"{self.name} proposed {len(out)} cells for ask({n})")
            self._checkpoint("ask")
        return out

    def tell(self, cell: Configuration | str, outcome: Outcome | Mapping[str, float] | None) -> None:
        """Record the outcome of evaluating ``cell``. ``None`` or ``Outcome(failed=True)`` is a failure.

        Raises (nothing recorded) ``OutcomeError`` for NaN/inf metrics or a missing search metric,
        ``DuplicateTellError`` for a cell already told (or one isomorphic to it).
        """
        cell = self.space.parse(cell)
        checked = self.check_outcome(outcome)
        key = self.space.key(cell)
        if key in self._seen:
            raise DuplicateTellError(
                f"{cell} was already told (as {self._seen[key]}, the same cell up to isomorphism); "
                "each cell is told once"
            )
        obs = Observation(cell, checked)
        with self._all_or_nothing("tell"):
            self.history.append(obs)
            self._seen[key] = cell
            self.pending.pop(key, None)
            self._observe(obs)
            self._checkpoint("tell")

    @property
    def required_metrics(self) -> tuple[str, ...]:
        """The metrics a successful outcome must hold: the search metric (a multi-objective
        strategy adds its measured objectives)."""
        return (self.metric,)

    def check_outcome(self, outcome: Outcome | Mapping[str, float] | None) -> Outcome:
        """``outcome`` as ``tell`` would record it (``Outcome.checked`` on ``required_metrics``);
        ``OutcomeError`` (``NonFiniteMetricError`` for NaN or inf) where it cannot be told. The
        search loop calls it before it logs a result as final."""
        return Outcome.coerce(outcome).checked(self.required_metrics)

    def _checkpoint(self, operation: str) -> None:
        """Save the state to ``state_path`` (if set); a failure is a ``StateError`` naming the path."""
        if self.state_path is None:
            return
        try:
            self.save(self.state_path)
        except OSError as e:
            raise StateError(f"cannot save the strategy state to {str(self.state_path)!r} ({e}); the "
                             f"{operation} was not applied, the strategy is as it was before it") from e

    @contextlib.contextmanager
    def _all_or_nothing(self, operation: str) -> Iterator[None]:
        """Run ``operation``; if it raises, put the strategy back exactly as it was and re-raise
        (a failed save raises ``StateError`` saying so).

        Two layers, so that no subclass needs a rule of its own: the attributes are put back (an
        attribute the operation reassigned, and caches that are not part of the state), then the
        state taken before the operation is reloaded (``load_state_dict``), which rebuilds every
        saved attribute afresh, including those a subclass mutated in place. The snapshot is the
        ``state_dict()`` as its JSON text: cheap next to an ask, a copy that an in-place change cannot
        reach, and exactly what a resume would read."""
        saved_state = json.dumps(self.state_dict())
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            self.load_state_dict(json.loads(saved_state))
            raise

    def set_pending(self, cells: Iterable[Configuration | str]) -> None:
        """Make exactly ``cells`` pending (e.g. the trials an outside scheduler has running); cells
        already told are left out. Later asks propose none of them."""
        pending: dict[Any, Configuration] = {}
        for cell in map(self.space.parse, cells):
            key = self.space.key(cell)
            if key not in self._seen:
                pending.setdefault(key, cell)  # of isomorphic cells, the first stands for its class
        self.pending = pending

    def forget_pending(self, cell: Configuration | str) -> None:
        """Drop a pending cell without an outcome (an abandoned trial); it may be proposed again."""
        cell = self.space.parse(cell)
        if self.space.key(cell) not in self.pending:
            raise ConfigError(f"{cell} is not pending; pending cells are {[str(c) for c in self.pending.values()]}")
        with self._all_or_nothing("forget_pending"):
            del self.pending[self.space.key(cell)]
            self._checkpoint("forget_pending")

    def recommend(self) -> Configuration | None:
        """The cell this strategy would deploy now: by default the best observed one."""
        best = self.best_observed()
        return None if best is None else best.cell

    def best_observed(self) -> Observation | None:
        """The best successful observation (with a fidelity: the best at its target level)."""
        ok = [o for o in self.history if not o.outcome.failed]
        if isinstance(self.space, FidelitySpace):
            ok = [o for o in ok if o.cell.level == self.space.target]
        if not ok:
            return None
        sign = 1.0 if self.maximize else -1.0
        return max(ok, key=lambda o: sign * o.outcome.metrics[self.metric])

    # ------------------------------------------------------------------ for subclasses
    def _propose(self, n: int) -> Iterable[Configuration]:
        """The ``n`` cells of one ``ask``. By default one ``_propose_one(k)`` per pick ``k``, each cell
        pending before the next pick; override to propose a batch jointly (a list, or a generator)."""
        for k in range(n):
            yield self._propose_one(k)

    def _propose_one(self, k: int) -> Configuration:
        """The ``k``-th cell of the current batch (the batch's earlier cells are already pending)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither _propose_one nor _propose")

    def _observe(self, obs: Observation) -> None:
        """Update internal state after a tell (default: nothing beyond the history)."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        pass

    def is_new(self, cell: Any) -> bool:
        key = self.space.key(cell)
        return key not in self._seen and key not in self.pending

    def random_new_cell(self) -> Any:
        """A uniformly random point of the space (for NB201, over the 15,625 cells) whose key
        (isomorphism class) is neither evaluated nor pending."""
        for _ in range(10_000):
            cell = self.space.sample(self.rng)
            if self.is_new(cell):
                return cell
        everything = self.space.enumerate()
        if everything is None:
            raise ConfigError(f"no new configuration of space {self.space.name!r} in 10,000 random draws")
        free = [c for c in everything if self.is_new(c)]
        if not free:
            raise ConfigError("every configuration (isomorphism class) has been evaluated or is pending")
        return free[int(self.rng.integers(len(free)))]

    def derived_seed(self, *salt: int, bits: int = 63) -> int:
        """A seed derived from (seed, observations told, cells pending, *salt): randomness that does
        not consume ``self.rng``, so that it is the same in a resumed run (``boed_nas.seeding``)."""
        return derive_seed(self.seed, len(self.history), len(self.pending), *salt, bits=bits)

    def signed(self, obs: Observation) -> float:
        """The observation's metric, negated when minimising (so larger is always better)."""
        v = obs.outcome.metrics[self.metric]
        return v if self.maximize else -v

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": "boed-nas strategy state",
            "version": STATE_VERSION,
            "strategy": self.name,
            "params": self.get_params(),
            "rng": self.rng.bit_generator.state,
            "history": [{"cell": self.space.format(o.cell), **o.outcome.to_dict()} for o in self.history],
            "pending": [self.space.format(c) for c in self.pending.values()],
            "extra": self._extra_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from ``state_dict()`` output; StateError (state unchanged) if it does not fit."""
        try:
            if state.get("format") != "boed-nas strategy state" or state.get("version") != STATE_VERSION:
                raise StateError(
                    f"not a boed-nas strategy state of version {STATE_VERSION} "
                    f"(format={state.get('format')!r}, version={state.get('version')!r})"
                )
            if state["strategy"] != self.name:
                raise StateError(f"state is for strategy {state['strategy']!r}, not {self.name!r}")
            history = [
                Observation(self.space.parse(h["cell"]), Outcome.from_dict(h).checked(self.metric))
                for h in state["history"]
            ]
            pending = [self.space.parse(c) for c in state["pending"]]
            rng = np.random.Generator(type(self.rng.bit_generator)())
            rng.bit_generator.state = state["rng"]
        except StateError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            raise StateError(f"corrupt strategy state: {type(e).__name__}: {e}") from e
        keys = [self.space.key(obs.cell) for obs in history]
        if len(set(keys)) != len(keys):
            raise StateError("corrupt strategy state: a cell appears twice in the history")
        told_keys = set(keys)
        both = [c for c in pending if self.space.key(c) in told_keys]
        if both:
            raise StateError(f"corrupt strategy state: {self.space.format(both[0])} is both told and pending")
        extra = state.get("extra", {})
        if not isinstance(extra, Mapping):
            raise StateError(f"corrupt strategy state: 'extra' is {type(extra).__name__}, not a mapping")
        # replay the history to rebuild derived state, then restore the exact generator and the
        # extra state, so replaying (which may draw random numbers) cannot shift the trajectory
        saved = dict(self.__dict__)
        try:
            self.history, self.pending, self._seen = [], {}, {}
            for key, obs in zip(keys, history):
                self.history.append(obs)
                self._seen[key] = obs.cell
                self._observe(obs)
            self.rng = rng
            self.pending = {self.space.key(c): c for c in pending}
            self._load_extra_state(extra)
        except Exception as e:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if isinstance(e, StateError):
                raise
            raise StateError(f"corrupt strategy state ({self.name}): {type(e).__name__}: {e}") from e

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state as JSON, atomically and durably: a temporary file beside ``path``, fsync,
        rename over ``path``, fsync of the folder. A crash leaves the old file or the new one, never
        a mix; a temporary file an interrupted save left behind is removed here."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.state_dict())
        # created as open() creates files (0666 less the umask: the mode of the run's other files),
        # not by mkstemp, whose 0600 state.json alone in a run folder could not be read by others
        tmp = path.parent / f"{path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
        remove_stray_temporaries(path)

    @staticmethod
    def load(path: str | os.PathLike[str], **overrides: Any) -> Strategy:
        """Rebuild a strategy from a file written by ``save`` (any registered strategy); with
        ``overrides``, some constructor arguments replaced (e.g. ``state_path``)."""
        path = Path(path)
        remove_stray_temporaries(path)
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StateError(f"cannot read strategy state {str(path)!r}: {e}") from e
        name = state.get("strategy") if isinstance(state, dict) else None
        try:
            cls = registry.strategy_class(name) if isinstance(name, str) else None
        except (UnknownStrategyError, ConfigError):  # not a registered name, or not a NAME[...] spec at all ('[')
            cls = None
        if cls is None:
            raise StateError(f"{str(path)!r} names strategy {name!r}; expected one of {registry.available()}")
        params = state.get("params", {})
        if not isinstance(params, Mapping):
            raise StateError(f"{str(path)!r}: 'params' is {type(params).__name__}, not a mapping of settings")
        if "space" in params and params["space"] is None and overrides.get("space") is None:
            raise StateError(f"{str(path)!r} was saved from a space given as an object, without a ref; load it with "
                             "Strategy.load(path, space=SPACE) (or give the Space a ref='pkg.module:NAME')")
        try:
            strategy = cls(**{**params, **overrides})
        except (TypeError, ValueError) as e:
            raise StateError(f"{str(path)!r}: its settings do not build a {name!r} strategy: {e}") from e
        strategy.load_state_dict(state)
        return strategy


def resolve_space(space: Any) -> SearchSpace:
    """A strategy's ``space`` argument as a space: an object following ``SearchSpace`` as it is,
    ``"nb201"`` as NB201's cells, ``"pkg.module:NAME"`` imported (``boed_nas.spaces.load_space``)."""
    from .spaces.base import load_space

    if isinstance(space, str):
        return CELL_SPACE if space.strip().lower() == "nb201" else load_space(space)
    if isinstance(space, SearchSpace):
        return space
    missing = [m for m in ("name", "ref", "unit", "enumerable", "n_distinct", "parse", "key", "format", "indices",
                           "sample", "enumerate", "neighbours", "mutate", "costs") if not hasattr(space, m)]
    raise ConfigError(f"space must follow boed_nas.spaces.SearchSpace (a Space, 'nb201' or 'pkg.module:NAME'), got "
                      f"{space!r}" + (f", which lacks {missing}" if missing else ""))


def remove_stray_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files an interrupted ``save`` of ``path`` left beside it; the removed paths."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stray = list(path.parent.glob(glob.escape(path.name) + ".*.tmp"))
    for p in stray:
        p.unlink(missing_ok=True)
    return stray


def _fsync_folder(folder: Path) -> None:
    # so the rename itself survives a power loss (POSIX); not possible everywhere (e.g. Windows)
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

