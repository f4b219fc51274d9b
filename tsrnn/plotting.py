"""Diagnostic plots: forecasts with intervals, training curves, gradient norms.

matplotlib is an optional dependency (``pip install tsrnn[plot]``); it is
imported only when a plotting function is called, so ``import tsrnn.plotting``
always works. Every function draws on the ``ax`` it is given (or on a new
figure) and returns the Axes it drew on.

Functions
---------
plot_forecast
    History, point forecast and prediction-interval band.
plot_loss_curve
    Training loss per epoch and validation scores of a fitted model.
plot_gradient_norms
    ``||dL/dh_t||`` against steps before the end of the window (log scale).
"""

from __future__ import annotations

import re

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_forecast", "plot_gradient_norms", "plot_loss_curve"]

_HISTORY_COLOR = "#333333"
_FORECAST_COLOR = "#1f77b4"
_BAND_ALPHA = 0.25
_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#d62728"


def _pyplot():
    """Import and return ``matplotlib.pyplot``, or raise a helpful ImportError."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # matplotlib missing or broken
        raise ImportError(
            "tsrnn.plotting needs matplotlib, which is not installed. "
            "Install it with `pip install matplotlib` (or `pip install tsrnn[plot]`)."
        ) from exc
    return plt


def _new_axes(figsize=(8.0, 4.0)):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _finish_dates(ax, index) -> None:
    """Concise date tick labels when the x values are timestamps."""
    if isinstance(index, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _figure_legend(ax) -> None:
    """One legend row under the plot(s), where it never hides data."""
    handles, labels = ax.get_legend_handles_labels()
    ax.figure.legend(
        handles, labels, loc="outside lower center", ncol=len(handles), frameon=False
    )


# --------------------------------------------------------------------- forecast
def _as_series(values: Any, name: str) -> pd.Series:
    """A 1-D pandas Series (arrays get a RangeIndex; one-column frames squeeze)."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(f"{name} has {values.shape[1]} columns; expected one")
        return values.iloc[:, 0]
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return pd.Series(arr)


def _future_index(history: pd.Series, n: int) -> pd.Index:
    """Positions for an index-less forecast: right after the history."""
    idx = history.index
    if isinstance(idx, pd.DatetimeIndex) and len(idx) >= 3:
        freq = idx.freq or pd.infer_freq(idx)
        if freq is not None:
            return pd.date_range(idx[-1], periods=n + 1, freq=freq)[1:]
    if pd.api.types.is_integer_dtype(idx.dtype) and len(idx):
        step = int(idx[-1] - idx[-2]) if len(idx) >= 2 else 1
        return pd.Index(idx[-1] + step * np.arange(1, n + 1))
    return pd.RangeIndex(len(idx), len(idx) + n)


_BOUND = re.compile(r"^(?P<target>.*)-(?P<side>lo|hi)-(?P<pct>[0-9.]+)$")


def _interval_bands(interval: Any, target: Any, n: int, coverage: Any) -> list:
    """``[(pct or None, lower, upper), ...]`` for one target, widest band first.

    Reads ``predict_interval``'s DataFrames (``{target}-lo-{pct}`` /
    ``{target}-hi-{pct}`` column pairs, one per level; the older ``lower`` /
    ``upper`` and ``(target, "lower" | "upper")`` columns still work) and
    ``(lower, upper)`` array tuples (one band).
    """
    if isinstance(interval, pd.DataFrame):
        cols = interval.columns
        if isinstance(cols, pd.MultiIndex):
            if target is None:
                target = cols.get_level_values(0)[0]
            lo, hi = interval[(target, "lower")], interval[(target, "upper")]
            return [(coverage, lo.to_numpy(np.float64), hi.to_numpy(np.float64))]
        if {"lower", "upper"} <= set(cols):
            lo, hi = interval["lower"], interval["upper"]
            return [(coverage, lo.to_numpy(np.float64), hi.to_numpy(np.float64))]
        found: dict[str, dict] = {}
        for c in cols:
            m = _BOUND.match(str(c))
            if m and (target is None or m["target"] == str(target)):
                found.setdefault(m["target"], {}).setdefault(m["pct"], {})[m["side"]] = c
        if not found:
            raise ValueError(
                "interval DataFrame needs '<target>-lo-<level>' / "
                "'<target>-hi-<level>' columns (predict_interval's output), or "
                "'lower' and 'upper'"
            )
        levels = found[next(iter(found))]
        bands = []
        for pct in sorted(levels, key=float, reverse=True):  # widest first
            pair = levels[pct]
            if set(pair) != {"lo", "hi"}:
                raise ValueError(f"interval has a {pct}% bound without its pair")
            bands.append(
                (
                    float(pct) / 100,
                    interval[pair["lo"]].to_numpy(np.float64),
                    interval[pair["hi"]].to_numpy(np.float64),
                )
            )
        return bands
    try:
        lo, hi = interval
    except (TypeError, ValueError):
        raise ValueError(
            "interval must be predict_interval's DataFrame or a (lower, upper) tuple"
        ) from None
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if lo.ndim == 2:
        col = 0 if target is None else int(target)
        lo, hi = lo[:, col], hi[:, col]
    if lo.shape != (n,) or hi.shape != (n,):
        raise ValueError(
            f"interval bounds have shapes {lo.shape}, {hi.shape}; the forecast "
            f"has {n} steps"
        )
    return [(coverage, lo, hi)]


