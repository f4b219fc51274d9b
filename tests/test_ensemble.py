"""EnsembleForecaster: members differ by seed or configuration, combined step by step."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import EnsembleForecaster, LinearARForecaster, RNNForecaster


def _y(n=160):
    t = np.arange(n, dtype=float)
    return pd.Series(
        np.sin(t / 3) + 0.1 * np.random.default_rng(0).normal(size=n),
        index=pd.date_range("2023-01-01", periods=n, freq="h"),
        name="y",
    )


def _tiny(**kw):
    return RNNForecaster(horizon=4, hidden_size=6, max_iter=3, **kw)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_median_of_seeded_members_equals_median_of_separate_fits():
    y = _y()
    ens = EnsembleForecaster(_tiny(), n_members=3, random_state=5).fit(y)
    separate = [
        _tiny(random_state=s).fit(y).predict().to_numpy() for s in ens.seeds_
    ]
    np.testing.assert_allclose(ens.predict().to_numpy(), np.median(separate, axis=0))
    assert len(set(ens.seeds_)) == 3
    mean = EnsembleForecaster(_tiny(), n_members=3, combine="mean", random_state=5)
    np.testing.assert_allclose(
        mean.fit(y).predict().to_numpy(), np.mean(separate, axis=0)
    )


def test_parallel_fit_is_identical_to_serial():
    y = _y()
    a = EnsembleForecaster(_tiny(), n_members=2, random_state=1).fit(y).predict()
    b = EnsembleForecaster(_tiny(), n_members=2, random_state=1, n_jobs=2).fit(y).predict()
    pd.testing.assert_series_equal(a, b)


def test_configuration_members_and_update():
    y = _y()
    ens = EnsembleForecaster(
        LinearARForecaster(lags=6, horizon=3), members=[{"alpha": 1e-3}, {"lags": 12}]
    ).fit(y[:-5])
    assert [m.lags for m in ens.estimators_] == [6, 12]
    ens.update(y[-5:])
    ref = [
        LinearARForecaster(lags=6, alpha=1e-3, horizon=3).fit(y[:-5]).update(y[-5:]),
        LinearARForecaster(lags=12, horizon=3).fit(y[:-5]).update(y[-5:]),
    ]
    expected = np.median([m.predict().to_numpy() for m in ref], axis=0)
    np.testing.assert_allclose(ens.predict().to_numpy(), expected)
    assert ens.predict().index[0] == y.index[-1] + pd.Timedelta(hours=1)


def test_intervals_combine_the_members_bounds_and_backtest_runs():
    y = _y()
    ens = EnsembleForecaster(LinearARForecaster(lags=6, horizon=3), members=[{}, {"lags": 3}])
    ens.fit(y)
    bands = ens.predict_interval(level=[80, 95])
    assert list(bands.columns) == ["y-lo-80", "y-hi-80", "y-lo-95", "y-hi-95"]
    lo = [m.predict_interval(level=80)["y-lo-80"].to_numpy() for m in ens.estimators_]
    np.testing.assert_allclose(bands["y-lo-80"], np.median(lo, axis=0))
    scores = tsrnn.backtest(ens, y, n_origins=3)
    assert len(scores) == 3 and np.isfinite(scores["mae"]).all()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(n_members=0), "n_members must be a positive int"),
        (dict(members=[]), "non-empty list of parameter dicts"),
        (dict(members=[{"no_such": 1}]), r"sets \['no_such'\]"),
        (dict(combine="mode"), "combine must be 'median' or 'mean'"),
    ],
)
def test_bad_ensemble_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EnsembleForecaster(LinearARForecaster(), **kwargs).fit(_y(40))
