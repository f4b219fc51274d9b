"""Baseline forecasters to compare a recurrent network against.

:class:`NaiveForecaster` (last value), :class:`SeasonalNaiveForecaster` (value one
season ago) and :class:`LinearARForecaster` (ridge autoregression, optional
covariates). They follow the same protocol as ``RNNForecaster``: ``fit(y, X=None)``,
``predict(horizon=None, X=None)``, ``update(y_new, X_new=None)`` (cost proportional to
the new rows), ``predict_interval`` (split conformal) and ``score``, and accept the
same inputs (arrays, pandas, long format; see :mod:`tsrnn.data`).

Missing values (NaN) in ``y`` are handled by all three: the naive forecasts use
the last *observed* value (per season position for the seasonal one); the linear
model trains on complete windows only and fills missing lag values with its own
one-step estimates, as the recurrent model does.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._constraints import Interval, validate_params
from ..data import Future, SeriesSet, check_horizon, to_series_set
from ..engine.budget import check_forecast_budget
from ..evaluation import ForecasterMixin

__all__ = ["LinearARForecaster", "NaiveForecaster", "SeasonalNaiveForecaster"]

_COMMON_CONSTRAINTS: dict = {
    "horizon": [Interval(Integral, 1, None, closed="left")],
    "freq": [
        None,
        str,
        pd.offsets.BaseOffset,
        Interval(Integral, 1, None, closed="left"),
    ],
    "id_col": [str],
    "time_col": [str],
    "target_col": [str, list],
}


class _BaseForecaster(ForecasterMixin, BaseEstimator):
    """Data plumbing shared by the baselines."""

    _uses_covariates = True

    _parameter_constraints: dict = dict(_COMMON_CONSTRAINTS)

    def _future(self, horizon: int, X: Any) -> Future:
        if not self._uses_covariates:  # X is accepted and ignored
            check_forecast_budget(horizon, self.schema_.n_series, self.schema_.n_targets)
            return Future(
                np.arange(self.schema_.n_series, dtype=np.int64), None, horizon
            )
        return self.schema_.check_future(horizon, X)

    def update(self, y_new: Any, X_new: Any = None):
        """Consume new observations that follow the data seen so far.

        The model itself is not refitted: only what it forecasts from (the last
        values, season or lags) moves on.

        Parameters
        ----------
        y_new : same format as at fit
        X_new : optional
            Required iff fit got covariates (ignored by the naive forecasters).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        with self._stream_lock():  # readers see the state before or after
            self._update_block(self.schema_.check_update(y_new, X_new))
        return self

    def predict(self, horizon: int | None = None, X: Any = None) -> Any:
        """Forecast ``horizon`` steps after the last observation seen.

        Parameters
        ----------
        horizon : int, optional
            Default: the ``horizon`` parameter. More than
            :data:`tsrnn.engine.budget.MAX_FORECAST_STEPS` (10**7) forecast
            steps, horizon times series, are refused before any work.
        X : optional
            Future covariates, required iff fit got covariates
            (``LinearARForecaster``): ``horizon`` rows, or for long format
            ``horizon`` rows per series to forecast. Ignored by the naive
            forecasters.

        Returns
        -------
        ndarray, pandas.Series or pandas.DataFrame
            In the format of ``fit``'s ``y`` (see :mod:`tsrnn.data`).
        """
        check_is_fitted(self)
        model = self._snapshot()  # one state throughout, whatever update does
        fut = model._future(check_horizon(horizon, model.horizon), X)
        return model.schema_.format_forecast(model._predict_values(fut), fut.positions)

    def _fit_seasons(self, y: Any, X: Any, m: int) -> tuple[SeriesSet, np.ndarray]:
        """Fit data and its last observed value per series, season position, target.

        The table, of shape (n_series, m, n_targets), is what the naive
        forecasters keep (``m = 1``: the last value).
        """
        data = self._fit_data(y, X)
        S, k = data.n_series, data.y.shape[1]
        short = np.flatnonzero(data.lengths < m)
        if len(short):
            # said before the (S, season_length, k) table is allocated: a
            # season_length beyond the data (10**9) would take gigabytes
            s = int(short[0])
            raise ValueError(
                f"{_series_label(data, s)} has no observation at "
                f"season position {int(data.lengths[s])} of season_length={m}; "
                f"{type(self).__name__} needs at least one full season of observed "
                f"values per series (series length {int(data.lengths[s])})"
            )
        season = _last_observed(data, np.full((S, m, k), np.nan), m)
        if np.isnan(season).any():
            s, p, _ = np.argwhere(np.isnan(season))[0]
            label = _series_label(data, int(s))
            if m == 1:
                raise ValueError(
                    f"{label} has no observed value (all NaN); drop it or provide "
                    "observations"
                )
            raise ValueError(
                f"{label} has no observation at season position {p} of "
                f"season_length={m}; {type(self).__name__} needs at least one full "
                "season of observed values per series (series length "
                f"{int(data.lengths[s])})"
            )
        return data, season

    def _fit_data(self, y: Any, X: Any) -> SeriesSet:
        validate_params(self)
        return to_series_set(
            y,
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            freq=self.freq,
        )


