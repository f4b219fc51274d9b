"""The matrix products inside the time loops: packed panels and a register tile.

``h_{t-1} W_hh^T`` (forward) and ``dA_t W_hh`` (backward) are the products that
cannot be hoisted out of the recurrence: T small GEMMs of shape (B, K) x (K, N)
per window, or T vector-matrix products when streaming one step at a time. A
BLAS call per step repacks the weights every time (OpenBLAS packs both operands
of every sgemm) and wakes its thread pool, whose idle threads then spin against
the scans; here the weights are packed once per window and the product is a
register-blocked tile written in LLVM IR:

* **Panels.** ``pack_panels(m)`` stores a (K, N) matrix as ``(P, K, NR)``: P
  column panels of ``NR`` = 64 bytes (16 float32 or 8 float64 columns, one
  cache line per panel row), zero padded on the right. A panel is read
  sequentially, and the 4 KB row stride of an unpacked (K, 1024) float32
  matrix, which maps every row of a column block onto the same L1 set, is gone.
* **Tile.** ``MR`` rows of ``a`` times ``NPAN`` panels, kept in
  ``NV MR NPAN`` vector registers over the whole inner dimension (``NV`` = 2
  AVX2 or 1 AVX-512 register per 64-byte panel row): per inner index, ``NV``
  vector loads per panel and one broadcast per row feed ``NV MR NPAN`` vector
  multiply-adds. LLVM keeps the accumulators in registers because they are
  explicit vector values, not array elements (a Numba loop over ``out[i, j]``
  reloads and stores them at every inner index: half the speed, measured).

Every output element is ``init + a[i, 0] w[0, j] + a[i, 1] w[1, j] + ...``
accumulated in that order, each step one fused multiply-add (on CPUs that have
it; else a multiply and an add), the same operations in every lane of every
tile. So results do not depend on the arrays' alignment, on how rows are
grouped into tiles, or on how a batch is split between threads.

Measured on the 2-core development machines (AVX2), one thread: within 10 % of
OpenBLAS's sgemm/dgemm on the (B, H) x (H, 4H) shapes of the scans, without its
per-call packing; 1.4-2x faster than the hand loops and BLAS calls it replaces
for H <= 64. On AVX-512 machines a panel row is one 512-bit register and the
blocks are 4 rows x 2 panels: (32, 260) x (260, 1024) went from 166 to 114 us
in float32 (103 -> 149 GFLOP/s) and from 346 to 254 us in float64, one thread.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from ._jit import jit

PANEL_BYTES = 64


def _target_features() -> set:
    """The CPU features Numba compiles for (``+name`` entries, without the +)."""
    if config.CPU_FEATURES is not None:  # a portable cache: the user's choice
        return {f[1:] for f in config.CPU_FEATURES.split(",") if f.startswith("+")}
    return {k for k, on in llvm.get_host_cpu_features().items() if on}


_FEATURES = _target_features()
# Explicit fused multiply-adds in the tile: the same result in every lane, in
# every tile and in every call, unlike an optimizer's contraction of a * b + c,
# which fused the vector body of a loop but not its scalar remainder (results
# then depended on alignment). About 10 % faster than a separate multiply and
# add (fewer instructions per tile step), measured. Without hardware FMA,
# llvm.fma would become a libm call: then multiply and add.
_FMA = "fma" in _FEATURES
# AVX-512: one 64-byte register per panel row. LLVM's tuning for these CPUs
# prefers 256-bit vectors and splits wider IR vectors in two unless the
# function asks for 512-bit ones ("min-legal-vector-width", what clang sets
# for AVX-512 intrinsics), so the function holding the tile says so.
AVX512 = "avx512f" in _FEATURES
VEC_BYTES = 64 if AVX512 else 32
NV = PANEL_BYTES // VEC_BYTES  # vectors per panel row
WIDE_VECTOR_ATTRIBUTES = (
    '"min-legal-vector-width"="512"',
    '"prefer-vector-width"="512"',
)


def request_wide_vectors(builder) -> None:
    """Mark the function being built to use 512-bit vectors (AVX-512 only)."""
    if AVX512:
        for attr in WIDE_VECTOR_ATTRIBUTES:
            # llvmlite's attribute set knows only LLVM's keyword attributes;
            # a string attribute goes into the IR text as written
            set.add(builder.function.attributes, attr)


def panel_width(dtype) -> int:
    """Columns per panel: 16 for float32, 8 for float64."""
    return PANEL_BYTES // np.dtype(dtype).itemsize


def aligned_empty(shape, dtype, align: int = PANEL_BYTES) -> np.ndarray:
    """An uninitialized C-contiguous array starting on an ``align``-byte boundary.

    NumPy's allocations are only 16-byte aligned: a 64-byte panel row then
    straddles two cache lines, and every 512-bit load of the tile is a split
    load. Measured (float32 LSTM, H = 128, one streaming step's product from
    L2): about 1.5x the time of an aligned one.
    """
    dt = np.dtype(dtype)
    # (np.ndim and a generator: about 2 us of the 4 a call took, paid several
    # times by every training step)
    if isinstance(shape, tuple):
        shape = tuple(map(int, shape))
    elif np.ndim(shape) == 0:
        shape = (int(shape),)
    else:
        shape = tuple(map(int, shape))
    n = math.prod(shape) * dt.itemsize
    raw = np.empty(n + align, np.uint8)
    # (``raw.ctypes.data`` builds a ctypes object: about 10 us a call)
    start = -raw.__array_interface__["data"][0] % align
    return raw[start : start + n].view(dt).reshape(shape)


def aligned_copy(a: np.ndarray, align: int = PANEL_BYTES) -> np.ndarray:
    """A C-contiguous copy of ``a`` on an ``align``-byte boundary."""
    out = aligned_empty(a.shape, a.dtype, align)
    out[...] = a
    return out


def pack_panels(m: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Pack a (K, N) matrix (any strides) into zero-padded panels ``(P, K, NR)``.

    ``out[q, p, c] = m[p, q * NR + c]``; ``out`` (if given) must have that shape
    and ``m``'s dtype. A new ``out`` starts on a 64-byte boundary
    (:func:`aligned_empty`): each panel row is then one cache line.
    """
    K, N = m.shape
    nr = panel_width(m.dtype)
    P = -(-N // nr)
    if out is None:
        out = aligned_empty((P, K, nr), m.dtype)
    full = N // nr
    if full:
        out[:full] = m[:, : full * nr].reshape(K, full, nr).transpose(1, 0, 2)
    if full < P:
        out[full, :, : N - full * nr] = m[:, full * nr :]
        out[full, :, N - full * nr :] = 0
    return out


# --------------------------------------------------------------------------
# the tile, in LLVM IR
# --------------------------------------------------------------------------


def _row_step(context, builder, aryty, ary):
    """Elements between consecutive rows of a 2-D array."""
    strides = cgutils.unpack_tuple(builder, ary.strides)
    itemsize = context.get_constant(
        types.intp, context.get_abi_sizeof(context.get_data_type(aryty.dtype))
    )
    return builder.sdiv(strides[0], itemsize)


def vector_fma(builder, vty, VL, bits):
    """``llvm.fma`` on vectors of type ``vty`` (``VL`` lanes of ``bits``), or
    None where the CPU has no FMA (:func:`rank1_update` then multiplies and
    adds)."""
    if not _FMA:
        return None
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vty, [vty, vty, vty]), f"llvm.fma.v{VL}f{bits}"
    )


