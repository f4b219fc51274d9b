"""``tsrnn.nn.RNN/LSTM/GRU/SRU``: the numerical twins of ``torch.nn``'s modules.

They take torch's constructor arguments and shapes, hold their parameters in one
flat vector (``theta``) whose named views carry torch's names, shapes and gate
orders, and replace autograd with an explicit :meth:`~RNNBase.backward` that
returns gradients under torch's parameter names. A torch ``state_dict`` converted
to NumPy loads as is::

    lstm.load_state_dict({k: v.detach().numpy() for k, v in m.state_dict().items()})
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..data.checks import check_float_array
from ..engine.cells import cell_spec
from ..engine.stack import RecurrentStack


class RNNBase:
    """Shared machinery of :class:`RNN`, :class:`LSTM`, :class:`GRU`, :class:`SRU`.

    Parameters
    ----------
    mode : {"rnn", "lstm", "gru", "sru"}
    input_size : int
        Features per time step.
    hidden_size : int
        Units per layer and direction.
    num_layers : int, default=1
    nonlinearity : {"tanh", "relu"}, default="tanh"
        ``mode="rnn"`` only.
    bias : bool, default=True
        Keep ``bias_ih``/``bias_hh`` (SRU always keeps its ``bias``).
    batch_first : bool, default=False
        Input and output are ``(B, T, F)`` instead of ``(T, B, F)``.
    dropout : float, default=0.0
        Dropout on the outputs of every layer but the last, in training mode.
    bidirectional : bool, default=False
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
    random_state : int, numpy Generator or None
        Seeds the initialisation and the dropout masks.

    Attributes
    ----------
    theta : ndarray of shape (n_params,)
        All parameters; :meth:`named_parameters` gives torch-named views.
    grad : ndarray of shape (n_params,)
        Gradient from the last :meth:`backward`, same layout as ``theta``.
    dh_norm_ : ndarray of shape (num_layers * D, T)
        ``||dL/dh_t||`` at every step of the last backward window, per layer and
        direction (SRU: of its recurrent state ``c``).
    training : bool
        Dropout is active only when True (see :meth:`train`, :meth:`eval`).
    """

    _mode = "rnn"

    # Declared mirror: engine.stack.RecurrentStack's parameters (this is torch's
    # public constructor; the stack, the engine's).
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=np.float64,
        random_state=None,
    ):
        for name, value, low in (
            ("input_size", input_size, 1),
            ("hidden_size", hidden_size, 1),
            ("num_layers", num_layers, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dt}")
        self.mode = self._mode
        if not bias and not cell_spec(self.mode).bias_optional:
            raise ValueError(
                f"{type(self).__name__} always has its gate biases; use bias=True"
            )
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.nonlinearity = nonlinearity
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.dtype = dt
        # Declared mirror (form only): a call with keyword arguments, as the
        # forecaster's gather(...) in StreamsForecaster._predict_values; unrelated.
        self._stack = RecurrentStack(
            self.mode,
            self.input_size,
            self.hidden_size,
            self.num_layers,
            nonlinearity=nonlinearity,
            bias=self.bias,
            bidirectional=self.bidirectional,
            dtype=dt,
        )
        self._rng = np.random.default_rng(random_state)
        self.theta = self._stack.init_params(self._rng)
        self.grad = np.zeros_like(self.theta)
        self.training = True
        self._cache = None

    # ---------------------------------------------------------------- params
    @property
    def layout(self):
        """The :class:`~tsrnn.engine.layout.ParamLayout` of :attr:`theta`."""
        return self._stack.layout

    def named_parameters(self) -> dict[str, np.ndarray]:
        """torch-named zero-copy views into :attr:`theta` (writes go through)."""
        return self.layout.views(self.theta)

    def parameters(self) -> list[np.ndarray]:
        """The views of :meth:`named_parameters`, in torch's order."""
        return list(self.named_parameters().values())

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return self.layout.size

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter under torch's names, shapes and gate orders."""
        return {k: v.copy() for k, v in self.named_parameters().items()}

    def load_state_dict(
        self, state_dict: Mapping[str, np.ndarray], strict: bool = True
    ):
        """Copy parameters in from a mapping of name -> array.

        Parameters
        ----------
        state_dict : mapping of str to array-like
            E.g. ``{k: v.detach().numpy() for k, v in torch_module.state_dict().items()}``.
        strict : bool, default=True
            Require exactly this module's names.

        Raises
        ------
        KeyError
            Missing or unexpected names (``strict=True``).
        ValueError
            A shape that differs from this module's, or non-finite values.
        """
        own = self.named_parameters()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(
                f"state_dict does not match {type(self).__name__}: missing {missing}, "
                f"unexpected {unexpected}; build the module with the same "
                "input_size, hidden_size, num_layers, bias and bidirectional"
            )
        staged = {}
        for k, view in own.items():
            if k not in state_dict:
                continue
            value = np.asarray(state_dict[k])
            if value.shape != view.shape:
                raise ValueError(
                    f"state_dict[{k!r}] has shape {value.shape}, this module expects "
                    f"{view.shape}; build the module with the input_size, "
                    "hidden_size and num_layers the weights were trained with"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(
                    f"state_dict[{k!r}] holds NaN or inf; load finite weights (the "
                    "model they come from may have diverged during training)"
                )
            staged[k] = value
        for k, value in staged.items():  # all checked first: no half-loaded module
            own[k][...] = value
        return self

    def train(self, mode: bool = True):
        """Set training mode (dropout on)."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Set evaluation mode (dropout off)."""
        return self.train(False)

    def zero_grad(self):
        """Reset :attr:`grad` to zero."""
        self.grad[:] = 0.0

    # --------------------------------------------------------------- forward
    def _check_input(self, x):
        x = check_float_array(
            x,
            "input",
            self.dtype,
            ndim=(2, 3),
            shapes="(T, B, input_size), (B, T, input_size) with batch_first=True, "
            "or unbatched (T, input_size)",
        )
        unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"input has {x.shape[2]} features per step, this module was built with "
                f"input_size={self.input_size}; pass {self.input_size} features per "
                f"step or build the module with input_size={x.shape[2]}"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(
                f"input has an empty time or batch axis: shape {x.shape}; pass at "
                "least one time step of at least one sequence"
            )
        return np.ascontiguousarray(x), unbatched

    def _check_state(self, hx, batch, unbatched, name):
        LD = self.num_layers * (2 if self.bidirectional else 1)
        shape = (LD, self.hidden_size) if unbatched else (LD, batch, self.hidden_size)
        s = check_float_array(hx, name, self.dtype, ndim=(len(shape),))
        if s.shape != shape:
            raise ValueError(
                f"{name} has shape {s.shape}, expected {shape} ("
                + ("" if unbatched else "num_layers * num_directions, batch, ")
                + "hidden_size"
                + (" for unbatched input" if unbatched else "")
                + "); pass a state of that shape or None for zeros"
            )
        return s.reshape(LD, batch, self.hidden_size)

    def _pack_state(self, hx, batch, unbatched):
        if hx is None:
            return self._stack.zero_state(batch)
        names = self._state_names()
        if len(names) > 1:
            if not isinstance(hx, tuple) or len(hx) != len(names):
                raise TypeError(
                    f"{type(self).__name__} expects hx as a tuple ({', '.join(names)})"
                )
            parts = [
                self._check_state(h, batch, unbatched, n)
                for h, n in zip(hx, names, strict=True)
            ]
            return np.ascontiguousarray(np.stack(parts))
        return np.ascontiguousarray(
            self._check_state(hx, batch, unbatched, names[0])[None]
        )

    def _state_names(self):
        """torch's names of the initial state tensors (``h_0``; LSTM ``h_0, c_0``)."""
        return [f"{s}_0" for s in self._stack.spec.states]

    def _unpack_state(self, state, unbatched):
        s = state[:, :, 0] if unbatched else state
        if self._stack.spec.n_states > 1:
            return tuple(part.copy() for part in s)
        return s[0].copy()

    def forward(self, input, hx=None):
        """Run the module over a sequence.

        Parameters
        ----------
        input : array-like of shape (T, B, input_size), (B, T, input_size) when
            ``batch_first``, or (T, input_size) unbatched
        hx : array-like of shape (num_layers * D, B, hidden_size), optional
            Initial state; ``(h_0, c_0)`` for LSTM, ``c_0`` for SRU. Zero if omitted.

        Returns
        -------
        output : ndarray of shape (T, B, D * hidden_size) (batch_first: (B, T, ...))
        h_n : ndarray of shape (num_layers * D, B, hidden_size)
            ``(h_n, c_n)`` for LSTM; ``c_n`` for SRU.
        """
        x, unbatched = self._check_input(input)
        state0 = self._pack_state(hx, x.shape[1], unbatched)
        out, state, cache = self._stack.forward(
            self.theta,
            x,
            state0,
            training=self.training,
            dropout=self.dropout,
            rng=self._rng,
        )
        self._cache = (cache, unbatched, x.shape)
        if unbatched:
            output = out[:, 0].copy()
        elif self.batch_first:
            output = out.transpose(1, 0, 2).copy()
        else:
            output = out.copy()
        return output, self._unpack_state(state, unbatched)

    __call__ = forward

    def backward(self, grad_output, grad_hn=None):
        """Backpropagate through the last :meth:`forward` (the cache is consumed).

        Parameters
        ----------
        grad_output : array-like, same shape as ``output``
            dL/d output.
        grad_hn : array-like, optional
            dL/d h_n (a tuple ``(dL/dh_n, dL/dc_n)`` for LSTM, either may be None;
            dL/d c_n for SRU). Zero if omitted.

        Returns
        -------
        dict of str to ndarray
            Gradients under torch's parameter names, plus ``"input"`` and
            ``"h_0"`` (``"c_0"`` for LSTM and SRU). The flat gradient is also
            stored in :attr:`grad` (overwritten, not accumulated) and the
            per-step gradient norms in :attr:`dh_norm_`.
        """
        if self._cache is None:
            raise RuntimeError(
                "backward() needs a forward() first (each forward can be "
                "backpropagated once)"
            )
        cache, unbatched, (T, B, _) = self._cache
        D = 2 if self.bidirectional else 1
        out_shape = (T, B, D * self.hidden_size)
        g = check_float_array(grad_output, "grad_output", self.dtype, ndim=(2, 3))
        if unbatched:
            g = g[:, None, :]
        elif self.batch_first:
            g = g.transpose(1, 0, 2)
        if g.shape != out_shape:
            raise ValueError(
                f"grad_output has shape {g.shape}, expected {out_shape}; pass "
                "dL/d(output), shaped like the output of the last forward"
            )
        d_state = None
        if grad_hn is not None:
            n_states = self._stack.spec.n_states
            parts = grad_hn if n_states > 1 else (grad_hn,)
            if n_states > 1 and (
                not isinstance(parts, tuple) or len(parts) != n_states
            ):
                names = ", ".join(f"d{s}_n" for s in self._stack.spec.states)
                raise TypeError(
                    f"{type(self).__name__} expects grad_hn as a tuple ({names})"
                )
            rows = [
                np.zeros((self.num_layers * D, B, self.hidden_size), self.dtype)
                if p is None
                else self._check_state(p, B, unbatched, "grad_hn")
                for p in parts
            ]
            d_state = np.ascontiguousarray(np.stack(rows))
        self._cache = None
        self.grad[:] = 0.0
        _, dx, ds0, norms = self._stack.backward(
            self.theta, cache, g, d_state, self.grad
        )
        self.dh_norm_ = norms
        grads = {k: v.copy() for k, v in self.layout.views(self.grad).items()}
        if unbatched:
            grads["input"] = dx[:, 0]
            ds0 = ds0[:, :, 0]
        elif self.batch_first:
            grads["input"] = dx.transpose(1, 0, 2).copy()
        else:
            grads["input"] = dx
        for name, ds in zip(self._state_names(), ds0, strict=True):
            grads[name] = ds
        return grads

    def __repr__(self) -> str:
        args = [str(self.input_size), str(self.hidden_size)]
        if self.num_layers != 1:
            args.append(f"num_layers={self.num_layers}")
        if self.mode == "rnn" and self.nonlinearity != "tanh":
            args.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            args.append("bias=False")
        if self.batch_first:
            args.append("batch_first=True")
        if self.dropout:
            args.append(f"dropout={self.dropout}")
        if self.bidirectional:
            args.append("bidirectional=True")
        if self.dtype != np.float64:
            args.append("dtype=float32")
        return f"{type(self).__name__}({', '.join(args)})"


class RNN(RNNBase):
    """Elman RNN, ``h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    The twin of ``torch.nn.RNN``; see :class:`RNNBase` for parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.nn import RNN
    >>> rnn = RNN(3, 8, num_layers=2, random_state=0)
    >>> out, h_n = rnn(np.zeros((5, 2, 3)))
    >>> out.shape, h_n.shape
    ((5, 2, 8), (2, 2, 8))
    """

    _mode = "rnn"


class _GatedBase(RNNBase):
    """The cells without a ``nonlinearity`` option: torch's constructor without it."""

    # Declared mirror: LSTM.__init__ repeats this signature with torch's
    # proj_size; each class's own __init__ is torch's constructor.
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        dtype=np.float64,
        random_state=None,
    ):
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            "tanh",
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            random_state,
        )


