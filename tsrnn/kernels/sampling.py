"""Sample paths from likelihood heads: draws, and recursive generation.

A likelihood head outputs ``P`` raw parameters per target (the layout and the
links of :mod:`tsrnn.engine.distributions`: location as is, scales, rates and
means ``softplus(raw) + 1e-6``, Student-t degrees of freedom
``2 + 1e-6 + softplus(raw)``). :func:`draw_marginals` draws every entry of a
block of outputs; the ``sample_<cell>`` drivers generate paths recursively:
each step's draw is written into the next step's input and the network is
advanced on it, one step for every path at a time, then the next step's
outputs are drawn from. Every sampler runs every path of a step through one
register-blocked product per weight matrix (the weights read once per step,
not once per path: about twice the speed of stepping one path at a time
through the stream driver, :mod:`.stream`, at 64 units and 1000 paths), with
the stream driver's element maths (the same paths, bit for bit). Every loop
over steps and paths runs here, compiled.

Draws use Numba's generator (NumPy's legacy ``np.random`` functions are what
Numba compiles: no ``Generator`` inside a kernel), seeded once per call
(``seed``): the same seed
gives the same draws, bit for bit. ``temperature`` ``t`` scales each draw's
spread around the entry's mean: ``mean + t * (draw - mean)`` (for the
location-scale families the same as scaling the noise), ``t = 0`` the mean
itself without drawing (the greedy path).

Family codes: 0 normal, 1 Student t, 2 Poisson, 3 negative binomial (mean
``m``, dispersion ``a``: variance ``m + a m^2``, drawn as a gamma-Poisson
mixture with shape ``1/a`` and scale ``m a``), 4 a quantile head (its outputs
sorted, read at a uniform level by linear interpolation between the levels
and the outer segments' lines beyond them; its "mean" is the level 0.5).
"""

from __future__ import annotations

import numpy as np

from ._activations import (
    lstm_cell_2d,
    lstm_gates_2d,
    lstm_output_2d,
    sigmoid_of,
    sigmoid_of_sum,
    tanh_2d,
    tanh_of,
)
from ._jit import jit
from ._linalg import copy2d, dense_rows, panel_matmul, view
from .stream import stream_gru, stream_rnn_relu, stream_rnn_tanh, stream_sru

EPS = 1e-6


@jit(inline="always")
def _softplus(v):
    return max(v, 0.0) + np.log1p(np.exp(-abs(v))) + EPS


@jit(inline="always")
def _quantile_at(u, q, lv, n):
    """The sorted quantiles ``q[:n]`` at levels ``lv[:n]``, read at level ``u``.

    Linear between levels; beyond the outer ones, the outer segment's line
    (the tails keep the head's local spread rather than piling up on the
    extreme quantile).
    """
    if n == 1:
        return q[0]
    i = 0
    if u >= lv[n - 1]:
        i = n - 2
    elif u > lv[0]:
        while lv[i + 1] <= u:
            i += 1
    return q[i] + (u - lv[i]) * (q[i + 1] - q[i]) / (lv[i + 1] - lv[i])


@jit(inline="always")
def _draw(family, r, o, temperature, qwork, n_params):
    """One draw from the raw parameters ``r[o : o + n_params]`` of one target.

    ``qwork`` (float64, ``2 n_params``): a quantile head's levels, then room
    to sort its outputs (family 4).
    """
    if family == 4:
        n = n_params
        q = qwork[n:]
        for i in range(n):  # insertion sort: a handful of levels
            v = r[o + i]
            j = i
            while j > 0 and q[j - 1] > v:
                q[j] = q[j - 1]
                j -= 1
            q[j] = v
        centre = _quantile_at(0.5, q, qwork, n)
        if temperature == 0.0:
            return centre
        x = _quantile_at(np.random.random(), q, qwork, n)  # noqa: NPY002
        return centre + temperature * (x - centre)
    if family == 0 or family == 1:
        mu = r[o]
        if temperature == 0.0:
            return mu
        sd = _softplus(r[o + 1])
        if family == 0:
            e = np.random.standard_normal()  # noqa: NPY002
        else:
            e = np.random.standard_t(2.0 + _softplus(r[o + 2]))  # noqa: NPY002
        return mu + temperature * sd * e
    m = _softplus(r[o])
    if temperature == 0.0:
        return m
    if family == 2:
        x = float(np.random.poisson(m))  # noqa: NPY002
    else:
        shape = 1.0 / _softplus(r[o + 1])
        x = float(np.random.poisson(np.random.gamma(shape, m / shape)))  # noqa: NPY002
    return m + temperature * (x - m)


