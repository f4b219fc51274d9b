"""Window models: :class:`RNNRegressor` and :class:`RNNClassifier`.

Each row of ``X`` is one window of a time series, independent of the others, so
these estimators behave like ``MLPRegressor``/``MLPClassifier`` with a recurrent
network inside: they pass scikit-learn's estimator checks and compose with
``Pipeline``, ``GridSearchCV`` and ``cross_validate``.

Data contract
-------------
``X`` is either

* 2-D ``(n_samples, window * input_size)``: each row is a window flattened
  time-major, i.e. step 0's ``input_size`` features, then step 1's, and so on
  (what ``windowing.make_windows(..., flatten=True)`` and
  ``sliding_window_view`` produce); or
* 3-D ``(n_samples, window, n_features)``: then the features per step are read
  from ``X.shape[2]``.

scikit-learn's ``validate_data`` only knows 2-D arrays, so a 3-D ``X`` is
flattened (C order, which is exactly the time-major row layout above) *before*
validation. Everything sklearn records is therefore about the flattened form:
``n_features_in_ == window * n_features``, and a model fitted on 3-D windows
also accepts the same windows flattened (and vice versa).

Training
--------
Every batch of windows ``(batch, window, I)`` is transposed to the engine's
time-major ``(window, batch, I)`` and run from a zero initial state (windows are
independent), pooled over time by the head (``pooling``), and trained by
:meth:`tsrnn.engine.Network.train_step` inside the shared epoch loop
:func:`tsrnn.engine.run_epochs` (stopping rules, best-weight restore,
divergence and Ctrl-C handling, progress bar).
"""

from __future__ import annotations

import contextlib
import math
import threading
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._constraints import Interval, Options, StrOptions, validate_params
from .._recurrent import RecurrentStack
from .._save import SaveMixin
from .._threads import single_threaded_blas as _single_threaded_blas
from ..engine import (
    Diverged,
    LinearHead,
    Network,
    TrainingLog,
    get_loss,
    make_optimizer,
    run_epochs,
)

__all__ = ["RNNRegressor", "RNNClassifier"]

# Memory budget of one predict chunk: the forward pass keeps per-step gates and
# states of every layer (about 8 * hidden numbers per step, layer and
# direction), so rows per chunk shrink as windows and networks grow.
_PREDICT_CHUNK_BYTES = 32 * 2**20
_PREDICT_CHUNK_MAX_ROWS = 8192

