"""Size-like parameters never allocate beyond the data or a documented budget.

Issue 14, "Resource traps": ``bptt_length=10**7`` on 60 rows allocated 6.7 GB,
recursive ``predict(horizon=10**12)`` was a raw ``MemoryError``,
``hidden_size=10**6`` asked NumPy for 29 TiB. Now a parameter bounded by the
data is clamped to it (``bptt_length``, ``batch_size``) with the same fit, and
one bounded by nothing is checked against :mod:`tsrnn.engine.budget` before
anything is allocated. Every check here runs under ``tracemalloc``: the big
buffer must never be asked for, not merely fail. Last, the time trap of a long
pandas forecast: its future timestamps were one pandas operation per step.
"""

from __future__ import annotations

import re
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.frequencies import to_offset
from sklearn.exceptions import ConvergenceWarning

import tsrnn.engine.budget as budget
import tsrnn.estimators.forecaster.training as training
from tsrnn import (
    LinearARForecaster,
    NaiveForecaster,
    PerSeriesForecaster,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    SeasonalNaiveForecaster,
    nn,
)
from tsrnn.data.timeaxis import shift, shift_range

#: What a refused call may allocate at most (the big buffers are gigabytes).
SMALL = 50 * 2**20


def sine(n=60):
    return np.sin(2 * np.pi * np.arange(n) / 12)


def tiny(cls, **kw):
    return cls(**{"hidden_size": 4, "max_iter": 1, "random_state": 0, **kw})


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn()


