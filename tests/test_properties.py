"""Properties of the recurrent modules, checked with hypothesis on small shapes.

Truncated-BPTT invariance (forward and the chained backward), batch
permutation invariance and batch = stacked singles, ``|h| <= 1`` for the
tanh-bounded cells, linearity of backward in the upstream gradient, memory
layout independence (C, F, read-only, strided, lists), and that the caller's
arrays are never modified. The forecaster's step-by-step (streaming) kernel
matches the batched scan, is split-invariant and keeps ``|h| <= 1`` too.
"""

from __future__ import annotations

import numpy as np
from conftest import ATOL_F64, CELL_CASES, RTOL_F64, H
from hypothesis import given, settings
from hypothesis import strategies as st

from tsrnn import nn

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "sru": nn.SRU}
SETTINGS = settings(deadline=None, max_examples=25)
# exact algebra, different summation order (e.g. GEMMs over other shapes)
TIGHT = dict(rtol=1e-12, atol=1e-13)

cell_cases = st.sampled_from(CELL_CASES)
seeds = st.integers(0, 2**32 - 1)


def make_module(case, seed, num_layers=1, bidirectional=False, **kwargs):
    cell, nonlinearity, input_size = case
    if cell == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    m = MODULES[cell](
        input_size,
        H,
        num_layers=num_layers,
        bidirectional=bidirectional,
        random_state=seed,
        **kwargs,
    )
    # SRU's biases start at zero: randomise every tensor
    rng = np.random.default_rng(seed)
    m.theta[:] = rng.uniform(-1, 1, m.theta.size)
    return m.eval()


def random_hx(m, rng, batch):
    LD = m.num_layers * (2 if m.bidirectional else 1)
    shape = (LD, batch, H)
    if m.mode == "lstm":
        return (0.5 * rng.standard_normal(shape), 0.5 * rng.standard_normal(shape))
    return 0.5 * rng.standard_normal(shape)


def state_map(fn, hx):
    return tuple(fn(s) for s in hx) if isinstance(hx, tuple) else fn(hx)


def state_rows(hx):
    return list(hx) if isinstance(hx, tuple) else [hx]


def grad_hn_from(grads, mode):
    """The gradient with respect to the initial state, as a ``grad_hn`` argument."""
    if mode == "lstm":
        return (grads["h_0"], grads["c_0"])
    return grads["c_0"] if mode == "sru" else grads["h_0"]


def param_grads(grads):
    return {k: v for k, v in grads.items() if k not in ("input", "h_0", "c_0")}


@st.composite
def windows(draw):
    T = draw(st.integers(2, 7))
    return T, draw(st.integers(1, T - 1)), draw(st.integers(1, 3))


@SETTINGS
@given(case=cell_cases, seed=seeds, shape=windows(), num_layers=st.integers(1, 2))
def test_truncated_bptt_invariance(case, seed, shape, num_layers):
    """``x[:k]`` then ``x[k:]`` from the carried state equals ``x`` in one go, and
    chaining the two backward passes through ``grad_hn`` equals full BPTT."""
    T, k, batch = shape
    m = make_module(case, seed, num_layers)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, batch, m.input_size))
    hx = random_hx(m, rng, batch)
    r_out = rng.standard_normal((T, batch, H))
    r_hn = state_map(lambda s: rng.standard_normal(s.shape), hx)

    out, hn = m(x, hx)
    g_full = m.backward(r_out, r_hn)

    out1, hn1 = m(x[:k], hx)
    out2, hn2 = m(x[k:], hn1)
    np.testing.assert_allclose(np.concatenate([out1, out2]), out, **TIGHT)
    for a, b in zip(state_rows(hn2), state_rows(hn), strict=True):
        np.testing.assert_allclose(a, b, **TIGHT)

    g2 = m.backward(r_out[k:], r_hn)
    m(x[:k], hx)
    g1 = m.backward(r_out[:k], grad_hn_from(g2, m.mode))
    np.testing.assert_allclose(
        np.concatenate([g1["input"], g2["input"]]), g_full["input"], **TIGHT
    )
    for name in ("h_0", "c_0"):
        if name in g_full:
            np.testing.assert_allclose(g1[name], g_full[name], **TIGHT)
    for name, g in param_grads(g_full).items():  # sums over steps, another order
        np.testing.assert_allclose(g1[name] + g2[name], g, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(
    case=cell_cases,
    seed=seeds,
    batch=st.integers(2, 4),
    T=st.integers(1, 5),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)
def test_batch_permutation_and_stacked_singles(
    case, seed, batch, T, num_layers, bidirectional
):
    m = make_module(case, seed, num_layers, bidirectional)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, batch, m.input_size))
    hx = random_hx(m, rng, batch)
    r_out = rng.standard_normal((T, batch, (2 if bidirectional else 1) * H))
    perm = rng.permutation(batch)

    out, hn = m(x, hx)
    g = m.backward(r_out)
    out_p, hn_p = m(x[:, perm], state_map(lambda s: s[:, perm], hx))
    g_p = m.backward(r_out[:, perm])

    np.testing.assert_allclose(out_p, out[:, perm], **TIGHT)
    for a, b in zip(state_rows(hn_p), state_rows(hn), strict=True):
        np.testing.assert_allclose(a, b[:, perm], **TIGHT)
    np.testing.assert_allclose(g_p["input"], g["input"][:, perm], **TIGHT)
    for name, v in param_grads(g).items():  # sums over the batch, in another order
        np.testing.assert_allclose(g_p[name], v, rtol=1e-10, atol=1e-12)

    # every stream alone, unbatched, gives its column of the batch
    for b in range(batch):
        out_b, hn_b = m(x[:, b], state_map(lambda s, b=b: s[:, b], hx))
        np.testing.assert_allclose(out_b, out[:, b], **TIGHT)
        for a, full in zip(state_rows(hn_b), state_rows(hn), strict=True):
            np.testing.assert_allclose(a, full[:, b], **TIGHT)


