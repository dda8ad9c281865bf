"""The macro space (boed_nas.blueprint.space): blueprints, their strings, choice groups, neighbours."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from boed_nas.blueprint import (
    Blueprint,
    BlueprintConfig,
    BlueprintSpace,
    StageSpec,
    parse_stages,
)
from tests.blueprint.helpers import TINY_SPACE

torch.set_num_threads(1)


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


def test_search_space_is_the_macro_space_as_a_space_of_your_own():
    import numpy as np

    from boed_nas.blueprint.cost import network_flops
    from boed_nas.blueprint.space import BlueprintSpace

    bs = BlueprintSpace()
    space = bs.search_space()
    assert space.size == bs.size()
    rng = np.random.default_rng(0)
    for _ in range(5):
        c = space.sample(rng)
        bp = bs.blueprint_of(c)
        assert bs.validate(bp) == bp
        assert space.costs(c) == {"flops": float(network_flops(bp, bs))}
