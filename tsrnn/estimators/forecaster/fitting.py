"""How :class:`RNNForecaster` fits: the fit protocol, cut from ``estimator``.

:class:`FitsForecaster` holds the private steps of ``fit`` and ``partial_fit``:
the ``"auto"`` settings, the feature layout, the network and its weights, the
selection run and the refit on every row (the refit protocol), the optimizer and
the conformal calibration. It is a mixin with no state of its own: every method
reads and sets the attributes of the estimator it is mixed into.
"""

from __future__ import annotations

import numpy as np

from ...data import SeriesSet
from ...data.calendar import calendar_features, holiday_dates
from ...engine import InferencePack, make_optimizer, run_epochs
from ...engine.budget import check_array_budget
from ...engine.losses import weighted_absolute_error
from ...engine.trainer import TrainingLog
from ...evaluation import series_scale
from ...evaluation.conformal import (
    forget_online_conformal,
    pool_keys,
    pool_limit,
    sample_pool,
)
from ...persist import is_solver
from .. import fitted_config
from . import auto, combination, head, references
from .embeddings import code_columns, embedding_layout, unknown_rows_as_mean
from .features import FeatureLayout, block_steps, network_inputs
from .head import (
    build_network,
    reference_only,
    resolve_seasons,
    start_at_reference,
    start_spread,
)
from .learned import LearnedReferences
from .likelihood import (
    OutputHead,
    check_count_values,
    check_counts,
    head_fields,
    output_head,
)
from .reader import SeriesReader, same_bits, validation_score, validation_sums
from .strategies import STRATEGIES, strategy_of
from .training import Epoch, ScaledSeries, cut_lanes, hold_out, steps_per_epoch
from .transforms import Scaler, Seasonal


#: ``reference="auto"``: let the held-out tails choose among the best
#: in-sample candidates where the mix is one (:func:`auto.reference_contest`).
REFERENCE_CONTEST = True


#: ``strategy="auto"``: let the held-out tails choose between the direct
#: head and the encoder-decoder where :func:`auto.strategy_contest` offers both.
STRATEGY_CONTEST = True


