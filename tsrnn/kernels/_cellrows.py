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

from ._linalg import VEC_BYTES, _row_step, request_wide_vectors


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

    n_main = builder.mul(builder.sdiv(n, intp(VL)), intp(VL))
    with cgutils.for_range_slice(builder, intp(0), n_main, intp(VL)) as (j, _):
        res = compute([vload(p, j) for p in ins])
        for v, p in zip(res, outs):
            vstore(v, p, j)
    rem = builder.sub(n, n_main)
    with builder.if_then(builder.icmp_signed(">", rem, intp(0))):
        # the tail through zero-padded staging vectors: the same operations
        stage_in = [cgutils.alloca_once(builder, fty, size=VL) for _ in ins]
        stage_out = [cgutils.alloca_once(builder, fty, size=VL) for _ in outs]
        zero = ir.Constant(fty, 0.0)
        with cgutils.for_range(builder, intp(VL)) as lp:
            k = lp.index
            ok = builder.icmp_signed("<", k, rem)
            src_k = builder.select(ok, builder.add(n_main, k), n_main)
            for s, p in zip(stage_in, ins):
                x = builder.load(builder.gep(p, [src_k]))
                builder.store(builder.select(ok, x, zero), builder.gep(s, [k]))
        res = compute([vload(s, intp(0)) for s in stage_in])
        for v, s in zip(res, stage_out):
            vstore(v, s, intp(0))
        with cgutils.for_range(builder, rem) as lp:
            k = lp.index
            for s, p in zip(stage_out, outs):
                x = builder.load(builder.gep(s, [k]))
                builder.store(x, builder.gep(p, [builder.add(n_main, k)]))


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
