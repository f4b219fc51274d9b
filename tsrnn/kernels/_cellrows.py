"""The LSTM cell's element-wise steps over rows, written as explicit vector code.

The scans' element-wise work per step is a few short loops per stream (row):
``H`` units, in the four gate blocks of a ``(B, 4H)`` row. LLVM's loop
vectorizer runs such a loop in an unrolled vector body (16 float32 lanes times
its interleave count) and the rest one element at a time, behind run-time
checks that the arrays do not overlap: at ``H = 16`` and ``32`` every unit
went through the scalar remainder, and the backward step through the cell
took 5 us per time step for 64 streams (4.6 ns a unit), three quarters of the
backward scan at ``H = 16`` (float32, measured).

Here the loop over units is written in LLVM IR, one vector register of
``VL`` lanes at a time (``VL`` = 16 float32 / 8 float64 lanes with AVX-512,
half with AVX2), and the last ``H mod VL`` units go through a zero-padded
staging vector with the same vector operations: every unit gets exactly the
operations, in the same order and rounding, of the scalar code these
functions replace (no fused multiply-adds but the explicit ones), so the
results are bit for bit those of :func:`tsrnn.kernels._activations.lstm_cell_back_2d`.

The forward step of the scans (:data:`lstm_step_rows`) is that too in
float64; in float32 it takes a shorter exp (:data:`EXP32_SHORT`, within 4.3
ulp where the sigmoid is a normal number, the scalar code's 2.3) and runs
four rows a pass where a row is one vector (``H <= 16``):
:data:`lstm_step_rows_exact` keeps the scalar code's bits.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from ._linalg import _FEATURES, _FMA, AVX512, VEC_BYTES, _row_step, request_wide_vectors

# The float32 sigmoid's reciprocal ``1 / (1 + exp(-x))``: the exact division,
# or the hardware estimate (14 bits with AVX-512's ``vrcp14ps``, 12 with
# AVX's ``vrcpps``) refined by one Newton-Raphson step in two fused
# multiply-adds, ``r + r (1 - d r)``, within an ulp of the division. Measured
# on AMD Zen 4 (AVX-512, float32, 64 rows, the step of H 16 / 64): 3.06 /
# 7.65 us with the division, 3.13 / 8.00 with the estimate (the division is
# cheap there, the two multiply-adds are not), so the scans keep the
# division; Intel's ``vdivps`` is about three times slower relative to its
# multiply-adds, where the estimate may pay: measure before switching.
RECIP_ESTIMATE = (
    "llvm.x86.avx512.rcp14.ps.512" if _FMA and AVX512
    else "llvm.x86.avx.rcp.ps.256" if _FMA and "avx" in _FEATURES and VEC_BYTES == 32
    else "exact"
)
RECIP32 = "exact"

def _emit_unit_loop(context, builder, fty, n, streams, compute, group=1):
    """``compute`` over ``n`` units of the given element pointers, in vectors.

    ``streams`` is a list of (pointer, role) with role "in", "out" or "inout";
    ``compute(vectors_in) -> vectors_out`` gets one vector per "in"/"inout"
    pointer (in order) and returns one per "out"/"inout" pointer (in order).
    Loads of a vector all happen before its stores (in-place is fine).
    ``group``: whole groups of that many vectors first, one pass each (the
    same operations on every lane, so the same bits).
    """
    intp = context.get_value_type(types.intp)
    VL = VEC_BYTES * 8 // fty_bits(fty)
    vty = ir.VectorType(fty, VL)
    vptr = vty.as_pointer()
    align = fty_bits(fty) // 8
    ins = [p for p, role in streams if role in ("in", "inout")]
    outs = [p for p, role in streams if role in ("out", "inout")]

    def vload(ptr, j):
        return builder.load(builder.bitcast(builder.gep(ptr, [j]), vptr), align=align)

    def vstore(v, ptr, j):
        builder.store(v, builder.bitcast(builder.gep(ptr, [j]), vptr), align=align)

    # one loop body (its code is compiled once): whole vectors read and write
    # the rows in place, the last partial one goes through zero-padded
    # staging vectors (the same operations on every lane)
    stage_in = [cgutils.alloca_once(builder, fty, size=VL) for _ in ins]
    stage_out = [cgutils.alloca_once(builder, fty, size=VL) for _ in outs]
    zero = ir.Constant(fty, 0.0)
    start = intp(0)
    if group > 1:
        # independent chains side by side for the out-of-order core: the
        # forward step, float32, 64 rows, H 32 / 64 / 128: 4.45 / 7.64 /
        # 14.6 us -> 3.00 / 5.88 / 11.7 with pairs of vectors (groups of
        # four: 4.65 / 7.65 / 14.5, register spills), measured
        G = group
        start = builder.mul(builder.sdiv(n, intp(G * VL)), intp(G * VL))
        with cgutils.for_range_slice(builder, intp(0), start, intp(G * VL)) as (j, _):
            js = [builder.add(j, intp(g * VL)) for g in range(G)]
            res = [compute([vload(p_, jg) for p_ in ins]) for jg in js]
            for r, jg in zip(res, js):
                for v, p_ in zip(r, outs):
                    vstore(v, p_, jg)
    n_up = builder.mul(builder.sdiv(builder.add(n, intp(VL - 1)), intp(VL)), intp(VL))
    with cgutils.for_range_slice(builder, start, n_up, intp(VL)) as (j, _):
        rem = builder.sub(n, j)
        full = builder.icmp_signed(">=", rem, intp(VL))
        with builder.if_then(builder.not_(full)):
            with cgutils.for_range(builder, intp(VL)) as lp:
                k = lp.index
                ok = builder.icmp_signed("<", k, rem)
                src_k = builder.select(ok, builder.add(j, k), j)
                for st, ptr in zip(stage_in, ins):
                    x = builder.load(builder.gep(ptr, [src_k]))
                    builder.store(builder.select(ok, x, zero), builder.gep(st, [k]))
        src = [builder.select(full, builder.gep(p_, [j]), st) for p_, st in zip(ins, stage_in)]
        dst = [builder.select(full, builder.gep(p_, [j]), st) for p_, st in zip(outs, stage_out)]
        res = compute([vload(p_, intp(0)) for p_ in src])
        for v, p_ in zip(res, dst):
            vstore(v, p_, intp(0))
        with builder.if_then(builder.not_(full)):
            with cgutils.for_range(builder, rem) as lp:
                k = lp.index
                for st, ptr in zip(stage_out, outs):
                    x = builder.load(builder.gep(st, [k]))
                    builder.store(x, builder.gep(ptr, [builder.add(j, k)]))


def fty_bits(fty) -> int:
    """Bits of an LLVM float type (float or double)."""
    return 64 if isinstance(fty, ir.DoubleType) else 32


def _splat(fty, VL, value):
    return ir.Constant(ir.VectorType(fty, VL), [ir.Constant(fty, value)] * VL)


def _check_rows(arrays, r0, r1):
    for arr in arrays:
        if not isinstance(arr, types.Array) or arr.layout != "C" or arr.ndim != 2:
            return False
    if len({arr.dtype for arr in arrays}) != 1:
        return False
    if not isinstance(arrays[0].dtype, types.Float):
        return False
    return all(isinstance(t, types.Integer) for t in (r0, r1))


@intrinsic
def lstm_back_rows(typingctx, gates, c_prev, tc, dh, dc, r0, r1):
    """One LSTM step backward through the cell for rows ``r0 .. r1 - 1``, in place.

    What :func:`~._activations.lstm_cell_back_2d` computes (without the
    squared norms of ``dh``), element for element::

        dc += dh o (1 - tc^2);   d_o = dh tc o (1 - o)
        d_i = dc g i (1 - i);    d_g = dc i (1 - g^2)
        d_f = dc c_{t-1} f (1 - f);  dc_{t-1} = dc f

    ``gates`` (B, 4H): the activated ``i, f, g, o`` in, the gradients of the
    pre-activations out; ``c_prev``, ``tc``, ``dh`` (B, H) read; ``dc``
    (B, H) ``dL/dc_t`` in, ``dL/dc_{t-1}`` out.
    """
    arrays = (gates, c_prev, tc, dh, dc)
    if not _check_rows(arrays, r0, r1):
        return None
    sig = types.void(gates, c_prev, tc, dh, dc, r0, r1)

    def codegen(context, builder, signature, args):
        tys = signature.args
        request_wide_vectors(builder)
        intp = context.get_value_type(types.intp)
        fty = context.get_value_type(tys[0].dtype)
        VL = VEC_BYTES * 8 // fty_bits(fty)
        one = _splat(fty, VL, 1.0)
        arrs = [
            context.make_array(t)(context, builder, v)
            for t, v in zip(tys[:5], args[:5])
        ]
        steps = [_row_step(context, builder, t, a) for t, a in zip(tys[:5], arrs)]
        lo = context.cast(builder, args[5], tys[5], types.intp)
        hi = context.cast(builder, args[6], tys[6], types.intp)
        H = cgutils.unpack_tuple(builder, arrs[4].shape)[1]

        def compute(v):
            i, f, g, o, cp, t, d, c = v
            fm, fa, fs = builder.fmul, builder.fadd, builder.fsub
            c = fa(c, fm(fm(d, o), fs(one, fm(t, t))))
            o_new = fm(fm(fm(d, t), o), fs(one, o))
            i_new = fm(fm(fm(c, g), i), fs(one, i))
            g_new = fm(fm(c, i), fs(one, fm(g, g)))
            f_new = fm(fm(fm(c, cp), f), fs(one, f))
            c = fm(c, f)
            return [i_new, f_new, g_new, o_new, c]

        with cgutils.for_range_slice(builder, lo, hi, intp(1)) as (b, _):
            rows = [
                builder.gep(a.data, [builder.mul(b, s)]) for a, s in zip(arrs, steps)
            ]
            g_row = rows[0]
            blocks = [builder.gep(g_row, [builder.mul(intp(k), H)]) for k in range(4)]
            streams = [(p, "inout") for p in blocks]
            streams += [(rows[1], "in"), (rows[2], "in"), (rows[3], "in")]
            streams.append((rows[4], "inout"))
            # pairs of vectors a pass (float32, 64 rows, H 32 / 64: 3.58 /
            # 7.18 -> 3.15 / 5.90 us a step, the same bits)
            _emit_unit_loop(context, builder, fty, H, streams, compute, group=2)
        return context.get_dummy_value()

    return sig, codegen



# ---------------------------------------------------------------- forward
# The exp and sigmoid of ``_activations`` (``_exp32``/``_exp64``,
# ``_sigmoid32``/``_sigmoid64``) operation for operation on vectors: the same
# constants, clamps, fused multiply-adds and exponent-bit scaling, so each
# lane gets the bits the scalar function gives (but the short float32 exp).
# The float32 step is bound by its vector arithmetic (AMD Zen 4, float32, 64
# rows of 1024 units: 30 ns per 16-unit vector, about 1.8 cycles per vector
# operation more or less, the division 3.6): every operation cut counts.
#: The float32 exp of the forward step (``short``): one Cody-Waite constant
#: (``r = x - n ln2`` in one fused multiply-add; ``ln2``'s float32 rounding
#: error, 1.9e-9, times ``|n| <= 126``) and a polynomial fitted for the least
#: maximum relative error on ``|r| <= ln2 / 2`` (``1 + r + r^2 q(r)``),
#: instead of the scalar code's two constants and degree-7 Taylor polynomial.
EXP32_POLYS = {
    5: (0.008312510326504707, 0.04189034551382065, 0.16667115688323975,
        0.499992311000824, 1.0, 1.0),
    6: (0.00138145312666893, 0.008368746377527714, 0.04166839271783829,
        0.1666652113199234, 0.4999999403953552, 1.0, 1.0),
}
EXP32_SHORT = dict(ln2=0.6931471805599453, poly=EXP32_POLYS[6])


def _exp_consts(bits):
    from . import _expconst as act

    if bits == 32:
        poly = (act._C7, act._C6, act._C5, act._C4, act._C3, act._C2, 1.0, 1.0)
        return dict(
            lo=act._EXP_LO_32, hi=act._EXP_HI_32, log2e=act._LOG2E_32,
            shift=act._SHIFT_32, ln2_hi=act._LN2_HI_32, ln2_lo=act._LN2_LO_32,
            poly=poly, bias=127, mant=23,
        )
    poly = tuple(1.0 / f for f in (
        6227020800.0, 479001600.0, 39916800.0, 3628800.0, 362880.0, 40320.0,
        5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0,
    ))
    return dict(
        lo=act._EXP_LO, hi=act._EXP_HI, log2e=act._LOG2E, shift=act._SHIFT,
        ln2_hi=act._LN2_HI, ln2_lo=act._LN2_LO, poly=poly, bias=1023, mant=52,
    )


class _VecMath:
    """Vector arithmetic of one float type for the row kernels' bodies."""

    def __init__(self, builder, fty, VL):
        self.b = builder
        self.fty = fty
        self.VL = VL
        self.bits = fty_bits(fty)
        self.vty = ir.VectorType(fty, VL)
        self.ity = ir.VectorType(ir.IntType(self.bits), VL)
        self.k = _exp_consts(self.bits)
        self._fma = None
        if _FMA:
            self._fma = cgutils.get_or_insert_function(
                builder.module,
                ir.FunctionType(self.vty, [self.vty] * 3),
                f"llvm.fma.v{VL}f{self.bits}",
            )

    def c(self, value):
        return _splat(self.fty, self.VL, float(value))

    def fma(self, x, y, z):
        if self._fma is not None:
            return self.b.call(self._fma, [x, y, z])
        return self.b.fadd(self.b.fmul(x, y), z)

    def exp(self, x, short=False):
        """``exp(x)``; ``short`` (float32): the shorter form of :data:`EXP32_SHORT`."""
        b, k = self.b, self.k
        short = short and self.bits == 32
        hi_c, lo_c = self.c(k["hi"]), self.c(k["lo"])
        # min(max(x, lo), hi), each as "bound if x is beyond it, else x": a
        # NaN x fails both comparisons and stays NaN, and so does every step
        # after it (the product by 2^n included), so NaN propagates without
        # a final test (two vector operations less than the scalar code's
        # "y if x == x else x"; the same bits for every other x)
        xc = b.select(b.fcmp_ordered("<", x, lo_c), lo_c, x)
        xc = b.select(b.fcmp_ordered(">", xc, hi_c), hi_c, xc)
        kd = self.fma(xc, self.c(k["log2e"]), self.c(k["shift"]))
        ki = b.bitcast(kd, self.ity)
        n = b.fsub(kd, self.c(k["shift"]))
        mn = b.fneg(n)
        if short:
            r = self.fma(mn, self.c(EXP32_SHORT["ln2"]), xc)
            poly = EXP32_SHORT["poly"]
        else:
            r = self.fma(mn, self.c(k["ln2_lo"]), self.fma(mn, self.c(k["ln2_hi"]), xc))
            poly = k["poly"]
        p = self.c(poly[0])
        for coef in poly[1:]:
            p = self.fma(p, r, self.c(coef))
        ibits = ir.IntType(self.bits)
        e = b.add(ki, ir.Constant(self.ity, [ir.Constant(ibits, k["bias"])] * self.VL))
        e = b.shl(e, ir.Constant(self.ity, [ir.Constant(ibits, k["mant"])] * self.VL))
        return b.fmul(p, b.bitcast(e, self.vty))

    def recip(self, d, mode="exact"):
        """``1 / d``: the division, or (float32) estimate ``mode`` and a Newton step."""
        one = self.c(1.0)
        if mode == "exact" or self.bits != 32:
            return self.b.fdiv(one, d)
        b = self.b
        if mode == "llvm.x86.avx512.rcp14.ps.512":
            fn = cgutils.get_or_insert_function(
                b.module,
                ir.FunctionType(self.vty, [self.vty, self.vty, ir.IntType(16)]),
                mode,
            )
            r = b.call(fn, [d, self.c(0.0), ir.Constant(ir.IntType(16), -1)])
        else:
            fn = cgutils.get_or_insert_function(
                b.module, ir.FunctionType(self.vty, [self.vty]), mode
            )
            r = b.call(fn, [d])
        # r (2 - d r) as r + r (1 - d r): the residual 1 - d r is exact in
        # one fused multiply-add (|1 - d r| < 2^-11), one rounding at the end
        e = self.fma(b.fneg(d), r, one)
        return self.fma(r, e, r)

    def sigmoid(self, x, mode="exact", short=False):
        one = self.c(1.0)
        return self.recip(self.b.fadd(one, self.exp(self.b.fneg(x), short)), mode)


