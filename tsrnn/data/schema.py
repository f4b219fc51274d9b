"""The series schema: what ``fit`` saw, and the shape of every output.

:class:`SeriesSchema` records the format of ``y`` and ``X`` at fit (kind,
names, ids, frequency) and where every series ends now; it validates what
``update`` and ``predict`` receive (through :mod:`tsrnn.data.normalize`) and
turns forecasts and intervals back into the user's format. :func:`to_series_set`
reads ``fit``'s data and creates the schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .categorical import decode
from .containers import Future, SeriesSet
from .long import collection_to_long
from .normalize import is_long, read_future, read_long, read_wide
from .timeaxis import freq_from_json, freq_to_json, shift_range, time_key, tz_of


def interval_column_names(target: Any, coverage: float) -> tuple[str, str]:
    """Interval column names, Nixtla's: ``("y-lo-90", "y-hi-90")`` for 0.9.

    A tuple name (a MultiIndex column) is joined with "_" from the ``str`` of
    its parts, so ``("load", 3)`` gives ``"load_3-lo-90"`` whatever the parts'
    types (NumPy or Python integers print the same).
    """
    pct = f"{100 * coverage:.10g}"
    if target is None:  # an unnamed Series: its forecast column is "y"
        target = "y"
    if isinstance(target, tuple):
        target = "_".join(str(part) for part in target)
    return f"{target}-lo-{pct}", f"{target}-hi-{pct}"


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
    categories : dict or None
        ``{covariate name: tuple of categories}`` of the categorical
        covariates (:mod:`tsrnn.data.categorical`); their columns hold codes.
    past_names : tuple
        Covariates observed up to each step only (``past_covariates``): read by
        ``fit`` and ``update``, never asked for by ``predict``.
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
    # Declared mirror (form only): defaulted fields then a size property, as in
    # engine.cells.CellSpec; unrelated classes.
    index_name: Any = None
    series_name: Any = None
    allow_nan: bool = True
    categories: dict | None = None
    past_names: tuple = ()

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

    @property
    def known_names(self) -> list:
        """Covariates known in advance (all but ``past_names``), in column order."""
        names = self.covariate_names or ()
        return [c for c in names if c not in self.past_names]

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
            y, X = collection_to_long(
                y, X, self.id_col, self.time_col, self.target_col, list(self.ids)
            )
            if not is_long(y, self.id_col):
                raise TypeError(
                    "the model was fitted on a long-format DataFrame; pass new "
                    f"observations the same way (columns {self.id_col!r}, "
                    f"{self.time_col!r}, targets)"
                )
            block, _ = read_long(
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
            block, _ = read_wide(y, X, self.freq, self.allow_nan, "y_new", schema=self)
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
        out = shift_range(self.last[pos], self.freq, horizon)
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
            From :func:`~tsrnn.data.checks.check_horizon`.
        X : array-like, pandas object or long-format DataFrame, optional
            Wide fit: ``horizon`` rows (a pandas ``X`` must be indexed by the
            future timestamps). Long fit: a frame with ``id_col``, ``time_col``
            and the covariate columns, ``horizon`` rows per series to forecast
            with the future timestamps; series not in ``X`` are not forecast.

        Returns
        -------
        Future
        """
        if self.kind == "long" and isinstance(X, (list, tuple, dict)):
            X = self._future_collection(X)
        return read_future(self, horizon, X)

    def _future_collection(self, X: Any) -> Any:
        """Future covariates given as a list/dict of frames, as a long frame."""
        items = list(X.values()) if isinstance(X, dict) else list(X)
        if isinstance(X, dict):
            ids = list(X.keys())
        elif len(items) == len(self.ids):
            ids = list(self.ids)
        else:
            raise ValueError(
                f"X holds {len(items)} items for {len(self.ids)} series; pass one "
                "per series (or a dict keyed by series id)"
            )
        frames = []
        for i, c in zip(ids, items, strict=True):
            c = c.to_frame() if isinstance(c, pd.Series) else c
            if not isinstance(c, pd.DataFrame):
                raise TypeError(
                    f"the future covariates of series {i!r} must be a pandas "
                    f"Series or DataFrame indexed by time, got {type(c).__name__}"
                )
            frames.append(
                c.reset_index(drop=True).assign(
                    **{self.id_col: i, self.time_col: c.index}
                )
            )
        return pd.concat(frames, ignore_index=True)

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
        lower: Any,
        upper: Any,
        coverage: Any,
        positions: Any = None,
    ) -> Any:
        """Turn interval bounds into the user's format (see the module docstring).

        Parameters
        ----------
        lower, upper : ndarray of shape (n_forecast, horizon, n_targets), or lists
            of them (one per coverage)
        coverage : float or list of float
            The nominal coverage(s), fractions; a list means several levels.
        positions : array of int, optional

        Returns
        -------
        tuple of ndarray, or pandas.DataFrame
            Arrays: ``(lower, upper)`` (with a leading level axis for several
            levels). pandas / long: columns ``{target}-lo-{pct}`` and
            ``{target}-hi-{pct}`` per target and level, ``attrs["levels"]``.
        """
        several = isinstance(coverage, list)
        coverages = coverage if several else [coverage]
        lowers = lower if several else [lower]
        uppers = upper if several else [upper]
        los = [self.format_forecast(v, positions) for v in lowers]
        his = [self.format_forecast(v, positions) for v in uppers]
        if self.kind in ("array1d", "array2d"):
            if several:
                return np.stack(los), np.stack(his)
            return los[0], his[0]
        first = los[0]
        if self.kind == "long":
            frame = first[[self.id_col, self.time_col]].copy()
        else:
            frame = pd.DataFrame(index=first.index)
        for j, name in enumerate(self.target_names):
            for c, lo, hi in zip(coverages, los, his, strict=True):
                lo_name, hi_name = interval_column_names(name, c)
                if self.kind == "long":
                    frame[lo_name], frame[hi_name] = lo[name].to_numpy(), hi[name].to_numpy()
                else:
                    lo_v, hi_v = lo.to_numpy(), hi.to_numpy()
                    frame[lo_name] = lo_v if lo_v.ndim == 1 else lo_v[:, j]
                    frame[hi_name] = hi_v if hi_v.ndim == 1 else hi_v[:, j]
        frame.attrs["levels"] = [float(f"{100 * c:.10g}") for c in coverages]
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
        """Inverse of :meth:`format_interval` (one level): ``(positions, lower, upper)``."""
        if self.kind in ("array1d", "array2d"):
            lo, hi = out
            pos, lo = self.parse_forecast(lo)
            return pos, lo, self.parse_forecast(hi)[1]
        names = [interval_column_names(t, coverage) for t in self.target_names]
        if self.kind != "long":
            lo = out[[n[0] for n in names]].to_numpy(np.float64)
            hi = out[[n[1] for n in names]].to_numpy(np.float64)
            h = len(out)
            return np.zeros(1, np.int64), lo.reshape(1, h, -1), hi.reshape(1, h, -1)
        pos, both = self._parse_long(out, [c for pair in names for c in pair])
        return pos, both[:, :, 0::2], both[:, :, 1::2]

    def _parse_long(
        self, frame: pd.DataFrame, columns: list
    ) -> tuple[np.ndarray, np.ndarray]:
        codes = self.ids.get_indexer(frame[self.id_col])
        if (codes < 0).any():
            raise ValueError("forecast frame holds series ids unknown to the model")
        order = np.lexsort((time_key(pd.Index(frame[self.time_col])), codes))
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
                cols = decode(block.X, self.covariate_names, self.categories)
                for name in self.covariate_names:
                    y[name] = cols[name]
            else:
                X = self.covariates_to_user(block)
        return y, X

    def covariates_to_user(self, block: SeriesSet) -> Any:
        """Covariates of ``block`` in the format ``predict``'s ``X`` expects."""
        if block.X is None:
            return None
        names = list(self.covariate_names)
        cols = decode(block.X, names, self.categories)
        if self.kind == "long":
            frame = self._block_keys(block)
            for name in names:
                frame[name] = cols[name]
            return frame
        if self.x_kind == "pandas":
            index = (
                block.time if block.time is not None else pd.RangeIndex(len(block.X))
            )
            if block.time is not None:
                index = index.rename(self.index_name)
            return pd.DataFrame(cols, index=index, columns=names)
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
        freq = freq_to_json(self.freq)  # a trading calendar keeps its holidays
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
            "tz": None if tz_of(self.last) is None else str(tz_of(self.last)),
            "unit": getattr(self.last, "unit", None),
            "n_seen": self.n_seen.tolist(),
            "index_name": self.index_name,
            "series_name": self.series_name,
            "allow_nan": self.allow_nan,
            # name -> categories as pairs: JSON keys would turn names into str
            "categories": None if self.categories is None else [
                [_plain_value(k), list(v)] for k, v in self.categories.items()
            ],
            "past_names": [_plain_value(v) for v in self.past_names],
        }

    @classmethod
    def from_dict(cls, d: dict) -> SeriesSchema:
        """Inverse of :meth:`to_dict`."""
        itype = d["index_type"]
        freq = d["freq"]
        if freq is not None and itype in ("datetime", "period"):
            freq = freq_from_json(freq)
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
            # absent from files written before categorical and past covariates
            categories=None if d.get("categories") is None else {
                _name(k): tuple(v) for k, v in d["categories"]
            },
            past_names=tuple(_name(v) for v in d.get("past_names", ())),
        )


