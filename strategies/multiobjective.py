"""Multi-objective baselines for accuracy vs known costs: random, NSGA-II (pymoo), qNEHVI and ParEGO
(botorch), all on the ask/tell interface and the same ``ParetoProblem`` as ``boed-mo``.

All of them also search a space of your own (``space=``, enumerable, its known costs from
``Space(costs=...)``; ``boed_nas.mo.pareto.SpaceParetoProblem``); ``mo-random`` and ``nsga2`` with
any number of measured objectives (``objectives="val_acc,latency_ms:min,flops"``), ``qnehvi`` and
``parego`` with one (their deterministic cost model reads the known costs back from the GP inputs:
``scaled_cost_lookup``).

Every strategy here evaluates each isomorphism class as its cheapest feasible member
(``ParetoProblem.pool``) and never proposes a class over a constraint's bound, so the comparison
with ``boed-mo`` is about where the evaluations go, not about which member of a class is timed.

- ``mo-random``: uniform over the unevaluated feasible classes.
- ``nsga2``: pymoo's NSGA-II through its ask/tell interface, on six integer variables (the op id
  of each edge, 0..4): uniform crossover (it swaps whole ops, which suits categorical genes),
  polynomial mutation with pymoo's ``RoundingRepair``, then a repair to the evaluated member of the
  genome's isomorphism class (so duplicates are caught by class; ``nsga2_on_cells``). Known
  constraints enter as pymoo inequality constraints. Objectives are the told (one training seed)
  accuracy and the known costs.
- ``qnehvi``: botorch ``qLogNoisyExpectedHypervolumeImprovement`` over the discrete pool (chunked),
  the model a ``ModelList`` of the accuracy GP (``fit_belief``) and a ``GenericDeterministicModel``
  that reads the known costs, so only accuracy is learned.
- ``parego``: ParEGO in botorch's form: a random Chebyshev scalarisation per ask
  (``get_chebyshev_scalarization``, weights from the simplex) and ``qLogNoisyExpectedImprovement``
  over the same model and pool.

qLogNEHVI loads a C++ extension (compiled on first use, about a minute, then cached under
``~/.cache/torch_extensions``; botorch falls back to Python if it cannot build it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from boed_nas.bo.belief import OutputTransform, fit_belief
from boed_nas.bo.inputs import belief_inputs
from boed_nas.errors import ConfigError, check_int
from boed_nas.errors import OutcomeError
from boed_nas.mo.controller import nsga2_on_space
from boed_nas.mo.pareto import KnownCosts, non_dominated, pareto_problem, to_minimization
from boed_nas.nb201.space import Cell
from boed_nas.strategy import Observation, Strategy


class MultiObjectiveStrategy(Strategy):
    """Base of the multi-objective baselines: the problem, free classes, observed front."""

    multiobjective = True

    def __init__(self, *, objectives: str | Sequence[str] = ("accuracy", "latency"),
                 costs: KnownCosts | str | Mapping[str, Any] | None = None,
                 constraints: Mapping[str, float] | Sequence[str] | str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.problem = pareto_problem(self.space, objectives, costs, constraints,
                                      metric=self.metric, maximize=self.maximize)
        if not self.problem.feasible.any():
            raise ConfigError(f"no configuration satisfies the constraints {self.problem.constraints}")

    def get_params(self) -> dict[str, Any]:
        objectives = [o.name if not o.learned or o.name in (self.metric, "accuracy") else f"{o.name}:{o.direction[:3]}"
                      for o in self.problem.objectives]
        return {**super().get_params(), "objectives": objectives,
                "costs": getattr(getattr(self.problem, "costs", None), "spec", None),
                "constraints": dict(self.problem.constraints)}

    @property
    def required_metrics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.metric, *(o.metric for o in self.problem.measured)]))

    def _observe(self, obs: Observation) -> None:
        # every measured objective must be in a successful outcome (the base class checks the search
        # metric); raising here undoes the tell (the base class's rollback)
        if obs.outcome.failed:
            return
        missing = [o.metric for o in self.problem.measured if o.metric not in obs.outcome.metrics]
        bad = [o.metric for o in self.problem.measured if o.metric in obs.outcome.metrics
               and not np.isfinite(obs.outcome.metrics[o.metric])]
        if missing or bad:
            raise OutcomeError(f"the outcome of {self.space.format(obs.cell)} lacks the measured objectives {missing}"
                               if missing else f"the outcome of {self.space.format(obs.cell)} has non-finite {bad}")

    def measured_values(self, obs: Observation) -> list[float]:
        """The measured objectives of a successful observation, in their own directions."""
        return [obs.outcome.metrics[o.metric] for o in self.problem.measured]

    def free_classes(self) -> np.ndarray:
        """Indices (into ``problem.pool``) of feasible classes (configurations) neither evaluated nor pending."""
        return np.array([i for i in np.flatnonzero(self.problem.feasible) if self.is_new(self.problem.pool[i])],
                        dtype=np.int64)

    def _feasible_successes(self) -> list[Observation]:
        return [o for o in self.history if not o.outcome.failed and self.problem.is_feasible(o.cell)]

    def recommend(self) -> Cell | None:
        """The feasible evaluated configuration with the best observed search metric (never one over a bound)."""
        obs = self._feasible_successes()
        return max(obs, key=self.signed).cell if obs else None

    def objective_matrix(self, obs: Sequence[Observation]) -> np.ndarray:
        """n x m objective values of successful observations, in the objectives' own directions."""
        measured = np.array([self.measured_values(o) for o in obs], dtype=float).reshape(len(obs), -1)
        return np.concatenate([measured, self.problem.costs_of([o.cell for o in obs])], axis=1)

    def recommend_front(self) -> list[Cell]:
        """Feasible evaluated configurations non-dominated by (observed measured objectives, known costs)."""
        obs = self._feasible_successes()
        if not obs:
            return []
        return [obs[i].cell for i in non_dominated(self.objective_matrix(obs), self.problem.objectives)]

    def random_free_class(self) -> Cell:
        """The evaluated member of a uniformly drawn feasible class that is neither evaluated nor pending."""
        free = self.free_classes()
        if len(free) == 0:
            raise ConfigError(f"every feasible point of {self.space.name!r} has been evaluated or is pending")
        return self.problem.pool[int(free[int(self.rng.integers(len(free)))])]


