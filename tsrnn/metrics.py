"""Forecast accuracy metrics: points (MAE, RMSE, MASE, sMAPE), intervals and distributions.

Intervals: :func:`coverage`, :func:`interval_width`, :func:`winkler`.
Distributions, from quantiles or sample paths: :func:`pinball`, :func:`crps`.

Also :func:`make_forecast_scorer`, the scorer that lets ``GridSearchCV`` and
``cross_validate`` score a forecaster by these errors.

All take NumPy arrays or pandas objects of matching shape (1-D, or 2-D with one
column per target) and return one float averaged over every entry. Missing truth
(NaN in ``y_true``) is skipped, as sensor gaps should not count as errors; a NaN
*forecast* where the truth is observed makes the result NaN rather than being
hidden. When two pandas arguments both carry an index, the indexes must be equal.

Examples
--------
>>> from tsrnn.metrics import mae, smape
>>> mae([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
0.5
>>> smape([100.0], [110.0])  # 200 * 10 / 210
9.523809523809524
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .data.checks import check_level

__all__ = [
    "ForecastScorer",
    "coverage",
    "crps",
    "interval_width",
    "mae",
    "make_forecast_scorer",
    "mase",
    "pinball",
    "rmse",
    "smape",
    "winkler",
]


def _as_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        bad = [
            c
            for c, d in x.dtypes.items()
            if not pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d)
        ]
        if bad:
            raise TypeError(f"{name} has non-numeric column(s) {bad}")
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(x, pd.Series):
        if not pd.api.types.is_numeric_dtype(x.dtype) or pd.api.types.is_bool_dtype(
            x.dtype
        ):
            raise TypeError(f"{name} has dtype {x.dtype}; pass numbers")
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} has dtype {arr.dtype}; pass numbers")
    arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {arr.shape}")
    return arr


def _aligned(**arrays: Any) -> list[np.ndarray]:
    """Arrays of one shape (a 1-column 2-D array matches a 1-D one)."""
    indexes = [
        (n, a.index)
        for n, a in arrays.items()
        if isinstance(a, (pd.Series, pd.DataFrame))
    ]
    for (n0, i0), (n1, i1) in zip(indexes, indexes[1:], strict=False):
        if not i0.equals(i1):
            raise ValueError(
                f"{n0} and {n1} have different indexes; align them first (e.g. "
                f"{n1}.loc[{n0}.index]) or pass arrays"
            )
    out = [_as_array(a, n) for n, a in arrays.items()]
    shapes = [a.shape for a in out]
    squeezed = [a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a for a in out]
    if len({a.shape for a in squeezed}) > 1:
        detail = ", ".join(f"{n} {s}" for n, s in zip(arrays, shapes, strict=False))
        raise ValueError(f"shape mismatch: {detail}; pass arrays of the same shape")
    if squeezed[0].size == 0:
        raise ValueError("empty input; pass at least one value")
    return squeezed


def _mean_observed(values: np.ndarray, y_true: np.ndarray) -> float:
    seen = ~np.isnan(y_true)
    if not seen.any():
        return float("nan")
    return float(np.mean(values[seen]))


# Declared mirror: the metrics' docstrings share one numpydoc form
# (Parameters, Returns, Examples); each public function documents itself in full.
def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, ``mean |y - y_hat|``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_targets)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.metrics import mae
    >>> mae([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    0.5

    A missing observation (NaN in ``y_true``) is not counted:

    >>> mae([1.0, np.nan, 3.0], [2.0, 0.0, 3.0])
    0.5
    """
    t, p = _aligned(y_true=y_true, y_pred=y_pred)
    return _mean_observed(np.abs(t - p), t)


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error, ``sqrt(mean (y - y_hat)^2)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_targets)

    Returns
    -------
    float

    Examples
    --------
    >>> from tsrnn.metrics import rmse
    >>> rmse([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])  # sqrt((1 + 0 + 4) / 3)
    1.2909944487358056
    """
    t, p = _aligned(y_true=y_true, y_pred=y_pred)
    return float(np.sqrt(_mean_observed((t - p) ** 2, t)))


def mase(y_true: Any, y_pred: Any, y_train: Any, m: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006).

    The forecast errors divided by the in-sample MAE of the seasonal naive forecast
    at lag ``m`` on ``y_train``: ``mean |y - y_hat| / mean |y_train[t] -
    y_train[t - m]|``. Below 1 beats the (in-sample, one-step) seasonal naive.
    With several targets (2-D), each column is scaled by its own denominator.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_targets)
    y_train : array-like of shape (n_train,) or (n_train, n_targets)
        The history the forecast was made from.
    m : int, default=1
        Seasonal period of the scaling naive forecast.

    Returns
    -------
    float
        ``inf`` when ``y_train`` does not change at lag ``m`` (zero scale) and the
        errors are not all zero; NaN if they are.

    Examples
    --------
    >>> from tsrnn.metrics import mase
    >>> history = [1.0, 3.0, 2.0, 4.0, 3.0, 5.0]  # naive in-sample MAE: 1.6
    >>> mase([4.0, 6.0], [5.0, 5.0], y_train=history)  # forecast MAE 1 / 1.6
    0.625

    Scaled by the seasonal naive forecast at lag ``m``:

    >>> history = [8.0, 12.0, 9.0, 13.0, 10.0, 14.0]  # seasonal naive MAE (m=2): 1
    >>> mase([10.0, 12.0], [11.0, 11.0], y_train=history, m=2)
    1.0
    """
    t, p = _aligned(y_true=y_true, y_pred=y_pred)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"m must be a positive int, got {m!r}")
    tr = _as_array(y_train, "y_train")
    if tr.ndim == 2 and tr.shape[1] == 1:
        tr = tr[:, 0]
    if tr.ndim != t.ndim or (t.ndim == 2 and tr.shape[1] != t.shape[1]):
        raise ValueError(
            f"y_train has shape {tr.shape} but y_true has {t.shape}; they need the "
            "same "
            "number of targets"
        )
    if len(tr) <= m:
        raise ValueError(
            f"y_train needs more than m={m} values to compute the scale, got {len(tr)}"
        )
    diff = np.abs(tr[m:] - tr[:-m])
    if np.isnan(diff).all(axis=0).any():
        raise ValueError(f"y_train has no pair of observed values {m} step(s) apart")
    scale = np.nanmean(diff, axis=0)
    err = np.abs(t - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _mean_observed(err / scale, t)


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric mean absolute percentage error on the 0-200 scale (M3/M4).

    ``200 / n * sum |y - y_hat| / (|y| + |y_hat|)``; a term with ``y = y_hat = 0`` is
    counted as 0 (a perfect forecast).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,) or (n, n_targets)

    Returns
    -------
    float
        Between 0 and 200.

    Examples
    --------
    >>> from tsrnn.metrics import smape
    >>> smape([100.0, 50.0], [110.0, 50.0])  # (200 * 10 / 210 + 0) / 2
    4.761904761904762
    """
    t, p = _aligned(y_true=y_true, y_pred=y_pred)
    num = np.abs(t - p)
    den = np.abs(t) + np.abs(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den == 0, 0.0, num / den)
    return 200.0 * _mean_observed(ratio, t)


def coverage(y_true: Any, lower: Any, upper: Any) -> float:
    """Fraction of observed values inside ``[lower, upper]`` (bounds included).

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n,) or (n, n_targets)

    Returns
    -------
    float
        Between 0 and 1; compare with the nominal coverage of the intervals.

    Examples
    --------
    >>> from tsrnn.metrics import coverage
    >>> coverage([1.0, 2.0, 3.0, 4.0], lower=[0.0, 0.0, 0.0, 0.0],
    ...          upper=[2.0, 2.0, 2.0, 2.0])
    0.5
    """
    t, lo, hi = _aligned(y_true=y_true, lower=lower, upper=upper)
    inside = ((t >= lo) & (t <= hi)).astype(np.float64)
    inside[np.isnan(lo) | np.isnan(hi)] = np.nan
    return _mean_observed(inside, t)


def interval_width(lower: Any, upper: Any) -> float:
    """Mean width ``mean (upper - lower)`` of prediction intervals.

    Parameters
    ----------
    lower, upper : array-like of shape (n,) or (n, n_targets)

    Returns
    -------
    float

    Examples
    --------
    >>> from tsrnn.metrics import interval_width
    >>> interval_width([0.0, 1.0], [2.0, 4.0])
    2.5
    """
    lo, hi = _aligned(lower=lower, upper=upper)
    if (hi < lo).any():
        raise ValueError("upper is below lower somewhere; pass (lower, upper) in order")
    return float(np.nanmean(hi - lo)) if not np.isnan(hi - lo).all() else float("nan")


def winkler(y_true: Any, lower: Any, upper: Any, level: float) -> float:
    """Mean Winkler (interval) score of central ``level`` intervals; lower is better.

    ``(upper - lower) + (2 / a) * (lower - y)`` when ``y < lower``,
    ``+ (2 / a) * (y - upper)`` when ``y > upper``, with ``a = 1 - level``
    (Winkler, 1972; Gneiting & Raftery, 2007, eq. 43): the width, plus a
    penalty for every miss that grows as the promised coverage does.

    Parameters
    ----------
    y_true, lower, upper : array-like of shape (n,) or (n, n_targets)
    level : float
        Nominal coverage of the intervals, a percentage (80) or a fraction (0.8).

    Returns
    -------
    float

    Examples
    --------
    >>> from tsrnn.metrics import winkler
    >>> winkler([1.0, 5.0], lower=[0.0, 0.0], upper=[2.0, 2.0], level=80)
    17.0
    """
    a = 1.0 - check_level(level)
    t, lo, hi = _aligned(y_true=y_true, lower=lower, upper=upper)
    if (hi < lo).any():
        raise ValueError("upper is below lower somewhere; pass (lower, upper) in order")
    score = (hi - lo) + (2.0 / a) * (
        np.maximum(lo - t, 0.0) + np.maximum(t - hi, 0.0)
    )
    return _mean_observed(score, t)


def _quantile_levels(quantiles: Any) -> np.ndarray:
    q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if q.ndim != 1 or not np.all((q > 0.0) & (q < 1.0)):
        raise ValueError(
            f"quantiles must be probabilities strictly between 0 and 1, got {quantiles!r}"
        )
    return q


def _with_quantiles(y_true: Any, y_pred: Any, quantiles: Any) -> tuple:
    """``y_true`` (n,) and ``y_pred`` (n, n_quantiles), checked."""
    q = _quantile_levels(quantiles)
    t = _as_array(y_true, "y_true")
    p = _as_array(y_pred, "y_pred")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"y_true must be 1-D (one target), got shape {t.shape}")
    if p.ndim == 1:
        p = p[:, None]
    if p.shape != (len(t), len(q)):
        raise ValueError(
            f"y_pred has shape {p.shape}; expected (len(y_true), len(quantiles)) = "
            f"({len(t)}, {len(q)}): one column per quantile"
        )
    if len(t) == 0:
        raise ValueError("empty input; pass at least one value")
    return t, p, q


def pinball(y_true: Any, y_pred: Any, quantiles: Any) -> float:
    """Mean pinball (quantile) loss over observations and quantile levels.

    For level ``q`` and forecast quantile ``f``: ``q * (y - f)`` when ``y >= f``,
    ``(1 - q) * (f - y)`` otherwise. At ``q = 0.5`` it is half the absolute
    error. Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    y_pred : array-like of shape (n,) or (n, n_quantiles)
        Forecast quantiles, one column per level of ``quantiles``.
    quantiles : float or sequence of float
        Levels in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> from tsrnn.metrics import pinball
    >>> pinball([1.0, 3.0], [[0.0, 2.0], [1.0, 4.0]], quantiles=[0.1, 0.9])
    0.125
    """
    t, p, q = _with_quantiles(y_true, y_pred, quantiles)
    diff = t[:, None] - p
    loss = np.maximum(q * diff, (q - 1.0) * diff)
    return _mean_observed(loss.mean(axis=1), t)


def crps(
    y_true: Any, samples: Any = None, *, quantiles: Any = None, levels: Any = None
) -> float:
    """Mean continuous ranked probability score, from samples or from quantiles.

    From sample paths (``samples``): the energy form ``E|X - y| - E|X - X'| / 2``
    of the empirical distribution, exact for it, computed from sorted samples
    in ``O(m log m)`` per observation. From quantiles (``quantiles`` at
    ``levels``): ``2 * mean pinball`` over the levels, which approximates the
    integral ``CRPS = 2 * int_0^1 pinball_q dq`` when the levels are evenly
    spread (e.g. 0.05, 0.10, ..., 0.95). Lower is better; for a point forecast
    it reduces to the absolute error.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    samples : array-like of shape (n, n_samples), optional
        Draws from each forecast distribution.
    quantiles : array-like of shape (n, n_levels), optional
        Forecast quantiles (instead of ``samples``).
    levels : sequence of float, optional
        Their levels in (0, 1); required with ``quantiles``.

    Returns
    -------
    float

    Examples
    --------
    >>> from tsrnn.metrics import crps
    >>> crps([0.0], samples=[[-1.0, 1.0]])  # E|X| = 1, E|X - X'| = 1
    0.5
    """
    if (samples is None) == (quantiles is None):
        raise ValueError("pass either samples or quantiles (with levels), not both")
    if quantiles is not None:
        if levels is None:
            raise ValueError("quantiles need their levels, e.g. levels=[0.1, 0.5, 0.9]")
        return 2.0 * pinball(y_true, quantiles, levels)
    t = _as_array(y_true, "y_true")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    x = _as_array(samples, "samples")
    if t.ndim != 1 or x.ndim != 2 or len(x) != len(t) or x.shape[1] == 0:
        raise ValueError(
            f"samples has shape {x.shape} for y_true of shape {t.shape}; pass "
            "(len(y_true), n_samples) draws"
        )
    if len(t) == 0:
        raise ValueError("empty input; pass at least one value")
    m = x.shape[1]
    xs = np.sort(x, axis=1)
    first = np.abs(xs - t[:, None]).mean(axis=1)
    # E|X - X'| = 2 / m^2 * sum_i (2i - m - 1) x_(i), i = 1..m (sorted draws)
    weights = 2.0 * np.arange(1, m + 1) - m - 1
    spread = 2.0 * (xs * weights).sum(axis=1) / m**2
    return _mean_observed(first - 0.5 * spread, t)


# ------------------------------------------------------------- model selection
def _mse(y_true: Any, y_pred: Any) -> float:
    return rmse(y_true, y_pred) ** 2


# name -> error function (lower is better); scikit-learn's names for the same
# errors ("neg_" + name: the scorer is the negated error) are accepted too
_ERRORS = {"mae": mae, "rmse": rmse, "mse": _mse, "smape": smape}
_SKLEARN_NAMES = {
    "neg_mean_absolute_error": "mae",
    "neg_root_mean_squared_error": "rmse",
    "neg_mean_squared_error": "mse",
}


class ForecastScorer:
    """A scikit-learn scorer that knows the forecasting protocol.

    ``scorer(forecaster, y_test, X_test=None)`` returns
    ``forecaster.score(y_test, X_test, metric=...)``: the forecaster, fitted on
    the rows before ``y_test``, is walked over ``y_test`` (forecast ``horizon``
    steps, compare, ``update``, repeat) on a copy, and the negated error of
    every forecast is returned (higher is better). Build it with
    :func:`make_forecast_scorer`.
    """

    def __init__(self, name: str, error: Any):
        self.name = name
        self.error = error

    def __call__(self, estimator: Any, y: Any, X: Any = None) -> float:
        score = getattr(estimator, "score", None)
        if score is None:
            raise TypeError(
                f"{type(estimator).__name__} has no score(y, X, metric=...); a "
                "forecast scorer scores tsrnn forecasters"
            )
        return float(score(y, X, metric=self.error))

    def __repr__(self) -> str:
        return f"make_forecast_scorer({self.name!r})"


def make_forecast_scorer(metric: Any = "mae") -> ForecastScorer:
    """A scorer for ``GridSearchCV`` / ``cross_validate`` over a forecaster.

    scikit-learn's string scorers (``scoring="neg_mean_absolute_error"``)
    compare ``predict(X_test)`` with ``y_test``; a forecaster is fitted on one
    series and forecasts what follows it, so they cannot score one (in
    ``GridSearchCV(...).fit(y)`` every score is NaN). This scorer follows the
    forecasting protocol instead: for each split of a ``TimeSeriesSplit``, the
    forecaster is fitted on the training rows, then walked over the test rows
    (forecast ``horizon`` steps, compare with the truth, ``update`` with them,
    repeat), and the error of all those forecasts is returned negated, so that
    higher is better.

    Parameters
    ----------
    metric : str or callable, default="mae"
        ``"mae"``, ``"rmse"``, ``"mse"``, ``"smape"``, scikit-learn's names
        ``"neg_mean_absolute_error"``, ``"neg_root_mean_squared_error"``,
        ``"neg_mean_squared_error"``, or a callable ``f(y_true, y_pred) ->
        float`` returning an error (lower is better). Missing truth (NaN) is
        skipped.

    Returns
    -------
    ForecastScorer
        Call it as ``scorer(forecaster, y_test, X_test=None)``.

    Raises
    ------
    ValueError
        An unknown metric name; the message lists the names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    >>> from tsrnn.baselines import SeasonalNaiveForecaster
    >>> from tsrnn.metrics import make_forecast_scorer
    >>> y = np.tile([1.0, 2.0, 3.0, 2.0], 10)
    >>> search = GridSearchCV(
    ...     SeasonalNaiveForecaster(horizon=2),
    ...     {"season_length": [2, 4]},
    ...     scoring=make_forecast_scorer("neg_mean_absolute_error"),
    ...     cv=TimeSeriesSplit(n_splits=3),
    ... ).fit(y)
    >>> print(search.best_params_, abs(float(search.best_score_)))  # a perfect fit
    {'season_length': 4} 0.0
    """
    if callable(metric):
        return ForecastScorer(getattr(metric, "__name__", "metric"), metric)
    name = _SKLEARN_NAMES.get(metric, metric) if isinstance(metric, str) else None
    if name not in _ERRORS:
        known = [*_ERRORS, *_SKLEARN_NAMES]
        raise ValueError(
            f"unknown forecast metric {metric!r}; use one of {known} or a callable "
            "f(y_true, y_pred) -> float (an error: lower is better)"
        )
    return ForecastScorer(metric, _ERRORS[name])
