"""Split-conformal intervals: residuals from a walk, quantiles, per-series scales.

The residuals are honest out-of-sample errors of rolling-origin forecasts over a
calibration tail (:func:`conformal_errors`), scaled per series so that one pool
serves series of different scales (:func:`series_scale`). An interval's bounds
are the finite-sample conformal quantiles of the signed errors, one per tail
(:func:`signed_conformal_bounds`): skewed errors get a skewed band and each
bound is a one-sided quantile (a value-at-risk). With too few independent
errors for that (:func:`enough_for_tails`), the half-width is the conformal
quantile of their absolute values (:func:`conformal_quantile`), which pools
both tails.
"""

from __future__ import annotations

import math
import numbers
from statistics import NormalDist
from typing import Any

import numpy as np

from ..data import SeriesSet
from ..data.checks import check_level
from .walk import walk_forward

#: Forecast origins per series used by :meth:`ForecasterMixin._calibrate_conformal`.
DEFAULT_CALIBRATION_WINDOWS = 100

#: Residuals per horizon step a fitted pool keeps: above, a seeded sample of
#: this many rows (:func:`pool_limit`). The conformal quantile at level ``p``
#: of ``n`` exchangeable residuals stands for a coverage with standard error
#: ``sqrt(p (1 - p) / n)``: at ``n = 10,000`` that is 0.40 percentage points at
#: 80 %, 0.30 at 90 %, 0.22 at 95 %, 0.16 at a 97.5 % tail (a 95 % signed band)
#: and 0.10 at 99 %, below the gaps of one to a few points between nominal and
#: measured coverage (``docs/probabilistic.md``); more residuals buy nothing
#: measurable, and the pool (``8 n h k`` bytes per array) stops growing with
#: the collection.
MAX_POOL_RESIDUALS = 10_000

#: Non-overlapping forecasts a sampled pool keeps at least: a signed band at
#: 99 % needs ``2 / 0.01 - 1 = 199`` of them (:func:`enough_for_tails` counts
#: the rows divided by the horizon), so a long horizon keeps ``200 h`` rows.
MIN_POOL_FORECASTS = 200

_POOL_STREAM = 0x706F6F6C  # "pool": the sampling keys' own random stream


def pool_limit(horizon: int) -> int:
    """Rows a fitted conformal pool keeps at most (a seeded sample above).

    ``max(MAX_POOL_RESIDUALS, MIN_POOL_FORECASTS * horizon)``: see both.
    """
    return max(MAX_POOL_RESIDUALS, MIN_POOL_FORECASTS * int(horizon))


def pool_keys(seed: int, piece: int, n: int) -> np.ndarray:
    """Sampling keys of ``n`` pool rows: uniform draws from ``(seed, piece)``.

    The sample of a pool is the rows of its smallest keys
    (:func:`sample_pool`). ``piece`` numbers the parts a pool is made of when
    they are calibrated apart (a distributed fit's partitions); a whole
    collection calibrated at once is piece 0. Keeping the smallest keys is
    mergeable: the sample of the union of parts is the sample of the union of
    their samples, so workers send at most the limit each, and one part
    numbered 0 samples exactly as the in-process fit.
    """
    return np.random.default_rng([int(seed), _POOL_STREAM, int(piece)]).random(n)


