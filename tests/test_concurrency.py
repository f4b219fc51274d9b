"""``predict`` on one fitted model from several threads equals serial calls.

Four threads call ``predict`` / ``predict_interval`` (and the window models'
``predict_proba``) on one shared model many times, interleaved; every result
must equal, bit for bit, the one computed serially in the main thread. Two
races used to break this: the forecaster's step-by-step inference shared its
scratch buffers between threads (now per thread), and the window models' BLAS
limit was set and restored by overlapping threads out of order, or silently
ignored in worker threads (now shared, reference-counted). Models use
``hidden_size > 32`` so that the kernels' products go through BLAS, where the
thread count changes the last bits.

``predict`` while another thread runs ``update`` / ``partial_fit`` (the tests
at the end): every forecast is the serial forecast of one state the model went
through, its index and values from the same state.

Wall-clock speed-ups from releasing the GIL are not asserted here (the test
machines are shared and noisy).
"""

from __future__ import annotations

import copy
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from tsrnn import (
    LinearARForecaster,
    PerSeriesForecaster,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
)

N_THREADS = 4
N_CALLS = 96


def hourly(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    index = pd.date_range("2023-01-01", periods=n, freq="h")
    y = pd.Series(np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(n), index)
    X = pd.DataFrame({"temp": rng.standard_normal(n)}, index=index)
    return y, X


@pytest.fixture(scope="module")
def forecasters():
    y, X = hourly(1000)
    kw = dict(hidden_size=40, max_iter=1, random_state=0, horizon=12)
    long = pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": y.index[:300], "y": y.values[:300] + k})
            for k in range(3)
        ],
        ignore_index=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "direct": (RNNForecaster(**kw).fit(y[:-12], X[:-12]), X[-12:]),
            # the recursive strategy steps through the stream kernel, whose
            # scratch buffers were shared between threads
            "recursive": (
                RNNForecaster(
                    strategy="recursive", num_layers=2, **{**kw, "horizon": 48}
                ).fit(y[:-48], X[:-48]),
                X[-48:],
            ),
            "long": (RNNForecaster(cell="gru", **kw).fit(long), None),
        }


@pytest.fixture(scope="module")
def window_models():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 24))
    y = X[:, -4:].sum(axis=1)
    kw = dict(hidden_size=40, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = RNNRegressor(num_layers=2, **kw).fit(X, y)
        clf = RNNClassifier(cell="gru", pooling="attention", **kw).fit(X, y > 0)
    return reg, clf, X


def blas_threads():
    return sorted(
        (i["filepath"], i["num_threads"])
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )


def hammer(calls):
    """Run ``calls`` (zero-argument functions) from N_THREADS threads at once."""
    with ThreadPoolExecutor(N_THREADS) as pool:
        return list(pool.map(lambda f: f(), calls))


def assert_same(got, want):
    if isinstance(want, (pd.Series, pd.DataFrame)):
        assert got.equals(want)
    elif isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["direct", "recursive", "long"])
def test_forecaster_predict_from_threads_equals_serial(forecasters, name):
    model, future = forecasters[name]
    kinds = {
        "predict": lambda h: model.predict(horizon=h, X=_head(future, h)),
        "interval": lambda h: model.predict_interval(
            horizon=h, X=_head(future, h), coverage=0.8
        ),
    }
    if name == "long":
        kinds["predict"] = lambda h: model.predict(horizon=h)
        kinds["interval"] = lambda h: model.predict_interval(horizon=h, coverage=0.8)
    horizons = [len(future) if future is not None else 12, 5]
    serial = {(k, h): f(h) for k, f in kinds.items() for h in horizons}
    plan = [
        (k, horizons[i % len(horizons)])
        for i in range(N_CALLS)
        for k in kinds
    ]
    state = (model._state.copy(), model.params_.copy())
    threads = blas_threads()
    results = hammer([lambda k=k, h=h: kinds[k](h) for k, h in plan])
    for (k, h), got in zip(plan, results, strict=True):
        assert_same(got, serial[(k, h)])
    # predict reads the model and nothing else
    np.testing.assert_array_equal(model._state, state[0])
    np.testing.assert_array_equal(model.params_, state[1])
    assert blas_threads() == threads


def _head(future, h):
    return None if future is None else future.iloc[:h]


def test_window_models_predict_from_threads_equals_serial(window_models):
    reg, clf, X = window_models
    chunks = [X[i : i + 60] for i in range(0, 300, 60)]
    calls = {
        "reg.predict": reg.predict,
        "clf.predict_proba": clf.predict_proba,
        "clf.decision_function": clf.decision_function,
    }
    serial = {(n, i): f(c) for n, f in calls.items() for i, c in enumerate(chunks)}
    threads = blas_threads()
    plan = [(n, i % len(chunks)) for i in range(N_CALLS) for n in calls]
    results = hammer([lambda n=n, i=i: calls[n](chunks[i]) for n, i in plan])
    for (n, i), got in zip(plan, results, strict=True):
        np.testing.assert_array_equal(got, serial[(n, i)], err_msg=n)
    # overlapping calls restored the BLAS limits they changed, in order
    assert blas_threads() == threads


