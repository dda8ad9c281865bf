"""The controller's parts, each on its own: the config, the candidate pool, the belief (fit
schedule, pending fantasies), the initial design, the acquisitions; and a space that only follows
the ``SearchSpace`` protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas import make_strategy
from boed_nas.bo.acquisition import ACQUISITION_CLASSES, ACQUISITIONS, PoolAcquisition
from boed_nas.bo.config import BOEDConfig
from boed_nas.bo.design import InitialDesign
from boed_nas.bo.inputs import belief_inputs
from boed_nas.bo.model import Belief
from boed_nas.bo.pool import POOL_RANDOM, CandidatePool
from boed_nas.errors import ConfigError
from boed_nas.spaces import Categorical, Integer, SearchSpace, Space
from boed_nas.nb201.space import CELL_SPACE
from tests.spaces.user_objective import SPACE, score


def test_the_config_checks_each_setting_once_and_splits_the_strategy_arguments():
    settings, rest = BOEDConfig.split({"n_init": 3, "kernel": "additive", "seed": 1, "metric": "acc"})
    assert settings == {"n_init": 3, "kernel": "additive"} and rest == {"seed": 1, "metric": "acc"}
    with pytest.raises(ConfigError, match="n_init"):
        BOEDConfig(n_init=0)
    with pytest.raises(ConfigError, match="unknown acquisition"):
        BOEDConfig(acquisition="pi")
    ctl = make_strategy("boed[n_init=3]", seed=0)
    assert ctl.config.n_init == ctl.n_init == 3
    assert set(BOEDConfig.names()) <= set(ctl.get_params())
    with pytest.raises(ConfigError, match="does not take"):
        make_strategy("boed[n_inti=3]")


def test_an_enumerated_pool_is_the_space_and_a_generated_one_is_rebuilt_per_history():
    inputs = belief_inputs(SPACE, "categorical")
    pool = CandidatePool(SPACE, inputs.features)
    assert len(pool) == len(SPACE.enumerate()) and not pool.generated
    assert pool.X.shape[0] == len(pool)
    big = Space([Integer(f"x{i}", 0, 9) for i in range(6)], name="big")
    gen = CandidatePool(big, belief_inputs(big, "categorical").features)
    rng = np.random.default_rng(0)
    told = [big.sample(rng) for _ in range(3)]
    pending = [big.sample(rng)]
    assert gen.refresh(7, told, [], told[:1], pending)
    assert all(c in gen for c in told + pending) and POOL_RANDOM <= len(gen) <= POOL_RANDOM + 100
    first = list(gen.configs)
    assert not gen.refresh(7, told, [], told[:1], pending)  # same history: kept
    again = CandidatePool(big, gen.features)
    again.refresh(7, told, [], told[:1], pending)
    assert again.configs == first  # seeded by (seed, history size)


def test_the_belief_refits_on_its_schedule_and_fantasises_pending_inputs():
    inputs = belief_inputs(SPACE, "categorical")
    X = inputs.features(SPACE.enumerate())
    belief = Belief(inputs.features, refit_every=2)
    idx = np.arange(0, 40, 4)
    y = np.array([score(SPACE.enumerate()[i]) for i in idx])
    model, _ = belief.fit(X, idx, y, n_history=10, seed=0)
    assert belief.cached(10)[0] is model and belief.hyper["fitted_at"] == 10
    belief.invalidate()
    belief.fit(X, idx, y, n_history=11, seed=0)
    assert belief.hyper["fitted_at"] == 10  # not due: conditioned with the last hyperparameters
    gen = torch.Generator().manual_seed(0)
    more = belief.condition_on_pending(model, X[[1, 2]], gen)
    assert more is not model and len(more.train_targets) == len(idx) + 2
    assert Belief(inputs.features, pending="ignore").condition_on_pending(model, X[[1]], gen) is model


def test_the_design_takes_the_proposals_then_the_farthest_new_configuration():
    configs = SPACE.enumerate()
    design = InitialDesign(SPACE, proposals=[configs[5]])
    rng = np.random.default_rng(0)
    seen = set()

    def is_new(c):
        return SPACE.key(c) not in seen

    def random_new():
        while True:
            c = SPACE.sample(rng)
            if is_new(c):
                return c

    assert design.next([], is_new, random_new, rng) == configs[5]
    seen.add(SPACE.key(configs[5]))
    pick = design.next([configs[5]], is_new, random_new, rng)
    far = sum(a != b for a, b in zip(SPACE.indices(pick), SPACE.indices(configs[5])))
    assert far >= 3  # of 4 variables: maximin over 64 random candidates


@pytest.mark.parametrize("name", ACQUISITIONS)
def test_each_acquisition_is_one_class_scoring_every_candidate(name):
    acq = ACQUISITION_CLASSES[name]()
    assert isinstance(acq, PoolAcquisition) and acq.name == name
    ctl = make_strategy(f"boed[n_init=3,acquisition='{name}',n_samples=32,plausible_size=64]", space=SPACE, seed=1)
    for _ in range(6):
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": score(c)})
    model, evaluated = ctl.fit()
    b = ctl.pool_belief(model, evaluated, [], torch.Generator().manual_seed(0))
    s = acq(b, torch.Generator().manual_seed(1))
    assert s.shape == (len(b.candidates),)


class Grid:
    """A space written from the protocol alone (no Space subclass): points are (a, b) tuples."""

    name, ref, unit, enumerable = "grid", None, "points", True

    def __init__(self):
        self.points = [(a, b) for a in range(6) for b in range(5)]

    @property
    def n_distinct(self):
        return len(self.points)

    def parse(self, value):
        if isinstance(value, str):
            value = tuple(int(v) for v in value.split(","))
        value = tuple(value)
        if value not in self.points:
            raise ValueError(f"{value!r} is not a point of the grid")
        return value

    def key(self, p):
        return p

    def format(self, p):
        return f"{p[0]},{p[1]}"

    def indices(self, p):
        return p

    def sample(self, rng):
        return self.points[int(rng.integers(len(self.points)))]

    def enumerate(self):
        return self.points

    def neighbours(self, p):
        return [q for q in self.points if sum(x != y for x, y in zip(p, q)) == 1]

    def mutate(self, p, rng):
        n = self.neighbours(p)
        return n[int(rng.integers(len(n)))]

    def costs(self, p):
        return {}


@pytest.mark.parametrize("name", ["boed[n_init=3,n_samples=32,plausible_size=64]", "random", "evolution", "local"])
def test_a_space_written_from_the_protocol_alone_is_searched(name, tmp_path):
    grid = Grid()
    assert isinstance(grid, SearchSpace) and isinstance(CELL_SPACE, SearchSpace) and isinstance(SPACE, SearchSpace)
    s = make_strategy(name, space=grid, seed=0, state_path=tmp_path / "s.json")
    for _ in range(8):
        (p,) = s.ask()
        s.tell(p, {"val_acc": -((p[0] - 4) ** 2) - (p[1] - 1) ** 2})
    assert len({o.cell for o in s.history}) == 8 and s.recommend() in grid.points
    from boed_nas.strategy import Strategy

    resumed = Strategy.load(tmp_path / "s.json", space=grid)
    assert resumed.ask(1) == s.ask(1)


def test_what_a_strategy_needs_of_a_space_is_named_when_it_lacks_it():
    with pytest.raises(ConfigError, match=r"needs the space hooks \['variables', 'to_parameters', 'from_parameters'\]"
                                          r".*space 'grid'"):
        make_strategy("bananas", space=Grid())
    with pytest.raises(ConfigError, match=r"needs the space hooks \['cell_network'\]"):
        make_strategy("darts", space=SPACE)
    with pytest.raises(ConfigError, match="must follow boed_nas.spaces.SearchSpace.*lacks"):
        make_strategy("random", space=object())
