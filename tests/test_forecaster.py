"""``tsrnn.RNNForecaster``: the proofs of the forecaster's contract (SPEC.md).

1. Stateful truncated BPTT carries real information across windows.
2. ``update`` + ``predict`` equals re-reading the whole series with the same weights.
3. pandas / NumPy / long-format round trips (types, indexes, columns, intervals).
4. NaN gaps in ``y``: trained through, forecast through.
5. scikit-learn: GridSearchCV / cross_validate with TimeSeriesSplit, clone, params,
   repr, pickle.
6. ``predict_interval`` coverage measured on held-out data.
7. partial_fit, warm_start, early stopping, reproducibility, float32, every cell,
   recursive vs direct horizons.
8. Bad input: clear errors, user data untouched.
9. Gradient diagnostics.

Everything is tiny (hidden 4-8, a few epochs, <= 3000 rows) so the module runs in
about a minute on a busy 2-core machine.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_validate

from tsrnn import RNNForecaster
from tsrnn.data import to_series_set
from tsrnn.engine.trainer import DivergenceWarning

# a handful of epochs never "converges": that warning is expected, nothing else is
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# update + predict vs a full re-read with the same weights: the same kernels run
# over the same rows (long format batches several series: a few ulp)
EXACT = 1e-12


def _tiny(**kw):
    """A small, fast, seeded forecaster."""
    params = dict(hidden_size=5, max_iter=3, horizon=3, bptt_length=8, random_state=0)
    params.update(kw)
    return RNNForecaster(**params)


def _seasonal(n, period=24, noise=0.1, seed=0, n_cov=0):
    """A noisy seasonal series (and covariates that drive it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n)
    if not n_cov:
        return y
    X = np.c_[np.sin(2 * np.pi * t / 7), rng.normal(size=(n, n_cov - 1))]
    return y + 0.5 * X[:, -1], X


def _restated(est, y, X=None, **kw):
    """A copy of ``est`` (same weights) whose state read ``y``/``X`` from the start."""
    ref = copy.deepcopy(est)
    ref._restate(to_series_set(y, X, **kw))
    return ref


def _assert_same(a, b, atol=EXACT):
    if isinstance(a, tuple):
        for u, v in zip(a, b, strict=True):
            _assert_same(u, v, atol)
        return
    if isinstance(a, pd.DataFrame) and not a.select_dtypes("number").equals(a):
        pd.testing.assert_frame_equal(
            a.select_dtypes(exclude="number"), b.select_dtypes(exclude="number")
        )
        a, b = a.select_dtypes("number"), b.select_dtypes("number")
    if isinstance(a, (pd.Series, pd.DataFrame)):
        assert a.index.equals(b.index)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=atol)


# =====================================================================================
# 1. the carried state is real
# =====================================================================================


def _latch_series(n, seed, noise=0.03):
    """A sign that must be remembered for longer than any stateless training window.

    A regime sign ``s`` flips at every *marker* (an unannounced spike ``3 s``).
    *Queries* are spikes ``2 s`` announced one step ahead by a covariate: column 0
    for *near* queries, 2-6 steps after the previous spike, column 1 for *far*
    queries, 18-30 steps after it. Between spikes there is only small noise, so
    the sign is visible nowhere but at the spikes.

    With ``bptt_length=8`` a stateless model trains on windows of 8 burn-in + 8
    steps from a zero state: it can learn the near queries, but no window ever
    holds the spike that decides a far query, so for those it can do no better
    than 0 (squared error 4). A stateful model carries the state from window to
    window, so the far queries are learnable.

    Returns ``y``, ``X`` (n, 2) and ``kind`` (0 noise, 1 marker, 2 near, 3 far).
    """
    rng = np.random.default_rng(seed)
    y = noise * rng.normal(size=n)
    X = np.zeros((n, 2))
    kind = np.zeros(n, np.int64)
    sign, t = 1.0, 0
    y[0], kind[0] = 3.0, 1
    while True:
        u = rng.random()
        near = rng.random() < 0.5
        if u < 0.25:  # a new regime
            t += int(rng.integers(2, 7) if near else rng.integers(18, 31))
            if t >= n:
                break
            sign = -sign
            y[t], kind[t] = 3 * sign, 1
        else:
            far = u >= 0.25 + 0.75 * 0.5
            t += int(rng.integers(18, 31) if far else rng.integers(2, 7))
            if t >= n:
                break
            y[t], kind[t] = 2 * sign, 3 if far else 2
            X[t - 1, int(far)] = 1.0
    return y, X, kind


@pytest.mark.parametrize("seed", [0, 1])
def test_stateful_training_carries_information_beyond_the_window(seed):
    y, X, kind = _latch_series(2000, seed=3)
    n_train = 1500
    errors = {}
    for stateful in (True, False):
        est = RNNForecaster(
            "lstm",
            hidden_size=8,
            bptt_length=8,
            stateful=stateful,
            max_iter=30,
            learning_rate_init=1e-2,
            batch_size=4,
            validation_fraction=0.0,
            random_state=seed,
            # what this test is about: the state, not the references or loss
            references=None,
            deseasonalize=None,
            loss="squared_error",
        ).fit(y[:n_train], X[:n_train])
        pred = np.empty(len(y) - n_train)
        for i, t in enumerate(range(n_train, len(y))):  # one step ahead, streaming
            pred[i] = est.predict(X=X[t : t + 1])[0]
            est.update(y[t : t + 1], X[t : t + 1])
        errors[stateful] = (pred - y[n_train:]) ** 2
    k = kind[n_train:]
    assert (k == 3).sum() >= 10 and (k == 2).sum() >= 10
    full, less = errors[True], errors[False]
    # both learn what lies inside a window ...
    assert full[k == 2].mean() < 0.5
    assert less[k == 2].mean() < 0.5
    # ... only the stateful one what lies several windows back
    assert less[k == 3].mean() > 2.0  # chance level is 4
    assert full[k == 3].mean() < 0.25 * less[k == 3].mean()
    # and that shows in the plain one-step holdout error
    assert full.mean() < 0.75 * less.mean()


# =====================================================================================
# 2. update == re-reading the series with the same weights
# =====================================================================================


