"""The Pareto search on a space of your own: boed-mo, nsga2 and mo-random with ``space=``, its known
costs as objectives, measured metrics of your own, bounds, resume, the CLI, and clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from boed_nas import make_strategy
from boed_nas.cli import main
from boed_nas.errors import ConfigError, OutcomeError
from boed_nas.mo.pareto import SpaceParetoProblem, non_dominated
from boed_nas.spaces import Categorical, Ordered, Space
from boed_nas.strategy import Strategy
from tests.spaces.user_objective import SPACE, score

MO_ON_SPACE = ["boed-mo[n_init=4,n_samples=16,plausible_size=64]", "nsga2[pop_size=6]", "mo-random"]


def _truth(space=SPACE):
    configs = space.enumerate()
    F = np.array([[score(c), space.costs(c)["flops"]] for c in configs])
    problem = SpaceParetoProblem(space, "val_acc,flops")
    return {space.key(configs[i]) for i in non_dominated(F, problem.objectives)}


@pytest.mark.parametrize("spec", MO_ON_SPACE)
def test_a_front_on_your_own_space_is_valid_never_repeats_and_resumes_identically(spec, tmp_path):
    s = make_strategy(spec, space=SPACE, seed=2, objectives="val_acc,flops", state_path=tmp_path / "s.json")
    seen = set()
    for _ in range(9):
        (c,) = s.ask()
        assert SPACE.parse(dict(c)) == c and SPACE.key(c) not in seen
        seen.add(SPACE.key(c))
        s.tell(c, {"val_acc": score(c)})
    front = s.recommend_front()
    assert front and {SPACE.key(c) for c in front} <= seen
    resumed = Strategy.load(tmp_path / "s.json", space=SPACE)
    assert resumed.ask(2) == s.ask(2)


def test_boed_mo_covers_more_of_a_known_front_than_random_search():
    truth = _truth()

    def hits(spec, seed):
        s = make_strategy(spec, space=SPACE, seed=seed, objectives="val_acc,flops")
        for _ in range(20):  # of 160 configurations, 10 on the front
            (c,) = s.ask()
            s.tell(c, {"val_acc": score(c)})
        return len({SPACE.key(o.cell) for o in s.history} & truth)

    boed = [hits("boed-mo", seed) for seed in range(3)]
    rand = [hits("mo-random", seed) for seed in range(3)]
    assert sum(boed) > sum(rand), (boed, rand)


def test_bounds_and_several_measured_objectives(tmp_path):
    s = make_strategy("nsga2[pop_size=6]", space=SPACE, seed=0, objectives="val_acc,latency_ms:min,flops",
                      constraints="flops<=20000")
    assert [o.name for o in s.problem.objectives] == ["val_acc", "latency_ms", "flops"]
    for _ in range(15):
        (c,) = s.ask()
        assert SPACE.costs(c)["flops"] <= 20000
        s.tell(c, {"val_acc": score(c), "latency_ms": float(c["depth"])})
    with pytest.raises(OutcomeError, match="latency_ms"):
        (c,) = s.ask()
        s.tell(c, {"val_acc": 1.0})
    assert s.get_params()["objectives"] == ["val_acc", "latency_ms:min", "flops"]


@pytest.mark.parametrize("kw, match", [
    ({"objectives": "val_acc,energy"}, "needs its direction"),
    ({"objectives": "flops"}, "all known costs"),
    ({"objectives": "val_acc,flops:max"}, "always minimised"),
    ({"objectives": "val_acc,flops", "constraints": "energy<=3"}, "no such known cost"),
    ({"objectives": "val_acc,lat:min,flops"}, "boed-mo learns one measured objective"),
    ({"objectives": "val_acc,flops", "costs": "nb201:cifar10"}, "known costs are the space's"),
    ({"objectives": "val_acc:min,flops"}, "contradicts"),
    ({"objectives": 123}, "objectives must be a comma-separated string"),
    ({"objectives": "val_acc,flops", "constraints": {"flops": "big"}}, "bound on 'flops' must be a finite number"),
    ({"objectives": "val_acc,flops", "constraints": 5}, "constraints must be"),
])
def test_bad_pareto_settings_on_a_space_are_named(kw, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy("boed-mo", space=SPACE, **kw)


@pytest.mark.parametrize("name", ["qnehvi", "parego"])
def test_botorch_baselines_search_your_space_with_its_known_costs(name, tmp_path):
    s = make_strategy(f"{name}[n_init=3,mc_samples=8]", space=SPACE, seed=0, objectives="val_acc,flops",
                      state_path=tmp_path / "s.json")
    lookup = s.problem.scaled_cost_lookup()
    X = s.X[:5]
    flops = np.array([SPACE.costs(c)["flops"] for c in SPACE.enumerate()])
    expect = (flops[:5] - flops.min()) / (flops.max() - flops.min())
    np.testing.assert_allclose(lookup(X)[:, 0].numpy(), expect)  # read back from the GP inputs exactly
    for _ in range(5):
        (c,) = s.ask()
        s.tell(c, {"val_acc": score(c)})
    assert len({SPACE.key(o.cell) for o in s.history}) == 5 and s.recommend_front()
    assert Strategy.load(tmp_path / "s.json", space=SPACE).ask(1) == s.ask(1)


def test_what_cannot_search_your_space_says_so():
    with pytest.raises(ConfigError, match="needs the space hooks"):
        make_strategy("darts", space=SPACE)
    big = Space([Ordered(f"x{i}", list(range(10))) for i in range(6)], costs=lambda c: {"flops": c["x0"]})
    with pytest.raises(ConfigError, match="enumerable"):
        make_strategy("boed-mo", space=big, objectives="val_acc,flops")


def test_cli_pareto_search_on_your_own_space(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ref = "tests.spaces.user_objective"
    out = tmp_path / "run"
    args = ["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--objectives", "val_acc,flops",
            "--strategy", "boed[n_init=4,n_samples=16,plausible_size=64]", "--out", str(out)]
    assert main([*args, "--budget", "7"]) == 0
    assert main([*args, "--budget", "9", "--resume"]) == 0
    text = capsys.readouterr().out
    assert "Pareto front (val_acc, flops)" in text
    front = pd.read_csv(out / "front.csv")
    assert list(front.columns) == ["config", "val_acc", "flops"] and len(front) >= 1
    assert json.loads((out / "run.json").read_text())["objectives"] == ["val_acc", "flops"]
    assert len(pd.read_csv(out / "trajectory.csv")) == 9
    assert main(["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--objectives",
                 "val_acc,flops", "--strategy", "random", "--out", str(tmp_path / "x")]) == 2
    assert "needs a multi-objective strategy" in capsys.readouterr().err


def test_a_constrained_space_keeps_nsga2_inside_it():
    space = Space([Categorical("a", ["p", "q", "r"]), Ordered("b", [1, 2, 3, 4])],
                  constraint=lambda c: not (c["a"] == "r" and c["b"] > 2), costs=lambda c: {"flops": c["b"] * 10.0})
    s = make_strategy("nsga2[pop_size=4]", space=space, seed=1, objectives="val_acc,flops")
    for _ in range(10):
        (c,) = s.ask()
        assert not (c["a"] == "r" and c["b"] > 2)
        s.tell(c, {"val_acc": float(c["b"]) + {"p": 0, "q": 1, "r": 2}[c["a"]]})