def _make_step_rows(recip, short=False, rows_per_pass=1):
    """:func:`lstm_step_rows` with the sigmoid's reciprocal ``recip`` (see
    :data:`RECIP32`) and (float32) the ``short`` exp or the scalar code's."""

    @intrinsic
    def step_rows(typingctx, rec, gates, c_prev, c_new, tc_new, h_new, xh, col0, r0, r1):  # noqa: E501
        args = (rec, gates, c_prev, c_new, tc_new, h_new, xh, col0, r0, r1)
        return _step_rows_typer(recip, short, rows_per_pass, *args)

    return step_rows


def _step_rows_typer(
    recip, short, rows_per_pass,
    rec, gates, c_prev, c_new, tc_new, h_new, xh, col0, r0, r1,
):  # fmt: skip
    """One LSTM step's element-wise work for rows ``r0 .. r1 - 1``.

    From the pre-activations ``rec`` (B, 4H): the gates ``i, f, o =
    sigmoid(.)`` and ``g = 2 sigmoid(2 .) - 1`` into ``gates`` (B, 4H),
    ``c = f c_prev + i g`` into ``c_new``, ``tanh(c) = 2 sigmoid(2 c) - 1``
    into ``tc_new``, ``h = o tanh(c)`` into ``h_new`` and into ``xh[:, col0 :
    col0 + H]`` (the next step's product row): what
    :func:`~._activations.lstm_gates_2d`, :func:`~._activations.lstm_cell_2d`
    and :func:`~._activations.lstm_output_2d` do in three passes, in one,
    bit for bit with ``recip="exact"`` (float64 always). With a reciprocal
    estimate (float32, :data:`RECIP32`) each sigmoid is within an ulp of the
    division's. No output may overlap an input.
    """
    arrays = (rec, gates, c_prev, c_new, tc_new, h_new, xh)
    if not _check_rows(arrays, r0, r1) or not isinstance(col0, types.Integer):
        return None
    sig = types.void(rec, gates, c_prev, c_new, tc_new, h_new, xh, col0, r0, r1)

    def codegen(context, builder, signature, args):
        tys = signature.args
        request_wide_vectors(builder)
        intp = context.get_value_type(types.intp)
        fty = context.get_value_type(tys[0].dtype)
        VL = VEC_BYTES * 8 // fty_bits(fty)
        vm = _VecMath(builder, fty, VL)
        two, one = vm.c(2.0), vm.c(1.0)
        arrs = [
            context.make_array(t)(context, builder, v)
            for t, v in zip(tys[:7], args[:7])
        ]
        steps = [_row_step(context, builder, t, a) for t, a in zip(tys[:7], arrs)]
        col = context.cast(builder, args[7], tys[7], types.intp)
        lo = context.cast(builder, args[8], tys[8], types.intp)
        hi = context.cast(builder, args[9], tys[9], types.intp)
        H = cgutils.unpack_tuple(builder, arrs[3].shape)[1]

        def sigmoid(x):
            return vm.sigmoid(x, recip, short)

        def compute(v):
            ai, af, ag, ao, cp = v
            i = sigmoid(ai)
            f = sigmoid(af)
            # 2 x as x + x (exact, the same bits) on the adders
            g = vm.fma(two, sigmoid(builder.fadd(ag, ag)), builder.fneg(one))
            o = sigmoid(ao)
            c = vm.fma(f, cp, builder.fmul(i, g))
            tc = vm.fma(two, sigmoid(builder.fadd(c, c)), builder.fneg(one))
            h = builder.fmul(o, tc)
            return [i, f, g, o, c, tc, h, h]

        def row_streams(b):
            rows = [
                builder.gep(a.data, [builder.mul(b, s)]) for a, s in zip(arrs, steps)
            ]
            rec_b = [builder.gep(rows[0], [builder.mul(intp(k), H)]) for k in range(4)]
            gat_b = [builder.gep(rows[1], [builder.mul(intp(k), H)]) for k in range(4)]
            ins = [(p, "in") for p in rec_b] + [(rows[2], "in")]
            outs = [(p, "out") for p in gat_b]
            outs += [(rows[3], "out"), (rows[4], "out"), (rows[5], "out")]
            outs.append((builder.gep(rows[6], [col]), "out"))
            return ins, outs

        def emit_rows(per_pass):
            def compute_rows(v):
                # five inputs a row in, eight outputs a row out, row after row
                rows = [v[5 * u : 5 * (u + 1)] for u in range(per_pass)]
                return [y for ins in rows for y in compute(ins)]

            last = builder.sub(hi, intp(1))
            with cgutils.for_range_slice(builder, lo, hi, intp(per_pass)) as (b, _):
                ins, outs = [], []
                for u in range(per_pass):
                    bu = builder.add(b, intp(u))
                    bu = builder.select(builder.icmp_signed("<", bu, hi), bu, last)
                    i_, o_ = row_streams(bu)
                    ins += i_
                    outs += o_
                _emit_unit_loop(
                    context, builder, fty, H, ins + outs, compute_rows,
                    group=2 if per_pass == 1 else 1,
                )

        # Rows of one vector of units (H <= VL): rows_per_pass rows in one
        # pass, independent chains of arithmetic side by side for the
        # out-of-order core (a row's chain, two sigmoids deep, bounded the
        # step at H = 16: float32, 64 rows, 3.09 -> 2.39 us with 4 rows, 2 rows
        # slower, 6 about the same as 4; no gain at H 32-64, measured). Past
        # the last row, the last row again (the same values written twice:
        # no output overlaps an input).
        if rows_per_pass > 1:
            narrow = builder.icmp_signed("<=", H, intp(VL))
            with builder.if_else(narrow) as (then, otherwise):
                with then:
                    emit_rows(rows_per_pass)
                with otherwise:
                    emit_rows(1)
        else:
            emit_rows(1)
        return context.get_dummy_value()

    return sig, codegen


