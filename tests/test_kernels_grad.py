"""BPTT against central finite differences, coordinate by coordinate.

Loss ``L = sum(out * R1) + sum(final_state * R2)`` with random ``R1, R2``;
every coordinate of ``theta``, of the input and of the initial state is
perturbed by ``+-eps`` (sklearn's ``test_gradient``). Also the per-step
``dh_norm`` diagnostic, against finite differences of an additive perturbation
of ``h_t`` in the NumPy reference and against torch autograd on an unrolled
``torch.nn.LSTMCell`` loop.
"""

from __future__ import annotations

import naive
import numpy as np
import pytest
from conftest import (
    CELL_CASES,
    CELL_IDS,
    FD_ATOL,
    FD_EPS,
    FD_REL_NORM,
    FD_RTOL,
    B,
    H,
    T,
)

from tsrnn.engine.stack import RecurrentStack


def make_problem(stack, rng, T=T, B=B, scale=1.0):
    theta = rng.uniform(-scale, scale, stack.layout.size)
    x = rng.standard_normal((T, B, stack.input_size))
    state0 = 0.5 * rng.standard_normal(stack.zero_state(B).shape)
    D = stack.num_directions
    r1 = rng.standard_normal((T, B, D * stack.hidden_size))
    r2 = rng.standard_normal(state0.shape)
    return theta, x, state0, r1, r2


def stack_loss(stack, theta, x, state0, r1, r2, **fw):
    out, state, _ = stack.forward(theta, x, state0, **fw)
    return float(np.sum(out * r1) + np.sum(state * r2))


def analytic(stack, theta, x, state0, r1, r2, **fw):
    _, _, cache = stack.forward(theta, x, state0, **fw)
    return stack.backward(theta, cache, r1, r2)


def finite_differences(loss, z, eps=FD_EPS):
    """Central differences of ``loss()`` in every coordinate of ``z`` (in place)."""
    flat = z.reshape(-1)
    assert np.shares_memory(flat, z)
    fd = np.empty(flat.size)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = loss()
        flat[k] = orig - eps
        minus = loss()
        flat[k] = orig
        fd[k] = (plus - minus) / (2.0 * eps)
    return fd.reshape(z.shape)


def assert_grad_close(analytic_grad, fd, what):
    assert analytic_grad.shape == fd.shape, what
    assert np.all(np.isfinite(analytic_grad)), what
    rel = np.linalg.norm(analytic_grad - fd) / max(np.linalg.norm(fd), 1e-300)
    assert rel < FD_REL_NORM, f"{what}: relative error {rel:.2e}"
    np.testing.assert_allclose(
        analytic_grad, fd, rtol=FD_RTOL, atol=FD_ATOL, err_msg=what
    )


def check_all_gradients(stack, theta, x, state0, r1, r2, **fw):
    grad, dx, ds0, _ = analytic(
        stack, theta.copy(), x.copy(), state0.copy(), r1, r2, **fw
    )
    assert np.linalg.norm(grad) > 0.1  # a non-degenerate problem

    def loss():
        return stack_loss(stack, theta, x, state0, r1, r2, **fw)

    fd_theta = finite_differences(loss, theta)
    # per tensor, so that a failure names the culprit
    for slot in stack.layout:
        assert_grad_close(
            grad[slot.start : slot.stop], fd_theta[slot.start : slot.stop], slot.name
        )
    assert_grad_close(dx, finite_differences(loss, x), "input")
    assert_grad_close(ds0, finite_differences(loss, state0), "state0")


def gate_cases():
    out = []
    for case, cid in zip(CELL_CASES, CELL_IDS, strict=True):
        for L in (1, 2):
            for bi in (False, True):
                out.append(
                    pytest.param(case, L, bi, id=f"{cid}-L{L}-{'bi' if bi else 'uni'}")
                )
    return out


@pytest.mark.parametrize("case, num_layers, bidirectional", gate_cases())
def test_gradient_every_coordinate(case, num_layers, bidirectional, rng):
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell,
        input_size,
        H,
        num_layers,
        nonlinearity=nonlinearity,
        bidirectional=bidirectional,
    )
    check_all_gradients(stack, *make_problem(stack, rng))


