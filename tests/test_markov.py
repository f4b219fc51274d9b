"""MarkovChainForecaster against naive references written here.

The references count N-grams with Python dicts, smooth and back off row by
row, and forecast by enumerating every path of bins (no propagation of a
context distribution), so they share nothing with the vectorised code.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tsrnn import MarkovChainForecaster


def naive_symbols(y, edges):
    out = []
    for v in y:
        if np.isnan(v):
            out.append(None)
            continue
        b = 0
        for e in edges[1:-1]:
            if v >= e:
                b += 1
        out.append(b)
    return out


def naive_counts(sym, order):
    """{context tuple (oldest..newest): {next: count}} for every order 0..order."""
    counts = [dict() for _ in range(order + 1)]
    for t in range(len(sym)):
        if sym[t] is None:
            continue
        for j in range(order + 1):
            if t - j < 0:
                continue
            ctx = tuple(sym[t - j : t])
            if any(c is None for c in ctx):
                continue
            row = counts[j].setdefault(ctx, {})
            row[sym[t]] = row.get(sym[t], 0) + 1
    return counts


def naive_row(counts, ctx, k, alpha, min_count):
    """Smoothed next-bin probabilities after the context ``ctx`` (oldest first)."""
    best = None
    for j in range(len(ctx) + 1):
        sub = tuple(ctx[len(ctx) - j :]) if j else ()
        row = counts[j].get(sub, {})
        total = sum(row.values())
        p = np.array([(row.get(b, 0) + alpha) / (total + alpha * k) for b in range(k)])
        if best is None or total >= min_count:
            best = p
    return best


def naive_forecast(counts, last, k, alpha, min_count, h, values):
    """Per-step bin probabilities and means by enumerating all k**h paths."""
    # the marginal of step s sums the paths of length s + 1 ending in each bin
    out = np.zeros((h, k))
    for s in range(h):
        for path in itertools.product(range(k), repeat=s + 1):
            q, ctx = 1.0, list(last)
            for b in path:
                q *= naive_row(counts, ctx, k, alpha, min_count)[b]
                ctx = (ctx + [b])[1:] if ctx else []
            out[s, path[-1]] += q
    return out, out @ values


@pytest.fixture
def series():
    rng = np.random.default_rng(3)
    y = np.zeros(300)
    for t in range(1, 300):  # an AR(1) with a jump: memory the chain can use
        y[t] = 0.8 * y[t - 1] + rng.normal()
    return y


@pytest.mark.parametrize("order,k", [(0, 4), (1, 3), (2, 3), (3, 2)])
def test_counts_and_forecast_match_naive_enumeration(series, order, k):
    model = MarkovChainForecaster(order=order, n_bins=k, alpha=0.3, min_count=3)
    model.fit(series)
    sym = naive_symbols(series, model.bin_edges_[0])
    counts = naive_counts(sym, order)
    for j in range(order + 1):
        for ctx, row in counts[j].items():
            idx = sum(c * k**d for d, c in enumerate(reversed(ctx)))
            for b, c in row.items():
                assert model.counts_[j][0, idx, b] == c
        assert model.counts_[j].sum() == sum(sum(r.values()) for r in counts[j].values())
    h = 3
    last = sym[len(sym) - order :] if order else []
    probs, means = naive_forecast(
        counts, last, k, 0.3, 3, h, model.bin_values_[0]
    )
    np.testing.assert_allclose(model.predict_proba(h)[0], probs, atol=1e-12)
    np.testing.assert_allclose(model.predict(h), means, atol=1e-12)


def test_update_counts_what_fit_would_have_counted(series):
    model = MarkovChainForecaster(order=2, n_bins=5).fit(series[:200])
    before = [c.copy() for c in model.counts_]
    model.update(series[200:])
    sym = naive_symbols(series, model.bin_edges_[0])  # the edges of the first fit
    counts = naive_counts(sym, 2)
    for j in range(3):
        assert model.counts_[j].sum() == sum(sum(r.values()) for r in counts[j].values())
    assert model.counts_[2].sum() > before[2].sum()
    assert list(model.last_bins_[0]) == [sym[-1], sym[-2]]


def test_missing_values_break_the_chain():
    y = np.array([0.0, 1.0, np.nan, 0.0, 1.0, 0.0, 1.0, np.nan, 1.0, 0.0])
    model = MarkovChainForecaster(order=1, n_bins=2).fit(y)
    sym = naive_symbols(y, model.bin_edges_[0])
    counts = naive_counts(sym, 1)
    assert model.counts_[1].sum() == sum(sum(r.values()) for r in counts[1].values())
    assert model.counts_[1].sum() == 5  # 0-1, 0-1, 1-0, 0-1, 1-0


def test_sample_paths_follow_the_predictive_distribution(series):
    model = MarkovChainForecaster(order=1, n_bins=4, horizon=3).fit(series)
    paths = model.sample(20000, random_state=0)
    assert paths.shape == (1, 20000, 3)
    probs = model.predict_proba()[0]
    edges = model.bin_edges_[0]
    for step in range(3):
        b = np.clip(np.searchsorted(edges[1:-1], paths[0, :, step], side="right"), 0, 3)
        freq = np.bincount(b, minlength=4) / paths.shape[1]
        np.testing.assert_allclose(freq, probs[step], atol=0.015)
    greedy = model.sample(2, temperature=0)
    assert np.all(greedy[0, 0] == greedy[0, 1])
    # a low temperature concentrates the paths
    cold = model.sample(4000, temperature=0.2, random_state=1)
    assert cold.std(axis=1).mean() < paths.std(axis=1).mean()
    # the same seed, the same paths
    np.testing.assert_array_equal(
        model.sample(5, random_state=7), model.sample(5, random_state=7)
    )


def test_intervals_are_nested_quantiles(series):
    model = MarkovChainForecaster(order=2, horizon=4).fit(series)
    lo80, hi80 = model.predict_interval(coverage=0.8)
    lo95, hi95 = model.predict_interval(coverage=0.95)
    assert np.all(lo95 <= lo80) and np.all(lo80 < hi80) and np.all(hi80 <= hi95)
    paths = model.sample(20000, random_state=0)[0]
    inside = ((paths >= lo80) & (paths <= hi80)).mean(axis=0)
    np.testing.assert_allclose(inside, 0.8, atol=0.02)
    median = MarkovChainForecaster(order=2, horizon=4, point="median").fit(series)
    assert np.all((median.predict() >= lo80) & (median.predict() <= hi80))


def test_long_frame_one_chain_per_series(series):
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 150),
            "ds": np.tile(pd.date_range("2020-01-01", periods=150, freq="D"), 2),
            "y": np.concatenate([series[:150], 10 + series[150:]]),
        }
    )
    model = MarkovChainForecaster(order=1, horizon=2).fit(df)
    out = model.predict()
    assert list(out.columns[:2]) == ["unique_id", "ds"] and len(out) == 4
    single = MarkovChainForecaster(order=1, horizon=2).fit(series[:150])
    np.testing.assert_allclose(out["y"].to_numpy()[:2], single.predict(), atol=1e-12)
    assert clone(model).get_params() == model.get_params()


def test_does_not_modify_the_input(series):
    y = series.copy()
    MarkovChainForecaster().fit(y).update(y[:10])
    np.testing.assert_array_equal(y, series)


@pytest.mark.parametrize(
    "kwargs,data,match",
    [
        (dict(order=6, n_bins=64), np.arange(100.0), "lower order or n_bins"),
        (dict(order=3), np.arange(4.0), "at least 5"),
        (dict(n_bins=1), np.arange(50.0), "n_bins"),
        (dict(alpha=0.0), np.arange(50.0), "alpha"),
        (dict(point="mode"), np.arange(50.0), "point"),
    ],
)
def test_bad_parameters_are_named(kwargs, data, match):
    with pytest.raises(ValueError, match=match):
        MarkovChainForecaster(**kwargs).fit(data)


def test_bad_sampling_arguments(series):
    model = MarkovChainForecaster().fit(series)
    with pytest.raises(ValueError, match="n_paths"):
        model.sample(0)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=-1.0)
    with pytest.raises(ValueError, match="one target"):
        MarkovChainForecaster().fit(np.c_[series, series])
