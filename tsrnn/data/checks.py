"""Input checks shared by every public entry point.

One module for every check of what a user passes in: counts (``horizon``,
``window``), dtypes (boolean, complex, text, categorical, datetimes refused with
the conversion that fixes them), missing and infinite values located to the
first offending row and column, shapes, sorted and unique time labels, and the
window models' ``X``/``y``. The forecasters (:mod:`tsrnn.data.normalize`),
the windowing helpers, the window models, :mod:`tsrnn.nn` and the model-file
reader all raise through these functions, so the same mistake gets the same
kind of message everywhere. (The windowing helpers read their series
through :mod:`tsrnn.data.window_input`, which raises through these checks.)

Every check names the problem and the fix, and none modifies its input (a
converted copy is returned when a conversion is needed). Where an entry point
words a message for its own users (a forecaster's ``y`` versus a window's
``series``), the wording is a parameter of the one shared check.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .scaling import MAX_MAGNITUDE, magnitude_problem


# ----------------------------------------------------------------------- values
def describe(value: Any) -> str:
    """A label for a message: ``'a'`` for text, ``3``, ``2024-01-01 00:00:00``."""
    if isinstance(value, np.generic):  # np.int64(3) -> 3
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def is_integer(value: Any) -> bool:
    """An int of any kind, but not a bool (``window=True`` is surely a mistake)."""
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )


def check_level(level: Any, name: str = "level") -> float:
    """A nominal interval coverage as a fraction in (0, 1), or a clear error.

    A percentage in [1, 100) (``90``, Nixtla's ``level``) is read as such; a
    fraction in (0, 1) (``0.9``) stays accepted. The one reading of a level for
    the intervals, the metrics and the command line.
    """
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise TypeError(
            f"{name} must be a percentage such as 90 (or a fraction such as 0.9), "
            f"got {level!r}"
        )
    value = float(level)
    if 0.0 < value < 1.0:
        return value
    if 1.0 <= value < 100.0:
        return value / 100.0
    raise ValueError(
        f"{name} must be a percentage in [1, 100) such as 90 (or a fraction in "
        f"(0, 1) such as 0.9), got {level!r}"
    )


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
    if hasattr(h, "__len__") and not isinstance(h, str) and np.ndim(h) > 0:
        # predict(X_test): how scikit-learn's string scorers call a regressor
        raise TypeError(
            f"horizon must be a positive int, got a {type(h).__name__} of "
            f"{len(h)} rows. A forecaster's predict takes a number of steps, not "
            "samples: scikit-learn's string scoring (e.g. "
            "scoring='neg_mean_absolute_error') cannot score a forecaster; use "
            "scoring=None (the forecaster's score) or "
            "scoring=tsrnn.metrics.make_forecast_scorer('neg_mean_absolute_error'),"
            " or tsrnn.backtest.backtest"
        )
    if not is_integer(h):
        raise TypeError(f"horizon must be a positive int, got {h!r}")
    if h < 1:
        raise ValueError(f"horizon must be >= 1, got {h}")
    return int(h)


def check_count(value: Any, name: str) -> int:
    """Return ``value`` as a number of time steps (an int >= 1), or raise."""
    if not is_integer(value):
        raise TypeError(
            f"{name} must be an integer number of time steps (>= 1), got "
            f"{value!r} of type {type(value).__name__}; pass e.g. {name}=3"
        )
    if value < 1:
        raise ValueError(
            f"{name} must be >= 1 (a number of time steps), got {value}; "
            f"pass a positive integer"
        )
    return int(value)


# ----------------------------------------------------------------------- dtypes
def is_real_number_dtype(dtype: Any) -> bool:
    """Numeric, neither boolean nor complex."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def _boolean(what: str) -> TypeError:
    return TypeError(
        f"{what} is boolean; cast it explicitly with .astype(float) if 0/1 values "
        "are meant"
    )


def _complex(what: str) -> TypeError:
    return TypeError(f"{what} is complex; pass real values (e.g. np.abs or .real)")


def check_real_array(arr: np.ndarray, what: str, not_numbers: str) -> None:
    """Refuse a boolean, complex or non-numeric NumPy array (a TypeError).

    ``not_numbers`` ends the message for text, objects and datetimes, after
    ``"{what} has dtype {dtype}"``: each entry point says what it needs.
    """
    kind = arr.dtype.kind
    if kind == "b":
        raise _boolean(what)
    if kind == "c":
        raise _complex(what)
    if kind not in "fiu":
        raise TypeError(f"{what} has dtype {arr.dtype}{not_numbers}")


def check_numeric_dtype(dtype: Any, what: str) -> None:
    """Refuse a non-numeric pandas dtype, naming the conversion (a TypeError)."""
    if isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(
            f"{what} is categorical; forecasters need numbers: encode it first "
            "(e.g. pd.get_dummies or .cat.codes)"
        )
    if pd.api.types.is_bool_dtype(dtype):
        raise _boolean(what)
    if pd.api.types.is_complex_dtype(dtype):
        raise _complex(what)
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


_FORECASTER_NOT_NUMBERS = (
    "; forecasters need numbers: convert it first (e.g. .astype(float) or "
    "pd.to_numeric)"
)


def pandas_values(obj: pd.Series | pd.DataFrame, what: str) -> np.ndarray:
    """Copy a numeric pandas object into a new float64 2-D array (pd.NA -> NaN)."""
    if isinstance(obj, pd.Series):
        check_numeric_dtype(obj.dtype, what)
        arr = obj.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)[:, None]
    else:
        for col, dtype in obj.dtypes.items():
            check_numeric_dtype(dtype, f"{what} column {col!r}")
        arr = obj.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    # pandas may hand back a read-only view (copy-on-write); ours must be private
    return np.array(arr, dtype=np.float64, order="C", copy=True)


