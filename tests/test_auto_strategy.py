"""``strategy="auto"``: the encoder-decoder where numeric covariates are known ahead.

The rule (``auto.choose_strategy``) on its own, then what ``fit`` resolves it
to for each kind of input, that the resolved model is the explicit one bit for
bit, and that a saved model forecasts with the strategy it was fitted with.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import RNNForecaster, load
from tsrnn.estimators.forecaster import auto

TINY = dict(hidden_size=4, max_iter=2, random_state=0)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(
    "args, want",
    [
        ((2, False, True, "lstm", 6), "seq2seq"),
        ((1, False, True, "gru", 2), "seq2seq"),
        ((0, False, True, "lstm", 6), "direct"),  # no covariates
        ((2, True, True, "lstm", 6), "direct"),  # embedded codes
        ((2, False, False, "lstm", 6), "direct"),  # a distribution or quantiles
        ((2, False, True, "sru", 6), "direct"),  # its output is not its state
        ((2, False, True, "lstm", 1), "direct"),  # one step: nothing to decode
    ],
)
def test_the_rule(args, want):
    assert auto.choose_strategy(*args) == want


def _hourly(n=160, seed=0):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    temp = pd.Series(rng.normal(size=n), idx)
    y = pd.Series(np.sin(np.arange(n) / 4) + 0.3 * temp**2, idx)
    return y, pd.DataFrame({"temp": temp, "kind": pd.Categorical(rng.integers(0, 2, n))}, idx)


@pytest.mark.parametrize(
    "kw, columns, past, want",
    [
        ({}, ["temp"], None, "seq2seq"),
        ({}, None, None, "direct"),
        ({}, ["kind"], None, "direct"),  # categorical only
        ({}, ["temp"], ["temp"], "direct"),  # past-only: nothing known ahead
        ({"loss": "quantile"}, ["temp"], None, "direct"),
        ({"cell": "sru"}, ["temp"], None, "direct"),
        ({"horizon": 1}, ["temp"], None, "direct"),
        ({"strategy": "direct"}, ["temp"], None, "direct"),  # as given
        ({"strategy": "recursive"}, None, None, "recursive"),
    ],
)
def test_fit_resolves(kw, columns, past, want):
    y, X = _hourly()
    params = {**TINY, "horizon": 3, **kw}
    if past is not None:
        params["past_covariates"] = past
    est = RNNForecaster(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(y, None if columns is None else X[columns])
    assert est.strategy_ == want


def test_auto_is_the_explicit_strategy_bit_for_bit(tmp_path):
    y, X = _hourly()
    X = X[["temp"]]
    fut = X.iloc[-3:]
    a = RNNForecaster(horizon=3, **TINY).fit(y.iloc[:-3], X.iloc[:-3])
    b = RNNForecaster(horizon=3, strategy="seq2seq", **TINY).fit(y.iloc[:-3], X.iloc[:-3])
    np.testing.assert_array_equal(a.predict(X=fut), b.predict(X=fut))
    np.testing.assert_array_equal(a.params_, b.params_)
    # saved and loaded: the file says which strategy the weights belong to
    a.save(tmp_path / "m")
    c = load(tmp_path / "m")
    assert (c.strategy, c.strategy_) == ("auto", "seq2seq")
    np.testing.assert_array_equal(c.predict(X=fut), a.predict(X=fut))
    # a warm start keeps what the first fit resolved
    a.set_params(warm_start=True).fit(y.iloc[:-3], X.iloc[:-3])
    assert a.strategy_ == "seq2seq"
