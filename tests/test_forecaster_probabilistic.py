"""RNNForecaster's likelihood and quantile heads, and its sample paths (issue 15).

The gradient through the forecaster's network and head is compared with
finite differences; the quantiles and intervals with SciPy's quantiles of the
head's parameters mapped by hand through the scaler, the seasonal indices and
the origin's level; sample paths with the point forecast (temperature 0),
with themselves (a seed gives the same paths), with the quantiles, and after
``update``/``save``/``load``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.engine import InferencePack
from tsrnn.engine.distributions import softplus
from tsrnn.estimators.forecaster.features import network_inputs
from tsrnn.estimators.forecaster.likelihood import output_head
from tsrnn.estimators.forecaster.training import ScaledSeries
from tsrnn.evaluation import IntervalFallbackWarning

LIKELIHOODS = ["normal", "student_t", "poisson", "negative_binomial"]


def _real(n=240, seed=0, level=10.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + np.sin(2 * np.pi * t / 12) + 0.3 * rng.standard_normal(n)


def _counts(n=240, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return rng.poisson(6 + 3 * np.sin(2 * np.pi * t / 12)).astype(float)


def _fit(loss, y=None, **kw):
    counts = loss in ("poisson", "negative_binomial")
    if y is None:
        y = _counts() if counts else _real()
    params = dict(
        horizon=3, hidden_size=8, max_iter=4, loss=loss, random_state=0,
        season_length=12,
        # float64: these tests compare with finite differences and exact maps
        dtype="float64",
    )
    if counts:
        params["scaler"] = None
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNForecaster(**params).fit(y)


# ------------------------------------------------------------ gradients
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
@pytest.mark.parametrize("loss", [*LIKELIHOODS, "quantile"])
def test_gradient_through_the_forecasters_head_matches_finite_differences(
    loss, strategy
):
    model = _fit(loss, strategy=strategy, max_iter=2)
    y = _counts() if output_head(model).counts else _real()
    data = model._read(y, None)
    Y, Z = network_inputs(
        data, model._scaler, model._layout, data.schema.freq, np.float64,
        season=model._season,
    )
    series = ScaledSeries.build(Y, Z, data.indptr)
    rows = np.stack([np.arange(30, 40), np.arange(90, 100)], axis=1)  # (T, B)
    x, ex, tg, mk = series.gather(model._layout, rows)
    net, theta = model._net, model.params_.copy()
    fn = output_head(model).training_loss()

    def loss_at(th):
        return net.loss_grad(th, x, tg, mk, fn, None, ex, training=False)

    _, grad, _, _ = loss_at(theta)
    # every head row (each distribution parameter / quantile) and some of the cell
    head = net.layout["head.weight"]
    picks = np.r_[
        np.random.default_rng(0).choice(head.start, 12, replace=False),
        np.arange(head.start, head.stop, max(1, (head.stop - head.start) // 24)),
        net.layout["head.bias"].start + np.arange(net.layout["head.bias"].stop
                                                   - net.layout["head.bias"].start),
    ]
    for i in picks:
        up, down = theta.copy(), theta.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        fd = (loss_at(up)[0] - loss_at(down)[0]) / 2e-6
        assert grad[i] == pytest.approx(fd, rel=2e-4, abs=1e-7), i


# ------------------------------------------------- quantiles through transforms
def _by_hand_quantiles(model, qs, h):
    """SciPy quantiles of the head's parameters, mapped by hand to data units."""
    fut = model._future(h, None)
    pos, _, base, out0 = model._origin_outputs(fut)
    head = output_head(model)
    lay = model._layout
    raw = out0.reshape(1, lay.horizon_out, lay.n_params)[0, :h]  # one target
    if head.loss == "normal":
        dist = stats.norm(raw[:, 0], softplus(raw[:, 1]) + 1e-6)
    else:
        dist = stats.t(2 + 1e-6 + softplus(raw[:, 2]), raw[:, 0],
                       softplus(raw[:, 1]) + 1e-6)
    q = np.stack([dist.ppf(v) for v in qs], axis=-1)  # (h, nq)
    if lay.relative:
        q = q + base[0, 0]
    q = q * model._scaler.y_scale[0, 0] + model._scaler.y_loc[0, 0]
    season = model._season
    if season.period > 1 and season.active[0, 0]:
        steps = model.schema_.n_seen[0] + np.arange(h)
        idx = season.indices[0, steps % season.period, 0][:, None]
        q = q * idx if season.multiplicative[0, 0] else q + idx
    return q


