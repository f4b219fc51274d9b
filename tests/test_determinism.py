"""The same ``random_state`` gives bit-identical models and forecasts.

Checked three ways for the forecaster and both window models: two fits in one
process, a fit in a fresh interpreter (hashes of the parameters and forecasts
compared, also with a different BLAS thread count), and a save/load round trip
(forecasts, intervals and further ``update``/``partial_fit`` calls identical).
``random_state=None`` follows scikit-learn: fresh randomness for every fit,
drawn from NumPy's global state (so ``np.random.seed`` pins it).
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import tsrnn
from tsrnn import RNNClassifier, RNNForecaster, RNNRegressor
from tsrnn.engine import threads

ROOT = pathlib.Path(__file__).resolve().parents[1]

# One script, run here and in fresh interpreters: it fits every model from
# fixed data and returns a SHA-256 per fitted array and forecast. hidden_size
# 40 > 32 sends the kernels' recurrent products through BLAS.
SCRIPT = r'''
import hashlib
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNClassifier, RNNForecaster, RNNRegressor


def digest(a):
    a = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256(a.tobytes())
    h.update(f"{a.dtype}{a.shape}".encode())
    return h.hexdigest()


def data():
    rng = np.random.default_rng(7)
    t = np.arange(300, dtype=float)
    y = pd.Series(
        np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(300),
        index=pd.date_range("2022-01-01", periods=300, freq="h"),
    )
    X = pd.DataFrame({"temp": rng.standard_normal(300)}, index=y.index)
    Xw = rng.standard_normal((80, 12))
    return y, X, Xw, Xw.sum(axis=1)


def models():
    y, X, Xw, yw = data()
    kw = dict(hidden_size=40, max_iter=2, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "forecaster": RNNForecaster(horizon=4, **kw).fit(y[:-4], X[:-4]),
            "recursive": RNNForecaster(
                cell="gru", horizon=4, strategy="recursive", dropout=0.2,
                num_layers=2, **kw
            ).fit(y[:-4], X[:-4]),
            "regressor": RNNRegressor(dropout=0.3, num_layers=2, **kw).fit(Xw, yw),
            "classifier": RNNClassifier(cell="sru", **kw).fit(Xw, yw > 0),
        }


def digests():
    y, X, Xw, yw = data()
    out = {}
    for name, m in models().items():
        out[name + ".params"] = digest(m.params_)
        if isinstance(m, RNNForecaster):
            out[name + ".predict"] = digest(m.predict(X=X[-4:]))
            lo_hi = m.predict_interval(X=X[-4:])
            out[name + ".interval"] = digest(lo_hi.to_numpy())
        else:
            out[name + ".predict"] = digest(m.predict(Xw))
    return out
'''


def run_script():
    namespace = {}
    exec(compile(SCRIPT, "<determinism script>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def here():
    return run_script()["digests"]()


def fresh_interpreter(env_extra):
    env = {**os.environ, **env_extra}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    code = SCRIPT + "\nimport json\nprint(json.dumps(digests()))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_fits_in_one_process_are_bit_identical(here):
    assert run_script()["digests"]() == here


@pytest.mark.parametrize(
    "env",
    [{}, {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}],
    ids=["default-threads", "one-blas-thread"],
)
def test_a_fresh_interpreter_gives_the_same_bits(here, env):
    assert fresh_interpreter(env) == here


def test_fits_do_not_depend_on_the_blas_thread_count_or_thread(here):
    digests = run_script()["digests"]
    for n in (1, 2):
        with threadpool_limits(n):
            assert digests() == here
    with ThreadPoolExecutor(1) as pool:  # a fit in a worker thread
        assert pool.submit(digests).result() == here


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "sru"])
def test_rows_split_between_threads_give_the_same_bits(monkeypatch, cell):
    # the windows of a small fit stay on one thread (threads.PARALLEL_WORK);
    # forced to split, every row's arithmetic must still be the same
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=(3, 60)), axis=1)
    df = {"unique_id": np.repeat(["a", "b", "c"], 60), "ds": np.tile(np.arange(60), 3)}
    df["y"] = y.ravel()
    df = pd.DataFrame(df)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = RNNForecaster(
                horizon=3, cell=cell, hidden_size=8, max_iter=2, batch_size=8,
                bptt_length=8, random_state=0,
            ).fit(df)
        return m.params_.copy(), m.predict(3).y.to_numpy()

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    alone = fit()
    calls = []
    run = threads.run_tasks
    monkeypatch.setattr(threads, "run_tasks", lambda g: calls.append(1) or run(g))
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_WORK", 1)
    monkeypatch.setattr(threads, "MIN_ROWS", 1)
    split = fit()
    assert calls  # the rows were split
    np.testing.assert_array_equal(alone[0], split[0])
    np.testing.assert_array_equal(alone[1], split[1])


@pytest.mark.parametrize("kw", [{}, {"cell": "gru", "dropout": 0.2, "num_layers": 2}])
def test_features_kept_between_epochs_give_the_bits_of_gathering_anew(
    monkeypatch, kw
):
    # training.Epoch and SeriesReader keep the gathered windows and reads of a
    # collection without gaps; if anything wrote into them, the next epoch
    # would read changed features
    from tsrnn.estimators.forecaster import reader, training

    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(size=(4, 50)), axis=1) + 10.0
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(list("abcd"), 50),
            "ds": np.tile(np.arange(50), 4),
            "y": y.ravel(),
        }
    )

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = RNNForecaster(
                horizon=3, hidden_size=8, max_iter=4, random_state=0, **kw
            ).fit(df)
        return m.params_.copy(), m.predict(3).y.to_numpy(), m.validation_scores_

    kept = fit()
    monkeypatch.setattr(training, "FEATURE_CACHE_BYTES", 0)
    monkeypatch.setattr(reader, "FEATURE_CACHE_BYTES", 0)
    anew = fit()
    np.testing.assert_array_equal(kept[0], anew[0])
    np.testing.assert_array_equal(kept[1], anew[1])
    assert kept[2] == anew[2]


# ----------------------------------------------------------- save and load
@pytest.fixture(scope="module")
def fitted():
    namespace = run_script()
    return namespace["data"](), namespace["models"]()


@pytest.mark.parametrize("name", ["forecaster", "recursive"])
def test_forecaster_round_trip_is_bit_identical(fitted, name, tmp_path):
    (y, X, _, _), models = fitted
    model = copy.deepcopy(models[name])
    model.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.params_, model.params_)
    future = X[-4:]
    assert back.predict(X=future).equals(model.predict(X=future))
    assert back.predict_interval(X=future).equals(model.predict_interval(X=future))
    # streaming on, and one more epoch of training, stay identical
    for m in (model, back):
        m.update(y[-4:-2], X[-4:-2])
    np.testing.assert_array_equal(back._state, model._state)
    assert back.predict(horizon=2, X=future[-2:]).equals(
        model.predict(horizon=2, X=future[-2:])
    )
    for m in (model, back):
        m.partial_fit(y[-2:], X[-2:])
    np.testing.assert_array_equal(back.params_, model.params_)


@pytest.mark.parametrize("name", ["regressor", "classifier"])
def test_window_model_round_trip_is_bit_identical(fitted, name, tmp_path):
    (_, _, Xw, yw), models = fitted
    model = copy.deepcopy(models[name])
    model.save(tmp_path / "m.npz")
    back = tsrnn.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.params_, model.params_)
    np.testing.assert_array_equal(back.predict(Xw), model.predict(Xw))
    if name == "classifier":
        np.testing.assert_array_equal(back.predict_proba(Xw), model.predict_proba(Xw))
    # the random stream and the optimizer state were saved: training continues
    # identically (shuffling and dropout included)
    target = yw if name == "regressor" else yw > 0
    for m in (model, back):
        m.partial_fit(Xw, target)
    np.testing.assert_array_equal(back.params_, model.params_)


# ------------------------------------------------------- random_state=None
def small(cls, **kw):
    return cls(hidden_size=4, max_iter=1, random_state=None, **kw)


def none_fits(make, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = make()
        first = est.fit(*data).params_.copy()
        second = est.fit(*data).params_.copy()  # the same instance, refitted
        third = clone(est).fit(*data).params_.copy()
        np.random.seed(12345)  # noqa: NPY002 (the global state is the point)
        pinned_a = clone(est).fit(*data).params_.copy()
        np.random.seed(12345)  # noqa: NPY002 (the global state is the point)
        pinned_b = clone(est).fit(*data).params_.copy()
    return first, second, third, pinned_a, pinned_b


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: small(RNNForecaster), (np.sin(np.arange(100.0) / 4),)),
        (
            lambda: small(RNNRegressor),
            (np.arange(60.0).reshape(20, 3) / 60, np.arange(20.0)),
        ),
        (
            lambda: small(RNNClassifier),
            (np.arange(60.0).reshape(20, 3) / 60, np.arange(20) % 2),
        ),
    ],
    ids=["forecaster", "regressor", "classifier"],
)
def test_random_state_none_is_fresh_per_fit_like_sklearn(make, data):
    first, second, third, pinned_a, pinned_b = none_fits(make, data)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, third)
    np.testing.assert_array_equal(pinned_a, pinned_b)
