"""A catalogue of bad inputs: each gets a clear error, and nothing is lost.

SPEC.md, "Bad input gets a clear error, and nothing is lost". Every row of
``CASES`` is one bad input: an id, how the user's inputs are built, the call
that receives them, the exception expected (``ValueError``, ``TypeError``,
scikit-learn's ``NotFittedError``, or ``FileNotFoundError`` for a path) and a
``match`` that names the problem *and* the fix. After the call the test checks that

* the user's arrays, Series, DataFrames and files are exactly as they were
  (values with NaN in place, dtypes, shapes, index, freq, names, columns), and
* the shared fitted models did not move (a refused ``update`` must not
  half-advance a model).

Models are tiny (``hidden_size=4``, one epoch) and fitted once per module.
"""

from __future__ import annotations

import copy
import io
import json
import pathlib
import pickle
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import tsrnn
from tsrnn import (
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    WindowTransformer,
    datasets,
    make_windows,
    nn,
    windows_from_long,
)
from tsrnn.data.calendar import trading_calendar
from tsrnn.backtest import backtest

REPO_DATA = pathlib.Path(__file__).resolve().parents[1] / "datasets"


# ----------------------------------------------------------------- user data
def series(n=120, seed=0):
    t = np.arange(n, dtype=float)
    noise = 0.1 * np.random.default_rng(seed).standard_normal(n)
    return np.sin(2 * np.pi * t / 12) + noise


HOURS = pd.date_range("2021-01-01", periods=120, freq="h", name="time")
FUTURE_HOURS = pd.date_range(HOURS[-1] + pd.Timedelta("1h"), periods=3, freq="h")
DAYS = pd.date_range("2021-01-01", periods=60, freq="D")


def hourly():
    return pd.Series(series(), index=HOURS.copy(), name="load")


def hourly_cov(index=None):
    index = HOURS.copy() if index is None else index
    return pd.DataFrame({"temp": np.linspace(0, 1, len(index))}, index=index)


def long_frame(with_cov=True):
    a = pd.DataFrame({"unique_id": "a", "ds": DAYS, "y": series(60, 1)})
    b = pd.DataFrame({"unique_id": "b", "ds": DAYS[:40], "y": series(40, 2) + 5})
    df = pd.concat([a, b], ignore_index=True)
    if with_cov:
        df["promo"] = np.arange(len(df)) % 2 * 1.0
    return df


def hourly_shop(missing=False):
    """Hourly covariates: a numeric one and a categorical (string) one."""
    shop = np.array(["a", "b", "c"] * 40, dtype=object)
    if missing:
        shop[7] = None
    return pd.DataFrame({"temp": np.linspace(0, 1, 120), "shop": shop},
                        index=HOURS.copy())


def windows(n=40, window=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, window))
    return X, X.sum(axis=1)


def tiny(cls, **kw):
    return cls(**{"hidden_size": 4, "max_iter": 1, "random_state": 0, **kw})


TRADING = pd.offsets.CustomBusinessDay(holidays=["2024-01-01", "2024-01-15"])


def trading_days(n=30, holiday_row=False):
    """A series on trading days (``TRADING``); maybe with a row on a holiday."""
    index = pd.date_range("2024-01-02", periods=n, freq=TRADING)
    if holiday_row:  # Martin Luther King Jr. Day in place of the next day
        index = index.where(index != pd.Timestamp("2024-01-16"), "2024-01-15")
    return pd.Series(series(n), index=pd.DatetimeIndex(index, freq=None))


def trading_model_file(tmp_path):
    """A small model fitted with ``freq=TRADING``, saved under ``tmp_path``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = tiny(RNNForecaster, freq=TRADING).fit(trading_days())
    path = tmp_path / "trading.npz"
    model.save(path)
    return path


def business_hours_model():
    freq = pd.offsets.BusinessHour(start="10:00")
    y = pd.Series(series(40), index=pd.date_range("2024-01-02 10:00", periods=40,
                                                  freq=freq))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return tiny(RNNForecaster, freq=freq).fit(y)


def quiet_fit(est, *data):
    """``est.fit(*data)`` without the ConvergenceWarning of a one-epoch fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*data)


# --------------------------------------------------------------- fitted models
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Small fitted models shared by the catalogue (never changed by a case)."""
    X, y = windows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = SimpleNamespace(
            arr=tiny(RNNForecaster, horizon=3).fit(series()),
            arr_x=tiny(RNNForecaster, horizon=3).fit(series(), np.ones((120, 1))),
            pd=tiny(RNNForecaster, horizon=3).fit(hourly(), hourly_cov()),
            long=tiny(RNNForecaster, horizon=2).fit(long_frame()),
            reg=tiny(RNNRegressor).fit(X, y),
            clf=tiny(RNNClassifier).fit(X, np.where(y > 0, "up", "down")),
        )
    m.file = tmp_path_factory.mktemp("model") / "forecaster.npz"
    m.arr.save(m.file)
    m.pd_file = m.file.with_name("hourly.npz")
    m.pd.save(m.pd_file)
    return m


def fingerprint(est) -> dict:
    """What a refused call must leave as it was."""
    out = {"params_": est.params_.copy()}
    for name in ("_state", "_top", "_tail_y", "_tail_z"):
        if hasattr(est, name):
            out[name] = getattr(est, name).copy()
    if hasattr(est, "schema_"):
        out["n_seen"] = est.schema_.n_seen.copy()
        out["last"] = None if est.schema_.last is None else list(est.schema_.last)
    return out


def rewrite(src, dst, meta=None, arrays=None, raw=None) -> pathlib.Path:
    """A copy of model file ``src`` with edited metadata or arrays (or bytes)."""
    if raw is not None:
        dst.write_bytes(raw(src.read_bytes()))
        return dst
    with np.load(src, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    doc = json.loads(members["__metadata__"].tobytes())
    if meta is not None:
        meta(doc)
    if arrays is not None:
        arrays(members)
    members["__metadata__"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **members)
    dst.write_bytes(buf.getvalue())
    return dst


def set_hidden_size(meta, units):
    """Edit a model file's metadata to ``units`` per layer, parameter and
    fitted value alike (as a fit with ``hidden_size=units`` would write)."""
    meta["params"].update(hidden_size=units)
    meta["attributes"].update(hidden_size_=units)


def fit_quietly(est, *data):
    """``est.fit(*data)`` without the ConvergenceWarning of one epoch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*data)


def broken_data_dir(tmp_path, filename, text):
    """A copy of the shipped data folder with one file replaced by ``text``."""
    d = tmp_path / "data"
    d.mkdir()
    for marker in ("SHA256SUMS", "PROVENANCE.md"):
        shutil.copy(REPO_DATA / marker, d / marker)
    (d / filename).write_text(text)
    return d


CO2 = "co2_mauna_loa_weekly.csv"


def co2_lines(n=12):
    return (REPO_DATA / CO2).read_text().splitlines()[:n]


# ------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Any], dict]  # ctx -> the user's inputs, by name
    call: Callable[[dict, Any], Any]  # (inputs, ctx) -> calls the API
    exc: type
    match: str  # names the problem and the fix


def _nan_at(a, i=-1):
    a = np.array(a, dtype=float)
    a[i] = np.nan
    return a


def _inf_at(a, i=-1):
    a = np.array(a, dtype=float)
    a[i] = np.inf
    return a


def _masked_at(a, i=-1):
    """A masked array over a copy of ``a`` with entry ``i`` (of the flat view) masked."""
    a = np.array(a, dtype=float)
    mask = np.zeros(a.size, bool)
    mask[i] = True
    return np.ma.masked_array(a, mask=mask.reshape(a.shape))


NOT_FITTED = r"not fitted yet\. Call 'fit'"

