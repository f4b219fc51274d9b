"""The network combined with its references on the tails (combination="auto").

The combination is written into the linear head, so the combined model's
forecast must be exactly the weighted sum of the network's and each
reference's forecast through the whole predict path (scaling, differencing,
deseasonalisation undone); a reference alone must be the smoothing model fitted
on the raw series (scale and translation equivariant); the weights are the
least absolute error on the tails.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.estimators.forecaster import combination
from tsrnn.smoothing import reference_paths


def trending(n=60, n_series=6, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_series):
        t = np.arange(n)
        y = 50 + (0.5 + 0.2 * s) * t + np.cumsum(rng.normal(scale=0.5, size=n))
        rows.append(pd.DataFrame({"unique_id": f"s{s}", "ds": t, "y": y}))
    return pd.concat(rows, ignore_index=True)


def fit_quiet(model, *a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*a)


def small(**kw):
    # float64: the combination's linearity is checked to 1e-9
    base = dict(horizon=4, hidden_size=4, max_iter=3, random_state=0, dtype="float64")
    return RNNForecaster(**{**base, **kw})


def test_simplex_grid():
    g = combination.simplex_grid(5, 10)
    assert g.shape == (math.comb(14, 4), 5)  # multisets of 10 steps over 5 parts
    np.testing.assert_allclose(g.sum(axis=1), 1.0)
    assert (g >= 0).all()
    assert len(np.unique(np.round(g * 10).astype(int), axis=0)) == len(g)


def test_grid_errors_kernel_equals_the_naive_sum():
    from tsrnn.kernels.combination import grid_abs_errors

    rng = np.random.default_rng(0)
    c, t = rng.normal(size=(37, 5)), rng.normal(size=37)
    g = combination.simplex_grid(5, 10)
    out = np.full(len(g), np.nan)
    grid_abs_errors(c, t, np.ascontiguousarray(g.T), out)
    naive = [sum(abs(c[p] @ w - t[p]) for p in range(len(t))) for w in g]
    np.testing.assert_allclose(out, naive, rtol=1e-13)
    out0 = np.full(3, np.nan)  # no points: zero error everywhere
    grid_abs_errors(np.zeros((0, 2)), np.zeros(0), np.ones((2, 3)), out0)
    np.testing.assert_array_equal(out0, 0.0)


def test_tail_weights_pick_the_candidate_that_is_right():
    rng = np.random.default_rng(0)
    P = 300
    c = rng.normal(size=(P, 2, 5))
    t = np.stack([c[:, 0, 3], c[:, 1, 0]], axis=1)  # target 0 = ref 3, 1 = network
    w = combination.tail_weights(c, t, np.ones((P, 2)))
    np.testing.assert_array_equal(w, [[[0, 0, 0, 1, 0], [1, 0, 0, 0, 0]]])
    # the halfway mix of two candidates is found on the grid
    t2 = (0.5 * c[:, 0, 1] + 0.5 * c[:, 0, 4])[:, None]
    w2 = combination.tail_weights(c[:, :1], t2, np.ones((P, 1)))
    np.testing.assert_allclose(w2, [[[0, 0.5, 0, 0, 0.5]]])


def test_tail_weights_per_step():
    rng = np.random.default_rng(1)
    P = 400
    c = rng.normal(size=(P, 1, 5))
    steps = np.arange(P) % 2
    # step 0's target is the network, step 1's is drift (the last reference)
    t = np.where(steps == 0, c[:, 0, 0], c[:, 0, 4])[:, None]
    w = combination.tail_weights(c, t, np.ones((P, 1)), steps, n_steps=3)
    np.testing.assert_array_equal(
        w[:, 0], [[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [1, 0, 0, 0, 0]]  # step 2: no data
    )
    pooled = combination.tail_weights(c, t, np.ones((P, 1)), n_steps=3)
    assert (pooled == pooled[0]).all()


def test_tail_weights_ties_and_no_points_keep_the_network():
    c = np.ones((50, 1, 5))  # every candidate the same: all tie
    w = combination.tail_weights(c, np.ones((50, 1)), np.ones((50, 1)))
    np.testing.assert_array_equal(w, [[[1, 0, 0, 0, 0]]])
    w = combination.tail_weights(c, np.zeros((50, 1)), np.zeros((50, 1)))
    np.testing.assert_array_equal(w, [[[1, 0, 0, 0, 0]]])


def _predict_combined(model, weights):
    """The fitted model's forecast with its head combined by ``weights`` (a copy)."""
    theta = model.params_.copy()
    combination.combine_head(model._net, theta, model._layout, np.asarray([weights]))
    saved = model.params_
    model.params_ = theta  # the direct head reads params_ at predict
    try:
        return model.predict()["y"].to_numpy()
    finally:
        model.params_ = saved


