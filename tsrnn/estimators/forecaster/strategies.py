"""Forecasting strategies: how the network's outputs become a multi-step forecast.

A strategy decides four things, and nothing else in the forecaster depends on
which one is chosen:

* how many steps the head predicts per row (:meth:`Strategy.horizon_out`) and
  whether it reads seasonal references (:meth:`Strategy.seasons`);
* how a forecast is made from the state at each series' end
  (:meth:`Strategy.forecast`), and how forecasts of changes (``differencing``)
  are summed back onto the last level (:meth:`Strategy.to_levels`);
* how the conformal residuals are collected on the held-out tails
  (:meth:`Strategy.calibrate`).

``"direct"``: the head predicts all ``horizon`` steps at once from the state and
the known future. ``"recursive"``: a one-step head whose forecast is fed back
as the next input by the stream kernel. ``"seq2seq"``: a decoder RNN starts
from the state at each origin and unrolls over the horizon, reading each
step's known future and the step before's value (:class:`Seq2Seq`,
:class:`~tsrnn.engine.Seq2SeqNetwork`). A new strategy is a new class here
plus its row in :data:`STRATEGIES`; the estimator's ``strategy`` parameter
accepts the table's keys.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import numpy as np

from ...evaluation import conformal_errors
from .features import OriginRows, gather, gather_ranges
from .likelihood import output_head

#: Origins of the recursive strategy's calibration walk on the held-out tails.
RECURSIVE_CALIBRATION_ORIGINS = 50


class Strategy(ABC):
    """What a strategy decides (see the module docstring)."""

    name: str
    #: The decoder's training mode for an encoder-decoder (``"teacher"`` or
    #: ``"free"``); None: a stack and its head.
    decoder: str | None = None
    #: Whether ``references="auto"`` gives the head the statistical references.
    auto_references: bool = False

    def origin_outputs(self, model, positions, extra, base):
        """The head's outputs ``(P, n_outputs)`` at each series' last row.

        ``extra``: the known-future features of the forecast steps;
        ``base``: the last observed scaled level of each series.
        """
        return model._head(model._top[positions], extra)

    @abstractmethod
    def horizon_out(self, horizon: int) -> int:
        """Forecast steps the head predicts per row."""

    @abstractmethod
    def seasons(self, seasons: tuple[int, ...]) -> tuple[int, ...]:
        """The seasonal references the head reads (``seasons``: the resolved ones)."""

    @abstractmethod
    def check_horizon(self, h: int, horizon: int) -> None:
        """Refuse a ``predict`` horizon ``h`` this model cannot forecast."""

    @abstractmethod
    def forecast(self, model, out0, rows: OriginRows, positions, h):
        """Scaled forecasts ``(P, h, n_targets)`` from the head outputs ``out0``.

        ``out0`` ``(P, n_outputs)`` is the head at each series' last row;
        ``rows`` the series' history and future known features.
        """

    @abstractmethod
    def to_levels(self, values, base):
        """Forecasts of changes (``differencing``) back to levels from ``base``."""

    @abstractmethod
    def calibrate(self, model, data, outputs, series, n_val) -> list:
        """Scaled signed residuals ``(n, horizon, n_targets)`` of held-out tails."""


class Direct(Strategy):
    """All ``horizon`` steps from the state at once (multi-horizon head)."""

    name = "direct"
    auto_references = True

    def horizon_out(self, horizon):
        return int(horizon)

    def seasons(self, seasons):
        return seasons

    def check_horizon(self, h, horizon):
        """A direct model forecasts at most the horizon it was trained for."""
        if h > horizon:
            raise ValueError(
                f"this direct model forecasts at most {horizon} steps; set "
                f"horizon={h} and refit, or use strategy='recursive'"
            )

    def forecast(self, model, out0, rows, positions, h):
        lay = model._layout
        point = output_head(model).point(out0)  # (P, horizon_out * k)
        return point.reshape(len(positions), lay.horizon_out, lay.n_targets)[:, :h]

    def to_levels(self, values, base):
        return values + base[:, None, :]

    def calibrate(self, model, data, outputs, series, n_val):
        """Residuals of the forecasts the final pass made on the held-out tails."""
        lay, scaler = model._layout, model._scaler
        h, k = int(model.horizon), lay.n_targets
        a = series.indptr[:-1]
        tails = list(
            gather_ranges(
                lay,
                series.Y,
                series.Z,
                series.start,
                series.end,
                series.train_end_series - 1,
                series.indptr[1:] - h,
            )
        )
        if not tails:
            return []
        # every series' tail origins at once: the inverse transforms and the
        # scaling are elementwise, so the values are those series by series
        which = np.concatenate([np.full(len(t[1]), t[0]) for t in tails])
        origins = np.concatenate([t[1] for t in tails])
        out = np.concatenate([outputs[s][o - a[s]] for s, o, *_ in tails])
        pred = output_head(model).point(out).reshape(-1, h, k)
        truth = np.concatenate([t[4] for t in tails]).reshape(-1, h, k)
        ok = np.concatenate([t[5] for t in tails]).reshape(-1, h, k) > 0
        p = which[:, None]
        # step numbers of the targets: origin offset + 1..h
        steps = (origins - a[which])[:, None] + np.arange(1, h + 1)
        pred_u = model._season.y_inverse(scaler.y_inverse(pred, p), p, steps)
        truth_u = model._season.y_inverse(scaler.y_inverse(truth, p), p, steps)
        r = (truth_u - pred_u) / model.conformal_scale_[which][:, None, :]
        r[~ok] = np.nan
        return np.split(r, np.cumsum([len(t[1]) for t in tails])[:-1])


class Recursive(Strategy):
    """One step at a time, each forecast fed back as the next input."""

    name = "recursive"

    def horizon_out(self, horizon):
        return 1

    def seasons(self, seasons):
        # its future references would be its own predictions, which the step
        # kernel feeds back as inputs instead
        return ()

    def check_horizon(self, h, horizon):
        """Any horizon: the forecast is rolled forward step by step."""

    def forecast(self, model, out0, rows, positions, h):
        lay = model._layout
        k = lay.n_targets
        head = output_head(model)
        vals = np.empty((len(positions), h, k))
        vals[:, 0] = head.point(out0[:, : k * lay.n_params])
        if h > 1:
            dt = model._net.dtype
            x, exs, _, _ = gather(
                lay, rows.Y, rows.Z, rows.start, rows.end, rows.future_rows(h - 1)
            )
            x[..., :k] = np.nan  # unknown targets: fed back from the outputs
            state = np.ascontiguousarray(model._state[:, :, positions]).astype(dt)
            last = np.ascontiguousarray(out0, dt)
            o = model._pack_cache.run(state, x, exs, lay.feedback_map, last)
            vals[:, 1:] = head.point(o[:, :, : k * lay.n_params]).transpose(1, 0, 2)
        return vals

    def to_levels(self, values, base):
        # every step forecasts the change from the step before it
        return np.cumsum(values, axis=1) + base[:, None, :]

    def calibrate(self, model, data, outputs, series, n_val):
        """Residuals of recursive forecasts walked over the held-out tails."""
        h = int(model.horizon)
        if not (n_val > h).any():
            return []
        tail_start = data.lengths - n_val
        est = copy.deepcopy(model)
        # the walk below collects the residuals: the copy keeps no pool of its
        # own to refresh at every step (see ForecasterMixin._refreshed_conformal)
        est.__dict__.pop("conformal_scores_", None)
        est.__dict__.pop("conformal_errors_", None)
        # re-read the series up to the tail with the final weights
        est._restate(data.take(0, tail_start))
        block = data.take(tail_start, None)
        n_rows = min(int(n_val.max()), RECURSIVE_CALIBRATION_ORIGINS + h - 1)
        sc = conformal_errors(est, block.take(0, n_rows), h, model.conformal_scale_)
        return [sc] if len(sc) else []


class Seq2Seq(Direct):
    """An encoder-decoder: a decoder RNN unrolled over the horizon at each origin.

    The encoder is the stateful network of the other strategies; the
    decoder (:class:`~tsrnn.engine.Seq2SeqNetwork`) starts from the encoder's
    state at the origin and reads, step by step, the known future of the step
    it forecasts and the value of the step before: the truth while training
    (``"seq2seq_teacher"``, teacher forcing) or its own forecast
    (``"seq2seq_free"``, gradients through the feedback); a forecast always
    reads its own. ``"seq2seq"`` is the free-running one: trained as it
    forecasts, it was measured better than teacher forcing, whose decoder
    never learns to read its own errors (``docs/strategies.md``). It reads
    the same known-future features as the direct head and forecasts the
    same horizon, so it shares its checks, its return to levels and its
    calibration on the held-out tails.
    """

    def __init__(self, name: str, decoder: str):
        self.name = name
        self.decoder = decoder

    def check_horizon(self, h, horizon):
        """At most the horizon it was trained for (the decoder's known future)."""
        if h > horizon:
            raise ValueError(
                f"this {self.name} model forecasts at most {horizon} steps; set "
                f"horizon={h} and refit, or use strategy='recursive'"
            )

    def origin_outputs(self, model, positions, extra, base):
        """The decoder's forecasts from the state at each series' end."""
        state = model._state[:, :, positions]
        return model._net.decode(model.params_, state, base, extra)


#: The ``strategy=`` values and what they mean.
STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Direct(),
        Recursive(),
        Seq2Seq("seq2seq", "free"),
        Seq2Seq("seq2seq_teacher", "teacher"),
        Seq2Seq("seq2seq_free", "free"),
    )
}


def strategy_name(model) -> str:
    """The strategy a forecaster runs: the fitted one (``strategy_``), else its
    ``strategy`` parameter.

    ``strategy="auto"`` is decided at ``fit`` (:func:`.auto.choose_strategy`);
    where nothing decided it (a fit over shards or Dask workers, which build
    no decoder), it is ``"direct"``.
    """
    name = getattr(model, "strategy_", None) or model.strategy
    return "direct" if name == "auto" else name


def strategy_of(model) -> Strategy:
    """The :class:`Strategy` of :func:`strategy_name`."""
    return STRATEGIES[strategy_name(model)]
