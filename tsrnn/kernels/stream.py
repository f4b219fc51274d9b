"""Step-by-step inference through a whole network: streaming, decoding, gaps.

What this serves is inherently sequential and small: advancing a fitted
forecaster's state over a few new readings (``update``), recursive multi-step
forecasts that feed each prediction back as the next input, and stepping
through gaps on the model's own estimates. The batched scans in
``rnn.py``/``lstm.py``/... stay the path for training and for long windows.

Weights arrive pre-packed (see ``tsrnn._inference.InferencePack``): per layer
``W_ih^T`` ``(I_l, G)``, ``W_hh^T`` ``(H, G)`` and biases, then the head's
``W^T`` ``(F, O)`` and bias, all in one flat vector, so each product is an
outer loop over the input and a vectorized inner loop over the outputs.

There is one driver per cell (``stream_rnn_tanh``, ``stream_lstm``, ...) over
shared helpers, rather than one driver with a cell switch: a switch compiles
every cell's code for every user (about 4 s of cold compile, measured), a
driver per cell compiles only the cell in use.
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
def _input(x_sb, fb_cols, last_out_b, ibuf):
    """Copy one step's inputs, filling missing feedback columns from the outputs."""
    for i in range(x_sb.shape[0]):
        ibuf[i] = x_sb[i]
    for k in range(fb_cols.shape[0]):
        col = fb_cols[k, 0]
        if ibuf[col] != ibuf[col]:
            ibuf[col] = last_out_b[fb_cols[k, 1]]


@jit
def _project(pack, offs_l, n_i, G, inp, g, with_bias):
    """``g = inp @ W_ih^T (+ b)`` for one layer."""
    o_bi = offs_l[2]
    zero = pack.dtype.type(0.0)
    for j in range(G):
        g[j] = pack[o_bi + j] if (with_bias and o_bi >= 0) else zero
    _matvec_t(inp, pack, offs_l[0], n_i, G, g)


@jit
def _head(lbuf, extra_sb, pack, head_w, head_b, out_sb, last_out_b, top_b, z):
    """Head outputs of one step from the top layer's output and the extras."""
    H = lbuf.shape[0]
    E = extra_sb.shape[0]
    O = out_sb.shape[0]
    for j in range(H):
        z[j] = lbuf[j]
        top_b[j] = lbuf[j]
    for e in range(E):
        z[H + e] = extra_sb[e]
    for o in range(O):
        out_sb[o] = pack[head_b + o]
    _matvec_t(z, pack, head_w, H + E, O, out_sb)
    for o in range(O):
        last_out_b[o] = out_sb[o]


def _driver_doc(cell):
    return f"""Advance a unidirectional {cell} network over S steps, one step at a time.

    Parameters
    ----------
    pack : ndarray of shape (n_pack,)
        Packed inference weights.
    offs : int64 ndarray of shape (L, 4)
        Per layer: starts of ``W_ih^T``, ``W_hh^T``, input bias, hidden bias
        in ``pack`` (SRU: ``W^T``, unused, ``v``, ``bias``; -1 = absent).
    in_sizes : int64 ndarray of shape (L, 2)
        Per layer: input size ``I_l`` and gate width ``G``.
    alpha : float
        SRU skip scale (I == H layers); unused by other cells.
    state : ndarray of shape (n_states, L, B, H)
        In/out: the carried state (``h``; LSTM ``h, c``; SRU ``c``).
    x : ndarray of shape (S, B, I)
        Inputs. NaN in the columns listed in ``fb_cols`` means "not observed":
        the network's own previous one-step output is used instead.
    extra : ndarray of shape (S, B, E)
        Extra head features per step (E may be 0).
    fb_cols : int64 ndarray of shape (n_fb, 2)
        Pairs (input column, output column) for that feedback.
    head_w, head_b : int
        Starts of the head's ``W^T`` ``(H + E, O)`` and bias in ``pack``.
    last_out : ndarray of shape (B, O)
        In/out: the previous step's outputs (for the first step's feedback).
    out : ndarray of shape (S, B, O)
        Out: head outputs at every step.
    top : ndarray of shape (B, H)
        Out: the top layer's output at the last step.
    ibuf, lbuf, g, hp, z, act, tmp : ndarray
        Scratch of sizes ``I``, ``H``, ``G_max``, ``G_max``, ``H + E``,
        ``G_max``, ``G_max``.
    """


