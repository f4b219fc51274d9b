"""The statistical references the direct head reads, per series and target.

``references="auto"`` (the direct strategy) gives the head, for every forecast
step, the forecasts of four per-series statistical models fitted on the
series as the network reads them (deseasonalised and scaled, so that they are
scaled like ``y``): simple exponential smoothing, the damped trend, the
optimised Theta method and drift (:mod:`tsrnn.smoothing`). Their parameters are fitted once
per ``fit`` on the training rows; the filters then run over every row, so each
row's references use only the data up to it. The filter state after each
series' last row is kept (:class:`ReferenceState`) so that ``predict`` after
``fit`` or ``update`` reads the references of the true origin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...smoothing import N_STATE, PARAMS, REFERENCES, fit_references, run_references

#: The reference models the head reads, in the order of its extras.
NAMES = REFERENCES


@dataclass
class ReferenceState:
    """Fitted parameters and filter states of every series and target.

    Attributes
    ----------
    params : ndarray (S, k, len(PARAMS))
    init : ndarray (S, k, N_STATE)
        The state before each series' first row (to re-read it from the start).
    state : ndarray (S, k, N_STATE)
        The state after the last row seen (``fit``, then each ``update``).
    last : ndarray (S, k, n_refs, 3)
        The forecast lines at the last row seen: what ``predict`` reads.
    """

    params: np.ndarray
    init: np.ndarray
    state: np.ndarray
    last: np.ndarray

    FIELDS = ("params", "init", "state", "last")


def lines_of(Y, indptr, params, states):
    """Lines ``(N, k, n_refs, 3)`` of stacked rows and the states after them."""
    N, k = Y.shape
    lines = np.empty((N, k, len(NAMES), 3))
    after = np.empty_like(states)
    for j in range(k):
        lines[:, j], after[:, j] = run_references(
            Y[:, j], indptr, params[:, j], states[:, j]
        )
    return lines, after


def fit_state(Y, indptr, train_end, m: int) -> tuple[ReferenceState, np.ndarray]:
    """Fit every series and target on its training rows, then run all rows.

    Returns the :class:`ReferenceState` after the last rows and the lines of
    every row ``(N, k, n_refs, 3)``.
    """
    S, k = len(indptr) - 1, Y.shape[1]
    Y = np.asarray(Y, dtype=np.float64)
    params = np.empty((S, k, len(PARAMS)))
    init = np.empty((S, k, N_STATE))
    for j in range(k):
        params[:, j], init[:, j] = fit_references(Y[:, j], indptr, train_end, m)
    lines, after = lines_of(Y, indptr, params, init)
    last = lines[np.asarray(indptr[1:]) - 1]
    return ReferenceState(params, init, after, last), lines


def continue_series(ref: ReferenceState, p: int, Y_new):
    """Lines of new rows ``(n, k)`` of series ``p`` and its state after them."""
    Y_new = np.asarray(Y_new, dtype=np.float64)
    lines, after = lines_of(
        Y_new, np.array([0, len(Y_new)]), ref.params[p : p + 1], ref.state[p : p + 1]
    )
    return lines, after[0]


def with_history(ref: ReferenceState, p: int, keep: int, lines_new) -> np.ndarray:
    """Lines of a series' kept history (the last row's only) then its new rows."""
    k = ref.last.shape[1]
    hist = np.full((keep, k, len(NAMES), 3), np.nan)
    hist[-1] = ref.last[p]
    return np.concatenate([hist, lines_new])
