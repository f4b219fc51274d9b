"""Packed weights for step-by-step inference (:mod:`tsrnn.kernels.stream`).

Training keeps torch's layouts (``W`` is ``(out, in)``); stepping one reading at
a time wants the transposes, packed in column panels (see
:mod:`tsrnn.kernels._linalg`), so that every product is a register-blocked
vector-matrix product. A pack is built once per set of weights (after ``fit``,
``partial_fit`` or ``load``) and reused for every ``update``/``predict``.
"""

from __future__ import annotations

import numpy as np

from ..kernels._linalg import aligned_copy, aligned_empty, pack_panels, panel_width
from ..kernels.sampling import SAMPLERS, sample_lstm
from ..kernels.stream import META_HEAD, META_ROW, stream_lstm
from .network import Network


class Packer:
    """Appends arrays to one flat vector of ``dtype`` and returns their offsets."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.parts = []
        self.size = 0

    def put(self, a, align=False) -> int:
        """Append ``a`` (flattened); its offset (on 64 bytes if ``align``)."""
        if align:
            gap = -self.size % panel_width(self.dtype)
            if gap:
                self.put(np.zeros(gap, self.dtype))
        a = np.ascontiguousarray(a, dtype=self.dtype).ravel()
        self.parts.append(a)
        start = self.size
        self.size += a.size
        return start

    def put_panels(self, w) -> tuple[int, int]:
        """Append ``w.T`` (``w`` in torch's ``(out, in)`` layout) as column panels.

        Returns the offset and the number of panels. The panels start on a
        64-byte boundary of the vector (zeros pad the gap), which
        :meth:`vector` puts on a 64-byte boundary of memory: every panel row
        is then one cache line.
        """
        wp = pack_panels(np.asarray(w, dtype=self.dtype).T)
        return self.put(wp, align=True), wp.shape[0]

    def vector(self) -> np.ndarray:
        """Everything appended, as one vector starting on a 64-byte boundary."""
        out = aligned_empty(self.size, self.dtype)
        if self.parts:
            np.concatenate(self.parts, out=out)
        return out


class InferencePack:
    """Transposed, panel-packed copies of a unidirectional network's weights.

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
        packer = Packer(dt)
        rows, g_max = [], 0
        for layer in range(stack.num_layers):
            row = stack.spec.pack(packer, p, f"_l{layer}", stack.bias, H)
            g_max = max(g_max, row[1])  # the widest layer's gates
            rows += row
        th = network.split(theta)[1]
        W = head.dense_weight(th)
        head_w = packer.put(W, align=True)  # rows: dot products (dense_rows)
        # a head without parameters of its own (an encoder-decoder's
        # reference read-out) gives its bias
        bias = head.dense_bias(th) if hasattr(head, "dense_bias") else None
        head_b = packer.put(p[f"{head.prefix}.bias"] if bias is None else bias)
        self.pack = packer.vector()
        # categorical inputs: their tables, looked up before the kernel (a
        # gather per step; the kernel reads the embedded row as any input)
        self.embeddings = network.embeddings
        self._tables = (
            None if network.embeddings is None
            else network.embedding_part(theta).astype(dt)
        )
        nr = panel_width(dt)
        n_i = stack.input_size
        E = head.extra_features
        O = head.out_features
        # no previous outputs (meta[10] = 0) and no feedback columns (the
        # last two: none, of 2 columns); run() makes the other variants
        self.meta = np.array(
            [stack.num_layers, H, nr, n_i, E, O, g_max, head_w, W.shape[1], head_b, 0]
            + rows
            + [0, 2],
            dtype=np.int64,
        )
        self._stream = stack.spec.stream_driver(bool(stack.relu))
        self.hidden = H
        self.n_inputs = n_i
        self.n_extra = E
        self.n_outputs = O
        self.g_max = g_max
        self.n_buf = n_i + 3 * H + E + 3 * g_max  # the driver's scratch
        self.dtype = np.dtype(dt)
        self._set_plain()

    def _set_plain(self):
        # what ``run`` reads for a plain step (None: every step needs more)
        self._plain = (
            (self.dtype, self._stream, self.pack, self.meta, self.n_outputs)
            if self.embeddings is None and self.n_extra == 0
            else None
        )

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
        # A streaming step costs about 0.6 us beyond its arithmetic, in Python
        # and in the call into Numba (about 20 ns per argument): a plain step
        # (inputs of the pack's dtype, C-contiguous; no embeddings, extras,
        # feedback, previous outputs or top) takes the shortest path, its
        # constants read from one tuple, and allocates nothing but ``out``.
        plain = self._plain
        if (
            plain is not None
            and extra is None
            and fb_cols is None
            and last_out is None
            and top is None
        ):
            dt, driver, pack, meta, n_out = plain
            if x.dtype is dt and x.flags.c_contiguous:
                shape = x.shape
                out = np.empty((shape[0], shape[1], n_out), dt)
                driver(pack, meta, state, x, x, out)
                return out
        dt = self.dtype
        if self.embeddings is not None:
            x = self.embeddings.forward(self._tables, x)
        if x.dtype is not dt or not x.flags.c_contiguous:
            x = np.ascontiguousarray(x, dtype=dt)
        if extra is None:
            if self.n_extra:
                raise ValueError(
                    f"this network's head reads {self.n_extra} extra features "
                    "per step: pass extra of shape (S, B, n_extra)"
                )
            extra = x  # never read: the head has no extra features (E = 0)
        elif extra.dtype is not dt or not extra.flags.c_contiguous:
            extra = np.ascontiguousarray(extra, dtype=dt)
        if fb_cols is None and last_out is None and top is None:
            shape = x.shape
            out = np.empty((shape[0], shape[1], self.n_outputs), dt)
            self._stream(self.pack, self.meta, state, x, extra, out)
            return out
        return self._run_full(state, x, extra, fb_cols, last_out, top)

    def _run_full(self, state, x, extra, fb_cols, last_out, top):
        # ``run`` with feedback, previous outputs or the top layer's output:
        # the previous outputs go in as ``out[0]`` (meta[10] = 1), the top
        # layer's output comes out in ``out``'s columns after the head's
        S, B = x.shape[:2]
        n_out = self.n_outputs
        k = 0 if last_out is None else 1
        meta = self.meta.copy()
        meta[10] = k
        if fb_cols is not None:
            fb = np.asarray(fb_cols, np.int64)
            meta = np.concatenate((meta[:-2], fb.shape, fb.ravel()))
        width = n_out if top is None else n_out + self.hidden
        out = np.empty((S + k, B, width), self.dtype)
        if k:
            out[0, :, :n_out] = last_out
        self._stream(self.pack, meta, state, x, extra, out)
        if last_out is not None:
            last_out[...] = out[-1, :, :n_out]
        if top is not None and S:
            top[...] = out[-1, :, n_out:]
        return np.ascontiguousarray(out[k:, :, :n_out])

    def sample(self, state, x, extra, out0, family, n_params, n_targets, n_steps,
               temperature, seed, qwork):
        """Recursive sample paths (:mod:`tsrnn.kernels.sampling`).

        Parameters
        ----------
        state : ndarray of shape (n_states, L, B, H)
            Each path's starting state; advanced in place.
        x : ndarray of shape (n_steps - 1, B, I)
            Known inputs of steps 1 .. n_steps-1 (target columns overwritten
            by the draws).
        extra : ndarray of shape (n_steps - 1, B, E)
        out0 : ndarray of shape (B, O)
            Head outputs at the origin.
        family, n_params, n_targets, n_steps : int
        temperature : float
        seed : int
        qwork : float64 ndarray
            A quantile head's levels and sort room
            (:func:`~tsrnn.engine.distributions.quantile_work`).

        Returns
        -------
        ndarray of shape (n_steps, B, n_targets)
        """
        dt = self.dtype
        B = out0.shape[0]
        if n_steps < 2:  # nothing to step through: the kernel still needs arrays
            x = np.zeros((1, B, self.n_inputs), dt)
            extra = np.zeros((1, B, self.n_extra), dt)
        x = np.ascontiguousarray(x, dtype=dt)
        extra = np.ascontiguousarray(extra, dtype=dt)
        draws = np.empty((n_steps, B, n_targets), dt)
        if self._stream is stream_lstm:  # every path at once (sampling.py)
            G, H = 4 * self.hidden, self.hidden
            sample_lstm(
                self.pack, self.meta, state, x, extra,
                np.ascontiguousarray(out0, dtype=dt), int(family), int(n_params),
                float(temperature), qwork, int(seed), draws,
                np.empty((B, self.n_inputs), dt), np.empty((B, G), dt),
                np.empty((B, G), dt), np.empty((B, H), dt), np.empty((B, H), dt),
                np.zeros((B, H + self.n_extra), dt), np.empty((B, self.n_outputs), dt),
            )
            return draws
        gm = B * self.meta[6]  # G_max per path
        SAMPLERS[self._stream](
            self.pack, self.meta, state, x, extra,
            np.ascontiguousarray(out0, dtype=dt), int(family), int(n_params),
            float(temperature), qwork, int(seed), draws,
            np.empty((B, self.n_inputs), dt), np.empty(gm, dt), np.empty(gm, dt),
            np.empty(gm, dt), np.empty(2 * self.hidden, dt),
            np.zeros((B, self.hidden + self.n_extra), dt),
            np.empty((B, self.n_outputs), dt),
        )
        return draws

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_plain", None)  # rebuilt around the realigned pack
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # unpickled arrays are only 16-byte aligned: panels back on cache lines
        self.pack = aligned_copy(self.pack)
        # a pack pickled before the feedback columns went into meta: none
        for name in ("_meta_zero", "_local", "_zeros", "_no_feedback"):
            self.__dict__.pop(name, None)
        if len(self.meta) == META_HEAD + META_ROW * int(self.meta[0]):
            self.meta = np.concatenate((self.meta, [0, 2]))
        self._set_plain()  # the realigned pack
