"""The BOED controller (boed_nas.bo.controller): ask/tell on a known landscape, refits, batches, resume."""

import numpy as np
import pytest

from boed_nas import Strategy
from boed_nas.bo.controller import BOEDController
from boed_nas.nb201.space import Cell
from tests.bo.helpers import BEST, small, synthetic


def queries_to_best(strategy, budget, seed):
    rng = np.random.default_rng(seed)
    for q in range(1, budget + 1):
        (c,) = strategy.ask()
        strategy.tell(c, {"val_acc": synthetic(c, rng)})
        if c.canonical() == BEST:
            return q
    return budget + 1


def test_information_gain_beats_random_on_a_known_optimum():
    from boed_nas.registry import make_strategy

    boed = [queries_to_best(small(seed=s, n_init=8), 50, s) for s in range(3)]
    rand = [queries_to_best(make_strategy("random", seed=s), 50, s) for s in range(3)]
    assert np.mean(boed) < np.mean(rand)
    assert max(boed) <= 50  # found every time


@pytest.mark.parametrize("refit", [{}, {"refit_every": 4}, {"cold_start_every": 3}, {"random_every": 3}])
def test_resume_after_crash_continues_identically(tmp_path, refit):
    def run(ctl, n, rng):
        out = []
        for _ in range(n):
            (c,) = ctl.ask()
            ctl.tell(c, {"val_acc": synthetic(c, rng)})
            out.append(str(c))
            ctl.recommend()  # as the harness does; must not perturb the trajectory
        return out

    full = run(small(seed=4, n_init=5, **refit), 16, np.random.default_rng(0))
    path = tmp_path / "boed.json"
    rng = np.random.default_rng(0)
    first = run(small(seed=4, n_init=5, state_path=path, **refit), 10, rng)
    resumed = Strategy.load(path)
    assert isinstance(resumed, BOEDController) and resumed.n_samples == 128
    assert all(getattr(resumed, k) == v for k, v in refit.items())
    assert first + run(resumed, 6, rng) == full


def test_random_every_interleaves_uniform_draws_on_a_fixed_schedule():
    # n_init=3, random_every=3: asks 0-2 are the design; of asks 3..11 the 3rd, 6th and 9th after
    # the design (positions 5, 8, 11) are random draws, which neither fit nor add a report
    rng = np.random.default_rng(3)
    ctl = small(seed=1, n_init=3, random_every=3, random_when="always")
    turns = []
    for _ in range(12):
        turns.append(ctl._random_turn())
        before = len(ctl.reports)
        (c,) = ctl.ask()
        assert len(ctl.reports) == before + (len(ctl.history) >= 3 and not turns[-1])
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
    assert [i for i, t in enumerate(turns) if t] == [5, 8, 11]
    # pending asks count: a batch of 4 asked at position 12 holds the random turn at position 14
    batch = ctl.ask(4)
    assert len({b.canonical() for b in batch}) == 4 and len(ctl.reports) == 6 + 1
    default = small(seed=1).config
    assert (default.random_every, default.random_when) == (10, "stalled")  # the default since 2026-12-07


@pytest.mark.parametrize("improving", [True, False])
def test_random_turns_when_stalled_come_only_after_random_every_asks_without_a_better_observation(improving):
    ctl = small(seed=1, n_init=3, random_every=3, random_when="stalled")
    turns = []
    for q in range(12):
        turns.append(ctl._random_turn())
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": float(q) if improving else 1.0})  # each better than all before, or none after the first
    # improving: never stalled; flat: the design's last ask (position 2) was the last better one, so
    # positions 5, 8 and 11 (3, 6 and 9 asks later) are random
    assert [i for i, t in enumerate(turns) if t] == ([] if improving else [5, 8, 11])
    with pytest.raises(ValueError, match="unknown random_when 'never'"):
        BOEDController(random_when="never")


def test_hyperparameters_are_refitted_every_refit_every_tells():
    rng = np.random.default_rng(1)
    ctl = small(seed=2, n_init=3, refit_every=3)
    fitted = []  # (history size, size at the last marginal-likelihood fit, hyperparameters)
    for _ in range(12):
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
        if ctl.fit() is not None:  # from two successes on
            fitted.append((len(ctl.history), ctl.belief.hyper["fitted_at"], ctl.belief.hyper["params"]))
    refits = [n for n, at, _ in fitted if at == n]
    assert refits == [2, 5, 8, 11], refits  # the first fit, then every third tell
    for (_, _, before), (n, at, p) in zip(fitted, fitted[1:]):
        if at != n:
            assert p == before  # conditioned on the new cell with the hyperparameters kept
        else:
            assert p != before
    with pytest.raises(ValueError, match="refit_every must be an integer >= 1"):
        small(refit_every=0)


def test_the_start_from_the_defaults_is_added_every_cold_start_every_tells(monkeypatch):
    import boed_nas.bo.model as controller  # the belief part fits the GP

    starts = []
    real = controller.fit_belief

    def logged(*a, **kw):
        starts.append(kw.get("cold_start", True) or kw.get("init") is None)
        return real(*a, **kw)

    monkeypatch.setattr(controller, "fit_belief", logged)
    rng = np.random.default_rng(1)
    ctl = small(seed=2, n_init=3, cold_start_every=4)
    for _ in range(12):
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
        ctl.fit()
    # fits at 2..12 tells: the first has no warm start; then defaults again at 6 and 10 only
    assert starts == [True, False, False, False, True, False, False, False, True, False, False], starts
    with pytest.raises(ValueError, match="cold_start_every must be an integer >= 1"):
        small(cold_start_every=0)


