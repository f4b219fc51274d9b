"""RNNForecaster's deseasonalisation and statistical references (issue 13, item 3).

The deseasonalised forecaster must be exactly the plain forecaster fitted on the
series divided by its seasonal indices, with forecasts multiplied back at the
right phase, through predict, update and save/load.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import RNNForecaster
from tsrnn.data import to_series_set
from tsrnn.engine import get_loss
from tsrnn.estimators.forecaster import references
from tsrnn.estimators.forecaster.features import network_inputs
from tsrnn.estimators.forecaster.head import start_at_reference
from tsrnn.estimators.forecaster.training import ScaledSeries, _window
from tsrnn.smoothing import reference_paths, seasonal_indices, seasonality_test

M = 12


def monthly(n=200, seed=0, positive=True):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = (100 + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / M)) + rng.normal(size=n)
    if not positive:
        y = y - 150.0
    return pd.Series(y, index=pd.date_range("2000-01", periods=n, freq="MS"))


def small(**kw):
    # the auto rules pinned: these tests compare with a plain model on the
    # adjusted series, which the rules (reading the raw series) would set apart
    base = dict(hidden_size=4, horizon=6, max_iter=2, random_state=0, differencing=True,
                reference="seasonal", early_stopping=False, loss="squared_error",
                bptt_length=32, validation_fraction=0.1,
                # float64: compared with a plain model to 1e-10 (the same
                # arithmetic in another order)
                dtype="float64")
    return RNNForecaster(**{**base, **kw})


def fit_quiet(model, *a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*a)


@pytest.mark.parametrize("positive", [True, False])
def test_deseasonalized_is_the_plain_model_on_the_adjusted_series(positive):
    y = monthly(positive=positive)
    train, new = y[:180], y[180:190]
    n_train = int(len(train) * 0.9)  # validation_fraction=0.1: indices from these
    auto = fit_quiet(small(), train)
    assert auto.deseasonalized_.tolist() == [[True]]
    assert seasonality_test(train.to_numpy()[:n_train], M)
    idx = seasonal_indices(train.to_numpy()[:n_train], M, multiplicative=positive)
    np.testing.assert_allclose(auto._season.indices[0, :, 0], idx)

    def adjust(v, first):
        ph = (np.arange(len(v)) + first) % M
        return v / idx[ph] if positive else v - idx[ph]

    def readjust(v, first):
        ph = (np.arange(len(v)) + first) % M
        return v * idx[ph] if positive else v + idx[ph]

    plain = fit_quiet(small(deseasonalize=None), adjust(train, 0))
    assert not plain.deseasonalized_.any()
    np.testing.assert_allclose(
        auto.predict().to_numpy(), readjust(plain.predict().to_numpy(), 180), rtol=1e-9
    )
    auto.update(new)
    plain.update(adjust(new, 180))
    np.testing.assert_allclose(
        auto.predict().to_numpy(), readjust(plain.predict().to_numpy(), 190), rtol=1e-9
    )
    # the intervals are centred on the re-seasonalised forecast
    iv = auto.predict_interval(coverage=0.8)
    assert (iv["y-lo-80"] <= auto.predict()).all() and (
        auto.predict() <= iv["y-hi-80"]
    ).all()


def test_save_load_keeps_the_phase(tmp_path):
    y = monthly()
    model = fit_quiet(small(), y[:181])  # the phase is not 0 at the end
    model.save(tmp_path / "m.npz")
    loaded = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.deseasonalized_, model.deseasonalized_)
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    model.update(y[181:186])
    loaded.update(y[181:186])
    np.testing.assert_array_equal(loaded.predict(), model.predict())


def test_no_seasonality_changes_nothing():
    rng = np.random.default_rng(3)
    y = pd.Series(
        10 + rng.normal(size=150),
        index=pd.date_range("2000-01", periods=150, freq="MS"),
    )
    auto = fit_quiet(small(), y)
    off = fit_quiet(small(deseasonalize=None), y)
    assert not auto.deseasonalized_.any()
    np.testing.assert_array_equal(auto.predict(), off.predict())


def test_per_series_in_a_long_frame():
    seas = monthly(150, seed=1)
    rng = np.random.default_rng(4)
    flat = 50 + rng.normal(size=150)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 150),
            "ds": np.tile(seas.index, 2),
            "y": np.r_[seas.to_numpy(), flat],
        }
    )
    model = fit_quiet(small(), df)
    assert model.deseasonalized_[:, 0].tolist() == [True, False]
    assert np.isfinite(model.predict()["y"]).all()


# ------------------------------------------------------------- statistical references
def _at_reference_start(model):
    """Zero the head's recurrent weights and bias: it outputs its start mix."""
    views = model._net.layout.views(model.params_)
    views["head.weight"][...] = 0.0
    views["head.bias"][...] = 0.0
    start = model.params_.copy()
    start_at_reference(model._net, start, model._layout)
    views["head.extra_weight"][...] = model._net.layout.views(start)[
        "head.extra_weight"
    ]
    model._pack_cache = model._pack()
    return model


