"""The encoder-decoder (``strategy="seq2seq"``): its gradients, then the forecaster.

The engine's :class:`~tsrnn.engine.Seq2SeqNetwork` is checked against a torch
reference written here from the definition (torch's own RNN/LSTM/GRU modules
as encoder and decoder, the encoder stepped one row at a time so that its
state after every step of every layer starts a decoder; the same weights by
name), in float64 to 1e-10, and against central finite differences; then the
forecaster runs every public path with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import TORCH_ATOL_F64

from tsrnn import RNNForecaster, load
from tsrnn.engine import RecurrentStack, Seq2SeqNetwork, get_loss

# short fits on purpose: they check paths, not convergence
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

T, B, I, H, K, P, STEPS = 4, 2, 3, 3, 2, 3, 3  # noqa: E741

CASES = [
    ("lstm", "tanh", 1),
    ("lstm", "tanh", 2),
    ("gru", "tanh", 1),
    ("gru", "tanh", 2),
    ("rnn", "tanh", 1),
    ("rnn", "relu", 2),
]
CASE_IDS = ["lstm1", "lstm2", "gru1", "gru2", "rnn_tanh1", "rnn_relu2"]


def make_net(
    cell, nonlinearity, layers, teacher, first="input", fill=True, per_step=False
):
    enc = RecurrentStack(cell, I, H, layers, nonlinearity=nonlinearity)
    dec = RecurrentStack(cell, K + P, H, layers, nonlinearity=nonlinearity)
    return Seq2SeqNetwork(
        enc,
        dec,
        STEPS,
        K,
        P,
        first=first,
        teacher_forcing=teacher,
        fill_cols=np.array([1, 0]) if fill else None,
        per_step_readout=per_step,
    )


def problem(seed=0):
    """Inputs, extras, targets (some masked) and an initial state."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I))
    extra = rng.normal(size=(T, B, STEPS * P))
    y = rng.normal(size=(T, B, STEPS * K))
    mask = (rng.random((T, B, STEPS * K)) > 0.25).astype(float)
    return rng, x, extra, y, mask


def random_theta(net, rng):
    # larger than the init, so that every path carries a visible gradient
    return rng.uniform(-0.6, 0.6, net.size)


# ---------------------------------------------------------------- torch twin
torch = None