@pytest.mark.parametrize(
    "loss, kw",
    [
        ("normal", {}),
        ("student_t", {}),
        ("normal", {"differencing": True}),
        ("student_t", {"scaler": "robust", "differencing": True}),
    ],
)
def test_quantiles_map_exactly_through_scaler_seasonal_indices_and_level(loss, kw):
    t = np.arange(240)
    y = 50 * (1 + 0.4 * np.sin(2 * np.pi * t / 12)) + np.random.default_rng(1).normal(
        0, 2, 240
    )
    model = _fit(loss, y=y, **kw)
    assert model.deseasonalized_.all()  # the multiplicative indices are exercised
    qs = [0.05, 0.5, 0.9]
    got = model.predict_quantiles(qs)[0, :, 0]
    np.testing.assert_allclose(got, _by_hand_quantiles(model, qs, 3), rtol=1e-10)
    # the point forecast is the mean (= the median for these families)
    np.testing.assert_allclose(model.predict(), got[:, 1], rtol=1e-10)
    lo, hi = model.predict_interval(level=90, method="distribution")
    np.testing.assert_allclose(lo, model.predict_quantiles(0.05)[0, :, 0, 0])
    np.testing.assert_allclose(hi, model.predict_quantiles(0.95)[0, :, 0, 0])


def test_count_heads_predict_their_mean_and_integer_quantiles():
    for loss in ("poisson", "negative_binomial"):
        model = _fit(loss)
        assert model.differencing_ is False and not model.deseasonalized_.any()
        q = model.predict_quantiles([0.1, 0.5, 0.9])[0, :, 0]
        assert np.all(q == np.round(q)) and np.all(q >= 0)
        fut = model._future(3, None)
        out0 = model._origin_outputs(fut)[3]
        mean = softplus(out0.reshape(3, -1)[:, 0]) + 1e-6
        np.testing.assert_allclose(model.predict(), mean, rtol=1e-12)


def test_quantile_head_is_sorted_interpolated_and_says_what_it_cannot_give():
    model = _fit("quantile", quantiles=[0.9, 0.1, 0.5, 0.25])
    q = model.predict_quantiles([0.1, 0.2, 0.25, 0.5, 0.9])[0, :, 0]
    assert np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_allclose(model.predict(), q[:, 3])
    lo, hi = model.predict_interval(level=80, method="quantile")
    np.testing.assert_allclose(lo, q[:, 0])
    np.testing.assert_allclose(hi, q[:, 4])
    with pytest.raises(ValueError, match="between them"):
        model.predict_quantiles([0.05])
    with pytest.warns(IntervalFallbackWarning, match="falling back to conformal"):
        model.predict_interval(level=95)
    with pytest.raises(ValueError, match="gives intervals by method"):
        model.predict_interval(method="distribution")


def test_interval_methods_follow_the_head_and_strategy():
    assert _fit("normal")._interval_methods == ("distribution", "samples", "conformal")
    assert _fit("normal", strategy="recursive")._interval_methods == (
        "samples", "conformal",
    )
    assert _fit("quantile")._interval_methods == ("quantile", "samples", "conformal")
    assert _fit("quantile", strategy="recursive")._interval_methods == (
        "samples", "conformal",
    )
    assert _fit("absolute_error")._interval_methods == ("conformal",)
    with pytest.raises(ValueError, match="recursive model's quantiles beyond one"):
        _fit("normal", strategy="recursive").predict_quantiles(0.5)
    rec = _fit("student_t", strategy="recursive")
    assert rec.predict_quantiles(0.5, horizon=1).shape == (1, 1, 1, 1)


