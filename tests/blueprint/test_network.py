"""The blueprint networks (boed_nas.blueprint.network): width adapters, depth gates, the supernet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.bilevel import sample_gumbel
from boed_nas.blueprint import (
    Blueprint,
    BlueprintNetwork,
    BlueprintSpace,
    BlueprintSupernet,
    GatedBlock,
    group_mixing,
    parse_stages,
)
from tests.blueprint.helpers import TINY_SPACE, _one_hot, _warm_bn

torch.set_num_threads(1)


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


def test_a_training_that_records_its_learning_curve_is_the_training_without():
    from boed_nas.bilevel.data import make_splits
    from boed_nas.blueprint.train import train_blueprint

    splits = make_splits("digits", val_fraction=0.3, test_fraction=0.2, seed=0, limit=200)
    bp = TINY_SPACE.sample(np.random.default_rng(0))
    plain = train_blueprint(bp, TINY_SPACE, splits, epochs=3, seed=1, batch_size=32)
    curve = train_blueprint(bp, TINY_SPACE, splits, epochs=3, seed=1, batch_size=32, curve=True)
    assert "val_curve" not in plain and len(curve["val_curve"]) == len(curve["seconds_curve"]) == 3
    assert curve["val_curve"][-1] == plain["val_acc"] == curve["val_acc"] and curve["test_acc"] == plain["test_acc"]
    assert curve["seconds_curve"] == sorted(curve["seconds_curve"]) and curve["seconds_curve"][-1] <= curve["train_seconds"] + 1e-9
