"""The training pieces every estimator shares: heads, pooling, losses, optimizers, clipping.

Gradients are checked by central finite differences through the whole network
(recurrent stack + head + loss); optimizers against torch.optim on identical
gradients.
"""

import zlib

import numpy as np
import pytest

from tsrnn.engine import (
    SGD,
    Adam,
    Diverged,
    DivergenceWarning,
    LinearHead,
    Network,
    clip_grad_norm,
    get_loss,
    run_epochs,
)
from tsrnn.engine.stack import RecurrentStack

T, B, I, H = 5, 3, 2, 4
POOLINGS = ["none", "last", "mean", "max", "attention"]
LOSSES = [
    "squared_error",
    "absolute_error",
    "huber",
    "pinball",
    "binary_cross_entropy",
    "cross_entropy",
]


def _problem(rng, pooling, loss, cell="gru", extra=2):
    n_out = {"pinball": 6, "binary_cross_entropy": 1}.get(loss, 3)
    net = Network(RecurrentStack(cell, I, H, 2), LinearHead(H, n_out, pooling, extra))
    theta = net.init_params(rng) + 0.3 * rng.standard_normal(net.size)
    x = rng.standard_normal((T, B, I))
    shp = (T, B) if pooling == "none" else (B,)
    ex = rng.standard_normal(shp + (extra,))
    if loss == "cross_entropy":
        y, mask = rng.integers(0, n_out, shp).astype(float), None
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, shp + (1,)).astype(float)
        mask = (rng.random(shp + (1,)) > 0.3).astype(float)
    elif loss == "pinball":
        y = rng.standard_normal(shp + (2,))
        mask = (rng.random(shp + (2,)) > 0.3).astype(float)
    else:
        y = rng.standard_normal(shp + (n_out,))
        mask = (rng.random(shp + (n_out,)) > 0.3).astype(float)
    return net, theta, x, ex, y, mask


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("loss", LOSSES)
def test_head_pooling_loss_gradient_matches_finite_differences(pooling, loss):
    # a fixed seed per case (Python's str hash is salted per process)
    rng = np.random.default_rng(zlib.crc32(f"{pooling}/{loss}".encode()))
    net, theta, x, ex, y, mask = _problem(rng, pooling, loss)
    fn = get_loss(loss)

    def value(t):
        return fn(net.forward(t, x, None, ex)[0], y, mask)[0]

    _, grad, _, _ = net.loss_grad(theta, x, y, mask, fn, extra=ex, training=False)
    eps = 1e-6
    num = np.array(
        [
            (value(theta + eps * e) - value(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    # floor: a fully masked case has an all-zero gradient on both sides
    err = np.abs(num - grad).max() / max(np.abs(num).max(), 1e-12)
    assert err < 1e-6, f"{pooling}/{loss}: relative error {err:.2e}"


def test_l2_penalty_gradient():
    rng = np.random.default_rng(0)
    net, theta, x, ex, y, mask = _problem(rng, "last", "squared_error")
    fn = get_loss("squared_error")
    alpha, n = 0.7, 5.0

    def value(t):
        return net.loss_grad(
            t, x, y, mask, fn, extra=ex, training=False, alpha=alpha, n_samples=n
        )[0]

    _, grad, _, _ = net.loss_grad(
        theta, x, y, mask, fn, extra=ex, training=False, alpha=alpha, n_samples=n
    )
    eps = 1e-6
    num = np.array(
        [
            (value(theta + eps * e) - value(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    assert np.abs(num - grad).max() < 1e-6
    # biases carry no penalty
    for slot in net.layout:
        if "bias" in slot.name:
            assert not net.weight_mask[slot.start : slot.stop].any()


def test_masked_targets_cost_nothing_and_send_no_gradient():
    rng = np.random.default_rng(1)
    y_hat = rng.standard_normal((4, 3))
    y = rng.standard_normal((4, 3))
    mask = np.ones((4, 3))
    mask[1] = 0.0
    for name in ["squared_error", "absolute_error", "huber"]:
        fn = get_loss(name)
        y_nan = y.copy()
        y_nan[1] = np.nan
        v1, g1 = fn(y_hat, y_nan, mask)
        y_other = y.copy()
        y_other[1] = 1e6
        v2, g2 = fn(y_hat, y_other, mask)
        assert np.isfinite(v1) and v1 == v2
        assert np.all(g1[1] == 0) and np.array_equal(g1, g2)


def test_losses_values_by_hand():
    y_hat = np.array([[1.0], [3.0]])
    y = np.array([[0.0], [1.0]])
    assert get_loss("squared_error")(y_hat, y)[0] == pytest.approx(0.5 * (1 + 4) / 2)
    assert get_loss("absolute_error")(y_hat, y)[0] == pytest.approx(1.5)
    assert get_loss("huber")(y_hat, y)[0] == pytest.approx((0.5 + 1.5) / 2)
    q = get_loss("pinball")(
        np.array([[0.0, 0.0]]), np.array([[1.0]]), quantiles=(0.1, 0.9)
    )
    assert q[0] == pytest.approx((0.1 + 0.9) / 2)
    p = get_loss("binary_cross_entropy")(np.array([[0.0]]), np.array([[1.0]]))[0]
    assert p == pytest.approx(np.log(2))
    c = get_loss("cross_entropy")(np.zeros((1, 4)), np.array([2.0]))[0]
    assert c == pytest.approx(np.log(4))
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("hinge")


@pytest.mark.parametrize("kind", ["adam", "sgd", "sgd_nesterov", "sgd_plain"])
def test_optimizers_match_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    theta = rng.standard_normal(7)
    grads = [rng.standard_normal(7) for _ in range(6)]
    p = torch.nn.Parameter(torch.tensor(theta.copy()))
    if kind == "adam":
        ours = Adam(7, 0.01)
        ref = torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    else:
        mom = 0.0 if kind == "sgd_plain" else 0.9
        nest = kind == "sgd_nesterov"
        ours = SGD(7, 0.01, momentum=mom, nesterov=nest)
        ref = torch.optim.SGD([p], lr=0.01, momentum=mom, nesterov=nest)
    for g in grads:
        ours.step(theta, g.copy())
        p.grad = torch.tensor(g)
        ref.step()
    tol = 1e-12 if kind != "adam" else 1e-9
    np.testing.assert_allclose(theta, p.detach().numpy(), rtol=tol, atol=tol)


def test_sgd_nesterov_matches_sklearn_formula():
    # sklearn's MLP: v = m v - lr g; theta += m v - lr g  (torch's form at constant lr)
    theta = np.zeros(2)
    opt = SGD(2, 0.1, momentum=0.5, nesterov=True)
    opt.step(theta, np.array([1.0, -2.0]))
    np.testing.assert_allclose(
        theta, 0.5 * np.array([-0.1, 0.2]) - np.array([0.1, -0.2])
    )


def test_clip_grad_norm():
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == pytest.approx(5.0)
    assert np.linalg.norm(g) == pytest.approx(1.0, rel=1e-9)
    g = np.array([0.3, 0.4])
    clip_grad_norm(g, 1.0)
    np.testing.assert_array_equal(g, [0.3, 0.4])
    g = np.array([np.nan, 1.0])
    assert np.isnan(clip_grad_norm(g, 1.0))
    assert np.isnan(g[0]) and g[1] == 1.0  # not scaled: the caller stops


def test_train_step_reduces_loss_and_dropout_only_in_training():
    rng = np.random.default_rng(3)
    net = Network(RecurrentStack("lstm", I, 8, 2), LinearHead(8, 1, "last"))
    theta = net.init_params(rng)
    x = rng.standard_normal((T, 16, I))
    y = x[:, :, :1].sum(axis=0) * 0.3
    opt = Adam(net.size, 0.01)
    fn = get_loss("squared_error")
    first = net.train_step(theta, opt, x, y, None, fn, dropout=0.2, rng=rng).loss
    for _ in range(150):
        last = net.train_step(theta, opt, x, y, None, fn, dropout=0.2, rng=rng).loss
    assert last < 0.3 * first
    a = net.forward(theta, x)[0]
    b = net.forward(theta, x)[0]
    np.testing.assert_array_equal(a, b)  # eval: no dropout, deterministic
    c = net.forward(theta, x, training=True, dropout=0.5, rng=rng)[0]
    assert not np.allclose(a, c)


def test_train_step_reports_non_finite_and_leaves_weights():
    rng = np.random.default_rng(4)
    net = Network(RecurrentStack("rnn", I, 4), LinearHead(4, 1, "last"))
    theta = net.init_params(rng)
    before = theta.copy()
    x = rng.standard_normal((T, 2, I))
    y = np.array([[np.inf], [0.0]])
    res = net.train_step(theta, Adam(net.size), x, y, None, get_loss("squared_error"))
    assert not res.finite
    np.testing.assert_array_equal(theta, before)


def test_run_epochs_divergence_keeps_best_weights_and_warns():
    theta = np.zeros(3)
    calls = {"n": 0}

    def epoch():
        calls["n"] += 1
        if calls["n"] == 3:
            theta[:] = np.nan
            raise Diverged("loss nan")
        theta[:] += 1.0
        return 1.0 / calls["n"]

    with pytest.warns(DivergenceWarning, match="diverged at epoch 3"):
        log = run_epochs(theta, epoch, max_iter=10, tol=0.0, n_iter_no_change=5)
    assert log.stopped == "diverged" and log.n_iter == 2
    np.testing.assert_array_equal(theta, [2.0, 2.0, 2.0])


def test_run_epochs_early_stopping_restores_best_validation_epoch():
    theta = np.zeros(1)
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.1, 0.0, -1.0])

    def epoch():
        theta[:] += 1.0
        return 1.0

    log = run_epochs(
        theta,
        epoch,
        max_iter=7,
        tol=0.0,
        n_iter_no_change=2,
        early_stopping=True,
        validate=lambda: next(scores),
    )
    assert log.stopped == "early_stopping"
    assert log.best_validation_score == 0.5
    assert theta[0] == 2.0  # the weights of epoch 2


def test_stepwise_head_gradient_and_dense_equivalent():
    from tsrnn.engine import StepwiseHead

    rng = np.random.default_rng(5)
    steps, targets, per = 3, 2, 4
    head = StepwiseHead(H, steps, targets, per)
    net = Network(RecurrentStack("lstm", I, H), head)
    theta = net.init_params(rng) + 0.3 * rng.standard_normal(net.size)
    x = rng.standard_normal((T, B, I))
    ex = rng.standard_normal((T, B, steps * per))
    y = rng.standard_normal((T, B, steps * targets))
    mask = (rng.random(y.shape) > 0.2).astype(float)
    fn = get_loss("huber")

    def value(t):
        return fn(net.forward(t, x, None, ex)[0], y, mask)[0]

    _, grad, _, _ = net.loss_grad(theta, x, y, mask, fn, extra=ex, training=False)
    eps = 1e-6
    num = np.array(
        [
            (value(theta + eps * e) - value(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    assert np.abs(num - grad).max() / np.abs(num).max() < 1e-6
    # the dense matrix used by step-by-step inference gives the same outputs
    th = net.split(theta)[1]
    out = rng.standard_normal((7, H))
    e2 = rng.standard_normal((7, steps * per))
    W = head.dense_weight(th)
    b = head.layout.view(th, "head.bias")
    np.testing.assert_allclose(
        head.forward(th, out, e2)[0],
        np.concatenate([out, e2], axis=1) @ W.T + b,
        rtol=1e-12,
    )
