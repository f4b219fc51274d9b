"""Loss kernels: a training step's loss and its gradient in one pass.

The losses of :mod:`tsrnn.engine.losses` run at every training step on
arrays of a few thousand entries, where NumPy's calls, not the arithmetic,
were their time (the weighted absolute error: eleven calls, about 35 us a
step on M3 other's windows of 448 rows and 8 steps).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit
def masked_abs_error(y_hat, y, mask, grad, weighted):
    """Absolute error of the present entries (``mask > 0``); its gradient into ``grad``.

    Returns ``(total, n)``: ``total`` the sum over present entries of
    ``mask |r|`` (``weighted``) or ``|r|``, accumulated in float64, with
    ``r = y_hat - y``; ``n`` the normaliser, ``max(count of present, 1)``
    (``weighted``) or ``max(sum of mask, 1)``. ``grad`` is set to
    ``mask sign(r) / n`` (``weighted``) or ``sign(r) / n``, 0 where absent,
    in the arrays' dtype: the bits of the NumPy gradients of
    :func:`~tsrnn.engine.losses.weighted_absolute_error` and
    :func:`~tsrnn.engine.losses.absolute_error`.

    Parameters
    ----------
    y_hat, y, mask, grad : ndarray of shape (N,), one dtype, contiguous
    weighted : bool
    """
    N = y_hat.shape[0]
    zero = y_hat.dtype.type(0)
    one = y_hat.dtype.type(1)
    count = 0
    mask_sum = 0.0
    total = 0.0
    for i in range(N):
        m = mask[i]
        mask_sum += m
        if m > 0:
            count += 1
            r = abs(y_hat[i] - y[i])
            total += np.float64(m * r) if weighted else np.float64(r)
    n = max(float(count), 1.0) if weighted else max(mask_sum, 1.0)
    n_t = y_hat.dtype.type(n)
    for i in range(N):
        m = mask[i]
        s = zero
        if m > 0:
            r = y_hat[i] - y[i]
            if r > 0:
                s = one
            elif r < 0:
                s = -one
            elif r != r:
                s = r  # NaN, as np.sign
        grad[i] = ((m * s) if weighted else s) / n_t
    return total, n
