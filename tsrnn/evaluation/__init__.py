"""Evaluating forecasters: walk-forward, conformal intervals, ``score``.

The forecaster protocol (``RNNForecaster`` and the baselines follow it):

* a scikit-learn ``BaseEstimator`` with a ``horizon`` constructor parameter;
* ``fit(y, X=None) -> self`` stores ``self.schema_`` (the
  :class:`~tsrnn.data.SeriesSchema` of :func:`~tsrnn.data.to_series_set`);
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

from .conformal import (
    DEFAULT_CALIBRATION_WINDOWS,
    conformal_errors,
    conformal_quantile,
    conformal_scores,
    series_scale,
    signed_conformal_bounds,
)
from .mixin import ForecasterMixin, IntervalFallbackWarning
from .walk import Origin, feed, forecast_at, walk_forward

__all__ = [
    "DEFAULT_CALIBRATION_WINDOWS",
    "ForecasterMixin",
    "Origin",
    "conformal_errors",
    "conformal_quantile",
    "conformal_scores",
    "feed",
    "forecast_at",
    "series_scale",
    "signed_conformal_bounds",
    "walk_forward",
]
