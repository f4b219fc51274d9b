"""The batched samplers give the paths of one-path-at-a-time stepping, bit for bit.

The reference below is the sampler every cell but the LSTM used before
(``tsrnn.kernels.sampling`` before the batched kernels): each step advances
one path (row) at a time through the cell's stream driver, then draws every
path's next step. Same seed, same draw order: the batched kernels must give
the very same bits.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNForecaster
from tsrnn.engine.inference import InferencePack
from tsrnn.kernels import stream
from tsrnn.kernels.sampling import SAMPLERS, _draw_step

# The stream drivers by an integer code: a cached kernel taking a dispatcher as
# an argument has the dispatcher's type in its cache key, which never matches
# in another process (each run compiled again and added an entry to the
# index) and which Numba failed to pickle once the dispatcher it had rebuilt
# from the index was gone (KeyError, "ReferenceError: underlying object has
# vanished" in numba/core/caching.py). The choice is an int code, as the
# kernels' own (STYLE.md 2).
_DRIVERS = (stream.stream_rnn_tanh, stream.stream_rnn_relu, stream.stream_gru,
            stream.stream_sru)


@numba.njit(cache=True, error_model="numpy")
def _reference(kind, pack, meta, state, x, extra, out0, family, n_params,
               temperature, qwork, seed, draws, out1, xs, es):
    np.random.seed(seed)  # noqa: NPY002  (Numba's generator)
    _draw_step(family, n_params, out0, 0, temperature, qwork, draws)
    for s in range(draws.shape[0] - 1):
        for b in range(xs.shape[1]):
            for i in range(xs.shape[2]):
                xs[0, b, i] = x[s, b, i]
            for j in range(draws.shape[2]):
                xs[0, b, j] = draws[s, b, j]
            for e in range(es.shape[2]):
                es[0, b, e] = extra[s, b, e]
        if kind == 0:
            stream.stream_rnn_tanh(pack, meta, state, xs, es, out1)
        elif kind == 1:
            stream.stream_rnn_relu(pack, meta, state, xs, es, out1)
        elif kind == 2:
            stream.stream_gru(pack, meta, state, xs, es, out1)
        else:
            stream.stream_sru(pack, meta, state, xs, es, out1)
        _draw_step(family, n_params, out1[0], s + 1, temperature, qwork, draws)


def _one_path_at_a_time(self, state, x, extra, out0, family, n_params, n_targets,
                        n_steps, temperature, seed, qwork):
    dt = self.dtype
    B = out0.shape[0]
    if n_steps < 2:
        x = np.zeros((1, B, self.n_inputs), dt)
        extra = np.zeros((1, B, self.n_extra), dt)
    x = np.ascontiguousarray(x, dtype=dt)
    extra = np.ascontiguousarray(extra, dtype=dt)
    draws = np.empty((n_steps, B, n_targets), dt)
    _reference(
        _DRIVERS.index(self._stream), self.pack, self.meta, state, x, extra,
        np.ascontiguousarray(out0, dtype=dt), int(family), int(n_params),
        float(temperature), qwork, int(seed), draws,
        np.empty((1, B, self.n_outputs), dt),
        np.empty((1, B, self.n_inputs), dt), np.empty((1, B, self.n_extra), dt),
    )
    return draws


@pytest.mark.parametrize("cell,kw", [
    ("gru", {}),
    ("rnn", {}),
    ("rnn", {"nonlinearity": "relu"}),
    ("sru", {}),
    ("gru", {"num_layers": 2, "loss": "student_t"}),
    ("sru", {"num_layers": 2, "loss": "quantile", "quantiles": [0.1, 0.5, 0.9]}),
])
def test_batched_sampler_is_bit_identical(cell, kw, monkeypatch):
    rng = np.random.default_rng(0)
    t = np.arange(160)
    y = np.sin(2 * np.pi * t / 12) + 0.3 * rng.standard_normal(160) + 5
    # float64: the batched sampler's bits are the point here. A float32 fit
    # of the 2-layer SRU quantile model diverged (NaN loss at batch 4) once
    # in a full CI run on 2026-12-07 and never in isolation (12 seeds, both
    # dtypes, no divergence): an open issue, not this test's subject
    params = dict(cell=cell, strategy="recursive", loss="normal", hidden_size=7,
                  max_iter=2, random_state=0, season_length=12,
                  dtype="float64") | kw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RNNForecaster(**params).fit(y)
    # 9 paths: the 4-row blocks and the rows left over of the products
    batched = model.sample(9, horizon=6, random_state=3, temperature=0.7)
    monkeypatch.setattr(InferencePack, "sample", _one_path_at_a_time)
    rows = model.sample(9, horizon=6, random_state=3, temperature=0.7)
    assert np.isfinite(batched).all() and batched.std() > 0
    np.testing.assert_array_equal(batched, rows)


def test_every_stream_driver_has_a_sampler():
    drivers = {stream.stream_rnn_tanh, stream.stream_rnn_relu, stream.stream_gru,
               stream.stream_sru}
    assert set(SAMPLERS) == drivers
