"""RNNRegressor's likelihood and quantile heads (issue 15 item 1, window models).

The gradient through the whole network is compared with finite differences;
the predictive distributions with what the data were drawn from; the
quantile head's output never crosses; save/load, clone and bad inputs.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNRegressor


def _data(n=700, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    y = np.sin(t / 4) + 0.3 * rng.normal(size=n)
    X, Y = tsrnn.make_windows(y, 10)
    return X, Y.reshape(len(Y), -1)[:, 0]


def _fit(loss, max_iter=40, **kw):
    X, Y = _data()
    model = RNNRegressor(hidden_size=12, max_iter=max_iter, loss=loss,
                         learning_rate_init=0.01, random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:550], Y[:550])
    return model, X[550:], Y[550:]


@pytest.mark.parametrize("loss", ["normal", "student_t", "quantile"])
def test_network_gradient_through_the_head_matches_finite_differences(loss):
    model, X, Y = _fit(loss, max_iter=1)
    net, theta = model._network, model.params_.copy()
    x = np.ascontiguousarray(model._time_major(np.asarray(X[:6], float), slice(0, 6)))
    y = ((Y[:6] - model._y_mean) / model._y_scale)[:, None]
    fn = model._training_loss()
    _, grad, _, _ = net.loss_grad(theta, x, y, None, fn, training=False)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(theta), 25, replace=False):
        up, down = theta.copy(), theta.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        fd = (
            net.loss_grad(up, x, y, None, fn, training=False)[0]
            - net.loss_grad(down, x, y, None, fn, training=False)[0]
        ) / 2e-6
        assert grad[i] == pytest.approx(fd, rel=1e-4, abs=1e-8)


@pytest.mark.parametrize("loss", ["normal", "student_t", "quantile"])
def test_intervals_cover_about_their_level(loss):
    kw = {"quantiles": [0.05, 0.25, 0.5, 0.75, 0.95]} if loss == "quantile" else {}
    model, X, Y = _fit(loss, max_iter=60, **kw)
    lo, hi = model.predict_interval(X, level=[50, 90])
    cover = ((Y >= lo) & (Y <= hi)).mean(axis=1)
    # 143 test windows: +-0.12 is well outside sampling noise around a good fit
    assert abs(cover[0] - 0.5) < 0.12 and abs(cover[1] - 0.9) < 0.12
    assert np.all(lo[1] <= lo[0]) and np.all(hi[0] <= hi[1])


def test_quantile_head_never_crosses_and_predicts_the_median():
    model, X, _ = _fit("quantile", max_iter=3, quantiles=[0.9, 0.1, 0.5, 0.25])
    q = model.predict_quantiles(X, [0.1, 0.25, 0.5, 0.9])
    assert q.shape == (len(X), 4) and np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_allclose(model.predict(X), q[:, 2])
    with pytest.raises(ValueError, match="between them"):
        model.predict_quantiles(X, [0.05])


def test_likelihood_head_mean_quantiles_and_samples_agree():
    model, X, _ = _fit("normal", max_iter=5)
    draws = model.sample(X[:4], n_samples=20000, random_state=0)
    assert draws.shape == (4, 20000)
    np.testing.assert_allclose(draws.mean(axis=1), model.predict(X[:4]), atol=0.02)
    np.testing.assert_allclose(
        np.quantile(draws, 0.9, axis=1),
        model.predict_quantiles(X[:4], 0.9)[:, 0],
        atol=0.03,
    )
    greedy = model.sample(X[:4], n_samples=3, temperature=0.0)
    np.testing.assert_allclose(greedy, np.repeat(model.predict(X[:4])[:, None], 3, 1))
    np.testing.assert_array_equal(
        model.sample(X[:4], 5, random_state=3), model.sample(X[:4], 5, random_state=3)
    )


def test_probabilistic_models_save_load_and_clone(tmp_path):
    model, X, _ = _fit("student_t", max_iter=2)
    path = os.path.join(tmp_path, "m.npz")
    model.save(path)
    back = tsrnn.load(path)
    np.testing.assert_array_equal(back.predict_interval(X[:5]), model.predict_interval(X[:5]))
    assert clone(model).get_params()["loss"] == "student_t"


@pytest.mark.parametrize(
    "make,call,match",
    [
        (lambda: RNNRegressor(quantiles=[0.5]), "fit", "quantiles is for loss='quantile'"),
        (lambda: RNNRegressor(loss="quantile", quantiles=[0.5, 1.5]), "fit", "strictly between 0 and 1"),
        (lambda: RNNRegressor(loss="quantile", quantiles=[0.5, 0.5]), "fit", "repeated"),
        (lambda: RNNRegressor(loss="poisson"), "fit", "loss"),
        (lambda: RNNRegressor(), "sample", "needs a likelihood head"),
        (lambda: RNNRegressor(), "quantiles", "point forecasts only"),
    ],
)
def test_bad_probabilistic_inputs(make, call, match):
    X, Y = _data(60)
    model = make()
    if call == "fit":
        with pytest.raises(ValueError, match=match):
            model.set_params(max_iter=1).fit(X, Y)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(max_iter=1, hidden_size=4).fit(X, Y)
    with pytest.raises(ValueError, match=match):
        if call == "sample":
            model.sample(X[:2])
        else:
            model.predict_quantiles(X[:2], 0.5)


def test_changing_the_loss_between_partial_fits_is_refused():
    X, Y = _data(80)
    model = RNNRegressor(hidden_size=4, loss="normal").partial_fit(X, Y)
    with pytest.raises(ValueError, match="parameters changed since fit: loss="):
        model.set_params(loss="squared_error").partial_fit(X, Y)
