"""One error hierarchy: every bad input raises a BoedNasError (a ValueError) of the kind it is."""

from __future__ import annotations

import math

import pytest

import boed_nas.errors as errors
from boed_nas import Cell, make_strategy
from boed_nas.nb201.benchmark import NB201Benchmark


def test_every_error_is_a_boed_nas_error_and_a_value_error():
    kinds = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    assert len(kinds) == 12
    for k in kinds:
        if k is errors.ClusterError:  # not bad input: a lost cluster is a connection failure
            assert issubclass(k, ConnectionError) and not issubclass(k, ValueError)
        else:
            assert issubclass(k, errors.BoedNasError) and issubclass(k, ValueError)


def test_each_kind_of_bad_input_raises_its_own_error(tmp_path):
    with pytest.raises(errors.SpaceError, match="bogus_op"):
        Cell.from_str("|bogus_op~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(errors.SpaceError):
        Cell.from_code(15625)
    with pytest.raises(errors.UnknownDatasetError, match="mnist"):
        NB201Benchmark("mnist")
    with pytest.raises(errors.UnknownStrategyError, match="nope"):
        make_strategy("nope")
    with pytest.raises(errors.ConfigError, match="kernel"):
        make_strategy("boed[kernel=bogus]")
    s = make_strategy("random", seed=0)
    (cell,) = s.ask()
    with pytest.raises(errors.OutcomeError, match="nan"):
        s.tell(cell, {"val_acc": math.nan})
    with pytest.raises(errors.OutcomeError, match="val_acc"):
        s.tell(cell, {"loss": 1.0})
    s.tell(cell, {"val_acc": 90.0})
    with pytest.raises(errors.DuplicateTellError):
        s.tell(cell, {"val_acc": 91.0})
    garbage = tmp_path / "state.json"
    garbage.write_text("{not json")
    with pytest.raises(errors.StateError):
        s.load(garbage)
