"""Slow, line-by-line NumPy references for the recurrent cells (STUMPY's pattern).

Every function here is a direct transcription of the equations in docs/MATH.md,
one time step and one sequence of the batch at a time, with ``np.tanh`` and
``np.exp``. Nothing from ``tsrnn`` is imported: these are the independent
references the kernels are tested against. Readability over speed.

Conventions: ``x`` is time-major ``(T, B, I)``; weights use torch's layout
(``w_ih`` is ``(G*H, I)``), so one step of one sequence is ``w_ih @ x_t``.
Every single-layer function returns the states ``(T + 1, B, H)`` with the
initial state in row 0. ``delta`` (optional, ``(T, B, H)``) is added to the
recurrent state right after step ``t`` computes it (``h_t`` for RNN/LSTM/GRU,
``c_t`` for SRU), before anything uses it: the derivative of a loss with
respect to ``delta[t]`` is the total ``dL/dh_t`` (``dL/dc_t`` for SRU) that
the kernels report as ``dh_norm``.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def _zeros_if_none(b, n):
    return np.zeros(n) if b is None else b


def _delta(delta, t, b, H):
    return np.zeros(H) if delta is None else delta[t, b]


def rnn_forward(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", delta=None):
    """Elman RNN: ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``."""
    T, B, _ = x.shape
    H = w_hh.shape[0]
    b_ih, b_hh = _zeros_if_none(b_ih, H), _zeros_if_none(b_hh, H)
    phi = np.tanh if nonlinearity == "tanh" else relu
    hs = np.zeros((T + 1, B, H))
    for b in range(B):
        h = h0[b].copy()
        hs[0, b] = h
        for t in range(T):
            h = phi(w_ih @ x[t, b] + b_ih + w_hh @ h + b_hh)
            h = h + _delta(delta, t, b, H)
            hs[t + 1, b] = h
    return hs


def lstm_forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, delta=None):
    """LSTM, gates (i, f, g, o); returns ``hs, cs``."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    b_ih, b_hh = _zeros_if_none(b_ih, 4 * H), _zeros_if_none(b_hh, 4 * H)
    hs = np.zeros((T + 1, B, H))
    cs = np.zeros((T + 1, B, H))
    for b in range(B):
        h, c = h0[b].copy(), c0[b].copy()
        hs[0, b], cs[0, b] = h, c
        for t in range(T):
            a_i, a_f, a_g, a_o = np.split(w_ih @ x[t, b] + b_ih + w_hh @ h + b_hh, 4)
            i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
            c = f * c + i * g
            h = o * np.tanh(c)
            h = h + _delta(delta, t, b, H)
            hs[t + 1, b], cs[t + 1, b] = h, c
    return hs, cs


