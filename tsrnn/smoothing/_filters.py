"""Numba filters of the reference models: one pass over a series, O(T).

Every filter reads a 1-D float64 series (NaN = missing step) and a state
vector (:data:`STATE` fields), advances the state step by step and writes, per
step, each reference's forecast line ``(a, b, phi)``: the ``k``-step forecast
from that origin is ``a + b * (phi + phi**2 + ... + phi**k)`` (``phi = 1``:
``a + b * k``). Lines keep the per-origin output at ``O(T)``; a path ``(T, h)``
is expanded from them in ``O(T h)`` (:func:`expand_paths`).

Models (column order :data:`REFERENCES`):

* ``ses``: simple exponential smoothing, level set to the first observation
  (statsforecast's convention), then ``l <- l + alpha (y - l)``;
* ``holt``: additive damped trend in error-correction form
  (``e = y - l - phi b``; ``l <- l + phi b + alpha e``; ``b <- phi b + beta e``),
  the state before the first step from an OLS line (``initial_trend``);
* ``theta``: the optimised Theta method (Fiorucci et al. 2016) in the form
  of the standard one (Assimakopoulos & Nikolopoulos 2000; Hyndman & Billah
  2003, R's ``thetaf``): its own SES level plus ``w`` times the OLS slope of
  the data so far, ``w b (k - 1 + (1 - (1-alpha)^n) / alpha)``, with ``w = 1 -
  1/theta`` and ``alpha`` fitted per series (:func:`~.fitting.fit_theta`);
  ``w = 1/2`` with SES's ``alpha`` is the standard method (model files of
  earlier versions);
* ``drift``: the random walk with drift, the last value plus the mean change
  between the first and last observations.

A missing step: SES and Theta keep their level, Holt advances on its own
forecast (``l <- l + phi b``, ``b <- phi b``), drift extends its line.
"""

from __future__ import annotations

import numpy as np

from ..kernels._jit import jit

#: The reference models, in the order of the filters' output columns.
REFERENCES = ("ses", "holt", "theta", "drift")

#: Fields of the filter state vector.
STATE = (
    "ses_level",
    "holt_level",
    "holt_trend",
    "n_obs",
    "sum_t",
    "sum_y",
    "sum_tt",
    "sum_ty",
    "t",
    "y_first",
    "t_first",
    "y_last",
    "t_last",
    "theta_level",
)
#: Fields of the parameter vector.
PARAMS = (
    "alpha_ses",
    "alpha_holt",
    "beta_holt",
    "phi_holt",
    "alpha_theta",
    "theta_weight",
)

N_STATE = len(STATE)
N_PARAMS = len(PARAMS)


@jit
def ses_sse(y, alpha):
    """One-step squared error of SES with level ``y[first]`` (NaN skipped)."""
    level = np.nan
    sse = 0.0
    for t in range(len(y)):
        v = y[t]
        if np.isnan(v):
            continue
        if np.isnan(level):
            level = v
            continue
        e = v - level
        sse += e * e
        level += alpha * e
    return sse


@jit
def holt_sse(y, alpha, beta, phi, level, trend):
    """One-step squared error of the damped trend from ``(level, trend)``."""
    sse = 0.0
    for t in range(len(y)):
        f = level + phi * trend
        v = y[t]
        if np.isnan(v):
            level, trend = f, phi * trend
            continue
        e = v - f
        sse += e * e
        level = f + alpha * e
        trend = phi * trend + beta * e
    return sse


