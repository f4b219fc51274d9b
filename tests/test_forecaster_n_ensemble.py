"""``RNNForecaster(n_ensemble=k)``: k members combined step by step by the median.

SPEC.md, "Second wave": "``n_ensemble`` for several members combined by the
median". Every combination here is checked bit for bit against members
fitted separately with the seeds the ensemble derives (those of
``EnsembleForecaster``). Tiny shapes: hidden_size 4, two epochs, no early
stopping (so that the members differ: the tails would pick the reference).
"""

from __future__ import annotations

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import tsrnn
from tsrnn import EnsembleForecaster, PerSeriesForecaster, RNNForecaster
from tsrnn.backtest import backtest
from tsrnn.estimators.forecaster.ensembling import split_paths
from tsrnn.estimators.members import member_seeds

KW = dict(hidden_size=4, max_iter=2, horizon=3, early_stopping=False, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _series(n=120, seed=0):
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sin(t / 3.0) + 0.02 * t + 0.1 * rng.normal(size=n)


Y = _series(126)
Y_FIT, Y_NEW = Y[:120], Y[120:]


def _median(arrays):
    return np.median(np.stack(arrays), axis=0)


def _members(k=3, **kw):
    """The members fitted one by one, with the ensemble's seeds."""
    params = {**KW, **kw}
    seeds = member_seeds(params["random_state"], k)
    return [RNNForecaster(**{**params, "random_state": s}).fit(Y_FIT) for s in seeds]


@pytest.fixture(scope="module")
def ens():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return RNNForecaster(n_ensemble=3, **KW).fit(Y_FIT)


@pytest.fixture(scope="module")
def members():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _members()


def test_predict_is_the_median_of_separately_fitted_members(ens, members):
    assert ens.seeds_ == member_seeds(0, 3)
    preds = [m.predict() for m in members]
    assert not np.array_equal(preds[0], preds[1])  # the members differ
    assert np.array_equal(ens.predict(), _median(preds))
    assert np.array_equal(ens.predict(horizon=2), _median([p[:2] for p in preds]))
    assert len(ens.estimators_) == 3
    assert [m.n_ensemble for m in ens.estimators_] == [1, 1, 1]
    assert [m.random_state for m in ens.estimators_] == ens.seeds_


def test_the_seeds_and_forecasts_are_ensemble_forecasters(ens):
    ref = EnsembleForecaster(RNNForecaster(**KW), n_members=3, random_state=0)
    ref.fit(Y_FIT)
    assert ref.seeds_ == ens.seeds_
    assert np.array_equal(ref.predict(), ens.predict())


def test_n_ensemble_1_is_the_single_model():
    single = RNNForecaster(**KW).fit(Y_FIT)
    one = RNNForecaster(n_ensemble=1, **KW).fit(Y_FIT)
    assert np.array_equal(single.predict(), one.predict())
    assert np.array_equal(single.params_, one.params_)
    assert not hasattr(one, "estimators_") and not hasattr(one, "seeds_")


def test_fitted_attributes_are_the_first_members(ens):
    first = ens.estimators_[0]
    for name in ("reference_", "differencing_", "n_epochs_", "season_length_",
                 "loss_", "bptt_length_", "loss_curve_", "schema_"):
        assert getattr(ens, name) == getattr(first, name), name
    assert "params_" not in vars(ens)  # no network of its own
    with pytest.raises(ValueError, match=r"estimators_\[i\]\.named_params"):
        ens.named_params()
    with pytest.raises(AttributeError, match="no attribute 'not_fitted_'"):
        ens.not_fitted_  # noqa: B018


def test_update_streams_into_every_member(ens, members):
    e = pickle.loads(pickle.dumps(ens))
    ms = [pickle.loads(pickle.dumps(m)) for m in members]
    e.update(Y_NEW[:2])
    for m in ms:
        m.update(Y_NEW[:2])
    assert np.array_equal(e.predict(), _median([m.predict() for m in ms]))
    assert e.schema_.n_seen[0] == 122
    for a, b in zip(e.estimators_, ms, strict=True):  # the pools refreshed too
        assert np.array_equal(a.conformal_scores_, b.conformal_scores_, equal_nan=True)


def test_partial_fit_trains_every_member(ens, members):
    e = pickle.loads(pickle.dumps(ens))
    ms = [pickle.loads(pickle.dumps(m)) for m in members]
    e.partial_fit(Y_NEW)
    for m in ms:
        m.partial_fit(Y_NEW)
    assert np.array_equal(e.predict(), _median([m.predict() for m in ms]))
    # unfitted: each member's first partial_fit, with the derived seeds
    fresh = RNNForecaster(n_ensemble=2, **KW).partial_fit(Y_FIT)
    alone = [
        RNNForecaster(**{**KW, "random_state": s}).partial_fit(Y_FIT)
        for s in member_seeds(0, 2)
    ]
    assert np.array_equal(fresh.predict(), _median([m.predict() for m in alone]))


def test_intervals_are_combined_bound_by_bound(ens, members):
    lo, hi = ens.predict_interval(level=[80, 90])
    bounds = [m.predict_interval(level=[80, 90]) for m in members]
    assert np.array_equal(lo, _median([b[0] for b in bounds]))
    assert np.array_equal(hi, _median([b[1] for b in bounds]))
    lo1, hi1 = ens.predict_interval(coverage=0.9)
    assert lo1.shape == (3,) and np.all(lo1 <= hi1)


def test_quantiles_intervals_and_samples_of_likelihood_members():
    kw = dict(loss="normal")
    e = RNNForecaster(n_ensemble=3, **KW, **kw).fit(Y_FIT)
    ms = _members(**kw)
    qs = [0.1, 0.5, 0.9]
    got = e.predict_quantiles(qs)
    assert got.shape == (1, 3, 1, 3)
    assert np.array_equal(got, _median([m.predict_quantiles(qs) for m in ms]))
    lo, hi = e.predict_interval(level=80, method="distribution")
    bounds = [m.predict_interval(level=80, method="distribution") for m in ms]
    assert np.array_equal(lo, _median([b[0] for b in bounds]))
    # a mixture: 7 paths from 3 members (3, 2, 2), the same for the same seed
    paths = e.sample(7, random_state=1)
    assert paths.shape == (1, 7, 3, 1) and np.isfinite(paths).all()
    assert np.array_equal(paths, e.sample(7, random_state=1))
    assert not np.array_equal(paths, e.sample(7, random_state=2))
    assert e.sample(2, random_state=1).shape == (1, 2, 3, 1)  # fewer than k
    frame = e.sample(4, random_state=1, as_frame=True)
    assert len(frame) == 4 * 3 and frame["sample"].nunique() == 4
    assert split_paths(7, 3) == [3, 2, 2] and split_paths(2, 3) == [1, 1, 0]


def test_score_and_backtest_combine_the_members(ens, members):
    # score walks a copy: forecast, compare, update, as the members do
    e = pickle.loads(pickle.dumps(ens))
    truths, preds = [], []
    for start in (0, 3):
        block = Y_NEW[start : start + 3]
        preds.append(e.predict()[: len(block)])
        truths.append(block)
        e.update(block)
    want = -float(np.abs(np.concatenate(truths) - np.concatenate(preds)).mean())
    assert ens.score(Y_NEW) == pytest.approx(want, rel=1e-12)
    assert ens.schema_.n_seen[0] == 120  # unchanged
    # the backtest's fast path: forecasts the members' medians at every origin
    _, fc = backtest(ens, Y, n_origins=2, coverage=0.8, return_forecasts=True)
    alone = [
        backtest(m, Y, n_origins=2, coverage=0.8, return_forecasts=True)[1]
        for m in members
    ]
    cols = ["RNNForecaster", "RNNForecaster-lo-80", "RNNForecaster-hi-80"]
    assert set(cols) <= set(fc.columns) and len(fc) == 6
    for col in cols:
        want = _median([a[col].to_numpy() for a in alone])
        assert np.array_equal(fc[col].to_numpy(), want), col


def test_save_load_round_trip(ens, tmp_path):
    ens.save(tmp_path / "ens")
    loaded = tsrnn.load(tmp_path / "ens", expected=RNNForecaster)
    assert loaded.n_ensemble == 3 and loaded.seeds_ == ens.seeds_
    assert np.array_equal(loaded.predict(), ens.predict())
    lo, hi = loaded.predict_interval(level=[80, 90])
    lo0, hi0 = ens.predict_interval(level=[80, 90])
    assert np.array_equal(lo, lo0) and np.array_equal(hi, hi0)
    e = pickle.loads(pickle.dumps(ens))
    e.update(Y_NEW)
    loaded.update(Y_NEW)
    assert np.array_equal(loaded.predict(), e.predict())


def test_a_damaged_ensemble_file_is_refused(ens, tmp_path):
    import json

    path = tmp_path / "ens.npz"
    ens.save(path)

    def rewrite(out, meta=None, drop=()):
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        m = json.loads(arrays.pop("__metadata__").tobytes().decode())
        if meta is not None:
            meta(m)
        for k in drop:
            arrays.pop(k)
            del m["arrays"][k]
        blob = np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)
        np.savez(out, __metadata__=blob, **arrays)
        return out

    def two(m):
        m["params"]["n_ensemble"] = 2

    def one(m):
        m["params"]["n_ensemble"] = 1

    with pytest.raises(ValueError, match="must list n_ensemble=2 seeds"):
        tsrnn.load(rewrite(tmp_path / "a.npz", meta=two))
    with pytest.raises(ValueError, match="holds ensemble members.*n_ensemble=1"):
        tsrnn.load(rewrite(tmp_path / "b.npz", meta=one))
    with pytest.raises(ValueError, match=r"member 2: array '_state' is missing"):
        tsrnn.load(rewrite(tmp_path / "c.npz", drop=["member2._state"]))