class FitsForecaster:
    """The fit protocol of :class:`~tsrnn.estimators.forecaster.RNNForecaster`."""

    def _fit_data(self, data: SeriesSet, partial: bool):
        """A fit (:meth:`_fit_once`), and with ``strategy="auto"`` the contest.

        Where :func:`auto.strategy_contest` offers a second strategy, it gets
        a complete fit of its own (the same seed) and the one whose selection
        run scored best on the held-out tails is kept with everything it
        fitted (ties: the rule's pick); ``strategy_scores_`` records both
        scores. A continued fit (``partial_fit``, ``warm_start``) keeps its
        strategy.
        """
        self.__dict__.pop("strategy_scores_", None)
        reuse = (partial or self.warm_start) and hasattr(self, "params_")
        self._fit_once(data, partial)
        if reuse or partial or self.strategy != "auto" or not STRATEGY_CONTEST:
            return self
        contenders = auto.strategy_contest(
            *self._strategy_facts(data.schema),
            seasonal=self._mostly_deseasonalized(),
            median_rows=float(np.median(data.lengths)),
        )
        first = self._contest_score()
        if len(contenders) < 2 or not np.isfinite(first):
            return self  # one strategy, or no tails to judge by
        runs = [(first, dict(self.__dict__))]
        for cand in contenders[1:]:
            self._strategy_override = cand
            try:
                self._fit_once(data, partial)
            finally:
                self.__dict__.pop("_strategy_override", None)
            runs.append((self._contest_score(), dict(self.__dict__)))
        best = max(range(len(runs)), key=lambda i: (runs[i][0], -i))
        self.__dict__.clear()
        self.__dict__.update(runs[best][1])
        self.strategy_scores_ = {
            c: float(r[0]) for c, r in zip(contenders, runs, strict=True)
        }
        return self

    def _mostly_deseasonalized(self) -> bool:
        """Whether at least half of the series (and targets) were
        deseasonalised: their season is in the data, not only the calendar."""
        d = getattr(self, "deseasonalized_", None)
        return d is not None and np.size(d) > 0 and float(np.mean(d)) >= 0.5

    def _contest_score(self) -> float:
        """The tails' best score of the last fit's selection run
        (:meth:`_best_tail_score` of its kept scores)."""
        return self._best_tail_score(
            getattr(self, "validation_scores_", None) or [],
            getattr(self, "stopped_", None),
        )

    def _fit_once(self, data: SeriesSet, partial: bool):
        """Train (one epoch if ``partial``), read every series to its end, calibrate.

        With the refit protocol (``early_stopping`` ``"auto"``, ``True``,
        ``"refit"`` or ``"continue"`` on a first fit with a held-out tail), a
        selection run on the training rows picks the number of epochs on the
        tails and gives the validation scores and the conformal residuals;
        the final model then trains on every row (:meth:`_finish_on_all`).
        """
        if not ((partial or self.warm_start) and hasattr(self, "params_")):
            self.strategy_ = self._choose_strategy(data.schema)
        strategy = strategy_of(self)
        if strategy.decoder is not None and self.cell == "sru":
            raise ValueError(
                f"strategy={self.strategy!r} starts its decoder from the "
                "encoder's state at every step, which an SRU layer does not "
                "expose (its output is not its state); use cell='lstm', 'gru' "
                "or 'rnn', or strategy='direct'"
            )
        if self.references == "learned" and strategy.decoder is not None:
            raise ValueError(
                f"references='learned' learns the coefficients through the direct "
                f"head's reference inputs; strategy={self.strategy!r}'s decoder "
                "reads them through its recurrence; use strategy='direct', or "
                "references='auto' (coefficients fitted once)"
            )
        reuse = (partial or self.warm_start) and hasattr(self, "params_")
        if reuse:
            fitted_config.check_unchanged(
                self, "partial_fit" if partial else "fit with warm_start=True"
            )
            self._check_same_format(data.schema)
        if not reuse:  # the head decides what the transforms may do
            self.loss_ = "absolute_error" if self.loss == "auto" else self.loss
        head = output_head(self)
        check_counts(head, self.scaler, self.differencing, self.deseasonalize)
        check_count_values(head, data.y)
        n_val = hold_out(
            data,
            self._validation_fraction(),
            strategy.horizon_out(self.horizon),
            horizon=int(self.horizon),
        )
        train_end = data.indptr[:-1] + data.lengths - n_val
        self.__dict__.pop("reference_scores_", None)
        run = self._selection_run(data, strategy, train_end, reuse, partial, n_val)
        contest = self.__dict__.pop("_reference_contest", None) or []
        if (
            len(contest) > 1
            and run[5] in ("refit", "continue")  # the tails select
            and run[4]  # and exist
            and run[6].stopped != "interrupted"  # the user asked to stop
            # and the head reads something known about the target step
            # (covariates, a calendar) to correct its start with
            and run[0].n_known > 0
        ):
            run = self._reference_on_tails(
                data, strategy, train_end, n_val, contest, run
            )
        layout, series, net, theta, has_val, mode, log = run
        use_reference = self._reference_wins(log)
        if use_reference:  # the tails' residuals are then the reference's
            theta[:] = self._reference_theta
            if getattr(self, "_learned", None) is not None:  # as it was scored
                self._learned.reset()
                self._refs = self._learned.state()
        self.__dict__.pop("_reference_theta", None)
        # read every series to its end with the final weights
        # (the stream kernel fills the gaps with the model's own estimates)
        # one reader for both passes below: the rows' gathered features are
        # kept between them (SeriesReader), only the head changes
        reader = SeriesReader(net, layout)
        outputs = self._read_to_ends(reader, theta, series)
        self.combination_weights_ = None
        if self._combines(layout, has_val, mode, log):
            # the tails choose the network's and the references' weights; the
            # combined head is read again so its residuals calibrate intervals
            c, t, mk, steps, origins = combination.tail_forecasts(
                layout, outputs, series
            )
            weights = combination.tail_weights(
                c,
                t,
                mk,
                steps if combination.PER_STEP else None,
                n_steps=layout.horizon_out,
                origins=origins,
            )
            before = theta.copy()
            combination.combine_head(net, theta, layout, weights)
            self.combination_weights_ = weights
            if not same_bits(theta, before):  # else the network alone: as read
                outputs = self._read_to_ends(reader, theta, series)
        if mode in (False, "max_iter") and has_val:
            log.validation_scores.append(
                validation_score(
                    layout,
                    outputs,
                    series,
                    absolute=self.loss_ == "absolute_error",
                    head=output_head(self),
                )
            )
            log.best_validation_score = max(log.validation_scores)
        self.validation_scores_ = list(log.validation_scores)
        self.best_validation_score_ = (
            max(log.validation_scores) if log.validation_scores else None
        )
        self.schema_ = data.schema
        # conformal residuals: the tails this run never trained on
        self._calibrate(strategy, data, outputs, series, n_val)
        if mode in ("refit", "continue") and log.stopped not in (
            "diverged",
            "interrupted",
        ):
            self._finish_on_all(data, strategy, mode, log, n_val, use_reference)
        return self

    def _selection_run(self, data, strategy, train_end, reuse, partial, n_val):
        """Transforms, ``"auto"`` settings, network and the first training run.

        Returns ``(layout, series, net, theta, has_val, mode, log)``; sets
        ``_net``, ``_layout``, ``_scaler`` (and the fitted attributes of
        the run, :meth:`_record_training`).
        """
        layout, series, scaler = self._prepare_series(data, strategy, train_end, reuse)
        dt = np.dtype(self.dtype).type
        net, theta = self._network_and_weights(layout, dt, reuse, series)
        self._net, self._layout, self._scaler = net, layout, scaler
        if not reuse:
            self._fit_config = fitted_config.record(self, self._fit_config_params)
        # a tail without observations scores nothing (early stopping would then
        # keep the initial weights): treat it as no validation
        has_val = bool(n_val.any()) and not np.isnan(data.y[~series.train_rows()]).all()
        mode = self._stopping_mode(reuse, partial, has_val)
        self.__dict__.pop("_reference_score", None)
        self.__dict__.pop("_reference_theta", None)
        log = self._train(theta, series, reuse, partial, has_val, mode)
        return layout, series, net, theta, has_val, mode, log

    def _tail_score(self, log) -> float:
        """The best score the tails gave a selection run (the reference alone too)."""
        return self._best_tail_score(log.validation_scores, log.stopped)

    def _best_tail_score(self, scores, stopped) -> float:
        """The best of the epochs' tail ``scores`` and the reference alone's
        (-inf where nothing finite was scored, or the run diverged or was
        interrupted): what the reference and strategy contests compare."""
        scores = list(scores)
        ref = getattr(self, "_reference_score", None)
        if ref is not None:
            scores.append(ref)
        scores = [s for s in scores if np.isfinite(s)]
        if not scores or stopped in ("diverged", "interrupted"):
            return -np.inf
        return float(max(scores))

    def _reference_on_tails(self, data, strategy, train_end, n_val, contest, run):
        """``reference="auto"`` with a contest: the tails choose the start.

        ``run`` is the selection run from ``contest[0]`` (the in-sample
        choice, already ``reference_``); every other candidate gets its own
        selection run (same seed, same budget), and the one whose tails
        scored best is kept, with everything it fitted (ties: the earlier
        candidate). ``reference_scores_`` records each candidate's score.
        """
        runs = [(self._tail_score(run[6]), dict(self.__dict__), run)]
        for cand in contest[1:]:
            self._reference_override = cand
            try:
                other = self._selection_run(
                    data, strategy, train_end, False, False, n_val
                )
            finally:
                self.__dict__.pop("_reference_override", None)
                self.__dict__.pop("_reference_contest", None)
            runs.append((self._tail_score(other[6]), dict(self.__dict__), other))
        best = max(range(len(runs)), key=lambda i: (runs[i][0], -i))
        self.__dict__.clear()
        self.__dict__.update(runs[best][1])
        self.reference_scores_ = {
            str(c): float(r[0]) for c, r in zip(contest, runs, strict=True)
        }
        return runs[best][2]

    def _combines(self, layout, has_val, mode, log) -> bool:
        """Whether the tails choose a combination with the references.

        Only where early stopping holds tails out (``mode`` "refit",
        "continue" or "holdout"): without it the tails are a validation set
        the user asked for, not a part of the model. A point forecast's head
        only: a distribution's or quantiles' outputs are not one forecast to
        mix, and an encoder-decoder's read-out is not the direct head.
        """
        return (
            self.combination == "auto"
            and bool(layout.n_refs)
            and layout.n_params == 1
            and not layout.quantile_head
            and strategy_of(self).decoder is None
            and has_val
            and mode in ("refit", "continue", "holdout")
            and log.stopped not in ("diverged", "interrupted")
        )

    def _prepare_series(self, data: SeriesSet, strategy, train_end, reuse):
        """Transforms, ``"auto"`` settings and the rows the network reads.

        Fits the seasonal indices and the scaler on the rows before
        ``train_end`` (or reuses the fitted ones), resolves the ``"auto"``
        settings (:meth:`_resolve_auto`), lays out the features and builds
        the scaled series with their references. Returns ``(layout, series,
        scaler)``; sets ``_season``, ``deseasonalized_``, ``_refs`` and
        ``references_`` (and ``season_length_`` on a first fit).
        """
        if reuse:
            scaler, season = self._scaler, self._season
        else:
            self.season_length_ = self._resolve_season_length(data, train_end)
            season = self._fit_season(data, train_end)
            y_ds = season.y(
                data.y,
                np.repeat(np.arange(data.n_series), data.lengths),
                block_steps(data),
            )
            # the scaler first: it refuses values too large to standardize,
            # with the message that says what to do, before any rule reads them
            scaler = Scaler.fit(
                self.scaler, y_ds, data.X, data.indptr, train_end, data.schema.ids,
                codes=code_columns(data.schema),
            )
        self._season = season
        self.deseasonalized_ = season.active > 0
        if not reuse:
            self._resolve_auto(data, strategy, train_end)
        layout = self._feature_layout(data, strategy)
        if strategy.decoder is not None:
            _check_decoder_inputs(self, layout, output_head(self))
        # the kept history (the reference values' seasons back) is sized by
        # season_length alone: refuse before reading a single series
        check_array_budget(
            data.n_series * layout.history,
            layout.n_inputs * 8,
            f"season_length={self.season_length!r} keeps the last "
            f"{layout.history} rows of each of the {data.n_series} series",
            "lower season_length (a season longer than the series has no "
            "past value at its phase to refer to)",
        )
        dt = np.dtype(self.dtype).type
        Y, Z = network_inputs(data, scaler, layout, data.schema.freq, dt, season=season)
        lines = None
        # a continued fit's learned coefficients start where they stopped
        start = self._learned_start() if reuse else None
        if layout.n_refs:
            m = self._seasons(data)[0]
            self._refs, lines = references.fit_state(Y, data.indptr, train_end, m)
        self.references_ = references.NAMES if layout.n_refs else ()
        weights, tail_weights = self._mase_weights(data, scaler, train_end, strategy)
        series = ScaledSeries.build(
            Y,
            Z,
            data.indptr,
            train_end,
            refs=lines,
            weights=weights,
            tail_weights=tail_weights,
        )
        self._learn_references(layout, series, start)
        return layout, series, scaler

    def _mase_weights(self, data: SeriesSet, scaler, train_end, strategy):
        """``(weights, tail_weights)`` of :data:`.auto.MASE_WEIGHTS` (None: off).

        Each series' (target's) :func:`.auto.mase_weights` from its level
        scale (``scaler``) and its change scale on the rows before
        ``train_end``, at the first fitted season; for a point head trained
        with the absolute error and a head without a decoder only.
        """
        mode = auto.MASE_WEIGHTS
        if (
            not mode
            or self.loss_ != "absolute_error"
            or output_head(self).kind != "point"
            or strategy.decoder is not None
        ):
            return None, None
        d = auto.change_scales(data.y, data.indptr, train_end, self._seasons(data)[0])
        w = auto.mase_weights(scaler.y_scale, d)
        loss_w = None if mode == "tails" else w
        return loss_w, (w if mode in ("all", "tails") else None)

    def _learned_start(self):
        """The learned coefficients a continued fit starts from (None: none)."""
        if self.references != "learned" or not hasattr(self, "_refs"):
            return None
        return np.array(self._refs.params)

    def _learn_references(self, layout, series, start=None) -> None:
        """``references="learned"``: the coefficients of ``series``' references
        (``_learned``, :class:`~.learned.LearnedReferences`), else None."""
        self._learned = None
        if self.references == "learned" and layout.n_refs:
            if start is not None and start.shape != self._refs.params.shape:
                start = None
            self._learned = LearnedReferences(layout, series, self._refs, start)

    def _reference_wins(self, log) -> bool:
        """Whether the tails scored the reference alone above every epoch."""
        ref = getattr(self, "_reference_score", None)
        scores = log.validation_scores
        return (
            ref is not None
            and bool(scores)
            and np.isfinite(ref)
            and ref >= max(scores)
            and log.stopped not in ("diverged", "interrupted")
        )

    def _validation_fraction(self):
        vf = self.validation_fraction
        return "auto" if isinstance(vf, str) else float(vf)

    def _stopping_mode(self, reuse, partial, has_val):
        """What ``early_stopping`` means for this fit.

        ``"refit"``/``"continue"``: select the epochs on the tails, then train
        on every row; ``"holdout"``: stop on the tails and keep the best
        weights (the tails never trained on); ``"max_iter"``: no tails to
        select on (or a continued fit) with a refit mode asked; False: no
        early stopping.
        """
        es = self.early_stopping
        if not isinstance(es, str) and not es:
            return False
        if es == "holdout":
            return "holdout" if has_val else False
        if reuse or partial:
            # a continued fit keeps the old meaning: stop on the tails
            return "holdout" if has_val else False
        if not has_val:
            return "max_iter"
        return "continue" if es == "continue" else "refit"

    def _resolve_auto(self, data: SeriesSet, strategy, train_end) -> None:
        """Fix the ``"auto"`` settings from the training rows (fitted attributes)."""
        self._decide_auto(self._auto_statistics(data, strategy, train_end))

    def _auto_statistics(self, data: SeriesSet, strategy, train_end) -> dict:
        """What the ``"auto"`` rules read from the training rows.

        Counts and sums over series (and the series' lengths), so that the
        statistics of shards of a collection merge into those of the whole
        (:func:`merge_auto_statistics`) and every shard decides alike.
        Reads the resolved seasons (``season_length_``).
        """
        seasons = strategy.seasons(self._seasons(data))
        stats = {
            "season_length": tuple(int(m) for m in self._seasons(data)),
            "seasons": tuple(int(m) for m in seasons),
            "lengths": np.asarray(data.lengths),
            "held_out": int(np.sum(data.lengths - (train_end - data.indptr[:-1]))),
            "rows": int(data.lengths.sum()),
        }
        # a count head never differences (changes of counts are not counts)
        if self.differencing == "auto" and not output_head(self).counts:
            first = seasons[0] if seasons else 1
            stats["votes"] = auto.persistence_votes(
                data.y,
                data.indptr,
                train_end,
                season=min((m for m in seasons if m > 1), default=first),
            )
        if seasons and self.reference == "auto":
            stats["reference_sums"] = auto.reference_error_sums(
                data.y,
                data.indptr,
                train_end,
                auto.reference_candidates(seasons),
                int(self.horizon),
            )
        return stats

    def _decide_auto(self, stats: dict) -> None:
        """The fitted ``"auto"`` settings from :meth:`_auto_statistics`."""
        seasons = stats["seasons"]
        if self.differencing == "auto" and output_head(self).counts:
            self.differencing_ = False  # changes of counts are not counts
        elif self.differencing == "auto":
            self.differencing_ = auto.differencing_from_votes(*stats["votes"])
        else:
            self.differencing_ = bool(self.differencing)
        if not seasons:  # recursive: its inputs carry the last value
            self.reference_ = None
        elif self.reference == "seasonal":
            self.reference_ = int(seasons[0])
        elif self.reference == "last":
            self.reference_ = 1
        else:
            total, count = stats["reference_sums"]
            with np.errstate(invalid="ignore", divide="ignore"):
                err = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            candidates = auto.reference_candidates(seasons)
            self.reference_ = auto.reference_from_errors(candidates, err)
            forced = getattr(self, "_reference_override", None)
            if forced is not None:  # a contest's other candidate
                self.reference_ = forced
            elif REFERENCE_CONTEST:
                # the fit trains each and lets the tails choose
                # (:meth:`_reference_on_tails`; not over shards)
                self._reference_contest = auto.reference_contest(candidates, err)
        if self.reference_ is None or self.reference == "seasonal":
            self.seasons_ = tuple(seasons)  # as given: the first one starts
        else:
            self.seasons_ = auto.order_seasons(tuple(seasons), self.reference_)
        self.bptt_length_ = (
            auto.choose_bptt_length(stats["lengths"])
            if self.bptt_length == "auto"
            else int(self.bptt_length)
        )
        self.short_series_ = auto.is_short(stats["lengths"])
        self.hidden_size_ = auto.choose_hidden_size(self.hidden_size, stats["lengths"])
        self.learning_rate_ = (
            auto.choose_learning_rate(stats["lengths"])
            if self.learning_rate_init == "auto"
            else float(self.learning_rate_init)
        )
        self.validation_fraction_ = (
            float(self.validation_fraction)
            if not isinstance(self.validation_fraction, str)
            else float(stats["held_out"] / max(1, stats["rows"]))
        )

    def _choose_strategy(self, schema) -> str:
        """``strategy`` resolved (``strategy_``): :func:`auto.choose_strategy`
        for ``"auto"`` (or the contender a strategy contest fits), else the
        value given."""
        if self.strategy != "auto":
            return self.strategy
        override = getattr(self, "_strategy_override", None)
        if override is not None:
            return override
        return auto.choose_strategy(*self._strategy_facts(schema))

    def _strategy_facts(self, schema) -> tuple:
        """What ``strategy="auto"`` reads: known covariates, embedded codes,
        a point head, the cell and the horizon (:func:`auto.choose_strategy`)."""
        roles = embedding_layout(self, schema, STRATEGIES["direct"])
        loss = "absolute_error" if self.loss == "auto" else self.loss
        head = OutputHead.of(loss, getattr(self, "quantiles", None))
        return (
            roles["n_covariates"],
            bool(roles["code_columns"]) or roles["id_code"],
            head.kind == "point",
            self.cell,
            self.horizon,
        )

    def _resolve_season_length(self, data: SeriesSet, train_end) -> tuple[int, ...]:
        """``season_length`` resolved (``season_length_``): given, inferred or detected.

        ``"auto"`` takes the seasons of a pandas frequency; without one (an
        integer index, positions) the seasons the training rows show
        (:func:`auto.detect_seasons`). ``(1,)`` when there is none.
        """
        seasons = resolve_seasons(self.season_length, data.schema.freq)
        if self._detects_seasons(data.schema.freq):
            seasons = auto.detect_seasons(data.y, data.indptr, train_end) or (1,)
        return tuple(int(m) for m in seasons)

    def _detects_seasons(self, freq) -> bool:
        """Whether ``season_length`` is detected from the data (``"auto"``
        and no season from the frequency)."""
        return isinstance(self.season_length, str) and resolve_seasons(
            self.season_length, freq
        ) == (1,)

    def _seasons(self, data: SeriesSet) -> tuple[int, ...]:
        """The fitted seasons (``season_length_``; files of earlier versions:
        ``season_length`` resolved from the frequency, as they were fitted)."""
        fitted = getattr(self, "season_length_", None)
        if fitted:
            return tuple(fitted)
        return resolve_seasons(self.season_length, data.schema.freq)

    def _fit_season(self, data: SeriesSet, train_end) -> Seasonal:
        """The seasonal indices ``deseasonalize`` divides out (:class:`Seasonal`)."""
        m = self._seasons(data)[0]
        # divided or shifted counts are no longer counts: off for a count head
        mode = None if output_head(self).counts else self.deseasonalize
        return Seasonal.fit(mode, m, data.y, data.indptr, train_end)

    def _feature_layout(self, data: SeriesSet, strategy) -> FeatureLayout:
        """What the network reads and predicts for these series and settings."""
        schema = data.schema
        n_calendar = 0
        holidays = self._holiday_spec(schema)
        if self.calendar_features and schema.index_type in ("datetime", "period"):
            n_calendar = calendar_features(data.time[:1], schema.freq, holidays).shape[
                1
            ]
        return FeatureLayout(
            schema.n_targets,
            n_calendar=n_calendar,
            horizon_out=strategy.horizon_out(self.horizon),
            seasons=self.seasons_,
            relative=bool(self.differencing_),
            holidays=holidays,
            n_refs=self._n_references(strategy),
            **head_fields(output_head(self)),
            **embedding_layout(self, schema, strategy),
        )

    def _holiday_spec(self, schema):
        """``holidays`` as plain metadata (a code, or ISO dates), checked."""
        spec = self.holidays
        if spec is None:
            return None
        if not self.calendar_features or schema.index_type not in (
            "datetime",
            "period",
        ):
            raise ValueError(
                "holidays are calendar features of a DatetimeIndex: set "
                "calendar_features=True and index the series by time"
            )
        holiday_dates(spec)  # fails here, before training, if it cannot resolve
        if isinstance(spec, str):
            return spec
        return tuple(d.isoformat() for d in sorted(holiday_dates(spec)))

    def _start_share(self, layout, series):
        """Seasonal naive's share of the head's start beside the references."""
        if head.SEASONAL_SHARE == "auto":
            return head.seasonal_share(layout, series, self._n_lead())
        return float(head.SEASONAL_SHARE)

    def _n_references(self, strategy) -> int:
        """Statistical references of the head (``references``; direct only)."""
        if self.references in ("auto", "learned") and strategy.auto_references:
            return len(references.NAMES)
        return 0

    def _network_and_weights(self, layout, dt, reuse, series=None):
        if reuse:
            if self._layout != layout:
                raise ValueError(
                    "warm_start/partial_fit data has another layout than fit"
                )
            return self._net, self.params_.copy()
        net = build_network(
            self.cell,
            self.hidden_size_,
            self.num_layers,
            self.nonlinearity,
            layout,
            dt,
            decoder=strategy_of(self).decoder,
        )
        theta = net.init_params(np.random.default_rng(self._seed()))
        unknown_rows_as_mean(net, theta, layout)
        share = None
        if layout.n_refs and layout.seasons:
            share = self._start_share(layout, series)
        start_at_reference(net, theta, layout, share, n_lead=self._n_lead())
        if series is not None:  # a likelihood / quantile head: the spread too
            start_spread(net, theta, layout, series, output_head(self))
        return net, theta

    def _n_lead(self) -> int:
        """Leading seasons the head's start averages (a mix reference: all its lags)."""
        return max(1, len(auto.reference_lags(getattr(self, "reference_", None))))

    def _epochs(self, series: ScaledSeries, lanes, selecting: bool) -> int:
        """``max_iter`` or, for ``"auto"``, the epochs of :func:`auto.choose_epochs`.

        ``selecting``: the budget of a run the tails stop (three times as many).
        """
        if self.max_iter != "auto":
            return int(self.max_iter)
        return auto.choose_epochs(
            steps_per_epoch(series, self.bptt_length_, self.batch_size, lanes),
            selecting=selecting,
        )

    def _train(
        self,
        theta,
        series: ScaledSeries,
        reuse,
        partial,
        has_val,
        mode,
        n_epochs=None,
        optimizer=None,
    ):
        """The epochs: truncated BPTT over ``series``, in place on ``theta``.

        ``mode`` (:meth:`_stopping_mode`) says whether the tails stop training;
        ``n_epochs`` overrides the epoch count (the final run of the refit
        protocol), ``optimizer`` continues an optimizer's state.
        """
        net, layout = self._net, self._layout
        opt = optimizer
        if opt is None:
            opt = (
                self._optimizer_for_training()
                if reuse
                else make_optimizer(
                    self.solver, net.size, self._learning_rate(), net.dtype
                )
            )
        reader = SeriesReader(net, layout)
        # references="learned": the coefficients trained at the end of the
        # vector run_epochs trains (the weights it keeps keep theirs)
        learned, trained, net_theta = self._learned_for(series), theta, theta
        if learned is not None:
            trained = np.concatenate([theta, np.zeros(learned.size, theta.dtype)])
            net_theta = trained[: len(theta)]
            learned.bind(trained[len(theta) :])
        epoch = self._make_epoch(net_theta, series, opt, reader, reuse)
        if learned is not None:
            epoch.refresh_references()  # the lines of the coefficients as trained

        def validate_theta(th, label):
            return self._validation_sums(
                th, series, reader, keep=label, reference=label == "reference"
            )[0]

        def validate():
            return validate_theta(net_theta, "epoch")

        early = mode in ("holdout", "refit", "continue") and has_val
        if mode in ("refit", "continue") and has_val and not reuse:
            # "epoch 0": the reference alone, the forecast training must beat
            self._reference_theta = reference_only(net, net_theta)
            self._reference_score = float(
                validate_theta(self._reference_theta, "reference")
            )
        if partial:
            max_iter = 1
        elif n_epochs is not None:
            max_iter = int(n_epochs)
        else:
            max_iter = self._epochs(series, epoch.lanes, selecting=early)
        log = run_epochs(
            trained,
            epoch,
            max_iter=max_iter,
            tol=self.tol,
            n_iter_no_change=self._patience(early, record=n_epochs is None),
            early_stopping=early,
            validate=validate if early else None,
            verbose=self.verbose,
            log=self._log if reuse and hasattr(self, "_log") else TrainingLog(),
            desc="RNNForecaster",
            # an epoch count chosen from the data (auto, or by the tails) is
            # the budget, not a failure to converge
            warn_max_iter=not partial and n_epochs is None and self.max_iter != "auto",
        )
        if learned is not None:  # the kept weights' coefficients, their lines
            theta[:] = net_theta
            epoch.theta = theta
            learned.refresh(readers=(reader,))
            learned.unbind()
            self._refs = learned.state()
        self._record_training(opt, log, epoch, max_iter)
        return log

    def _patience(self, early: bool, record: bool = True) -> int:
        """``n_iter_no_change`` resolved (:func:`auto.choose_patience`).

        ``record``: kept as ``n_iter_no_change_`` (the run that decides how
        long to train, not the refit's fixed epochs).
        """
        patience = auto.choose_patience(
            self.n_iter_no_change, early, getattr(self, "short_series_", False)
        )
        if record:
            self.n_iter_no_change_ = patience
        return patience

    def _record_training(self, opt, log, epoch, max_iter):
        """The fitted attributes of a training run (``params_``, curves, ...)."""
        self._optimizer = opt
        self._log = log
        # never read in training
        unknown_rows_as_mean(self._net, epoch.theta, self._layout)
        self.params_ = epoch.theta
        self.n_iter_ = log.n_iter
        self.n_epochs_ = max_iter
        self.t_ = opt.t * epoch.n_lanes * epoch.window
        self.loss_curve_ = list(log.loss_curve)
        self.best_loss_ = log.best_loss
        self.grad_norm_curve_ = epoch.grad_norms
        if epoch.dh_norms:
            self.dh_norm_ = np.mean(np.stack(epoch.dh_norms), axis=0)
        self.stopped_ = log.stopped

    def _validation_sums(self, theta, series, reader, keep=None, reference=False):
        """``(score, num, den)`` of :func:`validation_sums` for weights ``theta``.

        ``keep``: a label under which the read is offered for the fit's
        read to the ends (:meth:`SeriesReader.keep_read`). ``reference``:
        ``theta`` is :func:`reference_only`'s, whose outputs the head gives
        without the recurrent layers (:meth:`SeriesReader.reference_tails`).
        """
        # the tails' origins only: what validation_sums reads
        decode_from = series.train_end_series - 1
        outputs = reader.reference_tails(theta, series) if reference else None
        read = None
        if outputs is None:
            # the stream kernel's packed weights: for inputs with gaps only
            # (the training inputs are imputed: none, as a rule)
            pack = (
                InferencePack(self._net, theta)
                if np.isnan(series.inputs).any()
                else None
            )
            read = reader.read_all(
                theta, pack, series.inputs, series, series.Y, decode_from=decode_from
            )
            outputs = read[0]
        num, den = validation_sums(
            self._layout,
            outputs,
            series,
            absolute=self.loss_ == "absolute_error",
            head=output_head(self),
        )
        score = -num / den if den else float("nan")
        if keep is not None and read is not None:
            reader.keep_read(keep, score, theta, series, decode_from, read)
        return score, num, den

    def _make_epoch(self, theta, series, opt, reader, reuse) -> Epoch:
        """The epochs of truncated BPTT over ``series``, in place on ``theta``."""
        net, layout = self._net, self._layout
        rng = np.random.default_rng(self._seed(offset=1))
        T = int(self.bptt_length_)
        lanes = cut_lanes(series, T, self.batch_size) if self.stateful else None
        return Epoch(
            net,
            theta,
            opt,
            layout,
            series,
            lanes,
            bptt_length=T,
            batch_size=self.batch_size,
            loss_fn=(
                output_head(self).training_loss()
                if series.weights is None
                else weighted_absolute_error
            ),
            rng=rng,
            step_options=dict(
                clip_norm=self.clip_norm, dropout=self.dropout, alpha=self.alpha
            ),
            impute=reader.impute,
            # warm_start continues the curves, as n_iter_ and loss_curve_ do
            grad_norms=list(getattr(self, "grad_norm_curve_", [])) if reuse else [],
            learned=self._learned_for(series),
            readers=(reader,),
        )

    def _learned_for(self, series):
        """The learned references of ``series`` (None: not learned)."""
        learned = getattr(self, "_learned", None)
        return learned if learned is not None and learned.series is series else None

    def _finish_on_all(
        self, data: SeriesSet, strategy, mode, selection, n_val, use_reference
    ):
        """The refit protocol's final training on every row (tails included).

        ``"refit"``: fresh weights (the same seed) and a scaler fitted on every
        row, trained for the selected number of epochs. ``"continue"``: the
        selected weights and their optimizer train on every row for the tails'
        share of the selected epochs (at least one). The selection run's
        validation scores and conformal residuals are kept.
        """
        scores, best = self.validation_scores_, self.best_validation_score_
        conformal = self.conformal_scores_, self.conformal_errors_
        n_best = 0 if use_reference else int(np.argmax(selection.validation_scores)) + 1
        self.selected_epochs_ = n_best
        dt = np.dtype(self.dtype).type
        season = self._season  # "continue": the selection run's (training rows)
        if mode == "refit":  # as a fresh fit on every row: indices, scaler, refs
            season = self._fit_season(data, data.indptr[1:])
            self._season = season
            self.deseasonalized_ = season.active > 0
            y_ds = season.y(
                data.y,
                np.repeat(np.arange(data.n_series), data.lengths),
                block_steps(data),
            )
            scaler = Scaler.fit(
                self.scaler,
                y_ds,
                data.X,
                data.indptr,
                data.indptr[1:],
                data.schema.ids,
                codes=code_columns(data.schema),
            )
            theta, optimizer = None, None
            n_epochs = n_best
        else:
            scaler, theta, optimizer = self._scaler, self.params_, self._optimizer
            share = float(n_val.sum()) / max(1, int(data.lengths.sum() - n_val.sum()))
            n_epochs = max(1, int(np.ceil(n_best * share))) if n_best else 0
        Y, Z = network_inputs(
            data, scaler, self._layout, data.schema.freq, dt, season=season
        )
        lines = None
        # "continue": the learned coefficients go on from the selection's
        start = self._learned_start() if mode == "continue" else None
        if self._layout.n_refs:  # the references refitted on every row too
            m = self._seasons(data)[0]
            self._refs, lines = references.fit_state(Y, data.indptr, data.indptr[1:], m)
        weights, _ = self._mase_weights(data, scaler, data.indptr[1:], strategy)
        series = ScaledSeries.build(Y, Z, data.indptr, refs=lines, weights=weights)
        self._learn_references(self._layout, series, start)
        if theta is None:
            net, theta = self._network_and_weights(
                self._layout, dt, reuse=False, series=series
            )
            self._net = net
            if use_reference:  # no epoch beat it: the reference is the model
                theta[:] = reference_only(net, theta)
        self._scaler = scaler
        log = self._train(
            theta,
            series,
            False,
            False,
            False,
            False,
            n_epochs=n_epochs,
            optimizer=optimizer,
        )
        if mode == "refit" and self.combination_weights_ is not None:
            # the selection run's weights ("continue" trained the combined head on)
            combination.combine_head(
                self._net, theta, self._layout, self.combination_weights_
            )
        self._read_to_ends(SeriesReader(self._net, self._layout), theta, series)
        if log.stopped == "max_iter":  # ran the selected epochs, as intended
            self.stopped_ = selection.stopped
        self.validation_scores_, self.best_validation_score_ = scores, best
        self.conformal_scores_, self.conformal_errors_ = conformal

    def _learning_rate(self) -> float:
        """``learning_rate_init``, or for ``"auto"`` the fitted ``learning_rate_``."""
        if self.learning_rate_init != "auto":
            return float(self.learning_rate_init)
        return float(getattr(self, "learning_rate_", auto.LEARNING_RATE))

    def _optimizer_for_training(self):
        """The optimizer a warm fit or ``partial_fit`` continues with.

        The fitted one (its moments and step count) with the current
        ``learning_rate_init`` -- training settings take effect at the next
        training call -- or a fresh one when ``solver`` changed since.
        """
        net = self._net
        opt = getattr(self, "_optimizer", None)
        if opt is None or not is_solver(opt, self.solver):
            opt = make_optimizer(
                self.solver, net.size, self._learning_rate(), net.dtype
            )
        else:
            opt.learning_rate = self._learning_rate()
        self._optimizer = opt
        return opt

    def _calibrate(self, strategy, data, outputs, series, n_val, piece=None):
        """Conformal residuals from the held-out tails (never trained on).

        A pool above :func:`~tsrnn.evaluation.conformal.pool_limit` rows keeps
        a seeded sample of that many (the rows of the smallest
        :func:`~tsrnn.evaluation.conformal.pool_keys`, in their order; below
        it, every row). ``piece``: the number of this part of a collection
        calibrated in parts (:mod:`.shards`; None: the whole collection, piece
        0); the sampling keys of the rows kept are then returned, to merge the
        parts' samples. Returns None otherwise.
        """
        h, k = int(self.horizon), self._layout.n_targets
        self.conformal_scale_ = series_scale(data)
        forget_online_conformal(self)  # a new pool: this fit's
        errors = strategy.calibrate(self, data, outputs, series, n_val)
        errors = np.concatenate(errors) if errors else np.empty((0, h, k))
        limit, keys = pool_limit(h), None
        if piece is not None or len(errors) > limit:  # else no draw is made
            keys = pool_keys(self._seed(), 0 if piece is None else piece, len(errors))
            errors, keys = sample_pool(errors, keys, limit)
        self.conformal_errors_ = errors
        self.conformal_scores_ = np.abs(self.conformal_errors_)
        if not len(self.conformal_scores_):
            fraction = self.validation_fraction
            if isinstance(fraction, str):  # "auto": see _validation_fraction
                self._conformal_note = (
                    "no held-out tail to calibrate on: the series are too short for "
                    f"a tail of {h + 1} rows beside their training part"
                )
            else:
                shortest = int(np.ceil((h + 1) / max(fraction, 1e-9)))
                self._conformal_note = (
                    "no held-out tail to calibrate on: set validation_fraction > 0 "
                    f"and give series longer than {shortest} rows"
                )
        return keys if piece is not None else None


