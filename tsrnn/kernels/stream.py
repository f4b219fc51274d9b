"""Step-by-step inference through a whole network: streaming, decoding, gaps.

What this serves is inherently sequential and small: advancing a fitted
forecaster's state over a few new readings (``update``), recursive multi-step
forecasts that feed each prediction back as the next input, and stepping
through gaps on the model's own estimates. The batched scans in
``rnn.py``/``lstm.py``/... stay the path for training and for long windows.

Weights arrive pre-packed (see ``tsrnn.engine.inference.InferencePack``) in one flat
vector: per layer ``W_ih^T`` and ``W_hh^T`` as column panels (the layout of
:func:`~tsrnn.kernels._linalg.pack_panels`) and the biases, then the head's
``W`` rows (torch's layout) and bias. Every recurrent product is
:func:`~tsrnn.kernels._linalg.panel_matmul` on one row, whose accumulators
stay in registers; the head's few outputs are dot products
(:func:`~tsrnn.kernels._linalg.dense_rows`: one panel would be a single
latency-bound chain of FMAs), and every activation goes through the same
row helpers as the batched scans (one compiled helper serves both).

A streaming step is dominated by the cost of calling into Numba, which grows
with the number of arguments (about 20 ns each, measured), so a driver takes
six: the weights, one int64 vector ``meta`` of offsets, sizes and the feedback
columns, the state, the inputs, the head's extras and the outputs. Its
scratch is on its own stack (:func:`~tsrnn.kernels._linalg.scratch`: nothing
for Python to allocate or look up per call, nothing shared between threads);
views into it and into ``pack`` are made with
:func:`~tsrnn.kernels._linalg.view` (Numba's ``reshape`` costs compile time
for its error messages). The previous step's outputs, which the feedback
reads, are the previous row of ``out``; the top layer's output, when asked
for, goes into ``out``'s columns after the head's.

There is one driver per cell (``stream_rnn_tanh``, ``stream_lstm``, ...) over
shared helpers, rather than one driver with a cell switch: a switch compiles
every cell's code for every user (about 4 s of cold compile, measured), a
driver per cell compiles only the cell in use.

``meta`` layout (int64)::

    0 L   1 H   2 NR (panel width)   3 I   4 E (head extras)   5 O   6 G_max
    7 head W (O, H + E) rows   8 H + E   9 head bias
    10 k: 1 if ``out[0]`` holds the outputs of the step before ``x[0]``, 0 if
          there are none (the feedback then reads zeros)
    11 + 8 l: layer l's  n_in, G, W_ih^T panels, panel count, W_hh^T panels
               (-1: none), bias 1, bias 2 (-1: none), aux (-1: none)
    11 + 8 L: n_fb, n_col (2 or 3), then the feedback columns' rows
              (input column, output column[, link]), n_fb x n_col

Bias 1 (G) is ``b_ih + b_hh`` for RNN and LSTM, ``b_ih`` for GRU, zeros for SRU
(whose projection has none); bias 2 is GRU's ``b_hh`` (G) and SRU's
``(b_f, b_r)``; without biases they are zeros (one compiled specialization).
Aux is LSTM's gate scales ``(1, 1, 2, 1)`` per block, or SRU's ``(v_f, v_r)``
followed by its skip scale. The scratch holds, in order: the input (I), the
layer output (H), the gates (G_max), GRU's hidden gates (G_max), the
activations (G_max), the head's features (H + E) and a row of H.
"""

from __future__ import annotations

import numpy as np

from ._activations import (
    sigmoid_of,
    sigmoid_of_scaled_2d,
    sigmoid_of_sum,
    tanh_2d,
    tanh_of,
)
from ._jit import jit
from ._linalg import dense_rows, matmul_rows, release_scratch, scratch, view

META_HEAD = 11
META_ROW = 8

# The drivers are compiled without Numba's reference-counted runtime (NRT):
# they allocate no array (their scratch is on their stack), so NRT only cost
# time.
# With it, each array argument was unboxed into a new MemInfo (a malloc and a
# free per argument and call) and every view or row slice inside the step
# loop was an atomic incref/decref pair (76 call sites in the LSTM driver).
# Without it (measured, float32 LSTM, one call, min of batches): 1.32 -> 0.57
# us at H = 16, 2.0 -> 1.2 us at H = 64; the same arithmetic, so the same
# results. A driver that allocated would now fail to compile, not leak. The
# helpers it calls (``panel_matmul``, the activations) keep the defaults and
# see arrays without a MemInfo, for which NRT's incref/decref do nothing.
_driver = jit(_nrt=False)

