"""Sample paths from likelihood heads: draws, and recursive generation.

A likelihood head outputs ``P`` raw parameters per target (the layout and the
links of :mod:`tsrnn.engine.distributions`: location as is, scales, rates and
means ``softplus(raw) + 1e-6``, Student-t degrees of freedom
``2 + 1e-6 + softplus(raw)``). :func:`draw_marginals` draws every entry of a
block of outputs; the ``sample_<cell>`` drivers generate paths recursively:
each step's draw is written into the next step's input and the network is
advanced on it by the cell's stream driver (:mod:`.stream`), one step for
every path at a time, then the next step's outputs are drawn from. Every loop
over steps and paths runs here, compiled.

Draws use Numba's generator, seeded once per call (``seed``): the same seed
gives the same draws, bit for bit. ``temperature`` ``t`` scales each draw's
spread around the entry's mean: ``mean + t * (draw - mean)`` (for the
location-scale families the same as scaling the noise), ``t = 0`` the mean
itself without drawing (the greedy path).

Family codes: 0 normal, 1 Student t, 2 Poisson, 3 negative binomial (mean
``m``, dispersion ``a``: variance ``m + a m^2``, drawn as a gamma-Poisson
mixture with shape ``1/a`` and scale ``m a``).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from .stream import stream_gru, stream_lstm, stream_rnn_relu, stream_rnn_tanh, stream_sru

EPS = 1e-6


@jit(inline="always")
def _softplus(v):
    return max(v, 0.0) + np.log1p(np.exp(-abs(v))) + EPS


@jit(inline="always")
def _draw(family, r, o, temperature):
    """One draw from the raw parameters ``r[o : o + P]`` of one target."""
    if family == 0 or family == 1:
        mu = r[o]
        if temperature == 0.0:
            return mu
        sd = _softplus(r[o + 1])
        if family == 0:
            e = np.random.standard_normal()
        else:
            e = np.random.standard_t(2.0 + _softplus(r[o + 2]))
        return mu + temperature * sd * e
    m = _softplus(r[o])
    if temperature == 0.0:
        return m
    if family == 2:
        x = float(np.random.poisson(m))
    else:
        shape = 1.0 / _softplus(r[o + 1])
        x = float(np.random.poisson(np.random.gamma(shape, m / shape)))
    return m + temperature * (x - m)


@jit
def draw_marginals(family, n_params, raw, n_paths, temperature, seed, draws):
    """Independent draws of every entry of ``raw`` for ``n_paths`` paths.

    Parameters
    ----------
    family, n_params : int
        Family code and raw parameters per entry.
    raw : ndarray of shape (B, M * n_params)
        Raw outputs of ``B`` rows (``M`` entries each: steps times targets).
    n_paths : int
    temperature : float
    seed : int
    draws : ndarray of shape (B, n_paths, M)
        Out.
    """
    np.random.seed(seed)
    B = raw.shape[0]
    M = draws.shape[2]
    for b in range(B):
        r = raw[b]
        for i in range(n_paths):
            for m in range(M):
                draws[b, i, m] = _draw(family, r, m * n_params, temperature)


@jit(inline="always")
def _draw_step(family, n_params, out, s, temperature, draws):
    """Draw step ``s`` of every path from the head outputs ``out`` ``(B, O)``."""
    for b in range(out.shape[0]):
        for j in range(draws.shape[2]):
            draws[s, b, j] = _draw(family, out[b], j * n_params, temperature)


@jit(inline="always")
def _feed(x, extra, s, draws, xs, es):
    """The inputs of step ``s + 1``: known features, the drawn targets."""
    for b in range(xs.shape[1]):
        for i in range(xs.shape[2]):
            xs[0, b, i] = x[s, b, i]
        for j in range(draws.shape[2]):
            xs[0, b, j] = draws[s, b, j]
        for e in range(es.shape[2]):
            es[0, b, e] = extra[s, b, e]


def _sampler_doc(cell):
    return f"""Recursive sample paths of a unidirectional {cell} network.

    Step 0 is drawn from ``out0``; for ``s = 1 .. S-1`` the inputs ``x[s-1]``
    with the target columns set to step ``s-1``'s draws advance ``state``
    (the stream driver), and step ``s`` is drawn from the head's outputs.

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
    family, n_params, temperature, seed : see :func:`draw_marginals`
    draws : ndarray of shape (S, B, k)
        Out: the paths (scaled, as the network reads its targets).
    fb : int64 ndarray of shape (0, 2)
        No feedback (the draws are written into the inputs).
    last_out, out1, top, buf, xs, es : scratch
        ``(B, O)``, ``(1, B, O)``, ``(B, H)``, the stream buffer, ``(1, B, I)``
        and ``(1, B, E)``.
    """


# Declared mirror: one sampler per cell, each calling its own stream driver
# (a driver passed as an argument would compile every cell for every user,
# as stream.py explains); the loop is the same.
@jit
def sample_rnn_tanh(pack, meta, state, x, extra, out0, family, n_params,
                    temperature, seed, draws, fb, last_out, out1, top, buf, xs, es):
    np.random.seed(seed)
    _draw_step(family, n_params, out0, 0, temperature, draws)
    for s in range(draws.shape[0] - 1):
        _feed(x, extra, s, draws, xs, es)
        stream_rnn_tanh(pack, meta, state, xs, es, fb, last_out, out1, top, buf)
        _draw_step(family, n_params, out1[0], s + 1, temperature, draws)


@jit
def sample_rnn_relu(pack, meta, state, x, extra, out0, family, n_params,
                    temperature, seed, draws, fb, last_out, out1, top, buf, xs, es):
    np.random.seed(seed)
    _draw_step(family, n_params, out0, 0, temperature, draws)
    for s in range(draws.shape[0] - 1):
        _feed(x, extra, s, draws, xs, es)
        stream_rnn_relu(pack, meta, state, xs, es, fb, last_out, out1, top, buf)
        _draw_step(family, n_params, out1[0], s + 1, temperature, draws)


@jit
def sample_lstm(pack, meta, state, x, extra, out0, family, n_params,
                temperature, seed, draws, fb, last_out, out1, top, buf, xs, es):
    np.random.seed(seed)
    _draw_step(family, n_params, out0, 0, temperature, draws)
    for s in range(draws.shape[0] - 1):
        _feed(x, extra, s, draws, xs, es)
        stream_lstm(pack, meta, state, xs, es, fb, last_out, out1, top, buf)
        _draw_step(family, n_params, out1[0], s + 1, temperature, draws)


@jit
def sample_gru(pack, meta, state, x, extra, out0, family, n_params,
               temperature, seed, draws, fb, last_out, out1, top, buf, xs, es):
    np.random.seed(seed)
    _draw_step(family, n_params, out0, 0, temperature, draws)
    for s in range(draws.shape[0] - 1):
        _feed(x, extra, s, draws, xs, es)
        stream_gru(pack, meta, state, xs, es, fb, last_out, out1, top, buf)
        _draw_step(family, n_params, out1[0], s + 1, temperature, draws)


@jit
def sample_sru(pack, meta, state, x, extra, out0, family, n_params,
               temperature, seed, draws, fb, last_out, out1, top, buf, xs, es):
    np.random.seed(seed)
    _draw_step(family, n_params, out0, 0, temperature, draws)
    for s in range(draws.shape[0] - 1):
        _feed(x, extra, s, draws, xs, es)
        stream_sru(pack, meta, state, xs, es, fb, last_out, out1, top, buf)
        _draw_step(family, n_params, out1[0], s + 1, temperature, draws)


#: The sampler of each stream driver.
SAMPLERS = {
    stream_rnn_tanh: sample_rnn_tanh,
    stream_rnn_relu: sample_rnn_relu,
    stream_lstm: sample_lstm,
    stream_gru: sample_gru,
    stream_sru: sample_sru,
}

for _f, _name in ((sample_rnn_tanh, "tanh RNN"), (sample_rnn_relu, "relu RNN"),
                  (sample_lstm, "LSTM"), (sample_gru, "GRU"), (sample_sru, "SRU")):
    _f.__doc__ = _sampler_doc(_name)