def _expected_mix(model, y, n_train, h, origin):
    """Mean of the smoothing module's references, through the model's transforms."""
    season = model._season
    steps = np.arange(len(y))
    zero = np.zeros(len(y), int)
    y_ds = season.y(y[:, None], zero, steps)[:, 0]
    loc, scale = model._scaler.y_loc[0, 0], model._scaler.y_scale[0, 0]
    scaled = (y_ds - loc) / scale
    paths = reference_paths(scaled[: origin + 1], h, m=M, train_end=n_train)
    mix = np.mean([p[origin] for p in paths.values()], axis=0)
    fut = origin + 1 + np.arange(h)
    return season.y_inverse((mix * scale + loc)[:, None], np.zeros(h, int), fut)[:, 0]


@pytest.mark.parametrize("differencing", [True, False])
@pytest.mark.parametrize("deseasonalize", ["auto", None])
def test_head_starts_at_the_references_of_the_true_origin(differencing, deseasonalize):
    y = monthly(200)
    n_train = int(180 * 0.9)
    model = fit_quiet(
        small(differencing=differencing, deseasonalize=deseasonalize), y[:180]
    )
    assert model.references_ == ("ses", "holt", "theta", "drift")
    assert model.deseasonalized_.any() == (deseasonalize == "auto")
    _at_reference_start(model)
    v = y.to_numpy()
    np.testing.assert_allclose(
        model.predict().to_numpy(), _expected_mix(model, v, n_train, 6, 179), rtol=1e-9
    )
    model.update(y[180:187])  # the filters continue from the stored states
    np.testing.assert_allclose(
        model.predict().to_numpy(), _expected_mix(model, v, n_train, 6, 186), rtol=1e-9
    )


def test_references_survive_save_load_and_gaps(tmp_path):
    y = monthly(200)
    y.iloc[[20, 60, 61, 182]] = np.nan
    model = fit_quiet(small(), y[:180])
    model.update(y[180:185])
    model.save(tmp_path / "m.npz")
    loaded = tsrnn.load(tmp_path / "m.npz")
    assert loaded.references_ == model.references_
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    loaded.update(y[185:190])
    model.update(y[185:190])
    np.testing.assert_array_equal(loaded.predict(), model.predict())
    assert np.isfinite(model.predict()).all()
    iv = model.predict_interval(coverage=0.9)
    assert np.isfinite(iv.to_numpy()).all()


def test_references_off_and_recursive():
    y = monthly(150)
    off = fit_quiet(small(references=None), y)
    assert off.references_ == () and off._layout.n_refs == 0
    rec = fit_quiet(small(strategy="recursive"), y)
    assert rec.references_ == () and rec._layout.n_refs == 0
    # the references add n_refs * n_targets extras per step, nothing else
    on = fit_quiet(small(), y)
    assert on._layout.n_per_step == off._layout.n_per_step + 4


def test_partial_fit_reads_the_references_of_the_new_rows():
    y = monthly(200)
    model = fit_quiet(small(), y[:170])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(y[170:190])
    again = fit_quiet(small(), y[:170])
    again.update(y[170:190])
    # the same filter states whichever way the rows came in
    np.testing.assert_array_equal(model._refs.state, again._refs.state)
    np.testing.assert_array_equal(model._refs.last, again._refs.last)


