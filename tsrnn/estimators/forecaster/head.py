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
from scipy import stats

from ...data.calendar import infer_seasons
from ...engine import (
    Network,
    ParamLayout,
    RecurrentStack,
    Seq2SeqNetwork,
    StepwiseHead,
)
from ...engine.embedding import Embeddings
from ...engine.seq2seq import StepReadout
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
    cell, hidden_size, num_layers, nonlinearity, layout: FeatureLayout, dtype,
    decoder=None,
) -> Network:
    """The recurrent stack over the layout's inputs and the multi-horizon head.

    ``decoder`` (``"teacher"`` or ``"free"``, an encoder-decoder strategy's
    training mode): the stack is the encoder of a
    :class:`~tsrnn.engine.Seq2SeqNetwork` instead (:func:`assemble`). With
    codes in the layout (categorical covariates, the series id), their
    embedding tables come first on the input side.
    """
    return assemble(
        *network_parts(
            cell, hidden_size, num_layers, nonlinearity, layout, dtype, decoder
        )
    )


def assemble(stack, second, embeddings=None) -> Network:
    """The network of :func:`network_parts`' parts."""
    if isinstance(second, Seq2SeqParts):
        if embeddings is not None:
            raise ValueError("an encoder-decoder reads no embedded codes")
        return second.network(stack)
    return Network(stack, second, embeddings)


#: Whether an encoder-decoder's read-out has weights per forecast step.
PER_STEP_READOUT = False


class Seq2SeqParts:
    """The decoder half of an encoder-decoder, before the network is built.

    ``layout`` holds the decoder's and the read-out's parameters, so that
    ``stack.layout.size + parts.layout.size`` is the network's size, as for
    a stack and its head.
    """

    def __init__(self, decoder: RecurrentStack, layout: FeatureLayout, mode: str):
        self.decoder = decoder
        self.feature_layout = layout
        self.mode = mode
        k, P = layout.n_targets, layout.n_per_step
        readout = StepReadout(
            decoder.hidden_size, layout.horizon_out, k, P, PER_STEP_READOUT
        )
        self.layout = ParamLayout(
            [("decoder." + s.name, s.shape) for s in decoder.layout]
            + [(s.name, s.shape) for s in readout.layout]
        )

    def network(self, encoder: RecurrentStack) -> Seq2SeqNetwork:
        lay = self.feature_layout
        k, c = lay.n_targets, lay.n_known
        # the first season's reference values of the step (its seasonal naive
        # or last-value forecast): what start_at_reference starts the read-out at
        fill = 2 * c + np.arange(k) if lay.seasons else None
        return Seq2SeqNetwork(
            encoder,
            self.decoder,
            lay.horizon_out,
            k,
            lay.n_per_step,
            first="zero" if lay.relative else "input",
            teacher_forcing=self.mode == "teacher",
            fill_cols=fill,
            per_step_readout=PER_STEP_READOUT,
        )


def network_parts(
    cell,
    hidden_size,
    num_layers,
    nonlinearity,
    layout: FeatureLayout,
    dtype,
    decoder=None,
) -> tuple:
    """The stack, the head and the embeddings (or None) of :func:`build_network`.

    Built before any array exists: their parameter layouts give the network's
    size without allocating it (a model file is checked against that size
    before the network is built). With ``decoder`` the second part is the
    decoder and its read-out (:class:`Seq2SeqParts`); an encoder-decoder
    reads no embedded codes and forecasts a point (refused before).
    """
    emb = None
    n_in = layout.n_inputs
    if layout.cardinalities:
        emb = Embeddings(layout.cardinalities, layout.embedding_dims, dtype)
        n_in = emb.output_size(n_in)
    if decoder is not None:
        dec = RecurrentStack(
            cell,
            layout.n_targets + layout.n_per_step,
            hidden_size,
            num_layers,
            nonlinearity=nonlinearity,
            dtype=dtype,
        )
    stack = RecurrentStack(
        cell,
        n_in,
        hidden_size,
        num_layers,
        nonlinearity=nonlinearity,
        dtype=dtype,
    )
    if decoder is not None:
        return stack, Seq2SeqParts(dec, layout, decoder), emb
    # a distribution or quantile head: n_params outputs per target, the
    # parameters of one target side by side (.likelihood)
    head = StepwiseHead(
        hidden_size,
        layout.horizon_out,
        layout.n_targets * layout.n_params,
        layout.n_per_step,
    )
    return stack, head, emb


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
    E_all = net.layout.views(theta)["head.extra_weight"]  # (steps, k * P, per)
    k, c, P = layout.n_targets, layout.n_known, layout.n_params
    E_all[...] = 0.0
    # the outputs that forecast a value start at the reference: the point,
    # a distribution's location or mean, every quantile (they spread apart
    # as training learns the spread); a scale or shape starts at its bias
    for p in _located_params(layout):
        E = E_all[:, p::P]  # (steps, k, per): parameter p of every target
        _start_outputs(E, layout, share, k, c, n_lead)


def _located_params(layout: FeatureLayout) -> range | list:
    """The raw parameters per target that start at the reference value."""
    if layout.quantile_head:
        return range(layout.n_params)  # every level
    return [0]