# ---------------------------------------------------------------- masked arrays
# np.asarray drops a MaskedArray's mask, so without these the masked values
# would be read (and trained on) as if they were observations.
def masked_as_nan(obj: Any) -> Any:
    """A NumPy masked array's values with NaN where masked; anything else as is.

    Returns a new float64 array when ``obj`` has masked numbers (the caller's
    array is not modified); the bare data when nothing is masked or the data
    are not numbers (the dtype checks then refuse them as for any array).
    """
    if not isinstance(obj, np.ma.MaskedArray):
        return obj
    data = np.asarray(obj.data)
    mask = np.ma.getmaskarray(obj)
    if data.dtype.kind not in "fiu" or not mask.any():
        return data
    out = data.astype(np.float64, copy=True)
    out[mask] = np.nan
    return out


def refuse_masked(obj: Any, what: str, fix: str) -> None:
    """Refuse a NumPy masked array with masked values where gaps cannot be read.

    ``fix`` ends the message (what to do instead). An array whose mask is
    empty is accepted: it is plain data.
    """
    if not isinstance(obj, np.ma.MaskedArray):
        return
    mask = np.ma.getmaskarray(obj)
    if not mask.any():
        return
    first = np.unravel_index(int(np.argmax(mask)), mask.shape)
    raise ValueError(
        f"{what} is a masked array with {int(mask.sum())} masked value(s) (first "
        f"in row {int(first[0]) if first else 0}); {fix}"
    )


def array_values(obj: Any, what: str) -> np.ndarray:
    """Copy a numeric array-like into a new float64 array (rank unchanged)."""
    arr = np.asarray(obj)
    hint = _FORECASTER_NOT_NUMBERS
    if what.startswith("X") and arr.dtype.kind in "USO":
        # strings among covariates: categories, which a DataFrame can carry
        hint += (
            "; for categories, pass X as a pandas DataFrame: its string, object "
            "and category columns are learned embeddings"
        )
    check_real_array(arr, what, hint)
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def check_unique_columns(frame: pd.DataFrame, what: str) -> None:
    """Every target and covariate column has its own name."""
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise ValueError(
            f"{what} has duplicate column names {list(pd.unique(dup))}; every target "
            "and covariate needs its own name: rename them (e.g. df.columns = [...])"
        )


# ------------------------------------------------------------ missing, infinite
@dataclass(frozen=True)
class NonFinite:
    """Where an array holds inf or NaN (see :func:`find_nonfinite`)."""

    n_inf: int
    n_nan: int
    count: int  # offending values: every inf, and every NaN unless NaN is allowed
    first: tuple  # index of the first offending value (C order)
    first_inf: tuple | None  # index of the first inf