BOUNDED = [c for c in CELL_CASES if c[0] in ("lstm", "gru") or c[:2] == ("rnn", "tanh")]


@SETTINGS
@given(
    case=st.sampled_from(BOUNDED),
    seed=seeds,
    w_scale=st.floats(0.1, 20.0),
    x_scale=st.floats(0.1, 1e3),
    dtype=st.sampled_from([np.float64, np.float32]),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)
def test_hidden_state_is_bounded(
    case, seed, w_scale, x_scale, dtype, num_layers, bidirectional
):
    """``|h| <= 1`` for tanh RNN, LSTM (``o tanh(c)``) and GRU (a convex mix of
    ``tanh`` and ``h_{t-1}``, from ``|h_0| <= 1``), even deep in saturation."""
    cell = case[0]
    m = make_module(case, seed, num_layers, bidirectional, dtype=dtype)
    rng = np.random.default_rng(seed)
    m.theta[:] = w_scale * rng.uniform(-1, 1, m.theta.size)
    x = x_scale * rng.standard_normal((6, 2, m.input_size))
    LD = m.num_layers * (2 if bidirectional else 1)
    h0 = rng.uniform(-1, 1, (LD, 2, H))
    hx = (h0, 10 * rng.standard_normal((LD, 2, H))) if cell == "lstm" else h0
    out, hn = m(x, hx)
    h_n = hn[0] if cell == "lstm" else hn
    assert np.all(np.isfinite(out))
    # GRU's (1 - z) n + z h may round one ulp above 1 in floating point
    bound = 1.0 + (2 * np.finfo(dtype).eps if cell == "gru" else 0.0)
    assert np.abs(out).max() <= bound
    assert np.abs(h_n).max() <= bound


@SETTINGS
@given(
    case=cell_cases,
    seed=seeds,
    a=st.floats(-10, 10),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)