# The helpers below are inlined into each driver at Numba's level
# (inline="always"): compiled as separate functions they added about 0.4 s of
# cold compile for one driver, measured; only the driver in use is compiled.


@jit(inline="always")
def _step_in(x_sb, n_i, fb_cols, out, p, b, buf):
    """Copy one step's ``n_i`` inputs into ``buf``, filling missing feedback columns.

    From the previous step's outputs, ``out[p, b]``; zeros when ``p < 0``.
    A wider ``x`` never writes past the input's slot of the scratch (on the
    stack); checking every shape in the driver cost 0.05-0.13 s of cold
    compile, measured, so the caller's shapes are trusted otherwise.
    """
    for i in range(min(x_sb.shape[0], n_i)):
        buf[i] = x_sb[i]
    for k in range(fb_cols.shape[0]):
        col = fb_cols[k, 0]
        if buf[col] != buf[col]:
            if p >= 0:
                v = out[p, b, fb_cols[k, 1]]
            else:
                v = out.dtype.type(0.0)
            if fb_cols.shape[1] > 2 and fb_cols[k, 2] == 1:
                # a count head's mean: softplus of the output (distributions.py)
                v = max(v, 0.0) + np.log1p(np.exp(-abs(v))) + 1e-6
            buf[col] = v


@jit(inline="always")
def _gates(pack, meta, layer, inp, h, g, hp):
    """One layer's products: ``g = bias 1 + inp W_ih^T`` and ``g += h W_hh^T``.

    GRU keeps the hidden side apart, ``hp = b_hh + h W_hh^T``; SRU has no
    recurrent product.
    """
    row = META_HEAD + META_ROW * layer
    H = meta[1]
    nr = meta[2]
    n_in = meta[row]
    G = meta[row + 1]
    n_p = meta[row + 3]
    wp = view(pack, meta[row + 2], (n_p, n_in, nr))
    matmul_rows(inp, wp, view(pack, meta[row + 5], (1, G)), g)
    o_hh = meta[row + 4]
    if o_hh < 0:
        return
    wp = view(pack, o_hh, (n_p, H, nr))
    o_b2 = meta[row + 6]
    if o_b2 >= 0:
        matmul_rows(h, wp, view(pack, o_b2, (1, G)), hp)
    else:
        matmul_rows(h, wp, g, g)


@jit(inline="always")
def _head(pack, meta, lbuf, z, extra, out, s, b):
    """Head outputs of step ``s`` of stream ``b``, into ``out[s + meta[10], b]``.

    From the top layer's output (``lbuf``) and the step's extras; ``lbuf``
    also goes into the row's columns after the head's when ``out`` has them.
    """
    extra_sb = extra[s, b]
    out_sb = out[s + meta[10], b : b + 1]
    H = meta[1]
    E = meta[4]
    O = meta[5]
    for j in range(H):
        z[0, j] = lbuf[0, j]
    for e in range(E):
        z[0, H + e] = extra_sb[e]
    w = view(pack, meta[7], (O, meta[8]))
    dense_rows(z, w, view(pack, meta[9], (1, O)), out_sb, 0, 1)
    if out.shape[2] > O:  # the caller asked for the top layer's output
        for j in range(H):
            out_sb[0, O + j] = lbuf[0, j]


@jit(inline="always")
def _io_rows(meta, buf):
    """The input and layer-output rows in ``buf``, and the feedback columns."""
    n_i, H = meta[3], meta[1]
    f = META_HEAD + META_ROW * meta[0]
    fb_cols = view(meta, f + 2, (meta[f], meta[f + 1]))
    return view(buf, 0, (1, n_i)), view(buf, n_i, (1, H)), fb_cols