def rank1_update(builder, vty, VL, acc, scalar, wv, fma):
    """``acc[r][q][v] += scalar(r) * wv[q][v]`` for every tile row ``r``.

    The inner step of the register tiles (:func:`_make_tile`,
    :mod:`.gemm_tn`): each row's scalar is broadcast to a vector once and
    multiply-added into that row's accumulators (one rounding with FMA).
    """
    for r in range(len(acc)):
        bc = builder.insert_element(
            ir.Constant(vty, ir.Undefined), scalar(r), ir.Constant(ir.IntType(32), 0)
        )
        bc = builder.shuffle_vector(
            bc,
            ir.Constant(vty, ir.Undefined),
            ir.Constant(ir.VectorType(ir.IntType(32), VL), [0] * VL),
        )
        for q in range(len(wv)):
            for v in range(len(wv[q])):
                x = builder.load(acc[r][q][v])
                if fma is not None:
                    x = builder.call(fma, [bc, wv[q][v], x])
                else:
                    x = builder.fadd(x, builder.fmul(bc, wv[q][v]))
                builder.store(x, acc[r][q][v])


def _make_tile(MR, NPAN):
    """An intrinsic computing ``MR`` rows times ``NPAN`` panels.

    ``tile(a, ia, wp, jb, init, out, io, ncols)``: rows ``ia ..`` of ``a``
    times panels ``jb ..`` of ``wp`` (plus rows ``io ..`` of ``init``, or its
    only row) into rows ``io ..`` of ``out``, columns ``jb * NR`` to
    ``jb * NR + ncols``. Only the
    last of the ``NPAN`` panels may be partial (``ncols > (NPAN - 1) NR``).
    """

    def typer(typingctx, a, ia, wp, jb, init, out, io, ncols):
        arrays = (a, wp, out) if init is types.none else (a, wp, init, out)
        for arr in arrays:
            if not isinstance(arr, types.Array) or arr.layout != "C":
                return None
        if a.ndim != 2 or wp.ndim != 3 or out.ndim != 2:
            return None
        if init is not types.none and init.ndim != 2:
            return None
        if not isinstance(a.dtype, types.Float) or len(
            {arr.dtype for arr in arrays}
        ) != 1:
            return None
        sig = types.void(a, ia, wp, jb, init, out, io, ncols)
        return sig, codegen

    def codegen(context, builder, signature, args):
        a_ty, _, w_ty, _, init_ty, out_ty, _, _ = signature.args
        a_v, ia, w_v, jb, init_v, out_v, io, ncols = args
        intp = ia.type
        fty = context.get_value_type(a_ty.dtype)
        VL = VEC_BYTES * 8 // a_ty.dtype.bitwidth
        request_wide_vectors(builder)
        NR = VL * NV
        vty = ir.VectorType(fty, VL)
        vptr = vty.as_pointer()
        align = a_ty.dtype.bitwidth // 8
        last = NPAN - 1

        def vload(ptr, offset):
            return builder.load(
                builder.bitcast(builder.gep(ptr, [intp(offset)]), vptr), align=align
            )

        def vstore(value, ptr, offset):
            builder.store(
                value,
                builder.bitcast(builder.gep(ptr, [intp(offset)]), vptr),
                align=align,
            )

        A = context.make_array(a_ty)(context, builder, a_v)
        W = context.make_array(w_ty)(context, builder, w_v)
        Out = context.make_array(out_ty)(context, builder, out_v)
        K = cgutils.unpack_tuple(builder, W.shape)[1]
        panel = builder.mul(K, intp(NR))
        col0 = builder.mul(jb, intp(NR))
        a_step = _row_step(context, builder, a_ty, A)
        o_step = _row_step(context, builder, out_ty, Out)
        a_base = builder.gep(A.data, [builder.mul(ia, a_step)])
        o_base = builder.gep(Out.data, [builder.add(builder.mul(io, o_step), col0)])
        a_rows = [
            builder.gep(a_base, [builder.mul(intp(r), a_step)]) for r in range(MR)
        ]
        o_rows = [
            builder.gep(o_base, [builder.mul(intp(r), o_step)]) for r in range(MR)
        ]
        w_base = builder.gep(W.data, [builder.mul(jb, panel)])
        w_pan = [
            builder.gep(w_base, [builder.mul(intp(q), panel)]) for q in range(NPAN)
        ]
        acc = [
            [
                [cgutils.alloca_once(builder, vty) for v in range(NV)]
                for q in range(NPAN)
            ]
            for r in range(MR)
        ]
        staging = cgutils.alloca_once(builder, fty, size=MR * NR)
        valid = builder.sub(ncols, intp(last * NR))  # columns of the last panel
        full = builder.icmp_signed(">=", valid, intp(NR))

        # initial values; a partial last panel goes through the staging block
        zero = ir.Constant(vty, [ir.Constant(fty, 0.0)] * VL)
        if init_ty is types.none:
            for r in range(MR):
                for q in range(NPAN):
                    for v in range(NV):
                        builder.store(zero, acc[r][q][v])
        else:
            In = context.make_array(init_ty)(context, builder, init_v)
            # an init of one row is a bias row, the same for every row
            one_row = builder.icmp_signed(
                "==", cgutils.unpack_tuple(builder, In.shape)[0], intp(1)
            )
            i_step = builder.select(
                one_row, intp(0), _row_step(context, builder, init_ty, In)
            )
            i_base = builder.gep(In.data, [builder.add(builder.mul(io, i_step), col0)])
            i_rows = [
                builder.gep(i_base, [builder.mul(intp(r), i_step)]) for r in range(MR)
            ]
            for r in range(MR):
                for q in range(last):
                    for v in range(NV):
                        builder.store(vload(i_rows[r], q * NR + v * VL), acc[r][q][v])
            with builder.if_else(full) as (then, otherwise):
                with then:
                    for r in range(MR):
                        for v in range(NV):
                            x = vload(i_rows[r], last * NR + v * VL)
                            builder.store(x, acc[r][last][v])
                with otherwise:
                    with cgutils.for_range(builder, intp(MR * NR)) as lp:
                        r = builder.udiv(lp.index, intp(NR))
                        c = builder.urem(lp.index, intp(NR))
                        ok = builder.icmp_signed("<", c, valid)
                        c_ok = builder.select(ok, c, intp(0))
                        col = builder.add(intp(last * NR), c_ok)
                        src = builder.gep(
                            i_base, [builder.add(builder.mul(r, i_step), col)]
                        )
                        x = builder.select(ok, builder.load(src), ir.Constant(fty, 0.0))
                        builder.store(x, builder.gep(staging, [lp.index]))
                    for r in range(MR):
                        for v in range(NV):
                            x = vload(staging, r * NR + v * VL)
                            builder.store(x, acc[r][last][v])

        # the inner-dimension loop: accumulators stay in registers
        fma = vector_fma(builder, vty, VL, a_ty.dtype.bitwidth)
        with cgutils.for_range(builder, K) as loop:
            p = loop.index
            off = builder.mul(p, intp(NR))
            wv = [
                [vload(builder.gep(w_pan[q], [off]), v * VL) for v in range(NV)]
                for q in range(NPAN)
            ]
            rank1_update(
                builder,
                vty,
                VL,
                acc,
                lambda r: builder.load(builder.gep(a_rows[r], [p])),
                wv,
                fma,
            )

        # stores; a partial last panel through the staging block again
        for r in range(MR):
            for q in range(last):
                for v in range(NV):
                    vstore(builder.load(acc[r][q][v]), o_rows[r], q * NR + v * VL)
        with builder.if_else(full) as (then, otherwise):
            with then:
                for r in range(MR):
                    for v in range(NV):
                        x = builder.load(acc[r][last][v])
                        vstore(x, o_rows[r], last * NR + v * VL)
            with otherwise:
                for r in range(MR):
                    for v in range(NV):
                        vstore(builder.load(acc[r][last][v]), staging, r * NR + v * VL)
                with cgutils.for_range(builder, intp(MR * NR)) as lp:
                    r = builder.udiv(lp.index, intp(NR))
                    c = builder.urem(lp.index, intp(NR))
                    with builder.if_then(builder.icmp_signed("<", c, valid)):
                        col = builder.add(intp(last * NR), c)
                        dst = builder.gep(
                            o_base, [builder.add(builder.mul(r, o_step), col)]
                        )
                        x = builder.load(builder.gep(staging, [lp.index]))
                        builder.store(x, dst)
        return context.get_dummy_value()

    return intrinsic(typer)


