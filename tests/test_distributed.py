"""The global RNNForecaster trained on a Dask cluster (tsrnn.distributed, issue 17).

One in-process LocalCluster (threads, two workers) for the module; tiny series.
"""

from __future__ import annotations

import os
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from tsrnn import RNNForecaster  # noqa: E402
from tsrnn.datasets import load_m3  # noqa: E402
from tsrnn.distributed import DaskForecaster  # noqa: E402

# dask's Parquet reader still passes inplace= to pandas (deprecated in pandas 3.1)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")


def _frame(n_series=4, n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{s}",
                    "ds": pd.date_range("2000-01-01", periods=n, freq="MS"),
                    "y": 10 + s + np.sin(2 * np.pi * t / 12)
                    + 0.3 * rng.normal(size=n).cumsum(),
                }
            )
            for s in range(n_series)
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def client():
    import dask

    # the workers' statistical profiler allocates as time passes: off, so that
    # the traced memory below is the fit's own
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
    ) as cluster, distributed.Client(cluster) as c:
        yield c


def _model(**kw):
    params = dict(horizon=3, hidden_size=8, max_iter=4, random_state=0)
    params.update(kw)
    return RNNForecaster(**params)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 4 epochs: a demo
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("early_stopping", ["auto", False])
def test_one_worker_is_the_in_process_fit(client, early_stopping):
    # one worker holding every series runs the in-process fit step for step:
    # the same auto decisions, transforms, lanes, draws and Adam steps, so the
    # weights agree bit for bit (the partitions are concatenated in order)
    df = _frame()
    ref = _model(early_stopping=early_stopping).fit(df)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    got = DaskForecaster(
        _model(early_stopping=early_stopping), client=client, n_workers=1
    ).fit(ddf)
    est = got.estimator_
    np.testing.assert_array_equal(est.params_, ref.params_)
    assert est.loss_curve_ == ref.loss_curve_
    assert est.validation_scores_ == ref.validation_scores_
    assert est.grad_norm_curve_ == ref.grad_norm_curve_
    for name in ("differencing_", "reference_", "bptt_length_", "n_epochs_",
                 "validation_fraction_", "stopped_", "n_iter_"):
        assert getattr(est, name) == getattr(ref, name), name
    if early_stopping == "auto":
        assert est.selected_epochs_ == ref.selected_epochs_
    np.testing.assert_array_equal(est.conformal_scores_, ref.conformal_scores_)
    # (dask reads the ids as its own string dtype: compare the values)
    pd.testing.assert_frame_equal(
        got.predict().reset_index(drop=True),
        ref.predict().reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        got.predict_interval(level=[80]).reset_index(drop=True),
        ref.predict_interval(level=[80]).reset_index(drop=True),
        check_dtype=False,
    )


