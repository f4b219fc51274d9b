"""Series I/O: the one place where forecaster inputs and outputs are normalized.

Every forecaster (``RNNForecaster``, the baselines) goes through this module, so
the same inputs are accepted, the same errors raised and the same output shapes
returned everywhere. Nothing here modifies a user's array or DataFrame: values are
always copied into fresh float64 arrays.

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

With :class:`tsrnn._base.ForecasterMixin` (``score``, ``predict_interval``), the
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

Intervals: arrays -> a tuple ``(lower, upper)`` shaped like the forecast; a
``pd.Series`` fit -> a DataFrame with columns ``lower`` and ``upper``; a DataFrame
fit -> a DataFrame with two column levels ``(target, "lower" | "upper")``; long ->
columns ``id_col``, ``time_col`` and ``{target}_lo_{pct}`` / ``{target}_hi_{pct}``
per target (e.g. ``y_lo_90``, ``y_hi_90`` for ``coverage=0.9``, as statsforecast).
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

__all__ = [
    "Future",
    "SeriesSchema",
    "SeriesSet",
    "check_horizon",
    "interval_column_names",
    "to_series_set",
]

WIDE_KINDS = ("array1d", "array2d", "series", "frame")
_FREQ_HINT = "e.g. '30min', 'h', 'D', 'B', 'W-SUN', 'MS', 'ME'"


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def check_horizon(horizon: Any, default: Any = 1) -> int:
    """Return ``horizon`` (or ``default`` when it is None) as a positive int.

    Parameters
    ----------
    horizon : int or None
        Requested number of steps ahead.
    default : int
        Used when ``horizon`` is None (usually the estimator's ``horizon``).

    Raises
    ------
    TypeError, ValueError
        Not an integer, or smaller than 1.
    """
    h = default if horizon is None else horizon
    if isinstance(h, bool) or not isinstance(h, numbers.Integral):
        raise TypeError(f"horizon must be a positive int, got {h!r}")
    if h < 1:
        raise ValueError(f"horizon must be >= 1, got {h}")
    return int(h)


def interval_column_names(target: Any, coverage: float) -> tuple[str, str]:
    """Long-format interval column names, e.g. ``("y_lo_90", "y_hi_90")``."""
    pct = f"{100 * coverage:.10g}"
    return f"{target}_lo_{pct}", f"{target}_hi_{pct}"


def _infer_freq(index: pd.Index) -> Any:
    """``pd.infer_freq`` returning an offset (or None), without pandas' warnings."""
    if len(index) < 3:
        return None
    try:
        # pandas >= 3.1 warns unless the future behaviour (offset return) is chosen
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(index)
    except (pd.errors.OptionError, KeyError):  # older pandas: a string
        freq = pd.infer_freq(index)
    except (TypeError, ValueError):
        return None
    return None if freq is None else to_offset(freq)


def _freq_str(freq: Any) -> str:
    return str(freq) if isinstance(freq, numbers.Integral) else freq.freqstr


def _shift(labels: pd.Index, freq: Any, k: int) -> pd.Index:
    """``labels`` moved ``k`` steps of ``freq`` (``k`` may be negative, never 0)."""
    if isinstance(labels, pd.PeriodIndex):
        return labels + k
    if isinstance(freq, numbers.Integral):
        return labels + k * int(freq)
    with warnings.catch_warnings():
        # a few offsets (custom business days) are applied element-wise, which
        # pandas reports as a PerformanceWarning; the result is correct either way
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        try:
            return labels + k * freq
        except Exception as exc:  # pytz's Ambiguous/NonExistentTimeError
            if "Time" not in type(exc).__name__ or labels.tz is None:
                raise
            raise ValueError(
                f"a step of {_freq_str(freq)} from this tz-aware time index lands "
                f"on a local time that a daylight-saving change makes ambiguous or "
                f"nonexistent ({exc}); convert the index to UTC "
                "(y.tz_convert('UTC')) or use local times at midnight"
            ) from exc


def _labels_equal(a: pd.Index, b: pd.Index) -> np.ndarray:
    return np.asarray(a == b, dtype=bool)


def _describe(x: Any) -> str:
    if isinstance(x, (pd.Timestamp, pd.Period)):
        return str(x)
    if isinstance(x, np.generic):
        x = x.item()
    return repr(x)


def _check_numeric_dtype(dtype: Any, what: str) -> None:
    """Raise TypeError unless ``dtype`` is real numeric (bool and complex refused)."""
    if isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(
            f"{what} is categorical; forecasters need numbers: encode it first "
            "(e.g. pd.get_dummies or .cat.codes)"
        )
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError(f"{what} is boolean; cast it explicitly with .astype(float)")
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(f"{what} is complex; pass real values (e.g. np.abs or .real)")
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        raise TypeError(
            f"{what} holds datetimes/timedeltas, not numbers; put timestamps in the "
            "index (y.set_index('ds')) or, for long format, in the time column"
        )
    if not pd.api.types.is_numeric_dtype(dtype):
        raise TypeError(
            f"{what} has dtype {dtype}; forecasters need numbers: convert it with "
            "pd.to_numeric(..., errors='coerce') or .astype(float)"
        )


def _pandas_values(obj: pd.Series | pd.DataFrame, what: str) -> np.ndarray:
    """Copy a pandas object into a new float64 2-D array (pd.NA becomes NaN)."""
    if isinstance(obj, pd.Series):
        _check_numeric_dtype(obj.dtype, what)
        arr = obj.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)[:, None]
    else:
        for col, dtype in obj.dtypes.items():
            _check_numeric_dtype(dtype, f"{what} column {col!r}")
        arr = obj.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    # pandas may hand back a read-only view (copy-on-write); ours must be private
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def _array_values(obj: Any, what: str) -> np.ndarray:
    """Copy an array-like into a new float64 array (rank unchanged)."""
    arr = np.asarray(obj)
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{what} is boolean; cast it explicitly with .astype(float)")
    if kind == "c":
        raise TypeError(f"{what} is complex; pass real values (e.g. np.abs or .real)")
    if kind not in "fiu":
        raise TypeError(
            f"{what} has dtype {arr.dtype}; forecasters need numbers: convert it "
            "first (e.g. .astype(float) or pd.to_numeric)"
        )
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def _check_finite(
    values: np.ndarray, what: str, allow_nan: bool, names: Sequence | None = None
) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    inf = np.isinf(values)
    if inf.any():
        row, col = np.argwhere(inf)[0]
        where = f"row {row}" + (f", column {names[col]!r}" if names is not None else "")
        raise ValueError(
            f"{what} contains {int(inf.sum())} infinite value(s) (first at {where}); "
            "replace them with NaN (missing) or clip them"
        )
    if not allow_nan:
        row, col = np.argwhere(~finite)[0]
        where = f"row {row}" + (f", column {names[col]!r}" if names is not None else "")
        raise ValueError(
            f"{what} contains {int((~finite).sum())} NaN value(s) (first at {where}); "
            "covariates must be complete: impute them (e.g. X.ffill().bfill()) or "
            "drop the column"
        )