def _nan_gappy(y):
    """A copy with NaN blocks at and across the update chunk boundaries used below."""
    y = y.copy()
    for a, b in [(320, 326), (339, 342), (349, 350)]:
        if isinstance(y, pd.Series):
            y.iloc[a:b] = np.nan
        else:
            y[a:b] = np.nan
    return y


@pytest.mark.parametrize("fmt", ["numpy", "pandas"])
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("covariates", [False, True])
def test_update_equals_reading_the_whole_series(fmt, strategy, covariates):
    y, X = _seasonal(400, n_cov=2, seed=1)
    if fmt == "pandas":
        idx = pd.date_range("2024-01-01", periods=len(y), freq="h", name="time")
        y = pd.Series(y, index=idx, name="load")
        X = pd.DataFrame(X, index=idx, columns=["a", "b"])
    if not covariates:
        X = None

    def rows(a, i, j):
        return None if a is None else a[i:j]

    est = _tiny(strategy=strategy, season_length=24).fit(
        rows(y, 0, 300), rows(X, 0, 300)
    )
    Xf = rows(X, 300, 303)
    # fit leaves the state exactly where a fresh read of the fit data leaves it
    _assert_same(
        est.predict(X=Xf),
        _restated(est, rows(y, 0, 300), rows(X, 0, 300)).predict(X=Xf),
    )
    # (the covariates of the steps forecast after the update, as a bare array)
    before = est.predict(X=None if X is None else np.asarray(X[350:353]))

    gappy = _nan_gappy(rows(y, 0, 350))
    one = copy.deepcopy(est).update(rows(gappy, 300, 350), rows(X, 300, 350))
    for a, b in [(300, 323), (323, 340), (340, 341), (341, 350)]:  # NaN across cuts
        est.update(rows(gappy, a, b), rows(X, a, b))
    ref = _restated(est, gappy, rows(X, 0, 350))
    Xf = rows(X, 350, 353)
    got = est.predict(X=Xf)
    assert np.isfinite(np.asarray(got)).all()
    assert np.abs(np.asarray(got) - np.asarray(before)).max() > 1e-6  # it did move
    _assert_same(got, ref.predict(X=Xf))
    _assert_same(one.predict(X=Xf), ref.predict(X=Xf))
    _assert_same(est.predict_interval(X=Xf), ref.predict_interval(X=Xf))
    if strategy == "recursive":  # beyond the trained horizon too
        Xf6 = rows(X, 350, 356)
        _assert_same(est.predict(horizon=6, X=Xf6), ref.predict(horizon=6, X=Xf6))


def _long_frame(lengths=(150, 110, 90), seed=0, nan=0):
    rng = np.random.default_rng(seed)
    frames = []
    starts = ["2024-01-01", "2024-01-20", "2024-02-01", "2024-02-11"]
    for i, n in enumerate(lengths):
        t = np.arange(n)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range(starts[i], periods=n, freq="D"),
                    "a": 10 * i + np.sin(t / 2) + 0.1 * rng.normal(size=n),
                    "b": np.cos(t / 3) + 0.1 * rng.normal(size=n),
                    "temp": rng.normal(size=n),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    if nan:
        df.loc[df.sample(nan, random_state=seed).index, "a"] = np.nan
    return df


def _from_end(df):
    """Rows counted from each series' end in time (0 = last row), in ``df``'s order."""
    by_time = df.sort_values(["unique_id", "ds"])
    return (
        by_time.groupby("unique_id")
        .cumcount(ascending=False)
        .reindex(df.index)
        .to_numpy()
    )


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_update_equals_reading_the_whole_series_long_format(strategy):
    # several series of unequal length, two targets, a covariate column, NaN gaps
    df = _long_frame(nan=20)
    k = _from_end(df)
    est = _tiny(
        strategy=strategy,
        target_col=["a", "b"],
        validation_fraction=0.2,
        dtype="float64",  # the two reads agree to 1e-12 (float32: to 1e-7)
    )
    est.fit(df[k >= 10])
    fut = df.loc[k < 3, ["unique_id", "ds", "temp"]]
    est.update(df[(k < 10) & (k >= 3)])
    ref = _restated(est, df[k >= 3], target_col=["a", "b"])
    _assert_same(est.predict(X=fut), ref.predict(X=fut))
    _assert_same(est.predict_interval(X=fut), ref.predict_interval(X=fut))
    # a subset of the series moves; the others keep their forecasts
    one = df[(k < 3) & (df.unique_id == "s1")]
    est.update(one)
    others = fut[fut.unique_id != "s1"]
    _assert_same(est.predict(X=others), ref.predict(X=others))
    mine = df.loc[(df.unique_id == "s1"), ["unique_id", "ds", "temp"]].iloc[:3].copy()
    mine["ds"] = pd.date_range(
        one.ds.iloc[-1] + pd.Timedelta("1D"), periods=3, freq="D"
    )
    both = pd.concat([others, mine])
    ref = _restated(est, df[(k >= 3) | (df.unique_id == "s1")], target_col=["a", "b"])
    got = est.predict(X=both)
    _assert_same(got, ref.predict(X=both))
    assert got[got.unique_id == "s1"].ds.tolist() == mine.ds.tolist()


# =====================================================================================
# 3. round trips through the user's formats
# =====================================================================================


@pytest.mark.parametrize("freq", ["30min", "B", "MS"])
def test_pandas_frequencies_round_trip(freq):
    n, h = 120, 3
    idx = pd.date_range("2024-01-01", periods=n, freq=freq, name="when")
    y = pd.Series(_seasonal(n, period=12), index=idx, name="sensor")
    est = _tiny(horizon=h, validation_fraction=0.3).fit(y[:100])
    pred = est.predict()
    assert isinstance(pred, pd.Series) and pred.name == "sensor"
    expected = pd.date_range(idx[100], periods=h, freq=freq, name="when")
    assert pred.index.equals(expected) and pred.index.freq == expected.freq
    assert pred.index.name == "when"
    assert np.isfinite(pred.to_numpy()).all()
    iv = est.predict_interval(coverage=0.8)
    assert isinstance(iv, pd.DataFrame)
    assert list(iv.columns) == ["sensor-lo-80", "sensor-hi-80"]
    assert iv.index.equals(expected)
    assert (iv["sensor-lo-80"] <= pred).all() and (pred <= iv["sensor-hi-80"]).all()
    # update with a continuation (pandas, then a bare array: timestamps generated)
    est.update(y[100:110])
    assert est.predict().index.equals(pd.date_range(idx[110], periods=h, freq=freq))
    est.update(y[110:115].to_numpy())
    assert est.predict().index.equals(pd.date_range(idx[115], periods=h, freq=freq))
    assert est.predict_interval().index.equals(est.predict().index)
    assert est.score(y[115:]) <= 0


