"""Elman RNN recurrence over a window, batched over parallel streams.

Equation (``torch.nn.RNN``): ``h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
with ``phi`` = tanh (``relu=0``) or relu (``relu=1``). The input half of all T
steps is one GEMM done by the caller and arrives in ``pre``.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._activations import tanh_of_sum
from ._linalg import copy2d, matmul_into


@jit
def rnn_forward(pre, w_hh_t, h0, relu, hs, work):
    """Run one RNN layer (one direction) over T steps for B streams.

    Parameters
    ----------
    pre : ndarray of shape (T, B, H)
        Input pre-activations ``x_t W_ih^T + b_ih + b_hh``, read only.
    w_hh_t : ndarray of shape (H, H)
        ``W_hh`` transposed (C-contiguous copy).
    h0 : ndarray of shape (B, H)
    relu : int
        0 for tanh, 1 for relu.
    hs : ndarray of shape (T + 1, B, H)
        Out: ``hs[0] = h0``, ``hs[t + 1] = h_t``.
    work : ndarray of shape (2, B, H)
        Scratch for the recurrent product (``work[0]``).
    """
    T, B, H = pre.shape
    zero = pre.dtype.type(0.0)
    copy2d(h0, hs[0])
    work = work[0]
    for t in range(T):
        matmul_into(hs[t], w_hh_t, work)
        p_t = pre[t]
        h_new = hs[t + 1]
        if relu:
            for b in range(B):
                for j in range(H):
                    a = p_t[b, j] + work[b, j]
                    h_new[b, j] = zero if a <= zero else a  # relu(nan) is nan
        else:
            for b in range(B):
                tanh_of_sum(p_t[b], work[b], h_new[b])


@jit
def rnn_backward(hs, dhs, dh_last, w_hh, relu, dpre, dh0, dh_norm):
    """Backpropagate through one RNN layer over T steps.

    Parameters
    ----------
    hs : ndarray of shape (T + 1, B, H)
        From :func:`rnn_forward`.
    dhs : ndarray of shape (T, B, H)
        Upstream gradient with respect to ``h_1 .. h_T``.
    dh_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final state.
    w_hh : ndarray of shape (H, H)
        ``W_hh`` in torch's layout.
    relu : int
        0 for tanh, 1 for relu.
    dpre : ndarray of shape (T, B, H)
        Out: gradient with respect to the pre-activations
        (``da = dh * phi'``), for ``W_ih``, ``W_hh`` and both biases.
    dh0 : ndarray of shape (B, H)
        Out: gradient with respect to ``h0``; the running ``dL/dh`` meanwhile.
    dh_norm : ndarray of shape (T,)
        Out: ``||dL/dh_t||_2`` over the batch at every step.
    """
    T, B, H = dhs.shape
    one = hs.dtype.type(1.0)
    zero = hs.dtype.type(0.0)
    dh = dh0
    copy2d(dh_last, dh)
    for t in range(T - 1, -1, -1):
        sq = 0.0
        d_t = dpre[t]
        dh_up = dhs[t]
        h_t = hs[t + 1]
        for b in range(B):
            for j in range(H):
                dhj = dh[b, j] + dh_up[b, j]
                sq += dhj * dhj
                h = h_t[b, j]
                if relu:
                    d_t[b, j] = zero if h <= zero else dhj  # torch's threshold_backward
                else:
                    d_t[b, j] = dhj * (one - h * h)
        dh_norm[t] = np.sqrt(sq)
        matmul_into(d_t, w_hh, dh)
