"""Baseline forecasters: protocol, formats, update, intervals, sklearn integration."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_validate

from tsrnn.baselines import LinearARForecaster, NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.data import to_series_set
from tsrnn.evaluation import ForecasterMixin, conformal_quantile

# coverage of conformal intervals on held-out data: with n = 100 calibration
# residuals the realized coverage of one fit is ~Beta(91, 10) (sd 0.03), and
# autocorrelated residuals widen that: measured over 40 seeds of the series below,
# mean 0.891, sd 0.038. The mean over 5 series has sd ~0.017, so 0.05 is ~3 sd.
COVERAGE_TOL_MEAN = 0.05
COVERAGE_TOL_ONE = 0.12


def seasonal(n: int, m: int = 12, seed: int = 0, noise: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 5 * np.sin(2 * np.pi * t / m) + noise * rng.normal(size=n)


def as_series(y: np.ndarray, freq: str = "30min") -> pd.Series:
    return pd.Series(
        y, index=pd.date_range("2024-01-01", periods=len(y), freq=freq), name="v"
    )


def as_long(ys: list[np.ndarray], int_time: bool = False) -> pd.DataFrame:
    parts = []
    for i, y in enumerate(ys):
        ds = (
            np.arange(len(y))
            if int_time
            else pd.date_range("2024-01-01", periods=len(y), freq="h")
        )
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


ALL = [
    pytest.param(lambda h=1: NaiveForecaster(horizon=h), id="naive"),
    pytest.param(lambda h=1: SeasonalNaiveForecaster(12, horizon=h), id="snaive"),
    pytest.param(
        lambda h=1: LinearARForecaster(lags=13, alpha=0.1, horizon=h), id="linear_ar"
    ),
]
NAIVES = ALL[:2]


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("make", ALL)
def test_formats_mirror_inputs(make):
    y = seasonal(120)
    est = make(3)
    assert est.fit(y).predict().shape == (3,)
    assert est.fit(np.c_[y, 2 * y]).predict().shape == (3, 2)
    out = est.fit(as_series(y)).predict()
    assert isinstance(out, pd.Series) and out.name == "v"
    assert out.index[0] == as_series(y).index[-1] + pd.Timedelta("30min")
    frame = pd.DataFrame(
        {"a": y, "b": -y}, index=pd.date_range("2020-01-01", periods=120, freq="MS")
    )
    out = est.fit(frame).predict()
    assert list(out.columns) == ["a", "b"] and out.index[0] == pd.Timestamp(
        "2030-01-01"
    )
    iv = est.predict_interval()
    assert list(iv.columns) == ["a-lo-90", "a-hi-90", "b-lo-90", "b-hi-90"]
    assert (iv["a-lo-90"] <= out["a"]).all() and (out["a"] <= iv["a-hi-90"]).all()
    long = as_long([seasonal(100, seed=1), seasonal(70, seed=2) * 100])
    out = est.fit(long).predict()
    assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 6
    iv = est.predict_interval(coverage=0.8)
    assert list(iv.columns) == ["unique_id", "ds", "y-lo-80", "y-hi-80"]
    # the wider series gets the wider interval (scaled conformal scores)
    width = (iv["y-hi-80"] - iv["y-lo-80"]).groupby(iv["unique_id"]).mean()
    assert width["s1"] > 10 * width["s0"]


@pytest.mark.parametrize("make", ALL)
def test_user_data_unchanged(make):
    y = as_series(seasonal(80))
    y.iloc[5] = np.nan
    before = y.copy()
    est = make(2).fit(y)
    est.update(pd.Series([1.0, 2.0], index=est.schema_.future_index(2)))
    est.score(pd.Series([1.0, 2.0, 3.0], index=est.schema_.future_index(3)))
    pd.testing.assert_series_equal(y, before)


# --------------------------------------------------------------------------- update
@pytest.mark.parametrize("make", NAIVES)
@pytest.mark.parametrize("fmt", ["numpy", "pandas", "long"])
def test_update_then_predict_equals_fit_on_longer(make, fmt):
    a, b = seasonal(90, seed=3), seasonal(60, seed=4)
    a[[10, 80]] = np.nan  # gaps in the streamed part too
    cut_a, cut_b = 70, 41

    def data(ya, yb):
        if fmt == "numpy":
            return ya
        if fmt == "pandas":
            return as_series(ya)
        return as_long([ya, yb])

    def new(ya, yb, full):
        if fmt == "numpy":
            return ya
        if fmt == "pandas":
            return as_series(full)[cut_a:]
        frame = as_long([a, b])
        keep = (
            frame["unique_id"].eq("s0")
            & (frame.groupby("unique_id").cumcount() >= cut_a)
        ) | (
            frame["unique_id"].eq("s1")
            & (frame.groupby("unique_id").cumcount() >= cut_b)
        )
        return frame[keep]

    streamed = make(5).fit(data(a[:cut_a], b[:cut_b]))
    streamed.update(new(a[cut_a:], b[cut_b:], a))
    full = make(5).fit(data(a, b))
    p1, p2 = streamed.predict(), full.predict()
    if isinstance(p1, pd.DataFrame):
        pd.testing.assert_frame_equal(p1, p2)
    elif isinstance(p1, pd.Series):
        pd.testing.assert_series_equal(p1, p2)
    else:
        np.testing.assert_array_equal(p1, p2)


def test_update_in_pieces_equals_one_update_linear_ar():
    y = seasonal(150)
    y[[100, 101, 120]] = np.nan
    one = LinearARForecaster(lags=13, horizon=4).fit(y[:90]).update(y[90:])
    pieces = LinearARForecaster(lags=13, horizon=4).fit(y[:90])
    for k in range(90, 150, 7):
        pieces.update(y[k : k + 7])
    np.testing.assert_allclose(one.predict(), pieces.predict(), rtol=1e-12)
    assert np.isfinite(one.predict()).all()


def test_linear_ar_recovers_ar2():
    rng = np.random.default_rng(0)
    y = np.zeros(3000)
    for t in range(2, len(y)):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + rng.normal()
    est = LinearARForecaster(lags=2, alpha=0.0).fit(y)
    # standardized coefficients equal raw ones for a single series
    np.testing.assert_allclose(est.coef_[:, 0], [0.6, -0.3], atol=0.05)
    # recursive forecast = the AR recursion from the last two values
    f = est.predict(2)
    mu, sd = est.y_mean_[0, 0], est.y_scale_[0, 0]
    z1, z2 = (y[-1] - mu) / sd, (y[-2] - mu) / sd
    s1 = est.intercept_[0] + est.coef_[0, 0] * z1 + est.coef_[1, 0] * z2
    s2 = est.intercept_[0] + est.coef_[0, 0] * s1 + est.coef_[1, 0] * z1
    np.testing.assert_allclose(f, np.array([s1, s2]) * sd + mu, rtol=1e-10)


def test_linear_ar_covariates_wide_and_long():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = 3.0 * x + 0.01 * rng.normal(size=200)
    est = LinearARForecaster(lags=1, alpha=1e-6, horizon=2).fit(y[:190], x[:190])
    np.testing.assert_allclose(est.predict(X=x[190:192]), 3.0 * x[190:192], atol=0.1)
    with pytest.raises(ValueError, match="predict needs their future values"):
        est.predict()
    with pytest.raises(ValueError, match="3 row"):
        est.predict(X=x[:3])
    # long format: covariates as extra columns, future X for a subset of series
    long = as_long([y[:100], y[100:]], int_time=True)
    long["x"] = np.concatenate([x[:100], x[100:]])
    est = LinearARForecaster(lags=1, alpha=1e-6, horizon=2).fit(
        long.groupby("unique_id").head(95)
    )
    Xf = long[long["unique_id"].eq("s1") & long["ds"].between(95, 96)][
        ["unique_id", "ds", "x"]
    ]
    out = est.predict(X=Xf)
    assert list(out["unique_id"]) == ["s1", "s1"]
    # one pooled model on per-series standardized targets: the effect of x is shared
    # in standardized units, so it is exact only up to the series' spread
    np.testing.assert_allclose(out["y"], 3.0 * Xf["x"], rtol=0.15)
    head, tail = long.groupby("unique_id").head(95), long.groupby("unique_id").tail(5)
    naive = NaiveForecaster(horizon=2).fit(head)
    assert est.score(tail) > 0.2 * naive.score(tail)  # scores are -MAE


def test_linear_ar_handles_nan():
    y = seasonal(200)
    y[50:55] = np.nan
    y[-3] = np.nan
    est = LinearARForecaster(lags=12, horizon=3).fit(y)
    assert np.isfinite(est.predict()).all()
    lo, hi = est.predict_interval()
    assert np.isfinite(lo).all() and (lo < hi).all()


def test_too_short_and_all_nan_errors():
    with pytest.raises(ValueError, match="full season"):
        SeasonalNaiveForecaster(12).fit(np.arange(8.0))
    with pytest.raises(ValueError, match="max\\(lags\\)\\+1 = 6"):
        LinearARForecaster(lags=5).fit(np.arange(4.0))
    with pytest.raises(ValueError, match=r"series 's1' has no observed value"):
        NaiveForecaster().fit(as_long([np.ones(3), np.full(3, np.nan)]))


@pytest.mark.parametrize("make", ALL)
def test_protocol_errors(make):
    est = make()
    with pytest.raises(NotFittedError):
        est.predict()
    with pytest.raises(NotFittedError):
        est.update(np.ones(2))
    est.fit(as_series(seasonal(60)))
    with pytest.raises(ValueError, match="continue the series"):
        est.update(as_series(seasonal(3)))
    with pytest.raises(ValueError, match=">= 1"):
        est.predict(0)


def test_bad_params():
    with pytest.raises(ValueError, match="season_length"):
        SeasonalNaiveForecaster(season_length=0).fit(np.ones(5))
    with pytest.raises(ValueError, match="lags"):
        LinearARForecaster(lags=[0, 1]).fit(np.ones(5))


# --------------------------------------------------------------------------- sklearn
@pytest.mark.parametrize("make", ALL)
def test_clone_pickle_repr(make):
    est = make(2)
    assert clone(est).get_params() == est.get_params()
    est.fit(as_series(seasonal(60)))
    again = pickle.loads(pickle.dumps(est))
    pd.testing.assert_series_equal(again.predict(), est.predict())
    assert type(est).__name__ in repr(est)


def test_grid_search_with_time_series_split():
    y = seasonal(240, m=12, noise=0.3)
    gs = GridSearchCV(
        SeasonalNaiveForecaster(horizon=3),
        {"season_length": [1, 5, 12]},
        cv=TimeSeriesSplit(3),
    ).fit(y)
    assert gs.best_params_ == {"season_length": 12}
    assert gs.best_score_ < 0
    gs = GridSearchCV(
        LinearARForecaster(horizon=2), {"lags": [1, 12]}, cv=TimeSeriesSplit(3)
    ).fit(as_series(y))
    assert gs.best_params_ == {"lags": 12}
    assert isinstance(gs.best_estimator_.predict(), pd.Series)  # refit on everything


def test_cross_validate_and_score_sign():
    y = as_series(seasonal(200))
    res = cross_validate(NaiveForecaster(horizon=2), y, cv=TimeSeriesSplit(4))
    assert res["test_score"].shape == (4,) and (res["test_score"] < 0).all()
    # score is -MAE of the walk: forecast 2, compare, update 2 ...
    est = NaiveForecaster(horizon=2).fit(y[:150])
    tail = y[150:155].to_numpy()
    expected = np.abs(
        np.r_[tail[:2] - y.iloc[149], tail[2:4] - tail[1], tail[4] - tail[3]]
    )
    assert est.score(y[150:155]) == pytest.approx(-expected.mean())
    assert est.predict().equals(
        NaiveForecaster(horizon=2).fit(y[:150]).predict()
    )  # unchanged


# --------------------------------------------------------------------------- intervals
def _held_out_coverage(est, y, start, coverage):
    est = est.fit(y[:start])
    inside = []
    for t in range(start, len(y) - est.horizon + 1, est.horizon):
        lo, hi = est.predict_interval(coverage=coverage)
        truth = y[t : t + est.horizon]
        inside.extend((lo <= truth) & (truth <= hi))
        est.update(truth)
    return float(np.mean(inside))


@pytest.mark.parametrize("horizon", [1, 4])
def test_conformal_coverage_seasonal_naive(horizon):
    covs = [
        _held_out_coverage(
            SeasonalNaiveForecaster(12, horizon=horizon),
            seasonal(1400, seed=s),
            600,
            0.9,
        )
        for s in range(5)
    ]
    assert abs(np.mean(covs) - 0.9) < COVERAGE_TOL_MEAN, covs
    assert all(abs(c - 0.9) < COVERAGE_TOL_ONE for c in covs), covs


def test_conformal_quantile_finite_sample():
    scores = np.arange(1.0, 20.0)[:, None, None]  # n = 19
    # ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.9)[0, 0] == 18.0
    assert conformal_quantile(scores, 0.5)[0, 0] == 10.0
    with pytest.raises(ValueError, match="at least 19"):
        conformal_quantile(scores[:10], 0.95)


def test_interval_errors():
    est = NaiveForecaster(horizon=2).fit(seasonal(100))
    with pytest.raises(ValueError, match="set horizon=5"):
        est.predict_interval(5)
    for bad in (100, 0, -0.5, 250.0):
        with pytest.raises(ValueError, match=r"percentage in \[1, 100\)"):
            est.predict_interval(coverage=bad)
        with pytest.raises(ValueError, match=r"percentage in \[1, 100\)"):
            est.predict_interval(level=[80, bad])
    with pytest.raises(TypeError, match="percentage such as 90"):
        est.predict_interval(level="90")
    with pytest.raises(ValueError, match="not both"):
        est.predict_interval(level=90, coverage=0.9)
    with pytest.raises(ValueError, match="method 'conformal'"):
        est.predict_interval(method="quantile")


def test_levels_as_percent_or_fraction_and_nested():
    est = NaiveForecaster(horizon=3).fit(seasonal(100))
    a = est.predict_interval(level=90)
    b = est.predict_interval(coverage=0.9)
    np.testing.assert_array_equal(a, b)
    lo, hi = est.predict_interval(level=[80, 95])
    assert lo.shape == (2, 3) and (lo[1] <= lo[0]).all() and (hi[0] <= hi[1]).all()
    np.testing.assert_array_equal(lo[0], est.predict_interval(level=80)[0])


def test_short_series_fall_back_to_a_random_walk_band_with_a_warning():
    from tsrnn.evaluation import IntervalFallbackWarning

    short = NaiveForecaster(horizon=4).fit(np.array([1.0, 3.0, 2.0, 4.0]))
    with pytest.warns(IntervalFallbackWarning, match="no calibration residuals"):
        lo, hi = short.predict_interval(level=95)
    half = (hi - lo) / 2
    assert np.all(np.isfinite(half)) and np.all(half > 0)
    # a random walk's band grows as sqrt(steps)
    np.testing.assert_allclose(half / half[0], np.sqrt(np.arange(1, 5)))
    # sigma from the mean absolute change (5/3 here) * sqrt(pi / 2), times z
    assert half[0] == pytest.approx(1.959964 * 5 / 3 * np.sqrt(np.pi / 2), rel=1e-5)


class PublicOnly(ForecasterMixin, BaseEstimator):
    """A forecaster with only the public protocol (no array-level fast path)."""

    def __init__(self, season_length=12, horizon=1):
        self.season_length = season_length
        self.horizon = horizon

    def fit(self, y, X=None):
        self.inner_ = SeasonalNaiveForecaster(self.season_length, self.horizon).fit(
            y, X
        )
        self.schema_ = self.inner_.schema_
        self._calibrate_conformal(to_series_set(y, X))
        return self

    def update(self, y_new, X_new=None):
        self.inner_.update(y_new, X_new)
        self.schema_ = self.inner_.schema_
        return self

    def predict(self, horizon=None, X=None):
        return self.inner_.predict(horizon, X)


@pytest.mark.parametrize("long", [False, True])
def test_public_protocol_path_matches_fast_path(long):
    ys = [seasonal(150, seed=1), 3 * seasonal(130, seed=2)]
    y = as_long(ys) if long else as_series(ys[0])
    head = y.groupby("unique_id").head(110) if long else y[:110]
    tail = y[y.groupby("unique_id").cumcount() >= 110] if long else y[110:]
    fast = SeasonalNaiveForecaster(12, horizon=3).fit(head)
    slow = PublicOnly(12, horizon=3).fit(head)
    np.testing.assert_array_equal(fast.conformal_scores_, slow.conformal_scores_)
    assert fast.score(tail) == slow.score(tail)
    a, b = fast.predict_interval(), slow.predict_interval()
    pd.testing.assert_frame_equal(a, b)


def test_a_collections_conformal_pool_is_capped_at_the_pool_limit(monkeypatch):
    # many series: the pool keeps a fixed sample of pool_limit rows (the
    # smallest keys, in the pool's order), so a baseline's memory stops
    # growing with the series; at or below the limit every row is kept
    from tsrnn.evaluation import conformal

    rng = np.random.default_rng(0)
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{s}", "ds": np.arange(60), "y": rng.normal(size=60)}
            )
            for s in range(12)
        ],
        ignore_index=True,
    )
    full = NaiveForecaster(horizon=3).fit(frame)
    n = len(full.conformal_errors_)
    monkeypatch.setattr(conformal, "MIN_POOL_FORECASTS", 1)
    monkeypatch.setattr(conformal, "MAX_POOL_RESIDUALS", n)
    at = NaiveForecaster(horizon=3).fit(frame)
    np.testing.assert_array_equal(at.conformal_errors_, full.conformal_errors_)
    cap = n // 4
    monkeypatch.setattr(conformal, "MAX_POOL_RESIDUALS", cap)
    a, b = NaiveForecaster(horizon=3).fit(frame), NaiveForecaster(horizon=3).fit(frame)
    keep = np.sort(np.argsort(conformal.pool_keys(0, 0, n), kind="stable")[:cap])
    np.testing.assert_array_equal(a.conformal_errors_, full.conformal_errors_[keep])
    np.testing.assert_array_equal(a.conformal_scores_, np.abs(a.conformal_errors_))
    pd.testing.assert_frame_equal(
        a.predict_interval(level=[80]), b.predict_interval(level=[80])
    )
