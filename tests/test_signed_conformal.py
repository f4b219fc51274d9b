"""Signed conformal pools: one conformal quantile per tail of the errors.

The pool keeps the signed scaled errors (``conformal_errors_``) beside their
absolute values (``conformal_scores_``); a band's lower and upper offsets are
the conformal quantiles of ``-(y - y_hat)`` and ``y - y_hat`` at
``1 - alpha / 2``, so skewed errors give a skewed band; with too few errors
for that, the symmetric band of the absolute values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.evaluation import IntervalFallbackWarning, signed_conformal_bounds
from tsrnn.evaluation.conformal import conformal_quantile, enough_for_tails

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def small(**kw):
    kw.setdefault("horizon", 2)
    return RNNForecaster(hidden_size=4, max_iter=3, random_state=0, **kw)


def skewed(n=600, seed=0):
    """A sine plus right-skewed noise (exponential, centred at 0)."""
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 5) + (rng.exponential(1.0, n) - 1.0)


def test_bounds_are_one_sided_conformal_quantiles():
    e = np.arange(1.0, 100.0).reshape(99, 1, 1) - 20.0  # -19 .. 79, skewed
    lo, hi = signed_conformal_bounds(e, 0.9)
    # 0.95 * 100 = 95: the 95th smallest; the lower tail mirrored
    assert hi[0, 0] == 75.0 and lo[0, 0] == -15.0
    np.testing.assert_array_equal(hi, conformal_quantile(e, 0.95))
    np.testing.assert_array_equal(lo, -conformal_quantile(-e, 0.95))
    # symmetric errors: the symmetric band of |e| at the same level
    sym = np.concatenate([e, -e])
    lo, hi = signed_conformal_bounds(sym, 0.9)
    assert lo[0, 0] == -hi[0, 0]
    # errors all on one side: the band still holds the forecast
    lo, hi = signed_conformal_bounds(e + 100.0, 0.9)
    assert lo[0, 0] == 0.0 and hi[0, 0] == 175.0
    # too few for a tail: the error names the count needed
    with pytest.raises(ValueError, match="at least 39"):
        signed_conformal_bounds(e[:30], 0.95)


def test_tails_need_enough_non_overlapping_forecasts():
    # 1,440 origins of a 48-step forecast: 30 non-overlapping forecasts
    pool = np.ones((1440, 48, 1))
    assert enough_for_tails(pool, 0.8)  # needs 9
    assert not enough_for_tails(pool, 0.95)  # needs 39
    assert enough_for_tails(np.ones((303, 1, 1)), 0.98)  # needs 99
    # weights count: 10 rows of weight 48 at h = 1 hold 480
    assert enough_for_tails(np.ones((10, 1, 1)), 0.99, np.full((10, 1, 1), 48.0))
    assert not enough_for_tails(np.empty((0, 2, 1)), 0.8)


def test_a_pool_too_overlapping_for_tails_gives_the_symmetric_band():
    y = skewed()
    m = small(horizon=20).fit(y[:500])  # a pool of < 39 * 20 origins
    assert not enough_for_tails(m.conformal_scores_, 0.95)
    pred = m.predict()
    lo, hi = m.predict_interval(level=95)
    np.testing.assert_allclose(hi - pred, pred - lo)


def test_weights_count_as_repeats():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(40, 2, 1))
    w = rng.integers(1, 4, size=e.shape).astype(float)
    rep = [np.repeat(e[:, j, 0], w[:, j, 0].astype(int)) for j in range(2)]
    for j in range(2):
        a = signed_conformal_bounds(e[:, j : j + 1], 0.8, w[:, j : j + 1])
        b = signed_conformal_bounds(rep[j][:, None, None], 0.8)
        assert a == b


def test_fit_keeps_signed_errors_and_bands_follow_their_skew():
    y = skewed()
    m = small().fit(y[:500])
    e, s = m.conformal_errors_, m.conformal_scores_
    assert e.shape == s.shape and (e < 0).any() and (e > 0).any()
    np.testing.assert_array_equal(np.abs(e), s)
    pred = m.predict()
    lo, hi = m.predict_interval(level=90)
    # skewed errors: a band not symmetric about the forecast
    assert not np.allclose(hi - pred, pred - lo)
    # the offsets are the per-tail quantiles of the pool, times the scale
    q_lo, q_hi = signed_conformal_bounds(e, 0.9)
    np.testing.assert_allclose(hi - pred, q_hi[:, 0] * m.conformal_scale_[0, 0])
    np.testing.assert_allclose(pred - lo, -q_lo[:, 0] * m.conformal_scale_[0, 0])


def test_update_refreshes_the_signed_pool():
    y = skewed()
    m = small().fit(y[:500])
    pred = m.predict()
    m.update(y[500:502])
    expected = (y[500:502] - pred) / m.conformal_scale_[0, 0]
    np.testing.assert_allclose(m.conformal_errors_[-1, :, 0], expected)
    np.testing.assert_array_equal(np.abs(m.conformal_errors_), m.conformal_scores_)


def test_too_few_for_a_tail_gives_the_symmetric_band_without_warning():
    y = skewed()
    m = small().fit(y[:500])
    m.conformal_errors_ = m.conformal_errors_[:30]
    m.conformal_scores_ = m.conformal_scores_[:30]
    pred = m.predict()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IntervalFallbackWarning)
        lo, hi = m.predict_interval(level=95)  # 30 >= 19, < 39
    np.testing.assert_allclose(hi - pred, pred - lo)


def test_saved_with_the_signed_pool_and_older_files_stay_symmetric(tmp_path):
    y = skewed()
    m = small().fit(y[:500])
    m.update(y[500:503])
    path = tmp_path / "m.npz"
    m.save(path)
    g = tsrnn.load(path)
    np.testing.assert_array_equal(g.conformal_errors_, m.conformal_errors_)
    np.testing.assert_allclose(
        g.predict_interval(level=80), m.predict_interval(level=80)
    )
    # a model saved before signed errors were kept has the absolute pool only
    del m.conformal_errors_
    old = tmp_path / "old.npz"
    m.save(old)
    o = tsrnn.load(old)
    assert getattr(o, "conformal_errors_", None) is None
    pred = o.predict()
    lo, hi = o.predict_interval(level=80)
    np.testing.assert_allclose(hi - pred, pred - lo)
    o.update(y[503:505])  # its pool stays absolute
    assert getattr(o, "conformal_errors_", None) is None
    # a damaged file: signed errors whose absolute values are not the scores
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["conformal_errors_"] = np.abs(arrays["conformal_errors_"]) + 1.0
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="does not match 'conformal_scores_'"):
        tsrnn.load(bad)


def test_a_pool_above_the_limit_keeps_a_seeded_sample(monkeypatch):
    # a collection's pool above pool_limit keeps a sample of that many rows
    # (the same rows of the signed and absolute pools, in their order), drawn
    # from random_state: refitting gives the same rows and the same bands;
    # below the limit every row is kept, as before
    import pandas as pd

    from tsrnn.evaluation import conformal

    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{s}", "ds": np.arange(80), "y": skewed(80, s)}
            )
            for s in range(10)
        ],
        ignore_index=True,
    )
    full = small().fit(frame)
    n = len(full.conformal_errors_)
    monkeypatch.setattr(conformal, "MIN_POOL_FORECASTS", 1)
    monkeypatch.setattr(conformal, "MAX_POOL_RESIDUALS", n)  # at the limit: all
    at = small().fit(frame)
    np.testing.assert_array_equal(at.conformal_errors_, full.conformal_errors_)
    cap = n // 3
    monkeypatch.setattr(conformal, "MAX_POOL_RESIDUALS", cap)
    a, b = small().fit(frame), small().fit(frame)
    assert a.conformal_errors_.shape == (cap, *full.conformal_errors_.shape[1:])
    np.testing.assert_array_equal(a.conformal_scores_, np.abs(a.conformal_errors_))
    np.testing.assert_array_equal(a.conformal_errors_, b.conformal_errors_)
    np.testing.assert_array_equal(a.params_, full.params_)  # no other draw moved
    # the sample is rows of the pool, in the pool's order
    keys = conformal.pool_keys(0, 0, n)
    keep = np.sort(np.argsort(keys)[:cap])
    np.testing.assert_array_equal(a.conformal_errors_, full.conformal_errors_[keep])
    pd.testing.assert_frame_equal(
        a.predict_interval(level=[80]), b.predict_interval(level=[80])
    )
    other = small().set_params(random_state=1).fit(frame)
    assert len(other.conformal_errors_) == cap


def test_samples_merge_as_one_sample():
    # the smallest keys of the parts' samples are the sample of the whole:
    # what a distributed fit's workers send is enough
    from tsrnn.evaluation.conformal import pool_keys, sample_pool

    rows = np.arange(300.0).reshape(300, 1, 1)
    keys = pool_keys(3, 0, 300)
    whole, whole_keys = sample_pool(rows, keys, 50)
    parts = [
        sample_pool(rows[i : i + 100], keys[i : i + 100], 50) for i in (0, 100, 200)
    ]
    merged, merged_keys = sample_pool(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), 50
    )
    np.testing.assert_array_equal(merged, whole)
    np.testing.assert_array_equal(merged_keys, whole_keys)
    assert (np.diff(whole[:, 0, 0]) > 0).all()  # in the pool's order
    same, _ = sample_pool(rows[:40], keys[:40], 50)  # below the limit: all rows
    np.testing.assert_array_equal(same, rows[:40])
