"""An encoder-decoder over the forecast horizon, in one flat parameter vector.

The encoder is a :class:`~.stack.RecurrentStack` over the series, as the
direct strategy's network; at every origin ``t`` of a window a decoder (a
second stack of the same cell, layers and width) starts from the encoder's
state after step ``t`` (every layer: ``h``, and ``c`` for LSTM) and unrolls
over the ``n_steps`` forecast steps. Decoder step ``s`` reads

* the previous step's value of the targets: at ``s = 1`` the origin's
  (``first="input"``: the targets the encoder read at ``t``; ``"zero"``: 0, a
  forecast of changes from the origin's level), then the truth of step
  ``s - 1`` (teacher forcing, training only) or its own forecast of it
  (free running, and always at prediction);
* what is known in advance about step ``t + s`` (``per_step`` extras: the
  covariates and calendar of that step, the seasonal reference values...).

A read-out shared by every step, ``y_s = W o_s + E e_s + b`` (a
:class:`~.heads.StepwiseHead` of one step), gives the forecast. Gradients flow
from every step's loss through the decoder into the encoder's state at the
origin and on back through the window (:meth:`RecurrentStack.backward`'s
``d_states``).

The vector is ``[encoder (torch names) | decoder ("decoder." + torch names) |
head]``. ``docs/MATH.md`` ("Encoder-decoder") has the equations; the tests
check the loss and gradient against a torch reference and finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import numpy as np

from .layout import ParamLayout
from .network import Network
from .stack import RecurrentStack

#: Training decodes from about this many times fewer forecast steps than the
#: window's rows times the horizon: ``ceil(DECODER_WORK * T / n_steps)``
#: origins per window (all when that is ``T`` or more), drawn at random, so
#: that the decoder costs about ``DECODER_WORK`` times the encoder's scan.
DECODER_WORK = 4.0

#: The ways the decoder reads the previous step's target while training.
TEACHER_FORCING = ("teacher", "free")


class ReferenceHead:
    """A fixed read-out: every forecast step's reference value, from the extras.

    The stream kernel and the forecaster's bookkeeping (``update``'s previous
    output, missing inputs) read a linear per-step head; an encoder-decoder
    has none, and this one stands in: output ``s * k + j`` is column
    ``ref_cols[j]`` of step ``s``'s extras (the seasonal naive or last value
    forecast the decoder's read-out starts from), or 0 without ``ref_cols``.
    It has no parameters.
    """

    pooling = "none"
    prefix = "reference"

    def __init__(self, in_features, n_steps, n_targets, per_step, ref_cols=None):
        self.in_features = int(in_features)
        self.n_steps, self.n_targets, self.per_step = (
            int(n_steps),
            int(n_targets),
            int(per_step),
        )
        self.out_features = self.n_steps * self.n_targets
        self.extra_features = self.n_steps * self.per_step
        self.ref_cols = None if ref_cols is None else np.asarray(ref_cols, np.int64)
        self.layout = ParamLayout([])

    def dense_weight(self, theta) -> np.ndarray:
        """The ``(out, in + extra)`` matrix of the map (ones at the references)."""
        W = np.zeros((self.out_features, self.in_features + self.extra_features))
        if self.ref_cols is not None:
            F, P, k = self.in_features, self.per_step, self.n_targets
            for s in range(self.n_steps):
                W[s * k + np.arange(k), F + s * P + self.ref_cols] = 1.0
        return W.astype(theta.dtype if len(theta) else np.float64)

    def dense_bias(self, theta) -> np.ndarray:
        """Zeros: the map has no bias."""
        return np.zeros(self.out_features, theta.dtype if len(theta) else np.float64)

    def forward(self, theta, out, extra):
        """The reference values ``(..., n_steps * n_targets)``; no cache."""
        lead = extra.shape[:-1]
        e = extra.reshape(lead + (self.n_steps, self.per_step))
        if self.ref_cols is None:
            y = np.zeros(lead + (self.n_steps, self.n_targets), extra.dtype)
        else:
            y = e[..., self.ref_cols]
        return y.reshape(lead + (self.out_features,)), None


class StepReadout:
    """The decoder's read-out: ``y_s = W_s d_s + E_s e_s + b_s`` per forecast step.

    ``per_step=False`` shares one ``(W, E, b)`` by every step (``n = 1``);
    True gives each of the ``n_steps`` its own, as the direct head has.
    Parameters ``head.weight`` ``(n * k, H)``, ``head.bias`` ``(n * k,)``,
    ``head.extra_weight`` ``(n, k, P)`` (the names and shapes of a
    :class:`~.heads.StepwiseHead` of ``n`` steps, so that the forecaster's
    reference start reads them alike).
    """

    def __init__(self, hidden, n_steps, n_targets, per_step_extras, per_step=False):
        self.hidden, self.k, self.P = int(hidden), int(n_targets), int(per_step_extras)
        self.n = int(n_steps) if per_step else 1
        self.layout = ParamLayout(
            [
                ("head.weight", (self.n * self.k, self.hidden)),
                ("head.bias", (self.n * self.k,)),
                ("head.extra_weight", (self.n, self.k, self.P)),
            ]
        )

    def init_params(self, rng, dtype) -> np.ndarray:
        """Glorot-uniform state weights; zero bias and extra weights."""
        bound = np.sqrt(6.0 / (self.hidden + self.k))
        theta = np.zeros(self.layout.size, dtype=dtype)
        w = self.layout["head.weight"]
        theta[w.start : w.stop] = rng.uniform(-bound, bound, w.stop - w.start)
        return theta

    def _views(self, theta):
        p = self.layout.views(theta)
        W = p["head.weight"].reshape(self.n, self.k, self.hidden)
        b = p["head.bias"].reshape(self.n, self.k)
        return W, p["head.extra_weight"], b

    def _steps(self, first, count):
        return (
            np.arange(first, first + count)
            if self.n > 1
            else np.zeros(count, np.int64)
        )

    def forward(self, theta, d, e, first=0):
        """``(S, N, k)`` from decoder outputs ``d`` ``(S, N, H)`` and extras ``e``.

        ``first``: the forecast step of ``d[0]`` (from 0).
        """
        W, E, b = self._views(theta)
        st = self._steps(first, len(d))
        y = np.einsum("snh,sjh->snj", d, W[st])
        y += np.einsum("snp,sjp->snj", e, E[st])
        y += b[st][:, None, :]
        return y, (d, e, st)

    def backward(self, theta, grad, cache, dy):
        """Accumulate the parameters' gradients; return ``dL/dd`` ``(S, N, H)``."""
        W, _, _ = self._views(theta)
        gW, gE, gb = self._views(grad)
        d, e, st = cache
        np.add.at(gW, st, np.einsum("snj,snh->sjh", dy, d))
        np.add.at(gE, st, np.einsum("snj,snp->sjp", dy, e))
        np.add.at(gb, st, dy.sum(axis=1))
        return np.einsum("snj,sjh->snh", dy, W[st])