class LSTM(_GatedBase):
    """Long short-term memory, torch's gate order (i, f, g, o).

    The twin of ``torch.nn.LSTM`` (without ``proj_size``); ``forward`` returns
    ``(output, (h_n, c_n))``. See :class:`RNNBase` for parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.nn import LSTM
    >>> lstm = LSTM(3, 8, random_state=0)
    >>> out, (h_n, c_n) = lstm(np.zeros((5, 2, 3)))
    >>> grads = lstm.backward(np.ones_like(out))
    >>> grads["weight_hh_l0"].shape
    (32, 8)
    """

    _mode = "lstm"

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        dtype=np.float64,
        random_state=None,
    ):
        # Declared mirror: _GatedBase's signature, plus torch's proj_size.
        if proj_size:
            raise ValueError("proj_size is not supported; use proj_size=0")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            random_state,
        )


class GRU(_GatedBase):
    """Gated recurrent unit, torch's gate order (r, z, n), reset after the matmul.

    The twin of ``torch.nn.GRU``. See :class:`RNNBase` for parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.nn import GRU
    >>> gru = GRU(4, 16, num_layers=2, batch_first=True, random_state=0)
    >>> out, h_n = gru(np.zeros((8, 20, 4)))  # (batch, time, features)
    >>> out.shape, h_n.shape
    ((8, 20, 16), (2, 8, 16))
    >>> gru.state_dict()["weight_ih_l0"].shape  # torch's names and shapes
    (48, 4)
    """

    _mode = "gru"


class SRU(_GatedBase):
    """Simple recurrent unit (Lei et al., EMNLP 2018).

    torch has no SRU; the layout follows the other cells: per layer
    ``weight_ih_l{k}`` of shape ``(k H, I_k)`` with blocks ``x~, f, r`` (and the
    skip projection ``s`` when ``I_k != H``, so ``k`` = 3 or 4),
    ``weight_c_l{k}`` = ``[v_f, v_r]`` and ``bias_l{k}`` = ``[b_f, b_r]``, each
    ``(2H,)``. The recurrent state is the cell ``c``: ``forward`` returns
    ``(output, c_n)``. Equations in :mod:`tsrnn.kernels.sru`.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn.nn import SRU
    >>> sru = SRU(3, 8, random_state=0)
    >>> out, c_n = sru(np.zeros((5, 2, 3)))
    >>> out.shape, c_n.shape
    ((5, 2, 8), (1, 2, 8))
    >>> sru.state_dict()["weight_ih_l0"].shape  # x~, f, r and the skip projection
    (32, 3)
    """

    _mode = "sru"