@intrinsic
def view(typingctx, base, start, shape):
    """A C-contiguous view ``base[start : start + prod(shape)]`` of ``shape``.

    What ``base[start:stop].reshape(shape)`` does, without the checks:
    Numba's ``reshape`` compiled its error messages into the streaming drivers
    (about 0.5 s of cold compile, measured) and costs about 20 ns per call.
    The caller guarantees the bounds. The view shares ``base``'s memory (and
    keeps it alive) and is typed writable.
    """
    if not (
        isinstance(base, types.Array)
        and base.ndim == 1
        and base.layout == "C"
        and isinstance(shape, types.UniTuple)
        and isinstance(shape.dtype, types.Integer)
    ):
        return None
    nd = shape.count
    retty = base.copy(ndim=nd, layout="C", readonly=False)
    sig = retty(base, start, shape)

    def codegen(context, builder, signature, args):
        base_ty = signature.args[0]
        src = context.make_array(base_ty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        dims = [
            context.cast(builder, d, shape.dtype, types.intp)
            for d in cgutils.unpack_tuple(builder, args[2])
        ]
        first = context.cast(builder, args[1], signature.args[1], types.intp)
        itemsize = src.itemsize
        strides = []
        step = itemsize
        for d in reversed(dims):
            strides.append(step)
            step = builder.mul(step, d)
        strides.reverse()
        out = context.make_array(retty)(context, builder)
        populate_array(
            out,
            data=builder.gep(src.data, [first]),
            shape=cgutils.pack_array(builder, dims, intp),
            strides=cgutils.pack_array(builder, strides, intp),
            itemsize=itemsize,
            meminfo=src.meminfo,
            parent=src.parent,
        )
        return impl_ret_borrowed(context, builder, retty, out._getvalue())

    return sig, codegen


# Scratch of a compiled function on its own stack up to this size, above it
# from malloc (freed by ``release_scratch``): 32 KB holds a streaming step's
# scratch up to H = 273 (float64 LSTM, 15 H elements), and stays far below
# any thread's stack (8 MB on Linux, 512 KB for macOS's secondary threads).
SCRATCH_STACK_BYTES = 32768


@intrinsic
def scratch(typingctx, like, n):
    """An uninitialized 1-D C array of ``n`` elements of ``like``'s dtype.

    On the calling function's stack (64-byte aligned) when it holds at most
    :data:`SCRATCH_STACK_BYTES`, else from ``malloc``; either way nothing for
    Python to allocate or look up per call, and nothing shared between
    threads. Call it once per function, outside any loop (each call takes
    more stack until the function returns), in the function itself, not in a
    helper that is not inlined (the stack memory ends with the function that
    made it), and pass the array to :func:`release_scratch` before returning.
    Compiled without NRT: the array has no MemInfo.
    """
    if not (isinstance(like, types.Array) and isinstance(n, types.Integer)):
        return None
    retty = like.copy(ndim=1, layout="C", readonly=False)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        count = context.cast(builder, args[1], signature.args[1], types.intp)
        ety = context.get_data_type(like.dtype)
        itemsize = context.get_abi_sizeof(ety)
        nbytes = builder.mul(count, intp(itemsize))
        small = builder.icmp_signed("<=", nbytes, intp(SCRATCH_STACK_BYTES))
        slot = cgutils.alloca_once(builder, ety.as_pointer())
        with builder.if_else(small) as (on_stack, on_heap):
            with on_stack:
                data = builder.alloca(ety, size=count)
                data.align = PANEL_BYTES
                builder.store(data, slot)
            with on_heap:
                malloc = cgutils.get_or_insert_function(
                    builder.module, ir.FunctionType(cgutils.voidptr_t, [intp]), "malloc"
                )
                data = builder.call(malloc, [nbytes])
                builder.store(builder.bitcast(data, ety.as_pointer()), slot)
        out = context.make_array(retty)(context, builder)
        populate_array(
            out,
            data=builder.load(slot),
            shape=cgutils.pack_array(builder, [count], intp),
            strides=cgutils.pack_array(builder, [intp(itemsize)], intp),
            itemsize=intp(itemsize),
            meminfo=None,
        )
        return out._getvalue()

    return retty(like, n), codegen


@intrinsic
def release_scratch(typingctx, buf):
    """Free what :func:`scratch` took from ``malloc`` (nothing for the stack)."""
    if not (isinstance(buf, types.Array) and buf.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        a = context.make_array(signature.args[0])(context, builder, args[0])
        nbytes = builder.mul(builder.extract_value(a.shape, 0), a.itemsize)
        with builder.if_then(
            builder.icmp_signed(">", nbytes, intp(SCRATCH_STACK_BYTES))
        ):
            free = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t]),
                "free",
            )
            builder.call(free, [builder.bitcast(a.data, cgutils.voidptr_t)])
        return context.get_dummy_value()

    return types.none(buf), codegen


