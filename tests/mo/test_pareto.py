import numpy as np
import pytest
from pymoo.indicators.hv import HV

from boed_nas.mo.pareto import (
    OBJECTIVES,
    KnownCosts,
    ParetoProblem,
    hypervolume,
    hypervolume_report,
    non_dominated,
    parse_constraint,
    parse_objectives,
)
from boed_nas.nb201.space import N_CELLS, Cell, canonical_cells


def brute_force_front(F: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """Indices of rows no other row dominates, by the definition, in chunks."""
    G = F * np.where(maximize, -1.0, 1.0)
    keep = np.ones(len(G), dtype=bool)
    for a in range(0, len(G), 500):
        rows = G[a : a + 500]
        le = (G[None, :, :] <= rows[:, None, :]).all(-1)  # other j weakly better than i
        lt = (G[None, :, :] < rows[:, None, :]).any(-1)
        keep[a : a + 500] = ~(le & lt).any(1)
    return np.flatnonzero(keep)


ACC_LAT = parse_objectives("accuracy,latency")


# ----------------------------------------------------------------------------- objectives
def test_objectives_are_read_with_names_and_directions():
    objs = parse_objectives("latency, accuracy,flops")
    assert [o.name for o in objs] == ["accuracy", "latency", "flops"]  # accuracy first, then costs as given
    assert [o.direction for o in objs] == ["maximize", "minimize", "minimize"]
    assert objs[0].learned and not objs[1].learned


@pytest.mark.parametrize("spec, msg", [
    ("accuracy,speed", "unknown objective 'speed'; expected one of ['accuracy', 'latency', 'flops', 'params']"),
    ("acc", "unknown objective 'acc'; expected one of"),
    ("latency,flops", "lack 'accuracy'"),
    ("accuracy,latency,latency", "repeat a name"),
    ("accuracy,latency,flops,params", "expected 1 to 3"),
    ("", "name no objective"),
])
def test_bad_objectives_are_rejected_listing_the_valid_ones(spec, msg):
    with pytest.raises(ValueError, match=msg.replace("[", r"\[").replace("(", r"\(")):
        parse_objectives(spec)


def test_constraints_parse_and_reject_bad_input():
    assert parse_constraint("latency<=0.012") == ("latency", 0.012)
    assert parse_constraint(" flops <= 100 ") == ("flops", 100.0)
    with pytest.raises(ValueError, match="on 'accuracy'; expected a known cost"):
        parse_constraint("accuracy<=90")
    with pytest.raises(ValueError, match="malformed constraint 'latency<0.01'"):
        parse_constraint("latency<0.01")


def test_known_costs_from_arrays_and_callables_agree_and_check_shape():
    arr = np.arange(N_CELLS, dtype=float)
    a = KnownCosts({"latency": arr})
    b = KnownCosts({"latency": lambda cell: cell.code})
    assert np.array_equal(a["latency"], b["latency"])
    with pytest.raises(ValueError, match="one value per cell code"):
        KnownCosts({"latency": arr[:10]})
    with pytest.raises(ValueError, match="unknown cost 'energy'"):
        KnownCosts({"energy": arr})
    with pytest.raises(ValueError, match="non-finite"):
        KnownCosts({"flops": np.full(N_CELLS, np.nan)})
    with pytest.raises(ValueError, match="no known cost 'flops'"):
        ParetoProblem("accuracy,flops", a)


# ----------------------------------------------------------------------------- fronts
@pytest.mark.parametrize("m", [2, 3])
def test_non_dominated_agrees_with_brute_force_on_a_small_table_with_ties(m):
    rng = np.random.default_rng(m)
    F = rng.integers(0, 12, size=(400, m)).astype(float)  # many ties and duplicates
    objs = parse_objectives(["accuracy", "latency", "flops"][:m])
    expected = brute_force_front(F, [True] + [False] * (m - 1))
    assert np.array_equal(non_dominated(F, objs), expected)


def test_true_front_over_a_synthetic_table_agrees_with_brute_force():
    # a synthetic table over all 15,625 codes with few distinct values (many ties); whether a cell
    # is dominated depends only on its values, so the brute force runs over the distinct pairs
    rng = np.random.default_rng(0)
    acc = rng.integers(0, 30, N_CELLS).astype(float)
    lat = rng.integers(0, 30, N_CELLS).astype(float)

    def brute(mask):
        F = np.stack([acc, lat], 1)[mask]
        pairs, inverse = np.unique(F, axis=0, return_inverse=True)
        on = np.zeros(len(pairs), dtype=bool)
        on[brute_force_front(pairs, [True, False])] = True
        return np.flatnonzero(mask)[on[inverse.ravel()]]

    rep = hypervolume_report(ACC_LAT, acc, KnownCosts({"latency": lat}))
    assert np.array_equal(np.sort(rep.true_front), brute(np.ones(N_CELLS, dtype=bool)))
    assert len(rep.true_front) > 2
    # the reference point is the worst value of each objective over the full table
    assert rep.reference_point.tolist() == [acc.min(), lat.max()]
    # a constrained true front is the brute-force front of the feasible cells
    ok = lat <= 15
    rep_c = hypervolume_report(ACC_LAT, acc, KnownCosts({"latency": lat}), feasible=ok)
    assert np.array_equal(np.sort(rep_c.true_front), brute(ok))
    # cells over the bound count for nothing: evaluating every cell gives exactly the true front
    assert rep_c.ratio(np.arange(N_CELLS)) == pytest.approx(1.0)
    assert rep_c.hypervolume(np.flatnonzero(~ok)) == 0.0


# ----------------------------------------------------------------------------- hypervolume
def test_hypervolume_on_hand_made_fronts_matches_hand_computation_and_pymoo():
    # two points, accuracy maximised, latency minimised, reference (0, 3):
    # boxes [0, 90] x [2, 3] and [0, 80] x [1, 2] -> 90 + 80
    F = np.array([[90.0, 2.0], [80.0, 1.0]])
    assert hypervolume(F, [0.0, 3.0], ACC_LAT) == pytest.approx(170.0)
    assert hypervolume(F, [0.0, 3.0], ACC_LAT) == pytest.approx(HV(ref_point=np.array([0.0, 3.0]))(F * [-1, 1]))
    # a dominated point, a duplicate and a point beyond the reference change nothing
    G = np.vstack([F, [[70.0, 2.5], [90.0, 2.0], [95.0, 4.0]]])
    assert hypervolume(G, [0.0, 3.0], ACC_LAT) == pytest.approx(170.0)
    # three objectives: one box 10 x 2 x 3, then a second point adding 5 x 1 x 3 - overlap
    objs = parse_objectives("accuracy,latency,flops")
    one = np.array([[10.0, 1.0, 0.0]])
    assert hypervolume(one, [0.0, 3.0, 3.0], objs) == pytest.approx(60.0)
    two = np.vstack([one, [[5.0, 0.0, 2.0]]])
    # second box [0,5] x [0,3] x [2,3] = 15; overlap with the first: [0,5] x [1,3] x [2,3] = 10
    assert hypervolume(two, [0.0, 3.0, 3.0], objs) == pytest.approx(60.0 + 15.0 - 10.0)
    assert hypervolume(two, [0.0, 3.0, 3.0], objs) == pytest.approx(
        HV(ref_point=np.array([0.0, 3.0, 3.0]))(two * [-1, 1, 1]))
    assert hypervolume(np.empty((0, 2)), [0.0, 3.0], ACC_LAT) == 0.0


def test_hypervolume_ratio_is_one_on_the_true_front_and_below_on_a_subset(c10):
    costs = KnownCosts.nb201("cifar10")
    rep = hypervolume_report(ACC_LAT, c10.val_mean, costs)
    assert rep.ratio(rep.true_front) == pytest.approx(1.0)
    assert rep.ratio(np.arange(N_CELLS)) == pytest.approx(1.0)
    sub = rep.ratio(rep.true_front[::2])
    assert 0 < sub < 1
    s = rep.summary(rep.true_front[::2])
    assert s["hypervolume_ratio"] == pytest.approx(sub)
    assert set(s["reference_point"]) == {"accuracy", "latency"}
    assert s["reference_point"]["accuracy"] == pytest.approx(c10.val_mean.min())
    assert all(set(r) == {"cell", "accuracy", "latency"} for r in s["front"])
    # recompute from the summary alone, as a reader would
    F = np.array([[r["accuracy"], r["latency"]] for r in s["front"]])
    ref = np.array([s["reference_point"]["accuracy"], s["reference_point"]["latency"]])
    assert HV(ref_point=ref * [-1, 1])(F * [-1, 1]) == pytest.approx(s["hypervolume"])


# ----------------------------------------------------------------------------- the problem
def test_problem_evaluates_the_cheapest_feasible_member_of_each_class():
    costs = KnownCosts.nb201("cifar10")
    lat = costs["latency"]
    p = ParetoProblem("accuracy,latency", costs, ["latency<=0.012"])
    assert len(p.pool) == len(canonical_cells())
    members: dict[int, list[int]] = {}
    for code in range(N_CELLS):
        members.setdefault(Cell.from_code(code).canonical().code, []).append(code)
    for i in np.random.default_rng(0).choice(len(p.pool), 300, replace=False):
        rep = p.classes[i]
        cell = p.pool[i]
        assert cell.canonical() == rep
        ok = [c for c in members[rep.code] if lat[c] <= 0.012]
        assert p.feasible[i] == bool(ok)
        if ok:
            assert lat[cell.code] == min(lat[c] for c in ok)
    assert set(OBJECTIVES) == {"accuracy", "latency", "flops", "params"}
