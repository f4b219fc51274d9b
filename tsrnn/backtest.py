"""Rolling-origin evaluation (backtest) of any forecaster following the protocol.

The forecaster is cloned and fitted once on the data before the first origin; at
every origin it forecasts ``horizon`` steps, the forecast is scored against the
truth, and the forecaster is ``update``-d with the next ``step`` observations (or
refitted on everything up to the next origin with ``refit=True``). The user's
estimator is never fitted or modified.

Origins are counted from the end of each series: the last origin leaves exactly
``horizon`` steps to forecast, and the ``n_origins`` origins are ``step`` apart
(the alignment of statsforecast's ``cross_validation``), so series of a long
frame with different lengths are evaluated on their own most recent data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from . import metrics as _metrics
from .data import check_horizon, to_series_set
from .evaluation import feed, forecast_at
from .evaluation.conformal import check_levels

__all__ = ["backtest"]

_POINT_METRICS: dict[str, Callable] = {
    "mae": _metrics.mae,
    "rmse": _metrics.rmse,
    "smape": _metrics.smape,
}


def _metric_functions(metrics: Sequence) -> list[tuple[str, Any]]:
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    out = []
    for m in metrics:
        if callable(m):
            out.append((getattr(m, "__name__", "metric"), m))
        elif m in _POINT_METRICS or m == "mase":
            out.append((m, m))
        else:
            raise ValueError(
                f"unknown metric {m!r}; use 'mae', 'rmse', 'mase', 'smape' or a "
                "callable f(y_true, y_pred) -> float"
            )
    return out


_METHODS = ("auto", "conformal", "distribution", "quantile", "samples")


def _check_method(est: Any, method: Any, coverage: Any) -> None:
    """Refuse, before any fit, an interval ``method`` the forecaster cannot give."""
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(
            f"method must be one of {', '.join(repr(m) for m in _METHODS)}, "
            f"got {method!r}"
        )
    if method == "auto":
        return
    if coverage is None:
        raise ValueError(
            f"method={method!r} chooses how the intervals are made, but no "
            "intervals were asked for: give level= too (e.g. level=[80, 95])"
        )
    check = getattr(est, "_check_interval_method", None)
    if check is None:
        raise ValueError(
            f"{type(est).__name__}.predict_interval has no interval methods to "
            "choose from; leave method='auto'"
        )
    check(method)  # names what the forecaster can give


def _data_params(forecaster: Any) -> dict:
    """Column names and frequency as the forecaster itself will read them."""
    params = forecaster.get_params(deep=False)
    keys = ("id_col", "time_col", "target_col", "freq", "past_covariates")
    return {k: params[k] for k in keys if k in params}


def backtest(
    forecaster: Any,
    y: Any,
    X: Any = None,
    horizon: int | None = None,
    n_origins: int = 10,
    step: int | None = None,
    initial: int | None = None,
    refit: bool = False,
    metrics: Sequence = ("mae", "rmse", "mase", "smape"),
    season_length: int = 1,
    coverage: float | None = None,
    return_forecasts: bool = False,
    *,
    level: Any = None,
    method: str = "auto",
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin backtest: fit once, then forecast, score and update.

    Parameters
    ----------
    forecaster : forecaster
        Any estimator with ``fit(y, X=None)``, ``predict(horizon=None, X=None)`` and
        ``update(y_new, X_new=None)`` (e.g. ``RNNForecaster``, the baselines). It is
        cloned; its ``horizon`` parameter, if any, is set to ``horizon`` on the clone.
    y : array-like, pandas Series/DataFrame or long-format DataFrame
        The whole series (the forecaster's ``id_col`` / ``time_col`` / ``target_col``
        / ``freq`` parameters are used to read a long frame).
    X : optional
        Covariates aligned with ``y``; future values are taken from it.
    horizon : int, optional
        Steps forecast at each origin (default: the forecaster's ``horizon``).
    n_origins : int, default=10
        Number of forecast origins per series.
    step : int, optional
        Steps between origins (default: ``horizon``, non-overlapping windows).
    initial : int, optional
        Length of the first training window (the first origin). Default: as long as
        possible, ``n - horizon - (n_origins - 1) * step`` for a series of length
        ``n``; an int applies to every series.
    refit : bool, default=False
        Refit a fresh clone on all data up to each origin instead of ``update``.
    metrics : sequence of str or callable, default=("mae", "rmse", "mase", "smape")
        Names from :mod:`tsrnn.metrics` or callables ``f(y_true, y_pred)``.
        ``"mase"`` is scaled by the seasonal naive at lag ``season_length`` on the
        data before the origin.
    season_length : int, default=1
        Lag ``m`` of MASE's scale.
    coverage : float, optional
        Also compute ``predict_interval(coverage=...)`` and report the empirical
        ``coverage``, mean ``interval_width`` and mean ``winkler`` score.
    return_forecasts : bool, default=False
        Also return every forecast, in the long format of statsforecast's
        ``cross_validation``, to plot and score them yourself.
    level : float or list of float, optional
        Nominal coverage(s) in percent (``[80, 95]``; fractions are read as
        such), as ``predict_interval``'s ``level``; instead of ``coverage``.
        With a list, the scores get one ``coverage_<pct>``,
        ``interval_width_<pct>`` and ``winkler_<pct>`` column per level and the
        forecasts one ``<name>-lo-<pct>`` / ``<name>-hi-<pct>`` pair per level.
    method : str, default="auto"
        How the bounds are made, as ``predict_interval``'s ``method``
        (``"conformal"``, or what the model's head offers: ``"distribution"``,
        ``"quantile"``, ``"samples"``); ``"auto"``: the model's first.

    Returns
    -------
    scores : pandas.DataFrame
        One row per origin (and per series for long format, with the id column
        first): ``origin`` (rows seen before the forecast), ``cutoff`` (time label of
        the last row seen, or its position for arrays), one column per metric,
        ``coverage``/``interval_width``/``winkler`` when requested (suffixed
        ``_<pct>`` with a list of levels), ``fit_time``
        (seconds of the fit, refit or update that led to this origin) and
        ``predict_time``.
    forecasts : pandas.DataFrame
        Only with ``return_forecasts=True``: one row per origin and forecast
        step (and series), columns ``unique_id`` (the forecaster's ``id_col``;
        the target's name for one series), ``ds`` (its ``time_col``: the
        forecast step's time label, or its position for arrays), ``cutoff``,
        ``y`` (the truth), the point forecast in a column named after the
        forecaster's class and, with ``coverage`` or ``level``, its bounds
        ``<name>-lo-<pct>`` / ``<name>-hi-<pct>``
        (Nixtla's naming). With several targets, a ``target`` column after
        ``unique_id``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.baselines import NaiveForecaster
    >>> from tsrnn.backtest import backtest
    >>> y = np.arange(30.0)
    >>> backtest(NaiveForecaster(), y, horizon=2, n_origins=3)[["origin", "mae"]]
       origin  mae
    0      24  1.5
    1      26  1.5
    2      28  1.5
    """
    est0 = clone(forecaster)
    h = check_horizon(horizon, getattr(est0, "horizon", 1))
    if "horizon" in est0.get_params(deep=False):
        est0.set_params(horizon=h)
    step = h if step is None else check_horizon(step)
    if (
        isinstance(n_origins, bool)
        or not isinstance(n_origins, (int, np.integer))
        or n_origins < 1
    ):
        raise ValueError(f"n_origins must be a positive int, got {n_origins!r}")
    funcs = _metric_functions(metrics)
    if level is not None or coverage is not None:
        fractions, several = check_levels(level, coverage)
    else:
        fractions, several = [], False
    wanted = fractions if several else (fractions[0] if fractions else None)
    _check_method(est0, method, wanted)

    data = to_series_set(y, X, **_data_params(est0))
    schema = data.schema
    n = data.lengths
    span = h + (n_origins - 1) * step
    if initial is None:
        first = n - span
    else:
        first = np.full_like(n, int(initial))
    short = (first < 1) | (first + span > n)
    if short.any():
        i = int(np.argmax(short))
        who = "the series" if schema.ids is None else f"series {schema.ids[i]!r}"
        need = span + (1 if initial is None else int(initial))
        raise ValueError(
            f"{who} has {int(n[i])} rows; n_origins={n_origins} origins with "
            f"horizon={h} and step={step} need at least {need}. Lower n_origins, "
            "horizon, step or initial"
        )

    est = clone(est0)
    t0 = time.perf_counter()
    est.fit(*schema.to_user(data.take(0, first)))
    last_fit = time.perf_counter() - t0
    block = data.take(first, n)  # every series has rows here (first + span <= n)

    rows = []
    model = type(forecaster).__name__
    pcts = [f"{100 * c:g}" for c in fractions]
    pieces: list[pd.DataFrame] = []
    horizons = np.full(block.n_series, h)
    everyone = np.arange(block.n_series)
    for j in range(n_origins):
        offset = j * step
        truth, pred, lo, hi, ptime = forecast_at(
            est, block, offset, horizons, everyone, wanted, method
        )
        for i in everyone:
            origin = int(first[i] + offset)
            row: dict[str, Any] = {}
            if schema.ids is not None:
                row[schema.id_col] = schema.ids[block.positions[i]]
            row["origin"] = origin
            if data.time is not None:
                row["cutoff"] = data.series_time(i)[origin - 1]
            else:
                row["cutoff"] = origin - 1
            for name, f in funcs:
                if f == "mase":
                    history = data.series_y(i)[:origin]
                    row[name] = _metrics.mase(
                        truth[i], pred[i], history, m=season_length
                    )
                elif isinstance(f, str):
                    row[name] = _POINT_METRICS[f](truth[i], pred[i])
                else:
                    row[name] = float(f(truth[i], pred[i]))
            for c, pct, lo_c, hi_c in _by_level(fractions, several, pcts, lo, hi, i):
                sfx = f"_{pct}" if several else ""
                row["coverage" + sfx] = _metrics.coverage(truth[i], lo_c, hi_c)
                row["interval_width" + sfx] = _metrics.interval_width(lo_c, hi_c)
                row["winkler" + sfx] = _metrics.winkler(truth[i], lo_c, hi_c, c)
            if return_forecasts:
                piece = {
                    schema.time_col: (
                        np.arange(origin, origin + len(truth[i]))
                        if data.time is None
                        else data.series_time(i)[origin : origin + len(truth[i])]
                    ),
                    "cutoff": row["cutoff"],
                    "y": truth[i],
                    model: pred[i],
                }
                for _, pct, lo_c, hi_c in _by_level(
                    fractions, several, pcts, lo, hi, i
                ):
                    piece[f"{model}-lo-{pct}"] = lo_c
                    piece[f"{model}-hi-{pct}"] = hi_c
                series_id = (
                    schema.ids[block.positions[i]] if schema.ids is not None else None
                )
                pieces.append(
                    _forecast_rows(piece, series_id, schema.target_names, schema)
                )
            row["fit_time"] = last_fit
            row["predict_time"] = ptime
            rows.append(row)
        if j == n_origins - 1:
            break
        if refit:
            est = clone(est0)
            t0 = time.perf_counter()
            est.fit(*schema.to_user(data.take(0, first + offset + step)))
            last_fit = time.perf_counter() - t0
        else:
            last_fit = feed(est, block, block.take(offset, offset + step))
    frame = pd.DataFrame(rows)
    if schema.ids is not None:
        # rows were produced origin by origin; present them series by series
        series = np.tile(everyone, n_origins)
        frame = frame.iloc[np.lexsort((frame["origin"].to_numpy(), series))]
        frame = frame.reset_index(drop=True)
    if not return_forecasts:
        return frame
    forecasts = pd.concat(pieces, ignore_index=True)
    id_col, time_col = schema.id_col, schema.time_col
    keys = [c for c in (id_col, "target") if c in forecasts] + ["cutoff", time_col]
    forecasts = forecasts.sort_values(keys, kind="stable").reset_index(drop=True)
    return frame, forecasts


def _by_level(fractions, several, pcts, lo, hi, i):
    """``(coverage, pct, lower, upper)`` of series ``i`` for every level asked."""
    for j, (c, pct) in enumerate(zip(fractions, pcts, strict=True)):
        if several:
            yield c, pct, lo[i][j], hi[i][j]
        else:
            yield c, pct, lo[i], hi[i]


def _forecast_rows(
    piece: dict, series_id: Any, targets: Sequence, schema: Any
) -> pd.DataFrame:
    """One origin's forecast of one series as long rows (one block per target)."""
    blocks = []
    for j, target in enumerate(targets):
        cols: dict[str, Any] = {
            schema.id_col: target if series_id is None else series_id
        }
        if len(targets) > 1:
            cols["target"] = target
        for name, values in piece.items():
            values = np.asarray(values) if not isinstance(values, pd.Index) else values
            cols[name] = values[:, j] if getattr(values, "ndim", 0) == 2 else values
        blocks.append(pd.DataFrame(cols))
    return pd.concat(blocks, ignore_index=True)
