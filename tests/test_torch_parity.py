"""Number-for-number parity of ``tsrnn.nn`` with ``torch.nn.RNN/LSTM/GRU``.

Identical weights (torch ``state_dict`` -> NumPy -> ``load_state_dict``), the
same input and initial state; outputs, final states and every gradient of a
random linear functional of the outputs and final states are compared.
State dicts round-trip both ways; parameter counts match docs/MATH.md's table.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TORCH_ATOL_F32, TORCH_ATOL_F64, TORCH_RTOL_F32, B, H, I, T

from tsrnn import nn

torch = pytest.importorskip("torch")

TSRNN = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU, "sru": nn.SRU}
TORCH = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
CELL_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def build_pair(
    cell,
    nonlinearity,
    num_layers,
    bidirectional,
    dtype,
    batch_first=False,
    bias=True,
    seed=0,
):
    """A torch module and its tsrnn twin holding the torch module's weights."""
    kwargs = dict(
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    if cell == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    torch.manual_seed(seed)
    tm = TORCH[cell](I, H, dtype=TORCH_DTYPE[dtype], **kwargs)
    m = TSRNN[cell](I, H, dtype=dtype, random_state=seed + 1, **kwargs)
    assert not np.array_equal(
        m.theta,
        np.concatenate([v.detach().numpy().ravel() for v in tm.state_dict().values()]),
    )
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, m


def assert_matches(actual, expected, dtype, what):
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, what
    if dtype == np.float64:
        np.testing.assert_allclose(
            actual, expected, rtol=0, atol=TORCH_ATOL_F64, err_msg=what
        )
    else:
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(
            actual,
            expected,
            rtol=TORCH_RTOL_F32,
            atol=TORCH_ATOL_F32 * scale,
            err_msg=what,
        )


def run_parity(cell, tm, m, dtype, rng, batched=True, batch_first=False):
    D = 2 if m.bidirectional else 1
    LD = m.num_layers * D
    if not batched:
        x_shape, s_shape, o_shape = (T, I), (LD, H), (T, D * H)
    elif batch_first:
        x_shape, s_shape, o_shape = (B, T, I), (LD, B, H), (B, T, D * H)
    else:
        x_shape, s_shape, o_shape = (T, B, I), (LD, B, H), (T, B, D * H)
    x = rng.standard_normal(x_shape).astype(dtype)
    h0 = (0.5 * rng.standard_normal(s_shape)).astype(dtype)
    c0 = (0.5 * rng.standard_normal(s_shape)).astype(dtype)
    r_out = rng.standard_normal(o_shape).astype(dtype)
    r_h = rng.standard_normal(s_shape).astype(dtype)
    r_c = rng.standard_normal(s_shape).astype(dtype)

    # torch, with autograd
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0, requires_grad=True)
    tc0 = torch.tensor(c0, requires_grad=True)
    if cell == "lstm":
        t_out, (t_hn, t_cn) = tm(tx, (th0, tc0))
        loss = (
            (t_out * torch.from_numpy(r_out)).sum()
            + (t_hn * torch.from_numpy(r_h)).sum()
            + (t_cn * torch.from_numpy(r_c)).sum()
        )
    else:
        t_out, t_hn = tm(tx, th0)
        loss = (t_out * torch.from_numpy(r_out)).sum() + (
            t_hn * torch.from_numpy(r_h)
        ).sum()
    tm.zero_grad()
    loss.backward()

    # tsrnn, forward then explicit backward
    if cell == "lstm":
        out, (hn, cn) = m(x, (h0, c0))
        grads = m.backward(r_out, (r_h, r_c))
        assert_matches(cn, t_cn.detach().numpy(), dtype, "c_n")
        assert_matches(grads["c_0"], tc0.grad.numpy(), dtype, "grad c_0")
    else:
        out, hn = m(x, h0)
        grads = m.backward(r_out, r_h)
    assert out.dtype == dtype
    assert_matches(out, t_out.detach().numpy(), dtype, "output")
    assert_matches(hn, t_hn.detach().numpy(), dtype, "h_n")
    assert_matches(grads["input"], tx.grad.numpy(), dtype, "grad input")
    assert_matches(grads["h_0"], th0.grad.numpy(), dtype, "grad h_0")
    named = dict(tm.named_parameters())
    assert set(named) | {"input", "h_0", "c_0"} >= set(grads)
    for name, p in named.items():
        assert_matches(grads[name], p.grad.numpy(), dtype, f"grad {name}")
    # the flat gradient is the same numbers under the layout
    for name, view in m.layout.views(m.grad).items():
        np.testing.assert_array_equal(view, grads[name])


