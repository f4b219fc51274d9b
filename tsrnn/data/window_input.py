"""Reading a series that the windowing helpers cut into windows.

``make_windows``, ``WindowTransformer`` and ``windows_from_long``
(:mod:`tsrnn.windowing`) read their series through here: the ``dtype=``
they compute in (float64 or float32), a wide series or its covariates as a
float array with its time index checked (:func:`read_window_values`), one
column for a 1-D series (:func:`as_2d`), and the columns of a long frame with
errors that name the series and time stamp (:func:`long_values`). A window
cannot hold a gap, so NaN, inf and masked values are refused; the checks
themselves are those of :mod:`tsrnn.data.checks`, so the messages read the
same as everywhere else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .checks import (
    check_real_array,
    check_window_finite,
    check_window_time_index,
    describe,
    find_nonfinite,
    is_real_number_dtype,
    refuse_masked,
)

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def check_float_dtype(dtype: Any) -> np.dtype:
    """The ``dtype=`` of the windowing helpers: float64 or float32."""
    try:
        out = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(
            f"dtype must be np.float64 or np.float32, got {dtype!r}"
        ) from exc
    if out not in _FLOAT_DTYPES:
        raise TypeError(
            f"dtype must be np.float64 or np.float32, got {out}; the window models "
            "compute in floating point"
        )
    return out


def read_window_values(
    data: Any, name: str, dtype: np.dtype
) -> tuple[np.ndarray, pd.Index | None]:
    """A series to cut into windows as a float array of ``dtype``, and its index.

    The result may be a read-only view of the caller's data: it is only read
    (the windows handed back are fresh copies). A pandas index must be sorted
    and unique when it is time-like; NaN and inf are refused.
    """
    if data is None:
        raise TypeError(f"{name} is None; pass an array or pandas object of numbers")
    refuse_masked(
        data, name, "a window cannot hold a gap: fill the masked values first "
        f"({name}.filled(value), or interpolate them), or forecast the series "
        "with RNNForecaster, which reads masked targets as missing steps"
    )
    index = None
    if isinstance(data, (pd.Series, pd.DataFrame)):
        dtypes = (
            data.dtypes.items()
            if isinstance(data, pd.DataFrame)
            else [(data.name, data.dtype)]
        )
        bad = [(col, dt) for col, dt in dtypes if not is_real_number_dtype(dt)]
        if bad:
            what = ", ".join(
                f"{col!r} ({dt})" if isinstance(data, pd.DataFrame) else f"dtype {dt}"
                for col, dt in bad
            )
            raise TypeError(
                f"{name} holds values that are not real numbers: {what}; convert "
                "them first (pd.to_numeric, .astype(float), one-hot encoding for "
                "categories) or drop them"
            )
        check_window_time_index(data.index, name)
        index = data.index
        # na_value turns pandas' nullable pd.NA into NaN, caught below.
        arr = data.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{name} could not be read as a numeric array ({exc}); pass a "
                "rectangular array of numbers"
            ) from exc
        check_real_array(
            arr,
            name,
            ", not numbers; convert it first (e.g. .astype(float) or pd.to_numeric)",
        )
    if arr.ndim == 0:
        raise ValueError(
            f"{name} is a scalar; pass a sequence of values, one per time step"
        )
    check_window_finite(arr, name)
    return _cast(arr, dtype, f"{name} has values too large for {dtype}"), index


def _cast(values: np.ndarray, dtype: np.dtype, too_large: str) -> np.ndarray:
    with np.errstate(over="ignore"):  # overflow is reported just below
        out = values.astype(dtype, copy=False)
    if out.dtype != values.dtype and not np.isfinite(out).all():
        raise ValueError(f"{too_large}; use dtype=np.float64")
    return out


def as_2d(arr: np.ndarray, name: str, shape_hint: str) -> np.ndarray:
    """A 1-D series as one column; 2-D as is; anything else refused."""
    if arr.ndim == 1:
        return arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D {shape_hint} with rows = time steps, got "
            f"shape {arr.shape}; reshape it (e.g. .reshape(len(x), -1))"
        )
    if arr.shape[1] == 0:
        raise ValueError(
            f"{name} has no columns (shape {arr.shape}); pass at least one"
        )
    return arr


def long_values(
    frame: pd.DataFrame, cols: list, dtype: np.dtype, id_col: Any, time_col: Any
) -> np.ndarray:
    """Columns of a long frame as a 2-D float array; errors name series and time."""
    values_frame = frame[cols]
    bad = [
        (c, dt) for c, dt in values_frame.dtypes.items() if not is_real_number_dtype(dt)
    ]
    if bad:
        what = ", ".join(f"{c!r} ({dt})" for c, dt in bad)
        raise TypeError(
            f"column(s) {what} are not real numbers; convert them first "
            "(pd.to_numeric, .astype(float)) or leave them out"
        )
    values = values_frame.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = find_nonfinite(values)
    if bad is not None:
        row, col = bad.first
        where = (
            f"column {cols[col]!r}, series {describe(frame[id_col].iloc[row])} at "
            f"{time_col}={describe(frame[time_col].iloc[row])}"
        )
        if np.isinf(values[row, col]):
            raise ValueError(f"inf value in {where}; remove or clip infinite values")
        raise ValueError(
            f"missing value (NaN) in {where}; a window cannot hold missing values: "
            "drop or impute them first (e.g. df.groupby(id_col).ffill())"
        )
    return _cast(values, dtype, f"values too large for {dtype}")