def sample_pool(
    rows: np.ndarray, keys: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``limit`` rows of the smallest ``keys``, in their order in ``rows``.

    At or below ``limit`` rows, ``rows`` and ``keys`` unchanged (no sampling).
    Ties (draws of 53 bits: in practice none) keep the earlier row.
    """
    if len(rows) <= limit:
        return rows, keys
    pick = np.sort(np.argsort(keys, kind="stable")[:limit])
    return rows[pick], keys[pick]


def series_scale(data: SeriesSet) -> np.ndarray:
    """Typical one-step change per series and target: ``mean |y_t - y_{t-1}|``.

    Conformal scores are divided by it so that one pool of residuals serves series
    of different scales (a long-format frame of many series). Falls back to
    ``mean |y|``, then 1, where the change is zero or undefined.

    Returns
    -------
    ndarray of shape (n_series, n_targets)
    """
    S, k = data.n_series, data.y.shape[1]
    seg = np.repeat(np.arange(S), data.lengths)
    out = np.ones((S, k))
    if len(seg) > 1:
        same = seg[1:] == seg[:-1]
        d = np.abs(np.diff(data.y, axis=0))[same]
        s = seg[1:][same]
        ok = ~np.isnan(d)
        for j in range(k):
            num = np.bincount(s, np.where(ok[:, j], d[:, j], 0.0), minlength=S)
            cnt = np.bincount(s, ok[:, j], minlength=S)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, j] = num / cnt
    absy = np.abs(data.y)
    ok = ~np.isnan(absy)
    for j in range(k):
        num = np.bincount(seg, np.where(ok[:, j], absy[:, j], 0.0), minlength=S)
        cnt = np.bincount(seg, ok[:, j], minlength=S)
        with np.errstate(invalid="ignore", divide="ignore"):
            level = num / cnt
        bad = ~(out[:, j] > 0) | ~np.isfinite(out[:, j])
        out[bad, j] = level[bad]
    out[~(out > 0) | ~np.isfinite(out)] = 1.0
    return out


def conformal_scores(
    est: Any, tail: SeriesSet, horizon: int, scale: np.ndarray
) -> np.ndarray:
    """Scaled absolute residuals: ``abs`` of :func:`conformal_errors`."""
    return np.abs(conformal_errors(est, tail, horizon, scale))


def conformal_errors(
    est: Any, tail: SeriesSet, horizon: int, scale: np.ndarray
) -> np.ndarray:
    """Scaled signed residuals of rolling-origin forecasts over a calibration tail.

    ``est`` must be fitted on the data *before* ``tail`` (and is walked over it, so
    it is modified). Origins advance one step at a time; only origins with all
    ``horizon`` steps inside the tail count.

    Parameters
    ----------
    est : forecaster
    tail : SeriesSet
        Calibration rows following ``est``'s data.
    horizon : int
    scale : ndarray of shape (n_series_of_schema, n_targets)
        From :func:`series_scale` (indexed by schema position).

    Returns
    -------
    ndarray of shape (n_calib, horizon, n_targets)
        ``(y - y_hat) / scale``, NaN where the truth is missing.
    """
    rows = []
    for origin in walk_forward(est, tail, horizon, step=1, full_only=True):
        pairs = zip(origin.positions, origin.y_true, origin.y_pred, strict=True)
        for p, t, yp in pairs:
            rows.append((t - yp) / scale[p])
    if not rows:
        return np.empty((0, horizon, tail.y.shape[1]))
    return np.stack(rows)


def refresh_scores(
    scores: np.ndarray,
    weights: np.ndarray | None,
    new: np.ndarray,
    new_weight: Any,
    window: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The pool of residuals with ``new`` ones in, the oldest out (online conformal).

    ``new`` rows are the errors of forecasts made before the observations that
    ``update`` brought, one row per series; each weighs the rows its update
    advanced the series by (``new_weight``): the fit-time pool has one
    forecast origin per row, an update of ``L`` rows brings one origin whose
    errors stand for the ``L`` origins it skipped. Then, per forecast step and
    target, only the newest residuals up to a total weight of ``window`` are
    kept (the one across the limit keeps the remainder of its weight). The
    pool thus keeps covering the last ``window`` origins and follows the errors
    the model makes *now*: a calibration tail from a calm period stops
    deciding the width through a turbulent one, and the reverse (a rolling
    form of the adaptive conformal inference of Gibbs & Candes, 2021).

    Parameters
    ----------
    scores : ndarray of shape (n, horizon, n_targets)
        The pool, oldest first (NaN: no residual).
    weights : ndarray of shape (n, horizon, n_targets) or None
        Their weights (None: all 1, a pool as fit makes it).
    new : ndarray of shape (m, horizon, n_targets)
        The newest residuals (NaN for steps whose truth is not known).
    new_weight : float or array-like of shape (m,)
        Weight of each new row.
    window : float
        Total weight kept per step and target.

    Returns
    -------
    scores, weights : ndarray of shape (n', horizon, n_targets)
        New arrays (the inputs are not modified); rows left with no residual
        are dropped.
    """
    old_w = np.ones_like(scores) if weights is None else weights
    new_w = np.broadcast_to(
        np.asarray(new_weight, dtype=np.float64).reshape(-1, 1, 1), new.shape
    )
    pool = np.concatenate([scores, new], axis=0)
    w = np.concatenate([old_w, new_w], axis=0)
    w[np.isnan(pool)] = 0.0
    newer = np.cumsum(w[::-1], axis=0)[::-1] - w  # weight of the newer residuals
    w = np.clip(float(window) - newer, 0.0, w)
    pool[w <= 0] = np.nan
    w[np.isnan(pool)] = 0.0
    keep = (w > 0).any(axis=(1, 2))
    return pool[keep], w[keep]


def conformal_window(scores: np.ndarray, weights: np.ndarray | None) -> float:
    """Weight an online pool keeps: the fit-time pool's, at least
    :data:`DEFAULT_CALIBRATION_WINDOWS` origins (a small pool grows to it)."""
    finite = ~np.isnan(scores)
    total = finite if weights is None else np.where(finite, weights, 0.0)
    have = float(total.sum(axis=0).max()) if len(scores) else 0.0
    return max(have, float(DEFAULT_CALIBRATION_WINDOWS))


def forget_online_conformal(model: Any) -> None:
    """Drop what ``update`` added to a model's conformal pool (a new fit)."""
    model.__dict__.pop("conformal_weights_", None)
    model.__dict__.pop("conformal_window_", None)


def conformal_quantile(
    scores: np.ndarray, coverage: float, weights: np.ndarray | None = None
) -> np.ndarray:
    """Finite-sample split-conformal quantile per horizon step and target.

    With ``n`` finite scores, the ``ceil((n + 1) * coverage)``-th smallest, i.e. the
    empirical quantile at level ``(n + 1)(1 - alpha) / n`` with
    ``alpha = 1 - coverage``:
    for exchangeable scores the interval then covers with probability at least
    ``coverage`` (Vovk et al., 2005; Lei et al., 2018).

    Parameters
    ----------
    scores : ndarray of shape (n, horizon, n_targets)
        NaN entries are ignored.
    coverage : float in (0, 1)
    weights : ndarray of shape (n, horizon, n_targets), optional
        Weight of each residual (see :func:`refresh_scores`); the quantile is
        then that of the weighted residuals plus a weight of 1 at infinity for
        the forecast to come (Barber et al., 2023). Integer weights give the
        quantile of a pool holding each residual that many times.

    Returns
    -------
    ndarray of shape (horizon, n_targets)

    Raises
    ------
    ValueError
        Fewer than ``coverage / (1 - coverage)`` scores (the interval would be
        infinite).
    """
    if weights is not None:
        return _weighted_quantile(scores, coverage, weights)
    n = np.sum(~np.isnan(scores), axis=0)
    rank = np.ceil((n + 1) * coverage - 1e-9).astype(np.int64)  # 1-based
    if (rank > n).any():
        _too_few(float(n.min()), coverage)
    ordered = np.sort(scores, axis=0)  # NaN sorts last
    return np.take_along_axis(ordered, (rank - 1)[None], axis=0)[0]


def signed_conformal_bounds(
    errors: np.ndarray, coverage: float, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of a band's bounds from the forecast: one conformal quantile per tail.

    The upper offset is the finite-sample conformal quantile
    (:func:`conformal_quantile`) of the signed errors ``y - y_hat`` at
    ``1 - alpha / 2``, the lower one minus that of ``-(y - y_hat)``: each bound
    is missed with probability at most ``alpha / 2`` for exchangeable errors,
    so the band covers at least ``coverage`` (Lei et al., 2018, Sec. 5.2;
    Romano et al., 2019's asymmetric variant). Unlike the quantile of
    ``|y - y_hat|`` (a band symmetric about the forecast), a skewed error
    distribution gets a skewed band and each bound is the one-sided quantile
    (a lower bound of a 98 % band is a 1 % value-at-risk); it needs twice as
    many errors (``2 / alpha - 1``).

    Parameters
    ----------
    errors : ndarray of shape (n, horizon, n_targets)
        Signed scaled errors (NaN entries are ignored).
    coverage : float in (0, 1)
    weights : ndarray like ``errors``, optional
        As for :func:`conformal_quantile`.

    Returns
    -------
    lower, upper : ndarray of shape (horizon, n_targets)
        The bounds are ``y_hat + lower * scale`` and ``y_hat + upper * scale``;
        ``lower <= 0 <= upper`` (an offset that would leave the forecast
        outside the band is set to 0).

    Raises
    ------
    ValueError
        Too few errors for a one-sided quantile at ``1 - alpha / 2``.
    """
    tail = 1.0 - (1.0 - coverage) / 2.0
    upper = conformal_quantile(errors, tail, weights)
    lower = -conformal_quantile(-errors, tail, weights)
    # a biased model's errors can all lie on one side; the band still holds the
    # forecast (an offset past it becomes 0: wider, never less coverage)
    return np.minimum(lower, 0.0), np.maximum(upper, 0.0)


def enough_for_tails(
    scores: np.ndarray, coverage: float, weights: np.ndarray | None = None
) -> bool:
    """Whether a pool holds enough *independent* errors for one quantile per tail.

    A tail at ``1 - alpha / 2`` needs ``2 / alpha - 1`` errors. The pool's
    origins advance one step at a time while each forecast spans ``horizon``
    steps, so neighbouring origins share most of their errors (a day-long
    demand surprise spoils 48 of them): the pool is counted as its weight
    divided by the horizon, the number of non-overlapping forecasts it holds.
    Below that, the symmetric band of the absolute errors pools both tails
    and is the steadier one (measured: Victoria demand, h = 48, a pool of
    about 30 days, 95 % bands).

    Parameters
    ----------
    scores : ndarray of shape (n, horizon, n_targets)
    coverage : float in (0, 1)
    weights : ndarray like ``scores``, optional
    """
    finite = ~np.isnan(scores)
    total = finite if weights is None else np.where(finite, weights, 0.0)
    if not total.size:
        return False
    have = float(total.sum(axis=0).min()) / scores.shape[1]
    return have >= 2.0 / (1.0 - coverage) - 1.0 - 1e-9


def _weighted_quantile(scores, coverage, weights):
    w = np.where(np.isnan(scores), 0.0, weights)
    order = np.argsort(scores, axis=0)  # NaN sorts last (weight 0)
    s = np.take_along_axis(scores, order, axis=0)
    cw = np.cumsum(np.take_along_axis(w, order, axis=0), axis=0)
    total = cw[-1] if len(cw) else np.zeros(scores.shape[1:])
    need = coverage * (total + 1.0) - 1e-9
    if (need > total).any():
        _too_few(float(total.min()), coverage)
    first = np.argmax(cw >= need[None], axis=0)
    return np.take_along_axis(s, first[None], axis=0)[0]


def _too_few(n: float, coverage: float) -> None:
    need = math.ceil(coverage / (1 - coverage) - 1e-9)
    raise ValueError(
        f"too few calibration residuals ({n:g}) for coverage={coverage}: "
        f"split-conformal intervals need at least {need}. Lower the coverage, "
        "fit on a longer series, or use a smaller horizon"
    )


def check_coverage(coverage: Any, name: str = "coverage") -> float:
    """``coverage`` as a fraction: :func:`tsrnn.data.checks.check_level`."""
    return check_level(coverage, name)


def check_levels(level: Any, coverage: Any) -> tuple[list[float], bool]:
    """The requested coverages as fractions, and whether several were asked for.

    ``level`` (one number or a list, percentages or fractions) and the older
    ``coverage`` (one number) name the same thing; give one of them. Neither:
    a 90 % interval.

    Returns
    -------
    fractions : list of float
        In the order given, duplicates removed.
    several : bool
        ``level`` was a list or tuple: the bounds get a leading level axis
        (arrays) and a column pair per level (pandas).
    """
    if level is not None and coverage is not None:
        raise ValueError("pass level (e.g. level=[80, 95]) or coverage, not both")
    if level is None:
        return [check_coverage(0.9 if coverage is None else coverage)], False
    if isinstance(level, (list, tuple, np.ndarray)):
        if len(level) == 0:
            raise ValueError("level is empty; pass e.g. level=[80, 95]")
        out: list[float] = []
        for value in level:
            frac = check_coverage(value, "each level")
            if frac not in out:
                out.append(frac)
        return out, True
    return [check_coverage(level, "level")], False


def random_walk_half_width(
    scale: np.ndarray, coverage: float, horizon: int
) -> np.ndarray:
    """Half-widths of Gaussian random-walk intervals, ``(n_series, horizon, k)``.

    The fallback when no calibration residuals exist: the one-step changes of
    each series (mean absolute change ``scale``, :func:`series_scale`) are taken
    as Gaussian with ``sigma = scale * sqrt(pi / 2)``, and the ``j``-step error
    of a random walk grows as ``sigma * sqrt(j)``.
    """
    z = NormalDist().inv_cdf(0.5 + coverage / 2)
    sigma = np.asarray(scale, dtype=np.float64) * math.sqrt(math.pi / 2)
    steps = np.sqrt(np.arange(1, horizon + 1, dtype=np.float64))
    return z * sigma[:, None, :] * steps[None, :, None]