@dataclass
class Seq2SeqCache:
    """What :meth:`Seq2SeqNetwork.backward` needs from its forward pass."""

    encoder: object
    idx: np.ndarray  # decoded origins, flat indices into T * B
    shape: tuple  # (T, B)
    decoder: list  # [(stack cache, head cache)]: one for the sequence, or per step
    free: bool  # the decoder read its own forecasts (per-step caches)

    @property
    def last_output(self) -> np.ndarray:
        """The encoder's top-layer output after the last step."""
        return self.encoder.last_output


class Seq2SeqNetwork(Network):
    """Encoder stack, decoder stack and a shared per-step read-out.

    Parameters
    ----------
    encoder, decoder : RecurrentStack
        Of the same cell, ``hidden_size`` and ``num_layers``, unidirectional,
        not SRU (its state is not its output). The decoder's input is
        ``n_targets + per_step``.
    n_steps, n_targets, per_step : int
        Forecast steps, targets, extras per forecast step.
    first : {"input", "zero"}
        What the first decoder step reads as the previous value.
    teacher_forcing : bool
        Training reads the true previous target (True) or the decoder's own
        forecast of it, the gradient flowing through that feedback (False).
    fill_cols : int array of shape (n_targets,), optional
        Extras columns standing in for a missing previous target under
        teacher forcing (the step's reference values); None: 0.
    per_step_readout : bool, default=False
        Every forecast step has its own read-out (:class:`StepReadout`).
    """

    #: An encoder-decoder reads no embedded codes (the forecaster refuses them).
    embeddings = None

    def __init__(
        self,
        encoder: RecurrentStack,
        decoder: RecurrentStack,
        n_steps: int,
        n_targets: int,
        per_step: int,
        *,
        first: str = "input",
        teacher_forcing: bool = True,
        fill_cols=None,
        per_step_readout: bool = False,
    ):
        for s in (encoder, decoder):
            if s.num_directions != 1 or s.spec.states[0] != "h":
                raise ValueError(
                    "an encoder-decoder needs unidirectional rnn, gru or lstm "
                    f"stacks, got cell={s.cell!r}"
                )
        if (decoder.cell, decoder.hidden_size, decoder.num_layers) != (
            encoder.cell,
            encoder.hidden_size,
            encoder.num_layers,
        ):
            raise ValueError("the decoder must have the encoder's cell and sizes")
        if decoder.input_size != n_targets + per_step:
            raise ValueError("the decoder reads n_targets + per_step inputs")
        if first not in ("input", "zero"):
            raise ValueError(f"first must be 'input' or 'zero', got {first!r}")
        self.encoder = self.stack = encoder
        self.decoder = decoder
        self.n_steps, self.n_targets, self.per_step = (
            int(n_steps),
            int(n_targets),
            int(per_step),
        )
        self.first = first
        self.teacher_forcing = bool(teacher_forcing)
        self.fill_cols = None if fill_cols is None else np.asarray(fill_cols, np.int64)
        self.readout = StepReadout(
            encoder.hidden_size, n_steps, n_targets, per_step, per_step_readout
        )
        self.head = ReferenceHead(
            encoder.hidden_size, n_steps, n_targets, per_step, self.fill_cols
        )
        self.n_stack = encoder.layout.size
        self.n_decoder = decoder.layout.size
        self.layout = ParamLayout(
            [(s.name, s.shape) for s in encoder.layout]
            + [("decoder." + s.name, s.shape) for s in decoder.layout]
            + [(s.name, s.shape) for s in self.readout.layout]
        )
        self.size = self.layout.size
        # Network.split's second part: the decoder and the read-out
        self.n_head = self.size - self.n_stack
        self.dtype = encoder.dtype
        self.weight_mask = np.zeros(self.size, dtype=self.dtype)
        for s in self.layout:
            if "weight" in s.name:
                self.weight_mask[s.start : s.stop] = 1.0

    # ------------------------------------------------------------------ params
    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """torch's init for both stacks, the read-out's own (Glorot, zero extras)."""
        return np.concatenate(
            [
                self.encoder.init_params(rng),
                self.decoder.init_params(rng),
                self.readout.init_params(rng, self.dtype),
            ]
        )

    def parts(self, theta):
        """Views of the encoder's, the decoder's and the read-out's parameters."""
        a, b = self.n_stack, self.n_stack + self.n_decoder
        return theta[:a], theta[a:b], theta[b:]

    # ----------------------------------------------------------------- origins
    def decode_count(self, T: int) -> int:
        """Origins a training window of ``T`` rows decodes from (:data:`DECODER_WORK`)."""
        return int(max(1, min(T, ceil(DECODER_WORK * T / self.n_steps))))

    def draw_origins(self, T: int, B: int, rng) -> np.ndarray | None:
        """A ``(T, B)`` mask of the origins to decode (None: every one)."""
        m = self.decode_count(T)
        if rng is None or m >= T:
            return None
        mask = np.zeros((T, B), bool)
        mask[rng.choice(T, size=m, replace=False)] = True
        return mask

    # ----------------------------------------------------------------- forward
    def forward(
        self,
        theta,
        x,
        state0=None,
        extra=None,
        *,
        training=False,
        dropout=0.0,
        rng=None,
        target=None,
        mask=None,
        decode=None,
        keep_cache=True,
    ):
        """Forecasts ``(T, B, n_steps * n_targets)`` from every origin of ``x``.

        ``keep_cache`` is ignored: the decoders start from the encoder's
        states at every step, which only the full cache holds.

        ``target``/``mask`` (as the loss reads them): the previous targets a
        teacher-forced decoder reads in training. ``decode`` ``(T, B)`` bool:
        the origins to decode (default all); the others' outputs are 0 in
        training and NaN otherwise.

        Returns ``y_hat``, the encoder's final state and a cache.
        """
        te, td, th = self.parts(theta)
        T, B = x.shape[:2]
        h, k, P = self.n_steps, self.n_targets, self.per_step
        dt = self.dtype
        out, state, enc_cache = self.encoder.forward(
            te, x, state0, training=training, dropout=dropout, rng=rng
        )
        states = self.encoder.step_states(enc_cache)
        n_st, L, _, _, H = states.shape
        idx = (
            np.arange(T * B)
            if decode is None
            else np.flatnonzero(np.asarray(decode).reshape(-1))
        )
        s0 = np.ascontiguousarray(states.reshape(n_st, L, T * B, H)[:, :, idx])
        ex = np.ascontiguousarray(
            np.asarray(extra, dt).reshape(T * B, h, P)[idx].transpose(1, 0, 2)
        )
        first = self._first(x.reshape(T * B, -1)[idx])
        free = not (training and self.teacher_forcing and target is not None)
        if not len(idx):  # nothing to forecast from (the outputs are unused)
            yd, caches = np.empty((h, 0, k), dt), []
        elif free:
            yd, caches = self._run_free(td, th, s0, first, ex, training, dropout, rng)
        else:
            tg = np.asarray(target, dt).reshape(T * B, h, k)[idx].transpose(1, 0, 2)
            mk = np.asarray(mask).reshape(T * B, h, k)[idx].transpose(1, 0, 2)
            prev = np.empty((h, len(idx), k), dt)
            prev[0] = first
            if h > 1:
                fill = (
                    ex[:-1][..., self.fill_cols]
                    if self.fill_cols is not None
                    else np.zeros((h - 1, len(idx), k), dt)
                )
                prev[1:] = np.where(mk[:-1] > 0, tg[:-1], fill)
            xd = np.ascontiguousarray(np.concatenate([prev, ex], axis=2))
            o, _, dcache = self.decoder.forward(
                td, xd, s0, training=training, dropout=dropout, rng=rng
            )
            yd, hcache = self.readout.forward(th, o, ex)
            caches = [(dcache, hcache)]
        y_hat = np.full((T * B, h, k), 0.0 if training else np.nan, dt)
        y_hat[idx] = yd.transpose(1, 0, 2)
        cache = Seq2SeqCache(enc_cache, idx, (T, B), caches, free)
        return y_hat.reshape(T, B, h * k), state, cache

    def _first(self, x_rows):
        """The first decoder step's previous value ``(N, k)``."""
        k = self.n_targets
        if self.first == "zero":
            return np.zeros((len(x_rows), k), self.dtype)
        return np.ascontiguousarray(x_rows[:, :k], self.dtype)

    def _run_free(self, td, th, s0, first, ex, training, dropout, rng):
        """The decoder on its own forecasts, step by step: ``(h, N, k)`` and caches."""
        h, N, _ = ex.shape
        k = self.n_targets
        yd = np.empty((h, N, k), self.dtype)
        prev, st, caches = first, s0, []
        for s in range(h):
            xs = np.concatenate([prev, ex[s]], axis=1)[None]
            o, st, dcache = self.decoder.forward(
                td, np.ascontiguousarray(xs), st, training=training, dropout=dropout,
                rng=rng,
            )
            y, hcache = self.readout.forward(th, o, ex[s][None], first=s)
            yd[s] = y[0]
            prev = y[0]
            caches.append((dcache, hcache))
        return yd, caches

    def decode(self, theta, state, first, extra) -> np.ndarray:
        """Forecasts ``(P, n_steps * n_targets)`` from the states of ``P`` origins.

        ``state`` ``(n_states, L, P, H)``: the encoder's state at each origin;
        ``first`` ``(P, n_targets)``: the previous value the first step reads
        (ignored with ``first="zero"``); ``extra`` ``(P, n_steps * per_step)``.
        Free running (the decoder reads its own forecasts), as at prediction.
        """
        _, td, th = self.parts(theta)
        dt = self.dtype
        P = len(extra)
        ex = np.ascontiguousarray(
            np.asarray(extra, dt).reshape(P, self.n_steps, self.per_step).transpose(
                1, 0, 2
            )
        )
        if self.first == "zero":
            first = np.zeros((P, self.n_targets), dt)
        s0 = np.ascontiguousarray(state, dt)
        yd, _ = self._run_free(
            td, th, s0, np.ascontiguousarray(first, dt), ex, False, 0.0, None
        )
        return yd.transpose(1, 0, 2).reshape(P, -1)

    def fill_missing(self, x, extra, last_out=None):
        """``x`` ``(S, B, I)`` with missing target inputs filled, as the stream kernel does.

        A missing input of target ``j`` at step ``i`` reads the previous
        step's first forecast of it: here :class:`ReferenceHead`'s (the
        reference value), which depends on the extras only, so the filling
        needs no recurrence. ``last_out`` ``(B, n_outputs)``: the outputs of
        the step before ``x[0]`` (zeros if omitted).
        """
        k = self.n_targets
        x = np.array(x, dtype=self.dtype)
        ref = self.head.forward(None, None, np.asarray(extra, self.dtype))[0][..., :k]
        before = (
            np.zeros((x.shape[1], k), self.dtype)
            if last_out is None
            else np.asarray(last_out, self.dtype)[:, :k]
        )
        prev = np.concatenate([before[None], ref[:-1]], axis=0)
        tx = x[..., :k]
        x[..., :k] = np.where(np.isnan(tx), prev, tx)
        return x

    # ---------------------------------------------------------------- backward
    def backward(self, theta, cache, dy, grad=None):
        """Gradient of ``sum(dy * y_hat)`` into ``grad``; returns ``(grad, dh_norm)``."""
        if grad is None:
            grad = np.zeros(self.size, dtype=self.dtype)
        te, td, th = self.parts(theta)
        ge, gd, gh = self.parts(grad)
        T, B = cache.shape
        h, k = self.n_steps, self.n_targets
        idx = cache.idx
        dyd = np.ascontiguousarray(
            np.asarray(dy, self.dtype).reshape(T * B, h, k)[idx].transpose(1, 0, 2)
        )
        if cache.free:
            d_state, d_prev = None, None
            for s in range(h - 1, -1, -1):
                dcache, hcache = cache.decoder[s]
                dys = dyd[s] if d_prev is None else dyd[s] + d_prev
                d_o = self.readout.backward(th, gh, hcache, dys[None])
                _, dx, d_state, _ = self.decoder.backward(
                    td, dcache, d_o, d_state, gd, input_grad=s > 0
                )
                d_prev = None if dx is None else dx[0, :, :k]
            ds0 = d_state
        else:
            dcache, hcache = cache.decoder[0]
            d_o = self.readout.backward(th, gh, hcache, dyd)
            _, _, ds0, _ = self.decoder.backward(
                td, dcache, d_o, None, gd, input_grad=False
            )
        n_st, L = ds0.shape[:2]
        H = self.encoder.hidden_size
        d_states = np.zeros((n_st, L, T * B, H), self.dtype)
        d_states[:, :, idx] = ds0
        d_out = np.zeros((T, B, H), self.dtype)
        _, _, _, dh_norm = self.encoder.backward(
            te,
            cache.encoder,
            d_out,
            None,
            ge,
            input_grad=False,
            d_states=d_states.reshape(n_st, L, T, B, H),
        )
        return grad, dh_norm

    def _loss_grad(self, theta, x, y, mask, loss_fn, state0, extra, *, training,
                   dropout, rng, alpha, n_samples, extra_grad=False, grad=None):
        """:meth:`Network._loss_grad`, decoding from a random share of the origins.

        In training (``rng`` given) :meth:`draw_origins` picks the origins; the
        loss is the mean over their targets. ``extra_grad`` is not offered (the
        decoder reads the extras through its recurrence).
        """
        if extra_grad:
            raise ValueError(
                "extra_grad=True reads dL/d extra from a linear head; an "
                "encoder-decoder reads its extras through the decoder's "
                "recurrence and gives none: train a Network with a direct head"
            )
        T, B = x.shape[:2]
        decode = self.draw_origins(T, B, rng) if training else None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y_hat, state, cache = self.forward(
                theta, x, state0, extra, training=training, dropout=dropout,
                rng=rng, target=y, mask=mask, decode=decode,
            )
            m = mask if decode is None else mask * decode[..., None]
            loss, dy = loss_fn(y_hat, y, m)
            data_loss = loss
            grad, dh_norm = self.backward(theta, cache, dy, grad)
            loss = self._add_l2(theta, loss, grad, alpha, n_samples)
        return loss, grad, state, dh_norm, data_loss, y_hat, None
