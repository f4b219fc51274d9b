"""The engine's recycled work arrays (tsrnn.engine.workspace)."""

from __future__ import annotations

import gc

import numpy as np

from tsrnn.engine import workspace

SHAPE = (64, 1024)  # 256 KB in float32: pooled


def test_an_array_in_use_is_never_handed_out_again():
    workspace.clear()
    a = workspace.take(SHAPE, np.float32)
    b = workspace.take(SHAPE, np.float32)
    assert not np.shares_memory(a, b)
    view = a[1:]  # a view keeps its base in use
    del a
    c = workspace.take(SHAPE, np.float32)
    assert not np.shares_memory(c, view)
    assert not np.shares_memory(c, b)


def test_a_released_array_is_reused():
    workspace.clear()
    a = workspace.take(SHAPE, np.float32)
    address = a.__array_interface__["data"][0]
    del a
    gc.collect()
    b = workspace.take(SHAPE, np.float32)
    assert b.__array_interface__["data"][0] == address
    assert b.shape == SHAPE and b.dtype == np.float32 and b.flags.c_contiguous
    assert b.flags.writeable


def test_shapes_and_dtypes_do_not_mix_and_small_arrays_are_plain():
    workspace.clear()
    a = workspace.take(SHAPE, np.float32)
    del a
    b = workspace.take(SHAPE, np.float64)
    assert b.dtype == np.float64 and b.shape == SHAPE
    c = workspace.take((SHAPE[1], SHAPE[0]), np.float32)
    assert c.shape == (SHAPE[1], SHAPE[0])
    small = workspace.take((4, 4), np.float32)
    assert small.shape == (4, 4)
    assert len(workspace._pool) == 3  # the small one is not pooled


def test_held_outputs_of_a_forward_stay_intact_across_calls():
    """A stack's output kept by the caller is not overwritten by the next call."""
    from tsrnn.engine.stack import RecurrentStack

    workspace.clear()
    rng = np.random.default_rng(0)
    stack = RecurrentStack("lstm", 3, 64, 1, dtype=np.float32)
    theta = stack.init_params(rng)
    x1 = rng.standard_normal((48, 32, 3)).astype(np.float32)
    x2 = rng.standard_normal((48, 32, 3)).astype(np.float32)
    out1, _, _ = stack.forward(theta, x1)
    kept = out1.copy()
    out2, _, _ = stack.forward(theta, x2)
    np.testing.assert_array_equal(out1, kept)
    assert not np.shares_memory(out1, out2)
    again, _, _ = stack.forward(theta, x1)
    np.testing.assert_array_equal(again, kept)


# ------------------------------------------------------------------ Spares
def test_spares_lend_one_array_to_one_call_at_a_time():
    sp = workspace.Spares()
    a = sp.get("k", (3, 4), np.dtype(np.float32))
    b = sp.get("k", (3, 4), np.dtype(np.float32))  # a is out: a new one
    assert a is not b and not np.shares_memory(a, b)
    sp.put("k", a)
    assert sp.get("k", (3, 4), np.dtype(np.float32)) is a
    sp.put("k", a)
    # another shape or dtype: a new array
    assert sp.get("k", (4, 3), np.dtype(np.float32)) is not a
    sp.put("k", a)
    assert sp.get("k", (3, 4), np.dtype(np.float64)).dtype == np.float64
    z = sp.get("z", (2, 2), np.dtype(np.float32), np.zeros)
    assert not z.any()


def test_spares_lend_groups_by_signature():
    sp = workspace.Spares()
    made = []

    def make():
        made.append(1)
        return [np.empty(3)]

    e1 = sp.lend("g", (1, 2), make)
    sp.put("g", e1)
    assert sp.lend("g", (1, 2), make) is e1 and len(made) == 1
    assert sp.lend("g", (1, 2), make) is not e1  # e1 is out
    sp.put("g", e1)
    e3 = sp.lend("g", (2, 2), make)  # another signature
    assert e3 is not e1 and e3[0] == (2, 2) and len(made) == 3


def test_a_network_pickles_without_its_scratch_and_gives_the_same_steps():
    import pickle

    from tsrnn.engine import Adam, LinearHead, Network, get_loss
    from tsrnn.engine.stack import RecurrentStack

    def run(net, steps=3):
        rng = np.random.default_rng(0)
        theta = net.init_params(rng)
        opt = Adam(theta.size, 1e-2, dtype=np.float32)
        x = rng.standard_normal((7, 9, 3)).astype(np.float32)
        y = rng.standard_normal((9, 2)).astype(np.float32)
        out = []
        for _ in range(steps):
            r = net.train_step(theta, opt, x, y, None, get_loss("squared_error"))
            out.append((r.loss, r.grad_norm, r.zero_loss, r.state.copy()))
        out.append(net.forward(theta, x, keep_cache=False)[0])
        return theta, out

    def fresh():
        return Network(
            RecurrentStack("lstm", 3, 16, 2, dtype=np.float32), LinearHead(16, 2, "last")
        )

    net = fresh()
    theta, out = run(net)
    assert "_spares" in net.stack.__dict__ and "_step_grad" in net.__dict__
    clone = pickle.loads(pickle.dumps(net))
    assert "_spares" not in clone.stack.__dict__ and "_step_grad" not in clone.__dict__
    assert "_spares" not in clone.__dict__
    # a network whose scratch is reused gives the bits of a fresh one at each step
    theta2, out2 = run(clone)
    theta3, out3 = run(fresh(), steps=3)
    assert theta.tobytes() == theta2.tobytes() == theta3.tobytes()
    for a, b in zip(out, out3):
        if isinstance(a, tuple):
            assert all(np.asarray(u).tobytes() == np.asarray(v).tobytes() for u, v in zip(a, b))
        else:
            assert a.tobytes() == b.tobytes()


def test_lstm_forward_writes_the_bias_column_of_its_rows():
    from tsrnn.engine.stack import RecurrentStack

    stack = RecurrentStack("lstm", 3, 5, 1, dtype=np.float32)
    theta = stack.init_params(np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((6, 4, 3)).astype(np.float32)
    workspace.clear()
    _, _, cache = stack.forward(theta, x)
    xhs = cache.layers[0][0].xhs
    assert xhs.shape == (6, 4, 3 + 5 + 1)
    assert (xhs[:, :, 8] == 1.0).all()


def test_a_last_pooled_head_lends_its_zero_d_out_and_takes_it_back():
    """LinearHead(pooling="last") returns dL/d out in a zero array it keeps:
    written at the last step only, zero again after ``release``, the same
    array at the next call; not pickled with the head."""
    import pickle

    from tsrnn.engine import LinearHead

    head = LinearHead(3, 1, "last")
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(head.layout.size)
    grad = np.zeros_like(theta)
    out = rng.standard_normal((5, 2, 3))
    _, cache = head.forward(theta, out, None)
    d_out = head.backward(theta, grad, cache, np.ones((2, 1)))
    assert d_out.shape == (5, 2, 3) and not d_out[:-1].any() and d_out[-1].any()
    head.release(d_out)
    assert not d_out.any()
    again = head.backward(theta, grad, cache, np.ones((2, 1)))
    assert again is d_out
    head.release(again)
    assert "_spares" not in pickle.loads(pickle.dumps(head)).__dict__