def test_range_index_round_trip():
    y = pd.Series(_seasonal(200), name="a")  # RangeIndex
    est = _tiny().fit(y[:150])
    pred = est.predict()
    assert isinstance(pred, pd.Series) and pred.name == "a"
    assert list(pred.index) == [150, 151, 152]
    est.update(y[150:160])
    assert list(est.predict().index) == [160, 161, 162]
    assert list(est.predict_interval().index) == [160, 161, 162]


def test_multi_target_frame_round_trip():
    idx = pd.date_range("2024-01-01", periods=200, freq="D")
    Y = pd.DataFrame(
        {"a": _seasonal(200, 7), "b": _seasonal(200, 30, seed=2)}, index=idx
    )
    est = _tiny().fit(Y[:150])
    pred = est.predict()
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["a", "b"]
    assert pred.index.equals(pd.date_range(idx[150], periods=3, freq="D"))
    iv = est.predict_interval()
    assert list(iv.columns) == ["a-lo-90", "a-hi-90", "b-lo-90", "b-hi-90"]
    assert (iv["a-lo-90"] <= pred["a"]).all() and (pred["b"] <= iv["b-hi-90"]).all()
    est.update(Y[150:155])
    assert est.predict().index[0] == idx[155]
    # plain 2-D arrays mirror as arrays
    arr = _tiny().fit(Y.to_numpy()[:150])
    assert arr.predict().shape == (3, 2)
    lo, hi = arr.predict_interval()
    assert lo.shape == hi.shape == (3, 2) and (lo <= hi).all()
    arr.update(Y.to_numpy()[150:152])
    assert arr.predict(horizon=2).shape == (2, 2)


def test_numpy_1d_round_trip():
    y = _seasonal(200)
    est = _tiny().fit(y[:150])
    pred = est.predict()
    assert isinstance(pred, np.ndarray) and pred.shape == (3,)
    lo, hi = est.predict_interval()
    assert lo.shape == hi.shape == (3,) and (lo <= pred).all() and (pred <= hi).all()
    assert est.update(y[150:160]) is est
    assert est.schema_.n_seen.tolist() == [160]
    assert est.predict(horizon=1).shape == (1,)


def test_long_format_round_trip():
    df = _long_frame(lengths=(150, 110, 90))[["unique_id", "ds", "a"]]
    df = df.rename(columns={"a": "y"}).sample(frac=1.0, random_state=0)  # any row order
    k = _from_end(df)
    est = _tiny(validation_fraction=0.2).fit(df[k >= 10])
    pred = est.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    order = pd.unique(df.unique_id[k >= 10])  # series in order of first appearance
    assert sorted(order) == ["s0", "s1", "s2"]
    assert pred.unique_id.tolist() == np.repeat(order, 3).tolist()
    last = df[k == 10].set_index("unique_id").ds
    for sid, g in pred.groupby("unique_id"):
        assert g.ds.tolist() == list(pd.date_range(last[sid], periods=4, freq="D")[1:])
    iv = est.predict_interval(coverage=0.8)
    assert list(iv.columns) == ["unique_id", "ds", "y-lo-80", "y-hi-80"]
    assert (iv["y-lo-80"].to_numpy() <= pred.y.to_numpy()).all()
    # score walks a copy over a continuation, leaving the forecaster as it was
    assert est.score(df[k < 10]) <= 0
    pd.testing.assert_frame_equal(est.predict(), pred)
    est.update(df[k < 10])  # every series, rows in any order
    new = est.predict()
    ends = df[k == 0].set_index("unique_id").ds
    for sid, g in new.groupby("unique_id"):
        assert g.ds.iloc[0] == ends[sid] + pd.Timedelta("1D")
    assert np.isfinite(new.y).all()


# =====================================================================================
# 4. NaN gaps in y
# =====================================================================================


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_nan_gaps_are_trained_and_forecast_through(strategy, cell):
    y = _seasonal(400, seed=3)
    y[:20] = np.nan  # leading gap
    y[100:160] = np.nan  # a long one
    y[np.random.default_rng(0).choice(400, 30, replace=False)] = np.nan  # scattered
    y[-3:] = np.nan  # ending on a gap
    kept = y.copy()
    # levels (the old default): the recursive strategy's intervals then have
    # residuals on either side of every gap
    est = _tiny(
        cell=cell, strategy=strategy, season_length=24, differencing=False
    ).fit(y)
    np.testing.assert_array_equal(y, kept)  # untouched, NaN included
    assert np.isfinite(est.loss_curve_).all() and est.loss_curve_[-1] > 0
    assert np.isfinite(est.params_).all()
    assert np.isfinite(est.predict()).all()
    assert all(np.isfinite(b).all() for b in est.predict_interval())
    before = est.predict()
    block = _seasonal(30, seed=4)
    block[5:25] = np.nan
    est.update(block)
    assert np.isfinite(est.predict()).all()
    est.update(np.full(10, np.nan))  # a sensor outage
    after = est.predict()
    assert np.isfinite(after).all() and not np.allclose(after, before)
    # and the forecast stays bounded: the gap is bridged on one-step estimates
    assert np.abs(after).max() < 10 * np.nanmax(np.abs(y))


def test_unobserved_validation_tail_does_not_stop_training():
    y = _seasonal(300)
    y[-60:] = np.nan  # the whole validation tail (validation_fraction=0.2) missing
    kw = dict(validation_fraction=0.2, max_iter=6)
    es = _tiny(early_stopping=True, n_iter_no_change=2, **kw).fit(y)
    plain = _tiny(**kw).fit(y)
    assert es.n_iter_ == 6  # not stopped on NaN scores with the initial weights
    np.testing.assert_array_equal(es.params_, plain.params_)
    assert es.validation_scores_ == [] and np.isfinite(es.predict()).all()


def test_all_nan_target_is_refused():
    with pytest.raises(ValueError, match="no observed"):
        _tiny().fit(np.full(100, np.nan))