def _seasonal_positions(n_series=6, n=160, seed=1):
    """Series on an integer index (no frequency) with cycles of 6 and 24."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"p{s}",
                    "ds": t,
                    "y": 20 + 3 * np.sin(2 * np.pi * t / 6 + s)
                    + 2 * np.sin(2 * np.pi * t / 24)
                    + 0.3 * rng.normal(size=n),
                }
            )
            for s in range(n_series)
        ],
        ignore_index=True,
    )


def _assert_same_fit(got, ref):
    est = got.estimator_
    np.testing.assert_array_equal(est.params_, ref.params_)
    assert est.loss_curve_ == ref.loss_curve_
    assert est.validation_scores_ == ref.validation_scores_
    for name in ("season_length_", "seasons_", "differencing_", "reference_",
                 "bptt_length_", "n_epochs_", "stopped_", "n_iter_"):
        assert getattr(est, name) == getattr(ref, name), name
    if ref.combination_weights_ is None:
        assert est.combination_weights_ is None
    else:
        np.testing.assert_array_equal(
            est.combination_weights_, ref.combination_weights_
        )
    np.testing.assert_array_equal(est.conformal_scores_, ref.conformal_scores_)
    pd.testing.assert_frame_equal(
        got.predict().reset_index(drop=True),
        ref.predict().reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize(
    "kw",
    [
        dict(),  # season_length="auto" detected, reference, combination "auto"
        dict(reference="auto", combination=None, strategy="seq2seq"),
    ],
)
def test_one_worker_detects_seasons_as_in_process(client, kw, monkeypatch):
    # no frequency: season_length="auto" is detected from the pooled
    # autocorrelation, which the workers send as sums of lagged products and
    # counts; the mix reference's errors and the combination's tail
    # forecasts are merged likewise. One worker: the in-process fit, bit for bit
    # -- the in-process fit without its contest on the tails (two seasons:
    # the workers keep the in-sample reference, docs/defaults.md)
    from tsrnn.estimators.forecaster import fitting

    df = _seasonal_positions()
    monkeypatch.setattr(fitting, "REFERENCE_CONTEST", False)
    ref = _model(horizon=4, **kw).fit(df)
    monkeypatch.undo()
    assert len(ref.season_length_) >= 1 and ref.season_length_ != (1,)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    got = DaskForecaster(_model(horizon=4, **kw), client=client, n_workers=1).fit(ddf)
    _assert_same_fit(got, ref)


def test_the_coordinator_receives_only_the_tail_points_it_scores(client, monkeypatch):
    # combination="auto" over shards: the workers send at most MAX_POINTS tail
    # points per target (evenly spaced over the collection, as tail_weights
    # scores them), not every one; the weights are still the in-process fit's
    from tsrnn.estimators.forecaster import combination, fitting

    df = _seasonal_positions()
    monkeypatch.setattr(combination, "MAX_POINTS", 25)
    monkeypatch.setattr(fitting, "REFERENCE_CONTEST", False)
    ref = _model(horizon=4).fit(df)
    sent = []
    scored = combination.weights_from_points

    def spy(points, n_steps, grid=combination.GRID_STEPS):
        sent.extend(len(t) for _, t, _ in points)
        return scored(points, n_steps, grid)

    monkeypatch.setattr(combination, "weights_from_points", spy)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    got = DaskForecaster(_model(horizon=4), client=client, n_workers=1).fit(ddf)
    assert sent and max(sent) <= 25
    _assert_same_fit(got, ref)


def test_two_workers_detect_the_collections_seasons(client):
    # the merged sums are those of the whole collection: the same seasons,
    # reference and differencing as in process (only the sums' order differs)
    df = _seasonal_positions()
    ref = _model(horizon=4, max_iter=1).fit(df)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    got = DaskForecaster(_model(horizon=4, max_iter=1), client=client, n_workers=2)
    est = got.fit(ddf).estimator_
    for name in ("season_length_", "seasons_", "reference_", "differencing_"):
        assert getattr(est, name) == getattr(ref, name), name


def test_two_workers_find_a_persistent_collections_season_in_its_changes(client):
    # random walks with a cycle of 8: the levels show no season, the changes do
    # (auto.detect_seasons' second search); the workers merge those sums too
    rng = np.random.default_rng(3)
    t = np.arange(240)
    df = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"w{s}",
                    "ds": t,
                    "y": 50 + np.cumsum(rng.normal(size=len(t)))
                    + 1.5 * np.sin(2 * np.pi * t / 8 + s),
                }
            )
            for s in range(4)
        ],
        ignore_index=True,
    )
    ref = _model(horizon=4, max_iter=1).fit(df)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    got = DaskForecaster(_model(horizon=4, max_iter=1), client=client, n_workers=2)
    est = got.fit(ddf).estimator_
    assert est.season_length_ == ref.season_length_


def test_two_workers_are_reproducible_and_forecast_every_series(client):
    df = _frame(n_series=6)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    a = DaskForecaster(_model(), client=client, n_workers=2).fit(ddf)
    b = DaskForecaster(_model(), client=client, n_workers=2).fit(ddf)
    assert a.n_workers_ == 2 and a.rounds_ > 0
    np.testing.assert_array_equal(a.estimator_.params_, b.estimator_.params_)
    fc = a.predict()
    assert sorted(fc["unique_id"].unique()) == sorted(df["unique_id"].unique())
    assert len(fc) == 6 * 3 and np.isfinite(fc["y"]).all()
    # the averaged model is a model of the whole collection, not of one shard:
    # it differs from the one-worker fit but forecasts as sensibly
    one = DaskForecaster(_model(), client=client, n_workers=1).fit(ddf)
    assert not np.array_equal(one.estimator_.params_, a.estimator_.params_)
    # update on the cluster: each worker advances its own series
    nxt = pd.DataFrame(
        {
            "unique_id": ["s0", "s5"],
            "ds": pd.Timestamp("2005-01-01"),
            "y": [11.0, 15.0],
        }
    )
    after = a.update(dd.from_pandas(nxt, npartitions=1)).predict()
    first = after.groupby("unique_id")["ds"].min()
    assert first["s0"] == first["s5"] == pd.Timestamp("2005-02-01")
    assert first["s1"] == pd.Timestamp("2005-01-01")


def test_sync_every_step_trains_and_counts_rounds(client):
    ddf = dd.from_pandas(_frame(), npartitions=2, sort=False)
    per_epoch = DaskForecaster(_model(early_stopping=False), client=client).fit(ddf)
    per_step = DaskForecaster(
        _model(early_stopping=False), client=client, sync_every=1
    ).fit(ddf)
    assert per_step.rounds_ > per_epoch.rounds_ == per_epoch.estimator_.n_iter_
    assert np.isfinite(per_step.estimator_.loss_curve_).all()


def _replicated_parquet(path, copies, partitions, seed=0):
    """M3 monthly series (the shipped share) replicated with noise, as Parquet.

    Copy ``c`` of series ``s`` is ``y * (1 + 0.02 * noise)`` under a new id; the
    copies are written as ``partitions`` files, every series whole in one file.
    Returns the rows written and their size in memory as pandas holds them.
    """
    df = load_m3(frequency="monthly").df
    ids = df["unique_id"].unique()[:20]
    df = df[df["unique_id"].isin(ids)]
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(copies):
        f = df.assign(
            unique_id=df["unique_id"] + f"_{c}",
            y=df["y"] * (1 + 0.02 * rng.normal(size=len(df))),
        )
        frames.append(f)
    rows = nbytes = 0
    for i, block in enumerate(np.array_split(np.arange(copies), partitions)):
        part = pd.concat([frames[c] for c in block], ignore_index=True)
        part.to_parquet(path / f"part-{i:03d}.parquet", index=False)
        rows += len(part)
        nbytes += int(part.memory_usage(deep=True).sum())
    return rows, nbytes


def _peak_fit(path, keep_in_memory=False, **kw):
    """Traced peak bytes of a one-epoch fit on the Parquet dataset ``path``."""
    model = DaskForecaster(
        _model(horizon=6, early_stopping=False, max_iter=1),
        n_workers=1,
        keep_in_memory=keep_in_memory,
        **kw,
    )
    ddf = dd.read_parquet(str(path))
    tracemalloc.start()
    try:
        model.fit(ddf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.estimator_.n_iter_ == 1  # trained to completion
    return model, peak


# the floors (dask 2024.1 with pyarrow 14 and pandas 2.2) read Parquet through
# a pandas constructor that pandas deprecates: theirs to change, not ours
@pytest.mark.filterwarnings(
    "ignore:Passing a BlockManager to DataFrame is deprecated:DeprecationWarning",
    "ignore:An error occurred while calling the read_parquet method:DeprecationWarning",
)
def test_out_of_core_memory_does_not_grow_with_the_data(client, tmp_path):
    # a Parquet dataset read partition by partition on the worker: neither the
    # coordinator nor the worker holds the whole frame, or its scaled rows, at
    # once. Twice the data in twice the partitions of the same size: the peak
    # stays, where keeping the rows in memory grows with them. (What does
    # grow is the per-series state kept for predict: about 3 KB a series at
    # hidden_size=64, far less at 8.) One warm-up fit first: imports and
    # first calls allocate once.
    for name, copies, parts in (("warm", 4, 2), ("small", 12, 4), ("big", 24, 8)):
        (tmp_path / name).mkdir()
        _replicated_parquet(tmp_path / name, copies, parts)
    _peak_fit(tmp_path / "warm", client=client)
    _, small = _peak_fit(tmp_path / "small", client=client)
    model, big = _peak_fit(tmp_path / "big", client=client)
    _, kept = _peak_fit(tmp_path / "big", client=client, keep_in_memory=True)
    assert big < 1.3 * small, (small, big)
    assert big < 0.5 * kept, (big, kept)
    fc = model.predict()
    assert fc["unique_id"].nunique() == 24 * 20 and np.isfinite(fc["y"]).all()


def _trainers(client, model):
    """The fitted model's trainers, as their workers hold them (in process)."""
    from tsrnn.estimators.forecaster.shards import ShardTrainer

    keys = {a._key for a in model._actors}
    out = []
    for w in client.cluster.workers.values():
        actors = getattr(getattr(w, "state", w), "actors", {})
        out += [actors[k] for k in keys & set(actors)]
    assert len(out) == len(keys) and all(isinstance(t, ShardTrainer) for t in out)
    return out


