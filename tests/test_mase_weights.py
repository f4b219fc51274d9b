"""Per-series MASE weights of the loss and the tails (auto.MASE_WEIGHTS, "all" by default).

The weighted absolute error against a naive sum and finite differences, a
0/1 mask giving the unweighted bits, the weight rule on series whose answer is
obvious (a trend's levels spread far more than its changes), the clipping,
and a fit whose weights are all 1 giving the bits of the unweighted fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import RNNForecaster
from tsrnn.engine.losses import absolute_error, weighted_absolute_error
from tsrnn.estimators.forecaster import auto
from tsrnn.estimators.forecaster.training import ScaledSeries, row_weights


def _batch(seed=0, shape=(5, 3, 4)):
    rng = np.random.default_rng(seed)
    y_hat = rng.normal(size=shape)
    y = rng.normal(size=shape)
    w = rng.uniform(0.1, 3.0, size=shape) * (rng.random(shape) > 0.3)
    return y_hat, y, w


def test_weighted_absolute_error_is_the_naive_weighted_sum():
    y_hat, y, w = _batch()
    value, grad = weighted_absolute_error(y_hat, y, w)
    n = np.count_nonzero(w)
    ref = sum(w[i] * abs(y_hat[i] - y[i]) for i in np.ndindex(w.shape) if w[i] > 0) / n
    assert value == pytest.approx(ref, rel=1e-12)
    assert np.allclose(grad, w * np.sign(y_hat - y) / n)
    # a missing target (NaN) under a zero weight costs nothing
    y2 = y.copy()
    y2[w == 0] = np.nan
    v2, g2 = weighted_absolute_error(y_hat, y2, w)
    assert v2 == value and np.array_equal(g2, grad)


def test_weighted_absolute_error_gradient_by_finite_differences():
    y_hat, y, w = _batch(seed=1)
    _, grad = weighted_absolute_error(y_hat, y, w)
    eps = 1e-6
    for i in list(np.ndindex(w.shape))[::7]:
        if abs(y_hat[i] - y[i]) < 1e-3:  # |r| has a kink at 0
            continue
        up, dn = y_hat.copy(), y_hat.copy()
        up[i] += eps
        dn[i] -= eps
        fd = weighted_absolute_error(up, y, w)[0] - weighted_absolute_error(dn, y, w)[0]
        assert fd / (2 * eps) == pytest.approx(grad[i], abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_0_1_mask_gives_the_unweighted_bits(dtype):
    y_hat, y, w = _batch(seed=2)
    mask = (w > 0).astype(dtype)
    y_hat, y = y_hat.astype(dtype), y.astype(dtype)
    v0, g0 = absolute_error(y_hat, y, mask)
    v1, g1 = weighted_absolute_error(y_hat, y, mask)
    assert v0 == v1
    assert g0.dtype == g1.dtype and np.array_equal(g0, g1)


def test_a_trend_weighs_more_than_noise_of_the_same_spread():
    rng = np.random.default_rng(0)
    n = 80
    trend = np.arange(n, dtype=float) + rng.normal(0, 0.3, n)
    noise = rng.normal(0, 1, n)
    trend = (trend - trend.mean()) / trend.std()
    noise = (noise - noise.mean()) / noise.std()  # the same std: s_i = 1
    y = np.concatenate([trend, noise])[:, None]
    indptr = np.array([0, n, 2 * n])
    d = auto.change_scales(y, indptr, indptr[1:])
    assert d[0, 0] == pytest.approx(np.mean(np.abs(np.diff(trend))))
    w = auto.mase_weights(np.ones((2, 1)), d)
    assert w[0, 0] > 5 * w[1, 0]  # a trend's changes are tiny beside its spread
    assert w.mean() == pytest.approx(1.0)


def test_change_scales_season_short_series_and_gaps():
    y = np.array([1.0, 2, 4, 8, 3, np.nan, 5, 10.0])[:, None]
    indptr = np.array([0, 6, 8])
    d = auto.change_scales(y, indptr, np.array([6, 8]), season=2)
    # series 0, lag 2: |4-1|, |8-2|, |3-4|, (nan) -> mean 10/3
    assert d[0, 0] == pytest.approx(10 / 3)
    # series 1 has 2 rows: too short for lag 2, lag 1 instead
    assert d[1, 0] == pytest.approx(5.0)
    # training rows only: the tail (train_end) is not read
    d = auto.change_scales(y, indptr, np.array([3, 8]), season=1)
    assert d[0, 0] == pytest.approx(1.5)


def test_weights_are_clipped_around_the_median_and_mean_one():
    s = np.ones((6, 1))
    d = np.array([[1.0], [1.0], [1.0], [1.0], [1e-9], [0.0]])  # two near-constant
    w = auto.mase_weights(s, d)
    assert w.mean() == pytest.approx(1.0)
    assert w[4, 0] / w[0, 0] == pytest.approx(auto.MASE_WEIGHT_RANGE)
    assert w[5, 0] / w[0, 0] == pytest.approx(auto.MASE_WEIGHT_RANGE)
    # a very noisy series is clipped from below
    d = np.array([[1.0], [1.0], [1.0], [1e6]])
    w = auto.mase_weights(np.ones((4, 1)), d)
    assert w[3, 0] / w[0, 0] == pytest.approx(1 / auto.MASE_WEIGHT_RANGE)
    # no change scale (NaN): the median; none at all: every weight 1
    w = auto.mase_weights(np.ones((3, 1)), np.array([[1.0], [2.0], [np.nan]]))
    assert np.allclose(w[:, 0], np.array([1.0, 0.5, 0.75]) / 0.75)
    assert np.array_equal(
        auto.mase_weights(np.ones((2, 1)), np.full((2, 1), np.nan)), np.ones((2, 1))
    )


def test_row_weights_follow_the_series_and_steps():
    Y = np.zeros((7, 2))
    series = ScaledSeries.build(
        Y,
        np.zeros((7, 0)),
        np.array([0, 3, 7]),
        weights=np.array([[1.0, 2.0], [3.0, 4.0]]),
    )
    rows = np.array([[0, 3], [2, -1]])
    w = row_weights(series, rows, 6)  # 3 steps x 2 targets, step-major
    assert np.array_equal(w[0, 0], [1, 2, 1, 2, 1, 2])
    assert np.array_equal(w[0, 1], [3, 4, 3, 4, 3, 4])
    assert np.array_equal(w[1, 0], [1, 2, 1, 2, 1, 2])
    assert np.array_equal(w[1, 1], np.zeros(6))


def _collection(seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(4):
        n = 48
        if i % 2:  # a trend
            y = 50 + (i + 1) * np.arange(n) + rng.normal(0, 2, n)
        else:
            y = rng.normal(10, 3, n)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(n), "y": y}))
    return pd.concat(parts, ignore_index=True)


def _fit(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RNNForecaster(horizon=4, hidden_size=8, max_iter=6, random_state=0).fit(df)
    return m


def test_weights_of_one_give_the_bits_of_the_unweighted_fit(monkeypatch):
    df = _collection()
    monkeypatch.setattr(auto, "MASE_WEIGHTS", False)
    off = _fit(df)
    monkeypatch.setattr(auto, "MASE_WEIGHTS", "all")
    monkeypatch.setattr(
        auto, "mase_weights", lambda s, d, spread=10.0: np.ones(np.shape(s))
    )
    ones = _fit(df)
    assert np.array_equal(off.params_, ones.params_)
    assert off.validation_scores_ == ones.validation_scores_
    assert np.array_equal(off.predict()["y"].to_numpy(), ones.predict()["y"].to_numpy())


def test_the_switch_changes_the_fit_and_keeps_it_finite(monkeypatch):
    df = _collection()
    monkeypatch.setattr(auto, "MASE_WEIGHTS", False)
    off = _fit(df)
    monkeypatch.setattr(auto, "MASE_WEIGHTS", "all")
    on = _fit(df)
    assert not np.array_equal(off.params_, on.params_)
    assert np.isfinite(on.predict()["y"].to_numpy()).all()


@pytest.mark.parametrize("weighted", [False, True])
def test_a_spilled_piece_reads_its_weights_back(tmp_path, weighted):
    # an out-of-core worker writes a piece's scaled rows to disk and reads
    # them back for the next stage: the MASE weights must come back with them
    from tsrnn.estimators.forecaster import shards
    from tsrnn.estimators.forecaster.training import ScaledSeries

    rng = np.random.default_rng(0)
    Y = rng.normal(size=(12, 1)).astype(np.float32)
    Z = np.zeros((12, 0), np.float32)
    indptr = np.array([0, 5, 12])
    w = np.array([[0.5], [1.5]]) if weighted else None
    series = ScaledSeries.build(Y, Z, indptr, np.array([4, 10]), weights=w,
                                tail_weights=w)
    piece = shards._Piece.__new__(shards._Piece)
    piece.series = series
    piece.save(str(tmp_path / "p.npz"), every_row=False)
    back = piece.restore(every_row=False)
    for name in ("Y", "indptr", "train_end_series", "weights", "tail_weights"):
        a, b = getattr(series, name), getattr(back, name)
        assert (a is None and b is None) or np.array_equal(a, b), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [True, False])
def test_the_one_pass_kernel_gives_the_numpy_gradient_bits(dtype, weighted):
    """The losses' kernel (tsrnn.kernels.losses) against the NumPy expressions
    it replaced: the gradient bit for bit, the value to a few ulp (its sum runs
    in float64), NaN targets under a zero weight ignored, a NaN prediction of a
    present entry propagated."""
    y_hat, y, w = (a.astype(dtype) for a in _batch(seed=3, shape=(16, 4, 8)))
    if not weighted:
        w = (w > 0).astype(dtype)
    y = y.copy()
    y[w == 0] = np.nan
    y_hat[0, 0, :2] = y[0, 0, :2] = 0.5  # exact ties: sign 0
    present = w > 0
    r = np.where(present, y_hat - np.where(present, y, 0.0), 0.0)
    if weighted:
        n = max(float(np.count_nonzero(present)), 1.0)
        want_v, want_g = float((w * np.abs(r)).sum()) / n, (w * np.sign(r)) / n
        v, g = weighted_absolute_error(y_hat, y, w)
    else:
        n = max(float(w.sum()), 1.0)
        want_v, want_g = float(np.abs(r).sum()) / n, np.sign(r) / n
        v, g = absolute_error(y_hat, y, w)
    assert g.dtype == dtype and np.array_equal(g, want_g.astype(dtype))
    assert v == pytest.approx(want_v, rel=10 * float(np.finfo(dtype).eps))
    bad = y_hat.copy()
    i = tuple(np.argwhere(present)[0])
    bad[i] = np.nan
    vb, gb = (weighted_absolute_error if weighted else absolute_error)(bad, y, w)
    assert np.isnan(vb) and np.isnan(gb[i])
    assert np.array_equal(np.delete(gb.ravel(), np.ravel_multi_index(i, w.shape)),
                          np.delete(g.ravel(), np.ravel_multi_index(i, w.shape)))


def test_no_present_entry_costs_nothing():
    y_hat = np.ones((3, 2), np.float32)
    nan = np.full_like(y_hat, np.nan)
    v, g = weighted_absolute_error(y_hat, nan, np.zeros_like(y_hat))
    assert v == 0.0 and np.array_equal(g, np.zeros_like(y_hat))