# =====================================================================================
# 5. scikit-learn integration
# =====================================================================================


def test_grid_search_with_time_series_split():
    y, X = _seasonal(480, n_cov=2, seed=5)
    grid = GridSearchCV(
        _tiny(horizon=2),
        param_grid={"cell": ["gru", "lstm"], "hidden_size": [4]},
        cv=TimeSeriesSplit(3),
    )
    grid.fit(y)  # sklearn passes y as the first positional argument
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert (grid.cv_results_["mean_test_score"] <= 0).all()  # -MAE
    assert grid.best_params_["cell"] in {"gru", "lstm"}
    assert grid.best_estimator_.predict().shape == (2,)
    # with covariates: X is the second positional argument
    grid.fit(y, X)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_estimator_.predict(X=X[:2]).shape == (2,)


def test_cross_validate_pandas():
    y = pd.Series(_seasonal(480), index=pd.date_range("2024", periods=480, freq="h"))
    res = cross_validate(_tiny(), y, cv=TimeSeriesSplit(3), return_estimator=True)
    assert np.isfinite(res["test_score"]).all() and (res["test_score"] <= 0).all()
    ends = [e.schema_.last[0] for e in res["estimator"]]
    assert ends == sorted(ends)  # each fold fitted on a longer head


def test_clone_params_repr():
    est = _tiny(cell="gru", hidden_size=7, season_length=(24, 168))
    params = est.get_params()
    assert params["cell"] == "gru" and params["hidden_size"] == 7
    assert params["season_length"] == (24, 168)
    assert set(params) >= {"stateful", "bptt_length", "strategy", "warm_start", "dtype"}
    c = clone(est)
    assert c.get_params() == params and not hasattr(c, "params_")
    assert est.set_params(hidden_size=4, stateful=False) is est
    assert est.hidden_size == 4 and est.stateful is False
    r = repr(est)
    assert r.startswith("RNNForecaster(") and "hidden_size=4" in r and "cell='gru'" in r
    assert repr(RNNForecaster()) == "RNNForecaster()"
    fitted = _tiny().fit(_seasonal(100))
    c = clone(fitted)
    assert not hasattr(c, "params_") and c.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        c.predict()


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_pickle_round_trip(strategy):
    y = pd.Series(_seasonal(300), index=pd.date_range("2024", periods=300, freq="h"))
    est = _tiny(strategy=strategy).fit(y[:250])
    back = pickle.loads(pickle.dumps(est))
    pd.testing.assert_series_equal(est.predict(), back.predict())
    pd.testing.assert_frame_equal(est.predict_interval(), back.predict_interval())
    est.update(y[250:270])
    back.update(y[250:270])
    pd.testing.assert_series_equal(est.predict(), back.predict())
    np.testing.assert_array_equal(est.params_, back.params_)


# =====================================================================================
# 6. interval coverage on held-out data
# =====================================================================================


@pytest.mark.parametrize("seed", [0, 1])
def test_predict_interval_coverage_on_held_out_data(seed):
    rng = np.random.default_rng(seed)
    n, h = 3000, 4
    t = np.arange(n)
    y = (
        2 * np.sin(2 * np.pi * t / 24)
        + np.sin(2 * np.pi * t / 168)
        + 0.015 * np.cumsum(rng.normal(size=n))
        + 0.5 * rng.normal(size=n)
    )
    est = RNNForecaster(
        hidden_size=8,
        max_iter=10,
        bptt_length=16,
        horizon=h,
        season_length=24,
        validation_fraction=0.2,
        random_state=seed,
    ).fit(y[:2000])
    hits = {0.9: [], 0.5: []}
    for o in range(2000, n - h + 1, h):  # walk forward over the held-out block
        truth = y[o : o + h]
        for cov in hits:
            lo, hi = est.predict_interval(coverage=cov)
            hits[cov].append((lo <= truth) & (truth <= hi))
        est.update(truth)
    for cov, hit in hits.items():
        hit = np.array(hit)
        assert len(hit) == 250
        assert abs(hit.mean() - cov) < 0.07, (cov, hit.mean())
        assert (np.abs(hit.mean(axis=0) - cov) < 0.12).all(), (cov, hit.mean(axis=0))
    # wider for the higher coverage, and not trivially wide
    lo9, hi9 = est.predict_interval(coverage=0.9)
    lo5, hi5 = est.predict_interval(coverage=0.5)
    assert (hi9 - lo9 > hi5 - lo5).all()
    assert (hi9 - lo9 < 4 * y.std()).all()


# =====================================================================================
# 7. training modes and options
# =====================================================================================


def test_partial_fit_changes_weights_and_advances_state():
    y = _seasonal(400)
    est = _tiny().fit(y[:300])
    w0 = est.params_.copy()
    before = copy.deepcopy(est)
    streamed = copy.deepcopy(est).update(y[300:350])
    assert est.partial_fit(y[300:350]) is est
    assert np.abs(est.params_ - w0).max() > 1e-6
    assert est.schema_.n_seen.tolist() == [350]
    # the carried state advanced over the new rows, with the new weights
    ref = copy.deepcopy(before)
    ref.params_ = est.params_.copy()
    ref._pack_cache = ref._pack()
    _assert_same(est.predict(), ref.update(y[300:350]).predict())
    assert not np.allclose(est.predict(), streamed.predict(), rtol=0, atol=1e-9)
    # on an unfitted forecaster: fit with one epoch
    fresh = _tiny().partial_fit(y[:300])
    assert fresh.n_iter_ == 1 and len(fresh.loss_curve_) == 1
    fresh.partial_fit(y[300:320])
    assert fresh.schema_.n_seen.tolist() == [320]


def test_warm_start_continues_training():
    y = _seasonal(400)
    cold = _tiny().fit(y)
    again = copy.deepcopy(cold).fit(y)
    assert again.n_iter_ == 3
    np.testing.assert_array_equal(again.params_, cold.params_)  # a refit starts over
    warm = _tiny(warm_start=True).fit(y)
    warm.fit(y)
    assert warm.n_iter_ == 6 and len(warm.loss_curve_) == 6
    assert warm.loss_curve_[:3] == cold.loss_curve_
    assert warm.loss_curve_[3] < cold.loss_curve_[-1]  # continues, not restarts
    assert len(warm.grad_norm_curve_) == warm.n_iter_
    assert warm.set_params(max_iter=2).fit(y).n_iter_ == 8