def _dot_row_codegen(context, builder, signature, args):
    z_ty, iz_ty, w_ty, o_ty, k_ty = signature.args
    z_v, iz, w_v, o, K = args
    intp = context.get_value_type(types.intp)
    iz = context.cast(builder, iz, iz_ty, types.intp)
    o = context.cast(builder, o, o_ty, types.intp)
    K = context.cast(builder, K, k_ty, types.intp)
    fty = context.get_value_type(z_ty.dtype)
    bits = z_ty.dtype.bitwidth
    VL = VEC_BYTES * 8 // bits
    U = DOT_ACCUMULATORS
    request_wide_vectors(builder)
    vty = ir.VectorType(fty, VL)
    vptr = vty.as_pointer()
    align = bits // 8
    Z = context.make_array(z_ty)(context, builder, z_v)
    W = context.make_array(w_ty)(context, builder, w_v)
    zp = builder.gep(Z.data, [builder.mul(iz, _row_step(context, builder, z_ty, Z))])
    wp = builder.gep(W.data, [builder.mul(o, _row_step(context, builder, w_ty, W))])

    def vload(ptr, k):
        return builder.load(builder.bitcast(builder.gep(ptr, [k]), vptr), align=align)

    if _FMA:
        vfma = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(vty, [vty, vty, vty]),
            f"llvm.fma.v{VL}f{bits}",
        )
        sfma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(fty, [fty, fty, fty]), f"llvm.fma.f{bits}"
        )

    def fma(fn, a, b, c):
        if _FMA:
            return builder.call(fn, [a, b, c])
        return builder.fadd(builder.fmul(a, b), c)

    zero = ir.Constant(vty, [ir.Constant(fty, 0.0)] * VL)
    acc = [cgutils.alloca_once_value(builder, zero) for _ in range(U)]
    step = intp(U * VL)
    n_main = builder.mul(builder.sdiv(K, step), step)
    # U accumulators of VL lanes over k = 0 .. n_main - 1, U VL at a time
    with cgutils.for_range_slice(builder, intp(0), n_main, step) as (k, _):
        for u in range(U):
            ku = builder.add(k, intp(u * VL))
            x = fma(
                vfma if _FMA else None,
                vload(zp, ku),
                vload(wp, ku),
                builder.load(acc[u]),
            )
            builder.store(x, acc[u])
    v = builder.load(acc[0])
    for u in range(1, U):
        v = builder.fadd(v, builder.load(acc[u]))
    vacc = cgutils.alloca_once_value(builder, v)
    # then VL at a time into the one vector
    n_vec = builder.mul(builder.sdiv(K, intp(VL)), intp(VL))
    with cgutils.for_range_slice(builder, n_main, n_vec, intp(VL)) as (k, _):
        x = fma(vfma if _FMA else None, vload(zp, k), vload(wp, k), builder.load(vacc))
        builder.store(x, vacc)
    v = builder.load(vacc)
    s = builder.extract_element(v, ir.Constant(ir.IntType(32), 0))
    for lane in range(1, VL):
        lane_v = builder.extract_element(v, ir.Constant(ir.IntType(32), lane))
        s = builder.fadd(s, lane_v)
    sacc = cgutils.alloca_once_value(builder, s)
    # the last K mod VL one at a time
    with cgutils.for_range_slice(builder, n_vec, K, intp(1)) as (k, _):
        a = builder.load(builder.gep(zp, [k]))
        b = builder.load(builder.gep(wp, [k]))
        builder.store(fma(sfma if _FMA else None, a, b, builder.load(sacc)), sacc)
    return builder.load(sacc)


