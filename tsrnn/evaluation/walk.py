"""Walking a fitted forecaster forward over the data that follows its own.

At each origin: forecast, compare with the truth, ``update`` with the next
observations, repeat. :func:`walk_forward` is the loop; :func:`forecast_at` and
:func:`feed` are its two steps, used alone by :func:`tsrnn.backtest.backtest`.
Only the forecaster protocol is used (see :mod:`tsrnn.evaluation`), with the
array-level fast path when the forecaster has it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import Future, SeriesSchema, SeriesSet


@dataclass
class Origin:
    """One forecast origin of :func:`walk_forward`.

    Attributes
    ----------
    offset : int
        Rows of the walked block consumed before this forecast (per series).
    index : ndarray of shape (n_forecast,)
        Which series of the block were forecast (indices into the block).
    positions : ndarray of shape (n_forecast,)
        Their positions in the block's schema.
    y_true, y_pred : list of ndarray of shape (h_i, n_targets)
        Truth and forecast per forecast series (``h_i <= horizon`` at a block end).
    lower, upper : list of ndarray or None
        Interval bounds when a ``coverage`` was requested.
    predict_time : float
        Seconds spent in ``predict`` (and ``predict_interval``) at this origin.
    update_time : float
        Seconds of the ``update`` that led to this origin (0 for the first).
    """

    offset: int
    index: np.ndarray
    positions: np.ndarray
    y_true: list
    y_pred: list
    lower: list | None
    upper: list | None
    predict_time: float
    update_time: float


def estimator_positions(est_schema: SeriesSchema, block: SeriesSet) -> np.ndarray:
    """Positions of ``block``'s series in the estimator's schema (matched by id)."""
    if est_schema.ids is None:
        return np.zeros(block.n_series, np.int64)
    ids = block.schema.ids.take(block.positions)
    pos = est_schema.ids.get_indexer(ids)
    if (pos < 0).any():
        raise ValueError("the forecaster does not know some series of the data")
    return pos


def has_fast_path(est: Any) -> bool:
    return hasattr(est, "_predict_values") and hasattr(est, "_update_block")


def forecast_at(
    est: Any,
    block: SeriesSet,
    offset: int,
    horizons: np.ndarray,
    index: np.ndarray,
    coverage: float | None,
    method: str = "auto",
) -> tuple[list, list, list | None, list | None, float]:
    """Forecast series ``index`` of ``block`` from row ``offset`` (``horizons[i]``).

    With ``coverage``, also the interval bounds by ``method`` (one of the
    estimator's ``_interval_methods``, or ``"auto"``: its first).
    """
    schema = block.schema
    est_pos = estimator_positions(est.schema_, block)
    fast = has_fast_path(est)
    hs = horizons[index]
    if block.X is None:
        groups = [(int(hs.max()), index)]
    else:
        # future covariates exist only up to each series' block end, so series with
        # the same remaining horizon are forecast together
        groups = [(int(hv), index[hs == hv]) for hv in np.unique(hs)]
    preds: dict[int, np.ndarray] = {}
    lows: dict[int, np.ndarray] = {}
    ups: dict[int, np.ndarray] = {}
    t0 = time.perf_counter()
    for hv, sel in groups:
        future = (
            None if block.X is None else block.subset(sel).take(offset, offset + hv)
        )
        if fast:
            Xf = None if future is None else future.X.reshape(len(sel), hv, -1)
            fut = Future(est_pos[sel], Xf, hv)
            vals = est._predict_values(fut)
            pos = fut.positions
            if coverage is not None:
                bounds = getattr(est, "_bounds", None)
                lo, hi = (
                    bounds(pos, vals, coverage, method, fut)
                    if bounds is not None
                    else est._interval_bounds(pos, vals, coverage)
                )
        else:
            Xf = None if future is None else schema.covariates_to_user(future)
            pos, vals = est.schema_.parse_forecast(est.predict(horizon=hv, X=Xf))
            if coverage is not None:
                # method= only when chosen: third-party predict_interval may lack it
                chosen = {} if method == "auto" else {"method": method}
                out = est.predict_interval(
                    horizon=hv, X=Xf, coverage=coverage, **chosen
                )
                ipos, lo, hi = est.schema_.parse_interval(out, coverage)
                if not np.array_equal(ipos, pos):
                    raise ValueError(
                        "predict_interval returned other series than predict"
                    )
        row = {int(p): r for r, p in enumerate(pos)}
        for i in sel:
            r = row[int(est_pos[i])]
            preds[int(i)] = vals[r, : horizons[i]]
            if coverage is not None:
                lows[int(i)] = lo[r, : horizons[i]]
                ups[int(i)] = hi[r, : horizons[i]]
    elapsed = time.perf_counter() - t0
    truth = [block.series_y(i)[offset : offset + horizons[i]] for i in index]
    pred = [preds[int(i)] for i in index]
    if coverage is None:
        return truth, pred, None, None, elapsed
    return (
        truth,
        pred,
        [lows[int(i)] for i in index],
        [ups[int(i)] for i in index],
        elapsed,
    )


def feed(est: Any, block: SeriesSet, chunk: SeriesSet) -> float:
    """``est.update`` with ``chunk`` (rows of ``block``); returns the seconds spent."""
    t0 = time.perf_counter()
    if has_fast_path(est):
        est_pos = np.full(block.schema.n_series, -1, np.int64)
        est_pos[block.positions] = estimator_positions(est.schema_, block)
        est._update_block(
            dataclasses.replace(chunk, positions=est_pos[chunk.positions])
        )
    else:
        est.update(*block.schema.to_user(chunk))
    return time.perf_counter() - t0


def walk_forward(
    est: Any,
    block: SeriesSet,
    horizon: int,
    *,
    step: int | None = None,
    n_origins: int | None = None,
    full_only: bool = False,
    coverage: float | None = None,
) -> Iterator[Origin]:
    """Walk a fitted forecaster over the block that follows its data.

    At each origin: forecast ``horizon`` steps from the current state (fewer at the
    end of a series unless ``full_only``), yield the forecast with the truth, then
    ``update`` the forecaster with the next ``step`` rows. Only the public protocol
    is used (``predict``, ``predict_interval``, ``update``); ``est`` is modified.

    Parameters
    ----------
    est : forecaster
        Fitted on the data just before ``block``.
    block : SeriesSet
        The following observations (e.g. ``schema.check_update(y)`` or a ``take``).
    horizon : int
    step : int, optional
        Rows consumed between origins (default: ``horizon``).
    n_origins : int, optional
        Stop after this many origins.
    full_only : bool, default=False
        Forecast only series with ``horizon`` rows left (no truncated horizons).
    coverage : float, optional
        Also call ``predict_interval`` with this coverage.

    Yields
    ------
    Origin
    """
    step = horizon if step is None else int(step)
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    lengths = block.lengths
    offset = 0
    done = 0
    update_time = 0.0
    while n_origins is None or done < n_origins:
        rem = lengths - offset
        active = rem >= horizon if full_only else rem > 0
        if not active.any():
            return
        index = np.flatnonzero(active)
        horizons = np.minimum(np.maximum(rem, 0), horizon)
        truth, pred, lo, hi, ptime = forecast_at(
            est, block, offset, horizons, index, coverage
        )
        yield Origin(
            offset,
            index,
            block.positions[index],
            truth,
            pred,
            lo,
            hi,
            ptime,
            update_time,
        )
        done += 1
        rem_next = lengths - (offset + step)
        more = (rem_next >= horizon if full_only else rem_next > 0).any()
        if not more or (n_origins is not None and done >= n_origins):
            return
        update_time = feed(est, block, block.take(offset, offset + step))
        offset += step