class MORandomSearch(MultiObjectiveStrategy):
    """Uniform random search over the feasible isomorphism classes (cheapest member of each)."""

    name = "mo-random"

    def _propose_one(self, k: int) -> Cell:
        return self.random_free_class()


# ----------------------------------------------------------------------------------- NSGA-II
class NSGA2Search(MultiObjectiveStrategy):
    """pymoo's NSGA-II, ask/tell, over the six op ids (see the module docstring).

    The pymoo algorithm is a deterministic function of the seed and the told values, so it is not
    saved: a resumed search rebuilds it by replaying the history, generation by generation. A
    generation's individuals whose class was told before are answered from the history (no
    second payment); after ``max_stale_generations`` generations with nothing new, a random free
    class is proposed instead.
    """

    name = "nsga2"
    requires = ("variables",)  # its genome: one value index per variable

    def __init__(self, *, pop_size: int = 20, max_stale_generations: int = 50, **kw: Any) -> None:
        for label, v, lo in (("pop_size", pop_size, 2), ("max_stale_generations", max_stale_generations, 1)):
            check_int(label, v, lo)
        super().__init__(**kw)
        self.pop_size = pop_size
        self.max_stale_generations = max_stale_generations
        self._algo = None
        self._current = None  # the pymoo Population asked and not yet told

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "pop_size": self.pop_size, "max_stale_generations": self.max_stale_generations}

    def _make_algorithm(self):
        from pymoo.core.problem import Problem
        from pymoo.core.termination import NoTermination

        upper = self.problem.genome_upper
        pymoo_problem = Problem(n_var=len(upper), n_obj=len(self.problem.objectives),
                                n_ieq_constr=self.problem.n_violations, xl=0, xu=upper, vtype=int)
        algo = nsga2_on_space(self.problem, self.pop_size)
        algo.setup(pymoo_problem, termination=NoTermination(), seed=int(self.seed), verbose=False)
        return algo

    def _told(self) -> dict[Any, Observation]:
        return {self.space.key(o.cell): o for o in self.history}

    def _worst(self) -> np.ndarray:
        """Per measured objective, in minimisation form, the value given to a failed or never-trained
        genome: the worst told value (0 before any; NB201's accuracy: 0 is the worst possible)."""
        ok = [o for o in self.history if not o.outcome.failed]
        if not ok:
            return np.zeros(len(self.problem.measured))
        G = to_minimization(np.array([self.measured_values(o) for o in ok]), self.problem.measured)
        return G.max(axis=0)

    def _evaluate_known(self, X: np.ndarray, told: dict[Any, Observation]) -> tuple[np.ndarray, np.ndarray] | None:
        """(F, G) for genomes whose values are all known (told, or infeasible: never trained); else None."""
        configs = self.problem.decode(X)
        worst = self._worst()
        F = []
        for c in configs:
            obs = None if c is None else told.get(self.space.key(c))
            if c is not None and self.problem.is_feasible(c) and obs is None:
                return None
            if obs is None or obs.outcome.failed:
                measured = worst
            else:
                measured = to_minimization(np.array(self.measured_values(obs)), self.problem.measured)[0]
            costs = np.zeros(len(self.problem.cost_objectives)) if c is None else self.problem.costs_of([c])[0]
            F.append([*measured, *costs])
        return np.array(F, dtype=float), self.problem.violations(configs)

    def _drive(self) -> list[Cell]:
        """Advance NSGA-II as far as the told values allow; the current generation's untold cells."""
        if self._algo is None:
            self._algo, self._current = self._make_algorithm(), None
        told = self._told()
        stale = 0
        while stale <= self.max_stale_generations:
            if self._current is None:
                self._current = self._algo.ask()
            X = self._current.get("X")
            known = self._evaluate_known(X, told)
            if known is None:
                cells = [c for c in self.problem.decode(X) if c is not None]
                return [c for c in cells if self.problem.is_feasible(c) and self.space.key(c) not in told]
            self._current.set("F", known[0])
            if self.problem.n_violations:
                self._current.set("G", known[1])
            self._algo.tell(infills=self._current)
            self._current = None
            stale += 1
        return []

    def _propose_one(self, k: int) -> Cell:
        for cell in self._drive():
            if self.is_new(cell):
                return cell
        return self.random_free_class()

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        self._algo, self._current = None, None  # rebuilt from the history on the next ask