@jit
def draw_marginals(family, n_params, raw, n_paths, temperature, qwork, seed,
                   draws):
    """Independent draws of every entry of ``raw`` for ``n_paths`` paths.

    Parameters
    ----------
    family, n_params : int
        Family code and raw parameters per entry.
    raw : ndarray of shape (B, M * n_params)
        Raw outputs of ``B`` rows (``M`` entries each: steps times targets).
    n_paths : int
    temperature : float
    qwork : float64 ndarray of shape (2 n_params,)
        A quantile head's sorted levels, then scratch (family 4); any
        two floats otherwise.
    seed : int
    draws : ndarray of shape (B, n_paths, M)
        Out.
    """
    np.random.seed(seed)  # noqa: NPY002
    B = raw.shape[0]
    M = draws.shape[2]
    for b in range(B):
        r = raw[b]
        for i in range(n_paths):
            for m in range(M):
                draws[b, i, m] = _draw(family, r, m * n_params, temperature, qwork,
                                       n_params)


@jit(inline="always")
def _draw_step(family, n_params, out, s, temperature, qwork, draws):
    """Draw step ``s`` of every path from the head outputs ``out`` ``(B, O)``."""
    for b in range(out.shape[0]):
        for j in range(draws.shape[2]):
            draws[s, b, j] = _draw(family, out[b], j * n_params, temperature, qwork,
                                   n_params)


def _sampler_doc(cell):
    return f"""Recursive sample paths of a unidirectional {cell} network, every path at once.

    Step 0 is drawn from ``out0``; for ``s = 1 .. S-1`` the inputs ``x[s-1]``
    with the target columns set to step ``s-1``'s draws advance ``state`` by
    one step for all ``B`` paths (one register-blocked product per weight
    matrix over the rows, :func:`~._linalg.panel_matmul`; the weights are
    read once per step, not once per path), and step ``s`` is drawn from the
    head's outputs. Every element goes through the same operations as in the
    stream driver (:mod:`.stream`, one row at a time), so the paths are the
    same bit for bit.

    Parameters
    ----------
    pack, meta : the packed weights (:class:`~tsrnn.engine.InferencePack`)
    state : ndarray of shape (n_states, L, B, H)
        In/out: each path's state (a copy of its series' state).
    x : ndarray of shape (max(S - 1, 1), B, I)
        Known inputs of steps 1 .. S-1 (the target columns are overwritten).
    extra : ndarray of shape (max(S - 1, 1), B, E)
        The head's extras of those steps.
    out0 : ndarray of shape (B, O)
        Head outputs at the origin (step 0's distribution).
    family, n_params, temperature, qwork, seed : see :func:`draw_marginals`
    draws : ndarray of shape (S, B, k)
        Out: the paths (scaled, as the network reads its targets).
    xs, g, hp, act, row, z, out : scratch
        ``(B, I)``; ``g``, ``hp``, ``act`` flat, ``B * G_max`` each; ``row``
        ``(2 H,)``; ``z`` ``(B, H + E)``; ``out`` ``(B, O)``.
    """


@jit(inline="always")
def _step_inputs(x, extra, s, draws, xs, z):
    """Step ``s + 1``'s inputs of every path: known features, the drawn targets.

    Extras go after the hidden units in ``z`` (the head's features).
    """
    H = z.shape[1] - extra.shape[2]
    for b in range(xs.shape[0]):
        for i in range(xs.shape[1]):
            xs[b, i] = x[s, b, i]
        for j in range(draws.shape[2]):
            xs[b, j] = draws[s, b, j]
        for e in range(extra.shape[2]):
            z[b, H + e] = extra[s, b, e]


@jit(inline="always")
def _layer_products(pack, meta, layer, inp, h, g, hp):
    """``g = bias 1 + inp W_ih^T`` and the recurrent side for every path.

    ``hp = b_hh + h W_hh^T`` apart (GRU), or ``g += h W_hh^T`` (RNN, LSTM);
    SRU has no recurrent product. As the stream driver's ``_gates``.
    """
    B = g.shape[0]
    r = 11 + 8 * layer
    H, nr = meta[1], meta[2]
    n_in, G, n_p = meta[r], meta[r + 1], meta[r + 3]
    panel_matmul(inp, view(pack, meta[r + 2], (n_p, n_in, nr)),
                 view(pack, meta[r + 5], (1, G)), g, 0, B)
    o_hh = meta[r + 4]
    if o_hh < 0:
        return
    wp = view(pack, o_hh, (n_p, H, nr))
    if meta[r + 6] >= 0:
        panel_matmul(h, wp, view(pack, meta[r + 6], (1, G)), hp, 0, B)
    else:
        panel_matmul(h, wp, g, g, 0, B)