def _check_unique_columns(frame: pd.DataFrame, what: str) -> None:
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise ValueError(
            f"{what} has duplicate column names {list(pd.unique(dup))}; every target "
            "and covariate needs its own name: rename them (e.g. df.columns = [...])"
        )


def _is_long(y: Any, id_col: str) -> bool:
    return isinstance(y, pd.DataFrame) and id_col in y.columns


# --------------------------------------------------------------------------------------
# time axes
# --------------------------------------------------------------------------------------


def _index_type(index: pd.Index, what: str) -> str:
    """Classify a time axis: "datetime", "period" or "int"; raise for anything else."""
    if isinstance(index, pd.DatetimeIndex):
        return "datetime"
    if isinstance(index, pd.PeriodIndex):
        return "period"
    if pd.api.types.is_integer_dtype(index.dtype) and not pd.api.types.is_bool_dtype(
        index.dtype
    ):
        return "int"
    hint = ""
    if isinstance(index, pd.MultiIndex):
        raise TypeError(
            f"{what} is a MultiIndex; for many series pass a long-format DataFrame "
            "(e.g. y.reset_index() with columns unique_id, ds, y)"
        )
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        hint = (
            " If it holds date strings, convert it with pd.to_datetime(...); if it "
            "mixes time zones, with pd.to_datetime(..., utc=True)."
        )
    raise TypeError(
        f"{what} has dtype {index.dtype}; use a DatetimeIndex, a PeriodIndex or an "
        f"integer index (positions).{hint}"
    )


def _check_order(
    time: pd.Index, seg: np.ndarray | None, what: str, ids: pd.Index | None = None
) -> None:
    """Strictly increasing time within each segment (``seg``: series code per row)."""
    if time.hasnans:
        raise ValueError(f"{what} contains missing timestamps (NaT); drop those rows")
    if len(time) < 2:
        return
    prev, nxt = time[:-1], time[1:]
    same = np.ones(len(time) - 1, bool) if seg is None else seg[1:] == seg[:-1]
    dup = _labels_equal(prev, nxt) & same
    where = ""
    if dup.any():
        i = int(np.argmax(dup))
        if ids is not None and seg is not None:
            where = f" of series {ids[seg[i + 1]]!r}"
        how = (
            "y.groupby(level=0).mean()"
            if ids is None
            else "df.groupby([id, time]).mean()"
        )
        raise ValueError(
            f"{what}{where} has duplicate timestamps (first: {_describe(nxt[i])}); "
            f"aggregate them (e.g. {how}) or drop duplicates"
        )
    back = np.asarray(prev > nxt, dtype=bool) & same
    if back.any():
        i = int(np.argmax(back))
        raise ValueError(
            f"{what} is not sorted (at {_describe(prev[i])} then {_describe(nxt[i])}); "
            "sort it first, e.g. y.sort_index()"
        )


def _resolve_freq(
    time: pd.Index, itype: str, starts: np.ndarray, freq: Any, what: str
) -> Any:
    """The step of a time axis: a pandas offset, or an int for integer indexes.

    ``starts`` are the first rows of each series in ``time`` (sorted, stacked).
    """
    ends = np.append(starts[1:], len(time))
    if itype == "period":
        pfreq = time.freq
        if freq is not None and to_offset(freq) != pfreq:
            raise ValueError(
                f"{what} is a PeriodIndex with freq {pfreq.freqstr}, but freq={freq!r} "
                "was given; drop freq or convert the index (.asfreq)"
            )
        return pfreq
    if itype == "int":
        if freq is not None and (
            isinstance(freq, bool) or not isinstance(freq, numbers.Integral)
        ):
            raise TypeError(
                f"{what} is an integer index, so freq must be an int step or None, "
                f"got {freq!r}; for timestamps use a DatetimeIndex"
            )
        if freq is not None:
            if freq < 1:
                raise ValueError(f"freq (integer step) must be >= 1, got {freq}")
            return int(freq)
        steps = np.diff(np.asarray(time, dtype=np.int64))
        inside = np.ones(len(steps), bool)
        inside[ends[:-1] - 1] = False  # pairs across two series are not steps
        steps = steps[inside[: len(steps)]]
        if steps.size == 0:
            return 1
        return int(steps.min())
    # datetime
    if freq is not None:
        try:
            return to_offset(freq)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"freq={freq!r} is not a pandas frequency ({_FREQ_HINT})"
            ) from exc
    if len(starts) == 1 and getattr(time, "freq", None) is not None:
        return time.freq
    # the longest few series decide; _check_regular then verifies every series
    lengths = ends - starts
    found: dict[Any, int] = {}
    for i in np.argsort(-lengths, kind="stable")[:20]:
        if lengths[i] < 3:
            break
        f = _infer_freq(time[starts[i] : ends[i]])
        if f is not None:
            found[f] = found.get(f, 0) + 1
    if not found:
        example = "'30min'"
        if len(time) >= 2:
            # the most common spacing makes the hint concrete (a gap is rarer)
            key = _time_key(time)
            same = np.ones(len(time) - 1, bool)
            same[ends[:-1] - 1] = False
            steps = np.diff(key)[same[: len(key) - 1]]
            if steps.size:
                vals, counts = np.unique(steps, return_counts=True)
                try:
                    example = repr(
                        to_offset(pd.Timedelta(int(vals[np.argmax(counts)]))).freqstr
                    )
                except (TypeError, ValueError):
                    pass
        raise ValueError(
            f"could not infer a regular frequency from {what} (too few timestamps, or "
            f"irregular spacing); pass freq= ({_FREQ_HINT}). If some steps are "
            "missing, reindex onto a regular grid so that they become NaN rows, e.g. "
            f"y.asfreq({example})"
        )
    return max(found, key=found.get)


def _check_regular(
    time: pd.Index,
    itype: str,
    seg: np.ndarray | None,
    starts: np.ndarray,
    freq: Any,
    what: str,
    ids: pd.Index | None = None,
) -> None:
    """Every series steps by exactly one ``freq`` (and starts on it)."""
    if ids is not None:
        fix = (
            "missing steps must be rows with NaN targets (add the absent "
            "(id, time) rows), or pass the right freq="
        )
    elif itype == "int":
        fix = (
            "missing steps must be rows of NaN (e.g. y.reindex(range(first, last + "
            "step, step))), or pass the right freq= (int step)"
        )
    else:
        fix = (
            f"missing steps must be rows of NaN (reindex onto the grid, e.g. "
            f"y.asfreq('{_freq_str(freq)}')), or pass the right freq="
        )
    if len(time) >= 2:
        expected = _shift(time[:-1], freq, 1)
        same = np.ones(len(time) - 1, bool) if seg is None else seg[1:] == seg[:-1]
        bad = ~_labels_equal(expected, time[1:]) & same
        if bad.any():
            i = int(np.argmax(bad))
            where = "" if ids is None or seg is None else f" (series {ids[seg[i]]!r})"
            raise ValueError(
                f"{what}{where} is not regular at frequency {_freq_str(freq)}: after "
                f"{_describe(time[i])} comes {_describe(time[i + 1])}, expected "
                f"{_describe(expected[i])}; {fix}"
            )
    if itype == "datetime":
        first = time[starts]
        on = _labels_equal(_shift(_shift(first, freq, -1), freq, 1), first)
        if not on.all():
            i = int(np.argmin(on))
            where = "" if ids is None else f" (series {ids[i]!r})"
            raise ValueError(
                f"{what}{where} starts at {_describe(first[i])}, which is not on "
                f"frequency {_freq_str(freq)}; pass the right freq="
            )