def _start_outputs(E, layout: FeatureLayout, share, k, c, n_lead=1) -> None:
    """Set the extra weights ``E`` (steps, k, per) of one parameter per target."""
    if not layout.n_refs:
        share = 1.0
    share = np.asarray(0.0 if share is None else share, dtype=float)
    if share.ndim == 2 and share.shape[0] != E.shape[0]:
        # an encoder-decoder's read-out is shared by every step: the mean share
        share = share.mean(axis=0, keepdims=True)
    share = np.broadcast_to(share, E.shape[:2])
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
    # the bias is kept: 0 for a point head, the starting spread of a
    # likelihood or quantile head (start_spread), so that "epoch 0" is the
    # reference with the spread of its own training residuals
    return out


#: Rows :func:`start_spread` reads (evenly spaced training origins).
SPREAD_ORIGINS = 20000
#: The Student-t head's starting degrees of freedom.
START_DF = 10.0


def start_spread(net: Network, theta: np.ndarray, layout: FeatureLayout, series,
                 head) -> None:
    """Start a likelihood or quantile head at its reference's residual spread.

    The reference forecast (what :func:`start_at_reference` set, the network's
    contribution left out) is compared with the targets on the training rows
    (at most :data:`SPREAD_ORIGINS`); per forecast step and target, the
    root-mean-square residual ``r`` sets the biases: the normal scale to
    ``r``, the Student-t degrees of freedom to :data:`START_DF` and its scale
    to ``r sqrt((nu - 2) / nu)``, the negative binomial dispersion to the
    excess of the residual variance over the Poisson's (relative to the
    squared mean), and the quantile ``q`` to ``r z_q`` (normal quantiles:
    the head starts non-crossing, spread as a Gaussian around the
    reference). Without a reference (the recursive strategy) the outputs
    that forecast a value start at the targets' mean (a count's through the
    inverse link). In place on ``theta``; nothing for point heads.
    """

    if head.kind == "point":
        return
    rows = np.flatnonzero(series.train_rows())
    if len(rows) > SPREAD_ORIGINS:
        rows = rows[np.linspace(0, len(rows) - 1, SPREAD_ORIGINS).astype(np.int64)]
    _, ex, tg, mk = series.gather(layout, rows)
    ho, k, P = layout.horizon_out, layout.n_targets, layout.n_params
    bias = net.layout.views(theta)["head.bias"].reshape(ho, k, P)
    tg3, mk3 = tg.reshape(len(rows), ho, k), mk.reshape(len(rows), ho, k) > 0
    n = np.maximum(mk3.sum(axis=0), 1)
    level = (tg3 * mk3).sum(axis=0) / n
    if not layout.seasons and not layout.n_refs:
        # no reference to start from (recursive): the targets' mean, which
        # for standardized levels or changes is about 0, for raw counts not
        v = level if not head.counts else _inverse_softplus(np.maximum(level, 1e-3))
        for p in _located_params(layout):
            bias[..., p] = v
    if head.loss == "poisson":
        return
    ref = reference_only(net, theta)
    top = np.zeros((len(rows), net.stack.hidden_size), theta.dtype)
    raw = net.head.forward(net.split(ref)[1], top, ex.astype(theta.dtype))[0]
    raw = raw.reshape(len(rows), ho, k, P).astype(np.float64)
    tg, mk = tg3, mk3
    if head.kind == "quantile":
        loc = raw[..., head.point_param]
        r = np.sqrt((((tg - loc) ** 2) * mk).sum(axis=0) / n)
        r = np.where(mk.any(axis=0), np.maximum(r, 1e-3), 1.0)
        z = stats.norm.ppf(np.asarray(head.levels))
        bias[...] += r[..., None] * z
        return
    dist = head.distribution
    mean = dist.mean(raw.reshape(len(rows), -1)).reshape(len(rows), ho, k)
    var = (((tg - mean) ** 2) * mk).sum(axis=0) / n
    if head.loss == "negative_binomial":
        # moments: variance m + a m^2 at the targets' mean level m (the
        # residual variance of a lagged reference overstates it: capped)
        m = np.maximum(level, 1e-3)
        target = np.clip((var - m) / (m * m), 1e-3, 10.0)
    else:
        target = np.sqrt(np.maximum(var, 1e-6))
        if head.loss == "student_t":
            # start near-Gaussian (nu = 10): training finds heavier tails where
            # the data have them; a variance-matched nu near 2 would start far
            # too peaked (its 80 % interval covered 62 % of the residuals)
            nu = START_DF
            bias[..., 2] = _inverse_softplus(nu - 2.0)
            target = target * np.sqrt((nu - 2.0) / nu)
    bias[..., 1] = _inverse_softplus(np.where(mk.any(axis=0), target, 1.0))


def _inverse_softplus(target):
    """The raw value whose ``softplus + 1e-6`` is ``target`` (stable when large)."""
    v = np.maximum(np.asarray(target, dtype=float) - 1e-6, 1e-6)
    return np.where(v > 30, v, np.log(np.expm1(np.minimum(v, 30))))
