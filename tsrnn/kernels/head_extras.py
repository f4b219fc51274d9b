"""The per-step head's extras and bias: forward and gradients in one pass each.

:class:`~tsrnn.engine.heads.StepwiseHead` adds to its GEMM ``out @ W.T`` the
per-step extras (each forecast step's own inputs, e.g. the references'
forecasts, through that step's weights ``E[s]``) and the bias. As NumPy that
was an ``einsum`` (about 20 us) and two additions forward, an ``einsum`` (20
us) and a column sum (8 us) backward, on arrays of a few thousand entries
(M3 other: 448 rows, 8 steps, 5 extras), paid at every training step and
every read; here each direction is one pass over the rows (13 and 16 us).

The sums run in a fixed order: each extras' sum over ``p`` from zero in
order, added to the product, then the bias; the bias gradient and the extra
weights' gradient over the rows in order. The backward sums are the bits of
the NumPy expressions they replace (``sum(axis=0)`` and this ``einsum``
reduce row by row); the forward ``einsum`` sums its five-term dot products
in SIMD lanes whose order depends on the CPU NumPy dispatches for, so the
forward differs from it in the last bit of some outputs (checked to a few
ulp) and no longer depends on the CPU.
"""

from __future__ import annotations

from ._jit import jit


@jit
def add_extras_bias(y, e3, E, b):
    """``y[r, s J + j] = (y[r, s J + j] + sum_p e3[r, s, p] E[s, j, p]) + b[s J + j]``.

    Parameters
    ----------
    y : ndarray of shape (R, S * J), C-contiguous
        The GEMM's rows, updated in place.
    e3 : ndarray of shape (R, S, P), C-contiguous
        Each row's extras, per forecast step.
    E : ndarray of shape (S, J, P)
        Each step's extra weights.
    b : ndarray of shape (S * J,)
        The bias.
    """
    R, S, P = e3.shape
    J = E.shape[1]
    zero = y.dtype.type(0)
    for r in range(R):
        for s in range(S):
            for j in range(J):
                acc = zero
                for p in range(P):
                    acc += e3[r, s, p] * E[s, j, p]
                o = s * J + j
                y[r, o] = (y[r, o] + acc) + b[o]


@jit
def extras_bias_grads(dy, e3, gE, gb):
    """``gb += sum_r dy[r]``; ``gE[s, j, p] += sum_r e3[r, s, p] dy[r, s J + j]``.

    Parameters
    ----------
    dy : ndarray of shape (R, S * J), C-contiguous
        dL/d y of the head's rows.
    e3 : ndarray of shape (R, S, P), C-contiguous
    gE : ndarray of shape (S, J, P)
        The extra weights' gradient, accumulated into.
    gb : ndarray of shape (S * J,)
        The bias gradient, accumulated into.
    """
    R, S, P = e3.shape
    J = gE.shape[1]
    n_out = S * J
    for o in range(n_out):
        # the rows in order, from the first row (sum(axis=0)'s reduction)
        col = dy[0, o] if R else dy.dtype.type(0)
        for r in range(1, R):
            col += dy[r, o]
        gb[o] += col
    for s in range(S):
        for j in range(J):
            o = s * J + j
            for p in range(P):
                acc = dy.dtype.type(0)
                for r in range(R):
                    acc += e3[r, s, p] * dy[r, o]
                gE[s, j, p] += acc