def _plain_value(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _name(v: Any) -> Any:
    """A column name read back from JSON (a MultiIndex name was a list)."""
    return tuple(v) if isinstance(v, list) else v


def _past_names(past: Any, names: Any) -> tuple:
    """``past_covariates`` as covariate names (ints index array columns)."""
    if past is None:
        return ()
    items = [past] if isinstance(past, (str, int)) else list(past)
    if items and names is None:
        raise ValueError(
            f"past_covariates={past!r} names covariates but no X was given; pass "
            "X holding them (or past_covariates=None)"
        )
    out = []
    for p in items:
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool) and (
            p not in names
        ):
            if not 0 <= p < len(names):
                raise ValueError(
                    f"past_covariates holds column position {p} but X has "
                    f"{len(names)} column(s); name columns of X {list(names)}"
                )
            p = names[int(p)]
        if p not in names:
            raise ValueError(
                f"past_covariates names {p!r}, which is not a covariate; the "
                f"covariates are {list(names)} (name columns of X, or extra "
                "columns of a long y)"
            )
        out.append(p)
    if len(set(out)) != len(out):
        raise ValueError(f"past_covariates={past!r} names a column twice")
    return tuple(c for c in names if c in out)  # in column order


def to_series_set(
    y: Any,
    X: Any = None,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    freq: Any = None,
    allow_nan: bool = True,
    past_covariates: Any = None,
    categories: Any = None,
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
    past_covariates : str, int or list of them, optional
        Covariates observed up to each step only (names, or positions of an
        array ``X``'s columns): ``predict`` does not ask for them.
    categories : dict, optional
        The categories of an earlier fit (``schema.categories``) that a
        continued fit (``warm_start``) encodes with, instead of learning them:
        the codes must index the same embedding rows.

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
    y, X = collection_to_long(y, X, id_col, time_col, target_col)
    if is_long(y, id_col):
        rows, fields = read_long(
            y, X, id_col, time_col, target_col, freq, allow_nan, "y",
            categories=categories,
        )
    else:
        if isinstance(y, pd.DataFrame) and time_col in y.columns:
            # a frame with a time column but no id column is most likely long
            # format for one series; treating "ds" as a target would fail with a
            # dtype error
            raise TypeError(
                f"y has a {time_col!r} column but no {id_col!r} column. For one "
                f"series, move time to the index (y.set_index({time_col!r})[...]); "
                f"for long format, add the id column (y.assign({id_col}='series_0'))"
            )
        rows, fields = read_wide(
            y, X, freq, allow_nan, "y", id_col=id_col, categories=categories
        )
    # the readers give the fields their rows define; the names are the caller's
    schema = SeriesSchema(
        **fields,
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        allow_nan=allow_nan,
        past_names=_past_names(past_covariates, fields["covariate_names"]),
    )
    return dataclasses.replace(rows, schema=schema)
