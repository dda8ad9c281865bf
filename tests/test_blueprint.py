"""Blueprint search (boed_nas.blueprint): macro space, gates, width adapters, exact expected cost, budget.

Tiny spaces and data: the whole file runs in well under a minute on one core.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from boed_nas.bilevel import Architect, make_splits, sample_gumbel
from boed_nas.blueprint import (
    Blueprint,
    BlueprintConfig,
    BlueprintCosts,
    BlueprintNetwork,
    BlueprintPenalties,
    BlueprintSpace,
    BlueprintSupernet,
    GatedBlock,
    StageSpec,
    argmax_blueprint,
    baseline_blueprint,
    blueprint_log_prob,
    count_flops,
    derive,
    group_mixing,
    group_probs,
    measure_latency_table,
    network_flops,
    network_params,
    parse_stages,
    run_blueprint,
    search_blueprint,
    space_costs,
)
from boed_nas.blueprint.discretise import group_log_probs

torch.set_num_threads(1)

TINY_STAGES = "2,4:2:1;4,6:3:2"
TINY_SPACE = BlueprintSpace(parse_stages(TINY_STAGES), kernels=(1, 3), stem_channels=3, in_channels=1,
                            num_classes=10, input_size=8)  # digits: 1 x 8 x 8, 10 classes
TINY_RUN = dict(stages=TINY_STAGES, kernels=(1, 3), stem_channels=3, epochs=2, warmup_epochs=0, batch_size=16,
                data_limit=80, retrain_epochs=1, verbose=False, threads=1)


@pytest.fixture(scope="module")
def tiny_costs():
    return BlueprintCosts(TINY_SPACE)


@pytest.fixture(scope="module")
def digits_costs():
    return space_costs(BlueprintSpace())


def _one_hot(space, bp):
    return torch.as_tensor(space.one_hot(bp), dtype=torch.float32)


def _warm_bn(model, shape, steps=3):
    """A few training-mode passes so BatchNorm running statistics are not the identity."""
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(torch.randn(shape) * 2 + 0.5)
    model.eval()


# ------------------------------------------------------------------------------ the space
def test_blueprint_string_round_trip_and_canonical_form():
    bp = Blueprint.from_str("16[3,5,-]|32[3,-,-]|64[5,3,3]")
    assert str(bp) == "16[3,5,-]|32[3,-,-]|64[5,3,3]"
    assert bp.depths == (2, 1, 3) and bp.kept_kernels(0) == (3, 5)
    assert Blueprint.from_str(" 16 [3, 5, -] | 32[3,-,-]|64[5,3,3] ") == bp
    assert str(Blueprint.from_str("8[3,-,5]").canonical()) == "8[3,5,-]"
    space = BlueprintSpace()
    rng = np.random.default_rng(0)
    for _ in range(50):
        b = space.sample(rng)
        assert space.parse(str(b)) == b
        assert space.from_indices(space.to_indices(b)) == b


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("16[3,5", "malformed"),
    ("16[3,x,-]", "'x'"),
    ("16[-,3]", "layer 0 is mandatory"),
    ("0[3]", "width must be an integer >= 1"),
    ("16[]", "token ''"),
])
def test_bad_blueprint_strings_are_rejected_with_the_defect_named(text, needle):
    with pytest.raises(ValueError, match=needle.replace("[", r"\[")):
        Blueprint.from_str(text)


@pytest.mark.parametrize("text, needle", [
    ("8[3,-,-]|16[1,-,-]", "has 2 stages, the space has 3"),
    ("12[3,-,-]|16[1,-,-]|32[1,-,-]", "width 12 is not a candidate"),
    ("8[3,-]|16[1,-,-]|32[1,-,-]", "lists 2 layers, the space has depth 3"),
    ("8[3,-,-]|16[7,-,-]|32[1,-,-]", "kernel 7 is not a candidate"),
])
def test_blueprints_outside_the_space_are_rejected(text, needle):
    with pytest.raises(ValueError, match=needle):
        BlueprintSpace().parse(text)


def test_space_validation_errors():
    with pytest.raises(ValueError, match="odd positive"):
        BlueprintSpace(kernels=(1, 2))
    with pytest.raises(ValueError, match="distinct"):
        StageSpec((8, 8))
    with pytest.raises(ValueError, match="stage depth"):
        StageSpec((8,), depth=0)
    with pytest.raises(ValueError, match="w,w,w:depth:stride"):
        parse_stages("8,16:x:1")
    with pytest.raises(ValueError, match="budget_metric"):
        BlueprintConfig(budget_metric="latency")
    with pytest.raises(ValueError, match="warmup_epochs"):
        BlueprintConfig(epochs=2, warmup_epochs=2)


def test_space_size_counts_distinct_blueprints_and_neighbours_differ_in_one_choice():
    sp = TINY_SPACE
    every = {sp.from_indices(idx) for idx in itertools.product(*[range(len(g.options)) for g in sp.groups()])}
    assert len(every) == sp.size()
    bp = sp.parse("4[3,-]|6[1,3,-]")
    nbs = sp.neighbours(bp)
    assert len(nbs) == len(set(nbs)) and bp not in nbs
    for nb in nbs:
        diff = sum(a != b for a, b in zip(bp.widths, nb.widths))
        diff += sum(a != b for ka, kb in zip(bp.kernels, nb.kernels) for a, b in zip(ka, kb))
        assert diff == 1  # one width, one kernel, or one block kept/bypassed
    # 2 widths; 3 kept layers x 1 other kernel; 1 kept block bypassed; 2 bypassed blocks x 2 kernels
    assert len(nbs) == 2 + 3 + 1 + 4
    assert sp.mutate(bp, 0) in nbs


# ------------------------------------------------------------------------------ width adapters
def test_width_adapters_keep_every_candidate_at_the_common_shape():
    sp = BlueprintSpace(parse_stages("2,3,5:2:1;4,7:2:2"), kernels=(1, 3, 5), stem_channels=3, input_size=(8, 6))
    sup = BlueprintSupernet(sp)
    x_in = {0: torch.randn(2, 3, 8, 6), 1: torch.randn(2, 5, 8, 6)}
    for s, st in enumerate(sp.stages):
        h, w = sp.stage_output_size(s)
        for ell, layer in enumerate(sup.stages[s]):
            mixed = layer if ell == 0 else layer.block
            x = x_in[s] if ell == 0 else torch.randn(2, st.common_width, h, w)
            for ki, k in enumerate(sp.kernels):
                for wi, width in enumerate(st.widths):
                    c = sup.candidate_index(s, ki, wi)
                    raw = mixed.ops[c](x)
                    assert raw.shape == (2, width, h, w)
                    out = mixed.candidate(c, x)
                    assert out.shape == (2, st.common_width, h, w), (s, ell, k, width)
                    assert isinstance(mixed.adapters[c], torch.nn.Identity) == (width == st.common_width)
            # any mixture has the common shape too, and gradients reach every adapter
            mix = torch.softmax(torch.randn(len(mixed.ops)), 0)
            out = mixed(x, mix)
            assert out.shape == (2, st.common_width, h, w)
            out.sum().backward()
            for c, a in enumerate(mixed.adapters):
                if not isinstance(a, torch.nn.Identity):
                    assert a.proj[0].weight.grad is not None and a.proj[0].weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------------ depth gates
def test_gate_module_at_zero_is_identity_and_at_one_is_the_residual_block():
    torch.manual_seed(0)
    from boed_nas.blueprint.network import make_layer

    body = make_layer(4, 4, 3)
    gated = GatedBlock(torch.nn.Sequential(body))
    x = torch.randn(2, 4, 5, 5)
    body.eval()
    assert torch.equal(gated(x, torch.tensor(0.0)), x)
    assert torch.allclose(gated(x, torch.tensor(1.0)), x + body(x))


@pytest.mark.parametrize("stage, layer", [(0, 1), (1, 1), (1, 2)])
def test_supernet_gate_at_zero_or_one_reproduces_the_network_without_or_with_the_block(stage, layer):
    sp = TINY_SPACE
    torch.manual_seed(stage * 10 + layer)
    sup = BlueprintSupernet(sp)
    _warm_bn(sup, (16, 1, 8, 8))
    # every stage at its common width (no adapter between candidate and output), random kernels, all blocks kept
    rng = np.random.default_rng(layer)
    kernels = [[int(rng.choice(sp.kernels)) for _ in range(st.depth)] for st in sp.stages]
    with_block = Blueprint(tuple(st.common_width for st in sp.stages), tuple(tuple(k) for k in kernels))
    kernels[stage][layer] = None
    without = Blueprint(with_block.widths, tuple(tuple(k) for k in kernels))
    x = torch.randn(5, 1, 8, 8)
    for bp in (with_block, without):
        w = _one_hot(sp, bp)
        g = sp.group("gate", stage, layer)
        assert w[g.start + 1] == (1.0 if bp is with_block else 0.0)  # the gate is at 1 / at 0
        net = sup.inherit(bp).eval()
        assert torch.allclose(sup(x, w), net(x), atol=1e-5), str(bp)
    # and the two networks really differ by that block
    assert sum(len(s) for s in BlueprintNetwork(with_block, sp).stages) == \
        sum(len(s) for s in BlueprintNetwork(without, sp).stages) + 1
    assert not torch.allclose(sup(x, _one_hot(sp, with_block)), sup(x, _one_hot(sp, without)))


def test_inherit_refuses_narrow_widths():
    sup = BlueprintSupernet(TINY_SPACE)
    with pytest.raises(ValueError, match="common width"):
        sup.inherit("2[1,-]|6[1,-,-]")


def test_hard_mode_runs_one_candidate_per_layer_and_passes_gradient_to_every_group():
    sp = TINY_SPACE
    sup = BlueprintSupernet(sp)
    alpha = torch.zeros(sp.n_logits, requires_grad=True)
    w, hard = group_mixing(alpha, sp.groups(), 1.0, "hard", sample_gumbel((sp.n_logits,), torch.Generator().manual_seed(0)))
    assert len(hard) == len(sp.groups())
    for g, h in zip(sp.groups(), hard):
        assert torch.allclose(w[g.slice].detach(), torch.nn.functional.one_hot(torch.tensor(h), len(g.options)).float())
    sup(torch.randn(4, 1, 8, 8), w, hard).sum().backward()
    for g in sp.groups():
        assert alpha.grad[g.slice].abs().sum() > 0, g.name


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


def test_hinge_is_zero_inside_the_budget_and_quadratic_outside(tiny_costs):
    sp = TINY_SPACE
    p = torch.as_tensor(sp.one_hot(sp.largest()))
    e = float(tiny_costs.expected(p))
    pen = BlueprintPenalties(tiny_costs, budget=e * 2, budget_weight=3.0)
    assert float(pen.cost(p)) == 0.0
    pen = BlueprintPenalties(tiny_costs, budget=e / 2, budget_weight=3.0)
    assert float(pen.cost(p)) == pytest.approx(3.0 * (e - e / 2) ** 2 / (e / 2) ** 2)
    assert BlueprintPenalties(tiny_costs).cost(p) is None


# ------------------------------------------------------------------------------ search and pipeline
def test_search_is_seeded_and_the_architect_moves_every_group():
    short = {**TINY_RUN, "data_limit": 48}
    cfg = BlueprintConfig(**short, seed=1, budget=0.01)
    a = search_blueprint(cfg)
    b = search_blueprint(cfg)
    assert np.array_equal(a.alpha, b.alpha)
    c = search_blueprint(BlueprintConfig(**short, seed=2, budget=0.01))
    assert not np.array_equal(a.alpha, c.alpha)
    assert len(a.history) == cfg.epochs + 1 and "expected_flops_M" in a.history[-1]
    kinds = {r["kind"] for r in a.alpha_history}
    assert kinds == {"width", "kernel", "gate"}
    start = np.array([r["alpha"] for r in a.alpha_history if r["epoch"] == 0])
    assert start.shape == a.alpha.shape
    for g in a.space.groups():
        assert np.abs(a.alpha[g.slice] - start[g.slice]).max() > 1e-3, g.name  # every choice was searched


def test_second_order_architect_step_runs_on_the_blueprint_supernet(tiny_costs):
    sp = TINY_SPACE
    torch.manual_seed(0)
    model = BlueprintSupernet(sp)
    arch = Architect(model, order=2, penalties=BlueprintPenalties(tiny_costs, budget=0.001))
    batch = (torch.randn(8, 1, 8, 8), torch.arange(8) % 3)
    before = model.alpha.detach().clone()
    log = arch.step(batch, batch, lambda a: group_mixing(a, sp.groups()), lambda a: group_probs(a, sp.groups()), 0.01)
    assert log["cost_penalty"] > 0 and not torch.equal(before, model.alpha.detach())


def test_pipeline_meets_the_budget_and_writes_its_files(tmp_path, tiny_costs):
    budget = 0.5 * sum(tiny_costs.range("flops_M"))
    cfg = BlueprintConfig(**TINY_RUN, seed=0, budget=budget)
    s = run_blueprint(cfg, out=tmp_path, time_latency=False)
    assert s["derived"]["flops_M"] <= budget and s["within_budget"]
    assert s["baseline"]["flops_M"] <= budget
    assert s["accuracy_gap"] == pytest.approx(s["supernet_val_acc"] - s["derived"]["val_acc"])
    assert s["cost_gap"]["derived_minus_expected_flops_M"] == pytest.approx(
        s["derived"]["flops_M"] - s["expected"]["flops_M"])
    for f in ("summary.json", "history.csv", "alpha_history.csv", "gate_history.csv", "blueprint.png"):
        assert (tmp_path / f).stat().st_size > 0, f
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["derived_blueprint"] == s["derived_blueprint"]
    import pandas as pd

    gates = pd.read_csv(tmp_path / "gate_history.csv")
    assert set(gates.columns) >= {"epoch", "stage", "layer", "p_keep"}
    assert len(gates) == (cfg.epochs + 1) * sum(st.depth - 1 for st in TINY_SPACE.stages)


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


def test_cli_blueprint_runs_and_rejects_bad_input(tmp_path, capsys):
    from boed_nas.cli import main

    args = ["blueprint", "--stages", TINY_STAGES, "--kernels", "1,3", "--stem-channels", "3", "--epochs", "2",
            "--warmup-epochs", "0", "--batch-size", "16", "--data-limit", "80", "--retrain-epochs", "1", "--quiet",
            "--no-baseline", "--budget", "0.02", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "derived blueprint" in capsys.readouterr().out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["derived"]["flops_M"] <= 0.02
    assert main(args[:-4] + ["--budget", "1e-9", "--out", str(tmp_path / "x")]) == 2
    assert "below the cheapest blueprint" in capsys.readouterr().err
    assert main(args[:-2] + ["--out", str(tmp_path / "y"), "--kernels", "2,4"]) == 2


def test_make_splits_holds_out_a_test_split_without_changing_the_default():
    a = make_splits("digits", 0.5, 3)
    b = make_splits("digits", 0.5, 3, test_fraction=0.2)
    assert a.x_test is None and b.x_test is not None
    n = len(a.x_train) + len(a.x_val)
    assert len(b.x_train) + len(b.x_val) + len(b.x_test) == n and len(b.x_test) == round(0.2 * n)
    with pytest.raises(ValueError, match="test_fraction"):
        make_splits("digits", 0.5, 3, test_fraction=1.0)


def test_cli_lambda_sweep_writes_the_family_and_lambda_lowers_the_expected_cost(tmp_path):
    import pandas as pd

    from boed_nas.cli import main

    args = ["blueprint", "--stages", TINY_STAGES, "--kernels", "1,3", "--stem-channels", "3", "--epochs", "2",
            "--warmup-epochs", "0", "--batch-size", "16", "--data-limit", "80", "--retrain-epochs", "1", "--quiet",
            "--lambdas", "0,50", "--lam-metric", "flops_M", "--no-baseline", "--out", str(tmp_path)]
    assert main(args) == 0
    df = pd.read_csv(tmp_path / "sweep.csv")
    assert list(df.lam) == [0.0, 50.0] and df.pareto_flops.dtype == bool
    assert df.expected_flops_M[1] < df.expected_flops_M[0]
    for lam in ("0", "50"):
        assert (tmp_path / f"lam_{lam}" / "summary.json").exists()
    assert (tmp_path / "sweep.png").stat().st_size > 0