def _as_rows(X: ArrayLike) -> tuple[ArrayLike, int | None]:
    """Flatten a 3-D ``(n, window, features)`` X to 2-D rows.

    Returns ``(X, n_step_features)``; ``n_step_features`` is None when ``X``
    was not 3-D (then ``X`` is returned untouched, for ``validate_data`` to
    check and convert: DataFrames keep their column names that way).
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        try:
            ndim = np.ndim(X)
        except ValueError:  # ragged nested lists: let validate_data explain
            ndim = None
    if ndim != 3:
        return X, None
    X = np.asarray(X)
    n, window, n_features = X.shape
    # C order puts step 0's features first: the documented time-major row.
    return X.reshape(n, window * n_features), n_features


_X_SHAPES = (
    "2-D (n_samples, window * input_size), one flattened window per row, or 3-D "
    "(n_samples, window, n_features)"
)


def _text_error(what: str, example) -> TypeError:
    fix = (
        "pass numeric targets (for class labels use RNNClassifier)"
        if what == "y"
        else "convert it first (pd.to_numeric for numbers stored as text, "
        "OneHotEncoder or codes for categories)"
    )
    return TypeError(f"{what} holds text (e.g. {str(example)!r}), not numbers; {fix}")


def _check_values(X, what: str, ndims=(1, 2, 3), labels: bool = False) -> None:
    """Clear errors for windows that scikit-learn's validation explains poorly.

    Refuses a rank outside ``ndims``, ragged rows, complex and text values,
    inf (and NaN in ``y``), with messages that name the fix; ``labels``: class
    labels, only checked for NaN and inf. Everything else (1-D ``X`` at
    predict, NaN in ``X``, sparse input, feature names) is left to
    ``validate_data``, whose messages scikit-learn's own checks expect; complex
    input keeps its "Complex data not supported" and non-numeric objects their
    "argument must be a string or a real number" wording. Nothing is modified.
    """
    if X is None or sp.issparse(X):
        return
    if labels:
        arr = np.asarray(X) if isinstance(X, (np.ndarray, list, tuple)) else None
        if arr is not None and arr.dtype.kind == "f":
            _check_finite_values(arr, what)
        return
    if isinstance(X, (pd.Series, pd.DataFrame)):
        cols = (
            [(what, X)]
            if isinstance(X, pd.Series)
            else [(f"{what} column {c!r}", X.iloc[:, j]) for j, c in enumerate(X)]
        )
        for label, col in cols:
            dtype = col.dtype
            if pd.api.types.is_complex_dtype(dtype):
                raise ValueError(
                    f"Complex data not supported: {label} is complex; pass real "
                    "values (e.g. np.abs or .real)"
                )
            if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(
                dtype
            ):
                continue
            if pd.api.types.is_object_dtype(dtype):
                _check_values(col.to_numpy(), label)
                continue
            raise TypeError(
                f"{label} has dtype {dtype}, not numbers; convert it first "
                "(pd.to_numeric, .astype(float), or encode categories and "
                "datetimes as numbers)"
            )
        return
    if not isinstance(X, (np.ndarray, list, tuple)):
        return
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"{what} is ragged ({exc}); every window needs the same number of "
            "steps and features: pad or cut them (tsrnn.make_windows builds "
            "equal windows from a series)"
        ) from exc
    if arr.ndim not in ndims:
        want = _X_SHAPES if what == "X" else "1-D or 2-D (n_samples, n_outputs)"
        raise ValueError(
            f"{what} must be {want}; got shape {arr.shape}. For one long series, "
            "cut it into windows first with tsrnn.make_windows"
        )
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {what} is complex; pass real values "
            "(e.g. np.abs or .real)"
        )
    if kind in "USa":
        raise _text_error(what, arr.flat[0] if arr.size else "")
    if kind == "f":
        _check_finite_values(arr, what)
    if kind in "Mm":
        raise TypeError(
            f"{what} holds datetimes/timedeltas, not numbers; convert them to "
            "numbers first (e.g. elapsed seconds)"
        )
    if kind == "O":
        try:
            arr.astype(np.float64)
        except TypeError as exc:  # dicts, complex numbers, ...
            if "NAType" in str(exc):
                return  # pd.NA: validate_data reports it as missing
            raise TypeError(
                f"{what} holds values that are not numbers ({exc}); convert them "
                "to numbers first"
            ) from exc
        except ValueError as exc:  # text that is not a number
            raise TypeError(
                f"{what} holds text, not numbers ({exc}); convert it first "
                "(pd.to_numeric for numbers stored as text, OneHotEncoder or codes "
                "for categories)"
            ) from exc


def _check_finite_values(arr: np.ndarray, what: str) -> None:
    """inf anywhere, NaN in targets (NaN in ``X`` is left to ``validate_data``)."""
    if arr.ndim == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):  # the common case, without a temporary
            return
    bad = np.isinf(arr)
    if what == "y":
        bad |= np.isnan(arr)
    if not bad.any():
        return
    first = np.unravel_index(int(np.argmax(bad)), bad.shape)
    problem = "infinity" if np.isinf(arr[first]) else "NaN"
    keep = "np.isfinite(y)" if arr.ndim == 1 else f"np.isfinite({what}).all(axis=1)"
    if what != "y" and arr.ndim == 3:
        keep = f"np.isfinite({what}).all(axis=(1, 2))"
    fix = "clip or replace the infinite values" if problem == "infinity" else (
        "impute the missing targets"
    )
    raise ValueError(
        f"Input {what} contains {problem} ({int(bad.sum())} value(s), first in row "
        f"{first[0]}); drop those windows (keep = {keep}; X, y = X[keep], y[keep]) "
        f"or {fix}"
    )


def _num_rows(a) -> int | None:
    """Rows of an array-like (None when it has no length to compare)."""
    if a is None:
        return None
    shape = getattr(a, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    if isinstance(a, (list, tuple)):
        return len(a)
    return None


class _WindowRNN(SaveMixin, BaseEstimator):
    """Shared machinery of the window regressor and classifier (not public)."""

    _parameter_constraints: dict = {
        "cell": [StrOptions({"rnn", "lstm", "gru", "sru"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "input_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pooling": [StrOptions({"last", "mean", "max", "attention"})],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [
            StrOptions({"float64", "float32"}),
            Options(type, {np.float64, np.float32}),
        ],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    # Fewest windows in the early-stopping validation tail (R² needs two).
    _min_validation_samples = 1

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
        nonlinearity="tanh",
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
        # sklearn convention: store only; every check happens in fit.
        self.cell = cell
        self.hidden_size = hidden_size
        self.input_size = input_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.pooling = pooling
        self.nonlinearity = nonlinearity
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------ subclass hooks
    # Each subclass defines ``_loss_name``, ``_encode_y(y, first, incremental,
    # classes, n_train)`` (targets -> training array, fitting the label
    # encoding or the target scaler) and ``_validation_score(out, Y)`` (the
    # early-stopping score: R^2 for the regressor, accuracy for the classifier).
    _loss_name: str
    _validate_y_kwargs: dict = {}

    # ------------------------------------------------------------------ sklearn
    def __sklearn_is_fitted__(self) -> bool:
        # A fit that failed half-way may leave n_features_in_ behind; the model
        # exists only once its parameters do.
        return hasattr(self, "params_")

    def __sklearn_tags__(self):
        """Tags: 3-D ``(n_samples, window, n_features)`` input is accepted."""
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # ----------------------------------------------------------------- public
    def named_params(self) -> dict[str, np.ndarray]:
        """Parameters as PyTorch-named, shaped views into ``params_``.

        The recurrent tensors carry ``torch.nn.RNN/LSTM/GRU`` names, shapes and
        gate orders (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ...,
        ``_reverse`` for the backward direction); the read-out is
        ``head.weight``, ``head.bias`` (and ``head.attention`` for attention
        pooling).

        Returns
        -------
        dict of str to ndarray
            Zero-copy views: writing into them changes the model.
        """
        check_is_fitted(self)
        return self._network.layout.views(self.params_)

    # ---------------------------------------------------------------- helpers
    def _param_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def _architecture(self) -> tuple:
        return (self.cell, self.hidden_size, self.num_layers, self.bidirectional,
                self.pooling, self.nonlinearity, self._param_dtype())

    def _validate_X_y(self, X: ArrayLike, y: ArrayLike, reset: bool):
        _check_values(X, "X")
        numeric_y = bool(self._validate_y_kwargs.get("y_numeric"))
        _check_values(y, "y", ndims=(1, 2), labels=not numeric_y)
        n_x, n_y = _num_rows(X), _num_rows(y)
        if n_x is not None and n_y is not None and n_x != n_y:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{n_x} window(s) (rows) but y has {n_y}; pass one target per window "
                "(tsrnn.make_windows returns matching X and y)"
            )
        X, n_step = _as_rows(X)
        if reset and n_step is not None and self.input_size not in (1, n_step):
            raise ValueError(
                f"input_size={self.input_size} but X is 3-D with {n_step} features "
                f"per time step (shape (n_samples, window, n_features)). With 3-D X "
                f"the features per step are read from X.shape[2]: leave input_size "
                f"at its default or set it to {n_step}."
            )
        X, y = validate_data(self, X, y, reset=reset, dtype=self._param_dtype(),
                             **self._validate_y_kwargs)
        if reset:
            step = n_step if n_step is not None else self.input_size
            if X.shape[1] % step:
                raise ValueError(
                    f"X has {X.shape[1]} feature(s) per row, which is not a multiple "
                    f"of input_size={step}. Each row must hold window * input_size "
                    f"values, time-major (step 0's features, then step 1's, ...). Set "
                    f"input_size to the number of features per time step, or pass X "
                    f"as a 3-D array (n_samples, window, n_features)."
                )
            self.input_size_ = step
            self.window_ = X.shape[1] // step
        else:
            self._check_step_features(n_step)
        return X, y

    def _check_step_features(self, n_step: int | None, n_values=None) -> None:
        if n_step is not None and n_step != self.input_size_:
            raise ValueError(
                f"X is 3-D with {n_step} features per time step, but "
                f"{type(self).__name__} was fitted with {self.input_size_} "
                f"(input_size_) features per step over {self.window_} steps; pass "
                f"windows of shape (n_samples, {self.window_}, {self.input_size_}), "
                "as at fit."
            )
        if n_step is not None and n_values is not None and n_values != (
            self.n_features_in_
        ):
            raise ValueError(
                f"X is 3-D with windows of {n_values // n_step} steps, but "
                f"{type(self).__name__} was fitted on windows of {self.window_} "
                f"steps; pass windows of shape (n_samples, {self.window_}, "
                f"{self.input_size_}), as at fit."
            )

    def _validate_X(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self)
        _check_values(X, "X")
        X, n_step = _as_rows(X)
        if n_step is not None:
            self._check_step_features(n_step, X.shape[1])
        elif (
            isinstance(X, np.ndarray)
            and X.ndim == 2
            and X.shape[1] != self.n_features_in_
        ):
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input: each row must "
                f"be one window of {self.window_} step(s) x {self.input_size_} "
                "feature(s), flattened time-major as at fit (or pass a 3-D array "
                f"(n_samples, {self.window_}, {self.input_size_}))."
            )
        X = validate_data(self, X, reset=False, dtype=self._network.dtype)
        return X

    def _init_model(self) -> None:
        """Fresh network, parameters, optimizer, random stream and curves."""
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        # One Generator drives init, shuffling and dropout, so a fit is a pure
        # function of random_state (and partial_fit k times == fit(max_iter=k)).
        self._rng = np.random.default_rng(seed)
        dtype = self._param_dtype()
        stack = RecurrentStack(
            self.cell, self.input_size_, self.hidden_size, self.num_layers,
            self.nonlinearity, True, self.bidirectional, dtype,
        )
        directions = 2 if self.bidirectional else 1
        head = LinearHead(directions * self.hidden_size, self.n_outputs_,
                          pooling=self.pooling)
        self._network = Network(stack, head)
        self._arch = self._architecture()
        self.params_ = self._network.init_params(self._rng)
        self._optimizer = None
        self._log = TrainingLog()
        self._grad_norms = []
        self.t_ = 0
        self.dh_norm_ = None

    def _make_or_refresh_optimizer(self) -> None:
        """Keep the optimizer's state across warm starts; take new hyper-parameters."""
        opt = self._optimizer
        if opt is None or self._optimizer_solver != self.solver:
            self._optimizer = make_optimizer(
                self.solver, self._network.size, self.learning_rate_init,
                self._network.dtype, momentum=self.momentum,
                nesterov=self.nesterovs_momentum, beta_1=self.beta_1,
                beta_2=self.beta_2, epsilon=self.epsilon,
            )
            self._optimizer_solver = self.solver
            return
        # set_params between warm fits must take effect, as in sklearn's MLP.
        opt.learning_rate = float(self.learning_rate_init)
        if self.solver == "adam":
            opt.beta_1, opt.beta_2 = float(self.beta_1), float(self.beta_2)
            opt.epsilon = float(self.epsilon)
        else:
            opt.momentum = float(self.momentum)
            opt.nesterov = bool(self.nesterovs_momentum)

    def _time_major(self, X: np.ndarray, rows) -> np.ndarray:
        """Windows ``X[rows]`` as a fresh C-contiguous ``(window, len(rows), I)``."""
        X3 = X.reshape(X.shape[0], self.window_, self.input_size_)
        # A copy, always: the kernels get writable, contiguous memory of one
        # layout (one compiled specialization) and the user's X is never aliased.
        return np.array(X3[rows].transpose(1, 0, 2), order="C", copy=True)

    def _chunk_rows(self) -> int:
        net = self._network
        per_row = (self.window_ * net.stack.hidden_size * net.stack.num_directions
                   * net.stack.num_layers * 8 * net.dtype.itemsize)
        return int(np.clip(_PREDICT_CHUNK_BYTES // max(per_row, 1), 1,
                           _PREDICT_CHUNK_MAX_ROWS))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """Head outputs ``(n_samples, n_outputs)`` for validated rows, in chunks."""
        n = X.shape[0]
        out = np.empty((n, self._network.head.out_features), dtype=self._network.dtype)
        step = self._chunk_rows()
        with _single_threaded_blas():
            for start in range(0, n, step):
                stop = min(start + step, n)
                x = self._time_major(X, slice(start, stop))
                out[start:stop], _, _ = self._network.forward(
                    self.params_, x, training=False
                )
        return out

    # -------------------------------------------------------------- training
    def _fit(self, X: ArrayLike, y: ArrayLike, incremental: bool,
             classes: ArrayLike | None = None):
        """Validate, split off the validation tail, (re)initialize, train.

        ``incremental`` (``partial_fit``) runs one epoch on all rows, without
        early stopping and without a ConvergenceWarning.
        """
        validate_params(self)
        first = not self.__sklearn_is_fitted__() or (
            not incremental and not self.warm_start
        )
        X, y = self._validate_X_y(X, y, reset=first)
        n = X.shape[0]
        # partial_fit trains on everything it is given (as sklearn's MLP, which
        # never early-stops an incremental call).
        early = self.early_stopping and not incremental
        n_train = n
        if early:
            n_val = max(math.ceil(self.validation_fraction * n),
                        self._min_validation_samples)
            n_train = n - n_val
            if n_train < 1:
                raise ValueError(
                    f"early_stopping holds out the last {n_val} window(s) "
                    f"(ceil(validation_fraction * n_samples), at least "
                    f"{self._min_validation_samples}) of n_samples={n}, which leaves "
                    f"none to train on. Pass more windows, lower validation_fraction, "
                    f"or set early_stopping=False."
                )
        # Targets are encoded (and the regressor's scaling fitted) on the training
        # rows only: nothing about the validation tail leaks into training.
        Y = self._encode_y(y, first, incremental, classes, n_train)
        if first:
            self._init_model()
        elif self._architecture() != self._arch:
            raise ValueError(
                "cell, hidden_size, num_layers, bidirectional, pooling, nonlinearity "
                "and dtype cannot change between warm_start/partial_fit calls (the "
                "fitted parameters belong to the old network); set warm_start=False "
                "or call fit to start over."
            )
        self._make_or_refresh_optimizer()

        # Windows are in time order: the tail is the future, so it validates and
        # only the head is trained on (and shuffled).
        XT = self._time_major(X, slice(0, n_train))
        Y_train = Y[:n_train]
        X_val, Y_val = X[n_train:], Y[n_train:]

        bs = self.batch_size
        bs = min(200, n_train) if bs == "auto" else min(bs, n_train)
        net, theta, opt, rng = self._network, self.params_, self._optimizer, self._rng
        loss_fn = get_loss(self._loss_name)
        alpha, clip, dropout = float(self.alpha), self.clip_norm, float(self.dropout)
        shuffle = self.shuffle

        def run_epoch():
            order = rng.permutation(n_train) if shuffle else np.arange(n_train)
            total = gnorm = 0.0
            n_batches = 0
            for start in range(0, n_train, bs):
                rows = order[start : start + bs]
                x = np.ascontiguousarray(XT[:, rows])
                res = net.train_step(
                    theta, opt, x, Y_train[rows], None, loss_fn, clip_norm=clip,
                    dropout=dropout, rng=rng, alpha=alpha, n_samples=len(rows),
                )
                if not res.finite:
                    raise Diverged(
                        f"loss {res.loss} and gradient norm {res.grad_norm} at batch "
                        f"{n_batches + 1}",
                        steps_done=n_batches,
                    )
                # sklearn's MLP: the epoch loss is the sample-weighted batch mean.
                total += res.loss * len(rows)
                gnorm += res.grad_norm
                n_batches += 1
                self.dh_norm_ = res.dh_norm
            self.t_ += n_train
            self._grad_norms.append(gnorm / n_batches)
            return total / n_train

        def validate():
            out = self._forward(X_val)
            if not np.isfinite(out).all():
                return float("nan")  # never an improvement: the best weights stay
            return self._validation_score(out, Y_val)

        with _single_threaded_blas():
            log = run_epochs(
                theta, run_epoch, max_iter=1 if incremental else self.max_iter,
                tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                early_stopping=early, validate=validate if early else None,
                verbose=self.verbose, log=self._log, desc=type(self).__name__,
                warn_max_iter=not incremental,
            )
        self.n_iter_ = log.n_iter
        self.loss_curve_ = list(log.loss_curve)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else float("nan")
        self.best_loss_ = log.best_loss
        self.validation_scores_ = (
            list(log.validation_scores) if log.validation_scores else None
        )
        self.best_validation_score_ = (
            log.best_validation_score if log.validation_scores else None
        )
        self.grad_norm_curve_ = list(self._grad_norms)
        self.stopped_ = log.stopped
        return self