#: The forward step of the scans: the division (:data:`RECIP32`), float32's
#: short exp (:data:`EXP32_SHORT`), four rows a pass where a row is one vector.
lstm_step_rows = _make_step_rows(RECIP32, short=True, rows_per_pass=4)
#: The scalar code's arithmetic (``_activations``' functions, bit for bit,
#: every dtype), one row a pass: tests and benchmarks.
lstm_step_rows_exact = _make_step_rows("exact")

def back_rows_reference(gates, c_prev, tc, dh, dc, r0, r1):
    """:func:`lstm_back_rows` in NumPy, operation for operation (same bits)."""
    H = dc.shape[1]
    rows = slice(r0, r1)
    i, f, g, o = (gates[rows, k * H : (k + 1) * H].copy() for k in range(4))
    one = dc.dtype.type(1.0)
    d, t, cp = dh[rows], tc[rows], c_prev[rows]
    c = dc[rows] + (d * o) * (one - t * t)
    gates[rows, 3 * H :] = ((d * t) * o) * (one - o)
    gates[rows, :H] = ((c * g) * i) * (one - i)
    gates[rows, 2 * H : 3 * H] = (c * i) * (one - g * g)
    gates[rows, H : 2 * H] = ((c * cp) * f) * (one - f)
    dc[rows] = c * f


if config.DISABLE_JIT:  # intrinsics exist only compiled: the NumPy stand-in
    lstm_back_rows = back_rows_reference  # noqa: F811