# Independent vector accumulators of ``dot_row``: 4 hide the FMA latency
# that a single chain exposes (one FMA per 4 cycles).
DOT_ACCUMULATORS = 4


@intrinsic
def dot_row(typingctx, z, iz, w, o, K):
    """``sum_k z[iz, k] w[o, k]`` over ``k < K``: rows of two 2-D C arrays.

    ``DOT_ACCUMULATORS`` vectors take ``k`` in blocks of that many vectors,
    are added in order, then one vector takes the whole vectors left, its
    lanes are added in order and the last ``K mod VL`` terms follow one at a
    time, each step one fused multiply-add: the order depends only on ``K``,
    never on where the arrays sit in memory, so every row and every call
    gives the same bits.

    A streaming step's head (``O`` outputs, usually 1-3) was one panel of the
    register tile: a single chain of ``K`` dependent FMAs (4 cycles each,
    about 0.4 us at K = 256) reading 16 (float32) columns for one.
    """
    for arr in (z, w):
        if not isinstance(arr, types.Array) or arr.layout != "C" or arr.ndim != 2:
            return None
    if not isinstance(z.dtype, types.Float) or z.dtype != w.dtype:
        return None
    if not all(isinstance(t, types.Integer) for t in (iz, o, K)):
        return None
    return z.dtype(z, iz, w, o, K), _dot_row_codegen


