"""Ax integration: NB201 as an Ax experiment, and the BOED controller as an Ax generation node.

Keep your Ax service loop and let boed-nas choose the trials::

    from ax.api.client import Client
    from boed_nas.integrations.ax import boed_generation_strategy, cell_of, configure_nb201

    client = Client()
    configure_nb201(client, objective="val_acc")              # six choice parameters, one per edge
    strategy = boed_generation_strategy(seed=0)               # the node's own start, then its GP
    client.set_generation_strategy(strategy)
    for _ in range(50):
        for index, parameters in client.get_next_trials(max_trials=1).items():
            cell = cell_of(parameters)                         # a boed_nas Cell; str(cell) is the arch string
            client.complete_trial(index, raw_data={"val_acc": train_and_validate(cell)})
            # or client.mark_trial_failed(index) / mark_trial_abandoned(index): a failure for BOED

    client.save_to_json_file("run.json")                      # Ax's JSON storage, BOED node included
    client = Client.load_from_json_file("run.json")           # (after ``import boed_nas.integrations.ax``)

What the node does on every ``get_next_trials``: it tells the controller the trials that reached a
terminal state since the last call (completed ones with their objective value and nothing else;
failed, abandoned, early-stopped ones, and completed ones without the objective, as failures),
marks every pending Ax trial pending in the controller (so a batch gets diverse cells), and asks
the controller for the next cell. Trials isomorphic to an earlier one are not told twice: the
controller keeps the first. Randomness lives in the controller (its own generator, seeded by
``seed``), so Ax's ``Client(random_seed=...)`` reseeding the global generators changes nothing.

Persistence: importing this module registers the node with Ax's JSON encoder and decoder
registries (one added entry each; Ax's core registries are closed to custom classes otherwise,
and a ``StorageConfig`` registry bundle would require a SQL database). The node is saved with the
controller's full state (history, generator, fitted GP hyperparameters), so a loaded loop proposes
exactly what the uninterrupted loop would have. A node built afresh on an existing experiment
(``set_generation_strategy`` after loading an experiment without it) rebuilds the controller by
replaying the experiment's trials.

This module imports Ax (several seconds); nothing else in boed-nas imports it at module level.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from ax.adapter.base import Adapter
from ax.core.arm import Arm
from ax.core.data import Data
from ax.core.experiment import Experiment
from ax.core.generator_run import GeneratorRun
from ax.core.observation import ObservationData
from ax.generators.base import Generator
from ax.generation_strategy.external_generation_node import ExternalGenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.storage.json_store.registry import (
    CORE_CLASS_DECODER_REGISTRY,
    CORE_DECODER_REGISTRY,
    CORE_ENCODER_REGISTRY,
)

from ..bo.controller import BOEDController
from ..errors import ConfigError, SpaceError
from ..outcome import Outcome
from ..nb201.space import CELL_SPACE, EDGE_PARAMETERS, OPS, Cell
from .. import registry
from ..strategy import resolve_space
from ..spaces.base import Categorical, Integer, Ordered, Space
from ..spaces.fidelity import Fidelity, FidelitySpace
from ..spaces.protocol import cost_names

PARAMETER_NAMES: tuple[str, ...] = EDGE_PARAMETERS
"""The six Ax parameter names, in the edge order of the official arch string (``edge_0_to_1``
is the first edge, node 0 to node 1); each takes one of the op names in ``boed_nas.nb201.space.OPS``."""

DEFAULT_NODE_NAME = "BOED"

_NOISY_MODULES = r"(ax|pandas|botorch|gpytorch|linear_operator|pyro)(\.|$)"


# ---------------------------------------------------------------------------------- quiet calls
@contextlib.contextmanager
def quiet_ax(level: int = logging.WARNING) -> Iterator[None]:
    """Silence Ax's known noise for the duration of a call the library makes on the user's behalf.

    Ax's own stream handler (``ax.utils.common.logger.ROOT_STREAM_HANDLER``, INFO by default) is
    raised to ``level``, and deprecation/future warnings and GP jitter warnings *issued from Ax,
    pandas, botorch, gpytorch or linear_operator* are ignored. Both are restored on exit, and
    warnings raised by any other module (the user's code) pass through untouched.
    """
    from ax.utils.common.logger import ROOT_STREAM_HANDLER

    previous = ROOT_STREAM_HANDLER.level
    ROOT_STREAM_HANDLER.setLevel(max(previous, level))
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=_NOISY_MODULES)
            # "A not p.d., added jitter of 1e-08 to the diagonal" while Ax fits its GP
            warnings.filterwarnings("ignore", message=r"A not p\.d\., added jitter", module=_NOISY_MODULES)
            yield
    finally:
        ROOT_STREAM_HANDLER.setLevel(previous)


# ---------------------------------------------------------------------------------- the space
def nb201_parameters() -> list[Any]:
    """The NB201 space as Ax ``ChoiceParameterConfig``s: one unordered choice over the five op
    names per edge (``PARAMETER_NAMES``)."""
    from ax.api.configs import ChoiceParameterConfig

    return [ChoiceParameterConfig(name=n, values=list(OPS), parameter_type="str", is_ordered=False)
            for n in PARAMETER_NAMES]


def ax_parameters(space: Space, *, node_keeps_constraint: bool = False) -> list[Any]:
    """A ``boed_nas.spaces.Space`` as Ax ``ChoiceParameterConfig``s (categorical: unordered,
    ordered: ordered), for ``client.configure_experiment(parameters=...)``; ``space_of`` reads them
    back. A ``Space`` constraint is a function, and Ax takes linear parameter constraints only
    (``configure_experiment(parameter_constraints=["a + b <= 8"])``, which the node reads), so a
    space with a constraint is refused unless ``node_keeps_constraint=True``: the BOED node is
    given the same space (``boed_generation_strategy(space=space)``) and never proposes a
    configuration that breaks it, while Ax itself does not know the constraint (its own
    generation nodes, Sobol say, would not keep to it)."""
    from ax.api.configs import ChoiceParameterConfig

    if space.constraint is not None and not node_keeps_constraint:
        raise ConfigError(f"space {space.name!r} has a constraint, a function Ax cannot take; write it as linear "
                          "parameter constraints (configure_experiment(parameter_constraints=[...]), which the BOED "
                          "node reads), give the node the space (boed_generation_strategy(space=...)) and pass "
                          "node_keeps_constraint=True, or search the space with run_objective")
    return [ChoiceParameterConfig(name=v.name, values=list(v.values), parameter_type=_value_type(v.name, v.values),
                                  is_ordered=isinstance(v, Ordered)) for v in space.variables]


def _value_type(name: str, values: Sequence[Any]) -> str:
    """The one Ax parameter type of ``values`` ("bool", "int", "float" or "str")."""
    kinds = {"bool" if isinstance(x, bool) else "int" if isinstance(x, int) else "float" if isinstance(x, float)
             else "str" if isinstance(x, str) else type(x).__name__ for x in values}
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if len(kinds) != 1 or not kinds <= {"bool", "int", "float", "str"}:
        raise ConfigError(f"variable {name!r} mixes value types {sorted(kinds)}; an Ax choice parameter takes one")
    return kinds.pop()


def ax_search_space(space: Space, *, fidelity: Fidelity | str | None = None,
                    node_keeps_constraint: bool = False) -> Any:
    """A ``boed_nas.spaces.Space`` as an Ax core ``SearchSpace`` (``ax_parameters``' choices), with
    ``fidelity`` (``"epochs=1,2,4,8"``, or the space's own ``fidelity``) as one more ordered choice
    marked ``is_fidelity=True`` with its ``target_value``: Ax's own way of saying that a parameter
    is a cheaper evaluation of the same configuration. Ax's ``configure_experiment`` takes no
    fidelity parameter, so give it as a core experiment::

        client.set_experiment(Experiment(search_space=ax_search_space(space, fidelity="epochs=1,2,4,8"), name="mine"))
        client.configure_optimization(objective="val_acc")
        client.set_generation_strategy(boed_generation_strategy(seed=0))

    The BOED node then searches over (configuration, level): each trial's parameters carry the
    level it is to be evaluated at, and its best-point answer is always at the target level."""
    from ax.api.configs import ChoiceParameterConfig
    from ax.api.utils.instantiation.from_config import parameter_from_config
    from ax.core.parameter import ChoiceParameter
    from ax.core.search_space import SearchSpace

    # the parameters configure_experiment(parameters=ax_parameters(space)) would make, by Ax's own converter
    params = [parameter_from_config(c) for c in ax_parameters(space, node_keeps_constraint=node_keeps_constraint)]
    fidelity = getattr(space, "fidelity", None) if fidelity is None else fidelity
    if fidelity is not None:
        f = Fidelity.parse(fidelity)
        if f.name in space.names:
            raise ConfigError(f"fidelity {f.name!r} has the name of one of the space's variables {space.names}")
        kind = _value_type(f.name, f.levels)
        numeric = kind in ("int", "float")
        if numeric and list(f.levels) != sorted(f.levels):
            raise ConfigError(f"fidelity {f.spec!r}: Ax sorts a numeric parameter's values, so give its levels in "
                              "increasing order (cheapest first)")
        # Ax's configs take no fidelity: its converter gives the parameter type, the core class the flag
        typed = parameter_from_config(ChoiceParameterConfig(name=f.name, values=list(f.levels), parameter_type=kind,
                                                            is_ordered=True))
        params.append(ChoiceParameter(f.name, typed.parameter_type, list(f.levels), is_ordered=True, sort_values=numeric,
                                      is_fidelity=True, target_value=f.target))
    return SearchSpace(parameters=params)


def parameters_of(cell: Cell | str | int) -> dict[str, str]:
    """The Ax parameterisation of a cell (a Cell, an arch string or a code): ``CELL_SPACE.to_parameters``."""
    return CELL_SPACE.to_parameters(Cell.parse(cell))


def cell_of(parameterization: Mapping[str, Any]) -> Cell:
    """The cell of an Ax parameterisation (``CELL_SPACE.from_parameters``); SpaceError naming what is
    outside the NB201 space."""
    if not isinstance(parameterization, Mapping):
        raise ConfigError(f"an Ax parameterisation is a mapping of parameter name -> op name, got {parameterization!r}")
    return CELL_SPACE.from_parameters(parameterization)


def _objective_string(objective: str | Sequence[str]) -> str:
    if isinstance(objective, str):
        parts = [p.strip() for p in objective.split(",")]
    else:
        parts = [str(p).strip() for p in objective]
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ConfigError(
            f"objective {objective!r}: expected one or two metric names, e.g. 'val_acc' or "
            "['val_acc', '-latency'] ('-' to minimise)"
        )
    return ", ".join(parts)


def configure_nb201(client: Any, objective: str | Sequence[str] = "val_acc", *, name: str = "nb201") -> None:
    """Configure an Ax ``Client`` with the NB201 space and one or two objectives.

    ``objective`` is Ax's objective syntax: ``"val_acc"`` (maximise), ``"-latency"`` (minimise),
    or two of them (``["val_acc", "-latency"]`` or ``"val_acc, -latency"``) for a Pareto front.
    """
    objective = _objective_string(objective)
    with quiet_ax():
        client.configure_experiment(parameters=nb201_parameters(), name=name)
        client.configure_optimization(objective=objective)


def _label(experiment: Experiment) -> str:
    name = getattr(experiment, "_name", None)  # Experiment.name raises when unset
    return f"experiment {name!r}" if name else "the experiment"


def check_search_space(experiment: Experiment) -> None:
    """SpaceError unless the experiment's search space is the NB201 space of ``nb201_parameters``."""
    params = experiment.search_space.parameters
    if set(params) != set(PARAMETER_NAMES):
        raise ConfigError(
            f"{_label(experiment)} has parameters {sorted(params)}; the BOED node needs the NB201 "
            f"space {list(PARAMETER_NAMES)} (configure it with boed_nas.integrations.ax.configure_nb201)"
        )
    for n in PARAMETER_NAMES:
        values = getattr(params[n], "values", None)
        if values is None or set(values) != set(OPS):
            raise ConfigError(f"parameter {n!r} has values {values!r}; the NB201 space has exactly {list(OPS)}")


class AxConstraints:
    """An Ax experiment's parameter constraints (linear inequalities ``sum_i w_i x_i <= b``, or
    equalities, on numeric parameters) as a ``Space`` constraint: a configuration is valid when
    every one holds, checked by Ax's own ``ParameterConstraint.check``. ``doc`` is the constraints as
    plain data, so a saved node rebuilds its space without the experiment."""

    def __init__(self, constraints: Sequence[Mapping[str, Any]]):
        from ax.core.parameter_constraint import ParameterConstraint

        self.doc = [{"weights": {str(k): float(w) for k, w in c["weights"].items()}, "bound": float(c["bound"]),
                     "equality": bool(c.get("equality", False))} for c in constraints]
        self._checks = []
        for c in self.doc:
            lhs = " + ".join(f"{w!r} * {k}" for k, w in c["weights"].items())
            text = f"{lhs} {'==' if c['equality'] else '<='} {c['bound']!r}"
            self._checks.append(ParameterConstraint(equality=text) if c["equality"] else ParameterConstraint(text))

    @classmethod
    def of(cls, experiment: Experiment) -> AxConstraints | None:
        found = experiment.search_space.parameter_constraints
        if not found:
            return None
        return cls([{"weights": dict(c.constraint_dict), "bound": c.bound, "equality": c.is_equality} for c in found])

    def __call__(self, config: Mapping[str, Any]) -> bool:
        return all(c.check({k: config[k] for k in c.constraint_dict}) for c in self._checks)

    def __repr__(self) -> str:
        return f"AxConstraints({self.doc!r})"


def space_of(experiment: Experiment) -> Any:
    """The boed-nas space of an Ax experiment: NB201's cells (``CELL_SPACE``) for the six edge
    parameters of ``nb201_parameters``, else a ``boed_nas.spaces.Space`` of its parameters: an
    unordered choice is categorical, an ordered numeric choice ordered, an integer range the
    ordered integers (its log scale ignored: the GP reads the grid position), a fixed parameter a
    one-value choice. Float ranges are refused (ConfigError): the node scores a finite set of
    configurations. The experiment's parameter constraints (``"depth + stages <= 8"``) become the
    space's constraint (``AxConstraints``): the node never proposes a configuration that breaks one."""
    params = dict(experiment.search_space.parameters)
    fidelities = [name for name, p in params.items() if getattr(p, "is_fidelity", False)]
    if len(fidelities) > 1:
        raise ConfigError(f"{_label(experiment)} marks {fidelities} as fidelities; the BOED node takes one")
    if fidelities:
        return FidelitySpace(_base_space_of(experiment, {n: p for n, p in params.items() if n != fidelities[0]}),
                             _fidelity_of(experiment, params[fidelities[0]]))
    return _base_space_of(experiment, params)


def _fidelity_of(experiment: Experiment, p: Any) -> Fidelity:
    """An Ax fidelity parameter (``is_fidelity=True``, ``target_value``) as a ``Fidelity``: the levels of an
    ordered choice in their order, or every value of an integer range (at most 16); relative costs
    the levels' values over the target's (``Fidelity``'s default for positive numbers)."""
    from ax.core.parameter import ChoiceParameter, ParameterType, RangeParameter

    if isinstance(p, ChoiceParameter) and (p.is_ordered or len(p.values) == 2):
        levels = list(p.values)
    elif isinstance(p, RangeParameter) and p.parameter_type == ParameterType.INT and p.upper - p.lower < 16:
        levels = list(range(int(p.lower), int(p.upper) + 1))
    else:
        raise ConfigError(f"fidelity parameter {p.name!r} of {_label(experiment)} must be an ordered choice of its levels, "
                          "cheapest first (or an integer range of at most 16 values), e.g. "
                          "ChoiceParameter('epochs', ParameterType.INT, [1, 2, 4, 8], is_ordered=True, is_fidelity=True, "
                          "target_value=8)")
    return Fidelity(p.name, levels, target=p.target_value)


def _base_space_of(experiment: Experiment, params: Mapping[str, Any]) -> Any:
    from ax.core.parameter import ChoiceParameter, FixedParameter, ParameterType, RangeParameter

    if set(params) == set(PARAMETER_NAMES):
        check_search_space(experiment)
        return CELL_SPACE
    variables = []
    for name, p in params.items():
        if isinstance(p, ChoiceParameter):
            values = list(p.values)
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            variables.append(Ordered(name, values) if p.is_ordered and numeric else Categorical(name, values))
        elif isinstance(p, RangeParameter) and p.parameter_type == ParameterType.INT:
            variables.append(Integer(name, int(p.lower), int(p.upper)))
        elif isinstance(p, FixedParameter):
            variables.append(Categorical(name, [p.value]))
        else:
            raise ConfigError(f"parameter {name!r} of {_label(experiment)} is a float range; the BOED node scores a "
                              "finite set of configurations: make it a choice parameter of the values to try")
    space = Space(variables, constraint=AxConstraints.of(experiment), name=getattr(experiment, "_name", None) or "ax")
    if space.constraint is not None and space.enumerable:
        try:
            space.enumerate()
        except SpaceError:
            raise ConfigError(f"no configuration of {_label(experiment)} satisfies its parameter constraints "
                              f"{space.constraint.doc}") from None
    return space


def _space_doc(space: Any) -> dict[str, Any] | None:
    """A node's space as data: its variables and, from an Ax experiment, its parameter constraints;
    None for a space rebuilt from its ref alone (NB201's cells)."""
    if isinstance(space, FidelitySpace):
        return {"base": _space_doc(space.base), "fidelity": space.fidelity.spec}
    doc = space.to_dict()
    if "variables" not in doc:
        return None
    if isinstance(space.constraint, AxConstraints):
        doc = {**doc, "constrained": False, "ax_constraints": space.constraint.doc}
    return doc


def _searched(space: Any) -> tuple[Any, Any]:
    """What must not change under a node: the variables (or the ref of a space without) and the Ax
    parameter constraints."""
    if isinstance(space, FidelitySpace):
        return (_searched(space.base), space.fidelity.spec)
    doc = _space_doc(space)
    return (space.ref, None) if doc is None else (doc["variables"], doc.get("ax_constraints"))


def _space_from_doc(doc: Mapping[str, Any]) -> Any:
    if "fidelity" in doc:
        return FidelitySpace(CELL_SPACE if doc["base"] is None else _space_from_doc(doc["base"]), doc["fidelity"])
    space = Space.from_dict({k: v for k, v in doc.items() if k != "ax_constraints"})
    if doc.get("ax_constraints"):
        space = Space(space.variables, constraint=AxConstraints(doc["ax_constraints"]), name=space.name, ref=space.ref)
    return space


def objective_of(experiment: Experiment, metric_name: str | None = None) -> tuple[str, bool]:
    """(metric name, maximise?) of the experiment's objective that the controller optimises.

    With two objectives, ``metric_name`` picks one (the controller optimises a single metric);
    scalarised objectives and outcome constraints are refused (ConfigError).
    """
    config = experiment.optimization_config
    if config is None:
        raise ConfigError(f"{_label(experiment)} has no objective; call client.configure_optimization first")
    if config.outcome_constraints:
        raise ConfigError(
            f"the BOED node optimises one objective without outcome constraints; {_label(experiment)} "
            f"has constraints {[str(c) for c in config.outcome_constraints]}"
        )
    objective = config.objective
    if objective.is_scalarized_objective:
        raise ConfigError(f"the BOED node optimises one metric; a scalarised objective ({objective}) is not supported")
    name_of = {sig: name for name, sig in objective.metric_name_to_signature.items()}
    directions = {name_of.get(sig, sig): weight > 0 for sig, weight in objective.metric_weights}
    if metric_name is None:
        if len(directions) != 1:
            raise ConfigError(
                f"{_label(experiment)} has objectives {list(directions)}; the BOED node optimises one: "
                "pass metric_name=... to boed_generation_strategy / BOEDGenerationNode"
            )
        metric_name = next(iter(directions))
    if metric_name not in directions:
        raise ConfigError(f"metric_name {metric_name!r} is not an objective of {_label(experiment)}: {list(directions)}")
    return metric_name, directions[metric_name]


# ---------------------------------------------------------------------------------- the node
class BeliefAdapter(Adapter):
    """The BOED node's belief as an Ax ``Adapter``: what Ax's analyses (``client.compute_analyses()``:
    the model's predictions of each arm, its cross-validated fit) read, answered by the
    controller's GP (``BOEDController.predict``, in the objective's units) and not by a second
    model of Ax's. Cross-validation refits a fresh controller (same settings and seed) on each
    fold's training arms. It predicts the objective only; it proposes nothing (the node does)."""

    def __init__(self, node: BOEDGenerationNode, experiment: Experiment, data: Data | None = None) -> None:
        self.node = node
        # Ax's own data extraction and bookkeeping (training data, outcomes, model space); the fit is
        # the controller's, already told by the node
        super().__init__(experiment=experiment, generator=Generator(), data=data, fit_on_init=False)

    @property
    def can_predict(self) -> bool:
        return True

    @property
    def can_model_in_sample(self) -> bool:
        return True

    def _observations(self, controller: BOEDController, features: Sequence[Any]) -> list[ObservationData]:
        metric = controller.metric
        configs = [self.node._to_point(f.parameters) for f in features]
        predicted = controller.predict(configs)
        if predicted is None:
            raise ConfigError("the BOED node's belief has fewer than two successful trials to predict from")
        mean, sd = predicted
        # a Pareto node's known costs are what the space says, exactly
        costs = [o for o in (self.node.objectives or []) if o != metric]
        out = []
        for config, m, s in zip(configs, mean, sd):
            known = self.node.space.costs(config) if costs else {}
            out.append(ObservationData(metric_signatures=[metric, *costs], means=np.array([m, *(known[c] for c in costs)]),
                                       covariance=np.diag([s * s] + [0.0] * len(costs))))
        return out

    def _predict(self, observation_features: list[Any], use_posterior_predictive: bool = False) -> list[ObservationData]:
        return self._observations(self.node.controller, observation_features)

    def _cross_validate(self, search_space: Any, cv_training_data: Any, cv_test_points: list[Any],
                        use_posterior_predictive: bool = False) -> list[ObservationData]:
        node, metric = self.node, self.node.controller.metric
        fold = node._new_controller(node.space, node.controller.maximize)
        fold.metric, fold.maximize = metric, node.controller.maximize
        means = cv_training_data.observation_data["mean"]
        names = [n for n in cv_training_data.arm_data.columns if n != "metadata"]
        for key, row in cv_training_data.arm_data.iterrows():
            value = means.loc[key, metric] if metric in means.columns and key in means.index else None
            config = node._to_point({n: row[n] for n in names})
            if fold.is_new(config) and value is not None and math.isfinite(float(value)):
                fold.tell(config, {metric: float(value)})
        return self._observations(fold, cv_test_points)


def _trial_seconds(trial: Any) -> float:
    """The seconds an Ax trial ran (from marked running to completed); 0 where Ax has no times."""
    started, completed = getattr(trial, "time_run_started", None), getattr(trial, "time_completed", None)
    if started is None or completed is None:
        return 0.0
    seconds = (completed - started).total_seconds()
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


class BOEDGenerationNode(ExternalGenerationNode):
    """The BOED controller (``boed_nas.bo.controller.BOEDController``) as an Ax generation node.

    Parameters
    ----------
    name:
        The node's name in the ``GenerationStrategy`` (and the ``generation_node`` of its trials).
    seed:
        The controller's seed; its own generators, independent of Ax's global reseeding.
    metric_name:
        Which objective the controller optimises; needed only when the experiment has two.
    transition_criteria:
        Ax transition criteria (none: this node generates every remaining trial).
    state:
        Internal: the saved state restored by Ax's JSON decoder.
    space:
        A boed-nas space whose variables are the experiment's parameters (``ax_parameters(space)``):
        its constraint (any function, beyond Ax's linear constraints), known costs and key apply.
        Give it a ``ref`` ("pkg.module:NAME") for Ax's JSON storage. Default: the experiment's
        parameters read as a space (``space_of``).
    objectives:
        A Pareto search (``boed-mo``): the measured metric and known costs of ``space``, e.g.
        ``"val_acc,flops"``, for an experiment with those objectives (``"val_acc, -flops"``; the
        costs are read from the space, not learned). Ax's ``get_pareto_frontier()`` answers it.
    **controller_kwargs:
        Passed to ``BOEDController`` (``kernel``, ``acquisition``, ``n_init``, ...).
    """

    def __init__(
        self,
        name: str = DEFAULT_NODE_NAME,
        *,
        seed: int = 0,
        metric_name: str | None = None,
        transition_criteria: Sequence[Any] | None = None,
        previous_node_name: str | None = None,
        state: Mapping[str, Any] | None = None,
        space: Any = None,
        objectives: str | Sequence[str] | None = None,
        **controller_kwargs: Any,
    ) -> None:
        for reserved in ("metric", "maximize", "state_path"):
            if reserved in controller_kwargs:
                raise ConfigError(
                    f"{reserved!r} is set by the node (from the experiment's objective), not passed in; "
                    "use metric_name to pick one of two objectives"
                )
        super().__init__(name=name, transition_criteria=transition_criteria)
        # a failed proposal must surface, not be replaced silently by Ax's Sobol fallback
        self.fallback_specs = {}
        self._previous_node_name = previous_node_name
        self.seed = seed
        self.metric_name = metric_name
        self.controller_kwargs = dict(controller_kwargs)
        # a space given with the node (its costs, constraint and key apply; Ax's parameters must be
        # its variables), and for a Pareto search the objectives: the measured metric and known costs
        self.given_space = None if space is None else resolve_space(space)
        if isinstance(objectives, str):
            objectives = [o.strip() for o in objectives.split(",") if o.strip()]
        self.objectives = None if objectives is None else list(objectives)
        if self.objectives is not None:
            if self.given_space is None or not getattr(self.given_space, "variables", None):
                raise ConfigError("a Pareto search through Ax needs the space with its known costs: "
                                  "boed_generation_strategy(space=SPACE, objectives='val_acc,flops'), SPACE a "
                                  "boed_nas.spaces.Space with costs (and a ref, for Ax's JSON storage)")
            if metric_name is not None:
                raise ConfigError("give objectives= or metric_name=, not both: the objectives name the measured metric")
        self.space: Any = self.given_space if self.given_space is not None else CELL_SPACE  # the experiment's, once seen
        self.controller = self._new_controller(self.space)  # validates the settings now
        self._bound = False  # controller.metric / maximize set from the experiment's objective
        self._told: set[int] = set()  # Ax trial indices already told (terminal)
        self._experiment_seen: Experiment | None = None  # the experiment of the last update, for the analyses' adapter
        self._adapter: tuple[Any, Adapter] | None = None  # (history size, or the random one's key; adapter) for Ax's analyses
        if state is not None:
            self._restore(state)

    # ---- state ----------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """JSON-able state: the controller's full state and which Ax trials it has been told."""
        return {"controller": self.controller.state_dict() if self._bound else None,
                "told_trials": sorted(self._told),
                "space": None if self.given_space is not None else _space_doc(self.space)}

    def _restore(self, state: Mapping[str, Any]) -> None:
        saved = state.get("controller")
        if state.get("space") is not None:
            self.space = _space_from_doc(state["space"])
        if saved is not None:
            params = dict(saved["params"])
            params["space"] = self.space
            self.controller = registry.strategy_class(saved["strategy"])(**params)
            self.controller.load_state_dict(saved)
            self.space = self.controller.space  # with its fidelity, where it searches one
            self._bound = True
        self._told = {int(i) for i in state.get("told_trials", [])}

    @property
    def pareto(self) -> bool:
        """Whether the node runs the Pareto search (``objectives`` given)."""
        return self.objectives is not None

    def measured_metric(self) -> str | None:
        """The Pareto search's measured objective: the one of ``objectives`` that is not a known cost."""
        if not self.pareto:
            return None
        costs = cost_names(self.given_space)
        measured = [o for o in self.objectives if o not in costs]
        if len(measured) != 1:
            raise ConfigError(f"objectives {self.objectives} must name one measured metric and known costs of space "
                              f"{self.given_space.name!r} (its costs: {costs}); they name {len(measured)} measured")
        return measured[0]

    def _new_controller(self, space: Any, maximize: bool = True) -> BOEDController:
        if self.pareto:
            from ..mo.controller import MultiObjectiveBOED

            registry.check_settings(MultiObjectiveBOED, self.controller_kwargs)  # a misspelt one: ConfigError, not TypeError
            return MultiObjectiveBOED(seed=self.seed, space=space, objectives=",".join(self.objectives),
                                      metric=self.measured_metric(), maximize=maximize, **self.controller_kwargs)
        registry.check_settings(BOEDController, self.controller_kwargs)  # a misspelt one: ConfigError, not TypeError
        if isinstance(space, FidelitySpace):
            if self.pareto:
                raise ConfigError("the Pareto search takes no fidelity; remove the experiment's is_fidelity parameter")
            kwargs = {k: v for k, v in self.controller_kwargs.items() if k != "fidelity"}
            return BOEDController(seed=self.seed, space=space.base, fidelity=space.fidelity, **kwargs)
        return BOEDController(seed=self.seed, space=space, **self.controller_kwargs)

    def _to_point(self, parameters: Mapping[str, Any]) -> Any:
        return self.space.from_parameters(parameters)

    def _to_parameters(self, point: Any) -> dict[str, Any]:
        return self.space.to_parameters(point)

    def _with_costs(self, space: Any) -> Any:
        """``space``, its fidelity's target and costs from the node's ``fidelity=`` where given (Ax's
        parameter says only the levels and the target)."""
        given = self.controller_kwargs.get("fidelity")
        if given is None:
            return space
        f = Fidelity.parse(given)
        if not isinstance(space, FidelitySpace):
            raise ConfigError(f"the node was given fidelity={f.spec!r}, but the experiment has no parameter with "
                              "is_fidelity=True; add one (ax_search_space(space, fidelity=...))")
        if f.name != space.fidelity.name or [str(v) for v in f.levels] != [str(v) for v in space.fidelity.levels]:
            raise ConfigError(f"the node's fidelity={f.spec!r} is not the experiment's fidelity parameter "
                              f"{space.fidelity.spec!r} (the same name and levels, cheapest first)")
        return FidelitySpace(space.base, f)

    def _bind(self, metric: str, maximize: bool, space: Any) -> None:
        space = self._with_costs(space)
        if self.given_space is not None:
            searched = space.base if isinstance(space, FidelitySpace) else space
            names = [(v.name, list(v.values)) for v in getattr(searched, "variables", [])]
            if names != [(v.name, list(v.values)) for v in self.given_space.variables]:
                raise ConfigError(f"the experiment's parameters {[n for n, _ in names]} are not the variables of the "
                                  f"node's space {self.given_space.name!r} ({self.given_space.names}) with the same "
                                  "values; configure the experiment with ax_parameters(space)")
            space = (FidelitySpace(self.given_space, space.fidelity) if isinstance(space, FidelitySpace)
                     else self.given_space)
            if self.pareto and not self._bound:
                self.controller = self._new_controller(space, maximize)
        if not self._bound and _searched(space) != _searched(self.space):  # not the space it was built on
            self.controller = self._new_controller(space)
            self.space = space
        elif _searched(space) != _searched(self.space):
            raise ConfigError("the experiment's search space is not the one this BOED node has been searching; "
                              "build a new node")
        c = self.controller
        if not self._bound:
            c.metric, c.maximize, self._bound = metric, maximize, True
        elif (c.metric, c.maximize) != (metric, maximize):
            raise ConfigError(
                f"the experiment's objective is now {'max' if maximize else 'min'}imise {metric!r}, but this BOED "
                f"node has been optimising ({'max' if c.maximize else 'min'}imise {c.metric!r}); build a new node"
            )

    # ---- Ax hooks -------------------------------------------------------------------------------
    def update_generator_state(self, experiment: Experiment, data: Data) -> None:
        """Tell the controller every trial that reached a terminal state since the last call."""
        with quiet_ax():
            self._experiment_seen = experiment
            space = space_of(experiment)
            metric, maximize = objective_of(experiment, self.measured_metric() if self.pareto else self.metric_name)
            self._bind(metric, maximize, space)
            ctl = self.controller
            ctl.set_pending([])
            values = _objective_values(data, metric)
            for index in sorted(experiment.trials):
                trial = experiment.trials[index]
                if index in self._told or not trial.status.is_terminal:
                    continue
                for arm in trial.arms:
                    try:
                        cell = self._to_point(arm.parameters)
                    except SpaceError as e:  # a trial the node did not propose (Sobol's, attached by hand)
                        logging.getLogger(__name__).warning("trial %d is outside the space the BOED node searches "
                                                            "and is not told to it: %s", index, e)
                        continue
                    if not ctl.is_new(cell):
                        continue  # isomorphic to a trial already told: the controller keeps the first
                    value = values.get((index, arm.name)) if trial.status.is_completed else None
                    if value is not None and not math.isfinite(value):
                        logging.getLogger(__name__).warning(
                            "trial %d reported %s = %r; the BOED node counts it as a failure", index, metric, value)
                        value = None
                    # only the objective reaches the controller, and what the trial took (a fidelity's
                    # learned costs read it): nothing else of the trial's data
                    ctl.tell(cell, None if value is None else Outcome(metrics={metric: value}, cost=_trial_seconds(trial)))
                self._told.add(index)

    def get_next_candidate(self, pending_parameters: list[Any]) -> dict[str, str]:
        """The controller's next cell, with every pending Ax trial (and this batch) pending in it."""
        if not self._bound:
            raise RuntimeError("get_next_candidate before update_generator_state: the node has not seen the experiment")
        with quiet_ax():
            ctl = self.controller
            ctl.set_pending(self._to_point(p) for p in pending_parameters)
            (cell,) = ctl.ask(1)
            return self._to_parameters(cell)

    def _gen(self, experiment: Experiment, data: Data | None = None, n: int | None = None,
             pending_observations: Any = None, **kwargs: Any) -> Any:
        fixed = kwargs.get("fixed_features")
        if fixed is not None and getattr(fixed, "parameters", None):
            raise ConfigError(
                f"the BOED node proposes whole cells; fixed_parameters {fixed.parameters!r} are not supported"
            )
        run = super()._gen(experiment=experiment, data=data, n=n, pending_observations=pending_observations,
                           **kwargs)
        best = self.best_arm_prediction()
        if best is None:
            return run
        # the controller's recommendation rides on the generator run: what Ax's best-point query
        # (client.get_best_parameterization()) reads from a node without a TorchAdapter
        return GeneratorRun(arms=run.arms, weights=run.weights, best_arm_predictions=best, fit_time=run.fit_time,
                            gen_time=run.gen_time, generator_key=self.name)

    def best_arm_prediction(self) -> tuple[Arm, Any] | None:
        """(the recommended arm, ({metric: mean}, {metric: {metric: variance}})) by the belief; None
        before it has two successes (Ax then answers with the best observed trial)."""
        ctl = self.controller
        if self.pareto or not self._can_predict():
            return None  # a Pareto search has a front, not one best (Ax's get_pareto_frontier)
        config = ctl.recommend()
        predicted = None if config is None else ctl.predict([config])
        if predicted is None:
            return None
        (mean,), (sd,) = predicted
        metric = ctl.metric
        arm = Arm(parameters=self._to_parameters(config))
        if self._experiment_seen is not None:  # the experiment's own arm (its name too): how Ax finds its trial
            arm = self._experiment_seen.arms_by_signature.get(arm.signature, arm)
        return arm, ({metric: float(mean)}, {metric: {metric: float(sd * sd)}})

    def _can_predict(self) -> bool:
        """Whether the controller's GP has what it is fitted to: two successes of the bound objective."""
        return self._bound and len(self.controller._successes()) >= 2

    @property
    def _fitted_adapter(self) -> Adapter | None:  # Ax's hook: what its analyses predict with
        experiment = self._experiment_seen
        if experiment is None:
            return None
        if not self._can_predict() or len(self.controller._successes()) < 3:
            # no belief yet to predict with, or too little for every leave-one-out fold of Ax's
            # cross-validation to have two successes: Ax's analyses are told what its own Sobol start
            # tells them (a RandomAdapter, "no predictive model": not applicable), where None made
            # them try to fit the node and log their tracebacks. It never generates a trial.
            return self._random_adapter(experiment)
        n = len(self.controller.history)
        if self._adapter is None or self._adapter[0] != n:
            with quiet_ax():
                self._adapter = (n, BeliefAdapter(self, experiment))
        return self._adapter[1]

    def _random_adapter(self, experiment: Experiment) -> Adapter:
        from ax.adapter.random import RandomAdapter
        from ax.generators.random.sobol import SobolGenerator

        key = ("random", id(experiment))  # history sizes key the belief's adapters; this one is per experiment
        if self._adapter is None or self._adapter[0] != key:
            with quiet_ax():
                self._adapter = (key, RandomAdapter(experiment=experiment, generator=SobolGenerator(seed=self.seed),
                                                    fit_on_init=False))
        return self._adapter[1]

    # ---- Ax JSON storage ------------------------------------------------------------------------
    @classmethod
    def deserialize_init_args(cls, args: dict[str, Any], decoder_registry: Any = None,
                              class_decoder_registry: Any = None) -> dict[str, Any]:
        from ax.storage.json_store.decoder import object_from_json

        kwargs = {k: v for k, v in args.items() if k != "__type"}
        kwargs["transition_criteria"] = object_from_json(
            copy.deepcopy(kwargs.get("transition_criteria")),
            decoder_registry=decoder_registry or CORE_DECODER_REGISTRY,
            class_decoder_registry=class_decoder_registry or CORE_CLASS_DECODER_REGISTRY,
        )
        controller_kwargs = kwargs.pop("controller_kwargs", {}) or {}
        return {**kwargs, **controller_kwargs}


def boed_node_to_dict(node: BOEDGenerationNode) -> dict[str, Any]:
    """Ax JSON encoder of the node: its constructor arguments and state."""
    return {
        "__type": type(node).__name__,
        "name": node.name,
        "seed": node.seed,
        "metric_name": node.metric_name,
        "transition_criteria": list(node.transition_criteria),
        "previous_node_name": node._previous_node_name,
        "controller_kwargs": node.controller_kwargs,
        "space": None if node.given_space is None else _saved_ref(node.given_space),
        "objectives": node.objectives,
        "state": node.state(),
    }


def _saved_ref(space: Any) -> str:
    if not space.ref:
        raise ConfigError(f"the BOED node's space {space.name!r} has no ref; give it one (Space(..., ref='pkg.module:NAME')) "
                          "so that Ax's JSON storage can rebuild it, costs and constraint included")
    return space.ref


CORE_ENCODER_REGISTRY[BOEDGenerationNode] = boed_node_to_dict
CORE_DECODER_REGISTRY[BOEDGenerationNode.__name__] = BOEDGenerationNode


def _objective_values(data: Data, metric: str) -> dict[tuple[int, str], float]:
    """(trial index, arm name) -> the objective's value (the last step, for progression data)."""
    df = data.df
    if df.empty:
        return {}
    df = df[df["metric_name"] == metric]
    if "step" in df.columns and df["step"].notna().any():
        df = df.sort_values("step", na_position="first")
    return {(int(t), str(a)): float(m) for t, a, m in zip(df["trial_index"], df["arm_name"], df["mean"])}


# ---------------------------------------------------------------------------------- the strategy
def boed_generation_strategy(
    *,
    seed: int = 0,
    initialization_budget: int = 10,
    space_filling: str = "maximin",
    metric_name: str | None = None,
    name: str = DEFAULT_NODE_NAME,
    **controller_kwargs: Any,
) -> GenerationStrategy:
    """An Ax ``GenerationStrategy``: a short space-filling start, then the BOED node.

    ``space_filling="maximin"`` (default): no Sobol node; the controller's maximin Hamming design
    makes the first ``initialization_budget`` trials inside the BOED node. It keeps to the
    experiment's parameter constraints from the first trial and never repeats a network (an NB201
    isomorphism class). The default since Ax's Sobol start, on ordered choice parameters under a
    parameter constraint, proposed configurations that break it.
    ``space_filling="sobol"``: Ax's Sobol node (seeded with ``seed``) generates the first
    ``initialization_budget`` trials (failed and abandoned ones do not count), then the BOED node
    takes over: the start Ax users know (Ax's own default strategy's), ``Sobol`` in Ax's trial
    table; the controller fills any shortfall itself (start trials that failed, or were isomorphic
    to each other), and a start trial outside the space (breaking a constraint) is not told to it.
    """
    from ax.adapter.registry import Generators
    from ax.core.experiment_status import ExperimentStatus
    from ax.core.trial_status import TrialStatus
    from ax.generation_strategy.generation_node import GenerationNode
    from ax.generation_strategy.generator_spec import GeneratorSpec
    from ax.generation_strategy.transition_criterion import MinTrials

    if isinstance(initialization_budget, bool) or not isinstance(initialization_budget, int) or initialization_budget < 1:
        raise ConfigError(f"initialization_budget must be an integer >= 1, got {initialization_budget!r}")
    if space_filling not in ("sobol", "maximin"):
        raise ConfigError(f"unknown space_filling {space_filling!r}; expected 'sobol' or 'maximin'")
    controller_kwargs.setdefault("n_init", initialization_budget)
    boed = BOEDGenerationNode(name, seed=seed, metric_name=metric_name, **controller_kwargs)
    if space_filling == "maximin":
        return GenerationStrategy(nodes=[boed], name=name)
    sobol = GenerationNode(
        name="Sobol",
        generator_specs=[GeneratorSpec(generator_enum=Generators.SOBOL, generator_kwargs={"seed": seed})],
        transition_criteria=[
            MinTrials(threshold=initialization_budget, transition_to=name, use_all_trials_in_exp=True,
                      not_in_statuses=[TrialStatus.FAILED, TrialStatus.ABANDONED]),
        ],
        should_deduplicate=True,
        suggested_experiment_status=ExperimentStatus.INITIALIZATION,
    )
    return GenerationStrategy(nodes=[sobol, boed], name=f"Sobol+{name}")


def boed_node(strategy: Any, name: str = DEFAULT_NODE_NAME) -> BOEDGenerationNode:
    """The BOED node of a ``GenerationStrategy`` (the one given to ``client.set_generation_strategy``),
    e.g. to read ``.controller.reports``; a node is returned as it is. Ax's ``Client`` reaches its
    strategy only through private attributes, so it is refused: keep the strategy you set, or ask the
    client itself (``client.get_best_parameterization()`` and ``client.predict()`` answer with the
    node's belief)."""
    if isinstance(strategy, BOEDGenerationNode):
        return strategy
    if not isinstance(strategy, GenerationStrategy):
        raise ConfigError(f"boed_node takes the GenerationStrategy given to client.set_generation_strategy (or its BOED "
                          f"node), got a {type(strategy).__name__}; keep a reference to the strategy you set")
    node = strategy.nodes_by_name.get(name)
    if not isinstance(node, BOEDGenerationNode):
        raise ConfigError(f"no BOED node named {name!r} in {strategy.name!r}; nodes are {list(strategy.nodes_by_name)}")
    return node


def recommend(strategy: Any, name: str = DEFAULT_NODE_NAME) -> Any:
    """The BOED node's recommendation, after telling its controller every trial finished since its
    last proposal: the evaluated cell (a ``Config`` on a space of your own) with the highest
    posterior mean (the denoised best), or None before the node has seen the experiment.
    ``strategy``: the ``GenerationStrategy`` given to the client (or its BOED node).
    ``client.get_best_parameterization()`` answers with the same pick as of the node's last proposal."""
    node = boed_node(strategy, name)
    experiment = node._experiment_seen
    if experiment is None:
        return None
    node.update_generator_state(experiment, experiment.lookup_data())
    return node.controller.recommend()


__all__ = ["PARAMETER_NAMES", "AxConstraints", "BOEDGenerationNode", "BeliefAdapter", "ax_parameters", "boed_generation_strategy", "boed_node", "cell_of",
           "check_search_space", "configure_nb201", "nb201_parameters", "objective_of", "parameters_of", "quiet_ax", "recommend",
           "space_of", "ax_search_space"]
