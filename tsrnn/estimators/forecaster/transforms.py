"""Transforms of the targets and covariates before the network reads them.

Per-series deseasonalisation (:class:`Seasonal`, ``deseasonalize="auto"``: the
classical seasonal indices divided out where M4's seasonality test passes),
then per-series scaling of the targets (standard or robust) and global scaling
of the covariates, fitted on the training rows (:class:`Scaler`); the inverses
map forecasts back in the opposite order. A target transform that depends on
the data (a log or Box-Cox for positive series, a multiplicative level) belongs
here, next to the scaler, applied before it on the way in and after its inverse
on the way out. Differencing is not a transform of the stored values: it
changes what the network reads and predicts relative to the origin, in
:func:`.features.gather`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...smoothing import decompose


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


@dataclass
class Seasonal:
    """Per-series seasonal indices, divided out (or subtracted) before scaling.

    Row ``t`` of a series (counted from its first row in ``fit``; ``update``
    continues the count) has phase ``t % period``. Series (and targets) not
    deseasonalised hold neutral multiplicative indices (1), so applying and
    inverting them is exact.

    Attributes
    ----------
    indices : ndarray of shape (S, period, k)
    multiplicative : ndarray of shape (S, k), float 1.0 / 0.0
        1: divide by the index; 0: subtract it (a series that is not strictly
        positive).
    active : ndarray of shape (S, k), float 1.0 / 0.0
        Whether the series (target) was deseasonalised.
    """

    indices: np.ndarray
    multiplicative: np.ndarray
    active: np.ndarray

    @property
    def period(self) -> int:
        """Steps per season (1: nothing to remove)."""
        return self.indices.shape[1]

    @classmethod
    def none(cls, S: int, k: int) -> Seasonal:
        """No series deseasonalised."""
        return cls(np.ones((S, 1, k)), np.ones((S, k)), np.zeros((S, k)))

    @classmethod
    def fit(cls, kind, m, y, indptr, train_end):
        """Test each series' training rows; keep the indices where it passes.

        ``kind`` None (or ``m < 2``) deseasonalises nothing; ``"auto"`` applies
        :func:`tsrnn.smoothing.decompose` (M4's 90 % test on at least three
        seasons, multiplicative indices for a strictly positive series,
        additive otherwise) per series and target.
        """
        S, k = len(indptr) - 1, y.shape[1]
        m = int(m)
        if kind is None or m < 2:
            return cls.none(S, k)
        out = cls(np.ones((S, m, k)), np.ones((S, k)), np.zeros((S, k)))
        for i in range(S):
            for j in range(k):
                found = decompose(y[indptr[i] : train_end[i], j], m)
                if found is None:
                    continue
                idx, mult = found
                out.indices[i, :, j] = idx
                out.multiplicative[i, j] = float(mult)
                out.active[i, j] = 1.0
        return out

    def _factors(self, series, steps):
        idx = self.indices[series, np.asarray(steps) % self.period]  # (..., k)
        mult = self.multiplicative[series] > 0
        return idx, mult

    def y(self, y, series, steps):
        """Deseasonalise ``y`` ``(..., k)`` at series ``series`` and rows ``steps``."""
        if self.period == 1:
            return y
        idx, mult = self._factors(series, steps)
        return np.where(mult, y / np.where(mult, idx, 1.0), y - np.where(mult, 0, idx))

    def y_inverse(self, y, series, steps):
        """Undo :meth:`y`."""
        if self.period == 1:
            return y
        idx, mult = self._factors(series, steps)
        return np.where(mult, y * idx, y + np.where(mult, 0, idx))