def _series_label(data: SeriesSet, s: int) -> str:
    """How messages name the ``s``-th series of ``data``."""
    ids = data.schema.ids
    return "the series" if ids is None else f"series {ids[data.positions[s]]!r}"


def _last_observed(
    block: SeriesSet,
    init: np.ndarray,
    period: int = 1,
    phase0: np.ndarray | None = None,
) -> np.ndarray:
    """Last non-NaN value per (series, phase, target) of ``block``, else ``init``.

    Parameters
    ----------
    block : SeriesSet
    init : ndarray of shape (n_series_of_block, period, n_targets)
        Values kept where the block observes nothing.
    period : int
        Number of phases (season length; 1 for the naive forecaster).
    phase0 : ndarray of shape (n_series_of_block,), optional
        Absolute position of each series' first row (phase = position % period).
    """
    S, k = block.n_series, block.y.shape[1]
    n = block.lengths
    seg = np.repeat(np.arange(S), n)
    local = np.arange(len(seg)) - np.repeat(block.indptr[:-1], n)
    start = np.zeros(S, np.int64) if phase0 is None else phase0
    key = seg * period + (np.repeat(start, n) + local) % period
    row = np.where(np.isnan(block.y), -1, np.arange(len(seg))[:, None])
    best = np.full((S * period, k), -1, np.int64)
    np.maximum.at(best, key, row)  # the latest observed row per (series, phase)
    out = init.reshape(S * period, k).copy()
    seen = best >= 0
    out[seen] = block.y[best[seen], np.nonzero(seen)[1]]
    return out.reshape(S, period, k)


# Declared mirror: the shared parameters (horizon, freq, id_col, time_col,
# target_col), their docstrings and fit's repeat the other baselines'; each
# public class documents itself in full, as scikit-learn's do.
class NaiveForecaster(_BaseForecaster):
    """Forecast the last observed value, for every step ahead.

    Parameters
    ----------
    horizon : int, default=1
        Steps ahead forecast by ``predict`` when its ``horizon`` is None; also the
        longest horizon ``predict_interval`` is calibrated for.
    freq : str, pandas DateOffset or int, optional
        Step between rows when it cannot be inferred from the time index
        (e.g. ``"30min"``, ``"B"``, ``"MS"``); an int step for integer indexes.
    id_col, time_col : str, default="unique_id", "ds"
        Long-format id and time columns.
    target_col : str or list of str, default="y"
        Long-format target column(s).

    Attributes
    ----------
    schema_ : SeriesSchema
        Format of the training data and where each series ends.
    last_value_ : ndarray of shape (n_series, n_targets)
        Last observed (non-NaN) value per series and target.
    conformal_scores_ : ndarray of shape (n_calib, horizon, n_targets)
        Scaled absolute errors of rolling-origin forecasts, for intervals.
    conformal_scale_ : ndarray of shape (n_series, n_targets)

    Notes
    -----
    Covariates ``X`` are accepted (so that the forecaster can stand in for models
    that use them) and ignored. NaN in ``y`` is skipped: the forecast is the last
    non-missing value.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.baselines import NaiveForecaster
    >>> NaiveForecaster().fit(np.array([1.0, 2.0, 3.0])).predict(2)
    array([3., 3.])
    """

    _uses_covariates = False

    # Declared mirror (with the other baselines): scikit-learn reads the
    # parameters from each class's own __init__.
    def __init__(
        self,
        horizon: int = 1,
        *,
        freq: Any = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: Any = "y",
    ) -> None:
        self.horizon = horizon
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    def fit(self, y: Any, X: Any = None) -> NaiveForecaster:
        """Remember the last observed value of each series.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame or long-format DataFrame
        X : optional
            Ignored (validated for alignment).

        Returns
        -------
        self
        """
        data, season = self._fit_seasons(y, X, 1)
        self.schema_ = data.schema
        self.last_value_ = season[:, 0]
        self._calibrate_conformal(data)
        return self

    def _update_block(self, block: SeriesSet) -> None:
        last = self.last_value_.copy()
        last[block.positions] = _last_observed(block, last[block.positions][:, None])[
            :, 0
        ]
        self.last_value_ = last
        self.schema_ = self.schema_.advance(block)

    def _predict_values(self, fut: Future) -> np.ndarray:
        return np.repeat(
            self.last_value_[fut.positions][:, None, :], fut.horizon, axis=1
        )