# Tiles keep at least 8 vector accumulators: enough independent FMA chains to
# hide the FMA latency on two ports. AVX2: 2 vectors per panel row, so 4 rows x
# 1 panel and, for a single row, 4 panels; AVX-512: 1 vector per panel row (32
# registers), so 4 rows x 4 panels (then 4 x 2 for a pair of panels left) and 8
# panels for a single row. 4 x 4 against 4 x 2, float32, one thread, the
# (64, I + H) x (I + H, 4H) products of a window: 78 -> 84 GFMA/s at H = 32,
# 88 -> 95 at H = 64, 91 -> 101 at H = 128 (the same bits: every element is
# the same chain whatever the tile).
BLOCK_PANELS = 4 if AVX512 else 1
ROW_PANELS = 8 if AVX512 else 4
_tile_block = _make_tile(4, BLOCK_PANELS)
_tile_4x2 = _make_tile(4, 2) if AVX512 else _tile_block
_tile_4x1 = _tile_block if BLOCK_PANELS == 1 else _make_tile(4, 1)
# a single panel left (H = 16's backward product, N = 16 float32 columns):
# 8 rows keep 8 chains in flight where 4 rows x 1 panel had 4 (latency-bound)
_tile_8x1 = _make_tile(8, 1) if AVX512 else _tile_4x1
_tile_1x1 = _make_tile(1, 1)
_tile_row = _make_tile(1, ROW_PANELS)