# Declared mirror: one sampler per cell (a cell passed as an argument would
# compile every cell for every user, as stream.py explains); the step loop,
# inputs and head are the same, each cell's maths inside differ.
@jit
def _rnn_sample(relu, pack, meta, state, x, extra, out0, family, n_params,
                temperature, qwork, seed, draws, xs, g, hp, act, row, z, out):
    np.random.seed(seed)  # noqa: NPY002
    L, H, nr = meta[0], meta[1], meta[2]
    B = out0.shape[0]
    zero = pack.dtype.type(0.0)
    gb = view(g, 0, (B, H))
    _draw_step(family, n_params, out0, 0, temperature, qwork, draws)
    head_w = view(pack, meta[7], (out.shape[1], meta[8]))
    head_b = view(pack, meta[9], (1, out.shape[1]))
    for s in range(draws.shape[0] - 1):
        _step_inputs(x, extra, s, draws, xs, z)
        for layer in range(L):
            h = state[0, layer]
            _layer_products(pack, meta, layer, xs if layer == 0 else z, h, gb, gb)
            if relu:
                for b in range(B):
                    for j in range(H):
                        h[b, j] = zero if gb[b, j] <= zero else gb[b, j]
            else:
                tanh_2d(gb, h)
            for b in range(B):
                for j in range(H):
                    z[b, j] = h[b, j]
        dense_rows(z, head_w, head_b, out, 0, B)
        _draw_step(family, n_params, out, s + 1, temperature, qwork, draws)


@jit
def sample_rnn_tanh(pack, meta, state, x, extra, out0, family, n_params,
                    temperature, qwork, seed, draws, xs, g, hp, act, row, z, out):
    _rnn_sample(False, pack, meta, state, x, extra, out0, family, n_params,
                temperature, qwork, seed, draws, xs, g, hp, act, row, z, out)


@jit
def sample_rnn_relu(pack, meta, state, x, extra, out0, family, n_params,
                    temperature, qwork, seed, draws, xs, g, hp, act, row, z, out):
    _rnn_sample(True, pack, meta, state, x, extra, out0, family, n_params,
                temperature, qwork, seed, draws, xs, g, hp, act, row, z, out)


@jit
def sample_gru(pack, meta, state, x, extra, out0, family, n_params,
               temperature, qwork, seed, draws, xs, g, hp, act, row, z, out):
    np.random.seed(seed)  # noqa: NPY002
    L, H, nr = meta[0], meta[1], meta[2]
    B = out0.shape[0]
    one = pack.dtype.type(1.0)
    G = 3 * H
    gb, hpb, ab = view(g, 0, (B, G)), view(hp, 0, (B, G)), view(act, 0, (B, G))
    t0 = row[:H]
    _draw_step(family, n_params, out0, 0, temperature, qwork, draws)
    head_w = view(pack, meta[7], (out.shape[1], meta[8]))
    head_b = view(pack, meta[9], (1, out.shape[1]))
    for s in range(draws.shape[0] - 1):
        _step_inputs(x, extra, s, draws, xs, z)
        for layer in range(L):
            hs = state[0, layer]
            _layer_products(pack, meta, layer, xs if layer == 0 else z, hs, gb, hpb)
            for b in range(B):  # the stream driver's row maths, row by row
                g0 = gb[b]
                hp0 = hpb[b]
                a = ab[b]
                sigmoid_of_sum(g0[: 2 * H], hp0[: 2 * H], a[: 2 * H])  # r, z
                for j in range(H):
                    t0[j] = g0[2 * H + j] + a[j] * hp0[2 * H + j]
                tanh_of(t0, a[2 * H :])  # n
                h = hs[b]
                for j in range(H):
                    zg = a[H + j]
                    h[j] = (one - zg) * a[2 * H + j] + zg * h[j]
                    z[b, j] = h[j]
        dense_rows(z, head_w, head_b, out, 0, B)
        _draw_step(family, n_params, out, s + 1, temperature, qwork, draws)