def test_normal_head_covers_one_step_ahead_about_its_level():
    y = _real(n=700, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RNNForecaster(horizon=1, hidden_size=8, max_iter=40, loss="normal",
                              season_length=12, random_state=0,
                              learning_rate_init=0.01).fit(y[:500])
    inside80 = inside95 = 0
    for t in range(500, 700):
        lo, hi = model.predict_interval(level=[80, 95])
        inside80 += lo[0, 0] <= y[t] <= hi[0, 0]
        inside95 += lo[1, 0] <= y[t] <= hi[1, 0]
        model.update(y[t : t + 1])
    # 200 one-step forecasts: +-0.1 is about 3.5 binomial standard errors at 80 %
    assert abs(inside80 / 200 - 0.8) < 0.1
    assert abs(inside95 / 200 - 0.95) < 0.06


# ------------------------------------------------------------- sample paths
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_greedy_path_is_the_point_forecast_and_seeds_reproduce(strategy):
    model = _fit("student_t", strategy=strategy)
    greedy = model.sample(4, temperature=0)
    np.testing.assert_allclose(
        greedy[0], np.broadcast_to(model.predict()[:, None], (4, 3, 1)), rtol=1e-12
    )
    a = model.sample(50, random_state=7)
    assert a.shape == (1, 50, 3, 1)
    assert np.array_equal(a, model.sample(50, random_state=7))
    assert not np.array_equal(a, model.sample(50, random_state=8))
    wide = model.sample(50, random_state=7, temperature=2.0)
    if strategy == "direct":  # the same noise, twice the spread around the mean
        np.testing.assert_allclose(wide - greedy[:, :1], 2 * (a - greedy[:, :1]))
    assert wide.std(axis=1).mean() > a.std(axis=1).mean()


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_first_step_draws_follow_the_heads_quantiles(strategy):
    model = _fit("normal", strategy=strategy)
    paths = model.sample(20000, random_state=0)
    q = model.predict_quantiles([0.1, 0.5, 0.9], horizon=1)[0, 0, 0]
    emp = np.quantile(paths[0, :, 0, 0], [0.1, 0.5, 0.9])
    spread = q[2] - q[0]
    np.testing.assert_allclose(emp, q, atol=0.03 * spread)


def test_recursive_paths_feed_their_draws_back():
    """A path's step 2 depends on its own step-1 draw (not so for direct)."""
    y = np.cumsum(np.random.default_rng(2).normal(size=400))
    model = _fit("normal", y=y, strategy="recursive", differencing=False,
                 max_iter=15, learning_rate_init=0.01)
    p = model.sample(4000, horizon=2, random_state=1)[0, :, :, 0]
    assert np.corrcoef(p[:, 0], p[:, 1])[0, 1] > 0.3
    direct = _fit("normal", y=y, differencing=False).sample(4000, random_state=1)
    assert abs(np.corrcoef(direct[0, :, 0, 0], direct[0, :, 1, 0])[0, 1]) < 0.06


def test_counts_sample_non_negative_integers_and_fed_back_means():
    model = _fit("negative_binomial", strategy="recursive")
    paths = model.sample(200, horizon=6, random_state=0)
    assert np.all(paths >= 0) and np.all(paths == np.round(paths))
    np.testing.assert_allclose(
        model.sample(2, horizon=6, temperature=0)[0, 0, :, 0], model.predict(6),
        rtol=1e-12,
    )


def test_sample_after_update_and_save_load(tmp_path):
    y = _real(n=260)
    model = _fit("student_t", y=y[:240], strategy="recursive")
    before = model.sample(10, random_state=3)
    model.update(y[240:250])
    after = model.sample(10, random_state=3)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(model.sample(3, temperature=0)[0, 0, :, 0],
                               model.predict(), rtol=1e-12)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = tsrnn.load(path)
    assert np.array_equal(loaded.sample(10, random_state=3), after)
    np.testing.assert_array_equal(loaded.predict_interval(level=[80, 95]),
                                  model.predict_interval(level=[80, 95]))


@pytest.mark.parametrize("loss", [*LIKELIHOODS, "quantile"])
def test_save_load_keeps_every_head(loss, tmp_path):
    model = _fit(loss)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = tsrnn.load(path)
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    np.testing.assert_array_equal(loaded.predict_interval(), model.predict_interval())
    assert loaded._layout == model._layout


def test_many_series_long_frame_paths_and_frame_format():
    rng = np.random.default_rng(0)
    frames = []
    for uid, level in (("a", 5.0), ("b", 50.0)):
        ds = pd.date_range("2024-01-01", periods=150, freq="D")
        frames.append(pd.DataFrame({
            "unique_id": uid, "ds": ds,
            "y": level + np.sin(np.arange(150) / 3) + rng.normal(0, 0.2, 150),
        }))
    df = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RNNForecaster(horizon=2, hidden_size=8, max_iter=3, loss="normal",
                              strategy="recursive", random_state=0).fit(df)
    paths = model.sample(5, horizon=4, random_state=0)
    assert paths.shape == (2, 5, 4, 1)
    assert abs(paths[1].mean() - paths[0].mean() - 45) < 5  # each series' level
    frame = model.sample(5, horizon=4, random_state=0, as_frame=True)
    assert list(frame.columns) == ["unique_id", "ds", "sample", "y"]
    assert len(frame) == 2 * 5 * 4
    np.testing.assert_array_equal(frame["y"].to_numpy(), paths.reshape(-1))
    pred = model.predict(4)
    assert set(frame["ds"]) == set(pred["ds"])
    iv = model.predict_interval(level=[80], method="samples")
    assert list(iv.columns[-2:]) == ["y-lo-80", "y-hi-80"]


def test_early_stopping_scores_the_tails_by_the_heads_loss():
    model = _fit("normal", max_iter="auto", early_stopping="holdout")
    assert model.validation_scores_  # -NLL per epoch on the tails
    assert model.best_validation_score_ == max(model.validation_scores_)
    refit = _fit("quantile", max_iter="auto")
    assert refit.selected_epochs_ >= 0 and refit.validation_scores_


def test_count_gaps_are_fed_back_as_softplus_means():
    """The stream kernel's feedback link 1 feeds softplus(output) + 1e-6."""
    model = _fit("poisson")
    pack = InferencePack(model._net, model.params_)
    lay = model._layout
    fb = lay.feedback_map
    assert fb.tolist() == [[0, 0, 1]]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 1, lay.n_inputs))
    ex = rng.normal(size=(1, 1, lay.n_extra))
    last = rng.normal(size=(1, lay.n_outputs))
    state = model._net.stack.zero_state(1)
    x_nan = x.copy()
    x_nan[0, 0, 0] = np.nan
    out_nan = pack.run(state.copy(), x_nan, ex, fb, last.copy())
    x[0, 0, 0] = softplus(last[0, 0]) + 1e-6
    out = pack.run(state.copy(), x, ex, fb, last.copy())
    np.testing.assert_allclose(out_nan, out, rtol=1e-12)
    y = _counts()
    y[-3:-1] = np.nan
    with_gap = _fit("poisson", y=y)
    assert np.isfinite(with_gap.predict()).all() and (with_gap.predict() > 0).all()


