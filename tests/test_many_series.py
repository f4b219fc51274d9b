"""Many series: per-series models through joblib (threads, processes, Dask) and
the global model's ``differencing`` (issue 6)."""

from __future__ import annotations

import asyncio

import os
import pathlib
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from tsrnn import PerSeriesForecaster, RNNForecaster, SeasonalNaiveForecaster
from tsrnn.data import to_series_set
from tsrnn.kernels._jit import cache_stats

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _panel(n_series=4, length=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    rows = []
    for i in range(n_series):
        n = length - 5 * i  # different lengths
        y = 10 * (i + 1) + 0.2 * t[:n] + np.sin(2 * np.pi * t[:n] / 12)
        y = y + 0.1 * rng.normal(size=n)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": t[:n], "y": y}))
    return pd.concat(rows, ignore_index=True)


def _small_rnn(**kw):
    params = dict(
        horizon=6,
        hidden_size=4,
        max_iter=2,
        bptt_length=8,
        season_length=12,
        validation_fraction=0.2,
    )
    params.update(kw)
    return RNNForecaster(**params)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # two epochs never converge; that is not what these tests are about
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="maximum iterations")
        yield


# ------------------------------------------------------------------ local
def test_per_series_matches_a_hand_fitted_clone():
    df = _panel()
    before = df.copy()
    model = PerSeriesForecaster(_small_rnn(), random_state=3).fit(df)
    pd.testing.assert_frame_equal(df, before)  # the user's frame is untouched
    fc = model.predict()
    assert list(pd.unique(fc.unique_id)) == ["s0", "s1", "s2", "s3"]
    assert fc.groupby("unique_id").size().eq(6).all()
    # series s2 alone, with the seed the meta-estimator gave it
    piece = df[df.unique_id == "s2"]
    own = _small_rnn(random_state=model.seeds_["s2"]).fit(piece).predict()
    got = fc[fc.unique_id == "s2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, own.reset_index(drop=True))
    # forecasts continue each series' own time axis
    last = df.groupby("unique_id").ds.max()
    first = fc.groupby("unique_id").ds.min()
    assert (first == last + 1).all()


def test_per_series_intervals_and_update_equal_the_clones():
    df = _panel()
    train = df[df.ds < 40]
    new = df[df.ds >= 40]
    model = PerSeriesForecaster(_small_rnn(), random_state=0).fit(train)
    iv = model.predict_interval(coverage=0.5)
    assert {"unique_id", "ds"} <= set(iv.columns) and len(iv) == 4 * 6
    ref = {
        sid: _small_rnn(random_state=model.seeds_[sid]).fit(g)
        for sid, g in train.groupby("unique_id")
    }
    model.update(new)
    for sid, g in new.groupby("unique_id"):
        ref[sid].update(g)
        want = ref[sid].predict().reset_index(drop=True)
        got = model.predict()
        got = got[got.unique_id == sid].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)


def test_per_series_works_with_any_forecaster():
    df = _panel()
    model = PerSeriesForecaster(SeasonalNaiveForecaster(season_length=12)).fit(df)
    fc = model.predict(3)
    s0 = df[df.unique_id == "s0"].y.to_numpy()
    np.testing.assert_array_equal(
        fc[fc.unique_id == "s0"].y.to_numpy(), s0[-12:-9]
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m, df: m.fit(df.y), "long-format pandas DataFrame"),
        (lambda m, df: m.fit(df.drop(columns="unique_id")), "no id column"),
        (lambda m, df: m.fit(df.iloc[:0]), "empty"),
    ],
)
def test_per_series_bad_input(call, match):
    df = _panel()
    before = df.copy()
    with pytest.raises((TypeError, ValueError), match=match):
        call(PerSeriesForecaster(SeasonalNaiveForecaster(season_length=12)), df)
    pd.testing.assert_frame_equal(df, before)


def test_per_series_update_with_an_unknown_id_changes_nothing():
    df = _panel()
    model = PerSeriesForecaster(SeasonalNaiveForecaster(season_length=12)).fit(df)
    before = model.predict()
    new = pd.DataFrame({"unique_id": ["s0", "zz"], "ds": [60, 0], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="fit never saw"):
        model.update(new)
    pd.testing.assert_frame_equal(model.predict(), before)


# --------------------------------------------------- parallel determinism
@pytest.fixture(scope="module")
def serial_forecast():
    df = _panel()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="maximum iterations")
        model = PerSeriesForecaster(_small_rnn(), n_jobs=1, random_state=7).fit(df)
    return df, model.predict()


def test_identical_forecasts_with_two_processes(serial_forecast, monkeypatch):
    df, want = serial_forecast
    # worker processes import tsrnn from this checkout
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    with joblib.parallel_config(backend="loky"):
        model = PerSeriesForecaster(_small_rnn(), n_jobs=2, random_state=7).fit(df)
    pd.testing.assert_frame_equal(model.predict(), want, check_exact=True)


