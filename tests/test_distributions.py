"""Likelihood heads (tsrnn.engine.distributions) against scipy and finite differences.

The negative log-likelihoods are compared with scipy's log-densities, their
gradients with central finite differences of the loss in every raw output,
and the mean, quantiles and draws with scipy's distributions.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tsrnn.engine.distributions import DISTRIBUTIONS, get_distribution, softplus

RNG = np.random.default_rng(0)


def _data(name, shape=(5, 3), k=2):
    dist = get_distribution(name)
    raw = RNG.normal(size=shape + (k * dist.n_params,))
    if dist.counts:
        y = RNG.poisson(3.0, size=shape + (k,)).astype(float)
    else:
        y = RNG.normal(size=shape + (k,)) * 2
    return dist, raw, y


def _scipy(name, p):
    if name == "normal":
        return stats.norm(p["loc"], p["scale"])
    if name == "student_t":
        return stats.t(p["df"], p["loc"], p["scale"])
    if name == "poisson":
        return stats.poisson(p["rate"])
    r = 1.0 / p["dispersion"]
    return stats.nbinom(r, r / (r + p["mean"]))


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_nll_matches_scipy(name):
    dist, raw, y = _data(name)
    value, _ = dist.loss(raw, y)
    d = _scipy(name, dist.params(raw))
    logp = d.logpmf(y) if dist.counts else d.logpdf(y)
    assert value == pytest.approx(-logp.mean(), rel=1e-10)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_gradient_matches_finite_differences(name):
    dist, raw, y = _data(name, shape=(4,), k=2)
    mask = np.ones_like(y)
    mask[1, 0] = 0.0
    y[2, 1] = np.nan  # a gap: no cost, no gradient
    _, grad = dist.loss(raw, y, mask)
    eps = 1e-6
    fd = np.zeros_like(raw)
    for idx in np.ndindex(raw.shape):
        up, down = raw.copy(), raw.copy()
        up[idx] += eps
        down[idx] -= eps
        fd[idx] = (dist.loss(up, y, mask)[0] - dist.loss(down, y, mask)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    P = dist.n_params
    assert np.all(grad[1, :P] == 0) and np.all(grad[2, P:] == 0)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_mean_quantiles_and_draws(name):
    dist, raw, _ = _data(name, shape=(3,), k=1)
    d = _scipy(name, dist.params(raw))
    np.testing.assert_allclose(dist.mean(raw), d.mean(), rtol=1e-10)
    for q in (0.05, 0.5, 0.95):
        np.testing.assert_allclose(dist.quantile(raw, q), d.ppf(q))
    rng = np.random.default_rng(1)
    many = np.repeat(raw[None], 40000, axis=0)
    draws = dist.sample(many, rng)
    np.testing.assert_allclose(draws.mean(axis=0), d.mean(), rtol=0.05, atol=0.05)
    for q in (0.1, 0.5, 0.9):  # heavy tails: quantiles, not the variance
        np.testing.assert_allclose(
            np.quantile(draws, q, axis=0), d.ppf(q), rtol=0.05, atol=0.06
        )
    np.testing.assert_array_equal(dist.sample(raw, rng, temperature=0.0), dist.mean(raw))
    half = dist.sample(many, np.random.default_rng(1), temperature=0.5)
    np.testing.assert_allclose(half.std(axis=0), 0.5 * draws.std(axis=0), rtol=1e-9)


def test_links_keep_parameters_valid_at_extreme_outputs():
    raw = np.array([[-800.0, -800.0, -800.0], [800.0, 800.0, 800.0]])
    p = get_distribution("student_t").params(raw)
    assert np.all(p["scale"] > 0) and np.all(p["df"] > 2) and np.isfinite(p["scale"]).all()
    value, grad = get_distribution("student_t").loss(raw, np.array([[0.0], [0.0]]))
    assert np.isfinite(value) and np.isfinite(grad).all()


def test_maximum_likelihood_by_gradient_descent_recovers_the_parameters():
    y = np.random.default_rng(2).normal(3.0, 0.5, size=(2000, 1))
    dist = get_distribution("normal")
    raw = np.zeros((1, 2))
    for _ in range(10000):
        _, g = dist.loss(np.repeat(raw, len(y), axis=0), y)
        raw -= 0.2 * g.sum(axis=0, keepdims=True)
    p = dist.params(raw)
    assert p["loc"][0, 0] == pytest.approx(y.mean(), abs=1e-3)
    assert p["scale"][0, 0] == pytest.approx(y.std(), rel=1e-3)
    assert softplus(np.array([1000.0]))[0] == 1000.0


def test_unknown_distribution_names_the_choices():
    with pytest.raises(ValueError, match="negative_binomial"):
        get_distribution("gamma")