@pytest.mark.parametrize("differencing", [True, False])
def test_combined_head_is_the_weighted_sum_of_the_forecasts(differencing):
    """Linearity through predict: the scaler, differencing and the head undone."""
    model = fit_quiet(small(combination=None, differencing=differencing), trending())
    assert model.combination_weights_ is None
    w = np.array([0.3, 0.1, 0.2, 0.25, 0.15])
    combined = _predict_combined(model, w)
    parts = np.stack([_predict_combined(model, e) for e in np.eye(5)])
    np.testing.assert_allclose(combined, w @ parts, rtol=1e-9, atol=1e-9)
    # the network's part alone is the model as fitted
    np.testing.assert_allclose(parts[0], model.predict()["y"].to_numpy(), rtol=1e-12)


def test_a_reference_alone_is_the_smoothing_model_on_the_raw_series():
    """SES/damped/Theta/drift are scale and translation equivariant: the head's
    reference column, undone to the data's units, is the model on the raw series."""
    df = trending(n=50, n_series=3)
    h = 4
    model = fit_quiet(small(combination=None, early_stopping=False,
                            validation_fraction=0.0), df)
    for r, name in enumerate(("ses", "holt", "theta", "drift")):
        w = np.zeros(5)
        w[1 + r] = 1.0
        pred = _predict_combined(model, w).reshape(3, h)
        for s in range(3):
            y = df.loc[df.unique_id == f"s{s}", "y"].to_numpy()
            want = reference_paths(y, h)[name][-1]
            np.testing.assert_allclose(pred[s], want, rtol=1e-6, err_msg=name)


def test_auto_chooses_weights_on_the_tails_and_survives_save_load(tmp_path):
    df = trending(n=40, n_series=20)
    model = fit_quiet(small(), df)  # early_stopping "auto": refit protocol
    w = model.combination_weights_
    # (horizon_out, targets, network [+ seasonal naive] + references)
    assert w.shape == (4, 1, combination.n_candidates(model._layout))
    np.testing.assert_allclose(w.sum(axis=2), 1.0)
    assert (w >= 0).all()
    model.save(tmp_path / "m.npz")
    loaded = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.combination_weights_, w)
    np.testing.assert_array_equal(loaded.predict().y, model.predict().y)


def test_off_without_references_or_tails():
    df = trending(n=40, n_series=5)
    assert fit_quiet(small(references=None), df).combination_weights_ is None
    assert fit_quiet(small(early_stopping=False), df).combination_weights_ is None
    assert fit_quiet(small(combination=None), df).combination_weights_ is None


def test_a_gain_within_the_noise_keeps_the_network():
    """The one-standard-error rule: a mix barely better on the tails is not taken."""
    rng = np.random.default_rng(2)
    P = 200
    t = rng.normal(size=P)
    net = t + rng.normal(size=P)  # the network: error ~ N(0, 1)
    ref = t + rng.normal(size=P)  # a reference as good: mixing halves the variance
    c = (t + 5.0 * rng.normal(size=(5, P))).T[:, None, :]  # three poor references
    c[:, 0, 0], c[:, 0, 1] = net, ref
    w = combination.tail_weights(c, t[:, None], np.ones((P, 1)))
    np.testing.assert_allclose(w[0, 0, :2], [0.5, 0.5], atol=0.11)  # a real gain
    # a reference a hair better than the network on these points: noise
    c[:, 0, 1] = net + 0.02 * rng.normal(size=P)
    w = combination.tail_weights(c, t[:, None], np.ones((P, 1)))
    np.testing.assert_array_equal(w, [[[1, 0, 0, 0, 0]]])


def test_the_refit_model_is_the_network_alone_combined_by_the_weights():
    df = trending(n=40, n_series=20, seed=3)
    alone = fit_quiet(small(combination=None), df)
    auto = fit_quiet(small(), df)
    assert alone.selected_epochs_ == auto.selected_epochs_
    w = auto.combination_weights_
    theta = alone.params_.copy()
    combination.combine_head(alone._net, theta, alone._layout, w)
    np.testing.assert_allclose(auto.params_, theta, rtol=1e-12, atol=1e-15)


def test_the_standard_error_counts_origins_not_steps():
    """Steps of one origin share its error: five origins are five pieces of evidence."""
    rng = np.random.default_rng(4)
    n_orig, ho = 5, 60
    origins = np.repeat(np.arange(n_orig), ho)
    t = rng.normal(size=n_orig * ho)
    # the network misses origin 0 by 3 at every step; a reference gets it
    # right there and is a hair worse at the four others
    e_net = np.where(origins == 0, 3.0, 0.0)
    e_ref = np.where(origins == 0, 0.0, 0.01)
    c = (t + 5.0 * rng.normal(size=(5, t.size))).T[:, None, :]
    c[:, 0, 0], c[:, 0, 1] = t + e_net, t + e_ref
    mask = np.ones((t.size, 1))
    by_point = combination.tail_weights(c, t[:, None], mask)
    by_origin = combination.tail_weights(c, t[:, None], mask, origins=origins)
    # 300 "independent" points: a significant gain; 5 origins, one of which
    # carries the gain: within one standard error
    np.testing.assert_array_equal(by_point, [[[0, 1, 0, 0, 0]]])
    np.testing.assert_array_equal(by_origin, [[[1, 0, 0, 0, 0]]])


