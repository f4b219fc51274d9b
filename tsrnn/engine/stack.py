"""The recurrent stack: stacked, optionally bidirectional layers of one cell type.

This is the engine's middle layer. Below it are the Numba scans
(:mod:`tsrnn.kernels`); above it are :mod:`tsrnn.nn` (torch's twins) and the
training loop. It owns:

* the parameter layout, with torch's names, shapes and gate orders (each
  cell's entries come from its row of :mod:`tsrnn.engine.cells`);
* the layers and directions: each layer-direction runs its cell's layer
  functions (the input projection before the scan, the scan, the weight GEMMs
  after the reverse scan, so that only the recurrent part is sequential; the
  streams of a batch split between threads, see :mod:`tsrnn.engine.threads`);
* dropout between layers and the reversed direction of bidirectional layers.

Arrays are time-major ``(T, B, features)``, C-contiguous, of the stack's dtype;
callers normalize before calling (one compiled specialization per kernel and
dtype).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod, sqrt

import numpy as np

from .budget import check_array_budget
from .cells import CELL_SPECS, CellSpec, LayerCache, cell_spec
from .layout import ParamLayout
from .workspace import spares


@dataclass
class StackCache:
    """Everything :meth:`RecurrentStack.backward` needs from a forward pass."""

    layers: list[list[LayerCache]] = field(default_factory=list)  # [layer][direction]
    masks: list = field(default_factory=list)  # dropout masks on layer outputs
    for_backward: bool = True  # False: forward(keep_cache=False) kept only hs

    @property
    def last_output(self) -> np.ndarray:
        """The top layer's output after the last step, ``(B, H)``.

        What a per-step head reads at the end of the window (forward direction;
        the top layer's ``h_T``, SRU's output rather than its state ``c_T``).
        """
        return self.layers[-1][0].hs[-1]


#: Bytes of Python bookkeeping counted per parameter tensor in the budget.
_TENSOR_OVERHEAD = 1024


def _require(a, dtype):
    """``np.require(a, dtype, ["C", "W"])``: ``a`` itself when it already is
    (a training step asked three times, at about 3 us a call)."""
    if (
        isinstance(a, np.ndarray)
        and a.dtype == dtype
        and a.flags.c_contiguous
        and a.flags.writeable
    ):
        return a
    return np.require(a, dtype, ["C", "W"])


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

    Raises
    ------
    ValueError
        When the parameter vector would exceed
        :data:`tsrnn.engine.budget.MAX_ARRAY_BYTES` (2 GiB): checked from the
        sizes before anything is allocated.
    """

    # Declared mirror: nn.RNNBase.__init__ takes the same parameters (torch's
    # public constructor there; the engine's own here).
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
        cell_spec(cell)  # a clear error for an unknown cell
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
        n_params, n_tensors = self._count_params()
        # each tensor also costs Python bookkeeping (a layout slot, views, a
        # cache per layer): about a KiB, which is what num_layers=10**6 of a
        # tiny cell would exhaust memory with
        check_array_budget(
            n_params * self.dtype.itemsize + n_tensors * _TENSOR_OVERHEAD,
            1,
            f"a {cell} stack with input_size={self.input_size}, hidden_size="
            f"{self.hidden_size} and num_layers={self.num_layers} has "
            f"{n_params:.3g} parameters in {n_tensors:.3g} tensors",
            "lower hidden_size or num_layers",
        )
        rows = []
        for layer in range(self.num_layers):
            i_k = (
                self.input_size
                if layer == 0
                else self.num_directions * self.hidden_size
            )
            for d in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                rows += self.spec.entries(i_k, self.hidden_size, suffix, self.bias)
        self.layout = ParamLayout(rows)

    def _count_params(self) -> tuple[int, int]:
        """Parameters and tensors, from two layers' entries (no per-layer loop)."""
        first = self.spec.entries(self.input_size, self.hidden_size, "", self.bias)
        upper = self.spec.entries(
            self.num_directions * self.hidden_size, self.hidden_size, "", self.bias
        )
        n_first = sum(prod(shape) for _, shape in first)
        n_upper = sum(prod(shape) for _, shape in upper)
        n_params = self.num_directions * (n_first + (self.num_layers - 1) * n_upper)
        return n_params, self.num_directions * self.num_layers * len(first)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_spares", None)  # scratch arrays of past calls
        return state

    # ------------------------------------------------------------------ params
    @property
    def spec(self) -> CellSpec:
        """The cell's row of the cell table (looked up, so that stacks pickle)."""
        return CELL_SPECS[self.cell]

    @property
    def n_states(self) -> int:
        """Number of state tensors per layer-direction (LSTM: h and c)."""
        return self.spec.n_states

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """torch's init: every tensor ``U(-1/sqrt(H), 1/sqrt(H))``.

        SRU: the same for ``weight_ih``; ``weight_c`` likewise; ``bias`` zero
        (Lei et al. initialise the forget bias at 0 and rely on the skip scale).
        """
        k = 1.0 / sqrt(self.hidden_size)
        theta = rng.uniform(-k, k, self.layout.size).astype(self.dtype)
        if self.spec.zero_bias_init:
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
    def forward(
        self,
        theta,
        x,
        state0=None,
        *,
        training=False,
        dropout=0.0,
        rng=None,
        keep_cache=True,
    ):
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
        keep_cache : bool
            False: no :meth:`backward` follows (inference), so the cells skip
            what only BPTT reads; the cache still gives ``last_output``.

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
        theta = _require(theta, self.dtype)
        if state0 is None:
            state0 = self.zero_state(B)
        else:
            state0 = _require(state0, self.dtype)
        state = np.empty_like(state0)
        p = self.layout.recent_views(theta)
        cache = StackCache(for_backward=keep_cache)
        inp = x
        for layer in range(self.num_layers):
            outs = []
            row = []
            for d in range(D):
                idx = layer * D + d
                xin = inp if d == 0 else np.ascontiguousarray(inp[::-1])
                lc, final = self.spec.forward(
                    self, p, self._suffix(layer, d), xin, state0[:, idx], keep_cache
                )
                for k, f in enumerate(final):  # (a tuple: NumPy stacked it first)
                    state[k, idx] = f
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

    def step_states(self, cache: StackCache) -> np.ndarray:
        """The state after every step of the window of ``cache``, every layer.

        What an encoder-decoder starts its decoder from at each origin.
        Unidirectional stacks of cells whose state is their output (and, for
        LSTM, its cell state): RNN, GRU, LSTM.

        Returns
        -------
        ndarray of shape (n_states, L, T, B, H)
            A copy (the cache's arrays are recycled or overwritten by the
            backward pass); row 0 is ``h``, row 1 ``c`` for LSTM.
        """
        if self.num_directions != 1 or self.spec.states[0] != "h":
            raise ValueError(
                "per-step states need a unidirectional rnn, gru or lstm stack"
            )
        T, B, H = cache.layers[0][0].hs[1:].shape
        out = np.empty((self.n_states, self.num_layers, T, B, H), dtype=self.dtype)
        for layer, row in enumerate(cache.layers):
            out[0, layer] = row[0].hs[1:]
            if self.n_states > 1:
                out[1, layer] = row[0].cs[1:]
        return out

    # ---------------------------------------------------------------- backward
    def backward(
        self,
        theta,
        cache,
        d_out,
        d_state=None,
        grad=None,
        *,
        input_grad=True,
        d_states=None,
    ):
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
        input_grad : bool
            Compute ``d_x``; False skips the first layer's input product
            (a training step discards it) and returns None for it.
        d_states : ndarray of shape (n_states, L, T, B, H), optional
            Gradient with respect to the state after every step of every
            layer (:meth:`step_states`; unidirectional stacks): what a decoder
            started at every step sends back.

        Returns
        -------
        grad : ndarray of shape (n_params,)
        d_x : ndarray of shape (T, B, input_size), or None
        d_state0 : ndarray of shape (n_states, L * D, B, H)
        dh_norm : ndarray of shape (L * D, T)
            ``||dL/dh_t||`` per layer-direction and step (``c`` for SRU),
            in forward time order.
        """
        if not cache.for_backward:
            raise ValueError(
                "this cache comes from forward(..., keep_cache=False), which keeps "
                "nothing for a backward pass; run forward with keep_cache=True"
            )
        T, B, _ = d_out.shape
        H = self.hidden_size
        D = self.num_directions
        L = self.num_layers
        if grad is None:
            grad = np.zeros(self.layout.size, dtype=self.dtype)
        theta = _require(theta, self.dtype)
        p = self.layout.recent_views(theta)
        g = self.layout.recent_views(grad)
        d_state0 = np.empty((self.n_states, L * D, B, H), dtype=self.dtype)
        dh_norm = np.empty((L * D, T), dtype=self.dtype)
        sp = spares(self)
        # zeros the layers only read, lent for the call
        zeros_state = sp.get("zeros_state", (self.n_states, B, H), self.dtype, np.zeros)
        upstream = np.ascontiguousarray(d_out, dtype=self.dtype)
        for layer in range(L - 1, -1, -1):
            mask = cache.masks[layer]
            if mask is not None:
                upstream = upstream * mask
            dcs = None
            if d_states is not None:  # h is the layer's output before dropout
                upstream = upstream + d_states[0, layer]
                if self.n_states > 1:
                    dcs = d_states[1, layer]
            d_in = None
            for d in range(D):
                idx = layer * D + d
                dh = upstream[:, :, d * H : (d + 1) * H]
                dh = np.ascontiguousarray(dh if d == 0 else dh[::-1])
                ds_last = zeros_state if d_state is None else d_state[:, idx]
                layer_cache = cache.layers[layer][d]
                dx, ds0, norms = self.spec.backward(
                    self,
                    p,
                    g,
                    self._suffix(layer, d),
                    layer_cache,
                    dh,
                    ds_last,
                    need_dx=input_grad or layer > 0,
                    **({} if dcs is None else {"dcs": dcs}),
                )
                d_state0[:, idx] = ds0
                if d == 0:
                    dh_norm[idx] = norms
                    d_in = dx
                else:
                    dh_norm[idx] = norms[::-1]
                    if dx is not None:
                        d_in += dx[::-1]
            upstream = d_in
        sp.put("zeros_state", zeros_state)
        return grad, upstream, d_state0, dh_norm
