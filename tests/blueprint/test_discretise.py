"""Deriving a blueprint under a hard budget (boed_nas.blueprint.discretise): repair, baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.blueprint import (
    argmax_blueprint,
    baseline_blueprint,
    blueprint_log_prob,
    choice_prior,
    derive,
    network_flops,
)
from boed_nas.blueprint.discretise import group_log_probs
from tests.blueprint.helpers import TINY_SPACE

torch.set_num_threads(1)


# ------------------------------------------------------------------------------ budget
def test_derived_blueprint_never_exceeds_the_budget(tiny_costs):
    sp = TINY_SPACE
    lo, hi = tiny_costs.range("flops_M")
    rng = np.random.default_rng(0)
    repaired = 0
    for trial in range(40):
        alpha = rng.normal(0, 2, sp.n_logits)
        budget = float(rng.uniform(lo, hi))
        bp, rep = derive(alpha, sp, tiny_costs, budget, "flops_M")
        assert network_flops(bp, sp) / 1e6 <= budget + 1e-12, (str(bp), budget)
        assert rep["within_budget"] and rep["counted_cost"] <= budget
        am = argmax_blueprint(alpha, sp)
        if tiny_costs.of(am, "flops_M") <= budget:
            assert bp == am and not rep["repaired"]  # the argmax is kept when it fits
        else:
            repaired += 1
            assert rep["repaired"] and rep["repair_steps"][-1]["cost_after"] <= budget
            costs = [tiny_costs.of(am, "flops_M")] + [s["cost_after"] for s in rep["repair_steps"]]
            assert all(a > b for a, b in zip(costs, costs[1:]))  # every step lowers the cost
    assert 5 < repaired < 40  # both branches exercised


def test_repair_takes_the_single_step_that_loses_least_probability(tiny_costs):
    sp = TINY_SPACE
    largest = sp.largest()
    alpha = 4.0 * sp.one_hot(largest)
    gate = sp.group("gate", 1, 2)
    alpha[gate.start] = alpha[gate.start + 1] - 0.1  # nearly indifferent about the last block
    budget = tiny_costs.of(largest, "flops_M") - 1e-9
    bp, rep = derive(alpha, sp, tiny_costs, budget, "flops_M")
    assert len(rep["repair_steps"]) == 1 and rep["repair_steps"][0]["choice"] == gate.name
    assert bp.kernels[1][2] is None and bp.widths == largest.widths
    lp = group_log_probs(alpha, sp)
    assert rep["derived_log_prob"] == pytest.approx(blueprint_log_prob(lp, sp, bp))


def test_infeasible_budget_is_a_clear_error(tiny_costs):
    lo, _ = tiny_costs.range("flops_M")
    with pytest.raises(ValueError, match="below the cheapest blueprint"):
        derive(np.zeros(TINY_SPACE.n_logits), TINY_SPACE, tiny_costs, lo / 2, "flops_M")
    # a budget equal to the cheapest network's counted FLOPs is feasible (float round-off is not an excess)
    bp, rep = derive(np.zeros(TINY_SPACE.n_logits), TINY_SPACE, tiny_costs, network_flops(TINY_SPACE.smallest(), TINY_SPACE) / 1e6)
    assert rep["within_budget"] and tiny_costs.flops(bp) == network_flops(TINY_SPACE.smallest(), TINY_SPACE)
    with pytest.raises(ValueError, match="exactly counted metric"):
        derive(np.zeros(TINY_SPACE.n_logits), TINY_SPACE, tiny_costs, 1.0, "latency")
    with pytest.raises(ValueError, match="finite vector"):
        derive(np.zeros(3), TINY_SPACE, tiny_costs, None)


def test_baseline_is_uniform_and_within_budget(tiny_costs):
    sp = TINY_SPACE
    lo, hi = tiny_costs.range("flops_M")
    for budget in np.linspace(lo, hi, 7):
        bp = baseline_blueprint(sp, tiny_costs, float(budget))
        assert tiny_costs.of(bp, "flops_M") <= budget + 1e-12
        assert len({k for ks in bp.kernels for k in ks if k is not None}) == 1


def test_choice_prior_is_the_supernets_belief_over_the_search_space():
    """log P(config) of the prior on ``search_space()`` is the blueprint's log-probability, it sums to 1
    over the space, and most_probable ranks the configurations by it."""
    alpha = np.random.default_rng(3).normal(size=TINY_SPACE.n_logits) * 2
    space = TINY_SPACE.search_space(flops=False)
    prior = choice_prior(alpha, TINY_SPACE, space)
    lp = group_log_probs(alpha, TINY_SPACE)
    configs = space.enumerate()
    mine = np.array([prior.log_prob(c) for c in configs])
    theirs = np.array([blueprint_log_prob(lp, TINY_SPACE, TINY_SPACE.blueprint_of(c)) for c in configs])
    assert np.allclose(mine, theirs) and np.isclose(np.logaddexp.reduce(mine), 0.0)
    top = prior.most_probable(3)
    assert [prior.log_prob(c) for c in top] == pytest.approx(sorted(mine, reverse=True)[:3])
