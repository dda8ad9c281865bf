"""Per-cell signals in the belief: the prior mean, the kernel's inputs, the initial design."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from boed_nas.bo.belief import (
    CellFeatures,
    PriorScoreMean,
    fit_belief,
    parse_signal_use,
    posterior_mean_var,
    signal_scores,
)
from boed_nas.bo.controller import INIT_TOP_FRACTION, BOEDController
from boed_nas.errors import ConfigError
from boed_nas.nb201.space import N_CELLS, Cell, canonical_cells
from boed_nas.strategy import Strategy

from .helpers import POOL, synthetic

# a signal with no structure in the cell space: only a prior that reads it can find its optimum fast
SIGNAL = np.random.default_rng(7).normal(size=len(POOL))
BEST = int(np.argmax(SIGNAL))


def by_code(per_class: np.ndarray) -> np.ndarray:
    index = {c.code: i for i, c in enumerate(POOL)}
    return per_class[[index[Cell.from_code(k).canonical().code] for k in range(N_CELLS)]]


# ------------------------------------------------------------------------------ the belief
def test_signal_use_names_combine_and_bad_ones_are_config_errors():
    assert parse_signal_use("init+mean") == ("mean", "init")
    assert parse_signal_use("features") == ("features",)
    for bad in ("", "prior", "mean+mean", None):
        with pytest.raises(ConfigError, match="signal_use"):
            parse_signal_use(bad)


def test_signal_scores_are_normal_scores_of_mid_ranks_per_column():
    v = np.array([[10.0, 1.0], [30.0, 1.0], [20.0, 5.0], [40.0, 1.0]])
    got = signal_scores(v)
    np.testing.assert_allclose(got[:, 0], norm.ppf((np.array([1, 3, 2, 4]) - 0.5) / 4))
    np.testing.assert_allclose(got[:, 1], norm.ppf((np.array([2, 2, 4, 2]) - 0.5) / 4))  # ties share rank 2


def test_prior_score_mean_is_a_constant_plus_weighted_trailing_columns():
    m = PriorScoreMean(2, weight_sd=1.0)
    with torch.no_grad():
        m.constant.fill_(0.5)
        m.weight.copy_(torch.tensor([2.0, -1.0], dtype=torch.float64))
    x = torch.tensor([[9.0, 1.0, 3.0], [9.0, -2.0, 0.5]], dtype=torch.float64)
    assert torch.equal(m(x), torch.tensor([0.5 + 2 - 3, 0.5 - 4 - 0.5], dtype=torch.float64))
    assert [name for name, *_ in m.named_priors()] == ["weight_prior"]
    assert list(PriorScoreMean().named_priors()) == []  # the op prior's mean, as before: no prior


def test_signal_columns_sit_between_the_cell_encoding_and_the_op_prior():
    sig = by_code(np.stack([SIGNAL, -SIGNAL], axis=1))
    prior = np.random.default_rng(2).dirichlet(np.ones(5), size=6)
    cells = list(POOL[:9])
    for use, n_sig, n_mean in (("mean", 2, 3), ("features", 2, 1), ("init", 0, 1), ("mean+features", 2, 3)):
        f = CellFeatures("categorical+wl", op_prior=prior, signals=sig, signal_use=use)
        X = f(cells)
        plain = CellFeatures("categorical+wl", op_prior=prior)(cells)
        assert X.shape[1] == plain.shape[1] + n_sig and (f.n_signal_columns, f.n_mean) == (n_sig, n_mean)
        assert torch.equal(X[:, : plain.shape[1] - 1], plain[:, :-1]) and torch.equal(X[:, -1], plain[:, -1])
        if n_sig:
            np.testing.assert_array_equal(X[:, -3:-1].numpy(), sig[[c.code for c in cells]])
    with pytest.raises(ConfigError, match="signals must be"):
        CellFeatures("categorical", signals=np.ones((10, 1)))
    with pytest.raises(ConfigError, match="signals must be"):
        CellFeatures("categorical", signals=np.full((N_CELLS, 1), np.nan))


@pytest.mark.parametrize("use", ["mean", "features", "mean+features"])
def test_posterior_with_signals_is_gpytorchs_posterior(use):
    sig = by_code(np.stack([SIGNAL, np.random.default_rng(3).normal(size=len(POOL))], axis=1))
    prior = np.random.default_rng(2).dirichlet(np.ones(5), size=6)
    feats = CellFeatures("categorical+additive", op_prior=prior, signals=sig, signal_use=use)
    rng = np.random.default_rng(1)
    cells = [POOL[i] for i in rng.choice(len(POOL), 15, replace=False)]
    y = torch.tensor([synthetic(c) + SIGNAL[POOL.index(c)] for c in cells])
    model = fit_belief(feats(cells), ((y - y.mean()) / y.std())[:, None], feats)
    X = feats(list(POOL[100:160]))
    mean, var = posterior_mean_var(model, X, chunk=16)
    with torch.no_grad():
        post = model.posterior(X)
    assert torch.allclose(mean, post.mean.squeeze(-1), atol=1e-6)
    assert torch.allclose(var, post.variance.squeeze(-1), atol=1e-6)
    assert type(model.mean_module).__name__ == "PriorScoreMean"
    assert model.mean_module.weight.shape == ((3,) if "mean" in use else (1,))
    assert ("MaternKernel" in repr(model.covar_module)) == ("features" in use)


# ------------------------------------------------------------------------------ the controller
def queries_to_best(seed: int, budget: int, **kw) -> int | None:
    """Queries until the run evaluates the class where val_acc = 2 * signal + noise is highest."""
    ctl = BOEDController(seed=seed, n_samples=64, plausible_size=128, n_init=3, **kw)
    rng = np.random.default_rng(seed)
    for q in range(1, budget + 1):
        (c,) = ctl.ask()
        i = POOL.index(c.canonical())
        ctl.tell(c, {"val_acc": 2.0 * SIGNAL[i] + 0.05 * rng.normal()})
        if i == BEST:
            return q
    return None


@pytest.mark.parametrize("seed", [0, 1])
def test_a_signal_in_the_prior_mean_cuts_the_queries_to_the_optimum(seed):
    with_prior = queries_to_best(seed, 20, signals={"s": SIGNAL})
    assert with_prior is not None and with_prior <= 20
    assert queries_to_best(seed, 20) is None  # without it, 20 queries of 6,466 classes miss it


def test_without_signals_the_controller_proposes_what_it_did_before():
    # recorded with the default controller at commit 8b230fb, before signals existed; seeds 0 and 1
    # re-recorded with the seeded tie-break of the acquisition's argmax (seed 0 from its 7th pick,
    # seed 1 from its 6th: ties among the first GP picks; the initial design and seed 2 as recorded)
    before = {0: [13291, 9952, 2348, 10499, 13905, 8464, 12303, 10978],
              1: [7393, 14850, 12074, 13982, 13551, 12213, 8459, 15163],
              2: [13087, 1436, 12018, 7040, 13569, 12246, 4633, 11423]}
    for seed, codes in before.items():
        ctl = BOEDController(seed=seed, signals=None)
        rng = np.random.default_rng(seed)
        got = []
        for _ in range(len(codes)):
            (c,) = ctl.ask()
            ctl.tell(c, {"val_acc": synthetic(c, rng)})
            got.append(c.code)
        assert got == codes, seed
        assert ctl.get_params()["signals"] is None and type(ctl.fit()[0].mean_module).__name__ == "ConstantMean"


def test_init_draws_the_initial_design_from_the_top_classes_by_combined_signal():
    two = {"a": SIGNAL, "b": by_code(SIGNAL)}  # over the classes, and the same over the cell codes
    ctl = BOEDController(seed=0, n_init=6, signals=two, signal_use="init", n_samples=64, plausible_size=128)
    top = {c.code for c in np.array(POOL, dtype=object)[np.argsort(-SIGNAL)[: int(np.ceil(INIT_TOP_FRACTION * len(POOL)))]]}
    cells = []
    for _ in range(6):
        (c,) = ctl.ask()
        ctl.tell(c, {"val_acc": synthetic(c)})
        cells.append(c)
    assert {c.canonical().code for c in cells} <= top
    # kept diverse: no two of them differ in a single edge only
    assert min(sum(a != b for a, b in zip(x.canonical().ops, y.canonical().ops))
               for i, x in enumerate(cells) for y in cells[:i]) >= 2
    assert ctl.features.n_signal_columns == 0 and type(ctl.fit()[0].mean_module).__name__ == "ConstantMean"


def test_signal_settings_round_trip_through_the_saved_state(tmp_path, monkeypatch):
    from boed_nas.nb201 import signals

    shipped = pd.DataFrame({"synflow": SIGNAL, "flops": -SIGNAL}, index=pd.Index([c.code for c in POOL], name="code"))
    monkeypatch.setattr(signals, "load_signals", lambda: shipped)
    for kw in ({"signals": "synflow+flops", "signal_use": "mean+init"}, {"signals": {"mine": by_code(SIGNAL)},
                                                                          "signal_use": "features"}):
        path = tmp_path / "state.json"
        ctl = BOEDController(seed=3, n_init=3, n_samples=64, plausible_size=128, state_path=path, **kw)
        rng = np.random.default_rng(0)
        for _ in range(4):
            (c,) = ctl.ask()
            ctl.tell(c, {"val_acc": synthetic(c, rng)})
        params = json.loads(path.read_text())["params"]
        assert params["signal_use"] == kw["signal_use"]
        assert params["signals"] == (["synflow", "flops"] if isinstance(kw["signals"], str)
                                     else {"mine": SIGNAL.tolist()})  # a user's own: its values per class
        resumed = Strategy.load(path)
        assert resumed.get_params() == ctl.get_params()
        assert resumed.ask() == ctl.ask()


def test_bad_signals_are_config_errors(monkeypatch):
    from boed_nas.nb201 import signals

    def absent():
        raise ConfigError("the NB201 signal table ... build it with `python -m tools.build_nb201_signals`")

    monkeypatch.setattr(signals, "load_signals", absent)
    with pytest.raises(ConfigError, match="tools.build_nb201_signals"):
        BOEDController(signals=["synflow"])
    monkeypatch.setattr(signals, "load_signals", lambda: pd.DataFrame({"synflow": SIGNAL},
                                                                      index=[c.code for c in POOL]))
    with pytest.raises(ConfigError, match=r"unknown signals \['snap'\].*synflow"):
        BOEDController(signals="synflow,snap")
    monkeypatch.setattr(signals, "load_signals", lambda: pd.DataFrame({"synflow": SIGNAL[:10]},
                                                                      index=[c.code for c in POOL[:10]]))
    with pytest.raises(ConfigError, match="lacks 6456 of the 6466"):
        BOEDController(signals="synflow")
    with pytest.raises(ConfigError, match="must be an array over the 15625 cell codes"):
        BOEDController(signals={"s": np.ones(100)})
    with pytest.raises(ConfigError, match="non-finite"):
        BOEDController(signals={"s": np.full(len(canonical_cells()), np.inf)})
    with pytest.raises(ConfigError, match="distinct signal names"):
        BOEDController(signals=["a", "a"])
    with pytest.raises(ConfigError, match="signal_use"):
        BOEDController(signals={"s": SIGNAL}, signal_use="prior")
