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

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn.estimators.forecaster.fitting as forecaster_module  # run_epochs is called there
import tsrnn.estimators.window.base as window_module
from tsrnn import RNNClassifier, RNNForecaster, RNNRegressor
from tsrnn.engine import (
    LOSS_GROWTH_LIMIT,
    Diverged,
    DivergenceGuard,
    DivergenceWarning,
    run_epochs,
)
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
    # 1e30: finite in float32 (the forecaster's default dtype), explodes at once
    est = make(max_iter=50, learning_rate_init=1e30, solver="sgd", clip_norm=None)
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


# ================================================ divergence seen by the loss
# Before the rule a learning rate that explodes the loss without reaching inf
# trained on to max_iter: Adam at lr 1e6 (loss ~1e12), SGD at lr 1e3 without
# clipping (loss 1e107, weights 1e57) ended with stopped_="max_iter", a
# ConvergenceWarning and forecasts of 1e5 to 1e57 for a unit sine.
def guard_step(loss, zero_loss=0.5, data_loss=None, finite=True):
    data = loss if data_loss is None else data_loss
    return StepResult(loss, 1.0, None, None, finite, data, zero_loss)


def test_guard_fires_on_a_loss_over_the_limit_times_the_reference():
    guard = DivergenceGuard()
    assert guard.factor == LOSS_GROWTH_LIMIT == 1e3
    guard.check(guard_step(0.6), 1)
    guard.check(guard_step(999.0), 2)  # the reference is 1 (above 0.5)
    with pytest.raises(Diverged, match=r"loss exploded to 1e\+12, over 1000 times "
                       r"the larger of 1 and the loss of predicting 0 \(1\), at "
                       r"batch 3") as exc:
        guard.check(guard_step(1e12), 3)
    assert exc.value.steps_done == 2


def test_guard_does_not_fire_on_a_noisy_start():
    # a first epoch whose batches jump 100x the first one is healthy
    guard = DivergenceGuard()
    for b, loss in enumerate([0.01, 1.0, 50.0, 300.0, 0.2, 0.05], start=1):
        guard.check(guard_step(loss, zero_loss=0.01), b)


def test_guard_reference_follows_the_targets_scale():
    # unscaled targets near 1e4: predicting 0 costs 5e7, a loss of 1e9 is sane
    guard = DivergenceGuard()
    guard.check(guard_step(1e9, zero_loss=5e7), 1)
    assert guard.reference == 5e7
    guard.check(guard_step(1e9, zero_loss=1.0), 2)  # the reference never shrinks
    with pytest.raises(Diverged, match="exploded"):
        guard.check(guard_step(1e11, zero_loss=1.0), 3)


def test_guard_ignores_the_l2_penalty():
    # a strong alpha makes the penalized loss large from the start: not divergence
    DivergenceGuard().check(guard_step(1e6, data_loss=0.4), 1)


def test_guard_non_finite_step_names_loss_and_gradient():
    with pytest.raises(Diverged, match=r"loss nan, gradient norm 1.0 at batch 4"):
        DivergenceGuard().check(guard_step(float("nan"), finite=False), 4)


def unit_sine(n=120):
    return np.sin(2 * np.pi * np.arange(n) / 12)


EXPLODING = {
    "forecaster-adam-1e6": (
        lambda: RNNForecaster(hidden_size=4, horizon=3, max_iter=5, random_state=0,
                              loss="squared_error", learning_rate_init=1e6),
        lambda: (unit_sine(),),
    ),
    "forecaster-sgd-1e3-no-clip": (
        # the case: squared error (absolute error's gradient is bounded)
        lambda: RNNForecaster(hidden_size=4, horizon=3, max_iter=5, random_state=0,
                              loss="squared_error", solver="sgd",
                              learning_rate_init=1e3, clip_norm=None),
        lambda: (unit_sine(),),
    ),
    "regressor-adam-1e6": (
        lambda: RNNRegressor(hidden_size=4, max_iter=5, random_state=0,
                             batch_size=16, learning_rate_init=1e6),
        lambda: window_data(),
    ),
    "classifier-adam-1e6": (
        lambda: RNNClassifier(hidden_size=4, max_iter=5, random_state=0,
                              batch_size=16, learning_rate_init=1e6),
        lambda: (window_data()[0], window_data()[1] > 0),
    ),
}


@pytest.mark.parametrize("name", EXPLODING)
def test_an_exploding_loss_stops_training_and_keeps_sane_weights(name):
    make, data = EXPLODING[name]
    d = data()
    est = make()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est.fit(*d)
    kinds = [type(w.message) for w in rec]
    assert DivergenceWarning in kinds and ConvergenceWarning not in kinds
    msg = str(next(w.message for w in rec if w.category is DivergenceWarning))
    assert "diverged at epoch 1 (the loss exploded" in msg
    assert "Lower learning_rate_init" in msg and "clip_norm" in msg
    assert est.stopped_ == "diverged" and est.n_iter_ == 0
    assert np.isfinite(est.params_).all()
    pred = prediction(est, d)
    if isinstance(est, RNNClassifier):
        assert set(np.unique(pred)) <= {False, True}
    else:
        # of the data's magnitude (before: 1e5 to 1e57)
        assert np.abs(pred).max() <= 2 * np.abs(d[-1]).max()


@pytest.mark.parametrize(
    "make, data",
    [
        # high learning rates that still train on these data: their first
        # epochs are noisy (batch losses up to ~10x the first one, measured)
        (lambda: RNNForecaster(hidden_size=8, horizon=3, max_iter=8, random_state=0,
                               learning_rate_init=1.0), lambda: (seasonal(),)),
        (lambda: RNNForecaster(hidden_size=8, horizon=3, max_iter=8, random_state=0,
                               solver="sgd", learning_rate_init=1.0, clip_norm=None),
         lambda: (seasonal(),)),
        (lambda: RNNForecaster(hidden_size=8, horizon=3, max_iter=4, random_state=0,
                               scaler=None), lambda: (1e4 * seasonal() + 3e4,)),
        (lambda: RNNRegressor(hidden_size=8, max_iter=8, random_state=0,
                              solver="sgd", learning_rate_init=1.0, clip_norm=None),
         lambda: window_data(200)),
        (lambda: RNNClassifier(hidden_size=8, max_iter=8, random_state=0,
                               learning_rate_init=1.0),
         lambda: (window_data(200)[0], window_data(200)[1] > 0)),
    ],
    ids=["forecaster-adam-1", "forecaster-sgd-1", "forecaster-unscaled-1e4",
         "regressor-sgd-1", "classifier-adam-1"],
)
def test_a_healthy_fit_is_not_called_diverged(make, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", DivergenceWarning)
        est = make().fit(*data())
    # the tails may stop a healthy run early (3 epochs of patience)
    assert est.stopped_ in ("max_iter", "converged", "early_stopping")
    assert est.n_iter_ >= 1


def test_forecaster_partial_fit_stops_on_an_exploding_loss(monkeypatch):
    make, data = ESTIMATORS["forecaster"]
    y = data()[0]
    est = quiet_fit(make(max_iter=2), (y[:200],))
    before = est.params_.copy()
    real = Network.train_step

    def exploding(net, theta, *args, **kwargs):
        res = real(net, theta, *args, **kwargs)
        return dataclasses.replace(res, loss=1e12, data_loss=1e12)

    monkeypatch.setattr(Network, "train_step", exploding)
    with pytest.warns(DivergenceWarning, match="partial_fit diverged.*exploded.*kept"):
        est.partial_fit(y[200:])
    np.testing.assert_array_equal(est.params_, before)
    assert np.isfinite(est.predict()).all()
