"""What the forecaster's network reads and predicts, built from stacked series.

Per step ``t`` of a series the network reads ``[y_t, x_t, calendar_t]`` (scaled
targets, scaled covariates, calendar features); its head additionally reads, for
every forecast step ``k = 1..h``, what is known in advance about ``t + k``: the
covariates and calendar of ``t + k`` (future covariates, as in MQ-RNN and
NeuralForecast's decoders) and the last observed value at the same seasonal phase
(``y_{t+k-m*ceil(k/m)}``, the seasonal naive forecast; ``y_t`` without a season)
together with the covariates and calendar of that reference step, so that the
head can learn "as one season ago, corrected for what differs" (a holiday after a
workday, a hotter day).
It predicts ``y_{t+1..t+h}`` (horizon-major: output ``k * n_targets + j``).

Everything is gathered by index arithmetic over the stacked ``data + indptr``
layout, so a training window of any rows costs ``O(rows * h)`` and nothing of size
``N * h`` is ever materialised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _too_large(what: str, values: np.ndarray) -> ValueError:
    big = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else np.inf
    return ValueError(
        f"{what} has values too large to standardize in float64 (largest |value| = "
        f"{big:.3g}: their mean or variance overflows); divide it by a constant "
        "(e.g. a power of ten) and scale the forecasts back"
    )


@dataclass
class Scaler:
    """Per-series target scaling and global covariate scaling (fitted on training rows)."""

    y_loc: np.ndarray  # (S, k)
    y_scale: np.ndarray  # (S, k)
    x_loc: np.ndarray  # (c,)
    x_scale: np.ndarray  # (c,)

    @classmethod
    def fit(cls, kind, y, X, indptr, train_end):
        S = len(indptr) - 1
        k = y.shape[1]
        y_loc = np.zeros((S, k))
        y_scale = np.ones((S, k))
        if kind is not None:
            for i in range(S):
                seg = y[indptr[i] : train_end[i]]
                # targets never observed in the training rows keep (0, 1): NumPy's
                # nan-reductions would warn about their empty slices
                seen = ~np.isnan(seg).all(axis=0) if len(seg) else np.zeros(k, bool)
                obs = seg[:, seen]
                loc, sc = np.zeros(k), np.ones(k)
                with np.errstate(all="ignore"):
                    if seen.any() and kind == "standard":
                        loc[seen] = np.nanmean(obs, axis=0)
                        sc[seen] = np.nanstd(obs, axis=0)
                    elif seen.any():  # robust: median / IQR
                        loc[seen] = np.nanmedian(obs, axis=0)
                        q = np.nanpercentile(obs, [25, 75], axis=0)
                        sc[seen] = q[1] - q[0]
                if np.isinf(loc).any() or np.isinf(sc).any():
                    which = "y" if S == 1 else f"y (series number {i})"
                    raise _too_large(which, seg)
                loc = np.where(np.isfinite(loc), loc, 0.0)
                sc = np.where(np.isfinite(sc) & (sc > 1e-12), sc, 1.0)
                y_loc[i], y_scale[i] = loc, sc
        if X is None or X.shape[1] == 0:
            c = 0 if X is None else X.shape[1]
            return cls(y_loc, y_scale, np.zeros(c), np.ones(c))
        rows = np.concatenate([np.arange(indptr[i], train_end[i]) for i in range(S)])
        xs = X[rows] if len(rows) else X
        with np.errstate(over="ignore", invalid="ignore"):
            x_loc = xs.mean(axis=0) if kind else np.zeros(X.shape[1])
            x_scale = xs.std(axis=0) if kind else np.ones(X.shape[1])
        if np.isinf(x_loc).any() or np.isinf(x_scale).any():
            raise _too_large("X", xs)
        x_scale = np.where(x_scale > 1e-12, x_scale, 1.0)
        return cls(y_loc, y_scale, x_loc, x_scale)

    def y(self, y, series):
        """Scale targets ``y`` (n, k) of series ``series`` (n,) positions."""
        return (y - self.y_loc[series]) / self.y_scale[series]

    def y_inverse(self, y, series):
        """Undo :meth:`y` for values ``(..., k)`` of series ``series``."""
        return y * self.y_scale[series] + self.y_loc[series]

    def x(self, X):
        """Scale covariates."""
        return (X - self.x_loc) / self.x_scale


@dataclass
class Layout:
    """Sizes of the network's input, head extras and outputs."""

    n_targets: int
    n_covariates: int
    n_calendar: int
    horizon_out: int  # forecast steps produced per step (h direct, 1 recursive)
    seasons: tuple  # seasonal lags of the reference values ((1,) = last value;
    # () for the recursive strategy, whose future references would be its own
    # predictions, which the step kernel feeds back as inputs instead)
    relative: bool = False  # differencing: inputs are changes y_t - y_{t-1},
    # targets and reference values are relative to the origin's level y_t

    @property
    def n_known(self) -> int:
        """Known-in-advance features per future step (covariates + calendar)."""
        return self.n_covariates + self.n_calendar

    @property
    def n_inputs(self) -> int:
        return self.n_targets + self.n_known

    @property
    def n_per_step(self) -> int:
        """Head extras per forecast step: known future, then per season (known, y)."""
        return self.n_known + len(self.seasons) * (self.n_known + self.n_targets)

    @property
    def n_extra(self) -> int:
        return self.horizon_out * self.n_per_step

    @property
    def history(self) -> int:
        """Rows of history the head's reference values need."""
        return max(self.seasons, default=1)

    @property
    def n_outputs(self) -> int:
        return self.horizon_out * self.n_targets


