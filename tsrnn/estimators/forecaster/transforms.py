"""Transforms of the targets and covariates before the network reads them.

Today one: per-series scaling of the targets (standard or robust) and global
scaling of the covariates, fitted on the training rows (:class:`Scaler`); its
inverse maps forecasts back. A target transform that depends on the data (a log
or Box-Cox for positive series, a multiplicative level) belongs here, next to
the scaler, applied before it on the way in and after its inverse on the way
out. Differencing is not a transform of the stored values: it changes what the
network reads and predicts relative to the origin, in :func:`.features.gather`.
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
    """Per-series target scaling, global covariate scaling (fitted on training rows)."""

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