# ----------------------------------------------------------------------------------- botorch
class _BotorchMO(MultiObjectiveStrategy):
    """Shared parts of qNEHVI and ParEGO: the accuracy GP, the cost model, the pool, chunked scoring."""

    requires = ("variables",)  # the cost model reads each variable's value back from the GP inputs

    def __init__(self, *, n_init: int = 10, kernel: str = "categorical", output_transform: str = "standardize",
                 mc_samples: int = 128, chunk: int = 512, **kw: Any) -> None:
        for label, v, lo in (("n_init", n_init, 2), ("mc_samples", mc_samples, 1), ("chunk", chunk, 1)):
            check_int(label, v, lo)
        super().__init__(**kw)
        self.n_init, self.kernel, self.output_transform = n_init, kernel, output_transform
        self.mc_samples, self.chunk = mc_samples, chunk
        self.features = belief_inputs(self.space, kernel).features  # the space's GP inputs, no signals
        self._transform = OutputTransform(output_transform)
        self._X: torch.Tensor | None = None
        # the known costs, scaled to [0, 1], read back from a candidate's GP inputs
        self._costs_of_inputs = self.problem.scaled_cost_lookup()

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "n_init": self.n_init, "kernel": self.kernel,
                "output_transform": self.output_transform, "mc_samples": self.mc_samples, "chunk": self.chunk}

    @property
    def X(self) -> torch.Tensor:
        if self._X is None:
            self._X = self.features(list(self.problem.classes))
        return self._X

    def _cost_model(self):
        from botorch.models.deterministic import GenericDeterministicModel

        lookup = self._costs_of_inputs

        def negated_costs(X: torch.Tensor) -> torch.Tensor:
            return -lookup(X)  # botorch maximises

        return GenericDeterministicModel(negated_costs, num_outputs=len(self.problem.cost_objectives))

    def _model(self):
        """(ModelList of accuracy GP + cost model, X of the told feasible cells, their model outputs)."""
        from botorch.models.model import ModelList

        ok = [o for o in self.history if not o.outcome.failed]
        idx = torch.tensor([self.problem.index(o.cell) for o in ok])
        y = torch.tensor(self._transform(np.array([self.signed(o) for o in ok])))[:, None]
        gp = fit_belief(self.X[idx], y, self.features, seed=self.seed + len(self.history))
        costs = self._cost_model()
        model = ModelList(gp, costs) if self.problem.cost_objectives else gp
        Xb = self.X[idx]
        Yb = torch.cat([y, costs(Xb)], dim=-1) if self.problem.cost_objectives else y
        return model, Xb, Yb

    def _sampler(self, model, X: torch.Tensor, salt: int):
        """botorch's sampler for the model's posterior (a ListSampler for a ModelList), seeded."""
        from botorch.sampling.get_sampler import get_sampler

        with torch.no_grad():
            posterior = model.posterior(X[:1])
        return get_sampler(posterior, torch.Size([self.mc_samples]), seed=self.derived_seed(salt, bits=31))

    def _acquisition(self, model, Xb: torch.Tensor, Yb: torch.Tensor, X_pending: torch.Tensor | None, salt: int):
        raise NotImplementedError

    def _propose_one(self, k: int) -> Cell:
        if len([o for o in self.history if not o.outcome.failed]) < self.n_init:
            return self.random_free_class()
        free = self.free_classes()
        if len(free) == 0:
            raise ConfigError(f"every feasible point of {self.space.name!r} has been evaluated or is pending")
        model, Xb, Yb = self._model()
        pend = [self.problem.index(c) for c in self.pending.values()]
        X_pending = self.X[torch.tensor(pend)] if pend else None
        acqf = self._acquisition(model, Xb, Yb, X_pending, k)
        Xc = self.X[torch.as_tensor(free)]
        with torch.no_grad():
            scores = torch.cat([acqf(Xc[i : i + self.chunk].unsqueeze(-2)) for i in range(0, len(Xc), self.chunk)])
        return self.problem.pool[int(free[int(torch.argmax(scores))])]


