"""The per-step head's extras-and-bias kernels against the NumPy expressions.

:mod:`tsrnn.kernels.head_extras` replaced an ``einsum`` and two additions
(forward) and a column sum and an ``einsum`` (backward) in
:class:`~tsrnn.engine.heads.StepwiseHead`; the expressions are the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.kernels.head_extras import add_extras_bias, extras_bias_grads


def _case(dtype, R=37, S=4, J=2, P=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((R, S * J)).astype(dtype)
    e3 = rng.standard_normal((R, S, P)).astype(dtype)
    E = rng.standard_normal((S, J, P)).astype(dtype)
    b = rng.standard_normal(S * J).astype(dtype)
    return y, e3, E, b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape", [(37, 4, 2, 3), (1, 1, 1, 1), (16, 8, 1, 5), (5, 1, 1, 0)]
)
def test_forward_is_the_einsum_and_the_bias(dtype, shape):
    R, S, J, P = shape
    y, e3, E, b = _case(dtype, R, S, J, P)
    want = y + np.einsum("rsp,sjp->rsj", e3, E).reshape(R, -1)
    want += b
    got = y.copy()
    add_extras_bias(got, e3, E, b)
    # the same sums in another order: a few ulp of the largest term
    big = np.abs(e3).max(initial=0) * np.abs(E).max(initial=0)
    tol = 8 * np.finfo(dtype).eps * (1 + big * P)
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
    if P == 0:  # no extras: the bias alone, bit for bit
        np.testing.assert_array_equal(got, y + b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape", [(37, 4, 2, 3), (1, 1, 1, 1), (448, 8, 1, 5), (5, 1, 1, 0)]
)
def test_gradients_are_the_column_sum_and_the_einsum(dtype, shape):
    R, S, J, P = shape
    dy, e3, E, b = _case(dtype, R, S, J, P, seed=1)
    gE0 = np.random.default_rng(2).standard_normal(E.shape).astype(dtype)
    gb0 = np.random.default_rng(3).standard_normal(b.shape).astype(dtype)
    gE, gb = gE0.copy(), gb0.copy()
    extras_bias_grads(dy, e3, gE, gb)
    # the rows in order, as NumPy reduces an axis-0 sum and this einsum
    np.testing.assert_array_equal(gb, gb0 + dy.sum(axis=0))
    want = gE0 + np.einsum("rsp,rsj->sjp", e3, dy.reshape(R, S, J))
    big = np.abs(e3).max(initial=0) * np.abs(dy).max(initial=0)
    tol = 4 * np.finfo(dtype).eps * R * (1 + big)
    np.testing.assert_allclose(gE, want, rtol=0, atol=tol)


def test_gradients_of_no_rows_add_nothing():
    dy, e3 = np.zeros((0, 4)), np.zeros((0, 2, 3))
    gE, gb = np.ones((2, 2, 3)), np.ones(4)
    extras_bias_grads(dy, e3, gE, gb)
    np.testing.assert_array_equal(gE, 1.0)
    np.testing.assert_array_equal(gb, 1.0)
