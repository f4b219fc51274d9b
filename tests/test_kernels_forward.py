"""Forward passes of the Numba kernels against the line-by-line NumPy references.

Every cell (RNN tanh/relu, LSTM, GRU, SRU with k = 3 and k = 4), float64 and
float32, 1 and 2 layers, uni- and bidirectional, with and without torch's
biases, through :class:`tsrnn.engine.stack.RecurrentStack` and through the
``tsrnn.nn`` modules.
"""

from __future__ import annotations

import naive
import numpy as np
import pytest
from conftest import CELL_CASES, CELL_IDS, B, H, T, tolerances

from tsrnn import nn
from tsrnn.engine.stack import RecurrentStack

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "sru": nn.SRU}


def random_problem(stack, rng, T=T, B=B, scale=1.0):
    """theta, x, state0 in the stack's dtype; SRU biases non-zero too."""
    theta = rng.uniform(-scale, scale, stack.layout.size).astype(stack.dtype)
    x = rng.standard_normal((T, B, stack.input_size)).astype(stack.dtype)
    state0 = (0.5 * rng.standard_normal(stack.zero_state(B).shape)).astype(stack.dtype)
    return theta, x, state0


def reference(stack, theta, x, state0):
    """The naive forward in float64 on the very same (possibly float32) values."""
    p = {k: v.astype(np.float64) for k, v in stack.layout.views(theta).items()}
    return naive.stack_forward(
        stack.cell,
        p,
        x.astype(np.float64),
        state0.astype(np.float64),
        stack.num_layers,
        stack.num_directions == 2,
        nonlinearity="relu" if stack.relu else "tanh",
    )


def assert_close(actual, desired, dtype, scale=1.0):
    rtol, atol = tolerances(dtype)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol * scale)


def bias_params():
    """(cell case, bias) pairs; SRU always has its own biases."""
    out = []
    for case, cid in zip(CELL_CASES, CELL_IDS, strict=True):
        for bias in (True, False):
            if case[0] == "sru" and not bias:
                continue
            out.append(
                pytest.param(case, bias, id=f"{cid}-{'bias' if bias else 'nobias'}")
            )
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["L1", "L2"])
@pytest.mark.parametrize("case, bias", bias_params())
def test_stack_forward_matches_naive(case, bias, num_layers, bidirectional, dtype, rng):
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell,
        input_size,
        H,
        num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        bidirectional=bidirectional,
        dtype=dtype,
    )
    theta, x, state0 = random_problem(stack, rng)
    theta_before, x_before, s_before = theta.copy(), x.copy(), state0.copy()

    out, state, _ = stack.forward(theta, x, state0)

    ref_out, ref_state = reference(stack, theta, x, state0)
    D = 2 if bidirectional else 1
    assert out.shape == (T, B, D * H) and out.dtype == dtype
    assert state.shape == state0.shape and state.dtype == dtype
    scale = max(1.0, np.abs(ref_out).max())  # relu outputs are unbounded
    assert_close(out, ref_out, dtype, scale)
    assert_close(state, ref_state, dtype, scale)
    # the kernels write only into their own buffers
    np.testing.assert_array_equal(theta, theta_before)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(state0, s_before)


@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_stack_zero_state_default(case, rng):
    """Omitting ``state0`` is the same as passing zeros."""
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell, input_size, H, 2, nonlinearity=nonlinearity, bidirectional=True
    )
    theta, x, _ = random_problem(stack, rng)
    out, state, _ = stack.forward(theta, x)
    ref_out, ref_state = reference(stack, theta, x, stack.zero_state(B))
    assert_close(out, ref_out, np.float64)
    assert_close(state, ref_state, np.float64)


@pytest.mark.parametrize("T_", [0, 1, 2, 7], ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_forward_without_cache_is_bit_identical(case, dtype, T_, rng):
    """``keep_cache=False`` (inference: ring buffers in the LSTM scan) changes no bit.

    Odd and even lengths (the two-step rings end on either slot), a single step
    and an empty window; two layers, both directions. Its cache gives the last
    output but refuses a backward pass with a message saying what to do.
    """
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell, input_size, H, 2, nonlinearity=nonlinearity, bidirectional=True,
        dtype=dtype,
    )
    theta, x, state0 = random_problem(stack, rng, T=T_)
    out, state, cache = stack.forward(theta, x, state0)
    out2, state2, cache2 = stack.forward(theta, x, state0, keep_cache=False)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(state2, state)
    np.testing.assert_array_equal(cache2.last_output, cache.last_output)
    fix = r"keep_cache=False.*run forward with keep_cache=True"
    with pytest.raises(ValueError, match=fix):
        stack.backward(theta, cache2, np.ones_like(out))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_stack_forward_large_hidden_blas_path(case, dtype, rng):
    """H above ``_linalg.SMALL_K`` sends the recurrent products through BLAS."""
    cell, nonlinearity, input_size = case
    hidden = 36
    input_size = hidden if input_size == H else 5  # keep SRU's k = 3 / k = 4
    stack = RecurrentStack(
        cell, input_size, hidden, 1, nonlinearity=nonlinearity, dtype=dtype
    )
    theta, x, state0 = random_problem(stack, rng, T=4, B=3, scale=1.0 / np.sqrt(hidden))
    out, state, _ = stack.forward(theta, x, state0)
    ref_out, ref_state = reference(stack, theta, x, state0)
    scale = max(1.0, np.abs(ref_out).max())
    assert_close(out, ref_out, dtype, scale)
    assert_close(state, ref_state, dtype, scale)