def test_pickle_clone_and_params(ens):
    back = pickle.loads(pickle.dumps(ens))
    assert np.array_equal(back.predict(), ens.predict())
    assert back.reference_ == ens.reference_
    params = ens.get_params()
    assert params["n_ensemble"] == 3
    c = clone(ens)
    assert c.get_params() == params and not hasattr(c, "estimators_")
    assert not hasattr(c, "reference_")
    assert "n_ensemble=3" in repr(ens) and repr(RNNForecaster()) == "RNNForecaster()"
    assert c.set_params(n_ensemble=2).n_ensemble == 2


def test_changing_n_ensemble_after_fit_is_refused(ens):
    e = pickle.loads(pickle.dumps(ens))
    e.set_params(n_ensemble=2)
    for call in (e.predict, e.predict_interval, lambda: e.update(Y_NEW),
                 lambda: e.save("never.npz")):
        with pytest.raises(ValueError, match=r"n_ensemble=2 \(fitted with 3\)"):
            call()
    e.set_params(n_ensemble=3)
    assert np.array_equal(e.predict(), ens.predict())
    single = RNNForecaster(**KW).fit(Y_FIT).set_params(n_ensemble=3)
    with pytest.raises(ValueError, match=r"n_ensemble=3 \(fitted with 1\)"):
        single.predict()
    with pytest.raises(ValueError, match=r"n_ensemble=3 \(fitted with 1\)"):
        single.partial_fit(Y_NEW)
    # a refit with another n_ensemble starts over, either way
    assert not hasattr(single.fit(Y_FIT), "params_") or "params_" not in vars(single)
    assert len(single.estimators_) == 3
    again = single.set_params(n_ensemble=1).fit(Y_FIT)
    assert "estimators_" not in vars(again) and "params_" in vars(again)