def find_nonfinite(values: np.ndarray, allow_nan: bool = False) -> NonFinite | None:
    """Locate inf (and NaN unless ``allow_nan``) in a float array; None if none.

    ``first`` is the first offending value in C order (row-major): a row number
    first, then the column.
    """
    if values.dtype.kind != "f" or values.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):  # the common case, without a temporary mask
            return None
    inf = np.isinf(values)
    nan = np.isnan(values)
    bad = inf if allow_nan else inf | nan
    if not bad.any():
        return None
    first = np.unravel_index(int(np.argmax(bad)), bad.shape)
    first_inf = (
        np.unravel_index(int(np.argmax(inf)), inf.shape) if inf.any() else None
    )
    return NonFinite(
        n_inf=int(inf.sum()),
        n_nan=int(nan.sum()),
        count=int(bad.sum()),
        first=tuple(int(i) for i in first),
        first_inf=None if first_inf is None else tuple(int(i) for i in first_inf),
    )


def check_magnitude(values: np.ndarray, what: str, fix: str, where=None) -> None:
    """No finite ``|value|`` beyond :data:`~tsrnn.data.scaling.MAX_MAGNITUDE`.

    The one bound on magnitudes, shared by ``fit``, ``update`` and ``predict``
    (through :func:`check_finite`) and the window regressor's targets: beyond
    1e300, scaling, forecasting and the inverse transform can overflow float64.
    ``fix`` ends the message; ``where(index)`` words the position.
    """
    first = magnitude_problem(values)
    if first is None:
        return
    at = f"row {first[0]}" if where is None else where(first)
    raise ValueError(
        f"{what} has values too large in magnitude ({values[first]:.3g} at {at}; "
        f"the limit is {MAX_MAGNITUDE:g}, which leaves float64 room for the "
        f"arithmetic of scaling and forecasting); {fix}"
    )


_DIVIDE = (
    "divide it by a constant (e.g. a power of ten) and scale the forecasts back"
)


def check_finite(
    values: np.ndarray, what: str, allow_nan: bool, names: Sequence | None = None
) -> None:
    """Forecaster data: no inf anywhere, no NaN unless allowed (``y``'s gaps).

    Nor any value beyond :data:`~tsrnn.data.scaling.MAX_MAGNITUDE` in
    magnitude: every reader of forecaster data (``fit``, ``update``,
    ``predict``'s covariates) calls this one check, so they accept the same
    values.
    """

    def where(index):
        row, col = index[0], index[1] if len(index) > 1 else 0
        return f"row {row}" + (f", column {names[col]!r}" if names is not None else "")

    bad = find_nonfinite(values, allow_nan)
    if bad is None:
        check_magnitude(values, what, _DIVIDE, where)
        return

    if bad.n_inf:
        raise ValueError(
            f"{what} contains {bad.n_inf} infinite value(s) (first at "
            f"{where(bad.first_inf)}); replace them with NaN (missing) or clip them"
        )
    raise ValueError(
        f"{what} contains {bad.n_nan} NaN value(s) (first at {where(bad.first)}); "
        "covariates must be complete: impute them (e.g. X.ffill().bfill()) or "
        "drop the column"
    )


def check_observed(
    values: np.ndarray,
    indptr: np.ndarray,
    targets: Sequence,
    ids: pd.Index | None = None,
    id_col: Any = "unique_id",
) -> None:
    """At ``fit``: every series (and target) has at least one observation.

    A series with none has nothing to learn from and no level or scale to
    forecast from: any number forecast for it would be invented. It is
    refused, naming the series and the fix (the baselines refuse it too), rather
    than forecast as NaN with a warning: a NaN row in a forecast frame spreads
    silently into sums and means once warnings are filtered, while dropping the
    series is one line. ``values`` (N, k) are stacked series ``indptr``;
    ``ids`` name them in long format (None: one wide series).
    """
    if values.size == 0:
        return
    seen = np.add.reduceat(~np.isnan(values), indptr[:-1], axis=0) > 0
    if seen.all():
        return
    s, j = (int(i) for i in np.argwhere(~seen)[0])
    several = len(targets) > 1
    if ids is None:
        what = f"y column {targets[j]!r}" if several else "y"
        fix = "drop that column or pass observations" if several else (
            "pass observations"
        )
        raise ValueError(
            f"{what} has no observed value (all NaN): nothing to learn from, no "
            f"level to forecast from; {fix} (NaN only marks missing steps)"
        )
    n_empty = int((~seen).any(axis=1).sum())
    of = f" of target {targets[j]!r}" if several else ""
    raise ValueError(
        f"series {ids[s]!r} has no observed value{of} (all NaN)"
        + (f" ({n_empty} series in all)" if n_empty > 1 else "")
        + ": nothing to learn from, no level to forecast from; drop it (e.g. "
        f"y[y.groupby({id_col!r})[{targets[j]!r}].transform('count') > 0]) or "
        "pass observations (NaN only marks missing steps)"
    )


