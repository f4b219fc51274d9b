"""Fuzzing the pandas front door with hypothesis.

Random frequencies (minutes to years, business days, month and quarter
starts/ends), gaps (NaN or ``pd.NA`` in ``y``), dtypes (int, float32, float64,
nullable ``Int64``/``Float64``), index types (RangeIndex, DatetimeIndex with
and without ``freq``, time-zone aware, PeriodIndex) and long frames of several
series of different lengths, in any row order. Each example either round-trips
-- the values come back where they were, the forecast index holds the right
future timestamps, lengths and ids are right, forecasts are finite -- or fails
with a clean ``ValueError``/``TypeError``; never another exception, and the
user's objects are never modified.

The adapter layer (``to_series_set``) is fuzzed directly; the forecaster's
fit/predict/update is fuzzed with a tiny model (hidden 4, one epoch).
"""

from __future__ import annotations

import copy
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SUPPRESSED_HEALTH_CHECKS
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNForecaster
from tsrnn.data import to_series_set

# TSRNN_FUZZ_SCALE=20 runs 20x more examples (a longer hunt, not for CI)
SCALE = int(os.environ.get("TSRNN_FUZZ_SCALE", "1"))
FAST = settings(
    deadline=None,
    max_examples=40 * SCALE,
    suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
)
MODEL = settings(
    deadline=None,
    max_examples=15 * SCALE,
    suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
)

FREQS = ["min", "15min", "h", "6h", "D", "B", "W-SUN", "MS", "ME", "QS", "YS"]
DTYPES = ["float64", "float32", "int64", "Int64", "Float64"]
INDEXES = ["range", "datetime", "datetime-nofreq", "datetime-tz", "period"]
CLEAN = (ValueError, TypeError)


# ------------------------------------------------------------------ strategies
@st.composite
def time_index(draw, n, kind=None, freq=None):
    kind = draw(st.sampled_from(INDEXES)) if kind is None else kind
    freq = draw(st.sampled_from(FREQS)) if freq is None else freq
    if kind == "range":
        start = draw(st.integers(-50, 50))
        step = draw(st.integers(1, 3))
        return pd.RangeIndex(start, start + step * n, step), kind, step
    start = pd.Timestamp("2019-12-20") + pd.Timedelta(
        minutes=draw(st.integers(0, 60 * 24 * 90))
    )
    if kind == "period":
        pfreq = {"min": "min", "15min": "15min", "h": "h", "6h": "6h", "D": "D",
                 "B": "D", "W-SUN": "W-SUN", "MS": "M", "ME": "M", "QS": "Q",
                 "YS": "Y"}[freq]
        return pd.period_range(start, periods=n, freq=pfreq), kind, pfreq
    index = pd.date_range(start.floor("min"), periods=n, freq=freq)
    if kind == "datetime-tz":
        # local wall times may not exist or repeat at DST changes: the same
        # instants, generated in UTC and shown in another zone
        zone = draw(st.sampled_from(["UTC", "America/New_York"]))
        index = index.tz_localize("UTC").tz_convert(zone)
    if kind == "datetime-nofreq":
        index = pd.DatetimeIndex(index.to_numpy())
    return index, kind, freq


@st.composite
def values(draw, n, dtype=None):
    """``n`` values of ``dtype`` with random gaps, and what they are as float64."""
    dtype = draw(st.sampled_from(DTYPES)) if dtype is None else dtype
    np_dtype = {"Int64": "int64", "Float64": "float64"}.get(dtype, dtype)
    base = np.asarray(draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n)))
    clean = (base if np_dtype == "int64" else base / 7).astype(np_dtype)
    gaps = np.asarray(
        [False] * n
        if dtype == "int64"  # a plain int column cannot hold a gap
        else draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        dtype=bool,
    )
    if dtype in ("Int64", "Float64"):
        out = pd.array(
            [None if g else v for v, g in zip(clean.tolist(), gaps, strict=True)],
            dtype=dtype,
        )
    else:
        out = np.where(gaps, np.nan, clean).astype(dtype)
    expected = np.where(gaps, np.nan, clean.astype(np.float64))
    return out, expected