def _check_decoder_inputs(model, layout: FeatureLayout, head) -> None:
    """Refuse what an encoder-decoder does not read yet, naming the fix.

    Its decoder reads one point forecast per step and the known numeric
    features; embedded codes and distribution or quantile outputs have no
    place in it (yet).
    """
    if layout.n_codes:
        raise ValueError(
            f"strategy={model.strategy!r} does not read categorical covariates "
            "or the series id (embeddings); use strategy='direct', or encode "
            "the categories as numbers (one-hot columns)"
        )
    if head.kind != "point":
        raise ValueError(
            f"strategy={model.strategy!r} forecasts a point per step, not "
            f"loss={head.loss!r}'s {head.kind} outputs; use strategy='direct' "
            "or 'recursive' with this loss, or a point loss with seq2seq "
            "(conformal intervals)"
        )


def merge_auto_statistics(parts) -> dict:
    """The :meth:`FitsForecaster._auto_statistics` of shards, as of the whole.

    Counts and sums add up, lengths are concatenated (in shard order); every
    shard must have found the same seasons (the same frequency).
    """
    parts = list(parts)
    seasons = {p["seasons"] for p in parts}
    if len(seasons) != 1:
        raise ValueError(
            f"the shards found different seasonal periods {sorted(seasons)}: their "
            "time axes have different frequencies; pass freq= (and season_length=) "
            "explicitly"
        )
    lengths_found = {p.get("season_length") for p in parts}
    if len(lengths_found) != 1:
        raise ValueError(
            f"the shards resolved different season lengths {sorted(lengths_found)}"
            ": pass season_length= explicitly"
        )
    out = {
        "season_length": parts[0].get("season_length"),
        "seasons": parts[0]["seasons"],
        "lengths": np.concatenate([p["lengths"] for p in parts]),
        "held_out": sum(p["held_out"] for p in parts),
        "rows": sum(p["rows"] for p in parts),
    }
    if "votes" in parts[0]:
        out["votes"] = tuple(
            int(sum(v)) for v in zip(*(p["votes"] for p in parts), strict=True)
        )
    if "reference_sums" in parts[0]:
        out["reference_sums"] = (
            np.sum([p["reference_sums"][0] for p in parts], axis=0),
            np.sum([p["reference_sums"][1] for p in parts], axis=0),
        )
    return out