@pytest.mark.parametrize("loss", ["normal", "student_t", "quantile"])
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_head_starts_at_the_references_spread(loss, strategy):
    """Before training, the reference alone ("epoch 0") is calibrated in-sample."""
    from tsrnn.estimators.forecaster.head import reference_only

    model = _fit(loss, strategy=strategy, max_iter=1)
    data = model._read(_real(), None)
    Y, Z = network_inputs(
        data, model._scaler, model._layout, data.schema.freq, np.float64,
        season=model._season,
    )
    series = ScaledSeries.build(Y, Z, data.indptr)
    net, theta = model._network_and_weights(model._layout, np.float64, False, series)
    ref = reference_only(net, theta)
    rows = np.arange(len(Y) - 5)
    _, ex, tg, mk = series.gather(model._layout, rows)
    top = np.zeros((len(rows), net.stack.hidden_size))
    raw = net.head.forward(net.split(ref)[1], top, ex)[0]
    head = output_head(model)
    q = head.quantiles(raw, [0.1, 0.9])  # (rows, ho * k, 2)
    ok = mk > 0
    inside = (tg >= q[..., 0]) & (tg <= q[..., 1])
    # the spread is the residuals' RMS: about 80 % inside for near-Gaussian noise
    assert abs(inside[ok].mean() - 0.8) < 0.08