def test_warm_start_continues_every_member(ens, members):
    e = pickle.loads(pickle.dumps(ens)).set_params(warm_start=True, max_iter=1)
    ms = [
        pickle.loads(pickle.dumps(m)).set_params(warm_start=True, max_iter=1)
        for m in members
    ]
    e.fit(Y_FIT)
    for m in ms:
        m.fit(Y_FIT)
    assert np.array_equal(e.predict(), _median([m.predict() for m in ms]))


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3", None])
def test_bad_n_ensemble_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="'n_ensemble' parameter of RNNForecaster"):
        RNNForecaster(n_ensemble=bad, **KW).fit(Y_FIT)


def test_borrowed_names_say_where_to_go():
    with pytest.raises(TypeError, match="n_members.*n_ensemble"):
        RNNForecaster(n_members=3)
    with pytest.raises(TypeError, match="parallel_config"):
        RNNForecaster(n_jobs=2)


def test_a_joblib_context_fits_the_same_members(ens):
    with joblib.parallel_config(backend="threading", n_jobs=2):
        par = RNNForecaster(n_ensemble=3, **KW).fit(Y_FIT)
    assert np.array_equal(par.predict(), ens.predict())
    for a, b in zip(par.estimators_, ens.estimators_, strict=True):
        assert np.array_equal(a.params_, b.params_)


def test_per_series_and_dask_interplay():
    ids = np.repeat(["a", "b"], 60)
    df = pd.DataFrame({
        "unique_id": ids,
        "ds": np.tile(np.arange(60), 2),
        "y": np.concatenate([_series(60, 1), _series(60, 2)]),
    })
    per = PerSeriesForecaster(RNNForecaster(n_ensemble=2, **KW), random_state=0)
    out = per.fit(df).predict()
    assert len(out) == 6
    assert all(len(m.estimators_) == 2 for m in per.estimators_.values())
    from tsrnn.distributed import DaskForecaster

    with pytest.raises(ValueError, match="trains one network.*n_ensemble=1"):
        DaskForecaster(RNNForecaster(n_ensemble=2)).fit(None)


def test_long_frame_with_covariates():
    n, h = 60, 3
    ids = np.repeat(["a", "b"], n)
    t = np.tile(np.arange(n), 2)
    y = pd.DataFrame({"unique_id": ids, "ds": t,
                      "y": np.concatenate([_series(n, 1), _series(n, 2)])})
    X = pd.DataFrame({"unique_id": ids, "ds": t, "x": np.cos(t / 4.0)})
    X_fut = pd.DataFrame({"unique_id": np.repeat(["a", "b"], h),
                          "ds": np.tile(np.arange(n, n + h), 2),
                          "x": np.cos(np.tile(np.arange(n, n + h), 2) / 4.0)})
    e = RNNForecaster(n_ensemble=2, **KW).fit(y, X)
    alone = [RNNForecaster(**{**KW, "random_state": s}).fit(y, X)
             for s in member_seeds(0, 2)]
    got = e.predict(X=X_fut)
    assert list(got.columns) == list(alone[0].predict(X=X_fut).columns)
    want = _median([m.predict(X=X_fut)["y"].to_numpy() for m in alone])
    assert np.array_equal(got["y"].to_numpy(), want)
    band = e.predict_interval(X=X_fut, level=[80])
    assert {"y-lo-80", "y-hi-80"} <= set(band.columns) and len(band) == 2 * h
