"""Learned reference coefficients (issue 13 item 3, Smyl's ES-RNN idea).

The sensitivities of the reference filters' forecast lines by their
parameters, and their chain into a gradient by the unconstrained
coefficients, are checked against central finite differences in float64 on
tiny series (the reference nobody here wrote).
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.smoothing import _filters
from tsrnn.smoothing.fitting import initial_state
from tsrnn.smoothing.learned import (
    from_unconstrained,
    params_gradient,
    path_gradient,
    run_references_grad,
    to_unconstrained,
    unconstrained_gradient,
)
from tsrnn.smoothing.references import run_references

H = 4


def _central_differences(loss, z, eps=1e-6):
    """``d loss(z) / d z`` by central differences, coordinate by coordinate."""
    fd = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        up, dn = z.copy(), z.copy()
        up[idx] += eps
        dn[idx] -= eps
        fd[idx] = (loss(up) - loss(dn)) / (2 * eps)
    return fd


def _series():
    """Two tiny series, one with a gap (and a missing first row)."""
    rng = np.random.default_rng(3)
    a = 10 + np.cumsum(rng.normal(0.3, 1.0, 9))
    b = 5 + np.cumsum(rng.normal(-0.2, 1.0, 7))
    b[0], b[4] = np.nan, np.nan
    y = np.concatenate([a, b])
    indptr = np.array([0, 9, 16])
    states = np.stack([initial_state(10.0, 0.3), initial_state(5.0, -0.1)])
    return y, indptr, states


def _params(rng, S):
    p = np.empty((S, _filters.N_PARAMS))
    p[:, 0] = rng.uniform(0.05, 0.95, S)
    p[:, 1] = rng.uniform(0.05, 0.95, S)
    p[:, 2] = p[:, 1] * rng.uniform(0.05, 0.95, S)
    p[:, 3] = rng.uniform(0.81, 0.97, S)
    p[:, 4] = rng.uniform(0.15, 0.95, S)  # Theta's own alpha
    p[:, 5] = rng.uniform(0.05, 0.95, S)  # and its slope weight
    return p


def test_lines_are_those_of_the_filters():
    y, indptr, states = _series()
    params = _params(np.random.default_rng(0), 2)
    lines, sens, after = run_references_grad(y, indptr, params, states)
    ref_lines, ref_after = run_references(y, indptr, params, states)
    assert np.array_equal(lines, ref_lines, equal_nan=True)
    assert np.array_equal(after, ref_after, equal_nan=True)
    assert sens.shape == (len(y), _filters.N_SENS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensitivities_match_finite_differences(seed):
    y, indptr, states = _series()
    params = _params(np.random.default_rng(seed), 2)
    lines, sens, _ = run_references_grad(y, indptr, params, states)
    ses, holt, theta = 0, 1, 2
    # (sensitivity column, reference, line field (a 0, b 1), parameter)
    cases = [
        (0, ses, 0, 0),
        (1, theta, 0, 4),
        (2, holt, 0, 1),
        (3, holt, 0, 2),
        (4, holt, 0, 3),
        (5, holt, 1, 1),
        (6, holt, 1, 2),
        (7, holt, 1, 3),
        (8, theta, 0, 5),
        (9, theta, 1, 5),
    ]
    # and the lines do not move with a parameter no sensitivity names
    for ref, field, q in ((theta, 0, 0), (theta, 1, 0), (ses, 0, 4), (ses, 0, 5)):
        up = params.copy()
        up[:, q] += 1e-3
        moved = run_references(y, indptr, up, states)[0][:, ref, field]
        np.testing.assert_array_equal(moved, lines[:, ref, field])
    eps = 1e-6
    for col, ref, field, q in cases:
        up, dn = params.copy(), params.copy()
        up[:, q] += eps
        dn[:, q] -= eps
        fd = (
            run_references(y, indptr, up, states)[0][:, ref, field]
            - run_references(y, indptr, dn, states)[0][:, ref, field]
        ) / (2 * eps)
        an = sens[:, col]
        ok = ~np.isnan(lines[:, ref, field])
        assert np.all(np.isfinite(an[ok]))
        scale = np.maximum(1.0, np.abs(fd[ok]))
        assert np.max(np.abs(an[ok] - fd[ok]) / scale) < 1e-6, (col, seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chain_to_unconstrained_matches_finite_differences(seed):
    """A loss of the forecast paths, by the unconstrained coefficients."""
    y, indptr, states = _series()
    rng = np.random.default_rng(10 + seed)
    u = to_unconstrained(_params(rng, 2))
    G = rng.normal(size=(len(y), len(_filters.REFERENCES), H))

    def loss(u):
        lines, _ = run_references(y, indptr, from_unconstrained(u), states)
        paths = _filters.expand_paths(lines, H)
        return float(np.nansum(G * paths))

    lines, sens, _ = run_references_grad(y, indptr, from_unconstrained(u), states)
    g_lines = path_gradient(lines, np.where(np.isnan(lines[..., :1]), 0.0, G))
    g_params = params_gradient(indptr, sens, g_lines)
    an = unconstrained_gradient(u, g_params)
    fd = _central_differences(loss, u)
    assert np.max(np.abs(an - fd) / np.maximum(1.0, np.abs(fd))) < 1e-6


def test_unconstrained_round_trip():
    p = _params(np.random.default_rng(4), 5)
    assert np.allclose(from_unconstrained(to_unconstrained(p)), p, rtol=1e-12)
    # the classical fit's bounds have finite logits; the ends are moved in
    edge = np.array(
        [
            [0.01, 0.99, 0.99 * 0.001, 0.8, 0.1, 0.0],
            [0.99, 0.01, 0.01 * 0.99, 0.98, 0.99, 1.0],
        ]
    )
    assert np.all(np.isfinite(to_unconstrained(edge)))
    ends = np.array([[0.0, 1.0, 1.0, 1.0, 0.0, 1.0]])
    assert np.all(np.isfinite(to_unconstrained(ends)))
    assert np.allclose(from_unconstrained(to_unconstrained(edge)), edge, atol=2e-3)


# ---------------------------------------------------------------- the engine


@pytest.mark.parametrize("stepwise", [True, False])
def test_extra_gradient_matches_finite_differences(stepwise):
    """dL/d extra of a train step (the head is linear in its extras)."""
    from tsrnn.engine import LinearHead, Network, RecurrentStack, get_loss

    rng = np.random.default_rng(0)
    T, B, n_in, H, S, J, P = 3, 2, 2, 4, 2, 1, 3
    stack = RecurrentStack("gru", n_in, H, 1, dtype=np.float64)
    if stepwise:
        from tsrnn.engine import StepwiseHead

        head = StepwiseHead(H, S, J, P)
    else:
        head = LinearHead(H, S * J, extra_features=S * P)
    net = Network(stack, head)
    theta = net.init_params(rng)
    theta += rng.normal(0, 0.3, theta.shape)  # the extra weights nonzero
    x = rng.normal(size=(T, B, n_in))
    extra = rng.normal(size=(T, B, S * P))
    y = rng.normal(size=(T, B, S * J))
    mask = np.ones_like(y)
    loss_fn = get_loss("squared_error")

    def loss(e):
        return net.loss_grad(theta, x, y, mask, loss_fn, extra=e, alpha=0.1)[0]

    out = net._loss_grad(
        theta, x, y, mask, loss_fn, None, extra, training=False, dropout=0.0,
        rng=None, alpha=0.1, n_samples=1.0, extra_grad=True,
    )
    an = out[-1]
    fd = _central_differences(loss, extra)
    assert an.shape == extra.shape
    assert np.max(np.abs(an - fd) / np.maximum(1.0, np.abs(fd))) < 1e-6


# ---------------------------------------------------------------- the forecaster


def _frames(n=40, n_series=2, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    t = np.arange(n)
    out = []
    for s in range(n_series):
        y = 20 + 3 * s + 0.3 * t + 2 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 1, n)
        if s == 1:
            y[7] = np.nan  # a gap: its lines carry the trend over it
        idx = pd.date_range("2000-01", periods=n, freq="QS")
        out.append(pd.Series(y, index=idx))
    return out


def _learned_model(**kw):
    from tsrnn import RNNForecaster

    params = dict(
        horizon=3, hidden_size=4, max_iter=2, references="learned", dtype="float64",
        random_state=0, early_stopping=False, validation_fraction=0.0,
        combination=None, loss="squared_error",
    )
    params.update(kw)
    return RNNForecaster(**params)


@pytest.mark.parametrize("differencing", [False, True])
def test_loss_gradient_by_coefficients_matches_finite_differences(differencing):
    """The full chain: training loss -> head extras -> lines -> coefficients."""
    import warnings

    from tsrnn.engine import get_loss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = _learned_model(differencing=differencing).fit(_frames())
    learned, layout, net, theta = m._learned, m._layout, m._net, m.params_
    series = learned.series
    # one batch: every series' training rows side by side, time-major
    lengths = np.diff(series.indptr)
    T = int(lengths.max())
    rows = np.full((T, len(lengths)), -1)
    for s, (a, n) in enumerate(zip(series.indptr[:-1], lengths, strict=True)):
        rows[:n, s] = np.arange(a, a + n)
    loss_fn = get_loss("squared_error")

    def run(u, extra_grad=False):
        learned.u[...] = u
        learned.refresh()
        x, extra, target, mask = series.gather(layout, rows)
        return net._loss_grad(
            theta, x, target, mask, loss_fn, None, extra, training=False,
            dropout=0.0, rng=None, alpha=0.0, n_samples=1.0, extra_grad=extra_grad,
        )

    u0 = learned.u.copy()
    rng = np.random.default_rng(1)
    u_at = u0 + rng.normal(0, 0.3, u0.shape)  # away from the classical fit
    learned.begin()
    out = run(u_at, extra_grad=True)
    learned.accumulate(rows, out[-1])
    an = learned.gradient()
    fd = np.empty_like(an)
    eps = 1e-5
    for idx in np.ndindex(u_at.shape):
        up, dn = u_at.copy(), u_at.copy()
        up[idx] += eps
        dn[idx] -= eps
        fd[idx] = (run(up)[0] - run(dn)[0]) / (2 * eps)
    assert np.abs(an).max() > 0
    assert np.max(np.abs(an - fd) / np.maximum(np.abs(fd).max(), 1e-12)) < 1e-6


def _quiet_fit(model, y):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(y)


def _rescaled(model, y):
    """``y`` (one series, no season) as the network reads it."""
    loc, scale = model._scaler.y_loc[0, 0], model._scaler.y_scale[0, 0]
    return ((np.asarray(y, dtype=np.float64) - loc) / scale)[:, None]


def test_learned_state_predict_update_and_save_load(tmp_path):
    """The references' state is that of the learned coefficients, carried
    through update and save/load; the refit protocol learns them too."""
    import tsrnn
    from tsrnn.estimators.forecaster import references

    y = _frames(n=48, n_series=1)[0].interpolate()
    params = dict(
        max_iter=4, early_stopping="auto", validation_fraction="auto",
        deseasonalize=None, combination="auto", season_length=4,
    )
    model = _quiet_fit(_learned_model(**params), y[:40])
    classical = _quiet_fit(_learned_model(references="auto", **params), y[:40])
    learned = model.reference_params_
    assert learned.shape == (1, 1, _filters.N_PARAMS)
    assert not np.allclose(learned, classical.reference_params_)
    ref = model._refs
    assert np.array_equal(learned, ref.params)
    Y = _rescaled(model, y[:40])
    lines, after = references.lines_of(Y, np.array([0, 40]), ref.params, ref.init)
    np.testing.assert_allclose(after, ref.state, rtol=1e-12)
    np.testing.assert_allclose(lines[-1], ref.last[0], rtol=1e-12)
    model.save(tmp_path / "m.npz")
    loaded = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.reference_params_, learned)
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    model.update(y[40:46])  # the filters continue with the learned coefficients
    loaded.update(y[40:46])
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    Y = _rescaled(model, y[:46])
    _, after = references.lines_of(Y, np.array([0, 46]), ref.params, ref.init)
    np.testing.assert_allclose(after, model._refs.state, rtol=1e-12)
    np.testing.assert_array_equal(model.reference_params_, learned)


def test_learned_refused_where_not_offered():
    from tsrnn.estimators.forecaster.shards import ShardTrainer

    with pytest.raises(ValueError, match="strategy='direct'"):
        _quiet_fit(_learned_model(strategy="seq2seq"), _frames())
    with pytest.raises(ValueError, match="shards"):
        ShardTrainer({"references": "learned"}, [])
    # the recursive strategy reads no references: nothing to learn
    rec = _quiet_fit(_learned_model(strategy="recursive"), _frames())
    assert rec.references_ == ()
    with pytest.raises(AttributeError):
        rec.reference_params_  # noqa: B018


@pytest.mark.parametrize("differencing", [False, True])
def test_patched_extras_are_those_gather_gives(differencing):
    """The per-epoch rewrite of the reference inputs (a kernel) gives the bits
    of gathering them again, padding included, in the network's dtype."""
    m = _quiet_fit(
        _learned_model(dtype="float32", differencing=differencing), _frames()
    )
    learned, layout = m._learned, m._layout
    series = learned.series
    learned.u[...] += 0.3  # other coefficients than the fit's
    learned.refresh()
    rows = np.array([[0, 5, -1], [30, 41, 79]])
    _, extra, _, _ = series.gather(layout, rows)
    extra = np.ascontiguousarray(extra, np.float32)
    patched = extra.copy()
    patched[..., :] = np.float32(7.0)
    learned._patch(patched, rows)
    ref = patched.reshape(rows.size, layout.horizon_out, -1)[:, :, layout.ref_offset :]
    want = extra.reshape(rows.size, layout.horizon_out, -1)[:, :, layout.ref_offset :]
    assert np.array_equal(ref, want)


def test_the_tangent_filter_writes_the_plain_filters_lines():
    """``run_filters_grad`` repeats ``run_filters`` with derivatives beside it
    (written out twice on purpose: the plain filter runs in every fit and
    carries none of that work); its lines and states are the same bits."""
    y, indptr, states = _series()
    params = np.array([0.4, 0.3, 0.1, 0.9, 0.25, 0.7])
    for s in range(len(indptr) - 1):
        seg = np.ascontiguousarray(y[indptr[s] : indptr[s + 1]])
        plain_state, grad_state = states[s].copy(), states[s].copy()
        plain = np.empty((len(seg), 4, 3))
        tangent = np.empty((len(seg), 4, 3))
        _filters.run_filters(seg, params, plain_state, plain)
        dstate = np.zeros(_filters.N_DSTATE)
        sens = np.empty((len(seg), _filters.N_SENS))
        _filters.run_filters_grad(seg, params, grad_state, dstate, tangent, sens)
        np.testing.assert_array_equal(tangent, plain)
        np.testing.assert_array_equal(grad_state, plain_state)