def measured(fn):
    """``fn()``'s result (or exception), its peak traced memory and its seconds."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        out = quiet(fn)
    except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
        out = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return out, peak, time.perf_counter() - start


def refused(fn, match):
    """``fn()`` raises a ValueError matching ``match`` without allocating much."""
    out, peak, _ = measured(fn)
    assert isinstance(out, ValueError), repr(out)
    assert re.search(match, str(out)), str(out)
    assert peak < SMALL, f"{peak / 2**20:.0f} MiB allocated before refusing"
    return str(out)


# ================================================================ bptt_length
@pytest.mark.parametrize("stateful", [True, False])
def test_bptt_length_beyond_the_data_allocates_the_data_only(stateful):
    est = tiny(RNNForecaster, bptt_length=10**7, stateful=stateful)
    out, peak, _ = measured(lambda: est.fit(sine()))
    assert out is est, repr(out)
    assert peak < SMALL, f"{peak / 2**20:.0f} MiB"  # was 6.7 GB
    assert np.isfinite(est.predict()).all()
    # the windows are the longest training part, not 10**7 steps
    assert est.dh_norm_.shape[1] <= (60 if stateful else 120)


@pytest.mark.parametrize("stateful", [True, False])
def test_clamped_windows_train_exactly_as_the_padded_ones(stateful, monkeypatch):
    # the clamp only drops padding after every target: the fit is unchanged
    # (windows of 300 steps over series of 40 and 60 rows, before the clamp;
    # window_length patched to the identity is the code before the clamp)
    y = pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": np.arange(60), "y": sine(60)}),
            pd.DataFrame({"unique_id": "b", "ds": np.arange(40), "y": sine(40) + 1}),
        ]
    )
    make = lambda: tiny(  # noqa: E731
        RNNForecaster, bptt_length=300, stateful=stateful, max_iter=3,
        batch_size=2,
    )
    clamped = quiet(lambda: make().fit(y))
    monkeypatch.setattr(training, "window_length", lambda series, T: int(T))
    padded = quiet(lambda: make().fit(y))
    # equal up to the summation order of the head's gradient over the steps
    # (the padded one adds zeros in other blocks): the last bit
    np.testing.assert_allclose(clamped.params_, padded.params_, rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(clamped.loss_curve_, padded.loss_curve_, rtol=1e-12)
    assert padded.dh_norm_.shape[1] == (300 if stateful else 600)


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: tiny(RNNForecaster, batch_size=10**9), lambda: (sine(),)),
        (lambda: tiny(RNNForecaster, batch_size=10**9, stateful=False),
         lambda: (sine(),)),
        (lambda: tiny(RNNRegressor, batch_size=10**9),
         lambda: (np.ones((40, 8)), np.arange(40.0))),
    ],
    ids=["forecaster", "forecaster-stateless", "regressor"],
)
def test_batch_size_beyond_the_data_allocates_the_data_only(make, data):
    est = make()
    out, peak, _ = measured(lambda: est.fit(*data()))
    assert out is est, repr(out)
    assert peak < SMALL


# ==================================================================== horizon
HUGE = 10**12
HORIZON = (
    r"horizon=1000000000000 asks for 1e\+12 forecast steps \(7\.3 TiB of values "
    r"alone\), over tsrnn's limit of 1e\+07 steps per predict call; lower horizon"
)


@pytest.fixture(scope="module")
def recursive():
    return quiet(lambda: tiny(RNNForecaster, strategy="recursive").fit(sine()))


@pytest.mark.parametrize("call", ["predict", "predict_interval"])
def test_recursive_horizon_in_the_billions_is_refused_up_front(recursive, call):
    msg = refused(lambda: getattr(recursive, call)(horizon=HUGE), HORIZON)
    assert "MAX_FORECAST_STEPS" in msg


def test_recursive_horizon_parameter_in_the_billions_is_refused_at_predict():
    est = quiet(lambda: tiny(RNNForecaster, strategy="recursive", horizon=HUGE).fit(
        sine()))
    refused(est.predict, HORIZON)


def test_a_direct_model_still_says_what_it_can_forecast():
    est = quiet(lambda: tiny(RNNForecaster, horizon=3).fit(sine()))
    with pytest.raises(ValueError, match=r"at most 3 steps.*recursive"):
        est.predict(horizon=HUGE)


@pytest.mark.parametrize(
    "make",
    [NaiveForecaster, lambda: SeasonalNaiveForecaster(season_length=12),
     LinearARForecaster],
    ids=["naive", "seasonal-naive", "linear-ar"],
)
def test_baselines_refuse_a_horizon_in_the_billions(make):
    est = make().fit(sine())
    refused(lambda: est.predict(horizon=HUGE), HORIZON)
    refused(lambda: est.predict_interval(horizon=HUGE), HORIZON)


def long_frame(n_series=3, n=40):
    return pd.concat(
        pd.DataFrame({"unique_id": f"s{i}", "ds": pd.date_range("2024", periods=n,
                                                                 freq="D"),
                      "y": sine(n) + i})
        for i in range(n_series)
    )


def test_the_limit_counts_steps_of_every_series(monkeypatch, recursive):
    monkeypatch.setattr(budget, "MAX_FORECAST_STEPS", 120)
    est = NaiveForecaster().fit(long_frame(3))
    assert len(est.predict(horizon=40)) == 120  # 3 x 40: at the limit
    with pytest.raises(ValueError, match=r"horizon=41 asks for 3 series x 41 = "
                       r"123 forecast steps.*limit of 120 steps"):
        est.predict(horizon=41)
    # one series per clone, but the limit is the whole call's
    per_series = PerSeriesForecaster(NaiveForecaster()).fit(long_frame(3))
    assert len(per_series.predict(horizon=40)) == 120
    with pytest.raises(ValueError, match="horizon=41 asks for 3 series x 41"):
        per_series.predict(horizon=41)
    with pytest.raises(ValueError, match="horizon=41 asks for 3 series x 41"):
        per_series.predict_interval(horizon=41)
    per_series.estimators_ = {k: e.set_params(horizon=41)
                              for k, e in per_series.estimators_.items()}
    with pytest.raises(ValueError, match="horizon=41 asks for 3 series x 41"):
        per_series.predict()
    assert recursive.predict(horizon=120).shape == (120,)
    with pytest.raises(ValueError, match="limit of 120 steps"):
        recursive.predict(horizon=121)


def test_long_format_with_covariates_counts_the_series_forecast(monkeypatch):
    monkeypatch.setattr(budget, "MAX_FORECAST_STEPS", 10)
    df = long_frame(2, 30)
    df["promo"] = np.arange(len(df)) % 2 * 1.0
    est = LinearARForecaster().fit(df)
    future = pd.DataFrame({"unique_id": "s0", "ds": pd.date_range(
        df["ds"].max() + pd.Timedelta("1D"), periods=10, freq="D"), "promo": 1.0})
    assert len(est.predict(horizon=10, X=future)) == 10  # only s0: 10 steps
    with pytest.raises(ValueError, match="2 series x 10 = 20 forecast steps"):
        est.predict(horizon=10, X=pd.concat([future, future.assign(unique_id="s1")]))


# ============================================================ network size
@pytest.mark.parametrize(
    "make, data",
    [
        (lambda **kw: tiny(RNNForecaster, **kw), lambda: (sine(),)),
        (lambda **kw: tiny(RNNRegressor, **kw), lambda: (np.ones((20, 4)), np.ones(20))),
        (lambda **kw: tiny(RNNClassifier, **kw),
         lambda: (np.ones((20, 4)), np.arange(20) % 2)),
    ],
    ids=["forecaster", "regressor", "classifier"],
)
def test_hidden_size_or_num_layers_beyond_the_budget_are_refused(make, data):
    refused(lambda: make(hidden_size=10**6).fit(*data()),
            r"a lstm stack with input_size=\d+, hidden_size=1000000 and num_layers=1 "
            # float32 (the forecaster's default) or float64 (the window models')
            r"has 4e\+12 parameters in 4 tensors: (14\.6|29\.1) TiB, over tsrnn's budget of "
            r"2\.0 GiB for one array; lower hidden_size or num_layers")
    refused(lambda: make(num_layers=10**6, cell="gru").fit(*data()),
            r"a gru stack .*num_layers=1000000 has .* parameters in 4e\+06 tensors.*"
            r"lower hidden_size or num_layers")


def test_nn_modules_refuse_before_allocating():
    refused(lambda: nn.LSTM(10**6, 10**6), r"hidden_size=1000000.*58\.2 TiB")
    refused(lambda: nn.GRU(4, 4, num_layers=10**8, bidirectional=True),
            r"num_layers=100000000.*over tsrnn's budget")
    # a big but affordable network is still built
    assert nn.LSTM(256, 512, num_layers=2).state_dict()["weight_hh_l1"].shape == (
        2048, 512)


def test_the_budget_is_read_at_every_check(monkeypatch):
    monkeypatch.setattr(budget, "MAX_ARRAY_BYTES", 64 * 2**10)
    # 2 * 100 * 100 weights + 2 * 100 biases, 8 bytes each, + 1 KiB per tensor
    with pytest.raises(ValueError, match=r"2\.02e\+04 parameters in 4 tensors: "
                       r"161\.8 KiB, over tsrnn's budget of 64\.0 KiB.*raise "
                       r"tsrnn\.engine\.budget\.MAX_ARRAY_BYTES"):
        nn.RNN(100, 100)
    monkeypatch.setattr(budget, "MAX_ARRAY_BYTES", 2**40)
    assert nn.RNN(100, 100).state_dict()["weight_ih_l0"].shape == (100, 100)


# ============================================================ seasons and lags
def test_forecaster_season_length_beyond_the_budget_is_refused():
    refused(lambda: tiny(RNNForecaster, season_length=10**9).fit(sine()),
            r"season_length=1000000000 keeps the last 1000000000 rows of each of the "
            r"1 series: 7\.5 GiB, over tsrnn's budget.*lower season_length")


def test_forecaster_season_longer_than_the_series_is_still_fitted():
    # documented: a season longer than the data has no reference at its phase
    est = quiet(lambda: tiny(RNNForecaster, season_length=100, horizon=2).fit(sine()))
    assert np.isfinite(est.predict()).all()


def test_baselines_refuse_seasons_and_lags_beyond_the_data_before_allocating():
    refused(lambda: SeasonalNaiveForecaster(season_length=10**9).fit(sine()),
            r"no observation at season position 60 of season_length=1000000000.*at "
            r"least one full season")
    refused(lambda: LinearARForecaster(lags=10**9).fit(sine()),
            r"max\(lags\)\+1 = 1000000001 consecutive observed steps.*longest "
            r"series: 60\); lower lags")


# ========================================================= time: future labels
def stepwise(labels, freq, h):
    """The labels one ``shift`` per step (the code before ``shift_range``)."""
    steps = [shift(labels, freq, k) for k in range(1, h + 1)]
    order = np.arange(len(labels) * h).reshape(h, len(labels)).T.ravel()
    return (steps[0].append(steps[1:]) if h > 1 else steps[0])[order]


@pytest.mark.parametrize(
    "labels, freq",
    [
        # across both daylight-saving changes of Paris: a Tick adds absolute time
        (pd.DatetimeIndex(["2021-03-27 22:00", "2021-10-30 23:00"],
                          tz="Europe/Paris"), to_offset("h")),
        (pd.DatetimeIndex(["2021-03-27 22:00", "2021-01-01"]), to_offset("30min")),
        (pd.DatetimeIndex(["2021-03-27", "2021-01-01"]).as_unit("ns"), to_offset("h")),
        (pd.DatetimeIndex(["2021-03-27", "2021-01-01"], tz="UTC"), to_offset("D")),
        (pd.DatetimeIndex(["2021-03-27", "2021-01-01"]), to_offset("2D")),
        # a calendar day keeps the wall time across daylight saving (pandas 3)
        (pd.DatetimeIndex(["2021-03-27 12:00"], tz="Europe/Paris"), to_offset("D")),
        (pd.DatetimeIndex(["2021-03-31", "2021-01-29"]), to_offset("BME")),
        (pd.PeriodIndex(["2021-03", "2020-12"], freq="M"), None),
        (pd.Index([10, 21]), 2),
    ],
    ids=["hourly-dst", "30min", "hourly-ns", "daily-utc", "two-daily", "daily-dst",
         "business-month-end",
         "period", "int"],
)
def test_future_labels_are_exactly_the_stepwise_ones(labels, freq):
    for h in (1, 2, 61):
        fast, slow = shift_range(labels, freq, h), stepwise(labels, freq, h)
        assert type(fast) is type(slow) and fast.dtype == slow.dtype
        assert fast.equals(slow)


def test_a_long_pandas_forecast_takes_time_in_proportion():
    # the future timestamps were built one pandas operation per step: an
    # hourly predict(horizon=10**6) took 150 s (NaiveForecaster), now 0.3 s
    y = pd.Series(sine(240), index=pd.date_range("2024", periods=240, freq="h"))
    est = NaiveForecaster().fit(y)
    start = time.perf_counter()
    out = est.predict(horizon=10**6)
    assert time.perf_counter() - start < 20
    assert out.index[-1] == y.index[-1] + pd.Timedelta(hours=10**6)
    assert out.index.freq == "h"