def check_window_finite(arr: np.ndarray, name: str) -> None:
    """Data cut into windows: no NaN, no inf (a window cannot hold a gap)."""
    bad = find_nonfinite(arr)
    if bad is None:
        return
    first = bad.first[0]
    if bad.n_inf:
        raise ValueError(
            f"{name} contains inf (first in row {first}); remove or clip infinite "
            "values"
        )
    raise ValueError(
        f"{name} contains {bad.n_nan} NaN value(s) (first in row {first}); a window "
        "cannot hold missing values: drop or impute them first (e.g. "
        ".interpolate() or .ffill()), or use RNNForecaster, which handles NaN "
        "in the target"
    )


# ---------------------------------------------------------------- time labels
def time_order_problem(
    labels: pd.Index, segments: np.ndarray | None = None
) -> tuple[str, int] | None:
    """The first duplicate or backwards step between consecutive labels.

    Returns ``("duplicate", i)`` or ``("unsorted", i)`` for the pair
    ``(labels[i], labels[i + 1])``, or None; pairs that straddle two segments
    (``segments``: a series code per label) are not steps and are skipped.
    """
    if len(labels) < 2:
        return None
    prev, nxt = labels[:-1], labels[1:]
    same = np.ones(len(labels) - 1, bool) if segments is None else (
        segments[1:] == segments[:-1]
    )
    dup = np.asarray(prev == nxt, dtype=bool) & same
    if dup.any():
        return "duplicate", int(np.argmax(dup))
    back = np.asarray(prev > nxt, dtype=bool) & same
    if back.any():
        return "unsorted", int(np.argmax(back))
    return None


def check_time_order(
    time: pd.Index, segments: np.ndarray | None, what: str, ids: pd.Index | None = None
) -> None:
    """Forecaster time labels: present, and strictly increasing within each series."""
    if time.hasnans:
        raise ValueError(f"{what} contains missing timestamps (NaT); drop those rows")
    problem = time_order_problem(time, segments)
    if problem is None:
        return
    kind, i = problem
    prev, nxt = time[i], time[i + 1]
    if kind == "duplicate":
        where = ""
        if ids is not None and segments is not None:
            where = f" of series {ids[segments[i + 1]]!r}"
        how = (
            "y.groupby(level=0).mean()"
            if ids is None
            else "df.groupby([id, time]).mean()"
        )
        raise ValueError(
            f"{what}{where} has duplicate timestamps (first: {describe(nxt)}); "
            f"aggregate them (e.g. {how}) or drop duplicates"
        )
    raise ValueError(
        f"{what} is not sorted (at {describe(prev)} then {describe(nxt)}); "
        "sort it first, e.g. y.sort_index()"
    )


def _is_time_like(index: pd.Index) -> bool:
    """Whether the order of ``index`` carries time (so it must be sorted)."""
    if isinstance(index, (pd.MultiIndex, pd.CategoricalIndex)):
        return False
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex, pd.TimedeltaIndex)):
        return True
    return pd.api.types.is_numeric_dtype(index) and not pd.api.types.is_bool_dtype(
        index
    )


def check_window_time_index(index: pd.Index, name: str) -> None:
    """A series to cut into windows: time-like labels sorted and unique."""
    if not _is_time_like(index):
        return
    problem = time_order_problem(index)
    if problem is None:
        return
    kind, i = problem
    if kind == "duplicate":
        raise ValueError(
            f"{name} has duplicate index labels (first: {describe(index[i + 1])}); "
            f"each row must be one time step: aggregate duplicates first, e.g. "
            f"{name}.groupby(level=0).mean()"
        )
    raise ValueError(
        f"{name} is not sorted by its index (time must increase down the rows); "
        f"sort it first with {name}.sort_index(), and sort the other inputs the "
        "same way"
    )