def test_backward_is_linear_in_upstream_gradient(
    case, seed, a, num_layers, bidirectional
):
    m = make_module(case, seed, num_layers, bidirectional)
    rng = np.random.default_rng(seed)
    T, batch = 4, 2
    x = rng.standard_normal((T, batch, m.input_size))
    hx = random_hx(m, rng, batch)
    D = 2 if bidirectional else 1
    r1, r2 = (rng.standard_normal((T, batch, D * H)) for _ in range(2))
    s1, s2 = (state_map(lambda s: rng.standard_normal(s.shape), hx) for _ in range(2))

    def grads(r, s):
        m(x, hx)
        return m.backward(r, s)

    g1, g2 = grads(r1, s1), grads(r2, s2)
    g_scaled = grads(a * r1, state_map(lambda s: a * s, s1))
    g_sum = grads(
        r1 + r2,
        tuple(u + v for u, v in zip(state_rows(s1), state_rows(s2), strict=True))
        if m.mode == "lstm"
        else s1 + s2,
    )
    assert set(g1) == set(g_scaled) == set(g_sum)
    for k in g1:
        np.testing.assert_allclose(g_scaled[k], a * g1[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g_sum[k], g1[k] + g2[k], rtol=1e-12, atol=1e-12)


def layouts(arr, rng):
    """The same values as C, F, read-only, strided views, and nested lists."""
    ro = arr.copy()
    ro.flags.writeable = False
    big = np.zeros((arr.shape[0] * 2, *arr.shape[1:-1], arr.shape[-1] * 3))
    strided = big[::2, ..., 1::3]
    strided[...] = arr
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    return {
        "C": np.ascontiguousarray(arr),
        "F": np.asfortranarray(arr),
        "readonly": ro,
        "strided": strided,
        "reversed": arr[::-1].copy()[::-1],
        "list": arr.tolist(),
    }


@SETTINGS
@given(
    case=cell_cases,
    seed=seeds,
    batch_first=st.booleans(),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)
def test_memory_layouts_give_identical_results(
    case, seed, batch_first, num_layers, bidirectional
):
    m = make_module(case, seed, num_layers, bidirectional, batch_first=batch_first)
    rng = np.random.default_rng(seed)
    T, batch = 4, 3
    x = rng.standard_normal(
        (batch, T, m.input_size) if batch_first else (T, batch, m.input_size)
    )
    hx = random_hx(m, rng, batch)
    D = 2 if bidirectional else 1
    r = rng.standard_normal(x.shape[:2] + (D * H,))

    out, hn = m(x, hx)
    ref = m.backward(r)
    xs, rs = layouts(x, rng), layouts(r, rng)
    hxs = [layouts(s, rng) for s in state_rows(hx)]
    for kind in xs:
        hx_k = tuple(h[kind] for h in hxs) if m.mode == "lstm" else hxs[0][kind]
        out_k, hn_k = m(xs[kind], hx_k)
        g_k = m.backward(rs[kind])
        np.testing.assert_array_equal(out_k, out, err_msg=kind)
        for a, b in zip(state_rows(hn_k), state_rows(hn), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=kind)
        for name, g in ref.items():
            np.testing.assert_array_equal(g_k[name], g, err_msg=f"{kind}: {name}")


@SETTINGS
@given(
    case=cell_cases,
    seed=seeds,
    batch_first=st.booleans(),
    unbatched=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)
def test_caller_arrays_are_never_modified(
    case, seed, batch_first, unbatched, dtype, num_layers, bidirectional
):
    """forward/backward leave every argument intact, and the arrays they return
    are not overwritten by later calls."""
    m = make_module(
        case, seed, num_layers, bidirectional, batch_first=batch_first, dtype=dtype
    )
    rng = np.random.default_rng(seed)
    T, batch = 3, 2
    LD = m.num_layers * (2 if bidirectional else 1)
    D = 2 if bidirectional else 1
    if unbatched:
        x_shape, s_shape, o_shape = (T, m.input_size), (LD, H), (T, D * H)
    elif batch_first:
        x_shape, s_shape, o_shape = (
            (batch, T, m.input_size),
            (LD, batch, H),
            (batch, T, D * H),
        )
    else:
        x_shape, s_shape, o_shape = (
            (T, batch, m.input_size),
            (LD, batch, H),
            (T, batch, D * H),
        )
    x = rng.standard_normal(x_shape).astype(dtype)  # already the module's dtype
    rows = [
        rng.standard_normal(s_shape).astype(dtype) for _ in range(m._stack.n_states)
    ]
    hx = tuple(rows) if m.mode == "lstm" else rows[0]
    r = rng.standard_normal(o_shape).astype(dtype)
    r_hn = state_map(lambda s: rng.standard_normal(s.shape).astype(dtype), hx)
    args = [x, r, *state_rows(hx), *state_rows(r_hn)]
    before = [a.copy() for a in args]
    theta_before = m.theta.copy()

    out, hn = m(x, hx)
    grads = m.backward(r, r_hn)
    for a, b in zip(args, before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m.theta, theta_before)
    assert out.shape == o_shape
    assert all(s.shape == s_shape for s in state_rows(hn))

    kept = [out.copy(), *(s.copy() for s in state_rows(hn))]
    kept_grads = {k: v.copy() for k, v in grads.items()}
    m(2 * x, state_map(lambda s: -s, hx))  # a different forward/backward
    m.backward(3 * r, r_hn)
    for a, b in zip([out, *state_rows(hn)], kept, strict=True):
        np.testing.assert_array_equal(a, b)
    for k, v in grads.items():
        np.testing.assert_array_equal(v, kept_grads[k], err_msg=k)


@SETTINGS
@given(case=cell_cases, seed=seeds)
def test_state_dict_is_a_copy_both_ways(case, seed):
    m = make_module(case, seed)
    sd = m.state_dict()
    theta = m.theta.copy()
    for v in sd.values():
        v += 1.0
    np.testing.assert_array_equal(m.theta, theta)  # state_dict() copies
    m.load_state_dict(sd)
    loaded = m.theta.copy()
    np.testing.assert_allclose(loaded, theta + 1.0, rtol=RTOL_F64, atol=ATOL_F64)
    for v in sd.values():
        v *= 0.0
    np.testing.assert_array_equal(m.theta, loaded)  # load_state_dict copies


# ------------------------------------------- step-by-step (streaming) inference
def stream_network(case, seed, num_layers, n_steps=2, per_step=3):
    """A network with a per-step head, as the forecaster builds, random weights."""
    from tsrnn.engine import Network, StepwiseHead
    from tsrnn.engine.stack import RecurrentStack

    cell, nonlinearity, input_size = case
    stack = RecurrentStack(cell, input_size, H, num_layers, nonlinearity=nonlinearity)
    net = Network(stack, StepwiseHead(H, n_steps, 1, per_step))
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1, 1, net.size)
    return net, theta, rng


