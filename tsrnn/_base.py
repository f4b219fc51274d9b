"""Behaviour shared by every series forecaster: ``score``, conformal intervals, walks.

The forecaster protocol (``RNNForecaster`` and the baselines follow it):

* a scikit-learn ``BaseEstimator`` with a ``horizon`` constructor parameter;
* ``fit(y, X=None) -> self`` stores ``self.schema_`` (the
  :class:`~tsrnn._series.SeriesSchema` of :func:`~tsrnn._series.to_series_set`);
* ``predict(horizon=None, X=None)`` forecasts the steps after the last observation
  seen, in the user's format (``schema_.format_forecast``);
* ``update(y_new, X_new=None) -> self`` consumes new observations (and advances
  ``schema_``).

Optional fast path: a forecaster that also defines the two array-level hooks

* ``_predict_values(fut: Future) -> ndarray (len(fut.positions), fut.horizon,
  n_targets)`` -- what ``predict`` computes after ``schema_.check_future``, and
* ``_update_block(block: SeriesSet) -> None`` -- what ``update`` does after
  ``schema_.check_update`` (including ``self.schema_ = self.schema_.advance(block)``),

lets ``score``, conformal calibration and backtests skip the round trips through
pandas (same numbers, many times faster for short steps). Public ``predict`` /
``update`` are then one line around them.

:class:`ForecasterMixin` then provides ``score`` (for ``GridSearchCV`` /
``cross_validate`` with ``TimeSeriesSplit``) and ``predict_interval`` (split-conformal
intervals), using only that public protocol. A forecaster calls
``self._calibrate_conformal(data)`` at the end of ``fit`` to store the residuals the
intervals need; :func:`conformal_scores` is the lower-level piece for forecasters that
already hold a model fitted without the calibration tail.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .data import Future, SeriesSchema, SeriesSet, check_horizon

__all__ = [
    "DEFAULT_CALIBRATION_WINDOWS",
    "ForecasterMixin",
    "Origin",
    "conformal_quantile",
    "conformal_scores",
    "series_scale",
    "walk_forward",
]

#: Forecast origins per series used by :meth:`ForecasterMixin._calibrate_conformal`.
DEFAULT_CALIBRATION_WINDOWS = 100


@dataclass
class Origin:
    """One forecast origin of :func:`walk_forward`.

    Attributes
    ----------
    offset : int
        Rows of the walked block consumed before this forecast (per series).
    index : ndarray of shape (n_forecast,)
        Which series of the block were forecast (indices into the block).
    positions : ndarray of shape (n_forecast,)
        Their positions in the block's schema.
    y_true, y_pred : list of ndarray of shape (h_i, n_targets)
        Truth and forecast per forecast series (``h_i <= horizon`` at a block end).
    lower, upper : list of ndarray or None
        Interval bounds when a ``coverage`` was requested.
    predict_time : float
        Seconds spent in ``predict`` (and ``predict_interval``) at this origin.
    update_time : float
        Seconds of the ``update`` that led to this origin (0 for the first).
    """

    offset: int
    index: np.ndarray
    positions: np.ndarray
    y_true: list
    y_pred: list
    lower: list | None
    upper: list | None
    predict_time: float
    update_time: float


def _estimator_positions(est_schema: SeriesSchema, block: SeriesSet) -> np.ndarray:
    """Positions of ``block``'s series in the estimator's schema (matched by id)."""
    if est_schema.ids is None:
        return np.zeros(block.n_series, np.int64)
    ids = block.schema.ids.take(block.positions)
    pos = est_schema.ids.get_indexer(ids)
    if (pos < 0).any():
        raise ValueError("the forecaster does not know some series of the data")
    return pos


def _has_fast_path(est: Any) -> bool:
    return hasattr(est, "_predict_values") and hasattr(est, "_update_block")


def _forecast_at(
    est: Any,
    block: SeriesSet,
    offset: int,
    horizons: np.ndarray,
    index: np.ndarray,
    coverage: float | None,
) -> tuple[list, list, list | None, list | None, float]:
    """Forecast series ``index`` of ``block`` from row ``offset`` (``horizons[i]``)."""
    schema = block.schema
    est_pos = _estimator_positions(est.schema_, block)
    fast = _has_fast_path(est)
    hs = horizons[index]
    if block.X is None:
        groups = [(int(hs.max()), index)]
    else:
        # future covariates exist only up to each series' block end, so series with
        # the same remaining horizon are forecast together
        groups = [(int(hv), index[hs == hv]) for hv in np.unique(hs)]
    preds: dict[int, np.ndarray] = {}
    lows: dict[int, np.ndarray] = {}
    ups: dict[int, np.ndarray] = {}
    t0 = time.perf_counter()
    for hv, sel in groups:
        future = (
            None if block.X is None else block.subset(sel).take(offset, offset + hv)
        )
        if fast:
            Xf = None if future is None else future.X.reshape(len(sel), hv, -1)
            fut = Future(est_pos[sel], Xf, hv)
            vals = est._predict_values(fut)
            pos = fut.positions
            if coverage is not None:
                lo, hi = est._interval_bounds(pos, vals, coverage)
        else:
            Xf = None if future is None else schema.covariates_to_user(future)
            pos, vals = est.schema_.parse_forecast(est.predict(horizon=hv, X=Xf))
            if coverage is not None:
                out = est.predict_interval(horizon=hv, X=Xf, coverage=coverage)
                ipos, lo, hi = est.schema_.parse_interval(out, coverage)
                if not np.array_equal(ipos, pos):
                    raise ValueError(
                        "predict_interval returned other series than predict"
                    )
        row = {int(p): r for r, p in enumerate(pos)}
        for i in sel:
            r = row[int(est_pos[i])]
            preds[int(i)] = vals[r, : horizons[i]]
            if coverage is not None:
                lows[int(i)] = lo[r, : horizons[i]]
                ups[int(i)] = hi[r, : horizons[i]]
    elapsed = time.perf_counter() - t0
    truth = [block.series_y(i)[offset : offset + horizons[i]] for i in index]
    pred = [preds[int(i)] for i in index]
    if coverage is None:
        return truth, pred, None, None, elapsed
    return (
        truth,
        pred,
        [lows[int(i)] for i in index],
        [ups[int(i)] for i in index],
        elapsed,
    )


def _feed(est: Any, block: SeriesSet, chunk: SeriesSet) -> float:
    """``est.update`` with ``chunk`` (rows of ``block``); returns the seconds spent."""
    t0 = time.perf_counter()
    if _has_fast_path(est):
        est_pos = np.full(block.schema.n_series, -1, np.int64)
        est_pos[block.positions] = _estimator_positions(est.schema_, block)
        est._update_block(
            dataclasses.replace(chunk, positions=est_pos[chunk.positions])
        )
    else:
        est.update(*block.schema.to_user(chunk))
    return time.perf_counter() - t0


def walk_forward(
    est: Any,
    block: SeriesSet,
    horizon: int,
    *,
    step: int | None = None,
    n_origins: int | None = None,
    full_only: bool = False,
    coverage: float | None = None,
) -> Iterator[Origin]:
    """Walk a fitted forecaster over the block that follows its data.

    At each origin: forecast ``horizon`` steps from the current state (fewer at the
    end of a series unless ``full_only``), yield the forecast with the truth, then
    ``update`` the forecaster with the next ``step`` rows. Only the public protocol
    is used (``predict``, ``predict_interval``, ``update``); ``est`` is modified.

    Parameters
    ----------
    est : forecaster
        Fitted on the data just before ``block``.
    block : SeriesSet
        The following observations (e.g. ``schema.check_update(y)`` or a ``take``).
    horizon : int
    step : int, optional
        Rows consumed between origins (default: ``horizon``).
    n_origins : int, optional
        Stop after this many origins.
    full_only : bool, default=False
        Forecast only series with ``horizon`` rows left (no truncated horizons).
    coverage : float, optional
        Also call ``predict_interval`` with this coverage.

    Yields
    ------
    Origin
    """
    step = horizon if step is None else int(step)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    lengths = block.lengths
    offset = 0
    done = 0
    update_time = 0.0
    while n_origins is None or done < n_origins:
        rem = lengths - offset
        active = rem >= horizon if full_only else rem > 0
        if not active.any():
            return
        index = np.flatnonzero(active)
        horizons = np.minimum(np.maximum(rem, 0), horizon)
        truth, pred, lo, hi, ptime = _forecast_at(
            est, block, offset, horizons, index, coverage
        )
        yield Origin(
            offset,
            index,
            block.positions[index],
            truth,
            pred,
            lo,
            hi,
            ptime,
            update_time,
        )
        done += 1
        rem_next = lengths - (offset + step)
        more = (rem_next >= horizon if full_only else rem_next > 0).any()
        if not more or (n_origins is not None and done >= n_origins):
            return
        update_time = _feed(est, block, block.take(offset, offset + step))
        offset += step


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
    """Scaled absolute residuals of rolling-origin forecasts over a calibration tail.

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
        ``|y - y_hat| / scale``, NaN where the truth is missing.
    """
    rows = []
    for origin in walk_forward(est, tail, horizon, step=1, full_only=True):
        pairs = zip(origin.positions, origin.y_true, origin.y_pred, strict=True)
        for p, t, yp in pairs:
            rows.append(np.abs(t - yp) / scale[p])
    if not rows:
        return np.empty((0, horizon, tail.y.shape[1]))
    return np.stack(rows)


def conformal_quantile(scores: np.ndarray, coverage: float) -> np.ndarray:
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

    Returns
    -------
    ndarray of shape (horizon, n_targets)

    Raises
    ------
    ValueError
        Fewer than ``coverage / (1 - coverage)`` scores (the interval would be
        infinite).
    """
    n = np.sum(~np.isnan(scores), axis=0)
    rank = np.ceil((n + 1) * coverage - 1e-9).astype(np.int64)  # 1-based
    if (rank > n).any():
        need = math.ceil(coverage / (1 - coverage) - 1e-9)
        raise ValueError(
            f"too few calibration residuals ({int(n.min())}) for coverage={coverage}: "
            f"split-conformal intervals need at least {need}. Lower the coverage, "
            "fit on a longer series, or use a smaller horizon"
        )
    ordered = np.sort(scores, axis=0)  # NaN sorts last
    return np.take_along_axis(ordered, (rank - 1)[None], axis=0)[0]


