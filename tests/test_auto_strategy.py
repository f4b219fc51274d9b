"""``strategy="auto"``: the encoder-decoder where numeric covariates are known ahead,
and the tails' contest between the two strategies.

The rules (``auto.choose_strategy``, ``auto.strategy_contest``) on their own,
then what ``fit`` resolves them to for each kind of input, that the resolved
model (the contest's winner too) is the explicit one bit for bit, and that a
saved model forecasts with the strategy it was fitted with.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tsrnn import RNNForecaster, load
from tsrnn.estimators.forecaster import auto
from tsrnn.estimators.forecaster.fitting import FitsForecaster

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
    "args, seasonal, rows, want",
    [
        # known covariates: the rule's decoder alone (measured: the tails
        # chose it every time), long and seasonal or not
        ((2, False, True, "lstm", 6), False, 50, ("seq2seq",)),
        ((2, False, True, "lstm", 6), True, 5000, ("seq2seq",)),
        # long and seasonal: the direct head, then the decoder
        ((0, False, True, "lstm", 6), True, 1000, ("direct", "seq2seq")),
        ((0, False, True, "gru", 2), True, 5000, ("direct", "seq2seq")),
        ((0, False, True, "lstm", 6), True, 999, ("direct",)),  # short
        ((0, False, True, "lstm", 6), False, 5000, ("direct",)),  # no season
        ((2, True, True, "lstm", 6), True, 5000, ("direct",)),  # embedded codes
        ((0, False, False, "lstm", 6), True, 5000, ("direct",)),  # not a point
        ((2, False, True, "sru", 6), True, 5000, ("direct",)),
        ((0, False, True, "lstm", 1), True, 5000, ("direct",)),  # one step
    ],
)
def test_the_contest_rule(args, seasonal, rows, want):
    assert auto.strategy_contest(*args, seasonal=seasonal, median_rows=rows) == want
    assert auto.strategy_contest(*args, seasonal=seasonal, median_rows=rows)[0] == (
        auto.choose_strategy(*args)
    )


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
    assert not hasattr(est, "strategy_scores_")  # short series: no contest


def test_auto_is_the_explicit_strategy_bit_for_bit(tmp_path):
    y, X = _hourly()
    X = X[["temp"]]
    fut = X.iloc[-3:]
    a = RNNForecaster(horizon=3, **TINY).fit(y.iloc[:-3], X.iloc[:-3])
    won = a.strategy_
    assert won == "seq2seq" and not hasattr(a, "strategy_scores_")
    b = RNNForecaster(horizon=3, strategy=won, **TINY).fit(y.iloc[:-3], X.iloc[:-3])
    np.testing.assert_array_equal(a.predict(X=fut), b.predict(X=fut))
    np.testing.assert_array_equal(a.params_, b.params_)
    # saved and loaded: the file says which strategy the weights belong to
    a.save(tmp_path / "m")
    c = load(tmp_path / "m")
    assert (c.strategy, c.strategy_) == ("auto", won)
    np.testing.assert_array_equal(c.predict(X=fut), a.predict(X=fut))
    # a warm start keeps what the first fit resolved
    a.set_params(warm_start=True).fit(y.iloc[:-3], X.iloc[:-3])
    assert a.strategy_ == won and not hasattr(a, "strategy_scores_")


def _long_hourly(n=400, seed=1):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    t = np.arange(n)
    return pd.Series(np.sin(2 * np.pi * t / 24) + 0.2 * rng.normal(size=n), idx)


@pytest.mark.parametrize("winner", ["direct", "seq2seq"])
def test_the_contest_keeps_its_winner_bit_for_bit(monkeypatch, winner):
    """Whichever strategy the tails prefer, the fitted model is that
    strategy's explicit fit: nothing of the other fit leaks into it."""
    monkeypatch.setattr(auto, "STRATEGY_CONTEST_MIN_ROWS", 100)
    real = FitsForecaster._contest_score

    def rigged(self):  # the real score, plus a lead for the chosen winner
        return real(self) + (10.0 if self.strategy_ == winner else 0.0)

    monkeypatch.setattr(FitsForecaster, "_contest_score", rigged)
    y = _long_hourly()
    est = RNNForecaster(horizon=4, **TINY).fit(y)
    assert (est.strategy, est.strategy_) == ("auto", winner)
    assert set(est.strategy_scores_) == {"direct", "seq2seq"}
    alone = RNNForecaster(horizon=4, strategy=winner, **TINY).fit(y)
    np.testing.assert_array_equal(est.params_, alone.params_)
    np.testing.assert_array_equal(est.predict(), alone.predict())
    new = y.iloc[-5:].copy()
    new.index = new.index + pd.Timedelta(hours=5)
    np.testing.assert_array_equal(
        est.update(new).predict(), alone.update(new).predict()
    )


def test_no_contest_on_short_series_or_without_a_season(monkeypatch):
    y = _long_hourly()  # 400 rows: below STRATEGY_CONTEST_MIN_ROWS
    est = RNNForecaster(horizon=4, **TINY).fit(y)
    assert est.strategy_ == "direct" and not hasattr(est, "strategy_scores_")
    monkeypatch.setattr(auto, "STRATEGY_CONTEST_MIN_ROWS", 100)
    flat = pd.Series(np.random.default_rng(0).normal(size=400).cumsum())  # positions
    est = RNNForecaster(horizon=4, **TINY).fit(flat)
    assert est.season_length_ == (1,) and not hasattr(est, "strategy_scores_")
    # a calendar's season the data does not show (a random walk read hourly)
    walk = pd.Series(flat.to_numpy(), _long_hourly().index)
    est = RNNForecaster(horizon=4, **TINY).fit(walk)
    assert est.season_length_ == (24, 168) and not np.any(est.deseasonalized_)
    assert not hasattr(est, "strategy_scores_")
    # a contest that ran kept the better tail score, and is forgotten by the
    # next fit that has none
    est = RNNForecaster(horizon=4, **TINY).fit(y)
    scores = est.strategy_scores_
    assert set(scores) == {"direct", "seq2seq"}
    assert scores[est.strategy_] == max(scores.values())
    monkeypatch.setattr(auto, "STRATEGY_CONTEST_MIN_ROWS", 10_000)
    est.fit(y)
    assert not hasattr(est, "strategy_scores_")
