"""Reading user data: the one place where forecaster inputs and outputs are normalized.

Every forecaster (``RNNForecaster``, the baselines) goes through this package, so
the same inputs are accepted, the same errors raised and the same output shapes
returned everywhere. Nothing here modifies a user's array or DataFrame: values are
always copied into fresh float64 arrays.

Modules, one job each:

* :mod:`.checks` -- the input checks every entry point uses (dtypes, missing and
  infinite values, magnitudes, masked arrays, counts, time order, the window
  models' ``X``/``y``);
* :mod:`.scaling` -- location and spread of data of any magnitude (1e-305 to
  1e300), shared by the forecaster's scaler and the window regressor;
* :mod:`.long` -- the one parser of long-format frames;
* :mod:`.timeaxis` -- time and frequency arithmetic;
* :mod:`.calendar` -- seasonal periods and calendar features of a time axis;
* :mod:`.normalize` -- reading ``y``/``X`` (wide, long, future covariates);
* :mod:`.containers` -- :class:`SeriesSet` and :class:`Future`;
* :mod:`.schema` -- :class:`SeriesSchema` and :func:`to_series_set`.

API summary (for forecaster authors)
------------------------------------
A forecaster's ``fit`` / ``update`` / ``predict`` are three calls each::

    data = to_series_set(y, X, id_col=..., time_col=..., target_col=...,
                         freq=self.freq)              # fit: validate + normalize
    self.schema_ = data.schema                        # keep what fit saw
    ...train on data.y / data.X / data.indptr...

    block = self.schema_.check_update(y_new, X_new)   # update: validated continuation
    ...advance the state of series block.positions over block.y...
    self.schema_ = self.schema_.advance(block)        # new ends, after success only

    h = check_horizon(horizon, self.horizon)          # predict
    fut = self.schema_.check_future(h, X)             # future covariates per series
    values = ...                                      # (len(positions), h, n_targets)
    return self.schema_.format_forecast(values, fut.positions)

``to_series_set(y, X=None, *, id_col="unique_id", time_col="ds", target_col="y",
freq=None, allow_nan=True) -> SeriesSet``
    Validate and normalize ``fit`` data.
``SeriesSet`` (frozen) -- all series stacked in a ``data + indptr`` layout:
    ``y`` (N, n_targets) float64, NaN allowed (gaps), never inf;
    ``X`` (N, n_covariates) float64 or None, always finite;
    ``indptr`` (n_series + 1,) int64: series ``i`` is rows ``indptr[i]:indptr[i+1]``;
    ``positions`` (n_series,) int64: each series' position in ``schema`` order
    (``arange`` at fit, the updated subset after ``check_update``);
    ``time`` ``pd.Index`` (N,) or None; ``schema``; ``lengths``, ``n_series``,
    ``series_y(i)``, ``series_X(i)``, ``take(start, stop)``, ``subset(sel)``.
``SeriesSchema`` (frozen) -- what fit saw and where every series ends now:
    ``kind``, ``target_names``, ``covariate_names``, ``ids``, ``freq``, ``last``,
    ``n_seen``, ``n_series``, ``n_targets``, ``n_covariates``;
    ``check_update(y_new, X_new) -> SeriesSet`` (validated continuation);
    ``advance(block) -> SeriesSchema`` (the schema once ``block`` is consumed);
    ``check_future(horizon, X) -> Future(positions, X (S', h, n_cov) | None, horizon)``;
    ``format_forecast(values (S', h, n_targets), positions=None)`` -> user format;
    ``format_interval(lower, upper, coverage, positions=None)`` -> user format;
    ``parse_forecast(pred)`` / ``parse_interval(out, coverage)``: the inverses;
    ``future_index(horizon, positions=None)``; ``to_user(block) -> (y, X)``;
    ``covariates_to_user(block)``; ``to_dict()`` / ``SeriesSchema.from_dict(d)``.
``check_horizon(horizon, default) -> int``

With :class:`tsrnn.evaluation.ForecasterMixin` (``score``, ``predict_interval``), the
array-level middles of ``predict`` and ``update`` become the hooks
``_predict_values(fut) -> values`` and ``_update_block(block)`` (the latter ending
with the ``advance``), and ``fit`` ends with ``self._calibrate_conformal(data)``;
see that module.

Input conventions (the user-facing contract)
--------------------------------------------
``y`` is one of

* a 1-D array or ``pd.Series`` (one target; ``kind`` ``"array1d"`` / ``"series"``),
* a 2-D array ``(n_steps, n_targets)`` or ``pd.DataFrame`` (several targets of one
  series; ``"array2d"`` / ``"frame"``),
* a long-format ``pd.DataFrame`` holding an ``id_col`` column (many series,
  ``"long"``): columns ``id_col``, ``time_col`` and ``target_col`` (a name or a
  list of names for several targets). Rows may come in any order; they are
  sorted by (id, time), series keep the order of their first appearance.

Rows are consecutive time steps. A pandas index must be a ``DatetimeIndex`` or
``PeriodIndex`` on a regular frequency (inferred, or given as ``freq``), or an
integer index with a constant step (``RangeIndex``). Missing steps are rows of
NaN (``y.asfreq(freq)``), never absent rows, because a recurrent state advances
one step per row.

``X`` (optional covariates) is aligned row by row with ``y``: an array or pandas
object with one row per row of ``y`` (when both are pandas, the indexes must be
equal). Row ``t`` of ``X`` holds the covariates known at time ``t``. In long
format, covariates are either the extra columns of ``y`` (every column other
than id, time and targets, as in statsforecast) or, when ``X`` is given, the
non-key columns of a long-format ``X`` with exactly the same (id, time) rows.
At ``predict``, future covariates come in the same shapes: ``horizon`` rows (wide)
or ``horizon`` rows per series with the future timestamps (long; series absent
from ``X`` are not forecast). NaN in ``X`` is an error.

A NumPy masked array is read with its mask: masked values of ``y`` are missing
steps (NaN), as pandas reads them; masked covariates are an error (``X`` must
be complete). Values beyond ``1e300`` in magnitude are refused everywhere
(``fit``, ``update``, ``predict``): see :mod:`.scaling`.

``update`` data must continue every series it touches exactly one step after its
last row seen (on the frequency; gaps are NaN rows), in the format of ``fit``; a
long frame may cover a subset of the series; plain arrays may continue a pandas
fit (their timestamps are generated from the frequency).

Output conventions
------------------
Forecasts mirror the input of ``fit``: a 1-D array ``(h,)`` / 2-D ``(h, n_targets)``
for arrays; a ``pd.Series`` (one target) / ``pd.DataFrame`` (several) indexed by
the future timestamps for pandas; a long frame with ``id_col``, ``time_col`` and
one column per target for long input.

Covariates of dtype ``category``, ``object`` or ``string`` are categorical:
``fit`` learns their categories (``SeriesSchema.categories``) and every reader
gives their codes; a value not seen at fit reads the reserved unknown code with
an :class:`UnknownCategoryWarning` (:mod:`.categorical`). Covariates named in
``past_covariates`` (``SeriesSchema.past_names``) are read by ``fit`` and
``update`` only: ``check_future`` never asks for them.

Intervals: arrays -> a tuple ``(lower, upper)`` shaped like the forecast (with a
leading level axis when several levels are asked for); pandas and long format ->
columns ``{target}-lo-{pct}`` / ``{target}-hi-{pct}`` per target and level
(Nixtla's naming: ``y-lo-80``, ``y-hi-80`` for ``level=80``), indexed by the
future timestamps for pandas, after ``id_col`` and ``time_col`` for long input;
``attrs["levels"]`` lists the percentages.
"""

from .categorical import UnknownCategoryWarning
from .checks import check_horizon
from .containers import Future, SeriesSet
from .schema import SeriesSchema, interval_column_names, to_series_set

__all__ = [
    "Future",
    "SeriesSchema",
    "SeriesSet",
    "UnknownCategoryWarning",
    "check_horizon",
    "interval_column_names",
    "to_series_set",
]
