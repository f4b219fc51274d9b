"""Location and spread of data of any magnitude, without overflow or underflow.

The forecaster's scaler and the window regressor's target scaling both reduce
a column of numbers to a location and a scale. Done naively, that fails at the
ends of float64: the squares of 1e300 overflow (the variance is inf), the
squares of 1e-200 underflow to 0 (the variance is 0), and an absolute
threshold such as "a standard deviation below 1e-12 is zero" takes a sensor
series in SI units (amplitude 1e-13) for a constant and leaves it unscaled.

So every statistic here is computed on the column divided by its largest
absolute value (values in [-1, 1]: nothing overflows or underflows), then
multiplied back, and a spread counts as zero only *relative* to that
magnitude (:data:`SPREAD_RTOL`). The results are scale-equivariant: scaling a
column by ``a`` scales its location and spread by ``|a|`` (exactly, for ``a``
a power of two). The bounds:

* :data:`MAX_MAGNITUDE` -- the largest ``|value|`` accepted anywhere (1e300):
  the 8 orders of magnitude left below float64's maximum (1.8e308) are the room
  the arithmetic of scaling, forecasting (extrapolation, intervals) and the
  inverse transform needs. :func:`tsrnn.data.checks.check_finite` (fit,
  update and predict alike) and the window regressor refuse larger values.
* :data:`MIN_MAGNITUDE` -- a column whose largest ``|value|`` is non-zero but
  below 1e-305 is refused: it lies next to float64's subnormal range (below
  2.2e-308), where values and the products of the inverse transform lose
  their significant digits.
* :data:`MAX_SCALED` -- the largest ``|scaled value|`` a fitted scaling can
  produce on its own training data is below ``2 / SPREAD_RTOL`` (1.4e14);
  new data (``update``, ``predict``'s covariates) beyond :data:`MAX_SCALED`
  (1e15) is of another magnitude (other units, a glitch) and is refused the
  same way at ``fit`` and after it, so a value ``fit`` could not have produced
  never reaches the network (it would overflow float32 and the squared loss).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Largest |value| accepted in targets and covariates.
MAX_MAGNITUDE = 1e300
#: Smallest non-zero magnitude (largest |value|) of a column that can be scaled.
MIN_MAGNITUDE = 1e-305
#: A spread at most this fraction of the column's magnitude is rounding noise:
#: the column is constant (64 units in the last place).
SPREAD_RTOL = 64 * float(np.finfo(np.float64).eps)
#: Largest |scaled value| accepted (fit's own data stays below 2 / SPREAD_RTOL).
MAX_SCALED = 1e15


def location_spread(
    values: np.ndarray, kind: str, label: Callable[[int], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-column location and scale of ``values`` (n, k), NaN ignored.

    Parameters
    ----------
    values : ndarray of shape (n, k)
        float64; NaN marks a missing value; every column holds at least one
        observation (callers drop or handle unobserved columns); no inf.
    kind : {"standard", "robust"}
        Mean and standard deviation, or median and interquartile range.
    label : callable
        ``label(j)`` names column ``j`` in messages (``"y"``, ``"X column 'a'"``).

    Returns
    -------
    loc, scale : ndarray of shape (k,)
        ``scale > 0`` always. A column whose spread is at most ``SPREAD_RTOL``
        times its magnitude (a constant, to rounding) falls back to its largest
        deviation from ``loc`` (the spikes of an intermittent series whose
        interquartile range is 0), and when that is rounding noise too, to its
        magnitude (a constant ``c`` is scaled by ``|c|``, so forecasts of
        ``a * y`` are ``a`` times those of ``y``); an all-zero column gets 1.

    Raises
    ------
    ValueError
        A column whose largest ``|value|`` is non-zero but below
        :data:`MIN_MAGNITUDE`.
    """
    with np.errstate(invalid="ignore"):
        mag = np.fmax.reduce(np.abs(values), axis=0)
    tiny = (mag > 0) & (mag < MIN_MAGNITUDE)
    if tiny.any():
        j = int(np.argmax(tiny))
        raise ValueError(
            f"{label(j)} is too small to scale: its largest |value| is "
            f"{mag[j]:.3g}, below {MIN_MAGNITUDE:g} (float64 keeps few significant "
            "digits there); multiply it by a constant (e.g. a power of ten) and "
            "scale the results back"
        )
    m = np.where(mag > 0, mag, 1.0)
    u = values / m  # in [-1, 1]: its squares neither overflow nor underflow
    # without NaN the plain reductions give the same values, about five times
    # faster (a fit scales every series of a collection one by one)
    complete = not np.isnan(u).any()
    if kind == "standard":
        loc = np.mean(u, axis=0) if complete else np.nanmean(u, axis=0)
        spread = np.std(u, axis=0) if complete else np.nanstd(u, axis=0)
    elif kind == "robust":
        loc = np.median(u, axis=0) if complete else np.nanmedian(u, axis=0)
        pct = np.percentile if complete else np.nanpercentile
        q = pct(u, [25, 75], axis=0)
        spread = q[1] - q[0]
    else:  # pragma: no cover - callers pass validated options
        raise ValueError(f"unknown scaling {kind!r}")
    flat = ~(spread > SPREAD_RTOL)
    if flat.any():
        dev = np.fmax.reduce(np.abs(u - loc), axis=0)
        fallback = np.where(dev > SPREAD_RTOL, dev, 1.0)
        spread = np.where(flat, fallback, spread)
    return loc * m, spread * m


def magnitude_problem(values: np.ndarray) -> tuple | None:
    """Index of the first finite value with ``|value| > MAX_MAGNITUDE``, or None.

    NaN and inf are left to the finiteness checks; no temporary of the size of
    ``values`` is made unless a value is out of range.
    """
    if values.dtype.kind != "f" or values.size == 0:
        return None
    flat = values.reshape(-1)
    with np.errstate(invalid="ignore"):
        hi, lo = np.fmax.reduce(flat), np.fmin.reduce(flat)
    if not (hi > MAX_MAGNITUDE or lo < -MAX_MAGNITUDE):
        return None
    with np.errstate(invalid="ignore"):
        big = np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE)
    if not big.any():
        return None
    first = np.unravel_index(int(np.argmax(big)), big.shape)
    return tuple(int(i) for i in first)


def scaled_problem(scaled: np.ndarray) -> tuple | None:
    """Index of the first ``|scaled value| > MAX_SCALED`` (inf included), or None.

    NaN (a missing step) is not a problem.
    """
    if scaled.size == 0:
        return None
    with np.errstate(invalid="ignore"):
        big = np.abs(scaled) > MAX_SCALED
    if not big.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(big)), big.shape))
