"""The references' parameters as learnable coefficients (Smyl's ES-RNN idea).

Smyl's ES-RNN (M4's winner) learns each series' exponential-smoothing
coefficients by gradient, jointly with a global recurrent network, instead of
fitting them once by one-step squared error. Here the coefficients of the
reference filters (:data:`~._filters.PARAMS`) get the gradients of whatever
loss reads the references' forecasts:

* :func:`run_references_grad` -- every row's forecast lines and their
  derivatives by the parameters (forward-mode sensitivities carried beside the
  filters, :func:`~._filters.run_filters_grad`);
* :func:`path_gradient` -- a loss's gradient by the forecast paths
  ``a + b (phi + ... + phi**s)`` turned into one by the lines ``(a, b)`` and
  the damping ``phi`` read directly;
* :func:`params_gradient` -- chained with the sensitivities and summed per
  series: the gradient by each series' parameters;
* :func:`to_unconstrained` / :func:`from_unconstrained` -- the parameters as
  unconstrained reals (a logit within :data:`BOUNDS`; the trend's ``beta`` a
  fraction of its ``alpha``), so that an optimizer can step them freely, and
  :func:`unconstrained_gradient`, the chain through that map.
"""

from __future__ import annotations

import numpy as np

from ._filters import (
    N_DSTATE,
    N_PARAMS,
    N_SENS,
    REFERENCES,
    run_filters_grad,
    step_weights,
)

#: The open ranges of the learned parameters: ``alpha_ses``, ``alpha_holt``,
#: ``beta_holt / alpha_holt``, ``phi_holt``, ``alpha_theta`` and
#: ``theta_weight``: the classical fit's
#: (``forecast::ets``'s bounds, :mod:`.fitting`). The damping stays at most
#: 0.98: a learned undamped trend (phi near 1, with a reactive beta) was
#: measured to extrapolate far off on Tourism quarterly (MASE 1.736 against
#: 1.635 for one seed with ranges (0, 1) and phi in (0.7, 1)).
BOUNDS = (
    (0.01, 0.99),
    (0.01, 0.99),
    (0.001, 0.99),
    (0.8, 0.98),
    (0.1, 0.99),  # Theta's alpha (:data:`~.fitting.THETA_ALPHA_BOUNDS`)
    (0.0, 1.0),  # Theta's slope weight 1 - 1/theta (theta >= 1)
)
#: Fractions of a range closer to its ends than this are moved in (a fitted
#: value on the range's end would have an infinite logit; Adam's steps do not
#: shrink with the logistic's slope there, so one moved in this far can move).
EDGE = 1e-3


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))  # no overflow for large |u|


def to_unconstrained(params: np.ndarray) -> np.ndarray:
    """Reals ``u`` (``params.shape``) whose :func:`from_unconstrained` is ``params``.

    ``params[..., :6]`` are :data:`~._filters.PARAMS`;
    values on (or beyond) a range's end are moved :data:`EDGE` inside.
    """
    p = np.asarray(params, dtype=np.float64)
    frac = np.empty_like(p)
    for q, (lo, hi) in enumerate(BOUNDS):
        v = p[..., q]
        if q == 2:  # beta as a fraction of the trend's alpha
            v = v / p[..., 1]
        frac[..., q] = (v - lo) / (hi - lo)
    frac = np.clip(frac, EDGE, 1.0 - EDGE)
    return np.log(frac) - np.log1p(-frac)


def from_unconstrained(u: np.ndarray) -> np.ndarray:
    """The parameters ``(..., N_PARAMS)`` of unconstrained reals ``u``
    (:data:`BOUNDS`)."""
    u = np.asarray(u, dtype=np.float64)
    s = _sigmoid(u)
    p = np.empty_like(u)
    for q, (lo, hi) in enumerate(BOUNDS):
        p[..., q] = lo + (hi - lo) * s[..., q]
    p[..., 2] *= p[..., 1]
    return p


def unconstrained_gradient(u: np.ndarray, grad_params: np.ndarray) -> np.ndarray:
    """The gradient by ``u`` of a function whose gradient by the parameters
    :func:`from_unconstrained` ``(u)`` is ``grad_params``."""
    u = np.asarray(u, dtype=np.float64)
    s = _sigmoid(u)
    ds = s * (1.0 - s)
    span = np.array([hi - lo for lo, hi in BOUNDS])
    dp = span * ds  # d (range value) / du, per parameter
    g = np.asarray(grad_params, dtype=np.float64)
    out = np.empty_like(u)
    frac_beta = BOUNDS[2][0] + span[2] * s[..., 2]
    alpha_holt = BOUNDS[1][0] + span[1] * s[..., 1]
    out[..., 0] = g[..., 0] * dp[..., 0]
    # beta = alpha_holt * fraction: alpha_holt's logit moves beta too
    out[..., 1] = (g[..., 1] + g[..., 2] * frac_beta) * dp[..., 1]
    out[..., 2] = g[..., 2] * alpha_holt * dp[..., 2]
    out[..., 3] = g[..., 3] * dp[..., 3]
    out[..., 4] = g[..., 4] * dp[..., 4]
    out[..., 5] = g[..., 5] * dp[..., 5]
    return out


