"""Per-series reference forecasts of many stacked series, fitted and carried.

:func:`fit_references` fits every series' parameters on its training rows;
:func:`run_references` runs the filters over stacked rows (``data + indptr``)
from given states and returns each row's forecast lines and the states after
each series' last row, so that new rows (an ``update``) continue exactly
where the last ones stopped.
"""

from __future__ import annotations

import numpy as np

from ._filters import N_PARAMS, N_STATE, REFERENCES, expand_paths, run_filters
from .fitting import (
    fit_holt,
    fit_holt_rows,
    fit_ses,
    fit_theta,
    initial_state,
    initial_trends,
)


def fit_references(y, indptr, train_end, m: int = 1):
    """Parameters and initial states of every series.

    Parameters
    ----------
    y : ndarray of shape (N,)
        Stacked series (NaN: missing).
    indptr : ndarray of shape (S + 1,)
    train_end : ndarray of shape (S,)
        One past the last training row of each series (absolute row).
    m : int
        Seasonal period (the trend's initial window).

    Returns
    -------
    params : ndarray (S, N_PARAMS)
    states : ndarray (S, N_STATE)
    """
    S = len(indptr) - 1
    params = np.empty((S, N_PARAMS))
    states = np.empty((S, N_STATE))
    y = np.asarray(y, dtype=np.float64)
    levels, trends = initial_trends(y, indptr, train_end, m) if len(y) else ([], [])
    # the damped trends of the series of one training length together
    # (fit_holt_rows: the same search per series, in lockstep); a series
    # alone of its length by fit_holt, the same bits: a single series' fit
    # then compiles only fit_holt (about 0.5 s cold, where fit_holt_rows
    # took 1.1-1.2 s: its lockstep pays off from two series on)
    first = np.asarray(indptr[:-1], dtype=np.int64)
    n = np.asarray(train_end, dtype=np.int64) - first
    holt = np.empty((S, 3))
    for length in np.unique(n):
        members = np.flatnonzero(n == length)
        if len(members) == 1:
            s = members[0]
            holt[s] = fit_holt(
                np.ascontiguousarray(y[first[s] : first[s] + length]),
                float(levels[s]),
                float(trends[s]),
            )
            continue
        rows = first[members][None, :] + np.arange(length)[:, None]  # (T, G)
        YT = np.ascontiguousarray(y[rows])
        out = np.empty((len(members), 3))
        fit_holt_rows(
            YT,
            np.asarray(levels, dtype=np.float64)[members],
            np.asarray(trends, dtype=np.float64)[members],
            out,
        )
        holt[members] = out
    for s in range(S):
        seg = np.ascontiguousarray(y[indptr[s] : train_end[s]])
        params[s, 0] = fit_ses(seg)
        params[s, 1:4] = holt[s]
        params[s, 4:6] = fit_theta(seg)
        states[s] = initial_state(levels[s], trends[s])
    return params, states


def run_references(y, indptr, params, states):
    """Forecast lines of every row, and the states after each series.

    Parameters
    ----------
    y : ndarray of shape (N,)
    indptr : ndarray of shape (S + 1,)
    params : ndarray (S, N_PARAMS)
    states : ndarray (S, N_STATE)
        The states before each series' first row here (not modified).

    Returns
    -------
    lines : ndarray (N, len(REFERENCES), 3)
        ``(a, b, phi)`` per row and reference (:func:`expand_paths`).
    states_after : ndarray (S, N_STATE)
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    lines = np.empty((len(y), len(REFERENCES), 3))
    out = np.array(states, dtype=np.float64, copy=True)
    for s in range(len(indptr) - 1):
        a, b = indptr[s], indptr[s + 1]
        st = np.ascontiguousarray(out[s])
        run_filters(y[a:b], np.ascontiguousarray(params[s], np.float64), st, lines[a:b])
        out[s] = st
    return lines, out


def reference_paths(y, h: int, m: int = 1, train_end=None):
    """Every origin's ``h``-step forecasts of each reference model, one series.

    Parameters
    ----------
    y : ndarray of shape (T,)
    h : int
    m : int
        Seasonal period (the trend's initial window).
    train_end : int, optional
        Rows the parameters are fitted on (default: all).

    Returns
    -------
    dict
        ``name -> ndarray (T, h)``: row ``t`` is the forecast of
        ``y[t+1..t+h]`` from ``y[:t+1]`` (names: :data:`REFERENCES`).
    """
    y = np.asarray(y, dtype=np.float64)
    te = len(y) if train_end is None else int(train_end)
    indptr = np.array([0, len(y)])
    params, states = fit_references(y, indptr, np.array([te]), m)
    lines, _ = run_references(y, indptr, params, states)
    paths = expand_paths(lines, h)
    return {name: paths[:, i] for i, name in enumerate(REFERENCES)}
