"""Step-by-step inference through a whole network: streaming, decoding, gaps.

One kernel for every cell, because what it serves is inherently sequential and
small: advancing a fitted forecaster's state over a few new readings
(``update``), recursive multi-step forecasts that feed each prediction back as
the next input, and stepping through gaps on the model's own estimates. The
batched scans in ``rnn.py``/``lstm.py``/... stay the path for training and for
long windows.

Weights arrive pre-packed (see ``tsrnn._inference.InferencePack``): per layer
``W_ih^T`` ``(I_l, G)``, ``W_hh^T`` ``(H, G)`` and biases, then the head's
``W^T`` ``(F, O)`` and bias, all in one flat vector, so each product is an
outer-loop over the input and a vectorized inner loop over the outputs.

Cell codes: 0 rnn-tanh, 1 rnn-relu, 2 lstm, 3 gru, 4 sru.
"""

from __future__ import annotations

from .._jit import jit
from ._activations import sigmoid_of, sigmoid_of_sum, tanh_of

RNN_TANH, RNN_RELU, LSTM, GRU, SRU = 0, 1, 2, 3, 4


@jit
def _matvec_t(v, pack, start, n_in, n_out, acc):
    """``acc[:n_out] += v[:n_in] @ W`` with ``W = pack[start:].reshape(n_in, n_out)``."""
    for i in range(n_in):
        vi = v[i]
        row = pack[start + i * n_out : start + (i + 1) * n_out]  # a view: j >= 0 is
        for j in range(n_out):  # known, so the loop vectorizes
            acc[j] += vi * row[j]


