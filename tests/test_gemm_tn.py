"""The weight-gradient product after a scan (``tsrnn.kernels.gemm_tn``).

``out += a^T w`` over the window's rows: the float64 product's values, and
bits that depend neither on which rows of ``out`` a call (a thread) takes nor
on where a column falls (whole panel or the zero-padded last one).
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.engine.threads import weight_gradients
from tsrnn.kernels._linalg import panel_width
from tsrnn.kernels.gemm_tn import KC, add_transposed, tn_accumulate


def _padded(M, N, dtype):
    nr = panel_width(dtype)
    return np.zeros((M, -(-N // nr) * nr), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K, M, N", [(3 * KC, 21, 64), (2 * KC + 5, 10, 20), (7, 6, 3)])
def test_tn_product_values_and_split_independence(dtype, K, M, N):
    rng = np.random.default_rng(K + M + N)
    a = rng.standard_normal((K, M)).astype(dtype)
    w = rng.standard_normal((K, N)).astype(dtype)
    out = _padded(M, N, dtype)
    tn_accumulate(a, w, out)
    ref = a.astype(np.float64).T @ w.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out[:, :N], ref, rtol=tol, atol=tol * np.abs(ref).max())
    assert (out[:, N:] == 0).all()
    # any split of the columns into panels: the same bits
    nr = panel_width(dtype)
    for j0 in range(0, out.shape[1], nr):
        part = np.zeros((M, nr), dtype)
        tn_accumulate(a, w, part, j0)
        np.testing.assert_array_equal(part, out[:, j0 : j0 + nr])
    # accumulates into what is there
    again = out.copy()
    tn_accumulate(a, w, again)
    np.testing.assert_allclose(again, 2 * out, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tn_columns_get_the_same_bits_in_any_panel(dtype):
    """A column in the partial last panel equals the same column in a whole one."""
    rng = np.random.default_rng(5)
    K, M = 2 * KC + 3, 9
    nr = panel_width(dtype)
    a = rng.standard_normal((K, M)).astype(dtype)
    w = rng.standard_normal((K, nr + 3)).astype(dtype)
    out = _padded(M, w.shape[1], dtype)
    tn_accumulate(a, w, out)
    shifted = np.ascontiguousarray(w[:, 2:])  # columns 2.. move to 0..
    out2 = _padded(M, shifted.shape[1], dtype)
    tn_accumulate(a, shifted, out2)
    np.testing.assert_array_equal(out2[:, : nr + 1], out[:, 2 : nr + 3])


def test_weight_gradients_do_not_depend_on_the_thread_split(monkeypatch):
    from tsrnn.engine import threads

    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 37)).astype(np.float32)
    w = rng.standard_normal((300, 120)).astype(np.float32)
    one = weight_gradients(a, w)
    assert one.shape == (37, 120)
    monkeypatch.setattr(threads, "PARALLEL_WORK", 1)
    monkeypatch.setattr(threads, "n_threads", lambda: 3)
    np.testing.assert_array_equal(weight_gradients(a, w), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_transposed_gives_numpys_bits(dtype):
    """``add_transposed`` is ``dst += src[r0 : r0 + m, :n].T``, bit for bit
    (signed zeros included): the layer's gradients do not change with it."""
    rng = np.random.default_rng(11)
    src = rng.standard_normal((9, 48)).astype(dtype)
    src[0, :3] = -0.0
    for r0, m, n in [(0, 1, 20), (1, 7, 32), (3, 6, 5)]:
        dst = rng.standard_normal((n, m)).astype(dtype)
        dst[:2] = 0.0
        ref = dst.copy()
        ref += src[r0 : r0 + m, :n].T
        add_transposed(src, r0, dst)
        np.testing.assert_array_equal(dst, ref)
        assert (np.signbit(dst) == np.signbit(ref)).all()


def test_weight_gradients_padded_is_the_whole_panels():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((40, 6)).astype(np.float32)
    w = rng.standard_normal((40, 20)).astype(np.float32)
    full = weight_gradients(a, w, padded=True)
    assert full.flags.c_contiguous and full.shape[1] % panel_width(np.float32) == 0
    np.testing.assert_array_equal(full[:, :20], weight_gradients(a, w))