def run_references_grad(y, indptr, params, states):
    """:func:`~.references.run_references` plus every row's sensitivities.

    Returns
    -------
    lines : ndarray (N, len(REFERENCES), 3)
    sens : ndarray (N, N_SENS)
        The lines' derivatives by the parameters of their series
        (:data:`~._filters.SENSITIVITIES`), from zero sensitivities at
        ``states`` (the state before each series' first row).
    states_after : ndarray (S, N_STATE)
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    lines = np.empty((len(y), len(REFERENCES), 3))
    sens = np.empty((len(y), N_SENS))
    out = np.array(states, dtype=np.float64, copy=True)
    for s in range(len(indptr) - 1):
        a, b = indptr[s], indptr[s + 1]
        st = np.ascontiguousarray(out[s])
        run_filters_grad(
            y[a:b],
            np.ascontiguousarray(params[s], np.float64),
            st,
            np.zeros(N_DSTATE),
            lines[a:b],
            sens[a:b],
        )
        out[s] = st
    return lines, sens, out


def step_weight_derivatives(phi: np.ndarray, h: int) -> np.ndarray:
    """``d/dphi (phi + ... + phi**k) = 1 + 2 phi + ... + k phi**(k-1)``.

    For ``k = 1..h``: shape ``phi.shape + (h,)``.
    """
    phi = np.asarray(phi, dtype=np.float64)
    k = np.arange(1, h + 1)
    return np.cumsum(k * phi[..., None] ** (k - 1), axis=-1)


def path_gradient(
    lines: np.ndarray, g_paths: np.ndarray, weights=None, dweights=None
) -> np.ndarray:
    """A gradient by forecast paths as one by their lines.

    Parameters
    ----------
    lines : ndarray (..., 3)
        ``(a, b, phi)`` (:func:`~._filters.expand_paths`).
    g_paths : ndarray (..., h)
        The gradient by each path's values.

    Returns
    -------
    ndarray (..., 3)
        By ``a``, by ``b`` and by ``phi`` as the path reads it directly
        (``b d/dphi (phi + ... + phi**k)``; ``phi`` is also a parameter of the
        lines, through the sensitivities).
    weights, dweights : ndarray (..., h), optional
        :func:`~._filters.step_weights` and :func:`step_weight_derivatives`
        of ``lines[..., 2]`` when known (computed per call otherwise).
    """
    h = g_paths.shape[-1]
    b, phi = lines[..., 1], lines[..., 2]
    out = np.empty(lines.shape)
    out[..., 0] = g_paths.sum(axis=-1)
    if weights is None:
        weights = step_weights(phi, h)
    if dweights is None:
        dweights = step_weight_derivatives(phi, h)
    out[..., 1] = (g_paths * weights).sum(axis=-1)
    out[..., 2] = b * (g_paths * dweights).sum(axis=-1)
    return out


def row_params_gradient(sens: np.ndarray, g_lines: np.ndarray) -> np.ndarray:
    """Per row, the gradient by its series' parameters ``(..., N_PARAMS)``.

    ``g_lines`` ``(..., len(REFERENCES), 3)``: the gradient by the row's lines
    (:func:`path_gradient`; 0 where a line was not read), ``sens``
    ``(..., N_SENS)`` their sensitivities (:func:`run_references_grad`).
    Drift has no parameter.
    """
    ses, holt, theta = (REFERENCES.index(n) for n in ("ses", "holt", "theta"))
    g = np.nan_to_num(g_lines)
    s = np.nan_to_num(sens)
    out = np.empty(s.shape[:-1] + (N_PARAMS,))
    out[..., 0] = g[..., ses, 0] * s[..., 0]
    out[..., 1] = g[..., holt, 0] * s[..., 2] + g[..., holt, 1] * s[..., 5]
    out[..., 2] = g[..., holt, 0] * s[..., 3] + g[..., holt, 1] * s[..., 6]
    out[..., 3] = (
        g[..., holt, 0] * s[..., 4] + g[..., holt, 1] * s[..., 7] + g[..., holt, 2]
    )
    out[..., 4] = g[..., theta, 0] * s[..., 1]
    out[..., 5] = g[..., theta, 0] * s[..., 8] + g[..., theta, 1] * s[..., 9]
    return out


def params_gradient(indptr, sens: np.ndarray, g_lines: np.ndarray) -> np.ndarray:
    """The gradient by every series' parameters ``(S, N_PARAMS)``.

    ``g_lines`` ``(N, len(REFERENCES), 3)`` and ``sens`` ``(N, N_SENS)`` as
    :func:`row_params_gradient`, summed over each series' rows.
    """
    per_row = row_params_gradient(sens, g_lines)
    indptr = np.asarray(indptr, dtype=np.int64)
    S = len(indptr) - 1
    seg = np.repeat(np.arange(S), np.diff(indptr))
    return np.stack(
        [np.bincount(seg, per_row[:, q], minlength=S) for q in range(N_PARAMS)],
        axis=1,
    )