def test_early_stopping_records_scores_and_restores_the_best_epoch():
    y = _seasonal(300, noise=0.5)
    common = dict(
        hidden_size=8,
        bptt_length=8,
        horizon=2,
        random_state=0,
        learning_rate_init=0.03,
        validation_fraction=0.25,
        batch_size=4,
    )
    # "holdout": the tails are never trained on (the meaning True had before the
    # refit protocol)
    est = RNNForecaster(
        max_iter=30, early_stopping="holdout", n_iter_no_change=2, **common
    )
    est.fit(y)
    assert est.stopped_ == "early_stopping" and est.n_iter_ < 30
    assert len(est.validation_scores_) == est.n_iter_
    best = int(np.argmax(est.validation_scores_))
    assert best < est.n_iter_ - 1  # later epochs were worse ...
    assert est.best_validation_score_ == est.validation_scores_[best]
    # ... and the weights are those of the best epoch: train exactly that long
    ref = RNNForecaster(
        max_iter=best + 1,
        tol=0.0,
        n_iter_no_change=1000,
        early_stopping=False,
        **common,
    ).fit(y)
    np.testing.assert_array_equal(est.params_, ref.params_)
    assert ref.validation_scores_ == [est.best_validation_score_]
    np.testing.assert_array_equal(est.predict(), ref.predict())


def test_validation_tail_is_never_trained_on():
    y = _seasonal(400, noise=0.3)
    other = y.copy()
    other[-80:] = other[-80:] * 3 + 5  # a different tail (validation_fraction=0.2)
    a = _tiny(validation_fraction=0.2, early_stopping=False).fit(y)
    b = _tiny(validation_fraction=0.2, early_stopping=False).fit(other)
    np.testing.assert_array_equal(a.params_, b.params_)
    assert a.loss_curve_ == b.loss_curve_ and np.isfinite(a.best_loss_)
    assert a.validation_scores_ != b.validation_scores_  # ... it is what they score
    # with early stopping it only decides when to stop
    kw = dict(
        validation_fraction=0.2,
        early_stopping="holdout",
        max_iter=4,
        n_iter_no_change=10,
    )
    a, b = _tiny(**kw).fit(y), _tiny(**kw).fit(other)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("stateful", [True, False])
def test_same_random_state_same_model(stateful):
    y = _seasonal(300)
    a = _tiny(stateful=stateful, dropout=0.2, num_layers=2).fit(y)
    b = _tiny(stateful=stateful, dropout=0.2, num_layers=2).fit(y)
    np.testing.assert_array_equal(a.params_, b.params_)
    np.testing.assert_array_equal(a.predict(), b.predict())
    assert a.loss_curve_ == b.loss_curve_
    c = _tiny(stateful=stateful, dropout=0.2, num_layers=2, random_state=1).fit(y)
    assert not np.array_equal(a.params_, c.params_)


def test_float32():
    y, X = _seasonal(300, n_cov=2)
    est = _tiny(dtype="float32").fit(y[:250], X[:250])
    assert est.params_.dtype == np.float32
    ref = _tiny().fit(y[:250], X[:250])
    pred = est.predict(X=X[250:253])
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred, ref.predict(X=X[250:253]), atol=1e-3)
    est.update(y[250:260], X[250:260])
    lo, hi = est.predict_interval(X=X[260:263])
    assert np.isfinite(lo).all() and (lo <= hi).all()


@pytest.mark.parametrize(
    "cell,nonlinearity",
    [
        ("rnn", "tanh"),
        ("rnn", "relu"),
        ("lstm", "tanh"),
        ("gru", "tanh"),
        ("sru", "tanh"),
    ],
)
def test_every_cell_fits_predicts_and_updates(cell, nonlinearity):
    y = pd.Series(_seasonal(300), index=pd.date_range("2024", periods=300, freq="h"))
    est = _tiny(cell=cell, nonlinearity=nonlinearity, num_layers=2).fit(y[:250])
    assert np.isfinite(est.loss_curve_).all()
    assert np.isfinite(est.predict().to_numpy()).all()
    est.update(y[250:260])
    _assert_same(est.predict(), _restated(est, y[:260]).predict())


def test_recursive_forecasts_beyond_the_trained_horizon():
    y, X = _seasonal(300, n_cov=2)
    est = _tiny(strategy="recursive", horizon=2).fit(y[:250], X[:250])
    long = est.predict(horizon=10, X=X[250:260])
    assert long.shape == (10,) and np.isfinite(long).all()
    # the first steps are the default-horizon forecast
    np.testing.assert_allclose(long[:2], est.predict(X=X[250:252]), rtol=0, atol=EXACT)
    with pytest.raises(ValueError, match="X has 2 row"):
        est.predict(horizon=10, X=X[250:252])


def test_direct_refuses_a_longer_horizon():
    est = _tiny(horizon=3).fit(_seasonal(200))
    assert est.predict(horizon=2).shape == (2,)
    with pytest.raises(ValueError, match=r"at most 3 steps.*horizon=5.*recursive"):
        est.predict(horizon=5)
    with pytest.raises(ValueError, match="at most 3 steps"):
        est.predict_interval(horizon=5)


def test_divergence_keeps_finite_weights_with_a_message():
    y = 1e3 * _seasonal(300)
    est = _tiny(
        cell="rnn",
        nonlinearity="relu",
        solver="sgd",
        learning_rate_init=1e6,
        clip_norm=None,
        max_iter=5,
        # the old defaults: one training run, a squared error that explodes
        early_stopping=False,
        loss="squared_error",
        differencing=False,
    )
    with pytest.warns(DivergenceWarning, match="diverged"):
        est.fit(y)
    assert est.stopped_ == "diverged"
    assert np.isfinite(est.params_).all()


# =====================================================================================
# 8. bad input: clear errors, user data unchanged
# =====================================================================================


@pytest.mark.parametrize("call", ["predict", "update", "predict_interval", "score"])
def test_not_fitted(call):
    est = _tiny()
    args = () if call in ("predict", "predict_interval") else (np.ones(10),)
    with pytest.raises(NotFittedError):
        getattr(est, call)(*args)


