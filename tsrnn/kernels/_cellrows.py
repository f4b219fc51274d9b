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
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from ._linalg import _FMA, VEC_BYTES, _row_step, request_wide_vectors


def _emit_unit_loop(context, builder, fty, n, streams, compute):
    """``compute`` over ``n`` units of the given element pointers, in vectors.

    ``streams`` is a list of (pointer, role) with role "in", "out" or "inout";
    ``compute(vectors_in) -> vectors_out`` gets one vector per "in"/"inout"
    pointer (in order) and returns one per "out"/"inout" pointer (in order).
    Loads of a vector all happen before its stores (in-place is fine).
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
    n_up = builder.mul(builder.sdiv(builder.add(n, intp(VL - 1)), intp(VL)), intp(VL))
    with cgutils.for_range_slice(builder, intp(0), n_up, intp(VL)) as (j, _):
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
            _emit_unit_loop(context, builder, fty, H, streams, compute)
        return context.get_dummy_value()

    return sig, codegen



# ---------------------------------------------------------------- forward
# The exp and sigmoid of ``_activations`` (``_exp32``/``_exp64``,
# ``_sigmoid32``/``_sigmoid64``) operation for operation on vectors: the same
# constants, clamps, fused multiply-adds and exponent-bit scaling, so each
# lane gets the bits the scalar function gives.
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

    def exp(self, x):
        b, k = self.b, self.k
        hi_c, lo_c = self.c(k["hi"]), self.c(k["lo"])
        # min(max(x, lo), hi): the same for every x but NaN (fixed at the end)
        xc = b.select(b.fcmp_ordered(">", x, lo_c), x, lo_c)
        xc = b.select(b.fcmp_ordered("<", xc, hi_c), xc, hi_c)
        kd = self.fma(xc, self.c(k["log2e"]), self.c(k["shift"]))
        ki = b.bitcast(kd, self.ity)
        n = b.fsub(kd, self.c(k["shift"]))
        mn = b.fneg(n)
        r = self.fma(mn, self.c(k["ln2_lo"]), self.fma(mn, self.c(k["ln2_hi"]), xc))
        poly = k["poly"]
        p = self.c(poly[0])
        for coef in poly[1:]:
            p = self.fma(p, r, self.c(coef))
        ibits = ir.IntType(self.bits)
        e = b.add(ki, ir.Constant(self.ity, [ir.Constant(ibits, k["bias"])] * self.VL))
        e = b.shl(e, ir.Constant(self.ity, [ir.Constant(ibits, k["mant"])] * self.VL))
        y = b.fmul(p, b.bitcast(e, self.vty))
        return b.select(b.fcmp_ordered("==", x, x), y, x)

    def sigmoid(self, x):
        one = self.c(1.0)
        return self.b.fdiv(one, self.b.fadd(one, self.exp(self.b.fneg(x))))


@intrinsic
def lstm_step_rows(typingctx, rec, gates, c_prev, c_new, tc_new, h_new, xh, col0, r0, r1):
    """One LSTM step's element-wise work for rows ``r0 .. r1 - 1``.

    From the pre-activations ``rec`` (B, 4H): the gates ``i, f, o =
    sigmoid(.)`` and ``g = 2 sigmoid(2 .) - 1`` into ``gates`` (B, 4H),
    ``c = f c_prev + i g`` into ``c_new``, ``tanh(c) = 2 sigmoid(2 c) - 1``
    into ``tc_new``, ``h = o tanh(c)`` into ``h_new`` and into ``xh[:, col0 :
    col0 + H]`` (the next step's product row): what
    :func:`~._activations.lstm_gates_2d`, :func:`~._activations.lstm_cell_2d`
    and :func:`~._activations.lstm_output_2d` do in three passes, in one,
    bit for bit. No output may overlap an input.
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

        def compute(v):
            ai, af, ag, ao, cp = v
            i = vm.sigmoid(ai)
            f = vm.sigmoid(af)
            g = vm.fma(two, vm.sigmoid(builder.fmul(two, ag)), builder.fneg(one))
            o = vm.sigmoid(ao)
            c = vm.fma(f, cp, builder.fmul(i, g))
            tc = vm.fma(two, vm.sigmoid(builder.fmul(two, c)), builder.fneg(one))
            h = builder.fmul(o, tc)
            return [i, f, g, o, c, tc, h, h]

        with cgutils.for_range_slice(builder, lo, hi, intp(1)) as (b, _):
            rows = [
                builder.gep(a.data, [builder.mul(b, s)]) for a, s in zip(arrs, steps)
            ]
            rec_b = [builder.gep(rows[0], [builder.mul(intp(k), H)]) for k in range(4)]
            gat_b = [builder.gep(rows[1], [builder.mul(intp(k), H)]) for k in range(4)]
            streams = [(p, "in") for p in rec_b] + [(rows[2], "in")]
            streams += [(p, "out") for p in gat_b]
            streams += [(rows[3], "out"), (rows[4], "out"), (rows[5], "out")]
            streams.append((builder.gep(rows[6], [col]), "out"))
            _emit_unit_loop(context, builder, fty, H, streams, compute)
        return context.get_dummy_value()

    return sig, codegen

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
