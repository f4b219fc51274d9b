"""Online conformal: ``update`` refreshes the residuals behind ``predict_interval``.

The pool of calibration residuals keeps its size; every ``update`` puts in the
errors of the forecasts made from the state before the new rows and drops as
many of the oldest (Gibbs & Candes, 2021, motivate tracking the errors online
under distribution shift; this is the rolling-window form).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn import RNNForecaster
from tsrnn.backtest import backtest
from tsrnn.evaluation import DEFAULT_CALIBRATION_WINDOWS
from tsrnn.evaluation.conformal import (
    conformal_quantile,
    conformal_window,
    refresh_scores,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def small(**kw):
    kw.setdefault("horizon", 3)
    return RNNForecaster(hidden_size=4, max_iter=3, random_state=0, **kw)


def series(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 5) + 0.3 * rng.normal(size=n)


# ------------------------------------------------------------ refresh_scores
def test_refresh_keeps_the_newest_weight_per_step():
    old = np.arange(1.0, 151.0).reshape(150, 1, 1) * np.ones((1, 2, 1))
    old[3, 1, 0] = np.nan  # one step has 149 residuals
    new = np.array([[[1000.0], [np.nan]], [[2000.0], [3000.0]]])
    before = old.copy()
    out, w = refresh_scores(old, None, new, [1, 1], window=150)
    np.testing.assert_array_equal(old, before)  # not modified in place
    s0, s1 = out[:, 0, 0], out[:, 1, 0]
    # step 0: 150 kept of 152, the two oldest (1, 2) gone, the new ones last
    assert set(s0[~np.isnan(s0)]) == set(np.arange(3.0, 151.0)) | {1000.0, 2000.0}
    # step 1 held 149 and got one: all kept
    assert np.sum(~np.isnan(s1)) == 150 and 1.0 in s1 and 3000.0 in s1
    assert w.sum(axis=0).ravel().tolist() == [150.0, 150.0]
    assert not np.isnan(out).all(axis=(1, 2)).any()  # empty rows dropped
    # a new row of weight 48 pushes out 48 old residuals; one of weight 200
    # out of a window of 150 keeps all of it but 150
    out, w = refresh_scores(old, None, new[1:], 48, window=150)
    assert w[:, 0, 0].sum() == 150 and np.nanmin(out[:, 0, 0]) == 49.0  # 102 old kept
    out, w = refresh_scores(old, None, new[1:], 200, window=150)
    assert len(out) == 1 and w[0, 0, 0] == 150


def test_weighted_quantile_is_the_quantile_of_the_repeated_pool():
    rng = np.random.default_rng(0)
    scores = rng.exponential(size=(40, 3, 2))
    scores[5, 1, 0] = np.nan
    ones = np.ones_like(scores)
    reps = rng.integers(1, 5, size=40)
    repeated = np.repeat(scores, reps, axis=0)
    weights = np.repeat(reps[:, None, None], 3, 1).repeat(2, 2).astype(float)
    for c in (0.5, 0.8, 0.9, 0.95):
        np.testing.assert_array_equal(
            conformal_quantile(scores, c, ones), conformal_quantile(scores, c)
        )
        np.testing.assert_array_equal(
            conformal_quantile(scores, c, weights), conformal_quantile(repeated, c)
        )
    with pytest.raises(ValueError, match="too few calibration residuals"):
        conformal_quantile(scores[:5], 0.95, ones[:5])


def test_window_of_a_small_pool_is_the_default():
    assert conformal_window(np.ones((5, 2, 1)), None) == DEFAULT_CALIBRATION_WINDOWS
    assert conformal_window(np.ones((500, 2, 1)), None) == 500
    assert conformal_window(np.ones((5, 2, 1)), np.full((5, 2, 1), 48.0)) == 240


# ------------------------------------------------------------ RNNForecaster
def test_update_puts_in_the_errors_of_the_forecast_before_it():
    y = series()
    m = small().fit(y[:400])
    pool0 = m.conformal_scores_
    n0 = np.sum(~np.isnan(pool0), axis=0).ravel()
    pred = m.predict()[:2]
    m.update(y[400:402])  # two of the three steps observed
    pool = m.conformal_scores_
    expected = np.abs(y[400:402] - pred) / m.conformal_scale_[0, 0]
    np.testing.assert_allclose(pool[-1, :2, 0], expected)
    assert np.isnan(pool[-1, 2, 0])
    # the new row weighs the 2 rows it stands for; the pool grows towards
    # DEFAULT_CALIBRATION_WINDOWS (it held fewer), never beyond
    w = m.conformal_weights_
    np.testing.assert_array_equal(w[-1, :, 0], [2, 2, 0])
    np.testing.assert_array_equal(w.sum(axis=0).ravel(), n0 + [2, 2, 0])
    assert m.conformal_window_ == DEFAULT_CALIBRATION_WINDOWS
    for _ in range(40):
        m.update(y[402:405])  # the same rows again: only the weights matter
    total = m.conformal_weights_.sum(axis=0).ravel()
    np.testing.assert_array_equal(total, [100, 100, 100])
    # the bands are those of the new pool
    lo, hi = m.predict_interval(coverage=0.8)
    assert np.all(hi - lo > 0)


def test_partial_fit_scores_the_forecast_made_before_training():
    y = series()
    a = small().fit(y[:400])
    b = small().fit(y[:400])
    pred = a.predict()
    a.partial_fit(y[400:403])
    b.update(y[400:403])
    expected = np.abs(y[400:403] - pred) / a.conformal_scale_[0, 0]
    np.testing.assert_allclose(a.conformal_scores_[-1, :, 0], expected)
    np.testing.assert_array_equal(a.conformal_scores_, b.conformal_scores_)


def test_long_frame_with_covariates_and_uneven_blocks():
    rng = np.random.default_rng(1)
    parts, xs = [], []
    for sid, n in (("a", 300), ("b", 260)):
        t = pd.date_range("2024-01-01", periods=n, freq="h")
        x = rng.normal(size=n)
        parts.append(pd.DataFrame({"unique_id": sid, "ds": t, "y": 2 * x + series(n)}))
        xs.append(pd.DataFrame({"unique_id": sid, "ds": t, "x": x}))
    df, X = pd.concat(parts), pd.concat(xs)
    head = df.groupby("unique_id").head(-5)
    m = small().fit(head, X.groupby("unique_id").head(-5))
    pool0 = m.conformal_scores_
    # new rows: 2 for a, 5 for b (with their covariates)
    tail = df.groupby("unique_id").tail(5)
    tail = tail[
        (tail.unique_id == "b")
        | (tail.ds <= tail[tail.unique_id == "a"].ds.min() + pd.Timedelta("1h"))
    ]
    Xt = X.merge(tail[["unique_id", "ds"]])
    fut = Xt.groupby("unique_id").head(3)
    fut = fut[fut.unique_id == "b"]
    pred_b = m.predict(X=pd.concat([fut, X[X.unique_id == "a"].tail(5).head(3)]))
    m.update(tail, Xt)
    new = m.conformal_scores_[len(m.conformal_scores_) - 2 :]
    # b's row: all three steps; a's row: two steps
    b_pos = list(m.schema_.ids).index("b")
    yb = tail[tail.unique_id == "b"].y.to_numpy()[:3]
    pb = pred_b[pred_b.unique_id == "b"].sort_values("ds").iloc[:, -1].to_numpy()
    err_b = np.abs(yb - pb) / m.conformal_scale_[b_pos, 0]
    rows = [r for r in new[:, :, 0] if not np.isnan(r).any()]
    assert len(rows) == 1
    np.testing.assert_allclose(rows[0], err_b)
    assert sum(np.isnan(r[2]) and not np.isnan(r[1]) for r in new[:, :, 0]) == 1
    assert len(m.conformal_scores_) >= len(pool0)


def test_intervals_follow_a_change_in_noise():
    # white noise, sd 0.1 at fit and 1.0 after: the fit-time bands are ten
    # times too narrow; refreshed by the updates, they widen and cover
    rng = np.random.default_rng(0)
    n_fit, n_after = 400, 400
    y = np.r_[0.1 * rng.normal(size=n_fit), rng.normal(size=n_after)]
    res = backtest(
        small(horizon=1),
        y,
        horizon=1,
        n_origins=n_after,
        coverage=0.9,
        metrics=("mae",),
    )
    width = res["interval_width"].to_numpy()
    assert width[0] < 0.6  # calibrated on the calm part (90 % of N(0, 0.1^2): 0.33)
    assert width[-100:].min() > 2.5  # 90 % of N(0, 1): 3.3 wide
    assert 0.84 < res["coverage"][-300:].mean() < 0.96


def test_saved_after_update_predicts_the_same_bands(tmp_path):
    import tsrnn

    y = series()
    m = small().fit(y[:400])
    m.update(y[400:420])
    m.save(tmp_path / "m.npz")
    g = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(g.conformal_weights_, m.conformal_weights_)
    assert g.conformal_window_ == m.conformal_window_
    bands = g.predict_interval(level=[80, 95]), m.predict_interval(level=[80, 95])
    for a, b in zip(*bands, strict=True):
        np.testing.assert_array_equal(a, b)
    g.update(y[420:425])
    m.update(y[420:425])
    np.testing.assert_array_equal(g.conformal_scores_, m.conformal_scores_)
    # a file whose weights do not fit its residuals is refused
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["conformal_weights_"] = arrays["conformal_weights_"][1:]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="conformal_weights_"):
        tsrnn.load(tmp_path / "bad.npz")


def test_a_model_without_residuals_gets_them_from_its_updates():
    import warnings

    from tsrnn.evaluation import IntervalFallbackWarning

    y = series(200)
    m = small(horizon=2, validation_fraction=0.0).fit(y[:60])
    assert len(m.conformal_scores_) == 0
    with pytest.warns(IntervalFallbackWarning, match="no calibration residuals"):
        m.predict_interval(coverage=0.8)
    for t in range(60, 100, 2):  # 20 updates of 2 rows: 20 origins of weight 2
        m.update(y[t : t + 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntervalFallbackWarning)
        lo, hi = m.predict_interval(coverage=0.8)  # conformal now
    assert np.all(hi > lo)
    np.testing.assert_array_equal(m.conformal_weights_.sum(axis=0).ravel(), [40, 40])