def _hourly(n=200):
    return pd.Series(_seasonal(n), index=pd.date_range("2024", periods=n, freq="h"))


_BAD_FIT = [
    (
        "inf",
        lambda y, X: (np.where(np.arange(len(y)) == 5, np.inf, y), None),
        ValueError,
        "infinite.*row 5",
    ),
    ("strings", lambda y, X: (np.array(["a"] * len(y)), None), TypeError, "dtype"),
    ("objects", lambda y, X: (y.astype(object), None), TypeError, "dtype object"),
    ("booleans", lambda y, X: (y > 0, None), TypeError, "boolean"),
    ("3-D", lambda y, X: (np.zeros((10, 2, 2)), None), ValueError, "1-D.*2-D"),
    ("empty", lambda y, X: (y[:0], None), ValueError, "empty"),
    ("too short", lambda y, X: (y[:1], None), ValueError, "too short"),
    ("X length", lambda y, X: (y, X[:150]), ValueError, "X has 150 row.*y has 200"),
    (
        "NaN in X",
        lambda y, X: (y, np.where(np.arange(len(y))[:, None] == 3, np.nan, X)),
        ValueError,
        "NaN.*row 3",
    ),
    ("unsorted", lambda y, X: (_hourly().iloc[::-1], None), ValueError, "not sorted"),
    (
        "duplicates",
        lambda y, X: (
            pd.Series(
                y,
                index=pd.DatetimeIndex(["2024-01-01"] * 2).append(
                    pd.date_range("2024-01-01 01:00", periods=len(y) - 2, freq="h")
                ),
            ),
            None,
        ),
        ValueError,
        "duplicate",
    ),
    (
        "irregular",
        lambda y, X: (_hourly().drop(_hourly().index[50]), None),
        ValueError,
        "regular frequency",
    ),
]


@pytest.mark.parametrize("case", _BAD_FIT, ids=[c[0] for c in _BAD_FIT])
def test_bad_fit_data(case):
    _, make, exc, match = case
    y, X = _seasonal(200, n_cov=2)
    y_bad, X_bad = make(y, X)
    with pytest.raises(exc, match=match):
        _tiny().fit(y_bad, X_bad)


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(hidden_size=0), "hidden_size"),
        (dict(strategy="foo"), "strategy"),
        (dict(cell="transformer"), "cell"),
        (dict(horizon=0), "horizon"),
        (dict(bptt_length=0), "bptt_length"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(season_length=0), "season_length"),
        (dict(season_length=(24, 0)), "season_length"),
        (dict(dtype="float16"), "dtype"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(batch_size=0), "batch_size"),
        (dict(stateful="yes"), "stateful"),
    ],
)
def test_bad_params(params, match):
    est = _tiny(**params)
    with pytest.raises(ValueError, match=match):  # InvalidParameterError is one
        est.fit(_seasonal(100))
    assert not hasattr(est, "params_")


def test_bad_predict_and_update_inputs():
    y, X = _seasonal(300, n_cov=2)
    est = _tiny().fit(y[:200], X[:200])
    with pytest.raises(ValueError, match=r"fitted with covariates.*pass X with 3 row"):
        est.predict()
    with pytest.raises(ValueError, match="3 covariate.*fitted with 2"):
        est.predict(X=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="X has 2 row.*horizon is 3"):
        est.predict(X=X[200:202])
    with pytest.raises(ValueError, match="X_new"):
        est.update(y[200:205])
    with pytest.raises(ValueError, match="3 covariate.*fitted with 2"):
        est.update(y[200:205], np.zeros((5, 3)))
    with pytest.raises(ValueError, match="infinite"):
        est.update(np.array([1.0, np.inf]), X[200:202])
    with pytest.raises(ValueError, match="2 target.*fitted on 1"):
        est.update(np.zeros((5, 2)), X[200:205])
    with pytest.raises(ValueError, match="empty"):
        est.update(y[:0], X[:0])
    with pytest.raises(ValueError, match="coverage"):
        est.predict_interval(X=X[200:203], coverage=100)
    with pytest.raises((ValueError, TypeError), match="horizon"):
        est.predict(horizon=0, X=X[200:200])
    # nothing moved after the failed calls
    assert est.schema_.n_seen.tolist() == [200]
    _assert_same(
        est.predict(X=X[200:203]),
        _restated(est, y[:200], X[:200]).predict(X=X[200:203]),
    )
    plain = _tiny().fit(y)
    with pytest.raises(ValueError, match="without covariates"):
        plain.predict(X=np.zeros((3, 1)))


def test_bad_timestamps_at_update_and_predict():
    y = _hourly(300)
    X = pd.DataFrame({"t": np.arange(300.0)}, index=y.index)
    est = _tiny().fit(y[:200], X[:200])
    with pytest.raises(ValueError, match="continue the series"):
        est.update(y[201:210], X[201:210])  # skips a step
    with pytest.raises(ValueError, match="continue the series"):
        est.update(y[199:210], X[199:210])  # overlaps
    with pytest.raises(ValueError, match="index must be the forecast timestamps"):
        est.predict(X=X[201:204])
    est.update(y[200:210], X[200:210])
    assert est.predict(X=X[210:213]).index[0] == y.index[210]


def test_user_data_is_never_modified():
    y, X = _seasonal(300, n_cov=2)
    y[10:20] = np.nan
    idx = pd.date_range("2024", periods=300, freq="h")
    ys = pd.Series(y, index=idx, name="v")
    Xd = pd.DataFrame(X, index=idx, columns=["a", "b"])
    keep = [a.copy() for a in (y, X)] + [ys.copy(), Xd.copy()]
    for yy, XX in [(y, X), (ys, Xd)]:
        est = _tiny(strategy="recursive").fit(yy[:200], XX[:200])
        est.update(yy[200:250], XX[200:250])
        est.partial_fit(yy[250:280], XX[250:280])
        est.predict(X=XX[280:283])
        est.predict_interval(X=XX[280:283])
        est.score(yy[280:], XX[280:])
        with pytest.raises(ValueError, match="covariate"):  # a failed call
            est.update(yy[280:290], np.asarray(XX)[280:290, :1])
    np.testing.assert_array_equal(y, keep[0])
    np.testing.assert_array_equal(X, keep[1])
    pd.testing.assert_series_equal(ys, keep[2])
    pd.testing.assert_frame_equal(Xd, keep[3])