CASES = [
    # ------------------------------------------------------------ tsrnn.warmup
    Case(
        "warmup-unknown-cell",
        lambda c: {},
        lambda d, c: tsrnn.warmup(cells=["lstm", "cnn"]),
        ValueError,
        r"warmup: unknown cells \['cnn'\]; "
        r"choose among \['rnn', 'lstm', 'gru', 'sru'\]",
    ),
    Case(
        "warmup-unknown-dtype",
        lambda c: {},
        lambda d, c: tsrnn.warmup(dtypes="float16"),
        ValueError,
        r"warmup: unknown dtypes \['float16'\]; "
        r"choose among \['float64', 'float32'\]",
    ),
    # ------------------------------------------------------------ tsrnn.nn
    Case(
        "nn-input-nan",
        lambda c: {"x": _nan_at(np.zeros((5, 2, 3)).ravel()).reshape(5, 2, 3)},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        ValueError,
        r"input contains NaN; drop or impute",
    ),
    Case(
        "nn-input-inf",
        lambda c: {"x": _inf_at(np.zeros(30)).reshape(5, 2, 3)},
        lambda d, c: nn.GRU(3, 4)(d["x"]),
        ValueError,
        r"input contains inf; remove or clip",
    ),
    Case(
        "nn-input-rank-1",
        lambda c: {"x": np.zeros(5)},
        lambda d, c: nn.RNN(3, 4)(d["x"]),
        ValueError,
        r"input must have 2 or 3 dimensions \(\(T, B, input_size\).*got shape "
        r"\(5,\); reshape it",
    ),
    Case(
        "nn-input-rank-4",
        lambda c: {"x": np.zeros((5, 2, 3, 1))},
        lambda d, c: nn.SRU(3, 4)(d["x"]),
        ValueError,
        r"must have 2 or 3 dimensions.*got shape \(5, 2, 3, 1\); reshape",
    ),
    Case(
        "nn-input-features",
        lambda c: {"x": np.zeros((5, 2, 2))},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        ValueError,
        r"input has 2 features per step.*input_size=3; pass 3 features per step "
        r"or build the module with input_size=2",
    ),
    Case(
        "nn-input-empty",
        lambda c: {"x": np.zeros((0, 2, 3))},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        ValueError,
        r"empty time or batch axis.*pass at least one time step",
    ),
    Case(
        "nn-input-strings",
        lambda c: {"x": np.full((5, 2, 3), "1.5")},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        TypeError,
        r"input has dtype <U3; convert it to numbers first",
    ),
    Case(
        "nn-input-object",
        lambda c: {"x": np.array([[[1.0, None, 2.0]]], dtype=object)},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        TypeError,
        r"input has dtype object; convert it to numbers first",
    ),
    Case(
        "nn-input-bool",
        lambda c: {"x": np.ones((5, 2, 3), dtype=bool)},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        TypeError,
        r"input is boolean; cast it explicitly with \.astype\(float\)",
    ),
    Case(
        "nn-input-masked",
        lambda c: {"x": _masked_at(np.zeros(30), 7).reshape(5, 2, 3)},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        ValueError,
        r"input is a masked array with 1 masked value\(s\) \(first in row 1\); fill "
        r"the masked values first",
    ),
    Case(
        "nn-input-complex",
        lambda c: {"x": np.ones((5, 2, 3), dtype=complex)},
        lambda d, c: nn.LSTM(3, 4)(d["x"]),
        TypeError,
        r"input is complex; pass real values",
    ),
    Case(
        "nn-h0-shape",
        lambda c: {"x": np.zeros((5, 2, 3)), "h0": np.zeros((1, 3, 4))},
        lambda d, c: nn.GRU(3, 4)(d["x"], d["h0"]),
        ValueError,
        r"h_0 has shape \(1, 3, 4\), expected \(1, 2, 4\) \(num_layers \* "
        r"num_directions, batch, hidden_size\); pass a state of that shape or None",
    ),
    Case(
        "nn-lstm-hx-not-a-tuple",
        lambda c: {"x": np.zeros((5, 2, 3)), "h0": np.zeros((1, 2, 4))},
        lambda d, c: nn.LSTM(3, 4)(d["x"], d["h0"]),
        TypeError,
        r"LSTM expects hx as a tuple \(h_0, c_0\)",
    ),
    Case(
        "nn-hidden-size-zero",
        lambda c: {},
        lambda d, c: nn.LSTM(3, 0),
        ValueError,
        r"hidden_size must be >= 1, got 0",
    ),
    Case(
        "nn-hidden-size-float",
        lambda c: {},
        lambda d, c: nn.GRU(3, 4.0),
        TypeError,
        r"hidden_size must be an int, got float",
    ),
    Case(
        "nn-dropout-out-of-range",
        lambda c: {},
        lambda d, c: nn.LSTM(3, 4, dropout=1.0),
        ValueError,
        r"dropout must be in \[0, 1\), got 1\.0",
    ),
    Case(
        "nn-nonlinearity",
        lambda c: {},
        lambda d, c: nn.RNN(3, 4, nonlinearity="sigmoid"),
        ValueError,
        r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'",
    ),
    Case(
        "nn-integer-dtype",
        lambda c: {},
        lambda d, c: nn.RNN(3, 4, dtype=np.int32),
        TypeError,
        r"dtype must be numpy\.float32 or numpy\.float64, got int32",
    ),
    Case(
        "nn-state-dict-shape",
        lambda c: {"sd": nn.LSTM(3, 8, random_state=0).state_dict()},
        lambda d, c: nn.LSTM(3, 4).load_state_dict(d["sd"]),
        ValueError,
        r"has shape \(32, 3\), this module expects \(16, 3\); build the module "
        r"with the input_size, hidden_size",
    ),
    Case(
        "nn-state-dict-nan",
        lambda c: {
            "sd": {
                k: np.full_like(v, np.nan)
                for k, v in nn.GRU(3, 4, random_state=0).state_dict().items()
            }
        },
        lambda d, c: nn.GRU(3, 4).load_state_dict(d["sd"]),
        ValueError,
        r"holds NaN or inf; load finite weights",
    ),
    Case(
        "nn-backward-grad-shape",
        lambda c: {"x": np.zeros((5, 2, 3)), "g": np.ones((5, 2, 5))},
        lambda d, c: (m := nn.RNN(3, 4), m(d["x"]), m.backward(d["g"])),
        ValueError,
        r"grad_output has shape \(5, 2, 5\), expected \(5, 2, 4\); pass "
        r"dL/d\(output\)",
    ),
    # ------------------------------------------------- RNNForecaster.fit: values
    Case(
        "fit-y-inf",
        lambda c: {"y": _inf_at(series())},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y contains 1 infinite value\(s\) \(first at row 119\); replace them with "
        r"NaN \(missing\) or clip them",
    ),
    Case(
        "fit-y-empty",
        lambda c: {"y": np.array([])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y is empty \(shape \(0, 1\)\); pass at least one observation",
    ),
    Case(
        "fit-y-one-row",
        lambda c: {"y": np.array([1.0])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"too short to train on: the longest training part has 1 row.*at least 2"
        r".*pass longer series",
    ),
    Case(
        "fit-y-shorter-than-horizon",
        lambda c: {"y": series(5)},
        lambda d, c: tiny(RNNForecaster, horizon=6).fit(d["y"]),
        ValueError,
        r"too short to train on.*5 row\(s\), but horizon=6 needs at least 7.*pass "
        r"longer series, lower horizon",
    ),
    Case(
        "fit-y-all-missing",
        lambda c: {"y": np.full(50, np.nan)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y has no observed value \(all NaN\): nothing to learn from.*pass "
        r"observations",
    ),
    Case(
        "fit-y-rank-3",
        lambda c: {"y": np.zeros((10, 2, 2))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y must be 1-D \(one target\) or 2-D \(n_steps, n_targets\), got shape "
        r"\(10, 2, 2\); for many series use a long-format DataFrame",
    ),
    Case(
        "fit-y-strings",
        lambda c: {"y": np.array(["1.0"] * 30)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y has dtype <U3; forecasters need numbers: convert it first",
    ),
    Case(
        "fit-y-object-with-none",
        lambda c: {"y": np.array([1.0] * 29 + [None], dtype=object)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y has dtype object; forecasters need numbers: convert it first",
    ),
    Case(
        "fit-y-bool",
        lambda c: {"y": np.arange(30) % 2 == 0},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y is boolean; cast it explicitly with \.astype\(float\)",
    ),
    Case(
        "fit-y-complex",
        lambda c: {"y": series(30).astype(complex)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y is complex; pass real values",
    ),
    Case(
        "fit-y-none",
        lambda c: {},
        lambda d, c: tiny(RNNForecaster).fit(None),
        TypeError,
        r"y is None; pass the observed series",
    ),
    Case(
        "fit-y-categorical",
        lambda c: {"y": pd.Series(pd.Categorical(["lo", "hi"] * 20))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y is categorical; forecasters need numbers: encode it first",
    ),
    Case(
        "fit-y-huge-values",
        lambda c: {"y": series() * 1e300},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y has values too large in magnitude \(1\.\d+e\+300 at row \d+; the limit "
        r"is 1e\+300.*divide it by a constant",
    ),
    Case(
        "fit-y-too-small",
        lambda c: {"y": series() * 1e-310},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        # (of y deseasonalised, where a season is detected: e-310 or e-311)
        r"y is too small to scale: its largest \|value\| is \d\.\d+e-31\d, below "
        r"1e-305.*multiply it by a constant",
    ),
    Case(
        "fit-X-huge-values",
        lambda c: {"y": series(), "X": np.r_[np.ones(119), 3e305]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X has values too large in magnitude \(3e\+305 at row 119, column 'x0'; the "
        r"limit is "
        r"1e\+300.*divide it by a constant",
    ),
    Case(
        "fit-frame-text-column",
        lambda c: {"y": pd.DataFrame({"a": series(30), "b": ["x"] * 30})},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y column 'b' has dtype (object|str).*convert it with pd\.to_numeric",
    ),
    Case(
        "fit-frame-duplicate-columns",
        lambda c: {"y": pd.DataFrame(np.ones((30, 2)), columns=["a", "a"])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y has duplicate column names \['a'\].*rename them",
    ),
    Case(
        # a masked value is a gap, not data: all masked leaves nothing to learn
        "fit-y-all-masked",
        lambda c: {"y": np.ma.masked_array(series(), mask=np.ones(120, bool))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y has no observed value \(all NaN\).*pass observations",
    ),
    # ------------------------------------------------- RNNForecaster.fit: X
    Case(
        "fit-X-masked",
        lambda c: {"y": series(), "X": _masked_at(np.ones((120, 1)), 30)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X is a masked array with 1 masked value\(s\) \(first in row 30\); "
        r"covariates must be complete: fill the masked values",
    ),
    Case(
        "fit-X-wrong-length",
        lambda c: {"y": series(), "X": np.ones((119, 1))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X has 119 row\(s\) but y has 120; pass one covariate row per time step",
    ),
    Case(
        "fit-X-nan",
        lambda c: {"y": series(), "X": _nan_at(np.ones(120))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X contains 1 NaN value\(s\).*covariates must be complete: impute them",
    ),
    Case(
        "fit-X-inf",
        lambda c: {"y": hourly(), "X": hourly_cov().assign(temp=np.inf)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X contains 120 infinite value\(s\) \(first at row 0, column 'temp'\); "
        r"replace them",
    ),
    Case(
        "fit-X-rank-3",
        lambda c: {"y": series(), "X": np.ones((120, 1, 1))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X must be 1-D or 2-D, got shape \(120, 1, 1\)",
    ),
    Case(
        "fit-X-bool-column",
        lambda c: {"y": hourly(), "X": hourly_cov().assign(temp=True)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        TypeError,
        r"X column 'temp' is boolean; cast it explicitly",
    ),
    Case(
        "fit-X-index-misaligned",
        lambda c: {"y": hourly(), "X": hourly_cov(HOURS + pd.Timedelta("1h"))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X's index differs from y's; covariates are aligned by index, so align "
        r"them first",
    ),
    # ---------------------------------------------- RNNForecaster.fit: time axis
    Case(
        "fit-index-unsorted",
        lambda c: {"y": hourly().iloc[::-1]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y's index is not sorted .*; sort it first, e\.g\. y\.sort_index\(\)",
    ),
    Case(
        "fit-index-duplicated",
        lambda c: {
            "y": pd.Series(
                series(6), index=pd.DatetimeIndex(["2021-01-01"] * 2).append(DAYS[1:5])
            )
        },
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"duplicate timestamps \(first: 2021-01-01 00:00:00\); aggregate them",
    ),
    Case(
        "fit-index-timezones-mixed",
        lambda c: {
            "y": pd.Series(
                series(3),
                index=pd.Index(
                    [
                        pd.Timestamp("2021-01-01", tz="UTC"),
                        pd.Timestamp("2021-01-02", tz="Europe/Paris"),
                        pd.Timestamp("2021-01-03", tz="UTC"),
                    ],
                    dtype=object,
                ),
            )
        },
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"mixes time zones, with pd\.to_datetime\(\.\.\., utc=True\)",
    ),
    Case(
        "fit-index-irregular",
        lambda c: {"y": pd.Series(series(5), index=DAYS[[0, 1, 3, 6, 7]])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"could not infer a regular frequency.*pass freq=.*reindex onto a regular "
        r"grid",
    ),
    Case(
        "fit-index-gap-with-freq",
        lambda c: {"y": pd.Series(series(5), index=DAYS[[0, 1, 3, 4, 5]])},
        lambda d, c: tiny(RNNForecaster, freq="D").fit(d["y"]),
        ValueError,
        r"not regular at frequency D: after 2021-01-02.*comes 2021-01-04.*missing "
        r"steps must be rows of NaN \(reindex onto the grid, e\.g\. "
        r"y\.asfreq\('D'\)\)",
    ),
    Case(
        "fit-index-strings",
        lambda c: {"y": pd.Series(series(5), index=list("abcde"))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"use a DatetimeIndex, a PeriodIndex or an integer index",
    ),
    Case(
        "fit-index-NaT",
        lambda c: {"y": pd.Series(series(4), index=DAYS[:4].insert(1, pd.NaT)[:4])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"missing timestamps \(NaT\); drop those rows",
    ),
    Case(
        "fit-index-multiindex",
        lambda c: {"y": long_frame(False).set_index(["unique_id", "ds"])["y"]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"MultiIndex; for many series pass a long-format DataFrame",
    ),
    Case(
        "fit-bad-freq-string",
        lambda c: {"y": hourly()},
        lambda d, c: tiny(RNNForecaster, freq="fortnightly").fit(d["y"]),
        ValueError,
        r"freq='fortnightly' is not a pandas frequency \(e\.g\. '30min'",
    ),
    Case(
        "fit-custom-business-day-row-on-a-holiday",
        lambda c: {"y": trading_days(holiday_row=True)},
        lambda d, c: tiny(RNNForecaster, freq=TRADING).fit(d["y"]),
        ValueError,
        r"not regular at frequency C \(custom business days: Mon Tue Wed Thu Fri, 2 "
        r"holidays\): after 2024-01-12 .*comes 2024-01-15 .*expected 2024-01-16.*"
        r"y\.asfreq\(freq\) with the same offset object as freq=",
    ),
    Case(
        "save-freq-offset-without-alias",
        lambda c: {"path": c.tmp_path / "bh.npz"},
        lambda d, c: business_hours_model().save(d["path"]),
        ValueError,
        r"the frequency <BusinessHour: bh=10:00-17:00> cannot be "
        r"stored in a model file.*only aliases and "
        r"pd\.offsets\.CustomBusinessDay\(weekmask=\.\.\., holidays=\.\.\.\)",
    ),
    Case(
        "trading-calendar-weekend-date",
        lambda c: {"index": pd.DatetimeIndex(["2024-01-05", "2024-01-06"])},
        lambda d, c: trading_calendar(d["index"]),
        ValueError,
        r"a trading calendar \(Monday to Friday\) got a weekend date",
    ),
    Case(
        "trading-calendar-unknown-rules",
        lambda c: {"index": pd.DatetimeIndex(["2024-01-04", "2024-01-05"])},
        lambda d, c: trading_calendar(d["index"], holidays="lse"),
        ValueError,
        r"holidays='lse' is not a holiday rule set; choose one of "
        r"\['nyse', 'us_federal'\] or None",
    ),
    Case(
        "dataset-market-calendar-unknown",
        lambda c: {},
        lambda d, c: datasets.market_calendar("co2"),
        ValueError,
        r"'co2' is not a daily market dataset; choose one of \[",
    ),
    Case(
        "fit-time-column-without-id",
        lambda c: {"y": long_frame(False)[["ds", "y"]]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"y has a 'ds' column but no 'unique_id' column\. For one series, move time "
        r"to the index",
    ),
    # ------------------------------------------------ RNNForecaster.fit: long
    Case(
        "long-missing-time-column",
        lambda c: {"y": long_frame().drop(columns="ds")},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"long-format y lacks column\(s\) \['ds'\].*set time_col=",
    ),
    Case(
        "long-duplicate-rows",
        lambda c: {"y": pd.concat([long_frame(), long_frame().iloc[:1]])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"series 'a' has duplicate timestamps.*aggregate them",
    ),
    Case(
        "long-missing-ids",
        lambda c: {"y": long_frame().assign(unique_id=lambda f: f.unique_id.where(
            f.index != 3))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"'unique_id' column has missing ids; drop or fill them",
    ),
    Case(
        "long-irregular-series",
        lambda c: {"y": long_frame().drop(index=[70])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"\(series 'b'\) is not regular at frequency D.*add the absent \(id, time\) "
        r"rows",
    ),
    Case(
        "long-time-as-strings",
        lambda c: {"y": long_frame().assign(ds=lambda f: f.ds.astype(str))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"'ds' column has dtype .*convert it with pd\.to_datetime",
    ),
    Case(
        "long-timezones-mixed",
        lambda c: {
            "y": long_frame().assign(
                ds=lambda f: [
                    t.tz_localize("UTC" if i % 2 else "Asia/Tokyo")
                    for i, t in enumerate(f.ds)
                ]
            )
        },
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        TypeError,
        r"'ds' column has dtype object.*mixes time zones, with "
        r"pd\.to_datetime\(\.\.\., utc=True\)",
    ),
    Case(
        "long-covariates-twice",
        lambda c: {"y": long_frame(), "X": long_frame(False).assign(t=1.0)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"].drop(columns="y")),
        ValueError,
        r"extra columns \['promo'\] and X is also given; put covariates in one place",
    ),
    Case(
        "long-X-as-array",
        lambda c: {"y": long_frame(False), "X": np.ones(100)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        TypeError,
        r"with long-format y, X must be a long-format DataFrame with columns "
        r"'unique_id', 'ds'",
    ),
    Case(
        "fit-long-series-without-observations",
        lambda c: {"y": long_frame().assign(
            y=lambda d: d["y"].where(d["unique_id"] == "a"))},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"series 'b' has no observed value \(all NaN\): nothing to learn from, no "
        r"level to forecast from; drop it \(e\.g\. y\[y\.groupby\('unique_id'\)"
        r"\['y'\]\.transform\('count'\) > 0\]\) or pass observations",
    ),
    Case(
        "fit-wide-target-without-observations",
        lambda c: {"y": pd.DataFrame({"a": series(), "b": np.nan}, index=HOURS)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"]),
        ValueError,
        r"y column 'b' has no observed value \(all NaN\).*drop that column or pass "
        r"observations",
    ),
    Case(
        "baseline-long-series-without-observations",
        lambda c: {"y": long_frame(with_cov=False).assign(
            y=lambda d: d["y"].where(d["unique_id"] == "b"))},
        lambda d, c: tsrnn.baselines.NaiveForecaster().fit(d["y"]),
        ValueError,
        r"series 'a' has no observed value \(all NaN\).*drop it",
    ),
    # --------------------------------------------- RNNForecaster: parameters
    Case(
        "param-hidden-size-zero",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, hidden_size=0).fit(d["y"]),
        ValueError,
        r"'hidden_size' parameter of RNNForecaster must be an int in the range "
        r"\[1, inf\) or a str among \{'auto'\}\. Got 0",
    ),
    Case(
        "param-learning-rate-negative",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, learning_rate_init=-1e-3).fit(d["y"]),
        ValueError,
        r"'learning_rate_init' parameter of RNNForecaster must be a float in the "
        r"range \(0\.0, inf\)",
    ),
    Case(
        "param-validation-fraction-one",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, validation_fraction=1.0).fit(d["y"]),
        ValueError,
        r"'validation_fraction' parameter of RNNForecaster must be a float in the "
        r"range \[0\.0, 1\.0\)",
    ),
    Case(
        "param-reference-unknown",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, reference="ses").fit(d["y"]),
        ValueError,
        r"'reference' parameter of RNNForecaster must be a str among "
        r"\{'auto', 'last', 'seasonal'\}\. Got 'ses'",
    ),
    Case(
        "param-early-stopping-unknown",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, early_stopping="sometimes").fit(d["y"]),
        ValueError,
        r"'early_stopping' parameter of RNNForecaster must be .* a str among "
        r"\{'auto', 'continue', 'holdout', 'refit'\}\. Got 'sometimes'",
    ),
    Case(
        "param-max-iter-text",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, max_iter="many").fit(d["y"]),
        ValueError,
        r"'max_iter' parameter of RNNForecaster must be an int in the range "
        r"\[1, inf\) or a str among \{'auto'\}\. Got 'many'",
    ),
    Case(
        "param-season-length-text",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, season_length=["day"]).fit(d["y"]),
        TypeError,
        r"season_length must be a positive int, a tuple of them, 'auto' or None, "
        r"got \['day'\]; e\.g\. season_length=\(24, 168\)",
    ),
    Case(
        "param-season-length-zero",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, season_length=(12, 0)).fit(d["y"]),
        ValueError,
        r"season_length must hold positive ints \(steps per season\), got "
        r"\(12, 0\); e\.g\.",
    ),
    Case(
        "param-references-bool",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, references=True).fit(d["y"]),
        ValueError,
        r"'references' parameter of RNNForecaster must be a str among "
        r"\{'auto', 'learned'\} or None\. Got True",
    ),
    Case(
        "param-combination-bool",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, combination=True).fit(d["y"]),
        ValueError,
        r"'combination' parameter of RNNForecaster must be a str among \{'auto'\} "
        r"or None\. Got True",
    ),
    Case(
        "param-deseasonalize-kind",
        lambda c: {"y": series()},
        lambda d, c: tiny(RNNForecaster, deseasonalize="multiplicative").fit(d["y"]),
        ValueError,
        r"'deseasonalize' parameter of RNNForecaster must be a str among "
        r"\{'auto'\} or None\. Got 'multiplicative'",
    ),
    # ------------- RNNForecaster: categorical and past-only covariates (issue 16)
    Case(
        "category-in-an-array",
        lambda c: {"y": series(), "X": np.array(["a", "b"] * 60)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        TypeError,
        r"X has dtype <U1; forecasters need numbers: .*; for categories, pass X "
        r"as a pandas DataFrame: its string, object and category columns are "
        r"learned embeddings",
    ),
    Case(
        "category-missing-value",
        lambda c: {"y": hourly(), "X": hourly_shop(missing=True)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        ValueError,
        r"X column 'shop' \(categorical\) has 1 missing value\(s\); covariates "
        r"must be complete: give missing values a category of their own, e\.g\. "
        r"X\['shop'\]\.fillna\('missing'\)",
    ),
    Case(
        "category-not-json",
        lambda c: {"y": hourly(), "X": hourly_shop().assign(
            shop=[(i % 2, 0) for i in range(120)])},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"]),
        TypeError,
        r"categorical covariate 'shop' holds a tuple value \(\(0, 0\)\); "
        r"categories must be strings or numbers: convert the column, e\.g\. "
        r"X\['shop'\]\.astype\(str\)",
    ),
    Case(
        "embedding-dims-numeric-column",
        lambda c: {"y": hourly(), "X": hourly_shop()},
        lambda d, c: tiny(RNNForecaster, embedding_dims={"temp": 2}).fit(
            d["y"], d["X"]),
        ValueError,
        r"embedding_dims names \['temp'\], numeric covariate\(s\): only "
        r"categorical columns are embedded; cast one to a category to embed it "
        r"\(X\['temp'\]\.astype\('category'\)\)",
    ),
    Case(
        "embedding-dims-unknown-column",
        lambda c: {"y": hourly(), "X": hourly_shop()},
        lambda d, c: tiny(RNNForecaster, embedding_dims={"store": 2}).fit(
            d["y"], d["X"]),
        ValueError,
        r"embedding_dims names \['store'\], which are not embedded columns; the "
        r"embedded ones are \['shop'\]",
    ),
    Case(
        "embedding-dims-zero",
        lambda c: {"y": hourly(), "X": hourly_shop()},
        lambda d, c: tiny(RNNForecaster, embedding_dims={"shop": 0}).fit(
            d["y"], d["X"]),
        ValueError,
        r"embedding_dims\['shop'\] must be a positive int, got 0; e\.g\. "
        r"embedding_dims=\{'shop': 3\}",
    ),
    Case(
        "embedding-dims-int-zero",
        lambda c: {"y": hourly(), "X": hourly_shop()},
        lambda d, c: tiny(RNNForecaster, embedding_dims=0).fit(d["y"], d["X"]),
        ValueError,
        r"'embedding_dims' parameter of RNNForecaster must be None, an int in the "
        r"range \[1, inf\) or an instance of 'dict'\. Got 0",
    ),
    Case(
        "id-embedding-one-series",
        lambda c: {"y": hourly()},
        lambda d, c: tiny(RNNForecaster, id_embedding=True).fit(d["y"]),
        ValueError,
        r"id_embedding=True embeds the series id of a global model over many "
        r"series; fit on a long-format frame .* or set id_embedding=False",
    ),
    Case(
        "embedding-dims-id-without-id-embedding",
        lambda c: {"y": long_frame().assign(promo=lambda f: np.where(
            f["promo"] > 0, "on", "off"))},
        lambda d, c: tiny(RNNForecaster, embedding_dims={"unique_id": 3}).fit(
            d["y"]),
        ValueError,
        r"embedding_dims names the series id 'unique_id' but id_embedding=False; "
        r"set id_embedding=True to embed it",
    ),
    Case(
        "past-covariates-not-a-column",
        lambda c: {"y": hourly(), "X": hourly_cov()},
        lambda d, c: tiny(RNNForecaster, past_covariates=["volume"]).fit(
            d["y"], d["X"]),
        ValueError,
        r"past_covariates names 'volume', which is not a covariate; the "
        r"covariates are \['temp'\] \(name columns of X",
    ),
    Case(
        "past-covariates-without-X",
        lambda c: {"y": hourly()},
        lambda d, c: tiny(RNNForecaster, past_covariates="temp").fit(d["y"]),
        ValueError,
        r"past_covariates='temp' names covariates but no X was given; pass X "
        r"holding them \(or past_covariates=None\)",
    ),
    Case(
        "past-covariates-position-out-of-range",
        lambda c: {"y": series(), "X": np.ones((120, 1))},
        lambda d, c: tiny(RNNForecaster, past_covariates=[2]).fit(d["y"], d["X"]),
        ValueError,
        r"past_covariates holds column position 2 but X has 1 column\(s\); name "
        r"columns of X \['x0'\]",
    ),
    Case(
        "past-covariates-twice",
        lambda c: {"y": series(), "X": np.ones((120, 2))},
        lambda d, c: tiny(RNNForecaster, past_covariates=[0, "x0"]).fit(
            d["y"], d["X"]),
        ValueError,
        r"past_covariates=\[0, 'x0'\] names a column twice",
    ),
    Case(
        "past-covariates-recursive",
        lambda c: {"y": hourly(), "X": hourly_cov()},
        lambda d, c: tiny(RNNForecaster, past_covariates=["temp"],
                          strategy="recursive").fit(d["y"], d["X"]),
        ValueError,
        r"past_covariates \['temp'\] cannot be used with strategy='recursive'.*; "
        r"use strategy='direct' \(the state at the origin has read them\), or "
        r"pass them lagged by the horizon as known covariates",
    ),
    Case(
        "past-covariates-predict-lacks-known",
        lambda c: {"y": hourly(), "X": hourly_shop(),
                   "Xf": pd.DataFrame({"temp": [0.5] * 3},
                                      index=pd.date_range("2021-01-06", periods=3,
                                                          freq="h"))},
        lambda d, c: quiet_fit(
            tiny(RNNForecaster, horizon=3, past_covariates=["temp"]), d["y"], d["X"]
        ).predict(X=d["Xf"]),
        ValueError,
        r"X has columns \['temp'\] but the model was fitted with \['shop'\]; "
        r"pass the same covariate columns",
    ),
    Case(
        "past-covariates-update-lacks-them",
        lambda c: {"y": hourly(), "X": hourly_shop(),
                   "y_new": pd.Series([0.1], index=pd.date_range(
                       "2021-01-06", periods=1, freq="h", name="time"), name="load"),
                   "X_new": pd.DataFrame({"shop": ["a"]}, index=pd.date_range(
                       "2021-01-06", periods=1, freq="h", name="time"))},
        lambda d, c: quiet_fit(
            tiny(RNNForecaster, horizon=3, past_covariates=["temp"]), d["y"], d["X"]
        ).update(d["y_new"], d["X_new"]),
        ValueError,
        r"X_new has 1 covariate\(s\) but the model was fitted with 2; pass the "
        r"same covariates as at fit",
    ),
    Case(
        "X-past-long-not-a-frame",
        lambda c: {"y": long_frame(), "P": np.ones(100)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], None, d["P"]),
        TypeError,
        r"with long-format y, X_past must be a long-format DataFrame with columns "
        r"'unique_id', 'ds' and the past-only covariates",
    ),
    Case(
        "X-past-long-other-rows",
        lambda c: {"y": long_frame(with_cov=False),
                   "P": long_frame()[["unique_id", "ds", "promo"]].iloc[:-1]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], None, d["P"]),
        ValueError,
        r"X_past has 99 row\(s\) but y has 100; X_past needs exactly one row per "
        r"\(unique_id, ds\) row of y",
    ),
    Case(
        "X-past-long-same-column",
        lambda c: {"y": long_frame(),
                   "P": long_frame()[["unique_id", "ds", "promo"]]},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], None, d["P"]),
        ValueError,
        r"X_past and y both hold column\(s\) \['promo'\]; give each covariate "
        r"once",
    ),
    Case(
        "X-past-mixed-formats",
        lambda c: {"y": hourly(), "X": hourly_cov(), "P": np.ones(120)},
        lambda d, c: tiny(RNNForecaster).fit(d["y"], d["X"], d["P"]),
        TypeError,
        r"X and X_past must come in one format: both pandas \(aligned on y's "
        r"index\) or both arrays",
    ),
    Case(
        "X-past-update-holds-known",
        lambda c: {"y": hourly(), "X": hourly_shop(),
                   "y_new": pd.Series([0.1], index=pd.date_range(
                       "2021-01-06", periods=1, freq="h", name="time"), name="load"),
                   "P_new": pd.DataFrame({"shop": ["a"]}, index=pd.date_range(
                       "2021-01-06", periods=1, freq="h", name="time"))},
        lambda d, c: quiet_fit(
            tiny(RNNForecaster, horizon=3, past_covariates=["temp"]), d["y"], d["X"]
        ).update(d["y_new"], None, d["P_new"]),
        ValueError,
        r"X_past holds \['shop'\], which the model reads as known covariates "
        r"\(its past-only ones are \['temp'\]\); pass them in X_new",
    ),
    # ------------------------------------ RNNForecaster: predict and update
    Case(
        "predict-before-fit",
        lambda c: {},
        lambda d, c: tiny(RNNForecaster).predict(),
        NotFittedError,
        NOT_FITTED,
    ),
    Case(
        "update-before-fit",
        lambda c: {"y": series(5)},
        lambda d, c: tiny(RNNForecaster).update(d["y"]),
        NotFittedError,
        NOT_FITTED,
    ),
    Case(
        "predict-interval-before-fit",
        lambda c: {},
        lambda d, c: tiny(RNNForecaster).predict_interval(),
        NotFittedError,
        NOT_FITTED,
    ),
    Case(
        "predict-horizon-beyond-training",
        lambda c: {},
        lambda d, c: c.models.arr.predict(horizon=10),
        ValueError,
        r"forecasts at most 3 steps; set horizon=10 and refit, or use "
        r"strategy='recursive'",
    ),
    # ---- the encoder-decoder (issue 16)
    Case(
        "seq2seq-with-sru",
        lambda c: {"y": series(60)},
        lambda d, c: tiny(RNNForecaster, strategy="seq2seq", cell="sru").fit(d["y"]),
        ValueError,
        r"strategy='seq2seq' starts its decoder from the encoder's state at "
        r"every step, which an SRU layer does not expose .*use cell='lstm', "
        r"'gru' or 'rnn', or strategy='direct'",
    ),
    Case(
        "seq2seq-predict-beyond-horizon",
        lambda c: {"y": series(60)},
        lambda d, c: quiet_fit(
            tiny(RNNForecaster, strategy="seq2seq_free", horizon=3), d["y"]
        ).predict(horizon=5),
        ValueError,
        r"this seq2seq_free model forecasts at most 3 steps; set horizon=5 and "
        r"refit, or use strategy='recursive'",
    ),
    Case(
        "seq2seq-unknown-strategy-name",
        lambda c: {"y": series(60)},
        lambda d, c: tiny(RNNForecaster, strategy="encoder-decoder").fit(d["y"]),
        ValueError,
        r"The 'strategy' parameter of RNNForecaster must be a str among "
        r"\{.*'seq2seq'.*\}",
    ),
    # ---- resource traps (issue 14): refused up front, never a MemoryError
    Case(
        "predict-recursive-horizon-in-the-billions",
        lambda c: {"y": series(60)},
        lambda d, c: quiet_fit(tiny(RNNForecaster, strategy="recursive"), d["y"])
        .predict(horizon=10**12),
        ValueError,
        r"horizon=1000000000000 asks for 1e\+12 forecast steps \(7\.3 TiB of "
        r"values alone\), over tsrnn's limit of 1e\+07 steps per predict call; "
        r"lower horizon",
    ),
    Case(
        "predict-direct-horizon-in-the-billions",
        lambda c: {},
        lambda d, c: c.models.arr.predict(horizon=10**12),
        ValueError,
        r"forecasts at most 3 steps; set horizon=1000000000000 and refit, or use "
        r"strategy='recursive'",
    ),
    Case(
        "predict-interval-long-horizon-in-the-billions",
        lambda c: {"y": long_frame(with_cov=False)},
        lambda d, c: tsrnn.NaiveForecaster().fit(d["y"]).predict_interval(
            horizon=10**12
        ),
        ValueError,
        r"horizon=1000000000000 asks for 2 series x 1000000000000 = 2e\+12 "
        r"forecast steps.*lower horizon, forecast fewer series at a time",
    ),
    Case(
        "fit-hidden-size-beyond-memory",
        lambda c: {"y": series(60)},
        lambda d, c: tiny(RNNForecaster, hidden_size=10**6).fit(d["y"]),
        ValueError,
        r"hidden_size=1000000 and num_layers=1 has 4e\+12 parameters.*14\.6 TiB, "
        r"over tsrnn's budget of 2\.0 GiB for one array; lower hidden_size or "
        r"num_layers",
    ),
    Case(
        "fit-window-model-num-layers-beyond-memory",
        lambda c: dict(zip(("X", "y"), windows(), strict=True)),
        lambda d, c: tiny(RNNRegressor, num_layers=10**7).fit(d["X"], d["y"]),
        ValueError,
        r"num_layers=10000000 has .* parameters in 4e\+07 tensors.*over tsrnn's "
        r"budget.*lower hidden_size or num_layers",
    ),
    Case(
        "nn-module-beyond-memory",
        lambda c: {},
        lambda d, c: nn.GRU(10**5, 10**5),
        ValueError,
        r"a gru stack with input_size=100000, hidden_size=100000 .*over tsrnn's "
        r"budget.*lower hidden_size",
    ),
    Case(
        "fit-season-length-beyond-memory",
        lambda c: {"y": series(60)},
        lambda d, c: tiny(RNNForecaster, season_length=10**9).fit(d["y"]),
        ValueError,
        r"season_length=1000000000 keeps the last 1000000000 rows of each of the 1 "
        r"series: 7\.5 GiB, over tsrnn's budget.*lower season_length",
    ),
    Case(
        "fit-seasonal-naive-season-beyond-the-data",
        lambda c: {"y": series(60)},
        lambda d, c: tsrnn.SeasonalNaiveForecaster(season_length=10**9).fit(d["y"]),
        ValueError,
        r"no observation at season position 60 of season_length=1000000000; "
        r"SeasonalNaiveForecaster needs at least one full season",
    ),
    Case(
        "fit-linear-ar-lags-beyond-the-data",
        lambda c: {"y": series(60)},
        lambda d, c: tsrnn.LinearARForecaster(lags=10**9).fit(d["y"]),
        ValueError,
        r"max\(lags\)\+1 = 1000000001 consecutive observed steps in some series "
        r"\(longest series: 60\); lower lags or pass longer series",
    ),
    Case(
        "backtest-origins-in-the-billions",
        lambda c: {"y": series(60)},
        lambda d, c: backtest(tsrnn.NaiveForecaster(), d["y"], horizon=2,
                              n_origins=10**9),
        ValueError,
        r"the series has 60 rows; n_origins=1000000000 origins with horizon=2 and "
        r"step=2 need at least 2000000001\. Lower n_origins",
    ),
    Case(
        "make-windows-window-in-the-billions",
        lambda c: {"s": series(60)},
        lambda d, c: make_windows(d["s"], window=10**9),
        ValueError,
        r"series has 60 rows \(time steps\) but one sample needs window \+ horizon "
        r"= 1000000000 \+ 1 = 1000000001; pass a longer series or reduce",
    ),
    Case(
        "predict-horizon-float",
        lambda c: {},
        lambda d, c: c.models.arr.predict(horizon=2.5),
        TypeError,
        r"horizon must be a positive int, got 2\.5",
    ),
    Case(
        "predict-horizon-is-data",
        lambda c: {"y_test": pd.Series(series(4))},
        lambda d, c: c.models.arr.predict(d["y_test"]),
        TypeError,
        r"horizon must be a positive int, got a Series of 4 rows.*string scoring "
        r"\(e\.g\. scoring='neg_mean_absolute_error'\) cannot score a forecaster; "
        r"use scoring=None .*make_forecast_scorer",
    ),
    Case(
        "score-metric-name-not-callable",
        lambda c: {"y": series(6)},
        lambda d, c: c.models.arr.score(d["y"], metric="mae"),
        TypeError,
        r"metric must be a callable metric\(y_true, y_pred\) -> float, got 'mae'; "
        r"for a name use tsrnn\.metrics\.make_forecast_scorer",
    ),
    Case(
        "forecast-scorer-unknown-metric",
        lambda c: {},
        lambda d, c: tsrnn.metrics.make_forecast_scorer("accuracy"),
        ValueError,
        r"unknown forecast metric 'accuracy'; use one of \['mae', .*"
        r"'neg_mean_absolute_error'.*or a callable",
    ),
    Case(
        "predict-future-X-missing",
        lambda c: {},
        lambda d, c: c.models.arr_x.predict(),
        ValueError,
        r"fitted with covariates \['x0'\]; predict needs their future values: pass "
        r"X with 3 row\(s\)",
    ),
    Case(
        "predict-future-X-too-short",
        lambda c: {"X": np.ones((2, 1))},
        lambda d, c: c.models.arr_x.predict(X=d["X"]),
        ValueError,
        r"X has 2 row\(s\) but horizon is 3; pass exactly one row of future "
        r"covariates per forecast step",
    ),
    Case(
        "predict-future-X-nan",
        lambda c: {"X": np.array([[1.0], [np.nan], [1.0]])},
        lambda d, c: c.models.arr_x.predict(X=d["X"]),
        ValueError,
        r"X contains 1 NaN value\(s\) \(first at row 1.*impute them",
    ),
    Case(
        "predict-future-X-huge",
        lambda c: {"X": np.array([[1.0], [-2e301], [1.0]])},
        lambda d, c: c.models.arr_x.predict(X=d["X"]),
        ValueError,
        r"X has values too large in magnitude \(-2e\+301 at row 1, column 'x0'; the "
        r"limit is 1e\+300",
    ),
    Case(
        "predict-future-X-masked",
        lambda c: {"X": _masked_at(np.ones((3, 1)), 1)},
        lambda d, c: c.models.arr_x.predict(X=d["X"]),
        ValueError,
        r"X is a masked array with 1 masked value\(s\) \(first in row 1\); "
        r"covariates must be complete",
    ),
    Case(
        "predict-X-without-covariates",
        lambda c: {"X": np.ones((3, 1))},
        lambda d, c: c.models.arr.predict(X=d["X"]),
        ValueError,
        r"fitted without covariates, so predict takes no X; refit with X",
    ),
    Case(
        "predict-future-X-wrong-index",
        lambda c: {"X": hourly_cov(HOURS[:3])},
        lambda d, c: c.models.pd.predict(X=d["X"]),
        ValueError,
        r"X's index must be the forecast timestamps 2021-01-06 00:00:00 \.\.\. "
        r"2021-01-06 02:00:00; set X\.index to them",
    ),
    Case(
        "predict-future-X-wrong-columns",
        lambda c: {"X": hourly_cov(FUTURE_HOURS).rename(columns={"temp": "rain"})},
        lambda d, c: c.models.pd.predict(X=d["X"]),
        ValueError,
        r"X has columns \['rain'\] but the model was fitted with \['temp'\]; pass "
        r"the same covariate columns",
    ),
    Case(
        "predict-long-unknown-id",
        lambda c: {
            "X": pd.DataFrame(
                {"unique_id": ["zz"] * 2, "ds": DAYS[-2:], "promo": 1.0}
            )
        },
        lambda d, c: c.models.long.predict(X=d["X"]),
        ValueError,
        r"X has unknown series id\(s\) \['zz'\]; only series seen at fit can be "
        r"forecast",
    ),
    Case(
        "predict-interval-coverage",
        lambda c: {},
        lambda d, c: c.models.arr.predict_interval(coverage=100),
        ValueError,
        r"coverage must be a percentage in \[1, 100\) such as 90 \(or a fraction "
        r"in \(0, 1\) such as 0\.9\), got 100",
    ),
    Case(
        "predict-interval-levels",
        lambda c: {},
        lambda d, c: c.models.arr.predict_interval(level=[80, 0]),
        ValueError,
        r"each level must be a percentage in \[1, 100\)",
    ),
    Case(
        "predict-interval-level-and-coverage",
        lambda c: {},
        lambda d, c: c.models.arr.predict_interval(level=80, coverage=0.8),
        ValueError,
        r"pass level \(e\.g\. level=\[80, 95\]\) or coverage, not both",
    ),
    Case(
        "predict-interval-method",
        lambda c: {},
        lambda d, c: c.models.arr.predict_interval(method="samples"),
        ValueError,
        r"gives intervals by method 'conformal' \(or 'auto'\), got 'samples'",
    ),
    Case(
        "update-y-inf",
        lambda c: {"y": np.array([0.5, np.inf])},
        lambda d, c: c.models.arr.update(d["y"]),
        ValueError,
        r"y_new contains 1 infinite value\(s\).*replace them with NaN",
    ),
    Case(
        "update-y-huge",  # fit refuses it: so does update (predict gave inf)
        lambda c: {"y": np.array([0.5, 1.7e308])},
        lambda d, c: c.models.arr.update(d["y"]),
        ValueError,
        r"y_new has values too large in magnitude \(1\.7e\+308 at row 1; the limit "
        r"is 1e\+300.*divide it by a constant",
    ),
    Case(
        "update-y-another-magnitude",
        lambda c: {"y": np.array([0.5, 3e200])},
        lambda d, c: c.models.arr.update(d["y"]),
        ValueError,
        r"y_new has a value of another magnitude than the data the model was fitted "
        r"on: 3e\+200 at row 1 lies more than 1e\+15 training scales .*; check the "
        r"units of y_new",
    ),
    Case(
        "partial-fit-y-another-magnitude",
        lambda c: {"y": np.array([-2e100])},
        lambda d, c: c.models.arr.partial_fit(d["y"]),
        ValueError,
        r"y_new has a value of another magnitude.*-2e\+100 at row 0",
    ),
    Case(
        "update-long-another-magnitude",
        lambda c: {"y": pd.DataFrame(
            {"unique_id": ["b"], "ds": DAYS[40:41], "y": [1e200], "promo": [0.0]})},
        lambda d, c: c.models.long.update(d["y"]),
        ValueError,
        r"y_new has a value of another magnitude.*1e\+200 at series 'b', time "
        r"2021-02-10 00:00:00 lies more than 1e\+15 training scales",
    ),
    Case(
        "predict-long-X-another-magnitude",
        lambda c: {"X": pd.DataFrame({
            "unique_id": ["a", "a", "b", "b"],
            "ds": [*pd.date_range(DAYS[-1], periods=3, freq="D")[1:],
                   *pd.date_range(DAYS[39], periods=3, freq="D")[1:]],
            "promo": [0.0, 1.0, 1.0, 7e15],
        })},
        lambda d, c: c.models.long.predict(X=d["X"]),
        ValueError,
        r"X has a value of another magnitude.*7e\+15 at series 'b', forecast step "
        r"2, column 'promo'",
    ),
    Case(
        "update-X-another-magnitude",
        lambda c: {"y": np.ones(3), "X": np.array([1.0, 1.0, 5e16])},
        lambda d, c: c.models.arr_x.update(d["y"], d["X"]),
        ValueError,
        r"X_new has a value of another magnitude.*5e\+16 at row 2, column 'x0'",
    ),
    Case(
        "predict-future-X-another-magnitude",
        lambda c: {"X": np.array([[1.0], [-4e20], [1.0]])},
        lambda d, c: c.models.arr_x.predict(X=d["X"]),
        ValueError,
        r"X has a value of another magnitude.*-4e\+20 at forecast step 2, column "
        r"'x0'.*check the units of X",
    ),
    Case(
        "update-wrong-number-of-targets",
        lambda c: {"y": np.ones((3, 2))},
        lambda d, c: c.models.arr.update(d["y"]),
        ValueError,
        r"y_new has 2 target\(s\) but the model was fitted on 1; pass the same "
        r"targets",
    ),
    Case(
        "update-covariates-missing",
        lambda c: {"y": np.ones(3)},
        lambda d, c: c.models.arr_x.update(d["y"]),
        ValueError,
        r"fitted with covariates \['x0'\]; pass their values for the new rows as "
        r"X_new",
    ),
    Case(
        "update-covariates-nan",
        lambda c: {"y": np.ones(3), "X": np.array([1.0, np.nan, 1.0])},
        lambda d, c: c.models.arr_x.update(d["y"], d["X"]),
        ValueError,
        r"X_new contains 1 NaN value\(s\).*impute them",
    ),
    Case(
        "update-covariates-masked",
        lambda c: {"y": np.ones(3), "X": _masked_at(np.ones(3), 2)},
        lambda d, c: c.models.arr_x.update(d["y"], d["X"]),
        ValueError,
        r"X_new is a masked array with 1 masked value\(s\) \(first in row 2\); "
        r"covariates must be complete",
    ),
    Case(
        "update-does-not-continue",
        lambda c: {
            "y": pd.Series([1.0], index=FUTURE_HOURS[1:2]),
            "X": hourly_cov(FUTURE_HOURS[1:2]),
        },
        lambda d, c: c.models.pd.update(d["y"], d["X"]),
        ValueError,
        r"must continue the series: its first timestamp is 2021-01-06 01:00:00 but "
        r"the next step.*is 2021-01-06 00:00:00; pass only new observations, with "
        r"missing steps as NaN rows",
    ),
    Case(
        "update-timezone-aware",
        lambda c: {
            "y": pd.Series([1.0], index=FUTURE_HOURS[:1].tz_localize("UTC")),
            "X": hourly_cov(FUTURE_HOURS[:1].tz_localize("UTC")),
        },
        lambda d, c: c.models.pd.update(d["y"], d["X"]),
        ValueError,
        r"tz-aware but the model was fitted on tz-naive timestamps; use the same "
        r"convention \(tz_localize / tz_convert\)",
    ),
    Case(
        "update-unknown-id",
        lambda c: {
            "y": pd.DataFrame(
                {"unique_id": ["zz"], "ds": DAYS[-1:], "y": [1.0], "promo": [0.0]}
            )
        },
        lambda d, c: c.models.long.update(d["y"]),
        ValueError,
        r"series id\(s\) \['zz'\] unknown at fit; update only continues series "
        r"seen by fit \(refit to add new series\)",
    ),
    Case(
        "update-long-as-array",
        lambda c: {"y": np.ones(3)},
        lambda d, c: c.models.long.update(d["y"]),
        TypeError,
        r"fitted on a long-format DataFrame; pass new observations the same way",
    ),
    # ------------------------------------------------ RNNRegressor/Classifier
    Case(
        "window-categorical-index-out-of-range",
        lambda c: {"X": windows()[0][..., None], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, categorical_features=[1]).fit(
            d["X"], d["y"]),
        ValueError,
        r"categorical_features holds index 1 but X has 1 feature\(s\) per step; "
        r"use indices 0\.\.0",
    ),
    Case(
        "window-categorical-twice",
        lambda c: {"X": np.stack([windows()[0]] * 2, axis=2), "y": windows()[1]},
        lambda d, c: tiny(RNNClassifier, categorical_features=[1, 1]).fit(
            d["X"], d["y"] > 0),
        ValueError,
        r"categorical_features=\[1, 1\] names a feature twice",
    ),
    Case(
        "window-categorical-not-indices",
        lambda c: {"X": windows()[0][..., None], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, categorical_features=["sensor"]).fit(
            d["X"], d["y"]),
        TypeError,
        r"categorical_features must hold feature indices \(ints\) or be a "
        r"boolean mask, got \['sensor'\]",
    ),
    Case(
        "window-embedding-dims-without-categorical",
        lambda c: {"X": windows()[0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, embedding_dims=4).fit(d["X"], d["y"]),
        ValueError,
        r"embedding_dims is set but no feature is categorical; name them with "
        r"categorical_features=\[\.\.\.\] or leave embedding_dims=None",
    ),
    Case(
        "window-embedding-dims-not-categorical",
        lambda c: {"X": np.stack([windows()[0]] * 2, axis=2), "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, categorical_features=[1],
                          embedding_dims={0: 3}).fit(d["X"], d["y"]),
        ValueError,
        r"embedding_dims names feature\(s\) \[0\], which are not categorical; "
        r"the categorical features are \[1\]",
    ),
    Case(
        "window-X-masked",
        lambda c: {"X": _masked_at(windows()[0].ravel(), 20).reshape(40, 8),
                   "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X is a masked array with 1 masked value\(s\) \(first in row 2\); a "
        r"window cannot hold a gap: drop the windows with masked values \(keep = "
        r"~np\.ma\.getmaskarray\(X\)",
    ),
    Case(
        "window-y-masked",
        lambda c: {"X": windows()[0], "y": _masked_at(windows()[1], 3)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"y is a masked array with 1 masked value\(s\) \(first in row 3\); a "
        r"window cannot hold a gap",
    ),
    Case(
        "window-classifier-X-masked",
        lambda c: {"X": _masked_at(windows()[0].ravel(), 0).reshape(40, 8),
                   "y": windows()[1] > 0},
        lambda d, c: tiny(RNNClassifier).fit(d["X"], d["y"]),
        ValueError,
        r"X is a masked array with 1 masked value\(s\) \(first in row 0\)",
    ),
    Case(
        "window-predict-X-masked",
        lambda c: {"X": _masked_at(windows()[0][:5].ravel(), 9).reshape(5, 8)},
        lambda d, c: c.models.reg.predict(d["X"]),
        ValueError,
        r"X is a masked array with 1 masked value\(s\) \(first in row 1\); a "
        r"window cannot hold a gap",
    ),
    Case(
        "window-X-nan",
        lambda c: {"X": _nan_at(windows()[0].ravel(), 5).reshape(40, 8),
                   "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"(?s)Input X contains NaN\..*imputer",
    ),
    Case(
        "window-X-inf",
        lambda c: {"X": _inf_at(windows()[0].ravel(), 9).reshape(40, 8),
                   "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"Input X contains infinity \(1 value\(s\), first in row 1\); drop those "
        r"windows",
    ),
    Case(
        "window-y-nan",
        lambda c: {"X": windows()[0], "y": _nan_at(windows()[1], 3)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"Input y contains NaN \(1 value\(s\), first in row 3\); drop those windows "
        r"\(keep = np\.isfinite\(y\)",
    ),
    Case(
        "window-X-rank-4",
        lambda c: {"X": np.zeros((40, 4, 2, 1)), "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X must be 2-D \(n_samples, window \* input_size\).*or 3-D \(n_samples, "
        r"window, n_features\); got shape \(40, 4, 2, 1\)",
    ),
    Case(
        "window-X-rank-1",
        lambda c: {"X": windows()[0][:, 0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"(?s)Expected 2D array, got 1D array instead.*Reshape your data",
    ),
    Case(
        "window-length-mismatch",
        lambda c: {"X": windows()[0], "y": windows()[1][:-1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X has 40 window\(s\) \(rows\) but y has 39; pass one target per window",
    ),
    Case(
        "window-X-text",
        lambda c: {"X": windows()[0].astype(str), "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        TypeError,
        r"X holds text \(e\.g\. '.*'\), not numbers; convert it first",
    ),
    Case(
        "window-X-frame-text-column",
        lambda c: {
            "X": pd.DataFrame(windows()[0]).assign(tag="x"),
            "y": windows()[1],
        },
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        TypeError,
        # pandas 2 keeps text as object (converted, then refused), pandas 3
        # gives it the str dtype (refused by dtype): both name the column
        r"X column 'tag' (holds text|has dtype str), not numbers.*convert it first",
    ),
    Case(
        "window-X-complex",
        lambda c: {"X": windows()[0].astype(complex), "y": windows()[1]},
        lambda d, c: tiny(RNNClassifier).fit(d["X"], d["y"] > 0),
        ValueError,
        r"Complex data not supported: X is complex; pass real values",
    ),
    Case(
        # sequences of different lengths are fine (ragged input); steps of
        # different widths inside one sequence are not
        "window-X-ragged-steps",
        lambda c: {"X": [[[1.0], [2.0, 3.0]], [[1.0]]], "y": [1.0, 2.0]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[0\] is ragged .*; each sequence is one array \(T_i,\) or "
        r"\(T_i, n_features\) with the same features at every step",
    ),
    # ----------------------------------------- ragged sequences (window models)
    Case(
        "window-ragged-empty-sequence",
        lambda c: {"X": [np.ones((4, 2)), np.ones((0, 2)), np.ones((3, 2))],
                   "y": np.arange(3.0)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[1\] is empty \(shape \(0, 2\)\); each sequence needs at least one "
        r"step and one feature: drop the empty sequences",
    ),
    Case(
        "window-ragged-mixed-features",
        lambda c: {"X": [np.ones((4, 2)), np.ones((3, 2)), np.ones((5, 3))],
                   "y": np.array(["a", "b", "a"])},
        lambda d, c: tiny(RNNClassifier).fit(d["X"], d["y"]),
        ValueError,
        r"X\[2\] has 3 feature\(s\) per step but X\[0\] has 2: every sequence "
        r"needs the same features per step",
    ),
    Case(
        "window-ragged-nan-inside-padded",
        lambda c: {"X": _nan_at(np.ones((3, 5, 1)).ravel(), 6).reshape(3, 5, 1),
                   "y": np.arange(3.0)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[1\] is NaN at step 1, before its last value at step 4: NaN inside a "
        r"sequence rather than trailing padding.*impute the gap, or split",
    ),
    Case(
        "window-ragged-nan-in-some-features",
        lambda c: {"X": _nan_at(np.ones((3, 5, 2)).ravel(), 9).reshape(3, 5, 2),
                   "y": np.arange(3.0)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[0\] is NaN in some but not all features of step 4\. In a NaN-padded "
        r"3-D X, padding is whole steps.*impute it, or cut the sequence",
    ),
    Case(
        "window-ragged-all-nan-sequence",
        lambda c: {"X": np.concatenate([np.ones((2, 4, 1)),
                                        np.full((1, 4, 1), np.nan)]),
                   "y": np.arange(3.0)},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[2\] is NaN at every step: an empty sequence \(1 in all\)\. Each "
        r"sequence needs at least one step: drop the empty ones",
    ),
    Case(
        "window-ragged-nan-in-list",
        lambda c: {"X": [np.ones(4), _nan_at(np.ones(6), 2)], "y": [0.0, 1.0]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[1\] contains NaN \(first at step 2\): NaN inside a sequence cannot "
        r"be read.*impute the missing values, or cut the sequence",
    ),
    Case(
        "window-ragged-inf",
        lambda c: {"X": [np.ones(4), _inf_at(np.ones(6), 3)], "y": [0.0, 1.0]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X\[1\] contains infinity \(step 3\); clip or replace the infinite "
        r"values, or drop that sequence",
    ),
    Case(
        "window-ragged-text",
        lambda c: {"X": [np.ones(4), np.array(["a", "b"])], "y": [0.0, 1.0]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        TypeError,
        r"X\[1\] holds text \(e\.g\. 'a'\), not numbers; convert it first",
    ),
    Case(
        "window-ragged-length-mismatch",
        lambda c: {"X": [np.ones(4), np.ones(6)], "y": [0.0, 1.0, 2.0]},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"X has 2 sequence\(s\) but y has 3; pass one target per sequence",
    ),
    Case(
        "window-ragged-input-size",
        lambda c: {"X": [np.ones(5), np.ones(6)], "y": [0.0, 1.0]},
        lambda d, c: tiny(RNNRegressor, input_size=2).fit(d["X"], d["y"]),
        ValueError,
        r"X\[0\] holds 5 values, not a multiple of input_size=2.*Pass it as a 2-D "
        r"array \(T_i, n_features\), or set input_size",
    ),
    Case(
        "window-sequence-output-one-target-per-window",
        lambda c: {"X": windows()[0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, output="sequence").fit(d["X"], d["y"]),
        ValueError,
        r"output='sequence' labels every step: y must hold one target per step of "
        r"each window.*got shape \(40,\).*For one target per window, use "
        r"output='window'",
    ),
    Case(
        "window-sequence-output-step-count",
        lambda c: {"X": [np.ones(4), np.ones(6)], "y": [np.ones(4), np.ones(5)]},
        lambda d, c: tiny(RNNRegressor, output="sequence").fit(d["X"], d["y"]),
        ValueError,
        r"y\[1\] has 5 step\(s\) but the matching window of X has 6: "
        r"output='sequence' needs one target per step",
    ),
    Case(
        "window-sequence-output-nan-target",
        lambda c: {"X": [np.ones(4), np.ones(6)],
                   "y": [np.ones(4), _nan_at(np.ones(6), 1)]},
        lambda d, c: tiny(RNNRegressor, output="sequence").fit(d["X"], d["y"]),
        ValueError,
        r"y\[1\] is not finite at step 1 \(NaN or infinity inside a sequence\); "
        r"every step needs a target: impute it, or cut the sequence",
    ),
    Case(
        "window-sequence-output-classifier-label-shape",
        lambda c: {"X": [np.ones(4), np.ones(3)],
                   "y": [np.zeros((4, 2)), np.zeros((3, 2))]},
        lambda d, c: tiny(RNNClassifier, output="sequence").fit(d["X"], d["y"]),
        ValueError,
        r"y\[0\] has shape \(4, 2\); a classifier takes one label per step",
    ),
    Case(
        "window-sequence-output-bad-value",
        lambda c: {"X": windows()[0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, output="steps").fit(d["X"], d["y"]),
        ValueError,
        r"'output' parameter of RNNRegressor must be a str among",
    ),
    Case(
        "window-ragged-predict-features",
        lambda c: {"X": [np.ones((5, 3)), np.ones((2, 3))]},
        lambda d, c: c.models.reg.predict(d["X"]),
        ValueError,
        r"the sequences of X have 3 features per time step, but RNNRegressor was "
        r"fitted with 1 \(input_size_\); pass sequences of shape \(T_i, 1\)",
    ),
    Case(
        "window-input-size-mismatch",
        lambda c: {"X": windows()[0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, input_size=3).fit(d["X"], d["y"]),
        ValueError,
        r"X has 8 feature\(s\) per row, which is not a multiple of input_size=3.*"
        r"Set input_size to the number of features per time step",
    ),
    Case(
        "window-regressor-text-target",
        lambda c: {"X": windows()[0], "y": np.where(windows()[1] > 0, "up", "down")},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        TypeError,
        r"y holds text \(e\.g\. '.*'\), not numbers; pass numeric targets \(for "
        r"class labels use RNNClassifier\)",
    ),
    Case(
        "window-regressor-huge-target",
        lambda c: {"X": windows()[0], "y": windows()[1] * 1e300},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"y has values too large in magnitude.*the limit is 1e\+300.*divide y by a "
        r"constant",
    ),
    Case(
        "window-regressor-tiny-target",
        lambda c: {"X": windows()[0], "y": windows()[1] * 1e-310},
        lambda d, c: tiny(RNNRegressor).fit(d["X"], d["y"]),
        ValueError,
        r"y is too small to scale.*below 1e-305.*multiply it by a constant",
    ),
    Case(
        "window-classifier-one-class",
        lambda c: {"X": windows()[0], "y": np.ones(40)},
        lambda d, c: tiny(RNNClassifier).fit(d["X"], d["y"]),
        ValueError,
        r"needs samples of at least 2 classes; got 1 class.*Check the labels",
    ),
    Case(
        "window-classifier-partial-fit-without-classes",
        lambda c: {"X": windows()[0], "y": windows()[1] > 0},
        lambda d, c: tiny(RNNClassifier).partial_fit(d["X"], d["y"]),
        ValueError,
        r"classes must be passed on the first call to partial_fit \(all labels",
    ),
    Case(
        "window-early-stopping-no-training-rows",
        lambda c: {"X": windows()[0][:2], "y": windows()[1][:2]},
        lambda d, c: tiny(RNNRegressor, early_stopping=True).fit(d["X"], d["y"]),
        ValueError,
        r"leaves none to train on\. Pass more windows, lower validation_fraction",
    ),
    Case(
        "window-param-out-of-range",
        lambda c: {"X": windows()[0], "y": windows()[1]},
        lambda d, c: tiny(RNNRegressor, momentum=1.5).fit(d["X"], d["y"]),
        ValueError,
        r"'momentum' parameter of RNNRegressor must be a float in the range "
        r"\[0\.0, 1\.0\]",
    ),
    Case(
        "window-predict-before-fit",
        lambda c: {"X": windows()[0]},
        lambda d, c: tiny(RNNClassifier).predict_proba(d["X"]),
        NotFittedError,
        NOT_FITTED,
    ),
    Case(
        "window-predict-feature-count",
        lambda c: {"X": windows(window=7)[0]},
        lambda d, c: c.models.reg.predict(d["X"]),
        ValueError,
        r"X has 7 features, but RNNRegressor is expecting 8 features as input: each "
        r"row must be one window of 8 step\(s\)",
    ),
    Case(
        "window-predict-3d-window-length",
        lambda c: {"X": np.zeros((5, 6, 1))},
        lambda d, c: c.models.clf.predict(d["X"]),
        ValueError,
        r"X is 3-D with windows of 6 steps, but RNNClassifier was fitted on windows "
        r"of 8 steps; pass windows of shape \(n_samples, 8, 1\)",
    ),
    Case(
        "window-predict-3d-features",
        lambda c: {"X": np.zeros((5, 4, 2))},
        lambda d, c: c.models.reg.predict(d["X"]),
        ValueError,
        r"X is 3-D with 2 features per time step, but RNNRegressor was fitted with "
        r"1.*pass windows of shape \(n_samples, 8, 1\)",
    ),
    # -------------------------------------------------------------- windowing
    Case(
        "make-windows-too-short",
        lambda c: {"s": series(5)},
        lambda d, c: make_windows(d["s"], window=5, horizon=2),
        ValueError,
        r"series has 5 rows \(time steps\) but one sample needs window \+ horizon = "
        r"5 \+ 2 = 7; pass a longer series or reduce window/horizon",
    ),
    Case(
        "make-windows-nan",
        lambda c: {"s": _nan_at(series(20), 4)},
        lambda d, c: make_windows(d["s"], window=3),
        ValueError,
        r"contains 1 NaN value\(s\) \(first in row 4\); a window cannot hold missing "
        r"values: drop or impute them first",
    ),
    Case(
        "make-windows-masked",
        lambda c: {"s": _masked_at(series(20), 4)},
        lambda d, c: make_windows(d["s"], window=3),
        ValueError,
        r"series is a masked array with 1 masked value\(s\) \(first in row 4\); a "
        r"window cannot hold a gap: fill the masked values first",
    ),
    Case(
        "make-windows-window-zero",
        lambda c: {"s": series(20)},
        lambda d, c: make_windows(d["s"], window=0),
        ValueError,
        r"window must be >= 1 \(a number of time steps\), got 0; pass a positive "
        r"integer",
    ),
    Case(
        "make-windows-window-float",
        lambda c: {"s": series(20)},
        lambda d, c: make_windows(d["s"], window=2.5),
        TypeError,
        r"window must be an integer number of time steps .* got 2\.5 of type float; "
        r"pass e\.g\. window=3",
    ),
    Case(
        "make-windows-unsorted",
        lambda c: {"s": hourly().iloc[::-1]},
        lambda d, c: make_windows(d["s"], window=3),
        ValueError,
        r"not sorted by its index .*; sort it first with series\.sort_index\(\)",
    ),
    Case(
        "make-windows-bool",
        lambda c: {"s": np.arange(20) % 3 == 0},
        lambda d, c: make_windows(d["s"], window=3),
        TypeError,
        r"series is boolean; cast it explicitly with \.astype\(float\)",
    ),
    Case(
        "window-transformer-too-short",
        lambda c: {"X": series(3)[:, None]},
        lambda d, c: WindowTransformer(window=5).fit_transform(d["X"]),
        ValueError,
        r"X has 3 row\(s\) .* but window=5 needs at least 5 rows .*; pass a longer "
        r"series or a smaller window",
    ),
    Case(
        "windows-from-long-too-short",
        lambda c: {"df": long_frame(False)},
        lambda d, c: windows_from_long(d["df"], window=50),
        ValueError,
        r"1 of 2 series have fewer than window \+ horizon = 51 rows: 'b' \(40 rows\);"
        r" drop them .*pass drop_short=True, or reduce window/horizon",
    ),
    Case(
        "windows-from-long-duplicates",
        lambda c: {"df": pd.concat([long_frame(False), long_frame(False).iloc[:1]])},
        lambda d, c: windows_from_long(d["df"], window=3),
        ValueError,
        r"series 'a' has duplicate time stamps .*; aggregate them first",
    ),
    Case(
        "windows-from-long-missing-column",
        lambda c: {"df": long_frame(False).drop(columns="ds")},
        lambda d, c: windows_from_long(d["df"], window=3),
        ValueError,
        r"df has no column\(s\) \['ds'\].*pass id_col, time_col, target_col",
    ),
    # --------------------------------------------------------------- datasets
    Case(
        "dataset-unknown-name",
        lambda c: {},
        lambda d, c: datasets.load_dataset("m5"),
        ValueError,
        r"unknown dataset 'm5'; available datasets: elec_demand",
    ),
    Case(
        "dataset-unknown-field",
        lambda c: {},
        lambda d, c: datasets.load_us_stocks(target="price"),
        ValueError,
        r"target='price' is not a field; choose one of \['open'",
    ),
    Case(
        "dataset-unknown-frequency",
        lambda c: {},
        lambda d, c: datasets.load_m3(frequency="weekly"),
        ValueError,
        r"frequency='weekly' is not in m3; choose one of",
    ),
    Case(
        "dataset-flag-not-bool",
        lambda c: {},
        lambda d, c: datasets.load_clemson_temperature(regularize="yes"),
        TypeError,
        r"regularize must be True or False, got 'yes'",
    ),
    Case(
        "dataset-file-corrupted",
        lambda c: {
            "dir": broken_data_dir(
                c.tmp_path, CO2, "\n".join(co2_lines()[:5] + ["1958-05-03,abc"]) + "\n"
            )
        },
        lambda d, c: (
            c.monkeypatch.setenv(datasets.DATA_DIR_ENV, str(d["dir"])),
            datasets.load_co2(),
        ),
        ValueError,
        r"dataset 'co2' could not be read from co2_mauna_loa_weekly\.csv .*could "
        r"not convert string to float: 'abc'.*restore the original",
    ),
    Case(
        "dataset-file-truncated",
        lambda c: {
            "dir": broken_data_dir(
                c.tmp_path, CO2, "\n".join(co2_lines()) + "\n1958-06-2"
            )
        },
        lambda d, c: (
            c.monkeypatch.setenv(datasets.DATA_DIR_ENV, str(d["dir"])),
            datasets.load_co2(),
        ),
        ValueError,
        r"dataset 'co2' could not be read.*damaged, truncated or edited: restore "
        r"the original",
    ),
    # ------------------------------------------------------------ model files
    Case(
        "model-file-truncated",
        lambda c: {"path": rewrite(c.models.file, c.tmp_path / "cut.npz",
                                   raw=lambda b: b[: len(b) // 2])},
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"cannot be read as a NumPy \.npz archive .*it may be truncated.*save the "
        r"fitted model again",
    ),
    Case(
        "model-file-empty",
        lambda c: {"path": rewrite(c.models.file, c.tmp_path / "empty.npz",
                                   raw=lambda b: b"")},
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"is empty \(0 bytes\).*save the fitted model again",
    ),
    Case(
        "model-file-byte-flipped",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "flip.npz",
                raw=lambda b: b[:200] + bytes([b[200] ^ 0xFF]) + b[201:],
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"cannot be read as a NumPy \.npz archive.*save the fitted model again",
    ),
    Case(
        "model-file-tampered-weights",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "nan.npz",
                arrays=lambda a: a.update(params_=np.full_like(a["params_"], np.nan)),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"array 'params_' holds \d+ non-finite value\(s\).*damaged or was edited: "
        r"save the fitted model again",
    ),
    Case(
        "model-file-tampered-shape",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "shape.npz",
                meta=lambda m: set_hidden_size(m, 8),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"array 'params_' has shape \(\d+,\) but the model's metadata implies "
        r"\(\d+,\).*save the fitted model again",
    ),
    Case(
        "model-file-huge-hidden-size",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "huge.npz",
                meta=lambda m: set_hidden_size(m, 10**9),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"hidden_size=1000000000 and num_layers=1 \(the file's parameters\) need "
        r"more than 1,000,000,000 weights, but array 'params_' holds \d+.*save the "
        r"fitted model again",
    ),
    Case(
        "model-file-hidden-size-disagrees",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "disagree.npz",
                meta=lambda m: m["params"].update(hidden_size=8),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"metadata field hidden_size_ is 4 but the parameter hidden_size is 8.*save "
        r"the fitted model again",
    ),
    Case(
        "model-file-auto-hidden-size-missing",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "auto.npz",
                meta=lambda m: (
                    m["params"].update(hidden_size="auto"),
                    m["attributes"].pop("hidden_size_"),
                ),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"metadata field hidden_size_ must be a positive integer where hidden_size "
        r"is 'auto', got None.*save the fitted model again",
    ),
    Case(
        "model-file-zero-scale",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "scale.npz",
                arrays=lambda a: a.update(
                    {"_scaler.y_scale": np.zeros_like(a["_scaler.y_scale"])}
                ),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"array '_scaler\.y_scale' holds 1 zero or negative value\(s\).*save the "
        r"fitted model again",
    ),
    Case(
        "model-file-negative-freq",
        lambda c: {
            "path": rewrite(
                c.models.pd_file,
                c.tmp_path / "freq.npz",
                meta=lambda m: m["attributes"]["schema_"].update(freq="-1h"),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"schema_\.freq '-1h' is not a positive step between rows.*save the fitted "
        r"model again",
    ),
    Case(
        "model-file-over-size-budget",
        lambda c: {},
        lambda d, c: tsrnn.load(c.models.file, max_bytes=100),
        ValueError,
        r"its arrays would take [\d,]+ bytes, more than the load budget "
        r"max_bytes=100; if you trust the file .* load it with a larger max_bytes",
    ),
    Case(
        "model-file-newer-version",
        lambda c: {
            "path": rewrite(
                c.models.file,
                c.tmp_path / "v2.npz",
                meta=lambda m: m.update(format_version=2),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"format version 2 is not supported \(this tsrnn .* reads version 1\); "
        r"upgrade tsrnn to read it",
    ),
    Case(
        "model-file-is-a-pickle",
        lambda c: {
            "path": rewrite(c.models.file, c.tmp_path / "model.pkl",
                            raw=lambda b: pickle.dumps(c.models.arr))
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"looks like a pickle .*tsrnn\.load never unpickles.*save models with "
        r"model\.save\(path\)",
    ),
    Case(
        "model-file-other-class",
        lambda c: {},
        lambda d, c: tsrnn.load(c.models.file, expected=RNNRegressor),
        ValueError,
        r"holds a RNNForecaster, not a RNNRegressor; load it as a RNNForecaster",
    ),
    Case(
        "model-file-calendar-bad-holidays",
        lambda c: {
            "path": rewrite(
                trading_model_file(c.tmp_path),
                c.tmp_path / "hol.npz",
                meta=lambda m: m["params"]["freq"]["__freq__"].update(
                    holidays=["2024-13-45"]
                ),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"invalid estimator parameters.*holidays must be ISO dates.*save the "
        r"fitted model again",
    ),
    Case(
        "model-file-calendar-bad-weekmask",
        lambda c: {
            "path": rewrite(
                trading_model_file(c.tmp_path),
                c.tmp_path / "week.npz",
                meta=lambda m: m["attributes"]["schema_"]["freq"].update(
                    weekmask="Mon Funday"
                ),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"weekmask 'Mon Funday' must name distinct working days.*save the fitted "
        r"model again",
    ),
    Case(
        "model-file-calendar-negative-step",
        lambda c: {
            "path": rewrite(
                trading_model_file(c.tmp_path),
                c.tmp_path / "neg.npz",
                meta=lambda m: m["params"]["freq"]["__freq__"].update(n=-1),
            )
        },
        lambda d, c: tsrnn.load(d["path"]),
        ValueError,
        r"CustomBusinessDay step n=-1 must be an int >= 1.*save the fitted model",
    ),
    Case(
        "model-file-missing",
        lambda c: {"path": c.tmp_path / "forecaster"},
        lambda d, c: tsrnn.load(d["path"]),
        FileNotFoundError,
        r"no model file: looked for '.*forecaster' nor '.*forecaster\.npz'; check "
        r"the path",
    ),
    Case(
        "model-save-into-missing-directory",
        lambda c: {"path": c.tmp_path / "no-such-dir" / "m.npz"},
        lambda d, c: c.models.arr.save(d["path"]),
        FileNotFoundError,
        r"the directory '.*no-such-dir' does not exist; create it first \(nothing "
        r"was written\)",
    ),
    Case(
        "forecaster-predict-after-set-params-strategy",
        lambda c: {},
        lambda d, c: copy.deepcopy(c.models.arr).set_params(
            strategy="recursive"
        ).predict(),
        ValueError,
        r"parameters changed since fit: strategy='recursive' \(fitted with "
        r"'auto'\).*Call fit to refit with them, or set them back with "
        r"set_params\(strategy='auto'\)",
    ),
    Case(
        "model-save-after-set-params-hidden-size",
        lambda c: {"path": c.tmp_path / "changed.npz"},
        lambda d, c: copy.deepcopy(c.models.reg).set_params(hidden_size=8).save(
            d["path"]
        ),
        ValueError,
        r"parameters changed since fit: hidden_size=8 \(fitted with 4\); "
        r"RNNRegressor\.save uses the fitted model.*Call fit to refit",
    ),
    Case(
        "model-save-name-needs-pickle",
        lambda c: {"y": hourly().rename(("load", frozenset({1})))},
        lambda d, c: fit_quietly(tiny(RNNForecaster), d["y"]).save(
            c.tmp_path / "m.npz"
        ),
        ValueError,
        r"the series format of this model .*cannot be stored without pickle "
        r"\(.*frozenset.*\); use str, int, float or Timestamp column names",
    ),
    Case(
        "model-save-before-fit",
        lambda c: {"path": c.tmp_path / "never.npz"},
        lambda d, c: tiny(RNNForecaster).save(d["path"]),
        NotFittedError,
        NOT_FITTED,
    ),
    # ------------------------------------- forecaster likelihood / quantile heads
    Case(
        "forecaster-poisson-negative-values",
        lambda c: {"y": np.abs(np.round(10 * series())) - 3.0},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="poisson", scaler=None), d["y"]
        ),
        ValueError,
        r"loss='poisson' models counts, but y holds negative values \(smallest "
        r"-3\); use loss='normal' or 'student_t' for real-valued data",
    ),
    Case(
        "forecaster-negbin-non-integer-values",
        lambda c: {"y": np.abs(series()) + 0.5},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="negative_binomial", scaler=None), d["y"]
        ),
        ValueError,
        r"models counts, but y holds non-integer values .*; round the counts",
    ),
    Case(
        "forecaster-poisson-with-scaler",
        lambda c: {"y": np.abs(np.round(10 * series()))},
        lambda d, c: fit_quietly(tiny(RNNForecaster, loss="poisson"), d["y"]),
        ValueError,
        r"loss='poisson' models counts: a scaler would centre them "
        r"\(scaler='standard'\); set scaler=None",
    ),
    Case(
        "forecaster-poisson-with-differencing",
        lambda c: {"y": np.abs(np.round(10 * series()))},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="poisson", scaler=None, differencing=True),
            d["y"],
        ),
        ValueError,
        r"changes of counts can be negative; set differencing=False",
    ),
    Case(
        "forecaster-quantiles-out-of-range",
        lambda c: {"y": series()},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="quantile", quantiles=[0.0, 0.5]), d["y"]
        ),
        ValueError,
        r"quantiles must be levels strictly between 0 and 1, got \[0\.0, 0\.5\]; "
        r"e\.g\. quantiles=\(0\.1, 0\.5, 0\.9\)",
    ),
    Case(
        "forecaster-quantiles-repeated",
        lambda c: {"y": series()},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="quantile", quantiles=[0.1, 0.1, 0.9]), d["y"]
        ),
        ValueError,
        r"quantiles has repeated levels",
    ),
    Case(
        "forecaster-quantiles-without-quantile-loss",
        lambda c: {"y": series()},
        lambda d, c: fit_quietly(
            tiny(RNNForecaster, loss="normal", quantiles=[0.1, 0.9]), d["y"]
        ),
        ValueError,
        r"quantiles is for loss='quantile', not loss='normal'; set loss='quantile' "
        r"or drop quantiles",
    ),
    Case(
        "forecaster-sample-point-head",
        lambda c: {},
        lambda d, c: c.models.arr.sample(10),
        ValueError,
        r"sample needs a likelihood head \(loss='normal', 'student_t', 'poisson' "
        r"or 'negative_binomial'\) or a quantile head \(loss='quantile'\); this "
        r"model has loss='absolute_error'",
    ),
    Case(
        "forecaster-quantiles-point-head",
        lambda c: {},
        lambda d, c: c.models.arr.predict_quantiles([0.1, 0.9]),
        ValueError,
        r"loss='absolute_error' gives point forecasts only; fit with .*'quantile' "
        r"for quantiles",
    ),
    Case(
        "forecaster-quantiles-level-out-of-range",
        lambda c: {},
        lambda d, c: c.models.arr.predict_quantiles([0.5, 95]),
        ValueError,
        r"quantiles must be levels strictly between 0 and 1, got \[0\.5, 95\]",
    ),
    Case(
        "forecaster-interval-method-not-offered",
        lambda c: {},
        lambda d, c: c.models.arr.predict_interval(method="samples"),
        ValueError,
        r"RNNForecaster gives intervals by method 'conformal' \(or 'auto'\), got "
        r"'samples'",
    ),
    Case(
        "forecaster-sample-negative-temperature",
        lambda c: {"y": series()},
        lambda d, c: fit_quietly(tiny(RNNForecaster, loss="normal"), d["y"]).sample(
            5, temperature=-1.0
        ),
        ValueError,
        r"temperature must be a finite number >= 0, got -1\.0 \(1 draws from the "
        r"fitted distribution, 0 the greedy path\)",
    ),
    Case(
        "forecaster-sample-zero-paths",
        lambda c: {"y": series()},
        lambda d, c: fit_quietly(tiny(RNNForecaster, loss="normal"), d["y"]).sample(
            0
        ),
        ValueError,
        r"n_paths must be a positive int, got 0",
    ),
]


# ------------------------------------------------------------- the comparisons
def assert_same(before: Any, after: Any, where: str) -> None:
    """``after`` is exactly ``before`` (values, NaN, dtypes, index, names)."""
    assert type(after) is type(before), where
    if isinstance(before, np.ma.MaskedArray):
        assert np.array_equal(np.ma.getmaskarray(after), np.ma.getmaskarray(before))
        assert_same(before.data, after.data, where + ".data")
        return
    if isinstance(before, np.ndarray):
        assert after.shape == before.shape and after.dtype == before.dtype, where
        if before.dtype.kind in "fc":
            assert np.array_equal(after, before, equal_nan=True), where
        elif before.dtype == object:
            assert pd.Series(after.ravel()).equals(pd.Series(before.ravel())), where
        else:
            assert np.array_equal(after, before), where
    elif isinstance(before, (pd.Series, pd.DataFrame)):
        assert after.equals(before), where
        assert after.shape == before.shape, where
        if isinstance(before, pd.Series):
            assert after.dtype == before.dtype and after.name == before.name, where
        else:
            assert after.dtypes.equals(before.dtypes), where
            assert after.columns.equals(before.columns), where
        assert_same(before.index, after.index, where + ".index")
    elif isinstance(before, pd.Index):
        assert after.equals(before) and after.dtype == before.dtype, where
        assert after.names == before.names, where
        assert getattr(after, "freq", None) == getattr(before, "freq", None), where
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), where
        for k in before:
            assert_same(before[k], after[k], f"{where}[{k!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(after) == len(before), where
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            assert_same(b, a, f"{where}[{i}]")
    elif isinstance(before, pathlib.Path):
        assert after == before, where
    else:
        assert after == before, where


def snapshot(inputs: dict) -> dict:
    """Deep copies of the inputs, plus the bytes of every file among them."""
    snap = copy.deepcopy(inputs)
    files = {
        k: v.read_bytes() for k, v in inputs.items()
        if isinstance(v, pathlib.Path) and v.is_file()
    }
    return {"values": snap, "files": files}


def assert_models_unchanged(before: dict, models) -> None:
    for name, fp in before.items():
        now = fingerprint(getattr(models, name))
        for key, value in fp.items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(now[key], value, equal_nan=True), (name, key)
            else:
                assert now[key] == value, (name, key)


MODEL_NAMES = ("arr", "arr_x", "pd", "long", "reg", "clf")


def test_catalogue_is_large_and_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, models, tmp_path, monkeypatch):
    ctx = SimpleNamespace(models=models, tmp_path=tmp_path, monkeypatch=monkeypatch)
    inputs = case.make(ctx)
    before = snapshot(inputs)
    fitted = {name: fingerprint(getattr(models, name)) for name in MODEL_NAMES}
    with pytest.raises(case.exc, match=case.match):
        case.call(inputs, ctx)
    # nothing is lost: the user's data, files and fitted models are untouched
    assert_same(before["values"], inputs, "inputs")
    for key, data in before["files"].items():
        assert inputs[key].read_bytes() == data, key
    assert_models_unchanged(fitted, models)


def test_series_shorter_than_bptt_length_is_trained_as_one_window():
    # not an error: a short series is one truncated-BPTT window (full BPTT); the
    # shortest accepted training part is horizon + 1 rows (see the catalogue)
    y = series(10)
    before = y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = tiny(RNNForecaster, horizon=3, bptt_length=32).fit(y)
    assert np.isfinite(model.predict()).all()
    np.testing.assert_array_equal(y, before)
    with pytest.raises(ValueError, match=r"horizon=3 needs at least 4"):
        tiny(RNNForecaster, horizon=3).fit(y[:3])
