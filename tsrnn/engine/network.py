"""A recurrent stack plus a head in one flat parameter vector: what estimators train.

The vector is ``[stack parameters (torch names) | head parameters]``; the
gradient has the same layout, so one optimizer step and one clipping norm
cover the whole model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embedding import Embeddings
from .heads import LinearHead
from .layout import IdentityCache, ParamLayout
from .optim import clip_grad_norm
from .stack import RecurrentStack, StackCache


@dataclass
class StepResult:
    """What one training step reports.

    ``data_loss`` (the loss without the L2 penalty) and ``zero_loss`` (the loss
    a model predicting 0 would have had on the same batch) are what the
    divergence rule of :class:`~tsrnn.engine.trainer.DivergenceGuard` compares;
    NaN when unknown.
    """

    loss: float
    grad_norm: float
    state: np.ndarray
    dh_norm: np.ndarray | None
    finite: bool
    data_loss: float = float("nan")
    zero_loss: float = float("nan")
    extra_grad: np.ndarray | None = None  # dL/d extra (train_step(extra_grad=True))


@dataclass
class NetworkCache:
    """What :meth:`Network.backward` needs from :meth:`Network.forward`."""

    stack: StackCache
    head: object
    x: np.ndarray | None = None  # the raw inputs (their codes), with embeddings

    @property
    def last_output(self) -> np.ndarray:
        """The top layer's output after the last step, ``(B, H)``.

        What a per-step head reads to forecast from the end of the window.
        """
        return self.stack.last_output


# Declared mirror (form only): a two-argument constructor and its docstring, as
# estimators.forecaster.reader.SeriesReader's; unrelated classes.
class Network:
    """``RecurrentStack`` followed by a ``LinearHead``, optionally after embeddings.

    Parameters
    ----------
    stack : RecurrentStack
    head : LinearHead
    embeddings : Embeddings, optional
        Tables for the inputs' last code columns (categorical inputs): the
        stack then reads ``embeddings.output_size(I)`` columns for inputs of
        ``I``. Their parameters come last in the flat vector.
    """

    def __init__(
        self, stack: RecurrentStack, head: LinearHead, embeddings: Embeddings = None
    ):
        self.stack = stack
        self.head = head
        self.embeddings = embeddings if embeddings else None
        self.n_stack = stack.layout.size
        self.n_head = head.layout.size
        emb = [] if self.embeddings is None else list(self.embeddings.layout)
        self.layout = ParamLayout(
            [(s.name, s.shape) for s in stack.layout]
            + [(s.name, s.shape) for s in head.layout]
            + [(s.name, s.shape) for s in emb]
        )
        self.size = self.layout.size
        self.dtype = stack.dtype
        # L2 applies to weights, not biases (as sklearn's MLP)
        self.weight_mask = np.zeros(self.size, dtype=self.dtype)
        for s in self.layout:
            if "weight" in s.name:
                self.weight_mask[s.start : s.stop] = 1.0

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_splits", None)  # arrays of a past call (split)
        state.pop("_step_grad", None)  # (train_step)
        state.pop("_spares", None)  # scratch arrays of past calls
        return state

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """Fresh parameters: torch's init (stack, embeddings), Glorot for the head."""
        parts = [self.stack.init_params(rng), self.head.init_params(rng, self.dtype)]
        if self.embeddings is not None:
            parts.append(self.embeddings.init_params(rng))
        return np.concatenate(parts)

    def split(self, theta):
        """Views of the stack's and the head's parts of ``theta``.

        The same two view objects again for the same ``theta`` (the last two
        arrays split are remembered): the layouts' :meth:`ParamLayout.recent_views`
        then find their dicts of them at the next step.
        """
        splits = self.__dict__.get("_splits")
        if splits is None:  # (made here: subclasses build their own __init__)
            splits = self._splits = IdentityCache()
        return splits.get(theta, self._split)

    def _split(self, theta):
        a, b = self.n_stack, self.n_stack + self.n_head
        return theta[:a], theta[a:b]

    def embedding_part(self, theta):
        """View of the embedding tables' part of ``theta`` (empty without)."""
        return theta[self.n_stack + self.n_head :]

    def embed(self, theta, x):
        """``x`` as the stack reads it: code columns replaced by embeddings."""
        if self.embeddings is None:
            return x
        return self.embeddings.forward(self.embedding_part(theta), x)

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
        keep_cache=True,
        decode=None,
    ):
        """Predictions for inputs ``x`` of shape ``(T, B, I)``.

        ``keep_cache=False`` when no :meth:`backward` follows (inference, as
        torch's ``no_grad``): the cells then skip what only BPTT reads.
        ``decode`` (the rows an encoder-decoder forecasts from,
        :class:`~.seq2seq.Seq2SeqNetwork`) is ignored: the head reads every row.

        Returns
        -------
        y_hat : ndarray
            ``(T, B, O)`` for per-step heads, ``(B, O)`` for pooled heads.
        state : ndarray of shape (n_states, L * D, B, H)
        cache : NetworkCache
        """
        ts, th = self.split(theta)
        out, state, stack_cache = self.stack.forward(
            ts,
            self.embed(theta, x),
            state0,
            training=training,
            dropout=dropout,
            rng=rng,
            keep_cache=keep_cache,
        )
        y_hat, head_cache = self.head.forward(th, out, extra)
        codes = None if self.embeddings is None else x
        return y_hat, state, NetworkCache(stack_cache, head_cache, codes)

    def backward(self, theta, cache, dy, grad=None):
        """Gradient of ``sum(dy * y_hat)`` into ``grad``; returns ``(grad, dh_norm)``."""
        if grad is None:
            grad = np.zeros(self.size, dtype=self.dtype)
        ts, th = self.split(theta)
        gs, gh = self.split(grad)
        d_out = self.head.backward(th, gh, cache.head, dy)
        embedded = self.embeddings is not None
        _, d_in, _, dh_norm = self.stack.backward(
            ts, cache.stack, d_out, None, gs, input_grad=embedded
        )
        # the stack's backward only read it: a head that lent it takes it back
        release = getattr(self.head, "release", None)
        if release is not None:
            release(d_out)
        if embedded:
            self.embeddings.backward(cache.x, d_in, self.embedding_part(grad))
        return grad, dh_norm

    # Declared mirror: train_step's signature is this one plus the optimizer and
    # clipping (each public method spells out its keywords).
    def loss_grad(
        self,
        theta,
        x,
        y,
        mask,
        loss_fn,
        state0=None,
        extra=None,
        *,
        training=True,
        dropout=0.0,
        rng=None,
        alpha=0.0,
        n_samples=1.0,
    ):
        """Loss and gradient of one batch (plus L2 ``0.5 alpha ||w||^2 / n_samples``).

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,)
        state : ndarray
            Final recurrent state (to carry into the next window).
        dh_norm : ndarray of shape (L * D, T)
        """
        loss, grad, state, dh_norm, _, _, _ = self._loss_grad(
            theta, x, y, mask, loss_fn, state0, extra, training=training,
            dropout=dropout, rng=rng, alpha=alpha, n_samples=n_samples,
        )
        return loss, grad, state, dh_norm

    def _loss_grad(self, theta, x, y, mask, loss_fn, state0, extra, *, training,
                   dropout, rng, alpha, n_samples, extra_grad=False, grad=None):
        """:meth:`loss_grad`, plus the data loss, the outputs ``y_hat`` and, with
        ``extra_grad``, dL/d ``extra`` (else None). ``grad``: a zero vector to
        accumulate the gradient into (None: a new one)."""
        # a diverging model produces inf/nan on purpose-free paths; the caller
        # checks finiteness once (train_step), so NumPy's warnings are noise here
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            y_hat, state, cache = self.forward(
                theta, x, state0, extra, training=training, dropout=dropout, rng=rng
            )
            loss, dy = loss_fn(y_hat, y, mask)
            data_loss = loss
            grad, dh_norm = self.backward(theta, cache, dy, grad)
            loss = self._add_l2(theta, loss, grad, alpha, n_samples)
            d_extra = None
            if extra_grad:  # the head is linear in its extras (L2 reads none)
                d_extra = self.head.extra_gradient(self.split(theta)[1], cache.head, dy)
        return loss, grad, state, dh_norm, data_loss, y_hat, d_extra

    def _add_l2(self, theta, loss, grad, alpha, n_samples):
        """``loss + 0.5 alpha ||w||^2 / n_samples``; its gradient added to ``grad``."""
        if alpha:
            w = theta * self.weight_mask
            # an elementwise reduction, not BLAS: see clip_grad_norm
            loss += 0.5 * alpha * float(np.add.reduce(w * w)) / n_samples
            grad += (alpha / n_samples) * w
        return loss

    def grouped_loss_grad(
        self,
        theta,
        groups,
        loss_fn,
        *,
        dropout=0.0,
        rng=None,
        alpha=0.0,
        n_samples=1.0,
    ):
        """Loss and gradient of a batch of sequences of different lengths.

        The batch comes as groups of equal-length sequences, each run alone
        from a zero state (so no padding exists anywhere: the head's pooling,
        the loss, the backward pass and a bidirectional layer's reverse scan
        see each sequence exactly as it is). The batch loss is
        ``sum_g weight_g * loss_g`` with ``loss_g`` the group's mean loss, so
        weights ``n_g / n_batch`` give the mean over the batch's sequences;
        the L2 term (``0.5 alpha ||w||^2 / n_samples``) is added once.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        groups : iterable of (x, y, mask, weight)
            ``x`` of shape ``(T_g, B_g, I)``, targets and mask as
            :meth:`loss_grad` takes them, and the group's weight.
        loss_fn, dropout, rng, alpha, n_samples
            As :meth:`loss_grad`.

        Returns
        -------
        loss : float
        grad : ndarray of shape (n_params,)
        dh_norm : ndarray of shape (L * D, max T_g)
            ``||dL/dh_t||`` over the whole batch at step ``t`` counted from
            each sequence's start (groups shorter than ``t`` add nothing).
        """
        grad = None
        loss = 0.0
        norms = []
        for x, y, mask, weight in groups:
            g_loss, g_grad, _, g_dh = self.loss_grad(
                theta, x, y, mask, loss_fn, training=True, dropout=dropout, rng=rng
            )
            weight = float(weight)
            with np.errstate(over="ignore", invalid="ignore"):
                loss += weight * g_loss
                if grad is None:
                    grad = weight * g_grad
                else:
                    grad += weight * g_grad
                norms.append(weight * g_dh)
        if grad is None:
            raise ValueError("grouped_loss_grad needs at least one group")
        if len(norms) == 1:
            loss = self._add_l2(theta, loss, grad, alpha, n_samples)
            return loss, grad, norms[0]
        steps = max(n.shape[1] for n in norms)
        sq = np.zeros((norms[0].shape[0], steps), dtype=norms[0].dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for n in norms:
                sq[:, : n.shape[1]] += n * n
            loss = self._add_l2(theta, loss, grad, alpha, n_samples)
        return loss, grad, np.sqrt(sq)

    def grouped_train_step(
        self,
        theta,
        optimizer,
        groups,
        loss_fn,
        *,
        clip_norm=None,
        dropout=0.0,
        rng=None,
        alpha=0.0,
        n_samples=1.0,
    ):
        """:meth:`train_step` on a batch given as groups (:meth:`grouped_loss_grad`).

        One clipping of the combined gradient and one optimizer step. The
        returned ``state`` is None (sequences of different lengths end at
        different steps; nothing carries over).
        """
        loss, grad, dh_norm = self.grouped_loss_grad(
            theta, groups, loss_fn, dropout=dropout, rng=rng, alpha=alpha,
            n_samples=n_samples,
        )
        return self._apply_step(theta, optimizer, loss, grad, None, dh_norm, clip_norm)

    def _apply_step(
        self, theta, optimizer, loss, grad, state, dh_norm, clip_norm,
        data_loss=float("nan"), zero_loss=float("nan"), gnorm=None,
    ):
        """Clip, check finiteness and update ``theta`` in place.

        ``gnorm``: the norm :func:`clip_grad_norm` returned, where the caller
        clipped already (inside its own NumPy error state: one context a step
        instead of two).
        """
        if gnorm is None:
            with np.errstate(over="ignore", invalid="ignore"):
                gnorm = clip_grad_norm(grad, clip_norm)
        finite = bool(np.isfinite(loss) and np.isfinite(gnorm))
        if finite:
            optimizer.step(theta, grad)
        return StepResult(loss, gnorm, state, dh_norm, finite, data_loss, zero_loss)

    # Declared mirror: loss_grad's signature, plus the optimizer and clipping.
    def train_step(
        self,
        theta,
        optimizer,
        x,
        y,
        mask,
        loss_fn,
        state0=None,
        extra=None,
        *,
        clip_norm=None,
        dropout=0.0,
        rng=None,
        alpha=0.0,
        n_samples=1.0,
        extra_grad=False,
        zero_loss=None,
    ):
        """Forward + BPTT + head + loss + clip + update, in place on ``theta``.

        A non-finite loss or gradient leaves ``theta`` untouched and reports
        ``finite=False``: the caller stops training and keeps its best weights.
        The result also carries the batch's loss without the L2 penalty and the
        loss of predicting 0 on it, for the divergence rule
        (:class:`~tsrnn.engine.trainer.DivergenceGuard`). ``extra_grad``: the
        result also carries dL/d ``extra`` of the batch (before the update;
        what learned inputs of the head chain their gradients from).
        ``zero_loss``: the loss of predicting 0 on this batch where the caller
        knows it already (the same targets and mask seen before: a stateful
        fit's windows, epoch after epoch); None computes it.
        """
        # the gradient vector of the last step, zeroed, when no other call has
        # it (dict.pop: one call at a time): the same array at every step, so
        # its views (split, recent_views) are found again instead of rebuilt.
        # The step's result does not hold it and the optimizers do not keep it
        grad = self.__dict__.pop("_step_grad", None)
        if grad is None or grad.dtype != self.dtype or grad.shape != (self.size,):
            grad = np.zeros(self.size, dtype=self.dtype)
        else:
            grad.fill(0)
        loss, grad, state, dh_norm, data_loss, y_hat, d_extra = self._loss_grad(
            theta,
            x,
            y,
            mask,
            loss_fn,
            state0,
            extra,
            training=True,
            dropout=dropout,
            rng=rng,
            alpha=alpha,
            n_samples=n_samples,
            extra_grad=extra_grad,
            grad=grad,
        )
        # the scale of the targets in the loss's own units (0.5 * mean y**2 for
        # the squared error, log 2 for a binary logit); one pass over the
        # outputs, small beside the forward and backward scans
        with np.errstate(over="ignore", invalid="ignore"):
            if zero_loss is None:
                zero_loss = float(loss_fn(np.zeros_like(y_hat), y, mask)[0])
            gnorm = clip_grad_norm(grad, clip_norm)
        res = self._apply_step(
            theta, optimizer, loss, grad, state, dh_norm, clip_norm, data_loss,
            zero_loss, gnorm,
        )
        self._step_grad = grad
        res.extra_grad = d_extra
        return res
