"""SRU recurrence over a window (Lei et al., EMNLP 2018), batched over streams.

Equations (docs/MATH.md, "Equations"), with ``U = X W^T`` for all steps at once (the caller's GEMM)::

    x~, u_f, u_r (, u_s) = split(U_t)                 (k = 3 blocks if I == H else 4)
    f = sigmoid(u_f + v_f * c_{t-1} + b_f)
    r = sigmoid(u_r + v_r * c_{t-1} + b_r)
    c_t = f * c_{t-1} + (1 - f) * x~
    h_t = r * c_t + (1 - r) * s_t

with the skip ``s_t = alpha * x_t`` (I == H; ``alpha = sqrt(3)``, the paper's
scaling correction at highway bias 0) or ``s_t = u_s`` (I != H). There is no
matrix product inside the recurrence: only this element-wise scan is
sequential, which is the point of the cell.
"""

from __future__ import annotations

import numpy as np

from ._activations import sigmoid_of
from ._jit import jit
from ._linalg import copy2d


@jit
def sru_forward(u, x, v, bias, alpha, c0, hs, cs, work):
    """Run one SRU layer (one direction) over T steps for B streams.

    Parameters
    ----------
    u : ndarray of shape (T, B, kH)
        In: ``x_t W^T``, blocks ``x~, u_f, u_r`` (and ``u_s`` when k = 4).
        Out: the ``u_f`` and ``u_r`` blocks are replaced by the activated
        gates ``f`` and ``r`` (kept for BPTT); the others are left as they are.
    x : ndarray of shape (T, B, I)
        The layer input, read only when k = 3 (highway skip ``alpha * x``).
    v : ndarray of shape (2H,)
        ``v_f, v_r``.
    bias : ndarray of shape (2H,)
        ``b_f, b_r``.
    alpha : float
        Skip scale for k = 3.
    c0 : ndarray of shape (B, H)
        Initial cell state.
    hs : ndarray of shape (T + 1, B, H)
        Out: ``hs[t + 1] = h_t`` (``hs[0]`` is set to zero: SRU carries only c).
    cs : ndarray of shape (T + 1, B, H)
        Out: ``cs[0] = c0``, ``cs[t + 1] = c_t``.
    work : ndarray of shape (2H,)
        Scratch: the gate pre-activations of one stream.
    """
    T, B, G = u.shape
    H = v.shape[0] // 2
    k4 = G == 4 * H
    one = u.dtype.type(1.0)
    al = u.dtype.type(alpha)
    copy2d(c0, cs[0])
    hs[0] = u.dtype.type(0.0)
    for t in range(T):
        u_t = u[t]
        x_t = x[t]
        c_prev = cs[t]
        c_new = cs[t + 1]
        h_new = hs[t + 1]
        for b in range(B):
            ub = u_t[b]
            cp = c_prev[b]
            for j in range(H):
                work[j] = ub[H + j] + v[j] * cp[j] + bias[j]
                work[H + j] = ub[2 * H + j] + v[H + j] * cp[j] + bias[H + j]
            sigmoid_of(work, ub[H : 3 * H])  # f, r replace u_f, u_r
            cn = c_new[b]
            hn = h_new[b]
            xb = x_t[b]
            for j in range(H):
                f = ub[H + j]
                r = ub[2 * H + j]
                c = f * cp[j] + (one - f) * ub[j]
                if k4:
                    s = ub[3 * H + j]
                else:
                    s = al * xb[j]
                cn[j] = c
                hn[j] = r * c + (one - r) * s


@jit
def sru_backward(
    u, x, cs, dhs, dc_last, v, alpha, du, dv, dbias, dx_skip, dc0, dh_norm
):
    """Backpropagate through one SRU layer over T steps.

    Parameters
    ----------
    u : ndarray of shape (T, B, kH)
        From :func:`sru_forward` (``x~``, activated ``f``, ``r``, ``u_s``).
    x : ndarray of shape (T, B, I)
        The layer input (for the k = 3 skip).
    cs : ndarray of shape (T + 1, B, H)
    dhs : ndarray of shape (T, B, H)
        Upstream gradient with respect to ``h_1 .. h_T``.
    dc_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final cell state.
    v : ndarray of shape (2H,)
    alpha : float
    du : ndarray of shape (T, B, kH)
        Out: gradient with respect to ``U`` (``dx~, da_f, da_r``, ``ds``).
        May alias ``u``.
    dv, dbias : ndarray of shape (2H,)
        Accumulated into (``+=``).
    dx_skip : ndarray of shape (T, B, H)
        Out when k = 3: ``alpha * ds``, the skip path's gradient on ``x``.
    dc0 : ndarray of shape (B, H)
        Out: gradient with respect to ``c0``; the running ``dL/dc`` meanwhile.
    dh_norm : ndarray of shape (T,)
        Out: ``||dL/dc_t||_2`` over the batch at every step. The SRU's
        recurrent state is ``c`` (``h_t`` feeds nothing later in the layer), so
        this is the gradient that travels through time.

    Notes
    -----
    ``dr = dh (c_t - s_t)``, ``dc += dh r``, ``ds = dh (1 - r)``,
    ``da_f = dc (c_{t-1} - x~) f (1 - f)``, ``da_r = dr r (1 - r)``,
    ``dx~ = dc (1 - f)``, ``dc_{t-1} = dc f + da_f v_f + da_r v_r``.
    """
    T, B, G = u.shape
    H = v.shape[0] // 2
    k4 = G == 4 * H
    one = u.dtype.type(1.0)
    al = u.dtype.type(alpha)
    dc = dc0
    copy2d(dc_last, dc)
    for t in range(T - 1, -1, -1):
        sq = 0.0
        u_t = u[t]
        d_t = du[t]
        x_t = x[t]
        dh_up = dhs[t]
        c_prev = cs[t]
        c_cur = cs[t + 1]
        dxs_t = dx_skip[t]
        for b in range(B):
            for j in range(H):
                xt = u_t[b, j]
                f = u_t[b, H + j]
                r = u_t[b, 2 * H + j]
                if k4:
                    s = u_t[b, 3 * H + j]
                else:
                    s = al * x_t[b, j]
                cp = c_prev[b, j]
                dhj = dh_up[b, j]
                dr = dhj * (c_cur[b, j] - s)
                dcj = dc[b, j] + dhj * r
                ds = dhj * (one - r)
                da_f = dcj * (cp - xt) * f * (one - f)
                da_r = dr * r * (one - r)
                d_t[b, j] = dcj * (one - f)
                d_t[b, H + j] = da_f
                d_t[b, 2 * H + j] = da_r
                if k4:
                    d_t[b, 3 * H + j] = ds
                else:
                    dxs_t[b, j] = al * ds
                dv[j] += da_f * cp
                dv[H + j] += da_r * cp
                dbias[j] += da_f
                dbias[H + j] += da_r
                sq += dcj * dcj
                dc[b, j] = dcj * f + da_f * v[j] + da_r * v[H + j]
        dh_norm[t] = np.sqrt(sq)
