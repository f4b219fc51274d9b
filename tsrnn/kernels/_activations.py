"""Vectorizable exp, sigmoid and tanh for the recurrent kernels.

Why not ``np.exp``/``np.tanh``: inside Numba they call scalar libm (about 9 ns
per element on our machines, no SVML), so the loops over gates cannot be
vectorized and the element-wise work dominates small models. The functions here
are written with only multiply, add, compare/select and integer bit tricks, all
of which LLVM turns into AVX2/AVX-512 code, and they are accurate to a few ulp:

* ``exp``: Cody-Waite reduction ``x = n ln2 + r`` with ``|r| <= ln2 / 2``, a
  Taylor polynomial for ``exp(r)`` (degree 13 in float64, 7 in float32, both past
  the last bit), and ``2**n`` built directly in the exponent bits (the
  round-to-nearest "shifter" trick of glibc and ARM's optimized-routines, which
  needs no float-to-int conversion).
* ``tanh``: ``1 - 2 / (exp(2|x|) + 1)`` with the sign restored; below
  ``|x| < 0.4`` (where that form cancels) the odd Taylor series of ``tanh``
  itself (to ``x**29`` in float64, ``x**11`` in float32), so the relative error
  stays a few ulp everywhere.
* ``sigmoid``: ``1 / (1 + exp(-x))``, exact in the tails because ``exp`` is.

NaN propagates (a diverging model must stay visibly diverged). Each function
is an ``@overload``-dispatched generic: float32 arguments get float32 code (8
lanes per AVX2 register) and float64 arguments get float64 code.

The kernels that inline these live in other files; their cache entries carry
a digest of every kernel source (``tsrnn.kernels._jit.kernel_sources_digest``),
so an edit here compiles them afresh.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

# --------------------------------------------------------------------------
# bit casts between floats and integers of the same width (no conversion)
# --------------------------------------------------------------------------


def _bitcast(source, target):
    """An intrinsic that reads the bits of a ``source`` value as a ``target``."""

    @intrinsic
    def cast(typingctx, x):
        sig = target(source)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))

        return sig, codegen

    return cast


_bits_f64 = _bitcast(types.float64, types.int64)
_float_i64 = _bitcast(types.int64, types.float64)
_bits_f32 = _bitcast(types.float32, types.int32)
_float_i32 = _bitcast(types.int32, types.float32)


# --------------------------------------------------------------------------
# fused multiply-add, the same in vector bodies and scalar remainders
# --------------------------------------------------------------------------
# LLVM's own contraction of ``a * b + c`` fused a loop's vector body but not its
# scalar remainder, so results depended on the arrays' alignment in the last
# bit. An explicit llvm.fma is one rounding everywhere (LLVM vectorizes it
# lane by lane), so every element gets the same result wherever it sits, and
# the polynomials take half the instructions. Without hardware FMA it is a
# multiply and an add, again the same in every lane.
from ._linalg import _FMA, request_wide_vectors  # noqa: E402


@intrinsic
def _fma(typingctx, a, b, c):
    if not (isinstance(a, types.Float) and a == b == c):
        return None
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        x, y, z = args
        if not _FMA:
            return builder.fadd(builder.fmul(x, y), z)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(x.type, [x.type] * 3),
            f"llvm.fma.f{signature.return_type.bitwidth}",
        )
        return builder.call(fn, [x, y, z])

    return sig, codegen


@intrinsic
def _wide_vectors(typingctx):
    """Let LLVM vectorize the calling function with 512-bit registers.

    LLVM's tuning for AVX-512 CPUs prefers 256-bit vectors; these maps are
    pure arithmetic on long rows, where twice the lanes is twice the speed
    (the same function attributes as the matrix tile, see ``_linalg``).
    """
    sig = types.none()

    def codegen(context, builder, signature, args):
        request_wide_vectors(builder)
        return context.get_dummy_value()

    return sig, codegen


# --------------------------------------------------------------------------
# float64
# --------------------------------------------------------------------------
# Declared mirror: _exp64/_tanh64/_sigmoid64 and the float32 functions below
# share their steps; the constants and polynomial degrees differ by precision.
from ._expconst import (  # noqa: E402  (shared with _cellrows' vector code)
    _EXP_HI,
    _EXP_LO,
    _LN2_HI,
    _LN2_LO,
    _LOG2E,
    _SHIFT,
)


@register_jitable
def _exp64(x):
    xc = min(max(x, _EXP_LO), _EXP_HI)
    kd = _fma(xc, _LOG2E, _SHIFT)
    ki = _bits_f64(kd)
    n = kd - _SHIFT
    r = _fma(-n, _LN2_LO, _fma(-n, _LN2_HI, xc))
    p = 1.0 / 6227020800.0
    p = _fma(p, r, 1.0 / 479001600.0)
    p = _fma(p, r, 1.0 / 39916800.0)
    p = _fma(p, r, 1.0 / 3628800.0)
    p = _fma(p, r, 1.0 / 362880.0)
    p = _fma(p, r, 1.0 / 40320.0)
    p = _fma(p, r, 1.0 / 5040.0)
    p = _fma(p, r, 1.0 / 720.0)
    p = _fma(p, r, 1.0 / 120.0)
    p = _fma(p, r, 1.0 / 24.0)
    p = _fma(p, r, 1.0 / 6.0)
    p = _fma(p, r, 0.5)
    p = _fma(p, r, 1.0)
    p = _fma(p, r, 1.0)
    scale = _float_i64((ki + np.int64(1023)) << np.int64(52))
    y = p * scale
    return y if x == x else x


_T64 = (
    -0.3333333333333333,
    0.13333333333333333,
    -0.05396825396825397,
    0.021869488536155203,
    -0.008863235529902197,
    0.003592128036572481,
    -0.0014558343870513183,
    0.000590027440945586,
    -0.00023912911424355248,
    9.691537956929451e-05,
    -3.927832388331683e-05,
    1.5918905069328964e-05,
    -6.451689215655431e-06,
    2.6147711512907546e-06,
)
_T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10, _T11, _T12, _T13, _T14 = _T64


@register_jitable
def _tanh64(x):
    a = abs(x)
    e = _exp64(2.0 * a)
    big = 1.0 - 2.0 / (e + 1.0)
    s = a * a
    q = _T14
    q = _fma(q, s, _T13)
    q = _fma(q, s, _T12)
    q = _fma(q, s, _T11)
    q = _fma(q, s, _T10)
    q = _fma(q, s, _T9)
    q = _fma(q, s, _T8)
    q = _fma(q, s, _T7)
    q = _fma(q, s, _T6)
    q = _fma(q, s, _T5)
    q = _fma(q, s, _T4)
    q = _fma(q, s, _T3)
    q = _fma(q, s, _T2)
    q = _fma(q, s, _T1)
    small = a + a * (s * q)
    t = small if a < 0.4 else big
    t = -t if x < 0.0 else t
    return t if x == x else x


@register_jitable
def _sigmoid64(x):
    return 1.0 / (1.0 + _exp64(-x))


# --------------------------------------------------------------------------
# float32: same algorithms, float32 constants so that nothing is promoted
# --------------------------------------------------------------------------
# Declared mirror: the float64 functions above, with float32 constants and
# shorter polynomials (a generic version would promote to float64).
from ._expconst import (  # noqa: E402
    _C2,
    _C3,
    _C4,
    _C5,
    _C6,
    _C7,
    _EXP_HI_32,
    _EXP_LO_32,
    _F,
    _LN2_HI_32,
    _LN2_LO_32,
    _LOG2E_32,
    _SHIFT_32,
)
_ONE_32 = _F(1.0)
_TWO_32 = _F(2.0)
_ZERO_32 = _F(0.0)
_TH_32 = _F(0.4)
_S1, _S2, _S3, _S4, _S5 = (_F(c) for c in _T64[:5])


@register_jitable
def _exp32(x):
    xc = min(max(x, _EXP_LO_32), _EXP_HI_32)
    kd = _fma(xc, _LOG2E_32, _SHIFT_32)
    ki = _bits_f32(kd)
    n = kd - _SHIFT_32
    r = _fma(-n, _LN2_LO_32, _fma(-n, _LN2_HI_32, xc))
    p = _C7
    p = _fma(p, r, _C6)
    p = _fma(p, r, _C5)
    p = _fma(p, r, _C4)
    p = _fma(p, r, _C3)
    p = _fma(p, r, _C2)
    p = _fma(p, r, _ONE_32)
    p = _fma(p, r, _ONE_32)
    scale = _float_i32((ki + np.int32(127)) << np.int32(23))
    y = p * scale
    return y if x == x else x


@register_jitable
def _tanh32(x):
    a = abs(x)
    e = _exp32(_TWO_32 * a)
    big = _ONE_32 - _TWO_32 / (e + _ONE_32)
    s = a * a
    q = _S5
    q = _fma(q, s, _S4)
    q = _fma(q, s, _S3)
    q = _fma(q, s, _S2)
    q = _fma(q, s, _S1)
    small = a + a * (s * q)
    t = small if a < _TH_32 else big
    t = -t if x < _ZERO_32 else t
    return t if x == x else x


@register_jitable
def _sigmoid32(x):
    return _ONE_32 / (_ONE_32 + _exp32(-x))


# --------------------------------------------------------------------------
# public generic names: the kernels call these
# --------------------------------------------------------------------------
def fast_exp(x):
    """exp(x), vectorizable; float32 in -> float32 out."""
    return np.exp(x)


def fast_tanh(x):
    """tanh(x), vectorizable; float32 in -> float32 out."""
    return np.tanh(x)


def fast_sigmoid(x):
    """1 / (1 + exp(-x)), vectorizable; float32 in -> float32 out."""
    return 1.0 / (1.0 + np.exp(-x))


def _is_f32(x):
    return isinstance(x, types.Float) and x.bitwidth == 32


def _overload_by_width(func, impl32, impl64):
    """Make ``func`` call ``impl32`` on float32 and ``impl64`` on float64 in kernels."""

    @overload(func)
    def implementation(x):
        if _is_f32(x):
            return lambda x: impl32(x)
        if isinstance(x, types.Float):
            return lambda x: impl64(x)

    return implementation


_overload_by_width(fast_exp, _exp32, _exp64)
_overload_by_width(fast_tanh, _tanh32, _tanh64)
_overload_by_width(fast_sigmoid, _sigmoid32, _sigmoid64)


# --------------------------------------------------------------------------
# array maps: the only places where the scalar functions are inlined
# --------------------------------------------------------------------------
# Kernels call these on 1-D rows instead of calling the scalar functions in
# their own loops, for two measured reasons: (1) a kernel loop that reads and
# writes many arrays is not vectorized by LLVM (too many possible aliases), and
# run scalar these SIMD-shaped functions cost ~60 ns per LSTM unit; (2) every
# inlined call site costs compile time, so there are five, shared by the scans
# and the streaming drivers (which call them on (1, n) rows).
# Outputs must not alias inputs (an aliased map falls back to scalar code).
from ._cellrows import lstm_back_rows  # noqa: E402
from ._jit import jit  # noqa: E402

# No FMA contraction by LLVM here: it fused the vectorized body and the scalar
# remainder of a loop differently, so results depended on the arrays'
# alignment in the last bit (a pickled model with memory-mapped weights
# predicted differently in scikit-learn's check suite). The polynomials use
# the explicit ``_fma`` instead, identical in both, and each map asks for
# 512-bit vectors where the CPU has them. Measured on the AVX-512 machines
# (32 x 1024 rows, one thread), ns per element before -> after: float32
# sigmoid 0.54 -> 0.30, tanh 0.73 -> 0.40; float64 sigmoid 1.79 -> 0.80,
# tanh 2.89 -> 1.26.


# Declared mirror: the five maps below share one loop form; each inlines its own
# scalar function into its own SIMD loop (the five call sites above).
@jit
def sigmoid_of_sum(a, b, out):
    """``out[j] = sigmoid(a[j] + b[j])`` for 1-D arrays of one length."""
    _wide_vectors()
    for j in range(out.shape[0]):
        out[j] = fast_sigmoid(a[j] + b[j])


@jit
def tanh_of(a, out):
    """``out[j] = tanh(a[j])`` for 1-D arrays of one length."""
    _wide_vectors()
    for j in range(out.shape[0]):
        out[j] = fast_tanh(a[j])


@jit
def sigmoid_of(a, out):
    """``out[j] = sigmoid(a[j])`` for 1-D arrays of one length."""
    _wide_vectors()
    for j in range(out.shape[0]):
        out[j] = fast_sigmoid(a[j])


@jit
def sigmoid_of_scaled_2d(a, scale, out):
    """``out[i, j] = sigmoid(scale[j] * a[i, j])`` for 2-D arrays of one shape.

    One call per time step covers every gate of every stream (LSTM computes
    its tanh gate as ``2 sigmoid(2 x) - 1`` with ``scale = 2`` there).
    """
    _wide_vectors()
    m, n = out.shape
    for i in range(m):
        ai = a[i]
        oi = out[i]
        for j in range(n):
            oi[j] = fast_sigmoid(scale[j] * ai[j])


@jit
def tanh_2d(a, out):
    """``out[i, j] = tanh(a[i, j])`` for 2-D arrays of one shape."""
    _wide_vectors()
    m, n = out.shape
    for i in range(m):
        ai = a[i]
        oi = out[i]
        for j in range(n):
            oi[j] = fast_tanh(ai[j])


@jit(inline="always")
def lstm_gates_2d(a, scale, out):
    """``out[i, j] = scale[j] sigmoid(scale[j] a[i, j]) + 1 - scale[j]``.

    With ``scale = 1`` that is ``sigmoid(a)`` (exactly: ``fma(1, s, 0)``), with
    ``scale = 2`` it is ``tanh(a) = 2 sigmoid(2 a) - 1``: the four gates of an
    LSTM step in one pass, and the gate array is written once (the cell update
    that reads it then vectorizes: an in-place fix-up of the ``g`` block made
    it a read-after-write on one array at an unknown distance, which LLVM
    runs scalar).
    """
    _wide_vectors()
    one = out.dtype.type(1.0)
    m, n = out.shape
    for i in range(m):
        ai = a[i]
        oi = out[i]
        for j in range(n):
            s = scale[j]
            oi[j] = _fma(s, fast_sigmoid(s * ai[j]), one - s)


@jit(inline="always")
def lstm_cell_2d(gates, c_prev, c_new, tc_new, r0, r1):
    """``c = f c_prev + i g`` and ``tanh(c)`` for rows ``r0 .. r1 - 1``.

    ``gates`` (B, 4H) holds the activated ``i, f, g, o``; ``c_new`` and
    ``tc_new`` (B, H) must not alias the inputs. One vectorized pass per row
    (reads two arrays, writes two: few enough runtime alias checks for LLVM's
    vectorizer), instead of a scalar cell loop and a tanh map.
    """
    _wide_vectors()
    H = c_new.shape[1]
    one = c_new.dtype.type(1.0)
    two = c_new.dtype.type(2.0)
    for b in range(r0, r1):
        a = gates[b]
        # gate blocks as slices, indexed from 0: ``a[H + j]`` has an index
        # LLVM cannot prove non-negative, and Numba's negative-index wrap
        # then kept the loop from vectorizing cleanly
        i_ = a[:H]
        f_ = a[H : 2 * H]
        g_ = a[2 * H : 3 * H]
        cp = c_prev[b]
        cn = c_new[b]
        tn = tc_new[b]
        for j in range(H):
            c = _fma(f_[j], cp[j], i_[j] * g_[j])
            cn[j] = c
            # tanh(c) = 2 sigmoid(2 c) - 1, as the g gate: an absolute error
            # of a few ulp of 1, at about half the operations of fast_tanh
            tn[j] = _fma(two, fast_sigmoid(two * c), -one)


@jit(inline="always")
def lstm_output_2d(gates, tc, h_new, xh_next, col0, r0, r1):
    """``h = o tanh(c)`` into ``h_new`` and ``xh_next[:, col0:col0 + H]``.

    The second copy is the ``h`` part of the next step's product row.
    """
    _wide_vectors()
    H = h_new.shape[1]
    for b in range(r0, r1):
        o_ = gates[b, 3 * H : 4 * H]  # slices: see lstm_cell_2d
        tb = tc[b]
        hn = h_new[b]
        xn = xh_next[b, col0 : col0 + H]
        for j in range(H):
            h = o_[j] * tb[j]
            hn[j] = h
            xn[j] = h


# The reassociation lets LLVM sum in vector lanes: the order then depends on
# the row's length only (the same for every row, thread split and call).
@jit(fastmath={"reassoc"})
def _sum_sq64(v):
    """``sum(v ** 2)`` in float64, summed in vector lanes."""
    s = 0.0
    for j in range(v.shape[0]):
        x = np.float64(v[j])
        s += x * x
    return s


@jit(inline="always")
def lstm_cell_back_2d(gates, c_prev, tc, dh, dc, sq, r0, r1):
    """One LSTM step backward through the cell, rows ``r0 .. r1 - 1``, in place.

    ``gates`` (B, 4H): the activated ``i, f, g, o`` in, the gradients of the
    pre-activations out; ``tc = tanh(c_t)``; ``dh`` the total ``dL/dh_t``;
    ``dc`` ``dL/dc_t`` from the step after in, ``dL/dc_{t-1}`` out;
    ``sq[b] = ||dh[b]||^2`` (float64). The cell's arithmetic is
    :func:`~._cellrows.lstm_back_rows`, vector code written out: as three
    vectorized loops per row here (one loop writing all four gate blocks and
    ``dc`` had too many possible aliases for LLVM's vectorizer) it ran the
    units of ``H <= 32`` one at a time, in the loops' scalar remainders.
    """
    for b in range(r0, r1):
        sq[b] = _sum_sq64(dh[b])
    lstm_back_rows(gates, c_prev, tc, dh, dc, r0, r1)
