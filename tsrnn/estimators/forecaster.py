"""``RNNForecaster``: a stateful truncated-BPTT recurrent forecaster for series.

Training (MATH.md, "Truncated BPTT with carried state"): the training rows are cut
into ``batch_size`` contiguous streams ("lanes"); every epoch walks them in
windows of ``bptt_length`` steps with the state carried from window to window as
a constant (no gradient across the boundary), reset where a stream starts and at
every epoch; the loss is taken at every step (teacher forcing) on the next
``horizon`` values. Several series (long format) are cut the same way, each series
piece starting on a window boundary with a zero state, so one global model is
trained over all of them with per-series scaling.

The last ``validation_fraction`` of every series is never trained on: it gives
``validation_scores_``, early stopping (when asked) and the residuals of the
conformal intervals. After ``fit`` the state has read every series to its end, so
``predict`` forecasts what follows; ``update`` streams new observations into the
state at a cost proportional to their number.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._base import ForecasterMixin, series_scale
from .._constraints import Interval, Options, StrOptions, validate_params
from .._inference import InferencePack
from .._recurrent import RecurrentStack
from .._save import SaveMixin
from .._series import Future, SeriesSet, check_horizon, to_series_set
from .._threads import single_threaded_blas
from ..engine import Network, StepwiseHead, get_loss, make_optimizer, run_epochs
from ..engine.trainer import Diverged, DivergenceWarning, TrainingLog
from ._features import Layout, Scaler, calendar_features, gather, infer_seasons

_CHUNK = 4096  # steps per batched pass over a long series (bounded memory)
_GROUP = 256  # series of one length read together by a full pass


def _np_dtype(dtype):
    return np.dtype(dtype).type


class RNNForecaster(SaveMixin, ForecasterMixin, BaseEstimator):
    """Recurrent forecaster trained by stateful truncated BPTT, with streaming updates.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn", "sru"}, default="lstm"
        Recurrent cell (``tsrnn.nn`` twins of torch's).
    hidden_size : int, default=64
        Units per layer.
    num_layers : int, default=1
        Stacked layers.
    dropout : float, default=0.0
        Dropout between layers during training.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        For ``cell="rnn"``.
    horizon : int, default=1
        Steps forecast by ``predict`` (and trained for, with ``"direct"``).
    strategy : {"direct", "recursive"}, default="direct"
        ``"direct"``: a multi-horizon head predicts all ``horizon`` steps at once
        from the state and the known future (covariates, calendar, seasonal lag).
        ``"recursive"``: a one-step head whose prediction is fed back as the next
        input.
    bptt_length : int, default=32
        Steps per truncated-BPTT window. A series shorter than that is trained
        on as one window (full BPTT); the shortest series ``fit`` accepts has
        ``horizon + 1`` rows in its training part (2 for ``"recursive"``).
    stateful : bool, default=True
        Carry the state across windows (``False``: random windows from a zero
        state after a burn-in of ``bptt_length`` steps that feed the state but not
        the loss).
    season_length : int, tuple of int, "auto" or None, default="auto"
        Seasonal period(s) of the direct head's reference values (the last value
        at the same phase, with what was known about that step); the first one
        is the head's starting point (seasonal naive). The recursive strategy
        has none: it feeds its own predictions back as inputs instead. ``"auto"`` infers them from a
        pandas frequency: a day and a week for sub-daily data (48 and 336 for
        30 min), 7 daily, 5 business-daily, 12 monthly, 4 quarterly. None uses
        the last value (naive).
    differencing : bool, default=False
        Model the changes ``y_t - y_{t-1}`` instead of the levels: the network
        reads and forecasts changes, and forecasts are summed back onto the
        last observed value. Use it for trending series and for a global model
        over series of different levels (M3, Tourism: the level-based model
        reverts towards each series' training mean at the end of a trend).
        A change next to a missing step is missing too; after trailing missing
        steps the forecast starts from the last observed value.
    calendar_features : bool, default=True
        Add cyclic time-of-day / day-of-week / day-of-year features when the
        series has a DatetimeIndex.
    scaler : {"standard", "robust"} or None, default="standard"
        Per-series scaling of targets (and global scaling of covariates), fitted
        on the training rows.
    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
    solver : {"adam", "sgd"}, default="adam"
    learning_rate_init : float, default=3e-3
    max_iter : int, default=100
        Epochs (each about 16 optimizer steps with ``batch_size="auto"``).
    batch_size : int or "auto", default="auto"
        Parallel streams (lanes) per window. ``"auto"``: as many as leave at
        least 16 windows (optimizer steps) per epoch, at most 32. Each epoch
        makes about ``n_rows / (batch_size * bptt_length)`` steps.
    alpha : float, default=0.0
        L2 penalty on weights.
    tol : float, default=1e-4
    early_stopping : bool, default=False
        Stop when the validation score (the series' tails) stops improving and
        restore the best epoch's weights.
    validation_fraction : float, default=0.1
        Tail of every series held out of training (validation and interval
        calibration); 0 trains on everything (no intervals then).
    n_iter_no_change : int, default=10
    clip_norm : float or None, default=1.0
        Global gradient-norm clipping.
    warm_start : bool, default=False
        Continue from the previous ``fit``'s weights.
    random_state : int, Generator or None
    verbose : int, default=0
        ``>= 1``: a tqdm progress bar with the loss and validation score per
        epoch; without tqdm, one line per epoch on stderr.
    dtype : {"float64", "float32"}, default="float64"
    id_col, time_col, target_col : str
        Long-format column names (statsforecast's defaults).
    freq : str or None
        Frequency override when it cannot be inferred.

    Attributes
    ----------
    n_iter_ : int
    loss_curve_ : list of float
        Mean training loss per epoch (scaled units).
    validation_scores_ : list of float
        Negative mean squared error (scaled) on the held-out tails per epoch
        (every epoch with ``early_stopping``, else once after training).
    best_loss_, best_validation_score_ : float
    params_ : ndarray
        Flat parameter vector; :meth:`named_params` gives torch-named views.
    grad_norm_curve_ : list of float
        Mean global gradient norm per epoch (before clipping).
    dh_norm_ : ndarray of shape (num_layers, bptt_length)
        Mean ``||dL/dh_t||`` per step of the windows of the last epoch
        (``2 * bptt_length`` steps with ``stateful=False``: burn-in and window).
    schema_ : SeriesSchema
        Format and series ends (advanced by ``update``).
    conformal_scores_ : ndarray
        Scaled residuals of held-out forecasts, for :meth:`predict_interval`.
    stopped_ : str
        Why training stopped: ``"max_iter"``, ``"converged"``,
        ``"early_stopping"``, ``"diverged"`` or ``"interrupted"``.

    Notes
    -----
    Divergence gives a warning, not an error. Every training step checks its
    loss and gradient; the first non-finite one (or weights that overflow)
    stops ``fit`` at once, inside the epoch, with a
    :class:`~tsrnn.engine.DivergenceWarning` (a ``RuntimeWarning``) that says
    which weights were kept and suggests a smaller ``learning_rate_init``,
    ``clip_norm`` or scaled data. The model stays usable: it keeps the finite
    weights of its best finished epoch (or those it started from when the first
    epoch diverged) and ``stopped_`` is ``"diverged"``. A diverging
    ``partial_fit`` keeps the weights from before the call. Values too large to
    standardize raise a ``ValueError`` before any training.

    Reproducibility: with an int ``random_state``, ``fit`` is bit for bit
    reproducible, in one process, across processes and through
    ``save``/:func:`tsrnn.load`; ``random_state=None`` draws a fresh seed from
    NumPy's global random state at every ``fit``, as scikit-learn does.
    Training runs its matrix products on one BLAS thread, so the fitted weights
    do not depend on the BLAS thread count; ``update`` uses the process's BLAS
    threads, and with inputs or ``hidden_size`` above 32 its states can differ
    in the last bits between thread counts. ``predict`` and
    ``predict_interval`` are safe to call from several threads at once.

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
    >>> model.predict_interval(coverage=0.9).columns.tolist()
    ['lower', 'upper']

    New readings advance the state without refitting:

    >>> new = pd.Series([0.1, 0.6],
    ...                 index=pd.date_range("2024-01-21", periods=2, freq="h"))
    >>> model.update(new).predict().index[0]
    Timestamp('2024-01-21 02:00:00')
    """

    _parameter_constraints: dict = {
        "cell": [StrOptions({"rnn", "lstm", "gru", "sru"})],
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "horizon": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"direct", "recursive"})],
        "bptt_length": [Interval(numbers.Integral, 1, None, closed="left")],
        "stateful": ["boolean"],
        "season_length": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
            tuple,
            list,
        ],
        "differencing": ["boolean"],
        "calendar_features": ["boolean"],
        "scaler": [StrOptions({"standard", "robust"}), None],
        "loss": [StrOptions({"squared_error", "absolute_error", "huber"})],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "clip_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "dtype": [
            StrOptions({"float64", "float32"}),
            Options(type, {np.float64, np.float32}),
        ],
        "id_col": [str],
        "time_col": [str],
        "target_col": [str, list],
        "freq": [str, None, numbers.Integral],
    }

    def __init__(
        self,
        cell="lstm",
        hidden_size=64,
        num_layers=1,
        *,
        dropout=0.0,
        nonlinearity="tanh",
        horizon=1,
        strategy="direct",
        bptt_length=32,
        stateful=True,
        season_length="auto",
        differencing=False,
        calendar_features=True,
        scaler="standard",
        loss="squared_error",
        solver="adam",
        learning_rate_init=3e-3,
        max_iter=100,
        batch_size="auto",
        alpha=0.0,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        clip_norm=1.0,
        warm_start=False,
        random_state=None,
        verbose=0,
        dtype="float64",
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
        self.differencing = differencing
        self.calendar_features = calendar_features
        self.scaler = scaler
        self.loss = loss
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
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.freq = freq

    # ================================================================== fit
    def fit(self, y, X=None):
        """Train on one or many series, then read each to its end.

        Parameters
        ----------
        y : 1-D/2-D array, pandas Series/DataFrame, or long-format DataFrame
            Rows are consecutive time steps; NaN marks a missing step (no loss
            there; the state runs through the gap on the model's own estimates).
        X : array-like or pandas object, optional
            Covariates aligned row by row with ``y``, known in advance (pass the
            future rows again to :meth:`predict`).

        Returns
        -------
        self
        """
        validate_params(self)
        # random_state=None: fresh randomness for every fit, as in scikit-learn
        self.__dict__.pop("_auto_seed", None)
        data = to_series_set(
            y,
            X,
            id_col=self.id_col,
            time_col=self.time_col,
            target_col=self.target_col,
            freq=self.freq,
        )
        with single_threaded_blas():
            self._fit_data(data, partial=False)
        return self

    def _fit_data(self, data: SeriesSet, partial: bool):
        dt = _np_dtype(self.dtype)
        schema = data.schema
        lengths = data.lengths
        start = np.repeat(data.indptr[:-1], lengths)
        end = np.repeat(data.indptr[1:], lengths)
        ho = self.horizon if self.strategy == "direct" else 1
        n_val = np.floor(lengths * self.validation_fraction).astype(np.int64)
        n_val = np.where(n_val >= ho + 1, n_val, 0)
        train_len = lengths - n_val
        need = ho + 1  # one step plus the ho values that follow it
        if train_len.max() < need:
            raise ValueError(
                f"the series are too short to train on: the longest training part "
                f"has {int(train_len.max())} row(s), but "
                + (f"horizon={ho} needs" if ho > 1 else "training needs")
                + f" at least {need} (one step and the {ho} value(s) after it); "
                "pass longer series, lower horizon (or use strategy='recursive') "
                "or lower validation_fraction"
            )
        train_end_s = data.indptr[:-1] + train_len
        train_end = np.repeat(train_end_s, lengths)
        train_rows = np.arange(len(data.y)) < train_end
        if np.isnan(data.y[train_rows]).all():
            raise ValueError(
                "y has no observed (non-NaN) values in its training part, so there "
                "is nothing to learn from; pass observations (NaN only marks missing "
                "steps)"
            )
        reuse = (partial or self.warm_start) and hasattr(self, "params_")
        if reuse:
            self._check_same_format(schema)
            scaler = self._scaler
        else:
            scaler = Scaler.fit(self.scaler, data.y, data.X, data.indptr, train_end_s)
        season = self._season(schema) if self.strategy == "direct" else ()
        cal = (
            calendar_features(data.time, schema.freq)
            if self._use_calendar(schema)
            else None
        )
        n_cal = 0 if cal is None else cal.shape[1]
        layout = Layout(
            schema.n_targets,
            schema.n_covariates,
            n_cal,
            ho,
            season,
            relative=bool(self.differencing),
        )
        series = np.repeat(np.arange(data.n_series), lengths)
        Y = scaler.y(data.y, series)
        parts = [] if data.X is None else [scaler.x(data.X)]
        if cal is not None:
            parts.append(cal)
        Z = np.concatenate(parts, axis=1) if parts else np.zeros((len(Y), 0))
        Y, Z = Y.astype(dt), Z.astype(dt)
        if reuse:
            net, theta = self._net, self.params_.copy()
            if self._layout != layout:
                raise ValueError(
                    "warm_start/partial_fit data has another layout than fit"
                )
        else:
            net = self._build_network(layout, dt)
            rng0 = np.random.default_rng(self._seed())
            theta = net.init_params(rng0)
            self._init_head(net, theta, layout)
        self._net, self._layout, self._scaler = net, layout, scaler
        rng = np.random.default_rng(self._seed(offset=1))
        loss_fn = get_loss(self.loss)
        opt = (
            self._optimizer
            if reuse and hasattr(self, "_optimizer")
            else make_optimizer(self.solver, net.size, self.learning_rate_init, dt)
        )
        has_nan = bool(np.isnan(Y).any())
        Yin = np.where(np.isnan(Y), 0.0, Y).astype(dt)
        ctx = dict(
            Y=Y,
            Yin=Yin,
            Z=Z,
            start=start,
            end=end,
            train_end=train_end,
            indptr=data.indptr,
            train_end_s=train_end_s,
            has_nan=has_nan,
        )
        lanes = self._lanes(data.indptr, train_end_s) if self.stateful else None
        T = int(self.bptt_length)
        # warm_start continues the curves, as n_iter_ and loss_curve_ do
        stats = {
            "gnorm": list(getattr(self, "grad_norm_curve_", [])) if reuse else [],
            "dh": [],
        }

        def run_epoch():
            if has_nan:
                self._impute(theta, ctx)
            losses, gn, dh = [], [], []
            for x, extra, tgt, mask, reset in self._windows(ctx, lanes, rng, T):
                if reset is None:  # stateless: every window from a zero state
                    state = None
                else:  # stateful: carried, zeroed where a lane starts a new piece
                    state_carry[:, :, reset] = 0.0
                    state = state_carry
                res = net.train_step(
                    theta,
                    opt,
                    x,
                    tgt,
                    mask,
                    loss_fn,
                    state,
                    extra,
                    clip_norm=self.clip_norm,
                    dropout=self.dropout,
                    rng=rng,
                    alpha=self.alpha,
                    n_samples=float(mask.sum() or 1.0),
                )
                if not res.finite:
                    raise Diverged(
                        f"loss {res.loss}, gradient norm {res.grad_norm} at batch "
                        f"{len(losses) + 1}",
                        steps_done=len(losses),
                    )
                if reset is not None:
                    state_carry[...] = res.state
                losses.append(res.loss)
                gn.append(res.grad_norm)
                dh.append(res.dh_norm)
            stats["gnorm"].append(float(np.mean(gn)))
            stats["dh"] = dh
            state_carry[...] = 0.0  # every epoch starts from a zero state
            return float(np.mean(losses))

        n_lanes = lanes[0].shape[0] if lanes is not None else 1
        state_carry = net.stack.zero_state(n_lanes)
        # a tail without observations scores nothing (early stopping would then
        # keep the initial weights): treat it as no validation
        has_val = bool(n_val.any()) and not np.isnan(data.y[~train_rows]).all()

        def validate():
            return self._validation_score(theta, ctx)

        log = self._log if reuse and hasattr(self, "_log") else TrainingLog()
        max_iter = 1 if partial else self.max_iter
        log = run_epochs(
            theta,
            run_epoch,
            max_iter=max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=self.early_stopping and has_val,
            validate=validate if (self.early_stopping and has_val) else None,
            verbose=self.verbose,
            log=log,
            desc="RNNForecaster",
            warn_max_iter=not partial,
        )
        self._optimizer = opt
        self._log = log
        self.params_ = theta
        self.n_iter_ = log.n_iter
        self.t_ = opt.t * n_lanes * T
        self.loss_curve_ = list(log.loss_curve)
        self.best_loss_ = log.best_loss
        self.grad_norm_curve_ = list(stats["gnorm"])
        if stats["dh"]:
            self.dh_norm_ = np.mean(np.stack(stats["dh"]), axis=0)
        self.stopped_ = log.stopped
        # read every series to its end with the final weights
        if has_nan:
            self._impute(theta, ctx)
        outputs = self._final_pass(theta, data, ctx)
        if not self.early_stopping and has_val:
            log.validation_scores.append(self._val_from_outputs(outputs, ctx))
            log.best_validation_score = max(log.validation_scores)
        self.validation_scores_ = list(log.validation_scores)
        self.best_validation_score_ = (
            max(log.validation_scores) if log.validation_scores else None
        )
        self.schema_ = schema
        self._calibrate(data, outputs, ctx, n_val)
        return self

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

    def _season(self, schema):
        sl = self.season_length
        if isinstance(sl, str):
            seasons = infer_seasons(schema.freq)
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

    def _use_calendar(self, schema):
        return bool(self.calendar_features) and schema.index_type in (
            "datetime",
            "period",
        )

    def _build_network(self, layout: Layout, dt):
        stack = RecurrentStack(
            self.cell,
            layout.n_inputs,
            self.hidden_size,
            self.num_layers,
            nonlinearity=self.nonlinearity,
            dtype=dt,
        )
        head = StepwiseHead(
            self.hidden_size, layout.horizon_out, layout.n_targets, layout.n_per_step
        )
        return Network(stack, head)

    @staticmethod
    def _init_head(net, theta, layout: Layout):
        """Start the head at the seasonal naive forecast.

        Output ``(k, j)`` reads the seasonal-lag feature of step ``k`` and target
        ``j`` with weight 1 and every other known-future feature with weight 0,
        so training begins at the baseline a statistician would try first and
        learns corrections from the state and the covariates (the recurrent
        part keeps its random init). Measured on the electricity backtest: this
        start is what lets a few hundred optimizer steps beat seasonal naive.
        """
        E = net.layout.views(theta)["head.extra_weight"]  # (steps, targets, per)
        k, c = layout.n_targets, layout.n_known
        E[...] = 0.0
        if not layout.seasons:
            return
        for j in range(k):
            # the first season's reference value of target j: after the known
            # future (c) and that season's known features (c)
            E[:, j, 2 * c + j] = 1.0

    def _check_same_format(self, schema):
        old = self.schema_
        if (schema.n_targets, schema.n_covariates) != (old.n_targets, old.n_covariates):
            raise ValueError(
                "warm_start/partial_fit needs the same targets and covariates as the "
                "first fit; call fit with warm_start=False to start over"
            )

    def named_params(self) -> dict:
        """torch-named views of :attr:`params_` (``weight_ih_l0``, ..., ``head.weight``)."""
        check_is_fitted(self)
        return self._net.layout.views(self.params_)

    # ----------------------------------------------------------- windows
    def _n_lanes(self, total_rows):
        T = int(self.bptt_length)
        if self.batch_size == "auto":
            return int(max(1, min(32, total_rows // (T * 16))))
        return int(max(1, min(self.batch_size, total_rows // T or 1)))

    def _lanes(self, indptr, train_end_s):
        """Cut training rows into lanes of window-aligned pieces.

        Returns ``(rows, reset)``: ``rows`` (B, n_steps) row numbers (-1 = pad),
        ``reset`` (B, n_windows) True where a lane starts a new piece.
        """
        T = int(self.bptt_length)
        first = indptr[:-1]
        n_tr = train_end_s - first
        total = int(n_tr.sum())
        B = self._n_lanes(total)
        seg = max(T, -(-total // B))
        pieces = []
        for s in range(len(first)):
            n = int(n_tr[s])
            if n < 2:
                continue
            k = -(-n // seg)
            # equal pieces, the remainder dropped from the oldest end
            size = n // k
            off = int(first[s]) + n - k * size
            for j in range(k):
                pieces.append((off + j * size, size))
        pieces.sort(key=lambda p: -p[1])
        loads = [0] * B
        lane_pieces = [[] for _ in range(B)]
        for p in pieces:
            i = int(np.argmin(loads))
            lane_pieces[i].append(p)
            loads[i] += -(-p[1] // T) * T
        lane_pieces = [lp for lp in lane_pieces if lp]
        B = len(lane_pieces)
        n_steps = max(sum(-(-size // T) * T for _, size in lp) for lp in lane_pieces)
        rows = np.full((B, n_steps), -1, np.int64)
        reset = np.zeros((B, n_steps // T), bool)
        for i, lp in enumerate(lane_pieces):
            pos = 0
            for begin, size in lp:
                rows[i, pos : pos + size] = np.arange(begin, begin + size)
                reset[i, pos // T] = True
                pos += -(-size // T) * T
        return rows, reset

    def _windows(self, ctx, lanes, rng, T):
        """Yield ``(x, extra, target, mask, reset)`` time-major windows for one epoch."""
        lay = self._layout
        dt = ctx["Y"].dtype
        if lanes is not None:
            rows, reset = lanes
            for w in range(rows.shape[1] // T):
                r = rows[:, w * T : (w + 1) * T].T
                x, ex, tg, mk = gather(
                    lay,
                    ctx["Yin"],
                    ctx["Z"],
                    ctx["start"],
                    ctx["end"],
                    r,
                    ctx["train_end"],
                    Y_target=ctx["Y"],
                )
                yield (
                    np.ascontiguousarray(x, dt),
                    np.ascontiguousarray(ex, dt),
                    tg.astype(dt),
                    mk.astype(dt),
                    reset[:, w],
                )
            return
        # stateless: random windows of burn-in + T steps from a zero state
        burn = T
        indptr, tes = ctx["indptr"], ctx["train_end_s"]
        n_tr = tes - indptr[:-1]
        ok = np.flatnonzero(n_tr >= 2)
        weights = n_tr[ok] / n_tr[ok].sum()
        B = self._n_lanes(int(n_tr.sum()))
        n_batches = max(1, int(n_tr.sum()) // (B * T))
        for _ in range(n_batches):
            s = rng.choice(ok, size=B, p=weights)
            span = np.minimum(burn + T, n_tr[s])
            begin = indptr[s] + (rng.random(B) * (n_tr[s] - span + 1)).astype(np.int64)
            L = burn + T
            steps = np.arange(L)
            r = begin[None, :] + steps[:, None]
            r = np.where(steps[:, None] < span[None, :], r, -1)
            x, ex, tg, mk = gather(
                lay,
                ctx["Yin"],
                ctx["Z"],
                ctx["start"],
                ctx["end"],
                r,
                ctx["train_end"],
                Y_target=ctx["Y"],
            )
            # burn-in steps feed the state but not the loss
            mk[: L - T] = 0.0
            yield (
                np.ascontiguousarray(x, dt),
                np.ascontiguousarray(ex, dt),
                tg.astype(dt),
                mk.astype(dt),
                None,
            )

    # ------------------------------------------------------ full passes
    def _pack(self, theta=None):
        theta = self.params_ if theta is None else theta
        return InferencePack(self._net, theta)

    def _run_rows(
        self, theta, pack, Yin, Z, start, end, rows, state, top, Y_target=None
    ):
        """Run the network over ``rows`` (one series, in order) from ``state``.

        NaN in ``Yin`` is filled by the network's own one-step estimates (stream
        kernel); without NaN the batched scan runs in chunks. ``state`` (n_states,
        L, 1, H) and ``top`` (1, H) are updated in place. Returns head outputs
        ``(len(rows), n_outputs)``.
        """
        lay = self._layout
        net = self._net
        dt = net.dtype
        n = len(rows)
        out = np.empty((n, lay.n_outputs), dtype=dt)
        has_nan = bool(np.isnan(Yin[rows]).any())
        last_out = None
        for a in range(0, n, _CHUNK):
            r = rows[a : a + _CHUNK]
            x, ex, _, _ = gather(lay, Yin, Z, start, end, r, Y_target=Y_target)
            x = np.ascontiguousarray(x[:, None, :], dt)
            ex = np.ascontiguousarray(ex[:, None, :], dt)
            if has_nan:
                if last_out is None:
                    last_out = np.zeros((1, lay.n_outputs), dt)
                fb = np.stack([np.arange(lay.n_targets)] * 2, axis=1)
                o = pack.run(state, x, ex, fb, last_out, top)
            else:
                o, st, cache = net.forward(theta, x, state, ex)
                state[...] = st
                top[...] = cache[0].layers[-1][0].hs[-1]
            out[a : a + len(r)] = o[:, 0]
        return out

    def _impute(self, theta, ctx):
        """Fill missing inputs with the network's own one-step estimates."""
        pack = self._pack(theta)
        Y, Yin = ctx["Y"], ctx["Yin"]
        indptr = ctx["indptr"]
        k = Y.shape[1]
        for s in range(len(indptr) - 1):
            rows = np.arange(indptr[s], indptr[s + 1])
            if not np.isnan(Y[rows]).any():
                continue
            state = self._net.stack.zero_state(1)
            top = np.zeros((1, self.hidden_size), Y.dtype)
            Ynan = Y.copy()
            out = self._run_rows(
                theta,
                pack,
                Ynan,
                ctx["Z"],
                ctx["start"],
                ctx["end"],
                rows,
                state,
                top,
                Y_target=Y,
            )
            miss = np.isnan(Y[rows])
            est = np.vstack([np.zeros((1, k)), out[:-1, :k]])
            fill = Yin[rows]
            if self._layout.relative:
                # the estimates are changes from the step before, which may
                # itself be filled: walk the missing steps in order
                for i, j in zip(*np.nonzero(miss), strict=True):
                    fill[i, j] = (fill[i - 1, j] if i else 0.0) + est[i, j]
            else:
                fill[miss] = est[miss]
            Yin[rows] = fill

    def _final_pass(self, theta, data, ctx):
        """Read every series to its end; store states, tops and history tails."""
        pack = self._pack(theta)
        net = self._net
        dt = net.dtype
        S = data.n_series
        indptr = ctx["indptr"]
        self._state = net.stack.zero_state(S)
        self._top = np.zeros((S, self.hidden_size), dt)
        keep = self._layout.history
        self._tail_y = np.full((S, keep, self._layout.n_targets), np.nan, dt)
        # the known features of the same rows: the head compares the future with them
        self._tail_z = np.zeros((S, keep, self._layout.n_known), dt)
        self._level = np.full((S, self._layout.n_targets), np.nan)
        Ynan = ctx["Y"]
        outputs, self._state, self._top = self._read_all(theta, pack, Ynan, ctx)
        for s in range(S):
            rows = np.arange(indptr[s], indptr[s + 1])
            tail = Ynan[rows[-keep:]]
            self._tail_y[s, keep - len(tail) :] = tail
            self._tail_z[s, keep - len(tail) :] = ctx["Z"][rows[-keep:]]
            self._level[s] = self._last_observed(Ynan[rows])
        self._pack_cache = pack
        return outputs

    def _read_all(self, theta, pack, Yin, ctx, Y_target=None):
        """Run every series from a zero state to its end.

        Series of one length without missing inputs are read together, up to
        ``_GROUP`` at a time, by the batched scan (one call per chunk of steps
        instead of one per series: a global model over thousands of series);
        a series with missing inputs runs alone through the stream kernel,
        which fills them with the model's own estimates.

        Returns
        -------
        outputs : list of ndarray (len_s, n_outputs), one per series
        states : ndarray (n_states, L, S, H)
        tops : ndarray (S, H)
        """
        net, lay = self._net, self._layout
        dt = net.dtype
        indptr = ctx["indptr"]
        S = len(indptr) - 1
        lengths = np.diff(indptr)
        states = net.stack.zero_state(S)
        tops = np.zeros((S, self.hidden_size), dt)
        outputs = [None] * S
        missing = np.isnan(Yin).any(axis=1)
        has_nan = np.array([missing[indptr[s] : indptr[s + 1]].any() for s in range(S)])
        for s in np.flatnonzero(has_nan):
            state = net.stack.zero_state(1)
            top = np.zeros((1, self.hidden_size), dt)
            outputs[s] = self._run_rows(
                theta,
                pack,
                Yin,
                ctx["Z"],
                ctx["start"],
                ctx["end"],
                np.arange(indptr[s], indptr[s + 1]),
                state,
                top,
                Y_target=Y_target,
            )
            states[:, :, s] = state[:, :, 0]
            tops[s] = top[0]
        clean = np.flatnonzero(~has_nan)
        for n in np.unique(lengths[clean]):
            members = clean[lengths[clean] == n]
            for g0 in range(0, len(members), _GROUP):
                grp = members[g0 : g0 + _GROUP]
                G = len(grp)
                rows = indptr[grp][None, :] + np.arange(n)[:, None]  # (n, G)
                state = net.stack.zero_state(G)
                out = np.empty((n, G, lay.n_outputs), dt)
                step = max(1, _CHUNK // G)
                for a in range(0, n, step):
                    x, ex, _, _ = gather(
                        lay,
                        Yin,
                        ctx["Z"],
                        ctx["start"],
                        ctx["end"],
                        rows[a : a + step],
                        Y_target=Y_target,
                    )
                    o, state, cache = net.forward(
                        theta,
                        np.ascontiguousarray(x, dt),
                        state,
                        np.ascontiguousarray(ex, dt),
                    )
                    out[a : a + step] = o
                states[:, :, grp] = state
                tops[grp] = cache[0].layers[-1][0].hs[-1]
                for j, s in enumerate(grp):
                    outputs[s] = out[:, j]
        return outputs, states, tops

    def _val_from_outputs(self, outputs, ctx):
        """Negative scaled MSE of the forecasts made on the held-out tails."""
        lay = self._layout
        num, den = 0.0, 0.0
        for s, out in enumerate(outputs):
            a, b = ctx["indptr"][s], ctx["indptr"][s + 1]
            te = ctx["train_end_s"][s]
            if te >= b:
                continue
            rows = np.arange(te - 1, b)
            _, _, tg, mk = gather(
                lay, ctx["Y"], ctx["Z"], ctx["start"], ctx["end"], rows
            )
            pred = out[rows - a]
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged model
                num += float((((pred - tg) * mk) ** 2).sum())
            den += float(mk.sum())
        return -num / den if den else float("nan")

    def _validation_score(self, theta, ctx):
        pack = self._pack(theta)
        outputs = self._read_all(theta, pack, ctx["Yin"], ctx, Y_target=ctx["Y"])[0]
        return self._val_from_outputs(outputs, ctx)

    def _calibrate(self, data, outputs, ctx, n_val):
        """Conformal residuals from the held-out tails (never trained on)."""
        lay = self._layout
        h = int(self.horizon)
        k = lay.n_targets
        self.conformal_scale_ = series_scale(data)
        scores = []
        if self.strategy == "direct":
            for s, out in enumerate(outputs):
                a, b = ctx["indptr"][s], ctx["indptr"][s + 1]
                te = ctx["train_end_s"][s]
                origins = np.arange(te - 1, b - h)
                if len(origins) == 0:
                    continue
                _, _, tg, mk = gather(
                    lay, ctx["Y"], ctx["Z"], ctx["start"], ctx["end"], origins
                )
                pred = out[origins - a].reshape(-1, h, k)
                truth = tg.reshape(-1, h, k)
                ok = mk.reshape(-1, h, k) > 0
                p = np.full(len(origins), s)
                pred_u = self._scaler.y_inverse(pred, p[:, None])
                truth_u = self._scaler.y_inverse(truth, p[:, None])
                r = np.abs(truth_u - pred_u) / self.conformal_scale_[s]
                r[~ok] = np.nan
                scores.append(r)
        else:
            scores = self._recursive_calibration(data, n_val)
        self.conformal_scores_ = (
            np.concatenate(scores) if scores else np.empty((0, h, k))
        )
        if not len(self.conformal_scores_):
            self._conformal_note = (
                "no held-out tail to calibrate on: set validation_fraction > 0 and "
                f"give series longer than {int(np.ceil((h + 1) / max(self.validation_fraction, 1e-9)))} rows"
            )

    def _recursive_calibration(self, data, n_val, n_origins=50):
        """Residuals of recursive forecasts from origins on the held-out tails."""
        h = int(self.horizon)
        scores = []
        tail_start = data.lengths - n_val
        if not (n_val > h).any():
            return scores
        head = data.take(0, tail_start)
        est = copy.deepcopy(self)
        # re-read the series up to the tail with the final weights
        est._restate(head)
        block = data.take(tail_start, None)
        from .._base import conformal_scores

        sc = conformal_scores(
            est,
            block.take(0, min(int(n_val.max()), n_origins + h - 1)),
            h,
            self.conformal_scale_,
        )
        if len(sc):
            scores.append(sc)
        return scores

    def _restate(self, data: SeriesSet):
        """Reset the state and read ``data`` (the fit series, maybe cut) from the start."""
        lengths = data.lengths
        last = None if data.time is None else data.time[data.indptr[1:] - 1]
        self.schema_ = dataclasses.replace(
            data.schema, n_seen=lengths.copy(), last=last
        )
        start = np.repeat(data.indptr[:-1], lengths)
        end = np.repeat(data.indptr[1:], lengths)
        series = np.repeat(np.arange(data.n_series), lengths)
        Y, Z = self._features(data.y, data.X, data.time, series)
        ctx = dict(Y=Y, Yin=Y, Z=Z, start=start, end=end, indptr=data.indptr)
        self._final_pass(self.params_, data, ctx)

    def _features(self, y, X, time, series):
        """Scaled targets ``Y`` and known features ``Z`` for rows of given series."""
        dt = self._net.dtype
        Y = self._scaler.y(y, series)
        parts = [] if X is None else [self._scaler.x(X)]
        if self._layout.n_calendar:
            parts.append(calendar_features(time, self.schema_.freq))
        Z = np.concatenate(parts, axis=1) if parts else np.zeros((len(Y), 0))
        return Y.astype(dt), Z.astype(dt)

    # ========================================================== predict
    def predict(self, horizon=None, X=None):
        """Forecast the steps after the last observation seen.

        Parameters
        ----------
        horizon : int, optional
            Steps ahead (default: ``horizon``); a direct model forecasts at most
            the ``horizon`` it was trained for.
        X : optional
            Future covariates for those steps (required when fitted with ``X``),
            in the format of ``fit``.

        Returns
        -------
        ndarray or pandas object
            Mirrors ``fit``'s input: ``(h,)``/``(h, n_targets)`` arrays, a Series
            or DataFrame indexed by the future timestamps, or long format.
        """
        check_is_fitted(self)
        h = check_horizon(horizon, self.horizon)
        fut = self.schema_.check_future(h, X)
        values = self._predict_values(fut)
        return self.schema_.format_forecast(values, fut.positions)

    def _future_Z(self, fut: Future):
        P, h = len(fut.positions), fut.horizon
        parts = []
        if fut.X is not None:
            parts.append(self._scaler.x(fut.X.reshape(P * h, -1)).reshape(P, h, -1))
        if self._layout.n_calendar:
            idx = self.schema_.future_index(h, fut.positions)
            parts.append(calendar_features(idx, self.schema_.freq).reshape(P, h, -1))
        if not parts:
            return np.zeros((P, h, 0))
        return np.concatenate(parts, axis=2)

    def _head_extra(self, positions, Zf):
        """Head extras at each series' last row, with future known features ``Zf``."""
        lay = self._layout
        P = len(positions)
        keep = self._tail_y.shape[1]
        h = Zf.shape[1]
        need = lay.horizon_out
        pad = max(need - h, 0)
        Zf = (
            np.concatenate([Zf, np.zeros((P, pad, Zf.shape[2]))], axis=1) if pad else Zf
        )
        L = keep + Zf.shape[1]
        Y = np.full((P, L, lay.n_targets), np.nan)
        Y[:, :keep] = self._tail_y[positions]
        Z = np.zeros((P, L, lay.n_known))
        Z[:, :keep] = self._tail_z[positions]
        Z[:, keep:] = Zf
        Y2 = Y.reshape(P * L, -1)
        Z2 = Z.reshape(P * L, -1)
        block = np.repeat(np.arange(P) * L, L)
        end = block + L
        # a series shorter than the kept history: its first real row is where
        # it starts, so that a season longer than the series falls back to the
        # last value, as in training (not to the padding)
        n_real = np.minimum(keep, np.asarray(self.schema_.n_seen)[positions])
        start = block + np.repeat(keep - n_real, L)
        rows = np.arange(P) * L + keep - 1
        base = self._last_levels(positions)
        x, ex, _, _ = gather(lay, Y2, Z2, start, end, rows, origin=base)
        return ex, Y2, Z2, start, end, L, keep

    def _last_levels(self, positions):
        """Last observed scaled level of each series (0, its mean, if none).

        A forecast of changes starts from it; after trailing missing steps that
        is the last observation, not the unknown current level.
        """
        lv = self._level[positions]
        return np.where(np.isnan(lv), 0.0, lv)

    @staticmethod
    def _last_observed(Y, before=None):
        """Last non-NaN row of ``Y`` (n, k) per target, else ``before`` (or NaN)."""
        seen = ~np.isnan(Y)
        idx = len(Y) - 1 - np.argmax(seen[::-1], axis=0)  # (k,)
        lv = Y[idx, np.arange(Y.shape[1])] if len(Y) else np.full(Y.shape[1], np.nan)
        fallback = np.full(Y.shape[1], np.nan) if before is None else before
        return np.where(seen.any(axis=0), lv, fallback)

    def _head(self, top, extra):
        th = self._net.split(self.params_)[1]
        return self._net.head.forward(th, top, extra)[0]

    def _predict_values(self, fut: Future) -> np.ndarray:
        lay = self._layout
        h = fut.horizon
        pos = np.asarray(fut.positions)
        k = lay.n_targets
        if self.strategy == "direct" and h > self.horizon:
            raise ValueError(
                f"this direct model forecasts at most {self.horizon} steps; set "
                f"horizon={h} and refit, or use strategy='recursive'"
            )
        Zf = self._future_Z(fut)
        ex, Y2, Z2, start, end, L, keep = self._head_extra(pos, Zf)
        out0 = self._head(self._top[pos], ex)  # (P, ho * k)
        if self.strategy == "direct":
            vals = out0.reshape(len(pos), lay.horizon_out, k)[:, :h]
        else:
            vals = np.empty((len(pos), h, k))
            vals[:, 0] = out0[:, :k]
            if h > 1:
                dt = self._net.dtype
                rows = (
                    (np.arange(len(pos)) * L)[None, :]
                    + keep
                    + np.arange(h - 1)[:, None]
                )
                x, exs, _, _ = gather(lay, Y2, Z2, start, end, rows)
                x[..., :k] = np.nan  # unknown targets: fed back from the outputs
                state = np.ascontiguousarray(self._state[:, :, pos]).astype(dt)
                last = np.ascontiguousarray(out0, dt)
                fb = np.stack([np.arange(k)] * 2, axis=1)
                o = self._pack_cache.run(state, x, exs, fb, last)
                vals[:, 1:] = o[:, :, :k].transpose(1, 0, 2)
        if lay.relative:
            # direct: changes from the last level; recursive: step by step
            if self.strategy == "recursive":
                vals = np.cumsum(vals, axis=1)
            vals = vals + self._last_levels(pos)[:, None, :]
        vals = self._scaler.y_inverse(vals, pos[:, None])
        return vals

    # =========================================================== update
    def update(self, y_new, X_new=None):
        """Advance the state over new observations without refitting.

        The cost is proportional to ``len(y_new)``; the next :meth:`predict`
        forecasts from the new end. NaN steps are run through on the model's own
        estimates.

        Parameters
        ----------
        y_new : same format as ``fit``'s ``y``
            Observations that directly follow the last ones seen.
        X_new : optional
            Their covariates (required when fitted with ``X``).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        block = self.schema_.check_update(y_new, X_new)
        with single_threaded_blas():  # thread-count independent, as fit
            self._update_block(block)
        return self

    def _update_block(self, block: SeriesSet) -> None:
        lay = self._layout
        dt = self._net.dtype
        pos = np.asarray(block.positions)
        keep = self._tail_y.shape[1]
        k = lay.n_targets
        series = np.repeat(pos, block.lengths)
        Ynew, Znew = self._features(block.y, block.X, block.time, series)
        new_state = self._state.copy()
        new_top = self._top.copy()
        new_tail = self._tail_y.copy()
        new_tail_z = self._tail_z.copy()
        new_level = self._level.copy()
        for i, p in enumerate(pos):
            Y, Z, start, end = self._with_history(p, Ynew, Znew, block, i)
            L = len(Y)
            # the previous step's one-step estimate, now that its future is known
            _, ex, _, _ = gather(lay, Y, Z, start, end, np.array([keep - 1]))
            state = np.ascontiguousarray(self._state[:, :, p : p + 1])
            top = self._top[p : p + 1].copy()
            rows = np.arange(keep, L)
            if np.isnan(Y[rows]).any():
                last = self._head(top, ex).astype(dt)
                x, exs, _, _ = gather(lay, Y, Z, start, end, rows)
                fb = np.stack([np.arange(k)] * 2, axis=1)
                self._pack_cache.run(
                    state,
                    np.ascontiguousarray(x[:, None], dt),
                    np.ascontiguousarray(exs[:, None], dt),
                    fb,
                    last,
                    top,
                )
            else:
                self._run_rows(
                    self.params_, self._pack_cache, Y, Z, start, end, rows, state, top
                )
            new_state[:, :, p : p + 1] = state
            new_top[p] = top[0]
            new_tail[p] = Y[-keep:]
            new_tail_z[p] = Z[-keep:]
            new_level[p] = self._last_observed(Y[keep:], new_level[p])
        # commit only after every series succeeded
        self._state, self._top = new_state, new_top
        self._tail_y, self._tail_z = new_tail, new_tail_z
        self._level = new_level
        self.schema_ = self.schema_.advance(block)

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

    def partial_fit(self, y_new, X_new=None):
        """One epoch of weight updates on new observations, then advance the state.

        On an unfitted forecaster this is ``fit`` with ``max_iter=1``.
        """
        if not hasattr(self, "params_"):
            validate_params(self)
            data = to_series_set(
                y_new,
                X_new,
                id_col=self.id_col,
                time_col=self.time_col,
                target_col=self.target_col,
                freq=self.freq,
            )
            with single_threaded_blas():
                return self._fit_data(data, partial=True)
        block = self.schema_.check_update(y_new, X_new)
        with single_threaded_blas():
            self._train_on_block(block)
            self._update_block(block)
        return self

    def _train_on_block(self, block: SeriesSet) -> None:
        """TBPTT over the new rows of each series, from its carried state."""
        lay = self._layout
        net = self._net
        keep = self._tail_y.shape[1]
        pos = np.asarray(block.positions)
        series = np.repeat(pos, block.lengths)
        Ynew, Znew = self._features(block.y, block.X, block.time, series)
        loss_fn = get_loss(self.loss)
        rng = np.random.default_rng(self._seed(offset=2 + self._optimizer.t))
        T = int(self.bptt_length)
        theta0, diverged = self.params_.copy(), False
        for i, p in enumerate(pos):
            Y, Z, start, end = self._with_history(p, Ynew, Znew, block, i)
            L = len(Y)
            Yin = np.where(np.isnan(Y), 0.0, Y)
            state = np.ascontiguousarray(self._state[:, :, p : p + 1])
            # the state has read every old row: windows start at the first new row
            for w0 in range(keep, L - 1, T):
                rows = np.arange(w0, min(w0 + T, L - 1))[:, None]
                x, ex, tg, mk = gather(lay, Yin, Z, start, end, rows, Y_target=Y)
                if not mk.any():
                    continue
                res = net.train_step(
                    self.params_,
                    self._optimizer,
                    np.ascontiguousarray(x),
                    tg,
                    mk,
                    loss_fn,
                    state,
                    np.ascontiguousarray(ex),
                    clip_norm=self.clip_norm,
                    dropout=self.dropout,
                    rng=rng,
                    alpha=self.alpha,
                    n_samples=float(mk.sum()),
                )
                if not res.finite or not np.isfinite(self.params_).all():
                    self.params_[...] = theta0
                    diverged = True
                    warnings.warn(
                        f"partial_fit diverged (loss {res.loss}, gradient norm "
                        f"{res.grad_norm}); the weights from before this call were "
                        "kept. Lower learning_rate_init, set or lower clip_norm, or "
                        "scale the data.",
                        DivergenceWarning,
                        stacklevel=3,
                    )
                    break
                state = res.state
            if diverged:
                break
        self._pack_cache = self._pack()
