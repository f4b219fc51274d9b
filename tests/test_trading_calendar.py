"""Trading calendars: ``freq`` as a pandas offset, ``CustomBusinessDay`` with holidays.

A daily market series skips weekends *and* exchange holidays; under a
``CustomBusinessDay(holidays=...)`` it is regular, so a forecaster fits it as
it is and forecasts the next trading days. What is checked here:

* the vectorized business-day shift equals pandas' own (element-wise) offset
  arithmetic, on and off the calendar, for steps of either sign;
* fit / update / predict with such a ``freq`` (given, or carried by the index);
* a model file keeps the calendar (weekmask and holidays as JSON, no pickle);
* the shipped market series carry a calendar under which they are regular, and
  the NYSE rules agree with the closures the S&P 500 file records.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster, datasets
from tsrnn.data import to_series_set
from tsrnn.data.calendar import infer_seasons, rule_holidays, trading_calendar
from tsrnn.data.timeaxis import freq_from_json, freq_to_json, shift

HOLIDAYS = ["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27"]
CBD = pd.offsets.CustomBusinessDay(holidays=HOLIDAYS)
KW = dict(hidden_size=4, max_iter=1, random_state=0)


def trading_series(n=80, freq=CBD, start="2024-01-02"):
    index = pd.date_range(start, periods=n, freq=freq, name="date")
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(0)
    return pd.Series(100 + np.cumsum(rng.standard_normal(n)) + np.sin(t), index)


def fit(y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNForecaster(**{**KW, **kw}).fit(y)


# ------------------------------------------------------------- offset arithmetic
@pytest.mark.parametrize(
    "freq",
    [
        CBD,
        pd.offsets.CustomBusinessDay(n=2, holidays=HOLIDAYS),
        pd.offsets.CustomBusinessDay(weekmask="Sun Mon Tue Wed Thu", holidays=HOLIDAYS),
        pd.offsets.CustomBusinessDay(holidays=HOLIDAYS, offset=pd.Timedelta("3h")),
        pd.offsets.CustomBusinessDay(holidays=HOLIDAYS, normalize=True),
    ],
    ids=["plain", "n2", "sun-thu", "offset", "normalize"],
)
def test_business_day_shift_equals_pandas(freq):
    # every day of two months, at midnight and at 13:30: weekends, holidays,
    # and days on the calendar; pandas' element-wise offset is the reference
    days = pd.date_range("2023-12-20", "2024-06-10", freq="D")
    labels = days.append(days + pd.Timedelta("13h30min"))
    for unit in ("ns", "s"):
        lab = labels.as_unit(unit)
        for k in (-3, -1, 1, 2, 7):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
                want = pd.DatetimeIndex([ts + k * freq for ts in lab])
            got = shift(lab, freq, k)
            # the same instants (pandas < 3 builds `want` in ns from Timestamps)
            assert got.as_unit("ns").equals(want.as_unit("ns")), (unit, k)


def test_business_day_shift_keeps_tz_aware_labels_on_pandas_path():
    labels = pd.date_range("2024-01-02", periods=10, freq=CBD, tz="America/New_York")
    got = shift(labels, CBD, 1)
    assert got.tz is not None
    assert list(got[:-1]) == list(labels[1:])


# ----------------------------------------------------------------- the forecaster
def test_fit_with_custom_business_day_freq_forecasts_trading_days():
    y = trading_series()
    plain = y.copy()
    plain.index = pd.DatetimeIndex(plain.index, freq=None)  # the freq is given below
    model = fit(plain, horizon=4, freq=CBD)
    pred = model.predict()
    # 2024-04-23 .. : the next four trading days after the last row
    want = pd.date_range(y.index[-1], periods=5, freq=CBD)[1:]
    assert list(pred.index) == list(want)
    assert pred.index.freq == CBD
    assert np.isfinite(pred.to_numpy()).all()


def test_forecast_skips_a_future_holiday():
    y = trading_series(n=60, start="2024-02-01")
    assert pd.Timestamp("2024-03-29") not in y.index  # Good Friday
    model = fit(y.loc[:"2024-03-27"], horizon=3)  # freq from the index
    assert list(model.predict().index) == list(
        pd.DatetimeIndex(["2024-03-28", "2024-04-01", "2024-04-02"])
    )


def test_update_continues_on_the_calendar():
    y = trading_series()
    model = fit(y[:50], horizon=2)
    model.update(y[50:60])
    assert model.predict().index[0] == y.index[60]
    bad = y[60:62].copy()
    bad.index = pd.DatetimeIndex(["2024-05-27", "2024-05-28"])  # a holiday first
    with pytest.raises(ValueError, match=r"y_new.*2024-05-27"):
        model.update(bad)


def test_season_length_of_a_trading_week():
    assert infer_seasons(CBD) == (5,)
    four = pd.offsets.CustomBusinessDay(weekmask="Mon Tue Wed Thu")
    assert infer_seasons(four) == (4,)


# ----------------------------------------------------------------- model files
def test_save_load_round_trips_the_calendar(tmp_path):
    y = trading_series()
    model = fit(y, horizon=3, freq=CBD)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["__metadata__"].tobytes())
    stored = meta["params"]["freq"]["__freq__"]
    assert stored["weekmask"] == "Mon Tue Wed Thu Fri"
    assert stored["holidays"] == HOLIDAYS
    assert meta["attributes"]["schema_"]["freq"] == stored
    loaded = tsrnn.load(path)
    assert loaded.freq == CBD and loaded.schema_.freq == CBD
    assert loaded.predict().equals(model.predict())
    # and the loaded model keeps stepping on the calendar
    nxt = model.predict().index
    loaded.update(pd.Series([100.0], index=nxt[:1]))
    assert loaded.predict().index[0] == nxt[1]


def test_freq_json_round_trip_and_refusals():
    for freq in [
        None,
        3,
        pd.tseries.frequencies.to_offset("30min"),
        pd.tseries.frequencies.to_offset("W-SUN"),
        CBD,
        # (the weekmask is stored Monday first, so give it that way to compare)
        pd.offsets.CustomBusinessDay(n=2, weekmask="Mon Sun", holidays=HOLIDAYS),
    ]:
        assert freq_from_json(json.loads(json.dumps(freq_to_json(freq)))) == freq
    with pytest.raises(ValueError, match="cannot be stored in a model file"):
        freq_to_json(pd.offsets.BusinessHour(start="10:00"))
    good = freq_to_json(CBD)
    for key, value, match in [
        ("weekmask", "Mon Funday", "must name distinct working days"),
        ("weekmask", "", "must name distinct working days"),
        ("holidays", ["2024-13-45"], "must be ISO dates"),
        ("holidays", [20240101], "must be ISO dates"),
        ("n", 0, "must be an int >= 1"),
        ("n", -1, "must be an int >= 1"),
        ("offset_ns", "1h", "must be an int"),
    ]:
        with pytest.raises(ValueError, match=match):
            freq_from_json({**good, key: value})
    with pytest.raises(ValueError, match="at most"):
        freq_from_json({**good, "holidays": ["2024-01-01"] * 100_001})


# ------------------------------------------------------------- shipped datasets
SP500_ONE_OFF = [
    "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14",  # September 11
    "2004-06-11",  # Reagan's funeral
    "2007-01-02",  # Ford's funeral
    "2012-10-29", "2012-10-30",  # Hurricane Sandy
    "2018-12-05",  # George H. W. Bush's funeral
]  # fmt: skip


def test_nyse_rules_agree_with_the_closures_in_the_sp500_file():
    idx = datasets.load_sp500().index
    closed = pd.bdate_range(idx[0], idx[-1]).difference(idx)
    rules = rule_holidays("nyse", idx[0], idx[-1])
    assert rules.difference(closed).empty  # the exchange closed on every rule day
    assert list(closed.difference(rules).strftime("%Y-%m-%d")) == SP500_ONE_OFF


@pytest.mark.parametrize("name", ["sp500", "usd_exchange_rates"])
def test_wide_market_series_carry_their_calendar(name):
    df = datasets.load_dataset(name)
    freq = df.index.freq
    assert isinstance(freq, pd.offsets.CustomBusinessDay)
    assert freq == datasets.market_calendar(name)
    assert np.asarray(shift(df.index[:-1], freq, 1) == df.index[1:]).all()
    data = to_series_set(df)  # regular as shipped: no freq to pass
    assert data.schema.freq == freq


def test_us_stocks_fit_under_their_market_calendar():
    df = datasets.load_us_stocks()[["unique_id", "ds", "y"]]
    freq = datasets.market_calendar("us_stocks")
    with pytest.raises(ValueError, match="could not infer a regular frequency"):
        to_series_set(df)
    data = to_series_set(df, freq=freq)
    assert data.n_series == 4


@pytest.mark.parametrize("name", ["vix", "wti", "eu_stock_markets"])
def test_other_market_series_fit_as_shipped(name):
    df = datasets.load_dataset(name)
    assert to_series_set(df).schema.freq == (
        datasets.market_calendar(name) if name != "vix" else df.index.freq
    )


def test_sp500_forecasts_the_next_five_trading_days():
    y = datasets.load_sp500()["close"]
    model = fit(y, horizon=5)
    pred = model.predict()
    # 2019-01-01 (New Year's Day) is a holiday; the weekend of the 5th/6th too
    assert list(pred.index.strftime("%Y-%m-%d")) == [
        "2019-01-02", "2019-01-03", "2019-01-04", "2019-01-07", "2019-01-08"
    ]  # fmt: skip
    assert np.isfinite(pred.to_numpy()).all()


def test_usd_rates_forecast_skips_memorial_day():
    df = datasets.load_usd_exchange_rates()
    pred = fit(df, horizon=3).predict()
    assert list(pred.index.strftime("%Y-%m-%d")) == [
        "1987-05-22", "1987-05-26", "1987-05-27"
    ]  # fmt: skip


def test_trading_calendar_lists_rule_holidays_ahead():
    idx = pd.bdate_range("2018-12-17", "2018-12-21")
    cal = trading_calendar(idx, "nyse", years_ahead=1)
    days = [str(d) for d in cal.holidays]
    assert days[:2] == ["2018-12-25", "2019-01-01"]
    assert "2019-04-19" in days  # Good Friday 2019
    assert all(d <= "2019-12-21" for d in days)
    assert trading_calendar(idx, None).holidays == ()
