"""Tests of tsrnn.windowing: series -> supervised windows (STYLE.md section 3)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_set_output_transform,
    parametrize_with_checks,
)

import tsrnn.windowing
from tsrnn.windowing import WindowTransformer, make_windows, windows_from_long


def naive_windows(y, x=None, window=1, horizon=1, step=1, future=False):
    """Slow, loop-by-loop reference of make_windows (flatten=False layout)."""
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    x = None if x is None else np.asarray(x, dtype=float).reshape(len(y), -1)
    X_out, y_out, ends = [], [], []
    s = len(y) - window - horizon  # the last window ends at the last row
    while s >= 0:
        steps = []
        for t in range(s, s + window):
            feats = list(y[t])
            if x is not None:
                feats += list(x[t])
            if future:
                feats += list(x[t + horizon])
            steps.append(feats)
        X_out.append(steps)
        y_out.append([v for t in range(s + window, s + window + horizon) for v in y[t]])
        ends.append(s + window + horizon - 1)
        s -= step
    return np.array(X_out[::-1]), np.array(y_out[::-1]), np.array(ends[::-1])


# ------------------------------------------------------------ exact values


def test_single_target_hand_checked():
    X_win, y_win = make_windows(np.arange(6.0), window=3)
    assert_array_equal(X_win, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    assert_array_equal(y_win, [3, 4, 5])
    assert y_win.shape == (3,)
    assert X_win.dtype == np.float64 and y_win.dtype == np.float64


def test_covariate_and_horizon_hand_checked():
    y = np.arange(6.0)
    temp = 10.0 + np.arange(6.0)
    X_win, y_win = make_windows(y, window=2, horizon=2, X=temp)
    # per step: target then covariate, oldest step first
    assert_array_equal(X_win, [[0, 10, 1, 11], [1, 11, 2, 12], [2, 12, 3, 13]])
    assert_array_equal(y_win, [[2, 3], [3, 4], [4, 5]])


def test_multi_target_order_is_step_major():
    y = np.column_stack([np.arange(5.0), 100 + np.arange(5.0)])
    X_win, y_win = make_windows(y, window=2, horizon=2)
    assert_array_equal(X_win, [[0, 100, 1, 101], [1, 101, 2, 102]])
    # all targets of step 1, then all targets of step 2
    assert_array_equal(y_win, [[2, 102, 3, 103], [3, 103, 4, 104]])
    assert_array_equal(y_win.reshape(2, 2, 2)[:, 1, :], [[3, 103], [4, 104]])


def test_multi_target_horizon_one():
    y = np.column_stack([np.arange(4.0), -np.arange(4.0)])
    _, y_win = make_windows(y, window=2)
    assert_array_equal(y_win, [[2, -2], [3, -3]])


def test_step_is_anchored_at_the_end():
    # 8 rows, window 2, horizon 1: starts 0..5; step 2 keeps 1, 3, 5 so that
    # the most recent window (ending at the last row) is always there.
    X_win, y_win, ends = make_windows(np.arange(8.0), 2, step=2, return_index=True)
    assert_array_equal(X_win, [[1, 2], [3, 4], [5, 6]])
    assert_array_equal(y_win, [3, 5, 7])
    assert_array_equal(ends, [3, 5, 7])
    X_win, y_win = make_windows(np.arange(8.0), 2, step=10)
    assert_array_equal(X_win, [[5, 6]])
    assert_array_equal(y_win, [7])


def test_future_covariates_hand_checked():
    y = np.arange(6.0)
    cal = 10.0 + np.arange(6.0)
    X_win, y_win = make_windows(
        y, window=2, horizon=2, X=cal, future_covariates=True, flatten=False
    )
    # step t: y_t, cal_t, cal_{t+2}; the last 2 steps carry cal of both targets
    assert_array_equal(
        X_win,
        [
            [[0, 10, 12], [1, 11, 13]],
            [[1, 11, 13], [2, 12, 14]],
            [[2, 12, 14], [3, 13, 15]],
        ],
    )
    assert_array_equal(y_win, [[2, 3], [3, 4], [4, 5]])


def test_flatten_false_is_the_reshaped_flat_array():
    rng = np.random.default_rng(0)
    y, x = rng.normal(size=(20, 2)), rng.normal(size=(20, 3))
    flat, y1 = make_windows(y, 4, 2, X=x)
    cube, y2 = make_windows(y, 4, 2, X=x, flatten=False)
    assert cube.shape == (15, 4, 5)
    assert_array_equal(flat, cube.reshape(15, -1))
    assert_array_equal(y1, y2)
    assert cube.flags.c_contiguous


@settings(deadline=None, max_examples=50)
@given(
    n=st.integers(2, 30),
    window=st.integers(1, 6),
    horizon=st.integers(1, 4),
    step=st.integers(1, 5),
    n_targets=st.integers(1, 2),
    n_cov=st.integers(0, 2),
    future=st.booleans(),
)
def test_matches_naive_reference(n, window, horizon, step, n_targets, n_cov, future):
    future = future and n_cov > 0 and window >= horizon
    if n < window + horizon:
        return
    y = np.arange(n * n_targets, dtype=float).reshape(n, n_targets) ** 1.5
    x = -np.arange(n * n_cov, dtype=float).reshape(n, n_cov) if n_cov else None
    X_win, y_win, ends = make_windows(
        y if n_targets > 1 else y.ravel(),
        window,
        horizon,
        X=x,
        step=step,
        flatten=False,
        future_covariates=future,
        return_index=True,
    )
    X_ref, y_ref, ends_ref = naive_windows(y, x, window, horizon, step, future)
    assert_array_equal(X_win, X_ref)
    assert_array_equal(y_win.reshape(len(y_ref), -1), y_ref)
    assert_array_equal(ends, ends_ref)
    assert len(X_win) == (n - window - horizon) // step + 1


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.parametrize("horizon", [1, 4])
@pytest.mark.parametrize("n_cov, future", [(0, False), (2, False), (2, True)])
@pytest.mark.parametrize("flatten", [True, False])
def test_shapes(n_targets, horizon, n_cov, future, flatten):
    n, window = 30, 5
    y = np.ones((n, n_targets)) if n_targets > 1 else np.ones(n)
    x = np.ones((n, n_cov)) if n_cov else None
    X_win, y_win = make_windows(
        y, window, horizon, X=x, flatten=flatten, future_covariates=future
    )
    n_samples = n - window - horizon + 1
    n_features = n_targets + n_cov * (2 if future else 1)
    if flatten:
        assert X_win.shape == (n_samples, window * n_features)
    else:
        assert X_win.shape == (n_samples, window, n_features)
    if n_targets == 1 and horizon == 1:
        assert y_win.shape == (n_samples,)
    else:
        assert y_win.shape == (n_samples, horizon * n_targets)


def test_one_column_2d_series_is_one_target():
    _, y_win = make_windows(np.arange(5.0)[:, None], 2)
    assert y_win.shape == (3,)
    _, y_win = make_windows(np.arange(5.0)[:, None], 2, horizon=2)
    assert y_win.shape == (2, 2)


def test_float32_and_int_input():
    X_win, y_win = make_windows(np.arange(6), 2, dtype=np.float32)
    assert X_win.dtype == np.float32 and y_win.dtype == np.float32
    X_win, y_win = make_windows(list(range(6)), 2)
    assert X_win.dtype == np.float64
    assert_array_equal(y_win, [2, 3, 4, 5])


def test_float32_overflow_is_reported():
    with pytest.raises(ValueError, match="too large for float32.*np.float64"):
        make_windows(np.full(5, 1e300), 2, dtype=np.float32)


# ------------------------------------------------------------------ pandas


def _daily(values, start="2024-01-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def test_pandas_series_and_frame_match_numpy():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(12, 2))
    x = rng.normal(size=(12, 1))
    idx = pd.date_range("2024-01-01", periods=12, freq="h")
    y_df = pd.DataFrame(y, index=idx, columns=["a", "b"])
    x_s = pd.Series(x[:, 0], index=idx, name="temp")
    X1, y1, index = make_windows(y_df, 3, 2, X=x_s, return_index=True)
    X2, y2 = make_windows(y, 3, 2, X=x)
    assert_array_equal(X1, X2)
    assert_array_equal(y1, y2)
    assert isinstance(index, pd.DatetimeIndex)
    assert_array_equal(index, idx[4:])  # the last target step of each sample


def test_index_aligns_predictions_with_horizon_one():
    s = _daily(np.arange(10.0) ** 2)
    _, y_win, index = make_windows(s, 3, return_index=True)
    # horizon 1: the index is the target's own time stamp
    assert_array_equal(s.loc[index].to_numpy(), y_win)


def test_index_from_covariates_when_series_is_numpy():
    x = _daily(np.zeros(6))
    _, _, index = make_windows(np.arange(6.0), 2, X=x, return_index=True)
    assert_array_equal(index, x.index[2:])


def test_pandas_nullable_and_integer_dtypes():
    s = pd.Series([1, 2, 3, 4, 5], dtype="Int64")
    X_win, y_win = make_windows(s, 2)
    assert_array_equal(y_win, [3, 4, 5])
    with pytest.raises(ValueError, match="1 NaN value.*row 2"):
        make_windows(pd.Series([1, 2, None, 4, 5], dtype="Int64"), 2)


@pytest.mark.parametrize(
    "index, match",
    [
        (
            pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02", "2024-01-04"]),
            r"not sorted.*sort_index\(\)",
        ),
        (
            pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-04"]),
            r"duplicate index labels.*2024-01-02.*groupby\(level=0\)",
        ),
        (pd.Index([3, 2, 1, 0]), "not sorted"),
    ],
)
def test_unsorted_or_duplicate_time_index(index, match):
    with pytest.raises(ValueError, match=match):
        make_windows(pd.Series(np.arange(4.0), index=index), 2)


def test_string_index_order_is_not_checked():
    # labels without a time meaning: rows are taken in the order given
    s = pd.Series(np.arange(4.0), index=list("dcba"))
    _, y_win, index = make_windows(s, 2, return_index=True)
    assert_array_equal(y_win, [2, 3])
    assert list(index) == ["b", "a"]


# ------------------------------------------------- time order, copies, input


def test_windows_are_in_time_order():
    X_win, y_win, ends = make_windows(np.arange(50.0), 7, 3, step=2, return_index=True)
    assert np.all(np.diff(ends) > 0)
    assert np.all(np.diff(X_win[:, 0]) > 0)
    assert np.all(np.diff(y_win[:, -1]) > 0)


@pytest.mark.parametrize("flatten", [True, False])
def test_outputs_are_fresh_memory_and_inputs_untouched(flatten):
    y = np.arange(10.0)
    x = np.arange(20.0).reshape(10, 2)
    y_before, x_before = y.copy(), x.copy()
    for kwargs in ({}, {"X": x}):
        X_win, y_win = make_windows(y, 3, **kwargs, flatten=flatten)
        for out in (X_win, y_win):
            assert not np.shares_memory(out, y)
            assert not np.shares_memory(out, x)
            assert out.flags.writeable
        X_win[...] = -1.0  # writing into the result must not reach the input
        y_win[...] = -1.0
    assert_array_equal(y, y_before)
    assert_array_equal(x, x_before)


def test_pandas_inputs_untouched_and_not_shared():
    s = _daily(np.arange(8.0))
    x = pd.DataFrame({"a": np.arange(8.0)}, index=s.index)
    s_before, x_before = s.copy(), x.copy()
    X_win, y_win = make_windows(s, 3, X=x)
    assert not np.shares_memory(X_win, s.to_numpy())
    assert not np.shares_memory(y_win, s.to_numpy())
    pd.testing.assert_series_equal(s, s_before)
    pd.testing.assert_frame_equal(x, x_before)


def test_read_only_and_strided_inputs():
    base = np.arange(40.0).reshape(20, 2)
    y = base[:, 0]  # strided view
    y.flags.writeable = False
    X_win, y_win = make_windows(y, 3)
    X_ref, y_ref = make_windows(np.ascontiguousarray(y), 3)
    assert_array_equal(X_win, X_ref)
    assert_array_equal(y_win, y_ref)
    assert X_win.flags.writeable and X_win.flags.c_contiguous


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            {"window": 5, "horizon": 2},
            ValueError,
            r"series has 6 rows.*window \+ horizon = 5 \+ 2 = 7.*longer series",
        ),
        ({"window": 0}, ValueError, r"window must be >= 1"),
        ({"window": 2, "horizon": 0}, ValueError, r"horizon must be >= 1"),
        ({"window": 2, "step": -1}, ValueError, r"step must be >= 1"),
        (
            {"window": 2.0},
            TypeError,
            r"window must be an integer.*got 2\.0 of type float",
        ),
        ({"window": True}, TypeError, r"window must be an integer.*bool"),
        ({"window": 2, "horizon": "1"}, TypeError, r"horizon must be an integer"),
        ({"window": 2, "step": None}, TypeError, r"step must be an integer"),
        (
            {"window": 2, "X": np.zeros(5)},
            ValueError,
            r"X has 5 rows but series has 6.*aligned row by row",
        ),
        (
            {"window": 2, "X": np.zeros((6, 1, 1))},
            ValueError,
            r"X must be 1-D or 2-D.*shape \(6, 1, 1\)",
        ),
        ({"window": 2, "X": np.zeros((6, 0))}, ValueError, r"X has no columns"),
        (
            {"window": 2, "future_covariates": True},
            ValueError,
            r"future_covariates=True needs covariates: pass X",
        ),
        (
            {"window": 1, "horizon": 2, "X": np.zeros(6), "future_covariates": True},
            ValueError,
            r"needs window >= horizon.*increase window",
        ),
        ({"window": 2, "dtype": np.int64}, TypeError, r"dtype must be np.float64"),
        (
            {"window": 2, "X": np.array(list("abcdef"))},
            TypeError,
            r"X has dtype <U1, not numbers.*astype\(float\)",
        ),
    ],
)
def test_parameter_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_windows(np.arange(6.0), **kwargs)


@pytest.mark.parametrize(
    "series, exc, match",
    [
        (
            np.array([0.0, 1.0, np.nan, 3.0, np.nan]),
            ValueError,
            r"series contains 2 NaN value\(s\) \(first in row 2\).*impute",
        ),
        (
            np.array([0.0, 1.0, 2.0, np.inf, 4.0]),
            ValueError,
            r"series contains inf \(first in row 3\).*clip",
        ),
        (
            np.array([True, False, True, True, False]),
            TypeError,
            r"series is boolean.*astype\(float\)",
        ),
        (np.arange(5) + 1j, TypeError, r"series is complex.*real"),
        (
            np.array([1, 2, 3, 4, 5], dtype=object),
            TypeError,
            r"series has dtype object",
        ),
        (np.array(["1", "2", "3", "4", "5"]), TypeError, r"series has dtype <U1"),
        (np.zeros((5, 1, 1)), ValueError, r"series must be 1-D or 2-D.*\(5, 1, 1\)"),
        (np.float64(3.0), ValueError, r"series is a scalar"),
        (None, TypeError, r"series is None"),
        ([[1.0, 2.0], [3.0]], ValueError, r"series could not be read"),
        (
            pd.Series(list("abcde")),
            TypeError,
            r"series holds values that are not real numbers: dtype (object|str)",
        ),
        (
            pd.DataFrame({"a": np.arange(5.0), "flag": [True] * 5}),
            TypeError,
            r"not real numbers: 'flag' \(bool\)",
        ),
        (
            pd.Series(pd.Categorical(list("abcde"))),
            TypeError,
            r"not real numbers.*category",
        ),
        (pd.Series(pd.date_range("2024", periods=5)), TypeError, r"datetime64"),
    ],
)
def test_data_errors(series, exc, match):
    with pytest.raises(exc, match=match):
        make_windows(series, 2)


def test_nan_in_covariates_named():
    x = np.zeros((6, 2))
    x[4, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"X contains 1 NaN value\(s\) \(first in row 4\)"
    ):
        make_windows(np.arange(6.0), 2, X=x)


def test_empty_series():
    with pytest.raises(ValueError, match="series has 0 rows"):
        make_windows(np.array([]), 1)


# ------------------------------------------------------- TimeSeriesSplit


def test_time_series_split_on_windows_splits_by_time():
    s = _daily(np.sin(np.arange(60.0)))
    X_win, y_win, index = make_windows(s, 5, horizon=3, return_index=True)
    n_folds = 0
    for train, test in TimeSeriesSplit(n_splits=4).split(X_win):
        n_folds += 1
        # rows are in time order: every training sample ends before every test one
        assert index[train].max() < index[test].min()
        assert np.all(np.diff(index[test]) > pd.Timedelta(0))
    # a gap of horizon - 1 rows keeps the test targets clear of every training
    # target (a sample covers `horizon` target steps ending at its index)
    for train, test in TimeSeriesSplit(n_splits=4, gap=2).split(X_win):
        first_test_target = index[test].min() - pd.Timedelta(days=3 - 1)
        assert index[train].max() < first_test_target
    assert n_folds == 4


def test_grid_search_with_time_series_split_on_windows():
    t = np.arange(120.0)
    y = np.sin(0.3 * t)
    X_win, y_win = make_windows(y, 6)
    search = GridSearchCV(
        make_pipeline(LinearRegression()),
        {"linearregression__fit_intercept": [True, False]},
        cv=TimeSeriesSplit(n_splits=3),
    ).fit(X_win, y_win)
    # a sinusoid is an exact AR(2): the windows carry enough to predict it
    assert search.best_score_ > 0.999


# -------------------------------------------------------- WindowTransformer


def test_transformer_hand_checked_and_names():
    series = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0], [3.0, 13.0]])
    wt = WindowTransformer(window=2).fit(series)
    assert_array_equal(
        wt.transform(series), [[0, 10, 1, 11], [1, 11, 2, 12], [2, 12, 3, 13]]
    )
    assert list(wt.get_feature_names_out()) == [
        "lag_1_x0",
        "lag_1_x1",
        "lag_0_x0",
        "lag_0_x1",
    ]
    assert list(wt.get_feature_names_out(["y", "temp"])) == [
        "lag_1_y",
        "lag_1_temp",
        "lag_0_y",
        "lag_0_temp",
    ]


def test_transformer_step_keeps_the_latest_window():
    series = np.arange(7.0)[:, None]
    out = WindowTransformer(window=2, step=3).fit_transform(series)
    assert_array_equal(out, [[2, 3], [5, 6]])


def test_transformer_matches_make_windows_inputs():
    rng = np.random.default_rng(3)
    y, x = rng.normal(size=(40, 2)), rng.normal(size=(40, 3))
    for step in (1, 3):
        X_win, _ = make_windows(y, 5, horizon=4, X=x, step=step)
        # targets first, then covariates; drop the rows that are only targets
        series = np.column_stack([y, x])[:-4]
        out = WindowTransformer(5, step=step).fit_transform(series)
        assert_array_equal(out, X_win)


def test_transformer_in_pipeline_forecasts_an_ar_process():
    # y_t = 0.6 y_{t-1} - 0.3 y_{t-2} + 0.2 y_{t-3}: exactly linear in a window
    y = np.zeros(80)
    y[:3] = [1.0, -0.5, 0.25]
    for t in range(3, 80):
        y[t] = 0.6 * y[t - 1] - 0.3 * y[t - 2] + 0.2 * y[t - 3] + np.sin(t)
    # column 2 holds sin(t + 1): the exogenous term is known one step early
    series = np.column_stack([y, np.sin(np.arange(80.0) + 1)])
    window, horizon = 3, 1
    _, y_win = make_windows(series[:, 0], window, horizon, X=series[:, 1:])
    pipe = make_pipeline(WindowTransformer(window), LinearRegression())
    pipe.fit(series[:60][:-horizon], y_win[: 60 - window - horizon + 1])
    pred = pipe.predict(series[60 - window : 79])  # windows ending at 59..78
    assert_array_equal(pred.shape, (20,))
    np.testing.assert_allclose(pred, y[60:80], atol=1e-8)
    # set_params reaches the transformer; clone keeps it
    assert clone(pipe).set_params(windowtransformer__window=4)[0].window == 4


def test_transformer_feature_names_and_pandas_output():
    idx = pd.date_range("2024-01-01", periods=5, freq="D")
    df = pd.DataFrame({"y": np.arange(5.0), "temp": 10 + np.arange(5.0)}, index=idx)
    wt = WindowTransformer(window=2).set_output(transform="pandas").fit(df)
    out = wt.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["lag_1_y", "lag_1_temp", "lag_0_y", "lag_0_temp"]
    # labelled by each window's last row, not by the (longer) input index
    assert_array_equal(out.index, idx[1:])
    assert_array_equal(
        out.to_numpy(), WindowTransformer(2).fit_transform(df.to_numpy())
    )
    with config_context(transform_output="pandas"):
        out = WindowTransformer(window=3).fit_transform(df.to_numpy())
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == [0, 1, 2]
    assert list(out.columns)[:2] == ["lag_2_x0", "lag_2_x1"]


def test_transformer_output_choice_global_local_and_cloned():
    # the per-estimator set_output wins over the global config, in both
    # directions, and clone (GridSearchCV) keeps it
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    df = pd.DataFrame({"y": np.arange(4.0)}, index=idx)
    with config_context(transform_output="pandas"):
        out = WindowTransformer(window=2).fit_transform(df)
        assert isinstance(out, pd.DataFrame) and list(out.index) == list(idx[1:])
        local = WindowTransformer(window=2).set_output(transform="default")
        assert isinstance(local.fit_transform(df), np.ndarray)
        assert isinstance(clone(local).fit_transform(df), np.ndarray)
    chosen = clone(WindowTransformer(window=2).set_output(transform="pandas"))
    assert list(chosen.fit_transform(df).index) == list(idx[1:])


def test_transformer_set_output_default_check():
    check_set_output_transform("WindowTransformer", WindowTransformer(window=2))


def test_transformer_dtype_and_copy():
    x32 = np.arange(10, dtype=np.float32).reshape(5, 2)
    out = WindowTransformer(2).fit_transform(x32)
    assert out.dtype == np.float32
    assert not np.shares_memory(out, x32)
    assert WindowTransformer(2).fit_transform(x32.astype(int)).dtype == np.float64


def test_transformer_errors():
    with pytest.raises(
        ValueError, match=r"X has 2 row\(s\).*window=3 needs at least 3"
    ):
        WindowTransformer(3).fit(np.zeros((2, 1)))
    wt = WindowTransformer(3).fit(np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"window=3 needs at least 3"):
        wt.transform(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="Reshape your data"):
        wt.transform(np.zeros(5))  # a 1-D series must be a column
    with pytest.raises(ValueError, match="1 features"):
        wt.transform(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        WindowTransformer(2).fit(np.array([[1.0], [np.nan], [2.0]]))
    with pytest.raises(ValueError, match="'window' parameter"):
        WindowTransformer(0).fit(np.zeros((5, 1)))
    df = pd.DataFrame({"x0": np.zeros(5)}, index=[4, 3, 2, 1, 0])
    with pytest.raises(ValueError, match="not sorted"):
        WindowTransformer(3).fit(df.sort_index()).transform(df)


# Checks that cannot apply once a window spans several rows (window > 1); with
# window=1 the transformer is row-wise and passes every check.
EXPECTED_FAILURES = {
    "check_transformer_general": (
        "asserts one output row per input row; a window of w rows yields "
        "n - w + 1 rows by design"
    ),
    "check_transformer_data_not_an_array": (
        "same assertion as check_transformer_general (one output row per input row)"
    ),
    "check_methods_sample_order_invariance": (
        "rows are time steps: shuffling them changes the windows, not just their order"
    ),
    "check_methods_subset_invariance": (
        "transforms one row at a time, but a window needs `window` consecutive rows"
    ),
}


@parametrize_with_checks(
    [WindowTransformer(window=1), WindowTransformer(window=3, step=2)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES if est.window > 1 else {},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -------------------------------------------------------- windows_from_long


def _long_frame():
    # series "b" starts later; rows are deliberately shuffled
    df = pd.DataFrame(
        {
            "unique_id": ["a"] * 6 + ["b"] * 4 + ["c"] * 5,
            "ds": list(range(0, 6)) + list(range(3, 7)) + list(range(0, 5)),
            "y": np.concatenate(
                [np.arange(6.0), 100 + np.arange(4.0), 200 + np.arange(5.0)]
            ),
            "temp": np.arange(15.0) / 10,
        }
    )
    return df.sample(frac=1.0, random_state=0)


def test_windows_from_long_order_and_values():
    df = _long_frame()
    df_before = df.copy()
    X_win, y_win, index = windows_from_long(df, window=2, covariate_cols="temp")
    pd.testing.assert_frame_equal(df, df_before)  # the caller's frame is untouched
    assert list(index.columns) == ["unique_id", "ds"]
    # ordered by end time across series; ties in series order
    assert list(index.itertuples(index=False, name=None)) == [
        ("a", 2),
        ("c", 2),
        ("a", 3),
        ("c", 3),
        ("a", 4),
        ("c", 4),
        ("a", 5),
        ("b", 5),
        ("b", 6),
    ]
    assert index["ds"].is_monotonic_increasing
    # first sample: series a, steps 0-1 -> target at ds=2
    assert_array_equal(X_win[0], [0.0, 0.0, 1.0, 0.1])
    assert y_win[0] == 2.0
    # each row equals make_windows on its own series
    ordered = df.sort_values(["unique_id", "ds"])
    for uid, g in ordered.groupby("unique_id"):
        X_ref, y_ref, ends = make_windows(
            g["y"].to_numpy(), 2, X=g[["temp"]].to_numpy(), return_index=True
        )
        rows = np.flatnonzero(index["unique_id"] == uid)
        assert_array_equal(X_win[rows], X_ref)
        assert_array_equal(y_win[rows], y_ref)
        assert_array_equal(index["ds"].iloc[rows], g["ds"].to_numpy()[ends])


def test_windows_from_long_tail_is_a_time_split():
    rng = np.random.default_rng(5)
    frames = []
    for k, start in enumerate(["2024-01-01", "2024-01-10", "2024-01-05"]):
        ds = pd.date_range(start, periods=30, freq="D")
        frames.append(
            pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": rng.normal(size=30)})
        )
    df = pd.concat(frames, ignore_index=True)
    X_win, y_win, index = windows_from_long(df, window=4, horizon=2, step=3)
    assert len(X_win) == len(y_win) == len(index)
    assert y_win.shape[1] == 2
    cut = int(0.8 * len(index))
    assert index["ds"].iloc[:cut].max() <= index["ds"].iloc[cut:].min()
    assert index["ds"].is_monotonic_increasing
    # each series ends with its most recent window
    last = index.groupby("unique_id")["ds"].max()
    assert_array_equal(
        last.sort_index().to_numpy(),
        df.groupby("unique_id")["ds"].max().sort_index().to_numpy(),
    )


def test_windows_from_long_options():
    df = _long_frame().rename(columns={"unique_id": "id", "ds": "t", "y": "load"})
    X_win, y_win, index = windows_from_long(
        df,
        2,
        horizon=2,
        id_col="id",
        time_col="t",
        target_col=["load", "temp"],
        flatten=False,
        dtype=np.float32,
    )
    assert X_win.shape == (len(index), 2, 2) and X_win.dtype == np.float32
    assert y_win.shape == (len(index), 4)
    assert list(index.columns) == ["id", "t"]
    X_win, _, _ = windows_from_long(
        df,
        2,
        horizon=2,
        id_col="id",
        time_col="t",
        target_col="load",
        covariate_cols=["temp"],
        future_covariates=True,
        flatten=False,
    )
    assert X_win.shape[2] == 3


def test_windows_from_long_short_series():
    df = _long_frame()
    match = r"1 of 3 series have fewer than window \+ horizon = 5 rows: 'b' \(4 rows\)"
    with pytest.raises(ValueError, match=match + ".*drop_short=True"):
        windows_from_long(df, window=4)
    _, _, index = windows_from_long(df, window=4, drop_short=True)
    assert set(index["unique_id"]) == {"a", "c"}
    with pytest.raises(ValueError, match="every series is shorter"):
        windows_from_long(df, window=10, drop_short=True)


@pytest.mark.parametrize(
    "mutate, kwargs, exc, match",
    [
        (lambda d: d.values, {}, TypeError, "df must be a pandas DataFrame"),
        (lambda d: d, {"target_col": "load"}, ValueError, r"no column\(s\) \['load'\]"),
        (lambda d: d, {"covariate_cols": ["y"]}, ValueError, "a column is used twice"),
        (
            lambda d: pd.concat([d, d.iloc[:1]]),
            {},
            ValueError,
            r"series 'a' has duplicate time stamps.*groupby",
        ),
        (
            lambda d: d.assign(y=d["y"].where(d["ds"] != 3)),
            {},
            ValueError,
            r"missing value \(NaN\) in column 'y', series 'a' at ds=3",
        ),
        (
            lambda d: d.assign(temp=np.inf),
            {"covariate_cols": "temp"},
            ValueError,
            r"inf value in column 'temp'",
        ),
        (
            lambda d: d.assign(ds=d["ds"].where(d["ds"] != 3)),
            {},
            ValueError,
            r"column 'ds' has missing values",
        ),
        (
            lambda d: d.assign(y=d["y"].astype(str)),
            {},
            TypeError,
            r"column\(s\) 'y' \((object|str)\) are not real numbers",
        ),
        (
            lambda d: d,
            {"future_covariates": True},
            ValueError,
            "needs covariates: pass covariate_cols",
        ),
        (lambda d: d, {"window": 0}, ValueError, "window must be >= 1"),
    ],
)
def test_windows_from_long_errors(mutate, kwargs, exc, match):
    args = {"window": 2, **kwargs}
    with pytest.raises(exc, match=match):
        windows_from_long(mutate(_long_frame()), **args)


# ------------------------------------------------------------------- docs


def test_docstring_examples():
    result = doctest.testmod(tsrnn.windowing, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10
    assert result.failed == 0
