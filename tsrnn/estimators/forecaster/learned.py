"""``references="learned"``: the references' coefficients learned with the network.

Smyl's ES-RNN (M4's winner) learns each series' exponential-smoothing
coefficients by gradient, jointly with the global recurrent network. Here the
coefficients of each series' (and target's) statistical references -- SES's
``alpha``, the damped trend's ``alpha``, ``beta`` and ``phi``; Theta reads
SES's ``alpha``; drift has none -- start at their classical fit
(:func:`~.references.fit_state`) and follow the gradient of the training loss
that the head's reference inputs carry:

* the head is linear in its extras, so each training step gives dL/d extra
  (:meth:`~tsrnn.engine.Network.train_step` with ``extra_grad=True``); the
  reference columns of it become a gradient by each row's forecast lines
  (:func:`~tsrnn.smoothing.learned.path_gradient`), accumulated over the
  epoch;
* at the epoch's end the forward-mode sensitivities of the lines
  (:func:`~tsrnn.smoothing.learned.run_references_grad`) chain it into a
  gradient by each series' coefficients, taken as unconstrained logits
  (:func:`~tsrnn.smoothing.learned.to_unconstrained`); one Adam step updates
  them, and the lines of every row are recomputed from the new coefficients
  (one pass of the filters; the kept training windows and feature tables have
  their reference columns rewritten in place).

Once per epoch, not per window: a series' rows are then read with one set
of coefficients throughout an epoch (each row's lines depend on every row
before it, so a window's coefficients would otherwise differ from its
neighbours'), the gradient is that of the epoch's loss at those
coefficients, and the filters run once per epoch instead of once per window.
The coefficients live at the end of the vector ``run_epochs`` trains, so the
weights it keeps (the best validation epoch, or after a divergence) keep
their coefficients with them.
"""

from __future__ import annotations

import numpy as np

from ...engine import make_optimizer
from ...kernels.references import reference_extras, reference_gradient
from ...smoothing import N_PARAMS, N_SENS, REFERENCES, step_weights
from ...smoothing.learned import (
    from_unconstrained,
    run_references_grad,
    step_weight_derivatives,
    to_unconstrained,
    unconstrained_gradient,
)
from .features import FeatureLayout
from .references import NAMES, ReferenceState

# the kernels' reference order
assert REFERENCES == ("ses", "holt", "theta", "drift")

#: Adam's step (in logits) of the coefficients, one per epoch.
LEARNING_RATE = 0.2


