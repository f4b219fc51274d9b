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
