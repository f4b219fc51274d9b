"""Holiday features (issue 13 item 5): indicators from the holidays package or dates."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.data.calendar import calendar_features, holiday_features

holidays = pytest.importorskip("holidays")


def test_indicators_from_a_country_code_and_from_dates():
    days = pd.date_range("2014-12-23", periods=6, freq="D")
    feats = holiday_features(days, "AU-VIC")
    # Dec 25 and 26 are holidays; Dec 24 and 27 are next to one
    np.testing.assert_array_equal(feats[:, 0], [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(feats[:, 1], [0, 1, 0, 0, 1, 0])
    own = holiday_features(days, ["2014-12-25"])
    np.testing.assert_array_equal(own[:, 0], [0, 0, 1, 0, 0, 0])
    half_hours = pd.date_range("2014-12-25 23:00", periods=4, freq="30min")
    np.testing.assert_array_equal(holiday_features(half_hours, "AU")[:, 0], [1, 1, 1, 1])
    base = calendar_features(days, "D")
    assert calendar_features(days, "D", "AU").shape[1] == base.shape[1] + 2


def _series():
    idx = pd.date_range("2023-11-01", periods=24 * 75, freq="h")
    y = np.sin(2 * np.pi * np.arange(len(idx)) / 24)
    y = y - 2.0 * idx.normalize().isin(pd.to_datetime(["2023-12-25", "2023-12-26"]))
    return pd.Series(y, index=idx, name="load")


def test_forecaster_reads_holidays_through_fit_predict_update_and_save(tmp_path):
    y = _series()
    model = RNNForecaster(horizon=24, hidden_size=8, max_iter=2, holidays="AU",
                          random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(y[:-48])
    assert model._layout.holidays == "AU"
    assert model._layout.n_calendar == calendar_features(y.index[:1], "h", "AU").shape[1]
    first = model.predict()
    model.update(y[-48:-24])
    path = os.path.join(tmp_path, "m.npz")
    model.save(path)
    back = tsrnn.load(path)
    pd.testing.assert_series_equal(back.predict(), model.predict())
    assert not first.equals(model.predict())
    dated = RNNForecaster(horizon=24, hidden_size=8, max_iter=1,
                          holidays=["2023-12-25", "2023-12-26"], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dated.fit(y[:-48])
    assert dated._layout.holidays == ("2023-12-25", "2023-12-26")
    dated.save(os.path.join(tmp_path, "d.npz"))
    pd.testing.assert_series_equal(
        tsrnn.load(os.path.join(tmp_path, "d.npz")).predict(), dated.predict()
    )


@pytest.mark.parametrize(
    "kwargs,y,match",
    [
        (dict(holidays="XX"), None, "country code of the holidays package"),
        (dict(holidays=["not a date"]), None, "list of dates"),
        (dict(holidays="AU", calendar_features=False), None, "calendar_features=True"),
        (dict(holidays="AU"), np.arange(50.0), "calendar_features=True"),
    ],
)
def test_bad_holiday_settings(kwargs, y, match):
    data = _series()[:200] if y is None else y
    with pytest.raises(ValueError, match=match):
        RNNForecaster(horizon=2, max_iter=1, **kwargs).fit(data)