def test_head_gradient_through_the_reference_extras():
    y = monthly(120)
    model = fit_quiet(small(hidden_size=3, horizon=3), y)
    lay, net = model._layout, model._net
    data = to_series_set(y)
    Y, Z = network_inputs(
        data, model._scaler, lay, data.schema.freq, np.float64, season=model._season
    )
    _, lines = references.fit_state(Y, data.indptr, np.array([len(y)]), M)
    series = ScaledSeries.build(Y, Z, data.indptr, refs=lines)
    rows = np.arange(30, 40).reshape(5, 2)  # (T, B)
    w = _window(lay, series, rows, None)
    cols = lay.ref_offset + np.arange(lay.n_refs)
    ex = w.extra.reshape(5, 2, lay.horizon_out, lay.n_per_step)
    assert np.abs(ex[..., cols]).min() > 0  # the references are really read
    rng = np.random.default_rng(0)
    theta = model.params_ + 0.1 * rng.standard_normal(net.size)
    fn = get_loss("huber")

    def value(t):
        return fn(net.forward(t, w.x, None, w.extra)[0], w.target, w.mask)[0]

    _, grad, _, _ = net.loss_grad(
        theta, w.x, w.target, w.mask, fn, extra=w.extra, training=False
    )
    # every head parameter: the reference columns' extra weights among them
    idx = np.concatenate(
        [np.arange(s.start, s.stop) for n, s in _slots(net) if n.startswith("head.")]
    )
    eps = 1e-6
    num = np.array(
        [
            (value(theta + eps * e) - value(theta - eps * e)) / (2 * eps)
            for e in (np.eye(net.size)[i] for i in idx)
        ]
    )
    assert np.abs(num).max() > 0
    assert np.abs(num - grad[idx]).max() / np.abs(num).max() < 1e-6


def _slots(net):
    return [(n, net.layout[n]) for n in net.layout.names]


def test_seasonal_share_follows_the_better_start():
    from tsrnn.estimators.forecaster.head import seasonal_share

    t = np.arange(240)
    idx = pd.date_range("2000-01", periods=240, freq="MS")
    # an exactly periodic series: seasonal naive makes no error after the
    # first season (before it, it falls back to the last value), the mix does
    periodic = pd.Series(10 + np.sin(2 * np.pi * t / M) + 0.3 * (t % 4 == 0), idx)
    # a straight line: drift is exact, seasonal naive lags by a season
    line = pd.Series(5.0 + 0.7 * t, idx)
    # (the mix lags on a line only through SES, whose error grows with the step)
    for y, lo, hi in ((periodic, 0.9, 1.0), (line, 0.0, 0.25)):
        model = fit_quiet(small(deseasonalize=None, max_iter=1), y)
        lay = model._layout
        data = to_series_set(y)
        Y, Z = network_inputs(
            data, model._scaler, lay, data.schema.freq, np.float64, season=None
        )
        train_end = np.array([int(len(y) * 0.9)])
        _, lines = references.fit_state(Y, data.indptr, train_end, M)
        series = ScaledSeries.build(Y, Z, data.indptr, train_end, refs=lines)
        share = seasonal_share(lay, series)
        assert share.shape == (lay.horizon_out, 1)
        assert lo <= share.min() and share.max() <= hi, share.ravel()


@pytest.mark.parametrize("relative", [False, True])
def test_gather_ranges_equals_one_gather_per_range(monkeypatch, relative):
    # the held-out tails are gathered a block of rows at a time: each row's
    # features must be those of a gather of its own range
    from tsrnn.estimators.forecaster import features
    from tsrnn.estimators.forecaster.features import FeatureLayout, gather

    rng = np.random.default_rng(1)
    lengths = np.array([7, 1, 12, 5, 9])
    indptr = np.r_[0, np.cumsum(lengths)]
    N = indptr[-1]
    Y = rng.normal(size=(N, 1))
    Y[[3, 15]] = np.nan
    Z = rng.normal(size=(N, 2))
    refs = rng.normal(size=(N, 1, 2, 3))
    start = np.repeat(indptr[:-1], lengths)
    end = np.repeat(indptr[1:], lengths)
    lay = FeatureLayout(1, 1, 1, horizon_out=3, seasons=(1, 4), relative=relative,
                        n_refs=2)
    first = indptr[:-1] + np.array([3, 0, 2, 5, 1])
    stop = np.minimum(first + np.array([4, 1, 10, 0, 8]), indptr[1:])
    monkeypatch.setattr(features, "RANGE_BLOCK", 5)  # blocks cut across ranges
    got = list(
        features.gather_ranges(lay, Y, Z, start, end, first, stop, refs=refs)
    )
    assert [g[0] for g in got] == [i for i in range(5) if stop[i] > first[i]]
    for i, rows, *parts in got:
        np.testing.assert_array_equal(rows, np.arange(first[i], stop[i]))
        want = gather(lay, Y, Z, start, end, rows, refs=refs)
        for a, b in zip(parts, want, strict=True):
            np.testing.assert_array_equal(a, b)
