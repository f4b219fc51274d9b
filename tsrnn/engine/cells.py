"""The cell table: one row per recurrent cell, read by every part of the engine.

A row (:class:`CellSpec`) says everything the rest of tsrnn needs to know about
a cell: the state tensors it carries, its torch-named parameter entries, how one
layer runs forward and backward through its Numba scans, how its weights are
packed for the streaming step and which streaming driver steps it, and the
options it accepts. :class:`~tsrnn.engine.stack.RecurrentStack`,
:class:`~tsrnn.engine.inference.InferencePack`, :mod:`tsrnn.nn` and the
estimators' parameter constraints all read :data:`CELL_SPECS`, so a new cell is
its kernels (``tsrnn/kernels/<cell>.py`` and a driver in
``tsrnn/kernels/stream.py``) plus the three functions and the row below.

Conventions of the layer functions (one layer, one direction):

``forward(stack, p, suffix, x, s0, keep=True) -> (LayerCache, final)``
    ``p``: torch-named views of the stack's parameters, ``suffix`` the layer's
    (``"_l0"``, ``"_l1_reverse"``), ``x`` the layer input ``(T, B, I)``, ``s0``
    the initial state ``(n_states, B, H)``; ``final`` is a tuple of the final
    state tensors, in :attr:`CellSpec.states` order. ``keep=False``: no
    backward follows, so a cell may skip what only BPTT reads (the cache then
    holds ``hs`` alone).
``backward(stack, p, g, suffix, cache, dhs, ds_last, need_dx=True, dcs=None) -> (dx, ds0, norms)``
    ``g``: gradient views (accumulated into), ``dhs`` ``(T, B, H)`` the gradient
    of the layer's outputs, ``ds_last`` ``(n_states, B, H)`` that of its final
    state, ``dcs`` ``(T, B, H)`` (LSTM only) that of its cell state at every
    step (an encoder whose every step starts a decoder); returns the input gradient (None if not ``need_dx``), the
    initial-state gradient and the norm of ``dL/ds_t`` per step.
``pack(packer, p, suffix, bias, H) -> row``
    The layer's row of the stream kernels' ``meta`` vector (see
    :mod:`tsrnn.kernels.stream`), its arrays put through ``packer``.

The equations of every cell are in ``docs/MATH.md`` and in the kernels' docstrings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt
from typing import Any

import numpy as np

from ..kernels._linalg import aligned_empty, pack_panels, panel_width
from ..kernels.gemm_tn import (
    add_transposed,
    pack_gate_weights,
    pack_rows,
    tn_scratch_shapes,
)
from ..kernels.gru import gru_backward, gru_forward
from ..kernels.lstm import lstm_backward, lstm_forward
from ..kernels.rnn import rnn_backward, rnn_forward
from ..kernels.sru import sru_backward, sru_forward
from ..kernels.stream import (
    stream_gru,
    stream_lstm,
    stream_rnn_relu,
    stream_rnn_tanh,
    stream_sru,
)
from .threads import hoisted_products, project, run_rows, weight_gradients
from .workspace import spares, take

SRU_ALPHA = sqrt(3.0)  # sqrt(1 + 2 exp(highway_bias)) at highway_bias = 0


@dataclass
class LayerCache:
    """What one layer-direction's forward keeps for its backward."""

    x: np.ndarray  # (T, B, I) the layer's input
    gates: np.ndarray | None  # (T, B, G) activated gates (backward overwrites)
    hs: np.ndarray  # (T + 1, B, H) the layer's outputs, hs[0] the initial one
    cs: np.ndarray | None = None  # (T + 1, B, H) LSTM, SRU
    hns: np.ndarray | None = None  # (T, B, H) GRU
    # (T, B, I + H + 1) LSTM: [x_t, h_{t-1}, 1], the rows of the step products
    xhs: np.ndarray | None = None
    tcs: np.ndarray | None = None  # (T, B, H) LSTM: tanh(c_1 .. c_T)


