"""The normalized containers: stacked observations and a forecast's future.

:class:`SeriesSet` holds one or many series in a ``data + indptr`` layout
(float64 targets with NaN gaps, finite covariates, time labels) and
:class:`Future` the series and covariates a ``predict`` must cover. Both are
frozen: a forecaster reads them, never changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


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


class Segments:
    """Rows cut into series: series ``i`` is rows ``indptr[i]:indptr[i + 1]``.

    The sizes every such container (:class:`SeriesSet`,
    :class:`~tsrnn.data.long.LongFrame`) derives from its ``indptr``.
    """

    indptr: np.ndarray

    @property
    def n_series(self) -> int:
        """Number of series."""
        return len(self.indptr) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Rows per series, shape (n_series,)."""
        return np.diff(self.indptr)


@dataclass(frozen=True, eq=False)
class SeriesSet(Segments):
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
    schema : SeriesSchema or None
        Format information; at fit, also the ends of the series in this set
        (None only inside :mod:`tsrnn.data.normalize`, before the schema exists).
    """

    y: np.ndarray
    X: np.ndarray | None
    indptr: np.ndarray
    positions: np.ndarray
    time: pd.Index | None
    schema: Any

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