@pytest.mark.parametrize("limit", [10_000, 37])
def test_weights_from_the_pieces_points_equal_those_of_every_point(monkeypatch, limit):
    # a distributed fit's coordinator receives only the points tail_weights
    # scores (evenly spaced above MAX_POINTS), split over the pieces: the
    # weights must be those of every point at once
    monkeypatch.setattr(combination, "MAX_POINTS", limit)
    rng = np.random.default_rng(3)
    P, k, n = 300, 2, 5
    target = rng.normal(size=(P, k))
    cands = target[..., None] + rng.normal(scale=[1.0, 0.5, 0.8, 0.7, 0.9], size=(P, k, n))
    mask = (rng.random((P, k)) > 0.2).astype(float)
    origins = np.repeat(np.arange(P // 3), 3)
    want = combination.tail_weights(cands, target, mask, n_steps=3, origins=origins)
    assert not np.array_equal(want[0, :, 0], [1.0, 1.0])  # a mix is chosen
    cuts = [0, 45, 45, 180, P]  # one piece empty; pieces end on origins
    pieces = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    observed = np.array([(mask[p] > 0).sum(axis=0) for p in pieces])
    keep = combination.points_of_pieces(observed)
    points = []
    for j in range(k):
        c, t, o = [], [], []
        for p, kp in zip(pieces, keep, strict=True):
            rows = np.flatnonzero(mask[p][:, j] > 0)[kp[j]]
            c.append(cands[p][rows, j])
            t.append(target[p][rows, j])
            o.append(origins[p][rows])
        points.append((np.concatenate(c), np.concatenate(t), np.concatenate(o)))
        assert len(points[j][1]) == min(limit, int(observed[:, j].sum()))
    got = combination.weights_from_points(points, n_steps=3)
    np.testing.assert_array_equal(got, want)


def _seasonal_on(monkeypatch):
    monkeypatch.setattr(combination, "SEASONAL_CANDIDATES", True)


def test_seasonal_candidates_sit_between_the_network_and_the_references(monkeypatch):
    """The head's seasons (here the last value and a season of 4) are candidates
    1..S; combining with one of them alone forecasts that seasonal naive value."""
    _seasonal_on(monkeypatch)
    df = trending(n=48, n_series=3)
    h, m = 4, 4
    model = fit_quiet(small(combination=None, season_length=m, deseasonalize=None), df)
    layout = model._layout
    S, R = len(layout.seasons), layout.n_refs
    assert combination.n_candidates(layout) == 1 + S + R
    for q, lag in enumerate(layout.seasons):
        w = np.zeros(1 + S + R)
        w[1 + q] = 1.0
        pred = _predict_combined(model, w).reshape(3, h)
        for s in range(3):
            y = df.loc[df.unique_id == f"s{s}", "y"].to_numpy()
            want = y[-1] if lag == 1 else y[len(y) - lag + np.arange(h) % lag]
            np.testing.assert_allclose(pred[s], np.broadcast_to(want, (h,)),
                                       rtol=1e-9, err_msg=f"lag {lag}")


def test_seasonal_candidates_combine_linearly_and_old_weights_still_fit(monkeypatch):
    _seasonal_on(monkeypatch)
    model = fit_quiet(small(combination=None, season_length=4), trending())
    n = combination.n_candidates(model._layout)
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(n))
    parts = np.stack([_predict_combined(model, e) for e in np.eye(n)])
    np.testing.assert_allclose(_predict_combined(model, w), w @ parts,
                               rtol=1e-9, atol=1e-9)
    # weights without the seasonal candidates (model files of earlier versions)
    R = model._layout.n_refs
    old = np.r_[0.6, np.full(R, 0.4 / R)]
    new = np.r_[0.6, np.zeros(n - 1 - R), np.full(R, 0.4 / R)]
    np.testing.assert_allclose(_predict_combined(model, old),
                               _predict_combined(model, new), rtol=1e-12)
    with pytest.raises(ValueError, match="do not fit"):
        _predict_combined(model, np.full(n + 1, 1.0 / (n + 1)))


def test_the_tails_choose_the_seasonal_naive_where_it_is_right(monkeypatch):
    """A pure seasonal pattern of period 4 repeated exactly: the seasonal naive
    forecast is perfect on the tails, so the combination takes it over a
    network started at the last value and trained one epoch."""
    _seasonal_on(monkeypatch)
    rng = np.random.default_rng(5)
    rows = []
    for s in range(8):
        pattern = rng.normal(size=4) * 5
        y = 20 + np.tile(pattern, 15) + 0.01 * rng.normal(size=60)
        rows.append(pd.DataFrame({"unique_id": f"s{s}", "ds": np.arange(60), "y": y}))
    df = pd.concat(rows, ignore_index=True)
    model = fit_quiet(
        small(season_length=4, deseasonalize=None, reference="last",
              max_iter=1, early_stopping="holdout"),
        df,
    )
    w = model.combination_weights_[0, 0]
    lags = model._layout.seasons
    assert len(w) == 1 + len(lags) + model._layout.n_refs
    assert w[1 + lags.index(4)] >= 0.8, (lags, w)