@dataclass(frozen=True)
class CellSpec:
    """One recurrent cell, as the engine, ``tsrnn.nn`` and the estimators see it.

    Attributes
    ----------
    name : str
        The ``cell=`` value (``"lstm"``).
    states : tuple of str
        The state tensors carried from step to step, in the order of the
        stack's state array: ``("h",)``, ``("h", "c")`` for LSTM, ``("c",)``
        for SRU (whose output is not its state).
    entries : callable
        ``entries(input_size, hidden_size, suffix, bias) -> [(name, shape)]``,
        torch's names and shapes for one layer and direction.
    forward, backward, pack : callable
        The layer functions (see the module docstring).
    stream : callable
        The streaming driver of :mod:`tsrnn.kernels.stream` (``tanh`` for RNN).
    stream_relu : callable or None
        The driver for ``nonlinearity="relu"``; None: the cell has no such option.
    zero_bias_init : bool
        Biases start at zero instead of torch's uniform init.
    bias_optional : bool
        ``bias=False`` drops the bias tensors; False: the cell always has them.
    """

    name: str
    states: tuple[str, ...]
    entries: Callable[[int, int, str, bool], list]
    forward: Callable[..., tuple]
    backward: Callable[..., tuple]
    pack: Callable[..., list]
    stream: Any
    # Declared mirror (form only): defaulted fields then a size property, as in
    # data.schema.SeriesSchema; unrelated classes.
    stream_relu: Any = None
    zero_bias_init: bool = False
    bias_optional: bool = True

    @property
    def n_states(self) -> int:
        """Number of state tensors per layer and direction."""
        return len(self.states)

    def stream_driver(self, relu: bool):
        """The streaming driver for this cell and nonlinearity.

        ``relu`` only selects a driver for cells that have that option (the
        other cells ignore ``nonlinearity``, as the stack does).
        """
        if relu and self.stream_relu is not None:
            return self.stream_relu
        return self.stream


# ------------------------------------------------------- gated cells (rnn, lstm, gru)
def _gated_entries(n_gates):
    def entries(input_size, hidden_size, suffix, bias):
        G = n_gates * hidden_size
        rows = [
            (f"weight_ih{suffix}", (G, input_size)),
            (f"weight_hh{suffix}", (G, hidden_size)),
        ]
        if bias:
            rows += [(f"bias_ih{suffix}", (G,)), (f"bias_hh{suffix}", (G,))]
        return rows

    return entries