# ----------------------------------------------------------- the window models
X_SHAPES = (
    "2-D (n_samples, window * input_size), one flattened window per row, or 3-D "
    "(n_samples, window, n_features)"
)


WINDOW_MASK_FIX = (
    "a window cannot hold a gap: drop the windows with masked values (keep = "
    "~np.ma.getmaskarray({what}).reshape(len({what}), -1).any(axis=1); X, y = "
    "X[keep], y[keep]) or fill them ({what}.filled(value))"
)


def windows_as_rows(X: Any) -> tuple[Any, int | None]:
    """Flatten a 3-D ``(n, window, features)`` X to 2-D rows.

    Returns ``(X, n_step_features)``; ``n_step_features`` is None when ``X``
    was not 3-D (then ``X`` is returned untouched, for scikit-learn's
    ``validate_data`` to check and convert: DataFrames keep their column names
    that way).
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        try:
            ndim = np.ndim(X)
        except ValueError:  # ragged nested lists: let validate_data explain
            ndim = None
    if ndim != 3:
        return X, None
    X = np.asarray(X)
    n, window, n_features = X.shape
    # C order puts step 0's features first: the documented time-major row.
    return X.reshape(n, window * n_features), n_features


def n_rows(a: Any) -> int | None:
    """Rows of an array-like (None when it has no length to compare)."""
    if a is None:
        return None
    shape = getattr(a, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    if isinstance(a, (list, tuple)):
        return len(a)
    return None


def _text_error(what: str, example: Any) -> TypeError:
    fix = (
        "pass numeric targets (for class labels use RNNClassifier)"
        if what == "y"
        else "convert it first (pd.to_numeric for numbers stored as text, "
        "OneHotEncoder or codes for categories)"
    )
    return TypeError(f"{what} holds text (e.g. {str(example)!r}), not numbers; {fix}")


def check_window_values(X: Any, what: str, ndims=(1, 2, 3), labels=False) -> None:
    """Clear errors for windows that scikit-learn's validation explains poorly.

    Refuses a rank outside ``ndims``, ragged rows, complex and text values,
    inf (and NaN in ``y``), with messages that name the fix; ``labels``: class
    labels, only checked for NaN and inf. Everything else (1-D ``X`` at
    predict, NaN in ``X``, sparse input, feature names) is left to
    ``validate_data``, whose messages scikit-learn's own checks expect; complex
    input keeps its "Complex data not supported" and non-numeric objects their
    "argument must be a string or a real number" wording. Nothing is modified.
    """
    if X is None or sp.issparse(X):
        return
    refuse_masked(X, what, WINDOW_MASK_FIX.format(what=what))
    if labels:
        arr = np.asarray(X) if isinstance(X, (np.ndarray, list, tuple)) else None
        if arr is not None and arr.dtype.kind == "f":
            check_window_model_finite(arr, what)
        return
    if isinstance(X, (pd.Series, pd.DataFrame)):
        cols = (
            [(what, X)]
            if isinstance(X, pd.Series)
            else [(f"{what} column {c!r}", X.iloc[:, j]) for j, c in enumerate(X)]
        )
        for label, col in cols:
            dtype = col.dtype
            if pd.api.types.is_complex_dtype(dtype):
                raise ValueError(
                    f"Complex data not supported: {label} is complex; pass real "
                    "values (e.g. np.abs or .real)"
                )
            if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(
                dtype
            ):
                continue
            if pd.api.types.is_object_dtype(dtype):
                check_window_values(col.to_numpy(), label)
                continue
            raise TypeError(
                f"{label} has dtype {dtype}, not numbers; convert it first "
                "(pd.to_numeric, .astype(float), or encode categories and "
                "datetimes as numbers)"
            )
        return
    if not isinstance(X, (np.ndarray, list, tuple)):
        return
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"{what} is ragged ({exc}); every window needs the same number of "
            "steps and features: pad or cut them (tsrnn.make_windows builds "
            "equal windows from a series)"
        ) from exc
    if arr.ndim not in ndims:
        want = X_SHAPES if what == "X" else "1-D or 2-D (n_samples, n_outputs)"
        raise ValueError(
            f"{what} must be {want}; got shape {arr.shape}. For one long series, "
            "cut it into windows first with tsrnn.make_windows"
        )
    check_window_dtype(arr, what)
    if arr.dtype.kind == "f":
        check_window_model_finite(arr, what)


def check_window_dtype(arr: np.ndarray, what: str) -> None:
    """Refuse complex, text, datetimes and objects that are not numbers.

    The window models' wording (``what`` names the array, ``"X"`` or a
    sequence ``"X[3]"``); NaN and inf are checked elsewhere. An object array
    of numbers (or holding ``pd.NA``) passes.
    """
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {what} is complex; pass real values "
            "(e.g. np.abs or .real)"
        )
    if kind in "USa":
        raise _text_error(what, arr.flat[0] if arr.size else "")
    if kind in "Mm":
        raise TypeError(
            f"{what} holds datetimes/timedeltas, not numbers; convert them to "
            "numbers first (e.g. elapsed seconds)"
        )
    if kind == "O":
        try:
            arr.astype(np.float64)
        except TypeError as exc:  # dicts, complex numbers, ...
            if "NAType" in str(exc):
                return  # pd.NA: validate_data reports it as missing
            raise TypeError(
                f"{what} holds values that are not numbers ({exc}); convert them "
                "to numbers first"
            ) from exc
        except ValueError as exc:  # text that is not a number
            raise TypeError(
                f"{what} holds text, not numbers ({exc}); convert it first "
                "(pd.to_numeric for numbers stored as text, OneHotEncoder or codes "
                "for categories)"
            ) from exc


def check_window_model_finite(arr: np.ndarray, what: str) -> None:
    """inf anywhere, NaN in targets (NaN in ``X`` is left to ``validate_data``)."""
    if arr.ndim == 0:
        return
    bad = find_nonfinite(arr, allow_nan=what != "y")
    if bad is None:
        return
    problem = "infinity" if np.isinf(arr[bad.first]) else "NaN"
    keep = "np.isfinite(y)" if arr.ndim == 1 else f"np.isfinite({what}).all(axis=1)"
    if what != "y" and arr.ndim == 3:
        keep = f"np.isfinite({what}).all(axis=(1, 2))"
    fix = "clip or replace the infinite values" if problem == "infinity" else (
        "impute the missing targets"
    )
    raise ValueError(
        f"Input {what} contains {problem} ({bad.count} value(s), first in row "
        f"{bad.first[0]}); drop those windows (keep = {keep}; X, y = X[keep], "
        f"y[keep]) or {fix}"
    )


# --------------------------------------------------------------- tsrnn.nn arrays
def check_float_array(
    x, name: str, dtype, ndim=None, allow_nan: bool = False, shapes: str = ""
):
    """Convert ``x`` to a C-contiguous float array of ``dtype``, or raise.

    Parameters
    ----------
    x : array-like
    name : str
        Used in messages.
    dtype : numpy float dtype
    ndim : tuple of int, optional
        Allowed ranks.
    allow_nan : bool, default=False
    shapes : str, optional
        The expected shapes in words, for the wrong-rank message.

    Raises
    ------
    TypeError
        Non-numeric, boolean or complex data.
    ValueError
        Wrong rank, inf anywhere, NaN where not allowed.
    """
    if x is None:
        raise TypeError(f"{name} is None; pass an array of numbers")
    refuse_masked(
        x, name, f"fill the masked values first ({name}.filled(value)), or pass "
        f"{name}.data if the mask is not meant"
    )
    arr = np.asarray(x)
    check_real_array(
        arr,
        name,
        "; convert it to numbers first (e.g. pd.to_numeric or .astype(float))",
    )
    if ndim is not None and arr.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions"
            + (f" ({shapes})" if shapes else "")
            + f", got shape {arr.shape}; reshape it (e.g. x[:, None] adds an axis)"
        )
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out is arr:  # never hand the caller's buffer to code that writes
        out = out.copy()
    bad = find_nonfinite(out, allow_nan)
    if bad is not None:
        if bad.n_inf:
            raise ValueError(f"{name} contains inf; remove or clip infinite values")
        raise ValueError(f"{name} contains NaN; drop or impute missing values first")
    return out