class LearnedReferences:
    """The learned coefficients of one :class:`~.training.ScaledSeries`' references.

    Parameters
    ----------
    layout : FeatureLayout
    series : ScaledSeries
        Its ``refs`` (the lines of every row) are rewritten in place.
    state : ReferenceState
        The classical fit (its ``params`` the starting coefficients, unless
        ``start``) and the states before each series' first row.
    start : ndarray (S, k, N_PARAMS), optional
        Starting coefficients (a continued fit: the learned ones).
    """

    def __init__(self, layout: FeatureLayout, series, state: ReferenceState,
                 start=None):
        self.layout, self.series = layout, series
        self.init = state.init
        self.Y = np.asarray(series.Y, dtype=np.float64)
        self.indptr = np.asarray(series.indptr)
        params = state.params if start is None else start
        self.u0 = to_unconstrained(params)
        self.u = self.u0.copy()
        S, k = self.u.shape[:2]
        self.series_of_row = np.repeat(np.arange(S), np.diff(self.indptr)).astype(
            np.int64
        )
        self.optimizer = None
        self.grad_params = np.zeros((S, k, N_PARAMS))
        self.sens = None
        self.after = None

    @property
    def size(self) -> int:
        """Coefficients learned (``S * k * N_PARAMS``)."""
        return self.u0.size

    @property
    def params(self) -> np.ndarray:
        """The coefficients ``(S, k, N_PARAMS)`` (:data:`~tsrnn.smoothing.PARAMS`)."""
        return from_unconstrained(np.asarray(self.u, dtype=np.float64))

    def bind(self, view: np.ndarray) -> None:
        """Keep the coefficients in ``view`` (the tail of the trained vector)."""
        view[:] = np.asarray(self.u, dtype=np.float64).reshape(-1)
        self.u = view.reshape(self.u0.shape)
        if self.optimizer is None or self.optimizer.m.dtype != view.dtype:
            self.optimizer = make_optimizer(
                "adam", self.size, LEARNING_RATE, view.dtype
            )
        self._flat = view

    def unbind(self) -> None:
        """Copy the coefficients out of the trained vector."""
        self.u = np.array(self.u, dtype=np.float64)
        self._flat = None

    def reset(self) -> None:
        """Back to the starting coefficients (the lines recomputed)."""
        self.u[...] = self.u0
        self.refresh()

    # ------------------------------------------------------------ the lines
    def refresh(self, windows=(), readers=()) -> None:
        """Recompute every row's lines from the coefficients, in place.

        The feature table kept for the series (:func:`~.training.row_features`)
        and the ``windows`` (:class:`~.training.Window` with ``rows``) have
        their reference columns rewritten (the values
        :func:`~.features.gather` gives); the ``readers``' kept passes are
        dropped (they gather again from the table).
        """
        from .training import _ROW_FEATURES

        series, lay = self.series, self.layout
        params = self.params
        N, k = self.Y.shape
        lines = np.empty((N, k, len(NAMES), 3))
        sens = np.empty((N, k, N_SENS))
        after = np.empty_like(self.init)
        for j in range(k):
            lines[:, j], sens[:, j], after[:, j] = run_references_grad(
                self.Y[:, j], self.indptr, params[:, j], self.init[:, j]
            )
        series.refs[...] = lines
        self.sens, self.after = sens, after
        # the paths' step weights per series, target and reference (phi is
        # the series' damping for the trend, 1 for the others)
        ho = lay.horizon_out
        phi = lines[self.indptr[:-1], :, :, 2] if N else np.ones((0, k, len(NAMES)))
        self.weights = np.ascontiguousarray(step_weights(phi, ho))
        self.dweights = np.ascontiguousarray(step_weight_derivatives(phi, ho))
        cached = _ROW_FEATURES.get(series)
        if cached is not None:
            self._patch(cached[2].extra, np.arange(N))
        for w in windows:
            self._patch(w.extra, w.rows)
        for r in readers:
            r._kept = None

    def _patch(self, extra, rows) -> None:
        """Rewrite the reference columns of gathered ``extra`` of ``rows``."""
        lay = self.layout
        rr = np.ascontiguousarray(np.asarray(rows).reshape(-1), dtype=np.int64)
        reference_extras(
            self.series.refs,
            self.weights,
            self.series_of_row,
            self.Y,
            bool(lay.relative),
            rr,
            extra.reshape(len(rr), lay.horizon_out, lay.n_per_step),
            int(lay.ref_offset),
        )

    def state(self) -> ReferenceState:
        """The :class:`ReferenceState` of the coefficients (after the last rows)."""
        last = self.series.refs[self.indptr[1:] - 1].astype(np.float64)
        return ReferenceState(self.params, self.init, self.after.copy(), last)

    # ------------------------------------------------------------ gradients
    def begin(self) -> None:
        """Start an epoch's accumulation."""
        self.grad_params[...] = 0.0

    def accumulate(self, rows, d_extra) -> None:
        """Add a window's dL/d extra ``(..., n_extra)`` of ``rows`` (``-1``: pad)."""
        lay = self.layout
        rr = np.ascontiguousarray(np.asarray(rows).reshape(-1), dtype=np.int64)
        d = np.ascontiguousarray(d_extra).reshape(
            len(rr), lay.horizon_out, lay.n_per_step
        )
        reference_gradient(
            d,
            rr,
            int(lay.ref_offset),
            self.series.refs,
            self.weights,
            self.dweights,
            self.sens,
            self.series_of_row,
            self.Y,
            bool(lay.relative),
            self.grad_params,
        )

    def gradient(self) -> np.ndarray:
        """The accumulated gradient by the unconstrained coefficients
        ``(S, k, N_PARAMS)``."""
        return unconstrained_gradient(np.asarray(self.u, np.float64), self.grad_params)

    def step(self, windows=(), readers=()) -> None:
        """One optimizer step on the epoch's gradient, then :meth:`refresh`."""
        g = self.gradient().reshape(-1)
        if np.isfinite(g).all() and g.any():
            self.optimizer.step(self._flat, g.astype(self._flat.dtype))
        self.refresh(windows, readers)

