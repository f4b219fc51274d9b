"""tsrnn.smoothing: the reference filters against naive re-implementations,
statsforecast and statsmodels (when importable), the fitted parameters against
scipy's optimiser on the same objective, and the seasonality test/decomposition.
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.smoothing import (
    REFERENCES,
    acf,
    decompose,
    expand_paths,
    fit_holt,
    fit_parameters,
    fit_ses,
    fit_theta,
    initial_state,
    initial_trend,
    reference_paths,
    run_references,
    seasonal_indices,
    seasonality_test,
)
from tsrnn.smoothing._filters import holt_sse, ses_sse

H = 7


def series(kind: str, n: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    if kind == "walk":
        return 100 + np.cumsum(rng.normal(size=n))
    if kind == "trend":
        return 50 + 0.4 * t + rng.normal(scale=2.0, size=n)
    if kind == "seasonal":
        return (100 + 0.3 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + rng.normal(
            size=n
        )
    if kind == "noise":
        return 10 + rng.normal(size=n)
    raise ValueError(kind)


def lines_for(y, params, state=None):
    indptr = np.array([0, len(y)])
    st = (initial_state(*initial_trend(y)) if state is None else state)[None]
    lines, after = run_references(y, indptr, np.asarray(params)[None], st)
    return lines, after[0]


# ---------------------------------------------------------------- naive references
def naive_ses(y, alpha, h):
    out = np.full((len(y), h), np.nan)
    level = None
    for t, v in enumerate(y):
        if not np.isnan(v):
            level = v if level is None else alpha * v + (1 - alpha) * level
        out[t] = level
    return out


def naive_holt(y, alpha, beta, phi, level, trend, h):
    out = np.empty((len(y), h))
    for t, v in enumerate(y):
        f = level + phi * trend
        if np.isnan(v):
            level, trend = f, phi * trend
        else:
            new_level = alpha * v + (1 - alpha) * f
            # the textbook form: b_t = beta*(l_t - l_{t-1}) + (1-beta*) phi b
            # equals the error-correction form with beta = alpha * beta*
            bstar = beta / alpha
            trend = bstar * (new_level - level) + (1 - bstar) * phi * trend
            level = new_level
        for k in range(1, h + 1):
            out[t, k - 1] = level + sum(phi**i for i in range(1, k + 1)) * trend
    return out


def naive_theta(y, alpha, h, w=0.5):
    """R's forecast::thetaf with a given alpha and SES level from y[0]
    (``w = 1/2``); the optimised Theta method's ``w = 1 - 1/theta`` otherwise."""
    out = np.empty((len(y), h))
    for t in range(len(y)):
        x = y[: t + 1]
        level = x[0]
        for v in x[1:]:
            level = alpha * v + (1 - alpha) * level
        n = len(x)
        b = np.polyfit(np.arange(n), x, 1)[0] if n >= 2 else 0.0
        k = np.arange(h)
        out[t] = level + w * b * (k + (1 - (1 - alpha) ** n) / alpha)
    return out


def theta_sse(y, alpha, w):
    """One-step squared error of :func:`naive_theta` (no missing values)."""
    f = naive_theta(y, alpha, 1, w)[:-1, 0]
    return float(np.sum((y[1:] - f) ** 2))


def naive_drift(y, h):
    out = np.empty((len(y), h))
    for t in range(len(y)):
        d = (y[t] - y[0]) / t if t else 0.0
        out[t] = y[t] + d * np.arange(1, h + 1)
    return out


