"""Transforms of the targets and covariates before the network reads them.

Per-series deseasonalisation (:class:`Seasonal`, ``deseasonalize="auto"``: the
classical seasonal indices divided out where M4's seasonality test passes and,
for a persistent series, where its changes show the season too),
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

from ...data.scaling import MIN_MAGNITUDE, SPREAD_RTOL, location_spread
from ...smoothing import decompose, indices_of
from . import auto

#: ``deseasonalize="auto"``: a series the differencing vote calls persistent
#: keeps its seasonal indices only where its changes show the season too
#: (:func:`.auto.season_in_changes`); False: M4's levels test alone.
SEASON_IN_CHANGES = True

#: ``deseasonalize="auto"``: a series M4's test rejects gets a second test,
#: the analysis of variance of its detrended levels by phase
#: (:func:`.auto.season_in_levels`), which sees a smooth cycle over a few
#: seasons where M4's autocorrelation bound does not; at
#: ``SEASON_IN_LEVELS_LEVEL`` (1 %), so the two tests together pass about
#: the first one's share of series without a season (10 % + 1 %).
SEASON_IN_LEVELS = True
SEASON_IN_LEVELS_LEVEL = 0.01


def _observed(seg: np.ndarray) -> np.ndarray:
    """Columns of ``seg`` holding at least one observation (non-NaN)."""
    if not len(seg):
        return np.zeros(seg.shape[1], bool)
    return ~np.isnan(seg).all(axis=0)


@dataclass
class Scaler:
    """Per-series target scaling, global covariate scaling (fitted on training rows).

    Locations and scales come from :func:`tsrnn.data.scaling.location_spread`:
    computed relative to each column's magnitude, so a series of amplitude
    1e-13 or 1e200 is scaled like the unit series (its forecasts are the unit
    series' times the amplitude), and a constant is scaled by its own
    magnitude. Scaled values beyond :data:`~tsrnn.data.scaling.MAX_SCALED`
    are refused (:meth:`check`), at ``fit`` and after it alike.
    """

    y_loc: np.ndarray  # (S, k)
    y_scale: np.ndarray  # (S, k)
    x_loc: np.ndarray  # (c,)
    x_scale: np.ndarray  # (c,)

    @classmethod
    def fit(cls, kind, y, X, indptr, train_end, ids=None, codes=()):
        """Fit on the training rows ``indptr[i]:train_end[i]`` of each series.

        ``codes``: covariate columns holding category codes, kept as they
        are (location 0, scale 1: they index embedding tables).
        A target never observed in a series' training rows is scaled on the
        series' other rows (its held-out tail); one never observed at all keeps
        ``(0, 1)`` (the data layer refuses such series at ``fit``).
        ``ids`` (the long format's series ids) name the series in messages.
        """
        S = len(indptr) - 1
        k = y.shape[1]
        y_loc = np.zeros((S, k))
        y_scale = np.ones((S, k))

        def series_label(i):
            return "y" if ids is None else f"y of series {ids[i]!r}"

        if kind is not None:
            done = _standard_by_length(y, indptr, train_end, kind, y_loc, y_scale)
            for i in np.flatnonzero(~done):
                train = y[indptr[i] : train_end[i]]
                whole = y[indptr[i] : indptr[i + 1]]
                seen = _observed(train)
                # targets unobserved in training: their held-out tail (or nothing)
                for seg, cols in ((train, seen), (whole, _observed(whole) & ~seen)):
                    if cols.any():
                        loc, sc = location_spread(
                            seg[:, cols], kind, lambda j, i=i: series_label(i)
                        )
                        y_loc[i, cols], y_scale[i, cols] = loc, sc
        if X is None or X.shape[1] == 0:
            c = 0 if X is None else X.shape[1]
            return cls(y_loc, y_scale, np.zeros(c), np.ones(c))
        if not kind:
            return cls(y_loc, y_scale, np.zeros(X.shape[1]), np.ones(X.shape[1]))
        rows = np.concatenate([np.arange(indptr[i], train_end[i]) for i in range(S)])
        xs = X[rows] if len(rows) else X
        x_loc, x_scale = location_spread(xs, "standard", lambda j: f"X column {j}")
        codes = list(codes)
        x_loc[codes], x_scale[codes] = 0.0, 1.0
        return cls(y_loc, y_scale, x_loc, x_scale)

    def y(self, y, series):
        """Scale targets ``y`` (n, k) of series ``series`` (n,) positions.

        Values of another magnitude than the training data may overflow to
        inf here: :func:`.features.network_inputs` refuses them.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return (y - self.y_loc[series]) / self.y_scale[series]

    def y_inverse(self, y, series):
        """Undo :meth:`y` for values ``(..., k)`` of series ``series``."""
        return y * self.y_scale[series] + self.y_loc[series]

    def x(self, X):
        """Scale covariates (refused beyond ``MAX_SCALED`` by the callers)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return (X - self.x_loc) / self.x_scale


def _standard_by_length(y, indptr, train_end, kind, y_loc, y_scale) -> np.ndarray:
    """:func:`location_spread` of the series that need nothing else, together.

    The standard scaling of a single target observed at every training row:
    the series of one training length are stacked as the rows of one array,
    and each row reduced alone (the same contiguous reductions, elementwise
    operations and maxima as one series' column: the same values), in place
    in ``y_loc`` and ``y_scale``. Returns which series were done; the others
    (several targets, gaps, the robust scaling, a magnitude the checks
    refuse) go through :func:`location_spread` one by one.
    """
    S = len(indptr) - 1
    done = np.zeros(S, bool)
    if kind != "standard" or y.shape[1] != 1 or not S:
        return done
    first = np.asarray(indptr[:-1])
    n = np.asarray(train_end) - first
    yc = y[:, 0]
    for length in np.unique(n[n > 0]):
        members = np.flatnonzero(n == length)
        V = yc[first[members][:, None] + np.arange(length)]  # (G, length)
        with np.errstate(invalid="ignore"):
            mag = np.fmax.reduce(np.abs(V), axis=1)
        ok = ~np.isnan(V).any(axis=1) & ~((mag > 0) & (mag < MIN_MAGNITUDE))
        if not ok.all():
            members, V, mag = members[ok], V[ok], mag[ok]
        if not len(members):
            continue
        m = np.where(mag > 0, mag, 1.0)
        u = V / m[:, None]
        loc = np.mean(u, axis=1)
        spread = np.std(u, axis=1)
        flat = ~(spread > SPREAD_RTOL)
        if flat.any():
            dev = np.fmax.reduce(np.abs(u - loc[:, None]), axis=1)
            fallback = np.where(dev > SPREAD_RTOL, dev, 1.0)
            spread = np.where(flat, fallback, spread)
        y_loc[members, 0] = loc * m
        y_scale[members, 0] = spread * m
        done[members] = True
    return done


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
        additive otherwise) per series and target, and where that test
        rejects, the analysis of variance of the detrended levels by phase at
        99 % (:func:`.auto.season_in_levels`, with :data:`SEASON_IN_LEVELS`);
        a persistent series
        (:func:`.auto.is_persistent`) keeps the indices only where its
        changes show the season too (:func:`.auto.season_in_changes`, with
        :data:`SEASON_IN_CHANGES`).
        """
        S, k = len(indptr) - 1, y.shape[1]
        m = int(m)
        longest = int(np.max(np.asarray(train_end) - np.asarray(indptr[:-1]), initial=0))
        # the test needs three seasons: a longer season is never removed, and
        # its (S, m, k) table (season_length=10**9) is never allocated
        if kind is None or m < 2 or 3 * m > longest:
            return cls.none(S, k)
        out = cls(np.ones((S, m, k)), np.ones((S, k)), np.zeros((S, k)))
        for i in range(S):
            for j in range(k):
                rows = y[indptr[i] : train_end[i], j]
                # the test's autocorrelations square the values: divide by
                # the magnitude first, so 1e200 is tested as 1 (scale-free)
                mag = np.nanmax(np.abs(rows)) if np.isfinite(rows).any() else 0.0
                mag = mag if np.isfinite(mag) and mag > 0 else 1.0
                found = decompose(rows / mag, m)
                if found is None and SEASON_IN_LEVELS and auto.season_in_levels(
                    rows / mag, m, SEASON_IN_LEVELS_LEVEL
                ):
                    found = indices_of(rows / mag, m)
                if found is None or (
                    SEASON_IN_CHANGES
                    and auto.is_persistent(rows / mag, m)
                    and not auto.season_in_changes(rows / mag, m)
                ):
                    continue
                idx, mult = found
                if not mult:  # additive indices are in the data's units
                    idx = np.asarray(idx) * mag
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
        # each branch on safe values: an additive index (in the data's units)
        # must not multiply y, even in the branch np.where discards
        return np.where(mult, y * np.where(mult, idx, 1.0), y + np.where(mult, 0, idx))