def _interval_label(coverage: Any) -> str:
    if coverage is None:
        return "prediction interval"
    return f"{100 * float(coverage):g}% prediction interval"


def _draw_forecast(
    ax, history, forecast, interval, coverage, last, target, title, legend=True
):
    hist = _as_series(history, "history")
    if last is not None:
        if int(last) < 1:
            raise ValueError(f"last must be a positive integer, got {last}")
        hist = hist.iloc[-int(last) :]
    fc = _as_series(forecast, "forecast")
    if not isinstance(forecast, pd.Series | pd.DataFrame):
        fc.index = _future_index(hist, len(fc))
    ax.plot(
        hist.index,
        hist.to_numpy(np.float64),
        color=_HISTORY_COLOR,
        linewidth=1.2,
        label="history",
    )
    # The forecast line starts at the last observation so the two connect.
    fx, fy = fc.index, fc.to_numpy(np.float64)
    if len(hist):
        joined_x = hist.index[-1:].append(fc.index)
        joined_y = np.concatenate([hist.to_numpy(np.float64)[-1:], fy])
    else:
        joined_x, joined_y = fx, fy
    ax.plot(joined_x, joined_y, color=_FORECAST_COLOR, linewidth=1.8, label="forecast")
    if interval is not None:
        if coverage is None:
            coverage = getattr(interval, "attrs", {}).get("coverage")
        bands = _interval_bands(interval, target, len(fc), coverage)
        for k, (level, lo, hi) in enumerate(bands):
            # nested bands: each narrower band is drawn over the wider ones,
            # so the inner region reads darker
            ax.fill_between(
                fx,
                lo,
                hi,
                color=_FORECAST_COLOR,
                alpha=_BAND_ALPHA * (1.0 if k == 0 else 0.8),
                linewidth=0,
                label=_interval_label(level),
            )
    name = fc.name if fc.name is not None else hist.name
    ax.set_ylabel(str(name) if name is not None else "value")
    ax.set_xlabel("time" if isinstance(fx, pd.DatetimeIndex) else "time step")
    ax.set_xlim(hist.index[0] if len(hist) else fx[0], fx[-1])
    _finish_dates(ax, fx)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(loc="best", frameon=True, framealpha=0.85, edgecolor="none")
    if title is not None:
        ax.set_title(title)