class RNNRegressor(RegressorMixin, _WindowRNN):
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
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of ``cell="rnn"``; the gated cells ignore it.
    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        Training loss, on the standardized target (so Huber's threshold is one
        standard deviation).
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
        Time steps per window.
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
    learning rate suits any target scale. ``loss_curve_`` is therefore in
    standardized units; predictions are in the original units, as float64.

    A 3-D ``X`` ``(n_samples, window, n_features)`` is flattened before
    scikit-learn's validation (which only knows 2-D arrays); see the module
    docstring.

    Divergence gives a warning, not an error. Every batch checks its loss
    and gradient; the first non-finite one (or weights that overflow) stops
    ``fit`` at once, inside the epoch, with a
    :class:`~tsrnn.engine.DivergenceWarning` (a ``RuntimeWarning``) that says
    which weights were kept and suggests a smaller ``learning_rate_init``,
    ``clip_norm`` or scaled data. The model stays usable: it keeps the finite
    weights of its best finished epoch (by training loss, or validation score
    with ``early_stopping``), or those it started from when the first epoch
    diverged, and ``stopped_`` is ``"diverged"``.

    With an int ``random_state``, ``fit`` is bit for bit reproducible, in one
    process, across processes and through ``save``/:func:`tsrnn.load`; fits
    and predictions run their matrix products on one BLAS thread, so they do
    not depend on the BLAS thread count, and ``predict`` is safe to call from
    several threads at once.

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
        **_WindowRNN._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber"})],
    }
    _validate_y_kwargs = {"multi_output": True, "y_numeric": True}
    # R² on one window is undefined.
    _min_validation_samples = 2

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
        nonlinearity="tanh",
        loss="squared_error",
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
            pooling=pooling, nonlinearity=nonlinearity, solver=solver, alpha=alpha,
            batch_size=batch_size, learning_rate_init=learning_rate_init,
            max_iter=max_iter, tol=tol, shuffle=shuffle, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, clip_norm=clip_norm, dtype=dtype,
            random_state=random_state, warm_start=warm_start, verbose=verbose,
        )
        self.loss = loss

    @property
    def _loss_name(self):
        return self.loss

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
            with np.errstate(over="ignore", invalid="ignore"):
                mean = Y[:n_train].mean(axis=0)
                scale = Y[:n_train].std(axis=0)
            if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
                raise ValueError(
                    f"y has values too large to standardize in float64 (largest "
                    f"|y| = {np.abs(Y).max():.3g}: their variance overflows); divide "
                    "y by a constant (e.g. a power of ten) and scale the "
                    "predictions back"
                )
            # A constant target (or one window) has no spread to divide by:
            # leave it unscaled, as sklearn's StandardScaler does.
            tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
            scale[scale <= tiny] = 1.0
            self._y_mean, self._y_scale = mean, scale
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s) but the model was fitted with "
                f"n_outputs_={self.n_outputs_}; set warm_start=False or call fit."
            )
        return ((Y - self._y_mean) / self._y_scale).astype(self._param_dtype())

    def _validation_score(self, out, Y):
        # R² is invariant to the per-output affine scaling, so the standardized
        # space gives the same score as the original units.
        return r2_score(Y, out)

    def fit(self, X: ArrayLike, y: ArrayLike) -> RNNRegressor:
        """Train on windows ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)
            One window per row, time-major.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The value (or vector, e.g. a horizon) to predict from each window.

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
(n_samples, window, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

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
(n_samples, window, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            float64, in the units of the training target.
        """
        out = self._forward(self._validate_X(X)).astype(np.float64)
        out = out * self._y_scale + self._y_mean
        return out.ravel() if self.n_outputs_ == 1 else out


