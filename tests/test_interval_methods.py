"""One interval API: ``method=`` in backtest and every forecaster's intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tsrnn import EnsembleForecaster, LinearARForecaster
from tsrnn.backtest import backtest
from tsrnn.baselines import MarkovChainForecaster, NaiveForecaster
from tsrnn.estimators.per_series import PerSeriesForecaster


def _walk(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=n)) + 50.0


def _last_origin(est, y, h):
    """Backtest's bounds at its one origin, and the same model fitted by hand."""
    _, fc = backtest(est, y, horizon=h, n_origins=1, coverage=0.8,
                     return_forecasts=True)
    model = clone(est).fit(y[:-h])
    return fc, model


@pytest.mark.parametrize("make", [
    lambda: MarkovChainForecaster(horizon=3),
    lambda: EnsembleForecaster(LinearARForecaster(lags=8, horizon=3),
                               members=[{"alpha": 1e-3}, {"alpha": 1.0}]),
])
def test_backtest_bounds_are_predict_interval(make):
    """Estimators with their own predict_interval give the same bounds in backtests.

    (A Markov chain's backtest asked for conformal residuals it never has.)
    """
    y = _walk()
    est = make()
    fc, model = _last_origin(est, y, 3)
    lo, hi = model.predict_interval(level=80)
    name = type(est).__name__
    np.testing.assert_allclose(fc[f"{name}-lo-80"], lo, rtol=1e-12)
    np.testing.assert_allclose(fc[f"{name}-hi-80"], hi, rtol=1e-12)


def test_backtest_method_is_passed_and_checked():
    y = _walk()
    scores = backtest(NaiveForecaster(), y, horizon=3, n_origins=2, coverage=0.8,
                      method="conformal")
    auto = backtest(NaiveForecaster(), y, horizon=3, n_origins=2, coverage=0.8)
    np.testing.assert_allclose(scores["winkler"], auto["winkler"])
    with pytest.raises(ValueError, match=r"gives intervals by method 'conformal'"):
        backtest(NaiveForecaster(), y, horizon=3, coverage=0.8, method="samples")
    with pytest.raises(ValueError, match=r"give level= too"):
        backtest(NaiveForecaster(), y, horizon=3, method="conformal")
    with pytest.raises(ValueError, match=r"method must be one of"):
        backtest(NaiveForecaster(), y, horizon=3, coverage=0.8, method="bands")
    with pytest.raises(ValueError, match=r"'distribution'"):
        backtest(MarkovChainForecaster(horizon=3), y, coverage=0.8,
                 method="conformal")


def test_per_series_takes_level_and_method():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "unique_id": np.repeat(["a", "b"], 120),
        "ds": np.tile(np.arange(120), 2),
        "y": np.cumsum(rng.normal(size=240)),
    })
    ps = PerSeriesForecaster(NaiveForecaster(horizon=2)).fit(df)
    out = ps.predict_interval(level=[80, 95], method="conformal")
    assert {"y-lo-80", "y-hi-95"} <= set(out.columns) and len(out) == 4
    assert (out["y-lo-95"] <= out["y-lo-80"]).all()
    np.testing.assert_allclose(ps.predict_interval()["y-lo-90"],
                               ps.predict_interval(coverage=0.9)["y-lo-90"])
    with pytest.raises(ValueError, match=r"gives intervals by method 'conformal'"):
        ps.predict_interval(method="quantile")


def test_backtest_method_of_a_head():
    """backtest(method=...) reaches the head; a method it lacks is refused unfitted."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from tsrnn import RNNForecaster

    y = _walk(n=200)
    est = RNNForecaster(horizon=3, hidden_size=8, max_iter=3, loss="normal",
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, fc = backtest(est, y, n_origins=1, coverage=0.8, method="conformal",
                         return_forecasts=True)
        model = clone(est).fit(y[:-3])
    lo, hi = model.predict_interval(level=80, method="conformal")
    np.testing.assert_allclose(fc["RNNForecaster-lo-80"], lo, rtol=1e-12)
    np.testing.assert_allclose(fc["RNNForecaster-hi-80"], hi, rtol=1e-12)
    dist_lo, _ = model.predict_interval(level=80, method="distribution")
    assert not np.allclose(dist_lo, lo)  # the two methods differ: the choice mattered
    q = RNNForecaster(horizon=3, loss="quantile", quantiles=[0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"'quantile' or 'samples' or 'conformal'"):
        backtest(q, y, coverage=0.8, method="distribution")
