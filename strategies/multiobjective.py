"""Multi-objective baselines for accuracy vs known costs: random, NSGA-II (pymoo), qNEHVI and ParEGO
(botorch), all on the ask/tell interface and the same ``ParetoProblem`` as ``boed-mo``.

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

from boed_nas.bo.belief import CellFeatures, OutputTransform, fit_belief
from boed_nas.errors import ConfigError, check_int
from boed_nas.mo.controller import nsga2_on_cells
from boed_nas.mo.pareto import KnownCosts, ParetoProblem, non_dominated
from boed_nas.nb201.space import N_EDGES, N_OPS, Cell
from boed_nas.strategy import Observation, Strategy


class MultiObjectiveStrategy(Strategy):
    """Base of the multi-objective baselines: the problem, free classes, observed front."""

    multiobjective = True

    def __init__(self, *, objectives: str | Sequence[str] = ("accuracy", "latency"),
                 costs: KnownCosts | str | Mapping[str, Any] | None = None,
                 constraints: Mapping[str, float] | Sequence[str] | str | None = None, **kw: Any) -> None:
        self.problem = ParetoProblem(objectives, costs, constraints)
        if not self.problem.feasible.any():
            raise ConfigError(f"no cell satisfies the constraints {self.problem.constraints}")
        super().__init__(**kw)

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "objectives": [o.name for o in self.problem.objectives],
                "costs": self.problem.costs.spec, "constraints": dict(self.problem.constraints)}

    def free_classes(self) -> np.ndarray:
        """Indices (into ``problem.pool``) of feasible classes neither evaluated nor pending."""
        return np.array([i for i in np.flatnonzero(self.problem.feasible) if self.is_new(self.problem.pool[i])],
                        dtype=np.int64)

    def _feasible_successes(self) -> list[Observation]:
        return [o for o in self.history if not o.outcome.failed and self.problem.is_feasible(o.cell)]

    def recommend(self) -> Cell | None:
        """The feasible evaluated cell with the best observed accuracy (never one over a bound)."""
        obs = self._feasible_successes()
        return max(obs, key=self.signed).cell if obs else None

    def recommend_front(self) -> list[Cell]:
        """Feasible evaluated cells non-dominated by (observed accuracy, known costs)."""
        obs = self._feasible_successes()
        if not obs:
            return []
        F = np.concatenate([np.array([[self.signed(o)] for o in obs]),
                            self.problem.cost_matrix([o.cell.code for o in obs])], axis=1)
        return [obs[i].cell for i in non_dominated(F, self.problem.objectives)]

    def random_free_class(self) -> Cell:
        """The evaluated member of a uniformly drawn feasible class that is neither evaluated nor pending."""
        free = self.free_classes()
        if len(free) == 0:
            raise ConfigError("every feasible isomorphism class has been evaluated or is pending")
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

        pymoo_problem = Problem(n_var=N_EDGES, n_obj=len(self.problem.objectives),
                                n_ieq_constr=len(self.problem.constraints), xl=0, xu=N_OPS - 1, vtype=int)
        algo = nsga2_on_cells(self.problem, self.pop_size)
        algo.setup(pymoo_problem, termination=NoTermination(), seed=int(self.seed), verbose=False)
        return algo

    def _told(self) -> dict[int, Observation]:
        return {o.cell.canonical().code: o for o in self.history}

    def _evaluate_known(self, X: np.ndarray, told: dict[int, Observation]) -> tuple[np.ndarray, np.ndarray] | None:
        """(F, G) for genomes whose values are all known (told, or infeasible: never trained); else None."""
        F, G = [], []
        for x in X:
            cell = Cell(tuple(int(v) for v in x))
            feasible = self.problem.is_feasible(cell)
            obs = told.get(cell.canonical().code)
            if feasible and obs is None:
                return None
            acc = 0.0 if obs is None or obs.outcome.failed else obs.outcome.metrics[self.metric]
            F.append([-acc if self.maximize else acc, *self.problem.cost_matrix([cell.code])[0]])
            G.append([self.problem.costs[k][cell.code] - b for k, b in self.problem.constraints.items()])
        return np.array(F, dtype=float), np.array(G, dtype=float).reshape(len(X), len(self.problem.constraints))

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
                cells = [Cell(tuple(int(v) for v in x)) for x in X]
                return [c for c in cells if self.problem.is_feasible(c) and c.canonical().code not in told]
            self._current.set("F", known[0])
            if self.problem.constraints:
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

    def __init__(self, *, n_init: int = 10, kernel: str = "categorical", output_transform: str = "standardize",
                 mc_samples: int = 128, chunk: int = 512, **kw: Any) -> None:
        for label, v, lo in (("n_init", n_init, 2), ("mc_samples", mc_samples, 1), ("chunk", chunk, 1)):
            check_int(label, v, lo)
        super().__init__(**kw)
        self.n_init, self.kernel, self.output_transform = n_init, kernel, output_transform
        self.mc_samples, self.chunk = mc_samples, chunk
        self.features = CellFeatures(kernel)
        self._transform = OutputTransform(output_transform)
        self._X: torch.Tensor | None = None
        # known costs of the evaluated member of each class, scaled to [0, 1] by their range over the
        # table, by class representative code: the deterministic model looks them up from the op ids
        cols = []
        for o in self.problem.cost_objectives:
            c = self.problem.costs[o.name]
            cols.append((c - c.min()) / max(c.max() - c.min(), 1e-300))
        by_rep = np.full((N_OPS**N_EDGES, len(cols)), np.nan)
        if cols:
            scaled = np.stack(cols, axis=1)
            by_rep[[c.code for c in self.problem.classes]] = scaled[self.problem.pool_codes]
        self._cost_by_rep = torch.tensor(by_rep)

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

        table = self._cost_by_rep
        powers = torch.tensor([N_OPS ** (N_EDGES - 1 - e) for e in range(N_EDGES)], dtype=torch.float64)

        def negated_costs(X: torch.Tensor) -> torch.Tensor:
            codes = (X[..., :N_EDGES] * powers).sum(-1).round().long()
            return -table[codes].to(X)  # botorch maximises

        return GenericDeterministicModel(negated_costs, num_outputs=table.shape[1])

    def _model(self):
        """(ModelList of accuracy GP + cost model, X of the told feasible cells, their model outputs)."""
        from botorch.models.model import ModelList

        ok = [o for o in self.history if not o.outcome.failed]
        idx = torch.tensor([self.problem.class_of_code[o.cell.code] for o in ok])
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
            raise ConfigError("every feasible isomorphism class has been evaluated or is pending")
        model, Xb, Yb = self._model()
        pend = [self.problem.class_of_code[c.code] for c in self.pending.values()]
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
