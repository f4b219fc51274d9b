"""Learned embeddings of categorical inputs (engine.embedding) and their proofs.

* finite differences: the tables' gradient (a scatter-add of the stack's input
  gradient) and every other parameter's, through ``Network.loss_grad``;
* the one-hot reparametrisation: an embedding ``E`` read by input weights
  ``W_e`` is the one-hot input read by ``W_e E^T`` -- same outputs, and the
  embedding's gradients are the one-hot gradient pulled back through the
  product (``dW_e = G E``, ``dE = G^T W_e``);
* the streaming pack reads the same embedded rows as the batched scan.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FD_EPS

from tsrnn.engine import InferencePack, Network, RecurrentStack, StepwiseHead
from tsrnn.engine.embedding import Embeddings, embedding_dim
from tsrnn.engine.heads import LinearHead
from tsrnn.engine.losses import get_loss

T, B, N_NUM, H = 6, 3, 2, 4
CARDS, DIMS = (3, 5), (2, 3)


def _codes(rng, shape):
    return np.stack([rng.integers(0, n, shape) for n in CARDS], axis=-1).astype(float)


def _net(cell="gru", head=None, dims=DIMS, cards=CARDS, n_num=N_NUM):
    emb = Embeddings(cards, dims)
    stack = RecurrentStack(cell, emb.output_size(n_num + len(cards)), H)
    return Network(stack, head or LinearHead(H, 2, "none"), emb)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "sru"])
def test_embedding_gradient_matches_finite_differences(cell, rng):
    net = _net(cell)
    theta = net.init_params(rng)
    x = np.concatenate([rng.standard_normal((T, B, N_NUM)), _codes(rng, (T, B))], -1)
    y = rng.standard_normal((T, B, 2))
    mask = (rng.random((T, B, 2)) > 0.2).astype(float)
    fn = get_loss("squared_error")

    def value(t):
        return fn(net.forward(t, x)[0], y, mask)[0]

    _, grad, _, _ = net.loss_grad(theta, x, y, mask, fn, training=False)
    num = np.array(
        [
            (value(theta + FD_EPS * e) - value(theta - FD_EPS * e)) / (2 * FD_EPS)
            for e in np.eye(theta.size)
        ]
    )
    err = np.abs(num - grad).max() / np.abs(num).max()
    assert err < 1e-6, f"{cell}: relative error {err:.2e}"
    # the tables' rows that no step read get no gradient
    emb = net.embedding_part(grad)
    table0 = net.embeddings.layout.view(emb, "embeddings.0.weight")
    read = np.unique(x[..., N_NUM].astype(int))
    unread = np.setdiff1d(np.arange(CARDS[0]), read)
    assert np.all(table0[unread] == 0)
    assert np.abs(table0[read]).sum() > 0


def _one_hot_pair(rng, n_cat=4, dim=3):
    """An embedding network and the one-hot network of the same function."""
    emb_net = _net("lstm", dims=(dim,), cards=(n_cat,))
    hot = Network(RecurrentStack("lstm", N_NUM + n_cat, H), LinearHead(H, 2, "none"))
    te = emb_net.init_params(rng)
    pe = emb_net.layout.views(te)
    th = np.zeros(hot.size)
    ph = hot.layout.views(th)
    for name, v in ph.items():
        if name != "weight_ih_l0":
            v[...] = pe[name]
    W, E = pe["weight_ih_l0"], pe["embeddings.0.weight"]
    ph["weight_ih_l0"][:, :N_NUM] = W[:, :N_NUM]
    ph["weight_ih_l0"][:, N_NUM:] = W[:, N_NUM:] @ E.T  # W_e E^T
    codes = rng.integers(0, n_cat, (T, B))
    xn = rng.standard_normal((T, B, N_NUM))
    x_emb = np.concatenate([xn, codes[..., None].astype(float)], -1)
    x_hot = np.concatenate([xn, np.eye(n_cat)[codes]], -1)
    return emb_net, te, hot, th, x_emb, x_hot


def test_embedding_is_the_one_hot_input_reparametrised(rng):
    emb_net, te, hot, th, x_emb, x_hot = _one_hot_pair(rng)
    y = rng.standard_normal((T, B, 2))
    mask = np.ones_like(y)
    fn = get_loss("squared_error")
    np.testing.assert_allclose(
        emb_net.forward(te, x_emb)[0], hot.forward(th, x_hot)[0], rtol=1e-12,
        atol=1e-13,
    )
    le, ge, _, _ = emb_net.loss_grad(te, x_emb, y, mask, fn, training=False)
    lh, gh, _, _ = hot.loss_grad(th, x_hot, y, mask, fn, training=False)
    assert le == pytest.approx(lh, rel=1e-12)
    pe, pge = emb_net.layout.views(te), emb_net.layout.views(ge)
    pgh = hot.layout.views(gh)
    G = pgh["weight_ih_l0"][:, N_NUM:]  # the one-hot columns' gradient
    W, E = pe["weight_ih_l0"][:, N_NUM:], pe["embeddings.0.weight"]
    # chain rule through W_hot = W_e E^T
    np.testing.assert_allclose(pge["weight_ih_l0"][:, N_NUM:], G @ E, atol=1e-12)
    np.testing.assert_allclose(pge["embeddings.0.weight"], G.T @ W, atol=1e-12)
    for name in pgh:
        if name != "weight_ih_l0":
            np.testing.assert_allclose(pge[name], pgh[name], atol=1e-12)


def test_stream_pack_reads_the_embedded_rows(rng):
    head = StepwiseHead(H, 2, 1, 3)
    net = _net("lstm", head=head)
    theta = net.init_params(rng)
    x = np.concatenate([rng.standard_normal((T, B, N_NUM)), _codes(rng, (T, B))], -1)
    ex = rng.standard_normal((T, B, head.extra_features))
    out, state, _ = net.forward(theta, x, None, ex)
    st = net.stack.zero_state(B)
    got = InferencePack(net, theta).run(st, x, ex)
    np.testing.assert_allclose(got, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st, state, rtol=1e-10, atol=1e-12)


def test_out_of_range_codes_are_refused(rng):
    net = _net()
    theta = net.init_params(rng)
    x = np.concatenate([rng.standard_normal((T, B, N_NUM)), _codes(rng, (T, B))], -1)
    x[2, 1, N_NUM + 1] = CARDS[1]
    with pytest.raises(ValueError, match="outside 0...4"):
        net.forward(theta, x)


def test_default_embedding_dim_rule():
    # fastai's min(600, round(1.6 n**0.56)), capped at 16 for tsrnn's small nets
    assert [embedding_dim(n) for n in (1, 2, 7, 50, 100, 10**6)] == [
        2, 2, 5, 14, 16, 16,
    ]


def _sgd_losses(net, theta, x, y, lr, steps):
    fn, mask = get_loss("squared_error"), np.ones_like(y)
    theta, out = theta.copy(), []
    for _ in range(steps):
        loss, grad, _, _ = net.loss_grad(theta, x, y, mask, fn, training=False)
        out.append(loss)
        theta -= lr * grad
    return np.array(out)


def test_training_the_embedding_follows_the_one_hot_to_first_order(rng):
    """With E = I (dim = number of categories), W_e = the one-hot weights.

    Both models start as the same function, so the first losses agree
    exactly. Gradient descent then moves the embedding model's effective
    one-hot weights ``W_e E^T`` by ``-lr (G + W_e W_e^T G) + O(lr**2)`` where
    the one-hot model's move by ``-lr G``: a factorised matrix has its own
    (preconditioned) gradient flow, so the losses part at first order in
    ``lr`` -- halving ``lr`` halves the gap after a few steps. Same fit up to
    the reparametrisation, not the same trajectory step for step.
    """
    n_cat = 4
    emb_net, te, hot, th, x_emb, x_hot = _one_hot_pair(rng, n_cat=n_cat, dim=n_cat)
    pe, ph = emb_net.layout.views(te), hot.layout.views(th)
    pe["embeddings.0.weight"][...] = np.eye(n_cat)
    ph["weight_ih_l0"][:, N_NUM:] = pe["weight_ih_l0"][:, N_NUM:]
    y = rng.standard_normal((T, B, 2))
    gaps = []
    for lr in (1e-2, 5e-3):
        le = _sgd_losses(emb_net, te, x_emb, y, lr, 5)
        lh = _sgd_losses(hot, th, x_hot, y, lr, 5)
        assert le[0] == pytest.approx(lh[0], rel=1e-13)
        gaps.append(np.abs(le - lh).max())
    assert 0 < gaps[1] < 0.6 * gaps[0]
