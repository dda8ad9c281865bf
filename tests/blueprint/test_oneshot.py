"""The one-shot supernet (boed_nas.blueprint.oneshot): single-path uniform training, estimates per blueprint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boed_nas.blueprint import Blueprint, BlueprintSupernet
from boed_nas.blueprint.oneshot import OneShotEstimator, train_one_shot
from boed_nas.errors import ConfigError
from tests.blueprint.helpers import TINY_SPACE, _one_hot

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def splits():
    from boed_nas.bilevel.data import make_splits

    return make_splits("digits", val_fraction=0.3, test_fraction=0.2, seed=0, limit=200)


def test_a_single_path_forward_is_the_inherited_network(splits):
    """The estimate scores ``bp``'s path only: with one-hot weights and hard indices the supernet is the
    discrete network of ``bp`` with the supernet's weights (a blueprint at the common widths)."""
    sp = TINY_SPACE
    torch.manual_seed(0)
    sup = BlueprintSupernet(sp).eval()
    bp = Blueprint(tuple(st.common_width for st in sp.stages),
                   tuple((sp.kernels[0],) + (None,) * (st.depth - 1) for st in sp.stages))
    x = splits.x_val[:7]
    assert torch.allclose(sup(x, _one_hot(sp, bp), list(sp.to_indices(bp))), sup.inherit(bp).eval()(x), atol=1e-5)


def test_the_same_seed_gives_the_same_estimates_and_an_estimate_leaves_the_supernet_as_it_was(splits):
    a = train_one_shot(TINY_SPACE, splits, epochs=2, seed=3, batch_size=32, recalibrate_batches=2)
    b = train_one_shot(TINY_SPACE, splits, epochs=2, seed=3, batch_size=32, recalibrate_batches=2)
    c = train_one_shot(TINY_SPACE, splits, epochs=2, seed=4, batch_size=32, recalibrate_batches=2)
    assert a.train_seconds > 0
    bps = [TINY_SPACE.sample(np.random.default_rng(i)) for i in range(6)]
    buffers = {k: v.clone() for k, v in a.supernet.state_dict().items()}
    first = [a.estimate(bp) for bp in bps]
    assert all(torch.equal(v, a.supernet.state_dict()[k]) for k, v in buffers.items())  # BN statistics restored
    assert [acc for acc, _ in first] == [a.estimate(bp)[0] for bp in bps]  # so every estimate repeats
    assert [acc for acc, _ in first] == [b.estimate(bp)[0] for bp in bps]
    assert [acc for acc, _ in first] != [c.estimate(bp)[0] for bp in bps]
    assert all(0 <= acc <= 100 and s > 0 for acc, s in first)
    assert len({acc for acc, _ in first}) > 1  # the paths differ


def test_a_trained_supernet_scores_well_above_an_untrained_one_and_bad_settings_are_refused():
    from boed_nas.bilevel.data import make_splits
    from boed_nas.blueprint import BlueprintSpace, parse_stages

    space = BlueprintSpace(parse_stages("8,16:2:1"), kernels=(1, 3), stem_channels=8, in_channels=1, num_classes=10,
                           input_size=8)
    splits = make_splits("digits", val_fraction=0.3, test_fraction=0.2, seed=0, limit=400)
    bps = [space.sample(np.random.default_rng(i)) for i in range(8)]
    torch.manual_seed(0)
    untrained = OneShotEstimator(BlueprintSupernet(space), splits)
    est = train_one_shot(space, splits, epochs=30, seed=0, batch_size=32)
    trained = np.median([est.estimate(bp)[0] for bp in bps])
    assert trained > 25 and trained > np.median([untrained.estimate(bp)[0] for bp in bps]) + 10
    with pytest.raises(ConfigError, match="epochs"):
        train_one_shot(space, splits, epochs=0)
    with pytest.raises(ConfigError, match="recalibrate_batches"):
        OneShotEstimator(est.supernet, splits, recalibrate_batches=-1)
    with pytest.raises(ValueError, match="not a candidate"):
        est.estimate("99[1,-]")