def torch_loss(net, theta, x, extra, y, mask, state0, decode=None):
    """Loss (half MSE over the mask of decoded origins) and gradient, in torch."""
    import torch as tc

    cell = net.encoder.cell
    L = net.encoder.num_layers
    kw = dict(num_layers=L, dtype=tc.float64)
    if cell == "rnn":
        kw["nonlinearity"] = "relu" if net.encoder.relu else "tanh"
    Mod = {"lstm": tc.nn.LSTM, "gru": tc.nn.GRU, "rnn": tc.nn.RNN}[cell]
    enc = Mod(I, H, **kw)
    dec = Mod(K + P, H, **kw)
    views = net.layout.views(theta)
    params = {}
    with tc.no_grad():
        for name, p in enc.named_parameters():
            p.copy_(tc.from_numpy(views[name]))
            params[name] = p
        for name, p in dec.named_parameters():
            p.copy_(tc.from_numpy(views["decoder." + name]))
            params["decoder." + name] = p
    n = net.readout.n  # read-outs: 1 shared, or one per step
    W = tc.tensor(views["head.weight"].reshape(n, K, H), requires_grad=True)
    b = tc.tensor(views["head.bias"].reshape(n, K), requires_grad=True)
    E = tc.tensor(views["head.extra_weight"], requires_grad=True)  # (n, K, P)
    params.update({"head.weight": W, "head.bias": b, "head.extra_weight": E})

    xt = tc.from_numpy(x)
    lstm = cell == "lstm"
    if lstm:
        st = (tc.from_numpy(state0[0].copy()), tc.from_numpy(state0[1].copy()))
    else:
        st = tc.from_numpy(state0[0].copy())
    states = []  # after every step: (L, B, H) tensors
    for t in range(T):
        _, st = enc(xt[t : t + 1], st)
        states.append(st)
    dec_mask = np.ones((T, B), bool) if decode is None else decode
    ts, bs = np.nonzero(dec_mask)
    N = len(ts)
    if lstm:
        h0 = tc.stack([states[t][0][:, bb] for t, bb in zip(ts, bs, strict=True)], 1)
        c0 = tc.stack([states[t][1][:, bb] for t, bb in zip(ts, bs, strict=True)], 1)
        s0 = (h0, c0)
    else:
        s0 = tc.stack([states[t][:, bb] for t, bb in zip(ts, bs, strict=True)], 1)
    ex = tc.from_numpy(extra[ts, bs].reshape(N, STEPS, P).transpose(1, 0, 2).copy())
    tg = tc.from_numpy(y[ts, bs].reshape(N, STEPS, K).transpose(1, 0, 2).copy())
    mk = tc.from_numpy(mask[ts, bs].reshape(N, STEPS, K).transpose(1, 0, 2).copy())
    first = (
        tc.zeros(N, K, dtype=tc.float64)
        if net.first == "zero"
        else tc.from_numpy(x[ts, bs, :K].copy())
    )

    def readout(o, e, first=0):  # o (S, N, H), e (S, N, P), from step `first`
        st = list(range(first, first + len(o))) if n > 1 else [0] * len(o)
        return tc.stack(
            [o[i] @ W[j].T + e[i] @ E[j].T + b[j] for i, j in enumerate(st)], 0
        )

    if net.teacher_forcing:
        fill = (
            ex[:-1][..., net.fill_cols]
            if net.fill_cols is not None
            else tc.zeros(STEPS - 1, N, K, dtype=tc.float64)
        )
        prev = tc.cat([first[None], tc.where(mk[:-1] > 0, tg[:-1], fill)], 0)
        o, _ = dec(tc.cat([prev, ex], 2), s0)
        yhat = readout(o, ex)
    else:
        outs, prev, s = [], first, s0
        for k in range(STEPS):
            o, s = dec(tc.cat([prev, ex[k]], 1)[None], s)
            yk = readout(o, ex[k][None], k)[0]
            outs.append(yk)
            prev = yk
        yhat = tc.stack(outs, 0)
    r = (yhat - tg) * mk
    loss = 0.5 * (r * r).sum() / max(float(mk.sum()), 1.0)
    loss.backward()
    grad = np.zeros(net.size)
    g = net.layout.views(grad)
    for name, p in params.items():
        gp = p.grad.numpy()
        g[name][...] = gp.reshape(g[name].shape)
    return float(loss.detach()), grad


@pytest.mark.parametrize("teacher", [True, False], ids=["teacher", "free"])
@pytest.mark.parametrize(("cell", "nonlinearity", "layers"), CASES, ids=CASE_IDS)
def test_loss_and_gradient_match_torch(cell, nonlinearity, layers, teacher):
    pytest.importorskip("torch")
    net = make_net(cell, nonlinearity, layers, teacher)
    rng, x, extra, y, mask = problem()
    theta = random_theta(net, rng)
    state0 = rng.normal(size=(net.encoder.n_states, layers, B, H))
    loss, grad, _, _ = net.loss_grad(
        theta, x, y, mask, get_loss("squared_error"), state0.copy(), extra
    )
    ref_loss, ref_grad = torch_loss(net, theta, x, extra, y, mask, state0)
    assert abs(loss - ref_loss) < TORCH_ATOL_F64
    views, ref = net.layout.views(grad), net.layout.views(ref_grad)
    for name in net.layout.names:
        np.testing.assert_allclose(
            views[name], ref[name], rtol=0, atol=TORCH_ATOL_F64, err_msg=name
        )
    # the encoder learns through the decoder's start: its gradient is not 0
    assert np.abs(grad[: net.n_stack]).max() > 1e-3


