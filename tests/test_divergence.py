"""Training that diverges stops at once, keeps finite best weights and says so.

SPEC.md: "Training that diverges (non-finite loss) stops with the best weights
kept and a clear message". The design (documented in the estimators' Notes):
a :class:`DivergenceWarning`, not an error, so the model stays usable; the
check runs on every batch, so an exploding learning rate is caught inside the
epoch where it happens; the weights kept are always finite -- the best finished
epoch's, or the starting weights when no epoch finished.

The first part drives :func:`run_epochs` with synthetic epochs (every branch of
the bookkeeping); the second part makes the real estimators diverge, by a huge
learning rate, by huge inputs, and by a non-finite step injected at a chosen
batch, and compares the kept weights with those of a clean, shorter fit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn.estimators.forecaster.estimator as forecaster_module
import tsrnn.estimators.window.base as window_module
from tsrnn import RNNClassifier, RNNForecaster, RNNRegressor
from tsrnn.engine import Diverged, DivergenceWarning, run_epochs
from tsrnn.engine.network import Network, StepResult

LOOP = dict(tol=0.0, n_iter_no_change=100)


# ====================================================== run_epochs bookkeeping
def scripted(theta, plan):
    """An epoch function following ``plan``: per epoch a loss, or an action.

    Each finished epoch adds 1 to the weights (so epoch k ends at k); actions:
    ("diverge", steps_done) raises Diverged after ``steps_done`` updates (which
    left NaN weights), "overflow" ends the epoch with a finite loss but
    infinite weights, "nan_loss" returns a NaN mean loss.
    """
    it = iter(plan)

    def epoch():
        step = next(it)
        if isinstance(step, tuple) and step[0] == "diverge":
            if step[1]:  # updates made before the failing batch went bad
                theta[:] = np.nan
            raise Diverged("loss nan", steps_done=step[1])
        theta[:] += 1.0
        if step == "overflow":
            theta[0] = np.inf
            return 0.01
        if step == "nan_loss":
            return float("nan")
        return step

    return epoch


def run(plan, **kw):
    theta = np.zeros(3)
    with pytest.warns(DivergenceWarning) as rec:
        log = run_epochs(theta, scripted(theta, plan), max_iter=len(plan), **LOOP, **kw)
    assert log.stopped == "diverged"
    assert np.isfinite(theta).all()
    return theta, log, str(rec[0].message)


def test_keeps_the_best_finished_epoch_not_the_last():
    theta, log, msg = run([1.0, 0.5, 0.7, ("diverge", 3)])
    np.testing.assert_array_equal(theta, 2.0)  # epoch 2 had the lowest loss
    assert log.n_iter == 3 and log.loss_curve == [1.0, 0.5, 0.7]
    assert "diverged at epoch 4 (loss nan)" in msg
    assert "the weights of epoch 2, the best finite one (training loss 0.5)" in msg
    assert "Lower learning_rate_init" in msg and "clip_norm" in msg


def test_epoch_whose_weights_made_the_next_first_batch_diverge_is_not_kept():
    # epoch 3 is the best so far, but the very first batch run from its end
    # weights is non-finite: those weights are the culprit, epoch 2's are kept
    theta, _, msg = run([1.0, 0.5, 0.4, ("diverge", 0)])
    np.testing.assert_array_equal(theta, 2.0)
    assert "the weights of epoch 2" in msg


def test_first_epoch_diverging_keeps_the_starting_weights():
    theta, log, msg = run([("diverge", 4)])
    np.testing.assert_array_equal(theta, 0.0)
    assert log.n_iter == 0 and log.loss_curve == []
    assert "the weights training started from were kept" in msg


def test_first_batch_diverging_blames_the_data_scale():
    theta, _, msg = run([("diverge", 0)])
    np.testing.assert_array_equal(theta, 0.0)
    assert "before any update" in msg and "scale them" in msg


def test_weights_overflowing_at_an_epoch_end_count_as_divergence():
    # the mean loss is finite but the last update overflowed: never kept
    theta, log, msg = run([1.0, "overflow", 0.1])
    np.testing.assert_array_equal(theta, 1.0)
    assert log.n_iter == 1  # the overflowing epoch is not counted as finished
    assert "weights became non-finite" in msg


def test_non_finite_mean_loss_counts_as_divergence():
    theta, log, msg = run([1.0, 0.5, "nan_loss"])
    np.testing.assert_array_equal(theta, 2.0)
    assert "mean loss nan" in msg


def test_early_stopping_keeps_the_best_validation_epoch():
    scores = iter([0.1, 0.9, 0.3])
    theta, _, msg = run(
        [1.0, 0.9, 0.1, ("diverge", 2)],
        early_stopping=True,
        validate=lambda: next(scores),
    )
    np.testing.assert_array_equal(theta, 2.0)  # best validation, not best loss
    assert "validation score 0.9" in msg


def test_non_finite_validation_score_is_never_the_best():
    scores = iter([0.5, float("nan"), 0.2])
    theta = np.zeros(2)
    with pytest.warns(ConvergenceWarning):
        run_epochs(
            theta,
            scripted(theta, [1.0, 0.9, 0.8]),
            max_iter=3,
            early_stopping=True,
            validate=lambda: next(scores),
            **LOOP,
        )
    np.testing.assert_array_equal(theta, 1.0)


def test_interrupt_keeps_finite_best_weights():
    theta = np.zeros(2)
    plan = iter([1.0, 0.5])

    def epoch():
        step = next(plan, None)
        if step is None:
            theta[:] = np.nan  # half-way through an update
            raise KeyboardInterrupt
        theta[:] += 1.0
        return step

    with pytest.warns(RuntimeWarning, match=r"interrupted after 2 epochs.*epoch 2"):
        log = run_epochs(theta, epoch, max_iter=5, **LOOP)
    assert log.stopped == "interrupted"
    np.testing.assert_array_equal(theta, 2.0)


# ============================================================ the estimators
def seasonal(n=240, seed=0):
    t = np.arange(n, dtype=float)
    noise = 0.1 * np.random.default_rng(seed).standard_normal(n)
    return np.sin(2 * np.pi * t / 12) + noise


def window_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    return X, X.sum(axis=1)


OLD_DEFAULTS = dict(
    differencing=False,
    loss="squared_error",
    reference="seasonal",
    early_stopping=False,
    validation_fraction=0.1,
)

ESTIMATORS = {
    "forecaster": (
        # the defaults before the "auto" values: these tests are about the
        # training loop, not the settings
        lambda **kw: RNNForecaster(
            hidden_size=4, random_state=0, horizon=2, batch_size=2, bptt_length=16,
            **{**OLD_DEFAULTS, **kw},
        ),
        lambda: (seasonal(),),
    ),
    "regressor": (
        lambda **kw: RNNRegressor(hidden_size=4, random_state=0, batch_size=16, **kw),
        lambda: window_data(),
    ),
    "classifier": (
        lambda **kw: RNNClassifier(hidden_size=4, random_state=0, batch_size=16, **kw),
        lambda: (window_data()[0], window_data()[1] > 0),
    ),
}


class StepSpy:
    """Counts training steps and makes chosen ones non-finite (theta untouched)."""

    def __init__(self, monkeypatch, fail_at=()):
        self.calls = 0
        self.fail_at = set(fail_at)
        real = Network.train_step

        def step(net, theta, *args, **kwargs):
            self.calls += 1
            if self.calls in self.fail_at:
                return StepResult(float("nan"), float("nan"), None, None, False)
            return real(net, theta, *args, **kwargs)

        monkeypatch.setattr(Network, "train_step", step)


class StartSpy:
    """Records the weights each fit starts training from."""

    def __init__(self, monkeypatch):
        self.start = None
        for module in (forecaster_module, window_module):
            real = module.run_epochs

            def wrapped(theta, *args, _real=real, **kwargs):
                self.start = theta.copy()
                return _real(theta, *args, **kwargs)

            monkeypatch.setattr(module, "run_epochs", wrapped)


def quiet_fit(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*data)


def prediction(est, data):
    return est.predict() if isinstance(est, RNNForecaster) else est.predict(data[0])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_exploding_learning_rate_is_caught_within_the_first_epoch(name, monkeypatch):
    make, data = ESTIMATORS[name]
    spy = StepSpy(monkeypatch)
    quiet_fit(make(max_iter=1), data())
    per_epoch = spy.calls
    assert per_epoch >= 3

    spy.calls = 0
    starts = StartSpy(monkeypatch)
    est = make(max_iter=50, learning_rate_init=1e300, solver="sgd", clip_norm=None)
    with pytest.warns(DivergenceWarning, match="diverged at epoch 1 ") as rec:
        est.fit(*data())
    msg = str(rec[0].message)
    batch = int(msg.split(" at batch ")[1].split(")")[0])
    # stopped at the failing batch of the first epoch, not after 50 epochs
    assert spy.calls == batch <= per_epoch
    assert est.n_iter_ == 0 and est.stopped_ == "diverged"
    assert "Lower learning_rate_init" in msg
    np.testing.assert_array_equal(est.params_, starts.start)
    assert np.isfinite(prediction(est, data())).all()


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("where", ["mid-epoch", "first-batch"])
def test_kept_weights_are_the_best_finite_epochs(name, where, monkeypatch):
    make, data = ESTIMATORS[name]
    clean = [quiet_fit(make(max_iter=k, tol=0.0), data()) for k in (1, 2)]
    losses = clean[1].loss_curve_
    spy = StepSpy(monkeypatch)
    quiet_fit(make(max_iter=1), data())
    per_epoch = spy.calls
    # a non-finite step in epoch 3: mid-epoch, or its very first batch (then
    # epoch 2's end weights, which that batch ran from, are not kept)
    fail = 2 * per_epoch + (2 if where == "mid-epoch" else 1)
    spy.calls, spy.fail_at = 0, {fail}
    est = make(max_iter=10, tol=0.0, n_iter_no_change=100)
    with pytest.warns(DivergenceWarning, match="diverged at epoch 3 ") as rec:
        est.fit(*data())
    assert est.n_iter_ == 2 and est.loss_curve_ == losses
    best = 2 if where == "mid-epoch" and losses[1] < losses[0] else 1
    np.testing.assert_array_equal(est.params_, clean[best - 1].params_)
    assert f"the weights of epoch {best}" in str(rec[0].message)
    assert np.isfinite(prediction(est, data())).all()


@pytest.mark.parametrize("name", ["forecaster", "regressor", "classifier"])
def test_huge_inputs_diverge_with_a_clear_message(name, monkeypatch):
    make, data = ESTIMATORS[name]
    starts = StartSpy(monkeypatch)
    if name == "forecaster":
        # unscaled values near 1e200 (they overflowed the squared loss at once)
        # are refused before training, by the check update shares with fit
        with pytest.raises(ValueError, match=r"another magnitude.*scaler=None"):
            make(max_iter=5, scaler=None).fit(seasonal() * 1e200)
        return
    # a ReLU network does not saturate: its outputs overflow
    X, y = data()
    est = make(max_iter=5, cell="rnn", nonlinearity="relu")
    d = (X * 1e200, y)
    with pytest.warns(DivergenceWarning, match="before any update.*scale them"):
        est.fit(*d)
    assert est.n_iter_ == 0 and est.stopped_ == "diverged"
    np.testing.assert_array_equal(est.params_, starts.start)


def test_forecaster_partial_fit_divergence_keeps_the_weights_before_the_call(
    monkeypatch,
):
    make, data = ESTIMATORS["forecaster"]
    y = data()[0]
    est = quiet_fit(make(max_iter=2), (y[:200],))
    before = est.params_.copy()
    StepSpy(monkeypatch, fail_at={2})  # the second window of the new rows
    with pytest.warns(DivergenceWarning, match="partial_fit diverged.*kept"):
        est.partial_fit(y[200:])
    np.testing.assert_array_equal(est.params_, before)
    # the state still advanced over the new rows
    assert est.schema_.n_seen[0] == len(y)
    assert np.isfinite(est.predict()).all()


def test_a_warm_start_that_diverges_keeps_the_previous_fit():
    make, data = ESTIMATORS["regressor"]
    est = quiet_fit(make(max_iter=2), data())
    before = est.params_.copy()
    est.set_params(warm_start=True, learning_rate_init=1e300, solver="sgd",
                   clip_norm=None)
    with pytest.warns(DivergenceWarning, match="weights training started from"):
        est.fit(*data())
    np.testing.assert_array_equal(est.params_, before)


@pytest.mark.parametrize("cls", [RNNForecaster, RNNRegressor, RNNClassifier])
def test_divergence_behaviour_is_documented(cls):
    notes = cls.__doc__.split("Notes\n    -----")[1]
    assert "DivergenceWarning" in notes and "not an error" in notes