@pytest.mark.parametrize("batch_first", [False, True], ids=["tbf", "btf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["L1", "L2"])
@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_parity_with_torch(
    cell, nonlinearity, num_layers, bidirectional, dtype, batch_first, rng
):
    tm, m = build_pair(
        cell, nonlinearity, num_layers, bidirectional, dtype, batch_first
    )
    run_parity(cell, tm, m, dtype, rng, batch_first=batch_first)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_parity_with_torch_without_bias(cell, nonlinearity, dtype, rng):
    tm, m = build_pair(cell, nonlinearity, 2, True, dtype, bias=False)
    assert not any("bias" in k for k in m.state_dict())
    run_parity(cell, tm, m, dtype, rng)


@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_parity_with_torch_unbatched(cell, nonlinearity, rng):
    tm, m = build_pair(cell, nonlinearity, 2, True, np.float64)
    run_parity(cell, tm, m, np.float64, rng, batched=False)


@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_parity_with_torch_default_zero_state(cell, nonlinearity, rng):
    tm, m = build_pair(cell, nonlinearity, 2, True, np.float64)
    x = rng.standard_normal((T, B, I))
    t_out, t_state = tm(torch.from_numpy(x))
    out, state = m(x)
    assert_matches(out, t_out.detach().numpy(), np.float64, "output")
    if cell == "lstm":
        for a, b in zip(state, t_state, strict=True):
            assert_matches(a, b.detach().numpy(), np.float64, "state")
    else:
        assert_matches(state, t_state.detach().numpy(), np.float64, "h_n")


# ------------------------------------------------------------- state dicts
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_state_dict_round_trip_torch_tsrnn_torch(cell, nonlinearity, bias, rng):
    tm, m = build_pair(cell, nonlinearity, 2, True, np.float64, bias=bias, seed=3)
    sd_torch = tm.state_dict()
    sd = m.state_dict()
    # same names in the same order, same shapes, same numbers
    assert list(sd) == list(sd_torch)
    for k, v in sd_torch.items():
        assert sd[k].shape == tuple(v.shape)
        np.testing.assert_array_equal(sd[k], v.numpy())
    # back into a fresh torch module initialised differently
    torch.manual_seed(99)
    kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    tm2 = TORCH[cell](
        I, H, num_layers=2, bias=bias, bidirectional=True, dtype=torch.float64, **kwargs
    )
    assert not torch.equal(next(tm2.parameters()), next(tm.parameters()))
    tm2.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    for k, v in tm2.state_dict().items():
        assert torch.equal(v, sd_torch[k]), k
    x = torch.from_numpy(rng.standard_normal((T, B, I)))
    with torch.no_grad():
        out1, _ = tm(x)
        out2, _ = tm2(x)
    assert torch.equal(out1, out2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_state_dict_round_trip_tsrnn_torch_tsrnn(cell, nonlinearity, dtype, rng):
    kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    m = TSRNN[cell](
        I, H, num_layers=2, bidirectional=True, dtype=dtype, random_state=5, **kwargs
    )
    tm = TORCH[cell](
        I, H, num_layers=2, bidirectional=True, dtype=TORCH_DTYPE[dtype], **kwargs
    )
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()})
    x = rng.standard_normal((T, B, I)).astype(dtype)
    out, _ = m(x)
    with torch.no_grad():
        t_out, _ = tm(torch.from_numpy(x))
    assert_matches(out, t_out.numpy(), dtype, "output")
    m2 = TSRNN[cell](
        I, H, num_layers=2, bidirectional=True, dtype=dtype, random_state=6, **kwargs
    )
    assert not np.array_equal(m2.theta, m.theta)
    m2.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    np.testing.assert_array_equal(m2.theta, m.theta)
    np.testing.assert_array_equal(m2(x)[0], out)


# ------------------------------------------------------------- param counts
def math_md_count(cell, input_size, hidden, num_layers, D, bias=True):
    """docs/MATH.md's table: RNN H(I+H+2), LSTM 4H(I+H+2), GRU 3H(I+H+2),
    SRU k I H + 4H (k = 3 if I == H else 4), summed over layers and directions,
    with ``I_k = D H`` above layer 0."""
    total = 0
    for layer in range(num_layers):
        i_k = input_size if layer == 0 else D * hidden
        if cell == "sru":
            k = 3 if i_k == hidden else 4
            per = k * i_k * hidden + 4 * hidden
        else:
            gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
            per = gates * hidden * (i_k + hidden + (2 if bias else 0))
        total += D * per
    return total


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3], ids=["L1", "L2", "L3"])
@pytest.mark.parametrize(
    "cell, bias",
    [
        ("rnn", True),
        ("rnn", False),
        ("lstm", True),
        ("lstm", False),
        ("gru", True),
        ("gru", False),
        ("sru", True),
    ],
)  # SRU always has its biases
def test_parameter_counts(cell, bias, num_layers, bidirectional):
    D = 2 if bidirectional else 1
    for input_size, hidden in [(I, H), (4, 4), (5, 2)]:
        expected = math_md_count(cell, input_size, hidden, num_layers, D, bias)
        kwargs = {} if cell == "sru" else {"bias": bias}
        m = TSRNN[cell](
            input_size,
            hidden,
            num_layers=num_layers,
            bidirectional=bidirectional,
            **kwargs,
        )
        assert m.num_parameters() == expected == m.theta.size
        assert sum(v.size for v in m.state_dict().values()) == expected
        if cell != "sru":
            tm = TORCH[cell](
                input_size,
                hidden,
                num_layers=num_layers,
                bidirectional=bidirectional,
                bias=bias,
            )
            assert sum(p.numel() for p in tm.parameters()) == expected


