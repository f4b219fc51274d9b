"""The network's forecast combined with the statistical references, on the tails.

M4's lesson, from its statistical benchmarks to its winners: a combination of
forecasts is more accurate than the forecasts it combines, and the most
reliable weights are those the recent past supports. With ``references``
the head already reads the forecasts of SES, the damped trend, Theta and
drift; after the selection run of the refit protocol, the held-out tails hold
the network's forecasts and the references' for the same origins, never
trained on. :func:`tail_weights` chooses the convex weights of the network and
each reference (one set per target, pooled over the forecast steps and the
tails' origins) that minimise the absolute error there, on a grid of the
simplex, when their gain over the network alone exceeds one standard error
(else the network alone); :func:`combine_head` writes that combination into
the head, which is linear in its inputs: the network's part (state weights, bias and every
known-future weight) is scaled by its weight, and each reference's weight is
added to its column. The combined model is an ordinary model: ``predict``,
``update``, intervals and model files need nothing new.

Where the network is best on the tails (or not clearly beaten), its weight is
1 and nothing changes; on the short yearly series of M3/Tourism, where
per-series drift and Theta beat a global model trained a few epochs, the
combination moves the forecast towards them (measured in
``docs/defaults.md``).
"""

from __future__ import annotations

import functools

import numpy as np

from ...kernels.combination import grid_abs_errors
from .features import FeatureLayout, gather_ranges

#: Resolution of the simplex grid (weights are multiples of 1 / GRID_STEPS).
GRID_STEPS = 10
#: Most (origin, step) points scored per target (evenly spaced, deterministic).
MAX_POINTS = 20000
#: One set of weights per forecast step (True) or one pooled over the steps.
PER_STEP = False
#: The seasonal naive forecasts the head reads (the last value, a day back, a
#: week back: ``FeatureLayout.seasons``) are candidates too (True), between the
#: network and the statistical references; False (the default): the network
#: and the statistical references only. Measured (``docs/defaults.md``,
#: "Seasonal naive forecasts as candidates"): half-hourly electricity over
#: Christmas 3.043 -> 2.881 (three seeds), the collections a wash (Tourism
#: quarterly -2.6 % and M3 monthly +0.9 % on the official windows, the other
#: way round on the earlier ones).
SEASONAL_CANDIDATES = False


def n_candidates(layout: FeatureLayout) -> int:
    """Candidates of the combination: the network, the seasonal naive forecasts
    the head reads (:data:`SEASONAL_CANDIDATES`), the statistical references."""
    return 1 + n_seasonal(layout) + layout.n_refs


def n_seasonal(layout: FeatureLayout) -> int:
    """How many seasonal naive candidates (0 without :data:`SEASONAL_CANDIDATES`)."""
    return len(layout.seasons) if SEASONAL_CANDIDATES else 0


def season_columns(layout: FeatureLayout) -> np.ndarray:
    """Columns of a step's extras holding each season's value per target ``(S, k)``.

    The extras of a step are the known future, then per season its known
    values and its target values, then the references
    (:attr:`FeatureLayout.ref_offset`).
    """
    k, nk = layout.n_targets, layout.n_known
    q = np.arange(n_seasonal(layout))[:, None]
    return nk + q * (nk + k) + nk + np.arange(k)[None, :]


def simplex_grid(n: int, steps: int = GRID_STEPS) -> np.ndarray:
    """Every weight vector of ``n`` non-negative multiples of ``1/steps`` summing to 1.

    In the lexicographic order of the first ``n - 1`` weights (that of
    ``itertools.product`` filtered to the simplex). Made once per ``(n,
    steps)``: a fresh copy is returned.

    Returns
    -------
    ndarray of shape (n_points, n)
    """
    return _simplex_grid(int(n), int(steps)).copy()


@functools.lru_cache(maxsize=16)
def _simplex_grid(n: int, steps: int) -> np.ndarray:
    pts = list(_compositions(n - 1, steps))
    grid = np.array([(*c, steps - sum(c)) for c in pts], dtype=float) / steps
    grid.flags.writeable = False
    return grid


def _compositions(n_free: int, budget: int):
    """Tuples of ``n_free`` non-negative integers summing to at most ``budget``,
    in lexicographic order (only those: not every tuple of the cube, filtered)."""
    if n_free == 0:
        yield ()
        return
    for first in range(budget + 1):
        for rest in _compositions(n_free - 1, budget - first):
            yield (first, *rest)


