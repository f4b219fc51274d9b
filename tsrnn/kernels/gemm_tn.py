"""The weight gradients of a scan: ``out += A^T W`` over all steps of a window.

After an LSTM layer's backward scan, its weight and bias gradients are one
product over the window's ``T B`` rows: ``[dW_ih, dW_hh, db]^T = [x, h, 1]^T dA``,
``(I + H + 1, T B) x (T B, 4H)``. NumPy's BLAS took it as a transposed
``(4H, T B) x (T B, I + H + 1)`` GEMM, packing both operands at every call
(the gate gradients: 3 MB at H = 64), and ran slowly on its narrow shape
(float32, one thread: 0.13 ms at H = 16, 0.37 ms at H = 32, measured).

Here a register tile reads ``A`` as it lies in memory and ``W`` in blocks of
``KC`` rows packed into 64-byte panels (panel-major: read in sequence; the
unpacked rows, 1-2 KB apart, fell into a few L1 sets and evicted each other,
halving the speed at H >= 64):

* per inner index ``p`` the tile broadcasts ``MR`` consecutive elements of
  row ``p`` of ``A`` and loads ``NPAN`` panel rows of ``W``; its ``MR x NPAN``
  accumulators (16 vector registers with AVX-512) start from ``out`` and go
  back to it after the block, and the next block continues from there.

Every output element is the chain ``out + a[0, i] w[0, j] + a[1, i] w[1, j]
+ ...`` in that order, one fused multiply-add per term (where the CPU has
FMA), whatever the tile, the block or the rows of ``out`` a thread takes:
the bits do not depend on the split.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from ._jit import jit
from ._linalg import (
    AVX512,
    NV,
    VEC_BYTES,
    _row_step,
    aligned_empty,
    panel_width,
    rank1_update,
    request_wide_vectors,
    vector_fma,
)

#: Rows of the window per block: a block of ``W`` packed (16 panels of 64
#: rows at H = 64) stays in L1 with the rows of ``A`` it meets.
KC = 64
#: Panels per tile: 4 rows x 4 panels = 16 accumulators with AVX-512 (32
#: vector registers); with AVX2 a panel row takes 2 of 16 registers: 1 panel.
TN_PANELS = 4 if AVX512 else 1


def _make_tile_tn(MR, NPAN):
    """``out[i + r, (jb + q) NR + c] += sum_p a[k0 + p, i + r] wp[jb + q, p, c]``.

    ``p`` over the ``kc = wp.shape[1]`` rows of the packed block ``wp``.
    """

    def typer(typingctx, a, i, wp, jb, out, k0):
        for arr, nd in ((a, 2), (wp, 3), (out, 2)):
            if not isinstance(arr, types.Array) or arr.layout != "C" or arr.ndim != nd:
                return None
        if (
            not isinstance(a.dtype, types.Float)
            or len({a.dtype, wp.dtype, out.dtype}) != 1
        ):
            return None
        return types.void(a, i, wp, jb, out, k0), codegen

    def codegen(context, builder, signature, args):
        a_ty, i_ty, w_ty, jb_ty, out_ty, k0_ty = signature.args
        a_v, i_v, w_v, jb_v, out_v, k0_v = args
        i = context.cast(builder, i_v, i_ty, types.intp)
        jb = context.cast(builder, jb_v, jb_ty, types.intp)
        k0 = context.cast(builder, k0_v, k0_ty, types.intp)
        intp = i.type
        request_wide_vectors(builder)
        fty = context.get_value_type(a_ty.dtype)
        bits = a_ty.dtype.bitwidth
        VL = VEC_BYTES * 8 // bits
        NR = VL * NV
        vty = ir.VectorType(fty, VL)
        vptr = vty.as_pointer()
        align = bits // 8

        def vload(ptr, offset):
            return builder.load(
                builder.bitcast(builder.gep(ptr, [offset]), vptr), align=align
            )

        def vstore(value, ptr, offset):
            builder.store(
                value, builder.bitcast(builder.gep(ptr, [offset]), vptr), align=align
            )

        A = context.make_array(a_ty)(context, builder, a_v)
        W = context.make_array(w_ty)(context, builder, w_v)
        Out = context.make_array(out_ty)(context, builder, out_v)
        a_step = _row_step(context, builder, a_ty, A)
        o_step = _row_step(context, builder, out_ty, Out)
        kc = cgutils.unpack_tuple(builder, W.shape)[1]
        panel = builder.mul(kc, intp(NR))
        col0 = builder.mul(jb, intp(NR))
        o_rows = [
            builder.gep(
                Out.data,
                [builder.add(builder.mul(builder.add(i, intp(r)), o_step), col0)],
            )
            for r in range(MR)
        ]
        acc = [
            [
                [cgutils.alloca_once(builder, vty) for _ in range(NV)]
                for _ in range(NPAN)
            ]
            for _ in range(MR)
        ]
        for r in range(MR):
            for q in range(NPAN):
                for v in range(NV):
                    x = vload(o_rows[r], intp(q * NR + v * VL))
                    builder.store(x, acc[r][q][v])
        fma = vector_fma(builder, vty, VL, bits)
        a_col = builder.gep(A.data, [builder.add(builder.mul(k0, a_step), i)])
        w_base = builder.gep(W.data, [builder.mul(jb, panel)])
        w_pan = [
            builder.gep(w_base, [builder.mul(intp(q), panel)]) for q in range(NPAN)
        ]
        with cgutils.for_range(builder, kc) as loop:
            p = loop.index
            a_p = builder.gep(a_col, [builder.mul(p, a_step)])
            off = builder.mul(p, intp(NR))
            wv = [
                [vload(builder.gep(w_pan[q], [off]), intp(v * VL)) for v in range(NV)]
                for q in range(NPAN)
            ]
            rank1_update(
                builder,
                vty,
                VL,
                acc,
                lambda r: builder.load(builder.gep(a_p, [intp(r)])),
                wv,
                fma,
            )
        for r in range(MR):
            for q in range(NPAN):
                for v in range(NV):
                    vstore(builder.load(acc[r][q][v]), o_rows[r], intp(q * NR + v * VL))
        return context.get_dummy_value()

    return intrinsic(typer)


_tn_block = _make_tile_tn(4, TN_PANELS)
_tn_4x1 = _tn_block if TN_PANELS == 1 else _make_tile_tn(4, 1)
_tn_row = _make_tile_tn(1, TN_PANELS)
_tn_1x1 = _tn_row if TN_PANELS == 1 else _make_tile_tn(1, 1)


def _make_pack(NR):
    """A packer for panels of ``NR`` columns: the copy of a whole panel row is
    then one vector move (with the width a run-time value, LLVM ran these
    16-element copies through its scalar remainder)."""

    @jit
    def pack(w, k0, j0, wb):
        P, kc, _ = wb.shape
        N = w.shape[1]
        full = min(P, max(0, (N - j0) // NR))
        for p in range(kc):
            src = w[k0 + p]
            for q in range(full):
                s = src[j0 + q * NR : j0 + q * NR + NR]
                d = wb[q, p]
                for c in range(NR):
                    d[c] = s[c]
            for q in range(full, P):
                d = wb[q, p]
                for c in range(NR):
                    j = j0 + q * NR + c
                    d[c] = src[j] if j < N else 0.0

    return pack


_pack16 = _make_pack(16)
_pack8 = _make_pack(8)


@jit
def _pack_pair(w_ih, w_hh, out):
    """``out[q, p, c]`` = row ``p`` of ``[W_ih^T; W_hh^T]``, column ``q NR + c``.

    Panel row by panel row (``NR`` gathered weights each), the width read
    from ``out``: with the width a constant and the loop over it outside,
    LLVM unrolled it around two copy loops per column (0.38 s of cold
    compile against 0.17 s, and 1.65 against 1.23 us a call at G = 70, I +
    H = 22, float32, measured).
    """
    G, n_i = w_ih.shape
    nr = out.shape[2]
    for q in range(out.shape[0]):
        for p in range(out.shape[1]):
            d = out[q, p]
            for c in range(nr):
                j = q * nr + c
                if j >= G:
                    d[c] = 0.0
                elif p < n_i:
                    d[c] = w_ih[j, p]
                else:
                    d[c] = w_hh[j, p - n_i]


_PACK = {16: _pack16, 8: _pack8}


def pack_gate_weights(w_ih, w_hh, out):
    """Pack ``[W_ih^T; W_hh^T]`` (torch's ``(G, I)`` and ``(G, H)``) into panels.

    What ``pack_panels(np.concatenate([w_ih.T, w_hh.T]), out)`` gives, in one
    compiled call (the fused product of the RNN and LSTM scans, packed at
    every forward pass). C-contiguous arrays of one dtype.
    """
    _pack_pair(w_ih, w_hh, out)


def pack_rows(w, out):
    """``pack_panels(w, out)`` for a C-contiguous ``w``, in one compiled call."""
    _PACK[out.shape[2]](w, 0, 0, out)


# Inlined into the two drivers (Numba's IR): as a kernel of its own it was
# compiled once alone and again inside each driver that LLVM inlined it into
# (0.3 s of a cold first fit for nothing: it is never called from Python)
@jit(inline="always")
def _tn_tiles(a, wb, out, k0):
    """The tiles over one packed block ``wb`` of rows ``k0 ..`` of the window."""
    P = wb.shape[0]
    M = a.shape[1]
    m4 = M // 4 * 4
    jb = 0
    while jb + TN_PANELS <= P:
        for i in range(0, m4, 4):
            _tn_block(a, i, wb, jb, out, k0)
        for i in range(m4, M):
            _tn_row(a, i, wb, jb, out, k0)
        jb += TN_PANELS
    while jb < P:
        for i in range(0, m4, 4):
            _tn_4x1(a, i, wb, jb, out, k0)
        for i in range(m4, M):
            _tn_1x1(a, i, wb, jb, out, k0)
        jb += 1


# one driver per panel width, each calling its packer (so that a dtype
# compiles one packer only; a packer passed in a closure was not cached)
@jit
def _tn_blocks16(a, w, j0, out, wp, wp_last):
    for k0 in range(0, a.shape[0], KC):
        wb = wp if a.shape[0] - k0 >= KC else wp_last
        _pack16(w, k0, j0, wb)
        _tn_tiles(a, wb, out, k0)


@jit
def _tn_blocks8(a, w, j0, out, wp, wp_last):
    for k0 in range(0, a.shape[0], KC):
        wb = wp if a.shape[0] - k0 >= KC else wp_last
        _pack8(w, k0, j0, wb)
        _tn_tiles(a, wb, out, k0)


_TN_BLOCKS = {16: _tn_blocks16, 8: _tn_blocks8}


def tn_scratch_shapes(K, Np, dtype):
    """The shapes of :func:`tn_accumulate`'s two packing buffers.

    For ``a`` of ``K`` rows and ``out`` of ``Np`` columns: a whole block of
    ``KC`` rows of panels and the last (possibly shorter) block.
    """
    nr = panel_width(dtype)
    P = Np // nr
    last = K - (K - 1) // KC * KC if K else 1
    return (P, min(KC, max(K, 1)), nr), (P, last, nr)


def tn_accumulate(a, w, out, j0=0, wp=None, wp_last=None):
    """``out += (a^T w)[:, j0 : j0 + Np]`` for ``a`` (K, M), ``w`` (K, N).

    Parameters
    ----------
    a, w : ndarray, C-contiguous, one float dtype
    out : ndarray of shape (M, Np), C-contiguous
        ``Np`` a whole number of panels (:func:`~._linalg.panel_width`
        columns each); columns past ``N`` get zeros added.
    j0 : int
        The first column of ``w`` (a multiple of the panel width).
    wp, wp_last : ndarray, optional
        The packing buffers (scratch, overwritten), of the shapes
        :func:`tn_scratch_shapes` gives, 64-byte aligned
        (:func:`~._linalg.aligned_empty`); new ones when omitted.
    """
    if wp is None or wp_last is None:
        s_wp, s_last = tn_scratch_shapes(a.shape[0], out.shape[1], w.dtype)
        wp = aligned_empty(s_wp, w.dtype)
        wp_last = aligned_empty(s_last, w.dtype)
    _TN_BLOCKS[wp.shape[2]](a, w, j0, out, wp, wp_last)


@jit
def add_transposed(src, r0, dst):
    """``dst += src[r0 : r0 + m, :n].T`` for ``dst`` of shape ``(n, m)``.

    How a layer's weight gradients in torch's ``(G, I)`` layout take their
    rows of :func:`tn_accumulate`'s ``(I + H + 1, G)`` product: one addition
    per element, as NumPy's ``dst += src[...].T`` (the same bits), without
    its strided loop (about 18 us of a training step at H = 64, G = 256
    against 3 here, measured).
    """
    n, m = dst.shape
    for j in range(n):
        d = dst[j]
        for i in range(m):
            d[i] += src[r0 + i, j]


if config.DISABLE_JIT:  # intrinsics exist only compiled: a NumPy stand-in

    def tn_accumulate(a, w, out, j0=0, wp=None, wp_last=None):  # noqa: D103, F811
        cols = w[:, j0 : j0 + out.shape[1]]
        out[:, : cols.shape[1]] += a.T @ cols