@pytest.mark.parametrize("d", [1, 3, 8])
def test_parameter_counts_teaching_formulas(d):
    """docs/MATH.md: with I = H = d, LSTM 8d^2 + 8d (two biases), GRU 6d^2 + 6d,
    SRU 3d^2 + 4d, RNN d(2d + 2)."""
    assert nn.LSTM(d, d).num_parameters() == 8 * d * d + 8 * d
    assert nn.GRU(d, d).num_parameters() == 6 * d * d + 6 * d
    assert nn.SRU(d, d).num_parameters() == 3 * d * d + 4 * d
    assert nn.RNN(d, d).num_parameters() == d * (2 * d + 2)


@pytest.mark.parametrize("cell, nonlinearity", CELLS, ids=CELL_IDS)
def test_nan_weights_propagate_like_torch(cell, nonlinearity, rng):
    """A diverged weight gives NaN exactly where torch gives NaN (relu too)."""
    tm, m = build_pair(cell, nonlinearity, 2, False, np.float64)
    with torch.no_grad():
        tm.weight_hh_l0[1, 0] = float("nan")
    m.named_parameters()["weight_hh_l0"][1, 0] = np.nan  # load_state_dict refuses NaN
    x = rng.standard_normal((T, B, I))
    with torch.no_grad():
        t_out, _ = tm(torch.from_numpy(x))
    out, _ = m(x)
    expected = np.isnan(t_out.numpy())
    assert expected.any()
    np.testing.assert_array_equal(np.isnan(out), expected)
    np.testing.assert_allclose(
        out[~expected], t_out.numpy()[~expected], rtol=0, atol=TORCH_ATOL_F64
    )
