"""``tsrnn.warmup`` and the "compiling kernels" notice, in fresh interpreters.

A fresh interpreter with an empty ``NUMBA_CACHE_DIR`` is a fresh environment:
nothing compiled, nothing cached. The first one warms up and checks that the
models then compile nothing; the second one, on the same cache, loads instead
of compiling.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

import tsrnn
from tsrnn.kernels._jit import COMPILING_MESSAGE

ROOT = pathlib.Path(__file__).resolve().parents[1]

FIRST = r"""
import io, json, warnings, contextlib
import numpy as np, pandas as pd
import tsrnn
from tsrnn.kernels._jit import cache_stats
warnings.simplefilter("ignore")
out = {}
r = tsrnn.warmup(cells="rnn", dtypes="float32")
out["compiled"], out["loaded"] = list(r.compiled), list(r.loaded)
r2 = tsrnn.warmup(cells=["rnn"], dtypes=["float32"])
out["second"] = [list(r2.compiled), list(r2.loaded)]
before = cache_stats()
y = np.sin(np.arange(120) / 4.0)
y[40] = np.nan  # a gap: the stream kernel fills it
s = pd.Series(y, index=pd.date_range("2020-01-01", periods=120, freq="D"))
new = pd.Series([0.1, np.nan], index=pd.date_range("2020-04-30", periods=2, freq="D"))
err = io.StringIO()
with contextlib.redirect_stderr(err):
    for kw in ({}, {"strategy": "recursive", "num_layers": 2}):
        m = tsrnn.RNNForecaster(cell="rnn", hidden_size=4, max_iter=2, horizon=3,
                                dtype="float32", verbose=1, **kw)
        m.fit(s).predict(3)
        m.update(new)
        m.predict(3)
        # without gaps: the windows and reads kept between epochs
        m.fit(s.interpolate()).predict(3)
    X = np.random.default_rng(0).standard_normal((16, 5, 2))
    tsrnn.RNNRegressor(cell="rnn", hidden_size=4, max_iter=2, dtype="float32",
                       verbose=1).fit(X, X[:, -1, 0]).predict(X)
out["warm_misses"] = cache_stats()["misses"] - before["misses"]
out["warm_stderr"] = err.getvalue()
err = io.StringIO()
with contextlib.redirect_stderr(err):  # float64 was not warmed up
    tsrnn.RNNRegressor(cell="rnn", hidden_size=4, max_iter=2, dtype="float64",
                       verbose=1).fit(X, X[:, -1, 0])
    tsrnn.RNNRegressor(cell="rnn", hidden_size=4, max_iter=2, dtype="float64",
                       verbose=1).fit(X, X[:, -1, 0])
out["cold_stderr"] = err.getvalue()
print(json.dumps(out))
"""

SECOND = r"""
import json, tsrnn
r = tsrnn.warmup(cells="rnn", dtypes="float32")
print(json.dumps([list(r.compiled), list(r.loaded)]))
"""

KERNELS = [
    "tsrnn.kernels.rnn.rnn_forward[float32]",
    "tsrnn.kernels.rnn.rnn_backward[float32]",
    "tsrnn.kernels.stream.stream_rnn_tanh[float32]",
    "tsrnn.smoothing.fitting.fit_ses[float64]",
    "tsrnn.smoothing.fitting.fit_holt_rows[float64]",
    "tsrnn.smoothing._filters.run_filters[float64]",
]


def _run(code, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    cache = tmp_path_factory.mktemp("numba_cache")
    return _run(FIRST, cache), cache


def test_warmup_compiles_the_kernels_it_names(fresh):
    out, _ = fresh
    assert set(KERNELS) <= set(out["compiled"])
    assert out["loaded"] == []  # an empty cache has nothing to load
    # float32 asked for; the references' kernels (and their combination's) are
    # float64 whatever the model's dtype
    refs = ("smoothing", "kernels.combination")
    assert all(
        k.endswith("[float32]") or any(r in k for r in refs) for k in out["compiled"]
    )


def test_second_warmup_is_a_no_op(fresh):
    out, _ = fresh
    assert out["second"] == [[], []]


def test_models_compile_nothing_after_warmup(fresh):
    out, _ = fresh
    assert out["warm_misses"] == 0
    assert COMPILING_MESSAGE not in out["warm_stderr"]


def test_verbose_fit_says_it_compiles_once(fresh):
    out, _ = fresh
    # the first fit compiles (once per fit, not per kernel), the second does not
    assert out["cold_stderr"].count(COMPILING_MESSAGE) == 1


def test_warmup_in_a_new_process_loads_from_the_cache(fresh):
    _, cache = fresh
    compiled, loaded = _run(SECOND, cache)
    assert compiled == []
    assert {k for k in KERNELS if "stream" in k or "forward" in k} <= set(loaded)


def test_silent_fit_says_nothing(capsys):
    X = [[0.0, 1.0, 2.0, 3.0]] * 8
    with pytest.warns(Warning):  # max_iter=1: not converged
        tsrnn.RNNRegressor(hidden_size=2, max_iter=1).fit(X, [0.0] * 8)
    assert COMPILING_MESSAGE not in capsys.readouterr().err