def test_sru_k_depends_on_input_size():
    """k = 3 blocks when I == H (highway skip), else k = 4 (skip projection)."""
    assert RecurrentStack("sru", 3, 3).layout["weight_ih_l0"].shape == (9, 3)
    assert RecurrentStack("sru", 2, 3).layout["weight_ih_l0"].shape == (12, 2)
    # above layer 0 the input is D * H: k = 3 unidirectional, k = 4 bidirectional
    assert RecurrentStack("sru", 2, 3, 2).layout["weight_ih_l1"].shape == (9, 3)
    bi = RecurrentStack("sru", 2, 3, 2, bidirectional=True)
    assert bi.layout["weight_ih_l1_reverse"].shape == (12, 6)


def test_relu_rnn_is_not_clipped(rng):
    """relu outputs are unbounded (no tanh hiding a wrong nonlinearity)."""
    stack = RecurrentStack("rnn", 2, 3, nonlinearity="relu")
    theta = np.abs(rng.uniform(0.5, 1.0, stack.layout.size))
    x = np.abs(rng.standard_normal((T, 1, 2))) + 1.0
    out, _, _ = stack.forward(theta, x)
    assert out.max() > 5.0 and out.min() >= 0.0
    assert_close(
        out, reference(stack, theta, x, stack.zero_state(1))[0], np.float64, out.max()
    )


# ------------------------------------------------------------ through tsrnn.nn
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["L1", "L2"])
@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_module_forward_matches_naive(case, num_layers, bidirectional, dtype, rng):
    cell, nonlinearity, input_size = case
    kwargs = dict(
        num_layers=num_layers, bidirectional=bidirectional, dtype=dtype, random_state=0
    )
    if cell == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    m = MODULES[cell](input_size, H, **kwargs)
    D = 2 if bidirectional else 1
    # random weights through load_state_dict, in float64 (the module casts)
    sd = {k: rng.uniform(-1, 1, v.shape) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    x = rng.standard_normal((T, B, input_size))
    h0 = 0.5 * rng.standard_normal((num_layers * D, B, H))
    c0 = 0.5 * rng.standard_normal((num_layers * D, B, H))
    hx = (h0, c0) if cell == "lstm" else h0

    out, hn = m(x, hx)

    p = {k: v.astype(dtype).astype(np.float64) for k, v in sd.items()}
    state0 = np.stack([h0, c0]) if cell == "lstm" else h0[None]
    ref_out, ref_state = naive.stack_forward(
        cell,
        p,
        x.astype(dtype).astype(np.float64),
        state0.astype(dtype).astype(np.float64),
        num_layers,
        bidirectional,
        nonlinearity,
    )
    scale = max(1.0, np.abs(ref_out).max())
    assert out.dtype == dtype
    assert_close(out, ref_out, dtype, scale)
    if cell == "lstm":
        assert_close(hn[0], ref_state[0], dtype, scale)
        assert_close(hn[1], ref_state[1], dtype, scale)
    else:
        assert_close(hn, ref_state[0], dtype, scale)


@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_module_forward_batch_first_and_unbatched(case, rng):
    cell, nonlinearity, input_size = case
    kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    m = MODULES[cell](
        input_size,
        H,
        num_layers=2,
        bidirectional=True,
        batch_first=True,
        random_state=1,
        **kwargs,
    )
    x = rng.standard_normal((B, T, input_size))  # batch first
    out, _ = m(x)
    ref_out, _ = naive.stack_forward(
        cell,
        m.named_parameters(),
        x.transpose(1, 0, 2),
        np.zeros((naive.n_states(cell), 4, B, H)),
        2,
        True,
        nonlinearity,
    )
    assert_close(out, ref_out.transpose(1, 0, 2), np.float64)
    # an unbatched (T, I) sequence is one stream
    out1, _ = m(x[1])
    assert_close(out1, ref_out[:, 1], np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_nan_propagates_like_the_reference(case, dtype, rng):
    """A diverged model stays visibly diverged: NaN flows to the same outputs as
    in the reference (relu included: ``relu(nan)`` is nan, as in torch)."""
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell, input_size, H, 2, nonlinearity=nonlinearity, dtype=dtype
    )
    theta, x, state0 = random_problem(stack, rng)
    x[2, 0, 0] = np.nan  # the stack does not validate; tsrnn.nn would refuse it
    out, state, cache = stack.forward(theta, x, state0)
    ref_out, ref_state = reference(stack, theta, x, state0)
    assert np.isnan(ref_out).any() and not np.isnan(ref_out[:2]).any()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref_out))
    np.testing.assert_array_equal(np.isnan(state), np.isnan(ref_state))
    grad, *_ = stack.backward(theta, cache, np.ones_like(out), np.ones_like(state))
    assert np.isnan(grad).any()