def test_score_leaves_the_forecaster_unchanged():
    y = _seasonal(300)
    est = _tiny().fit(y[:200])
    before = est.predict()
    s = est.score(y[200:260])
    assert np.isfinite(s) and s <= 0
    np.testing.assert_array_equal(est.predict(), before)
    assert est.schema_.n_seen.tolist() == [200]


# =====================================================================================
# 9. gradient diagnostics
# =====================================================================================


@pytest.mark.parametrize("stateful", [True, False])
def test_gradient_diagnostics(stateful):
    est = _tiny(num_layers=2, bptt_length=8, stateful=stateful, max_iter=4).fit(
        _seasonal(400)
    )
    steps = 8 if stateful else 16  # stateless windows: burn-in + window
    assert est.dh_norm_.shape == (2, steps)
    assert np.isfinite(est.dh_norm_).all() and (est.dh_norm_ >= 0).all()
    assert est.dh_norm_.max() > 0
    assert len(est.grad_norm_curve_) == est.n_iter_ == 4
    assert np.isfinite(est.grad_norm_curve_).all() and min(est.grad_norm_curve_) > 0


# =====================================================================================
# 10. scale-safe numerics: any magnitude, scaled alike
# =====================================================================================


@pytest.mark.parametrize("amplitude", [1e-13, 1e-200, 1e200, 1e299])
@pytest.mark.parametrize("scaler", ["standard", "robust"])
def test_forecasts_scale_with_the_data(amplitude, scaler):
    # a sensor series in SI units (1e-13) was forecast 1e10 times too large: the
    # scaler took a standard deviation below 1e-12 for zero; 1e200 was refused
    # (its variance overflowed). Relative statistics scale any magnitude alike:
    # the same seed gives the unit series' forecasts times the (positive)
    # amplitude.
    y, X = _seasonal(200, n_cov=2)
    Xf = _seasonal(203, n_cov=2)[1][-3:]
    kw = dict(scaler=scaler, max_iter=4, season_length=24)
    unit = _tiny(**kw).fit(y, X)
    scaled = _tiny(**kw).fit(amplitude * y, amplitude * X)
    np.testing.assert_allclose(
        scaled.predict(X=amplitude * Xf) / amplitude, unit.predict(X=Xf), rtol=1e-9
    )
    lo, hi = scaled.predict_interval(X=amplitude * Xf)
    ulo, uhi = unit.predict_interval(X=Xf)
    np.testing.assert_allclose(lo / amplitude, ulo, rtol=1e-9)
    np.testing.assert_allclose(hi / amplitude, uhi, rtol=1e-9)


def test_series_of_different_magnitudes_in_one_global_model():
    # per-series scaling: a long frame of a 1e-13 and a 1e200 series forecasts
    # each as the same frame of unit series does, times its magnitude
    y = _seasonal(150)

    def frame(a, b):
        return pd.DataFrame({
            "unique_id": ["a"] * 150 + ["b"] * 150,
            "ds": np.r_[np.arange(150), np.arange(150)],
            "y": np.r_[a * y, b * y[::-1]],
        })

    unit = _tiny().fit(frame(1.0, 1.0)).predict()
    mixed = _tiny().fit(frame(1e-13, 1e200)).predict()
    np.testing.assert_allclose(
        mixed["y"].to_numpy() / np.repeat([1e-13, 1e200], 3), unit["y"], rtol=1e-9
    )


@pytest.mark.parametrize("level", [3e-13, 7.0, -2e250])
def test_a_constant_series_is_scaled_by_its_magnitude(level):
    # a constant has no spread to divide by: it is scaled by its own magnitude,
    # not by 1 (which left a 3e-13 constant forecast at network noise, ~1e-2)
    est = _tiny(max_iter=2).fit(np.full(100, level))
    pred = est.predict()
    unit = _tiny(max_iter=2).fit(np.full(100, np.sign(level))).predict()
    np.testing.assert_allclose(pred / abs(level), unit, rtol=1e-9)
    assert np.all(np.abs(pred - level) < 0.5 * abs(level))


@pytest.mark.parametrize("bad, match", [
    (np.r_[_seasonal(99), 1.7e308], r"y has values too large in magnitude "
     r"\(1\.7e\+308 at row 99; the limit is 1e\+300.*divide it by a constant"),
    (_seasonal(100) * 1e-310, r"y is too small to scale: its largest \|value\| is "
     r"1\.\d+e-310, below 1e-305.*multiply it by a constant"),
])
def test_magnitudes_beyond_float64s_room_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        _tiny().fit(bad)


# =====================================================================================
# 11. NumPy masked arrays: masked targets are gaps, masked covariates refused
# =====================================================================================


def _masked(values, rows):
    mask = np.zeros(values.shape, bool)
    mask[rows] = True
    return np.ma.masked_array(values, mask=mask)


def test_masked_targets_are_missing_steps_not_trained_on():
    # np.asarray drops a mask: the masked value (a glitch of 1e6 here) was read
    # and trained on. It is now a NaN gap: the same model as with NaN there.
    y = _seasonal(200)
    glitch = y.copy()
    glitch[[50, 120]] = 1e6
    masked = _masked(glitch, [50, 120])
    gaps = y.copy()
    gaps[[50, 120]] = np.nan
    kept_data, kept_mask = masked.data.copy(), masked.mask.copy()
    a = _tiny().fit(masked)
    b = _tiny().fit(gaps)
    np.testing.assert_array_equal(a.params_, b.params_)
    np.testing.assert_array_equal(a.predict(), b.predict())
    # update and partial_fit read the mask the same way
    new = _seasonal(20, seed=5)
    new_glitch = new.copy()
    new_glitch[4] = -1e6
    new_gaps = new.copy()
    new_gaps[4] = np.nan
    a.update(_masked(new_glitch, [4]))
    b.update(new_gaps)
    np.testing.assert_array_equal(a.predict(), b.predict())
    a.partial_fit(_masked(new_glitch, [4]))
    b.partial_fit(new_gaps)
    np.testing.assert_array_equal(a.params_, b.params_)
    # the user's masked array is untouched
    np.testing.assert_array_equal(masked.data, kept_data)
    np.testing.assert_array_equal(masked.mask, kept_mask)