def _held_bytes(trainers):
    """Bytes of the fitted forecasters the trainers hold in memory (pickled)."""
    import pickle

    return sum(
        len(pickle.dumps(p.model)) for t in trainers for p in t.pieces if p.model
    )


def _out_of_core_fit(path, client, keep_in_memory=False):
    # the refit protocol: the selection run's forecasters stay, the final
    # run's go to disk
    return DaskForecaster(
        _model(horizon=6, max_iter=2),
        client=client,
        n_workers=1,
        keep_in_memory=keep_in_memory,
    ).fit(dd.read_parquet(str(path)))


@pytest.mark.filterwarnings(
    "ignore:Passing a BlockManager to DataFrame is deprecated:DeprecationWarning",
    "ignore:An error occurred while calling the read_parquet method:DeprecationWarning",
)
def test_out_of_core_model_keeps_the_series_state_on_disk(client, tmp_path, monkeypatch):
    # after an out-of-core fit, the per-series state predict and update read
    # (recurrent state, scaler, references, residuals) is on the worker's
    # disk, one file per partition: what the fitted model holds in the worker
    # does not grow with the collection, and it forecasts and updates as one
    # kept in memory does
    for name, copies, parts in (("small", 4, 2), ("big", 16, 8)):
        (tmp_path / name).mkdir()
        _replicated_parquet(tmp_path / name, copies, parts)
    small = _out_of_core_fit(tmp_path / "small", client)
    model = _out_of_core_fit(tmp_path / "big", client)
    kept = _out_of_core_fit(tmp_path / "big", client, keep_in_memory=True)
    held_small = _held_bytes(_trainers(client, small))
    trainers = _trainers(client, model)
    # every partition's forecaster is a file: the worker holds its name only
    assert _held_bytes(trainers) == held_small == 0
    for t in trainers:
        for p in t.pieces:
            assert p.model is p.series is p._data is None
            assert os.path.isfile(p.spilled)
            # the collection's residuals are kept once per worker, not per file
            assert p.fitted().conformal_scores_ is None
            back = p.fitted(t._pooled)
            assert back.conformal_scores_ is t._pooled[0]
            assert back.conformal_errors_ is t._pooled[1]
    # kept in memory, the state of every series stays in the worker
    assert _held_bytes(_trainers(client, kept)) > 16 * 20 * 500
    fc = model.predict()
    assert fc["unique_id"].nunique() == 16 * 20 and np.isfinite(fc["y"]).all()
    # read back from disk, the forecasters forecast as before they were written
    from tsrnn.estimators.forecaster import shards

    monkeypatch.setattr(shards._Piece, "spill", lambda self, path: None)
    in_memory = _out_of_core_fit(tmp_path / "big", client)
    pd.testing.assert_frame_equal(fc, in_memory.predict())
    # update rewrites the files: the updated series moves on, the others stay
    starts = fc.groupby("unique_id")["ds"].min()
    sid = starts.index[0]
    nxt = pd.DataFrame({"unique_id": [sid], "ds": [starts[sid]], "y": [1000.0]})
    again = model.update(nxt).predict()
    moved = again.groupby("unique_id")["ds"].min()
    assert moved[sid] > starts[sid]
    assert (moved.drop(sid) == starts.drop(sid)).all()
    pd.testing.assert_frame_equal(again, model.predict())