def _fused_scan(stack, p, suffix, x, s0, rings=()):
    """Weights and buffers of the RNN and LSTM scans: one product per step.

    ``[x_t, h_{t-1}] [W_ih^T; W_hh^T] + (b_ih + b_hh)``. Returns the panels,
    the bias row, the outputs ``hs``, ``h0``, the ``[x, h]`` and product
    scratch rows, arrays of the shapes ``rings`` (a list), the multiply-adds
    per stream (for the thread split), and the lent scratch arrays.

    Everything but ``hs`` and ``h0`` is used by the scan only: lent by the
    stack's :class:`~.workspace.Spares` as one group per layer and mode (one
    look-up instead of an allocation each: the panels were an aligned
    allocation of about 3 us a call), which the caller gives back
    (``spares(stack).put(*lent)``) once the scan has run. The packer writes
    every element of the panels, padding included; the bias row is written
    at every call (zeros, never written, without biases).
    """
    T, B, I = x.shape
    H, dt = stack.hidden_size, stack.dtype
    w_ih, w_hh = p["weight_ih" + suffix], p["weight_hh" + suffix]
    G = w_ih.shape[0]
    key = ("scan", suffix, len(rings))
    sig = (B, I, H, rings)

    def make():
        nr = panel_width(dt)
        bias = (np.empty if stack.bias else np.zeros)((1, G), dt)
        rows = [np.empty((B, I + H), dt), np.empty((B, G), dt)]
        ring = [np.empty(shape, dt) for shape in rings]
        return aligned_empty((-(-G // nr), I + H, nr), dt), bias, rows, ring

    lent = spares(stack).lend(key, sig, make)
    wp, bias, (xh, rec), ring = lent[1]
    pack_gate_weights(w_ih, w_hh, wp)
    if stack.bias:
        np.add(p["bias_ih" + suffix], p["bias_hh" + suffix], out=bias[0])
    hs = take((T + 1, B, H), dt)
    h0 = np.ascontiguousarray(s0[0])
    return wp, bias, hs, h0, xh, rec, ring, T * G * (I + H), (key, lent)


def _rnn_forward(stack, p, suffix, x, s0, keep=True):
    T, B, _ = x.shape
    wp, bias, hs, h0, xh, rec, _, work, lent = _fused_scan(stack, p, suffix, x, s0)
    args = (x, wp, bias, h0, stack.relu, hs, xh, rec)
    run_rows(rnn_forward, args, B, work)
    spares(stack).put(*lent)
    return LayerCache(x, None, hs), (hs[T],)


def _lstm_forward(stack, p, suffix, x, s0, keep=True):
    T, B, I = x.shape
    H, dt = stack.hidden_size, stack.dtype
    G = 4 * H
    # without a backward to come, the kernel cycles through one step of gates
    # and tanh(c) and two of c and [x, h] (ring buffers, lent with the scan's
    # scratch) instead of writing T of each: less memory traffic, the same
    # arithmetic. [x, h] has a column for a 1 (see below)
    rings = () if keep else ((1, B, G), (2, B, H), (2, B, I + H + 1), (1, B, H))
    wp, bias, hs, h0, _, rec, ring, work, lent = _fused_scan(
        stack, p, suffix, x, s0, rings
    )
    if keep:
        # the work arrays are recycled (see workspace): page faults otherwise
        gates = take((T, B, G), dt)
        cs = take((T + 1, B, H), dt)
        # every step's [x_t, h_{t-1}] row is kept, with a 1 for the bias (the
        # kernel writes it): the backward's weight and bias gradients are then
        # one product over them (xhs[T] takes the last step's h, unused)
        xhs = take((T + 1, B, I + H + 1), dt)
        tcs = take((T, B, H), dt)
    else:
        gates, cs, xhs, tcs = ring
    c0 = np.ascontiguousarray(s0[1])
    args = (x, wp, bias, h0, c0, gates, hs, cs, tcs, xhs, rec)
    run_rows(lstm_forward, args, B, work)
    if not keep:
        # c_T lives in a lent ring: copied before the ring goes back
        final = (hs[T], cs[T % 2].copy())
        spares(stack).put(*lent)
        return LayerCache(x, None, hs), final
    spares(stack).put(*lent)
    return LayerCache(x, gates, hs, cs=cs, xhs=xhs[:T], tcs=tcs), (hs[T], cs[T])


def _lstm_scale(G, H, dt):
    """Per-gate input scales: ``tanh(x) = 2 sigmoid(2 x) - 1`` for the g block."""
    scale = np.ones(G, dtype=dt)
    scale[2 * H : 3 * H] = 2.0
    return scale


def _gru_forward(stack, p, suffix, x, s0, keep=True):
    # r multiplies h W_hn^T + b_hn alone: the input half stays apart
    T, B, I = x.shape
    H, dt = stack.hidden_size, stack.dtype
    w_ih, w_hh = p["weight_ih" + suffix], p["weight_hh" + suffix]
    G = w_ih.shape[0]
    b_ih = p["bias_ih" + suffix] if stack.bias else None
    gates = project(x.reshape(T * B, I), w_ih, b_ih).reshape(T, B, G)
    b_hh = p["bias_hh" + suffix] if stack.bias else np.zeros(G, dtype=dt)
    b_hh = b_hh.reshape(1, G)  # a bias row for the tile
    hs = np.empty((T + 1, B, H), dtype=dt)
    h0 = np.ascontiguousarray(s0[0])
    hns = np.empty((T, B, H), dtype=dt)
    rec = np.empty((2, B, G), dtype=dt)
    args = (gates, pack_panels(w_hh.T), b_hh, h0, hs, hns, rec)
    run_rows(gru_forward, args, B, T * G * (I + H))
    return LayerCache(x, gates, hs, hns=hns), (hs[T],)


def _gated_backward(run_scan):
    """A layer backward: the cell's reverse scan, then the hoisted weight GEMMs.

    ``run_scan(stack, cache, dhs, dh_last, ds_last, wp_hh, ds0, dh_sq, dcs, zeros)``
    runs the scan (``zeros``: a (B, H) and a (0, B, H) zero array it may
    read) and returns ``da_h``, the gradient of the recurrent pre-activations
    (the input pre-activations' gradient is in ``cache.gates``, or ``da_h``
    itself for the RNN, which keeps no gates).
    """

    def backward(stack, p, g, suffix, cache, dhs, ds_last, need_dx=True, dcs=None):
        x = cache.x
        T, B, I = x.shape
        H, dt = stack.hidden_size, stack.dtype
        w_ih, w_hh = p["weight_ih" + suffix], p["weight_hh" + suffix]
        ds0 = np.empty((stack.n_states, B, H), dtype=dt)
        dh_sq = np.empty((T, B), dtype=np.float64)
        dh_last = np.ascontiguousarray(ds_last[0])
        if dcs is not None and stack.n_states < 2:
            raise ValueError(f"a {stack.cell} layer has no cell state to take dcs")
        # the scratch of the call, lent by the stack as one group (packed
        # W_hh, zeros the scan only reads, the weight-gradient product's
        # packing buffers): one look-up instead of an allocation each
        key = ("back", suffix)
        lent = spares(stack).lend(key, (T, B, I, H), lambda: _back_scratch(stack, T, B, I, w_hh))
        wp_hh, zeros, tn = lent[1]
        pack_rows(w_hh, wp_hh)  # pack_panels(w_hh) in one call
        da_h = run_scan(
            stack, cache, dhs, dh_last, ds_last, wp_hh, ds0, dh_sq, dcs=dcs, zeros=zeros
        )
        norms = np.sqrt(dh_sq.sum(axis=1)).astype(dt)
        # the hoisted GEMMs after the scan go through NumPy's BLAS, the only
        # BLAS library the engine calls (the scans use their own tile), on the
        # scans' threads (see hoisted_products)
        da2 = (da_h if cache.gates is None else cache.gates).reshape(T * B, -1)
        products = []
        if cache.xhs is not None:
            # [dW_ih, dW_hh, db]^T = [x, h_prev, 1]^T dA: one product (the input
            # and recurrent pre-activations share their gradient), through the
            # scans' tile (see kernels.gemm_tn)
            dwt = weight_gradients(
                cache.xhs.reshape(T * B, -1), da2, padded=True, scratch=tn
            )
        else:
            dah2 = da_h.reshape(T * B, -1)
            h_prev2 = cache.hs[:-1].reshape(T * B, H)
            products += [
                (da2.T, x.reshape(T * B, I), g["weight_ih" + suffix], True),
                (dah2.T, h_prev2, g["weight_hh" + suffix], True),
            ]
        dx = np.empty((T * B, I), dtype=dt) if need_dx else None
        if need_dx:
            products.append((da2, w_ih, dx, False))
        hoisted_products(products)
        if cache.xhs is not None:
            add_transposed(dwt, 0, g["weight_ih" + suffix])
            add_transposed(dwt, I, g["weight_hh" + suffix])
            if stack.bias:
                G = w_ih.shape[0]
                g["bias_ih" + suffix] += dwt[I + H, :G]
                g["bias_hh" + suffix] += dwt[I + H, :G]
        elif stack.bias:
            g["bias_ih" + suffix] += da2.sum(axis=0)
            g["bias_hh" + suffix] += dah2.sum(axis=0)
        spares(stack).put(key, lent)
        return (dx.reshape(T, B, I) if need_dx else None), ds0, norms

    return backward


def _back_scratch(stack, T, B, I, w_hh):
    """A layer backward's scratch: ``wp_hh``, ``zeros`` (the scans' read-only
    zeros: a (B, H) bias row and an empty (0, B, H) ``dcs``) and the weight
    gradients' packing buffers (LSTM)."""
    H, dt = stack.hidden_size, stack.dtype
    G = w_hh.shape[0]
    nr = panel_width(dt)
    wp_hh = aligned_empty((-(-H // nr), G, nr), dt)
    zeros = (np.zeros((B, H), dt), np.zeros((0, B, H), dt))
    shapes = tn_scratch_shapes(T * B, -(-G // nr) * nr, dt)
    tn = tuple(aligned_empty(sh, dt) for sh in shapes) if stack.cell == "lstm" else None
    return wp_hh, zeros, tn


def _rnn_scan_back(
    stack, cache, dhs, dh_last, ds_last, wp_hh, ds0, dh_sq, dcs=None, zeros=None
):
    T, B, H = dhs.shape
    da_h = np.empty((T, B, H), dtype=stack.dtype)  # RNN keeps no gates
    args = (cache.hs, dhs, dh_last, wp_hh, stack.relu, da_h, ds0[0], dh_sq, zeros[0])
    run_rows(rnn_backward, args, B, T * H * H)
    return da_h


def _lstm_scan_back(
    stack, cache, dhs, dh_last, ds_last, wp_hh, ds0, dh_sq, dcs=None, zeros=None
):
    T, B, H = dhs.shape
    dt = stack.dtype
    # one layout per kernel argument: an empty (0, B, H) array when nothing
    # is injected (the kernel skips it)
    dcs = zeros[1] if dcs is None else np.ascontiguousarray(dcs, dtype=dt)
    args = (
        cache.gates,
        cache.cs,
        cache.tcs,
        dhs,
        dh_last,
        np.ascontiguousarray(ds_last[1]),
        wp_hh,
        ds0[0],
        ds0[1],
        dh_sq,
        zeros[0],
        dcs,
    )
    run_rows(lstm_backward, args, B, T * 4 * H * H)
    return cache.gates


def _gru_scan_back(
    stack, cache, dhs, dh_last, ds_last, wp_hh, ds0, dh_sq, dcs=None, zeros=None
):
    T, B, H = dhs.shape
    da_h = np.empty_like(cache.gates)
    args = (cache.gates, cache.hs, cache.hns, dhs, dh_last, wp_hh, cache.gates, da_h)
    args += (ds0[0], dh_sq)
    run_rows(gru_backward, args, B, T * 3 * H * H)
    return da_h


def _gated_pack(biases_apart, with_scale=False):
    """Stream row of a gated cell: ``W_ih^T`` and ``W_hh^T`` panels, biases, aux.

    ``biases_apart``: GRU keeps ``b_hh`` inside ``r * (.)`` (bias 2); RNN and
    LSTM add both biases before the nonlinearity (bias 1 only).
    """

    def pack(packer, p, suffix, bias, H):
        w_ih = p["weight_ih" + suffix]
        G, n_in = w_ih.shape
        o_ih, n_p = packer.put_panels(w_ih)
        o_hh, _ = packer.put_panels(p["weight_hh" + suffix])
        zeros = np.zeros(G, packer.dtype)
        b_ih = p["bias_ih" + suffix] if bias else zeros
        b_hh = p["bias_hh" + suffix] if bias else zeros
        if biases_apart:
            b1, b2 = packer.put(b_ih), packer.put(b_hh)
        else:
            b1, b2 = packer.put(b_ih + b_hh), -1
        aux = packer.put(_lstm_scale(G, H, packer.dtype)) if with_scale else -1
        return [n_in, G, o_ih, n_p, o_hh, b1, b2, aux]

    return pack


# ---------------------------------------------------------------------------- sru
def _sru_blocks(input_size, hidden_size):
    """``x~, f, r`` (and the skip projection when the input is not ``H`` wide)."""
    return 3 if input_size == hidden_size else 4


def _sru_entries(input_size, hidden_size, suffix, bias):
    H = hidden_size
    k = _sru_blocks(input_size, H)
    return [
        (f"weight_ih{suffix}", (k * H, input_size)),
        (f"weight_c{suffix}", (2 * H,)),
        (f"bias{suffix}", (2 * H,)),
    ]


def _sru_forward(stack, p, suffix, x, s0, keep=True):
    T, B, I = x.shape
    H, dt = stack.hidden_size, stack.dtype
    w_ih = p["weight_ih" + suffix]
    G = w_ih.shape[0]
    gates = project(x.reshape(T * B, I), w_ih, None).reshape(T, B, G)
    hs = np.empty((T + 1, B, H), dtype=dt)
    cs = np.empty((T + 1, B, H), dtype=dt)
    sru_forward(
        gates,
        x,
        p["weight_c" + suffix],
        p["bias" + suffix],
        SRU_ALPHA,
        np.ascontiguousarray(s0[0]),
        hs,
        cs,
        np.empty(2 * H, dtype=dt),
    )
    return LayerCache(x, gates, hs, cs=cs), (cs[T],)


def _sru_backward(stack, p, g, suffix, cache, dhs, ds_last, need_dx=True, dcs=None):
    if dcs is not None:
        raise ValueError("an SRU layer takes no per-step state gradient (dcs)")
    x = cache.x
    T, B, I = x.shape
    H, dt = stack.hidden_size, stack.dtype
    w_ih = p["weight_ih" + suffix]
    ds0 = np.empty((stack.n_states, B, H), dtype=dt)
    norms = np.empty(T, dtype=dt)
    dx_skip = np.zeros((T, B, H), dtype=dt)
    sru_backward(
        cache.gates,
        x,
        cache.cs,
        dhs,
        np.ascontiguousarray(ds_last[0]),
        p["weight_c" + suffix],
        SRU_ALPHA,
        cache.gates,
        g["weight_c" + suffix],
        g["bias" + suffix],
        dx_skip,
        ds0[0],
        norms,
    )
    du2 = cache.gates.reshape(T * B, -1)
    products = [(du2.T, x.reshape(T * B, I), g["weight_ih" + suffix], True)]
    dx = np.empty((T * B, I), dtype=dt)
    if need_dx:
        products.append((du2, w_ih, dx, False))
    hoisted_products(products)
    if not need_dx:
        return None, ds0, norms
    dx = dx.reshape(T, B, I)
    if w_ih.shape[0] == 3 * H:
        dx += dx_skip
    return dx, ds0, norms


def _sru_pack(packer, p, suffix, bias, H):
    w_ih = p["weight_ih" + suffix]
    G, n_in = w_ih.shape
    o_ih, n_p = packer.put_panels(w_ih)
    # v_f, v_r, then the skip scale; (b_f, b_r) as bias 2; no recurrent product
    aux = packer.put(np.concatenate([p["weight_c" + suffix], [SRU_ALPHA]]))
    zeros = packer.put(np.zeros(G, packer.dtype))
    return [n_in, G, o_ih, n_p, -1, zeros, packer.put(p["bias" + suffix]), aux]


# -------------------------------------------------------------------------- table
# Declared mirror: one CellSpec row per cell, its fields named (a table: the rows
# share a form, not logic).
CELL_SPECS: dict[str, CellSpec] = {
    spec.name: spec
    for spec in (
        CellSpec(
            name="rnn",
            states=("h",),
            entries=_gated_entries(1),
            forward=_rnn_forward,
            backward=_gated_backward(_rnn_scan_back),
            pack=_gated_pack(biases_apart=False),
            stream=stream_rnn_tanh,
            stream_relu=stream_rnn_relu,
        ),
        CellSpec(
            name="lstm",
            states=("h", "c"),
            entries=_gated_entries(4),
            forward=_lstm_forward,
            backward=_gated_backward(_lstm_scan_back),
            pack=_gated_pack(biases_apart=False, with_scale=True),
            stream=stream_lstm,
        ),
        CellSpec(
            name="gru",
            states=("h",),
            entries=_gated_entries(3),
            forward=_gru_forward,
            backward=_gated_backward(_gru_scan_back),
            pack=_gated_pack(biases_apart=True),
            stream=stream_gru,
        ),
        CellSpec(
            name="sru",
            states=("c",),
            entries=_sru_entries,
            forward=_sru_forward,
            backward=_sru_backward,
            pack=_sru_pack,
            stream=stream_sru,
            zero_bias_init=True,
            bias_optional=False,
        ),
    )
}

#: The ``cell=`` values every estimator and ``tsrnn.nn`` accept.
CELLS = tuple(CELL_SPECS)


def cell_spec(name: str) -> CellSpec:
    """The row of cell ``name``; a ValueError naming the choices otherwise."""
    try:
        return CELL_SPECS[name]
    except (KeyError, TypeError):
        raise ValueError(f"cell must be one of {CELLS}, got {name!r}") from None