def gru_forward(x, w_ih, w_hh, b_ih, b_hh, h0, delta=None):
    """GRU, gates (r, z, n), reset applied after the hidden matmul (torch form)."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    b_ih, b_hh = _zeros_if_none(b_ih, 3 * H), _zeros_if_none(b_hh, 3 * H)
    w_ir, w_iz, w_in = np.split(w_ih, 3)
    w_hr, w_hz, w_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    hs = np.zeros((T + 1, B, H))
    for b in range(B):
        h = h0[b].copy()
        hs[0, b] = h
        for t in range(T):
            x_t = x[t, b]
            r = sigmoid(w_ir @ x_t + b_ir + w_hr @ h + b_hr)
            z = sigmoid(w_iz @ x_t + b_iz + w_hz @ h + b_hz)
            n = np.tanh(w_in @ x_t + b_in + r * (w_hn @ h + b_hn))
            h = (1.0 - z) * n + z * h
            h = h + _delta(delta, t, b, H)
            hs[t + 1, b] = h
    return hs


def sru_forward(x, w_ih, weight_c, bias, c0, highway_bias=0.0, delta=None):
    """SRU (Lei et al. 2018); returns ``hs, cs`` (``hs[0]`` is unused, zero).

    ``w_ih`` is ``(k H, I)`` with blocks ``x~, f, r`` and, when ``k == 4``
    (``I != H``), the skip projection ``s``; with ``k == 3`` (``I == H``) the
    skip is ``alpha x_t``, ``alpha = sqrt(1 + 2 exp(highway_bias))``.
    """
    T, B, I = x.shape  # noqa: E741
    H = weight_c.shape[0] // 2
    k = w_ih.shape[0] // H
    assert k in (3, 4) and (k == 3) == (I == H)
    alpha = np.sqrt(1.0 + 2.0 * np.exp(highway_bias))
    v_f, v_r = np.split(weight_c, 2)
    b_f, b_r = np.split(bias, 2)
    hs = np.zeros((T + 1, B, H))
    cs = np.zeros((T + 1, B, H))
    for b in range(B):
        c = c0[b].copy()
        cs[0, b] = c
        for t in range(T):
            blocks = np.split(w_ih @ x[t, b], k)
            x_tilde, u_f, u_r = blocks[0], blocks[1], blocks[2]
            s = blocks[3] if k == 4 else alpha * x[t, b]
            f = sigmoid(u_f + v_f * c + b_f)
            r = sigmoid(u_r + v_r * c + b_r)
            c = f * c + (1.0 - f) * x_tilde
            c = c + _delta(delta, t, b, H)
            h = r * c + (1.0 - r) * s
            hs[t + 1, b], cs[t + 1, b] = h, c
    return hs, cs


def n_states(cell):
    return 2 if cell == "lstm" else 1


def layer_forward(cell, p, suffix, x, s0, nonlinearity="tanh", delta=None):
    """One layer and direction from torch-named params ``p``.

    ``s0`` is ``(n_states, B, H)``. Returns the outputs ``(T, B, H)`` and the
    final state ``(n_states, B, H)``.
    """
    if cell == "sru":
        hs, cs = sru_forward(
            x,
            p["weight_ih" + suffix],
            p["weight_c" + suffix],
            p["bias" + suffix],
            s0[0],
            delta=delta,
        )
        return hs[1:], cs[-1][None]
    args = (
        x,
        p["weight_ih" + suffix],
        p["weight_hh" + suffix],
        p.get("bias_ih" + suffix),
        p.get("bias_hh" + suffix),
    )
    if cell == "lstm":
        hs, cs = lstm_forward(*args, s0[0], s0[1], delta=delta)
        return hs[1:], np.stack([hs[-1], cs[-1]])
    if cell == "gru":
        hs = gru_forward(*args, s0[0], delta=delta)
    else:
        hs = rnn_forward(*args, s0[0], nonlinearity=nonlinearity, delta=delta)
    return hs[1:], hs[-1][None]


def stack_forward(
    cell,
    p,
    x,
    state0,
    num_layers,
    bidirectional,
    nonlinearity="tanh",
    masks=None,
    deltas=None,
):
    """Stacked, optionally bidirectional layers, the torch way.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru", "sru"}
    p : dict of torch name -> array (``weight_ih_l0``, ``..._reverse``, ...)
    x : (T, B, I)
    state0 : (n_states, L * D, B, H); row 0 is ``h`` (``c`` for SRU), row 1
        is ``c`` for LSTM; index ``layer * D + direction`` as in torch.
    masks : list of (T, B, D * H) multipliers applied to every layer's output
        but the last (dropout with a given mask), optional.
    deltas : dict ``(layer, direction) -> (T, B, H)`` perturbations, optional
        (in forward time order for both directions).

    Returns
    -------
    out : (T, B, D * H), state : (n_states, L * D, B, H)
    """
    D = 2 if bidirectional else 1
    state = np.zeros_like(state0, dtype=np.float64)
    inp = np.asarray(x, dtype=np.float64)
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            idx = layer * D + d
            suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
            delta = None if deltas is None else deltas.get((layer, d))
            if d == 0:
                o, s = layer_forward(
                    cell, p, suffix, inp, state0[:, idx], nonlinearity, delta
                )
            else:  # the reverse direction reads the sequence backwards
                o, s = layer_forward(
                    cell,
                    p,
                    suffix,
                    inp[::-1],
                    state0[:, idx],
                    nonlinearity,
                    None if delta is None else delta[::-1],
                )
                o = o[::-1]
            outs.append(o)
            state[:, idx] = s
        inp = np.concatenate(outs, axis=2)
        if masks is not None and layer < num_layers - 1:
            inp = inp * masks[layer]
    return inp, state
