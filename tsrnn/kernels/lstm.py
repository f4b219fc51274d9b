"""LSTM recurrence over a window, batched over parallel streams (torch's i, f, g, o).

Equations (``torch.nn.LSTM``)::

    i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)   (4 blocks of H)
    i, f, o = sigmoid(i, f, o);  g = tanh(g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

The input half ``x_t W_ih^T + b_ih + b_hh`` of all T steps is one GEMM done by
the caller before the scan, which arrives in ``gates``; only ``h_{t-1} W_hh^T``
and the gate arithmetic run step by step here.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._activations import sigmoid_of_scaled_sum_2d, tanh_2d, tanh_of
from ._linalg import copy2d, matmul_into


@jit
def lstm_forward(gates, w_hh_t, h0, c0, hs, cs, work):
    """Run one LSTM layer (one direction) over T steps for B streams.

    Parameters
    ----------
    gates : ndarray of shape (T, B, 4H)
        In: input pre-activations ``x_t W_ih^T + b_ih + b_hh``.
        Out: the activated gates ``i, f, g, o``, kept for BPTT.
    w_hh_t : ndarray of shape (H, 4H)
        ``W_hh`` transposed (C-contiguous copy).
    h0, c0 : ndarray of shape (B, H)
        Initial state, read only.
    hs, cs : ndarray of shape (T + 1, B, H)
        Out: ``hs[0] = h0``, ``hs[t + 1] = h_t``; likewise ``cs``.
    work : ndarray of shape (2, B, 4H)
        Scratch: the recurrent product, and the activated gates of one step.

    Notes
    -----
    All four gates go through one vectorized sigmoid per step, the cell gate
    as ``tanh(x) = 2 sigmoid(2 x) - 1`` (absolute error below 1e-16, and one
    pass over a (B, 4H) block instead of 4 B short ones).
    """
    T, B, G = gates.shape
    H = G // 4
    one = gates.dtype.type(1.0)
    two = gates.dtype.type(2.0)
    copy2d(h0, hs[0])
    copy2d(c0, cs[0])
    rec = work[0]
    act = work[1]
    scale = np.ones(G, dtype=gates.dtype)
    for j in range(2 * H, 3 * H):
        scale[j] = two
    for t in range(T):
        matmul_into(hs[t], w_hh_t, rec)
        g_t = gates[t]
        sigmoid_of_scaled_sum_2d(g_t, rec, scale, act)
        c_prev = cs[t]
        c_new = cs[t + 1]
        for b in range(B):
            a = act[b]
            cp = c_prev[b]
            cn = c_new[b]
            for j in range(H):
                g = two * a[2 * H + j] - one
                a[2 * H + j] = g
                cn[j] = a[H + j] * cp[j] + a[j] * g
        h_new = hs[t + 1]
        tanh_2d(c_new, h_new)
        for b in range(B):
            a = act[b]
            hn = h_new[b]
            pre = g_t[b]
            for j in range(H):
                hn[j] *= a[3 * H + j]
            for j in range(G):
                pre[j] = a[j]


@jit
def lstm_backward(
    gates, cs, dhs, dh_last, dc_last, w_hh, dgates, dh0, dc0, dh_norm, tc_row
):
    """Backpropagate through one LSTM layer over T steps.

    Parameters
    ----------
    gates : ndarray of shape (T, B, 4H)
        Activated gates from :func:`lstm_forward`.
    cs : ndarray of shape (T + 1, B, H)
        Cell states from :func:`lstm_forward`.
    dhs : ndarray of shape (T, B, H)
        Upstream gradient of the loss with respect to ``h_1 .. h_T``.
    dh_last, dc_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final state ``(h_T, c_T)``.
    w_hh : ndarray of shape (4H, H)
        ``W_hh`` in torch's layout.
    dgates : ndarray of shape (T, B, 4H)
        Out: gradient with respect to the gate pre-activations. May be the
        same array as ``gates`` (each element is read before it is written).
    dh0, dc0 : ndarray of shape (B, H)
        Out: gradient with respect to the initial state. ``dh0`` also serves
        as the running ``dL/dh_{t-1}`` during the scan.
    dh_norm : ndarray of shape (T,)
        Out: ``||dL/dh_t||_2`` over the batch at every step (the total
        gradient reaching ``h_t``: from the head and from step ``t + 1``), the
        vanishing/exploding-gradient diagnostic.
    tc_row : ndarray of shape (H,)
        Scratch for ``tanh(c_t)`` of one stream (a vectorized map).

    Notes
    -----
    With ``tc = tanh(c_t)`` and ``dc`` the running cell gradient::

        do = dh * tc;  dc += dh * o * (1 - tc**2)
        di = dc * g;   df = dc * c_{t-1};  dg = dc * i
        dA = [di i(1-i), df f(1-f), dg (1-g**2), do o(1-o)]
        dc_{t-1} = dc * f;  dh_{t-1} = dA W_hh

    ``dW_hh = sum_t dA_t^T h_{t-1}`` and the input-side gradients are single
    GEMMs done by the caller after the scan.
    """
    T, B, G = gates.shape
    H = G // 4
    one = gates.dtype.type(1.0)
    dh = dh0
    dc = dc0
    copy2d(dh_last, dh)
    copy2d(dc_last, dc)
    for t in range(T - 1, -1, -1):
        sq = 0.0
        g_t = gates[t]
        d_t = dgates[t]
        dh_up = dhs[t]
        c_prev = cs[t]
        c_cur = cs[t + 1]
        for b in range(B):
            tanh_of(c_cur[b], tc_row)
            for j in range(H):
                i = g_t[b, j]
                f = g_t[b, H + j]
                g = g_t[b, 2 * H + j]
                o = g_t[b, 3 * H + j]
                dhj = dh[b, j] + dh_up[b, j]
                sq += dhj * dhj
                tc = tc_row[j]
                dcj = dc[b, j] + dhj * o * (one - tc * tc)
                d_t[b, j] = dcj * g * i * (one - i)
                d_t[b, H + j] = dcj * c_prev[b, j] * f * (one - f)
                d_t[b, 2 * H + j] = dcj * i * (one - g * g)
                d_t[b, 3 * H + j] = dhj * tc * o * (one - o)
                dc[b, j] = dcj * f
        dh_norm[t] = np.sqrt(sq)
        matmul_into(d_t, w_hh, dh)
