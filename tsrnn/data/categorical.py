"""Categorical covariates: their categories learned at fit, codes ever after.

A covariate column of dtype ``category``, ``object`` (strings) or ``string``
is categorical. ``fit`` learns its categories (a ``pd.Categorical``'s own, in
its order; otherwise the sorted distinct values) and every reader turns the
column into integer codes ``0..n-1`` carried as floats among the covariates
(a ``pd.Categorical``'s categories that no row of the fit data holds are left
out: nothing would train their vectors);
the forecaster embeds them (:mod:`tsrnn.engine.embedding`).

A value not seen at fit (at ``update`` or ``predict``) reads code ``n``, the
table's reserved *unknown* row, with an :class:`UnknownCategoryWarning` naming
the column and the values. Missing values are refused, as in numeric
covariates: a "missing" that matters is a category of its own
(``X[col].fillna("missing")``). Categories must be strings, integers, floats
or booleans (they are saved in the model file as JSON).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .checks import pandas_values

#: What :func:`decode` gives for the unknown code (read back as unknown again).
UNKNOWN = "<unknown>"


class UnknownCategoryWarning(UserWarning):
    """A categorical covariate holds a value fit never saw (read as "unknown")."""


def is_categorical(dtype: Any) -> bool:
    """Whether a pandas column of ``dtype`` is read as categories."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return False
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _plain(value: Any, col: Any) -> Any:
    """A category as a JSON-safe Python value, or a TypeError naming the fix."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(
        f"categorical covariate {col!r} holds a {type(value).__name__} value "
        f"({value!r}); categories must be strings or numbers: convert the "
        f"column, e.g. X[{col!r}].astype(str)"
    )


def _refuse_missing(column: pd.Series, col: Any, what: str) -> None:
    missing = column.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{what} column {col!r} (categorical) has {int(missing.sum())} missing "
            f"value(s); covariates must be complete: give missing values a "
            f"category of their own, e.g. {what}[{col!r}].fillna('missing')"
        )


def learn_categories(frame: pd.DataFrame, what: str) -> dict:
    """``{column: tuple of categories}`` of ``frame``'s categorical columns."""
    out = {}
    for col, dtype in frame.dtypes.items():
        if not is_categorical(dtype):
            continue
        column = frame[col]
        _refuse_missing(column, col, what)
        if isinstance(dtype, pd.CategoricalDtype):
            # the declared order, without categories no row holds: their
            # vectors would never be trained (they read "unknown" instead)
            used = set(column.cat.remove_unused_categories().cat.categories)
            cats = [c for c in dtype.categories if c in used]
        else:
            values = pd.unique(column.to_numpy())
            try:
                cats = sorted(values)
            except TypeError:  # mixed types: a stable, readable order
                cats = sorted(values, key=lambda v: (type(v).__name__, str(v)))
        if not cats:
            raise ValueError(f"{what} column {col!r} (categorical) has no categories")
        out[col] = tuple(_plain(c, col) for c in cats)
    return out


def encode(frame: pd.DataFrame, categories: dict, what: str) -> np.ndarray:
    """``frame`` as float64 ``(n, c)``: numbers as they are, categories as codes.

    A value outside a column's categories reads the unknown code
    ``len(categories[col])`` (with an :class:`UnknownCategoryWarning`).
    """
    cats = categories or {}
    numeric = [c for c in frame.columns if c not in cats]
    out = np.empty((len(frame), frame.shape[1]), np.float64)
    if numeric:
        out[:, [frame.columns.get_loc(c) for c in numeric]] = pandas_values(
            frame[numeric], what
        )
    for col, known in cats.items():
        if col not in frame.columns:
            continue
        column = frame[col]
        _refuse_missing(column, col, what)
        values = column.to_numpy(dtype=object)
        codes = pd.Index(known, dtype=object).get_indexer(values)
        unseen = codes < 0
        if unseen.any():
            new = list(pd.unique(values[unseen]))
            warnings.warn(
                f"{what} column {col!r} holds {len(new)} categor"
                f"{'y' if len(new) == 1 else 'ies'} not seen at fit "
                f"({', '.join(repr(v) for v in new[:5])}"
                f"{', ...' if len(new) > 5 else ''}); they read the embedding's "
                "reserved 'unknown' row (the mean of the fitted categories' "
                "vectors); refit on data holding them to learn their own",
                UnknownCategoryWarning,
                stacklevel=4,
            )
            codes = np.where(unseen, len(known), codes)
        out[:, frame.columns.get_loc(col)] = codes
    return out


def decode(values: np.ndarray, names: Any, categories: dict) -> dict:
    """Columns of codes back to their categories (the unknown code to ``UNKNOWN``).

    Returns ``{name: column}`` for a DataFrame constructor.
    """
    cats = categories or {}
    cols = {}
    for j, name in enumerate(names):
        if name in cats:
            known = np.array(list(cats[name]) + [UNKNOWN], dtype=object)
            cols[name] = known[np.rint(values[:, j]).astype(np.int64)]
        else:
            cols[name] = values[:, j]
    return cols