def test_refuses_a_series_split_across_partitions(client):
    df = _frame(n_series=2)
    ddf = dd.from_pandas(df, npartitions=3, sort=False)  # s0 in two partitions
    with pytest.raises(ValueError, match="whole in one partition"):
        DaskForecaster(_model(), client=client).fit(ddf)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(early_stopping="holdout"), "early_stopping='holdout'"),
        (dict(warm_start=True), "warm_start=False"),
        (dict(loss="student_t"), "loss='student_t'"),
        (dict(loss="quantile"), "loss='quantile'"),
        (dict(loss="poisson"), "loss='poisson'"),
        (dict(id_embedding=True), "id_embedding=False"),
    ],
)
def test_refuses_what_it_does_not_run(client, kw, match):
    ddf = dd.from_pandas(_frame(), npartitions=2, sort=False)
    with pytest.raises(ValueError, match=match):
        DaskForecaster(_model(**kw), client=client).fit(ddf)


def test_refuses_covariates_and_bad_sync(client):
    df = _frame().assign(temp=1.0)
    ddf = dd.from_pandas(df, npartitions=2, sort=False)
    with pytest.raises(ValueError, match="covariate"):
        DaskForecaster(_model(), client=client).fit(ddf)
    with pytest.raises(ValueError, match="sync_every=0"):
        DaskForecaster(_model(), client=client, sync_every=0).fit(ddf)


def _small_pool(monkeypatch, rows):
    from tsrnn.evaluation import conformal

    monkeypatch.setattr(conformal, "MIN_POOL_FORECASTS", 1)
    monkeypatch.setattr(conformal, "MAX_POOL_RESIDUALS", rows)


