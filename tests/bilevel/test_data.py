"""Offline data sets and their seeded splits (boed_nas.bilevel.data)."""

from __future__ import annotations

import pytest
import torch

from boed_nas.bilevel import make_splits
from boed_nas.supernet import SearchConfig
from boed_nas.supernet import search_supernet as run_search
from tests.supernet.helpers import TINY

torch.set_num_threads(1)


def test_user_tensors_and_datasets_are_accepted():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, 8, 8, generator=g), torch.randint(0, 4, (40,), generator=g)
    s = make_splits((X, y), seed=0)
    assert s.in_channels == 3 and len(s.x_train) + len(s.x_val) == 40
    ds = torch.utils.data.TensorDataset(X, y)
    s2 = make_splits(ds, seed=0)
    assert torch.allclose(s.x_train, s2.x_train)
    r = run_search(SearchConfig(**{**TINY, "epochs": 1, "data_limit": None}, seed=0), data=(X, y))
    assert r.model.in_channels == 3 and r.model.num_classes <= 4
    digits = make_splits("digits", seed=0)
    assert digits.x_train.shape[1:] == (1, 8, 8) and len(digits.x_train) + len(digits.x_val) == 1797


def test_make_splits_holds_out_a_test_split_without_changing_the_default():
    a = make_splits("digits", 0.5, 3)
    b = make_splits("digits", 0.5, 3, test_fraction=0.2)
    assert a.x_test is None and b.x_test is not None
    n = len(a.x_train) + len(a.x_val)
    assert len(b.x_train) + len(b.x_val) + len(b.x_test) == n and len(b.x_test) == round(0.2 * n)
    with pytest.raises(ValueError, match="test_fraction"):
        make_splits("digits", 0.5, 3, test_fraction=1.0)
