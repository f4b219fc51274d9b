"""Elman RNN recurrence over a window, batched over parallel streams.

Equation (``torch.nn.RNN``): ``h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
with ``phi`` = tanh (``relu=0``) or relu (``relu=1``), computed as one product
per step, ``[x_t, h_{t-1}] [W_ih^T; W_hh^T] + b`` (see ``lstm.py``).
"""

from __future__ import annotations

from ._activations import tanh_2d
from ._jit import jit
from ._linalg import copy2d, panel_matmul, put_columns


@jit
def rnn_forward(x, wp, bias, h0, relu, hs, xh, rec, r0, r1):
    """Run one RNN layer (one direction) over T steps for streams ``r0 .. r1-1``.

    Parameters
    ----------
    x : ndarray of shape (T, B, I)
        The layer's input, read only.
    wp : ndarray of shape (P, I + H, NR)
        ``[W_ih^T; W_hh^T]`` (I + H, H) packed by
        :func:`~tsrnn.kernels._linalg.pack_panels`.
    bias : ndarray of shape (1, H)
        ``b_ih + b_hh``.
    h0 : ndarray of shape (B, H)
    relu : int
        0 for tanh, 1 for relu.
    hs : ndarray of shape (T + 1, B, H)
        Out: ``hs[0] = h0``, ``hs[t + 1] = h_t``.
    xh : ndarray of shape (B, I + H)
        Scratch: ``[x_t, h_{t-1}]`` of every stream.
    rec : ndarray of shape (B, H)
        Scratch: the pre-activations of one step.
    r0, r1 : int
        The streams (rows) to run; see :func:`~tsrnn.kernels.lstm.lstm_forward`.
    """
    T, B, H = hs.shape
    T -= 1
    n_i = x.shape[2]
    zero = hs.dtype.type(0.0)
    copy2d(h0[r0:r1], hs[0, r0:r1])
    put_columns(h0, xh, n_i, r0, r1)
    for t in range(T):
        put_columns(x[t], xh, 0, r0, r1)
        panel_matmul(xh, wp, bias, rec, r0, r1)
        h_new = hs[t + 1]
        if relu:
            for b in range(r0, r1):
                for j in range(H):
                    a = rec[b, j]
                    h_new[b, j] = zero if a <= zero else a  # relu(nan) is nan
        else:
            tanh_2d(rec[r0:r1], h_new[r0:r1])
        put_columns(h_new, xh, n_i, r0, r1)


@jit
def rnn_backward(hs, dhs, dh_last, wp_hh, relu, dpre, dh0, dh_sq, zeros, r0, r1):
    """Backpropagate through one RNN layer over T steps, streams ``r0 .. r1-1``.

    Parameters
    ----------
    hs : ndarray of shape (T + 1, B, H)
        From :func:`rnn_forward`.
    dhs : ndarray of shape (T, B, H)
        Upstream gradient with respect to ``h_1 .. h_T``.
    dh_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final state.
    wp_hh : ndarray of shape (P, H, NR)
        ``W_hh`` in torch's layout, packed by ``pack_panels``.
    relu : int
        0 for tanh, 1 for relu.
    dpre : ndarray of shape (T, B, H)
        Out: gradient with respect to the pre-activations
        (``da = dh * phi'``), for ``W_ih``, ``W_hh`` and both biases.
    dh0 : ndarray of shape (B, H)
        Out: gradient with respect to ``h0``; the running ``dL/dh`` meanwhile.
    dh_sq : float64 ndarray of shape (T, B)
        Out: ``||dL/dh_t||^2`` of every stream at every step.
    zeros : ndarray of shape (B, H)
        Zeros (``h0`` has no upstream gradient of its own).
    r0, r1 : int
        The streams (rows) to run.
    """
    T, B, H = dhs.shape
    one = hs.dtype.type(1.0)
    zero = hs.dtype.type(0.0)
    dh = dh0  # the total dL/dh_t of the step being processed
    dh_up = dhs[T - 1]
    for b in range(r0, r1):
        for j in range(H):
            dh[b, j] = dh_last[b, j] + dh_up[b, j]
    for t in range(T - 1, -1, -1):
        d_t = dpre[t]
        h_t = hs[t + 1]
        for b in range(r0, r1):
            sq = 0.0
            for j in range(H):
                dhj = dh[b, j]
                sq += dhj * dhj
                h = h_t[b, j]
                if relu:
                    d_t[b, j] = zero if h <= zero else dhj  # torch's threshold_backward
                else:
                    d_t[b, j] = dhj * (one - h * h)
            dh_sq[t, b] = sq
        # dL/dh_{t-1} = (upstream at t-1) + dA_t W_hh
        panel_matmul(d_t, wp_hh, dhs[t - 1] if t > 0 else zeros, dh, r0, r1)