@jit
def sample_sru(pack, meta, state, x, extra, out0, family, n_params,
               temperature, qwork, seed, draws, xs, g, hp, act, row, z, out):
    np.random.seed(seed)  # noqa: NPY002
    L, H, nr = meta[0], meta[1], meta[2]
    B = out0.shape[0]
    one = pack.dtype.type(1.0)
    pre = row
    a = view(act, 0, (2 * H,))
    _draw_step(family, n_params, out0, 0, temperature, qwork, draws)
    head_w = view(pack, meta[7], (out.shape[1], meta[8]))
    head_b = view(pack, meta[9], (1, out.shape[1]))
    for s in range(draws.shape[0] - 1):
        _step_inputs(x, extra, s, draws, xs, z)
        for layer in range(L):
            r0 = 11 + 8 * layer
            G = meta[r0 + 1]
            gb = view(g, 0, (B, G))
            inp = xs if layer == 0 else z
            _layer_products(pack, meta, layer, inp, inp, gb, gb)  # U_t (zero bias)
            o_b = meta[r0 + 6]
            o_v = meta[r0 + 7]
            al = pack[o_v + 2 * H]
            for b in range(B):  # the stream driver's row maths, row by row
                g0 = gb[b]
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
                    sk = g0[3 * H + j] if G == 4 * H else al * inp[b, j]
                    c_row[j] = c
                    z[b, j] = r * c + (one - r) * sk  # inp[b, j] is read above first
        dense_rows(z, head_w, head_b, out, 0, B)
        _draw_step(family, n_params, out, s + 1, temperature, qwork, draws)


#: The sampler of each stream driver (the LSTM's takes other scratch).
SAMPLERS = {
    stream_rnn_tanh: sample_rnn_tanh,
    stream_rnn_relu: sample_rnn_relu,
    stream_gru: sample_gru,
    stream_sru: sample_sru,
}

for _f, _name in ((sample_rnn_tanh, "tanh RNN"), (sample_rnn_relu, "relu RNN"),
                  (sample_gru, "GRU"), (sample_sru, "SRU")):
    _f.__doc__ = _sampler_doc(_name)


@jit
def sample_lstm(pack, meta, state, x, extra, out0, family, n_params, temperature,
                qwork, seed, draws, xs, g, act, cn, tc, z, out):
    """Recursive sample paths of a unidirectional LSTM, every path at once.

    As the other cells' samplers (see :func:`sample_gru`), but each step runs
    all ``B`` paths through one register-blocked product per weight matrix
    (:func:`~._linalg.panel_matmul` over the rows, the stream pack's panels)
    and the batched scan's gate, cell and output passes, instead of the
    stream driver's one row at a time: the weights are read once per step for
    every path, not once per path.

    Scratch: ``xs`` (B, I), ``g``/``act`` (B, 4H), ``cn``/``tc`` (B, H),
    ``z`` (B, H + E), ``out`` (B, O).
    """
    np.random.seed(seed)  # noqa: NPY002
    L, H, nr = meta[0], meta[1], meta[2]
    B = out0.shape[0]
    E = z.shape[1] - H
    _draw_step(family, n_params, out0, 0, temperature, qwork, draws)
    head_w = view(pack, meta[7], (out.shape[1], meta[8]))
    head_b = view(pack, meta[9], (1, out.shape[1]))
    for s in range(draws.shape[0] - 1):
        for b in range(B):
            for i in range(xs.shape[1]):
                xs[b, i] = x[s, b, i]
            for j in range(draws.shape[2]):
                xs[b, j] = draws[s, b, j]
            for e in range(E):
                z[b, H + e] = extra[s, b, e]
        for layer in range(L):
            row = 11 + 8 * layer
            n_in, G, n_p = meta[row], meta[row + 1], meta[row + 3]
            inp = xs if layer == 0 else z  # z[:, :H]: the layer below's h
            panel_matmul(inp, view(pack, meta[row + 2], (n_p, n_in, nr)),
                         view(pack, meta[row + 5], (1, G)), g, 0, B)
            h = state[0, layer]
            c = state[1, layer]
            panel_matmul(h, view(pack, meta[row + 4], (n_p, H, nr)), g, g, 0, B)
            lstm_gates_2d(g, view(pack, meta[row + 7], (G,)), act)
            lstm_cell_2d(act, c, cn, tc, 0, B)
            copy2d(cn, c)
            lstm_output_2d(act, tc, h, z, 0, 0, B)  # h, and z[:, :H] above
        dense_rows(z, head_w, head_b, out, 0, B)
        _draw_step(family, n_params, out, s + 1, temperature, qwork, draws)
