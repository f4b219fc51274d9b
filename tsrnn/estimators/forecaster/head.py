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
    return Network(
        *network_parts(cell, hidden_size, num_layers, nonlinearity, layout, dtype)
    )


def network_parts(
    cell, hidden_size, num_layers, nonlinearity, layout: FeatureLayout, dtype
) -> tuple[RecurrentStack, StepwiseHead]:
    """The stack and the head of :func:`build_network`, before any array exists.

    Their parameter layouts give the network's size without allocating it (a
    model file is checked against that size before the network is built).
    """
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
    return stack, head


#: Weight of the seasonal-naive reference in the head's start when it also
#: reads the statistical references (the rest is shared equally by them);
#: "auto": inverse training errors (:func:`seasonal_share`). Measured on the
#: M3/Tourism shares (bench_accuracy, 3 seeds, MASE), 1.0 -- the seasonal
#: naive start, the references as inputs the head learns to weigh -- is
#: best or tied in 6 of 7 groups: M3 monthly 0.847 (0.874 with 0.0, 0.881
#: "auto"), Tourism monthly 1.566 (1.719, 1.635), Tourism quarterly 1.663
#: (1.775, 1.635); the mix alone (0.0) only wins M3 yearly (2.654 vs 2.697).
SEASONAL_SHARE = 1.0
#: Most training origins :func:`seasonal_share` scores (evenly spaced).
SHARE_ORIGINS = 20000


def seasonal_share(layout: FeatureLayout, series, n_lead=1) -> np.ndarray:
    """Seasonal naive's share of the start, per forecast step and target.

    Both candidate starts -- the seasonal naive forecast and the equal mix of
    the statistical references -- are scored on the training rows of every
    series (mean absolute error of the scaled, possibly differenced targets,
    at most :data:`SHARE_ORIGINS` origins); each step ``s`` and target ``j``
    gets inverse-error weights, so seasonal naive's share is
    ``e_mix / (e_mix + e_seasonal)``.

    Returns
    -------
    ndarray of shape (horizon_out, n_targets)
    """
    k, c, ho = layout.n_targets, layout.n_known, layout.horizon_out
    rows = np.flatnonzero(series.train_rows())
    if len(rows) > SHARE_ORIGINS:
        rows = rows[np.linspace(0, len(rows) - 1, SHARE_ORIGINS).astype(np.int64)]
    _, ex, tg, mk = series.gather(layout, rows)
    ex = ex.reshape(len(rows), ho, layout.n_per_step)
    tg, mk = tg.reshape(len(rows), ho, k), mk.reshape(len(rows), ho, k)
    n_lead = max(1, min(int(n_lead), len(layout.seasons)))
    sn = np.mean(
        [
            ex[:, :, c + s * (c + k) + c : c + s * (c + k) + c + k]
            for s in range(n_lead)
        ],
        axis=0,
    )
    cols = layout.ref_offset + np.arange(layout.n_refs)[:, None] * k + np.arange(k)
    mix = ex[:, :, cols].mean(axis=2)  # (R, ho, k)
    n = np.maximum(mk.sum(axis=0), 1.0)
    e_sn = (np.abs(sn - tg) * mk).sum(axis=0) / n
    e_mix = (np.abs(mix - tg) * mk).sum(axis=0) / n
    total = e_sn + e_mix
    return np.where(total > 0, e_mix / np.where(total > 0, total, 1.0), 0.0)


def start_at_reference(
    net: Network, theta: np.ndarray, layout: FeatureLayout, share=None, n_lead=1
):
    """Start the head at its reference forecast (in place on ``theta``).

    Without statistical references, output ``(k, j)`` reads the seasonal-lag
    feature of step ``k`` and target ``j`` with weight 1 and every other
    known-future feature with weight 0, so training begins at the baseline a
    statistician would try first and learns corrections from the state and
    the covariates (the recurrent part keeps its random init). Measured on
    the electricity backtest: this start is what lets a few hundred optimizer
    steps beat seasonal naive. With them (``references``), it starts at the
    equal mix of the statistical references, the seasonal naive forecast
    weighted by ``share`` (a number or one per step and target, see
    :func:`seasonal_share`; default 0): the forecast combination that won M4's
    statistical benchmarks, as a starting point the head corrects.
    ``n_lead``: the reference is the mean of the first ``n_lead`` seasons'
    values (``reference_`` a tuple of lags: the seasonal naive forecasts of a
    day and a week averaged), each weighted ``share / n_lead``.
    """
    E = net.layout.views(theta)["head.extra_weight"]  # (steps, targets, per)
    k, c = layout.n_targets, layout.n_known
    E[...] = 0.0
    if not layout.n_refs:
        share = 1.0
    share = np.broadcast_to(
        np.asarray(0.0 if share is None else share, dtype=float), E.shape[:2]
    )
    if layout.n_refs:
        for r in range(layout.n_refs):
            cols = layout.ref_offset + r * k + np.arange(k)
            E[:, np.arange(k), cols] = (1.0 - share) / layout.n_refs
    if not layout.seasons:
        return
    n_lead = max(1, min(int(n_lead), len(layout.seasons)))
    for s in range(n_lead):
        for j in range(k):
            # season s's reference value of target j: after the known future
            # (c), the seasons before it (c + k each) and its known features (c)
            E[:, j, c + s * (c + k) + c + j] += share[:, j] / n_lead


def reference_only(net: Network, theta: np.ndarray) -> np.ndarray:
    """A copy of ``theta`` whose head forecasts its starting reference alone.

    The head's state weights and bias are zeroed, so the output is what
    :func:`start_at_reference` set on the known-future features (the seasonal
    naive or last-value forecast, whatever the recurrent layers hold). Early
    stopping scores it as "epoch 0": when no trained epoch beats it on the
    held-out tails, the reference is the model.
    """
    out = theta.copy()
    views = net.layout.views(out)
    views["head.weight"][...] = 0.0
    views["head.bias"][...] = 0.0
    return out
