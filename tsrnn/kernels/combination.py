"""The combination grid's errors: every convex weight vector scored at once.

:mod:`tsrnn.estimators.forecaster.combination` scores each point of a grid
on the simplex (1001 weight vectors for five forecasts) by the absolute error
of its combination over up to 20 000 held-out points. As a NumPy product
that is a (points, grid) array written and read back per block; here each
point's row of errors is accumulated in place, the loop over the grid
innermost and contiguous, so that it vectorizes (about ten times faster).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit
def grid_abs_errors(candidates, target, weights_t, out):
    """``out[j] = sum_p |candidates[p] . weights_t[:, j] - target[p]|``.

    Parameters
    ----------
    candidates : ndarray of shape (P, n), float64, C-contiguous
        Each point's forecasts (the network's, then each reference's).
    target : ndarray of shape (P,), float64
    weights_t : ndarray of shape (n, G), float64, C-contiguous
        The grid's weight vectors, one per column.
    out : ndarray of shape (G,), float64
        Set to the summed absolute errors (overwritten).
    """
    P, n = candidates.shape
    G = weights_t.shape[1]
    row = np.empty(G)  # one point's combined errors, before the absolute value
    for j in range(G):
        out[j] = 0.0
    for p in range(P):
        t = target[p]
        for j in range(G):
            row[j] = -t
        # one weight row at a time: the loops over the grid are contiguous
        # and independent, so they vectorize
        for i in range(n):
            ci = candidates[p, i]
            for j in range(G):
                row[j] += ci * weights_t[i, j]
        for j in range(G):
            out[j] += np.abs(row[j])
