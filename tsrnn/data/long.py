"""The one parser of long-format frames (``unique_id`` / ``ds`` / values).

Both readers of long frames go through :func:`parse_long`: the forecasters'
normalization (:func:`tsrnn.data.normalize.to_series_set`) and the window
helper :func:`tsrnn.windowing.windows_from_long`. It finds the series, sorts
the rows by (series, time) without touching the caller's frame, and locates
what no reader can accept: rows without an id or a time label and two rows of
one series at the same time. What the readers then require of the time labels
(a regular frequency for a forecaster; only an order for windows) and of the
values (NaN as gaps for a forecaster, never in a window) stays with them.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .checks import time_order_problem
from .containers import Segments


@dataclass(frozen=True, eq=False)
class LongFrame(Segments):
    """A long frame cut into series: rows in (series, time) order.

    Attributes
    ----------
    order : ndarray of shape (n_rows,)
        Row positions of the caller's frame in (series, time) order (stable:
        rows that tie keep their order).
    codes : ndarray of shape (n_rows,)
        Series code of each sorted row.
    ids : pandas.Index
        The series ids, in code order.
    indptr : ndarray of shape (n_series + 1,)
        Series ``i`` is sorted rows ``indptr[i]:indptr[i + 1]``.
    time : pandas.Index
        Time labels of the sorted rows.
    """

    order: np.ndarray
    codes: np.ndarray
    ids: pd.Index
    indptr: np.ndarray
    time: pd.Index

    def first_duplicate(self) -> int | None:
        """The first sorted row whose (series, time) repeats the row before it."""
        problem = time_order_problem(self.time, self.codes)
        return problem[1] + 1 if problem and problem[0] == "duplicate" else None


def parse_long(
    df: pd.DataFrame,
    id_col: Hashable,
    time_col: Hashable,
    *,
    what: str,
    sort_ids: bool,
    time: pd.Index | None = None,
) -> LongFrame:
    """Cut a long frame into series sorted by time; the frame is not modified.

    Parameters
    ----------
    df : pandas.DataFrame
        Holds ``id_col`` and ``time_col`` (the callers check their columns).
    id_col, time_col : hashable
    what : str
        The frame's name in messages (``"y"``, ``"df"``).
    sort_ids : bool
        Series in sorted id order (True) or in order of first appearance.
    time : pandas.Index, optional
        The time labels, already converted or checked by the caller (default:
        the ``time_col`` column as is). They need an order: datetimes,
        periods, numbers.

    Raises
    ------
    ValueError
        A missing id or time label.
    """
    id_values = df[id_col]
    if id_values.isna().any():
        raise ValueError(
            f"{what}'s {id_col!r} column has missing ids; drop or fill them "
            "(every row needs a series id)"
        )
    time = pd.Index(df[time_col]) if time is None else time
    if time.hasnans:
        raise ValueError(
            f"{what}'s time column {time_col!r} has missing values (NaT or NaN); "
            "drop those rows: every row needs a time stamp"
        )
    codes, uniques = pd.factorize(id_values, sort=sort_ids)
    keys = pd.DataFrame({"series": codes, "time": time}, copy=False)
    order = keys.sort_values(["series", "time"], kind="stable").index.to_numpy()
    codes_s = codes[order]
    counts = np.bincount(codes_s, minlength=len(uniques))
    indptr = np.zeros(len(uniques) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return LongFrame(
        order=order,
        codes=codes_s,
        ids=pd.Index(uniques),
        indptr=indptr,
        time=time[order],
    )


def collection_to_long(
    y: Any, X: Any, id_col: str, time_col: str, target_col: Any, default_ids=None
) -> tuple[Any, Any]:
    """A list, tuple or dict of pandas Series as a long frame (else unchanged).

    Darts and sktime users pass many series as a list of Series; tsrnn reads
    them as the long frame they stand for: one series per element, its index
    as ``time_col``, its values as ``target_col``. The ids are the dict's keys,
    else the Series' names when they are all set and distinct, else
    ``0..n-1``. ``X``, when given, must be the same kind of collection (same
    length or keys) of Series/DataFrames indexed like the matching ``y``.

    Parameters
    ----------
    y, X : any
        What the user passed.
    id_col, time_col : str
        The long-format column names to build.
    target_col : str or list of str
        The target column name (one target per Series).
    default_ids : sequence, optional
        The ids of an unnamed list (``update`` passes the fitted series' ids,
        so that a list continues the series of ``fit`` in order).

    Returns
    -------
    tuple
        ``(y, X)``: long frames for a collection, the inputs themselves otherwise.
    """
    if not isinstance(y, (list, tuple, dict)) or len(y) == 0:
        return y, X
    items = list(y.values()) if isinstance(y, dict) else list(y)
    if not all(isinstance(s, pd.Series) for s in items):
        kinds = sorted({type(s).__name__ for s in items})
        raise TypeError(
            f"y is a {type(y).__name__} of {', '.join(kinds)}: several series are "
            "passed as a list or dict of pandas Series (each indexed by its "
            f"time labels) or as one long-format DataFrame with columns "
            f"{id_col!r}, {time_col!r} and the target (e.g. "
            "pd.concat({name: s for ...}).rename_axis([id_col, time_col]).reset_index())"
        )
    if not isinstance(target_col, str):
        raise TypeError(
            "a list or dict of Series holds one target per series; target_col "
            f"must be one column name, got {target_col!r}"
        )
    if isinstance(y, dict):
        ids = list(y.keys())
    else:
        names = [s.name for s in items]
        distinct = all(n is not None for n in names) and len(set(names)) == len(names)
        if distinct:
            ids = names
        elif default_ids is not None and len(default_ids) == len(items):
            ids = list(default_ids)
        else:
            ids = list(range(len(items)))
    frames = [
        pd.DataFrame({id_col: [i] * len(s), time_col: s.index, target_col: s.to_numpy()})
        for i, s in zip(ids, items, strict=True)
    ]
    long_y = pd.concat(frames, ignore_index=True)
    if X is None:
        return long_y, None
    return long_y, _covariates_to_long(y, X, ids, id_col, time_col, target_col)


def _covariates_to_long(y, X, ids, id_col, time_col, target_col):
    """The covariates of a collection of series, as one long frame."""
    if isinstance(y, dict) != isinstance(X, dict) or not isinstance(
        X, (list, tuple, dict)
    ):
        raise TypeError(
            f"y is a {type(y).__name__} of Series, so X must be a "
            f"{'dict' if isinstance(y, dict) else 'list'} of their covariates "
            f"(one Series or DataFrame per series), got {type(X).__name__}"
        )
    if isinstance(X, dict):
        if set(X) != set(ids):
            raise ValueError(
                f"X's keys {sorted(map(str, X))} differ from y's {sorted(map(str, ids))}"
            )
        covs = [X[i] for i in ids]
    else:
        if len(X) != len(ids):
            raise ValueError(f"X holds {len(X)} items for {len(ids)} series in y")
        covs = list(X)
    frames = []
    for i, c in zip(ids, covs, strict=True):
        if isinstance(c, pd.Series):
            c = c.to_frame()
        if not isinstance(c, pd.DataFrame):
            raise TypeError(
                f"the covariates of series {i!r} must be a pandas Series or "
                f"DataFrame indexed by time, got {type(c).__name__}"
            )
        if target_col in c.columns or id_col in c.columns or time_col in c.columns:
            raise ValueError(
                f"the covariates of series {i!r} have a column named like the long "
                f"format's {id_col!r}/{time_col!r}/{target_col!r}; rename it"
            )
        frames.append(c.reset_index(drop=True).assign(**{id_col: i, time_col: c.index}))
    out = pd.concat(frames, ignore_index=True)
    cols = [id_col, time_col] + [c for c in out.columns if c not in (id_col, time_col)]
    return out[cols]