# ------------------------------------------------------------------- the filters
@pytest.mark.parametrize("kind", ["walk", "trend", "seasonal"])
def test_filters_match_naive_references(kind):
    y = series(kind)
    params = np.array([0.37, 0.6, 0.08, 0.93, 0.21, 0.8])
    l0, b0 = initial_trend(y)
    lines, _ = lines_for(y, params, initial_state(l0, b0))
    paths = expand_paths(lines, H)
    got = dict(zip(REFERENCES, np.moveaxis(paths, 1, 0), strict=True))
    np.testing.assert_allclose(got["ses"], naive_ses(y, 0.37, H), rtol=1e-12)
    np.testing.assert_allclose(
        got["holt"], naive_holt(y, 0.6, 0.08, 0.93, l0, b0, H), rtol=1e-11
    )
    np.testing.assert_allclose(got["theta"], naive_theta(y, 0.21, H, 0.8), rtol=1e-10)
    np.testing.assert_allclose(got["drift"], naive_drift(y, H), rtol=1e-12)
    # the standard method: SES's alpha and the weight 1/2 (R's thetaf)
    params[4:] = 0.37, 0.5
    lines, _ = lines_for(y, params, initial_state(l0, b0))
    theta = expand_paths(lines, H)[:, REFERENCES.index("theta")]
    np.testing.assert_allclose(theta, naive_theta(y, 0.37, H), rtol=1e-10)


def test_missing_steps_follow_the_documented_rules():
    y = series("trend")
    y[[5, 40, 41, 90]] = np.nan
    params = np.array([0.3, 0.5, 0.05, 0.9, 0.3, 0.5])
    l0, b0 = initial_trend(y)
    paths = expand_paths(lines_for(y, params, initial_state(l0, b0))[0], H)
    np.testing.assert_allclose(paths[:, 0], naive_ses(y, 0.3, H), rtol=1e-12)
    np.testing.assert_allclose(
        paths[:, 1], naive_holt(y, 0.5, 0.05, 0.9, l0, b0, H), rtol=1e-11
    )
    # drift over a gap: the line through the first and last observations
    t, obs = 41, np.flatnonzero(~np.isnan(y[:42]))
    d = (y[obs[-1]] - y[obs[0]]) / (obs[-1] - obs[0])
    np.testing.assert_allclose(
        paths[t, 3], y[obs[-1]] + d * (t - obs[-1] + np.arange(1, H + 1))
    )
    assert np.isfinite(paths).all()


def test_state_carries_across_calls():
    y = series("walk", 150)
    params, state0 = fit_parameters(y[:100])
    whole, end = lines_for(y, params, state0)
    first, mid = lines_for(y[:80], params, state0)
    second, end2 = lines_for(y[80:], params, mid)
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)
    np.testing.assert_array_equal(end2, end)


def test_reference_paths_are_from_data_up_to_the_origin():
    y = series("trend", 80)
    p = reference_paths(y, H, train_end=60)
    y2 = y.copy()
    y2[70:] += 100.0  # after the training part: origins before 70 unchanged
    p2 = reference_paths(y2, H, train_end=60)
    for name in REFERENCES:
        assert p[name].shape == (80, H)
        np.testing.assert_array_equal(p[name][:70], p2[name][:70])
        assert not np.allclose(p[name][70:], p2[name][70:])