def test_masked_covariates_are_refused_everywhere():
    y, X = _seasonal(100, n_cov=1)
    match = r"X is a masked array with 1 masked value\(s\) \(first in row 7\); " \
        r"covariates must be complete"
    with pytest.raises(ValueError, match=match):
        _tiny().fit(y, _masked(X, 7))
    est = _tiny().fit(y, X)
    with pytest.raises(ValueError, match=match.replace("X is", "X_new is")):
        est.update(np.ones(8), _masked(np.ones((8, 1)), 7))
    with pytest.raises(ValueError, match=r"X is a masked array .*first in row 2"):
        est.predict(X=_masked(np.ones((3, 1)), 2))
    # an empty mask is plain data
    np.testing.assert_array_equal(
        est.predict(X=np.ma.masked_array(np.ones((3, 1)))), est.predict(X=np.ones((3, 1)))
    )


# =====================================================================================
# 12. a series without observations is refused, never forecast from nothing
# =====================================================================================


def _two_series(b_values):
    y = _seasonal(80)
    return pd.DataFrame({
        "unique_id": ["a"] * 80 + ["b"] * len(b_values),
        "ds": np.r_[np.arange(80), np.arange(len(b_values))],
        "y": np.r_[y, b_values],
    })


def test_a_series_without_observations_is_refused_by_name():
    # it got a numeric forecast, invented from the other series' dynamics
    df = _two_series(np.full(30, np.nan))
    with pytest.raises(ValueError, match=r"series 'b' has no observed value \(all "
                       r"NaN\): nothing to learn from, no level to forecast from; "
                       r"drop it \(e\.g\. y\[y\.groupby\('unique_id'\)\['y'\]"):
        _tiny().fit(df)
    with pytest.raises(ValueError, match=r"series 'b' has no observed"):
        _tiny().partial_fit(df)
    # the advertised fix works
    kept = df[df.groupby("unique_id")["y"].transform("count") > 0]
    assert list(_tiny().fit(kept).predict()["unique_id"].unique()) == ["a"]
    # a target column of one wide series, likewise
    y2 = np.c_[_seasonal(60), np.full(60, np.nan)]
    with pytest.raises(ValueError, match=r"y column 'y1' has no observed"):
        _tiny().fit(y2)


def test_a_series_observed_only_in_its_held_out_tail_is_scaled_on_it():
    # the scaler fits on training rows; one without any kept (0, 1), so a 1e-13
    # series was forecast in units of 1, not of its data
    tail = np.full(40, np.nan)
    tail[-8:] = 1e-13 * (1 + 0.1 * np.sin(np.arange(8)))  # validation_fraction=0.2
    est = _tiny(validation_fraction=0.2, horizon=2).fit(_two_series(tail))
    b = est.predict().query("unique_id == 'b'")["y"].to_numpy()
    assert np.all(np.abs(b) < 1e-11) and np.all(np.abs(b) > 1e-15)


# =====================================================================================
# 13. update validates exactly as fit does
# =====================================================================================


def _refusal(call):
    """The message of the ValueError ``call`` raises, without its row numbers."""
    import re

    try:
        call()
    except ValueError as exc:
        return re.sub(r"row \d+", "row #", str(exc)).replace("y_new", "y")
    return None


@pytest.mark.parametrize("amplitude, new, dtype, refused", [
    (1.0, 1.7e308, "float64", True),  # update took it, then predict gave inf
    (1e-13, 1e300, "float64", True),  # 1.4e313 training scales: inf
    (1.0, 1e200, "float32", True),  # overflows float32: inf
    (1.0, 1e200, "float64", True),  # the same rule in float64
    (1.0, -1e14, "float64", False),  # far, but within the rule: accepted by both
    (1.0, np.nan, "float64", False),  # a gap
])
def test_update_refuses_exactly_what_fit_refuses(amplitude, new, dtype, refused):
    y = amplitude * _seasonal(100)
    # early_stopping=False (the old default): the tail is never trained on, so
    # fit's scaler is the training rows' one, as update's
    kw = dict(dtype=dtype, validation_fraction=0.1, early_stopping=False)
    est = _tiny(**kw).fit(y)
    before = (est.params_.copy(), est._state.copy(), est.predict())
    # fit sees the same value in its held-out tail, after the same training rows
    at_fit = _refusal(lambda: _tiny(**kw).fit(np.r_[y[:90], new, y[91:]]))
    at_update = _refusal(lambda: est.update(np.array([new])))
    assert (at_update is not None) == refused
    assert at_update == at_fit
    if refused:  # nothing moved
        np.testing.assert_array_equal(est.params_, before[0])
        np.testing.assert_array_equal(est._state, before[1])
        np.testing.assert_array_equal(est.predict(), before[2])
        assert _refusal(lambda: est.partial_fit(np.array([new]))) == at_fit
        np.testing.assert_array_equal(est.params_, before[0])
    assert np.isfinite(est.predict()).all()


def test_covariates_of_another_magnitude_are_refused_at_update_and_predict():
    y, X = _seasonal(100, n_cov=1)
    est = _tiny().fit(y, X)
    with pytest.raises(ValueError, match=r"X_new has a value of another magnitude "
                       r"than the data the model was fitted on: 1e\+200 at row 1, "
                       r"column 'x0' lies more than 1e\+15 training scales"):
        est.update(np.ones(2), np.array([[0.5], [1e200]]))
    with pytest.raises(ValueError, match=r"X has a value of another magnitude.*1e\+200 "
                       r"at forecast step 3, column 'x0'.*check the units of X"):
        est.predict(X=np.array([[0.5], [0.5], [1e200]]))
    assert np.isfinite(est.predict(X=np.full((3, 1), 0.5))).all()


def test_update_after_a_trailing_gap_with_differencing_stays_finite():
    # found by the fuzz tests: the first new row's change is from the missing
    # last row, so the streaming path must fill it although the new rows are
    # all observed
    idx = pd.date_range("2019-12-20", periods=15, freq="min")
    vals = np.zeros(15)
    vals[11] = np.nan
    full = pd.Series(vals, index=idx, name="y")
    est = _tiny(horizon=1, validation_fraction=0.0, differencing=True)
    est.fit(full.iloc[:12])
    est.update(full.iloc[12:])
    assert np.isfinite(est._state).all()
    assert np.isfinite(est.predict().to_numpy()).all()