def _time_key(index: pd.Index) -> np.ndarray:
    """int64 sort key of time labels (nanoseconds/ordinals/ints)."""
    if isinstance(index, pd.DatetimeIndex):
        return index.as_unit("ns").asi8  # one unit, so keys of two inputs compare
    if isinstance(index, pd.PeriodIndex):
        return index.asi8
    return np.asarray(index, dtype=np.int64)


def _tz_of(index: pd.Index) -> Any:
    return getattr(index, "tz", None)


def _conform_time(new: pd.Index, schema: SeriesSchema, what: str) -> pd.Index:
    """Check that ``new`` has the fitted time type; align time zone and unit."""
    itype = _index_type(new, what)
    if itype != schema.index_type:
        raise TypeError(
            f"{what} is a {itype} index but the model was fitted on a "
            f"{schema.index_type} index; pass the same kind of time labels"
        )
    if itype == "datetime":
        tz_fit, tz_new = _tz_of(schema.last), _tz_of(new)
        if (tz_fit is None) != (tz_new is None):
            raise ValueError(
                f"{what} is {'tz-aware' if tz_new is not None else 'tz-naive'} but the "
                "model was fitted on "
                f"{'tz-aware' if tz_fit is not None else 'tz-naive'} "
                "timestamps; use the same convention (tz_localize / tz_convert)"
            )
        if tz_fit is not None and str(tz_fit) != str(tz_new):
            new = new.tz_convert(tz_fit)  # same instants, shown in the fitted zone
    if itype == "period" and new.freq != schema.freq:
        raise ValueError(
            f"{what} has period freq {new.freq.freqstr}, but the model was fitted on "
            f"{schema.freq.freqstr}; convert it with .asfreq({schema.freq.freqstr!r})"
        )
    return new


# --------------------------------------------------------------------------------------
# the normalized containers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Future:
    """What ``predict`` must produce, from :meth:`SeriesSchema.check_future`.

    Attributes
    ----------
    positions : ndarray of shape (n_forecast,)
        Schema positions of the series to forecast (all of them unless a long-format
        ``X`` covers fewer).
    X : ndarray of shape (n_forecast, horizon, n_covariates) or None
        Future covariates, float64, finite; None when fitted without covariates.
    horizon : int
    """

    positions: np.ndarray
    X: np.ndarray | None
    horizon: int


