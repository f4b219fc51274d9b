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