@SETTINGS
@given(case=cell_cases, seed=seeds, shape=windows(), num_layers=st.integers(1, 2))
def test_stream_kernel_matches_the_batched_scan_and_splits(
    case, seed, shape, num_layers
):
    """The forecaster's step-by-step kernel (``update``, recursive ``predict``)
    gives the batched scan's outputs and states, and reading ``x[:k]`` then
    ``x[k:]`` from the carried state equals reading ``x`` at once, bit for bit."""
    from tsrnn.engine.inference import InferencePack

    T, k, batch = shape
    net, theta, rng = stream_network(case, seed, num_layers)
    pack = InferencePack(net, theta)
    x = rng.standard_normal((T, batch, net.stack.input_size))
    extra = rng.standard_normal((T, batch, net.head.extra_features))
    state0 = 0.5 * rng.standard_normal(net.stack.zero_state(batch).shape)

    want, want_state, _ = net.forward(theta, x, state0.copy(), extra)
    state = state0.copy()
    out = pack.run(state, x, extra)
    np.testing.assert_allclose(out, want, **TIGHT)
    np.testing.assert_allclose(state, want_state, **TIGHT)

    split = state0.copy()
    parts = [pack.run(split, x[:k], extra[:k]), pack.run(split, x[k:], extra[k:])]
    np.testing.assert_array_equal(np.concatenate(parts), out)
    np.testing.assert_array_equal(split, state)


@SETTINGS
@given(
    case=st.sampled_from(BOUNDED),
    seed=seeds,
    w_scale=st.floats(0.1, 20.0),
    x_scale=st.floats(0.1, 1e3),
    num_layers=st.integers(1, 2),
)
def test_stream_kernel_states_are_bounded(case, seed, w_scale, x_scale, num_layers):
    """``|h| <= 1`` in the step-by-step kernel too, deep in saturation."""
    from tsrnn.engine.inference import InferencePack

    net, theta, rng = stream_network(case, seed, num_layers)
    theta *= w_scale
    pack = InferencePack(net, theta)
    x = x_scale * rng.standard_normal((8, 2, net.stack.input_size))
    state = net.stack.zero_state(2)
    state[0] = rng.uniform(-1, 1, state[0].shape)
    top = np.zeros((2, H))
    out = pack.run(state, x, np.zeros((8, 2, net.head.extra_features)), top=top)
    bound = 1.0 + (2 * np.finfo(np.float64).eps if case[0] == "gru" else 0.0)
    assert np.isfinite(out).all() and np.isfinite(state).all()
    assert np.abs(state[0]).max() <= bound  # h (LSTM: state[1] is the cell)
    assert np.abs(top).max() <= bound