@dataclass(frozen=True, eq=False)
class SeriesSchema:
    """What ``fit`` saw (format, names, frequency) and where each series ends now.

    Immutable: :meth:`advance` returns a new schema, so a forecaster that fails
    half-way through ``update`` keeps a consistent one. Store it as ``schema_``.

    Attributes
    ----------
    kind : {"array1d", "array2d", "series", "frame", "long"}
        Format of ``y`` at fit; outputs mirror it.
    x_kind : {None, "numpy", "pandas", "columns", "long"}
        Format of the covariates at fit ("columns": extra columns of a long ``y``).
    target_names : tuple
    covariate_names : tuple or None
    ids : pandas.Index or None
        Series ids (long format), in schema order.
    id_col, time_col : str
    target_col : str or list of str
        Long-format column names as given at fit.
    index_type : {None, "datetime", "period", "int"}
        None for arrays (no time labels).
    freq : pandas DateOffset, int or None
        Step between rows (an int for integer indexes).
    last : pandas.Index or None
        Last time label of each series.
    n_seen : ndarray of shape (n_series,)
        Rows consumed so far (fit + updates) per series.
    index_name, series_name : hashable
        Restored on pandas outputs.
    allow_nan : bool
        Whether NaN is allowed in ``y`` (also at update).
    """

    kind: str
    x_kind: str | None
    target_names: tuple
    covariate_names: tuple | None
    ids: pd.Index | None
    id_col: str
    time_col: str
    target_col: Any
    index_type: str | None
    freq: Any
    last: pd.Index | None
    n_seen: np.ndarray
    index_name: Any = None
    series_name: Any = None
    allow_nan: bool = True

    # ---- sizes ------------------------------------------------------------------
    @property
    def n_series(self) -> int:
        """Number of series (1 for wide inputs)."""
        return len(self.n_seen)

    @property
    def n_targets(self) -> int:
        """Number of target columns."""
        return len(self.target_names)

    @property
    def n_covariates(self) -> int:
        """Number of covariate columns (0 when fitted without ``X``)."""
        return 0 if self.covariate_names is None else len(self.covariate_names)

    def _all_positions(self, positions: Any) -> np.ndarray:
        if positions is None:
            return np.arange(self.n_series, dtype=np.int64)
        return np.asarray(positions, dtype=np.int64).reshape(-1)

    # ---- update -----------------------------------------------------------------
    def check_update(self, y: Any, X: Any = None) -> SeriesSet:
        """Validate new observations that continue the series seen so far.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame or long-format DataFrame
            Same format as at fit (arrays are also accepted for a pandas fit: their
            rows are taken as the next steps). A long frame may cover a subset of
            the series.
        X : array-like, pandas object or long-format DataFrame, optional
            Covariates for the new rows; required iff the model has covariates.

        Returns
        -------
        SeriesSet
            ``positions`` says which series the rows belong to; ``time`` holds the
            new labels (generated from ``freq`` when arrays continued a pandas fit).

        Raises
        ------
        ValueError, TypeError
            Wrong format, number of targets or covariates, unknown ids, timestamps
            that do not continue each series on its frequency.
        """
        if self.kind == "long":
            if not _is_long(y, self.id_col):
                raise TypeError(
                    "the model was fitted on a long-format DataFrame; pass new "
                    f"observations the same way (columns {self.id_col!r}, "
                    f"{self.time_col!r}, targets)"
                )
            block = _normalize_long(
                y,
                X,
                self.id_col,
                self.time_col,
                self.target_col,
                self.freq,
                self.allow_nan,
                what="y_new",
                schema=self,
            )
        else:
            block = _normalize_wide(
                y, X, self.freq, self.allow_nan, "y_new", schema=self
            )
        return block

    def advance(self, block: SeriesSet) -> SeriesSchema:
        """Return the schema once ``block`` (from :meth:`check_update`) is consumed."""
        n_seen = self.n_seen.copy()
        n_seen[block.positions] += block.lengths
        last = self.last
        if last is not None:
            # append the new ends and pick, per series, the old or the new label
            # (keeps the index type, time zone and period freq)
            ends = block.time[block.indptr[1:] - 1]
            pick = np.arange(self.n_series)
            pick[block.positions] = self.n_series + np.arange(len(block.positions))
            last = last.append(ends).take(pick)
        return dataclasses.replace(self, n_seen=n_seen, last=last)

    # ---- future -----------------------------------------------------------------
    def future_index(self, horizon: int, positions: Any = None) -> pd.Index | None:
        """Time labels of the next ``horizon`` steps, series-major.

        Returns
        -------
        pandas.Index of length ``len(positions) * horizon``, or None for arrays.
        """
        if self.last is None:
            return None
        pos = self._all_positions(positions)
        last = self.last[pos]
        steps = [_shift(last, self.freq, j) for j in range(1, horizon + 1)]
        # (horizon, S') -> series-major order
        order = np.arange(len(pos) * horizon).reshape(horizon, len(pos)).T.ravel()
        out = steps[0].append(steps[1:]) if horizon > 1 else steps[0]
        out = out[order]
        if self.kind in ("series", "frame"):
            out = out.rename(self.index_name)
            if self.index_type == "datetime" and isinstance(
                self.freq, pd.offsets.BaseOffset
            ):
                out = pd.DatetimeIndex(out, freq=self.freq, name=self.index_name)
        return out

    def check_future(self, horizon: int, X: Any = None) -> Future:
        """Validate future covariates for ``horizon`` steps after each series' end.

        Parameters
        ----------
        horizon : int
            From :func:`check_horizon`.
        X : array-like, pandas object or long-format DataFrame, optional
            Wide fit: ``horizon`` rows (a pandas ``X`` must be indexed by the future
            timestamps). Long fit: a frame with ``id_col``, ``time_col`` and the
            covariate columns, ``horizon`` rows per series to forecast with the
            future timestamps; series not in ``X`` are not forecast.

        Returns
        -------
        Future
        """
        if self.n_covariates == 0:
            if X is not None:
                raise ValueError(
                    "the model was fitted without covariates, so predict takes no X; "
                    "refit with X to use covariates"
                )
            return Future(np.arange(self.n_series, dtype=np.int64), None, horizon)
        if X is None:
            raise ValueError(
                f"the model was fitted with covariates {list(self.covariate_names)}; "
                f"predict needs their future values: pass X with {horizon} row(s)"
                + (" per series" if self.kind == "long" else "")
                + f" (horizon={horizon})"
            )
        if self.kind != "long":
            Xa, names = _wide_covariates(X, "X", self)
            if len(Xa) != horizon:
                raise ValueError(
                    f"X has {len(Xa)} row(s) but horizon is {horizon}; pass exactly "
                    "one "
                    "row of future covariates per forecast step (or set horizon)"
                )
            if isinstance(X, (pd.Series, pd.DataFrame)) and self.last is not None:
                fut = self.future_index(horizon)
                if not X.index.equals(fut):
                    raise ValueError(
                        "X's index must be the forecast timestamps "
                        f"{_describe(fut[0])} ... {_describe(fut[-1])}; set X.index to "
                        "them or pass X.to_numpy()"
                    )
            _check_finite(Xa, "X", allow_nan=False, names=names)
            return Future(np.zeros(1, np.int64), Xa[None], horizon)
        # long format
        if not isinstance(X, pd.DataFrame) or not {self.id_col, self.time_col} <= set(
            X.columns
        ):
            raise TypeError(
                "the model was fitted on long format; pass future covariates as a "
                f"DataFrame with columns {self.id_col!r}, {self.time_col!r} and "
                f"{list(self.covariate_names)}"
            )
        missing = [c for c in self.covariate_names if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks covariate column(s) {missing} seen at fit")
        codes = self.ids.get_indexer(X[self.id_col])
        if (codes < 0).any():
            bad = pd.unique(X[self.id_col].to_numpy()[codes < 0])[:5]
            raise ValueError(
                f"X has unknown series id(s) {list(bad)}; only series seen at fit can "
                "be forecast"
            )
        if len(X) == 0:
            raise ValueError("X is empty; pass horizon rows per series to forecast")
        time = _conform_time(pd.Index(X[self.time_col]), self, "X's time column")
        order = np.lexsort((_time_key(time), codes))
        pos, counts = np.unique(codes, return_counts=True)
        if (counts != horizon).any():
            i = int(np.argmax(counts != horizon))
            raise ValueError(
                f"X has {counts[i]} row(s) for series {self.ids[pos[i]]!r} but horizon "
                "is "
                f"{horizon}; pass exactly horizon rows per series to forecast"
            )
        expected = self.future_index(horizon, pos)
        ok = _labels_equal(time[order], expected).reshape(len(pos), horizon).all(axis=1)
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(
                f"X's timestamps for series {self.ids[pos[i]]!r} must be the next "
                f"{horizon} step(s) {_describe(expected[i * horizon])} ... "
                f"{_describe(expected[(i + 1) * horizon - 1])}"
            )
        vals = _pandas_values(X[list(self.covariate_names)], "X")[order]
        _check_finite(vals, "X", False, self.covariate_names)
        vals = vals.reshape(len(pos), horizon, -1)
        return Future(pos.astype(np.int64), np.ascontiguousarray(vals), horizon)

    # ---- outputs ----------------------------------------------------------------
    def format_forecast(self, values: np.ndarray, positions: Any = None) -> Any:
        """Turn forecasts into the user's format (mirrors ``fit``'s ``y``).

        Parameters
        ----------
        values : ndarray of shape (n_forecast, horizon, n_targets)
        positions : array of int, optional
            Schema positions of the rows of ``values`` (default: all series).

        Returns
        -------
        ndarray, pandas.Series or pandas.DataFrame
        """
        pos = self._all_positions(positions)
        values = np.asarray(values, dtype=np.float64)
        if (
            values.ndim != 3
            or values.shape[0] != len(pos)
            or values.shape[2] != self.n_targets
        ):
            raise ValueError(
                f"forecast values must have shape ({len(pos)}, horizon, "
                f"{self.n_targets}), got {values.shape}"
            )
        h = values.shape[1]
        if self.kind == "array1d":
            return values[0, :, 0].copy()
        if self.kind == "array2d":
            return values[0].copy()
        fut = self.future_index(h, pos)
        if self.kind == "series":
            return pd.Series(values[0, :, 0], index=fut, name=self.series_name)
        if self.kind == "frame":
            return pd.DataFrame(values[0], index=fut, columns=list(self.target_names))
        frame = self._long_keys(pos, h, fut)
        for j, name in enumerate(self.target_names):
            frame[name] = values[:, :, j].ravel()
        return frame

    def format_interval(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        coverage: float,
        positions: Any = None,
    ) -> Any:
        """Turn interval bounds into the user's format (see the module docstring).

        Parameters
        ----------
        lower, upper : ndarray of shape (n_forecast, horizon, n_targets)
        coverage : float
            Used in long-format column names.
        positions : array of int, optional

        Returns
        -------
        tuple of ndarray, or pandas.DataFrame
        """
        lo = self.format_forecast(lower, positions)
        hi = self.format_forecast(upper, positions)
        if self.kind in ("array1d", "array2d"):
            return lo, hi
        if self.kind == "series":
            return pd.DataFrame({"lower": lo, "upper": hi}, index=lo.index)
        if self.kind == "frame":
            cols = pd.MultiIndex.from_product(
                [list(self.target_names), ["lower", "upper"]]
            )
            data = np.stack([lo.to_numpy(), hi.to_numpy()], axis=2).reshape(len(lo), -1)
            return pd.DataFrame(data, index=lo.index, columns=cols)
        frame = lo[[self.id_col, self.time_col]].copy()
        for name in self.target_names:
            lo_name, hi_name = interval_column_names(name, coverage)
            frame[lo_name] = lo[name].to_numpy()
            frame[hi_name] = hi[name].to_numpy()
        return frame

    def _long_keys(self, pos: np.ndarray, h: int, fut: pd.Index) -> pd.DataFrame:
        ids = self.ids.take(np.repeat(pos, h))
        return pd.DataFrame(
            {self.id_col: ids, self.time_col: fut}, index=pd.RangeIndex(len(pos) * h)
        )

    def parse_forecast(self, pred: Any) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`format_forecast`: ``(positions, values (S', h, k))``."""
        if self.kind != "long":
            arr = np.asarray(pred, dtype=np.float64)
            return np.zeros(1, np.int64), arr.reshape(1, arr.shape[0], self.n_targets)
        return self._parse_long(pred, list(self.target_names))

    def parse_interval(
        self, out: Any, coverage: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inverse of :meth:`format_interval`: ``(positions, lower, upper)``."""
        if self.kind in ("array1d", "array2d"):
            lo, hi = out
            pos, lo = self.parse_forecast(lo)
            return pos, lo, self.parse_forecast(hi)[1]
        if self.kind == "series":
            pos, lo = self.parse_forecast(out["lower"])
            return pos, lo, self.parse_forecast(out["upper"])[1]
        if self.kind == "frame":
            lo = out.xs("lower", axis=1, level=1)[list(self.target_names)]
            hi = out.xs("upper", axis=1, level=1)[list(self.target_names)]
            pos, lo = self.parse_forecast(lo)
            return pos, lo, self.parse_forecast(hi)[1]
        names = [interval_column_names(t, coverage) for t in self.target_names]
        pos, both = self._parse_long(out, [c for pair in names for c in pair])
        return pos, both[:, :, 0::2], both[:, :, 1::2]

    def _parse_long(
        self, frame: pd.DataFrame, columns: list
    ) -> tuple[np.ndarray, np.ndarray]:
        codes = self.ids.get_indexer(frame[self.id_col])
        if (codes < 0).any():
            raise ValueError("forecast frame holds series ids unknown to the model")
        order = np.lexsort((_time_key(pd.Index(frame[self.time_col])), codes))
        pos, counts = np.unique(codes, return_counts=True)
        if len(counts) and (counts != counts[0]).any():
            raise ValueError("forecast frame has different horizons per series")
        h = int(counts[0]) if len(counts) else 0
        vals = frame[columns].to_numpy(dtype=np.float64)[order]
        return pos.astype(np.int64), vals.reshape(len(pos), h, len(columns))

    # ---- round trip to the user format ------------------------------------------
    def to_user(self, block: SeriesSet) -> tuple[Any, Any]:
        """Rebuild ``(y, X)`` in the format seen at fit from normalized rows.

        Used to feed a forecaster slices of a series through its public API
        (``fit`` / ``update``), e.g. in ``score``, conformal calibration and backtests.
        """
        y = self._user_y(block)
        X = None
        if block.X is not None:
            if self.x_kind == "columns":
                for j, name in enumerate(self.covariate_names):
                    y[name] = block.X[:, j]
            else:
                X = self.covariates_to_user(block)
        return y, X

    def covariates_to_user(self, block: SeriesSet) -> Any:
        """Covariates of ``block`` in the format ``predict``'s ``X`` expects."""
        if block.X is None:
            return None
        names = list(self.covariate_names)
        if self.kind == "long":
            frame = self._block_keys(block)
            for j, name in enumerate(names):
                frame[name] = block.X[:, j]
            return frame
        if self.x_kind == "pandas":
            index = (
                block.time if block.time is not None else pd.RangeIndex(len(block.X))
            )
            if block.time is not None:
                index = index.rename(self.index_name)
            return pd.DataFrame(block.X.copy(), index=index, columns=names)
        return block.X.copy()

    def _block_keys(self, block: SeriesSet) -> pd.DataFrame:
        ids = self.ids.take(np.repeat(block.positions, block.lengths))
        return pd.DataFrame({self.id_col: ids, self.time_col: block.time})

    def _user_y(self, block: SeriesSet) -> Any:
        if self.kind == "array1d":
            return block.y[:, 0].copy()
        if self.kind == "array2d":
            return block.y.copy()
        if self.kind == "series":
            return pd.Series(
                block.y[:, 0].copy(),
                index=block.time.rename(self.index_name),
                name=self.series_name,
            )
        if self.kind == "frame":
            return pd.DataFrame(
                block.y.copy(),
                index=block.time.rename(self.index_name),
                columns=list(self.target_names),
            )
        frame = self._block_keys(block)
        for j, name in enumerate(self.target_names):
            frame[name] = block.y[:, j]
        return frame

    # ---- persistence without pickle ---------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-serializable description (for ``save`` without pickle).

        Names and ids must be str or int to survive JSON.
        """

        def plain(seq: Any) -> Any:
            return (
                None
                if seq is None
                else [v.item() if hasattr(v, "item") else v for v in seq]
            )

        last = None
        if self.last is not None:
            if self.index_type == "datetime":
                last = [ts.isoformat() for ts in self.last]
            elif self.index_type == "period":
                last = [str(p) for p in self.last]
            else:
                last = plain(self.last)
        freq = (
            None
            if self.freq is None
            else (
                int(self.freq)
                if isinstance(self.freq, numbers.Integral)
                else self.freq.freqstr
            )
        )
        return {
            "version": 1,
            "kind": self.kind,
            "x_kind": self.x_kind,
            "target_names": plain(self.target_names),
            "covariate_names": plain(self.covariate_names),
            "ids": plain(self.ids),
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
            "index_type": self.index_type,
            "freq": freq,
            "last": last,
            "tz": None if _tz_of(self.last) is None else str(_tz_of(self.last)),
            "unit": getattr(self.last, "unit", None),
            "n_seen": self.n_seen.tolist(),
            "index_name": self.index_name,
            "series_name": self.series_name,
            "allow_nan": self.allow_nan,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SeriesSchema:
        """Inverse of :meth:`to_dict`."""
        itype = d["index_type"]
        freq = d["freq"]
        if freq is not None and itype in ("datetime", "period"):
            freq = to_offset(freq)
        last = d["last"]
        if last is not None:
            if itype == "datetime":
                last = pd.DatetimeIndex([pd.Timestamp(s) for s in last])
                if d["tz"] is not None:
                    last = last.tz_convert(d["tz"])
                if d["unit"] is not None:
                    last = last.as_unit(d["unit"])
            elif itype == "period":
                last = pd.PeriodIndex(last, freq=freq)
            else:
                last = pd.Index(np.asarray(last, dtype=np.int64))
        return cls(
            kind=d["kind"],
            x_kind=d["x_kind"],
            target_names=tuple(d["target_names"]),
            covariate_names=None
            if d["covariate_names"] is None
            else tuple(d["covariate_names"]),
            ids=None if d["ids"] is None else pd.Index(d["ids"]),
            id_col=d["id_col"],
            time_col=d["time_col"],
            target_col=d["target_col"],
            index_type=itype,
            freq=freq,
            last=last,
            n_seen=np.asarray(d["n_seen"], dtype=np.int64),
            index_name=d["index_name"],
            series_name=d["series_name"],
            allow_nan=d["allow_nan"],
        )


@dataclass(frozen=True, eq=False)
class SeriesSet:
    """Normalized observations of one or many series, stacked.

    Attributes
    ----------
    y : ndarray of shape (N, n_targets)
        float64 targets; NaN marks a missing step, inf never occurs.
    X : ndarray of shape (N, n_covariates) or None
        float64 covariates, finite.
    indptr : ndarray of shape (n_series + 1,)
        Series ``i`` is rows ``indptr[i]:indptr[i + 1]``, in time order.
    positions : ndarray of shape (n_series,)
        Position of each series in ``schema`` order.
    time : pandas.Index of shape (N,) or None
        Time labels (None for array inputs).
    schema : SeriesSchema
        Format information; at fit, also the ends of the series in this set.
    """

    y: np.ndarray
    X: np.ndarray | None
    indptr: np.ndarray
    positions: np.ndarray
    time: pd.Index | None
    schema: SeriesSchema

    @property
    def n_series(self) -> int:
        """Number of series in the set."""
        return len(self.positions)

    @property
    def lengths(self) -> np.ndarray:
        """Rows per series, shape (n_series,)."""
        return np.diff(self.indptr)

    def series_y(self, i: int) -> np.ndarray:
        """Targets of the ``i``-th series, shape (n_i, n_targets) (a view)."""
        return self.y[self.indptr[i] : self.indptr[i + 1]]

    def series_X(self, i: int) -> np.ndarray | None:
        """Covariates of the ``i``-th series, shape (n_i, n_covariates), or None."""
        return None if self.X is None else self.X[self.indptr[i] : self.indptr[i + 1]]

    def series_time(self, i: int) -> pd.Index | None:
        """Time labels of the ``i``-th series, or None."""
        return (
            None
            if self.time is None
            else self.time[self.indptr[i] : self.indptr[i + 1]]
        )

    def _rows(
        self, rows: np.ndarray, lengths: np.ndarray, keep: np.ndarray
    ) -> SeriesSet:
        indptr = np.zeros(int(keep.sum()) + 1, np.int64)
        np.cumsum(lengths[keep], out=indptr[1:])
        return SeriesSet(
            y=self.y[rows],
            X=None if self.X is None else self.X[rows],
            indptr=indptr,
            positions=self.positions[keep].copy(),
            time=None if self.time is None else self.time[rows],
            schema=self.schema,
        )

    def take(self, start: Any, stop: Any = None) -> SeriesSet:
        """Rows ``start:stop`` of every series (per-series arrays or scalars).

        Bounds are clipped to each series; series left empty are dropped.
        """
        n = self.lengths
        start = np.clip(np.broadcast_to(np.asarray(start, np.int64), n.shape), 0, n)
        stop = (
            n if stop is None else np.broadcast_to(np.asarray(stop, np.int64), n.shape)
        )
        stop = np.clip(stop, start, n)
        lengths = stop - start
        keep = lengths > 0
        first = self.indptr[:-1] + start
        rows = np.repeat(
            first - np.cumsum(np.append(0, lengths[:-1])), lengths
        ) + np.arange(lengths.sum())
        return self._rows(rows, lengths, keep)

    def subset(self, sel: Any) -> SeriesSet:
        """The series picked by ``sel`` (boolean mask or indices into this set)."""
        sel = np.asarray(sel)
        keep = sel if sel.dtype == bool else np.isin(np.arange(self.n_series), sel)
        n = self.lengths
        lengths = np.where(keep, n, 0)
        rows = np.concatenate(
            [
                np.arange(self.indptr[i], self.indptr[i + 1])
                for i in np.flatnonzero(keep)
            ]
            or [np.zeros(0, np.int64)]
        )
        return self._rows(rows, lengths, keep)


# --------------------------------------------------------------------------------------
# normalization
# --------------------------------------------------------------------------------------


def to_series_set(
    y: Any,
    X: Any = None,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    freq: Any = None,
    allow_nan: bool = True,
) -> SeriesSet:
    """Validate and normalize the data given to a forecaster's ``fit``.

    Parameters
    ----------
    y : array-like, pandas Series/DataFrame or long-format DataFrame
        See the module docstring. A DataFrame holding ``id_col`` is long format.
    X : array-like, pandas object or long-format DataFrame, optional
        Covariates aligned row by row with ``y``.
    id_col, time_col : str
        Long-format id and time columns.
    target_col : str or list of str
        Long-format target column(s).
    freq : str, pandas DateOffset or int, optional
        Step between rows when it cannot (or should not) be inferred from the
        timestamps; an int step for integer time labels.
    allow_nan : bool, default=True
        Allow NaN (missing steps) in ``y``.

    Returns
    -------
    SeriesSet
        With ``schema`` describing the format and the series ends.

    Raises
    ------
    TypeError
        Unsupported container, non-numeric values or time labels.
    ValueError
        Empty input, inf, NaN where not allowed, misaligned ``X``, unsorted,
        duplicate or irregular timestamps.
    """
    if _is_long(y, id_col):
        return _normalize_long(y, X, id_col, time_col, target_col, freq, allow_nan, "y")
    if isinstance(y, pd.DataFrame) and time_col in y.columns:
        # a frame with a time column but no id column is most likely long format
        # for one series; treating "ds" as a target would fail with a dtype error
        raise TypeError(
            f"y has a {time_col!r} column but no {id_col!r} column. For one series, "
            f"move time to the index (y.set_index({time_col!r})[...]); for long "
            f"format, add the id column (y.assign({id_col}='series_0'))"
        )
    return _normalize_wide(
        y,
        X,
        freq,
        allow_nan,
        "y",
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
    )


def _wide_covariates(
    X: Any, what: str, schema: SeriesSchema | None
) -> tuple[np.ndarray, list]:
    """Covariates as (n, c) float64 + names; checks count/names against ``schema``."""
    if isinstance(X, pd.DataFrame):
        _check_unique_columns(X, what)
        if (
            schema is not None
            and schema.x_kind == "pandas"
            and set(X.columns) == set(schema.covariate_names)
        ):
            X = X[list(schema.covariate_names)]  # same names, any order
        names = list(X.columns)
        vals = _pandas_values(X, what)
    elif isinstance(X, pd.Series):
        names = ["x0" if X.name is None else X.name]
        vals = _pandas_values(X, what)
    else:
        vals = _array_values(X, what)
        if vals.ndim == 1:
            vals = vals[:, None]
        if vals.ndim != 2:
            raise ValueError(f"{what} must be 1-D or 2-D, got shape {vals.shape}")
        names = [f"x{j}" for j in range(vals.shape[1])]
    if vals.shape[1] == 0:
        raise ValueError(f"{what} has no columns; pass None for no covariates")
    if schema is not None:
        if vals.shape[1] != schema.n_covariates:
            raise ValueError(
                f"{what} has {vals.shape[1]} covariate(s) but the model was fitted "
                f"with {schema.n_covariates}; pass the same covariates as at fit "
                "(in the same column order for arrays)"
            )
        if (
            schema.x_kind == "pandas"
            and isinstance(X, pd.DataFrame)
            and list(names) != list(schema.covariate_names)
        ):
            raise ValueError(
                f"{what} has columns {names} but the model was fitted with "
                f"{list(schema.covariate_names)}; pass the same covariate columns"
            )
    return vals, names


def _wide_targets(
    y: Any, what: str
) -> tuple[np.ndarray, str, list, pd.Index | None, Any]:
    """(values (n, k), kind, names, index or None, series name)."""
    if isinstance(y, pd.Series):
        return _pandas_values(y, what), "series", [y.name], y.index, y.name
    if isinstance(y, pd.DataFrame):
        _check_unique_columns(y, what)
        return _pandas_values(y, what), "frame", list(y.columns), y.index, None
    if y is None:
        raise TypeError(f"{what} is None; pass the observed series")
    if (
        isinstance(y, (str, bytes, dict))
        or not hasattr(y, "__len__")
        and not hasattr(y, "__array__")
    ):
        raise TypeError(
            f"{what} must be an array, a pandas Series/DataFrame or a long-format "
            f"DataFrame, got {type(y).__name__}"
        )
    vals = _array_values(y, what)
    if vals.ndim == 1:
        return vals[:, None], "array1d", ["y"], None, None
    if vals.ndim == 2:
        return vals, "array2d", [f"y{j}" for j in range(vals.shape[1])], None, None
    raise ValueError(
        f"{what} must be 1-D (one target) or 2-D (n_steps, n_targets), got shape "
        f"{vals.shape}; for many series use a long-format DataFrame"
    )


def _normalize_wide(
    y: Any,
    X: Any,
    freq: Any,
    allow_nan: bool,
    what: str,
    schema: SeriesSchema | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: Any = "y",
) -> SeriesSet:
    if _is_long(y, id_col if schema is None else schema.id_col):
        raise TypeError(
            f"{what} is long format but the model was fitted on one (wide) series; "
            "pass the same format as at fit"
        )
    vals, kind, names, index, sname = _wide_targets(y, what)
    n, k = vals.shape
    if n == 0 or k == 0:
        raise ValueError(
            f"{what} is empty (shape {vals.shape}); pass at least one observation"
        )
    if schema is not None:
        if k != schema.n_targets:
            raise ValueError(
                f"{what} has {k} target(s) but the model was fitted on "
                f"{schema.n_targets}; pass the same targets as at fit"
            )
        if (
            kind == "frame"
            and schema.kind == "frame"
            and list(names) != list(schema.target_names)
        ):
            if set(names) == set(schema.target_names):
                vals = _pandas_values(y[list(schema.target_names)], what)
            else:
                raise ValueError(
                    f"{what} has columns {list(names)} but the model was fitted on "
                    f"{list(schema.target_names)}; pass the same target columns"
                )
    _check_finite(vals, what, allow_nan, names if kind == "frame" else None)

    # time axis
    time = None
    itype = None
    if schema is None and index is not None:
        itype = _index_type(index, f"{what}'s index")
        time = index
        _check_order(time, None, f"{what}'s index")
        freq = _resolve_freq(
            time, itype, np.zeros(1, np.int64), freq, f"{what}'s index"
        )
        _check_regular(
            time, itype, None, np.zeros(1, np.int64), freq, f"{what}'s index"
        )
    elif schema is not None and schema.index_type is not None:
        itype, freq = schema.index_type, schema.freq
        if index is None:
            # arrays continuing a pandas fit: their rows are the next steps
            time = schema.future_index(n)
        else:
            time = _conform_time(index, schema, f"{what}'s index")
            _check_order(time, None, f"{what}'s index")
            expected = _shift(schema.last[:1], freq, 1)[0]
            if time[0] != expected:
                raise ValueError(
                    f"{what} must continue the series: its first timestamp is "
                    f"{_describe(time[0])} but the next step after the last one seen "
                    f"({_describe(schema.last[0])}) is {_describe(expected)}; pass "
                    "only "
                    "new observations, with missing steps as NaN rows"
                )
            _check_regular(
                time, itype, None, np.zeros(1, np.int64), freq, f"{what}'s index"
            )

    # covariates
    Xv = None
    cov_names = None
    x_kind = None
    if schema is not None and schema.n_covariates and X is None:
        raise ValueError(
            f"the model was fitted with covariates {list(schema.covariate_names)}; "
            "pass "
            f"their values for the new rows as X_new"
        )
    if schema is not None and not schema.n_covariates and X is not None:
        raise ValueError(
            "the model was fitted without covariates; refit with X to use covariates"
        )
    if X is not None:
        xwhat = "X" if schema is None else "X_new"
        Xv, cov_names = _wide_covariates(X, xwhat, schema)
        x_kind = "pandas" if isinstance(X, (pd.Series, pd.DataFrame)) else "numpy"
        if len(Xv) != n:
            raise ValueError(
                f"{xwhat} has {len(Xv)} row(s) but {what} has {n}; pass one covariate "
                "row "
                f"per time step of {what}"
            )
        if (
            index is not None
            and isinstance(X, (pd.Series, pd.DataFrame))
            and not X.index.equals(index)
        ):
            raise ValueError(
                f"{xwhat}'s index differs from {what}'s; covariates are aligned by "
                "index, "
                f"so align them first (e.g. {xwhat} = {xwhat}.loc[{what}.index]) or "
                "pass "
                "arrays"
            )
        _check_finite(Xv, xwhat, False, cov_names)

    if schema is None:
        last = None if time is None else time[-1:]
        schema = SeriesSchema(
            kind=kind,
            x_kind=x_kind,
            target_names=tuple(names),
            covariate_names=None if cov_names is None else tuple(cov_names),
            ids=None,
            id_col=id_col,
            time_col=time_col,
            target_col=target_col,
            index_type=itype,
            freq=freq,
            last=last,
            n_seen=np.array([n], np.int64),
            index_name=None if index is None else index.name,
            series_name=sname,
            allow_nan=allow_nan,
        )
    return SeriesSet(
        y=vals,
        X=Xv,
        indptr=np.array([0, n], np.int64),
        positions=np.zeros(1, np.int64),
        time=time,
        schema=schema,
    )


def _normalize_long(
    y: pd.DataFrame,
    X: Any,
    id_col: str,
    time_col: str,
    target_col: Any,
    freq: Any,
    allow_nan: bool,
    what: str,
    schema: SeriesSchema | None = None,
) -> SeriesSet:
    targets = [target_col] if isinstance(target_col, str) else list(target_col)
    need = [time_col, *targets]
    missing = [c for c in need if c not in y.columns]
    if missing:
        raise ValueError(
            f"long-format {what} lacks column(s) {missing}; it needs {id_col!r}, "
            f"{time_col!r} and the target column(s) {targets} (set time_col= / "
            "target_col= to match your names)"
        )
    if len(targets) == 0:
        raise ValueError("target_col is empty; name at least one target column")
    if y.columns.duplicated().any():
        raise ValueError(f"{what} has duplicate column names; rename them")
    if len(y) == 0:
        raise ValueError(f"{what} is empty; pass at least one observation")
    extra = [c for c in y.columns if c not in (id_col, time_col, *targets)]

    # ids and time
    id_values = y[id_col]
    if id_values.isna().any():
        raise ValueError(
            f"{what}'s {id_col!r} column has missing ids; drop or fill them"
        )
    codes, uniques = pd.factorize(id_values, sort=False)
    if schema is not None:
        pos_of = schema.ids.get_indexer(uniques)
        if (pos_of < 0).any():
            bad = list(uniques[pos_of < 0][:5])
            raise ValueError(
                f"{what} has series id(s) {bad} unknown at fit; update only continues "
                "series seen by fit (refit to add new series)"
            )
    time = pd.Index(y[time_col])
    if schema is None:
        itype = _index_type(time, f"{what}'s {time_col!r} column")
    else:
        time = _conform_time(time, schema, f"{what}'s {time_col!r} column")
        itype = schema.index_type
    if time.hasnans:
        raise ValueError(
            f"{what}'s {time_col!r} column has missing timestamps (NaT); drop those "
            "rows"
        )
    key = _time_key(time)
    order = np.lexsort((key, codes))  # by series, then time; stable
    codes_s = codes[order]
    time_s = time[order]
    counts = np.bincount(codes_s, minlength=len(uniques))
    indptr = np.zeros(len(uniques) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    label = f"{what}'s {time_col!r} column"
    _check_order(time_s, codes_s, label, ids=pd.Index(uniques))

    if schema is None:
        freq = _resolve_freq(time_s, itype, indptr[:-1], freq, label)
    else:
        freq = schema.freq
    _check_regular(
        time_s, itype, codes_s, indptr[:-1], freq, label, ids=pd.Index(uniques)
    )

    # values
    vals = _pandas_values(y[targets], what)
    _check_finite(vals, what, allow_nan, targets)  # before sorting: rows as given
    vals = vals[order]

    # covariates: extra columns, or a long X keyed like y
    Xv = None
    cov_names: list | None = None
    x_kind = None
    if X is not None:
        if extra:
            raise ValueError(
                f"{what} has extra columns {extra} and X is also given; put covariates "
                "in one place (drop those columns, or pass X=None to use them)"
            )
        if not isinstance(X, pd.DataFrame) or not {id_col, time_col} <= set(X.columns):
            raise TypeError(
                f"with long-format {what}, X must be a long-format DataFrame with "
                "columns "
                f"{id_col!r}, {time_col!r} and the covariates"
            )
        cov_names = [c for c in X.columns if c not in (id_col, time_col)]
        if len(X) != len(y):
            raise ValueError(
                f"X has {len(X)} row(s) but {what} has {len(y)}; X needs exactly one "
                "row "
                f"per ({id_col}, {time_col}) row of {what}"
            )
        xcodes = pd.Index(uniques).get_indexer(X[id_col])
        xtime = pd.Index(X[time_col])
        if schema is not None:
            xtime = _conform_time(xtime, schema, f"X's {time_col!r} column")
        else:
            _index_type(xtime, f"X's {time_col!r} column")
        xkey = _time_key(xtime)
        xorder = np.lexsort((xkey, xcodes))
        if (xcodes < 0).any() or not (
            np.array_equal(xcodes[xorder], codes_s)
            and np.array_equal(xkey[xorder], key[order])
        ):
            raise ValueError(
                f"X's ({id_col}, {time_col}) rows differ from those of {what}; X needs "
                f"exactly one row per row of {what}, with the same keys"
            )
        x_kind = "long"
        xframe = X[cov_names]
        xorder_used = xorder
    elif extra:
        cov_names = extra
        x_kind = "columns"
        xframe = y[extra]
        xorder_used = order
    if cov_names is not None:
        if schema is not None:
            if schema.n_covariates == 0:
                raise ValueError(
                    f"{what} has covariate columns {cov_names} but the model was "
                    "fitted "
                    "without covariates; drop them or refit with covariates"
                )
            if set(cov_names) != set(schema.covariate_names):
                raise ValueError(
                    f"{what}'s covariates {cov_names} differ from those seen at fit "
                    f"{list(schema.covariate_names)}"
                )
            cov_names = list(schema.covariate_names)
            xframe = xframe[cov_names]
        if not cov_names:
            raise ValueError(
                "X has no covariate columns; pass X=None for no covariates"
            )
        Xv = _pandas_values(xframe, "X" if x_kind == "long" else f"{what} covariate")
        _check_finite(
            Xv, "X" if x_kind == "long" else f"{what} covariates", False, cov_names
        )
        Xv = Xv[xorder_used]
    elif schema is not None and schema.n_covariates:
        raise ValueError(
            f"the model was fitted with covariates {list(schema.covariate_names)}; "
            "pass "
            "their values for the new rows (as extra columns or as X_new)"
        )

    if schema is None:
        ends = indptr[1:] - 1
        schema = SeriesSchema(
            kind="long",
            x_kind=x_kind,
            target_names=tuple(targets),
            covariate_names=None if cov_names is None else tuple(cov_names),
            ids=pd.Index(uniques),
            id_col=id_col,
            time_col=time_col,
            target_col=target_col,
            index_type=itype,
            freq=freq,
            last=time_s[ends],
            n_seen=counts.astype(np.int64),
            allow_nan=allow_nan,
        )
        positions = np.arange(len(uniques), dtype=np.int64)
    else:
        positions = schema.ids.get_indexer(uniques).astype(np.int64)
        # every series must continue exactly one step after its last label
        firsts = time_s[indptr[:-1]]
        expected = _shift(schema.last[positions], freq, 1)
        ok = _labels_equal(expected, firsts)
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(
                f"{what} must continue each series: series {uniques[i]!r} starts at "
                f"{_describe(firsts[i])} but its next step after the last one seen "
                f"({_describe(schema.last[positions[i]])}) is "
                f"{_describe(expected[i])}; "
                "pass only new observations, with missing steps as NaN rows"
            )
        # keep blocks in schema order, like fit data
        if (np.diff(positions) < 0).any():
            perm = np.argsort(positions, kind="stable")
            lengths = counts[perm]
            rows = np.concatenate([np.arange(indptr[p], indptr[p + 1]) for p in perm])
            new_indptr = np.zeros(len(perm) + 1, np.int64)
            np.cumsum(lengths, out=new_indptr[1:])
            vals, time_s, indptr = vals[rows], time_s[rows], new_indptr
            Xv = None if Xv is None else Xv[rows]
            positions = positions[perm]
    return SeriesSet(
        y=vals,
        X=Xv,
        indptr=indptr,
        positions=positions,
        time=time_s.rename(None),
        schema=schema,
    )
