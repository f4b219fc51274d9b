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
from ...smoothing import step_weights
from ...smoothing.learned import (
    from_unconstrained,
    path_gradient,
    row_params_gradient,
    run_references_grad,
    step_weight_derivatives,
    to_unconstrained,
    unconstrained_gradient,
)
from .features import FeatureLayout, _reference_values
from .references import NAMES, ReferenceState

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
        self.series_of_row = np.repeat(np.arange(S), np.diff(self.indptr))
        self.optimizer = None
        self.grad_params = np.zeros((S, k, 4))
        self.sens = None
        self.after = None

    @property
    def size(self) -> int:
        """Coefficients learned (``S * k * 4``)."""
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
        their reference columns rewritten; the ``readers``' kept passes are
        dropped (they gather again from the table).
        """
        from .training import _ROW_FEATURES

        series, lay = self.series, self.layout
        params = self.params
        N, k = self.Y.shape
        lines = np.empty((N, k, len(NAMES), 3))
        sens = np.empty((N, k, 8))
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
        self.weights = step_weights(phi, ho)
        self.dweights = step_weight_derivatives(phi, ho)
        cached = _ROW_FEATURES.get(series)
        table = cached[2] if cached is not None else None
        if table is None and not windows:
            vals = None
        else:  # every row's reference extras, once
            vals = _reference_values(lay, series.refs, np.arange(N), series.Y)
            vals = vals.astype(series.Y.dtype, copy=False)
        if table is not None:
            self._patch(table.extra, np.arange(N), vals)
        for w in windows:
            self._patch(w.extra, w.rows, vals)
        for r in readers:
            r._kept = None

    def _patch(self, extra, rows, vals) -> None:
        """Rewrite the reference columns of gathered ``extra`` of ``rows``."""
        lay = self.layout
        ho, P = lay.horizon_out, lay.n_per_step
        rr = np.asarray(rows).reshape(-1)
        pad = rr < 0
        e = extra.reshape(len(rr), ho, P)
        e[:, :, lay.ref_offset :] = vals[np.where(pad, 0, rr)]
        if pad.any():
            e[pad, :, lay.ref_offset :] = 0.0

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
        ho, P, k, nr = lay.horizon_out, lay.n_per_step, lay.n_targets, lay.n_refs
        rr = np.asarray(rows).reshape(-1)
        keep = rr >= 0
        if not keep.any():
            return
        r = rr[keep]
        d = np.asarray(d_extra, dtype=np.float64).reshape(len(rr), ho, P)[keep]
        d = d[:, :, lay.ref_offset :].reshape(len(r), ho, nr, k)
        d = d.transpose(0, 3, 2, 1)  # (R, k, nr, ho)
        lines = self.series.refs[r]  # (R, k, nr, 3)
        ok = np.isfinite(lines[..., 0]) & np.isfinite(lines[..., 1])
        if lay.relative:  # relative to the origin's level: none, no value
            ok &= np.isfinite(self.series.Y[r])[:, :, None]
        d = np.where(ok[..., None], d, 0.0)
        ser = self.series_of_row[r]
        g_lines = path_gradient(
            np.where(ok[..., None], lines, 0.0),
            d,
            self.weights[ser],
            self.dweights[ser],
        )
        per_row = row_params_gradient(self.sens[r], g_lines)  # (R, k, 4)
        np.add.at(self.grad_params, ser, per_row)

    def gradient(self) -> np.ndarray:
        """The accumulated gradient by the unconstrained coefficients ``(S, k, 4)``."""
        return unconstrained_gradient(np.asarray(self.u, np.float64), self.grad_params)

    def step(self, windows=(), readers=()) -> None:
        """One optimizer step on the epoch's gradient, then :meth:`refresh`."""
        g = self.gradient().reshape(-1)
        if np.isfinite(g).all() and g.any():
            self.optimizer.step(self._flat, g.astype(self._flat.dtype))
        self.refresh(windows, readers)

