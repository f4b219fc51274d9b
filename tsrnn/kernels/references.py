"""The learned references' per-epoch passes over every row, in one loop each.

:mod:`tsrnn.estimators.forecaster.learned` rewrites the head's reference
inputs of every row once per epoch and turns each training window's dL/d
extra into a gradient by each series' coefficients. As NumPy expressions
both were several passes over ``rows * horizon * n_refs`` temporaries (about
half the overhead of ``references="learned"`` on Tourism monthly); here each
is one loop writing or accumulating in place.

The references are in :data:`tsrnn.smoothing.REFERENCES` order: SES, the
damped trend, Theta, drift (indices 0, 1, 2, 3).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit
def reference_extras(lines, weights, series_of_row, base, relative, rows, out, offset):
    """Write the reference extras of ``rows`` into ``out`` (the values of
    :func:`~tsrnn.estimators.forecaster.features.gather`).

    Parameters
    ----------
    lines : float64 (N, k, nr, 3)
        Every row's forecast lines ``(a, b, phi)``.
    weights : float64 (S, k, nr, ho)
        ``phi + ... + phi**s`` of each series' lines.
    series_of_row : int64 (N,)
    base : float64 (N, k)
        The rows' observed levels (NaN: missing).
    relative : bool
        Values relative to the origin's level (differencing).
    rows : int64 (R,)
        ``-1``: padding (zeros).
    out : float (R, ho, P), written at ``offset + r * k + j``
    offset : int
    """
    N, k, nr, _ = lines.shape
    ho = weights.shape[3]
    for i in range(len(rows)):
        row = rows[i]
        for s in range(ho):
            for r in range(nr):
                for j in range(k):
                    v = 0.0
                    if row >= 0:
                        w = weights[series_of_row[row], j, r, s]
                        v = lines[row, j, r, 0] + lines[row, j, r, 1] * w
                        if relative:
                            v = v - base[row, j]
                        elif np.isnan(v):
                            v = base[row, j]
                        if np.isnan(v):
                            v = 0.0
                    out[i, s, offset + r * k + j] = v


@jit
def reference_gradient(
    d_extra, rows, offset, lines, weights, dweights, sens, series_of_row, base,
    relative, grad,
):
    """Add a window's gradient by each series' coefficients into ``grad``.

    Per row and target, the reference columns of dL/d extra are turned into
    a gradient by each line's ``(a, b)`` and the damping read directly
    (:func:`tsrnn.smoothing.learned.path_gradient`), chained with the lines'
    sensitivities (:func:`tsrnn.smoothing.learned.row_params_gradient`).
    Lines that were not read (NaN; relative to a missing level) add nothing.

    Parameters
    ----------
    d_extra : float (R, ho, P)
    rows : int64 (R,), ``-1``: padding
    offset : int
        Column of the first reference in a step's extras.
    lines, weights, series_of_row, base, relative : as :func:`reference_extras`
    dweights : float64 (S, k, nr, ho)
        ``d/dphi`` of ``weights``.
    sens : float64 (N, k, N_SENS)
        :data:`tsrnn.smoothing._filters.SENSITIVITIES` of every row.
    grad : float64 (S, k, N_PARAMS), accumulated
    """
    N, k, nr, _ = lines.shape
    ho = weights.shape[3]
    for i in range(len(rows)):
        row = rows[i]
        if row < 0:
            continue
        g = series_of_row[row]
        for j in range(k):
            if relative and np.isnan(base[row, j]):
                continue
            for r in range(3):  # drift (3) has no coefficient
                a = lines[row, j, r, 0]
                b = lines[row, j, r, 1]
                if np.isnan(a) or np.isnan(b):
                    continue
                ga = 0.0
                gb = 0.0
                gp = 0.0
                for s in range(ho):
                    d = np.float64(d_extra[i, s, offset + r * k + j])
                    ga += d
                    gb += d * weights[g, j, r, s]
                    gp += d * dweights[g, j, r, s]
                if r == 0:  # SES
                    grad[g, j, 0] += ga * sens[row, j, 0]
                elif r == 2:  # Theta: its alpha and its slope weight
                    grad[g, j, 4] += ga * sens[row, j, 1]
                    grad[g, j, 5] += ga * sens[row, j, 8] + gb * sens[row, j, 9]
                else:  # the damped trend
                    grad[g, j, 1] += ga * sens[row, j, 2] + gb * sens[row, j, 5]
                    grad[g, j, 2] += ga * sens[row, j, 3] + gb * sens[row, j, 6]
                    grad[g, j, 3] += (
                        ga * sens[row, j, 4] + gb * sens[row, j, 7] + b * gp
                    )