@jit
def run_filters(y, params, state, lines):
    """Advance ``state`` over ``y`` and write each step's forecast lines.

    Parameters
    ----------
    y : float64 (T,)
    params : float64 (N_PARAMS,)
    state : float64 (N_STATE,), updated in place
    lines : float64 (T, 4, 3), written: ``(a, b, phi)`` per reference
    """
    a_ses, a_holt, b_holt, phi = params[0], params[1], params[2], params[3]
    a_th, w_th = params[4], params[5]
    ses_l, holt_l, holt_b = state[0], state[1], state[2]
    n, st, sy, stt, sty = state[3], state[4], state[5], state[6], state[7]
    t, y_first, t_first, y_last, t_last = (
        state[8],
        state[9],
        state[10],
        state[11],
        state[12],
    )
    th_l = state[13]
    for i in range(len(y)):
        v = y[i]
        f = holt_l + phi * holt_b
        if np.isnan(v):
            holt_l, holt_b = f, phi * holt_b
        else:
            if np.isnan(ses_l):
                ses_l = v
            else:
                ses_l += a_ses * (v - ses_l)
            if np.isnan(th_l):
                th_l = v
            else:
                th_l += a_th * (v - th_l)
            e = v - f
            holt_l = f + a_holt * e
            holt_b = phi * holt_b + b_holt * e
            n += 1.0
            st += t
            sy += v
            stt += t * t
            sty += t * v
            if np.isnan(y_first):
                y_first, t_first = v, t
            y_last, t_last = v, t
        # SES: a flat line at the level
        lines[i, 0, 0] = ses_l
        lines[i, 0, 1] = 0.0
        lines[i, 0, 2] = 1.0
        # damped trend
        lines[i, 1, 0] = holt_l
        lines[i, 1, 1] = holt_b
        lines[i, 1, 2] = phi
        # Theta: SES plus half the OLS slope of the data so far
        slope = 0.0
        if n >= 2.0:
            den = n * stt - st * st
            if den > 0.0:
                slope = (n * sty - st * sy) / den
        c = n  # (1 - (1 - alpha)^n) / alpha, -> n as alpha -> 0
        if a_th > 0.0:
            c = (1.0 - (1.0 - a_th) ** n) / a_th
        lines[i, 2, 0] = th_l + w_th * slope * (c - 1.0)
        lines[i, 2, 1] = w_th * slope
        lines[i, 2, 2] = 1.0
        # drift: the last value plus the mean change, extended over a gap
        d = 0.0
        if n >= 2.0 and t_last > t_first:
            d = (y_last - y_first) / (t_last - t_first)
        lines[i, 3, 0] = y_last + d * (t - t_last)
        lines[i, 3, 1] = d
        lines[i, 3, 2] = 1.0
        t += 1.0
    state[0], state[1], state[2] = ses_l, holt_l, holt_b
    state[3], state[4], state[5], state[6], state[7] = n, st, sy, stt, sty
    state[8], state[9], state[10], state[11], state[12] = (
        t,
        y_first,
        t_first,
        y_last,
        t_last,
    )
    state[13] = th_l


def step_weights(phi: np.ndarray, h: int) -> np.ndarray:
    """``phi + phi**2 + ... + phi**k`` for ``k = 1..h``: shape ``phi.shape + (h,)``."""
    phi = np.asarray(phi, dtype=np.float64)
    powers = phi[..., None] ** np.arange(1, h + 1)
    return np.cumsum(powers, axis=-1)


def expand_paths(lines: np.ndarray, h: int) -> np.ndarray:
    """Forecast paths ``(..., h)`` from lines ``(..., 3)`` (``O(size * h)``)."""
    a, b, phi = lines[..., 0], lines[..., 1], lines[..., 2]
    return a[..., None] + b[..., None] * step_weights(phi, h)


#: Sensitivities :func:`run_filters_grad` writes per step: derivatives of the
#: lines' intercepts ``a`` and slopes ``b`` with respect to the parameters
#: (:data:`PARAMS`) they depend on. Drift has no parameter; SES's slope is 0
#: and Theta's does not depend on its ``alpha``.
SENSITIVITIES = (
    "d_ses_a/d_alpha_ses",
    "d_theta_a/d_alpha_theta",
    "d_holt_a/d_alpha_holt",
    "d_holt_a/d_beta_holt",
    "d_holt_a/d_phi_holt",
    "d_holt_b/d_alpha_holt",
    "d_holt_b/d_beta_holt",
    "d_holt_b/d_phi_holt",
    "d_theta_a/d_theta_weight",
    "d_theta_b/d_theta_weight",
)
N_SENS = len(SENSITIVITIES)
#: The sensitivity state carried across calls: ``d ses_level / d alpha_ses``,
#: then ``d holt_level`` and ``d holt_trend`` by ``(alpha, beta, phi)``, then
#: ``d theta_level / d alpha_theta``.
N_DSTATE = 8


@jit(inline="always")
def _level_step(v, level, dlevel, alpha):
    """An exponentially smoothed level and its derivative by ``alpha`` after
    observing ``v`` (the first observation sets the level: derivative 0);
    the level's arithmetic is :func:`run_filters`' (the same bits)."""
    if np.isnan(level):
        return v, 0.0
    return level + alpha * (v - level), (v - level) + (1.0 - alpha) * dlevel