# Declared mirror: the shared parameters and their docstrings repeat
# NaiveForecaster's (see there).
class SeasonalNaiveForecaster(_BaseForecaster):
    """Forecast the value observed one season earlier.

    ``y_hat[t + j] = y[t + j - m * ceil(j / m)]`` with ``m = season_length``; with
    missing values, the last observed value at the same position in the season.

    Parameters
    ----------
    season_length : int, default=1
        Steps per season (e.g. 48 for daily seasonality in 30-minute data);
        1 reduces to :class:`NaiveForecaster`.
    horizon : int, default=1
        Steps ahead forecast by ``predict`` when its ``horizon`` is None; also the
        longest horizon ``predict_interval`` is calibrated for.
    freq : str, pandas DateOffset or int, optional
        Step between rows when it cannot be inferred from the time index
        (e.g. ``"30min"``, ``"B"``, ``"MS"``); an int step for integer indexes.
    id_col, time_col : str, default="unique_id", "ds"
        Long-format id and time columns.
    target_col : str or list of str, default="y"
        Long-format target column(s).

    Attributes
    ----------
    schema_ : SeriesSchema
    last_season_ : ndarray of shape (n_series, season_length, n_targets)
        Last observed value per series, season position and target; season
        position ``p`` holds steps ``t`` with ``t % season_length == p``, counting
        from the first row seen by fit.
    conformal_scores_, conformal_scale_ : ndarray
        See :class:`NaiveForecaster`.

    Notes
    -----
    Every series needs at least one observation at every season position (a full
    season). Covariates are accepted and ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.baselines import SeasonalNaiveForecaster
    >>> y = np.array([1.0, 5.0, 3.0, 2.0, 6.0, 4.0, 3.0, 7.0, 5.0])  # season of 3
    >>> SeasonalNaiveForecaster(season_length=3).fit(y).predict(4)
    array([3., 7., 5., 3.])
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "season_length": [Interval(Integral, 1, None, closed="left")],
    }
    _uses_covariates = False

    # Declared mirror (with the other baselines): scikit-learn reads the
    # parameters from each class's own __init__.
    def __init__(
        self,
        season_length: int = 1,
        horizon: int = 1,
        *,
        freq: Any = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: Any = "y",
    ) -> None:
        self.season_length = season_length
        self.horizon = horizon
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    def fit(self, y: Any, X: Any = None) -> SeasonalNaiveForecaster:
        """Remember the last observed season of each series.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame or long-format DataFrame
        X : optional
            Ignored (validated for alignment).

        Returns
        -------
        self
        """
        data, season = self._fit_seasons(y, X, self.season_length)
        self.schema_ = data.schema
        self.last_season_ = season
        self._calibrate_conformal(data)
        return self

    def _update_block(self, block: SeriesSet) -> None:
        season = self.last_season_.copy()
        pos = block.positions
        season[pos] = _last_observed(
            block, season[pos], self.season_length, self.schema_.n_seen[pos]
        )
        self.last_season_ = season
        self.schema_ = self.schema_.advance(block)

    def _predict_values(self, fut: Future) -> np.ndarray:
        pos, h = fut.positions, fut.horizon
        phase = (
            self.schema_.n_seen[pos, None] + np.arange(h)[None, :]
        ) % self.season_length
        return np.take_along_axis(self.last_season_[pos], phase[:, :, None], axis=1)


# Declared mirror: the shared parameters and their docstrings repeat
# NaiveForecaster's (see there).
class LinearARForecaster(_BaseForecaster):
    """Ridge linear autoregression, forecast recursively.

    One one-step model ``y_t = b + sum_l A_l y_(t-l) + B x_t + e_t`` over all
    targets (a VAR for several targets), fitted by ridge regression on standardized
    data and iterated for multi-step forecasts (each forecast becomes a lag of the
    next). Long format: one global model pooled over all series, each series
    standardized by its own mean and standard deviation (so series of any scale
    share the model, as in global neural forecasters).

    Parameters
    ----------
    lags : int or list of int, default=1
        Autoregressive lags: ``p`` means ``1..p``; a list picks lags (e.g.
        ``[1, 2, 24]``).
    alpha : float, default=1.0
        Ridge penalty on the standardized coefficients (the intercept is not
        penalized).
    horizon : int, default=1
        Steps ahead forecast by ``predict`` when its ``horizon`` is None; also the
        longest horizon ``predict_interval`` is calibrated for.
    freq : str, pandas DateOffset or int, optional
        Step between rows when it cannot be inferred from the time index
        (e.g. ``"30min"``, ``"B"``, ``"MS"``); an int step for integer indexes.
    id_col, time_col : str, default="unique_id", "ds"
        Long-format id and time columns.
    target_col : str or list of str, default="y"
        Long-format target column(s).

    Attributes
    ----------
    schema_ : SeriesSchema
    lags_ : ndarray of int
        Sorted lags used.
    coef_ : ndarray of shape (n_lags * n_targets + n_covariates, n_targets)
        Rows: for each lag in ``lags_``, one row per target; then one row per
        covariate. On the standardized scale.
    intercept_ : ndarray of shape (n_targets,)
    y_mean_, y_scale_ : ndarray of shape (n_series, n_targets)
        Per-series standardization of the targets (fixed at fit).
    x_mean_, x_scale_ : ndarray of shape (n_covariates,) or None
        Standardization of the covariates (over all rows).
    n_windows_ : int
        Complete training rows used by the regression.
    conformal_scores_, conformal_scale_ : ndarray
        See :class:`NaiveForecaster`.

    Notes
    -----
    Covariates: row ``t`` of ``X`` enters the prediction of ``y_t``, so
    ``predict`` needs the future values of ``X`` (``horizon`` rows). Missing
    values in ``y``: training uses only windows with observed target and lags;
    for forecasting, a missing value is replaced by the model's one-step estimate
    (steps before the first ``max(lags)`` of a series by the series mean).
    ``update`` costs O(new rows * lags).

    Examples
    --------
    A sine wave obeys an exact second-order recursion, which AR(2) finds:

    >>> import numpy as np
    >>> from tsrnn.baselines import LinearARForecaster
    >>> y = np.sin(0.3 * np.arange(200.0))
    >>> ar = LinearARForecaster(lags=2, alpha=1e-6).fit(y)
    >>> ar.predict(3).round(3)
    array([-0.305, -0.573, -0.789])
    >>> np.sin(0.3 * np.arange(200.0, 203.0)).round(3)
    array([-0.305, -0.573, -0.789])
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "lags": [Interval(Integral, 1, None, closed="left"), list, tuple, np.ndarray],
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    # Declared mirror (with the other baselines): scikit-learn reads the
    # parameters from each class's own __init__.
    def __init__(
        self,
        lags: Any = 1,
        alpha: float = 1.0,
        horizon: int = 1,
        *,
        freq: Any = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: Any = "y",
    ) -> None:
        self.lags = lags
        self.alpha = alpha
        self.horizon = horizon
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # ---- helpers ----------------------------------------------------------------
    @staticmethod
    def _check_window_fits(p: int, data: SeriesSet) -> None:
        """Refuse lags no series is long enough for (``max(lags) + 1`` rows)."""
        if p + 1 > int(data.lengths.max()):
            raise ValueError(
                f"no complete training window: LinearARForecaster needs at least "
                f"max(lags)+1 = {p + 1} consecutive observed steps in some series "
                f"(longest series: {int(data.lengths.max())}); lower lags or pass "
                "longer series"
            )

    def _check_lags(self) -> np.ndarray:
        if isinstance(self.lags, Integral):
            return np.arange(1, int(self.lags) + 1)
        lags = np.asarray(self.lags)
        if (
            lags.ndim != 1
            or lags.size == 0
            or lags.dtype.kind not in "iu"
            or (lags < 1).any()
        ):
            raise ValueError(
                f"lags must be a positive int or a non-empty list of positive ints, "
                f"got {self.lags!r}"
            )
        return np.unique(lags).astype(np.int64)

    def _features(self, hist: np.ndarray, x: np.ndarray | None) -> np.ndarray:
        """Regressors from histories ``hist`` (S, p, k) and covariates ``x`` (S, c)."""
        parts = [hist[:, -lag, :] for lag in self.lags_]
        if x is not None:
            parts.append(x)
        return np.concatenate(parts, axis=1)

    def _standardize(self, block: SeriesSet) -> tuple[np.ndarray, np.ndarray | None]:
        seg = np.repeat(block.positions, block.lengths)
        z = (block.y - self.y_mean_[seg]) / self.y_scale_[seg]
        xs = None if block.X is None else (block.X - self.x_mean_) / self.x_scale_
        return z, xs

    def _advance(
        self, hist: np.ndarray, block: SeriesSet, z: np.ndarray, xs: np.ndarray | None
    ) -> np.ndarray:
        """Append a block (standardized rows ``z``) to the histories ``hist``.

        ``hist`` has shape (S_b, p, k), one history per series of ``block``.

        Missing values are filled with one-step predictions from the filled lags, in
        time order, so the history the forecasts start from is always complete.
        """
        p = hist.shape[1]
        S, k = block.n_series, z.shape[1]
        n = block.lengths
        # stacked [history rows, new rows] per series
        ext_len = n + p
        ext_ptr = np.zeros(S + 1, np.int64)
        np.cumsum(ext_len, out=ext_ptr[1:])
        ext = np.empty((ext_ptr[-1], k))
        new_rows = np.repeat(ext_ptr[:-1] + p, n) + (
            np.arange(len(z)) - np.repeat(block.indptr[:-1], n)
        )
        hist_rows = (ext_ptr[:-1, None] + np.arange(p)[None, :]).ravel()
        ext[hist_rows] = hist.reshape(-1, k)
        ext[new_rows] = z
        if np.isnan(z).any():
            xe = None
            if xs is not None:
                xe = np.zeros((len(ext), xs.shape[1]))
                xe[new_rows] = xs
            # O(number of rows with a gap); each fill may feed the next one
            for g in np.flatnonzero(np.isnan(ext).any(axis=1)):
                window = ext[None, g - p : g]
                yhat = (
                    self.intercept_
                    + self._features(window, None if xe is None else xe[g : g + 1])
                    @ self.coef_
                )
                miss = np.isnan(ext[g])
                ext[g, miss] = yhat[0, miss]
        tail_rows = (ext_ptr[1:, None] - p + np.arange(p)[None, :]).ravel()
        return ext[tail_rows].reshape(S, p, k)

    # ---- protocol -----------------------------------------------------------------
    def fit(self, y: Any, X: Any = None) -> LinearARForecaster:
        """Fit the ridge autoregression on all series.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame or long-format DataFrame
        X : optional
            Covariates aligned with ``y``; then ``predict`` needs future ``X``.

        Returns
        -------
        self
        """
        data = self._fit_data(y, X)
        if isinstance(self.lags, Integral):
            # before np.arange(1, lags + 1): lags=10**9 would allocate 8 GB
            self._check_window_fits(int(self.lags), data)
        self.lags_ = self._check_lags()
        p = int(self.lags_.max())
        self._check_window_fits(p, data)
        S, k = data.n_series, data.y.shape[1]
        seg = np.repeat(np.arange(S), data.lengths)
        with np.errstate(invalid="ignore", divide="ignore"):
            counts = np.stack(
                [
                    np.bincount(seg, ~np.isnan(data.y[:, j]), minlength=S)
                    for j in range(k)
                ],
                1,
            )
            sums = np.stack(
                [
                    np.bincount(seg, np.nan_to_num(data.y[:, j]), minlength=S)
                    for j in range(k)
                ],
                1,
            )
            mean = sums / counts
            dev = (data.y - mean[seg]) ** 2
            var = (
                np.stack(
                    [
                        np.bincount(seg, np.nan_to_num(dev[:, j]), minlength=S)
                        for j in range(k)
                    ],
                    1,
                )
                / counts
            )
        if (counts == 0).any():
            s = int(np.argwhere(counts == 0)[0, 0])
            raise ValueError(
                f"{_series_label(data, s)} has no observed value "
                "(all NaN); drop it or provide observations"
            )
        scale = np.sqrt(var)
        scale[~(scale > 0)] = 1.0  # constant series: keep the level, unit scale
        self.y_mean_, self.y_scale_ = mean, scale
        if data.X is not None:
            self.x_mean_ = data.X.mean(axis=0)
            xs = data.X.std(axis=0)
            xs[~(xs > 0)] = 1.0
            self.x_scale_ = xs
        else:
            self.x_mean_ = self.x_scale_ = None
        z, xz = self._standardize(data)

        # one regression row per step with all its lags inside the same series
        local = np.arange(len(seg)) - np.repeat(data.indptr[:-1], data.lengths)
        rows = np.flatnonzero(local >= p)
        F = (
            np.concatenate(
                [z[rows - lag] for lag in self.lags_]
                + ([xz[rows]] if xz is not None else []),
                axis=1,
            )
            if len(rows)
            else np.empty((0, len(self.lags_) * k + (0 if xz is None else xz.shape[1])))
        )
        T = z[rows]
        ok = ~(np.isnan(F).any(axis=1) | np.isnan(T).any(axis=1))
        F, T = F[ok], T[ok]
        if len(F) == 0:
            raise ValueError(
                f"no complete training window: LinearARForecaster needs at least "
                f"max(lags)+1 = {p + 1} consecutive observed steps in some series "
                f"(longest series: {int(data.lengths.max())}); lower lags or pass "
                "longer series"
            )
        f_mean, t_mean = F.mean(axis=0), T.mean(axis=0)
        Fc, Tc = F - f_mean, T - t_mean
        # ridge by its normal equations (n_features is small); least squares when
        # they are singular (alpha = 0 with collinear lags)
        nf = F.shape[1]
        try:
            if self.alpha == 0:
                raise np.linalg.LinAlgError
            coef = np.linalg.solve(Fc.T @ Fc + self.alpha * np.eye(nf), Fc.T @ Tc)
        except np.linalg.LinAlgError:
            coef = np.linalg.lstsq(Fc, Tc, rcond=None)[0]
        self.coef_ = coef
        self.intercept_ = t_mean - f_mean @ coef
        self.n_windows_ = int(len(F))

        # complete histories to forecast from (missing values filled by the model)
        start = np.zeros((S, p, k))  # before a series starts: its mean
        self._history = self._advance(start, data, z, xz)
        self.schema_ = data.schema
        self._calibrate_conformal(data)
        return self

    def _update_block(self, block: SeriesSet) -> None:
        z, xz = self._standardize(block)
        hist = self._history.copy()
        hist[block.positions] = self._advance(hist[block.positions], block, z, xz)
        self._history = hist
        self.schema_ = self.schema_.advance(block)

    def _predict_values(self, fut: Future) -> np.ndarray:
        pos, h = fut.positions, fut.horizon
        hist = self._history[pos].copy()
        xs = None if fut.X is None else (fut.X - self.x_mean_) / self.x_scale_
        out = np.empty((len(pos), h, hist.shape[2]))
        for j in range(h):  # recursion over the horizon only; series are vectorized
            step = (
                self.intercept_
                + self._features(hist, None if xs is None else xs[:, j]) @ self.coef_
            )
            out[:, j] = step
            hist = np.concatenate([hist[:, 1:], step[:, None, :]], axis=1)
        return out * self.y_scale_[pos][:, None, :] + self.y_mean_[pos][:, None, :]