def plot_forecast(
    history: Any,
    forecast: Any,
    interval: Any = None,
    *,
    last: int | None = None,
    ax: Any = None,
    title: str | None = None,
    coverage: float | None = None,
    target: Any = None,
):
    """Plot the observed history, the point forecast and its interval band.

    Parameters
    ----------
    history : pandas.Series, pandas.DataFrame or array-like
        Observed values, 1-D (or one column per target). A Series' index is
        the x axis; arrays are plotted against their position.
    forecast : pandas.Series, pandas.DataFrame or array-like
        Output of :meth:`tsrnn.RNNForecaster.predict` for the same data: a
        Series indexed by future timestamps (Series fit), a DataFrame with one
        column per target (DataFrame fit), or an array, which is placed right
        after the history (its index extended with its frequency). The line is
        drawn from the last observation on so the two connect.
    interval : pandas.DataFrame or tuple of array-like, optional
        Output of :meth:`tsrnn.RNNForecaster.predict_interval`: a DataFrame
        with ``{target}-lo-{pct}`` / ``{target}-hi-{pct}`` column pairs, one
        per level (several levels are drawn as nested bands, the narrower
        darker), or a ``(lower, upper)`` tuple of arrays (one band).
    last : int, optional
        Show only the last ``last`` history points.
    ax : matplotlib.axes.Axes, optional
        Where to draw (single target only); a new figure otherwise.
    title : str, optional
        Axes title (figure title with several targets).
    coverage : float, optional
        Nominal coverage of an array ``interval`` for the legend, e.g. 0.9 ->
        "90% prediction interval" (a DataFrame names its levels itself).
    target : column label, optional
        With a multi-target forecast, plot only this target (on ``ax``).

    Returns
    -------
    matplotlib.axes.Axes or numpy.ndarray of Axes
        One Axes for a single target; with several targets (and no
        ``target``), an array with one subplot per target, sharing the x axis.
        On a new figure the legend is a figure legend under the plots
        (``ax.figure.legends[0]``); on a given ``ax`` it is ``ax.get_legend()``.

    Notes
    -----
    Long-format forecasts (``unique_id``/``ds`` columns) are not handled:
    select one series and pass its target column as a Series.

    Examples
    --------
    Any forecaster of the package draws the same way; a baseline keeps the
    example fast:

    >>> import numpy as np, pandas as pd
    >>> from tsrnn import SeasonalNaiveForecaster
    >>> from tsrnn.plotting import plot_forecast
    >>> y = pd.Series(np.sin(np.arange(300) / 5),
    ...               index=pd.date_range("2024-01-01", periods=300, freq="h"))
    >>> model = SeasonalNaiveForecaster(season_length=24, horizon=24).fit(y)
    >>> bands = model.predict_interval(level=[80, 95])
    >>> ax = plot_forecast(y, model.predict(), bands, last=96)
    >>> [t.get_text() for t in ax.figure.legends[0].get_texts()]
    ['history', 'forecast', '95% prediction interval', '80% prediction interval']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    _pyplot()
    multi = isinstance(forecast, pd.DataFrame) and forecast.shape[1] > 1
    if not multi:
        arr = (
            None
            if isinstance(forecast, pd.Series | pd.DataFrame)
            else (np.asarray(forecast))
        )
        multi = arr is not None and arr.ndim == 2 and arr.shape[1] > 1
    own = ax is None
    if not multi:
        if own:
            ax = _new_axes()
        _draw_forecast(
            ax, history, forecast, interval, coverage, last, None, title, not own
        )
        if own:
            _figure_legend(ax)
        return ax

    fc = (
        forecast
        if isinstance(forecast, pd.DataFrame)
        else pd.DataFrame(np.asarray(forecast, np.float64))
    )
    hist = (
        history
        if isinstance(history, pd.DataFrame)
        else pd.DataFrame(np.asarray(history, np.float64))
    )
    if not isinstance(forecast, pd.DataFrame):
        fc.index = _future_index(hist.iloc[:, 0], len(fc))
    if hist.shape[1] != fc.shape[1]:
        raise ValueError(
            f"history has {hist.shape[1]} columns but the forecast has {fc.shape[1]}"
        )
    hist.columns = fc.columns if not isinstance(history, pd.DataFrame) else hist.columns
    targets = list(fc.columns) if target is None else [target]
    if target is None and ax is not None:
        raise ValueError(
            "a multi-target forecast needs one subplot per target: pass "
            "target=<column> to draw one of them on ax, or omit ax"
        )
    if ax is None:
        plt = _pyplot()
        fig, axes = plt.subplots(
            len(targets),
            1,
            sharex=True,
            squeeze=False,
            figsize=(8.0, 2.4 * len(targets) + 0.8),
            layout="constrained",
        )
        axes = axes[:, 0]
    else:
        axes = np.array([ax])
    for i, (a, name) in enumerate(zip(axes, targets, strict=True)):
        j = list(fc.columns).index(name)
        iv = None
        if interval is not None:
            iv = (
                interval
                if isinstance(interval, pd.DataFrame)
                else tuple(np.asarray(b, np.float64)[:, j] for b in interval)
            )
        _draw_forecast(
            a,
            hist.iloc[:, j],
            fc.iloc[:, j],
            iv,
            coverage,
            last,
            name if isinstance(interval, pd.DataFrame) else None,
            None,
            not own,
        )
        a.set_ylabel(str(name))
        if i < len(axes) - 1:
            a.set_xlabel("")
    if own:
        _figure_legend(axes[0])
    if title is not None:
        if ax is None:
            axes[0].figure.suptitle(title)
        else:
            ax.set_title(title)
    return axes[0] if ax is not None else axes


# --------------------------------------------------------------------- training
_SCORE_LABELS = {
    "RNNForecaster": "validation score (−MSE, scaled)",
    "RNNRegressor": "validation R²",
    "RNNClassifier": "validation accuracy",
}


def plot_loss_curve(model: Any, ax: Any = None, *, title: str | None = None):
    """Plot the training loss per epoch and, when recorded, validation scores.

    Parameters
    ----------
    model : fitted RNNForecaster, RNNRegressor or RNNClassifier
        Anything with a ``loss_curve_`` list; ``validation_scores_`` (per
        epoch, or fewer values aligned to the last epochs, e.g. the single
        post-training score of an ``RNNForecaster`` without early stopping)
        and ``best_validation_score_`` are used when present. Negative scores
        (``RNNForecaster``'s negative MSE) are drawn as the MSE itself, on a
        log axis when they span decades; R² and accuracy are drawn as is.
    ax : matplotlib.axes.Axes, optional
        Where to draw the loss; validation scores go on a twin y axis.
    title : str, optional
        Defaults to "<ModelClass> training".

    Returns
    -------
    matplotlib.axes.Axes
        The Axes holding the loss curve (the twin, if any, is
        ``ax.right_ax``).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from tsrnn import RNNRegressor
    >>> from tsrnn.plotting import plot_loss_curve
    >>> series = np.sin(0.2 * np.arange(200.0))
    >>> X = np.lib.stride_tricks.sliding_window_view(series[:-1], 10)
    >>> model = RNNRegressor(hidden_size=8, max_iter=5, early_stopping=True,
    ...                      random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs: a demo
    ...     model = model.fit(X, series[10:])
    >>> ax = plot_loss_curve(model)  # loss per epoch; validation R² on the right
    >>> ax.get_xlabel()
    'epoch'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    _pyplot()
    from matplotlib.ticker import MaxNLocator

    loss = getattr(model, "loss_curve_", None)
    if loss is None:
        raise ValueError(
            f"{type(model).__name__} has no loss_curve_; fit the model first"
        )
    loss = np.asarray(loss, dtype=np.float64)
    if ax is None:
        ax = _new_axes((7.0, 4.0))
    epochs = np.arange(1, len(loss) + 1)
    handles = ax.plot(
        epochs,
        loss,
        color=_TRAIN_COLOR,
        marker="o" if len(loss) < 15 else None,
        markersize=3,
        linewidth=1.6,
        label="training loss",
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (scaled units)", color=_TRAIN_COLOR)
    ax.tick_params(axis="y", which="both", colors=_TRAIN_COLOR)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    pos = loss[np.isfinite(loss)]
    if len(pos) and pos.min() > 0 and pos.max() / pos.min() > 30:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)

    val = getattr(model, "validation_scores_", None)
    if val is not None and len(val):
        val = np.asarray(val, dtype=np.float64)
        # align to the last epochs (one final score, or warm-started curves)
        n_epochs = max(len(loss), len(val))
        vx = np.arange(n_epochs - len(val) + 1, n_epochs + 1)
        right = ax.twinx()
        ax.right_ax = right
        name = type(model).__name__
        finite = val[np.isfinite(val)]
        # RNNForecaster's scores are negative MSEs: drawn as MSE (log scale
        # when it spans decades), which reads far better than values near 0.
        as_mse = (
            name not in ("RNNRegressor", "RNNClassifier")
            and len(finite)
            and finite.max() < 0
        )
        sign = -1.0 if as_mse else 1.0
        if as_mse:
            # the forecaster scores its tails by its loss's error: MAE for
            # the absolute-error loss (its default), MSE otherwise
            err = "MAE" if getattr(model, "loss_", None) == "absolute_error" else "MSE"
            label = f"validation {err} (= −score)"
            axis_label = f"validation {err} (scaled, lower is better)"
        else:
            label = _SCORE_LABELS.get(name, "validation score")
            axis_label = label + " (higher is better)"
        small = len(val) < 15
        handles += right.plot(
            vx,
            sign * val,
            color=_VAL_COLOR,
            marker="s" if small else None,
            markersize=4,
            linewidth=1.4,
            linestyle="--" if len(val) > 1 else "",
            label=label,
        )
        if as_mse and -finite.max() > 0 and finite.min() / finite.max() > 30:
            right.set_yscale("log")
        right.set_ylabel(axis_label, color=_VAL_COLOR)
        right.tick_params(axis="y", which="both", colors=_VAL_COLOR)
        best = getattr(model, "best_validation_score_", None)
        if best is not None and np.isfinite(best):
            where = np.flatnonzero(val == best)
            b = vx[where[0]] if len(where) else vx[int(np.nanargmax(val))]
            handles += right.plot(
                [b],
                [sign * best],
                linestyle="",
                marker="*",
                markersize=13,
                color=_VAL_COLOR,
                markeredgecolor="black",
                markeredgewidth=0.6,
                label=f"best: epoch {b}, score {best:.3g}",
            )
            ax.axvline(b, color="0.6", linestyle=":", linewidth=1)
    ax.set_xlim(0.5, max(len(loss), 1) + 0.5)
    ax.legend(
        handles=handles,
        loc="upper center",
        frameon=False,
        bbox_to_anchor=(0.5, -0.16),
        ncol=min(len(handles), 2),
    )
    ax.set_title(title if title is not None else f"{type(model).__name__} training")
    return ax


# -------------------------------------------------------------------- gradients
def _rows(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be a 1-D array (T,) or 2-D (layers, T), got shape {arr.shape}"
        )
    return arr


def plot_gradient_norms(
    dh_norm: Any,
    ax: Any = None,
    labels: Any = None,
    log: bool = True,
    *,
    title: str | None = None,
):
    """Plot ``||dL/dh_t||`` against the number of steps before the window's end.

    The loss gradient flows backwards from the end of the window; a norm
    falling steeply to the right (further back in time) shows vanishing
    gradients, a rising one exploding gradients.

    Parameters
    ----------
    dh_norm : array-like or dict of str to array-like
        Per-step gradient norms in forward time order, shape ``(T,)`` or
        ``(layers, T)``, e.g. ``model.dh_norm_`` or
        ``tsrnn.nn.LSTM(...).dh_norm_`` after ``backward``. A dict compares
        several models (one colour per model, one line style per layer).
    ax : matplotlib.axes.Axes, optional
    labels : list of str, optional
        Names of the rows of a 2-D array (default "layer 0", "layer 1", ...).
    log : bool, default=True
        Log-scale y axis (non-positive norms are left out).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    Vanishing gradients at initialization, a vanilla RNN against an LSTM:

    >>> import numpy as np
    >>> from tsrnn.nn import LSTM, RNN
    >>> from tsrnn.plotting import plot_gradient_norms
    >>> x = np.random.default_rng(0).normal(size=(50, 8, 1))  # 50 steps, 8 sequences
    >>> norms = {}
    >>> for name, module in {"RNN": RNN(1, 16, random_state=0),
    ...                      "LSTM": LSTM(1, 16, random_state=0)}.items():
    ...     out, _ = module(x)
    ...     grad_out = np.zeros_like(out)
    ...     grad_out[-1] = 1.0  # the loss reads the last step only
    ...     grads = module.backward(grad_out)
    ...     norms[name] = module.dh_norm_  # (layers, steps)
    >>> ax = plot_gradient_norms(norms)
    >>> [line.get_label() for line in ax.get_lines()], ax.get_yscale()
    (['RNN', 'LSTM'], 'log')
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    plt = _pyplot()
    series = dict(dh_norm) if isinstance(dh_norm, Mapping) else {None: dh_norm}
    if not series:
        raise ValueError("dh_norm is an empty dict")
    arrays = {
        k: _rows(v, "dh_norm" if k is None else f"dh_norm[{k!r}]")
        for k, v in series.items()
    }
    if log and not any(np.any(np.isfinite(a) & (a > 0)) for a in arrays.values()):
        raise ValueError(
            "no positive gradient norms to draw on a log axis; pass log=False"
        )
    if ax is None:
        ax = _new_axes((7.0, 4.0))
    colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    styles = ["-", "--", ":", "-."]
    t_max = 0
    for m, (name, arr) in enumerate(arrays.items()):
        n_layers, T = arr.shape
        t_max = max(t_max, T)
        if labels is not None and len(labels) != n_layers:
            raise ValueError(f"{len(labels)} labels for {n_layers} rows")
        back = np.arange(T)[::-1]  # steps before the end of the window
        for i, row in enumerate(arr):
            y = np.where(row > 0, row, np.nan) if log else row
            layer = labels[i] if labels is not None else f"layer {i}"
            if name is None:
                label, color, style = layer, colors[i % len(colors)], "-"
            else:
                label = str(name) if n_layers == 1 else f"{name}, {layer}"
                color, style = colors[m % len(colors)], styles[i % len(styles)]
            ax.plot(back, y, color=color, linestyle=style, linewidth=1.6, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlim(0, max(t_max - 1, 1))
    ax.set_xlabel("steps before the end of the window")
    ax.set_ylabel(r"gradient norm $\|\partial L / \partial h_t\|$")
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", axis="y", alpha=0.12)
    if len(ax.get_lines()) > 1:
        ax.legend(frameon=False, loc="best")
    ax.set_title(title if title is not None else "Backpropagated gradient norm")
    return ax
