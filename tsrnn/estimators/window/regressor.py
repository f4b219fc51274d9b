"""``RNNRegressor``: a recurrent network regressor over windows of a series."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..._constraints import StrOptions
from ...data.checks import check_magnitude
from ...data.scaling import location_spread
from ...engine import get_distribution
from ...engine.losses import check_quantile_levels, pinball
from ...evaluation.conformal import check_levels
from ...persist import ModelState, register
from .base import WindowRNN

#: Losses whose head outputs a distribution per output (``predict`` is its mean).
LIKELIHOODS = ("normal", "student_t")
#: The quantile head's levels when ``quantiles`` is not given.
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


# Declared mirror: the Parameters, Attributes and Notes of this docstring repeat
# RNNClassifier's where the models agree; each public class documents itself in full.
@register
class RNNRegressor(RegressorMixin, WindowRNN):
    """Recurrent-network regressor over windows of a time series.

    Each row of ``X`` is one window; the network reads it step by step from a
    zero state, pools its outputs over time and maps them linearly to one value
    or to a vector (e.g. a multi-step horizon). The optimization parameters are
    ``MLPRegressor``'s.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru", "sru"}, default="lstm"
        Recurrent cell (PyTorch's equations and gate orders; SRU after Lei et
        al., 2018).
    hidden_size : int, default=32
        Units per layer and direction.
    input_size : int, default=1
        Features per time step of a 2-D ``X``: each row holds
        ``window * input_size`` values, time-major. Ignored for 3-D ``X``
        (read from ``X.shape[2]``; it must then be 1 or equal to it).
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=False
        Also run each window backwards in time and concatenate both directions.
    dropout : float, default=0.0
        Dropout on the outputs of every recurrent layer but the last, while
        training (no effect with ``num_layers=1``, as in PyTorch).
    pooling : {"last", "mean", "max", "attention"}, default="last"
        How the top layer's outputs over the window become one vector: the last
        step, the mean or element-wise max over steps, or a learned softmax
        attention over steps. With ``bidirectional=True``, "last" reads the
        backward direction after its first step only (as ``output[-1]`` in
        PyTorch); "mean", "max" or "attention" use all of it.
    output : {"window", "sequence"}, default="window"
        ``"window"``: one target (or vector) per window, read from the pooled
        outputs. ``"sequence"``: one target (or ``n_outputs`` targets) per
        *step* of every window, the head applied to the top layer at each
        step (``pooling`` is then not used); ``y`` is ``(n_samples, window)``
        or ``(n_samples, window, n_outputs)``, and predictions gain a step
        axis. See Notes.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of ``cell="rnn"``; the gated cells ignore it.
    loss : {"squared_error", "absolute_error", "huber", "normal", "student_t", \
"quantile"}, default="squared_error"
        Training loss, on the standardized target (so Huber's threshold is one
        standard deviation). ``"normal"`` and ``"student_t"`` (heavy tails,
        e.g. returns) train a likelihood head by maximum likelihood: the head
        outputs the distribution's parameters per output (location, a
        softplus-linked scale, Student-t degrees of freedom above 2), ``predict``
        gives its mean, and :meth:`predict_quantiles`, :meth:`predict_interval`
        and :meth:`sample` read the distribution. ``"quantile"`` trains one
        output per level of ``quantiles`` by the pinball loss; ``predict``
        gives the median (the mean of the quantiles when 0.5 is not among
        them); quantiles are sorted at prediction, so they never cross.
    quantiles : sequence of float, optional
        Levels in (0, 1) of ``loss="quantile"`` (default ``(0.1, 0.5, 0.9)``).
    solver : {"adam", "sgd"}, default="adam"
        Optimizer, as in ``MLPRegressor``.
    alpha : float, default=0.0001
        L2 penalty on weights (not biases), ``0.5 * alpha * ||W||^2 / batch``.
    batch_size : int or "auto", default=32
        Windows per update; "auto" is ``min(200, n_samples)``. Clipped to the
        number of training windows without a warning (small CV folds are
        normal for windows).
    learning_rate_init : float, default=0.001
        Step size.
    max_iter : int, default=200
        Epochs (passes over the training windows).
    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress.
    shuffle : bool, default=True
        Shuffle the training windows each epoch (the validation tail is never
        shuffled into training).
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for SGD.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    early_stopping : bool, default=False
        Hold out the *last* ``validation_fraction`` of the rows (windows are
        in time order, so this is the future), stop when R² on it stops
        improving for ``n_iter_no_change`` epochs and restore the best epoch's
        weights.
    validation_fraction : float, default=0.1
        Fraction of rows (rounded up) in the validation tail, at least 2 rows
        (R² needs two).
    n_iter_no_change : int or inf, default=10
        Epochs without improvement of at least ``tol`` before stopping.
    clip_norm : float or None, default=5.0
        Rescale each batch gradient to at most this global L2 norm (the
        standard guard against exploding gradients in BPTT); None disables.
    dtype : {"float64", "float32"}, default="float64"
        Precision of parameters and computation.
    random_state : int, RandomState instance or None, default=None
        Seeds initialization, shuffling and dropout; an int makes ``fit``
        reproducible bit for bit.
    warm_start : bool, default=False
        Continue from the previous fit: parameters, optimizer state, random
        stream, target scaling and curves carry over, so ``fit(max_iter=a)``
        then ``fit(max_iter=b)`` equals one ``fit(max_iter=a + b)`` when
        nothing stops early. The architecture cannot change.
    verbose : int, default=0
        ``>= 1``: a tqdm progress bar with loss (and validation score) per
        epoch; without tqdm, one line per epoch on stderr.

    Attributes
    ----------
    params_ : ndarray of shape (n_params,)
        All parameters in one flat vector; :meth:`named_params` gives
        PyTorch-named views.
    n_features_in_ : int
        Values per (flattened) row, ``window_ * input_size_``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names, when ``X`` was a DataFrame with string columns.
    input_size_ : int
        Features per time step.
    window_ : int
        Time steps per window (the longest sequence after a ragged fit).
    n_outputs_ : int
        Targets per window (columns of ``y``).
    n_iter_ : int
        Epochs run (accumulated over ``warm_start``/``partial_fit`` calls).
    t_ : int
        Training windows seen by the optimizer (``n_iter_ * n_train``).
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss per epoch (on the standardized target).
    best_loss_ : float
        Lowest training loss reached.
    validation_scores_ : list of float or None
        R² on the validation tail per epoch; None without early
        stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_`` (the restored epoch); None without early
        stopping.
    grad_norm_curve_ : list of float
        Mean global gradient norm (before clipping) per epoch.
    stopped_ : str
        Why the last ``fit`` stopped: ``"max_iter"``, ``"converged"``,
        ``"early_stopping"``, ``"diverged"`` or ``"interrupted"``.
    dh_norm_ : ndarray of shape (num_layers * D, ``window_``)
        ``||dL/dh_t||`` per layer-direction and time step for the last training
        batch, in forward time order (D = 2 if bidirectional). A norm that
        shrinks towards step 0 reveals vanishing gradients; one that grows,
        exploding gradients.

    See Also
    --------
    RNNClassifier : The classifier on the same windows.
    sklearn.neural_network.MLPRegressor : The feed-forward counterpart.

    Notes
    -----
    Inputs are not standardized (like ``MLPRegressor``): put a
    ``StandardScaler`` in front in a ``Pipeline``; recurrent units saturate on
    raw values. The *target* is standardized internally per output (mean and
    standard deviation of the training rows of the first ``fit`` or
    ``partial_fit`` call; the early-stopping tail is left out, and warm starts
    keep the scaling their parameters were trained with), so the default
    learning rate suits any target scale: the statistics are computed relative
    to the target's magnitude, so a target of amplitude 1e-13 or 1e200 is
    predicted as the unit one times its amplitude (``|y|`` up to 1e300; a
    constant output is scaled by its own magnitude). ``loss_curve_`` is therefore in
    standardized units; predictions are in the original units, as float64.

    A 3-D ``X`` ``(n_samples, window, n_features)`` is flattened before
    scikit-learn's validation (which only knows 2-D arrays); see the module
    docstring.

    Ragged sequences. ``X`` may hold sequences of different lengths
    (sessions, machine cycles, trips), in two forms: a list (or tuple) of
    arrays, one per sequence, each ``(T_i, n_features)`` or ``(T_i,)`` (read
    like a row of a 2-D ``X``: time-major, ``input_size`` features per step);
    or a 3-D float array ``(n_samples, T, n_features)`` padded with NaN,
    where a sequence ends at its last step that is not all NaN and every
    step after it is padding (all features NaN). A NaN before a sequence's
    end, a step NaN in some features only, or any NaN in a list's sequences
    is refused, as are empty sequences and sequences with different
    features per step. Each sequence is read exactly as if alone: the
    network runs on one length at a time, from a zero state, so padding never
    reaches the pooling (``"last"`` is each sequence's own last step), the
    loss or the gradients, and a bidirectional layer reads each sequence
    backwards from its own end; a batch's gradient is the mean of its
    sequences' gradients. ``fit``, ``partial_fit`` and every predict method
    accept both forms, whatever the model was fitted on. Cost: one network
    run per distinct length in a batch, so training sorts the sequences by
    length before cutting the batches (with ``shuffle=True``, ties in random
    order and the batches visited in random order; otherwise in input
    order); a batch then holds one or two lengths. Measured (512 sequences
    of 10 to 60 steps, an LSTM of 32 units): an epoch costs 1.2 times
    (batches of 32) to 1.3 times (batches of 8) the same number of windows
    of the mean length, and ``predict`` (one run per length) 1.3 to 1.8
    times. The batches are thus drawn from
    neighbouring lengths, not uniformly. After a ragged fit, ``window_`` is
    the longest sequence, ``n_features_in_`` is ``window_ * input_size_``
    (2-D rows of that width remain valid input) and ``dh_norm_`` covers the
    longest sequence of the last batch, with step ``t`` counted from each
    sequence's start.

    Per-step outputs (``output="sequence"``). Every step of a window has its
    own target and the loss is the mean over all steps of a batch (so a
    sequence weighs by its length, as a masked padded batch would); with
    ragged ``X``, ``y`` is a list of ``(T_i,)`` (or ``(T_i, n_outputs)`` for
    the regressor) arrays matching the sequences' lengths, or an array
    padded past each sequence's end (the padding is never read and may be
    NaN); a missing target inside a sequence is refused. Predictions (and
    probabilities, quantiles, intervals, samples) come with a step axis
    after the window axis, ``(n_samples, window, ...)``, or as a list of
    ``(T_i, ...)`` arrays for ragged input. ``score`` scores every step
    (R² or accuracy over all steps; ``sample_weight`` weighs each window's
    steps). With ``bidirectional=True`` each step reads the whole window
    (past and future steps), as in sequence tagging; ``bidirectional=False``
    labels each step from the steps so far.

    Divergence gives a warning, not an error. Every batch checks its loss and
    gradient; the first non-finite one, one whose loss exceeds 1000 times the larger
    of 1 and the loss of predicting 0 (on the standardized targets: an exploding
    learning rate; :class:`~tsrnn.engine.DivergenceGuard`), or weights that
    overflow, stops ``fit`` at once, inside the epoch, with a
    :class:`~tsrnn.engine.DivergenceWarning` (a ``RuntimeWarning``) that says which
    weights were kept and suggests a smaller ``learning_rate_init``, ``clip_norm``
    or scaled data. The model stays usable: it keeps the finite weights of its best
    finished epoch (by training loss, or validation score with ``early_stopping``),
    or those it started from when the first epoch diverged, and ``stopped_`` is
    ``"diverged"``.

    A network whose parameters would take more than
    :data:`tsrnn.engine.budget.MAX_ARRAY_BYTES` (2 GiB; ``hidden_size``,
    ``num_layers``) is refused with a ``ValueError`` before anything is
    allocated; ``batch_size`` is bounded by the rows and ``predict`` works in
    chunks of bounded memory.

    With an int ``random_state``, ``fit`` is bit for bit reproducible, in one
    process, across processes and through ``save``/:func:`tsrnn.load`; fits
    and predictions run their matrix products on one BLAS thread, so they do
    not depend on the BLAS thread count, and ``predict`` is safe to call from
    several threads at once.

    Changing parameters after fit (the rule of every tsrnn estimator): the
    parameters that define the fitted network (``cell``, ``hidden_size``,
    ``num_layers``, ``bidirectional``, ``pooling``, ``nonlinearity``,
    ``dtype``, ``loss``) are frozen by ``fit``. After ``set_params`` changes
    one of them, ``predict``, ``score``, ``partial_fit``, a ``warm_start`` fit
    and ``save`` raise ``ValueError("parameters changed since fit: ...")``
    naming them and their fitted values: call ``fit`` to refit, or set them
    back. The training settings (``learning_rate_init``, ``max_iter``,
    ``solver``, ``alpha``, ``batch_size``, ...) may change at any time and take
    effect at the next ``fit`` or ``partial_fit``, as in ``MLPRegressor``.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from tsrnn.estimators import RNNRegressor
    >>> series = np.sin(0.2 * np.arange(300.0))
    >>> X = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)  # 12 steps
    >>> y = series[12:]  # the value after each window
    >>> reg = RNNRegressor(cell="gru", hidden_size=8, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs: a demo
    ...     reg = reg.fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    >>> reg.named_params()["weight_ih_l0"].shape
    (24, 1)
    """

    _parameter_constraints: dict = {
        **WindowRNN._parameter_constraints,
        "loss": [
            StrOptions(
                {"squared_error", "absolute_error", "huber", "quantile", *LIKELIHOODS}
            )
        ],
        "quantiles": [None, list, tuple, np.ndarray],
    }
    _validate_y_kwargs = {"multi_output": True, "y_numeric": True}
    # R² on one window is undefined.
    _min_validation_samples = 2

    # Declared mirror: WindowRNN.__init__'s parameters plus ``loss``, written out
    # because scikit-learn reads an estimator's parameters from its __init__.
    _fit_config_params = (*WindowRNN._fit_config_params, "loss", "quantiles")

    def __init__(
        self,
        cell="lstm",
        hidden_size=32,
        input_size=1,
        *,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        pooling="last",
        output="window",
        nonlinearity="tanh",
        loss="squared_error",
        quantiles=None,
        solver="adam",
        alpha=0.0001,
        batch_size=32,
        learning_rate_init=0.001,
        max_iter=200,
        tol=1e-4,
        shuffle=True,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        clip_norm=5.0,
        dtype="float64",
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        super().__init__(
            cell=cell, hidden_size=hidden_size, input_size=input_size,
            num_layers=num_layers, bidirectional=bidirectional, dropout=dropout,
            pooling=pooling, output=output, nonlinearity=nonlinearity,
            solver=solver, alpha=alpha,
            batch_size=batch_size, learning_rate_init=learning_rate_init,
            max_iter=max_iter, tol=tol, shuffle=shuffle, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, clip_norm=clip_norm, dtype=dtype,
            random_state=random_state, warm_start=warm_start, verbose=verbose,
        )
        self.loss = loss
        self.quantiles = quantiles

    @property
    def _loss_name(self):
        return self.loss

    # ------------------------------------------------------ probabilistic heads
    def _quantile_levels(self) -> tuple:
        if self.loss != "quantile":
            return ()
        return check_quantile_levels(self.quantiles, DEFAULT_QUANTILES)

    def _params_per_output(self) -> int:
        if self.loss in LIKELIHOODS:
            return get_distribution(self.loss).n_params
        if self.loss == "quantile":
            return len(self._quantile_levels())
        if self.quantiles is not None:
            raise ValueError(
                f"quantiles is for loss='quantile', not loss={self.loss!r}; "
                "set loss='quantile' or drop quantiles"
            )
        return 1

    def _head_outputs(self) -> int:
        return self.n_outputs_ * self._params_per_output()

    def _training_loss(self):
        if self.loss in LIKELIHOODS:
            return get_distribution(self.loss).loss
        if self.loss == "quantile":
            return partial(pinball, quantiles=self._quantile_levels())
        return super()._training_loss()

    def _point(self, out: np.ndarray) -> np.ndarray:
        """Point forecasts ``(n, n_outputs)`` in the standardized space."""
        if self.loss in LIKELIHOODS:
            return get_distribution(self.loss).mean(out)
        if self.loss == "quantile":
            levels = self._quantile_levels()
            q = np.sort(out.reshape(len(out), self.n_outputs_, len(levels)), axis=2)
            if 0.5 in levels:
                return q[:, :, levels.index(0.5)]
            return q.mean(axis=2)
        return out

    def _unscale(self, values: np.ndarray) -> np.ndarray:
        return values * self._y_scale + self._y_mean

    def _shape_out(self, values: np.ndarray) -> np.ndarray:
        return values.reshape(len(values), -1)[:, 0] if self.n_outputs_ == 1 else values

    def predict_quantiles(self, X: ArrayLike, quantiles) -> np.ndarray:
        """Quantiles of the predictive distribution (likelihood or quantile heads).

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        quantiles : float or sequence of float
            Levels in (0, 1). A quantile head gives the levels it was trained
            on (sorted, so they never cross) and interpolates linearly between
            them; outside them it refuses.

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles) or (n_samples, n_outputs, n_quantiles)
            With ``output="sequence"``: ``(n_samples, window, ...)``, or a list
            of ``(T_i, ...)`` arrays for ragged input.
        """
        check_is_fitted(self)
        out, layout = self._step_outputs(X)
        return self._shaped(self._quantile_rows(out, quantiles), layout)

    def _quantile_rows(self, out: np.ndarray, quantiles) -> np.ndarray:
        """Quantiles ``(rows, n_quantiles)`` or ``(rows, n_outputs, n_quantiles)``."""
        qs = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
        if qs.ndim != 1 or not np.all((qs > 0) & (qs < 1)):
            raise ValueError(
                f"quantiles must be levels strictly between 0 and 1, got {quantiles!r}"
            )
        if self.loss in LIKELIHOODS:
            dist = get_distribution(self.loss)
            vals = np.stack([dist.quantile(out, q) for q in qs], axis=-1)
        elif self.loss == "quantile":
            levels = np.asarray(self._quantile_levels())
            if qs.min() < levels.min() - 1e-9 or qs.max() > levels.max() + 1e-9:
                raise ValueError(
                    f"the quantile head was trained on levels "
                    f"{[float(v) for v in levels]}; ask for levels between them, or "
                    "refit with wider quantiles"
                )
            qs = np.clip(qs, levels.min(), levels.max())  # 0.1 - 1e-17 is 0.1
            q = np.sort(out.reshape(len(out), self.n_outputs_, len(levels)), axis=2)
            vals = np.stack(
                [
                    np.apply_along_axis(lambda r, v=v: np.interp(v, levels, r), 2, q)
                    for v in qs
                ],
                axis=-1,
            )
        else:
            raise ValueError(
                f"loss={self.loss!r} gives point forecasts only; fit with "
                "loss='normal', 'student_t' or 'quantile' for quantiles"
            )
        vals = vals * self._y_scale[None, :, None] + self._y_mean[None, :, None]
        return vals[:, 0, :] if self.n_outputs_ == 1 else vals

    def predict_interval(self, X: ArrayLike, level=None, *, coverage=None):
        """Central prediction intervals from the predictive distribution.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        level : float or list of float, optional
            Percentages (``90``, ``[80, 95]``) or fractions; default 90.
        coverage : float, optional
            One level as a fraction (0.9); ``level`` is the same.

        Returns
        -------
        (lower, upper) : tuple of ndarray
            Shaped like :meth:`predict`, with a leading level axis when
            ``level`` is a list.
        """
        coverages, several = check_levels(level, coverage)
        tails = [(1 - c) / 2 for c in coverages]
        check_is_fitted(self)
        out, layout = self._step_outputs(X)
        qs = self._quantile_rows(out, tails + [1 - t for t in tails])
        n = len(coverages)
        lower = [qs[..., i] for i in range(n)]
        upper = [qs[..., n + i] for i in range(n)]
        if several:
            return (self._levels_first(np.stack(lower, axis=-1), layout),
                    self._levels_first(np.stack(upper, axis=-1), layout))
        return self._shaped(lower[0], layout), self._shaped(upper[0], layout)

    def sample(
        self, X: ArrayLike, n_samples: int = 100, *, temperature: float = 1.0,
        random_state=None,
    ) -> np.ndarray:
        """Draws from the predictive distribution of a likelihood head.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        n_samples : int, default=100
            Draws per window.
        temperature : float, default=1.0
            Scales the spread around the mean; 0 returns the mean.
        random_state : int, Generator or None

        Returns
        -------
        ndarray of shape (n_windows, n_samples) or (n_windows, n_samples, n_outputs)
            With ``output="sequence"``, the steps come second:
            ``(n_windows, window, n_samples[, n_outputs])`` (a list of
            ``(T_i, n_samples[, n_outputs])`` arrays for ragged input).
        """
        check_is_fitted(self)
        if self.loss not in LIKELIHOODS:
            raise ValueError(
                f"sample needs a likelihood head; fit with loss='normal' or "
                f"'student_t' (loss={self.loss!r})"
            )
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
        if not isinstance(temperature, Real) or not temperature >= 0:
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        out, layout = self._step_outputs(X)
        many = np.repeat(out[:, None, :], n_samples, axis=1)
        draws = get_distribution(self.loss).sample(many, rng, float(temperature))
        draws = draws * self._y_scale + self._y_mean
        return self._shaped(draws[..., 0] if self.n_outputs_ == 1 else draws, layout)

    def __sklearn_tags__(self):
        """Tags: several outputs (a horizon vector) are supported."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_y(self, y, first, incremental, classes, n_train):
        Y = np.asarray(y, dtype=np.float64)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if first:
            self.n_outputs_ = Y.shape[1]
            check_magnitude(
                Y, "y", "divide y by a constant (e.g. a power of ten) and scale the "
                "predictions back"
            )
            # Relative to each output's magnitude (computed on y / max|y|): a
            # target of amplitude 1e-13 or 1e200 is scaled like the unit one,
            # and a constant c is scaled by |c| (see tsrnn.data.scaling).
            mean, scale = location_spread(
                Y[:n_train], "standard",
                lambda j: "y" if Y.shape[1] == 1 else f"y column {j}",
            )
            self._y_mean, self._y_scale = mean, scale
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but the model was fitted with "
                f"n_outputs_={self.n_outputs_}; set warm_start=False or call fit."
            )
        return ((Y - self._y_mean) / self._y_scale).astype(self._param_dtype())

    def _target_state(self, state: ModelState) -> None:
        """The target scaling fitted on the first fit's training rows."""
        state.arrays["_y_mean"] = np.asarray(self._y_mean)
        state.arrays["_y_scale"] = np.asarray(self._y_scale)

    def _load_target_state(self, state: ModelState) -> None:
        self._y_mean = state.array("_y_mean", (self.n_outputs_,), np.float64)
        self._y_scale = state.array("_y_scale", (self.n_outputs_,), np.float64)

    def _validation_score(self, out, Y):
        # R² is invariant to the per-output affine scaling, so the standardized
        # space gives the same score as the original units.
        return r2_score(Y, self._point(out))

    def fit(self, X: ArrayLike, y: ArrayLike) -> RNNRegressor:
        """Train on windows ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
            One window per row, time-major.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The value (or vector, e.g. a horizon) to predict from each window.
            With ``output="sequence"``, one per step: shape
            ``(n_samples, window[, n_outputs])``, or a list of per-sequence
            arrays for ragged ``X`` (see Notes).

        Returns
        -------
        self : RNNRegressor
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> RNNRegressor:
        """Train one epoch on ``(X, y)``, continuing from the current state.

        The first call initializes the model (and the target scaling) from
        ``random_state``; ``early_stopping`` does not apply. With
        ``shuffle=False``, ``k`` calls on the same data equal
        ``fit(max_iter=k)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            As for :meth:`fit` (one per step with ``output="sequence"``).

        Returns
        -------
        self : RNNRegressor
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict from windows, in memory-bounded chunks.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            With ``output="sequence"``, one per step: ``(n_samples, window)``
            or ``(n_samples, window, n_outputs)``, or a list of ``(T_i,)`` /
            ``(T_i, n_outputs)`` arrays for ragged input.
            float64, in the units of the training target.
        """
        out, layout = self._step_outputs(X)
        out = self._unscale(self._point(out))
        return self._shaped(out.ravel() if self.n_outputs_ == 1 else out, layout)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight=None) -> float:
        """R² of :meth:`predict` (over every step with ``output="sequence"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        y : array-like of shape (n_samples,) or (n_samples, n_outputs); with \
``output="sequence"`` one target per step (as at fit)
        sample_weight : array-like of shape (n_samples,), optional
            Per window; with ``output="sequence"`` it weighs each of the
            window's steps.

        Returns
        -------
        float
            ``sklearn.metrics.r2_score`` (uniform average over outputs).
        """
        if not self._per_step:
            return super().score(X, y, sample_weight=sample_weight)
        out, truth, weight = self._step_score_rows(X, y, sample_weight)
        return float(r2_score(truth, self._unscale(self._point(out)),
                              sample_weight=weight))