@jit
def panel_matmul(a, wp, init, out, r0, r1):
    """``out[i, :N] = init[i, :N] + a[i, :K] @ W`` for rows ``r0 <= i < r1``.

    Parameters
    ----------
    a : ndarray of shape (M, >= K), C-contiguous
        Rows; columns ``0 .. K - 1`` are read.
    wp : ndarray of shape (P, K, NR)
        ``W`` (K, N) packed by :func:`pack_panels`.
    init : ndarray of shape (M, N) or (1, N), or None
        Added first: per row (may be ``out`` itself: accumulate), or one bias
        row for all rows; None starts from 0. (A bias row is 2-D so that one
        compiled specialization serves every call: each costs about 0.6 s of
        cold compile.)
    out : ndarray of shape (M, N)
        Written for rows ``r0 .. r1 - 1``; must not alias ``a`` or ``wp``.
    r0, r1 : int

    Notes
    -----
    Blocks of 4 rows go panel by panel (a panel is reused by every block
    while it is in L1), ``BLOCK_PANELS`` at a time. A row left over, and the
    single row of a streaming step, goes ``ROW_PANELS`` panels at a time:
    8 independent accumulators hide the latency that a single panel's would
    expose (10-15 % faster streaming steps at H = 128-256, measured). Every
    tile does the same operations on an element.
    """
    P = wp.shape[0]
    NR = wp.shape[2]
    N = out.shape[1]
    m4 = r0 + (r1 - r0) // 4 * 4
    jb = 0
    while jb + BLOCK_PANELS <= P:
        for i in range(r0, m4, 4):
            _tile_block(a, i, wp, jb, init, out, i, N - jb * NR)
        jb += BLOCK_PANELS
    if BLOCK_PANELS > 2 and jb + 2 <= P:
        for i in range(r0, m4, 4):
            _tile_4x2(a, i, wp, jb, init, out, i, N - jb * NR)
        jb += 2
    m8 = r0 + (r1 - r0) // 8 * 8 if AVX512 else r0
    while jb < P:
        for i in range(r0, m8, 8):
            _tile_8x1(a, i, wp, jb, init, out, i, N - jb * NR)
        for i in range(m8, m4, 4):
            _tile_4x1(a, i, wp, jb, init, out, i, N - jb * NR)
        jb += 1
    for i in range(m4, r1):
        jb = 0
        while jb + ROW_PANELS <= P:
            _tile_row(a, i, wp, jb, init, out, i, N - jb * NR)
            jb += ROW_PANELS
        while jb < P:
            _tile_1x1(a, i, wp, jb, init, out, i, N - jb * NR)
            jb += 1


