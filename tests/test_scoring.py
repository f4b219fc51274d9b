"""Model selection over forecasters: ``GridSearchCV`` / ``cross_validate`` scores.

scikit-learn's string scorers compare ``predict(X_test)`` with ``y_test``; a
forecaster has one series and forecasts what follows it, so scoring must follow
the forecasting protocol: per ``TimeSeriesSplit`` split, fit on the training
rows, then walk the test rows (forecast ``horizon`` steps, compare, ``update``,
repeat). The reference here is that walk written out with the public
``predict`` / ``update`` and :mod:`tsrnn.metrics`, for the default score
(``-MAE``) and for :func:`tsrnn.metrics.make_forecast_scorer`.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_validate

from tsrnn import RNNForecaster, metrics
from tsrnn.baselines import SeasonalNaiveForecaster
from tsrnn.metrics import make_forecast_scorer

H = 3
GRID = {"hidden_size": [4, 6]}
CV = TimeSeriesSplit(n_splits=3)


def daily(n=150, seed=0):
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.Series(np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n), index)


def base():
    return RNNForecaster(hidden_size=4, max_iter=2, horizon=H, random_state=0)


def walked(model, y_test, error):
    """The forecasting protocol written out: forecast, compare, update, repeat."""
    truths, preds = [], []
    for o in range(0, len(y_test), H):
        chunk = y_test.iloc[o : o + H]
        truths.append(chunk.to_numpy())
        preds.append(model.predict(horizon=len(chunk)).to_numpy())
        model.update(chunk)
    return -error(np.concatenate(truths), np.concatenate(preds))


def reference_scores(y, params, error):
    out = []
    for train, test in CV.split(y):
        model = clone(base()).set_params(**params).fit(y.iloc[train])
        out.append(walked(model, y.iloc[test], error))
    return np.array(out)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize(
    "scoring, error",
    [
        (None, metrics.mae),  # the forecaster's own score: -MAE
        (make_forecast_scorer("neg_mean_absolute_error"), metrics.mae),
        (make_forecast_scorer("rmse"), metrics.rmse),
    ],
    ids=["default", "neg_mean_absolute_error", "rmse"],
)
def test_grid_search_scores_follow_the_forecasting_protocol(scoring, error):
    y = daily()
    search = GridSearchCV(base(), GRID, cv=CV, scoring=scoring, error_score="raise")
    search.fit(y)
    for k, params in enumerate(search.cv_results_["params"]):
        got = [search.cv_results_[f"split{i}_test_score"][k] for i in range(3)]
        np.testing.assert_allclose(got, reference_scores(y, params, error), rtol=1e-12)
    assert np.isfinite(search.best_score_)
    assert search.best_estimator_.predict().index[0] == y.index[-1] + y.index.freq


def test_cross_validate_with_several_forecast_scorers_and_covariates():
    y = daily()
    X = pd.DataFrame({"dow": y.index.day_of_week.to_numpy(float)}, index=y.index)
    scoring = {"mae": make_forecast_scorer("mae"), "smape": metrics.smape}
    scoring["smape"] = make_forecast_scorer(metrics.smape)  # a callable error
    res = cross_validate(base(), y, X, cv=CV, scoring=scoring, error_score="raise")
    for i, (train, test) in enumerate(CV.split(y)):
        model = clone(base()).fit(y.iloc[train], X.iloc[train])
        truths, preds = [], []
        for o in range(0, len(test), H):
            rows = test[o : o + H]
            truths.append(y.iloc[rows].to_numpy())
            preds.append(model.predict(len(rows), X.iloc[rows]).to_numpy())
            model.update(y.iloc[rows], X.iloc[rows])
        t, p = np.concatenate(truths), np.concatenate(preds)
        assert res["test_mae"][i] == pytest.approx(-metrics.mae(t, p), rel=1e-12)
        assert res["test_smape"][i] == pytest.approx(-metrics.smape(t, p), rel=1e-12)


def test_string_scoring_reaching_predict_names_the_supported_way():
    # with covariates, scikit-learn's string scorer calls predict(y_test):
    # a clear error instead of a NaN score
    y = daily(60)
    X = pd.DataFrame({"c": np.ones(60)}, index=y.index)
    search = GridSearchCV(
        base(), {"hidden_size": [4]}, cv=TimeSeriesSplit(2),
        scoring="neg_mean_absolute_error", error_score="raise",
    )  # fmt: skip
    with pytest.raises(TypeError, match=r"make_forecast_scorer\('neg_mean_absolute"):
        search.fit(y, X)


def test_score_ignores_missing_truth_and_leaves_the_model_alone():
    y = daily(80)
    model = base().fit(y[:60])
    before = model.predict()
    test = y[60:].copy()
    test.iloc[[2, 7]] = np.nan
    want = walked(clone(base()).fit(y[:60]), test, metrics.mae)
    assert model.score(test) == pytest.approx(want, rel=1e-12)
    assert model.score(test, metric=metrics.mae) == pytest.approx(want, rel=1e-12)
    assert model.predict().equals(before)


def test_forecast_scorer_pickles_and_scores_baselines():
    scorer = pickle.loads(pickle.dumps(make_forecast_scorer("neg_mean_squared_error")))
    assert repr(scorer) == "make_forecast_scorer('neg_mean_squared_error')"
    y = np.tile([1.0, 2.0, 3.0, 2.0], 10)
    model = SeasonalNaiveForecaster(horizon=2, season_length=2).fit(y[:20])
    # lag-2 seasonal naive on period 4: errors of 2 or 0, half each
    assert scorer(model, y[20:]) == pytest.approx(-2.0)
