"""Fitting the reference models' parameters by one-step squared error.

Each series' parameters are fitted once, on its training rows: SES's ``alpha``
by a grid then a golden-section refinement (the objective is smooth in
``alpha`` but can have a local minimum at the edge of a coarse bracket), the
damped trend's ``(alpha, beta, phi)`` by a coarse grid then coordinate-wise
golden sections, from a level and trend initialised by OLS on the first
``max(10, 2 m)`` observations (as R's ``forecast::ets``). Bounds are those of
``forecast::ets``: ``alpha`` in [0.01, 0.99], ``beta`` in [0.001, alpha]
(fitted as the fraction ``beta / alpha``), ``phi`` in [0.8, 0.98].
"""

from __future__ import annotations

import numpy as np

from ..kernels._jit import jit
from ._filters import N_PARAMS, N_STATE, holt_sse, ses_sse

ALPHA_BOUNDS = (0.01, 0.99)
BETA_FRACTION_BOUNDS = (0.001, 0.99)
PHI_BOUNDS = (0.8, 0.98)
GOLDEN_ITERATIONS = 30
_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


# The helpers of fit_ses and fit_holt are inlined into them (Numba's IR):
# as kernels of their own each was compiled alone, then again inside its
# caller, which LLVM inlined it into (a cold first fit's reference models:
# the fit_holt chain 0.72-0.85 s of compile instead of 0.90-1.11 s, measured)
@jit(inline="always")
def _ses_golden(y, lo, hi, iters):
    a, b = lo, hi
    c = b - _INV_PHI * (b - a)
    d = a + _INV_PHI * (b - a)
    fc, fd = ses_sse(y, c), ses_sse(y, d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _INV_PHI * (b - a)
            fc = ses_sse(y, c)
        else:
            a, c, fc = c, d, fd
            d = a + _INV_PHI * (b - a)
            fd = ses_sse(y, d)
    return c if fc <= fd else d


@jit
def fit_ses(y):
    """SES ``alpha`` minimising the one-step squared error on ``y``."""
    lo, hi = 0.01, 0.99
    n_grid = 25
    best, best_a = np.inf, lo
    step = (hi - lo) / (n_grid - 1)
    alphas = np.empty(n_grid)
    for i in range(n_grid):
        alphas[i] = lo + i * step
    sse = np.empty(n_grid)
    _ses_sse_grid(y, alphas, sse)  # every grid point's ses_sse, in one pass
    for i in range(n_grid):
        a = alphas[i]
        s = sse[i]
        if s < best:
            best, best_a = s, a
    lo2 = max(lo, best_a - step)
    hi2 = min(hi, best_a + step)
    a = _ses_golden(y, lo2, hi2, 30)
    return a if ses_sse(y, a) <= best else best_a


#: Theta's smoothing range: statsforecast's ``OptimizedTheta`` bounds (its
#: level needs some reaction for the slope term to correct).
THETA_ALPHA_BOUNDS = (0.1, 0.99)
#: The weight of the slope when the data cannot tell it (fewer than three
#: observations, or a flat slope): the standard Theta method's ``1 - 1/2``.
THETA_WEIGHT_DEFAULT = 0.5


@jit(inline="always")
def _theta_best_weight(srr, srg, sgg):
    """The weight in [0, 1] of least squared error, and that error."""
    if sgg <= 0.0:
        return THETA_WEIGHT_DEFAULT, srr
    w = min(max(srg / sgg, 0.0), 1.0)
    return w, srr - 2.0 * w * srg + w * w * sgg


@jit
def _theta_at(y, alpha):
    """``(w, squared error)``: the best slope weight at ``alpha`` and its error.

    The forecast from an origin is ``l + w g``: ``l`` the level (SES with
    ``alpha``, set by the first observation), ``g = slope (c - 1 + k)`` the
    slope term ``k`` steps ahead (``slope``: OLS over the observations so far,
    ``c = (1 - (1 - alpha)^n) / alpha``), ``w = 1 - 1/theta``. The one-step
    squared error is quadratic in ``w``: ``srr - 2 w srg + w^2 sgg`` with
    ``r = y - l``, so its best ``w`` in [0, 1] is closed-form
    (:func:`_theta_best_weight`).
    """
    srr, srg, sgg = 0.0, 0.0, 0.0
    level, gterm = 0.0, 0.0
    decay = 1.0  # (1 - alpha)^n, by products: no pow per step
    n, st, sy, stt, sty = 0.0, 0.0, 0.0, 0.0, 0.0
    slope, t_origin = 0.0, 0.0
    for t in range(len(y)):
        v = y[t]
        if np.isnan(v):
            continue
        tt = float(t)
        if n > 0.0:
            k = tt - t_origin  # steps ahead of the last origin
            g = slope * (gterm + k)
            r = v - level
            srr += r * r
            srg += r * g
            sgg += g * g
        if n == 0.0:
            level = v
        else:
            level += alpha * (v - level)
        n += 1.0
        st += tt
        sy += v
        stt += tt * tt
        sty += tt * v
        slope = 0.0
        if n >= 2.0:
            den = n * stt - st * st
            if den > 0.0:
                slope = (n * sty - st * sy) / den
        decay *= 1.0 - alpha
        gterm = (1.0 - decay) / alpha - 1.0
        t_origin = tt
    return _theta_best_weight(srr, srg, sgg)


@jit
def fit_theta(y):
    """Theta's ``(alpha, w)`` minimising the one-step squared error on ``y``.

    The optimised Theta method (Fiorucci et al. 2016, statsforecast's
    ``OptimizedTheta`` / ``DynamicOptimizedTheta``) in the standard method's
    form (Hyndman & Billah 2003): the SES level plus ``w = 1 - 1/theta`` times
    the slope term; the standard method is ``w = 1/2``. For each ``alpha``
    the best ``w`` in ``[0, 1]`` (``theta >= 1``) is closed-form (the error
    is quadratic in it), so the search is over ``alpha`` alone: a grid, then a
    golden section around its best point (as :func:`fit_ses`).
    """
    lo, hi = THETA_ALPHA_BOUNDS
    n_grid = 25
    step = (hi - lo) / (n_grid - 1)
    # one pass over y per alpha, each its own kernel call: compiled once
    # (the grid's alphas side by side in one pass, and that pass inlined at
    # the golden section's call sites, took 2.0 s to compile cold)
    best, best_a, best_w = np.inf, lo, THETA_WEIGHT_DEFAULT
    for i in range(n_grid):
        alpha = min(lo + i * step, hi)  # not past the bound by a rounding
        w, e = _theta_at(y, alpha)
        if e < best:
            best, best_a, best_w = e, alpha, w
    # golden section on alpha around the grid's best point
    a, b = max(lo, best_a - step), min(hi, best_a + step)
    c = b - _INV_PHI * (b - a)
    d = a + _INV_PHI * (b - a)
    wc, fc = _theta_at(y, c)
    wd, fd = _theta_at(y, d)
    for _ in range(GOLDEN_ITERATIONS):
        if fc <= fd:
            b, d, fd, wd = d, c, fc, wc
            c = b - _INV_PHI * (b - a)
            wc, fc = _theta_at(y, c)
        else:
            a, c, fc, wc = c, d, fd, wd
            d = a + _INV_PHI * (b - a)
            wd, fd = _theta_at(y, d)
    if fc <= fd and fc <= best:
        return c, wc
    if fd < fc and fd <= best:
        return d, wd
    return best_a, best_w


@jit(inline="always")
def _ses_sse_grid(y, alphas, out):
    """``out[j] = ses_sse(y, alphas[j])`` for every ``j``, in one pass over ``y``.

    Each point's recursion is its own (the same operations in the same
    order: the same values); the points side by side vectorise.
    """
    G = len(alphas)
    level = np.empty(G)
    for j in range(G):
        out[j] = 0.0
    started = False
    for t in range(len(y)):
        v = y[t]
        if np.isnan(v):
            continue
        if not started:  # the first observation: every point's level
            for j in range(G):
                level[j] = v
            started = True
            continue
        for j in range(G):
            e = v - level[j]
            out[j] += e * e
            level[j] += alphas[j] * e


@jit(inline="always")
def _holt_sse_grid(y, alphas, fractions, phis, l0, b0, out):
    """``out[j] = _holt_eval(y, (alphas[j], fractions[j], phis[j]), l0, b0)``.

    Every point of a grid in one pass over ``y`` (each recursion its own:
    the same values as one :func:`holt_sse` per point; side by side they
    vectorise).
    """
    G = len(alphas)
    level, trend, beta = np.empty(G), np.empty(G), np.empty(G)
    for j in range(G):
        level[j], trend[j] = l0, b0
        beta[j] = alphas[j] * fractions[j]
        out[j] = 0.0
    for t in range(len(y)):
        v = y[t]
        if np.isnan(v):
            for j in range(G):
                f = level[j] + phis[j] * trend[j]
                level[j], trend[j] = f, phis[j] * trend[j]
            continue
        for j in range(G):
            f = level[j] + phis[j] * trend[j]
            e = v - f
            out[j] += e * e
            level[j] = f + alphas[j] * e
            trend[j] = phis[j] * trend[j] + beta[j] * e


@jit
def _holt_sse_rows(YT, P, l0s, b0s, out):
    """``out[g] = _holt_eval(YT[:, g], P[g], l0s[g], b0s[g])`` for every ``g``.

    Series of one length side by side (``YT`` time-major): each one's
    recursion is its own (the same operations as :func:`holt_sse`).
    """
    T, G = YT.shape
    level, trend = np.empty(G), np.empty(G)
    alpha, beta, phi = np.empty(G), np.empty(G), np.empty(G)
    for g in range(G):
        level[g], trend[g] = l0s[g], b0s[g]
        alpha[g], beta[g], phi[g] = P[g, 0], P[g, 0] * P[g, 1], P[g, 2]
        out[g] = 0.0
    for t in range(T):
        for g in range(G):
            f = level[g] + phi[g] * trend[g]
            v = YT[t, g]
            if np.isnan(v):
                level[g], trend[g] = f, phi[g] * trend[g]
                continue
            e = v - f
            out[g] += e * e
            level[g] = f + alpha[g] * e
            trend[g] = phi[g] * trend[g] + beta[g] * e


@jit
def fit_holt_rows(YT, l0s, b0s, out):
    """:func:`fit_holt` of every column of ``YT`` (series of one length), into
    ``out[g] = (alpha, beta, phi)``.

    The same search for each series -- the grid scanned in its order, then
    two sweeps of golden sections of 20 steps per parameter -- run in
    lockstep (every series evaluates one point per step), so that each
    evaluation is one pass over all the series (:func:`_holt_sse_rows`):
    the same points, comparisons and values as one series at a time.
    """
    T, G = YT.shape
    lo = (0.01, 0.001, 0.8)
    hi = (0.99, 0.99, 0.98)
    P = np.empty((G, 3))
    best = np.empty(G)
    sse = np.empty(G)
    for g in range(G):
        best[g] = np.inf
        P[g, 0], P[g, 1], P[g, 2] = 0.5, 0.1, 0.9
    Q = np.empty((G, 3))
    for a in (0.05, 0.2, 0.5, 0.8, 0.95):
        for f in (0.01, 0.1, 0.3, 0.7):
            for ph in (0.8, 0.9, 0.98):
                for g in range(G):
                    Q[g, 0], Q[g, 1], Q[g, 2] = a, f, ph
                _holt_sse_rows(YT, Q, l0s, b0s, sse)
                for g in range(G):
                    if sse[g] < best[g]:
                        best[g] = sse[g]
                        P[g, 0], P[g, 1], P[g, 2] = a, f, ph
    A, B, C, D = np.empty(G), np.empty(G), np.empty(G), np.empty(G)
    FC, FD = np.empty(G), np.empty(G)
    took_c = np.empty(G, np.bool_)
    for _sweep in range(2):
        for j in range(3):
            for g in range(G):
                w = (hi[j] - lo[j]) / 3.0
                A[g] = max(lo[j], P[g, j] - w)
                B[g] = min(hi[j], P[g, j] + w)
                for i in range(3):
                    Q[g, i] = P[g, i]
                C[g] = B[g] - _INV_PHI * (B[g] - A[g])
                D[g] = A[g] + _INV_PHI * (B[g] - A[g])
                Q[g, j] = C[g]
            _holt_sse_rows(YT, Q, l0s, b0s, FC)
            for g in range(G):
                Q[g, j] = D[g]
            _holt_sse_rows(YT, Q, l0s, b0s, FD)
            for _ in range(20):
                for g in range(G):
                    if FC[g] <= FD[g]:
                        B[g], D[g], FD[g] = D[g], C[g], FC[g]
                        C[g] = B[g] - _INV_PHI * (B[g] - A[g])
                        Q[g, j] = C[g]
                        took_c[g] = True
                    else:
                        A[g], C[g], FC[g] = C[g], D[g], FD[g]
                        D[g] = A[g] + _INV_PHI * (B[g] - A[g])
                        Q[g, j] = D[g]
                        took_c[g] = False
                _holt_sse_rows(YT, Q, l0s, b0s, sse)
                for g in range(G):
                    if took_c[g]:
                        FC[g] = sse[g]
                    else:
                        FD[g] = sse[g]
            for g in range(G):
                cand = C[g] if FC[g] <= FD[g] else D[g]
                fbest = FC[g] if FC[g] <= FD[g] else FD[g]
                if fbest < best[g]:
                    best[g] = fbest
                    P[g, j] = cand
    for g in range(G):
        out[g, 0], out[g, 1], out[g, 2] = P[g, 0], P[g, 0] * P[g, 1], P[g, 2]


@jit(inline="always")
def _holt_eval(y, p, l0, b0):
    # p = (alpha, beta / alpha, phi)
    return holt_sse(y, p[0], p[0] * p[1], p[2], l0, b0)


@jit
def fit_holt(y, l0, b0):
    """Damped-trend ``(alpha, beta, phi)`` from the state ``(l0, b0)``."""
    # Tuples and element copies, not array literals and ``p[:] = bp``: a slice
    # assignment compiles Numba's shape-mismatch message (string formatting),
    # about 2 s of the first fit's compile time, measured.
    lo = (0.01, 0.001, 0.8)
    hi = (0.99, 0.99, 0.98)
    p = np.empty(3)
    best = np.inf
    b_a, b_f, b_p = 0.5, 0.1, 0.9
    # the coarse grid, every point's _holt_eval in one pass, then scanned in
    # the grid's order
    ga, gf, gp = np.empty(60), np.empty(60), np.empty(60)
    i = 0
    for a in (0.05, 0.2, 0.5, 0.8, 0.95):
        for f in (0.01, 0.1, 0.3, 0.7):
            for ph in (0.8, 0.9, 0.98):
                ga[i], gf[i], gp[i] = a, f, ph
                i += 1
    sse = np.empty(60)
    _holt_sse_grid(y, ga, gf, gp, l0, b0, sse)
    for i in range(60):
        s = sse[i]
        if s < best:
            best = s
            b_a, b_f, b_p = ga[i], gf[i], gp[i]
    p[0], p[1], p[2] = b_a, b_f, b_p
    for _sweep in range(2):
        for j in range(3):
            a, b = lo[j], hi[j]
            # a bracket around the current value, a third of the range wide
            w = (hi[j] - lo[j]) / 3.0
            a = max(lo[j], p[j] - w)
            b = min(hi[j], p[j] + w)
            q = p.copy()
            c = b - _INV_PHI * (b - a)
            d = a + _INV_PHI * (b - a)
            q[j] = c
            fc = _holt_eval(y, q, l0, b0)
            q[j] = d
            fd = _holt_eval(y, q, l0, b0)
            for _ in range(20):
                if fc <= fd:
                    b, d, fd = d, c, fc
                    c = b - _INV_PHI * (b - a)
                    q[j] = c
                    fc = _holt_eval(y, q, l0, b0)
                else:
                    a, c, fc = c, d, fd
                    d = a + _INV_PHI * (b - a)
                    q[j] = d
                    fd = _holt_eval(y, q, l0, b0)
            cand = c if fc <= fd else d
            fbest = fc if fc <= fd else fd
            if fbest < best:
                best = fbest
                p[j] = cand
    return p[0], p[0] * p[1], p[2]


def initial_trend(y: np.ndarray, m: int = 1) -> tuple[float, float]:
    """Level and trend before the first step: OLS on the first observations.

    The line through the first ``max(10, 2 m)`` observed points (row index as
    time), evaluated one step before the first row; (first value, 0) with
    fewer than two observations.
    """
    t = np.flatnonzero(~np.isnan(y))
    if len(t) == 0:
        return 0.0, 0.0
    t = t[: max(10, 2 * int(m))]
    v = y[t]
    if len(t) < 2:
        return float(v[0]), 0.0
    tc = t - t.mean()
    slope = float((tc * (v - v.mean())).sum() / (tc * tc).sum())
    intercept = float(v.mean() - slope * t.mean())
    return intercept - slope, slope


def initial_trends(y, indptr, train_end, m: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """:func:`initial_trend` of every series' training rows, ``(levels, trends)``.

    Series whose first ``max(10, 2 m)`` training rows are all observed share
    the time index of that line, so theirs are computed together (the same
    operations per series, each row of a reduction being summed as a series
    alone would be: the same values); the others one at a time.
    """
    indptr, train_end = np.asarray(indptr), np.asarray(train_end)
    S = len(indptr) - 1
    K = max(10, 2 * int(m))
    levels, trends = np.empty(S), np.empty(S)
    first = indptr[:-1]
    rows = first[:, None] + np.arange(K)
    whole = train_end - first >= K
    V = y[np.where(whole[:, None], rows, 0)]
    batch = whole & ~np.isnan(V).any(axis=1)
    if batch.any():
        t = np.arange(K)
        tc = t - t.mean()
        V = V[batch]
        vm = V.mean(axis=1)
        slope = (tc * (V - vm[:, None])).sum(axis=1) / (tc * tc).sum()
        intercept = vm - slope * t.mean()
        levels[batch], trends[batch] = intercept - slope, slope
    for s in np.flatnonzero(~batch):
        levels[s], trends[s] = initial_trend(
            np.ascontiguousarray(y[indptr[s] : train_end[s]], dtype=np.float64), m
        )
    return levels, trends


def fit_parameters(
    y: np.ndarray, m: int = 1, start: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fitted parameters and the initial filter state of one series.

    Parameters
    ----------
    y : ndarray of shape (T,)
        The training rows (NaN: missing).
    m : int
        Seasonal period (the trend's initial window is ``max(10, 2 m)``).
    start : (level, trend), optional
        :func:`initial_trend` of ``y`` when already known
        (:func:`initial_trends`).

    Returns
    -------
    params : ndarray (N_PARAMS,)
        ``alpha_ses, alpha_holt, beta_holt, phi_holt, alpha_theta,
        theta_weight`` (:data:`~._filters.PARAMS`).
    state : ndarray (N_STATE,)
        The state before the first row (:func:`initial_state`).
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    l0, b0 = initial_trend(y, m) if start is None else start
    params = np.empty(N_PARAMS)
    params[0] = fit_ses(y)
    params[1:4] = fit_holt(y, l0, b0)
    params[4:6] = fit_theta(y)
    return params, initial_state(l0, b0)


def initial_state(level: float, trend: float) -> np.ndarray:
    """The filter state before a series' first row."""
    state = np.zeros(N_STATE)
    state[0] = np.nan  # SES: set by the first observation
    state[1], state[2] = level, trend
    state[9:13] = np.nan, 0.0, np.nan, 0.0  # no observation yet
    state[13] = np.nan  # Theta's level: set by the first observation
    return state
