"""The recurrent stack: stacked, optionally bidirectional layers of one cell type.

This is the engine's middle layer. Below it are the Numba scans
(:mod:`tsrnn.kernels`); above it are :mod:`tsrnn.nn` (torch's twins) and the
training loop. It owns three things:

* the parameter layout, with torch's names, shapes and gate orders;
* the one input-projection product per layer and direction before each scan,
  and the weight GEMMs after each reverse scan (``dW_ih = dA^T X``,
  ``dW_hh = dA^T H_prev``, ``dX = dA W_ih``), so that only the recurrent part is
  sequential;
* the threads: the streams of a batch are split between them (see
  :func:`run_rows`), and so are the hoisted products;
* dropout between layers and the reversed direction of bidirectional layers.

Arrays are time-major ``(T, B, features)``, C-contiguous, of the stack's dtype;
callers normalize before calling (one compiled specialization per kernel and
dtype).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from math import sqrt

import numba
import numpy as np

from ._layout import ParamLayout
from ._threads import single_threaded_blas
from .kernels._linalg import pack_panels, panel_matmul
from .kernels.gru import gru_backward, gru_forward
from .kernels.lstm import lstm_backward, lstm_forward
from .kernels.rnn import rnn_backward, rnn_forward
from .kernels.sru import sru_backward, sru_forward

CELLS = ("rnn", "lstm", "gru", "sru")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SRU_ALPHA = sqrt(3.0)  # sqrt(1 + 2 exp(highway_bias)) at highway_bias = 0

# ---------------------------------------------------------------- row threads
# The B streams of a batch are independent through the whole scan, forward and
# backward, so the scans split the batch into row ranges and run them in
# threads (the kernels release the GIL): no barrier per time step, and every
# row's arithmetic is the same whatever the split, so results do not depend on
# the thread count. Below PARALLEL_WORK multiply-adds per thread, waking a
# thread (about 25 us) costs more than it saves, and one thread does it all.
# The thread count is Numba's (NUMBA_NUM_THREADS, read at each call); the
# threads are plain Python threads, so nothing starts Numba's threading layer.
MIN_ROWS = 4  # the kernels' register tile is 4 rows tall
PARALLEL_WORK = 1_500_000
MAX_PARTS = 8
_pool = None
_pool_key = None
_pool_lock = threading.Lock()


def n_threads() -> int:
    """Threads for the scans: Numba's setting (``NUMBA_NUM_THREADS``)."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _get_pool(n_workers):
    global _pool, _pool_key
    with _pool_lock:
        # a forked child inherits the pool object but not its threads
        pid, size = _pool_key or (None, 0)
        if pid != os.getpid() or size < n_workers:
            _pool = ThreadPoolExecutor(n_workers, thread_name_prefix="tsrnn")
            _pool_key = (os.getpid(), n_workers)
        return _pool


def run_tasks(groups):
    """Run lists of callables, one list per thread (the first in this thread)."""
    groups = [g for g in groups if g]

    def run(group):
        for task in group:
            task()

    if len(groups) <= 1:
        run(groups[0] if groups else ())
        return
    pool = _get_pool(len(groups) - 1)
    futures = [pool.submit(run, g) for g in groups[1:]]
    try:
        run(groups[0])
    finally:
        for f in futures:
            f.result()


