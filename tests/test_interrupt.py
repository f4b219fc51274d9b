"""Ctrl-C during ``fit`` stops cleanly: best weights kept, a warning, a usable model.

The interrupt is simulated by making :meth:`tsrnn.engine.Network.train_step`
(called once per batch/window by every estimator's epoch) raise
``KeyboardInterrupt`` halfway through the third epoch, after some of that
epoch's updates have already changed the weights. The interrupted model must
hold exactly the weights of its best finished epoch (by training loss), which
reference fits stopped after one and two epochs give.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNForecaster, RNNRegressor
from tsrnn.engine import Network


def _forecaster_case():
    t = np.arange(600.0)
    y = np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(0).normal(size=600)

    def make(max_iter):
        return RNNForecaster(
            cell="gru",
            hidden_size=8,
            horizon=4,
            bptt_length=16,
            max_iter=max_iter,
            random_state=0,
            # the defaults before the "auto" values: one training run to stop
            early_stopping=False,
            differencing=False,
            loss="squared_error",
            reference="seasonal",
            validation_fraction=0.1,
        )

    return make, (y,), lambda est: est.predict()


def _regressor_case():
    series = np.sin(0.2 * np.arange(320.0))
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)
    y = series[12:]

    def make(max_iter):
        return RNNRegressor(
            cell="lstm",
            hidden_size=8,
            batch_size=32,
            max_iter=max_iter,
            random_state=0,
        )

    return make, (X, y), lambda est: est.predict(X[:5])


CASES = {"RNNForecaster": _forecaster_case, "RNNRegressor": _regressor_case}


def _patch_train_step(monkeypatch, interrupt_at=None):
    """Count ``train_step`` calls; raise KeyboardInterrupt on call ``interrupt_at``."""
    original = Network.train_step
    calls = {"n": 0}

    def train_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == interrupt_at:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Network, "train_step", train_step)
    return calls


def _fit_quietly(est, data):
    with warnings.catch_warnings():
        # reference fits stop at max_iter on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*data)


@pytest.mark.parametrize("name", list(CASES))
def test_ctrl_c_keeps_the_best_finished_epoch(name, monkeypatch):
    make, data, use = CASES[name]()
    with monkeypatch.context() as m:
        calls = _patch_train_step(m)
        one = _fit_quietly(make(1), data)
        steps_per_epoch = calls["n"]
    two = _fit_quietly(make(2), data)
    assert steps_per_epoch >= 2
    assert len(two.loss_curve_) == 2

    # Ctrl-C in the middle of epoch 3
    interrupt_at = 2 * steps_per_epoch + steps_per_epoch // 2 + 1
    calls = _patch_train_step(monkeypatch, interrupt_at=interrupt_at)
    est = make(50)
    with pytest.warns(RuntimeWarning, match="interrupted after 2 epochs"):
        returned = est.fit(*data)
    monkeypatch.undo()

    assert calls["n"] == interrupt_at  # training really stopped there
    assert returned is est
    assert est.n_iter_ == 2
    np.testing.assert_array_equal(est.loss_curve_, two.loss_curve_)
    best = one if two.loss_curve_[0] <= two.loss_curve_[1] else two
    np.testing.assert_array_equal(est.params_, best.params_)
    # still a working model
    assert np.all(np.isfinite(use(est)))
