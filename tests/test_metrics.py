"""tsrnn.metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrnn.metrics import coverage, interval_width, mae, mase, rmse, smape


def test_mae_rmse_hand_computed():
    t, p = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 1.0, 4.0]
    assert mae(t, p) == pytest.approx(3 / 4)  # |−1| + 0 + 2 + 0
    assert rmse(t, p) == pytest.approx(np.sqrt(5 / 4))


def test_mase_hand_computed():
    y_train = [1.0, 3.0, 2.0, 6.0]
    # lag-1 naive errors: 2, 1, 4 -> scale 7/3; forecast errors 1, 3 -> mae 2
    assert mase([5.0, 5.0], [6.0, 2.0], y_train) == pytest.approx(2 / (7 / 3))
    # lag-2: |2-1|, |6-3| -> scale 2
    assert mase([5.0, 5.0], [6.0, 2.0], y_train, m=2) == pytest.approx(1.0)
    # 2-D: each column its own scale
    tr = np.c_[y_train, np.array(y_train) * 10]
    val = mase(np.c_[[5.0, 5.0], [50.0, 50.0]], np.c_[[6.0, 2.0], [60.0, 20.0]], tr)
    assert val == pytest.approx(2 / (7 / 3))
    assert mase([1.0], [2.0], [3.0, 3.0, 3.0]) == np.inf
    with pytest.raises(ValueError, match="more than m=3"):
        mase([1.0], [1.0], [1.0, 2.0, 3.0], m=3)


def test_smape_hand_computed():
    # 200/n * sum |y - f| / (|y| + |f|); the 0/0 term counts as 0
    val = smape([100.0, 0.0, 50.0], [110.0, 0.0, -50.0])
    assert val == pytest.approx(200 / 3 * (10 / 210 + 0 + 100 / 100))
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)  # the maximum


def test_coverage_and_width():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    lo = np.array([0.0, 2.0, 3.5, 3.0])
    hi = np.array([2.0, 3.0, 4.0, 3.5])
    assert coverage(t, lo, hi) == pytest.approx(0.5)  # bounds are inside
    assert interval_width(lo, hi) == pytest.approx((2 + 1 + 0.5 + 0.5) / 4)
    with pytest.raises(ValueError, match="upper is below lower"):
        interval_width(hi, lo)


def test_nan_in_truth_skipped_nan_forecast_propagates():
    t = [1.0, np.nan, 3.0]
    assert mae(t, [2.0, 100.0, 3.0]) == pytest.approx(0.5)
    assert coverage(t, [0.0, 0.0, 0.0], [2.0, 0.0, 2.0]) == pytest.approx(0.5)
    assert np.isnan(mae([1.0, 2.0], [np.nan, 2.0]))
    assert np.isnan(mae([np.nan], [1.0]))


def test_pandas_inputs_and_alignment():
    idx = pd.date_range("2024-01-01", periods=3, freq="D")
    t = pd.Series([1.0, 2.0, 3.0], index=idx)
    p = pd.Series([1.0, 2.0, 5.0], index=idx)
    assert mae(t, p) == pytest.approx(2 / 3)
    assert mae(t, p.to_numpy()) == pytest.approx(2 / 3)
    assert mae(t.to_frame(), p) == pytest.approx(2 / 3)  # one column == 1-D
    with pytest.raises(ValueError, match="different indexes"):
        mae(t, p.shift(1, freq="D"))


def test_shape_and_type_errors():
    with pytest.raises(
        ValueError, match=r"shape mismatch: y_true \(3,\), y_pred \(2,\)"
    ):
        mae([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="shape mismatch"):
        rmse(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(TypeError, match="numbers"):
        mae(["a"], [1.0])
    with pytest.raises(ValueError, match="empty"):
        mae([], [])
    with pytest.raises(ValueError, match="same number of targets"):
        mase(np.ones((2, 2)), np.ones((2, 2)), np.ones(5))


# ------------------------------------------------ scores for distributions
from tsrnn.metrics import crps, pinball, winkler  # noqa: E402


def _crps_integral(y, draws, grid=200001):
    """CRPS by its definition, the integral of (F(x) - 1{x >= y})^2 dx."""
    draws = np.sort(np.asarray(draws, dtype=float))
    lo, hi = min(draws[0], y) - 1.0, max(draws[-1], y) + 1.0
    x = np.linspace(lo, hi, grid)
    F = np.searchsorted(draws, x, side="right") / len(draws)
    H = (x >= y).astype(float)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2: trapz
    return trapezoid((F - H) ** 2, x)


def test_crps_from_samples_matches_the_integral_definition():
    rng = np.random.default_rng(0)
    y = rng.normal(size=4)
    draws = rng.normal(size=(4, 25))
    got = crps(y, samples=draws)
    ref = np.mean([_crps_integral(y[i], draws[i]) for i in range(4)])
    assert got == pytest.approx(ref, rel=1e-3)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps([1.0, 4.0], samples=[[3.0], [4.5]]) == pytest.approx(1.25)


def test_crps_from_quantiles_approaches_the_gaussian_closed_form():
    from scipy.stats import norm

    levels = np.linspace(0.005, 0.995, 199)
    y = np.array([0.3, -1.2, 2.0])
    q = np.tile(norm.ppf(levels), (3, 1))
    # closed form for N(0, 1): y(2Phi(y) - 1) + 2phi(y) - 1/sqrt(pi)
    exact = np.mean(y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / np.sqrt(np.pi))
    assert crps(y, quantiles=q, levels=levels) == pytest.approx(exact, rel=0.01)
    samples = norm.ppf((np.arange(4000) + 0.5) / 4000)
    assert crps(y, samples=np.tile(samples, (3, 1))) == pytest.approx(exact, rel=1e-3)


def test_pinball_by_hand_and_at_the_median():
    y = np.array([1.0, 2.0, 5.0])
    f = np.array([2.0, 2.0, 3.0])
    assert pinball(y, f, 0.5) == pytest.approx(0.5 * np.mean(np.abs(y - f)))
    # q = 0.9: under-forecasts cost 0.9 per unit, over-forecasts 0.1
    assert pinball(y, f, 0.9) == pytest.approx((0.1 * 1 + 0 + 0.9 * 2) / 3)
    # a NaN truth is skipped, as in every metric here
    assert pinball([np.nan, 5.0], [0.0, 3.0], 0.9) == pytest.approx(1.8)


def test_winkler_width_plus_scaled_misses():
    y, lo, hi = [1.0, -1.0, 3.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]
    expected = np.mean([2.0, 2.0 + 20.0 * 1.0, 2.0 + 20.0 * 1.0])  # a = 0.1
    assert winkler(y, lo, hi, level=90) == pytest.approx(expected)
    assert winkler(y, lo, hi, level=0.9) == pytest.approx(expected)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: pinball([1.0], [[1.0, 2.0]], [0.5]), ValueError, "one column per quantile"),
        (lambda: pinball([1.0], [1.0], [1.5]), ValueError, "strictly between 0 and 1"),
        (lambda: crps([1.0], samples=[[1.0]], quantiles=[[1.0]]), ValueError, "either"),
        (lambda: crps([1.0], quantiles=[[1.0]]), ValueError, "levels"),
        (lambda: crps([1.0, 2.0], samples=[[1.0]]), ValueError, "n_samples"),
        (lambda: winkler([1.0], [0.0], [2.0], level=100), ValueError, "percentage"),
        (lambda: winkler([1.0], [2.0], [0.0], level=90), ValueError, "in order"),
        (lambda: winkler([1.0], [0.0], [2.0], level="90"), TypeError, "percentage such as 90"),
    ],
)
def test_distribution_scores_name_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
