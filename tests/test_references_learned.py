"""Learned reference coefficients (issue 13 item 3, Smyl's ES-RNN idea).

The sensitivities of the reference filters' forecast lines by their
parameters, and their chain into a gradient by the unconstrained
coefficients, are checked against central finite differences in float64 on
tiny series (the reference nobody here wrote).
"""

from __future__ import annotations

import numpy as np
import pytest

from tsrnn.smoothing import _filters
from tsrnn.smoothing.fitting import initial_state
from tsrnn.smoothing.learned import (
    from_unconstrained,
    params_gradient,
    path_gradient,
    run_references_grad,
    to_unconstrained,
    unconstrained_gradient,
)
from tsrnn.smoothing.references import run_references

H = 4


def _series():
    """Two tiny series, one with a gap (and a missing first row)."""
    rng = np.random.default_rng(3)
    a = 10 + np.cumsum(rng.normal(0.3, 1.0, 9))
    b = 5 + np.cumsum(rng.normal(-0.2, 1.0, 7))
    b[0], b[4] = np.nan, np.nan
    y = np.concatenate([a, b])
    indptr = np.array([0, 9, 16])
    states = np.stack([initial_state(10.0, 0.3), initial_state(5.0, -0.1)])
    return y, indptr, states


def _params(rng, S):
    p = np.empty((S, 4))
    p[:, 0] = rng.uniform(0.05, 0.95, S)
    p[:, 1] = rng.uniform(0.05, 0.95, S)
    p[:, 2] = p[:, 1] * rng.uniform(0.05, 0.95, S)
    p[:, 3] = rng.uniform(0.75, 0.99, S)
    return p


def test_lines_are_those_of_the_filters():
    y, indptr, states = _series()
    params = _params(np.random.default_rng(0), 2)
    lines, sens, after = run_references_grad(y, indptr, params, states)
    ref_lines, ref_after = run_references(y, indptr, params, states)
    assert np.array_equal(lines, ref_lines, equal_nan=True)
    assert np.array_equal(after, ref_after, equal_nan=True)
    assert sens.shape == (len(y), _filters.N_SENS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensitivities_match_finite_differences(seed):
    y, indptr, states = _series()
    params = _params(np.random.default_rng(seed), 2)
    lines, sens, _ = run_references_grad(y, indptr, params, states)
    ses, holt, theta = 0, 1, 2
    # (sensitivity column, reference, line field (a 0, b 1), parameter)
    cases = [
        (0, ses, 0, 0),
        (1, theta, 0, 0),
        (2, holt, 0, 1),
        (3, holt, 0, 2),
        (4, holt, 0, 3),
        (5, holt, 1, 1),
        (6, holt, 1, 2),
        (7, holt, 1, 3),
    ]
    eps = 1e-6
    for col, ref, field, q in cases:
        up, dn = params.copy(), params.copy()
        up[:, q] += eps
        dn[:, q] -= eps
        fd = (
            run_references(y, indptr, up, states)[0][:, ref, field]
            - run_references(y, indptr, dn, states)[0][:, ref, field]
        ) / (2 * eps)
        an = sens[:, col]
        ok = ~np.isnan(lines[:, ref, field])
        assert np.all(np.isfinite(an[ok]))
        scale = np.maximum(1.0, np.abs(fd[ok]))
        assert np.max(np.abs(an[ok] - fd[ok]) / scale) < 1e-6, (col, seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chain_to_unconstrained_matches_finite_differences(seed):
    """A loss of the forecast paths, by the unconstrained coefficients."""
    y, indptr, states = _series()
    rng = np.random.default_rng(10 + seed)
    u = to_unconstrained(_params(rng, 2))
    G = rng.normal(size=(len(y), len(_filters.REFERENCES), H))

    def loss(u):
        lines, _ = run_references(y, indptr, from_unconstrained(u), states)
        paths = _filters.expand_paths(lines, H)
        return float(np.nansum(G * paths))

    lines, sens, _ = run_references_grad(y, indptr, from_unconstrained(u), states)
    g_lines = path_gradient(lines, np.where(np.isnan(lines[..., :1]), 0.0, G))
    g_params = params_gradient(indptr, sens, g_lines)
    an = unconstrained_gradient(u, g_params)
    fd = np.empty_like(u)
    eps = 1e-6
    for idx in np.ndindex(u.shape):
        up, dn = u.copy(), u.copy()
        up[idx] += eps
        dn[idx] -= eps
        fd[idx] = (loss(up) - loss(dn)) / (2 * eps)
    assert np.max(np.abs(an - fd) / np.maximum(1.0, np.abs(fd))) < 1e-6


def test_unconstrained_round_trip():
    p = _params(np.random.default_rng(4), 5)
    assert np.allclose(from_unconstrained(to_unconstrained(p)), p, rtol=1e-12)
    # the classical fit's bounds have finite logits; the ends are moved in
    edge = np.array([[0.01, 0.99, 0.99 * 0.001, 0.8], [0.99, 0.01, 0.01 * 0.99, 0.98]])
    assert np.all(np.isfinite(to_unconstrained(edge)))
    assert np.all(np.isfinite(to_unconstrained(np.array([[0.0, 1.0, 1.0, 1.0]]))))