def assert_explains(index, kind, freq):
    """Each label is the previous one plus one step of the inferred ``freq``.

    (Not necessarily the generating alias: UTC month starts shown in New York
    time are also local month ends at 19:00, and QS-JAN labels are QS-OCT
    ones. Steps are pandas' ``label + freq``: a day is 24 hours in pandas 2,
    across daylight-saving changes too.)
    """
    if len(index) < 2:
        return
    if kind == "range":
        assert (np.diff(np.asarray(index)) == freq).all()
    else:
        assert (index[:-1] + freq).equals(index[1:])


def expected_future(index, kind, freq, h):
    """The ``h`` labels after ``index[-1]``, one ``freq`` step at a time."""
    if kind == "range":
        return pd.Index([index[-1] + freq * k for k in range(1, h + 1)])
    labels = [index[-1:]]
    for _ in range(h):
        labels.append(labels[-1] + freq)
    return labels[1].append(labels[2:]) if h > 1 else labels[1]


def unchanged(before, after):
    assert type(after) is type(before)
    if isinstance(before, pd.DataFrame):
        assert after.equals(before) and after.dtypes.equals(before.dtypes)
        assert after.index.equals(before.index) and after.columns.equals(before.columns)
    elif isinstance(before, pd.Series):
        assert after.equals(before) and after.dtype == before.dtype
        assert after.index.equals(before.index) and after.name == before.name
    if isinstance(before, (pd.Series, pd.DataFrame)):
        assert after.index.dtype == before.index.dtype
        assert getattr(after.index, "freq", None) == getattr(before.index, "freq", None)


# ------------------------------------------------------------- the adapter
@FAST
@given(data=st.data(), n=st.integers(1, 40))
def test_wide_series_round_trip_or_clean_error(data, n):
    index, kind, freq = data.draw(time_index(n))
    vals, expected = data.draw(values(n))
    y = pd.Series(vals, index=index, name="load")
    with_x = data.draw(st.booleans())
    X = None
    if with_x:
        X = pd.DataFrame({"temp": np.arange(n, dtype=float)}, index=index)
    before = copy.deepcopy((y, X))
    try:
        s = to_series_set(y, X)
    except CLEAN:
        # only irregular/too-short time axes, or a series with no observed
        # value (checks.check_observed: nothing to learn from), may be refused
        all_missing = bool(np.isnan(expected).all())
        assert kind in ("datetime-nofreq", "datetime-tz") or n < 3 or all_missing
        s = None
    unchanged(before[0], y)
    if X is not None:
        unchanged(before[1], X)
    if s is None:
        return
    np.testing.assert_array_equal(s.y[:, 0], expected)
    assert s.y.dtype == np.float64 and s.lengths.tolist() == [n]
    if with_x:
        np.testing.assert_array_equal(s.X[:, 0], np.arange(n, dtype=float))
    h = data.draw(st.integers(1, 5))
    fut = s.schema.future_index(h)
    assert_explains(index, kind, s.schema.freq)
    if kind in ("datetime", "period"):  # the index carried its freq: kept as is
        assert s.schema.freq == index.freq
    assert fut.equals(expected_future(index, kind, s.schema.freq, h))
    out = s.schema.format_forecast(np.zeros((1, h, 1)))
    assert isinstance(out, pd.Series) and out.index.equals(fut) and out.name == "load"


@FAST
@given(data=st.data(), n_series=st.integers(1, 4))
def test_long_frame_round_trip_or_clean_error(data, n_series):
    freq = data.draw(st.sampled_from(FREQS))
    kind = data.draw(st.sampled_from(["datetime", "datetime-tz", "range"]))
    frames, truth = [], {}
    ids = data.draw(
        st.sampled_from([["a", "b", "c", "d"], [10, 20, 30, 40]])
    )[:n_series]
    dtype = data.draw(st.sampled_from(DTYPES))
    for uid in ids:
        n = data.draw(st.integers(1, 25))
        index, _, step = data.draw(time_index(n, kind=kind, freq=freq))
        vals, expected = data.draw(values(n, dtype=dtype))
        frames.append(pd.DataFrame({"unique_id": uid, "ds": index, "y": vals}))
        truth[uid] = (index, expected, step)
    df = pd.concat(frames, ignore_index=True)
    if data.draw(st.booleans()):  # rows in any order
        df = df.sample(frac=1.0, random_state=data.draw(st.integers(0, 99)))
    before = copy.deepcopy(df)
    try:
        s = to_series_set(df)
    except CLEAN:
        s = None
    unchanged(before, df)
    if s is None:
        return
    first_seen = list(pd.unique(df["unique_id"]))
    assert list(s.schema.ids) == first_seen
    for i, uid in enumerate(first_seen):
        index, expected, step = truth[uid]
        np.testing.assert_array_equal(s.series_y(i)[:, 0], expected)
        assert s.series_time(i).equals(pd.Index(index).rename(None))
    h = data.draw(st.integers(1, 4))
    out = s.schema.format_forecast(np.zeros((len(first_seen), h, 1)))
    assert len(out) == h * len(first_seen)
    for uid in first_seen:
        index, _, step = truth[uid]
        got = pd.Index(out.loc[out["unique_id"] == uid, "ds"])
        assert_explains(index, kind, s.schema.freq)
        want = expected_future(index, kind, s.schema.freq, h)
        assert got.equals(want.rename(None))