def test_batches_are_distinct_and_pending_cells_are_respected():
    ctl = small(seed=0, n_init=6)
    rng = np.random.default_rng(0)
    for c in ctl.ask(6):
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
    batch = ctl.ask(4)
    assert len({c.canonical() for c in batch}) == 4
    more = ctl.ask(2)  # the first batch is still pending
    assert not {c.canonical() for c in more} & {c.canonical() for c in batch}
    ctl.tell(batch[0], None)  # a failed trial
    ctl.forget_pending(batch[1])  # an abandoned one
    for c in [batch[2], batch[3], *more]:
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
    (nxt,) = ctl.ask()
    assert nxt.canonical() != batch[0].canonical()
    report = ctl.reports[-1]
    assert 0 <= report["prob_best"] <= 1 and report["argmax_entropy"] >= 0
    assert report["observations"] == 10  # failures are not observations of the metric


@pytest.mark.parametrize("acq", ["mes", "jes", "ei", "ucb", "ts"])
def test_every_acquisition_proposes_new_cells(acq):
    ctl = small(seed=1, n_init=5, acquisition=acq)
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(8):
        (c,) = ctl.ask()
        assert c.canonical() not in seen
        seen.add(c.canonical())
        ctl.tell(c, {"val_acc": synthetic(c, rng)})


def test_recommendation_is_by_posterior_mean_not_the_luckiest_observation():
    ctl = small(seed=0, n_init=3)
    good = Cell.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    # many near-identical good cells, one lucky outlier whose neighbours are all poor
    for nb in good.neighbours()[:12]:
        ctl.tell(nb, {"val_acc": 90.0 if nb.ops.count(3) >= 4 else 85.0})
    lucky = Cell((4, 4, 4, 4, 4, 1))
    ctl.tell(lucky, {"val_acc": 90.5})
    for nb in lucky.neighbours()[:10]:
        if ctl.is_new(nb):
            ctl.tell(nb, {"val_acc": 60.0})
    assert ctl.best_observed().cell == lucky
    assert ctl.recommend() != lucky


def test_bad_arguments_and_metrics():
    with pytest.raises(ValueError, match=r"unknown kernel 'rbf'.*categorical"):
        BOEDController(kernel="rbf")
    with pytest.raises(ValueError, match=r"unknown acquisition 'pi'.*es"):
        BOEDController(acquisition="pi")
    with pytest.raises(ValueError, match="n_init must be an integer >= 1"):
        BOEDController(n_init=0)
    with pytest.raises(ValueError, match="random_every must be an integer >= 0, got -1"):
        BOEDController(random_every=-1)
    with pytest.raises(ValueError, match="op_prior must be"):
        BOEDController(op_prior=np.ones((5, 5)))
    ctl = small(seed=0)
    (c,) = ctl.ask()
    with pytest.raises(ValueError, match="'val_acc' = nan is not finite"):
        ctl.tell(c, {"val_acc": float("nan")})
    assert ctl.history == []


def test_op_prior_and_proposals_are_used():
    prior = np.full((6, 5), 0.05)
    prior[:, 3] = 0.8
    top = Cell((3,) * 6)
    ctl = small(seed=0, n_init=3, proposals=[str(top)], op_prior=prior)
    assert ctl.ask()[0] == top
    rng = np.random.default_rng(0)
    ctl.tell(top, {"val_acc": synthetic(top, rng)})
    for _ in range(5):
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": synthetic(c, rng)})
    model, _ = ctl.fit()
    assert model.mean_module.__class__.__name__ == "PriorScoreMean"


def test_failed_cells_are_never_proposed_again(c10):
    from boed_nas.bo.controller import BOEDController

    ctl = BOEDController(seed=4, n_init=3)
    failed = []
    for i in range(10):
        (cell,) = ctl.ask()
        if i % 3 == 2:
            ctl.tell(cell, None)  # a failed training
            failed.append(cell.canonical())
        else:
            ctl.tell(cell, c10.evaluate(cell))
    for _ in range(4):
        (cell,) = ctl.ask()
        assert cell.canonical() not in failed
        ctl.tell(cell, c10.evaluate(cell))


@pytest.mark.parametrize("mode", ["believer", "fantasy", "ignore"])
def test_pending_cells_are_never_proposed_and_each_mode_is_seeded(mode):
    """boed with pending cells (other workers' trainings): never one of them, and the same cells for
    the same seed, whichever way the belief takes them in."""
    from boed_nas.nb201.benchmark import NB201Benchmark
    from boed_nas.registry import make_strategy

    def run():
        s = make_strategy(f"boed[pending={mode!r},n_init=3,n_samples=32,plausible_size=64]", seed=5)
        bench = NB201Benchmark("cifar100", seed=5)
        for cell in s.ask(3):
            s.tell(cell, bench.evaluate(cell))
        running = s.ask(3)  # three workers busy
        (cell,) = s.ask(1)
        assert cell.canonical() not in {c.canonical() for c in running}
        return [str(c) for c in running] + [str(cell)]

    assert run() == run()
