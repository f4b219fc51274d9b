"""Adam's update of a flat parameter vector in one pass (``tsrnn.engine.optim``).

:meth:`tsrnn.engine.optim.Adam.step` as NumPy expressions makes ten passes
over the vector and six temporaries; here one loop does the same operations
on each element, in the same precisions and order (float32 moments and
steps, the bias-corrected denominator in float64 as NumPy's promotion makes
it), so the result is the same bits.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit
def adam_step(theta, grad, m, v, b1, a1, b2, a2, lr_bc1, sqrt_bc2, eps):
    """One Adam step in place; every array of one dtype.

    ``b1, a1 = beta_1, 1 - beta_1`` and ``b2, a2`` likewise, ``lr_bc1 =
    learning_rate / (1 - beta_1**t)``, all of the arrays' dtype;
    ``sqrt_bc2 = sqrt(1 - beta_2**t)`` and ``eps`` float64.
    """
    for i in range(theta.shape[0]):
        g = grad[i]
        mi = m[i] * b1
        mi = mi + a1 * g
        m[i] = mi
        vi = v[i] * b2
        vi = vi + a2 * (g * g)
        v[i] = vi
        denom = np.float64(np.sqrt(vi)) / sqrt_bc2 + eps
        step = np.float64(lr_bc1 * mi) / denom
        theta[i] = theta[i] - theta.dtype.type(step)