# ------------------------------------------------ the forecaster's front door
def tiny(**kw):
    return RNNForecaster(hidden_size=4, max_iter=1, random_state=0, **kw)


@MODEL
@given(data=st.data(), n=st.integers(2, 40))
def test_forecaster_fit_predict_update(data, n):
    index, kind, freq = data.draw(time_index(n + 3))
    vals, _ = data.draw(values(n + 3))
    full = pd.Series(vals, index=index, name="y")
    y, new = full.iloc[:n], full.iloc[n:]
    h = data.draw(st.integers(1, 3))
    before = copy.deepcopy((y, new))
    model = tiny(horizon=h, validation_fraction=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(y)
        except CLEAN:
            model = None
    unchanged(before[0], y)
    if model is None:
        return
    step = model.schema_.freq
    assert_explains(index[:n], kind, step)
    pred = model.predict()
    assert isinstance(pred, pd.Series) and len(pred) == h and pred.name == "y"
    assert pred.index.equals(expected_future(index[:n], kind, step, h))
    assert np.isfinite(pred.to_numpy()).all()
    # streaming on: the forecast moves to the new end
    try:
        model.update(new)
    except CLEAN:
        # tz-naive rows cannot be told apart from others only by a freq-less
        # index; a refusal must leave the model where it was
        assert model.schema_.n_seen[0] == n
        return
    finally:
        unchanged(before[1], new)
    pred2 = model.predict()
    assert pred2.index.equals(expected_future(index, kind, step, h))
    assert np.isfinite(pred2.to_numpy()).all()


@MODEL
@given(data=st.data(), n_series=st.integers(1, 3))
def test_forecaster_long_format(data, n_series):
    freq = data.draw(st.sampled_from(["h", "D", "B", "MS", "W-SUN"]))
    frames, ends = [], {}
    for k in range(n_series):
        n = data.draw(st.integers(3, 30))
        index, _, _ = data.draw(time_index(n, kind="datetime", freq=freq))
        dtype = data.draw(st.sampled_from(["float64", "Float64"]))
        vals, _ = data.draw(values(n, dtype=dtype))
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": index, "y": vals}))
        ends[f"s{k}"] = index
    df = pd.concat(frames, ignore_index=True)
    assume(df["y"].notna().any())
    before = copy.deepcopy(df)
    model = tiny(horizon=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(df)
        except CLEAN:
            model = None
    unchanged(before, df)
    if model is None:
        return
    pred = model.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    assert list(pd.unique(pred["unique_id"])) == list(ends)
    for uid, index in ends.items():
        got = pd.Index(pred.loc[pred["unique_id"] == uid, "ds"])
        assert_explains(index, "datetime", model.schema_.freq)
        want = expected_future(index, "datetime", model.schema_.freq, 2)
        assert got.equals(want.rename(None))
    assert np.isfinite(pred["y"].to_numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_fits_and_forecasts(dtype):
    # the deterministic corner of the fuzzing above, always run
    n = 30
    vals = pd.array(np.arange(n) % 7, dtype=dtype)
    y = pd.Series(vals, index=pd.date_range("2024-01-01", periods=n, freq="D"))
    before = y.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pred = tiny(horizon=2).fit(y).predict()
    unchanged(before, y)
    assert pred.index.equals(pd.date_range("2024-01-31", periods=2, freq="D"))
    assert np.isfinite(pred.to_numpy()).all()
