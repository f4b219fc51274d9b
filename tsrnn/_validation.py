"""Input checks shared by every public entry point.

Each check names the problem and the fix; none modifies its input (a converted
copy is returned when a conversion is needed).
"""

from __future__ import annotations

import numpy as np


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
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind in "USVMm":
        raise TypeError(
            f"{name} has dtype {arr.dtype}; convert it to numbers first "
            "(e.g. pd.to_numeric or .astype(float))"
        )
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} is boolean; cast it explicitly with .astype(float)")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} is complex; pass real values (e.g. np.abs or .real)")
    if ndim is not None and arr.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions"
            + (f" ({shapes})" if shapes else "")
            + f", got shape {arr.shape}; reshape it (e.g. x[:, None] adds an axis)"
        )
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out is arr:  # never hand the caller's buffer to code that writes
        out = out.copy()
    finite = np.isfinite(out)
    if not finite.all():
        if np.isinf(out).any():
            raise ValueError(f"{name} contains inf; remove or clip infinite values")
        if not allow_nan:
            raise ValueError(
                f"{name} contains NaN; drop or impute missing values first"
            )
    return out
