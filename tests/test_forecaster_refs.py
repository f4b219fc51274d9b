"""RNNForecaster's deseasonalisation and statistical references (issue 13, item 3).

The deseasonalised forecaster must be exactly the plain forecaster fitted on the
series divided by its seasonal indices, with forecasts multiplied back at the
right phase, through predict, update and save/load.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.smoothing import seasonal_indices, seasonality_test

M = 12


def monthly(n=200, seed=0, positive=True):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = (100 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / M)) + rng.normal(size=n)
    if not positive:
        y = y - 150.0
    return pd.Series(y, index=pd.date_range("2000-01", periods=n, freq="MS"))


def small(**kw):
    base = dict(
        hidden_size=4, horizon=6, max_iter=2, random_state=0, differencing=True
    )
    return RNNForecaster(**{**base, **kw})


def fit_quiet(model, *a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*a)


@pytest.mark.parametrize("positive", [True, False])
def test_deseasonalized_is_the_plain_model_on_the_adjusted_series(positive):
    y = monthly(positive=positive)
    train, new = y[:180], y[180:190]
    n_train = int(len(train) * 0.9)  # validation_fraction=0.1: indices from these
    auto = fit_quiet(small(), train)
    assert auto.deseasonalized_.tolist() == [[True]]
    assert seasonality_test(train.to_numpy()[:n_train], M)
    idx = seasonal_indices(train.to_numpy()[:n_train], M, multiplicative=positive)
    np.testing.assert_allclose(auto._season.indices[0, :, 0], idx)

    def adjust(v, first):
        ph = (np.arange(len(v)) + first) % M
        return v / idx[ph] if positive else v - idx[ph]

    def readjust(v, first):
        ph = (np.arange(len(v)) + first) % M
        return v * idx[ph] if positive else v + idx[ph]

    plain = fit_quiet(small(deseasonalize=None), adjust(train, 0))
    assert not plain.deseasonalized_.any()
    np.testing.assert_allclose(
        auto.predict().to_numpy(), readjust(plain.predict().to_numpy(), 180), rtol=1e-9
    )
    auto.update(new)
    plain.update(adjust(new, 180))
    np.testing.assert_allclose(
        auto.predict().to_numpy(), readjust(plain.predict().to_numpy(), 190), rtol=1e-9
    )
    # the intervals are centred on the re-seasonalised forecast
    iv = auto.predict_interval(coverage=0.8)
    assert (iv["lower"] <= auto.predict()).all() and (auto.predict() <= iv["upper"]).all()


def test_save_load_keeps_the_phase(tmp_path):
    y = monthly()
    model = fit_quiet(small(), y[:181])  # the phase is not 0 at the end
    model.save(tmp_path / "m.npz")
    loaded = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.deseasonalized_, model.deseasonalized_)
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    model.update(y[181:186])
    loaded.update(y[181:186])
    np.testing.assert_array_equal(loaded.predict(), model.predict())


def test_no_seasonality_changes_nothing():
    rng = np.random.default_rng(3)
    y = pd.Series(
        10 + rng.normal(size=150), index=pd.date_range("2000-01", periods=150, freq="MS")
    )
    auto = fit_quiet(small(), y)
    off = fit_quiet(small(deseasonalize=None), y)
    assert not auto.deseasonalized_.any()
    np.testing.assert_array_equal(auto.predict(), off.predict())


def test_per_series_in_a_long_frame():
    seas = monthly(150, seed=1)
    rng = np.random.default_rng(4)
    flat = 50 + rng.normal(size=150)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 150),
            "ds": np.tile(seas.index, 2),
            "y": np.r_[seas.to_numpy(), flat],
        }
    )
    model = fit_quiet(small(), df)
    assert model.deseasonalized_[:, 0].tolist() == [True, False]
    assert np.isfinite(model.predict()["y"]).all()