def _check_coverage(coverage: Any) -> float:
    if isinstance(coverage, bool) or not isinstance(coverage, numbers.Real):
        raise TypeError(f"coverage must be a float in (0, 1), got {coverage!r}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1) (e.g. 0.9), got {coverage}")
    return float(coverage)


class ForecasterMixin:
    """``score`` and ``predict_interval`` for forecasters following the protocol.

    See the module docstring for the protocol. Fitted attributes set by
    :meth:`_calibrate_conformal`: ``conformal_scores_`` of shape
    ``(n_calib, horizon, n_targets)`` and ``conformal_scale_`` of shape
    ``(n_series, n_targets)``.
    """

    def score(self, y: Any, X: Any = None) -> float:
        """Negative mean absolute error on the block that follows the fitted data.

        The block is walked: forecast ``horizon`` steps from the current state,
        compare with the truth, ``update`` with those observations, repeat (the last
        forecast may be shorter). A copy of the forecaster is walked, so this one is
        unchanged. Higher is better, as scikit-learn expects, so that
        ``GridSearchCV(forecaster, cv=TimeSeriesSplit(...)).fit(y)`` and
        ``cross_validate`` work (they call ``fit(y_train)`` then ``score(y_test)``;
        with covariates, ``.fit(y, X)`` passes them as the second argument).
        ``TimeSeriesSplit`` splits rows, so it suits one series (arrays, pandas);
        for a long-format frame use :func:`tsrnn.backtest.backtest` instead.

        Parameters
        ----------
        y : array-like, pandas object or long-format DataFrame
            Observations directly after the last one seen, in the format of ``fit``.
        X : optional
            Their covariates, if the forecaster uses covariates.

        Returns
        -------
        float
            ``-MAE`` over all observed (non-NaN) values of ``y``.
        """
        check_is_fitted(self)
        est = copy.deepcopy(self)
        block = est.schema_.check_update(y, X)
        h = check_horizon(getattr(self, "horizon", None), 1)
        total, count = 0.0, 0
        for origin in walk_forward(est, block, h, step=h):
            for t, p in zip(origin.y_true, origin.y_pred, strict=True):
                seen = ~np.isnan(t)
                total += float(np.abs(t[seen] - p[seen]).sum())
                count += int(seen.sum())
        if count == 0:
            raise ValueError("y has no observed (non-NaN) values to score against")
        return -total / count

    def predict_interval(
        self, horizon: int | None = None, X: Any = None, coverage: float = 0.9
    ) -> Any:
        """Split-conformal prediction intervals around :meth:`predict`.

        For each forecast step ``j``, the half-width is the finite-sample conformal
        quantile (see :func:`conformal_quantile`) of the absolute ``j``-step errors
        of rolling-origin forecasts made at fit time on a calibration tail, scaled
        per series (see :func:`series_scale`).

        Parameters
        ----------
        horizon : int, optional
            Default: the ``horizon`` parameter; at most the ``horizon`` used at fit.
        X : optional
            Future covariates, as for ``predict``.
        coverage : float, default=0.9
            Target probability that the truth lies inside.

        Returns
        -------
        tuple of ndarray or pandas.DataFrame
            Arrays: ``(lower, upper)`` shaped like ``predict``'s output. pandas: a
            DataFrame with columns ``lower``/``upper`` (a ``(target, bound)``
            MultiIndex for several targets). Long: ``{target}_lo_{pct}`` and
            ``{target}_hi_{pct}`` columns.
        """
        check_is_fitted(self)
        coverage = _check_coverage(coverage)
        h = check_horizon(horizon, getattr(self, "horizon", 1))
        if _has_fast_path(self):
            fut = self._future(h, X)
            pos, values = fut.positions, self._predict_values(fut)
        else:
            pos, values = self.schema_.parse_forecast(self.predict(horizon=h, X=X))
        lower, upper = self._interval_bounds(pos, values, coverage)
        return self.schema_.format_interval(lower, upper, coverage, pos)

    def _future(self, horizon: int, X: Any) -> Future:
        """Validated future covariates; forecasters that ignore ``X`` override this."""
        return self.schema_.check_future(horizon, X)

    def _interval_bounds(
        self, positions: np.ndarray, values: np.ndarray, coverage: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conformal bounds around point forecasts ``values`` (S', h, k)."""
        scores = getattr(self, "conformal_scores_", None)
        if scores is None:
            raise AttributeError(
                f"{type(self).__name__}.fit did not calibrate intervals "
                "(conformal_scores_ is missing)"
            )
        if len(scores) == 0:
            reason = getattr(self, "_conformal_note", "the series is too short")
            raise ValueError(
                f"no calibration residuals for intervals ({reason}); fit on a longer "
                "series"
            )
        h = values.shape[1]
        if h > scores.shape[1]:
            raise ValueError(
                f"intervals are calibrated for up to {scores.shape[1]} step(s) (the "
                f"horizon at fit); set horizon={h} in the constructor and refit"
            )
        q = conformal_quantile(scores[:, :h], coverage)
        half = q[None, :, :] * self.conformal_scale_[positions][:, None, :]
        return values - half, values + half

    def _calibrate_conformal(
        self, data: SeriesSet, n_windows: int = DEFAULT_CALIBRATION_WINDOWS
    ) -> None:
        """Store conformal residuals for :meth:`predict_interval`; call at end of fit.

        A clone is fitted on each series without its tail (at most ``n_windows +
        horizon - 1`` rows, at most half the series), then walked over the tail one
        step at a time (:func:`conformal_scores`), so the residuals are honest
        out-of-sample errors. Costs one more fit on the shorter data.

        Parameters
        ----------
        data : SeriesSet
            What ``fit`` received (from ``to_series_set``).
        n_windows : int
            Forecast origins per series.
        """
        h = check_horizon(getattr(self, "horizon", None), 1)
        k = data.y.shape[1]
        self.conformal_scale_ = series_scale(data)
        self.conformal_scores_ = np.empty((0, h, k))
        if getattr(self, "_tsrnn_calibrating", False):
            return  # this is the calibration clone itself
        n = data.lengths
        tail = np.minimum(n_windows + h - 1, n // 2)
        tail = np.where(tail >= h, tail, 0)
        if not tail.any():
            self._conformal_note = (
                f"every series is shorter than {2 * h} steps, leaving no "
                "calibration tail"
            )
            return
        est = clone(self)
        est._tsrnn_calibrating = True
        y_head, X_head = data.schema.to_user(data.take(0, n - tail))
        try:
            est.fit(y_head, X_head)
        except ValueError as exc:  # e.g. the head is too short for this model
            self._conformal_note = f"fitting without the calibration tail failed: {exc}"
            return
        self.conformal_scores_ = conformal_scores(
            est, data.take(n - tail, n), h, self.conformal_scale_
        )
