"""tsrnn.backtest: rolling-origin evaluation with the baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.backtest import backtest
from tsrnn.baselines import LinearARForecaster, NaiveForecaster, SeasonalNaiveForecaster
from tsrnn.metrics import mae, mase, winkler


def seasonal(n: int, m: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 10 + 5 * np.sin(2 * np.pi * np.arange(n) / m) + rng.normal(size=n)


def test_naive_hand_computed():
    y = np.array([1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 9.0])
    res = backtest(NaiveForecaster(), y, horizon=2, n_origins=3, step=1)
    # origins 4, 5, 6: last value 8, 5, 7 against y[4:6], y[5:7], y[6:8]
    assert list(res["origin"]) == [4, 5, 6]
    assert list(res["cutoff"]) == [3, 4, 5]
    expected = [mae(y[4:6], [8, 8]), mae(y[5:7], [5, 5]), mae(y[6:8], [7, 7])]
    np.testing.assert_allclose(res["mae"], expected)
    np.testing.assert_allclose(res["mase"][0], mase(y[4:6], [8.0, 8.0], y[:4]))
    assert {"rmse", "smape", "fit_time", "predict_time"} <= set(res.columns)


def test_user_estimator_untouched_and_refit_equals_update_for_naive():
    y = pd.Series(
        seasonal(120), index=pd.date_range("2024-01-01", periods=120, freq="B")
    )
    est = SeasonalNaiveForecaster(12, horizon=1)
    a = backtest(est, y, horizon=6, n_origins=5, season_length=12)
    assert not hasattr(est, "schema_") and est.horizon == 1  # clone got horizon=6
    b = backtest(est, y, horizon=6, n_origins=5, season_length=12, refit=True)
    cols = ["origin", "cutoff", "mae", "rmse", "mase", "smape"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a["cutoff"].iloc[-1] == y.index[-7]  # last origin leaves one horizon
    assert list(a["origin"]) == [90, 96, 102, 108, 114]


def test_long_format_per_series_rows_aligned_to_ends():
    parts = [
        pd.DataFrame(
            {
                "unique_id": sid,
                "ds": pd.date_range("2024-01-01", periods=n, freq="h"),
                "y": seasonal(n, seed=i),
            }
        )
        for i, (sid, n) in enumerate([("b", 80), ("a", 60)])
    ]
    df = pd.concat(parts, ignore_index=True)
    res = backtest(NaiveForecaster(), df, horizon=3, n_origins=4, coverage=0.8)
    assert list(res.columns[:3]) == ["unique_id", "origin", "cutoff"]
    assert list(res["unique_id"]) == ["b"] * 4 + ["a"] * 4  # order of first appearance
    assert list(res["origin"]) == [68, 71, 74, 77, 48, 51, 54, 57]
    assert res["coverage"].between(0, 1).all() and (res["interval_width"] > 0).all()


def test_covariates_and_custom_metric():
    rng = np.random.default_rng(0)
    x = rng.normal(size=150)
    y = 2 * x + 0.1 * rng.normal(size=150)

    def max_error(t, p):
        return float(np.max(np.abs(t - p)))

    res = backtest(
        LinearARForecaster(lags=1),
        y,
        X=x,
        horizon=2,
        n_origins=5,
        metrics=("mae", max_error),
    )
    assert list(res.columns[2:4]) == ["mae", "max_error"]
    assert (res["mae"] < 0.5).all()


def test_initial_and_errors():
    y = seasonal(50)
    res = backtest(NaiveForecaster(), y, horizon=2, n_origins=3, initial=30, step=5)
    assert list(res["origin"]) == [30, 35, 40]
    with pytest.raises(ValueError, match="need at least"):
        backtest(NaiveForecaster(), y, horizon=10, n_origins=10)
    with pytest.raises(ValueError, match="unknown metric"):
        backtest(NaiveForecaster(), y, metrics=("mape",))
    with pytest.raises(ValueError, match="n_origins"):
        backtest(NaiveForecaster(), y, n_origins=0)


# ------------------------------------------------ forecasts returned (issue 15)
def test_return_forecasts_long_frame_matches_the_scores():
    t = np.arange(80.0)
    y = pd.Series(
        np.sin(t / 2) + 0.05 * t,
        index=pd.date_range("2022-01-01", periods=80, freq="h"),
        name="load",
    )
    model = SeasonalNaiveForecaster(season_length=12, horizon=4)
    scores, fc = backtest(model, y, n_origins=5, coverage=0.8, return_forecasts=True)
    assert list(fc.columns) == [
        "unique_id",
        "ds",
        "cutoff",
        "y",
        "SeasonalNaiveForecaster",
        "SeasonalNaiveForecaster-lo-80",
        "SeasonalNaiveForecaster-hi-80",
    ]
    assert len(fc) == 5 * 4 and (fc["unique_id"] == "load").all()
    # the truth is the series at the forecast timestamps, after the cutoff
    np.testing.assert_array_equal(fc["y"].to_numpy(), y.loc[fc["ds"]].to_numpy())
    assert (fc["ds"] > fc["cutoff"]).all()
    # re-scoring the returned forecasts gives the reported scores
    for (cutoff, g), (_, row) in zip(
        fc.groupby("cutoff"), scores.iterrows(), strict=True
    ):
        assert cutoff == row["cutoff"]
        assert mae(g["y"], g["SeasonalNaiveForecaster"]) == pytest.approx(row["mae"])
        lo, hi = g["SeasonalNaiveForecaster-lo-80"], g["SeasonalNaiveForecaster-hi-80"]
        assert winkler(g["y"], lo, hi, 80) == pytest.approx(row["winkler"])


def test_return_forecasts_long_format_per_series():
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 40),
            "ds": np.tile(np.arange(40), 2),
            "y": np.r_[np.arange(40.0), 2 * np.arange(40.0)],
        }
    )
    scores, fc = backtest(
        NaiveForecaster(freq=1), df, horizon=3, n_origins=2, return_forecasts=True
    )
    assert set(fc["unique_id"]) == {"a", "b"} and len(fc) == 2 * 2 * 3
    b = fc[fc["unique_id"] == "b"]
    np.testing.assert_array_equal(b["y"], 2.0 * b["ds"])
    np.testing.assert_array_equal(b["NaiveForecaster"], 2.0 * b["cutoff"])
    only = backtest(NaiveForecaster(freq=1), df, horizon=3, n_origins=2)
    timing = ["fit_time", "predict_time"]
    pd.testing.assert_frame_equal(
        only.drop(columns=timing), scores.drop(columns=timing)
    )


@pytest.mark.parametrize("long", [False, True])
def test_several_levels_match_one_level_each(long):
    # level=[80, 95] gives, level by level, the scores and bounds of a
    # backtest asked for that level alone (same fit, same walk)
    if long:
        y = pd.concat(
            [
                pd.DataFrame(
                    {
                        "unique_id": sid,
                        "ds": pd.date_range("2024-01-01", periods=90, freq="h"),
                        "y": seasonal(90, seed=i),
                    }
                )
                for i, sid in enumerate(["a", "b"])
            ],
            ignore_index=True,
        )
    else:
        y = seasonal(150)
    est = LinearARForecaster(lags=3)
    both, fc = backtest(
        est, y, horizon=4, n_origins=5, level=[80, 95], return_forecasts=True
    )
    for pct in ("80", "95"):
        one, fc1 = backtest(
            est,
            y,
            horizon=4,
            n_origins=5,
            coverage=int(pct) / 100,
            return_forecasts=True,
        )
        for col in ("coverage", "interval_width", "winkler"):
            np.testing.assert_allclose(both[f"{col}_{pct}"], one[col])
        for side in ("lo", "hi"):
            name = f"LinearARForecaster-{side}-{pct}"
            np.testing.assert_allclose(fc[name], fc1[name])
    assert (fc["LinearARForecaster-lo-95"] <= fc["LinearARForecaster-lo-80"]).all()
    assert (fc["LinearARForecaster-hi-95"] >= fc["LinearARForecaster-hi-80"]).all()
    # one level given as level=: the unsuffixed columns, as coverage=
    one = backtest(est, y, horizon=4, n_origins=5, level=80)
    assert {"coverage", "interval_width", "winkler"} <= set(one.columns)
    with pytest.raises(ValueError, match="not both"):
        backtest(est, y, horizon=4, n_origins=5, level=80, coverage=0.8)


def test_interval_method_not_offered_is_refused():
    y = seasonal(80)
    with pytest.raises(ValueError, match="gives intervals by method 'conformal'"):
        backtest(
            LinearARForecaster(lags=2),
            y,
            horizon=2,
            n_origins=2,
            level=80,
            method="quantile",
        )