def _driver_doc(cell):
    return f"""Advance a unidirectional {cell} network over S steps, one step at a time.

    Parameters
    ----------
    pack : ndarray of shape (n_pack,)
        Packed inference weights.
    meta : int64 ndarray
        Offsets, sizes and the feedback columns (see the module docstring).
    state : ndarray of shape (n_states, L, B, H)
        In/out: the carried state (``h``; LSTM ``h, c``; SRU ``c``).
    x : ndarray of shape (S, B, I)
        Inputs. NaN in a feedback column (``meta``) means "not observed": the
        network's own previous one-step output is used instead (link 1 feeds
        back ``softplus(output) + 1e-6``, a count head's mean; 0 the output).
    extra : ndarray of shape (S, B, E)
        Extra head features per step (E may be 0: any array then).
    out : ndarray of shape (S + k, B, O) or (S + k, B, O + H)
        ``out[k + s]``: head outputs at step ``s`` (then the top layer's
        output, if the columns are there); with ``k = meta[10] = 1``,
        ``out[0]`` holds the outputs of the step before ``x[0]`` (read by the
        feedback), else the first step's feedback reads zeros.
    """


# Declared mirror: the drivers below share one signature (the streaming protocol),
# prologue and loop nest; each cell's maths inside the loop differ, and a shared
# driver would put a call or a branch inside the time loop.
@_driver
def _rnn_stream(relu, pack, meta, state, x, extra, out):
    S, B, _ = x.shape
    L, H, n_i, E, gm = meta[0], meta[1], meta[3], meta[4], meta[6]
    p0 = meta[10] - 1  # the row of out before step 0's (-1: none)
    zero = pack.dtype.type(0.0)
    buf = scratch(pack, n_i + 3 * H + E + 3 * gm)
    ibuf, lbuf, fb_cols = _io_rows(meta, buf)
    o_g = n_i + H
    z = view(buf, o_g + 3 * gm, (1, H + E))
    for s in range(S):
        for b in range(B):
            _step_in(x[s, b], n_i, fb_cols, out, s + p0, b, buf)
            for layer in range(L):
                g = view(buf, o_g, (1, meta[META_HEAD + META_ROW * layer + 1]))
                h_row = state[0, layer, b : b + 1]
                _gates(pack, meta, layer, ibuf if layer == 0 else lbuf, h_row, g, g)
                if relu:
                    for j in range(H):
                        h_row[0, j] = zero if g[0, j] <= zero else g[0, j]
                else:
                    tanh_2d(g, h_row)
                for j in range(H):
                    lbuf[0, j] = h_row[0, j]
            _head(pack, meta, lbuf, z, extra, out, s, b)
    release_scratch(buf)


@_driver
def stream_rnn_tanh(pack, meta, state, x, extra, out):
    _rnn_stream(False, pack, meta, state, x, extra, out)


@_driver
def stream_rnn_relu(pack, meta, state, x, extra, out):
    _rnn_stream(True, pack, meta, state, x, extra, out)


@_driver
def stream_lstm(pack, meta, state, x, extra, out):
    S, B, _ = x.shape
    L, H, n_i, E, gm = meta[0], meta[1], meta[3], meta[4], meta[6]
    one = pack.dtype.type(1.0)
    two = pack.dtype.type(2.0)
    G = 4 * H
    p0 = meta[10] - 1  # the row of out before step 0's (-1: none)
    buf = scratch(pack, n_i + 3 * H + E + 3 * gm)
    ibuf, lbuf, fb_cols = _io_rows(meta, buf)
    o_g = n_i + H
    g = view(buf, o_g, (1, G))
    act = view(buf, o_g + 2 * gm, (1, G))
    z = view(buf, o_g + 3 * gm, (1, H + E))
    tmp = view(buf, o_g + 3 * gm + H + E, (1, H))
    for s in range(S):
        for b in range(B):
            _step_in(x[s, b], n_i, fb_cols, out, s + p0, b, buf)
            for layer in range(L):
                h_row = state[0, layer, b : b + 1]
                c_row = state[1, layer, b : b + 1]
                _gates(pack, meta, layer, ibuf if layer == 0 else lbuf, h_row, g, g)
                # i, f, o = sigmoid; g = tanh = 2 sigmoid(2 x) - 1, as the scan
                scale = view(pack, meta[META_HEAD + META_ROW * layer + 7], (G,))
                sigmoid_of_scaled_2d(g, scale, act)
                a = act[0]
                c = c_row[0]
                for j in range(H):
                    c[j] = a[H + j] * c[j] + a[j] * (two * a[2 * H + j] - one)
                tanh_2d(c_row, tmp)
                for j in range(H):
                    h_row[0, j] = a[3 * H + j] * tmp[0, j]
                    lbuf[0, j] = h_row[0, j]
            _head(pack, meta, lbuf, z, extra, out, s, b)
    release_scratch(buf)


