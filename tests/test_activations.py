"""The vectorizable exp/sigmoid/tanh maps of ``tsrnn.kernels._activations``.

References are NumPy's libm-backed ``exp``/``tanh`` (float64, within an ulp);
float32 maps are measured against the float64 result, so the error counted is
tsrnn's alone. The module promises "a few ulp"; the bounds below are what that
means in numbers, with NaN propagation, saturated tails and results that do not
depend on where an element sits in its row (vector body vs scalar remainder).
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.kernels._activations import (
    lstm_cell_2d,
    lstm_cell_back_2d,
    lstm_gates_2d,
    lstm_output_2d,
    sigmoid_of,
    sigmoid_of_scaled_2d,
    sigmoid_of_sum,
    tanh_2d,
    tanh_of,
)
from tsrnn.kernels._cellrows import back_rows_reference

DTYPES = [np.float32, np.float64]


def _grid(dtype):
    rng = np.random.default_rng(0)
    parts = [
        np.linspace(-30, 30, 20001),
        rng.standard_normal(20000) * 3,
        np.geomspace(1e-30, 0.5, 2000),  # tanh's small-argument branch
        -np.geomspace(1e-30, 0.5, 2000),
        np.array([0.0, -0.0, 0.39999, 0.4, 0.40001, -0.4, 80.0, -80.0, 700.0, -700.0]),
    ]
    x = np.concatenate(parts).astype(dtype)
    if dtype == np.float32:  # stay where float32 exp is finite
        x = x[np.abs(x) < 80]
    return x


def _ulps(got, ref64, dtype):
    ref = ref64.astype(dtype)
    spacing = np.spacing(np.abs(ref)).astype(np.float64)
    # below the smallest normal the ulp is constant; relative error is moot
    spacing = np.maximum(spacing, np.finfo(dtype).tiny)
    return np.abs(got.astype(np.float64) - ref64) / spacing


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_is_within_a_few_ulp(dtype):
    x = _grid(dtype)
    out = np.empty_like(x)
    tanh_of(x, out)
    err = _ulps(out, np.tanh(x.astype(np.float64)), dtype)
    assert err.max() <= 4, f"max {err.max():.2f} ulp at x={x[err.argmax()]!r}"
    assert np.all(np.abs(out) <= 1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_is_within_a_few_ulp(dtype):
    x = _grid(dtype)
    out = np.empty_like(x)
    sigmoid_of(x, out)
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x64))  # the stable form on each side, libm's exp
    ref = np.where(x64 < 0, e / (1.0 + e), 1.0 / (1.0 + e))
    err = _ulps(out, ref, dtype)
    assert err.max() <= 4, f"max {err.max():.2f} ulp at x={x[err.argmax()]!r}"
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_argument_and_2d_maps_match_the_1d_ones(dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((5, 37)) * 4).astype(dtype)
    b = (rng.standard_normal(37) * 4).astype(dtype)
    scale = rng.uniform(0.5, 2.0, 37).astype(dtype)
    for i in range(a.shape[0]):
        out2 = np.empty(37, dtype)
        sigmoid_of_sum(a[i], b, out2)
        ref = np.empty(37, dtype)
        sigmoid_of((a[i] + b).astype(dtype), ref)
        np.testing.assert_array_equal(out2, ref)
    out = np.empty_like(a)
    sigmoid_of_scaled_2d(a, scale, out)
    ref = np.empty(a.size, dtype)
    sigmoid_of((a * scale).astype(dtype).ravel(), ref)
    np.testing.assert_array_equal(out.ravel(), ref)
    tanh_2d(a, out)
    tanh_of(a.ravel().copy(), ref)
    np.testing.assert_array_equal(out.ravel(), ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_propagates_and_tails_saturate(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30], dtype)
    t = np.empty_like(x)
    s = np.empty_like(x)
    tanh_of(x, t)
    sigmoid_of(x, s)
    assert np.isnan(t[0]) and np.isnan(s[0])
    np.testing.assert_array_equal(t[1:], np.array([1, -1, 1, -1], dtype))
    np.testing.assert_array_equal(s[[1, 3]], np.array([1, 1], dtype))
    # exp's argument is clamped to the finite range: the lower tail is a
    # subnormal-sized positive number, not an exact 0
    assert np.all((s[[2, 4]] >= 0) & (s[[2, 4]] < 10 * np.finfo(dtype).tiny))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shift", [1, 3, 7, 13])
def test_results_do_not_depend_on_position_in_the_row(dtype, shift):
    # the same values at another offset fall into other vector lanes and,
    # near the end, into the scalar remainder loop: bit-for-bit equal results
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(203) * 5).astype(dtype)
    base = np.empty_like(x)
    tanh_of(x, base)
    padded = np.concatenate([np.zeros(shift, dtype), x])
    out = np.empty_like(padded)
    tanh_of(padded, out)
    np.testing.assert_array_equal(out[shift:], base)
    sigmoid_of(x, base)
    sigmoid_of(padded, out)
    np.testing.assert_array_equal(out[shift:], base)


# ------------------------------------------------------ the LSTM step's passes
def _sig64(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_gates_are_sigmoid_and_tanh(dtype):
    """Scale 1 columns are sigmoid to a few ulp; scale 2 columns are tanh
    (``2 sigmoid(2 x) - 1``: a few ulp of 1 in absolute terms)."""
    rng = np.random.default_rng(2)
    H = 19
    a = (rng.standard_normal((6, 4 * H)) * 4).astype(dtype)
    scale = np.ones(4 * H, dtype)
    scale[2 * H : 3 * H] = 2.0
    out = np.empty_like(a)
    lstm_gates_2d(a, scale, out)
    a64 = a.astype(np.float64)
    sig = np.concatenate([a[:, : 2 * H], a[:, 3 * H :]], axis=1)
    got = np.concatenate([out[:, : 2 * H], out[:, 3 * H :]], axis=1)
    ref = _sig64(sig.astype(np.float64))
    assert _ulps(got, ref, dtype).max() <= 4
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(
        out[:, 2 * H : 3 * H], np.tanh(a64[:, 2 * H : 3 * H]), rtol=0, atol=4 * eps
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_output_and_backward_passes_match_the_equations(dtype):
    """The forward passes give ``c = f c' + i g``, ``tanh(c)``, ``h = o tanh(c)``
    (``h`` also into the next product row); the backward pass gives torch's
    gate gradients, ``dL/dc_{t-1}`` and ``||dh||^2``; rows outside
    ``r0 .. r1 - 1`` are left alone."""
    rng = np.random.default_rng(3)
    B, H, r0, r1, col0 = 7, 21, 2, 6, 3
    gates = rng.uniform(0.05, 0.95, (B, 4 * H)).astype(dtype)
    gates[:, 2 * H : 3 * H] = 2 * gates[:, 2 * H : 3 * H] - 1  # g in (-1, 1)
    cp = rng.standard_normal((B, H)).astype(dtype)
    cn = np.full((B, H), 7.0, dtype)
    tn = np.full((B, H), 7.0, dtype)
    lstm_cell_2d(gates, cp, cn, tn, r0, r1)
    g64 = gates.astype(np.float64)
    i, f, g, o = (g64[:, k * H : (k + 1) * H] for k in range(4))
    c_ref = f * cp + i * g
    tol = 8 * np.finfo(dtype).eps
    rows = slice(r0, r1)
    np.testing.assert_allclose(cn[rows], c_ref[rows], rtol=tol, atol=tol)
    np.testing.assert_allclose(tn[rows], np.tanh(c_ref[rows]), rtol=tol, atol=tol)
    assert (cn[:r0] == 7).all() and (cn[r1:] == 7).all() and (tn[r1:] == 7).all()

    hn = np.full((B, H), 7.0, dtype)
    xn = np.full((B, col0 + H + 2), 7.0, dtype)
    lstm_output_2d(gates, tn, hn, xn, col0, r0, r1)
    h_ref = o * tn.astype(np.float64)
    np.testing.assert_allclose(hn[rows], h_ref[rows], rtol=tol, atol=tol)
    np.testing.assert_array_equal(xn[rows, col0 : col0 + H], hn[rows])
    assert (xn[rows, :col0] == 7).all() and (xn[rows, col0 + H :] == 7).all()
    assert (hn[:r0] == 7).all() and (xn[r1:] == 7).all()

    dh = rng.standard_normal((B, H)).astype(dtype)
    dc = rng.standard_normal((B, H)).astype(dtype)
    tc = np.tanh(rng.standard_normal((B, H))).astype(dtype)
    sq = np.full(B, 7.0)
    d = gates.copy()
    dc_out = dc.copy()
    lstm_cell_back_2d(d, cp, tc, dh, dc_out, sq, r0, r1)
    dh64, tc64 = dh.astype(np.float64), tc.astype(np.float64)
    dcj = dc + dh64 * o * (1 - tc64**2)
    want = np.concatenate(
        [
            dcj * g * i * (1 - i),
            dcj * cp * f * (1 - f),
            dcj * i * (1 - g**2),
            dh64 * tc64 * o * (1 - o),
        ],
        axis=1,
    )
    np.testing.assert_allclose(d[rows], want[rows], rtol=tol, atol=tol)
    np.testing.assert_allclose(dc_out[rows], (dcj * f)[rows], rtol=tol, atol=tol)
    np.testing.assert_allclose(
        sq[rows], (dh64**2).sum(axis=1)[rows], rtol=1e-12, atol=0
    )
    np.testing.assert_array_equal(d[:r0], gates[:r0])
    np.testing.assert_array_equal(dc_out[r1:], dc[r1:])
    assert (sq[:r0] == 7).all() and (sq[r1:] == 7).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("H", [1, 5, 8, 16, 21, 32, 40, 64])
def test_backward_cell_step_gives_the_bits_of_the_operations_one_by_one(dtype, H):
    """The vector code of the backward cell step (``_cellrows.lstm_back_rows``) (whole vectors and the
    staged tail of ``H mod lanes`` units) rounds exactly as its operations
    done one at a time (NumPy, element-wise), on the rows asked only."""
    rng = np.random.default_rng(H)
    B, r0, r1 = 7, 1, 6
    gates = rng.uniform(0.05, 0.95, (B, 4 * H)).astype(dtype)
    cp, tc, dh, dc = (rng.standard_normal((B, H)).astype(dtype) for _ in range(4))
    got_g, got_c = gates.copy(), dc.copy()
    lstm_cell_back_2d(got_g, cp, tc, dh, got_c, np.zeros(B), r0, r1)
    ref_g, ref_c = gates.copy(), dc.copy()
    back_rows_reference(ref_g, cp, tc, dh, ref_c, r0, r1)
    np.testing.assert_array_equal(got_g, ref_g)
    np.testing.assert_array_equal(got_c, ref_c)
    np.testing.assert_array_equal(got_g[:r0], gates[:r0])
    np.testing.assert_array_equal(got_c[r1:], dc[r1:])


# ------------------------------------------------ the LSTM forward step's rows
def _step_rows_scalar(rec, cp, col0, r0, r1, out):
    """The forward step by the scalar maps (``_activations``), rows r0 .. r1 - 1."""
    B, G = rec.shape
    H = G // 4
    scale = np.ones(G, rec.dtype)
    scale[2 * H : 3 * H] = 2
    gates, cn, tc, h, xh = out
    g = np.empty_like(rec)
    lstm_gates_2d(rec, scale, g)
    gates[r0:r1] = g[r0:r1]
    lstm_cell_2d(gates, cp, cn, tc, r0, r1)
    lstm_output_2d(gates, tc, h, xh, col0, r0, r1)


_STEP_CALLERS = {}


def _call_step(kernel, rec, out, cp, col0, r0, r1):
    """Call a step-rows intrinsic (compiled code only) through a jitted caller."""
    if kernel not in _STEP_CALLERS:
        from numba import njit

        @njit
        def call(rec, gates, cp, cn, tc, h, xh, col0, r0, r1):
            kernel(rec, gates, cp, cn, tc, h, xh, col0, r0, r1)

        _STEP_CALLERS[kernel] = call
    gates, cn, tc, h, xh = out
    _STEP_CALLERS[kernel](rec, gates, cp, cn, tc, h, xh, col0, r0, r1)


def _step_inputs(dtype, B, H, seed):
    rng = np.random.default_rng(seed)
    scale = rng.choice([0.1, 1.0, 5.0, 40.0], (B, 4 * H))
    rec = (rng.standard_normal((B, 4 * H)) * scale).astype(dtype)
    rec.flat[::37] = 95.0
    rec.flat[5::41] = -95.0
    rec.flat[7::53] = np.nan
    cp = (rng.standard_normal((B, H)) * 3).astype(dtype)
    return rec, cp


def _step_outputs(dtype, B, H, col0):
    out = [np.full((B, 4 * H), 7.0, dtype)]
    out += [np.full((B, H), 7.0, dtype) for _ in range(3)]
    out.append(np.full((B, col0 + H + 2), 7.0, dtype))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("H", [1, 5, 8, 16, 17, 32, 40, 64])
def test_forward_step_rows(dtype, H):
    """``lstm_step_rows_exact`` gives the scalar maps' bits (NaN where they
    give NaN); ``lstm_step_rows``, the scans' step (float32: the short exp,
    four rows a pass where a row is one vector), is within a few ulp of
    them (float64: the same bits); rows outside ``r0 .. r1 - 1`` and
    columns outside ``col0 .. col0 + H - 1`` are left alone, for every row
    count (passes of four rows past the end)."""
    from tsrnn.kernels._cellrows import lstm_step_rows, lstm_step_rows_exact

    col0 = 3
    eps = np.finfo(dtype).eps
    for B, r0, r1 in [(9, 0, 9), (11, 2, 9), (6, 1, 2), (8, 3, 6)]:
        rec, cp = _step_inputs(dtype, B, H, B * 100 + H)
        ref = _step_outputs(dtype, B, H, col0)
        _step_rows_scalar(rec, cp, col0, r0, r1, ref)
        for kernel in (lstm_step_rows_exact, lstm_step_rows):
            got = _step_outputs(dtype, B, H, col0)
            _call_step(kernel, rec, got, cp, col0, r0, r1)
            exact = kernel is lstm_step_rows_exact or dtype == np.float64
            for a, b in zip(got, ref):
                if exact:
                    np.testing.assert_array_equal(a, b)
                else:
                    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
                    # measured: at most 2 eps of max(1, |value|) (1 for the
                    # gates, 1.25 for c, 2 for tanh(c) and h)
                    d = np.abs(a.astype(np.float64) - b) / np.maximum(1, np.abs(b))
                    assert np.nanmax(d) <= 3 * eps
            untouched = np.r_[0:r0, r1:B]
            for a in got:
                assert (a[untouched] == 7).all()
            xh = got[4]
            assert (xh[r0:r1, :col0] == 7).all() and (xh[r0:r1, col0 + H :] == 7).all()


@pytest.mark.parametrize("short", [False, True], ids=["scalar-exp", "short-exp"])
@pytest.mark.parametrize("recip", ["exact", "estimate"])
def test_forward_step_float32_accuracy(short, recip):
    """The float32 step's sigmoid and tanh against float64 on a dense grid:
    the sigmoid within 4.5 ulp wherever it is a normal number (x >= -87;
    the short exp's one-constant reduction costs up to 2 ulp in the far
    lower tail, 3 for |x| <= 20), the tanh of the g gate and of c within a
    few ulp of 1 (``2 sigmoid(2 x) - 1``), with the division or with the
    reciprocal estimate and one Newton step (where the CPU has one)."""
    from tsrnn.kernels import _cellrows as cr

    if recip == "estimate":
        if cr.RECIP_ESTIMATE == "exact":
            pytest.skip("no reciprocal estimate with FMA on this CPU")
        recip = cr.RECIP_ESTIMATE
    kernel = cr._make_step_rows(recip, short, 4 if short else 1)
    H = 64
    x = np.concatenate(
        [np.arange(-30, 30, 2.0**-10), np.arange(-87, 87, 2.0**-4)]
    ).astype(np.float32)
    x = np.concatenate([x, np.zeros(-x.size % H, np.float32)])
    X = x.reshape(-1, H)
    B = X.shape[0]
    rec = np.empty((B, 4 * H), np.float32)
    rec[:, :H] = X  # i = sigmoid(x)
    rec[:, H : 2 * H] = 100.0  # f = 1
    rec[:, 2 * H : 3 * H] = X  # g = tanh(x)
    rec[:, 3 * H :] = -100.0  # o ~ 0
    out = _step_outputs(np.float32, B, H, 0)
    _call_step(kernel, rec, out, np.zeros((B, H), np.float32), 0, 0, B)
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x64))
    sig = np.where(x64 < 0, e / (1.0 + e), 1.0 / (1.0 + e))
    err = _ulps(out[0][:, :H].ravel(), sig, np.float32)
    assert err.max() <= 4.5, f"max {err.max():.2f} ulp at x={x[err.argmax()]!r}"
    eps = np.finfo(np.float32).eps
    # AVX2's estimate has 12 bits (AVX-512's 14): after its Newton step the
    # tanh, 2 sigmoid(2 x) - 1, is within 2.35 eps (measured, AMD EPYC with
    # AVX2 only; 2 with AVX-512 or the division)
    tol = (2.5 if recip == "llvm.x86.avx.rcp.ps.256" else 2) * eps
    g = out[0][:, 2 * H : 3 * H].ravel().astype(np.float64)
    np.testing.assert_allclose(g, np.tanh(x64), rtol=0, atol=tol)
    # tanh(c) with c = c_prev (f = 1, i g ~ 1e-38 g)
    rec[:, :H] = -100.0
    _call_step(kernel, rec, out, X.copy(), 0, 0, B)
    tc, c = out[2].ravel().astype(np.float64), out[1].ravel().astype(np.float64)
    np.testing.assert_allclose(tc, np.tanh(c), rtol=0, atol=tol)