if config.DISABLE_JIT:  # intrinsics exist only compiled: NumPy stand-ins

    def dot_row(z, iz, w, o, K):  # noqa: D103
        return z.dtype.type(np.dot(z[iz, :K], w[o, :K]))

    def scratch(like, n):  # noqa: D103
        return np.empty(n, like.dtype)

    def release_scratch(buf):
        """Nothing to free: the stand-in's array belongs to NumPy."""

    def view(base, start, shape):  # noqa: D103
        n = int(np.prod(shape))
        return base[start : start + n].reshape(shape)

    def panel_matmul(a, wp, init, out, r0, r1):  # noqa: D103
        P, K, NR = wp.shape
        N = out.shape[1]
        w = wp.transpose(1, 0, 2).reshape(K, P * NR)[:, :N]
        acc = a[r0:r1, :K] @ w
        if init is not None:
            acc = acc + (init if init.shape[0] == 1 else init[r0:r1])
        out[r0:r1] = acc


@jit(inline="always")
def matmul_rows(a, wp, init, out):
    """:func:`panel_matmul` over all rows of ``a`` (a streaming step's one row).

    The row range is computed, not written as constants: Numba types a call
    with literal ``0, 1`` as another specialization of ``panel_matmul``
    (about 0.6 s of cold compile), measured.
    """
    n = a.shape[0]
    panel_matmul(a, wp, init, out, n - n, n)


@jit(inline="always")
def dense_rows(z, w, bias, out, r0, r1):
    """``out[i, o] = bias[0, o] + z[i, :K] . w[o]`` for rows ``r0 <= i < r1``.

    ``w`` is ``(O, K)`` (torch's layout, one row per output); each product is
    :func:`dot_row`. For the streaming heads, whose ``O`` is a few outputs:
    one panel of the tile would be a single latency-bound chain.
    """
    K = w.shape[1]
    for i in range(r0, r1):
        for o in range(w.shape[0]):
            out[i, o] = bias[0, o] + dot_row(z, i, w, o, K)


@jit
def copy2d(src, dst):
    """``dst[...] = src`` for 2-D arrays of one shape.

    An explicit loop, because Numba's broadcasting slice assignment
    (``dst[:] = src``) drags string formatting for its error message into the
    compiled kernel and added about 10 s of cold compile time per kernel.
    """
    m, n = src.shape
    for i in range(m):
        for j in range(n):
            dst[i, j] = src[i, j]



@jit(inline="always")
def put_columns(src, dst, col0, r0, r1):
    """``dst[r0:r1, col0:col0 + n] = src[r0:r1]``: fill part of the ``[x, h]`` row.

    The scans that make one product per step keep ``[x_t, h_{t-1}]`` in one
    scratch row per stream; this writes ``x_t`` (``col0 = 0``) or ``h``
    (``col0 = I``) into it. Inlined: it is called inside the time loop.
    """
    n = src.shape[1]
    for b in range(r0, r1):
        src_row = src[b]
        # 1-D rows indexed from 0: a unit-stride copy LLVM vectorizes (an
        # index col0 + j, not provably non-negative, kept Numba's wrap)
        dst_row = dst[b, col0 : col0 + n]
        for j in range(n):
            dst_row[j] = src_row[j]
