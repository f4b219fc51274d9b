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
  from ``X.shape[2]``; or
* ragged: a list of sequences of different lengths (arrays ``(T_i,)`` or
  ``(T_i, n_features)``), or a 3-D float array padded with NaN after each
  sequence's end (read by :mod:`tsrnn.data.sequences`).

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

Ragged sequences are never padded for the network: a batch is split into
groups of one length, each run alone, and their losses and gradients combined
with their share of the batch
(:meth:`tsrnn.engine.Network.grouped_train_step`) before one optimizer step;
batches are cut from the sequences sorted by length, so that a batch holds few
lengths. With ``output="sequence"`` the head reads every step and each step
has a target (:mod:`.steps` lays the steps out as rows).
"""

from .classifier import RNNClassifier
from .regressor import RNNRegressor

__all__ = ["RNNRegressor", "RNNClassifier"]