def test_window_predict_in_a_worker_thread_equals_the_main_thread(window_models):
    # threadpoolctl lets one "controlling" thread change OpenBLAS's limit; a
    # worker's limit used to be ignored after the main thread had set one, so
    # its predictions ran on a multi-threaded BLAS and differed in the last bit
    reg, clf, X = window_models
    main = reg.predict(X), clf.predict_proba(X)
    with ThreadPoolExecutor(1) as pool:
        worker = pool.submit(lambda: (reg.predict(X), clf.predict_proba(X))).result()
    for a, b in zip(main, worker, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fits_in_threads_equal_serial_fits(window_models):
    _, _, X = window_models
    y = X[:, -4:].sum(axis=1)

    def fit(seed):
        m = RNNRegressor(hidden_size=40, max_iter=1, random_state=seed)
        return m.fit(X[:120], y[:120]).params_

    # warnings.catch_warnings is process-wide, not thread-safe: set it once here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = [fit(s) for s in range(4)]
        threads = blas_threads()
        parallel = hammer([lambda s=s: fit(s) for s in range(4)])
    for got, want in zip(parallel, serial, strict=True):
        np.testing.assert_array_equal(got, want)
    assert blas_threads() == threads


def test_models_used_from_threads_still_pickle_and_copy(forecasters):
    model, future = forecasters["recursive"]
    hammer([lambda: model.predict(X=future) for _ in range(8)])
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert clone.predict(X=future).equals(model.predict(X=future))


# ------------------------------------------------- predict while update runs
# One thread streams observations in with update(), one step at a time, while
# others call predict / predict_interval. Every result must be the serial
# forecast of SOME state the model passed through: its first timestamp says
# which (the step after the last observation it forecasts from), and its
# values must equal, bit for bit, the serial forecast from that state. A
# forecast whose index and values come from two different states (update
# committed half-way through a predict) fails.
N_UPDATES = 60


def _stream_case(kind):
    y, X = hourly(600, seed=3)
    if kind == "rnn":
        kw = dict(hidden_size=8, max_iter=1, random_state=0, horizon=6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = RNNForecaster(strategy="recursive", **kw).fit(y[:-N_UPDATES])
    else:
        model = LinearARForecaster(lags=4, horizon=6).fit(y[:-N_UPDATES])
    return model, y[-N_UPDATES:]


@pytest.mark.parametrize(
    "kind, method",
    [("rnn", "update"), ("rnn", "partial_fit"), ("linear_ar", "update")],
)
def test_predict_during_update_matches_a_consistent_state(kind, method):
    # partial_fit also trains: its weights change while readers read them
    model, stream = _stream_case(kind)
    serial_model = copy.deepcopy(model)
    serial = {}
    for j in range(N_UPDATES + 1):
        pred = serial_model.predict()
        lo_hi = (
            serial_model.predict_interval(coverage=0.8) if kind == "rnn" else None
        )
        serial[pred.index[0]] = (pred, lo_hi)
        if j < N_UPDATES:
            getattr(serial_model, method)(stream.iloc[j : j + 1])
    stop = threading.Event()
    got = []

    def reader():
        while not stop.is_set():
            got.append(("predict", model.predict()))
            if kind == "rnn":
                got.append(("interval", model.predict_interval(coverage=0.8)))

    def writer():
        try:
            for j in range(N_UPDATES):
                getattr(model, method)(stream.iloc[j : j + 1])
        finally:
            stop.set()

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    writer()
    for t in readers:
        t.join()
    assert len(got) > N_UPDATES  # the readers really ran during the updates
    for what, out in got:
        want_pred, want_interval = serial[out.index[0]]
        want = want_pred if what == "predict" else want_interval
        assert out.index.equals(want.index), what
        np.testing.assert_array_equal(out.to_numpy(), want.to_numpy(), err_msg=what)
    # and the model ends where the serial one does
    assert model.predict().equals(serial_model.predict())


def test_per_series_predict_during_update_sees_one_generation():
    # every series of one predict comes from the same update: the forecasts of
    # both series start at the same timestamp and equal the serial ones
    y, _ = hourly(300, seed=4)
    long = pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": y.index, "y": y.values + i})
            for i, k in enumerate("ab")],
        ignore_index=True,
    )
    head = long[long["ds"] < y.index[-N_UPDATES]]
    steps = [long[long["ds"] == t] for t in y.index[-N_UPDATES:]]
    model = PerSeriesForecaster(LinearARForecaster(lags=3, horizon=4)).fit(head)
    serial_model = copy.deepcopy(model)
    serial = {}
    for j in range(N_UPDATES + 1):
        pred = serial_model.predict()
        serial[pred["ds"].iloc[0]] = pred
        if j < N_UPDATES:
            serial_model.update(steps[j])
    stop = threading.Event()
    got = []

    def reader():
        while not stop.is_set():
            got.append(model.predict())

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for step in steps:
            model.update(step)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert len(got) > N_UPDATES
    for out in got:
        pd.testing.assert_frame_equal(out, serial[out["ds"].iloc[0]])