def tail_forecasts(layout: FeatureLayout, outputs, series):
    """The network's and the references' forecasts on the held-out tails.

    Returns
    -------
    candidates : ndarray of shape (P, k, n_candidates)
        Per (origin, step) point and target: the network's forecast, then each
        season's seasonal naive forecast (``layout.seasons``' order: lag 1 is
        the last value), then each reference's, in the space the head
        forecasts in (scaled, relative to the origin with differencing).
    target : ndarray of shape (P, k)
    mask : ndarray of shape (P, k)
        1 where the target is observed and every candidate is finite.
    steps : ndarray of shape (P,)
        The forecast step (0-based) of each point.
    origins : ndarray of shape (P,)
        The forecast origin of each point (one number per series and row).

    With ``series.tail_weights`` the candidates and targets of each point
    are multiplied by its series' weight (per target): the absolute errors
    :func:`tail_weights` scores are then the weighted ones.
    """
    k, ho, R = layout.n_targets, layout.horizon_out, layout.n_refs
    S = n_seasonal(layout)
    a, b = series.indptr[:-1], series.indptr[1:]
    te = series.train_end_series
    first, stop = te - 1, np.where(te < b, b, te - 1)  # as reader.tail_targets
    tails = list(
        gather_ranges(
            layout,
            series.Y,
            series.Z,
            series.start,
            series.end,
            first,
            stop,
            Y_target=series.Y,
            refs=series.refs,
        )
    )
    if not tails:
        z, none = np.zeros((0, k)), np.zeros(0, dtype=np.int64)
        return np.zeros((0, k, 1 + S + R)), z, z, none, none
    # every series' tail origins at once: reshapes and elementwise operations,
    # the values of one series at a time (in the series' order)
    n = sum(len(t[1]) for t in tails)
    ex = np.concatenate([t[3] for t in tails]).reshape(n, ho, layout.n_per_step)
    cols = layout.ref_offset + np.arange(R)[:, None] * k + np.arange(k)  # (R, k)
    refs = np.moveaxis(ex[:, :, cols], 2, 3)  # (n, ho, k, R)
    naive = np.moveaxis(ex[:, :, season_columns(layout)], 2, 3)  # (n, ho, k, S)
    out = np.concatenate([outputs[s][rows - a[s]] for s, rows, *_ in tails])
    net = np.asarray(out, dtype=float).reshape(n, ho, k)
    both = np.concatenate([net[..., None], naive, refs], axis=3)
    c = both.reshape(-1, k, 1 + S + R)
    t = np.concatenate([t[4] for t in tails]).reshape(-1, k)
    m = np.concatenate([t[5] for t in tails]).reshape(-1, k).astype(float)
    steps = np.tile(np.arange(ho), n)
    origins = np.repeat(np.arange(n), ho)
    ok = np.isfinite(c).all(axis=2) & np.isfinite(t)
    m = np.where(ok, m, 0.0)
    c, t = np.where(np.isfinite(c), c, 0.0), np.where(np.isfinite(t), t, 0.0)
    if series.tail_weights is not None:
        # each point's series' weight (per target): the combination of
        # weighted candidates is the weighted combination (the weights are
        # positive), so the grid scores the weighted absolute error
        who = np.concatenate([np.full(len(t_[1]), t_[0]) for t_ in tails])
        w = series.tail_weights[np.repeat(who, ho)]  # (P, k)
        c, t = c * w[:, :, None], t * w
    return c, t, m, steps, origins


def tail_weights(
    candidates,
    target,
    mask,
    steps=None,
    n_steps: int = 1,
    grid: int = GRID_STEPS,
    origins=None,
) -> np.ndarray:
    """Convex weights (network first) chosen by their absolute error on the tails.

    Per target (and per forecast step when ``steps`` is given), every point
    of :func:`simplex_grid` is scored by the mean absolute error of its
    combination over the observed points (at most :data:`MAX_POINTS`, evenly
    spaced). The best point replaces the network alone only when its gain
    exceeds one standard error of the differences (the one-standard-error
    rule: keep the simpler model unless the tails show a gain larger than
    their noise); with ``origins``, the standard error is that of the
    per-origin mean differences (the steps of one origin share its errors,
    so they are not independent evidence); ties keep the largest network
    weight.
    Where nothing is observed, the network alone.

    Parameters
    ----------
    candidates, target, mask : from :func:`tail_forecasts`
    steps : ndarray of shape (P,), optional
        Each point's forecast step: one set of weights per step. Default: one
        set pooled over the steps.
    n_steps : int
        Steps of the result (``horizon_out``).
    origins : ndarray of shape (P,), optional
        Each point's forecast origin (clusters for the standard error).

    Returns
    -------
    ndarray of shape (n_steps, k, n_candidates)
    """
    P, k, n = candidates.shape
    g = simplex_grid(n, grid)
    # the network's weight first, largest first: g[0] is the network alone,
    # and ties keep the network
    g = g[np.argsort(-g[:, 0], kind="stable")]
    out = np.zeros((n_steps, k, n))
    out[..., 0] = 1.0
    groups = [(slice(None), np.ones(P, dtype=bool))]
    if steps is not None:
        groups = [(s, steps == s) for s in range(n_steps)]
    for where, sel in groups:
        for j in range(k):
            rows = np.flatnonzero(sel & (mask[:, j] > 0))
            if not len(rows):
                continue
            if len(rows) > MAX_POINTS:
                idx = np.linspace(0, len(rows) - 1, MAX_POINTS).astype(np.int64)
                rows = rows[idx]
            clusters = None if origins is None else origins[rows]
            best = _one_se_choice(candidates[rows, j], target[rows, j], g, clusters)
            out[where, j] = g[best]
    return out