# --------------------------------------------------------------- vs statsforecast
def test_ses_matches_statsforecast_for_a_given_alpha():
    models = pytest.importorskip("statsforecast.models")
    for kind in ("walk", "trend", "noise"):
        y = series(kind)
        for alpha in (0.1, 0.5, 0.9):
            fc, fitted = models._ses_forecast(y, alpha)
            lines, _ = lines_for(y, [alpha, 0.5, 0.1, 0.9, alpha, 0.5])
            ses = lines[:, 0, 0]
            np.testing.assert_allclose(ses[-1], fc, rtol=1e-12)
            np.testing.assert_allclose(ses[:-1][1:], fitted[2:], rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_fitted_alpha_near_statsforecast(seed):
    models = pytest.importorskip("statsforecast.models")
    for kind in ("walk", "noise", "trend"):
        y = series(kind, 150, seed)
        ours = fit_ses(y)
        _, _, theirs = models._optimized_ses_forecast(y, (0.01, 0.99))
        # the same objective: ours is at least as good, and close
        assert ses_sse(y, ours) <= ses_sse(y, theirs) * (1 + 1e-6)
        assert abs(ours - theirs) < 0.02, (kind, ours, theirs)


def test_holt_fit_reaches_scipys_optimum():
    optimize = pytest.importorskip("scipy.optimize")
    for kind in ("trend", "walk"):
        y = series(kind, 150)
        l0, b0 = initial_trend(y)
        a, b, phi = fit_holt(y, l0, b0)
        assert 0.01 <= a <= 0.99 and 0.0 < b <= a and 0.8 <= phi <= 0.98

        def obj(p, y=y, l0=l0, b0=b0):
            return holt_sse(y, p[0], p[0] * p[1], p[2], l0, b0)

        best = min(
            (
                optimize.minimize(
                    obj,
                    x0,
                    method="L-BFGS-B",
                    bounds=[(0.01, 0.99), (0.001, 0.99), (0.8, 0.98)],
                )
                for x0 in ([0.5, 0.1, 0.9], [0.2, 0.5, 0.95], [0.9, 0.05, 0.85])
            ),
            key=lambda r: r.fun,
        )
        assert holt_sse(y, a, b, phi, l0, b0) <= best.fun * 1.01


def test_theta_fit_reaches_scipys_optimum():
    """fit_theta's (alpha, w) against scipy on the naive objective: the closed
    form in ``w`` and the search in ``alpha`` find the bounded optimum."""
    optimize = pytest.importorskip("scipy.optimize")
    for kind in ("trend", "walk", "noise", "seasonal"):
        y = series(kind, 60)
        alpha, w = fit_theta(y)
        assert 0.1 <= alpha <= 0.99 and 0.0 <= w <= 1.0
        best = min(
            (
                optimize.minimize(
                    lambda p, y=y: theta_sse(y, p[0], p[1]),
                    x0,
                    method="L-BFGS-B",
                    bounds=[(0.1, 0.99), (0.0, 1.0)],
                )
                for x0 in ([0.5, 0.5], [0.2, 0.9], [0.9, 0.1])
            ),
            key=lambda r: r.fun,
        )
        assert theta_sse(y, alpha, w) <= best.fun * (1 + 1e-6), kind


def test_theta_fit_of_a_line_takes_the_whole_slope():
    """On a straight line the slope's weight is 1 (theta = infinity): the
    forecast continues the line; with too few points to tell a slope, 1/2."""
    y = 3.0 + 0.5 * np.arange(40)
    alpha, w = fit_theta(y)
    assert w == pytest.approx(1.0)
    path = reference_paths(y, H)["theta"][-1]
    np.testing.assert_allclose(path, 3.0 + 0.5 * np.arange(40, 40 + H), rtol=1e-9)
    assert fit_theta(np.array([1.0, 2.0]))[1] == 0.5


def test_theta_fit_skips_missing_values_as_the_filter_does():
    y = series("trend", 80)
    y[[10, 11, 50]] = np.nan
    alpha, w = fit_theta(y)
    # the filter's one-step errors with these coefficients: what the fit scored
    params = np.array([0.5, 0.5, 0.05, 0.9, alpha, w])
    lines, _ = lines_for(y, params)
    th = lines[:, REFERENCES.index("theta")]
    obs = np.flatnonzero(~np.isnan(y))
    pairs = list(zip(obs[:-1], obs[1:], strict=True))  # (origin, next observation)
    err = [y[t] - (th[p, 0] + th[p, 1] * (t - p)) for p, t in pairs]
    sse = float(np.sum(np.square(err)))
    for a2, w2 in ((alpha * 0.9, w), (min(alpha * 1.1, 0.99), w), (alpha, w * 0.9)):
        params[4:] = a2, w2
        th2 = lines_for(y, params)[0][:, REFERENCES.index("theta")]
        err2 = [y[t] - (th2[p, 0] + th2[p, 1] * (t - p)) for p, t in pairs]
        assert sse <= float(np.sum(np.square(err2))) * (1 + 1e-9)


def test_optimised_theta_near_statsforecast():
    sf_models = pytest.importorskip("statsforecast.models")
    # OTM also optimises its initial level: forecasts agree loosely
    for kind in ("trend", "walk"):
        y = series(kind, 150)
        ours = reference_paths(y, H)["theta"][-1]
        theirs = sf_models.OptimizedTheta(season_length=1).fit(y).predict(H)["mean"]
        scale = np.mean(np.abs(np.diff(y)))
        assert np.max(np.abs(ours - theirs)) < 1.0 * scale


def test_theta_near_statsforecast_standard_theta():
    sf_models = pytest.importorskip("statsforecast.models")
    # STM optimises its own initial level and alpha: forecasts agree loosely
    for kind in ("trend", "walk"):
        y = series(kind, 150)
        params, state = fit_parameters(y)
        params[4:] = params[0], 0.5  # the standard method
        lines, _ = lines_for(y, params, state)
        ours = expand_paths(lines, H)[-1, REFERENCES.index("theta")]
        theirs = sf_models.Theta(season_length=1).fit(y).predict(H)["mean"]
        scale = np.mean(np.abs(np.diff(y)))
        assert np.max(np.abs(ours - theirs)) < 1.0 * scale


# ------------------------------------------------------------------- seasonality
def test_seasonality_test_matches_statsforecast_formula():
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    for kind, seed in [("seasonal", 0), ("noise", 1), ("walk", 2), ("trend", 3)]:
        y = series(kind, 96, seed)
        r = stattools.acf(y, nlags=12, fft=False)
        np.testing.assert_allclose(acf(y, 12), r, atol=1e-12)
        stat = np.sqrt((1 + 2 * np.sum(r[1:12] ** 2)) / len(y))
        assert seasonality_test(y, 12) == bool(abs(r[12]) > 1.645 * stat)
    assert seasonality_test(series("seasonal", 96), 12)
    assert not seasonality_test(series("noise", 96), 12)
    assert not seasonality_test(series("seasonal", 30), 12)  # < 3 seasons
    assert not seasonality_test(series("seasonal", 96), 1)


@pytest.mark.parametrize("m", [12, 7])
@pytest.mark.parametrize("model", ["multiplicative", "additive"])
def test_indices_match_statsmodels_seasonal_decompose(m, model):
    seasonal_mod = pytest.importorskip("statsmodels.tsa.seasonal")
    y = series("seasonal", 10 * m)
    ours = seasonal_indices(y, m, multiplicative=model == "multiplicative")
    theirs = seasonal_mod.seasonal_decompose(y, model=model, period=m).seasonal[:m]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_decompose_chooses_the_kind():
    y = series("seasonal", 96)
    idx, mult = decompose(y, 12)
    assert mult and idx.shape == (12,) and abs(idx.mean() - 1) < 1e-12
    idx, mult = decompose(y - 150.0, 12)  # not strictly positive: additive
    assert not mult and abs(idx.mean()) < 1e-12
    assert decompose(series("noise", 96), 12) is None


def test_naive_ses_reference_is_sane():
    # the reference implementation itself, against a hand computation
    out = naive_ses(np.array([1.0, 3.0, np.nan, 2.0]), 0.5, 2)
    np.testing.assert_allclose(out[:, 0], [1.0, 2.0, 2.0, 2.0])


def test_initial_trends_of_a_collection_equal_each_series_alone():
    # batched where the first rows are all observed, one by one elsewhere:
    # the same values either way (gaps, short series, no training rows)
    from tsrnn.smoothing.fitting import initial_trends

    rng = np.random.default_rng(0)
    for _ in range(50):
        lens = rng.integers(1, 40, rng.integers(1, 8))
        m = int(rng.choice([1, 4, 12]))
        indptr = np.r_[0, np.cumsum(lens)]
        y = rng.normal(size=indptr[-1]) * 10 ** rng.uniform(-2, 4)
        y[rng.random(len(y)) < 0.05] = np.nan
        train_end = indptr[:-1] + rng.integers(0, lens + 1)
        levels, trends = initial_trends(y, indptr, train_end, m)
        for s in range(len(lens)):
            alone = initial_trend(np.ascontiguousarray(y[indptr[s] : train_end[s]]), m)
            assert (levels[s], trends[s]) == alone