def test_one_worker_samples_the_pool_as_in_process(client, monkeypatch):
    # above the pool's limit, the in-process fit keeps a seeded sample of its
    # residuals; one worker holding every series keeps the same rows
    _small_pool(monkeypatch, 20)
    df = _frame(n_series=12)
    ref = _model().fit(df)
    assert len(ref.conformal_errors_) == 20  # of 48
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    got = DaskForecaster(_model(), client=client, n_workers=1).fit(ddf)
    est = got.estimator_
    np.testing.assert_array_equal(est.conformal_errors_, ref.conformal_errors_)
    np.testing.assert_array_equal(est.conformal_scores_, ref.conformal_scores_)
    pd.testing.assert_frame_equal(
        got.predict_interval(level=[80]).reset_index(drop=True),
        ref.predict_interval(level=[80]).reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.filterwarnings(
    "ignore:Passing a BlockManager to DataFrame is deprecated:DeprecationWarning",
    "ignore:An error occurred while calling the read_parquet method:DeprecationWarning",
)
def test_out_of_core_workers_hold_the_pool_at_its_limit(client, tmp_path, monkeypatch):
    # out of core on two workers, each worker holds at most the limit of
    # pooled residuals, whatever the collection's size: every piece merges its
    # sample into the worker's, the coordinator merges the workers'. The
    # sample is reproducible (seed, worker count, partitioning), and the
    # series ids of a spilled piece are in a file beside its forecaster
    _small_pool(monkeypatch, 25)
    _replicated_parquet(tmp_path, 8, 4)

    def fit():
        return DaskForecaster(
            _model(horizon=6, max_iter=2), client=client, keep_in_memory=False
        ).fit(dd.read_parquet(str(tmp_path)))

    a, b = fit(), fit()
    for model in (a, b):
        trainers = _trainers(client, model)
        assert len(trainers) == 2
        for t in trainers:
            assert t._pooled[0].shape == (25, 6, 1)
            np.testing.assert_array_equal(t._pooled[0], np.abs(t._pooled[1]))
            for p in t.pieces:
                # in memory per partition: file names and the id range
                assert "ids" not in vars(p) and p.n_val is None
                assert os.path.isfile(p.spilled + ".ids") and p.bounds is not None
        assert model.estimator_.conformal_errors_.shape == (25, 6, 1)
    np.testing.assert_array_equal(
        a.estimator_.conformal_errors_, b.estimator_.conformal_errors_
    )
    pd.testing.assert_frame_equal(
        a.predict_interval(level=[80, 95]), b.predict_interval(level=[80, 95])
    )
    # update reads the ids files, and only the forecasters its rows belong to
    from tsrnn.estimators.forecaster import shards

    reads = []
    fitted = shards._Piece.fitted

    def counted(self, pooled=None):
        reads.append(self.spilled)
        return fitted(self, pooled)

    monkeypatch.setattr(shards._Piece, "fitted", counted)
    fc = a.predict()
    starts = fc.groupby("unique_id")["ds"].min()
    sid = starts.index[0]
    reads.clear()
    nxt = pd.DataFrame({"unique_id": [sid], "ds": [starts[sid]], "y": [1000.0]})
    a.update(nxt)
    assert len(reads) == 1
    moved = a.predict().groupby("unique_id")["ds"].min()
    assert moved[sid] > starts[sid] and (moved.drop(sid) == starts.drop(sid)).all()
    ids = [i for t in _trainers(client, a) for i in t.ids()]
    assert sorted(ids) == sorted(starts.index)


def test_id_ranges_skip_only_what_cannot_match():
    # a spilled partition keeps its smallest and largest id; rows outside that
    # range skip its ids file. Ids that do not order (mixed types, NaN) or a
    # categorical column (ordered by its categories) never skip: no row of a
    # partition's series is ever missed
    from tsrnn.estimators.forecaster.shards import _bounds, _within

    assert _bounds(["b", "a", "c"]) == ("a", "c")
    assert _bounds([3, 1, 2]) == (1, 3)
    assert _bounds(["a", 1]) is None and _bounds([1.0, float("nan")]) is None
    col = pd.Series(["a", "b", "z"], dtype="string")
    assert _within(col, "a", "c").tolist() == [True, True, False]
    assert _within(pd.Series([1, 5, 9]), 1, 5).tolist() == [True, True, False]
    assert _within(pd.Series(["a", 1], dtype=object), "a", "c") is None
    cat = pd.Series(pd.Categorical(["z", "a"], categories=["z", "a"], ordered=True))
    assert _within(cat, "a", "c") is None