@jit
def _rnn_stream(relu, pack, offs, in_sizes, state, x, extra, fb_cols, head_w,
                head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    S, B, _ = x.shape
    L = offs.shape[0]
    H = lbuf.shape[0]
    zero = pack.dtype.type(0.0)
    for s in range(S):
        for b in range(B):
            _input(x[s, b], fb_cols, last_out[b], ibuf)
            for layer in range(L):
                G = in_sizes[layer, 1]
                inp = ibuf if layer == 0 else lbuf
                _project(pack, offs[layer], in_sizes[layer, 0], G, inp, g, True)
                if offs[layer, 3] >= 0:
                    for j in range(G):
                        g[j] += pack[offs[layer, 3] + j]
                h_row = state[0, layer, b]
                _matvec_t(h_row, pack, offs[layer, 1], H, G, g)
                if relu:
                    for j in range(H):
                        h_row[j] = zero if g[j] <= zero else g[j]
                else:
                    tanh_of(g[:H], h_row)
                for j in range(H):
                    lbuf[j] = h_row[j]
            _head(lbuf, extra[s, b], pack, head_w, head_b, out[s, b], last_out[b], top[b], z)


@jit
def stream_rnn_tanh(pack, offs, in_sizes, alpha, state, x, extra, fb_cols, head_w,
                    head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    _rnn_stream(False, pack, offs, in_sizes, state, x, extra, fb_cols, head_w, head_b,
                last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp)


@jit
def stream_rnn_relu(pack, offs, in_sizes, alpha, state, x, extra, fb_cols, head_w,
                    head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    _rnn_stream(True, pack, offs, in_sizes, state, x, extra, fb_cols, head_w, head_b,
                last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp)


@jit
def stream_lstm(pack, offs, in_sizes, alpha, state, x, extra, fb_cols, head_w,
                head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    S, B, _ = x.shape
    L = offs.shape[0]
    H = lbuf.shape[0]
    for s in range(S):
        for b in range(B):
            _input(x[s, b], fb_cols, last_out[b], ibuf)
            for layer in range(L):
                G = in_sizes[layer, 1]
                inp = ibuf if layer == 0 else lbuf
                _project(pack, offs[layer], in_sizes[layer, 0], G, inp, g, True)
                if offs[layer, 3] >= 0:
                    for j in range(G):
                        g[j] += pack[offs[layer, 3] + j]
                h_row = state[0, layer, b]
                c_row = state[1, layer, b]
                _matvec_t(h_row, pack, offs[layer, 1], H, G, g)
                sigmoid_of(g[: 2 * H], act[: 2 * H])  # i, f
                tanh_of(g[2 * H : 3 * H], act[2 * H : 3 * H])  # g
                sigmoid_of(g[3 * H :], act[3 * H :])  # o
                for j in range(H):
                    c_row[j] = act[H + j] * c_row[j] + act[j] * act[2 * H + j]
                tanh_of(c_row, tmp[:H])
                for j in range(H):
                    h_row[j] = act[3 * H + j] * tmp[j]
                    lbuf[j] = h_row[j]
            _head(lbuf, extra[s, b], pack, head_w, head_b, out[s, b], last_out[b], top[b], z)


@jit
def stream_gru(pack, offs, in_sizes, alpha, state, x, extra, fb_cols, head_w,
               head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    S, B, _ = x.shape
    L = offs.shape[0]
    H = lbuf.shape[0]
    one = pack.dtype.type(1.0)
    zero = pack.dtype.type(0.0)
    for s in range(S):
        for b in range(B):
            _input(x[s, b], fb_cols, last_out[b], ibuf)
            for layer in range(L):
                G = in_sizes[layer, 1]
                inp = ibuf if layer == 0 else lbuf
                _project(pack, offs[layer], in_sizes[layer, 0], G, inp, g, True)
                o_bh = offs[layer, 3]
                for j in range(G):
                    hp[j] = pack[o_bh + j] if o_bh >= 0 else zero
                h_row = state[0, layer, b]
                _matvec_t(h_row, pack, offs[layer, 1], H, G, hp)
                sigmoid_of_sum(g[: 2 * H], hp[: 2 * H], act[: 2 * H])  # r, z
                for j in range(H):
                    tmp[j] = g[2 * H + j] + act[j] * hp[2 * H + j]
                tanh_of(tmp[:H], act[2 * H : 3 * H])  # n
                for j in range(H):
                    zg = act[H + j]
                    h_row[j] = (one - zg) * act[2 * H + j] + zg * h_row[j]
                    lbuf[j] = h_row[j]
            _head(lbuf, extra[s, b], pack, head_w, head_b, out[s, b], last_out[b], top[b], z)


@jit
def stream_sru(pack, offs, in_sizes, alpha, state, x, extra, fb_cols, head_w,
               head_b, last_out, out, top, ibuf, lbuf, g, hp, z, act, tmp):
    S, B, _ = x.shape
    L = offs.shape[0]
    H = lbuf.shape[0]
    one = pack.dtype.type(1.0)
    al = pack.dtype.type(alpha)
    for s in range(S):
        for b in range(B):
            _input(x[s, b], fb_cols, last_out[b], ibuf)
            for layer in range(L):
                G = in_sizes[layer, 1]
                inp = ibuf if layer == 0 else lbuf
                _project(pack, offs[layer], in_sizes[layer, 0], G, inp, g, False)
                o_v = offs[layer, 2]
                o_b = offs[layer, 3]
                for j in range(H):
                    c = state[0, layer, b, j]
                    tmp[j] = g[H + j] + pack[o_v + j] * c + pack[o_b + j]
                    tmp[H + j] = g[2 * H + j] + pack[o_v + H + j] * c + pack[o_b + H + j]
                sigmoid_of(tmp[: 2 * H], act[: 2 * H])
                for j in range(H):
                    f = act[j]
                    r = act[H + j]
                    c = f * state[0, layer, b, j] + (one - f) * g[j]
                    sk = g[3 * H + j] if G == 4 * H else al * inp[j]
                    state[0, layer, b, j] = c
                    hp[j] = r * c + (one - r) * sk
                for j in range(H):
                    lbuf[j] = hp[j]
            _head(lbuf, extra[s, b], pack, head_w, head_b, out[s, b], last_out[b], top[b], z)


for _f, _name in ((stream_rnn_tanh, "tanh RNN"), (stream_rnn_relu, "relu RNN"),
                  (stream_lstm, "LSTM"), (stream_gru, "GRU"), (stream_sru, "SRU")):
    _f.__doc__ = _driver_doc(_name)

STREAMS = {
    RNN_TANH: stream_rnn_tanh,
    RNN_RELU: stream_rnn_relu,
    LSTM: stream_lstm,
    GRU: stream_gru,
    SRU: stream_sru,
}