@jit
def run_filters_grad(y, params, state, dstate, lines, sens):
    """:func:`run_filters` plus the lines' derivatives by the parameters.

    The tangent twin of :func:`run_filters`, written out beside it on purpose:
    the plain filter runs in every fit and stays free of this work; the lines
    and states written are the same bits (``tests/test_references_learned.py``).

    Forward-mode sensitivities carried beside the filters (the initial state
    is a constant: zero sensitivities from :func:`initial_state`). SES,
    ``l' = l + alpha (y - l)``: ``dl'/dalpha = y - l + (1 - alpha) dl/dalpha``
    (the first observation sets ``l``: 0). The damped trend, with
    ``f = l + phi b`` and ``df = dl + phi db (+ b for phi)``:
    ``dl' = (1 - alpha) df (+ e for alpha)``,
    ``db' = phi db - beta df (+ b for phi, + e for beta)``; a missing step
    ``dl' = df``, ``db' = phi db (+ b for phi)``. Theta's intercept
    ``l + w slope (c - 1)``, ``c = (1 - (1 - alpha)^n) / alpha``, adds
    ``w slope dc/dalpha`` (its level's ``alpha`` is its own, carried as SES's);
    by ``w``: ``slope (c - 1)`` and ``slope``.

    Parameters
    ----------
    y, params, state, lines : as :func:`run_filters` (the same values written)
    dstate : float64 (N_DSTATE,), updated in place
    sens : float64 (T, N_SENS), written (:data:`SENSITIVITIES`)
    """
    a_ses, a_holt, b_holt, phi = params[0], params[1], params[2], params[3]
    a_th, w_th = params[4], params[5]
    ses_l, holt_l, holt_b = state[0], state[1], state[2]
    th_l = state[13]
    n, st, sy, stt, sty = state[3], state[4], state[5], state[6], state[7]
    t, y_first, t_first, y_last, t_last = (
        state[8],
        state[9],
        state[10],
        state[11],
        state[12],
    )
    ds = dstate[0]
    dla, dlb, dlp = dstate[1], dstate[2], dstate[3]
    dba, dbb, dbp = dstate[4], dstate[5], dstate[6]
    dth = dstate[7]
    for i in range(len(y)):
        v = y[i]
        f = holt_l + phi * holt_b
        dfa = dla + phi * dba
        dfb = dlb + phi * dbb
        dfp = dlp + phi * dbp + holt_b
        if np.isnan(v):
            dla, dlb, dlp = dfa, dfb, dfp
            dba, dbb, dbp = phi * dba, phi * dbb, phi * dbp + holt_b
            holt_l, holt_b = f, phi * holt_b
        else:
            ses_l, ds = _level_step(v, ses_l, ds, a_ses)
            th_l, dth = _level_step(v, th_l, dth, a_th)
            e = v - f
            # derivatives from the values before this step's update
            dla, dlb, dlp = (
                (1.0 - a_holt) * dfa + e,
                (1.0 - a_holt) * dfb,
                (1.0 - a_holt) * dfp,
            )
            dba, dbb, dbp = (
                phi * dba - b_holt * dfa,
                phi * dbb - b_holt * dfb + e,
                phi * dbp + holt_b - b_holt * dfp,
            )
            holt_l = f + a_holt * e
            holt_b = phi * holt_b + b_holt * e
            n += 1.0
            st += t
            sy += v
            stt += t * t
            sty += t * v
            if np.isnan(y_first):
                y_first, t_first = v, t
            y_last, t_last = v, t
        lines[i, 0, 0] = ses_l
        lines[i, 0, 1] = 0.0
        lines[i, 0, 2] = 1.0
        lines[i, 1, 0] = holt_l
        lines[i, 1, 1] = holt_b
        lines[i, 1, 2] = phi
        slope = 0.0
        if n >= 2.0:
            den = n * stt - st * st
            if den > 0.0:
                slope = (n * sty - st * sy) / den
        c = n
        dc = -0.5 * n * (n - 1.0)  # the limit as alpha -> 0
        if a_th > 0.0:
            q = (1.0 - a_th) ** n
            c = (1.0 - q) / a_th
            qm = (1.0 - a_th) ** (n - 1.0) if n >= 1.0 else 0.0
            dc = (n * qm * a_th - (1.0 - q)) / (a_th * a_th)
        lines[i, 2, 0] = th_l + w_th * slope * (c - 1.0)
        lines[i, 2, 1] = w_th * slope
        lines[i, 2, 2] = 1.0
        d = 0.0
        if n >= 2.0 and t_last > t_first:
            d = (y_last - y_first) / (t_last - t_first)
        lines[i, 3, 0] = y_last + d * (t - t_last)
        lines[i, 3, 1] = d
        lines[i, 3, 2] = 1.0
        sens[i, 0] = ds
        sens[i, 1] = dth + w_th * slope * dc
        sens[i, 2] = dla
        sens[i, 3] = dlb
        sens[i, 4] = dlp
        sens[i, 5] = dba
        sens[i, 6] = dbb
        sens[i, 7] = dbp
        sens[i, 8] = slope * (c - 1.0)
        sens[i, 9] = slope
        t += 1.0
    state[0], state[1], state[2] = ses_l, holt_l, holt_b
    state[3], state[4], state[5], state[6], state[7] = n, st, sy, stt, sty
    state[8], state[9], state[10], state[11], state[12] = (
        t,
        y_first,
        t_first,
        y_last,
        t_last,
    )
    state[13] = th_l
    dstate[0] = ds
    dstate[1], dstate[2], dstate[3] = dla, dlb, dlp
    dstate[4], dstate[5], dstate[6] = dba, dbb, dbp
    dstate[7] = dth
