"""GRU recurrence over a window, batched over parallel streams (torch's r, z, n).

Equations (``torch.nn.GRU``; the reset gate multiplies the hidden product after
the matmul, as in cuDNN and Keras ``reset_after=True``)::

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
    z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}

The input half ``x W_ih^T + b_ih`` of all T steps is one GEMM done by the caller
and arrives in ``gates``; ``b_hh`` stays on the hidden side because ``r``
multiplies ``h W_hn^T + b_hn``.
"""

from __future__ import annotations

from ._activations import sigmoid_of_sum, tanh_of
from ._jit import jit
from ._linalg import copy2d, panel_matmul


@jit
def gru_forward(gates, wp_hh, b_hh, h0, hs, hns, rec, r0, r1):
    """Run one GRU layer (one direction) over T steps for streams ``r0 .. r1-1``.

    Parameters
    ----------
    gates : ndarray of shape (T, B, 3H)
        In: input pre-activations ``x_t W_ih^T + b_ih``.
        Out: the activated gates ``r, z, n``, kept for BPTT.
    wp_hh : ndarray of shape (P, H, NR)
        ``W_hh^T`` (H, 3H) packed by :func:`~tsrnn.kernels._linalg.pack_panels`.
    b_hh : ndarray of shape (1, 3H)
    h0 : ndarray of shape (B, H)
        Initial state, read only.
    hs : ndarray of shape (T + 1, B, H)
        Out: ``hs[0] = h0``, ``hs[t + 1] = h_t``.
    hns : ndarray of shape (T, B, H)
        Out: ``h_{t-1} W_hn^T + b_hn`` at every step, kept for BPTT.
    rec : ndarray of shape (2, B, 3H)
        Scratch: ``h_{t-1} W_hh^T + b_hh``, and activations of one step.
    r0, r1 : int
        The streams (rows) to run; see :func:`~tsrnn.kernels.lstm.lstm_forward`.
    """
    T, B, G = gates.shape
    H = G // 3
    one = gates.dtype.type(1.0)
    copy2d(h0[r0:r1], hs[0, r0:r1])
    hp_all = rec[0]
    act = rec[1]
    for t in range(T):
        panel_matmul(hs[t], wp_hh, b_hh, hp_all, r0, r1)
        g_t = gates[t]
        h_prev = hs[t]
        h_new = hs[t + 1]
        hn_t = hns[t]
        for b in range(r0, r1):
            pre = g_t[b]
            r_ = hp_all[b]
            a = act[b]
            sigmoid_of_sum(pre[: 2 * H], r_[: 2 * H], a[: 2 * H])  # r, z
            hn = hn_t[b]
            for j in range(H):
                hn[j] = r_[2 * H + j]
                a[2 * H + j] = pre[2 * H + j] + a[j] * r_[2 * H + j]
            tanh_of(a[2 * H :], pre[2 * H :])  # n, written straight into the gates
            hp = h_prev[b]
            hw = h_new[b]
            for j in range(H):
                z = a[H + j]
                hw[j] = (one - z) * pre[2 * H + j] + z * hp[j]
            for j in range(2 * H):
                pre[j] = a[j]


@jit
def gru_backward(
    gates, hs, hns, dhs, dh_last, wp_hh, dgates, dgates_h, dh0, dh_sq, r0, r1
):
    """Backpropagate through one GRU layer over T steps, streams ``r0 .. r1-1``.

    Parameters
    ----------
    gates : ndarray of shape (T, B, 3H)
        Activated gates from :func:`gru_forward`.
    hs : ndarray of shape (T + 1, B, H)
    hns : ndarray of shape (T, B, H)
        From :func:`gru_forward`.
    dhs : ndarray of shape (T, B, H)
        Upstream gradient with respect to ``h_1 .. h_T``.
    dh_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final state ``h_T``.
    wp_hh : ndarray of shape (P, 3H, NR)
        ``W_hh`` (3H, H) in torch's layout, packed by ``pack_panels``.
    dgates : ndarray of shape (T, B, 3H)
        Out: input-side pre-activation gradients ``[da_r, da_z, da_n]``
        (for ``W_ih``, ``b_ih`` and the input). May alias ``gates``.
    dgates_h : ndarray of shape (T, B, 3H)
        Out: hidden-side gradients ``[da_r, da_z, da_n * r]`` (for ``W_hh``,
        ``b_hh``).
    dh0 : ndarray of shape (B, H)
        Out: gradient with respect to ``h0``; the running ``dL/dh`` meanwhile.
    dh_sq : float64 ndarray of shape (T, B)
        Out: ``||dL/dh_t||^2`` of every stream at every step.
    r0, r1 : int
        The streams (rows) to run.

    Notes
    -----
    ``dn = dh (1 - z)``, ``dz = dh (h_{t-1} - n)``, ``da_n = dn (1 - n**2)``,
    ``da_r = da_n hn r (1 - r)``, ``da_z = dz z (1 - z)``, and
    ``dh_{t-1} = dh z + dA_h W_hh``.
    """
    T, B, G = gates.shape
    H = G // 3
    one = gates.dtype.type(1.0)
    dh = dh0
    copy2d(dh_last[r0:r1], dh[r0:r1])
    # Declared mirror: the loop nest of lstm_backward's scan; the maths differ.
    for t in range(T - 1, -1, -1):
        g_t = gates[t]
        d_t = dgates[t]
        dh_t = dgates_h[t]
        dh_up = dhs[t]
        h_prev = hs[t]
        hn_t = hns[t]
        for b in range(r0, r1):
            sq = 0.0
            for j in range(H):
                r = g_t[b, j]
                z = g_t[b, H + j]
                n = g_t[b, 2 * H + j]
                dhj = dh[b, j] + dh_up[b, j]
                sq += dhj * dhj
                da_n = dhj * (one - z) * (one - n * n)
                da_r = da_n * hn_t[b, j] * r * (one - r)
                da_z = dhj * (h_prev[b, j] - n) * z * (one - z)
                d_t[b, j] = da_r
                d_t[b, H + j] = da_z
                d_t[b, 2 * H + j] = da_n
                dh_t[b, j] = da_r
                dh_t[b, H + j] = da_z
                dh_t[b, 2 * H + j] = da_n * r
                # the direct path h_{t-1} -> h_t; the matmul path is added below
                dh[b, j] = dhj * z
            dh_sq[t, b] = sq
        panel_matmul(dh_t, wp_hh, dh, dh, r0, r1)
