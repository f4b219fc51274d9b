"""The one matrix product that sits inside the time loops.

``h_{t-1} W_hh^T`` (forward) and ``dA_t W_hh`` (backward) are the only GEMMs that
cannot be hoisted out of the recurrence. For small inner dimensions a plain
loop (vectorized over the output row, no reduction to reassociate) beats the
BLAS call overhead; above :data:`SMALL_K` the BLAS that Numba links (SciPy's)
wins. Measured on the 2-core development machines: hand loops win up to an
inner dimension of about 32.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

SMALL_K = 32


@jit
def matmul_into(a, b, out):
    """``out = a @ b`` for C-contiguous 2-D arrays of one dtype.

    Parameters
    ----------
    a : ndarray of shape (M, K)
    b : ndarray of shape (K, N)
    out : ndarray of shape (M, N)
        Written (not accumulated); must not alias ``a`` or ``b``.
    """
    m, k = a.shape
    n = b.shape[1]
    if k <= SMALL_K:
        zero = out.dtype.type(0.0)
        for i in range(m):
            for j in range(n):
                out[i, j] = zero
            for p in range(k):
                aip = a[i, p]
                for j in range(n):
                    out[i, j] += aip * b[p, j]
    else:
        np.dot(a, b, out)


@jit
def matmul_add(a, b, out, work):
    """``out += a @ b`` for C-contiguous 2-D arrays of one dtype.

    Parameters
    ----------
    a : ndarray of shape (M, K)
    b : ndarray of shape (K, N)
    out : ndarray of shape (M, N)
        Accumulated into.
    work : ndarray of shape (M, N)
        Scratch for the BLAS path.
    """
    m, k = a.shape
    n = b.shape[1]
    if k <= SMALL_K:
        for i in range(m):
            for p in range(k):
                aip = a[i, p]
                for j in range(n):
                    out[i, j] += aip * b[p, j]
    else:
        np.dot(a, b, work)
        for i in range(m):
            for j in range(n):
                out[i, j] += work[i, j]


@jit
def copy2d(src, dst):
    """``dst[...] = src`` for 2-D arrays of one shape.

    An explicit loop, because Numba's broadcasting slice assignment
    (``dst[:] = src``) drags string formatting for its error message into the
    compiled kernel and added about 10 s of cold compile time per kernel.
    """
    m, n = src.shape
    for i in range(m):
        for j in range(n):
            dst[i, j] = src[i, j]


@jit
def gemm(a, b):
    """``a @ b`` through the BLAS that the scans use (SciPy's, linked by Numba).

    The hoisted products around the scans (input projection, weight gradients)
    go through here rather than NumPy's ``@`` so that one process keeps one
    BLAS thread pool busy: NumPy's and SciPy's OpenBLAS are separate libraries
    whose idle threads spin for a while after each call, and with two of them
    alternating on 2 cores a step took 3x longer (measured, LSTM H=64 float32).
    """
    return np.dot(a, b)