def gather(
    layout: Layout, Y, Z, start, end, rows, limit=None, Y_target=None, origin=None
):
    """Inputs, head extras, targets and target mask for ``rows``.

    With ``layout.relative`` (``differencing=True``) the network reads changes
    ``Y[t] - Y[t-1]`` (0 at a series' first row, NaN next to a missing step) and
    targets and reference values are taken relative to the origin's level
    ``Y_target[t]`` (or ``origin``): translation-invariant per series, and the
    head's seasonal-naive start stays exact (reference minus origin level).

    Parameters
    ----------
    layout : Layout
    Y : ndarray of shape (N, k)
        Scaled targets as the network reads them (NaN kept: the stream kernel
        fills them with its own estimates; training passes imputed values).
    Z : ndarray of shape (N, n_known)
        Scaled covariates and calendar features.
    start, end : ndarray of shape (N,)
        First row and one-past-last row of each row's series.
    rows : int ndarray of any shape
        Rows to gather; ``-1`` marks padding (everything zero, mask 0).
    limit : ndarray of shape (N,), optional
        Targets at or beyond ``limit[row]`` are masked (the training/validation
        boundary); default ``end``.
    Y_target : ndarray of shape (N, k), optional
        Observed scaled targets (NaN where missing) for targets and the seasonal
        lag; default ``Y``.
    origin : ndarray of shape rows.shape + (k,), optional
        The level at each row (default ``Y_target[rows]``; a forecast from a
        missing step passes the last observed level). With ``layout.relative``
        targets and references are relative to it; without, it stands in for
        a missing reference value.

    Returns
    -------
    x : (..., n_inputs)  with NaN kept in target columns
    extra : (..., n_extra)
    target : (..., n_outputs)  (0 where masked)
    mask : (..., n_outputs)
    """
    Yt = Y if Y_target is None else Y_target
    shape = rows.shape
    r = rows.reshape(-1)
    pad = r < 0
    rr = np.where(pad, 0, r)
    k, c = Y.shape[1], Z.shape[1]
    ho = layout.horizon_out
    x = np.concatenate([Y[rr], Z[rr]], axis=1)
    if layout.relative:
        prev = rr - 1
        first = prev < start[rr]
        x[:, :k] -= Y[np.where(first, rr, prev)]  # 0 at a series' first row
    base = Yt[rr] if origin is None else origin.reshape(-1, k)
    x[pad] = 0.0
    steps = np.arange(1, ho + 1)
    idx = rr[:, None] + steps  # (R, ho)
    lim = (end if limit is None else limit)[rr][:, None]
    inside = idx < end[rr][:, None]
    idx_c = np.where(inside, idx, rr[:, None])
    zf = Z[idx_c] * inside[..., None]  # known future features, 0 past the end
    blocks = [zf]
    for m in layout.seasons:
        # the last step at the same phase that is known at t
        sidx = idx - m * ((steps + m - 1) // m)
        ok = sidx >= start[rr][:, None]
        sidx = np.where(ok, sidx, rr[:, None])
        yref = Yt[sidx]
        # a missing reference: the model's own estimate where the inputs hold
        # one (training imputes them), else the origin's (last observed) level;
        # 0, the series' mean, would pull the forecast there for one step
        yref = np.where(np.isnan(yref), Y[sidx], yref)
        if layout.relative:
            yref = yref - base[:, None, :]  # still missing: no change
        else:
            yref = np.where(np.isnan(yref), base[:, None, :], yref)
        blocks.append(Z[sidx])  # what was known about the reference step
        blocks.append(np.where(np.isnan(yref), 0.0, yref))
    extra = np.concatenate(blocks, axis=2).reshape(len(r), ho * layout.n_per_step)
    extra[pad] = 0.0
    tgt = Yt[idx_c]
    if layout.relative:
        tgt = tgt - base[:, None, :]  # NaN base (a missing origin): no target
    mask = (idx < lim)[..., None] & inside[..., None] & ~np.isnan(tgt)
    mask &= ~pad[:, None, None]
    target = np.where(mask, tgt, 0.0).reshape(len(r), ho * k)
    mask = mask.reshape(len(r), ho * k).astype(Y.dtype)
    return (
        x.reshape(shape + (x.shape[1],)),
        extra.reshape(shape + (extra.shape[1],)),
        target.reshape(shape + (target.shape[1],)),
        mask.reshape(shape + (mask.shape[1],)),
    )