def _one_se_choice(c, t, g, clusters=None) -> int:
    """Index in ``g`` of the one-standard-error choice (0: the network alone)."""
    err = np.empty(len(g))
    grid_abs_errors(
        np.ascontiguousarray(c, dtype=np.float64),
        np.ascontiguousarray(t, dtype=np.float64),
        np.ascontiguousarray(g.T, dtype=np.float64),
        err,
    )
    best = int(np.argmin(err))
    if best == 0 or len(t) < 2:
        return 0
    diff = np.abs(c @ g[best] - t) - np.abs(c @ g[0] - t)  # < 0: the gain
    if clusters is not None:  # one mean difference per origin
        _, inv = np.unique(clusters, return_inverse=True)
        diff = np.bincount(inv, diff) / np.bincount(inv)
        if len(diff) < 2:
            return 0
    se = float(diff.std(ddof=1)) / np.sqrt(len(diff))
    return best if -float(diff.mean()) > se else 0


def combine_head(net, theta: np.ndarray, layout: FeatureLayout, weights) -> None:
    """Write the combination ``weights`` into the head, in place.

    ``weights``: ``(k, n)`` for every step, or ``(horizon_out, k, n)`` one
    set per step, in :func:`tail_forecasts`' order of candidates: ``n =
    1 + len(layout.seasons) + n_refs``, or ``1 + n_refs`` (weights of
    versions without seasonal candidates).

    The head is ``W o + E e + b`` per step and target: scaling ``W``, ``b``
    and ``E`` by the network's weight and adding each candidate's weight to
    its column of ``E`` (a season's value, a reference) gives ``w_0 *
    network + sum_c w_c * candidate_c`` exactly.
    """
    views = net.layout.views(theta)
    W, b, E = views["head.weight"], views["head.bias"], views["head.extra_weight"]
    k, ho, R = layout.n_targets, layout.horizon_out, layout.n_refs
    w = np.asarray(weights, dtype=float)
    S = w.shape[-1] - 1 - R
    if S not in (0, len(layout.seasons)):
        raise ValueError(
            f"combination weights of {w.shape[-1]} candidates do not fit a head "
            f"with {len(layout.seasons)} seasons and {R} references"
        )
    w = np.broadcast_to(w, (ho, k, 1 + S + R))
    k_seasons = season_columns(layout) if S else np.zeros((0, k), dtype=np.int64)
    for s in range(ho):
        for j in range(k):
            row = s * k + j  # step-major outputs
            W[row] *= w[s, j, 0]
            b[row] *= w[s, j, 0]
            E[s, j, :] *= w[s, j, 0]
            for q in range(S):
                E[s, j, k_seasons[q, j]] += w[s, j, 1 + q]
            for r in range(R):
                E[s, j, layout.ref_offset + r * k + j] += w[s, j, 1 + S + r]


def spaced_points(total: int, limit: int | None = None) -> np.ndarray:
    """Positions, among ``total`` observed points, of those :func:`tail_weights`
    scores: every one up to ``limit`` (:data:`MAX_POINTS`), else ``limit``
    evenly spaced."""
    limit = MAX_POINTS if limit is None else int(limit)
    if total <= limit:
        return np.arange(total, dtype=np.int64)
    return np.linspace(0, total - 1, limit).astype(np.int64)


def points_of_pieces(n_observed) -> list:
    """Which observed points each piece sends: ``keep[piece][target]``.

    ``n_observed``: ``(n_pieces, k)`` observed tail points per piece and
    target, the pieces in the order their points are concatenated. The points
    :func:`spaced_points` picks over the whole, split by piece, as positions
    among that piece's observed points of that target.
    """
    n_observed = np.atleast_2d(np.asarray(n_observed, dtype=np.int64))
    n_pieces, k = n_observed.shape
    keep = [[None] * k for _ in range(n_pieces)]
    for j in range(k):
        bounds = np.concatenate([[0], np.cumsum(n_observed[:, j])])
        pos = spaced_points(int(bounds[-1]))
        for i in range(n_pieces):
            a, b = bounds[i], bounds[i + 1]
            keep[i][j] = pos[(pos >= a) & (pos < b)] - a
    return keep


def weights_from_points(points, n_steps: int, grid: int = GRID_STEPS) -> np.ndarray:
    """:func:`tail_weights` (pooled over the steps) from points already chosen.

    ``points``: per target, ``(candidates (P_j, n), target (P_j,), origins
    (P_j,))``, the observed points :func:`spaced_points` picks, in the
    order :func:`tail_weights` reads them. A distributed fit's coordinator
    receives only these (at most :data:`MAX_POINTS` per target) instead of
    every tail point of the collection; the weights are those
    :func:`tail_weights` gives on the whole.

    Returns
    -------
    ndarray of shape (n_steps, k, n)
    """
    k, n = len(points), points[0][0].shape[1]
    g = simplex_grid(n, grid)
    g = g[np.argsort(-g[:, 0], kind="stable")]
    out = np.zeros((n_steps, k, n))
    out[..., 0] = 1.0
    for j, (c, t, origins) in enumerate(points):
        if len(t):
            out[:, j] = g[_one_se_choice(c, t, g, origins)]
    return out
