"""``X_past``: past-only covariates given apart from the known ones.

``fit(y, X, X_past=...)`` and ``update(y_new, X_new, X_past=...)`` are the
same as passing one covariate set holding both, with the ``X_past`` columns
named in ``past_covariates``: :func:`join_past` builds that set (nothing of
the user's is modified) and says which columns came from ``X_past``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .normalize import is_long


def _keys(frame: Any, id_col: str, time_col: str, what: str) -> None:
    if not isinstance(frame, pd.DataFrame) or not {id_col, time_col} <= set(
        frame.columns
    ):
        raise TypeError(
            f"with long-format y, {what} must be a long-format DataFrame with "
            f"columns {id_col!r}, {time_col!r} and the past-only covariates"
        )


def join_past(
    y: Any, X: Any, X_past: Any, id_col: str, time_col: str, what: str = "X_past"
) -> tuple[Any, Any, list]:
    """``(y, X, past names)`` with ``X_past``'s columns joined to the covariates.

    Long ``y``: ``X_past`` is a long frame with the same (id, time) rows; its
    columns join ``X`` (or the extra columns of ``y``). Wide ``y``: ``X_past``
    is aligned row by row, in ``X``'s format (both arrays or both pandas).
    Array columns are named ``x0, x1, ...`` after ``X``'s.
    """
    if X_past is None:
        return y, X, []
    if is_long(y, id_col):
        _keys(X_past, id_col, time_col, what)
        keys = [id_col, time_col]
        past = [c for c in X_past.columns if c not in keys]
        if not past:
            raise ValueError(f"{what} has no covariate columns; pass X_past=None")
        if X is not None:
            _keys(X, id_col, time_col, "X")
        # joined to X, or to y as extra columns (its covariates then)
        target, name = (y, "y") if X is None else (X, "X")
        clash = [c for c in past if c in target.columns]
        if clash:
            raise ValueError(
                f"{what} and {name} both hold column(s) {clash}; give each "
                "covariate once"
            )
        if len(X_past) != len(y):
            raise ValueError(
                f"{what} has {len(X_past)} row(s) but y has {len(y)}; {what} needs "
                f"exactly one row per ({id_col}, {time_col}) row of y"
            )
        try:
            joined = target.merge(
                X_past, on=keys, how="left", validate="one_to_one", sort=False,
                indicator="__tsrnn_past__",
            )
        except ValueError as exc:  # pandas MergeError, key dtypes
            raise ValueError(
                f"{what} must hold one row per ({id_col}, {time_col}) of y ({exc})"
            ) from exc
        if (joined.pop("__tsrnn_past__") != "both").any():
            raise ValueError(
                f"{what}'s ({id_col}, {time_col}) rows differ from those of y; "
                f"{what} needs exactly one row per row of y, with the same keys"
            )
        joined.index = target.index
        return (joined, None, past) if X is None else (y, joined, past)
    # wide
    if X is None:
        if isinstance(X_past, pd.Series):
            return y, X_past, ["x0" if X_past.name is None else X_past.name]
        if isinstance(X_past, pd.DataFrame):
            return y, X_past, list(X_past.columns)
        arr = np.asarray(X_past)
        n = 1 if arr.ndim == 1 else arr.shape[-1]
        return y, X_past, [f"x{j}" for j in range(n)]
    pandas = (pd.Series, pd.DataFrame)
    if isinstance(X, pandas) != isinstance(X_past, pandas):
        raise TypeError(
            f"X and {what} must come in one format: both pandas (aligned on y's "
            "index) or both arrays"
        )
    if isinstance(X, pandas):
        Xf = X.to_frame() if isinstance(X, pd.Series) else X
        Pf = X_past.to_frame() if isinstance(X_past, pd.Series) else X_past
        clash = [c for c in Pf.columns if c in Xf.columns]
        if clash:
            raise ValueError(
                f"{what} and X both hold column(s) {clash}; give each covariate once"
            )
        if not Pf.index.equals(Xf.index):
            raise ValueError(
                f"{what}'s index differs from X's; covariates are aligned by index, "
                f"so align them first (e.g. {what} = {what}.loc[X.index])"
            )
        return y, pd.concat([Xf, Pf], axis=1), list(Pf.columns)
    a, b = np.asarray(X), np.asarray(X_past)
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    if a.ndim != 2 or b.ndim != 2 or len(a) != len(b):
        raise ValueError(
            f"X and {what} must be 1-D or 2-D with one row per row of y; got shapes "
            f"{np.shape(X)} and {np.shape(X_past)}"
        )
    joined = np.concatenate([a, b], axis=1)
    return y, joined, [f"x{j}" for j in range(a.shape[1], joined.shape[1])]
