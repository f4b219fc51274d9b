"""RNNRegressor and RNNClassifier: scikit-learn's check suite, then behaviour.

Every estimator here is tiny (a few units, a few epochs, a few dozen windows):
Numba compile time dominates the first call, training time is negligible.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from tsrnn.estimators import RNNClassifier, RNNRegressor
from tsrnn.estimators.window import base as window_module
from tsrnn.windowing import make_windows

CELLS = ["rnn", "lstm", "gru", "sru"]

# ------------------------------------------------------- scikit-learn's checks
# Small but trained enough to pass the suite's quality checks
# (check_regressors_train wants R² > 0.5 on make_regression, check_classifiers_train
# accuracy > 0.83 on make_blobs): every cell, every pooling, both solvers, early
# stopping, two layers with dropout, bidirectional and float32 are covered.
# make_blobs has 2 features, make_regression 10 and other checks 1 to 5, so
# input_size stays 1 (each column is one time step).
_FAST = dict(random_state=0, learning_rate_init=0.02)
REGRESSORS = [
    RNNRegressor(hidden_size=8, batch_size=16, max_iter=30, **_FAST),
    RNNRegressor(cell="gru", hidden_size=8, batch_size=16, pooling="attention",
                 early_stopping=True, max_iter=30, **_FAST),
    # SRU's recurrence is element-wise, so picking out the one informative
    # column of make_regression needs two layers and max pooling (one layer with
    # mean pooling plateaus near R² 0.4).
    RNNRegressor(cell="sru", hidden_size=8, num_layers=2, pooling="max",
                 bidirectional=True, batch_size=16, max_iter=60, **_FAST),
    RNNRegressor(cell="rnn", hidden_size=8, num_layers=2, dropout=0.1, pooling="max",
                 solver="sgd", batch_size=16, max_iter=30, random_state=0,
                 learning_rate_init=0.01),
]
CLASSIFIERS = [
    RNNClassifier(hidden_size=4, max_iter=20, **_FAST),
    RNNClassifier(cell="gru", hidden_size=4, pooling="attention", early_stopping=True,
                  dtype="float32", max_iter=20, **_FAST),
    RNNClassifier(cell="sru", hidden_size=4, pooling="mean", bidirectional=True,
                  max_iter=20, **_FAST),
    RNNClassifier(cell="rnn", nonlinearity="relu", hidden_size=8, num_layers=2,
                  dropout=0.1, pooling="max", solver="sgd", batch_size=16, max_iter=30,
                  random_state=0, learning_rate_init=0.01),
]

# check name -> why it cannot apply. Empty: every configuration passes every
# check of scikit-learn 1.9 (check_array_api_input skips itself unless
# SCIPY_ARRAY_API=1 is set; it passes then too).
EXPECTED_FAILURES: dict[str, str] = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(REGRESSORS + CLASSIFIERS,
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ helpers
def sine_windows(n=48, window=6, horizon=1, n_features=1, seed=0):
    """Windows of a noisy sine (plus noise covariates), in time order."""
    rng = np.random.default_rng(seed)
    steps = n + window + horizon - 1
    series = np.sin(0.4 * np.arange(steps)) + 0.1 * rng.standard_normal(steps)
    cov = rng.standard_normal((steps, n_features - 1)) if n_features > 1 else None
    return make_windows(series, window, horizon=horizon, X=cov)


def tiny(cls, cell="lstm", **kw):
    params = dict(cell=cell, hidden_size=3, batch_size=16, max_iter=3,
                  learning_rate_init=0.01, random_state=0)
    params.update(kw)
    return cls(**params)


def direction_labels(X, y):
    """Does the series rise after the window? (a learnable binary target)"""
    return np.where(y > X[:, -1], "up", "down")


# --------------------------------------------------------------- behaviour
@pytest.mark.parametrize("cell", CELLS)
def test_partial_fit_k_times_equals_fit(cell):
    X, y = sine_windows()
    k = 3
    est = tiny(RNNRegressor, cell, shuffle=False)
    for _ in range(k):
        est.partial_fit(X, y)  # one epoch each, and no ConvergenceWarning
    with pytest.warns(ConvergenceWarning):
        ref = clone(est).set_params(max_iter=k).fit(X, y)
    assert_array_equal(est.params_, ref.params_)
    assert est.loss_curve_ == ref.loss_curve_
    assert est.n_iter_ == ref.n_iter_ == k
    assert est.t_ == ref.t_ == k * len(X)
    assert_array_equal(est.predict(X), ref.predict(X))


def test_partial_fit_equals_fit_with_shuffle_and_dropout():
    # One random stream drives init, shuffling and dropout, so even a shuffled,
    # dropped-out fit is k partial_fit calls.
    X, y = sine_windows()
    y_cls = direction_labels(X, y)
    est = tiny(RNNClassifier, "gru", num_layers=2, dropout=0.3, shuffle=True)
    for _ in range(3):
        est.partial_fit(X, y_cls, classes=["down", "up"])
    with pytest.warns(ConvergenceWarning):
        ref = clone(est).fit(X, y_cls)
    assert_array_equal(est.params_, ref.params_)


def test_partial_fit_classes():
    X, y = sine_windows()
    y_cls = direction_labels(X, y)
    clf = tiny(RNNClassifier)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y_cls)
    # A chunk of a stream need not hold every class.
    down = y_cls == "down"
    clf.partial_fit(X[down], y_cls[down], classes=np.array(["up", "down"]))
    assert_array_equal(clf.classes_, ["down", "up"])
    clf.partial_fit(X, y_cls)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.where(down, "down", "sideways"))
    with pytest.raises(ValueError, match="differs"):
        clf.partial_fit(X, y_cls, classes=["down", "up", "sideways"])
    assert hasattr(RNNClassifier(solver="sgd"), "partial_fit")
    assert hasattr(RNNRegressor(solver="adam"), "partial_fit")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_continues_training():
    X, y = sine_windows()
    est = tiny(RNNRegressor, "gru", max_iter=2).fit(X, y)
    first_params = est.params_.copy()
    est.set_params(warm_start=True, max_iter=3).fit(X, y)
    # Parameters, Adam's moments, the random stream (shuffling) and the curves
    # carry over: 2 + 3 warm epochs are one 5-epoch fit.
    ref = tiny(RNNRegressor, "gru", max_iter=5).fit(X, y)
    assert_array_equal(est.params_, ref.params_)
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    assert est.loss_curve_ == ref.loss_curve_
    # warm_start=False starts over.
    est.set_params(warm_start=False, max_iter=2).fit(X, y)
    assert_array_equal(est.params_, first_params)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    # The fitted parameters belong to one architecture.
    est.set_params(warm_start=True, hidden_size=4)
    with pytest.raises(ValueError, match="parameters changed since fit: hidden_size=4"):
        est.fit(X, y)
    # A warm start cannot add classes to a classifier.
    y_cls = direction_labels(X, y)
    clf = tiny(RNNClassifier).fit(X, y_cls)
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="cannot add classes"):
        clf.fit(X, np.where(y_cls == "up", "up", "flat"))


def test_early_stopping_restores_best_epoch_and_uses_the_tail():
    X, y = sine_windows(n=60)
    # Overfit a small head quickly so that the validation score peaks early.
    est = tiny(RNNRegressor, "lstm", hidden_size=6, max_iter=200, early_stopping=True,
               validation_fraction=0.25, n_iter_no_change=3, tol=0.0,
               learning_rate_init=0.05)
    est.fit(X, y)
    n_val = 15  # ceil(0.25 * 60): the last rows, windows are in time order
    scores = est.validation_scores_
    assert est.n_iter_ < 200 and len(scores) == est.n_iter_
    assert est.best_validation_score_ == max(scores)
    best_epoch = int(np.argmax(scores))
    assert best_epoch < est.n_iter_ - 1  # a later epoch was worse: a real restore
    # The kept weights are the best epoch's: they reproduce its score on the tail.
    tail = slice(len(X) - n_val, None)
    assert_allclose(r2_score(y[tail], est.predict(X[tail])), max(scores), rtol=1e-10)
    # Training never sees the tail: changing its targets changes the validation
    # scores but not one bit of the training losses of the same epochs.
    y_other = y.copy()
    y_other[tail] += 5.0
    other = clone(est).fit(X, y_other)
    m = min(other.n_iter_, est.n_iter_)
    assert other.loss_curve_[:m] == est.loss_curve_[:m]
    assert other.validation_scores_[:m] != scores[:m]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_too_few_windows():
    X, y = sine_windows(n=2)
    with pytest.raises(ValueError, match="none to train on"):
        tiny(RNNRegressor, early_stopping=True).fit(X, y)  # R² needs 2 in the tail
    tiny(RNNClassifier, early_stopping=True).fit(X, ["a", "b"])  # 1 + 1 is enough


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cell", CELLS)
def test_same_random_state_same_params(cell):
    X, y = sine_windows()
    a = tiny(RNNRegressor, cell, num_layers=2, dropout=0.2).fit(X, y)
    b = tiny(RNNRegressor, cell, num_layers=2, dropout=0.2).fit(X, y)
    c = tiny(RNNRegressor, cell, num_layers=2, dropout=0.2, random_state=1).fit(X, y)
    assert_array_equal(a.params_, b.params_)
    assert not np.array_equal(a.params_, c.params_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pickle_round_trip_and_resume():
    X, y = sine_windows()
    y_cls = direction_labels(X, y)
    cases = ((tiny(RNNRegressor, "sru"), y), (tiny(RNNClassifier, "gru"), y_cls))
    for est, target in cases:
        est.fit(X, target)
        back = pickle.loads(pickle.dumps(est))
        assert_array_equal(back.predict(X), est.predict(X))
        assert_array_equal(back.params_, est.params_)
        # The unpickled model keeps training exactly like the original.
        assert_array_equal(back.partial_fit(X, target).params_,
                           est.partial_fit(X, target).params_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multi_output_horizon():
    X, Y = sine_windows(horizon=3)
    assert Y.shape == (len(X), 3)
    est = tiny(RNNRegressor, "gru", pooling="attention").fit(X, Y)
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == (len(X), 3)
    assert est.named_params()["head.weight"].shape == (3, 3)
    # A one-column y is one output, predicted 1-D (as MLPRegressor).
    est1 = tiny(RNNRegressor).fit(X, Y[:, :1])
    assert est1.n_outputs_ == 1 and est1.predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="output"):
        est1.partial_fit(X, Y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_target_scaling_gives_original_units():
    X, y = sine_windows()
    big = tiny(RNNRegressor, max_iter=5).fit(X, 1000.0 + 50.0 * y)
    small = tiny(RNNRegressor, max_iter=5).fit(X, y)
    # The network sees the same standardized target either way.
    assert_allclose(big.params_, small.params_, rtol=1e-9, atol=1e-12)
    assert_allclose(big.predict(X), 1000.0 + 50.0 * small.predict(X), rtol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("amplitude", [1e-13, 1e-200, 1e200, 1e299])
def test_targets_of_any_magnitude_are_scaled_alike(amplitude):
    # 1e-200 was left unscaled (a spread below 10 eps * max(|mean|, 1) counted
    # as zero) and 1e200 refused (its variance overflowed): the scaling is now
    # relative to the target's magnitude, so predictions scale with it.
    X, y = sine_windows()
    unit = tiny(RNNRegressor, max_iter=5).fit(X, y)
    scaled = tiny(RNNRegressor, max_iter=5).fit(X, amplitude * y)
    assert_allclose(scaled.predict(X) / amplitude, unit.predict(X), rtol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_constant_target_is_predicted_at_its_level():
    X, y = sine_windows()
    for level in (3e-13, -4e250):
        pred = tiny(RNNRegressor, max_iter=3).fit(X, np.full(len(y), level)).predict(X)
        assert np.all(np.abs(pred - level) < 0.5 * abs(level))


def test_targets_beyond_float64s_room_are_refused():
    X, y = sine_windows()
    with pytest.raises(ValueError, match=r"y has values too large in magnitude "
                       r"\(1\.7e\+308 at row 0; the limit is 1e\+300.*divide y"):
        tiny(RNNRegressor).fit(X, np.r_[1.7e308, y[1:]])
    with pytest.raises(ValueError, match=r"y is too small to scale.*1e-305"):
        tiny(RNNRegressor).fit(X, 1e-310 * y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_masked_windows_are_refused_not_trained_on():
    # np.asarray drops a mask: the masked values were read and trained on. A
    # window cannot hold a gap, so a masked value is refused, naming the fix.
    X, y = sine_windows()
    mask = np.zeros(X.shape, bool)
    mask[5, 2] = True
    Xm = np.ma.masked_array(X.copy(), mask=mask)
    ym = np.ma.masked_array(y.copy(), mask=np.arange(len(y)) == 9)
    for cls, target in ((RNNRegressor, y), (RNNClassifier, y > 0)):
        with pytest.raises(ValueError, match=r"X is a masked array with 1 masked "
                           r"value\(s\) \(first in row 5\); a window cannot hold a "
                           r"gap: drop the windows"):
            tiny(cls).fit(Xm, target)
        with pytest.raises(ValueError, match=r"X is a masked array"):
            tiny(cls).partial_fit(Xm, target, **(
                {"classes": [False, True]} if cls is RNNClassifier else {}))
        est = tiny(cls).fit(X, target)
        with pytest.raises(ValueError, match=r"X is a masked array .*first in row 5"):
            est.predict(Xm)
        with pytest.raises(ValueError, match=r"X is a masked array"):
            est.predict(Xm.reshape(len(X), -1, 1))  # 3-D
    with pytest.raises(ValueError, match=r"y is a masked array with 1 masked "
                       r"value\(s\) \(first in row 9\)"):
        tiny(RNNRegressor).fit(X, ym)
    # the advertised fix works, and an empty mask is plain data
    keep = ~np.ma.getmaskarray(Xm).reshape(len(Xm), -1).any(axis=1)
    tiny(RNNRegressor).fit(Xm[keep], y[keep])
    assert_array_equal(tiny(RNNRegressor).fit(np.ma.masked_array(X), y).params_,
                       tiny(RNNRegressor).fit(X, y).params_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_binary_classifier():
    X, y = sine_windows(n=96)
    y_cls = direction_labels(X, y)
    clf = RNNClassifier(cell="gru", hidden_size=6, max_iter=60, learning_rate_init=0.03,
                        random_state=0, n_iter_no_change=60).fit(X, y_cls)
    assert_array_equal(clf.classes_, ["down", "up"])
    assert clf.n_outputs_ == 1 and clf.named_params()["head.weight"].shape == (1, 6)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-12)
    decision = clf.decision_function(X)
    assert decision.shape == (len(X),)
    assert_array_equal(clf.predict(X), clf.classes_[(decision > 0).astype(int)])
    # The direction of a noisy sine is learnable from its recent past.
    assert clf.score(X, y_cls) > 0.85


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multiclass_classifier():
    # Three sines of different frequencies: which one is this window from?
    rng = np.random.default_rng(0)
    freqs = {"slow": 0.2, "mid": 0.6, "fast": 1.2}
    labels = rng.choice(list(freqs), 150)
    phase = rng.uniform(0, 2 * np.pi, 150)
    omega = np.array([freqs[k] for k in labels])
    X = np.sin(omega[:, None] * np.arange(8) + phase[:, None])
    X = X + 0.05 * rng.standard_normal(X.shape)
    clf = RNNClassifier(cell="lstm", hidden_size=6, max_iter=40,
                        learning_rate_init=0.03, random_state=0,
                        n_iter_no_change=40).fit(X, labels)
    assert_array_equal(clf.classes_, ["fast", "mid", "slow"])
    assert clf.n_outputs_ == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-12)
    assert clf.decision_function(X).shape == (150, 3)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) > 0.9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_3d_input_equals_flattened_2d():
    X2, y = sine_windows(n_features=3)
    X3 = X2.reshape(len(X2), 6, 3)
    a = tiny(RNNRegressor, "gru").fit(X3, y)
    b = tiny(RNNRegressor, "gru", input_size=3).fit(X2, y)
    assert_array_equal(a.params_, b.params_)
    assert (a.n_features_in_, a.input_size_, a.window_) == (18, 3, 6)
    assert a.named_params()["weight_ih_l0"].shape == (9, 3)
    assert_array_equal(a.predict(X3), b.predict(X2))
    assert_array_equal(a.predict(X2), b.predict(X3))  # the two forms interchange
    with pytest.raises(ValueError, match="features per time step"):
        a.predict(X2.reshape(len(X2), 9, 2))  # 18 values, but 2 per step
    with pytest.raises(ValueError, match="leave input_size"):
        tiny(RNNRegressor, input_size=2).fit(X3, y)


def test_input_size_must_divide_row_length():
    X, y = sine_windows(n_features=3)
    msg = r"18 feature\(s\).*not a multiple of input_size=4"
    with pytest.raises(ValueError, match=msg):
        tiny(RNNRegressor, input_size=4).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_user_arrays_are_not_modified():
    X, y = sine_windows()
    X.flags.writeable = False  # any write would raise
    y.flags.writeable = False
    X_copy, y_copy = X.copy(), y.copy()
    reg = tiny(RNNRegressor, early_stopping=True).fit(X, y)
    reg.predict(X)
    reg.partial_fit(X, y)
    clf = tiny(RNNClassifier).fit(X, y > 0)
    clf.predict_proba(X)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_float32():
    X, y = sine_windows()
    est = tiny(RNNRegressor, "gru", dtype="float32").fit(X, y)
    assert est.params_.dtype == np.float32
    pred = est.predict(X)
    assert pred.dtype == np.float64 and np.isfinite(pred).all()
    ref = tiny(RNNRegressor, "gru").fit(X, y)
    assert_allclose(pred, ref.predict(X), atol=1e-3)
    with pytest.raises(
        ValueError, match="parameters changed since fit: dtype='float64'"
    ):
        est.set_params(warm_start=True, dtype="float64").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diagnostics_and_named_params():
    X, y = sine_windows()
    est = tiny(RNNRegressor, "lstm", num_layers=2, bidirectional=True, max_iter=4)
    est.fit(X, y)
    assert est.dh_norm_.shape == (4, 6)  # (num_layers * directions, window)
    assert np.isfinite(est.dh_norm_).all()
    assert len(est.grad_norm_curve_) == est.n_iter_ == 4
    assert est.loss_ == est.loss_curve_[-1] and est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    p = est.named_params()
    # torch.nn.LSTM(1, 3, num_layers=2, bidirectional=True)'s names and shapes
    assert p["weight_ih_l0"].shape == (12, 1)
    assert p["weight_hh_l0_reverse"].shape == (12, 3)
    assert p["weight_ih_l1"].shape == (12, 6)
    assert p["head.weight"].shape == (1, 6)
    assert sum(v.size for v in p.values()) == est.params_.size
    assert np.shares_memory(p["bias_hh_l1"], est.params_)  # views, not copies
    with pytest.raises(NotFittedError):
        RNNRegressor().named_params()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_in_chunks_equals_one_shot(monkeypatch):
    X, y = sine_windows(n=50)
    est = tiny(RNNClassifier, "gru").fit(X, y > 0)
    full = est.predict_proba(X)
    monkeypatch.setattr(window_module, "_PREDICT_CHUNK_MAX_ROWS", 7)
    assert est._chunk_rows() == 7
    assert_allclose(est.predict_proba(X), full, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"cell": "transformer"}, "cell"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"pooling": "none"}, "pooling"),
        ({"loss": "pinball"}, "loss"),
        ({"dtype": "float16"}, "dtype"),
        ({"solver": "lbfgs"}, "solver"),
        ({"dropout": 1.0}, "dropout"),
        ({"clip_norm": 0.0}, "clip_norm"),
        ({"batch_size": "all"}, "batch_size"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_params_raise(params, match):
    X, y = sine_windows(n=8)
    with pytest.raises(ValueError, match=match):
        RNNRegressor(**params).fit(X, y)
    if "loss" not in params:
        with pytest.raises(ValueError, match=match):
            RNNClassifier(**params).partial_fit(X, y > 0, classes=[False, True])


def test_bad_targets_raise():
    X, y = sine_windows(n=8)
    with pytest.raises(ValueError, match="Unknown label type"):
        RNNClassifier().fit(X, y)
    with pytest.raises(ValueError, match="1 class"):
        RNNClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(NotFittedError):
        RNNRegressor().predict(X)
