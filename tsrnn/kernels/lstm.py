"""LSTM recurrence over a window, batched over parallel streams (torch's i, f, g, o).

Equations (``torch.nn.LSTM``)::

    i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)   (4 blocks of H)
    i, f, o = sigmoid(i, f, o);  g = tanh(g)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

The forward pass computes ``[x_t, h_{t-1}] [W_ih^T; W_hh^T] + b`` with the
register tile of :mod:`._linalg`, one product per step; the backward pass's
input-side gradients (``dW_ih``, ``dX``) are single GEMMs done by the caller
after the scan.

Streams (rows of the batch) are independent from the first step to the last,
forward and backward, so every kernel takes a row range ``r0 .. r1 - 1`` and
the caller runs disjoint ranges in threads (``tsrnn.engine.threads.run_rows``):
no synchronization per time step, and each row's arithmetic is the same
whatever the split.
"""

from __future__ import annotations

from ._activations import lstm_cell_back_2d
from ._cellrows import lstm_step_rows
from ._jit import jit
from ._linalg import copy2d, panel_matmul, put_columns


@jit
def lstm_forward(x, wp, bias, h0, c0, gates, hs, cs, tcs, xhs, rec, r0, r1):
    """Run one LSTM layer (one direction) over T steps for streams ``r0 .. r1-1``.

    Parameters
    ----------
    x : ndarray of shape (T, B, I)
        The layer's input, read only.
    wp : ndarray of shape (P, I + H, NR)
        ``[W_ih^T; W_hh^T]`` (I + H, 4H) packed by
        :func:`~tsrnn.kernels._linalg.pack_panels`.
    bias : ndarray of shape (1, 4H)
        ``b_ih + b_hh``.
    h0, c0 : ndarray of shape (B, H)
        Initial state, read only.
    gates : ndarray of shape (T, B, 4H)
        Out: the activated gates ``i, f, g, o``, kept for BPTT.
    hs, cs : ndarray of shape (T + 1, B, H)
        Out: ``hs[0] = h0``, ``hs[t + 1] = h_t``; likewise ``cs``.
    tcs : ndarray of shape (T, B, H)
        Out: ``tcs[t] = tanh(c_{t+1})``, kept for BPTT (the backward reads it
        instead of computing it again).
    xhs : ndarray of shape (T + 1, B, >= I + H)
        Out: ``xhs[t, b, :I + H] = [x_t, h_{t-1}]`` of every stream (the
        rows of step ``t``'s product, kept for the weight gradients;
        ``xhs[T]`` gets ``h_T`` only). A column ``I + H``, if there, gets
        1 at steps ``0 .. T - 1`` (the bias's row of the weight-gradient
        product; here rather than a strided NumPy write of every row before
        the scan); further columns are not touched.
    rec : ndarray of shape (B, 4H)
        Scratch: the pre-activations of one step.
    r0, r1 : int
        The streams (rows) to run.

    Notes
    -----
    One product per step, ``[x_t, h_{t-1}] [W_ih^T; W_hh^T] + b``: the input
    half rides along with the recurrent one instead of being a (T, B, 4H)
    array written before the scan and read back (10-25 % faster, measured).
    All four gates go through a sigmoid, the cell gate as ``tanh(x) =
    2 sigmoid(2 x) - 1`` (absolute error below 1e-16), and ``c_t``,
    ``tanh(c_t)`` and ``h_t`` follow in the same pass over each stream's
    units (:func:`~._cellrows.lstm_step_rows`, vector code written out: as
    three loops per step, LLVM ran the units of small ``H`` one at a time;
    float32 with a shorter exp than the scalar functions', within 4.3 ulp).
    """
    T = x.shape[0]
    n_i = x.shape[2]
    n_ih = n_i + hs.shape[2]
    ones = xhs.shape[2] > n_ih
    # ring buffers: a forward pass that no backward follows passes gates and
    # tcs of one step and cs and xhs of two (indices modulo their length),
    # instead of T of each it would write and never read again
    n_g, n_c, n_x = gates.shape[0], cs.shape[0], xhs.shape[0]
    copy2d(h0[r0:r1], hs[0, r0:r1])
    copy2d(c0[r0:r1], cs[0, r0:r1])
    put_columns(h0, xhs[0], n_i, r0, r1)
    for t in range(T):
        xh = xhs[t % n_x]
        put_columns(x[t], xh, 0, r0, r1)
        if ones:
            for b in range(r0, r1):
                xh[b, n_ih] = 1.0
        g_t = gates[t % n_g]
        tc = tcs[t % n_g]
        panel_matmul(xh, wp, bias, rec, r0, r1)
        lstm_step_rows(
            rec, g_t, cs[t % n_c], cs[(t + 1) % n_c], tc, hs[t + 1],
            xhs[(t + 1) % n_x], n_i, r0, r1,
        )


