"""Inputs users bring from other libraries (issue 16 item 6).

A list or dict of pandas Series (how Darts and sktime pass many series) is read
as the long frame it stands for; a list of arrays gets a message naming the
supported ways; a parameter borrowed from torch/Keras/Darts gets a TypeError
that says why it does not exist here and what to use instead.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tsrnn import (
    LinearARForecaster,
    NaiveForecaster,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
)


def _series(n, start="2021-01-01", name=None, shift=0.0):
    t = np.arange(n, dtype=float)
    return pd.Series(
        np.sin(t / 3) + shift, index=pd.date_range(start, periods=n, freq="D"), name=name
    )


def _long(series, ids):
    return pd.concat(
        [
            pd.DataFrame({"unique_id": i, "ds": s.index, "y": s.to_numpy()})
            for i, s in zip(ids, series, strict=True)
        ],
        ignore_index=True,
    )


def test_list_of_series_equals_the_long_frame():
    ys = [_series(40), _series(30, shift=2.0)]
    a = LinearARForecaster(lags=3, horizon=4).fit(ys).predict()
    b = LinearARForecaster(lags=3, horizon=4).fit(_long(ys, [0, 1])).predict()
    pd.testing.assert_frame_equal(a, b)


def test_dict_keys_and_series_names_become_ids():
    ys = {"north": _series(40), "south": _series(30, shift=2.0)}
    out = NaiveForecaster(horizon=2).fit(ys).predict()
    assert list(out["unique_id"].unique()) == ["north", "south"]
    named = [_series(40, name="x"), _series(30, name="y")]
    out = NaiveForecaster(horizon=2).fit(named).predict()
    assert list(out["unique_id"].unique()) == ["x", "y"]


def test_update_with_an_unnamed_list_continues_the_series_in_order():
    ys = [_series(40), _series(30, shift=2.0)]
    model = NaiveForecaster(horizon=1).fit(ys)
    model.update([_series(1, "2021-02-10") * 0 + 5.0, _series(1, "2021-01-31") * 0 + 7.0])
    np.testing.assert_array_equal(model.predict()["y"].to_numpy(), [5.0, 7.0])


def test_covariates_as_a_list_and_future_as_a_dict():
    ys = [_series(40), _series(30, shift=2.0)]
    X = [
        pd.DataFrame({"t": np.arange(len(s), dtype=float)}, index=s.index) for s in ys
    ]
    model = LinearARForecaster(lags=2, horizon=2).fit(ys, X)
    future = {
        0: pd.DataFrame({"t": [40.0, 41.0]}, index=pd.date_range("2021-02-10", periods=2)),
        1: pd.DataFrame({"t": [30.0, 31.0]}, index=pd.date_range("2021-01-31", periods=2)),
    }
    out = model.predict(X=future)
    assert len(out) == 4 and np.isfinite(out["y"]).all()
    Xl = _long(ys, [0, 1]).drop(columns="y").assign(t=np.r_[np.arange(40.0), np.arange(30.0)])
    ref = LinearARForecaster(lags=2, horizon=2).fit(_long(ys, [0, 1]), Xl)
    Xf = pd.concat(
        [f.reset_index(names="ds").assign(unique_id=i) for i, f in future.items()]
    )[["unique_id", "ds", "t"]]
    pd.testing.assert_frame_equal(out, ref.predict(X=Xf))


def test_rnn_forecaster_fits_a_list_of_series():
    ys = [_series(40), _series(30, shift=2.0)]
    model = RNNForecaster(horizon=2, hidden_size=4, max_iter=2, random_state=0)
    with pytest.warns(Warning):
        model.fit(ys)
    assert model.predict().shape == (4, 3)


def test_the_inputs_are_not_modified():
    ys = [_series(40), _series(30, shift=2.0)]
    before = [s.copy() for s in ys]
    NaiveForecaster().fit(ys)
    for a, b in zip(ys, before, strict=True):
        pd.testing.assert_series_equal(a, b)


@pytest.mark.parametrize(
    "y,match",
    [
        ([np.arange(5.0), np.arange(7.0)], "list or dict of pandas Series"),
        ([_series(10), np.arange(7.0)], "long-format DataFrame"),
    ],
)
def test_a_list_of_arrays_names_the_supported_ways(y, match):
    with pytest.raises(TypeError, match=match):
        NaiveForecaster().fit(y)


def test_covariates_must_match_the_collection():
    ys = {"a": _series(20), "b": _series(20)}
    with pytest.raises(TypeError, match="dict of their covariates"):
        LinearARForecaster(lags=2).fit(ys, [pd.DataFrame({"t": np.zeros(20)})] * 2)
    with pytest.raises(ValueError, match="keys"):
        LinearARForecaster(lags=2).fit(
            ys, {"a": pd.DataFrame({"t": np.zeros(20)}, index=ys["a"].index)}
        )


@pytest.mark.parametrize(
    "cls,kwargs,match",
    [
        (RNNForecaster, dict(bidirectional=True), "would read the future"),
        (RNNForecaster, dict(lookback=24), "state carries the whole past"),
        (RNNForecaster, dict(epochs=5), "max_iter"),
        (RNNRegressor, dict(lr=0.1), "learning_rate_init"),
        (RNNClassifier, dict(seed=0), "random_state"),
    ],
)
def test_borrowed_parameters_are_explained(cls, kwargs, match):
    with pytest.raises(TypeError, match=match):
        cls(**kwargs)


def test_the_refusal_check_keeps_sklearn_protocols():
    model = RNNForecaster(hidden_size=3)
    for other in (clone(model), pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert other.get_params() == model.get_params()
    with pytest.raises(TypeError, match="unexpected keyword"):
        RNNForecaster(not_a_parameter=1)