@pytest.mark.parametrize(
    "cell, nonlinearity",
    [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")],
)
def test_gradient_without_bias(cell, nonlinearity, rng):
    stack = RecurrentStack(
        cell, 2, H, 2, nonlinearity=nonlinearity, bias=False, bidirectional=True
    )
    assert not any(n.startswith("bias") for n in stack.layout.names)
    check_all_gradients(stack, *make_problem(stack, rng))


@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_gradient_through_dropout(case, rng):
    """Training-mode dropout between layers with a fixed mask (same rng seed)."""
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell, input_size, H, 3, nonlinearity=nonlinearity, bidirectional=True
    )
    theta, x, state0, r1, r2 = make_problem(stack, rng)

    def fw():
        return dict(training=True, dropout=0.4, rng=np.random.default_rng(7))

    _, _, cache = stack.forward(theta, x, state0, **fw())
    masks = cache.masks
    assert masks[-1] is None and all(m is not None for m in masks[:-1])
    assert any((m == 0).any() for m in masks[:-1])  # some units really dropped

    grad, dx, ds0, _ = stack.backward(theta, cache, r1, r2)

    def loss():
        out, state, _ = stack.forward(theta, x, state0, **fw())
        return float(np.sum(out * r1) + np.sum(state * r2))

    fd = finite_differences(loss, theta)
    assert_grad_close(grad, fd, "theta")
    assert_grad_close(dx, finite_differences(loss, x), "input")
    assert_grad_close(ds0, finite_differences(loss, state0), "state0")


@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_gradient_directions_large_hidden(case, rng):
    """H above ``_linalg.SMALL_K``: BLAS products; a few random directions."""
    cell, nonlinearity, input_size = case
    hidden = 36
    input_size = hidden if input_size == H else 4
    stack = RecurrentStack(
        cell, input_size, hidden, 2, nonlinearity=nonlinearity, bidirectional=True
    )
    theta, x, state0, r1, r2 = make_problem(
        stack, rng, T=4, B=2, scale=1.0 / np.sqrt(hidden)
    )
    grad, dx, ds0, _ = analytic(stack, theta, x, state0, r1, r2)
    for _ in range(3):
        vt, vx, vs = (rng.standard_normal(a.shape) for a in (theta, x, state0))
        plus = stack_loss(
            stack, theta + FD_EPS * vt, x + FD_EPS * vx, state0 + FD_EPS * vs, r1, r2
        )
        minus = stack_loss(
            stack, theta - FD_EPS * vt, x - FD_EPS * vx, state0 - FD_EPS * vs, r1, r2
        )
        fd = (plus - minus) / (2 * FD_EPS)
        exact = grad @ vt + np.sum(dx * vx) + np.sum(ds0 * vs)
        assert abs(fd - exact) <= 1e-7 * max(1.0, abs(exact))


def test_backward_accumulates_into_grad(rng):
    stack = RecurrentStack("lstm", 2, H, 2, bidirectional=True)
    theta, x, state0, r1, r2 = make_problem(stack, rng)
    g1 = analytic(stack, theta, x, state0, r1, r2)[0]
    start = rng.standard_normal(theta.size)
    _, _, cache = stack.forward(theta, x, state0)
    buf = start.copy()
    out = stack.backward(theta, cache, r1, r2, grad=buf)[0]
    assert out is buf
    np.testing.assert_allclose(buf, start + g1, rtol=1e-14, atol=1e-14)


def test_backward_without_state_gradient_is_zero_state_gradient(rng):
    stack = RecurrentStack("gru", 2, H, 2)
    theta, x, state0, r1, _ = make_problem(stack, rng)
    _, _, cache = stack.forward(theta, x, state0)
    a = stack.backward(theta, cache, r1)
    b = analytic(stack, theta, x, state0, r1, np.zeros_like(state0))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-15, atol=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "sru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_backward_without_input_gradient(cell, bidirectional, rng):
    """``input_grad=False`` (a training step) skips ``d_x`` and nothing else."""
    stack = RecurrentStack(cell, 2, H, 2, bidirectional=bidirectional)
    theta, x, state0, r1, r2 = make_problem(stack, rng)
    full = analytic(stack, theta, x, state0, r1, r2)
    _, _, cache = stack.forward(theta, x, state0)
    part = stack.backward(theta, cache, r1, r2, input_grad=False)
    assert full[1] is not None and full[1].shape == x.shape
    assert part[1] is None
    for i in (0, 2, 3):
        np.testing.assert_array_equal(part[i], full[i])