@jit
def lstm_backward(
    gates, cs, tcs, dhs, dh_last, dc_last, wp_hh, dh0, dc0, dh_sq, zeros, dcs, r0, r1
):
    """Backpropagate through one LSTM layer over T steps, streams ``r0 .. r1-1``.

    Parameters
    ----------
    gates : ndarray of shape (T, B, 4H)
        In: the activated gates from :func:`lstm_forward`. Out: the gradient
        with respect to the gate pre-activations (in place: each element is
        read before it is written).
    cs : ndarray of shape (T + 1, B, H)
        Cell states from :func:`lstm_forward`.
    tcs : ndarray of shape (T, B, H)
        ``tanh(c_{t+1})`` from :func:`lstm_forward`.
    dhs : ndarray of shape (T, B, H)
        Upstream gradient of the loss with respect to ``h_1 .. h_T``.
    dh_last, dc_last : ndarray of shape (B, H)
        Upstream gradient with respect to the final state ``(h_T, c_T)``.
    wp_hh : ndarray of shape (P, 4H, NR)
        ``W_hh`` (4H, H) in torch's layout, packed by ``pack_panels``.
    dh0, dc0 : ndarray of shape (B, H)
        Out: gradient with respect to the initial state. ``dh0`` also serves
        as the running ``dL/dh_{t-1}`` during the scan.
    dh_sq : float64 ndarray of shape (T, B)
        Out: ``||dL/dh_t||^2`` of every stream at every step (the total
        gradient reaching ``h_t``: from the head and from step ``t + 1``); the
        caller sums over streams for the vanishing/exploding-gradient
        diagnostic (a fixed order, whatever the row split).
    zeros : ndarray of shape (B, H)
        Zeros (``h0`` has no upstream gradient of its own).
    dcs : ndarray of shape (T, B, H) or (0, B, H)
        Upstream gradient with respect to ``c_1 .. c_T`` (an encoder whose
        state at every step starts a decoder); empty: none.
    r0, r1 : int
        The streams (rows) to run.

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
    T = gates.shape[0]
    H = gates.shape[2] // 4
    dh = dh0  # the total dL/dh_t of the step being processed
    dc = dc0
    dh_up = dhs[T - 1]
    for b in range(r0, r1):
        for j in range(H):
            dh[b, j] = dh_last[b, j] + dh_up[b, j]
    copy2d(dc_last[r0:r1], dc[r0:r1])
    # Declared mirror: the loop nest of gru_backward's scan; the maths differ.
    inject = dcs.shape[0] > 0
    for t in range(T - 1, -1, -1):
        d_t = gates[t]
        if inject:
            for b in range(r0, r1):
                for j in range(H):
                    dc[b, j] += dcs[t, b, j]
        lstm_cell_back_2d(d_t, cs[t], tcs[t], dh, dc, dh_sq[t], r0, r1)
        # dL/dh_{t-1} = (upstream at t-1) + dA_t W_hh
        panel_matmul(d_t, wp_hh, dhs[t - 1] if t > 0 else zeros, dh, r0, r1)
