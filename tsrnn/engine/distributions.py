"""Likelihood heads: distribution parameters per output, their loss, draws and quantiles.

A distribution head makes ``n_params`` raw outputs per target (parameter-major
within each target, as :func:`~tsrnn.engine.losses.pinball` lays out its
quantiles: ``[t0p0, t0p1, ..., t1p0, ...]``). Links keep each parameter in its
valid range whatever the network outputs (DeepAR's choice, Salinas et al.,
2020): locations are the raw value, scales and rates ``softplus(raw) + eps``,
Student-t degrees of freedom ``2 + softplus(raw)`` (a finite variance, so
that the mean forecast and the sample paths behave).

Each :class:`Distribution` gives the mean negative log-likelihood over the
present targets and its gradient with respect to the raw outputs (the form
every loss of :mod:`tsrnn.engine.losses` has), and, for forecasting, the mean,
quantiles and random draws (with a ``temperature`` that scales the spread
around the centre: 0 gives the centre itself, the greedy path).

Count distributions (Poisson, negative binomial) are for non-negative data
scaled by a positive factor only (no centring), so that a count stays a count
up to that factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special, stats

from ..kernels.sampling import draw_marginals

#: Smallest scale / rate the links produce (keeps log and division finite).
EPS = 1e-6


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)``, computed without overflow."""
    return np.logaddexp(0.0, x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _split(raw: np.ndarray, n_params: int) -> list[np.ndarray]:
    """Raw outputs ``(..., k * P)`` -> P arrays ``(..., k)``."""
    r = raw.reshape(raw.shape[:-1] + (-1, n_params))
    return [r[..., p] for p in range(n_params)]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """Inverse of :func:`_split` for gradients."""
    g = np.stack(parts, axis=-1)
    return g.reshape(g.shape[:-2] + (-1,))


def _present(mask, y):
    m = np.ones(y.shape, dtype=np.float64) if mask is None else mask.astype(np.float64)
    m = np.where(np.isnan(y), 0.0, m)
    return m, max(float(m.sum()), 1.0)


# ----------------------------------------------------------------- families
def _normal_nll(raw, y):
    mu, s_raw = raw
    sigma = softplus(s_raw) + EPS
    z = (y - mu) / sigma
    value = 0.5 * np.log(2 * np.pi) + np.log(sigma) + 0.5 * z * z
    d_mu = -z / sigma
    d_sigma = 1.0 / sigma - z * z / sigma
    return value, [d_mu, d_sigma * _sigmoid(s_raw)]


def _normal_params(raw):
    mu, s_raw = raw
    return {"loc": mu, "scale": softplus(s_raw) + EPS}


def _student_nll(raw, y):
    mu, s_raw, n_raw = raw
    sigma = softplus(s_raw) + EPS
    nu = 2.0 + EPS + softplus(n_raw)
    z = (y - mu) / sigma
    u = 1.0 + z * z / nu
    value = (
        special.gammaln(nu / 2)
        - special.gammaln((nu + 1) / 2)
        + 0.5 * np.log(nu * np.pi)
        + np.log(sigma)
        + 0.5 * (nu + 1) * np.log(u)
    )
    d_mu = -(nu + 1) * z / (nu * sigma * u)
    d_sigma = 1.0 / sigma - (nu + 1) * z * z / (nu * sigma * u)
    d_nu = (
        0.5 * special.digamma(nu / 2)
        - 0.5 * special.digamma((nu + 1) / 2)
        + 0.5 / nu
        + 0.5 * np.log(u)
        - 0.5 * (nu + 1) * z * z / (nu * nu * u)
    )
    return value, [d_mu, d_sigma * _sigmoid(s_raw), d_nu * _sigmoid(n_raw)]


def _student_params(raw):
    mu, s_raw, n_raw = raw
    return {"loc": mu, "scale": softplus(s_raw) + EPS, "df": 2.0 + EPS + softplus(n_raw)}


def _poisson_nll(raw, y):
    (r_raw,) = raw
    lam = softplus(r_raw) + EPS
    value = lam - y * np.log(lam) + special.gammaln(y + 1.0)
    return value, [(1.0 - y / lam) * _sigmoid(r_raw)]


def _poisson_params(raw):
    (r_raw,) = raw
    return {"rate": softplus(r_raw) + EPS}


def _negbin_nll(raw, y):
    m_raw, a_raw = raw
    mu = softplus(m_raw) + EPS
    alpha = softplus(a_raw) + EPS  # variance = mu + alpha * mu^2
    r = 1.0 / alpha
    loglik = (
        special.gammaln(y + r)
        - special.gammaln(r)
        - special.gammaln(y + 1.0)
        + r * np.log(r / (r + mu))
        + y * np.log(mu / (r + mu))
    )
    d_mu = -(y / mu - (r + y) / (r + mu))
    d_r = -(
        special.digamma(y + r)
        - special.digamma(r)
        + np.log(r / (r + mu))
        + (mu - y) / (r + mu)
    )
    d_alpha = d_r * (-r * r)
    return -loglik, [d_mu * _sigmoid(m_raw), d_alpha * _sigmoid(a_raw)]


def _negbin_params(raw):
    m_raw, a_raw = raw
    return {"mean": softplus(m_raw) + EPS, "dispersion": softplus(a_raw) + EPS}


def _negbin_scipy(p):
    r = 1.0 / p["dispersion"]
    return stats.nbinom(r, r / (r + p["mean"]))


@dataclass(frozen=True)
class Distribution:
    """One likelihood family: parameters, loss and what a forecast needs of it.

    Attributes
    ----------
    name : str
    n_params : int
        Raw outputs per target.
    counts : bool
        Defined on non-negative integers (scale the data, do not centre it).
    """

    name: str
    n_params: int
    counts: bool
    _nll: Callable
    _params: Callable
    _scipy: Callable
    _mean: Callable

    def params(self, raw: np.ndarray) -> dict:
        """The linked parameters, each ``(..., n_targets)``."""
        return self._params(_split(np.asarray(raw, np.float64), self.n_params))

    def loss(self, raw: np.ndarray, y: np.ndarray, mask=None):
        """Mean negative log-likelihood over present targets and its gradient.

        Parameters
        ----------
        raw : ndarray (..., n_targets * n_params)
        y : ndarray (..., n_targets)
            NaN or ``mask == 0`` entries cost nothing and send no gradient.
        mask : ndarray (..., n_targets), optional

        Returns
        -------
        value : float
        grad : ndarray like ``raw``
        """
        m, n = _present(mask, y)
        y0 = np.where(m > 0, y, 0.0 if not self.counts else 0.0)
        value, grads = self._nll(_split(raw.astype(np.float64), self.n_params), y0)
        total = float((value * m).sum()) / n
        grad = _join([g * m / n for g in grads])
        return total, grad.astype(raw.dtype)

    def mean(self, raw: np.ndarray) -> np.ndarray:
        """The distribution's mean, ``(..., n_targets)``."""
        return self._mean(self.params(raw))

    def quantile(self, raw: np.ndarray, q: float) -> np.ndarray:
        """The ``q``-quantile, ``(..., n_targets)``."""
        return np.asarray(self._scipy(self.params(raw)).ppf(q), dtype=np.float64)

    def sample(
        self, raw: np.ndarray, rng: np.random.Generator, temperature: float = 1.0
    ) -> np.ndarray:
        """One draw per entry, its spread around the mean scaled by ``temperature``.

        ``temperature=0`` returns the mean (the greedy path); 1 draws from the
        fitted distribution; counts are drawn, then pulled towards the mean by
        ``temperature`` (no longer integers unless it is 0 or 1).
        """
        centre = self.mean(raw)
        if temperature == 0:
            return centre
        u = rng.random(centre.shape)
        draw = np.asarray(self._scipy(self.params(raw)).ppf(u), dtype=np.float64)
        return centre + temperature * (draw - centre)


DISTRIBUTIONS: dict[str, Distribution] = {
    "normal": Distribution(
        "normal",
        2,
        False,
        _normal_nll,
        _normal_params,
        lambda p: stats.norm(p["loc"], p["scale"]),
        lambda p: p["loc"],
    ),
    "student_t": Distribution(
        "student_t",
        3,
        False,
        _student_nll,
        _student_params,
        lambda p: stats.t(p["df"], p["loc"], p["scale"]),
        lambda p: p["loc"],
    ),
    "poisson": Distribution(
        "poisson",
        1,
        True,
        _poisson_nll,
        _poisson_params,
        lambda p: stats.poisson(p["rate"]),
        lambda p: p["rate"],
    ),
    "negative_binomial": Distribution(
        "negative_binomial",
        2,
        True,
        _negbin_nll,
        _negbin_params,
        _negbin_scipy,
        lambda p: p["mean"],
    ),
}


#: Family codes of the compiled samplers (:mod:`tsrnn.kernels.sampling`).
FAMILY_CODES = {"normal": 0, "student_t": 1, "poisson": 2, "negative_binomial": 3}


def draw_paths(name, raw, n_paths, temperature, seed) -> np.ndarray:
    """Independent draws of every entry of ``raw`` ``(B, M * n_params)``.

    Compiled (:func:`~tsrnn.kernels.sampling.draw_marginals`), seeded by
    ``seed`` (bit-reproducible); ``temperature`` scales each draw's spread
    around its mean (0: the mean). Returns ``(B, n_paths, M)``.
    """
    dist = get_distribution(name)
    raw = np.ascontiguousarray(raw, dtype=np.float64)
    B, M = raw.shape[0], raw.shape[1] // dist.n_params
    draws = np.empty((B, int(n_paths), M))
    draw_marginals(FAMILY_CODES[name], dist.n_params, raw, int(n_paths),
                   float(temperature), int(seed), draws)
    return draws


def get_distribution(name: str) -> Distribution:
    """The likelihood family called ``name``."""
    try:
        return DISTRIBUTIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown distribution {name!r}; choose one of {sorted(DISTRIBUTIONS)}"
        ) from None