# ------------------------------------------------------------------ dh_norm
def naive_loss_with_deltas(stack, p, x, state0, r1, r2, deltas):
    out, state = naive.stack_forward(
        stack.cell,
        p,
        x,
        state0,
        stack.num_layers,
        stack.num_directions == 2,
        "relu" if stack.relu else "tanh",
        deltas=deltas,
    )
    return float(np.sum(out * r1) + np.sum(state * r2))


@pytest.mark.parametrize(
    "num_layers, bidirectional", [(1, False), (2, True)], ids=["L1-uni", "L2-bi"]
)
@pytest.mark.parametrize("case", CELL_CASES, ids=CELL_IDS)
def test_dh_norm_matches_finite_differences(case, num_layers, bidirectional, rng):
    """``dh_norm[l*D + d, t] = ||dL/dh_t||`` (SRU: ``||dL/dc_t||``), the total
    gradient at ``h_t``: perturb ``h_t`` additively in the reference and
    differentiate the loss with respect to the perturbation."""
    cell, nonlinearity, input_size = case
    stack = RecurrentStack(
        cell,
        input_size,
        H,
        num_layers,
        nonlinearity=nonlinearity,
        bidirectional=bidirectional,
    )
    theta, x, state0, r1, r2 = make_problem(stack, rng)
    *_, dh_norm = analytic(stack, theta, x, state0, r1, r2)
    D = stack.num_directions
    assert dh_norm.shape == (num_layers * D, T)
    p = stack.layout.views(theta)
    deltas = {
        (layer, d): np.zeros((T, B, H)) for layer in range(num_layers) for d in range(D)
    }
    for (layer, d), delta in deltas.items():
        fd = finite_differences(
            lambda: naive_loss_with_deltas(stack, p, x, state0, r1, r2, deltas), delta
        )
        expected = np.sqrt((fd**2).sum(axis=(1, 2)))  # forward time order
        np.testing.assert_allclose(
            dh_norm[layer * D + d],
            expected,
            rtol=1e-7,
            err_msg=f"layer {layer} direction {d}",
        )


def _torch_lstm_unrolled(torch, p, x, state0, num_layers, D):
    """A stacked, bidirectional LSTM unrolled over ``torch.nn.LSTMCell`` steps,
    keeping every ``h_t`` (``retain_grad``). Returns out, h_n, c_n, hs."""
    inp = torch.from_numpy(x)
    hs = {}
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            cell = torch.nn.LSTMCell(inp.shape[2], H, dtype=torch.float64)
            cell.load_state_dict(
                {
                    name: torch.from_numpy(np.array(p[name + suffix]))
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                }
            )
            idx = layer * D + d
            h = torch.from_numpy(state0[0, idx].copy())
            c = torch.from_numpy(state0[1, idx].copy())
            steps = range(x.shape[0]) if d == 0 else range(x.shape[0] - 1, -1, -1)
            seq = [None] * x.shape[0]
            for t in steps:
                h, c = cell(inp[t], (h, c))
                h.retain_grad()
                hs[idx, t] = h
                seq[t] = h
            outs.append(torch.stack(seq))
            h_n.append(h)
            c_n.append(c)
        inp = torch.cat(outs, dim=2)
    return inp, torch.stack(h_n), torch.stack(c_n), hs


@pytest.mark.parametrize(
    "num_layers, bidirectional", [(1, False), (2, True)], ids=["L1-uni", "L2-bi"]
)
def test_lstm_dh_norm_matches_torch_autograd(num_layers, bidirectional, rng):
    torch = pytest.importorskip("torch")
    stack = RecurrentStack("lstm", 2, H, num_layers, bidirectional=bidirectional)
    theta, x, state0, r1, r2 = make_problem(stack, rng)
    out_np, *_ = stack.forward(theta, x, state0)
    *_, dh_norm = analytic(stack, theta, x, state0, r1, r2)

    D = stack.num_directions
    out, h_n, c_n, hs = _torch_lstm_unrolled(
        torch, stack.layout.views(theta), x, state0, num_layers, D
    )
    np.testing.assert_allclose(out.detach().numpy(), out_np, rtol=1e-12, atol=1e-13)
    loss = (
        (out * torch.from_numpy(r1)).sum()
        + (h_n * torch.from_numpy(r2[0])).sum()
        + (c_n * torch.from_numpy(r2[1])).sum()
    )
    loss.backward()
    expected = np.array(
        [
            [float(hs[idx, t].grad.norm()) for t in range(T)]
            for idx in range(num_layers * D)
        ]
    )
    np.testing.assert_allclose(dh_norm, expected, rtol=1e-12)
