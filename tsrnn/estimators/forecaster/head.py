"""The forecaster's network: the stack, its multi-horizon head and its reference.

The head (:class:`~tsrnn.engine.StepwiseHead`) reads the top layer's state and,
for every forecast step, what is known in advance about it, including the
*reference* values: the last observation at the same seasonal phase for each
season (:func:`resolve_seasons`; the last value without one). The head starts
at the first reference (:func:`start_at_reference`, the seasonal naive
forecast) and learns corrections from the state and the covariates.

Where a change goes: another reference (a learned mix, the last value where
seasonal naive loses, decided from the data) is resolved here at ``fit``; a new
head or likelihood (distribution parameters per step) is a head of
:mod:`tsrnn.engine.heads` with its loss in :mod:`tsrnn.engine.losses`, built
by :func:`build_network`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ...data.calendar import infer_seasons
from ...engine import Network, RecurrentStack, StepwiseHead
from .features import FeatureLayout


def resolve_seasons(season_length, freq) -> tuple[int, ...]:
    """The seasonal periods of the references (``(1,)``: the last value).

    Parameters
    ----------
    season_length : int, tuple of int, "auto" or None
        The estimator's parameter; ``"auto"`` infers them from ``freq``.
    freq : pandas offset, int or None
        The series' frequency.
    """
    sl = season_length
    if isinstance(sl, str):
        seasons = infer_seasons(freq)
    elif sl is None:
        seasons = ()
    elif isinstance(sl, (tuple, list)):
        if not all(
            isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in sl
        ):
            raise TypeError(
                f"season_length must be a positive int, a tuple of them, 'auto' "
                f"or None, got {sl!r}; e.g. season_length=(24, 168)"
            )
        seasons = tuple(int(m) for m in sl)
        if not seasons or min(seasons) < 1:
            raise ValueError(
                f"season_length must hold positive ints (steps per season), got "
                f"{sl!r}; e.g. season_length=(24, 168)"
            )
    else:
        seasons = (int(sl),)
    return seasons or (1,)


def build_network(
    cell, hidden_size, num_layers, nonlinearity, layout: FeatureLayout, dtype
) -> Network:
    """The recurrent stack over the layout's inputs and the multi-horizon head."""
    stack = RecurrentStack(
        cell,
        layout.n_inputs,
        hidden_size,
        num_layers,
        nonlinearity=nonlinearity,
        dtype=dtype,
    )
    head = StepwiseHead(
        hidden_size, layout.horizon_out, layout.n_targets, layout.n_per_step
    )
    return Network(stack, head)


#: Weight of the seasonal-naive reference in the head's start when it also
#: reads the statistical references (the rest is shared equally by them).
SEASONAL_SHARE = 0.0


def start_at_reference(net: Network, theta: np.ndarray, layout: FeatureLayout):
    """Start the head at its reference forecast (in place on ``theta``).

    Without statistical references, output ``(k, j)`` reads the seasonal-lag
    feature of step ``k`` and target ``j`` with weight 1 and every other
    known-future feature with weight 0, so training begins at the baseline a
    statistician would try first and learns corrections from the state and
    the covariates (the recurrent part keeps its random init). Measured on
    the electricity backtest: this start is what lets a few hundred optimizer
    steps beat seasonal naive. With them (``references``), it starts at the
    equal mix of the statistical references, the seasonal naive forecast
    weighted by :data:`SEASONAL_SHARE` (the forecast combination that won
    M4's statistical benchmarks, as a starting point the head corrects).
    """
    E = net.layout.views(theta)["head.extra_weight"]  # (steps, targets, per)
    k, c = layout.n_targets, layout.n_known
    E[...] = 0.0
    share = SEASONAL_SHARE if layout.n_refs else 1.0
    if layout.n_refs:
        for r in range(layout.n_refs):
            cols = layout.ref_offset + r * k + np.arange(k)
            E[:, np.arange(k), cols] = (1.0 - share) / layout.n_refs
    if not layout.seasons:
        return
    for j in range(k):
        # the first season's reference value of target j: after the known
        # future (c) and that season's known features (c)
        E[:, j, 2 * c + j] += share
