"""What every forecaster gets from the protocol: ``score`` and ``predict_interval``."""

from __future__ import annotations

import copy
import threading
import warnings
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..data import Future, SeriesSet, check_horizon
from .conformal import (
    DEFAULT_CALIBRATION_WINDOWS,
    check_levels,
    conformal_errors,
    conformal_quantile,
    conformal_window,
    enough_for_tails,
    forget_online_conformal,
    pool_keys,
    pool_limit,
    random_walk_half_width,
    refresh_scores,
    sample_pool,
    series_scale,
    signed_conformal_bounds,
)
from .walk import has_fast_path, walk_forward

_LOCK = "_tsrnn_stream_lock"


class IntervalFallbackWarning(UserWarning):
    """Intervals made by a fallback (no or too few calibration residuals)."""


class ForecasterMixin:
    """``score`` and ``predict_interval`` for forecasters following the protocol.

    See the module docstring for the protocol. Fitted attributes set by
    :meth:`_calibrate_conformal`: ``conformal_errors_`` (signed scaled errors)
    and ``conformal_scores_`` (their absolute values) of shape
    ``(n_calib, horizon, n_targets)`` and ``conformal_scale_`` of shape
    ``(n_series, n_targets)``.

    Threads: ``update`` (and ``partial_fit``) hold the model's lock
    (:meth:`_stream_lock`) from start to end, and every reader (``predict``,
    ``predict_interval``, ``score``, ``save``) takes a :meth:`_snapshot` of the
    fitted attributes under that lock, then computes from the snapshot without
    it. Writers replace attributes (never change their arrays in place), so a
    snapshot stays what it was: a forecast made while another thread updates
    is the forecast of the state before or after that update, never of a mix,
    and readers still run in parallel.
    """

    def _stream_lock(self) -> threading.RLock:
        """This model's lock (created on first use; never pickled or copied)."""
        lock = self.__dict__.get(_LOCK)
        if lock is None:
            # dict.setdefault is atomic: two first users get the same lock
            lock = self.__dict__.setdefault(_LOCK, threading.RLock())
        return lock

    def _snapshot(self):
        """A consistent read-only view of this model: its attributes, copied under
        the lock into a new instance (the arrays are shared, not copied)."""
        with self._stream_lock():
            attrs = dict(self.__dict__)
        attrs.pop(_LOCK, None)
        view = object.__new__(type(self))
        view.__dict__.update(attrs)
        return view

    def __getstate__(self):
        # pickle, copy and deepcopy go through here: a lock cannot be pickled,
        # and a copy gets its own lock on first use
        getstate = getattr(super(), "__getstate__", None)  # none on 3.10's object
        state = dict((getstate() if getstate else None) or self.__dict__)
        state.pop(_LOCK, None)
        return state

    def score(self, y: Any, X: Any = None, *, metric: Any = None) -> float:
        """Forecast skill on the block that follows the fitted data (higher is better).

        The block is walked: forecast ``horizon`` steps from the current state,
        compare with the truth, ``update`` with those observations, repeat (the last
        forecast may be shorter). A copy of the forecaster is walked, so this one is
        unchanged. Higher is better, as scikit-learn expects, so that
        ``GridSearchCV(forecaster, cv=TimeSeriesSplit(...)).fit(y)`` and
        ``cross_validate`` work (they call ``fit(y_train)`` then ``score(y_test)``;
        with covariates, ``.fit(y, X)`` passes them as the second argument).
        ``TimeSeriesSplit`` splits rows, so it suits one series (arrays, pandas);
        for a long-format frame use :func:`tsrnn.backtest.backtest` instead.

        A string ``scoring`` such as ``"neg_mean_absolute_error"`` cannot score a
        forecaster: scikit-learn's scorers compare ``predict(X_test)`` with a
        ``y_test``, and a forecaster has one series, no ``(X, y)`` pairs. Use
        ``scoring=tsrnn.metrics.make_forecast_scorer("neg_mean_absolute_error")``
        (it calls this method with the metric), or leave ``scoring=None``.

        Parameters
        ----------
        y : array-like, pandas object or long-format DataFrame
            Observations directly after the last one seen, in the format of ``fit``.
        X : optional
            Their covariates, if the forecaster uses covariates.
        metric : callable, optional
            ``metric(y_true, y_pred) -> float``, an error (lower is better),
            applied once to every observed (non-NaN) truth of the block and its
            forecast, pooled over the walk's origins (1-D arrays). Default: the
            mean absolute error.

        Returns
        -------
        float
            ``-metric`` (by default ``-MAE``) over all observed values of ``y``.
        """
        check_is_fitted(self)
        if metric is not None and not callable(metric):
            raise TypeError(
                f"metric must be a callable metric(y_true, y_pred) -> float, got "
                f"{metric!r}; for a name use tsrnn.metrics.make_forecast_scorer"
            )
        est = copy.deepcopy(self._snapshot())
        est._forget_intervals()  # point forecasts only
        block = est.schema_.check_update(y, X)
        h = check_horizon(getattr(self, "horizon", None), 1)
        truths, preds = [], []
        for origin in walk_forward(est, block, h, step=h):
            for t, p in zip(origin.y_true, origin.y_pred, strict=True):
                seen = ~np.isnan(t)
                truths.append(t[seen])
                preds.append(p[seen])
        y_true = np.concatenate(truths) if truths else np.empty(0)
        if y_true.size == 0:
            raise ValueError("y has no observed (non-NaN) values to score against")
        y_pred = np.concatenate(preds)
        if metric is None:
            return -float(np.abs(y_true - y_pred).mean())
        return -float(metric(y_true, y_pred))

    def _forget_intervals(self) -> None:
        """Drop the conformal pool of a copy that forecasts points only
        (``score``'s walk: ``update`` then refreshes no pool)."""
        self.__dict__.pop("conformal_scores_", None)
        self.__dict__.pop("conformal_errors_", None)

    #: What ``predict_interval(method=...)`` can give for this estimator
    #: ("auto" takes the first).
    _interval_methods: tuple[str, ...] = ("conformal",)

    # Declared mirror: MarkovChainForecaster and EnsembleForecaster repeat this
    # signature and its Parameters (one interval API, their own bodies).
    def predict_interval(
        self,
        horizon: int | None = None,
        X: Any = None,
        coverage: float | None = None,
        *,
        level: Any = None,
        method: str = "auto",
    ) -> Any:
        """Prediction intervals around :meth:`predict`, at one or several levels.

        Split-conformal (``method="conformal"``): for each forecast step ``j``,
        each bound's offset from the forecast is the finite-sample conformal
        quantile of the signed ``j``-step errors of rolling-origin forecasts
        made at fit time on a calibration tail, one per tail (see
        :func:`signed_conformal_bounds`: skewed errors give a skewed band),
        scaled per series (see :func:`series_scale`); with too few errors for
        that (:func:`enough_for_tails`: the pool's weight over the horizon,
        its non-overlapping forecasts, must reach ``2 / alpha - 1``), the
        half-width is the quantile of their absolute values
        (:func:`conformal_quantile`, a symmetric band). Where there are no calibration
        residuals (series too short for a tail) or too few for the level, the
        band falls back to a Gaussian random walk on each series' mean one-step
        change (:func:`random_walk_half_width`) with a warning saying why,
        never silently no band.

        Parameters
        ----------
        horizon : int, optional
            Default: the ``horizon`` parameter; at most the ``horizon`` used at fit.
        X : optional
            Future covariates, as for ``predict``.
        coverage : float, optional
            One nominal coverage, as a fraction (0.9) or a percentage (90);
            kept for compatibility, ``level`` is the same.
        level : float or list of float, optional
            Nominal coverage(s) in percent (``90``, ``[80, 95]``; fractions are
            read as such). Default: 90.
        method : {"auto", "conformal", "distribution", "quantile", "samples"}, \
default="auto"
            How the bounds are made, among what the estimator can give
            (``_interval_methods``; ``"auto"`` takes the first): split-conformal
            bands around the point forecast; a likelihood head's quantiles; a
            quantile head's (interpolated) levels; quantiles of sample paths.

        Returns
        -------
        tuple of ndarray or pandas.DataFrame
            Arrays: ``(lower, upper)`` shaped like ``predict``'s output, with a
            leading level axis when ``level`` is a list. pandas and long format:
            the bounds as columns ``{target}-lo-{pct}`` and ``{target}-hi-{pct}``
            for every target and level (Nixtla's naming; long format keeps the
            id and time columns first); ``attrs["levels"]`` lists the
            percentages.
        """
        check_is_fitted(self)
        coverages, several = check_levels(level, coverage)
        chosen = self._check_interval_method(method)
        model = self._snapshot()  # one state throughout, whatever update does
        h = check_horizon(horizon, getattr(model, "horizon", 1))
        fut = None
        if has_fast_path(model):
            fut = model._future(h, X)
            pos, values = fut.positions, model._predict_values(fut)
        else:
            pos, values = model.schema_.parse_forecast(model.predict(horizon=h, X=X))
        bounds = []
        for c in coverages:  # a loop, not a comprehension: warnings' stacklevel
            bounds.append(model._bounds(pos, values, c, chosen, fut))
        if not several:
            lower, upper = bounds[0]
            return model.schema_.format_interval(lower, upper, coverages[0], pos)
        lowers, uppers = zip(*bounds, strict=True)
        return model.schema_.format_interval(list(lowers), list(uppers), coverages, pos)

    def _check_interval_method(self, method: Any) -> str:
        offered = self._interval_methods
        if method == "auto":
            return offered[0]
        if method not in offered:
            raise ValueError(
                f"{type(self).__name__} gives intervals by method "
                f"{' or '.join(repr(m) for m in offered)} (or 'auto'), got {method!r}"
            )
        return method

    def _bounds(
        self,
        positions: np.ndarray,
        values: np.ndarray,
        coverage: float,
        method: str,
        fut: Future | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounds by ``method`` (one of :attr:`_interval_methods`, or "auto").

        ``fut``: the forecast's future (None without the fast path). Estimators
        whose heads give quantiles or paths override this; the default is
        :meth:`_interval_bounds` (conformal), refused for a method the
        estimator does not offer.
        """
        self._check_interval_method(method)
        return self._interval_bounds(positions, values, coverage)

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
        h = values.shape[1]
        if h > scores.shape[1]:
            raise ValueError(
                f"intervals are calibrated for up to {scores.shape[1]} step(s) (the "
                f"horizon at fit); set horizon={h} in the constructor and refit"
            )
        scale = self.conformal_scale_[positions]
        reason = None
        if len(scores) == 0:
            reason = getattr(self, "_conformal_note", "the series is too short")
            reason = f"no calibration residuals: {reason}"
        else:
            w_all = getattr(self, "conformal_weights_", None)
            w = None if w_all is None else w_all[:, :h]
            errors = getattr(self, "conformal_errors_", None)
            signed = errors is not None and errors.shape == scores.shape
            # overlapping forecasts of the fit's horizon: counted over all of it
            if signed and enough_for_tails(scores, coverage, w_all):
                try:  # one quantile per tail: a skewed band where errors are
                    lo, hi = signed_conformal_bounds(errors[:, :h], coverage, w)
                    return (
                        values + lo[None, :, :] * scale[:, None, :],
                        values + hi[None, :, :] * scale[:, None, :],
                    )
                except ValueError:  # too few for a tail: the symmetric band
                    pass
            try:
                q = conformal_quantile(scores[:, :h], coverage, w)
            except ValueError as exc:  # too few residuals for this level
                reason = str(exc)
        if reason is not None:
            warnings.warn(
                f"{type(self).__name__}: no conformal interval at "
                f"{100 * coverage:g}% ({reason}); falling back to a Gaussian "
                "random walk on each series' mean one-step change. Fit on longer "
                "series for calibrated intervals",
                IntervalFallbackWarning,
                stacklevel=3,
            )
            half = random_walk_half_width(scale, coverage, h)
        else:
            half = q[None, :, :] * scale[:, None, :]
        return values - half, values + half

    def _refreshed_conformal(self, block: SeriesSet) -> tuple | None:
        """The conformal pool with the errors of the forecasts over ``block``.

        What ``update`` calls *before* it advances the state (online
        conformal): from the current state, each series of ``block`` is
        forecast over its new rows (at most ``horizon`` of them, with their
        covariates); the scaled absolute errors against the observed values
        enter the pool, weighing the rows the block holds, and as much of the
        oldest weight leaves it (:func:`refresh_scores`). Needs the
        array-level protocol (``_predict_values``); ``block``'s positions are
        this model's.

        Returns
        -------
        (scores, weights, window, errors) or None
            The new ``conformal_scores_``, ``conformal_weights_``,
            ``conformal_window_`` and ``conformal_errors_`` (None for a pool
            saved before signed errors were kept: it stays absolute); None
            when there is no pool to refresh.
        """
        scores = getattr(self, "conformal_scores_", None)
        if scores is None or not has_fast_path(self):
            return None
        weights = getattr(self, "conformal_weights_", None)
        window = getattr(self, "conformal_window_", None)
        if window is None:  # fitted, or saved before online conformal
            window = conformal_window(scores, weights)
        h, k = scores.shape[1], scores.shape[2]
        hs = np.minimum(block.lengths, h)
        index = np.flatnonzero(hs > 0)
        rows = np.full((len(index), h, k), np.nan)
        if block.X is None:
            groups = [(int(hs.max()), index)] if len(index) else []
        else:  # covariates exist only for the block's rows
            groups = [(int(v), index[hs[index] == v]) for v in np.unique(hs[index])]
        where = {int(i): r for r, i in enumerate(index)}
        for hv, sel in groups:
            Xf = None
            if block.X is not None:
                Xf = block.subset(sel).take(0, hv).X.reshape(len(sel), hv, -1)
            pos = np.asarray(block.positions)[sel]
            pred = self._predict_values(Future(pos, Xf, hv))
            for r, i in enumerate(sel):
                n = int(hs[i])
                truth = block.series_y(i)[:n]
                err = (truth - pred[r, :n]) / self.conformal_scale_[pos[r]]
                rows[where[int(i)], :n] = err
        # the new origin stands for the block's rows: the origins it skipped
        errors = getattr(self, "conformal_errors_", None)
        lengths = block.lengths[index]
        if errors is None or errors.shape != scores.shape:  # an older, absolute pool
            new = refresh_scores(scores, weights, np.abs(rows), lengths, window)
            return (*new, window, None)
        # the same rows and weights leave both pools: refresh the signed one
        errors, weights = refresh_scores(errors, weights, rows, lengths, window)
        return np.abs(errors), weights, window, errors

    def _calibrate_conformal(
        self, data: SeriesSet, n_windows: int = DEFAULT_CALIBRATION_WINDOWS
    ) -> None:
        """Store conformal residuals for :meth:`predict_interval`; call at end of fit.

        A clone is fitted on each series without its tail (at most ``n_windows +
        horizon - 1`` rows, at most half the series), then walked over the tail one
        step at a time (:func:`conformal_errors`), so the residuals are honest
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
        self.conformal_errors_ = np.empty((0, h, k))
        forget_online_conformal(self)
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
        errors = conformal_errors(est, data.take(n - tail, n), h, self.conformal_scale_)
        limit = pool_limit(h)
        if len(errors) > limit:
            # a collection of many series: a sample of pool_limit rows, as the
            # forecaster's pool (the smallest keys of a fixed stream: the
            # baselines draw nothing else), so the model's memory stops
            # growing with the series while the quantiles stay measurable
            errors, _ = sample_pool(errors, pool_keys(0, 0, len(errors)), limit)
        self.conformal_errors_ = errors
        self.conformal_scores_ = np.abs(self.conformal_errors_)
