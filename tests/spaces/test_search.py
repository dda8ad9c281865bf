"""Searching a space of your own: the strategies that take one, run_objective and the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from boed_nas import make_strategy
from boed_nas.cli import main
from boed_nas.errors import ConfigError
from boed_nas.experiment.loop import run_objective
from boed_nas.experiment.runfolder import RunFolder
from boed_nas.registry import available
from boed_nas.spaces import Integer, Space, load_space
from boed_nas.strategy import Strategy

from .user_objective import SPACE, objective, score

OPTIMUM = max(score(c) for c in SPACE.enumerate())
ANY_SPACE = ["boed", "evolution", "local", "random"]


def test_the_strategies_that_take_a_space():
    # the multi-objective ones (boed-mo, mo-random, nsga2) too: tests/mo/test_space_pareto.py; Ax's
    # (ax, sobol) on a space without a function constraint: tests/strategies/test_ax.py
    # asha and hyperband too, given a fidelity: tests/test_fidelity.py
    assert available(any_space=True) == sorted(ANY_SPACE + ["asha", "boed-mo", "hyperband", "mo-random"])
    # the others need the space's variables (as named parameters), which a Space has
    assert make_strategy("bananas", space=SPACE).space is SPACE
    assert make_strategy("nsga2", space=SPACE, objectives="val_acc,flops").space is SPACE
    assert make_strategy("sobol", space=Space(SPACE.variables)).space.variables == SPACE.variables
    with pytest.raises(ConfigError, match="needs the space hooks"):
        make_strategy("darts", space=SPACE)


@pytest.mark.parametrize("name", ANY_SPACE)
def test_valid_never_repeated_and_resumed_identically(name, tmp_path):
    s = make_strategy(name, space=SPACE, seed=3, state_path=tmp_path / "state.json")
    seen = set()
    for _ in range(12):
        (c,) = s.ask()
        assert SPACE.parse(dict(c)) == c and SPACE.key(c) not in seen
        seen.add(SPACE.key(c))
        s.tell(c, {"val_acc": score(c)})
    resumed = Strategy.load(tmp_path / "state.json", space=SPACE)
    assert resumed.ask(2) == s.ask(2)


def queries_to_optimum(name, seed, budget=80):
    s = make_strategy(name, space=SPACE, seed=seed)
    for q in range(1, budget + 1):
        (c,) = s.ask()
        s.tell(c, {"val_acc": score(c)})
        if score(c) == OPTIMUM:
            return q
    return budget + 1


def test_boed_finds_a_known_optimum_in_fewer_evaluations_than_random():
    boed = [queries_to_optimum("boed", seed) for seed in range(3)]
    rand = [queries_to_optimum("random", seed) for seed in range(3)]
    assert np.mean(boed) < np.mean(rand), (boed, rand)


def test_a_space_of_a_billion_configurations():
    big = Space([Integer(f"x{i}", 0, 9) for i in range(9)], name="big")
    s = make_strategy("boed", space=big, seed=0, n_samples=64)
    seen = set()
    for _ in range(12):
        (c,) = s.ask()
        assert big.parse(dict(c)) == c and big.key(c) not in seen
        seen.add(big.key(c))
        s.tell(c, {"val_acc": -sum((c[f"x{i}"] - 7) ** 2 for i in range(9))})
    (a, b) = s.ask(2)  # a batch: the second pick sees the first as pending
    assert a != b and big.key(a) not in seen and big.key(b) not in seen


def test_proposals_are_candidates_in_every_generated_pool():
    big = Space([Integer(f"x{i}", 0, 9) for i in range(9)], name="big")
    proposed = [big.parse({f"x{i}": v for i in range(9)}) for v in (3, 5, 7)]
    s = make_strategy("boed", space=big, seed=0, n_samples=64, n_init=2, proposals=proposed)
    asked = []
    for q in range(4):
        (c,) = s.ask()
        asked.append(c)
        if q >= 2:  # a GP pick: the pool it scored holds the proposals, the unevaluated third too
            keys = {big.key(u) for u in s.universe}
            assert all(big.key(p) in keys for p in proposed)
        s.tell(c, {"val_acc": -sum((c[f"x{i}"] - 7) ** 2 for i in range(9))})
    assert asked[:2] == proposed[:2]  # evaluated first, as on NB201


def test_run_objective_records_failures_and_resumes(tmp_path):
    s = make_strategy("boed", space=SPACE, seed=1)
    traj = run_objective(s, objective, 12, out=tmp_path / "run")
    assert len(traj) == 12 and list(traj["query"]) == list(range(1, 13))
    resumed = RunFolder(tmp_path / "run").load_strategy(space=SPACE)
    traj = run_objective(resumed, objective, 30, out=tmp_path / "run")
    assert len(traj) == 30 and len(resumed.history) == 30
    failed = traj[traj["failed"]]
    assert all("out of memory" in e for e in failed["error"])
    assert all(json.loads(k)["flops"] > 0 for k in traj["known_costs"])
    logged = [json.loads(line) for line in (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()]
    assert len({e["cell"] for e in logged}) == len(logged) == 30  # each evaluation once


def test_cli_search_on_your_own_space(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    ref = "tests.spaces.user_objective"
    out = str(tmp_path / "run")
    assert main(["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--budget", "8",
                 "--out", out]) == 0
    assert main(["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--budget", "11",
                 "--out", out, "--resume"]) == 0
    text = capsys.readouterr().out
    assert "11 evaluations" in text and "recommended by boed" in text
    assert len(pd.read_csv(tmp_path / "run" / "trajectory.csv")) == 11
    capsys.readouterr()
    assert main(["search", "--space", f"{ref}:SPACE", "--out", str(tmp_path / "x")]) == 2
    assert "--space and --objective go together" in capsys.readouterr().err
    assert main(["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--dataset", "cifar100",
                 "--out", str(tmp_path / "x")]) == 2
    assert "belong to searches on the NB201 table" in capsys.readouterr().err


def test_a_state_saved_without_a_space_ref_says_how_to_load_it(tmp_path):
    from boed_nas.errors import StateError
    from boed_nas.spaces import Categorical

    space = Space([Categorical("op", ["a", "b", "c"])])  # no ref: not importable by name
    s = make_strategy("random", space=space, seed=0, state_path=tmp_path / "state.json")
    (c,) = s.ask()
    s.tell(c, {"val_acc": 1.0})
    with pytest.raises(StateError, match=r"space=SPACE"):
        Strategy.load(tmp_path / "state.json")
    assert Strategy.load(tmp_path / "state.json", space=space).history == s.history


FLOPS_BOUND = 4 * 32 ** 2  # the optimum (depth 4, width 32) sits on the bound


@pytest.mark.parametrize("name", ANY_SPACE)
def test_a_cost_bound_is_never_crossed_and_resumes_bounded(name, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    space = load_space("tests.spaces.user_objective:SPACE").bounded(f"flops<={FLOPS_BOUND}")
    assert space.ref == f"tests.spaces.user_objective:SPACE|flops<={float(FLOPS_BOUND)!r}"
    valid = [c for c in SPACE.enumerate() if SPACE.costs(c)["flops"] <= FLOPS_BOUND]
    assert space.enumerate() == valid and 0 < len(valid) < len(SPACE.enumerate())
    s = make_strategy(name, space=space, seed=1, state_path=tmp_path / "state.json")
    for _ in range(15):
        (c,) = s.ask()
        assert SPACE.costs(c)["flops"] <= FLOPS_BOUND
        s.tell(c, {"val_acc": score(c)})
    assert SPACE.costs(s.recommend())["flops"] <= FLOPS_BOUND
    resumed = Strategy.load(tmp_path / "state.json")  # the bounded space, rebuilt from its ref
    assert resumed.space.enumerate() == valid and resumed.ask(3) == s.ask(3)


def test_bad_cost_bounds_name_what_is_wrong():
    from boed_nas.errors import SpaceError
    from boed_nas.spaces import Categorical

    with pytest.raises(SpaceError, match=r"no cost 'latency' to bound; its costs are \['flops'\]"):
        SPACE.bounded({"latency": 0.01})
    with pytest.raises(ConfigError, match="malformed constraint 'flops<'"):
        SPACE.bounded("flops<")
    with pytest.raises(ConfigError, match="bound 'lots' is not a number"):
        SPACE.bounded("flops<=lots")
    with pytest.raises(SpaceError, match="has no known costs"):
        Space([Categorical("op", ["a", "b"])], name="plain").bounded("flops<=1")
    with pytest.raises(SpaceError, match="rejects every configuration"):
        SPACE.bounded("flops<=1").enumerate()
    assert SPACE.bounded({}) is SPACE


def test_cli_search_under_a_cost_bound(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    ref = "tests.spaces.user_objective"
    args = ["search", "--space", f"{ref}:SPACE", "--objective", f"{ref}:objective", "--constraint",
            f"flops<={FLOPS_BOUND}", "--out", str(tmp_path / "run")]
    assert main(args + ["--budget", "6"]) == 0
    assert main(args + ["--budget", "10", "--resume"]) == 0
    logged = [json.loads(line) for line in (tmp_path / "run" / "evaluations.jsonl").read_text().splitlines()]
    assert len(logged) == 10 and all(SPACE.costs(SPACE.parse(e["cell"]))["flops"] <= FLOPS_BOUND for e in logged)
    assert f"[flops<={float(FLOPS_BOUND)!r}]" in capsys.readouterr().out
    assert main(args[:-2] + ["--constraint", "latency<=1", "--out", str(tmp_path / "x")]) == 2
    assert "no cost 'latency' to bound" in capsys.readouterr().err