@jit
def stream(
    cell,
    pack,
    offs,
    in_sizes,
    hidden,
    alpha,
    state,
    x,
    extra,
    fb_cols,
    head_w,
    head_b,
    last_out,
    out,
    top,
    ibuf,
    lbuf,
    g,
    hp,
    z,
    act,
    tmp,
):
    """Advance a unidirectional network over S steps, one step at a time.

    Parameters
    ----------
    cell : int
        Cell code (module constants).
    pack : ndarray of shape (n_pack,)
        Packed inference weights.
    offs : int64 ndarray of shape (L, 4)
        Per layer: starts of ``W_ih^T``, ``W_hh^T``, input bias, hidden bias
        in ``pack`` (SRU: ``W^T``, unused, ``v``, ``bias``).
    in_sizes : int64 ndarray of shape (L, 2)
        Per layer: input size ``I_l`` and gate width ``G``.
    hidden : int
    alpha : float
        SRU skip scale (I == H layers).
    state : ndarray of shape (n_states, L, B, H)
        In/out: the carried state (``h``; LSTM ``h, c``; SRU ``c``).
    x : ndarray of shape (S, B, I)
        Inputs. NaN in the columns listed in ``fb_cols`` means "not observed":
        the network's own previous one-step output is used instead.
    extra : ndarray of shape (S, B, E)
        Extra head features per step (E may be 0).
    fb_cols : int64 ndarray of shape (n_fb, 2)
        Pairs (input column, output column): where a missing input is filled
        from the previous output.
    head_w : int
        Start of the head's ``W^T`` ``(H + E, O)`` in ``pack``.
    head_b : int
        Start of the head's bias ``(O,)``.
    last_out : ndarray of shape (B, O)
        In/out: the previous step's outputs (for the first step's feedback).
    out : ndarray of shape (S, B, O)
        Out: head outputs at every step.
    top : ndarray of shape (B, H)
        Out: the top layer's output at the last step (the head's recurrent
        input; for SRU it is not part of the carried state).
    ibuf, lbuf, g, hp, z, act, tmp : ndarray
        Scratch of sizes ``I``, ``H``, ``G_max``, ``G_max``, ``H + E``,
        ``G_max``, ``G_max``.
    """
    S, B, n_in = x.shape
    L = offs.shape[0]
    H = hidden
    E = extra.shape[2]
    O = out.shape[2]
    one = pack.dtype.type(1.0)
    zero = pack.dtype.type(0.0)
    al = pack.dtype.type(alpha)
    for s in range(S):
        for b in range(B):
            for i in range(n_in):
                ibuf[i] = x[s, b, i]
            for k in range(fb_cols.shape[0]):
                col = fb_cols[k, 0]
                if ibuf[col] != ibuf[col]:
                    ibuf[col] = last_out[b, fb_cols[k, 1]]
            for layer in range(L):
                n_i = in_sizes[layer, 0]
                G = in_sizes[layer, 1]
                o_wi = offs[layer, 0]
                o_wh = offs[layer, 1]
                o_bi = offs[layer, 2]
                o_bh = offs[layer, 3]
                inp = ibuf if layer == 0 else lbuf
                has_bias = o_bi >= 0 and cell != SRU
                for j in range(G):
                    g[j] = pack[o_bi + j] if has_bias else zero
                _matvec_t(inp, pack, o_wi, n_i, G, g)
                if cell == SRU:
                    for j in range(H):
                        c = state[0, layer, b, j]
                        tmp[j] = g[H + j] + pack[o_bi + j] * c + pack[o_bh + j]
                        tmp[H + j] = (
                            g[2 * H + j] + pack[o_bi + H + j] * c + pack[o_bh + H + j]
                        )
                    sigmoid_of(tmp[: 2 * H], act[: 2 * H])
                    for j in range(H):
                        f = act[j]
                        r = act[H + j]
                        c = f * state[0, layer, b, j] + (one - f) * g[j]
                        sk = g[3 * H + j] if G == 4 * H else al * inp[j]
                        state[0, layer, b, j] = c
                        lbuf[j] = r * c + (one - r) * sk
                    continue
                h_row = state[0, layer, b]
                if cell == GRU:
                    for j in range(G):
                        hp[j] = pack[o_bh + j] if o_bh >= 0 else zero
                    _matvec_t(h_row, pack, o_wh, H, G, hp)
                    sigmoid_of_sum(g[: 2 * H], hp[: 2 * H], act[: 2 * H])  # r, z
                    for j in range(H):
                        tmp[j] = g[2 * H + j] + act[j] * hp[2 * H + j]
                    tanh_of(tmp[:H], act[2 * H : 3 * H])  # n
                    for j in range(H):
                        zg = act[H + j]
                        h_row[j] = (one - zg) * act[2 * H + j] + zg * h_row[j]
                elif cell == LSTM:
                    if o_bh >= 0:
                        for j in range(G):
                            g[j] += pack[o_bh + j]
                    _matvec_t(h_row, pack, o_wh, H, G, g)
                    sigmoid_of(g[: 2 * H], act[: 2 * H])  # i, f
                    tanh_of(g[2 * H : 3 * H], act[2 * H : 3 * H])  # g
                    sigmoid_of(g[3 * H :], act[3 * H :])  # o
                    c_row = state[1, layer, b]
                    for j in range(H):
                        c_row[j] = act[H + j] * c_row[j] + act[j] * act[2 * H + j]
                    tanh_of(c_row, tmp[:H])
                    for j in range(H):
                        h_row[j] = act[3 * H + j] * tmp[j]
                else:
                    if o_bh >= 0:
                        for j in range(G):
                            g[j] += pack[o_bh + j]
                    _matvec_t(h_row, pack, o_wh, H, G, g)
                    if cell == RNN_RELU:
                        for j in range(H):
                            h_row[j] = zero if g[j] <= zero else g[j]
                    else:
                        tanh_of(g[:H], h_row)
                for j in range(H):
                    lbuf[j] = state[0, layer, b, j]
            for j in range(H):
                z[j] = lbuf[j]
                top[b, j] = lbuf[j]
            for e in range(E):
                z[H + e] = extra[s, b, e]
            for o in range(O):
                out[s, b, o] = pack[head_b + o]
            _matvec_t(z, pack, head_w, H + E, O, out[s, b])
            for o in range(O):
                last_out[b, o] = out[s, b, o]
