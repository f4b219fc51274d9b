"""How :class:`RNNForecaster` reads: predict, update and partial_fit internals.

:class:`StreamsForecaster` holds the private steps that run the stream kernel over
the series: reading them to their ends, re-reading them from a reset state,
forecasting from the carried state, streaming new rows in (``update``) and
training on them (``partial_fit``). It is a mixin with no state of its own: every
method reads and sets the attributes of the estimator it is mixed into.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from ...data import Future, SeriesSet
from ...data.past import join_past
from ...engine import InferencePack
from ...engine.trainer import Diverged, DivergenceGuard, DivergenceWarning
from .. import fitted_config
from . import references
from .features import block_steps, future_known, gather, network_inputs, origin_rows
from .likelihood import output_head
from .reader import SeriesEnds, SeriesReader, last_observed
from .strategies import strategy_of
from .training import ScaledSeries, windows_after


class StreamsForecaster:
    """The stream reads of :class:`~tsrnn.estimators.forecaster.RNNForecaster`."""

    def _read_to_ends(self, reader, theta, series: ScaledSeries):
        """Read every series to its end and keep where it ends; the outputs.

        The outputs are what validation and calibration read: those of the
        held-out tails' origins (an encoder-decoder decodes from those only).
        """
        pack = InferencePack(self._net, theta)
        outputs, ends = reader.read_to_ends(
            theta, pack, series, decode_from=series.train_end_series - 1
        )
        self._state, self._top = ends.state, ends.top
        self._tail_y, self._tail_z, self._level = ends.tail_y, ends.tail_z, ends.level
        self._pack_cache = pack
        return outputs

    def _pack(self, theta=None):
        """Weights packed for the stream kernel (``params_`` by default)."""
        return InferencePack(self._net, self.params_ if theta is None else theta)

    def _restate(self, data: SeriesSet):
        """Reset the state and read ``data`` (the fit series, maybe cut) afresh."""
        lengths = data.lengths
        last = None if data.time is None else data.time[data.indptr[1:] - 1]
        self.schema_ = dataclasses.replace(
            data.schema, n_seen=lengths.copy(), last=last
        )
        Y, Z = network_inputs(
            data,
            self._scaler,
            self._layout,
            self.schema_.freq,
            self._net.dtype,
            season=self._season,
        )
        lines = None
        if self._layout.n_refs:  # re-read from the states before the first rows
            ref = self._refs
            lines, after = references.lines_of(Y, data.indptr, ref.params, ref.init)
            last = lines[np.asarray(data.indptr[1:]) - 1]
            self._refs = references.ReferenceState(ref.params, ref.init, after, last)
        series = ScaledSeries.build(Y, Z, data.indptr, inputs=Y, refs=lines)
        self._read_to_ends(SeriesReader(self._net, self._layout), self.params_, series)


    def _check_update(self, y_new, X_new, X_past):
        """New rows (``X_past`` joined to their covariates), checked."""
        schema = self.schema_
        y_new, X_new, joined = join_past(
            y_new, X_new, X_past, schema.id_col, schema.time_col
        )
        known = [c for c in joined if c not in schema.past_names]
        if known and schema.x_kind != "numpy":
            raise ValueError(
                f"X_past holds {known}, which the model reads as known covariates "
                f"(its past-only ones are {list(schema.past_names)}); pass them in "
                "X_new"
            )
        return schema.check_update(y_new, X_new)

    def _future(self, horizon, X):
        # what the strategy cannot forecast is said first (a direct model asked
        # for 10**12 steps: "at most `horizon` steps"), then the data checks,
        # which refuse a forecast over the budget before allocating it
        strategy_of(self).check_horizon(horizon, self.horizon)
        return self.schema_.check_future(horizon, X)

    def _last_levels(self, positions):
        """Last observed scaled level of each series (0, its mean, if none).

        A forecast of changes starts from it; after trailing missing steps that
        is the last observation, not the unknown current level.
        """
        lv = self._level[positions]
        return np.where(np.isnan(lv), 0.0, lv)

    def _head(self, top, extra):
        th = self._net.split(self.params_)[1]
        return self._net.head.forward(th, top, extra)[0]

    def _predict_values(self, fut: Future) -> np.ndarray:
        fitted_config.check_unchanged(self, "predict")
        strategy = strategy_of(self)
        h = fut.horizon
        pos, rows, base, out0 = self._origin_outputs(fut)
        vals = strategy.forecast(self, out0, rows, pos, h)
        if self._layout.relative:
            vals = strategy.to_levels(vals, base)
        return self._to_data_units(vals, pos)

    def _to_data_units(self, vals, pos):
        """Scaled forecasts ``(P, h, k, ...)`` (levels) back to the data's units.

        Trailing axes after the target (quantiles, paths) are carried through:
        every map here is increasing per series and step, so a quantile stays
        that quantile (see :mod:`.likelihood`).
        """
        extra = vals.ndim - 3
        h = vals.shape[1]
        p = pos.reshape((-1, 1) + (1,) * extra)
        v = np.moveaxis(vals, 2, -1) if extra else vals
        v = self._scaler.y_inverse(v, p)
        steps = np.asarray(self.schema_.n_seen)[pos][:, None] + np.arange(h)
        v = self._season.y_inverse(v, p, steps.reshape(steps.shape + (1,) * extra))
        return np.moveaxis(v, -1, 2) if extra else v

    def _origin_outputs(self, fut: Future):
        """The raw head outputs at each forecast series' end.

        Returns the positions, the :class:`~.features.OriginRows`, the last
        observed scaled levels and the head outputs ``(P, n_outputs)``.
        """
        strategy = strategy_of(self)
        strategy.check_horizon(fut.horizon, self.horizon)
        pos = np.asarray(fut.positions)
        lay = self._layout
        rows = origin_rows(
            lay,
            self._tail_y[pos],
            self._tail_z[pos],
            np.asarray(self.schema_.n_seen)[pos],
            future_known(fut, self._scaler, lay, self.schema_),
            ref_last=self._refs.last[pos] if lay.n_refs else None,
        )
        base = self._last_levels(pos)
        # Declared mirror (form only): a call with keyword arguments, as
        # nn.modules.RNNBase.__init__'s RecurrentStack(...); unrelated calls.
        _, extra, _, _ = gather(
            lay,
            rows.Y,
            rows.Z,
            rows.start,
            rows.end,
            rows.last_rows,
            origin=base,
            refs=rows.refs,
        )
        out0 = strategy.origin_outputs(self, pos, extra, base)
        return pos, rows, base, out0

    def _block_inputs(self, block: SeriesSet):
        """Scaled targets and known features of an update block (schema order)."""
        return network_inputs(
            block,
            self._scaler,
            self._layout,
            self.schema_.freq,
            self._net.dtype,
            positions=np.repeat(block.positions, block.lengths),
            what="y_new",
            season=self._season,
            steps=block_steps(block, np.asarray(self.schema_.n_seen)[block.positions]),
        )

    def _update_block(self, block: SeriesSet, conformal=None) -> None:
        """Advance the state over ``block`` (this model's positions).

        The conformal pool takes the errors of the forecasts from the state
        before ``block`` (``_refreshed_conformal``), unless ``conformal``
        gives the refreshed pool already (``partial_fit`` computes it before
        it trains on the block, so the errors stay out-of-sample).
        """
        fitted_config.check_unchanged(self, "update")
        # the block's own checks (values of another magnitude, named as the
        # user passed them) come before the forecasts the pool refresh makes
        Ynew, Znew = self._block_inputs(block)
        if conformal is None:
            conformal = self._refreshed_conformal(block)
        lay = self._layout
        dt = self._net.dtype
        reader = SeriesReader(self._net, lay)
        keep = self._tail_y.shape[1]
        new = SeriesEnds(
            self._state.copy(),
            self._top.copy(),
            self._tail_y.copy(),
            self._tail_z.copy(),
            self._level.copy(),
        )
        ref_new = None
        if lay.n_refs:
            ref_new = references.ReferenceState(
                self._refs.params,
                self._refs.init,
                self._refs.state.copy(),
                self._refs.last.copy(),
            )
        for i, p in enumerate(np.asarray(block.positions)):
            Y, Z, start, end = self._with_history(p, Ynew, Znew, block, i)
            refs = None
            if lay.n_refs:
                refs, ref_new.state[p] = self._block_refs(p, Y[keep:])
                ref_new.last[p] = refs[-1]
            # the previous step's one-step estimate, now that its future is known
            _, ex, _, _ = gather(lay, Y, Z, start, end, np.array([keep - 1]), refs=refs)
            # a copy, never a view: with one series the slice is all of _state,
            # which a concurrent predict's snapshot may still be reading
            state = self._state[:, :, p : p + 1].copy(order="C")
            top = self._top[p : p + 1].copy()
            reader.run_rows(
                self.params_,
                self._pack_cache,
                Y,
                Z,
                start,
                end,
                np.arange(keep, len(Y)),
                state,
                top,
                last_out=self._head(top, ex).astype(dt),
                refs=refs,
                decode=np.zeros(len(Y) - keep, bool),  # the outputs are unused
            )
            new.state[:, :, p : p + 1] = state
            new.top[p] = top[0]
            new.tail_y[p] = Y[-keep:]
            new.tail_z[p] = Z[-keep:]
            new.level[p] = last_observed(Y[keep:], new.level[p])
        # commit only after every series succeeded
        if ref_new is not None:
            self._refs = ref_new
        self._state, self._top = new.state, new.top
        self._tail_y, self._tail_z, self._level = new.tail_y, new.tail_z, new.level
        if conformal is not None:
            scores, weights, window, errors = conformal
            self.conformal_scores_, self.conformal_weights_ = scores, weights
            self.conformal_window_ = window
            if errors is not None:
                self.conformal_errors_ = errors
        self.schema_ = self.schema_.advance(block)

    def _block_refs(self, p, Y_new):
        """References' lines of series ``p``'s kept history and new rows ``Y_new``.

        Returns the lines (the history's last row and the new rows) and the
        filter state after the new rows.
        """
        keep = self._tail_y.shape[1]
        lines, after = references.continue_series(self._refs, p, Y_new)
        return references.with_history(self._refs, p, keep, lines), after

    def _with_history(self, p, Ynew, Znew, block, i):
        """Series ``p``'s stored history tail followed by the block's new rows.

        Returns ``Y, Z, start, end`` for :func:`gather` over those rows (one
        series, so every row starts at 0 and ends at the last row).
        """
        dt = self._net.dtype
        a, b = block.indptr[i], block.indptr[i + 1]
        Y = np.concatenate([self._tail_y[p], Ynew[a:b]]).astype(dt)
        Z = np.concatenate([self._tail_z[p], Znew[a:b]]).astype(dt)
        n = len(Y)
        return Y, Z, np.zeros(n, np.int64), np.full(n, n, np.int64)

    def _train_on_block(self, block: SeriesSet) -> None:
        """TBPTT over the new rows of each series, from its carried state."""
        lay = self._layout
        net = self._net
        keep = self._tail_y.shape[1]
        pos = np.asarray(block.positions)
        Ynew, Znew = self._block_inputs(block)
        loss_fn = output_head(self).training_loss()
        opt = self._optimizer_for_training()
        rng = np.random.default_rng(self._seed(offset=2 + opt.t))
        T = int(getattr(self, "bptt_length_", self.bptt_length))
        theta0, diverged = self.params_.copy(), False
        guard, batch = DivergenceGuard(), 0
        for i, p in enumerate(pos):
            Y, Z, _, _ = self._with_history(p, Ynew, Znew, block, i)
            refs = self._block_refs(p, Y[keep:])[0] if lay.n_refs else None
            state = self._state[:, :, p : p + 1].copy(order="C")  # (as above)
            # the state has read every old row: windows start at the first new row
            for x, ex, tg, mk in windows_after(lay, Y, Z, keep, T, refs=refs):
                res = net.train_step(
                    self.params_,
                    opt,
                    x,
                    tg,
                    mk,
                    loss_fn,
                    state,
                    ex,
                    clip_norm=self.clip_norm,
                    dropout=self.dropout,
                    rng=rng,
                    alpha=self.alpha,
                    n_samples=float(mk.sum()),
                )
                batch += 1
                try:
                    guard.check(res, batch)
                    if not np.isfinite(self.params_).all():
                        raise Diverged("the weights became non-finite")
                except Diverged as exc:
                    self.params_[...] = theta0
                    diverged = True
                    warnings.warn(
                        f"partial_fit diverged ({exc}); the weights from before "
                        "this call were kept. Lower learning_rate_init, set or "
                        "lower clip_norm, or scale the data.",
                        DivergenceWarning,
                        stacklevel=3,
                    )
                    break
                state = res.state
            if diverged:
                break
        self._pack_cache = self._pack()