def test_identical_forecasts_with_threads(serial_forecast):
    df, want = serial_forecast
    with joblib.parallel_config(backend="threading"):
        model = PerSeriesForecaster(_small_rnn(), n_jobs=2, random_state=7).fit(df)
    pd.testing.assert_frame_equal(model.predict(), want, check_exact=True)


def test_identical_forecasts_on_a_dask_cluster(serial_forecast, monkeypatch):
    distributed = pytest.importorskip("distributed")
    df, want = serial_forecast
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    with warnings.catch_warnings():
        # the cluster's own chatter (ports, clean-up) is not ours to test
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        client = distributed.Client(cluster)
        try:
            with joblib.parallel_config(backend="dask"):
                model = PerSeriesForecaster(
                    _small_rnn(), n_jobs=2, random_state=7
                ).fit(df)
            stats = client.run(cache_stats)
        finally:
            # tearing the cluster down is not under test: on a loaded machine a
            # worker process may take longer to exit than distributed's fixed
            # 5 s nanny timeout, which raises TimeoutError after the results
            try:
                client.close()
                cluster.close()
            except (TimeoutError, asyncio.TimeoutError):
                pass
    pd.testing.assert_frame_equal(model.predict(), want, check_exact=True)
    # the workers loaded the kernels the parent compiled; none compiled its own
    assert len(stats) == 2
    assert all(s["misses"] == 0 for s in stats.values()), stats
    assert sum(s["hits"] for s in stats.values()) > 0, stats


# ----------------------------------------------------------- differencing
def _trend(n=240, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 5.0 + 0.3 * t + 2 * np.sin(2 * np.pi * t / 12) + 0.2 * rng.normal(size=n)


def test_differencing_follows_a_trend_the_level_model_does_not():
    y = _trend()
    train, test = y[:-12], y[-12:]
    kw = dict(horizon=12, hidden_size=8, max_iter=30, season_length=12,
              random_state=0, validation_fraction=0.0,
              # about differencing alone: the references and deseasonalisation
              # (the defaults) would follow the trend in levels too
              references=None, deseasonalize=None, loss="squared_error",
              bptt_length=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diff = RNNForecaster(differencing=True, **kw).fit(train).predict()
        level = RNNForecaster(differencing=False, **kw).fit(train).predict()
    err_diff = np.abs(diff - test).mean()
    err_level = np.abs(level - test).mean()
    snaive = np.abs(train[-12:] - test).mean()  # misses one season of trend: 3.6
    assert err_diff < 0.5 * snaive, (err_diff, snaive)
    assert err_diff < err_level, (err_diff, err_level)


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_differencing_update_equals_rereading_with_gaps(strategy):
    y = _trend(200)
    y[50:53] = np.nan
    y[150] = np.nan
    s = pd.Series(y, index=pd.date_range("2001-01", periods=200, freq="MS"))
    kw = dict(horizon=6, hidden_size=4, max_iter=2, differencing=True,
              strategy=strategy, random_state=1)
    f = RNNForecaster(**kw).fit(s[:120])
    f.update(s[120:160])
    g = RNNForecaster(**kw).fit(s[:120])
    g._restate(to_series_set(s[:160]))
    np.testing.assert_allclose(f.predict().to_numpy(), g.predict().to_numpy(),
                               rtol=1e-12, atol=1e-12)
    assert np.isfinite(f.predict_interval(coverage=0.5).to_numpy()).all()


def test_differencing_forecasts_from_the_last_observation_after_a_gap():
    y = _trend(120)
    y[-3:] = np.nan
    f = RNNForecaster(horizon=4, hidden_size=4, max_iter=2, differencing=True,
                      random_state=0).fit(y)
    fc = f.predict()
    assert np.isfinite(fc).all()
    # anchored near the last observed level, not at the series' mean
    assert abs(fc[0] - y[-4]) < abs(fc[0] - np.nanmean(y))


def test_differencing_survives_save_and_load(tmp_path):
    import tsrnn

    f = RNNForecaster(horizon=4, hidden_size=4, max_iter=2, differencing=True,
                      random_state=0).fit(_trend(100))
    path = tmp_path / "m.npz"
    f.save(path)
    g = tsrnn.load(path)
    assert g.differencing
    np.testing.assert_array_equal(f.predict(), g.predict())


@pytest.mark.parametrize("differencing", [False, True])
def test_a_missing_last_reading_does_not_pull_the_forecast_to_the_mean(differencing):
    # regression: a missing reference value used to become 0, the scaled mean
    rng = np.random.default_rng(0)
    t = np.arange(600)
    y = 10 + 5 * np.sin(2 * np.pi * t / 400) + 0.05 * rng.normal(size=600)
    f = RNNForecaster(horizon=4, hidden_size=8, max_iter=5, season_length=None,
                      differencing=differencing, random_state=0).fit(y[:500])
    before = f.predict()
    f.update(np.array([np.nan]))
    after = f.predict()
    assert abs(y[:500].mean() - before[0]) > 3  # the end is far from the mean
    assert np.abs(after - before).max() < 0.5, (before, after)
