"""What the window regressor and classifier share: validation, the network, training.

:class:`WindowRNN` holds the constructor parameters of both models, checks
``X``/``y`` (through :mod:`tsrnn.data.checks` and scikit-learn's
``validate_data``), builds the network (a recurrent stack and a pooled linear
head), trains it with the shared epoch loop and predicts in memory-bounded
chunks. The subclasses add the target encoding and the loss.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..._constraints import Interval, Options, StrOptions, validate_params
from ...data.checks import check_window_values, n_rows, windows_as_rows
from ...data.sequences import Sequences, is_sequence_input, read_sequences
from ...engine import (
    CELLS,
    DivergenceGuard,
    LinearHead,
    Network,
    RecurrentStack,
    TrainingLog,
    get_loss,
    make_optimizer,
    run_epochs,
)
from ...engine.threads import single_threaded_blas
from ...kernels._jit import announce_compilation
from ...persist import Persistent
from ..refused import ExplainsRefusedParameters
from .. import fitted_config
from . import categorical, state, steps

# Memory budget of one predict chunk: the forward pass keeps per-step gates and
# states of every layer (about 8 * hidden numbers per step, layer and
# direction), so rows per chunk shrink as windows and networks grow.
_PREDICT_CHUNK_BYTES = 32 * 2**20
_PREDICT_CHUNK_MAX_ROWS = 8192

class WindowRNN(ExplainsRefusedParameters, Persistent, BaseEstimator):
    """Shared machinery of the window regressor and classifier (not public)."""

    # model files: what is saved and how it is checked (see :mod:`.state`)
    _state_protocol = state

    # the parameters that define the fitted model (see Notes): frozen by fit.
    # Declared mirror (form only): RNNForecaster._fit_config_params is the same
    # kind of table, of the forecaster's own parameters.
    _fit_config_params = (
        "cell",
        "hidden_size",
        "num_layers",
        "bidirectional",
        "pooling",
        "output",
        "nonlinearity",
        "categorical_features",
        "embedding_dims",
        "dtype",
    )

    _parameter_constraints: dict = {
        "cell": [StrOptions(set(CELLS))],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "input_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "pooling": [StrOptions({"last", "mean", "max", "attention"})],
        "output": [StrOptions({"window", "sequence"})],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "categorical_features": [None, list, tuple, np.ndarray],
        "embedding_dims": [None, Interval(Integral, 1, None, closed="left"), dict],
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

    # Declared mirror: RNNRegressor.__init__ repeats these parameters (plus
    # ``loss``), RNNForecaster.__init__ the optimization ones; scikit-learn reads
    # an estimator's parameters from its own __init__.
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
        categorical_features=None,
        embedding_dims=None,
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
        self.output = output
        self.nonlinearity = nonlinearity
        self.categorical_features = categorical_features
        self.embedding_dims = embedding_dims
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

    def _head_outputs(self) -> int:
        """Raw head outputs: one per output, unless the loss wants parameters."""
        return self.n_outputs_

    def _training_loss(self):
        """``f(y_hat, y, mask) -> (value, grad)`` that training minimises."""
        return get_loss(self._loss_name)

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
                self.pooling, self.output, self.nonlinearity, self._param_dtype(),
                getattr(self, "loss", None), self._quantile_levels())

    def _quantile_levels(self) -> tuple:
        return ()

    def _validate_X_y(self, X: ArrayLike, y: ArrayLike, reset: bool):
        if is_sequence_input(X):
            return self._validate_sequences_y(X, y, reset)
        check_window_values(X, "X")
        numeric_y = bool(self._validate_y_kwargs.get("y_numeric"))
        if not self._per_step:  # per-step targets are read by .steps
            check_window_values(y, "y", ndims=(1, 2), labels=not numeric_y)
        n_x, n_y = n_rows(X), n_rows(y)
        if n_x is not None and n_y is not None and n_x != n_y:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{n_x} window(s) (rows) but y has {n_y}; pass one target per window "
                "(tsrnn.make_windows returns matching X and y)"
            )
        X, n_step = windows_as_rows(X)
        if reset and n_step is not None and self.input_size not in (1, n_step):
            raise ValueError(
                f"input_size={self.input_size} but X is 3-D with {n_step} features "
                f"per time step (shape (n_samples, window, n_features)). With 3-D X "
                f"the features per step are read from X.shape[2]: leave input_size "
                f"at its default or set it to {n_step}."
            )
        if self._per_step:
            X = validate_data(self, X, reset=reset, dtype=self._param_dtype())
        else:
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

    def _validate_sequences_y(self, X, y, reset: bool):
        """Ragged ``X`` (a list of sequences or NaN-padded 3-D) and its targets."""
        numeric_y = bool(self._validate_y_kwargs.get("y_numeric"))
        if not self._per_step:
            check_window_values(y, "y", ndims=(1, 2), labels=not numeric_y)
        step = self.input_size if reset else self.input_size_
        seqs = read_sequences(X, step, self._param_dtype())
        n_y = n_rows(y)
        if n_y is not None and n_y != seqs.n:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{seqs.n} sequence(s) but y has {n_y}; pass one target per sequence"
            )
        if reset and self.input_size not in (1, seqs.n_features):
            raise ValueError(
                f"input_size={self.input_size} but the sequences of X have "
                f"{seqs.n_features} features per time step. With 2-D sequences "
                f"(T_i, n_features) the features per step are read from them: leave "
                f"input_size at its default or set it to {seqs.n_features}."
            )
        if not reset:
            self._check_sequence_features(seqs)
        if self._per_step:
            if reset and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            # targets only (X is checked above); on reset this also forgets the
            # feature names of an earlier fit on a DataFrame
            y = validate_data(self, "no_validation", y, reset=reset,
                              **self._validate_y_kwargs)
        if reset:
            # the longest sequence plays the window: 2-D rows of that many
            # steps remain valid input to predict
            self.input_size_ = seqs.n_features
            self.window_ = seqs.max_length
            self.n_features_in_ = self.window_ * self.input_size_
        return seqs, y

    def _check_sequence_features(self, seqs: Sequences) -> None:
        if seqs.n_features != self.input_size_:
            raise ValueError(
                f"the sequences of X have {seqs.n_features} features per time step, "
                f"but {type(self).__name__} was fitted with {self.input_size_} "
                f"(input_size_); pass sequences of shape (T_i, {self.input_size_}), "
                "as at fit."
            )

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

    def _validate_X(self, X: ArrayLike) -> np.ndarray | Sequences:
        check_is_fitted(self)
        fitted_config.check_unchanged(self, "predict")
        if is_sequence_input(X):
            seqs = read_sequences(X, self.input_size_, self._network.dtype)
            self._check_sequence_features(seqs)
            return seqs
        check_window_values(X, "X")
        X, n_step = windows_as_rows(X)
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
        self._network = Network(*self._network_parts())
        self._arch = self._architecture()
        self._fit_config = fitted_config.record(self, self._fit_config_params)
        self.params_ = self._network.init_params(self._rng)
        self._optimizer = None
        self._log = TrainingLog()
        self._grad_norms = []
        self.t_ = 0
        self.dh_norm_ = None

    def _categorical(self) -> tuple:
        """The categorical per-step features (indices), checked."""
        return categorical.check_features(self.categorical_features, self.input_size_)

    def _network_parts(self) -> tuple:
        """The stack, the head and the embeddings (or None), before any array
        exists (their layouts give the parameter count; a model file is checked
        against it first)."""
        emb = categorical.embeddings(
            self.embedding_dims, self._categorical(),
            getattr(self, "categories_", []), self._param_dtype(),
        )
        n_in = self.input_size_ if emb is None else emb.output_size(self.input_size_)
        stack = RecurrentStack(
            self.cell, n_in, self.hidden_size, self.num_layers,
            self.nonlinearity, True, self.bidirectional, self._param_dtype(),
        )
        directions = 2 if self.bidirectional else 1
        # output="sequence": the head reads every step (no pooling)
        head = LinearHead(directions * self.hidden_size, self._head_outputs(),
                          pooling="none" if self._per_step else self.pooling)
        return stack, head, emb

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

    def _windows(self, X: np.ndarray | Sequences) -> np.ndarray:
        """Validated rows as ``(n, window_, I)`` (a view), or padded sequences."""
        if isinstance(X, Sequences):
            return X.values
        return X.reshape(X.shape[0], self.window_, self.input_size_)

    def _time_major(self, X: np.ndarray, rows, lengths=None) -> np.ndarray:
        """Windows ``X[rows]`` as a fresh C-contiguous ``(T, len(rows), I)``.

        ``X`` is 3-D ``(n, T, I)`` or validated 2-D rows of ``window_`` steps.
        Categorical features become codes, moved last (:mod:`.categorical`);
        ``lengths`` (of ``X[rows]``, ragged sequences) marks the padding.
        """
        X3 = self._windows(X) if X.ndim == 2 else X
        # A copy, always: the kernels get writable, contiguous memory of one
        # layout (one compiled specialization) and the user's X is never aliased.
        x = np.array(X3[rows].transpose(1, 0, 2), order="C", copy=True)
        features = self._categorical()
        if not features:
            return x
        valid = None
        if lengths is not None:
            valid = np.arange(x.shape[0])[:, None] < np.asarray(lengths)[None, :]
        return categorical.encode(x, features, self.categories_, valid)

    def _chunk_rows(self, steps: int | None = None) -> int:
        """Rows per predict chunk for windows of ``steps`` steps (``window_``)."""
        net = self._network
        steps = self.window_ if steps is None else steps
        per_row = (steps * net.stack.hidden_size * net.stack.num_directions
                   * net.stack.num_layers * 8 * net.dtype.itemsize)
        return int(np.clip(_PREDICT_CHUNK_BYTES // max(per_row, 1), 1,
                           _PREDICT_CHUNK_MAX_ROWS))

    def _forward(self, X: np.ndarray | Sequences) -> np.ndarray:
        """Head outputs for validated input, one row per window (or per step).

        Rows are ``(n_samples, n_outputs)``; with ``output="sequence"`` they
        are the flat ``(n_steps, n_outputs)`` of :mod:`.steps` (window 0's
        steps, then window 1's, ...). Sequences of different lengths are run
        one length at a time (each exactly as if alone: nothing reads the
        padding); every run is cut in memory-bounded chunks.
        """
        if not isinstance(X, Sequences):
            out = self._forward_windows(self._windows(X))
            return out.reshape(-1, out.shape[-1])
        O = self._network.head.out_features
        layout = steps.layout_of(X, self.window_) if self._per_step else None
        n_rows = layout.n_steps if layout is not None else X.n
        out = np.empty((n_rows, O), dtype=self._network.dtype)
        for T in np.unique(X.lengths):
            rows = np.flatnonzero(X.lengths == T)
            res = self._forward_windows(X.values[rows, :T])
            if layout is None:
                out[rows] = res
            else:
                out[layout.rows_of(rows, T)] = res
        return out

    def _forward_windows(self, X3: np.ndarray) -> np.ndarray:
        """Head outputs for equal-length windows ``X3`` of shape ``(n, T, I)``.

        ``(n, n_outputs)``, or ``(n, T, n_outputs)`` with ``output="sequence"``.
        """
        n, T = X3.shape[:2]
        O = self._network.head.out_features
        shape = (n, T, O) if self._per_step else (n, O)
        out = np.empty(shape, dtype=self._network.dtype)
        step = self._chunk_rows(T)
        with single_threaded_blas():
            for start in range(0, n, step):
                stop = min(start + step, n)
                x = self._time_major(X3, slice(start, stop))
                y_hat, _, _ = self._network.forward(
                    self.params_, x, training=False, keep_cache=False
                )
                # per-step heads give (T, B, O): back to window-major rows
                out[start:stop] = y_hat.swapaxes(0, 1) if self._per_step else y_hat
        return out

    def _outputs(self, X: ArrayLike) -> np.ndarray:
        """Head outputs for the user's windows ``X`` (validated here), as float64."""
        return self._step_outputs(X)[0]

    def _step_outputs(self, X: ArrayLike):
        """``(rows, layout)``: head outputs as float64 rows and how to shape them.

        ``layout`` is None for one output per window; with ``output="sequence"``
        it is the :class:`~.steps.StepLayout` that turns per-step rows into
        ``(n, T, ...)`` arrays or a list of ``(T_i, ...)`` arrays.
        """
        X = self._validate_X(X)
        layout = steps.layout_of(X, self.window_) if self._per_step else None
        return self._forward(X).astype(np.float64), layout

    @staticmethod
    def _shaped(values: np.ndarray, layout):
        """Rows of results in the user's form (unchanged for one output per window)."""
        return values if layout is None else layout.shape(values)

    def _levels_first(self, values: np.ndarray, layout):
        """Rows ``(rows, ..., n_levels)`` in the user's form, the level axis first.

        A list (ragged per-step output) holds one ``(n_levels, T_i, ...)``
        array per sequence.
        """
        shaped = self._shaped(values, layout)
        if isinstance(shaped, list):
            return [np.ascontiguousarray(np.moveaxis(a, -1, 0)) for a in shaped]
        return np.ascontiguousarray(np.moveaxis(shaped, -1, 0))

    def _step_score_rows(self, X, y, sample_weight):
        """Per-step ``(outputs, targets, weights)`` rows for ``score``."""
        out, layout = self._step_outputs(X)
        truth = steps.read_step_targets(
            y, layout, numeric=bool(self._validate_y_kwargs.get("y_numeric"))
        )
        if sample_weight is None:
            return out, truth, None
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != layout.lengths.shape:
            raise ValueError(
                f"sample_weight has shape {w.shape} but X has "
                f"{len(layout.lengths)} window(s); pass one weight per window "
                "(it weighs each of the window's steps)"
            )
        return out, truth, np.repeat(w, layout.lengths)

    @property
    def _per_step(self) -> bool:
        return getattr(self, "output", "window") == "sequence"

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
        if not first:  # before anything changes
            fitted_config.check_unchanged(
                self, "partial_fit" if incremental else "fit with warm_start=True"
            )
        X, y = self._validate_X_y(X, y, reset=first)
        ragged = isinstance(X, Sequences)
        n = X.n if ragged else X.shape[0]
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
        if self._per_step:
            # one row per step (see .steps): encoded as rows, then padded to
            # (n, T, ...) for the batches
            layout = steps.layout_of(X, self.window_)
            y = steps.read_step_targets(
                y, layout, numeric=bool(self._validate_y_kwargs.get("y_numeric"))
            )
            n_train_rows = int(layout.lengths[:n_train].sum())
            Y_rows = self._encode_y(y, first, incremental, classes, n_train_rows)
            Y, Y_val = layout.pad(Y_rows), Y_rows[n_train_rows:]
        else:
            Y = self._encode_y(y, first, incremental, classes, n_train)
            Y_val = Y[n_train:]
        if first:
            # categories from every window (the validation tail included, as
            # the forecaster's): what fit saw has its own row
            self.categories_ = categorical.learn(
                self._windows(X), self._categorical(), X.lengths if ragged else None
            )
            self._init_model()
        elif self._architecture() != self._arch:
            raise ValueError(
                "cell, hidden_size, num_layers, bidirectional, pooling, output, "
                "nonlinearity, dtype, loss and quantiles cannot change between "
                "warm_start/partial_fit calls (the "
                "fitted parameters belong to the old network); set warm_start=False "
                "or call fit to start over."
            )
        self._make_or_refresh_optimizer()

        # Windows are in time order: the tail is the future, so it validates and
        # only the head is trained on (and shuffled).
        train = X.take(slice(0, n_train)) if ragged else X[:n_train]
        lengths = train.lengths if ragged else None
        XT = self._time_major(self._windows(train), slice(None), lengths)
        Y_train = Y[:n_train]
        X_val = X.take(slice(n_train, n)) if ragged else X[n_train:]
        per_step = self._per_step
        # what a batch's loss is a mean over: its windows, or its steps
        if per_step:
            weights = (lengths if ragged else np.full(n_train, self.window_)).astype(
                np.float64
            )
        else:
            weights = np.ones(n_train)

        def targets(rows, T):
            if not per_step:
                return Y_train[rows]
            # time-major (T, B, ...), as the per-step head's outputs
            return np.ascontiguousarray(np.swapaxes(Y_train[rows, :T], 0, 1))

        bs = self.batch_size
        bs = min(200, n_train) if bs == "auto" else min(bs, n_train)
        net, theta, opt, rng = self._network, self.params_, self._optimizer, self._rng
        loss_fn = self._training_loss()
        alpha, clip, dropout = float(self.alpha), self.clip_norm, float(self.dropout)
        shuffle = self.shuffle
        guard = DivergenceGuard()  # one per fit call: its reference spans epochs

        def step(rows):
            if lengths is None:
                x = np.ascontiguousarray(XT[:, rows])
                return net.train_step(
                    theta, opt, x, targets(rows, XT.shape[0]), None, loss_fn,
                    clip_norm=clip, dropout=dropout, rng=rng, alpha=alpha,
                    n_samples=len(rows),
                )
            return net.grouped_train_step(
                theta, opt, _length_groups(XT, targets, lengths, weights, rows),
                loss_fn, clip_norm=clip, dropout=dropout, rng=rng, alpha=alpha,
                n_samples=len(rows),
            )

        def run_epoch():
            total = gnorm = 0.0
            n_batches = 0
            for rows in _epoch_batches(n_train, bs, lengths, rng, shuffle):
                res = step(rows)
                guard.check(res, n_batches + 1)
                # sklearn's MLP: the epoch loss is the sample-weighted batch mean
                # (step-weighted with output="sequence").
                total += res.loss * weights[rows].sum()
                gnorm += res.grad_norm
                n_batches += 1
                self.dh_norm_ = res.dh_norm
            self.t_ += n_train
            self._grad_norms.append(gnorm / n_batches)
            return total / weights.sum()

        def validate():
            out = self._forward(X_val)
            if not np.isfinite(out).all():
                return float("nan")  # never an improvement: the best weights stay
            return self._validation_score(out, Y_val)

        with single_threaded_blas(), announce_compilation(self.verbose):
            log = run_epochs(
                theta, run_epoch, max_iter=1 if incremental else self.max_iter,
                tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                early_stopping=early, validate=validate if early else None,
                verbose=self.verbose, log=self._log, desc=type(self).__name__,
                warn_max_iter=not incremental,
            )
        categorical.unknown_rows_as_mean(net, theta)  # never read in training
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


def _length_groups(XT, targets, lengths, weights, rows):
    """A batch of sequences as ``(x, y, mask, weight)`` groups, one per length.

    ``targets(picked, T)`` gives the group's targets; a group weighs its share
    of the batch's ``weights`` (one per window, or its steps for per-step
    outputs), so the batch loss is the mean over the batch's windows (steps).
    """
    of_rows = lengths[rows]
    total = weights[rows].sum()
    for T in np.unique(of_rows):
        picked = rows[of_rows == T]
        x = np.ascontiguousarray(XT[:T, picked])
        yield x, targets(picked, T), None, weights[picked].sum() / total


def _epoch_batches(n, batch_size, lengths, rng, shuffle):
    """The batches of rows of one epoch.

    Windows of one length (``lengths`` None or constant): a permutation cut
    into batches, as sklearn's MLP. Sequences of different lengths: sorted by
    length (ties in random order) before the cut, so that a batch holds few
    lengths (one network run per length), and the batches visited in random
    order.
    """
    order = rng.permutation(n) if shuffle else np.arange(n)
    ragged = lengths is not None and lengths.min() != lengths.max()
    if ragged:
        order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[start : start + batch_size] for start in range(0, n, batch_size)]
    if ragged and shuffle:
        batches = [batches[j] for j in rng.permutation(len(batches))]
    return batches
