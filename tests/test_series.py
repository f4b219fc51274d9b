"""tsrnn.data: normalization of forecaster inputs and formatting of outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.tseries.frequencies import to_offset

from tsrnn.data import (
    SeriesSchema,
    check_horizon,
    interval_column_names,
    to_series_set,
)


def _series(freq: str, n: int = 12, tz: str | None = None, start: str = "2024-01-01"):
    idx = pd.date_range(start, periods=n, freq=freq, tz=tz)
    # a plain DatetimeIndex without .freq, as read from a CSV: freq must be inferred
    idx = pd.DatetimeIndex(list(idx))
    return pd.Series(np.arange(n, dtype=float), index=idx, name="load")


def _long(lengths=(5, 8, 3), int_time=False, shuffle=True, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(lengths):
        ds = (
            np.arange(10 * i, 10 * i + n)
            if int_time
            else pd.date_range(f"2024-01-0{i + 1}", periods=n, freq="h")
        )
        parts.append(
            pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.normal(size=n)})
        )
    df = pd.concat(parts, ignore_index=True)
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return df


def _forecast(schema: SeriesSchema, h: int, value: float = 1.0, positions=None):
    n = schema.n_series if positions is None else len(positions)
    return schema.format_forecast(np.full((n, h, schema.n_targets), value), positions)


# --------------------------------------------------------------------------- wide
@pytest.mark.parametrize(
    "freq", ["30min", "h", "D", "B", "W-SUN", "MS", "ME", "QS-JAN"]
)
def test_datetime_round_trip(freq):
    y = _series(freq, start="2024-01-05")
    data = to_series_set(y)
    # pandas may name an equivalent anchor (QS-OCT for QS-JAN): same dates
    inferred = data.schema.freq
    assert pd.date_range(y.index[0], periods=12, freq=inferred).equals(
        pd.date_range(y.index[0], periods=12, freq=freq)
    )
    assert data.schema.kind == "series"
    np.testing.assert_array_equal(data.y[:, 0], y.to_numpy())
    out = _forecast(data.schema, 4)
    expected = pd.date_range(y.index[-1], periods=5, freq=freq)[1:]
    assert isinstance(out, pd.Series) and out.name == "load"
    assert out.index.equals(expected)
    assert out.index.freq == inferred


def test_business_day_skips_weekend():
    y = _series("B", n=9, start="2024-01-01")  # Mon 1st .. Thu 11th
    out = _forecast(to_series_set(y).schema, 3)
    assert list(out.index.day_name()) == ["Friday", "Monday", "Tuesday"]


def test_freq_override_for_ambiguous_weekdays():
    # Mon..Fri alone looks daily; the user knows it is business days
    y = _series("D", n=5, start="2024-01-01")
    assert to_series_set(y).schema.freq == to_offset("D")
    schema = to_series_set(y, freq="B").schema
    assert list(_forecast(schema, 1).index.day_name()) == ["Monday"]


def test_freq_needed_for_two_points_then_given():
    y = _series("D", n=2)
    with pytest.raises(ValueError, match="freq="):
        to_series_set(y)
    out = _forecast(to_series_set(y, freq="D").schema, 2)
    assert out.index[0] == pd.Timestamp("2024-01-03")


def test_tz_aware_across_dst():
    y = _series("30min", n=20, tz="US/Eastern", start="2024-03-10 00:00")
    data = to_series_set(y)
    out = _forecast(data.schema, 3)
    assert str(out.index.tz) == "US/Eastern"
    assert out.index[0] - y.index[-1] == pd.Timedelta("30min")
    assert (np.diff(out.index) == pd.Timedelta("30min")).all()


def test_range_index_and_int_step():
    y = pd.Series(np.arange(6.0))
    out = _forecast(to_series_set(y).schema, 3)
    assert list(out.index) == [6, 7, 8]
    y = pd.Series(np.arange(4.0), index=[10, 15, 20, 25])
    out = _forecast(to_series_set(y).schema, 2)
    assert list(out.index) == [30, 35]


def test_period_index():
    y = pd.Series(np.arange(5.0), index=pd.period_range("2020-01", periods=5, freq="M"))
    out = _forecast(to_series_set(y).schema, 2)
    assert list(out.index.astype(str)) == ["2020-06", "2020-07"]


def test_numpy_shapes():
    data = to_series_set(np.arange(5.0))
    assert data.schema.kind == "array1d" and data.y.shape == (5, 1)
    assert _forecast(data.schema, 3).shape == (3,)
    lo, hi = data.schema.format_interval(np.zeros((1, 3, 1)), np.ones((1, 3, 1)), 0.9)
    assert lo.shape == hi.shape == (3,)
    data = to_series_set(np.ones((7, 2)))
    assert data.schema.kind == "array2d" and data.y.shape == (7, 2)
    assert _forecast(data.schema, 3).shape == (3, 2)


def test_multi_target_frame_and_intervals():
    idx = pd.date_range("2024-01-01", periods=6, freq="MS")
    y = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2}, index=idx)
    schema = to_series_set(y).schema
    out = _forecast(schema, 2)
    assert list(out.columns) == ["a", "b"]
    assert out.index[0] == pd.Timestamp("2024-07-01")
    iv = schema.format_interval(np.zeros((1, 2, 2)), np.ones((1, 2, 2)), 0.9)
    assert list(iv.columns) == ["a-lo-90", "a-hi-90", "b-lo-90", "b-hi-90"]
    assert (iv["b-hi-90"] == 1).all() and iv.attrs["levels"] == [90.0]
    pos, lo, hi = schema.parse_interval(iv, 0.9)
    assert lo.shape == (1, 2, 2) and (hi == 1).all()


def test_series_interval_columns():
    schema = to_series_set(_series("h")).schema
    iv = schema.format_interval(np.zeros((1, 2, 1)), np.ones((1, 2, 1)), 0.8)
    name = schema.target_names[0]
    assert list(iv.columns) == [f"{name}-lo-80", f"{name}-hi-80"]
    several = schema.format_interval(
        [np.zeros((1, 2, 1)), -np.ones((1, 2, 1))],
        [np.ones((1, 2, 1)), 2 * np.ones((1, 2, 1))],
        [0.8, 0.95],
    )
    assert list(several.columns) == [
        f"{name}-lo-80", f"{name}-hi-80", f"{name}-lo-95", f"{name}-hi-95"
    ]
    assert several.attrs["levels"] == [80.0, 95.0]


def test_covariates_wide_pandas_and_numpy():
    y = _series("h")
    X = pd.DataFrame({"temp": np.arange(12.0), "hol": 0.0}, index=y.index)
    data = to_series_set(y, X)
    assert data.X.shape == (12, 2) and data.schema.covariate_names == ("temp", "hol")
    data = to_series_set(y.to_numpy(), np.ones(12))
    assert data.X.shape == (12, 1) and data.schema.x_kind == "numpy"


def test_to_user_round_trip_wide():
    y = _series("B")
    X = pd.DataFrame({"x": np.arange(12.0)}, index=y.index)
    data = to_series_set(y, X)
    y2, X2 = data.schema.to_user(data)
    pd.testing.assert_series_equal(y2, y, check_freq=False)
    pd.testing.assert_frame_equal(X2, X, check_freq=False)
    part = data.take(3, 7)
    assert part.y[:, 0].tolist() == [3.0, 4.0, 5.0, 6.0]
    assert part.time.equals(y.index[3:7])


def test_never_shares_memory_with_user_data():
    a = np.arange(10.0)
    data = to_series_set(a, a[:, None])
    assert not np.shares_memory(data.y, a) and not np.shares_memory(data.X, a)
    data.y[:] = -1  # writable private copy
    assert a[0] == 0.0


# --------------------------------------------------------------------------- long
def test_long_unequal_lengths_unsorted():
    df = _long()
    before = df.copy()
    data = to_series_set(df)
    pd.testing.assert_frame_equal(df, before)
    schema = data.schema
    assert schema.kind == "long"
    # ids in the order of first appearance in the frame
    assert list(schema.ids) == list(pd.unique(df["unique_id"]))
    lengths = dict(zip(schema.ids, data.lengths, strict=False))
    assert lengths == {"s0": 5, "s1": 8, "s2": 3}
    for i, sid in enumerate(schema.ids):
        sub = df[df.unique_id == sid].sort_values("ds")
        np.testing.assert_array_equal(data.series_y(i)[:, 0], sub["y"].to_numpy())
    out = _forecast(schema, 2)
    assert list(out.columns) == ["unique_id", "ds", "y"]
    assert len(out) == 6
    last = df.groupby("unique_id")["ds"].max()
    for sid, grp in out.groupby("unique_id"):
        assert grp["ds"].iloc[0] == last[sid] + pd.Timedelta("1h")


def test_long_int_time_and_multi_target():
    df = _long(int_time=True)
    df["y2"] = df["y"] * 2
    data = to_series_set(df, target_col=["y", "y2"])
    assert data.y.shape == (16, 2)
    out = _forecast(data.schema, 1)
    assert list(out.columns) == ["unique_id", "ds", "y", "y2"]
    ends = {"s0": 5, "s1": 18, "s2": 23}
    assert dict(zip(out["unique_id"], out["ds"], strict=False)) == ends
    iv = data.schema.format_interval(np.zeros((3, 1, 2)), np.ones((3, 1, 2)), 0.9)
    assert list(iv.columns) == [
        "unique_id",
        "ds",
        "y-lo-90",
        "y-hi-90",
        "y2-lo-90",
        "y2-hi-90",
    ]


def test_long_covariates_extra_columns_or_long_X():
    df = _long(shuffle=False)
    df["temp"] = np.arange(len(df), dtype=float)
    a = to_series_set(df)
    X = df[["unique_id", "ds", "temp"]].sample(frac=1.0, random_state=1)
    b = to_series_set(df.drop(columns="temp"), X)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.schema.x_kind == "columns" and b.schema.x_kind == "long"
    y2, X2 = a.schema.to_user(a)
    assert X2 is None and "temp" in y2.columns
    _, X3 = b.schema.to_user(b)
    assert list(X3.columns) == ["unique_id", "ds", "temp"]


def test_long_round_trip_to_user():
    df = _long(int_time=True, shuffle=False)
    data = to_series_set(df)
    y2, _ = data.schema.to_user(data)
    pd.testing.assert_frame_equal(y2, df, check_dtype=False)


def test_long_future_covariates_subset():
    df = _long(int_time=True, shuffle=False)
    df["temp"] = 1.0
    schema = to_series_set(df).schema
    Xf = pd.DataFrame(
        {
            "unique_id": ["s2", "s2", "s0", "s0"],
            "ds": [24, 23, 6, 5],
            "temp": [4.0, 3.0, 2.0, 1.0],
        }
    )
    fut = schema.check_future(2, Xf)
    assert list(schema.ids[fut.positions]) == ["s0", "s2"]
    np.testing.assert_array_equal(fut.X[:, :, 0], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="next 2 step"):
        schema.check_future(2, Xf.assign(ds=[25, 24, 6, 5]))
    with pytest.raises(ValueError, match="horizon"):
        schema.check_future(3, Xf)
    with pytest.raises(ValueError, match="predict needs their future values"):
        schema.check_future(2, None)


# --------------------------------------------------------------------------- update
def test_update_continuation_wide():
    y = _series("30min")
    schema = to_series_set(y).schema
    new = pd.Series([1.0, 2.0], index=schema.future_index(2))
    block = schema.check_update(new)
    schema2 = schema.advance(block)
    assert schema2.last[0] == new.index[-1] and schema2.n_seen[0] == 14
    assert schema.n_seen[0] == 12  # immutable
    # arrays continue a pandas fit: labels generated
    block = schema2.check_update(np.array([3.0]))
    assert block.time[0] == new.index[-1] + pd.Timedelta("30min")
    # a gap, an overlap, a wrong kind of index
    with pytest.raises(ValueError, match="continue the series"):
        schema.check_update(new.iloc[1:])
    with pytest.raises(ValueError, match="continue the series"):
        schema.check_update(y.iloc[-2:])
    with pytest.raises(TypeError, match="int index"):
        schema.check_update(pd.Series([1.0], index=[99]))


def test_update_checks_counts_and_tz():
    y = pd.DataFrame(
        {"a": np.arange(5.0), "b": 1.0},
        index=pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC"),
    )
    X = pd.DataFrame({"x": np.arange(5.0)}, index=y.index)
    schema = to_series_set(y, X).schema
    idx = schema.future_index(1)
    with pytest.raises(ValueError, match="1 target.*fitted on 2"):
        schema.check_update(pd.DataFrame({"a": [1.0]}, index=idx))
    with pytest.raises(ValueError, match="covariates"):
        schema.check_update(pd.DataFrame({"a": [1.0], "b": 2.0}, index=idx))
    with pytest.raises(ValueError, match="2 covariate.*fitted with 1"):
        schema.check_update(
            pd.DataFrame({"a": [1.0], "b": 2.0}, index=idx), np.ones((1, 2))
        )
    naive = pd.DataFrame({"a": [1.0], "b": 2.0}, index=idx.tz_localize(None))
    with pytest.raises(ValueError, match="tz-naive"):
        schema.check_update(naive, X.iloc[:1].set_axis(naive.index))
    # same instants in another zone are fine
    other = pd.DataFrame({"b": [2.0], "a": 1.0}, index=idx.tz_convert("Asia/Tokyo"))
    block = schema.check_update(other, pd.DataFrame({"x": [0.0]}, index=other.index))
    assert block.y.tolist() == [[1.0, 2.0]]  # columns matched by name


def test_update_long_subset_and_unknown_ids():
    df = _long(int_time=True, shuffle=False)
    schema = to_series_set(df).schema
    new = pd.DataFrame(
        {"unique_id": ["s2", "s0", "s2"], "ds": [24, 5, 23], "y": [1.0, 2.0, 3.0]}
    )
    block = schema.check_update(new)
    assert list(block.positions) == [0, 2]
    assert block.y[:, 0].tolist() == [2.0, 3.0, 1.0]
    schema2 = schema.advance(block)
    assert list(schema2.last) == [5, 17, 24] and list(schema2.n_seen) == [6, 8, 5]
    with pytest.raises(ValueError, match=r"'zz'\] unknown at fit"):
        schema.check_update(new.assign(unique_id="zz"))
    with pytest.raises(ValueError, match="continue each series"):
        schema.check_update(new.assign(ds=[25, 5, 24]))
    with pytest.raises(TypeError, match="long-format"):
        schema.check_update(np.ones(3))


# --------------------------------------------------------------------------- errors
def _bad_inputs():
    idx = pd.date_range("2024-01-01", periods=5, freq="D")
    ok = pd.Series(np.arange(5.0), index=idx)
    yield "object", pd.Series(["1", "2", "3"]), TypeError, "pd.to_numeric"
    yield "bool", np.array([True, False, True]), TypeError, "astype"
    yield "complex", np.array([1 + 1j, 2.0]), TypeError, "real"
    yield "inf", np.array([1.0, np.inf, 2.0]), ValueError, "infinite"
    yield "empty", np.array([]), ValueError, "empty"
    yield "3d", np.ones((2, 2, 2)), ValueError, "long-format"
    yield "unsorted", ok.iloc[[0, 2, 1, 3, 4]], ValueError, "sort_index"
    yield "duplicate", ok.iloc[[0, 1, 1, 2, 3]], ValueError, "duplicate"
    yield "gap", ok.iloc[[0, 1, 2, 4]], ValueError, "freq="
    yield (
        "string index",
        pd.Series([1.0, 2.0, 3.0], index=["2024-01-01", "b", "c"]),
        TypeError,
        "pd.to_datetime",
    )
    mixed = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": [
                pd.Timestamp("2024-01-01", tz="UTC"),
                pd.Timestamp("2024-01-02", tz="Europe/Paris"),
                pd.Timestamp("2024-01-03"),
            ],
            "y": 1.0,
        }
    )
    yield "mixed tz", mixed, TypeError, "utc=True"
    yield (
        "string ds",
        pd.DataFrame({"unique_id": "a", "ds": ["2024-01-01", "2024-01-02"], "y": 1.0}),
        TypeError,
        "pd.to_datetime",
    )
    yield "ds no id", pd.DataFrame({"ds": idx, "y": 1.0}), TypeError, "set_index"
    yield (
        "long missing y",
        pd.DataFrame({"unique_id": "a", "ds": idx, "value": 1.0}),
        ValueError,
        "target_col=",
    )
    yield (
        "long dup",
        pd.DataFrame({"unique_id": "a", "ds": idx[[0, 1, 1]], "y": 1.0}),
        ValueError,
        "duplicate",
    )
    multi = pd.Series([1.0, 2.0], index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]))
    yield "multiindex", multi, TypeError, "reset_index"


@pytest.mark.parametrize(
    "name,y,exc,match", list(_bad_inputs()), ids=[b[0] for b in _bad_inputs()]
)
def test_bad_y_clear_error_and_unchanged(name, y, exc, match):
    before = y.copy()
    with pytest.raises(exc, match=match):
        to_series_set(y)
    if isinstance(y, pd.DataFrame):
        pd.testing.assert_frame_equal(y, before)
    elif isinstance(y, pd.Series):
        pd.testing.assert_series_equal(y, before)
    else:
        np.testing.assert_array_equal(y, before)


def test_bad_X():
    y = _series("h", n=5)
    X = pd.DataFrame({"t": [1.0, np.nan, 2.0, 3.0, 4.0]}, index=y.index)
    before = X.copy()
    with pytest.raises(ValueError, match=r"NaN.*'t'.*impute"):
        to_series_set(y, X)
    pd.testing.assert_frame_equal(X, before)
    with pytest.raises(ValueError, match="4 row.*5"):
        to_series_set(y, np.ones(4))
    with pytest.raises(ValueError, match="index differs"):
        to_series_set(y, X.fillna(0).set_axis(pd.RangeIndex(5)))
    with pytest.raises(TypeError, match="column 'c'"):
        to_series_set(
            y, pd.DataFrame({"c": pd.date_range("2024", periods=5)}, index=y.index)
        )
    # strings are categories now (codes; docs/covariates.md), not an error
    data = to_series_set(y, pd.DataFrame({"c": list("abcae")}, index=y.index))
    assert data.schema.categories == {"c": ("a", "b", "c", "e")}
    np.testing.assert_array_equal(data.X[:, 0], [0, 1, 2, 0, 3])


def test_nan_in_y_allowed_or_refused():
    y = np.array([1.0, np.nan, 3.0])
    assert np.isnan(to_series_set(y).y[1, 0])
    with pytest.raises(ValueError, match="NaN"):
        to_series_set(y, allow_nan=False)


def test_future_X_checks_wide():
    y = _series("h", n=6)
    X = pd.DataFrame({"t": np.arange(6.0)}, index=y.index)
    schema = to_series_set(y, X).schema
    fut_idx = schema.future_index(2)
    fut = schema.check_future(2, pd.DataFrame({"t": [7.0, 8.0]}, index=fut_idx))
    assert fut.X.shape == (1, 2, 1)
    assert schema.check_future(2, np.array([7.0, 8.0])).X.shape == (1, 2, 1)
    with pytest.raises(ValueError, match="forecast timestamps"):
        schema.check_future(2, pd.DataFrame({"t": [7.0, 8.0]}))
    with pytest.raises(ValueError, match="3 row"):
        schema.check_future(2, np.ones(3))
    with pytest.raises(ValueError, match="2 covariate.*fitted with 1"):
        schema.check_future(2, np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        schema.check_future(2, np.array([1.0, np.nan]))
    no_cov = to_series_set(y).schema
    with pytest.raises(ValueError, match="without covariates"):
        no_cov.check_future(2, np.ones(2))


def test_check_horizon():
    assert check_horizon(None, 3) == 3 and check_horizon(np.int64(2)) == 2
    with pytest.raises(ValueError, match=">= 1"):
        check_horizon(0)
    with pytest.raises(TypeError, match="positive int"):
        check_horizon(1.5)
    assert interval_column_names("y", 0.95) == ("y-lo-95", "y-hi-95")


@pytest.mark.parametrize(
    "y",
    [
        _series("30min", tz="Europe/Paris"),
        _series("MS"),
        pd.Series(np.arange(4.0), index=pd.period_range("2020Q1", periods=4, freq="Q")),
        np.arange(4.0),
        _long(int_time=True),
        _long(),
    ],
    ids=["tz", "MS", "period", "numpy", "long-int", "long-dt"],
)
def test_schema_json_round_trip(y):
    schema = to_series_set(y).schema
    back = SeriesSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
    a, b = schema.future_index(3), back.future_index(3)
    assert (a is None and b is None) or a.equals(b)
    np.testing.assert_array_equal(back.n_seen, schema.n_seen)
    assert back.kind == schema.kind and back.freq == schema.freq


def test_take_and_subset():
    data = to_series_set(_long(int_time=True, shuffle=False))
    part = data.take(np.array([1, 1, 1]), np.array([3, 9, 1]))
    assert list(part.lengths) == [2, 7] and list(part.positions) == [0, 1]
    sub = data.subset([2])
    assert list(sub.positions) == [2] and sub.y.shape == (3, 1)


@pytest.mark.parametrize("kind", ["standard", "robust"])
def test_location_spread_fast_path_gives_the_nan_aware_values(kind):
    # a column without NaN takes the plain reductions: the same bits as the
    # NaN-aware ones, which a column with a gap still takes
    from tsrnn.data.scaling import location_spread

    rng = np.random.default_rng(0)
    for n in (1, 7, 9, 130, 1001):
        v = rng.normal(3.0, 2.0, size=(n, 2))
        loc, sc = location_spread(v, kind, str)
        gap = np.vstack([v, np.full((1, 2), np.nan)])  # forces the NaN path
        loc_n, sc_n = location_spread(gap, kind, str)
        np.testing.assert_array_equal(loc, loc_n)
        np.testing.assert_array_equal(sc, sc_n)
