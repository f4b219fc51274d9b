"""``RNNClassifier``: a recurrent network classifier over windows of a series."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from ...persist import ModelState, StateError, register
from .base import WindowRNN


# Declared mirror: the Parameters, Attributes and Notes of this docstring repeat
# RNNRegressor's where the models agree; each public class documents itself in full.
@register
class RNNClassifier(ClassifierMixin, WindowRNN):
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
    output : {"window", "sequence"}, default="window"
        ``"window"``: one label per window, read from the pooled outputs.
        ``"sequence"``: one label per *step* of every window (sequence
        tagging: anomaly flags, regime labels), the head applied to the top
        layer at each step (``pooling`` is then not used); ``y`` is
        ``(n_samples, window)`` and predictions gain a step axis. See Notes.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of ``cell="rnn"``; the gated cells ignore it.
    categorical_features : array-like of int or bool, optional
        Per-step features of ``X`` that hold categories (a sensor id, a
        weekday, a regime label, as numbers): indices, or a boolean mask over
        the features, as in scikit-learn's ``HistGradientBoostingRegressor``.
        Each becomes a learned embedding (a trained vector per category,
        ``torch.nn.Embedding``-style, ``embeddings.<i>.weight`` in
        :meth:`named_params`); ``categories_`` lists the values ``fit`` saw.
        A value not seen at fit reads a reserved "unknown" row (the mean of
        the fitted vectors), with an ``UnknownCategoryWarning``.
    embedding_dims : int or dict, optional
        Width of every embedding, or ``{feature index: width}``; default
        ``min(16, round(1.6 * n ** 0.56))`` for ``n`` categories (fastai's
        rule, capped at 16 for these small networks).
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
        epoch; without tqdm, one line per epoch on stderr. A fit that has to
        compile kernels first (the first in a fresh environment, see
        :func:`tsrnn.warmup`) says ``compiling kernels (first use only)``.

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
        Time steps per window (the longest sequence after a ragged fit).
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
    of 1 and the loss of predicting 0 (``log 2``, a logit of 0: an exploding
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
    ``dtype``) are frozen by ``fit``. After ``set_params`` changes one of them,
    ``predict``, ``predict_proba``, ``decision_function``, ``score``,
    ``partial_fit``, a ``warm_start`` fit and ``save`` raise
    ``ValueError("parameters changed since fit: ...")`` naming them and their
    fitted values: call ``fit`` to refit, or set them back. The training
    settings (``learning_rate_init``, ``max_iter``, ``solver``, ``alpha``,
    ``batch_size``, ...) may change at any time and take effect at the next
    ``fit`` or ``partial_fit``, as in ``MLPRegressor``.

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

    def _target_state(self, state: ModelState) -> None:
        """The class labels (text labels as JSON: object arrays would need pickle)."""
        cl = np.asarray(self.classes_)
        if cl.dtype == object:
            if not all(isinstance(v, str) for v in cl):
                raise ValueError(
                    "classes_ holds Python objects other than str, which cannot be "
                    "stored without pickle; use int, float, bool or str labels"
                )
            # object arrays need pickle: store the labels as JSON, rebuild as object
            state.attributes["classes_object"] = [str(v) for v in cl]
        else:
            state.arrays["classes_"] = cl

    def _load_target_state(self, state: ModelState) -> None:
        if "classes_object" in state.attributes:
            self.classes_ = np.asarray(state.attributes["classes_object"], dtype=object)
        elif "classes_" in state.arrays:
            self.classes_ = state.arrays["classes_"]
        else:
            raise StateError("array 'classes_' is missing")
        n_cl = len(self.classes_)
        if self.classes_.ndim != 1 or n_cl != len(np.unique(self.classes_)):
            raise StateError("classes_ must be a 1-D array of distinct labels")
        if n_cl < 2 or self.n_outputs_ != (1 if n_cl == 2 else n_cl):
            raise StateError(
                f"{n_cl} classes do not match n_outputs_={self.n_outputs_}"
            )

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
(n_samples, window, n_features), or list of arrays
            One window per row, time-major.
        y : array-like of shape (n_samples,)
            Class labels (any sortable type).
            With ``output="sequence"``, one per step: shape
            ``(n_samples, window[, n_outputs])``, or a list of per-sequence
            arrays for ragged ``X`` (see Notes).

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
(n_samples, window, n_features), or list of arrays
        y : array-like of shape (n_samples,)
            As for :meth:`fit` (one per step with ``output="sequence"``).
        classes : array-like of shape (n_classes,), default=None
            Every label that can occur; required on the first call (a chunk of
            a stream need not contain them all), ignored later unless it
            disagrees.

        Returns
        -------
        self : RNNClassifier
        """
        return self._fit(X, y, incremental=True, classes=classes)

    # Declared mirror: the docstring form of the other prediction methods'
    # (numpydoc: each public method documents itself in full).
    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Logits of the classes, before the sigmoid or softmax.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            With ``output="sequence"``, the steps come second:
            ``(n_samples, window[, n_classes])``, or a list of per-sequence
            arrays for ragged input.
            float64. Two classes: one logit per window, positive for
            ``classes_[1]``. More: one logit per class.
        """
        z, layout = self._step_outputs(X)
        return self._shaped(z[:, 0] if z.shape[1] == 1 else z, layout)

    # Declared mirror: the docstring form of the other prediction methods'
    # (numpydoc: each public method documents itself in full).
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most likely class of each window.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays

        Returns
        -------
        ndarray of shape (n_samples,)
            With ``output="sequence"``, one label per step:
            ``(n_samples, window)``, or a list of ``(T_i,)`` arrays for ragged
            input.
            Labels from ``classes_``.
        """
        z, layout = self._step_outputs(X)
        return self._shaped(self.classes_[self._codes_from_logits(z)], layout)

    # Declared mirror: the docstring form of the other prediction methods'
    # (numpydoc: each public method documents itself in full).
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            With ``output="sequence"``: ``(n_samples, window, n_classes)``, or
            a list of ``(T_i, n_classes)`` log-probability arrays (ragged input).
        """
        z, layout = self._step_outputs(X)
        if z.shape[1] == 1:
            # log sigmoid(z) = -log(1 + e^-z); log(1 - sigmoid(z)) = -log(1 + e^z)
            z = z[:, 0]
            logp = np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
        else:
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return self._shaped(logp, layout)

    # Declared mirror: the docstring form of the other prediction methods'
    # (numpydoc: each public method documents itself in full).
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (sigmoid for two classes, softmax otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            With ``output="sequence"``: ``(n_samples, window, n_classes)``, or
            a list of ``(T_i, n_classes)`` arrays for ragged input.
            Columns in the order of ``classes_``; rows sum to 1.
        """
        z, layout = self._step_outputs(X)
        if z.shape[1] == 1:
            p = 0.5 * (1.0 + np.tanh(0.5 * z[:, 0]))  # sigmoid without overflow
            return self._shaped(np.column_stack([1.0 - p, p]), layout)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return self._shaped(e / e.sum(axis=1, keepdims=True), layout)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight=None) -> float:
        """Accuracy of :meth:`predict` (over every step with ``output="sequence"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, window * input_size) or \
(n_samples, window, n_features), or list of arrays
        y : array-like of shape (n_samples,); with ``output="sequence"`` one \
label per step (as at fit)
        sample_weight : array-like of shape (n_samples,), optional
            Per window; with ``output="sequence"`` it weighs each of the
            window's steps.

        Returns
        -------
        float
            The (weighted) fraction of correct labels.
        """
        if not self._per_step:
            return super().score(X, y, sample_weight=sample_weight)
        z, truth, weight = self._step_score_rows(X, y, sample_weight)
        pred = self.classes_[self._codes_from_logits(z)]
        return float(np.average(pred == truth, weights=weight))
