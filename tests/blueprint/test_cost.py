"""Exact expected cost (boed_nas.blueprint.cost): counted FLOPs and params, the latency table."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from boed_nas.blueprint import (
    BlueprintCosts,
    BlueprintSpace,
    count_flops,
    group_probs,
    measure_latency_table,
    network_flops,
    network_params,
    parse_stages,
    space_costs,
)
from tests.blueprint.helpers import TINY_SPACE

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits_costs():
    return space_costs(BlueprintSpace())


# ------------------------------------------------------------------------------ exact expected cost
def test_expected_flops_equal_counted_flops_for_one_hot_choices(digits_costs):
    sp = digits_costs.space
    rng = np.random.default_rng(0)
    bps = [sp.smallest(), sp.largest()] + [sp.sample(rng) for _ in range(8)]
    for bp in bps:
        counted = network_flops(bp, sp)  # FlopCounterMode on the whole built network
        e = digits_costs.expected(torch.as_tensor(sp.one_hot(bp), dtype=torch.float64), "flops_M")
        assert float(e) * 1e6 == pytest.approx(counted, rel=1e-12, abs=1e-6), str(bp)
        assert digits_costs.flops(bp) == counted
        assert digits_costs.params(bp) == network_params(bp, sp)
    assert len({digits_costs.flops(b) for b in bps}) > 5  # the check is not vacuous


def test_expected_cost_is_the_exact_expectation_over_the_product_distribution(tiny_costs):
    sp = TINY_SPACE
    torch.manual_seed(0)
    alpha = torch.randn(sp.n_logits, dtype=torch.float64)
    p = group_probs(alpha, sp.groups())
    groups = sp.groups()
    total = 0.0
    for idx in itertools.product(*[range(len(g.options)) for g in groups]):
        prob = float(np.prod([p[g.start + i] for g, i in zip(groups, idx)]))
        total += prob * tiny_costs.of(sp.from_indices(idx), "flops_M")
    assert float(tiny_costs.expected(p, "flops_M")) == pytest.approx(total, rel=1e-10)


def test_expected_cost_is_differentiable_in_the_logits(tiny_costs):
    sp = TINY_SPACE
    alpha = torch.zeros(sp.n_logits, dtype=torch.float64, requires_grad=True)
    e = tiny_costs.expected(group_probs(alpha, sp.groups()), "flops_M")
    (g,) = torch.autograd.grad(e, alpha)
    # raising a gate's "keep" logit or a wider width's logit raises the expected FLOPs
    gate = sp.group("gate", 1, 1)
    width = sp.group("width", 1)
    assert g[gate.start + 1] > 0 > g[gate.start]
    assert g[width.start + 1] > 0 > g[width.start]
    # and matches a finite difference
    eps = 1e-6
    a2 = alpha.detach().clone()
    a2[width.start + 1] += eps
    fd = (tiny_costs.expected(group_probs(a2, sp.groups()), "flops_M") - e.detach()) / eps
    assert float(fd) == pytest.approx(float(g[width.start + 1]), rel=1e-4)


def test_flop_counter_counts_a_single_conv_as_two_flops_per_multiply_add():
    conv = torch.nn.Conv2d(3, 5, 3, padding=1, bias=False)
    assert count_flops(conv, (1, 3, 4, 4)) == 2 * 3 * 5 * 9 * 16


def test_latency_table_covers_every_part_and_predicts_blueprints(tiny_costs):
    table = measure_latency_table(TINY_SPACE, min_run_time=0.001)
    assert (table.median_ms > 0).all() and (table.iqr_ms >= 0).all()
    costs = tiny_costs.with_latency(table)
    assert "latency" not in tiny_costs.metrics and "latency" in costs.metrics
    # a blueprint's predicted latency is the sum of its parts' medians (no timing is asserted here)
    med = {(r.part, r.c_in, r.c_out, r.kernel, r.stride, r.h, r.w): r.median_ms for r in table.itertuples()}
    parts = [("stem", 1, 3, 3, 1, 8, 8), ("layer", 3, 2, 1, 1, 8, 8), ("layer", 2, 4, 1, 2, 8, 8),
             ("block", 4, 4, 3, 1, 4, 4), ("head", 4, 10, 0, 1, 4, 4)]
    assert costs.of("2[1,-]|4[1,-,3]", "latency") == pytest.approx(sum(med[p] for p in parts), rel=1e-9)
    other = BlueprintSpace(parse_stages("2,5:2:1"), kernels=(1, 3), stem_channels=3, num_classes=3, input_size=8)
    with pytest.raises(ValueError, match="no entry"):
        BlueprintCosts(other, latency_table=table)
