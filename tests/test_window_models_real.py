"""The window models on shipped real series, against honest baselines.

(a) ``Pipeline(StandardScaler -> RNNRegressor)`` tuned by ``GridSearchCV`` with
``TimeSeriesSplit`` forecasts the next year of monthly sunspot numbers and must
beat persistence clearly on a held-out tail.
(b) ``RNNClassifier`` issues next-day frost warnings (daily minimum <= 32 F)
from two weeks of daily temperatures at Clemson, SC; it is compared with the
majority class (never frost), persistence (tomorrow as today) and a logistic
regression, and its probabilities are checked for skill and calibration.

Each test trains in a few seconds (the CSVs are read directly, so the loaders
in ``tsrnn.datasets`` are not exercised here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tsrnn.estimators import RNNClassifier, RNNRegressor
from tsrnn.windowing import make_windows

_DATA_DIRS = [
    Path(__file__).resolve().parents[1] / "datasets",
    Path("/work/shared/datasets"),
]


def read_dataset(name: str) -> pd.DataFrame:
    for folder in _DATA_DIRS:
        if (folder / name).exists():
            return pd.read_csv(folder / name, parse_dates=["timestamp"],
                               index_col="timestamp")
    pytest.skip(f"{name} not found in {[str(d) for d in _DATA_DIRS]}")


# Early stopping normally ends these fits; max_iter is only a cap.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_pipeline_beats_persistence_on_sunspots():
    series = read_dataset("sunspots_monthly.csv")["sunspot_number"].to_numpy()
    window, horizon = 36, 12  # three years in, the next year out (multi-output)
    X, Y = make_windows(series, window, horizon=horizon)
    n_test = len(X) // 5  # the last ~50 years of windows
    # The last training window's targets must end before the first test target:
    # drop the horizon - 1 windows whose targets would overlap the test period.
    n_train = len(X) - n_test - (horizon - 1)
    X_train, Y_train = X[:n_train], Y[:n_train]
    X_test, Y_test = X[-n_test:], Y[-n_test:]

    pipe = make_pipeline(
        StandardScaler(),
        RNNRegressor(cell="gru", hidden_size=16, max_iter=60, learning_rate_init=0.01,
                     early_stopping=True, n_iter_no_change=5, random_state=0),
    )
    search = GridSearchCV(
        pipe,
        {"rnnregressor__hidden_size": [8, 16]},
        # The same gap inside CV; each RNN's early stopping uses its fold's tail.
        cv=TimeSeriesSplit(n_splits=3, gap=horizon - 1),
        scoring="neg_mean_absolute_error",
        error_score="raise",
    )
    search.fit(X_train, Y_train)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()

    mae_rnn = mean_absolute_error(Y_test, search.predict(X_test))
    persistence = np.repeat(X_test[:, -1:], horizon, axis=1)  # last month, held
    mae_persistence = mean_absolute_error(Y_test, persistence)
    linear = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(X_train, Y_train)
    mae_linear = mean_absolute_error(Y_test, linear.predict(X_test))
    report = (
        f"sunspots, 12-month horizon, {n_test} test windows: MAE RNN {mae_rnn:.2f} "
        f"(best {search.best_params_}), persistence {mae_persistence:.2f}, "
        f"linear AR(36) ridge {mae_linear:.2f} (context, not asserted)"
    )
    # Persistence ignores the 11-year cycle's rise and fall; a model of the
    # recent past should be well over 15% better (measured: ~25%).
    assert mae_rnn < 0.85 * mae_persistence, report


def test_frost_warning_classifier_has_skill_and_is_calibrated():
    frame = read_dataset("clemson_sc_temperature_daily.csv")
    # From mid-2006 on the record is one row per calendar day without gaps, so
    # "tomorrow" is always the next day.
    frame = frame.loc["2006-07-01":]
    assert frame.notna().all().all()
    assert (frame.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all()
    angle = 2 * np.pi * frame.index.day_of_year.to_numpy() / 365.25
    covariates = np.column_stack([frame["tmax_f"], np.sin(angle), np.cos(angle)])
    window = 14
    # Per step: tmin, tmax, season (sin, cos): input_size=4 features per day.
    X, _ = make_windows(frame["tmin_f"].to_numpy(), window, X=covariates)
    frost = frame["tmin_f"].to_numpy() <= 32.0  # daily minimum at or below 0 C
    y = frost[window:]  # frost on the day after each window
    n_test = len(X) // 5  # the last ~3 winters
    X_train, y_train = X[:-n_test], y[:-n_test]
    X_test, y_test = X[-n_test:], y[-n_test:]

    model = make_pipeline(
        StandardScaler(),
        # Frost is rare, so validation accuracy is a coarse signal: a two-winter
        # validation tail (20%) keeps early stopping from stopping on noise.
        RNNClassifier(cell="gru", hidden_size=16, input_size=4, max_iter=60,
                      learning_rate_init=0.01, early_stopping=True,
                      validation_fraction=0.2, n_iter_no_change=5, random_state=0),
    ).fit(X_train, y_train)
    assert model[-1].n_iter_ < 60  # stopped by early stopping, not by the cap
    p = model.predict_proba(X_test)[:, 1]
    acc = float(np.mean(model.predict(X_test) == y_test))

    base_rate = y_train.mean()
    acc_majority = float(np.mean(y_test == (base_rate > 0.5)))
    acc_persistence = float(np.mean(y_test == (X_test[:, -4] <= 32.0)))  # frost today?
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    p_logistic = logistic.fit(X_train, y_train).predict_proba(X_test)[:, 1]
    climatology = np.full(n_test, base_rate)
    skill = 1.0 - brier_score_loss(y_test, p) / brier_score_loss(y_test, climatology)
    # Calibration: mean |observed - predicted| frequency over 10 probability bins.
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(y_test[bins == b].mean() - p[bins == b].mean()) * np.mean(bins == b)
              for b in np.unique(bins))
    report = (
        f"next-day frost at Clemson SC, {n_test} test days (frost rate "
        f"{y_test.mean():.3f}): accuracy RNN {acc:.3f}, majority {acc_majority:.3f}, "
        f"persistence {acc_persistence:.3f}, logistic regression "
        f"{np.mean((p_logistic > 0.5) == y_test):.3f}; log-loss RNN "
        f"{log_loss(y_test, p):.3f} vs climatology {log_loss(y_test, climatology):.3f} "
        f"vs logistic {log_loss(y_test, p_logistic):.3f}; Brier skill {skill:.3f}; "
        f"AUC {roc_auc_score(y_test, p):.3f}; calibration error {ece:.3f}; "
        f"mean p {p.mean():.3f}"
    )
    # Frost is rare (~10% of test days, ~15% in training: the recent winters
    # are milder), so accuracy flatters "never frost" and the RNN only edges it
    # and persistence (measured over seeds 0-4: 0.907-0.917 vs 0.897 and 0.901).
    # What is true and meaningful is in the probabilities: clear skill over
    # climatology (Brier skill 0.30-0.36, AUC ~0.93, on par with a logistic
    # regression on the same windows) and calibration within a few points.
    assert acc >= acc_majority, report
    assert skill > 0.25, report
    assert roc_auc_score(y_test, p) > 0.9, report
    assert ece < 0.06, report