@_driver
def stream_gru(pack, meta, state, x, extra, out):
    S, B, _ = x.shape
    L, H, n_i, E, gm = meta[0], meta[1], meta[3], meta[4], meta[6]
    one = pack.dtype.type(1.0)
    G = 3 * H
    p0 = meta[10] - 1  # the row of out before step 0's (-1: none)
    buf = scratch(pack, n_i + 3 * H + E + 3 * gm)
    ibuf, lbuf, fb_cols = _io_rows(meta, buf)
    o_g = n_i + H
    g = view(buf, o_g, (1, G))
    hp = view(buf, o_g + gm, (1, G))
    act = view(buf, o_g + 2 * gm, (1, G))
    z = view(buf, o_g + 3 * gm, (1, H + E))
    tmp = view(buf, o_g + 3 * gm + H + E, (1, H))
    g0 = g[0]
    hp0 = hp[0]
    a = act[0]
    t0 = tmp[0]
    for s in range(S):
        for b in range(B):
            _step_in(x[s, b], n_i, fb_cols, out, s + p0, b, buf)
            for layer in range(L):
                h_row = state[0, layer, b : b + 1]
                _gates(pack, meta, layer, ibuf if layer == 0 else lbuf, h_row, g, hp)
                sigmoid_of_sum(g0[: 2 * H], hp0[: 2 * H], a[: 2 * H])  # r, z
                for j in range(H):
                    t0[j] = g0[2 * H + j] + a[j] * hp0[2 * H + j]
                tanh_of(t0, a[2 * H :])  # n
                h = h_row[0]
                for j in range(H):
                    zg = a[H + j]
                    h[j] = (one - zg) * a[2 * H + j] + zg * h[j]
                    lbuf[0, j] = h[j]
            _head(pack, meta, lbuf, z, extra, out, s, b)
    release_scratch(buf)


@_driver
def stream_sru(pack, meta, state, x, extra, out):
    S, B, _ = x.shape
    L, H, n_i, E, gm = meta[0], meta[1], meta[3], meta[4], meta[6]
    one = pack.dtype.type(1.0)
    p0 = meta[10] - 1  # the row of out before step 0's (-1: none)
    buf = scratch(pack, n_i + 3 * H + E + 3 * gm)
    ibuf, lbuf, fb_cols = _io_rows(meta, buf)
    o_g = n_i + H
    pre = view(buf, o_g + gm, (2 * H,))
    a = view(buf, o_g + 2 * gm, (2 * H,))
    z = view(buf, o_g + 3 * gm, (1, H + E))
    for s in range(S):
        for b in range(B):
            _step_in(x[s, b], n_i, fb_cols, out, s + p0, b, buf)
            for layer in range(L):
                row = META_HEAD + META_ROW * layer
                G = meta[row + 1]
                inp = ibuf if layer == 0 else lbuf
                g = view(buf, o_g, (1, G))
                _gates(pack, meta, layer, inp, inp, g, g)  # U_t (zero bias)
                g0 = g[0]
                o_b = meta[row + 6]
                o_v = meta[row + 7]
                al = pack[o_v + 2 * H]
                c_row = state[0, layer, b]
                for j in range(H):
                    c = c_row[j]
                    pre[j] = g0[H + j] + pack[o_v + j] * c + pack[o_b + j]
                    k = H + j
                    pre[k] = g0[H + k] + pack[o_v + k] * c + pack[o_b + k]
                sigmoid_of(pre, a)
                for j in range(H):
                    f = a[j]
                    r = a[H + j]
                    c = f * c_row[j] + (one - f) * g0[j]
                    sk = g0[3 * H + j] if G == 4 * H else al * inp[0, j]
                    c_row[j] = c
                    lbuf[0, j] = r * c + (one - r) * sk  # inp is read above first
            _head(pack, meta, lbuf, z, extra, out, s, b)
    release_scratch(buf)


for _f, _name in ((stream_rnn_tanh, "tanh RNN"), (stream_rnn_relu, "relu RNN"),
                  (stream_lstm, "LSTM"), (stream_gru, "GRU"), (stream_sru, "SRU")):
    _f.__doc__ = _driver_doc(_name)