@pytest.mark.parametrize("per_step", [False, True], ids=["shared", "per_step"])
@pytest.mark.parametrize("teacher", [True, False], ids=["teacher", "free"])
def test_some_origins_and_zero_first_match_torch(teacher, per_step):
    """Decoding from a subset of origins (training's draw), changes from the origin."""
    pytest.importorskip("torch")
    net = make_net("lstm", "tanh", 2, teacher, first="zero", fill=False,
                   per_step=per_step)
    rng, x, extra, y, mask = problem(1)
    theta = random_theta(net, rng)
    state0 = rng.normal(size=(2, 2, B, H))
    decode = np.zeros((T, B), bool)
    decode[[0, 2]] = True
    decode[3, 1] = True
    y_hat, _, cache = net.forward(
        theta, x, state0.copy(), extra, training=True, target=y, mask=mask,
        decode=decode,
    )
    m = mask * decode[..., None]
    loss, dy = get_loss("squared_error")(y_hat, y, m)
    grad, _ = net.backward(theta, cache, dy)
    ref_loss, ref_grad = torch_loss(net, theta, x, extra, y, m, state0, decode)
    assert abs(loss - ref_loss) < TORCH_ATOL_F64
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=TORCH_ATOL_F64)


@pytest.mark.parametrize("teacher", [True, False], ids=["teacher", "free"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradient_matches_finite_differences(cell, teacher):
    net = make_net(cell, "tanh", 2, teacher, per_step=cell == "gru")
    rng, x, extra, y, mask = problem(2)
    theta = random_theta(net, rng)
    state0 = rng.normal(size=(net.encoder.n_states, 2, B, H))
    loss_fn = get_loss("squared_error")

    def f(th):
        return net.loss_grad(th, x, y, mask, loss_fn, state0.copy(), extra)[0]

    _, grad, _, _ = net.loss_grad(theta, x, y, mask, loss_fn, state0.copy(), extra)
    # every tensor: encoder (reached through the decoder's start only),
    # decoder and read-out
    picks = np.concatenate(
        [rng.choice(np.arange(s.start, s.stop), 2) for s in net.layout]
    )
    eps = 1e-6
    for i in picks:
        e = np.zeros(net.size)
        e[i] = eps
        fd = (f(theta + e) - f(theta - e)) / (2 * eps)
        assert abs(fd - grad[i]) < 1e-7 * max(1.0, abs(fd)), i


def test_training_draws_a_share_of_the_origins():
    net = make_net("gru", "tanh", 1, True)
    assert net.decode_count(4) == 4  # few rows per step: every origin
    enc = RecurrentStack("gru", I, H)
    dec = RecurrentStack("gru", K + P, H)
    long = Seq2SeqNetwork(enc, dec, 48, K, P)
    assert long.decode_count(32) == 3  # ceil(4 * 32 / 48)
    mask = long.draw_origins(32, 5, np.random.default_rng(0))
    assert mask.shape == (32, 5) and (mask.sum(axis=0) == 3).all()
    assert long.draw_origins(32, 5, None) is None


def test_sru_refused_by_the_engine():
    enc = RecurrentStack("sru", I, H)
    dec = RecurrentStack("sru", K + P, H)
    with pytest.raises(ValueError, match="rnn, gru or lstm"):
        Seq2SeqNetwork(enc, dec, STEPS, K, P)


# ---------------------------------------------------------------- forecaster
def series(n=360, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    temp = 20 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
    y = 10 + 0.5 * temp + 2 * np.sin(2 * np.pi * t / 24 + 1) + 0.3 * rng.normal(size=n)
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.Series(y, idx, name="y"), pd.DataFrame({"temp": temp}, idx)


SMALL = dict(hidden_size=8, max_iter=3, random_state=0, horizon=6)


@pytest.mark.parametrize("strategy", ["seq2seq", "seq2seq_teacher"])
def test_fit_predict_update_interval(strategy):
    y, X = series()
    m = RNNForecaster(strategy=strategy, **SMALL).fit(y.iloc[:-12], X.iloc[:-12])
    assert isinstance(m._net, Seq2SeqNetwork)
    # "seq2seq" is the free-running decoder (docs/strategies.md)
    assert m._net.teacher_forcing == (strategy == "seq2seq_teacher")
    p = m.predict(6, X=X.iloc[-12:-6])
    assert p.shape == (6,) and np.isfinite(p).all()
    # a shorter horizon is the longer forecast's start
    np.testing.assert_allclose(m.predict(3, X=X.iloc[-12:-9]), p.iloc[:3])
    with pytest.raises(ValueError, match="at most 6 steps"):
        m.predict(7, X=X.iloc[-12:-5])
    m.update(y.iloc[-12:-6], X.iloc[-12:-6])
    q = m.predict(6, X=X.iloc[-6:])
    assert np.isfinite(q).all() and not np.allclose(p.to_numpy(), q.to_numpy())
    iv = m.predict_interval(6, X=X.iloc[-6:], coverage=0.8)
    assert (iv.iloc[:, 0] <= q.to_numpy() + 1e-9).all()
    assert (iv.iloc[:, 1] >= q.to_numpy() - 1e-9).all()


def test_covariates_change_the_forecast():
    """The decoder reads every step's known future."""
    y, X = series()
    # three epochs on a short series: the tails may rightly keep the reference
    # alone (epoch 0), which reads no covariate; train without that choice
    m = RNNForecaster(strategy="seq2seq", early_stopping=False, **SMALL).fit(
        y.iloc[:-6], X.iloc[:-6]
    )
    a = m.predict(6, X=X.iloc[-6:])
    b = m.predict(6, X=X.iloc[-6:] + 5.0)
    assert not np.allclose(a.to_numpy(), b.to_numpy())


def test_calendar_only_and_differencing_and_deseasonalize():
    """No covariates: the decoder reads the calendar and the references."""
    y, _ = series(seed=1)
    for kw in (
        dict(differencing=True),
        dict(differencing=False, deseasonalize="auto", season_length=24, scaler=None),
    ):
        m = RNNForecaster(strategy="seq2seq", **SMALL, **kw).fit(y.iloc[:-6])
        assert m._layout.n_known > 0  # calendar features
        assert np.isfinite(m.predict(6)).all()


def test_missing_values_many_series_and_save_load(tmp_path):
    y, X = series(200, seed=2)
    frames = []
    for i in range(3):
        yi = y.to_numpy() * (1 + i) + i
        if i == 1:
            yi = yi.copy()
            yi[[20, 21, 150]] = np.nan
        frames.append(
            pd.DataFrame(
                {"unique_id": f"s{i}", "ds": y.index, "y": yi, "temp": X["temp"]}
            )
        )
    df = pd.concat(frames, ignore_index=True)
    m = RNNForecaster(strategy="seq2seq", **SMALL).fit(df)
    fut = pd.DataFrame(
        {
            "unique_id": np.repeat(["s0", "s1", "s2"], 6),
            "ds": np.tile(pd.date_range(y.index[-1], periods=7, freq="h")[1:], 3),
            "temp": 20.0,
        }
    )
    p = m.predict(6, X=fut)
    assert np.isfinite(p["y"]).all() and len(p) == 18
    path = tmp_path / "s2s.tsrnn"
    m.save(path)
    m2 = load(path)
    pd.testing.assert_frame_equal(m2.predict(6, X=fut), p)


def test_early_stopping_modes():
    y, X = series()
    for es in ("auto", "holdout", False):
        m = RNNForecaster(strategy="seq2seq", early_stopping=es, **SMALL)
        m.fit(y.iloc[:-6], X.iloc[:-6])
        assert np.isfinite(m.predict(6, X=X.iloc[-6:])).all()
        if es == "auto":
            assert m.selected_epochs_ >= 0 and len(m.validation_scores_)


def test_partial_fit_trains_the_decoder():
    y, X = series()
    m = RNNForecaster(strategy="seq2seq_teacher", **SMALL).fit(
        y.iloc[:-24], X.iloc[:-24]
    )
    before = m.params_.copy()
    m.partial_fit(y.iloc[-24:], X.iloc[-24:])
    dec = m._net.n_stack
    assert not np.allclose(before[dec:], m.params_[dec:])