class RNNClassifier(ClassifierMixin, _WindowRNN):
    """Recurrent-network classifier over windows of a time series.

    Each row of ``X`` is one window; the network reads it from a zero state,
    pools its outputs over time and maps them to one logit (two classes:
    sigmoid and log-loss) or one logit per class (softmax and cross-entropy).
    The optimization parameters are ``MLPClassifier``'s.

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
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of ``cell="rnn"``; the gated cells ignore it.
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
        in time order, so this is the future), stop when accuracy on it stops
        improving for ``n_iter_no_change`` epochs and restore the best epoch's
        weights.
    validation_fraction : float, default=0.1
        Fraction of rows (rounded up) in the validation tail.
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
    classes_ : ndarray of shape (n_classes,)
        Class labels (sorted).
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
        Time steps per window.
    n_outputs_ : int
        Network outputs: 1 for two classes, ``n_classes`` otherwise (as
        ``MLPClassifier``).
    n_iter_ : int
        Epochs run (accumulated over ``warm_start``/``partial_fit`` calls).
    t_ : int
        Training windows seen by the optimizer (``n_iter_ * n_train``).
    loss_ : float
        Training loss of the last epoch.
    loss_curve_ : list of float
        Training loss per epoch (log-loss).
    best_loss_ : float
        Lowest training loss reached.
    validation_scores_ : list of float or None
        Accuracy on the validation tail per epoch; None without early
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
    RNNRegressor : The regressor on the same windows.
    sklearn.neural_network.MLPClassifier : The feed-forward counterpart.

    Notes
    -----
    Inputs are not standardized (like ``MLPClassifier``): put a
    ``StandardScaler`` in front in a ``Pipeline``. A 3-D ``X`` is flattened
    before scikit-learn's validation; see the module docstring.

    Divergence gives a warning, not an error. Every batch checks its loss
    and gradient; the first non-finite one (or weights that overflow) stops
    ``fit`` at once, inside the epoch, with a
    :class:`~tsrnn.engine.DivergenceWarning` (a ``RuntimeWarning``) that says
    which weights were kept and suggests a smaller ``learning_rate_init``,
    ``clip_norm`` or scaled data. The model stays usable: it keeps the finite
    weights of its best finished epoch (by training loss, or validation score
    with ``early_stopping``), or those it started from when the first epoch
    diverged, and ``stopped_`` is ``"diverged"``.

    With an int ``random_state``, ``fit`` is bit for bit reproducible, in one
    process, across processes and through ``save``/:func:`tsrnn.load`; fits
    and predictions run their matrix products on one BLAS thread, so they do
    not depend on the BLAS thread count, and ``predict`` is safe to call from
    several threads at once.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> from tsrnn.estimators import RNNClassifier
    >>> series = np.sin(0.2 * np.arange(300.0))
    >>> X = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)
    >>> rises = np.where(series[12:] > series[11:-1], "up", "down")  # next move
    >>> clf = RNNClassifier(hidden_size=8, max_iter=5, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs: a demo
    ...     clf = clf.fit(X, rises)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

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
        nonlinearity="tanh",
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
            pooling=pooling, nonlinearity=nonlinearity, solver=solver, alpha=alpha,
            batch_size=batch_size, learning_rate_init=learning_rate_init,
            max_iter=max_iter, tol=tol, shuffle=shuffle, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, clip_norm=clip_norm, dtype=dtype,
            random_state=random_state, warm_start=warm_start, verbose=verbose,
        )

    @property
    def _loss_name(self):
        return "binary_cross_entropy" if len(self.classes_) == 2 else "cross_entropy"

    def _encode_y(self, y, first, incremental, classes, n_train):
        check_classification_targets(y)
        if first:
            if incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit "
                        "(all labels that will ever occur, e.g. np.unique(y_all))."
                    )
                labels = np.unique(np.asarray(classes))
            else:
                labels = np.unique(y)
            if len(labels) < 2:
                raise ValueError(
                    f"a classifier needs samples of at least 2 classes; got 1 class "
                    f"({labels[0]!r}). Check the labels, or predict that class "
                    f"without a model."
                )
            self.classes_ = labels
            self.n_outputs_ = 1 if len(labels) == 2 else len(labels)
        elif incremental and classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(np.asarray(classes))} differs from the classes "
                f"of the first partial_fit call, classes_={self.classes_}."
            )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen} that are not in classes_={self.classes_}"
                + (
                    "; pass every label in `classes` on the first partial_fit call."
                    if incremental
                    else "; a warm start cannot add classes: set warm_start=False."
                )
            )
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            # One logit: binary cross-entropy wants float targets of shape (B, 1).
            return codes.astype(self._param_dtype()).reshape(-1, 1)
        return codes.astype(np.int64)

    def _validation_score(self, out, codes):
        return float(np.mean(self._codes_from_logits(out) == codes.reshape(-1)))

    @staticmethod
    def _codes_from_logits(z):
        return (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else z.argmax(axis=1)

    def fit(self, X: ArrayLike, y: ArrayLike) -> RNNClassifier:
        """Train on windows ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)
            One window per row, time-major.
        y : array-like of shape (n_samples,)
            Class labels (any sortable type).

        Returns
        -------
        self : RNNClassifier
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    classes: ArrayLike | None = None) -> RNNClassifier:
        """Train one epoch on ``(X, y)``, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label that can occur; required on the first call (a chunk of
            a stream need not contain them all), ignored later unless it
            disagrees.

        Returns
        -------
        self : RNNClassifier
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Logits of the classes, before the sigmoid or softmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            float64. Two classes: one logit per window, positive for
            ``classes_[1]``. More: one logit per class.
        """
        z = self._forward(self._validate_X(X)).astype(np.float64)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most likely class of each window.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        z = self._forward(self._validate_X(X))
        return self.classes_[self._codes_from_logits(z)]

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        z = self._forward(self._validate_X(X)).astype(np.float64)
        if z.shape[1] == 1:
            # log sigmoid(z) = -log(1 + e^-z); log(1 - sigmoid(z)) = -log(1 + e^z)
            z = z[:, 0]
            return np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (sigmoid for two classes, softmax otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        z = self._forward(self._validate_X(X)).astype(np.float64)
        if z.shape[1] == 1:
            p = 0.5 * (1.0 + np.tanh(0.5 * z[:, 0]))  # sigmoid without overflow
            return np.column_stack([1.0 - p, p])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