def run_rows(kernel, args, rows, work_per_row):
    """Call ``kernel(*args, r0, r1)`` over ``[0, rows)``, split between threads.

    Parameters
    ----------
    kernel : Numba dispatcher taking the row range as its last two arguments
    args : tuple
    rows : int
    work_per_row : float
        Multiply-adds per row, to decide whether threads pay off.
    """
    n = min(n_threads(), rows // MIN_ROWS, int(rows * work_per_row // PARALLEL_WORK))
    if n <= 1:
        kernel(*args, 0, rows)
        return
    step = -(-rows // n)
    step = -(-step // MIN_ROWS) * MIN_ROWS
    run_tasks(
        [
            [lambda lo=lo: kernel(*args, lo, min(rows, lo + step))]
            for lo in range(0, rows, step)
        ]
    )


# OpenBLAS runs a product of fewer multiply-adds than this on one thread
_BLAS_THREADED = 262_144


def hoisted_products(products):
    """``out += a @ b`` (or ``out[...] = a @ b``) for the GEMMs after a scan.

    Parameters
    ----------
    products : list of (a, b, out, accumulate)
        2-D arrays; ``out`` is (M, N).

    Notes
    -----
    NumPy's BLAS (the only BLAS library the engine calls), with its own
    threads limited to one and each product split by rows between the scans'
    threads instead: OpenBLAS's idle threads spin for a while after each
    multi-threaded call, and the next window's scans then ran against them (a
    whole LSTM training step took 1.6x longer, H = 64, 2 threads, measured).
    The row blocks depend on the sizes only, not on the thread count, so
    neither do the results.
    """
    n = n_threads()
    groups = [[] for _ in range(n)]
    big = False
    for a, b, out, accumulate in products:
        M, K = a.shape
        work = M * K * b.shape[1]
        big = big or work >= _BLAS_THREADED
        parts = max(1, min(MAX_PARTS, M // 32, int(work // PARALLEL_WORK)))
        step = -(-M // parts)
        for k, lo in enumerate(range(0, M, step)):
            hi = min(M, lo + step)

            def task(a=a, b=b, out=out, lo=lo, hi=hi, accumulate=accumulate):
                if accumulate:
                    out[lo:hi] += a[lo:hi] @ b
                else:
                    np.matmul(a[lo:hi], b, out=out[lo:hi])

            groups[k % n].append(task)
    if big:
        with single_threaded_blas():
            run_tasks(groups)
    else:
        run_tasks(groups)


def project(x2, w, bias):
    """``x2 @ w.T + bias`` through the scans' tile, rows split between threads.

    Parameters
    ----------
    x2 : ndarray of shape (N, I), C-contiguous
    w : ndarray of shape (G, I)
        torch's layout.
    bias : ndarray of shape (G,) or None
        None: zeros (one compiled specialization of the tile for all calls).
    """
    N, I = x2.shape
    G = w.shape[0]
    bias = np.zeros((1, G), x2.dtype) if bias is None else bias.reshape(1, G)
    out = np.empty((N, G), dtype=x2.dtype)
    run_rows(panel_matmul, (x2, pack_panels(w.T), bias, out), N, G * I)
    return out


def n_gate_blocks(cell: str, input_size: int, hidden_size: int) -> int:
    """Number of H-sized blocks in a layer's input projection."""
    if cell == "sru":
        return 3 if input_size == hidden_size else 4
    return _GATES[cell]


def layer_entries(cell, input_size, hidden_size, suffix, bias=True):
    """Torch-named ``(name, shape)`` rows for one layer and direction."""
    H = hidden_size
    if cell == "sru":
        k = n_gate_blocks(cell, input_size, H)
        return [
            (f"weight_ih{suffix}", (k * H, input_size)),
            (f"weight_c{suffix}", (2 * H,)),
            (f"bias{suffix}", (2 * H,)),
        ]
    G = _GATES[cell] * H
    rows = [(f"weight_ih{suffix}", (G, input_size)), (f"weight_hh{suffix}", (G, H))]
    if bias:
        rows += [(f"bias_ih{suffix}", (G,)), (f"bias_hh{suffix}", (G,))]
    return rows


@dataclass
class _LayerCache:
    """What one layer-direction's forward keeps for its backward."""

    x: np.ndarray  # (T, B, I) the layer's input
    gates: np.ndarray | None  # (T, B, G) activated gates (backward overwrites)
    hs: np.ndarray  # (T + 1, B, H)
    cs: np.ndarray | None = None  # (T + 1, B, H) LSTM, SRU
    hns: np.ndarray | None = None  # (T, B, H) GRU


@dataclass
class StackCache:
    """Everything :meth:`RecurrentStack.backward` needs from a forward pass."""

    layers: list = field(default_factory=list)  # [layer][direction] -> _LayerCache
    masks: list = field(default_factory=list)  # dropout masks on layer outputs


class RecurrentStack:
    """``num_layers`` layers of one cell, each uni- or bidirectional.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru", "sru"}
    input_size, hidden_size, num_layers : int
    nonlinearity : {"tanh", "relu"}
        For ``cell="rnn"`` only.
    bias : bool
        Keep torch's ``bias_ih``/``bias_hh`` tensors (SRU always has its own).
    bidirectional : bool
    dtype : numpy float dtype
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        bidirectional: bool = False,
        dtype=np.float64,
    ):
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.cell = cell
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.relu = int(nonlinearity == "relu")
        self.bias = bool(bias)
        self.num_directions = 2 if bidirectional else 1
        self.dtype = np.dtype(dtype)
        rows = []
        for layer in range(self.num_layers):
            i_k = (
                self.input_size
                if layer == 0
                else self.num_directions * self.hidden_size
            )
            for d in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                rows += layer_entries(cell, i_k, self.hidden_size, suffix, self.bias)
        self.layout = ParamLayout(rows)

    # ------------------------------------------------------------------ params
    @property
    def has_cell_state(self) -> bool:
        """LSTM carries ``(h, c)``; the others carry one state tensor."""
        return self.cell == "lstm"

    @property
    def n_states(self) -> int:
        """Number of state tensors per layer-direction (LSTM: h and c)."""
        return 2 if self.cell == "lstm" else 1

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """torch's init: every tensor ``U(-1/sqrt(H), 1/sqrt(H))``.

        SRU: the same for ``weight_ih``; ``weight_c`` likewise; ``bias`` zero
        (Lei et al. initialise the forget bias at 0 and rely on the skip scale).
        """
        k = 1.0 / sqrt(self.hidden_size)
        theta = rng.uniform(-k, k, self.layout.size).astype(self.dtype)
        if self.cell == "sru":
            for slot in self.layout:
                if slot.name.startswith("bias"):
                    theta[slot.start : slot.stop] = 0.0
        return theta

    def zero_state(self, batch: int) -> np.ndarray:
        """Zero initial state of shape ``(n_states, L * D, B, H)``."""
        return np.zeros(
            (
                self.n_states,
                self.num_layers * self.num_directions,
                batch,
                self.hidden_size,
            ),
            dtype=self.dtype,
        )

    def _suffix(self, layer: int, d: int) -> str:
        return f"_l{layer}" + ("_reverse" if d else "")

    # ----------------------------------------------------------------- forward
    def forward(self, theta, x, state0=None, *, training=False, dropout=0.0, rng=None):
        """Run the stack over a window.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        x : ndarray of shape (T, B, input_size), C-contiguous, stack dtype
        state0 : ndarray of shape (n_states, L * D, B, H), optional
            Initial state (zero if omitted). Row ``0`` is ``h`` (``c`` for SRU),
            row ``1`` is ``c`` for LSTM.
        training : bool
            Apply dropout between layers.
        dropout : float
        rng : numpy Generator
            For the dropout masks.

        Returns
        -------
        out : ndarray of shape (T, B, D * H)
            Top layer's output at every step.
        state : ndarray of shape (n_states, L * D, B, H)
            Final state.
        cache : StackCache
        """
        T, B, _ = x.shape
        D = self.num_directions
        # one layout per kernel argument: a read-only theta (e.g. memory-mapped
        # weights of an unpickled model) would compile other specializations,
        # which were measured to differ in the last bit
        theta = np.require(theta, self.dtype, ["C", "W"])
        if state0 is None:
            state0 = self.zero_state(B)
        else:
            state0 = np.require(state0, self.dtype, ["C", "W"])
        state = np.empty_like(state0)
        p = self.layout.views(theta)
        cache = StackCache()
        inp = x
        for layer in range(self.num_layers):
            outs = []
            row = []
            for d in range(D):
                idx = layer * D + d
                xin = inp if d == 0 else np.ascontiguousarray(inp[::-1])
                lc, final = self._layer_forward(
                    p, self._suffix(layer, d), xin, state0[:, idx]
                )
                state[:, idx] = final
                row.append(lc)
                outs.append(lc.hs[1:] if d == 0 else lc.hs[:0:-1])
            cache.layers.append(row)
            out = outs[0] if D == 1 else np.concatenate(outs, axis=2)
            if training and dropout > 0.0 and layer < self.num_layers - 1:
                keep = 1.0 - dropout
                mask = (rng.random(out.shape) < keep).astype(
                    self.dtype
                ) / self.dtype.type(keep)
                out = out * mask
                cache.masks.append(mask)
            else:
                cache.masks.append(None)
            inp = np.ascontiguousarray(out)
        return inp, state, cache

    def _layer_forward(self, p, suffix, x, s0):
        T, B, I = x.shape
        H = self.hidden_size
        dt = self.dtype
        w_ih = p["weight_ih" + suffix]
        G = w_ih.shape[0]
        cell = self.cell
        hs = np.empty((T + 1, B, H), dtype=dt)
        h0 = np.ascontiguousarray(s0[0])
        if cell == "sru":
            gates = project(x.reshape(T * B, I), w_ih, None).reshape(T, B, G)
            cs = np.empty((T + 1, B, H), dtype=dt)
            sru_forward(
                gates,
                x,
                p["weight_c" + suffix],
                p["bias" + suffix],
                SRU_ALPHA,
                h0,
                hs,
                cs,
                np.empty(2 * H, dtype=dt),
            )
            return _LayerCache(x, gates, hs, cs=cs), (cs[T],)
        w_hh = p["weight_hh" + suffix]
        work = T * G * (I + H)  # multiply-adds per stream
        if cell == "gru":
            # r multiplies h W_hn^T + b_hn alone: the input half stays apart
            b_ih = p["bias_ih" + suffix] if self.bias else None
            gates = project(x.reshape(T * B, I), w_ih, b_ih).reshape(T, B, G)
            b_hh = p["bias_hh" + suffix] if self.bias else np.zeros(G, dtype=dt)
            b_hh = b_hh.reshape(1, G)  # a bias row for the tile
            hns = np.empty((T, B, H), dtype=dt)
            rec = np.empty((2, B, G), dtype=dt)
            args = (gates, pack_panels(w_hh.T), b_hh, h0, hs, hns, rec)
            run_rows(gru_forward, args, B, work)
            return _LayerCache(x, gates, hs, hns=hns), (hs[T],)
        # rnn, lstm: one product per step, [x_t, h_{t-1}] [W_ih^T; W_hh^T] + b
        wp = pack_panels(np.concatenate([w_ih.T, w_hh.T]))
        bias = np.zeros((1, G), dtype=dt)
        if self.bias:
            bias[0] = p["bias_ih" + suffix] + p["bias_hh" + suffix]
        xh = np.empty((B, I + H), dtype=dt)
        rec = np.empty((B, G), dtype=dt)
        if cell == "lstm":
            gates = np.empty((T, B, G), dtype=dt)
            cs = np.empty((T + 1, B, H), dtype=dt)
            c0 = np.ascontiguousarray(s0[1])
            scale = np.ones(G, dtype=dt)  # tanh(x) = 2 sigmoid(2 x) - 1
            scale[2 * H : 3 * H] = 2.0
            args = (x, wp, bias, scale, h0, c0, gates, hs, cs, xh, rec)
            run_rows(lstm_forward, args, B, work)
            return _LayerCache(x, gates, hs, cs=cs), (hs[T], cs[T])
        args = (x, wp, bias, h0, self.relu, hs, xh, rec)
        run_rows(rnn_forward, args, B, work)
        return _LayerCache(x, None, hs), (hs[T],)

    # ---------------------------------------------------------------- backward
    def backward(self, theta, cache, d_out, d_state=None, grad=None):
        """Backpropagate through the window of the matching :meth:`forward`.

        The cache is consumed (gate arrays are overwritten by their gradients).

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        cache : StackCache
        d_out : ndarray of shape (T, B, D * H)
            Gradient of the loss with respect to the top layer's outputs.
        d_state : ndarray of shape (n_states, L * D, B, H), optional
            Gradient with respect to the final state (zero if omitted).
        grad : ndarray of shape (n_params,), optional
            Accumulated into (``+=``); a new zero vector if omitted.

        Returns
        -------
        grad : ndarray of shape (n_params,)
        d_x : ndarray of shape (T, B, input_size)
        d_state0 : ndarray of shape (n_states, L * D, B, H)
        dh_norm : ndarray of shape (L * D, T)
            ``||dL/dh_t||`` per layer-direction and step (``c`` for SRU),
            in forward time order.
        """
        T, B, _ = d_out.shape
        H = self.hidden_size
        D = self.num_directions
        L = self.num_layers
        if grad is None:
            grad = np.zeros(self.layout.size, dtype=self.dtype)
        theta = np.require(theta, self.dtype, ["C", "W"])
        p = self.layout.views(theta)
        g = self.layout.views(grad)
        d_state0 = np.empty((self.n_states, L * D, B, H), dtype=self.dtype)
        dh_norm = np.empty((L * D, T), dtype=self.dtype)
        zeros_state = np.zeros((self.n_states, B, H), dtype=self.dtype)
        upstream = np.ascontiguousarray(d_out, dtype=self.dtype)
        for layer in range(L - 1, -1, -1):
            mask = cache.masks[layer]
            if mask is not None:
                upstream = upstream * mask
            d_in = None
            for d in range(D):
                idx = layer * D + d
                dh = upstream[:, :, d * H : (d + 1) * H]
                dh = np.ascontiguousarray(dh if d == 0 else dh[::-1])
                ds_last = zeros_state if d_state is None else d_state[:, idx]
                dx, ds0, norms = self._layer_backward(
                    p, g, self._suffix(layer, d), cache.layers[layer][d], dh, ds_last
                )
                d_state0[:, idx] = ds0
                if d == 0:
                    dh_norm[idx] = norms
                    d_in = dx
                else:
                    dh_norm[idx] = norms[::-1]
                    d_in += dx[::-1]
            upstream = d_in
        return grad, upstream, d_state0, dh_norm

    def _layer_backward(self, p, g, suffix, lc, dhs, ds_last):
        x = lc.x
        T, B, I = x.shape
        H = self.hidden_size
        dt = self.dtype
        cell = self.cell
        ds0 = np.empty((self.n_states, B, H), dtype=dt)
        w_ih = p["weight_ih" + suffix]
        x2 = x.reshape(T * B, I)
        # the hoisted GEMMs after the scan go through NumPy's BLAS, the only
        # BLAS library the engine calls (the scans use their own tile), on the
        # scans' threads (see hoisted_products)
        if cell == "sru":
            norms = np.empty(T, dtype=dt)
            dx_skip = np.zeros((T, B, H), dtype=dt)
            sru_backward(
                lc.gates,
                x,
                lc.cs,
                dhs,
                np.ascontiguousarray(ds_last[0]),
                p["weight_c" + suffix],
                SRU_ALPHA,
                lc.gates,
                g["weight_c" + suffix],
                g["bias" + suffix],
                dx_skip,
                ds0[0],
                norms,
            )
            du2 = lc.gates.reshape(T * B, -1)
            dx = np.empty((T * B, I), dtype=dt)
            hoisted_products(
                [(du2.T, x2, g["weight_ih" + suffix], True), (du2, w_ih, dx, False)]
            )
            dx = dx.reshape(T, B, I)
            if w_ih.shape[0] == 3 * H:
                dx += dx_skip
            return dx, ds0, norms
        w_hh = p["weight_hh" + suffix]
        G = w_hh.shape[0]
        wp_hh = pack_panels(w_hh)
        h_prev2 = lc.hs[:-1].reshape(T * B, H)
        dh_sq = np.empty((T, B), dtype=np.float64)
        dh_last = np.ascontiguousarray(ds_last[0])
        work = T * G * H  # multiply-adds per stream
        if cell == "lstm":
            args = (
                lc.gates,
                lc.cs,
                dhs,
                dh_last,
                np.ascontiguousarray(ds_last[1]),
                wp_hh,
                lc.gates,
                ds0[0],
                ds0[1],
                dh_sq,
                np.empty((B, H), dtype=dt),
                np.zeros((B, H), dtype=dt),
            )
            run_rows(lstm_backward, args, B, work)
            da_h = lc.gates
        elif cell == "gru":
            da_h = np.empty_like(lc.gates)
            args = (lc.gates, lc.hs, lc.hns, dhs, dh_last, wp_hh, lc.gates, da_h)
            args += (ds0[0], dh_sq)
            run_rows(gru_backward, args, B, work)
        else:
            da_h = np.empty((T, B, H), dtype=dt)  # RNN keeps no gates
            zeros = np.zeros((B, H), dtype=dt)
            args = (lc.hs, dhs, dh_last, wp_hh, self.relu, da_h, ds0[0], dh_sq, zeros)
            run_rows(rnn_backward, args, B, work)
        norms = np.sqrt(dh_sq.sum(axis=1)).astype(dt)
        da2 = (da_h if cell == "rnn" else lc.gates).reshape(T * B, -1)
        dah2 = da_h.reshape(T * B, -1)
        dx = np.empty((T * B, I), dtype=dt)
        hoisted_products(
            [
                (da2.T, x2, g["weight_ih" + suffix], True),
                (dah2.T, h_prev2, g["weight_hh" + suffix], True),
                (da2, w_ih, dx, False),
            ]
        )
        if self.bias:
            g["bias_ih" + suffix] += da2.sum(axis=0)
            g["bias_hh" + suffix] += dah2.sum(axis=0)
        return dx.reshape(T, B, I), ds0, norms