class QNEHVI(_BotorchMO):
    """Noisy expected hypervolume improvement (botorch ``qLogNoisyExpectedHypervolumeImprovement``).

    The reference point, in model-output space: the lowest told (transformed) accuracy minus 10%
    of their range, and each cost's maximum over the table (scaled costs are in [0, 1]).
    """

    name = "qnehvi"

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        if not self.problem.cost_objectives:
            raise ConfigError("qnehvi needs at least one cost objective besides accuracy (e.g. 'accuracy,latency')")

    def _acquisition(self, model, Xb, Yb, X_pending, salt):
        from botorch.acquisition.multi_objective.logei import (
            qLogNoisyExpectedHypervolumeImprovement,
        )

        y = Yb[:, 0]
        ref = torch.cat([(y.min() - 0.1 * (y.max() - y.min()))[None], -torch.ones(Yb.shape[1] - 1, dtype=Yb.dtype)])
        return qLogNoisyExpectedHypervolumeImprovement(model, ref_point=ref, X_baseline=Xb, X_pending=X_pending,
                                                      sampler=self._sampler(model, Xb, salt), prune_baseline=True)


class ParEGO(_BotorchMO):
    """ParEGO (Knowles 2006) in botorch's q-form: a Chebyshev scalarisation with random simplex
    weights per ask, and noisy expected improvement (``qLogNoisyExpectedImprovement``) of it."""

    name = "parego"

    def _acquisition(self, model, Xb, Yb, X_pending, salt):
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.utils.multi_objective.scalarization import (
            get_chebyshev_scalarization,
        )
        from botorch.utils.sampling import sample_simplex

        weights = sample_simplex(Yb.shape[1], seed=self.derived_seed(salt, 1, bits=31), dtype=Yb.dtype).squeeze(0)
        objective = GenericMCObjective(get_chebyshev_scalarization(weights, Yb))
        return qLogNoisyExpectedImprovement(model, X_baseline=Xb, objective=objective, X_pending=X_pending,
                                            sampler=self._sampler(model, Xb, salt), prune_baseline=True)


__all__ = ["MORandomSearch", "MultiObjectiveStrategy", "NSGA2Search", "ParEGO", "QNEHVI"]
