"""Packed weights for step-by-step inference (:func:`tsrnn.kernels.stream.stream`).

Training keeps torch's layouts (``W`` is ``(out, in)``); stepping one reading at
a time wants the transposes, so that every product is a vectorized loop over
outputs. A pack is built once per set of weights (after ``fit``,
``partial_fit`` or ``load``) and reused for every ``update``/``predict``.
"""

from __future__ import annotations

import threading

import numpy as np

from ._recurrent import SRU_ALPHA
from .engine.network import Network
from .kernels.stream import GRU, LSTM, RNN_RELU, RNN_TANH, SRU, STREAMS


def net_head_theta(network: Network, theta: np.ndarray) -> np.ndarray:
    """The head's part of a network's flat vector."""
    return network.split(theta)[1]


def cell_code(cell: str, relu: bool) -> int:
    """The stream kernel's integer code for a cell."""
    if cell == "rnn":
        return RNN_RELU if relu else RNN_TANH
    return {"lstm": LSTM, "gru": GRU, "sru": SRU}[cell]


class InferencePack:
    """Transposed, contiguous copies of a unidirectional network's weights.

    Parameters
    ----------
    network : Network
        Its head must read every step (``pooling="none"``).
    theta : ndarray of shape (n_params,)
    """

    def __init__(self, network: Network, theta: np.ndarray):
        stack, head = network.stack, network.head
        if stack.num_directions != 1:
            raise ValueError("step-by-step inference needs a unidirectional network")
        if head.pooling != "none":
            raise ValueError("step-by-step inference needs a per-step head")
        p = network.layout.views(theta)
        dt = network.dtype
        H = stack.hidden_size
        parts, offs, sizes = [], [], []
        pos = 0

        def put(a):
            nonlocal pos
            a = np.ascontiguousarray(a, dtype=dt).ravel()
            parts.append(a)
            start = pos
            pos += a.size
            return start

        for layer in range(stack.num_layers):
            sfx = f"_l{layer}"
            w_ih = p["weight_ih" + sfx]
            G, n_in = w_ih.shape
            if stack.cell == "sru":
                row = [put(w_ih.T), -1, put(p["weight_c" + sfx]), put(p["bias" + sfx])]
            else:
                row = [put(w_ih.T), put(p["weight_hh" + sfx].T)]
                if stack.bias:
                    if stack.cell == "gru":
                        row += [put(p["bias_ih" + sfx]), put(p["bias_hh" + sfx])]
                    else:  # rnn, lstm: both biases add before the nonlinearity
                        row += [put(p["bias_ih" + sfx] + p["bias_hh" + sfx]), -1]
                else:
                    row += [-1, -1]
            offs.append(row)
            sizes.append([n_in, G])
        W = head.dense_weight(net_head_theta(network, theta))
        self.head_w = put(W.T)
        self.head_b = put(p[f"{head.prefix}.bias"])
        self.pack = np.concatenate(parts) if parts else np.zeros(0, dt)
        self.offs = np.asarray(offs, dtype=np.int64)
        self.in_sizes = np.asarray(sizes, dtype=np.int64)
        self.cell = cell_code(stack.cell, bool(stack.relu))
        self._stream = STREAMS[self.cell]
        self.hidden = H
        self.n_inputs = stack.input_size
        self.n_extra = head.extra_features
        self.n_outputs = head.out_features
        self.g_max = int(self.in_sizes[:, 1].max())
        self.dtype = dt
        # scratch buffers per thread (and batch size): a streaming step allocates
        # nothing, and predicts from several threads never share a buffer
        self._local = threading.local()
        self._zeros = {}
        self._no_feedback = np.zeros((0, 2), np.int64)

    def run(self, state, x, extra=None, fb_cols=None, last_out=None, top=None):
        """Advance ``state`` (in place) over ``x`` of shape ``(S, B, I)``.

        Parameters
        ----------
        state : ndarray of shape (n_states, L, B, H)
            Updated in place.
        x : ndarray of shape (S, B, I)
            NaN in a feedback input column means "use the previous output".
        extra : ndarray of shape (S, B, E), optional
        fb_cols : int array of shape (n_fb, 2), optional
            (input column, output column) pairs for feedback.
        last_out : ndarray of shape (B, O), optional
            Outputs of the step before ``x[0]``; updated in place.
        top : ndarray of shape (B, H), optional
            Receives the top layer's output at the last step.

        Returns
        -------
        ndarray of shape (S, B, O)
            Head outputs at every step.
        """
        S, B, _ = x.shape
        dt = self.dtype
        if x.dtype != dt or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=dt)
        if extra is None:
            extra = self._no_extra(S, B)
        elif extra.dtype != dt or not extra.flags.c_contiguous:
            extra = np.ascontiguousarray(extra, dtype=dt)
        fb = self._no_feedback if fb_cols is None else np.asarray(fb_cols, np.int64)
        buffers = getattr(self._local, "scratch", None)
        if buffers is None:
            buffers = self._local.scratch = {}
        scratch = buffers.get(B)
        if scratch is None:  # per thread and batch size, then reused
            scratch = buffers[B] = (
                np.zeros((B, self.n_outputs), dt),
                np.empty((B, self.hidden), dt),
                np.empty(self.n_inputs, dt),
                np.empty(self.hidden, dt),
                np.empty(self.g_max, dt),
                np.empty(self.g_max, dt),
                np.empty(self.hidden + self.n_extra, dt),
                np.empty(self.g_max, dt),
                np.empty(self.g_max, dt),
            )
        if last_out is None:
            last_out = scratch[0]
            last_out[...] = 0.0
        if top is None:
            top = scratch[1]
        out = np.empty((S, B, self.n_outputs), dtype=dt)
        self._stream(
            self.pack,
            self.offs,
            self.in_sizes,
            SRU_ALPHA,
            state,
            x,
            extra,
            fb,
            self.head_w,
            self.head_b,
            last_out,
            out,
            top,
            *scratch[2:],
        )
        return out

    def __getstate__(self):
        # thread-local scratch is neither picklable nor worth copying
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def _no_extra(self, S, B):
        key = (S, B)
        z = self._zeros.get(key)
        if z is None:
            z = self._zeros[key] = np.zeros((S, B, 0), dtype=self.dtype)
        return z