@pytest.mark.parametrize(
    "cell, layers", [("lstm", 2), ("gru", 1), ("rnn", 2), ("sru", 1)]
)
def test_every_cell_samples_its_greedy_path_as_predict(cell, layers):
    """Each cell's sampler (LSTM: all paths at once) steps as predict does."""
    model = _fit("normal", strategy="recursive", cell=cell, num_layers=layers)
    greedy = model.sample(3, horizon=5, temperature=0)[0, :, :, 0]
    np.testing.assert_allclose(greedy, np.tile(model.predict(5), (3, 1)), rtol=1e-12)
    paths = model.sample(2000, horizon=5, random_state=0)[0, :, 0, 0]
    q = model.predict_quantiles([0.1, 0.9], horizon=1)[0, 0, 0]
    assert abs(np.mean((paths >= q[0]) & (paths <= q[1])) - 0.8) < 0.03


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_quantile_heads_sample_by_inverting_their_quantiles(strategy):
    model = _fit("quantile", strategy=strategy, quantiles=[0.1, 0.25, 0.5, 0.75, 0.9])
    paths = model.sample(20000, random_state=0)
    assert np.array_equal(paths, model.sample(20000, random_state=0))
    q = model.predict_quantiles([0.1, 0.25, 0.5, 0.75, 0.9], horizon=1)[0, 0, 0]
    emp = np.quantile(paths[0, :, 0, 0], [0.1, 0.25, 0.5, 0.75, 0.9])
    np.testing.assert_allclose(emp, q, atol=0.03 * (q[-1] - q[0]))
    greedy = model.sample(2, temperature=0)[0, 0, :, 0]
    if strategy == "direct":  # the median path is the point forecast
        np.testing.assert_allclose(greedy, model.predict(), rtol=1e-12)
    lo, hi = model.predict_interval(level=95, method="samples")  # beyond 0.1/0.9
    lo80, hi80 = model.predict_interval(level=80, method="samples")
    assert np.all(lo < lo80) and np.all(hi80 < hi)


def test_backtest_intervals_are_the_heads_own():
    """backtest(coverage=...) bounds a likelihood head by its distribution."""
    from sklearn.base import clone

    from tsrnn.backtest import backtest

    y = _real(n=200)
    est = RNNForecaster(horizon=3, hidden_size=8, max_iter=3, loss="normal",
                        season_length=12, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, fc = backtest(est, y, n_origins=1, initial=190, coverage=0.8,
                         return_forecasts=True)
        model = clone(est).fit(y[:190])
    lo, hi = model.predict_interval(level=80, method="distribution")
    np.testing.assert_allclose(fc["RNNForecaster-lo-80"], lo, rtol=1e-12)
    np.testing.assert_allclose(fc["RNNForecaster-hi-80"], hi, rtol=1e-12)
