"""The classical seasonality test and decomposition (M4's Theta benchmark).

:func:`seasonality_test` is the 90 % one-sided autocorrelation test the M4
competition's benchmarks used to decide whether to deseasonalise: the
autocorrelation at the seasonal lag ``m`` against
``1.645 * sqrt((1 + 2 * sum_{k<m} r_k**2) / n)`` (Bartlett's bound).
:func:`seasonal_indices` is the classical decomposition: centred moving
average of order ``m`` (``2 x m`` for an even ``m``) as the trend, seasonal
indices as the mean ratio (multiplicative) or difference (additive) per phase,
normalised to mean 1 (0); what ``statsmodels.tsa.seasonal_decompose`` gives.
Missing values (NaN) are skipped.
"""

from __future__ import annotations

import numpy as np

#: One-sided 90 % normal quantile of the test.
Z_90 = 1.645


def acf(y: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations ``r_0..r_max_lag`` (NaN pairs skipped)."""
    y = np.asarray(y, dtype=np.float64)
    obs = ~np.isnan(y)
    d = np.where(obs, y - y[obs].mean(), 0.0) if obs.any() else np.zeros_like(y)
    den = float((d * d).sum())
    r = np.zeros(max_lag + 1)
    if den <= 0.0:
        return r
    for k in range(max_lag + 1):
        r[k] = float((d[k:] * d[: len(d) - k]).sum()) / den if k < len(d) else 0.0
    return r


def seasonality_test(y: np.ndarray, m: int) -> bool:
    """Whether ``y`` shows seasonality of period ``m`` at 90 % (M4's test).

    ``False`` for ``m < 2``, a constant series, or fewer than ``3 m``
    observations (too little history to estimate the indices).
    """
    y = np.asarray(y, dtype=np.float64)
    m = int(m)
    n = int((~np.isnan(y)).sum())
    if m < 2 or n < 3 * m:
        return False
    r = acf(y, m)
    if r[0] == 0.0:
        return False
    limit = Z_90 * np.sqrt((1.0 + 2.0 * float((r[1:m] ** 2).sum())) / n)
    return bool(abs(r[m]) > limit)


def centred_moving_average(y: np.ndarray, m: int) -> np.ndarray:
    """Centred moving average of order ``m`` (``2 x m`` if even); NaN at the ends."""
    y = np.asarray(y, dtype=np.float64)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    out = np.full(len(y), np.nan)
    if len(y) >= len(w):
        # NaN anywhere in a window makes its average NaN
        out[half : len(y) - half] = np.convolve(y, w[::-1], mode="valid")
    return out


def seasonal_indices(y: np.ndarray, m: int, multiplicative: bool = True) -> np.ndarray:
    """Seasonal indices ``(m,)`` of ``y``, phase ``p`` = rows ``p, p + m, ...``.

    Multiplicative: mean of ``y / trend`` per phase, normalised to mean 1;
    additive: mean of ``y - trend``, normalised to mean 0. A phase without a
    value gets the neutral index.
    """
    y = np.asarray(y, dtype=np.float64)
    trend = centred_moving_average(y, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        detr = y / trend if multiplicative else y - trend
    neutral = 1.0 if multiplicative else 0.0
    idx = np.full(m, neutral)
    for p in range(m):
        v = detr[p::m]
        v = v[np.isfinite(v)]
        if len(v):
            idx[p] = v.mean()
    if multiplicative:
        mean = idx.mean()
        return idx / mean if mean > 0 else np.ones(m)
    return idx - idx.mean()


def decompose(y: np.ndarray, m: int) -> tuple[np.ndarray, bool] | None:
    """Seasonal indices to deseasonalise ``y`` with, or None (no seasonality).

    The test of :func:`seasonality_test` decides; a strictly positive series
    gets multiplicative indices, another (or one whose multiplicative indices
    fall below 0.01, as statsforecast's Theta) additive ones.

    Returns
    -------
    (indices, multiplicative) or None
    """
    if not seasonality_test(y, m):
        return None
    return indices_of(y, m)


def indices_of(y: np.ndarray, m: int) -> tuple[np.ndarray, bool]:
    """The classical indices :func:`decompose` divides out, without its test.

    For a caller whose own test found the season (multiplicative for a
    strictly positive series unless an index falls below 0.01, else additive).
    """
    obs = y[~np.isnan(y)]
    if obs.min() > 0:
        idx = seasonal_indices(y, m, True)
        if idx.min() >= 0.01:
            return idx, True
    return seasonal_indices(y, m, False), False
