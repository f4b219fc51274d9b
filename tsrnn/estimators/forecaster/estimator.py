"""``RNNForecaster``: a stateful truncated-BPTT recurrent forecaster for series.

Training (``docs/MATH.md``, "Truncated BPTT with carried state"): the training
rows are cut into ``batch_size`` contiguous streams ("lanes"); every epoch walks them in
windows of ``bptt_length`` steps with the state carried from window to window as
a constant (no gradient across the boundary), reset where a stream starts and at
every epoch; the loss is taken at every step (teacher forcing) on the next
``horizon`` values. Several series (long format) are cut the same way, each series
piece starting on a window boundary with a zero state, so one global model is
trained over all of them with per-series scaling.

Settings left at ``"auto"`` are fixed from the training data at the start of
``fit`` (rules in :mod:`.auto`, fitted attributes ``differencing_``,
``reference_``, ``bptt_length_``, ``n_epochs_``, ...). With the default early
stopping (the refit protocol) a selection run holds the tail of every series
out, picks the number of epochs on it and keeps its residuals for the conformal
intervals; the final model then trains on every row, the recent past included.
After ``fit`` the state has read every series to its end, so
``predict`` forecasts what follows; ``update`` streams new observations into the
state at a cost proportional to their number.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..._constraints import Interval, Options, StrOptions, validate_params
from ...data import check_horizon, to_series_set
from ...data.past import join_past
from ...engine import CELLS
from ...engine.threads import fewer_splits, single_threaded_blas
from ...kernels._jit import announce_compilation
from ...evaluation import ForecasterMixin
from ...persist import Persistent, register
from .. import fitted_config
from ..refused import ExplainsRefusedParameters
from . import state
from .ensembling import CombinesMembers
from .fitting import FitsForecaster
from .likelihood import LIKELIHOODS, check_count_values, output_head
from .probabilistic import ForecastsDistributions
from .strategies import STRATEGIES
from .streaming import StreamsForecaster

#: A fit asks this many times the engine's work of each thread before it splits
#: a call between threads (:func:`~tsrnn.engine.threads.fewer_splits`; the
#: measurements: there). Where the calls split, not what they compute.
FIT_SPLIT_FACTOR = 2


@register
class RNNForecaster(
    CombinesMembers,
    ExplainsRefusedParameters,
    FitsForecaster,
    StreamsForecaster,
    ForecastsDistributions,
    Persistent,
    ForecasterMixin,
    BaseEstimator,
):
    """Recurrent forecaster trained by stateful truncated BPTT, with streaming updates.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn", "sru"}, default="lstm"
        Recurrent cell (``tsrnn.nn`` twins of torch's).
    hidden_size : int or "auto", default="auto"
        Units per layer. ``"auto"``: 32 for a collection of short series
        (median length below 90.5 rows), else 64 (see Notes); fitted:
        ``hidden_size_``.
    num_layers : int, default=1
        Stacked layers.
    dropout : float, default=0.0
        Dropout between layers during training.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        For ``cell="rnn"``.
    horizon : int, default=1
        Steps forecast by ``predict`` (and trained for, with ``"direct"``).
    strategy : {"auto", "direct", "recursive", "seq2seq", "seq2seq_teacher", \
            "seq2seq_free"}, default="auto"
        ``"auto"``: where the model is one the encoder-decoder runs (a point
        loss, no embedded codes, not SRU, ``horizon`` above 1),
        ``"seq2seq"`` when ``fit`` gets numeric covariates known in advance
        (``X`` columns neither past-only nor categorical), and without them,
        where at least half of the series were deseasonalised and the median
        series is at least 1000 rows long, a contest on the held-out tails:
        ``"direct"`` and ``"seq2seq"`` each fitted in full (same seed), the
        better tail score kept (``strategy_scores_``; it costs both fits);
        ``"direct"`` otherwise. A fit over shards or Dask workers:
        ``"direct"`` (see ``docs/strategies.md``).
        ``"direct"``: a multi-horizon head predicts all ``horizon`` steps at once
        from the state and the known future (covariates, calendar, seasonal lag).
        ``"recursive"``: a one-step head whose prediction is fed back as the next
        input.
        ``"seq2seq"``: an encoder-decoder. The stateful network above is the
        encoder; at every forecast origin a decoder RNN (same cell, size and
        layers) starts from the encoder's state there and unrolls over the
        ``horizon`` steps, reading at each step what is known about it in
        advance (the covariates ``X`` of that step, the calendar features, the
        seasonal reference values; without ``X`` the calendar and references
        alone) and the value of the step before; a read-out shared by the
        steps gives each forecast. ``"seq2seq_teacher"`` trains with the true
        previous value (teacher forcing), ``"seq2seq_free"`` with the
        decoder's own forecast of it (gradients through that feedback);
        ``"seq2seq"`` is the free-running one (measured better: a
        teacher-forced decoder never learns to read its own errors). A
        forecast always reads its own previous values. Needs ``cell`` "lstm", "gru" or "rnn"; forecasts
        at most ``horizon`` steps. See ``docs/strategies.md``.
    bptt_length : int or "auto", default="auto"
        Steps per truncated-BPTT window (``"auto"``: see Notes; 32 for long
        series, 8 for short ones). A series shorter than that is trained
        on as one window (full BPTT); windows never outgrow the longest training
        part, so a value beyond the data costs no memory. The shortest series
        ``fit`` accepts has ``horizon + 1`` rows in its training part (2 for
        ``"recursive"``).
    stateful : bool, default=True
        Carry the state across windows (``False``: random windows from a zero
        state after a burn-in of ``bptt_length`` steps that feed the state but not
        the loss).
    season_length : int, tuple of int, "auto" or None, default="auto"
        Seasonal period(s) of the direct head's reference values (the last value
        at the same phase, with what was known about that step); ``reference``
        says which one the head starts from. The recursive strategy
        has none: it feeds its own predictions back as inputs instead.
        ``"auto"`` infers them from a pandas frequency: a day and a week for
        sub-daily data (48 and 336 for 30 min), 7 daily, 5 business-daily, 12
        monthly, 4 quarterly; without a frequency (an integer index, positions)
        it finds them in the training rows (significant peaks of the
        autocorrelation, see Notes). None uses the last value (naive).
        Fitted: ``season_length_``.
    reference : {"auto", "last", "seasonal"}, default="auto"
        The forecast the direct head starts from (and learns corrections to):
        ``"last"`` the last value, ``"seasonal"`` the seasonal naive forecast of
        the first ``season_length`` (the behaviour before ``"auto"``), ``"auto"``
        the one of these (last value, any season's seasonal naive, or with two
        seasons or more the mean of their seasonal naive forecasts) with the
        smallest in-sample error over the horizon; where the mix is a
        candidate and covariates or a calendar are known ahead, the two best
        in-sample are each trained and the held-out tails choose (see
        Notes). Fitted: ``reference_`` (its lag, 1 the last value, or the
        tuple of the averaged seasons), ``seasons_`` and, after a contest,
        ``reference_scores_``.
    differencing : bool or "auto", default="auto"
        Model the changes ``y_t - y_{t-1}`` instead of the levels: the network
        reads and forecasts changes, and forecasts are summed back onto the
        last observed value. Use it for trending series and for a global model
        over series of different levels (M3, Tourism: the level-based model
        reverts towards each series' training mean at the end of a trend).
        A change next to a missing step is missing too; after trailing missing
        steps the forecast starts from the last observed value. ``"auto"``:
        when the series are persistent (see Notes); fitted: ``differencing_``.
    deseasonalize : "auto" or None, default="auto"
        ``"auto"``: per series, when M4's seasonality test (autocorrelation at
        the first ``season_length`` ``m > 1``, 90 %) passes on its training
        rows and they hold at least three seasons, divide the series by its
        classical seasonal indices (centred moving averages; subtracted
        instead for a series that is not strictly positive) before scaling,
        and multiply forecasts and intervals back, the phase carried through
        ``update``. A series that test rejects is tested again on its
        detrended levels (an analysis of variance by phase at 99 %,
        ``auto.season_in_levels``: a smooth cycle over a few seasons, which
        M4's autocorrelation bound misses). A persistent series (the
        differencing rule's own vote)
        passes the levels' test by its persistence alone: it keeps the
        indices only where its first differences differ by phase too (an
        F test at 90 %, ``auto.season_in_changes``). ``deseasonalized_``
        says which series were. None: never.
    references : "auto", "learned" or None, default="auto"
        Statistical references for the direct head: per forecast step, the
        forecasts of simple exponential smoothing, the damped trend, the
        optimised Theta method (its own ``alpha`` and slope weight ``1 -
        1/theta`` per series: :func:`tsrnn.smoothing.fit_theta`) and drift,
        fitted per series on its training rows and run over
        the series as the network reads it (deseasonalised, scaled; relative
        to the origin with ``differencing``), as extra inputs of the head,
        which starts at the seasonal naive forecast and learns how much of
        each reference to use (starting at the references' equal mix instead
        was measured worse on M3/Tourism, see
        :data:`~tsrnn.estimators.forecaster.head.SEASONAL_SHARE`).
        ``"auto"``: on for ``strategy="direct"`` and the ``"seq2seq"`` ones
        (the decoder reads them per step), off for ``"recursive"``;
        None: off (the seasonal references only, as earlier versions).
        ``"learned"``: as ``"auto"``, the coefficients (SES's ``alpha``, the
        damped trend's ``alpha``, ``beta``, ``phi``, Theta's ``alpha`` and
        slope weight) of every series then
        learned by gradient jointly with the network, from their classical
        fit (Smyl's ES-RNN idea; ``strategy="direct"`` only): fitted
        ``reference_params_``. See ``docs/defaults.md``, "references".
    combination : "auto" or None, default="auto"
        ``"auto"``: where early stopping holds tails out (``"auto"``,
        ``"refit"``, ``"continue"``, ``"holdout"``) and the head reads the
        statistical references, the tails choose convex weights of the
        network's forecast and each reference's (multiples of 0.1, least
        absolute error over every tail origin and step, one set per target;
        taken only when its gain over the network alone exceeds one standard
        error of the per-point differences) and the head is rewritten to forecast that combination (it is linear
        in its inputs: the model stays an ordinary model for ``predict``,
        ``update`` and ``save``). Where the network is best on the tails
        nothing changes. Fitted: ``combination_weights_``. None: the network
        alone (as earlier versions). See Notes.
    calendar_features : bool, default=True
        Add cyclic time-of-day / day-of-week / day-of-year features when the
        series has a DatetimeIndex.
    holidays : str or list of dates, optional
        Public holidays as known-future features (two columns: the day is a
        holiday; the day is next to one): a country code of the ``holidays``
        package (``"AU"``, ``"AU-VIC"``, ``"US-CA"``; ``pip install holidays``)
        or the dates themselves. Needs a DatetimeIndex and
        ``calendar_features=True``. Measured on the shipped Victoria demand
        (``benchmarks/RESULTS.md``): a year of training data holds each holiday
        once, so the network learns little from them; a workday covariate that
        marks them does as well.
    past_covariates : str, int or list of them, optional
        Covariates observed only up to each step (another sensor, a traded
        volume, a market index): column names of ``X`` (or of the extra
        columns of a long ``y``; positions for an array ``X``). ``fit`` and
        ``update`` read them with the other covariates; ``predict`` never asks
        for them (an ``X`` that holds them anyway is read without them), and
        the head never reads them about future steps: the state at the
        origin has read them. Needs ``strategy="direct"`` (a recursive
        forecast would have to read their future). See
        ``docs/covariates.md``.
    embedding_dims : int or dict, optional
        Widths of the learned embeddings of categorical covariates (columns
        of dtype ``category``, ``object`` or ``string``: every category a
        trained vector the network reads, as ``torch.nn.Embedding``): one int
        for every table, or ``{column: dim}`` (the series id under
        ``id_col``'s name); default ``min(16, round(1.6 * n ** 0.56))`` for
        ``n`` categories (fastai's rule, capped at 16 for these small
        networks). A category ``update`` or ``predict`` meets that ``fit``
        never saw reads a reserved "unknown" row (the mean of the fitted
        vectors), with an ``UnknownCategoryWarning``.
    id_embedding : bool, default=False
        Give every series of a long frame a learned embedding of its id (a
        static categorical input, ``id_col``'s table in ``embedding_dims``),
        so the global model can learn per-series behaviour.
    scaler : {"standard", "robust"} or None, default="standard"
        Per-series scaling of targets (and global scaling of covariates), fitted
        on the training rows. Its statistics are relative to each series'
        magnitude, so series of any magnitude up to 1e300 are scaled alike (a
        series of amplitude 1e-13 is forecast as the unit series times 1e-13)
        and a constant series is scaled by its own magnitude; ``None`` feeds
        the raw values to the network.
    loss : {"auto", "squared_error", "absolute_error", "huber", "normal", \
"student_t", "poisson", "negative_binomial", "quantile"}, default="auto"
        ``"auto"`` is ``"absolute_error"`` (fitted: ``loss_``): the point
        forecast is then the conditional median, the forecast that MAE, MASE
        and sMAPE reward, and an outlier pulls less on it. With the absolute
        error over many series (a point head, no decoder), each series'
        errors are weighed by its level scale over its MASE scale (its mean
        absolute seasonal difference), clipped to a factor 10 around the
        median and normalised to mean 1, in training and in the tails' choices
        (``auto.MASE_WEIGHTS``): the mean MASE is what is trained and chosen;
        one series weighs 1. A likelihood
        (``"normal"``, ``"student_t"`` for heavy tails, ``"poisson"`` and
        ``"negative_binomial"`` for counts) makes the head output the
        distribution's parameters per forecast step and target, kept in range
        by softplus links and trained by maximum likelihood (early stopping
        scores the tails' negative log-likelihood); ``predict`` gives its
        mean (for the normal and Student t also the median), and
        :meth:`predict_quantiles`, ``predict_interval(method="distribution")``
        and :meth:`sample` read the distribution. ``"quantile"`` outputs one
        value per level of ``quantiles``, trained by the mean pinball loss;
        they are sorted at prediction (non-crossing by sorting); ``predict``
        gives the median (the mean of the quantiles when 0.5 is not among
        them). The quantiles and paths map exactly back through the scaler,
        the seasonal indices and the origin's level (each is increasing).
        Count heads model the counts themselves: they need ``scaler=None``,
        leave ``differencing`` at "auto" or False (resolved to False) and
        are never deseasonalised; ``y`` must hold non-negative integers.
    quantiles : list or tuple of float, optional
        Levels in (0, 1) of ``loss="quantile"`` (default ``(0.025, 0.05,
        0.1, 0.5, 0.9, 0.95, 0.975)``: the 80, 90 and 95 % central intervals
        and the median).
    solver : {"adam", "sgd"}, default="adam"
    learning_rate_init : float or "auto", default="auto"
        Adam's (or SGD's) step size. ``"auto"``: 1e-2 for a collection of
        short series (median length below 90.5 rows), else 3e-3 (see Notes);
        fitted: ``learning_rate_``.
    max_iter : int or "auto", default="auto"
        Epochs (each about 16 optimizer steps or more with
        ``batch_size="auto"``); with early stopping the most the selection run
        makes. ``"auto"``: about 1000 optimizer steps (see Notes); fitted:
        ``n_epochs_``.
    batch_size : int or "auto", default="auto"
        Parallel streams (lanes) per window. ``"auto"``: as many as leave at
        least 16 windows (optimizer steps) per epoch, at most 32. Each epoch
        makes about ``n_rows / (batch_size * bptt_length)`` steps.
    alpha : float, default=0.0
        L2 penalty on weights.
    tol : float, default=1e-4
    early_stopping : bool or {"auto", "refit", "continue", "holdout"}, default="auto"
        How the held-out tails of the series choose when to stop.
        ``"auto"``, ``True`` and ``"refit"``: the refit protocol: a selection
        run trains on the rows before the tails, scores the tails every epoch
        and stops when they stop improving; the best epoch count
        (``selected_epochs_``) is then used to train a fresh model (same seed)
        on every row, tails included. The tails also score the reference
        alone (the head's starting forecast, without the network's
        corrections) as "epoch 0": when no epoch beats it, the reference is
        the model (``selected_epochs_ = 0``). The tails' residuals from the selection
        run calibrate the intervals. ``"continue"``: the selection run's best
        weights go on training on every row for the tails' share of the
        selected epochs (at least one). ``"holdout"``: stop on the tails and
        keep the best epoch's weights; the tails are never trained on (what
        ``True`` meant before the refit protocol). ``False``: train
        ``max_iter`` epochs on the rows before the tails. Without a tail
        (``validation_fraction=0``, series too short) every mode trains
        ``max_iter`` epochs on every row. ``warm_start`` and ``partial_fit``
        continue as ``"holdout"``.
    validation_fraction : float or "auto", default="auto"
        Tail of every series held out of the training rows (validation and
        interval calibration); 0 holds nothing out (no intervals then).
        ``"auto"``: 10 % of each series, more where a series can spare it so
        that the tails hold at least 9 forecast origins (see Notes); fitted:
        ``validation_fraction_`` (the share of rows held out).
    n_iter_no_change : int or "auto", default="auto"
        Epochs without improvement (of the tails' score with early stopping,
        of the training loss without) before training stops. ``"auto"``: 3
        with early stopping on the tails of short series (median length
        below 90.5 rows), 10 otherwise (see Notes); fitted:
        ``n_iter_no_change_``.
    clip_norm : float or None, default=1.0
        Global gradient-norm clipping.
    warm_start : bool, default=False
        Continue from the previous ``fit``'s weights.
    n_ensemble : int, default=1
        Members of an ensemble: ``k > 1`` fits ``k`` copies of this model
        (each with ``n_ensemble=1`` and its own seed, derived from
        ``random_state`` as :class:`~tsrnn.EnsembleForecaster` derives its
        members') and combines them step by step by the median: ``predict``,
        the bounds of ``predict_interval`` and ``predict_quantiles`` are the
        members' medians, ``sample`` draws a mixture of their paths, and
        ``update``, ``partial_fit``, ``score``, the backtests and
        ``save``/:func:`tsrnn.load` reach every member. The members are
        fitted through :mod:`joblib`: ``with joblib.parallel_config(n_jobs=k)``
        fits them side by side (any backend; the same bits). The cost is
        ``k`` fits and ``k`` models (see Notes). Fitted: ``estimators_``,
        ``seeds_``.
    random_state : int, Generator or None
    verbose : int, default=0
        ``>= 1``: a tqdm progress bar with the loss and validation score per
        epoch; without tqdm, one line per epoch on stderr. A fit that has to
        compile kernels first (the first in a fresh environment, see
        :func:`tsrnn.warmup`) says ``compiling kernels (first use only)``.
    dtype : {"float32", "float64"}, default="float32"
        The network's floating-point type. float32 (PyTorch's default too)
        trains in about half the CPU time of float64 with the same forecasts
        to about 1e-6: on every shipped M3 and Tourism group the MASE agrees
        to six digits over three seeds (``docs/defaults.md``). ``"float64"``
        for exact comparisons (gradient checks, parity with a float64
        reference). Forecasts are returned as float64 either way.
    id_col, time_col, target_col : str
        Long-format column names (statsforecast's defaults).
    freq : str, pandas DateOffset, int or None
        Frequency override when it cannot be inferred: an alias (``"B"``), an
        offset such as ``pd.offsets.CustomBusinessDay(holidays=...)`` for
        trading days (forecasts then skip the holidays; :meth:`save` stores
        the weekmask and the holidays), or an int step for integer indexes.
        A ``DatetimeIndex`` that carries a ``freq`` (e.g. the market series of
        :mod:`tsrnn.datasets`) needs none.

    Attributes
    ----------
    n_iter_ : int
    loss_curve_ : list of float
        Mean training loss per epoch (scaled units).
    validation_scores_ : list of float
        Negative mean squared error (scaled) on the held-out tails per epoch
        (every epoch with ``early_stopping``, else once after training); the
        negative mean absolute error when ``loss_`` is ``"absolute_error"``
        (the default), so that the tails pick the epoch by what is trained.
    best_loss_, best_validation_score_ : float
    params_ : ndarray
        Flat parameter vector; :meth:`named_params` gives torch-named views.
    grad_norm_curve_ : list of float
        Mean global gradient norm per epoch (before clipping).
    dh_norm_ : ndarray of shape (num_layers, window)
        Mean ``||dL/dh_t||`` per step of the windows of the last epoch, where
        ``window`` is ``bptt_length`` or the longest training part if shorter
        (twice that with ``stateful=False``: burn-in and window).
    schema_ : SeriesSchema
        Format and series ends (advanced by ``update``).
    conformal_scores_ : ndarray
        Scaled absolute residuals of held-out forecasts, for
        :meth:`predict_interval`: every one, or above
        :func:`~tsrnn.evaluation.conformal.pool_limit` rows a seeded sample of
        that many (``docs/probabilistic.md``).
    conformal_errors_ : ndarray
        The same residuals signed (``y - y_hat``): each bound of a conformal
        band is the quantile of its own tail when the pool allows it.
    references_ : tuple of str
        The statistical references the head reads (``()``: none).
    reference_params_ : ndarray of shape (n_series, n_targets, 6)
        Their coefficients per series and target (``alpha_ses``,
        ``alpha_holt``, ``beta_holt``, ``phi_holt``, ``alpha_theta``,
        ``theta_weight``): classical, or learned with ``references="learned"``.
    combination_weights_ : ndarray of shape (horizon_out, n_targets, n_candidates) or None
        The weights in the forecast, chosen on the tails (``combination``), of
        the network (first), then of each reference (``references_`` order):
        ``n_candidates = 1 + len(references_)``. With
        ``combination.SEASONAL_CANDIDATES`` (off by default) the seasonal
        naive forecast of each of the head's seasons (``seasons_`` order; lag
        1 is the last value) is a candidate too, between the two: ``1 +
        len(seasons_) + len(references_)``. None when no combination was
        made.
    deseasonalized_ : ndarray of bool, shape (n_series, n_targets)
        Which series (targets) were divided by seasonal indices before scaling
        (``deseasonalize``).
    stopped_ : str
        Why training stopped: ``"max_iter"``, ``"converged"``,
        ``"early_stopping"``, ``"diverged"`` or ``"interrupted"`` (for the
        refit protocol: why the selection run stopped).
    season_length_ : tuple of int
        The seasons ``season_length`` resolved to: as given, from the
        frequency, or found in the data (``"auto"`` without a frequency);
        ``(1,)`` when there is none. ``deseasonalize``, the references and the
        ``differencing`` vote read the first one.
    differencing_ : bool
        Whether the network models changes (``differencing`` resolved).
    strategy_ : str
        The strategy fitted (``strategy`` resolved).
    strategy_scores_ : dict
        Set only where ``strategy="auto"`` held a contest on the tails
        (:func:`~tsrnn.estimators.forecaster.auto.strategy_contest`): each
        strategy and the best tail score of its selection run (higher is
        better; its best epoch or its reference alone).
    reference_ : int, tuple of int or None
        Lag of the forecast the head starts from: 1 the last value, ``m`` the
        seasonal naive forecast of season ``m``, a tuple ``(m1, m2)`` the mean
        of those seasons' seasonal naive forecasts; None for
        ``strategy="recursive"`` (no reference).
    seasons_ : tuple of int
        The head's reference lags, the starting one first.
    reference_scores_ : dict
        Set only where ``reference="auto"`` held a contest on the tails (two
        seasons, covariates or a calendar): each contestant (``str`` of its
        lag or lags) and the best tail score of its selection run (higher is
        better).
    bptt_length_ : int
        Truncated-BPTT window length used.
    loss_ : str
        Training loss used.
    n_epochs_ : int
        Epoch budget of the final training run: ``max_iter`` resolved, or the
        selected epoch count with the refit protocol (its share with
        ``"continue"``).
    learning_rate_ : float
        The step size training used (``learning_rate_init`` resolved).
    short_series_ : bool
        Whether the median series is shorter than 90.5 rows (the
        ``hidden_size``, ``learning_rate_init`` and ``n_iter_no_change``
        rules).
    hidden_size_ : int
        Units per layer of the fitted network (``hidden_size`` resolved).
    n_iter_no_change_ : int
        The patience of the run that decided how long to train
        (``n_iter_no_change`` resolved).
    selected_epochs_ : int
        The refit protocol's selected epoch count (absent without it); 0 when
        the reference alone scored best on the tails.
    validation_fraction_ : float
        Share of the rows held out as tails.
    estimators_ : list of RNNForecaster
        With ``n_ensemble > 1`` only: the fitted members (each a single
        model, ``n_ensemble=1``). The fitted attributes listed above are then
        the first member's (read through), the forecasts the members'
        median.
    seeds_ : list of int
        With ``n_ensemble > 1`` only: each member's ``random_state``.

    Notes
    -----
    **How the auto values are chosen.** Every rule reads only the training
    rows (before the held-out tails), runs at ``fit``, and gives one value
    for the whole fit (one series or a long frame: one global model, one
    decision). Explicit values are used exactly as given.

    - ``season_length="auto"`` without a frequency: the autocorrelation of
      the training rows (each series' least-squares line removed, pooled over
      series) up to a third of the median length is searched for peaks that
      exceed Bartlett's bound (M4's seasonality test) with a Bonferroni
      correction over the lags searched, both in value and in their rise above
      the shorter lags (a trend or a random walk has none); the highest is the
      season, with a divisor (a day within a week) or a multiple where the
      autocorrelation rises again (a week after a day) as a second one.
    - ``differencing="auto"``: each series (its seasonal-phase means removed
      when a season is known) votes *persistent* when it crosses its mean at
      fewer of its steps than ``sqrt(0.5 * 0.85 / sqrt(n))``, the geometric
      midpoint between white noise (0.5) and a random walk of the same length
      ``n`` (``0.85 / sqrt(n)``, simulated): about 0.05 for a long sensor
      series, 0.2 for 100 steps. Differencing is chosen when at least half of
      the series vote persistent. Trends, random walks, prices and slowly
      moving sensors are differenced; noise around a level is not.
    - ``reference="auto"``: among the last value, each season's seasonal
      naive forecast and (two seasons or more) their mean, the one with the
      smallest in-sample mean absolute error
      over the ``horizon`` steps (every origin of the training rows, errors
      divided by each series' standard deviation and pooled) is the head's
      starting point. A strong cycle picks its season; a fast, noisy,
      persistent sensor the last value. Where the mix of two seasons is a
      candidate and the head reads covariates or a calendar, the two best
      in-sample candidates each get a selection run
      and the one scoring best on the held-out tails is kept (the network's
      corrections from the covariates decide which start is best; in-process
      fits only, a sharded or distributed fit keeps the in-sample choice).
    - ``bptt_length="auto"``: ``clip(2 ** round(log2(median_length / 4)), 8,
      32)``: short series cut into long windows are mostly padding and make
      few optimizer steps.
    - ``max_iter="auto"``: ``clip(ceil(1000 / steps_per_epoch), 5, 100)``
      epochs, about 1000 optimizer steps: a long frame of thousands of series
      gets about five passes over its data, a short series more passes. A
      run the tails stop (early stopping) may make three times as many (at
      most 100): the tails decide there.
    - ``learning_rate_init="auto"``: 1e-2 where the median series is
      shorter than 90.5 rows (where ``bptt_length="auto"`` gives windows
      under 32 steps: M3/Tourism yearly, quarterly M3, M3 other), 3e-3
      otherwise: the network's part of a short series' forecast is learned
      in a few epochs, and the larger step takes a third of them or fewer.
    - ``hidden_size="auto"``: 32 units on short series (the same
      threshold), 64 otherwise: a short series' correction is learned from
      few rows, and half the units learned it as well on the short M3/Tourism
      groups at about 0.6 of the CPU (the network's arithmetic grows with the
      square of the units).
    - ``n_iter_no_change="auto"``: on short series (the same threshold), 3
      epochs without a better tail score stop a run the tails watch (their
      score worsens steadily past its best epoch there); 10 otherwise (long
      series' tails can be noisier: the bank's calls a week ahead lost with
      3), and 10 without a lower training loss.
    - ``loss="auto"``: absolute error (see ``loss``).
    - ``validation_fraction="auto"``: 10 % of each series, and
      ``horizon + ceil(9 / n_series)`` rows where that leaves a series half of
      its rows (else ``horizon + 1``): at least 9 forecast origins over the
      collection, enough for 90 % conformal intervals on a short series.
    - ``early_stopping="auto"``: the refit protocol (see ``early_stopping``):
      the tail picks the epoch count, then every row is trained on.
    - ``combination="auto"``: the same tails, scored with the selected
      epochs, choose how much of the network's forecast to keep and how much
      of SES, the damped trend, Theta and drift to mix in (forecast
      combination, M4's most reliable lesson), by the one-standard-error
      rule: the network alone unless a mix is clearly better there. On the short yearly series of
      M3/Tourism, where a global network trained a few epochs trails the
      per-series smoothing models, the tails give drift and Theta most of the
      weight (M3 yearly 2.69 -> 2.60, AutoTheta 2.59); on the monthly and
      quarterly groups the network keeps most of it.

    A log transform for positive series is not chosen automatically (log hurt
    4 of 5 M3/Tourism groups in last week's measurements). The measurements
    behind these rules are in ``docs/defaults.md`` ("Defaults chosen from
    the data").

    Divergence gives a warning, not an error. Every training step checks its loss
    and gradient; the first non-finite one, one whose loss exceeds 1000 times the
    larger of 1 and the loss of predicting 0 (on the standardized targets: an
    exploding learning rate; :class:`~tsrnn.engine.DivergenceGuard`), or weights
    that overflow, stops ``fit`` at once, inside the epoch, with a
    :class:`~tsrnn.engine.DivergenceWarning` (a ``RuntimeWarning``) that says which
    weights were kept and suggests a smaller ``learning_rate_init``, ``clip_norm``
    or scaled data. The model stays usable: it keeps the finite weights of its best
    finished epoch (or those it started from when the first epoch diverged) and
    ``stopped_`` is ``"diverged"``. A diverging ``partial_fit`` keeps the weights
    from before the call. Values too large to standardize raise a ``ValueError``
    before any training.

    Memory and time budgets (:mod:`tsrnn.engine.budget`), checked before anything
    is allocated: a network whose parameters would take more than
    ``MAX_ARRAY_BYTES`` (2 GiB; ``hidden_size``, ``num_layers``) and a
    ``season_length`` whose kept history would (series x season x features x 8
    bytes) raise a ``ValueError`` at ``fit``; ``predict`` and
    ``predict_interval`` refuse more than ``MAX_FORECAST_STEPS`` (10**7) forecast
    steps, horizon times series, per call. Both are module attributes a user
    with the memory can raise. ``bptt_length`` and ``batch_size`` are bounded by
    the data instead: windows never outgrow the longest series, lanes never
    outnumber the windows.

    Reproducibility: with an int ``random_state``, ``fit`` is bit for bit
    reproducible, in one process, across processes and through
    ``save``/:func:`tsrnn.load`; ``random_state=None`` draws a fresh seed from
    NumPy's global random state at every ``fit``, as scikit-learn does.
    Training runs its matrix products on one BLAS thread, so the fitted weights
    do not depend on the BLAS thread count; ``update`` uses the process's BLAS
    threads, and with inputs or ``hidden_size`` above 32 its states can differ
    in the last bits between thread counts. ``predict`` and
    ``predict_interval`` are safe to call from several threads at once.

    Ensembles (``n_ensemble=k``): each member is a complete fit (selection
    run, refit, calibration), so ``fit`` costs ``k`` fits, run one after the
    other unless a :mod:`joblib` context gives more workers, and the model
    holds ``k`` networks; ``predict``, ``update`` and the intervals cost
    ``k`` times a single model's. Measured on a tiny fit (one series of 120
    steps, ``hidden_size=4``, ``max_iter=2``, warm kernels, median of 7):
    ``k=1`` 0.008 s, ``k=3`` 0.030 s. The members differ by seed only;
    their median is robust to a member that went astray, and each step's
    combination is a median of the members' values (the mean of the middle
    two for an even ``k``), so an ensemble's forecast is no single member's
    path. Interval bounds are
    combined bound by bound, as in :class:`~tsrnn.EnsembleForecaster`: no
    extra calibration, as wide as a typical member's band. ``sample`` splits
    ``n_paths`` among the members in order (``n_paths // k`` each, one more
    for the first ``n_paths % k``), each drawing with a seed derived from the
    call's ``random_state`` and its position, and concatenates them: a
    mixture of the members' predictive distributions. ``save`` stores every
    member (``member{i}.`` in the file, each checked on load as a single
    model); :meth:`named_params` refuses (one set of weights per member:
    ``estimators_[i].named_params()``). :class:`~tsrnn.DaskForecaster`
    trains one network and refuses ``n_ensemble > 1``;
    :class:`~tsrnn.PerSeriesForecaster` fits an ensemble per series.
    Measured on M3/Tourism (``docs/defaults.md``, "Ensembles"), seed
    ensembles gained nothing there for three times the cost: the members
    agree; ``EnsembleForecaster(members=[...])`` varies configurations.

    Changing parameters after fit: the parameters that define the fitted model
    (``n_ensemble``, ``cell``, ``hidden_size``, ``num_layers``,
    ``nonlinearity``, ``horizon``, ``strategy``, ``season_length``,
    ``differencing``, ``calendar_features``, ``scaler``, ``loss``, ``dtype``,
    ``id_col``, ``time_col``, ``target_col``, ``freq``) are frozen by
    ``fit``. After ``set_params`` changes one of them, ``predict``,
    ``predict_interval``, ``update``, ``score``, ``partial_fit``, a
    ``warm_start`` fit and ``save`` raise ``ValueError("parameters changed
    since fit: ...")`` naming them and their fitted values: call ``fit`` to
    refit, or set them back. Nothing forecasts silently with a configuration
    it was not fitted with, and a saved file always describes the model that
    predicts. The training settings (``learning_rate_init``, ``max_iter``,
    ``solver``, ``batch_size``, ``bptt_length``, ``alpha``, ``clip_norm``,
    ``dropout``, ``verbose``, ...) may change at any time and take effect at
    the next ``fit`` or ``partial_fit``, as in scikit-learn's ``MLPRegressor``
    (a new ``solver`` starts a fresh optimizer).

    Examples
    --------
    An hourly series with a daily cycle; pandas in, pandas out:

    >>> import warnings
    >>> import numpy as np, pandas as pd
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from tsrnn import RNNForecaster
    >>> t = np.arange(480)
    >>> noise = 0.1 * np.random.default_rng(0).normal(size=480)
    >>> y = pd.Series(np.sin(2 * np.pi * t / 24) + noise,
    ...               index=pd.date_range("2024-01-01", periods=480, freq="h"))
    >>> model = RNNForecaster(horizon=6, hidden_size=8, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs: a demo
    ...     model = model.fit(y)
    >>> forecast = model.predict()  # the 6 hours after the last observation
    >>> forecast.index[0], len(forecast)
    (Timestamp('2024-01-21 00:00:00'), 6)
    >>> model.predict_interval(level=[80, 95]).columns.tolist()
    ['y-lo-80', 'y-hi-80', 'y-lo-95', 'y-hi-95']

    New readings advance the state without refitting:

    >>> new = pd.Series([0.1, 0.6],
    ...                 index=pd.date_range("2024-01-21", periods=2, freq="h"))
    >>> model.update(new).predict().index[0]
    Timestamp('2024-01-21 02:00:00')
    """

    # model files: what is saved and how it is checked (see :mod:`.state`)
    _state_protocol = state

    _refused_parameters = {
        "n_members": (
            "the number of ensemble members is n_ensemble (or use "
            "tsrnn.EnsembleForecaster for members of different configurations)"
        ),
        "n_jobs": (
            "the members of n_ensemble are fitted through joblib: set the "
            "parallelism with joblib.parallel_config(n_jobs=...)"
        ),
        "bidirectional": (
            "a forecaster reads each series forwards up to the forecast origin; a "
            "backward pass would read the future it has to forecast. For "
            "bidirectional reading of complete windows (classification, "
            "regression on a whole sequence, gap filling), use "
            "tsrnn.nn.LSTM/GRU/RNN(bidirectional=True)"
        ),
        "lookback": (
            "the forecaster has no lookback window: its state carries the whole "
            "past (stateful truncated BPTT, bptt_length steps per gradient window)"
        ),
        "input_chunk_length": (
            "the forecaster has no input window: its state carries the whole "
            "past; the gradient window is bptt_length"
        ),
        "output_chunk_length": "the steps forecast at once are horizon",
    }
    # the parameters that define the fitted model (see Notes): frozen by fit.
    # Declared mirror (form only): WindowRNN._fit_config_params is the same kind
    # of table, of the window models' own parameters.
    _fit_config_params = (
        "cell",
        "hidden_size",
        "num_layers",
        "nonlinearity",
        "horizon",
        "strategy",
        "season_length",
        "reference",
        "differencing",
        "deseasonalize",
        "references",
        "combination",
        "calendar_features",
        "holidays",
        "past_covariates",
        "embedding_dims",
        "id_embedding",
        "scaler",
        "loss",
        "quantiles",
        "dtype",
        "id_col",
        "time_col",
        "target_col",
        "freq",
        "n_ensemble",
    )

    _parameter_constraints: dict = {
        "cell": [StrOptions(set(CELLS))],
        "hidden_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "horizon": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES) | {"auto"})],
        "bptt_length": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "stateful": ["boolean"],
        "season_length": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
            tuple,
            list,
        ],
        "differencing": ["boolean", StrOptions({"auto"})],
        "reference": [StrOptions({"auto", "last", "seasonal"})],
        "deseasonalize": [StrOptions({"auto"}), None],
        "references": [StrOptions({"auto", "learned"}), None],
        "combination": [StrOptions({"auto"}), None],
        "calendar_features": ["boolean"],
        "holidays": [None, str, list, tuple],
        "past_covariates": [None, str, numbers.Integral, list, tuple],
        "embedding_dims": [None, Interval(numbers.Integral, 1, None, closed="left"),
                           dict],
        "id_embedding": ["boolean"],
        "scaler": [StrOptions({"standard", "robust"}), None],
        "loss": [
            StrOptions(
                {"auto", "squared_error", "absolute_error", "huber", "quantile"}
                | set(LIKELIHOODS)
            )
        ],
        "quantiles": [None, list, tuple],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "max_iter": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "early_stopping": [
            "boolean",
            StrOptions({"auto", "refit", "continue", "holdout"}),
        ],
        "validation_fraction": [
            Interval(numbers.Real, 0, 1, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_iter_no_change": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "clip_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "warm_start": ["boolean"],
        "n_ensemble": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "dtype": [
            StrOptions({"float64", "float32"}),
            Options(type, {np.float64, np.float32}),
        ],
        "id_col": [str],
        "time_col": [str],
        "target_col": [str, list],
        "freq": [str, None, numbers.Integral, pd.offsets.BaseOffset],
    }

    # Declared mirror: the optimization parameters repeat the window models'
    # (WindowRNN.__init__); scikit-learn reads each estimator's from its __init__.
    def __init__(
        self,
        cell="lstm",
        hidden_size="auto",
        num_layers=1,
        *,
        dropout=0.0,
        nonlinearity="tanh",
        horizon=1,
        strategy="auto",
        bptt_length="auto",
        stateful=True,
        season_length="auto",
        reference="auto",
        differencing="auto",
        deseasonalize="auto",
        references="auto",
        combination="auto",
        calendar_features=True,
        holidays=None,
        past_covariates=None,
        embedding_dims=None,
        id_embedding=False,
        scaler="standard",
        loss="auto",
        quantiles=None,
        solver="adam",
        learning_rate_init="auto",
        max_iter="auto",
        batch_size="auto",
        alpha=0.0,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction="auto",
        n_iter_no_change="auto",
        clip_norm=1.0,
        warm_start=False,
        n_ensemble=1,
        random_state=None,
        verbose=0,
        dtype="float32",
        id_col="unique_id",
        time_col="ds",
        target_col="y",
        freq=None,
    ):
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.nonlinearity = nonlinearity
        self.horizon = horizon
        self.strategy = strategy
        self.bptt_length = bptt_length
        self.stateful = stateful
        self.season_length = season_length
        self.reference = reference
        self.differencing = differencing
        self.deseasonalize = deseasonalize
        self.references = references
        self.combination = combination
        self.calendar_features = calendar_features
        self.holidays = holidays
        self.past_covariates = past_covariates
        self.embedding_dims = embedding_dims
        self.id_embedding = id_embedding
        self.scaler = scaler
        self.loss = loss
        self.quantiles = quantiles
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.warm_start = warm_start
        self.n_ensemble = n_ensemble
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.freq = freq

    # ================================================================== fit
    def fit(self, y, X=None, X_past=None):
        """Train on one or many series, then read each to its end.

        Parameters
        ----------
        y : 1-D/2-D array, pandas Series/DataFrame, or long-format DataFrame
            Rows are consecutive time steps; NaN marks a missing step (no loss
            there; the state runs through the gap on the model's own estimates).
        X : array-like or pandas object, optional
            Covariates aligned row by row with ``y``, known in advance (pass the
            future rows again to :meth:`predict`) unless named in
            ``past_covariates``. Categorical columns (dtype ``category``,
            ``object``, ``string``) are embedded (``embedding_dims``).
        X_past : array-like or pandas object, optional
            Past-only covariates given apart (the same as joining them to
            ``X`` and naming them in ``past_covariates``): aligned row by row
            with ``y`` in ``X``'s format, or a long frame keyed like a long
            ``y``. Never asked for by :meth:`predict`; :meth:`update` takes
            their new rows as ``X_past`` too.

        Returns
        -------
        self
        """
        validate_params(self)
        if self.n_ensemble > 1:  # k members, each this fit (CombinesMembers)
            return self._fit_members(y, X, X_past, partial=False)
        if self.warm_start and hasattr(self, "params_"):  # before anything changes
            fitted_config.check_unchanged(self, "fit with warm_start=True")
        self.__dict__.pop("estimators_", None)  # a former ensemble's members
        self.__dict__.pop("seeds_", None)
        # random_state=None: fresh randomness for every fit, as in scikit-learn
        self.__dict__.pop("_auto_seed", None)
        with (
            single_threaded_blas(),
            fewer_splits(FIT_SPLIT_FACTOR),
            announce_compilation(self.verbose),
        ):
            self._fit_data(self._read(y, X, X_past), partial=False)
        return self

    def _read(self, y, X, X_past=None):
        y, X, joined = join_past(y, X, X_past, self.id_col, self.time_col)
        past = self.past_covariates
        if joined:  # X_past's columns are past-only, with those named here
            past = [] if past is None else (
                [past] if isinstance(past, (str, numbers.Integral)) else list(past)
            )
            past = past + [c for c in joined if c not in past]
        return to_series_set(
            y,
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            freq=self.freq,
            past_covariates=past,
            # a continued fit reads categories as the fitted tables index them
            categories=(
                self.schema_.categories
                if self.warm_start and hasattr(self, "params_") else None
            ),
        )

    # ------------------------------------------------------------- helpers
    def _seed(self, offset=0):
        rs = self.random_state
        if isinstance(rs, np.random.Generator):
            return rs.integers(2**31) + offset
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(2**31)) + offset
        if rs is None:
            if not hasattr(self, "_auto_seed"):
                # from NumPy's global RandomState, as scikit-learn does
                self._auto_seed = int(check_random_state(None).randint(2**31))
            return self._auto_seed + offset
        return int(rs) + offset

    def _check_same_format(self, schema):
        old = self.schema_
        if (schema.n_targets, schema.n_covariates) != (old.n_targets, old.n_covariates):
            raise ValueError(
                "warm_start/partial_fit needs the same targets and covariates as the "
                "first fit; call fit with warm_start=False to start over"
            )

    def named_params(self) -> dict:
        """torch-named views of :attr:`params_` (``weight_ih_l0``, ``head.weight``)."""
        check_is_fitted(self)
        if self._members() is not None:
            raise ValueError(
                f"an ensemble (n_ensemble={self.n_ensemble}) has one set of "
                "weights per member: read estimators_[i].named_params()"
            )
        return self._net.layout.views(self.params_)

    @property
    def reference_params_(self) -> np.ndarray:
        """The statistical references' coefficients, ``(n_series, n_targets, 6)``.

        Per series and target: ``alpha_ses`` (SES), ``alpha_holt``,
        ``beta_holt`` and ``phi_holt`` (the damped trend), ``alpha_theta`` and
        ``theta_weight`` (``1 - 1/theta``: the optimised Theta method)
        (:data:`tsrnn.smoothing.PARAMS`): the classical fit with
        ``references="auto"``, the learned ones with ``"learned"``. A copy.
        """
        refs = self.__dict__.get("_refs")
        if refs is None:
            raise AttributeError(
                "reference_params_: not fitted, or the head reads no statistical "
                "references (references=None, strategy='recursive')"
            )
        return np.array(refs.params)

    # ========================================================== predict
    def predict(self, horizon=None, X=None):
        """Forecast the steps after the last observation seen.

        Parameters
        ----------
        horizon : int, optional
            Steps ahead (default: ``horizon``); a direct model forecasts at most
            the ``horizon`` it was trained for. A forecast of more than
            :data:`tsrnn.engine.budget.MAX_FORECAST_STEPS` (10**7) steps, horizon
            times series, is refused up front (see Notes).
        X : optional
            Future covariates for those steps (required when fitted with ``X``,
            except for ``past_covariates``, which are never read here), in the
            format of ``fit``. A categorical value ``fit`` never saw reads the
            embedding's unknown row, with an ``UnknownCategoryWarning``.

        Returns
        -------
        ndarray or pandas object
            Mirrors ``fit``'s input: ``(h,)``/``(h, n_targets)`` arrays, a Series
            or DataFrame indexed by the future timestamps, or long format.
        """
        check_is_fitted(self)
        fitted_config.check_unchanged(self, "predict")
        model = self._snapshot()  # one state throughout, whatever update does
        h = check_horizon(horizon, model.horizon)
        fut = model._future(h, X)
        values = model._predict_values(fut)
        return model.schema_.format_forecast(values, fut.positions)

    # ========================================================== update
    def update(self, y_new, X_new=None, X_past=None):
        """Advance the state over new observations without refitting.

        The cost is proportional to ``len(y_new)``; the next :meth:`predict`
        forecasts from the new end. NaN steps are run through on the model's own
        estimates.

        Parameters
        ----------
        y_new : same format as ``fit``'s ``y``
            Observations that directly follow the last ones seen.
        X_new : optional
            Their covariates (required when fitted with ``X``), the
            ``past_covariates`` included unless given as ``X_past``.
        X_past : optional
            The past-only covariates of the new rows, when ``fit`` took them
            as ``X_past``.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        fitted_config.check_unchanged(self, "update")
        # held throughout: predict in other threads sees the state before or
        # after this update (see ForecasterMixin), and updates do not interleave
        with self._stream_lock():
            block = self._check_update(y_new, X_new, X_past)
            check_count_values(output_head(self), block.y)
            with single_threaded_blas():  # thread-count independent, as fit
                self._update_block(block)
        return self

    def partial_fit(self, y_new, X_new=None, X_past=None):
        """One epoch of weight updates on new observations, then advance the state.

        On an unfitted forecaster this is ``fit`` with ``max_iter=1``. An
        ensemble (``n_ensemble > 1``) trains every member on the new rows.
        """
        if self._members() is not None:
            return self._train_members(y_new, X_new, X_past)
        if not hasattr(self, "params_"):
            validate_params(self)
            if self.n_ensemble > 1:
                return self._fit_members(y_new, X_new, X_past, partial=True)
            with (
                single_threaded_blas(),
                fewer_splits(FIT_SPLIT_FACTOR),
                announce_compilation(self.verbose),
            ):
                return self._fit_data(
                    self._read(y_new, X_new, X_past), partial=True
                )
        fitted_config.check_unchanged(self, "partial_fit")
        with self._stream_lock():
            block = self._check_update(y_new, X_new, X_past)
            check_count_values(output_head(self), block.y)
            # training changes the weights (and the optimizer's moments) in
            # place: work on copies, so that a snapshot taken by a concurrent
            # predict or save keeps what it read
            self.params_ = self.params_.copy()
            self._optimizer = copy.deepcopy(self._optimizer)
            with single_threaded_blas():
                self._block_inputs(block)  # its checks first, named as passed
                # the errors of the forecasts made before training on the block
                conformal = self._refreshed_conformal(block)
                self._train_on_block(block)
                self._update_block(block, conformal=conformal)
        return self
