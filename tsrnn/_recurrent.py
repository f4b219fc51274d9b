"""The recurrent stack: stacked, optionally bidirectional layers of one cell type.

This is the engine's middle layer. Below it are the Numba scans
(:mod:`tsrnn.kernels`); above it are :mod:`tsrnn.nn` (torch's twins) and the
training loop. It owns three things:

* the parameter layout, with torch's names, shapes and gate orders;
* the one input-projection GEMM per layer and direction before each scan, and
  the weight GEMMs after each reverse scan (``dW_ih = dA^T X``,
  ``dW_hh = dA^T H_prev``, ``dX = dA W_ih``), so that only the recurrent part is
  sequential;
* dropout between layers and the reversed direction of bidirectional layers.

Arrays are time-major ``(T, B, features)``, C-contiguous, of the stack's dtype;
callers normalize before calling (one compiled specialization per kernel and
dtype).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import sqrt

import numpy as np

from ._layout import ParamLayout
from .kernels._linalg import gemm
from .kernels.gru import gru_backward, gru_forward
from .kernels.lstm import lstm_backward, lstm_forward
from .kernels.rnn import rnn_backward, rnn_forward
from .kernels.sru import sru_backward, sru_forward

CELLS = ("rnn", "lstm", "gru", "sru")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
SRU_ALPHA = sqrt(3.0)  # sqrt(1 + 2 exp(highway_bias)) at highway_bias = 0


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
    gates: np.ndarray  # (T, B, G) activated gates (overwritten by backward)
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
        w_ih = p["weight_ih" + suffix]
        gates = gemm(x.reshape(T * B, I), np.ascontiguousarray(w_ih.T)).reshape(T, B, w_ih.shape[0])
        hs = np.empty((T + 1, B, H), dtype=self.dtype)
        cell = self.cell
        if cell == "sru":
            cs = np.empty((T + 1, B, H), dtype=self.dtype)
            sru_forward(
                gates,
                x,
                p["weight_c" + suffix],
                p["bias" + suffix],
                SRU_ALPHA,
                s0[0],
                hs,
                cs,
                np.empty(2 * H, dtype=self.dtype),
            )
            return _LayerCache(x, gates, hs, cs=cs), (cs[T],)
        w_hh_t = np.ascontiguousarray(p["weight_hh" + suffix].T)
        work = np.empty((2, B, w_ih.shape[0]), dtype=self.dtype)
        if cell == "gru":
            if self.bias:
                gates += p["bias_ih" + suffix]
                b_hh = p["bias_hh" + suffix]
            else:
                b_hh = np.zeros(w_ih.shape[0], dtype=self.dtype)
            hns = np.empty((T, B, H), dtype=self.dtype)
            gru_forward(gates, w_hh_t, b_hh, s0[0], hs, hns, work)
            return _LayerCache(x, gates, hs, hns=hns), (hs[T],)
        if self.bias:
            gates += p["bias_ih" + suffix] + p["bias_hh" + suffix]
        if cell == "lstm":
            cs = np.empty((T + 1, B, H), dtype=self.dtype)
            lstm_forward(gates, w_hh_t, s0[0], s0[1], hs, cs, work)
            return _LayerCache(x, gates, hs, cs=cs), (hs[T], cs[T])
        rnn_forward(gates, w_hh_t, s0[0], self.relu, hs, work)
        return _LayerCache(x, gates, hs), (hs[T],)

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
        cell = self.cell
        norms = np.empty(T, dtype=self.dtype)
        ds0 = np.empty((self.n_states, B, H), dtype=self.dtype)
        w_ih = p["weight_ih" + suffix]
        x2 = x.reshape(T * B, I)
        if cell == "sru":
            dx_skip = np.zeros((T, B, H), dtype=self.dtype)
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
            g["weight_ih" + suffix] += gemm(du2.T, x2)
            dx = gemm(du2, w_ih).reshape(T, B, I)
            if w_ih.shape[0] == 3 * H:
                dx += dx_skip
            return dx, ds0, norms
        w_hh = p["weight_hh" + suffix]
        h_prev2 = lc.hs[:-1].reshape(T * B, H)
        if cell == "lstm":
            lstm_backward(
                lc.gates,
                lc.cs,
                dhs,
                np.ascontiguousarray(ds_last[0]),
                np.ascontiguousarray(ds_last[1]),
                w_hh,
                lc.gates,
                ds0[0],
                ds0[1],
                norms,
                np.empty(H, dtype=self.dtype),
            )
            da_h = lc.gates
        elif cell == "gru":
            da_h = np.empty_like(lc.gates)
            work = np.empty((B, H), dtype=self.dtype)
            gru_backward(
                lc.gates,
                lc.hs,
                lc.hns,
                dhs,
                np.ascontiguousarray(ds_last[0]),
                w_hh,
                lc.gates,
                da_h,
                ds0[0],
                norms,
                work,
            )
        else:
            rnn_backward(
                lc.hs,
                dhs,
                np.ascontiguousarray(ds_last[0]),
                w_hh,
                self.relu,
                lc.gates,
                ds0[0],
                norms,
            )
            da_h = lc.gates
        da2 = lc.gates.reshape(T * B, -1)
        dah2 = da_h.reshape(T * B, -1)
        g["weight_ih" + suffix] += gemm(da2.T, x2)
        g["weight_hh" + suffix] += gemm(dah2.T, h_prev2)
        if self.bias:
            g["bias_ih" + suffix] += da2.sum(axis=0)
            g["bias_hh" + suffix] += dah2.sum(axis=0)
        dx = gemm(da2, w_ih).reshape(T, B, I)
        return dx, ds0, norms
