"""Kernels read no buffer before writing it; any thread split gives the same bits.

A kernel that reads a buffer before writing it (``np.empty``, the scans'
recycled work arrays, the packed panels' padding, a tile's rows past the
range it was given) computes with whatever the memory held: in a long test
run that can be NaN, in a fresh process usually zeros, so such a bug shows up
only now and then. Here every buffer the engine allocates is filled with NaN
first, the rows of every scan and product are split between threads at odd
places, and the results must be the bits of a plain run (and, for the
register tile, the float64 product's values).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import tsrnn.engine.cells as cells
import tsrnn.kernels._linalg as linalg
import tsrnn.kernels.gemm_tn as gemm_tn
from tsrnn.engine import Adam, LinearHead, Network, get_loss, threads
from tsrnn.engine.stack import RecurrentStack
from tsrnn.kernels._linalg import pack_panels, panel_matmul

_np_empty = np.empty
_np_empty_like = np.empty_like


def _poisoned(a):
    if a.dtype.kind == "f":
        a.fill(np.nan)
    return a


def _poison_buffers(monkeypatch):
    """Every array the engine takes uninitialized comes filled with NaN."""
    take, aligned = cells.take, linalg.aligned_empty
    monkeypatch.setattr(np, "empty", lambda *a, **k: _poisoned(_np_empty(*a, **k)))
    monkeypatch.setattr(
        np, "empty_like", lambda *a, **k: _poisoned(_np_empty_like(*a, **k))
    )
    monkeypatch.setattr(cells, "take", lambda *a: _poisoned(take(*a)))
    for mod in (linalg, gemm_tn, cells):
        monkeypatch.setattr(
            mod, "aligned_empty", lambda *a, **k: _poisoned(aligned(*a, **k))
        )


def _split_everything(monkeypatch):
    """Every scan and product split between 2 threads, at rows not a multiple of 4."""
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_WORK", 1)
    monkeypatch.setattr(threads, "MIN_ROWS", 1)
    monkeypatch.setattr(threads, "PART_ROWS", 1)
    calls = []
    run = threads.run_tasks
    monkeypatch.setattr(
        threads, "run_tasks", lambda g: calls.append(len([x for x in g if x])) or run(g)
    )
    return calls


# odd sizes: B = 9 streams (two 4-row tiles and one left over), H = 19 (a
# partial panel in both dtypes), T * B = 63 rows of the hoisted products
T, B, I, H = 7, 9, 3, 19  # noqa: E741  (as conftest)
CASES = [
    ("rnn", "tanh", I),
    ("rnn", "relu", I),
    ("lstm", "tanh", I),
    ("gru", "tanh", I),
    ("sru", "tanh", H),  # k = 3: the highway skip
    ("sru", "tanh", I),  # k = 4
]


def _batch(cell, nonlinearity, n_in, dtype, seed=0):
    rng = np.random.default_rng(seed)
    stack = RecurrentStack(cell, n_in, H, 2, nonlinearity=nonlinearity, dtype=dtype)
    net = Network(stack, LinearHead(H, 3, "none"))
    theta = (net.init_params(rng) + 0.1 * rng.standard_normal(net.size)).astype(dtype)
    x = rng.standard_normal((T, B, n_in)).astype(dtype)
    y = rng.standard_normal((T, B, 1)).astype(dtype)
    mask = np.ones_like(y)
    return net, theta, x, y, mask


def _grad(net, theta, x, y, mask):
    loss, grad, state, dh = net.loss_grad(
        theta, x, y, mask, get_loss("pinball"), training=False
    )
    return np.float64(loss), grad.copy(), state.copy(), dh.copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell,nonlinearity,n_in", CASES)
def test_gradients_ignore_buffer_contents_and_thread_split(
    monkeypatch, cell, nonlinearity, n_in, dtype
):
    net, theta, x, y, mask = _batch(cell, nonlinearity, n_in, dtype)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    plain = _grad(net, theta, x, y, mask)
    assert all(np.isfinite(a).all() for a in plain)
    with monkeypatch.context() as m:
        _poison_buffers(m)
        poisoned = _grad(net, theta, x, y, mask)
    for a, b in zip(plain, poisoned, strict=True):
        np.testing.assert_array_equal(a, b)
    with monkeypatch.context() as m:
        calls = _split_everything(m)
        _poison_buffers(m)
        split = _grad(net, theta, x, y, mask)
    assert max(calls) == 2  # rows did go to two threads
    for a, b in zip(plain, split, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K,N", [(1, 1), (5, 17), (37, 33), (19, 70), (64, 128)])
@pytest.mark.parametrize("init_kind", ["none", "bias", "rows"])
def test_tile_writes_only_its_rows_and_any_row_split_gives_the_same_bits(
    dtype, K, N, init_kind
):
    rng = np.random.default_rng(K * 1000 + N)
    M = 13  # tiles of 8 and 4 rows, and a row left over
    a = rng.standard_normal((M, K)).astype(dtype)
    w = rng.standard_normal((K, N)).astype(dtype)
    wp = pack_panels(w)
    init = {
        "none": None,
        "bias": rng.standard_normal((1, N)).astype(dtype),
        "rows": rng.standard_normal((M, N)).astype(dtype),
    }[init_kind]
    ref = a.astype(np.float64) @ w.astype(np.float64)
    if init is not None:
        ref = ref + init.astype(np.float64)
    whole = np.full((M, N), np.nan, dtype)
    panel_matmul(a, wp, init, whole, 0, M)
    tol = 2e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(
        whole, ref, rtol=tol, atol=tol * max(1.0, np.abs(ref).max())
    )
    for cuts in ([0, 1, M], [0, 5, 9, M], [0, 3, 7, 8, 12, M], list(range(M + 1))):
        out = np.full((M, N), np.nan, dtype)
        for r0, r1 in zip(cuts[:-1], cuts[1:], strict=True):
            before = out.copy()
            panel_matmul(a, wp, init, out, r0, r1)
            # nothing outside the rows given (another thread's) was touched
            np.testing.assert_array_equal(out[:r0], before[:r0])
            np.testing.assert_array_equal(out[r1:], before[r1:])
        np.testing.assert_array_equal(out, whole)


def test_tile_accumulates_in_place_with_nan_padding_in_the_panels():
    # init is out itself (accumulate); the panels' padding columns are NaN
    # (they must never reach a stored column)
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        M, K, N = 11, 6, 21
        a = rng.standard_normal((M, K)).astype(dtype)
        w = rng.standard_normal((K, N)).astype(dtype)
        wp = pack_panels(w)
        nr = wp.shape[2]
        wp[-1, :, N - (wp.shape[0] - 1) * nr :] = np.nan
        out = rng.standard_normal((M, N)).astype(dtype)
        ref = out.astype(np.float64) + a.astype(np.float64) @ w.astype(np.float64)
        panel_matmul(a, wp, out, out, 0, M)
        assert np.isfinite(out).all()
        tol = 2e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_kernel_gives_the_bits_of_the_numpy_expressions(dtype):
    if dtype == np.float32 and int(np.__version__.split(".")[0]) < 2:
        # the kernel follows NumPy 2's promotion (NEP 50: a float64 scalar
        # makes the bias-corrected denominator float64); NumPy 1's
        # value-based casting keeps the expressions in float32, 1 ulp apart
        pytest.skip("the NumPy expressions' float32 bits are NumPy 2's (NEP 50)")
    rng = np.random.default_rng(1)
    n = 37
    theta = rng.standard_normal(n).astype(dtype)
    fast, slow = Adam(n, 0.01, dtype=dtype), Adam(n, 0.01, dtype=dtype)
    t_fast, t_slow = theta.copy(), theta.copy()
    for _ in range(5):
        g = rng.standard_normal(n).astype(dtype)
        fast.step(t_fast, g)
        # a non-contiguous theta takes the NumPy expressions
        wide = np.zeros((n, 2), dtype)
        wide[:, 0] = t_slow
        slow.step(wide[:, 0], g)
        t_slow = wide[:, 0].copy()
        np.testing.assert_array_equal(t_fast, t_slow)
        np.testing.assert_array_equal(fast.m, slow.m)
        np.testing.assert_array_equal(fast.v, slow.v)


def test_fewer_splits_asks_more_work_per_thread_in_its_thread_only(monkeypatch):
    # a forecaster's fit runs under fewer_splits(2): a call of 3x PARALLEL_WORK
    # splits in two without it, stays on one thread with it; other threads and
    # the code after the block are not affected
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    ranges = []
    kernel = lambda *a: ranges.append(a[-2:])  # noqa: E731  (r0, r1)
    work = 3 * threads.PARALLEL_WORK / 64
    threads.run_rows(kernel, (), 64, work)
    assert len(ranges) == 2
    ranges.clear()
    with threads.fewer_splits(2):
        assert threads.parallel_work() == 2 * threads.PARALLEL_WORK
        threads.run_rows(kernel, (), 64, work)
        assert ranges == [(0, 64)]
        with ThreadPoolExecutor(1) as pool:  # another thread: the engine's rule
            other = pool.submit(threads.parallel_work).result()
        assert other == threads.PARALLEL_WORK
    assert threads.parallel_work() == threads.PARALLEL_WORK


def test_a_fit_gives_the_same_bits_with_or_without_fewer_splits(monkeypatch):
    # (scaled down) calls that split at the engine's PARALLEL_WORK and not
    # under a fit's fewer_splits: the same fitted bits
    import warnings

    import pandas as pd
    from sklearn.exceptions import ConvergenceWarning

    from tsrnn import RNNForecaster
    from tsrnn.estimators.forecaster import estimator

    rng = np.random.default_rng(4)
    y = np.cumsum(rng.normal(size=(6, 40)), axis=1) + 20.0
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(list("abcdef"), 40),
            "ds": np.tile(np.arange(40), 6),
            "y": y.ravel(),
        }
    )
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_WORK", 3_000)
    monkeypatch.setattr(threads, "MIN_ROWS", 1)
    run = threads.run_tasks
    fits = []
    for factor in (1, 1000):
        monkeypatch.setattr(estimator, "FIT_SPLIT_FACTOR", factor)
        calls = []

        def counting(groups, calls=calls):
            calls.append(1)
            return run(groups)

        with monkeypatch.context() as m:
            m.setattr(threads, "run_tasks", counting)
            f = RNNForecaster(horizon=3, hidden_size=8, max_iter=2, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                f.fit(df)
        fits.append((len(calls), f.params_.copy(), f.predict(3).y.to_numpy()))
    assert fits[0][0] > fits[1][0]  # fewer calls split
    np.testing.assert_array_equal(fits[0][1], fits[1][1])
    np.testing.assert_array_equal(fits[0][2], fits[1][2])
