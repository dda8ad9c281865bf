"""NASLib interop: its op_indices are another encoding of a cell; its proxy names are aliases."""

from __future__ import annotations

import numpy as np
import pytest

from boed_nas import make_strategy
from boed_nas.errors import ConfigError, SpaceError
from boed_nas.nb201.space import Cell, all_cells, canonical_cells


def test_naslib_op_indices_are_not_boed_op_ids():
    # NASLib: ops (skip_connect, none, nor_conv_3x3, nor_conv_1x1, avg_pool_3x3); edges by source
    # node first: (0,1), (0,2), (0,3), (1,2), (1,3), (2,3). Its convert_op_indices_to_str would write:
    cell = Cell.from_naslib([0, 1, 2, 3, 4, 0])
    assert str(cell) == "|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|"
    assert Cell((0, 1, 2, 3, 4, 0)) != cell  # read as boed op ids, the same six ints are another cell
    assert Cell.from_naslib([2] * 6) == Cell.from_names(["nor_conv_3x3"] * 6)


def test_from_and_to_naslib_are_inverse_on_every_cell():
    cells = list(all_cells())
    assert all(Cell.from_naslib(c.to_naslib()) == c for c in cells)
    assert len({c.to_naslib() for c in cells}) == len(cells)


@pytest.mark.parametrize("bad", [[0] * 5, [0, 1, 2, 3, 4, 5], "012340", [0, 1, 2, 3, 4, True], None])
def test_bad_naslib_indices_are_a_space_error(bad):
    with pytest.raises(SpaceError, match="NASLib op_indices"):
        Cell.from_naslib(bad)


def test_naslib_proxy_names_and_signals_keyed_by_arch_string():
    by_alias = make_strategy("boed[signals='nwot+jacov']", seed=0)
    ours = make_strategy("boed[signals='naswot+jacob_cov']", seed=0)
    assert by_alias.get_params()["signals"] == ours.get_params()["signals"] == ["naswot", "jacob_cov"]
    with pytest.raises(ConfigError, match="twice"):
        make_strategy("boed[signals='nwot+naswot']", seed=0)
    # a table keyed by arch string over all 15,625 cells (NASLib's zero-cost benchmark's keying):
    # each class gets the mean of its members
    rng = np.random.default_rng(0)
    table = {str(c): float(rng.normal()) for c in all_cells()}
    s = make_strategy("boed", seed=0, signals={"mine": table})
    members: dict = {}
    for c in all_cells():
        members.setdefault(c.canonical(), []).append(table[str(c)])
    expected = [np.mean(members[c]) for c in canonical_cells()]
    assert s.get_params()["signals"]["mine"] == pytest.approx(expected)
    partial = dict(list(table.items())[:100])
    with pytest.raises(ConfigError, match="no value for"):
        make_strategy("boed", seed=0, signals={"mine": partial})
    with pytest.raises(ConfigError, match="not a cell"):
        make_strategy("boed", seed=0, signals={"mine": {"|bad|": 1.0}})
