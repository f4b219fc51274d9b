"""The public surface of ``tsrnn.nn``: shapes, repr, errors, train/eval, dropout."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import B, H, I, T

from tsrnn import nn
from tsrnn.engine.stack import RecurrentStack

CLASSES = [nn.RNN, nn.LSTM, nn.GRU, nn.SRU]
CLASS_IDS = ["RNN", "LSTM", "GRU", "SRU"]


def state_rows(hx):
    return list(hx) if isinstance(hx, tuple) else [hx]


def make_hx(cls, shape, rng):
    if cls is nn.LSTM:
        return (rng.standard_normal(shape), rng.standard_normal(shape))
    return rng.standard_normal(shape)


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2], ids=["L1", "L2"])
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
@pytest.mark.parametrize("layout", ["batched", "batch_first", "unbatched"])
def test_shapes(layout, cls, num_layers, bidirectional, rng):
    D = 2 if bidirectional else 1
    LD = num_layers * D
    m = cls(
        I,
        H,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=layout == "batch_first",
        random_state=0,
    )
    x_shape, out_shape, s_shape = {
        "batched": ((T, B, I), (T, B, D * H), (LD, B, H)),
        "batch_first": ((B, T, I), (B, T, D * H), (LD, B, H)),
        "unbatched": ((T, I), (T, D * H), (LD, H)),
    }[layout]
    x = rng.standard_normal(x_shape)
    hx = make_hx(cls, s_shape, rng)
    out, hn = m(x, hx)
    assert out.shape == out_shape and out.dtype == np.float64
    assert isinstance(hn, tuple) == (cls is nn.LSTM)
    assert all(s.shape == s_shape for s in state_rows(hn))
    grads = m.backward(np.ones(out_shape), hn)
    state_names = {nn.LSTM: ["h_0", "c_0"], nn.SRU: ["c_0"]}.get(cls, ["h_0"])
    assert set(grads) == set(m.state_dict()) | {"input", *state_names}
    assert grads["input"].shape == x_shape
    for name in state_names:
        assert grads[name].shape == s_shape
    for name, v in m.state_dict().items():
        assert grads[name].shape == v.shape
    assert m.dh_norm_.shape == (LD, T)
    assert np.all(m.dh_norm_ > 0)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_batch_first_and_unbatched_agree_with_time_major(cls, rng):
    tm = cls(I, H, num_layers=2, bidirectional=True, random_state=0)
    bf = cls(I, H, num_layers=2, bidirectional=True, batch_first=True, random_state=0)
    np.testing.assert_array_equal(tm.theta, bf.theta)  # same random_state
    x = rng.standard_normal((T, B, I))
    out, hn = tm(x)
    g = tm.backward(np.cos(out))
    out_bf, hn_bf = bf(x.transpose(1, 0, 2))
    g_bf = bf.backward(np.cos(out_bf))
    np.testing.assert_allclose(out_bf, out.transpose(1, 0, 2), rtol=1e-14, atol=1e-15)
    for a, b in zip(
        state_rows(hn_bf), state_rows(hn), strict=True
    ):  # states stay (LD, B, H)
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(
        g_bf["input"], g["input"].transpose(1, 0, 2), rtol=1e-12, atol=1e-14
    )
    out1, hn1 = tm(x[:, 0])  # unbatched: one stream
    np.testing.assert_allclose(out1, out[:, 0], rtol=1e-14, atol=1e-15)
    for a, b in zip(state_rows(hn1), state_rows(hn), strict=True):
        np.testing.assert_allclose(a, b[:, 0], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_float32_module(cls, rng):
    m = cls(I, H, num_layers=2, dtype=np.float32, random_state=0)
    assert m.theta.dtype == np.float32 and m.grad.dtype == np.float32
    out, hn = m(rng.standard_normal((T, B, I)))  # float64 input is cast
    assert out.dtype == np.float32
    assert all(s.dtype == np.float32 for s in state_rows(hn))
    grads = m.backward(np.ones_like(out))
    assert all(g.dtype == np.float32 for g in grads.values())


def test_integer_input_is_accepted():
    m = nn.GRU(I, H, random_state=0)
    out_int, _ = m(np.arange(T * I).reshape(T, I))
    out_float, _ = m(np.arange(T * I, dtype=float).reshape(T, I))
    np.testing.assert_array_equal(out_int, out_float)


# -------------------------------------------------------------------- repr
@pytest.mark.parametrize(
    "module, text",
    [
        (nn.RNN(3, 8), "RNN(3, 8)"),
        (
            nn.RNN(3, 8, nonlinearity="relu", bias=False),
            "RNN(3, 8, nonlinearity='relu', bias=False)",
        ),
        (
            nn.LSTM(3, 8, num_layers=2, bidirectional=True),
            "LSTM(3, 8, num_layers=2, bidirectional=True)",
        ),
        (
            nn.GRU(2, 4, batch_first=True, dropout=0.5, num_layers=2),
            "GRU(2, 4, num_layers=2, batch_first=True, dropout=0.5)",
        ),
        (nn.SRU(4, 4, dtype=np.float32), "SRU(4, 4, dtype=float32)"),
    ],
)
def test_repr(module, text):
    assert repr(module) == text


# ------------------------------------------------------------ constructor
@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(input_size=0), ValueError, "input_size must be >= 1"),
        (dict(hidden_size=0), ValueError, "hidden_size must be >= 1"),
        (dict(num_layers=0), ValueError, "num_layers must be >= 1"),
        (dict(input_size=2.0), TypeError, "input_size must be an int"),
        (dict(hidden_size="3"), TypeError, "hidden_size must be an int"),
        (dict(num_layers=True), TypeError, "num_layers must be an int"),
        (dict(dropout=1.0), ValueError, "dropout"),
        (dict(dropout=-0.1), ValueError, "dropout"),
        (dict(dtype=np.int32), TypeError, "dtype"),
        (dict(dtype=np.float16), TypeError, "dtype"),
        (dict(nonlinearity="sigmoid"), ValueError, "nonlinearity"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, exc, match):
    args = dict(input_size=I, hidden_size=H)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        nn.RNN(**args)


def test_constructor_rejects_unsupported_options():
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(I, H, proj_size=2)
    with pytest.raises(ValueError, match="SRU always has its gate biases"):
        nn.SRU(I, H, bias=False)
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentStack("transformer", I, H)


# ------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.zeros((T, B, I + 1)), ValueError, r"3 features per step.*input_size=2"),
        (np.zeros((T, I + 1)), ValueError, r"input_size=2"),
        (np.full((T, B, I), np.nan), ValueError, "NaN"),
        (np.where(np.eye(T, I)[:, None, :] > 0, np.inf, 0.0), ValueError, "inf"),
        (np.full((T, B, I), -np.inf), ValueError, "inf"),
        ([["a", "b"]] * T, TypeError, "dtype <U1"),
        (np.array([[1, "x"]] * T, dtype=object), TypeError, "dtype object"),
        (np.zeros((T, B, I), dtype=bool), TypeError, "boolean"),
        (np.zeros((T, B, I), dtype=complex), TypeError, "complex"),
        (None, TypeError, "None"),
        (np.zeros(T), ValueError, "2 or 3 dimensions"),
        (np.zeros((T, B, I, 1)), ValueError, "2 or 3 dimensions"),
        (np.zeros((0, B, I)), ValueError, "empty"),
        (np.zeros((T, 0, I)), ValueError, "empty"),
    ],
    ids=[
        "features",
        "features_unbatched",
        "nan",
        "inf",
        "-inf",
        "strings",
        "object",
        "bool",
        "complex",
        "none",
        "1d",
        "4d",
        "empty_time",
        "empty_batch",
    ],
)
def test_forward_rejects_bad_input(cls, bad, exc, match):
    m = cls(I, H, random_state=0)
    with pytest.raises(exc, match=match):
        m(bad)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_forward_rejects_bad_initial_state(cls, rng):
    m = cls(I, H, num_layers=2, random_state=0)
    name = {nn.LSTM: "h_0", nn.SRU: "c_0"}.get(cls, "h_0")
    x = rng.standard_normal((T, B, I))
    good = np.zeros((2, B, H))
    with pytest.raises(
        ValueError, match=rf"{name} must have 3 dimensions, got shape \(2, 3\)"
    ):
        m(x, (np.zeros((2, H)), good) if cls is nn.LSTM else np.zeros((2, H)))
    bad_shapes = [np.zeros((1, B, H)), np.zeros((2, B + 1, H)), np.zeros((2, B, H + 1))]
    for bad in bad_shapes:
        hx = (bad, good) if cls is nn.LSTM else bad
        with pytest.raises(
            ValueError, match=rf"{name} has shape .*expected \(2, {B}, {H}\)"
        ):
            m(x, hx)
    nan = good.copy()
    nan[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=f"{name} contains NaN"):
        m(x, (nan, good) if cls is nn.LSTM else nan)
    if cls is nn.LSTM:
        with pytest.raises(ValueError, match=r"c_0 has shape"):
            m(x, (good, np.zeros((2, B, H + 1))))
        with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
            m(x, good)
        with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
            m(x, (good, good, good))
    # an unbatched input takes an unbatched state
    with pytest.raises(ValueError, match=rf"{name} must have 2 dimensions, got shape"):
        m(x[:, 0], (good, good) if cls is nn.LSTM else good)
    with pytest.raises(
        ValueError, match=rf"{name} has shape \(1, {H}\), expected \(2, {H}\)"
    ):
        m(x[:, 0], (good[:1, 0], good[:, 0]) if cls is nn.LSTM else good[:1, 0])


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_backward_misuse(cls, rng):
    m = cls(I, H, random_state=0)
    with pytest.raises(RuntimeError, match=r"needs a forward\(\) first"):
        m.backward(np.zeros((T, B, H)))
    x = rng.standard_normal((T, B, I))
    out, hn = m(x)
    with pytest.raises(
        ValueError, match=r"grad_output has shape \(5, 2, 4\), expected"
    ):
        m.backward(np.zeros((T, B, H + 1)))
    with pytest.raises(ValueError, match="grad_output contains NaN"):
        m.backward(np.full(out.shape, np.nan))
    with pytest.raises(ValueError, match="grad_hn has shape"):
        m.backward(
            np.zeros_like(out),
            (np.zeros((1, B, H + 1)), None)
            if cls is nn.LSTM
            else np.zeros((1, B, H + 1)),
        )
    if cls is nn.LSTM:
        with pytest.raises(TypeError, match=r"grad_hn as a tuple"):
            m.backward(np.zeros_like(out), np.zeros((1, B, H)))
    # failed calls do not consume the forward: a good backward still works ...
    grads = m.backward(np.ones_like(out))
    assert grads["input"].shape == x.shape
    # ... but each forward is backpropagated once
    with pytest.raises(RuntimeError, match="backpropagated once"):
        m.backward(np.ones_like(out))


def test_lstm_grad_hn_parts_may_be_none(rng):
    m = nn.LSTM(I, H, random_state=0)
    x = rng.standard_normal((T, B, I))
    r = rng.standard_normal((T, B, H))
    dc = rng.standard_normal((1, B, H))
    m(x)
    g_none = m.backward(r, (None, dc))
    m(x)
    g_zero = m.backward(r, (np.zeros((1, B, H)), dc))
    for k in g_zero:
        np.testing.assert_array_equal(g_none[k], g_zero[k])


# --------------------------------------------------------- load_state_dict
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_load_state_dict_rejects_mismatches(cls):
    m = cls(I, H, num_layers=2, random_state=0)
    theta = m.theta.copy()
    sd = m.state_dict()
    missing = dict(sd)
    del missing["weight_ih_l1"]
    with pytest.raises(KeyError, match=r"missing \['weight_ih_l1'\]"):
        m.load_state_dict(missing)
    extra = dict(sd, weight_ih_l2=np.zeros((3, 3)))
    with pytest.raises(KeyError, match=r"unexpected \['weight_ih_l2'\]"):
        m.load_state_dict(extra)
    # a one-layer module's dict lacks the second layer
    with pytest.raises(KeyError, match="missing"):
        m.load_state_dict(cls(I, H, random_state=0).state_dict())
    wrong = dict(sd)
    wrong["weight_ih_l0"] = np.zeros((sd["weight_ih_l0"].shape[0], I + 1))
    with pytest.raises(
        ValueError, match=r"state_dict\['weight_ih_l0'\] has shape .* expects"
    ):
        m.load_state_dict(wrong)
    nan = {k: v.copy() for k, v in sd.items()}
    nan["weight_ih_l1"][0, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"state_dict\['weight_ih_l1'\] holds NaN or inf"
    ):
        m.load_state_dict(nan)
    # all checks run before anything is copied: the module is untouched
    half = {k: v + 1.0 for k, v in sd.items()}
    half["weight_ih_l1"] = np.zeros((1, 1))
    with pytest.raises(ValueError):
        m.load_state_dict(half)
    np.testing.assert_array_equal(m.theta, theta)


def test_load_state_dict_non_strict_loads_a_subset(rng):
    m = nn.GRU(I, H, random_state=0)
    new = rng.standard_normal((3 * H, I))
    theta = m.theta.copy()
    m.load_state_dict(
        {"weight_ih_l0": new, "something_else": np.zeros(2)}, strict=False
    )
    np.testing.assert_array_equal(m.named_parameters()["weight_ih_l0"], new)
    sl = m.layout["weight_ih_l0"]
    np.testing.assert_array_equal(m.theta[sl.stop :], theta[sl.stop :])


def test_named_parameters_are_views_in_torch_order():
    m = nn.LSTM(I, H, num_layers=2, bidirectional=True, random_state=0)
    params = m.named_parameters()
    assert list(params)[:5] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
    ]
    assert params["weight_hh_l1_reverse"].shape == (4 * H, H)
    assert params["weight_ih_l1"].shape == (4 * H, 2 * H)
    params["bias_hh_l1"][:] = 7.0
    sl = m.layout["bias_hh_l1"]
    assert np.all(m.theta[sl.start : sl.stop] == 7.0)
    assert sum(p.size for p in m.parameters()) == m.num_parameters() == m.theta.size


# ---------------------------------------------------- gradients bookkeeping
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_grad_is_overwritten_not_accumulated(cls, rng):
    m = cls(I, H, num_layers=2, random_state=0)
    x = rng.standard_normal((T, B, I))
    out, _ = m(x)
    g1 = m.backward(np.ones_like(out))
    flat1 = m.grad.copy()
    m(x)
    m.backward(np.ones_like(out))
    np.testing.assert_array_equal(m.grad, flat1)
    for name, view in m.layout.views(m.grad).items():
        np.testing.assert_array_equal(view, g1[name])
    m.zero_grad()
    assert not m.grad.any()


# ------------------------------------------------------ train / eval, dropout
@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_dropout_only_in_training_mode(cls, rng):
    m = cls(I, H, num_layers=2, dropout=0.5, random_state=0)
    assert m.training  # torch's default
    x = rng.standard_normal((T, B, I))
    train1, _ = m(x)
    train2, _ = m(x)
    assert not np.allclose(train1, train2)  # fresh masks every call
    assert m.eval() is m and not m.training
    eval1, _ = m(x)
    eval2, _ = m(x)
    np.testing.assert_array_equal(eval1, eval2)
    assert not np.allclose(train1, eval1)
    # eval() is the plain function of the weights: equal to a no-dropout twin
    plain = cls(I, H, num_layers=2, random_state=0)
    np.testing.assert_array_equal(plain.theta, m.theta)
    np.testing.assert_array_equal(plain(x)[0], eval1)
    assert m.train() is m and m.training
    assert not np.allclose(m(x)[0], eval1)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_dropout_is_reproducible_and_only_between_layers(cls, rng):
    x = rng.standard_normal((T, B, I))
    a = cls(I, H, num_layers=2, dropout=0.3, random_state=4)
    b = cls(I, H, num_layers=2, dropout=0.3, random_state=4)
    np.testing.assert_array_equal(a(x)[0], b(x)[0])  # same seed, same masks
    # with one layer there is no "between layers": training == eval
    one = cls(I, H, num_layers=1, dropout=0.3, random_state=4)
    np.testing.assert_array_equal(one(x)[0], one.eval()(x)[0])


def test_dropout_masks_are_inverted_bernoulli():
    stack = RecurrentStack("gru", I, 8, 3)
    theta = stack.init_params(np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((50, 20, I))
    _, _, cache = stack.forward(
        theta, x, training=True, dropout=0.25, rng=np.random.default_rng(2)
    )
    assert cache.masks[-1] is None
    for mask in cache.masks[:-1]:
        assert set(np.unique(mask)) == {0.0, 1.0 / 0.75}
        assert abs((mask == 0).mean() - 0.25) < 0.03  # 8000 draws
    # not training, or dropout 0: no masks at all
    for kwargs in (
        dict(training=False, dropout=0.25),
        dict(training=True, dropout=0.0),
    ):
        _, _, cache = stack.forward(theta, x, rng=np.random.default_rng(2), **kwargs)
        assert all(mk is None for mk in cache.masks)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_eval_is_deterministic_and_seeded(cls, rng):
    x = rng.standard_normal((T, B, I))
    m1 = cls(I, H, num_layers=2, dropout=0.5, random_state=11).eval()
    m2 = cls(I, H, num_layers=2, dropout=0.5, random_state=11).eval()
    m3 = cls(I, H, num_layers=2, dropout=0.5, random_state=12).eval()
    np.testing.assert_array_equal(m1.theta, m2.theta)
    assert not np.array_equal(m1.theta, m3.theta)
    outs = [m1(x)[0] for _ in range(3)] + [m2(x)[0]]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    gen = np.random.default_rng(11)
    m4 = cls(I, H, num_layers=2, random_state=gen)  # a Generator is accepted too
    np.testing.assert_array_equal(m4.theta, m1.theta)


@pytest.mark.parametrize("cls", CLASSES, ids=CLASS_IDS)
def test_init_is_torch_uniform(cls):
    m = cls(I, 16, num_layers=2, bidirectional=True, random_state=0)
    bound = 1.0 / np.sqrt(16)
    assert np.abs(m.theta).max() <= bound
    for name, p in m.named_parameters().items():
        if cls is nn.SRU and name.startswith("bias"):
            assert not p.any()  # SRU: zero gate biases
        else:
            assert np.abs(p).max() > 0.5 * bound  # really spread over the range
