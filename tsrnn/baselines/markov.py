"""The memoryless baseline: a Markov chain (N-gram) over quantised values.

:class:`MarkovChainForecaster` is the model a recurrent network has to beat to
show that its memory is worth anything: each series is quantised into
``n_bins`` bins (the quantiles of its training values), and the next bin is
predicted from the last ``order`` bins by transition counts with add-``alpha``
smoothing, backing off to shorter contexts where a context was seen too
rarely. Forecasts are exact, not simulated: the distribution over contexts is
propagated step by step (``n_bins ** order`` states), so every forecast step
has a full predictive distribution over bins, from which come the point
forecast (its mean or median), the intervals (its quantiles) and the sample
paths (draws, with a temperature).

The model follows the protocol of the other baselines (:mod:`tsrnn.baselines`):
``fit(y)``, ``predict(horizon)``, ``update(y_new)`` (new transitions are counted,
at a cost proportional to the new rows; the bin edges stay those of ``fit``),
``predict_interval``, ``score``; plus :meth:`~MarkovChainForecaster.predict_proba`
and :meth:`~MarkovChainForecaster.sample`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._constraints import Interval, StrOptions
from .classic import _COMMON_CONSTRAINTS, _BaseForecaster, _series_label
from ..data import SeriesSet, check_horizon
from ..evaluation.conformal import check_levels

__all__ = ["MarkovChainForecaster"]

#: Transition-count entries (series x contexts x bins) a model may hold: 8 bytes
#: each, so 400 MB at most. ``fit`` refuses more, naming the parameters to lower.
MAX_COUNT_ENTRIES = 50_000_000


class MarkovChainForecaster(_BaseForecaster):
    """Order-``n`` Markov chain over quantile bins, with back-off and exact forecasts.

    Parameters
    ----------
    order : int, default=2
        Number of past bins the next bin depends on (the N-gram's ``N - 1``);
        0 is the memoryless marginal distribution.
    n_bins : int, default=10
        Bins per series, cut at the quantiles of its training values (tied
        quantiles, e.g. on count data, leave some bins empty; they keep only
        the smoothing mass).
    alpha : float, default=0.1
        Add-alpha (Lidstone) smoothing of every transition row.
    min_count : int, default=2
        A context seen fewer times than this backs off to the context one
        bin shorter (down to the marginal distribution).
    point : {"mean", "median"}, default="mean"
        Point forecast taken from each step's predictive distribution.
    horizon : int, default=1
        Steps ahead forecast by ``predict`` when its ``horizon`` is None.
    freq : str, pandas DateOffset or int, optional
        Step between rows when it cannot be inferred from the time index.
    id_col, time_col : str, default="unique_id", "ds"
        Long-format id and time columns.
    target_col : str, default="y"
        Long-format target column (one target).

    Attributes
    ----------
    schema_ : SeriesSchema
    bin_edges_ : ndarray of shape (n_series, n_bins + 1)
        Bin ``b`` of series ``s`` is ``[bin_edges_[s, b], bin_edges_[s, b + 1]]``;
        the outer edges are the training minimum and maximum (values outside
        fall into the outer bins).
    bin_values_ : ndarray of shape (n_series, n_bins)
        Mean training value of each bin (its midpoint when empty): what a bin
        stands for in the mean forecast.
    counts_ : list of ndarray
        ``counts_[j]`` of shape ``(n_series, n_bins ** j, n_bins)``: how often
        each bin followed each context of ``j`` bins (the most recent bin is the
        lowest base-``n_bins`` digit of the context index).
    last_bins_ : ndarray of shape (n_series, order)
        The last ``order`` bins seen (most recent first; -1 where missing).

    Notes
    -----
    Missing values break the chain: no transition is counted across them,
    and a missing value among the last ``order`` is replaced by the marginal
    distribution when forecasting. Covariates are accepted and ignored. The
    intervals of :meth:`predict_interval` are the predictive distribution's
    quantiles (values spread uniformly inside a bin), not conformal ones.

    The bins are cut at ``fit`` and kept by ``update``: a series that drifts
    past its training range (a trend, a price) is forecast inside that range,
    by the mean of its outer bin. Model the changes of such a series (its
    differences or returns), not its level (``benchmarks/RESULTS.md``,
    "Markov chain anchor").

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import MarkovChainForecaster
    >>> y = np.tile([0.0, 1.0, 2.0, 3.0], 25)
    >>> model = MarkovChainForecaster(order=1, n_bins=4).fit(y)
    >>> np.round(model.predict(4), 1)
    array([0. , 1. , 2. , 2.9])
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "target_col": [str],
        "order": [Interval(Integral, 0, 8, closed="both")],
        "n_bins": [Interval(Integral, 2, 1024, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "point": [StrOptions({"mean", "median"})],
    }
    _uses_covariates = False

    # Declared mirror (with the other baselines): scikit-learn reads the
    # parameters from each class's own __init__.
    def __init__(
        self,
        order: int = 2,
        n_bins: int = 10,
        alpha: float = 0.1,
        min_count: int = 2,
        point: str = "mean",
        horizon: int = 1,
        *,
        freq: Any = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
    ) -> None:
        self.order = order
        self.n_bins = n_bins
        self.alpha = alpha
        self.min_count = min_count
        self.point = point
        self.horizon = horizon
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # ------------------------------------------------------------------ fit
    def fit(self, y: Any, X: Any = None) -> MarkovChainForecaster:
        """Quantise each series and count its transitions.

        Parameters
        ----------
        y : array-like, pandas Series/DataFrame or long-format DataFrame
            One target per series.
        X : optional
            Ignored (validated for alignment).

        Returns
        -------
        self
        """
        data = self._fit_data(y, X)
        if data.y.shape[1] != 1:
            raise ValueError(
                f"MarkovChainForecaster models one target per series, got "
                f"{data.y.shape[1]}; fit one model per target column"
            )
        k, n = self.n_bins, self.order
        entries = data.n_series * k ** (n + 1)
        if entries > MAX_COUNT_ENTRIES:
            raise ValueError(
                f"order={n} and n_bins={k} need {entries:.3g} transition counts "
                f"for {data.n_series} series (at most {MAX_COUNT_ENTRIES:.0e}); "
                "lower order or n_bins"
            )
        edges = np.empty((data.n_series, k + 1))
        values = np.empty((data.n_series, k))
        for s in range(data.n_series):
            ys = data.series_y(s)[:, 0]
            ys = ys[~np.isnan(ys)]
            if len(ys) < n + 2:
                raise ValueError(
                    f"{_series_label(data, s)} has {len(ys)} observed values; "
                    f"a chain of order {n} needs at least {n + 2} (lower order)"
                )
            edges[s] = np.quantile(ys, np.linspace(0.0, 1.0, k + 1))
            b = _bin_of(ys, edges[s])
            sums = np.bincount(b, weights=ys, minlength=k)
            seen = np.bincount(b, minlength=k)
            mid = 0.5 * (edges[s, :-1] + edges[s, 1:])
            values[s] = np.where(seen > 0, sums / np.maximum(seen, 1), mid)
        self.schema_ = data.schema
        self.bin_edges_ = edges
        self.bin_values_ = values
        self.counts_ = [
            np.zeros((data.n_series, k**j, k)) for j in range(n + 1)
        ]
        self.last_bins_ = np.full((data.n_series, n), -1, np.int64)
        self._count(data)
        return self

    def _symbols(self, block: SeriesSet) -> np.ndarray:
        """Bin of every row of ``block`` (-1 where missing), with its series' edges."""
        out = np.full(len(block.y), -1, np.int64)
        for i, s in enumerate(block.positions):
            lo, hi = block.indptr[i], block.indptr[i + 1]
            ys = block.y[lo:hi, 0]
            ok = ~np.isnan(ys)
            out[lo:hi][ok] = _bin_of(ys[ok], self.bin_edges_[s])
        return out

    def _count(self, block: SeriesSet) -> None:
        """Add the transitions of ``block`` (continuing ``last_bins_``) to the counts."""
        k, n = self.n_bins, self.order
        sym = self._symbols(block)
        for i, s in enumerate(block.positions):
            new = sym[block.indptr[i] : block.indptr[i + 1]]
            # the stored context, oldest first, then the new rows
            ext = np.concatenate([self.last_bins_[s, ::-1], new])
            t = np.arange(n, len(ext))  # the new rows' positions in ext
            for j in range(n + 1):
                ok = ext[t] >= 0
                ctx = np.zeros(len(t), np.int64)
                for d in range(1, j + 1):  # d-th most recent bin -> digit d-1
                    prev = ext[t - d]
                    ok &= prev >= 0
                    ctx += prev * k ** (d - 1)
                np.add.at(self.counts_[j][s], (ctx[ok], ext[t][ok]), 1.0)
            if n:
                self.last_bins_[s] = ext[::-1][:n]

    def _update_block(self, block: SeriesSet) -> None:
        counts = [c.copy() for c in self.counts_]
        last = self.last_bins_.copy()
        self.counts_, self.last_bins_ = counts, last  # never mutate a shared fit
        self._count(block)
        self.schema_ = self.schema_.advance(block)

    # ---------------------------------------------------------- distributions
    def _transition_rows(self, positions: np.ndarray) -> np.ndarray:
        """Smoothed next-bin probabilities per full context, with back-off.

        Returns an array ``(len(positions), n_bins ** order, n_bins)``.
        """
        k, n, a = self.n_bins, self.order, self.alpha
        ctx = np.arange(k**n)
        rows = None
        for j in range(n + 1):  # shortest first: longer contexts override
            c = self.counts_[j][positions][:, ctx % k**j, :]  # (S, k^n, k)
            total = c.sum(axis=2, keepdims=True)
            p = (c + a) / (total + a * k)
            if rows is None:
                rows = p
            else:
                rows = np.where(total >= self.min_count, p, rows)
        return rows

    def _initial_state(self, positions: np.ndarray, T: np.ndarray) -> np.ndarray:
        """Distribution over the current context ``(S, n_bins ** order)``."""
        k, n = self.n_bins, self.order
        S = len(positions)
        if n == 0:
            return np.ones((S, 1))
        marginal = self._marginal(positions)
        pi = np.ones((S, 1))
        for d in range(n, 0, -1):  # oldest bin first: it is the highest digit
            sym = self.last_bins_[positions, d - 1]
            onehot = np.zeros((S, k))
            known = sym >= 0
            onehot[known, sym[known]] = 1.0
            part = np.where(known[:, None], onehot, marginal)
            pi = (pi[:, :, None] * part[:, None, :]).reshape(S, -1)
        return pi

    def _marginal(self, positions: np.ndarray) -> np.ndarray:
        c = self.counts_[0][positions][:, 0, :]
        return (c + self.alpha) / (c.sum(axis=1, keepdims=True) + self.alpha * self.n_bins)

    def predict_proba(self, horizon: int | None = None) -> np.ndarray:
        """Predictive distribution over bins for each forecast step.

        Parameters
        ----------
        horizon : int, optional
            Default: the ``horizon`` parameter.

        Returns
        -------
        ndarray of shape (n_series, horizon, n_bins)
            Probabilities (rows sum to 1), series in the order of ``fit``;
            bin ``b`` is ``bin_edges_[:, b:b + 2]``.
        """
        check_is_fitted(self)
        h = check_horizon(horizon, self.horizon)
        return self._step_probabilities(np.arange(self.schema_.n_series), h)

    def _step_probabilities(self, positions: np.ndarray, h: int) -> np.ndarray:
        k, n = self.n_bins, self.order
        T = self._transition_rows(positions)
        pi = self._initial_state(positions, T)
        S = len(positions)
        out = np.empty((S, h, k))
        for step in range(h):
            joint = pi[:, :, None] * T  # (S, k^n, k)
            out[:, step] = joint.sum(axis=1)
            if n:
                # drop the oldest bin (highest digit), append the new one
                pi = joint.reshape(S, k, k ** (n - 1) * k).sum(axis=1)
        return out / out.sum(axis=2, keepdims=True)

    def _quantiles(self, positions: np.ndarray, probs: np.ndarray, q: float):
        """The ``q``-quantile per (series, step), uniform within each bin."""
        edges = self.bin_edges_[positions][:, None, :]  # (S, 1, k+1)
        cdf = np.cumsum(probs, axis=2)
        b = np.minimum((cdf < q).sum(axis=2), self.n_bins - 1)  # first bin reaching q
        below = np.take_along_axis(cdf, b[..., None] - 1, axis=2)[..., 0]
        below = np.where(b > 0, below, 0.0)
        p = np.take_along_axis(probs, b[..., None], axis=2)[..., 0]
        lo = np.take_along_axis(edges, b[..., None], axis=2)[..., 0]
        hi = np.take_along_axis(edges, b[..., None] + 1, axis=2)[..., 0]
        frac = np.clip((q - below) / np.maximum(p, 1e-300), 0.0, 1.0)
        return lo + frac * (hi - lo)

    def _predict_values(self, fut) -> np.ndarray:
        pos, h = fut.positions, fut.horizon
        probs = self._step_probabilities(pos, h)
        if self.point == "median":
            values = self._quantiles(pos, probs, 0.5)
        else:
            values = np.einsum("shk,sk->sh", probs, self.bin_values_[pos])
        return values[:, :, None]

    _interval_methods = ("distribution",)

    def _bounds(self, positions, values, coverage, method, fut):
        """The chain's central interval ``(P, h, 1)`` at ``coverage`` (backtests too)."""
        self._check_interval_method(method)
        probs = self._step_probabilities(positions, fut.horizon)
        tail = (1.0 - coverage) / 2
        lower = self._quantiles(positions, probs, tail)[:, :, None]
        return lower, self._quantiles(positions, probs, 1.0 - tail)[:, :, None]

    # Declared mirror: the signature and Parameters of
    # ForecasterMixin.predict_interval (one interval API); the body differs.
    def predict_interval(
        self,
        horizon: int | None = None,
        X: Any = None,
        coverage: float | None = None,
        *,
        level: Any = None,
        method: str = "auto",
    ) -> Any:
        """Central intervals of the predictive distribution, at one or several levels.

        Parameters
        ----------
        horizon : int, optional
            Default: the ``horizon`` parameter.
        X : optional
            Ignored.
        coverage : float, optional
            One nominal coverage (0.9 or 90); ``level`` is the same.
        level : float or list of float, optional
            Percentages, e.g. ``[80, 95]``. Default: 90.
        method : {"auto", "distribution"}, default="auto"
            The chain's own predictive quantiles (its only method).

        Returns
        -------
        tuple of ndarray or pandas.DataFrame
            As :meth:`tsrnn.baselines.NaiveForecaster.predict_interval`.
        """
        check_is_fitted(self)
        coverages, several = check_levels(level, coverage)
        self._check_interval_method(method)
        fut = self._future(check_horizon(horizon, self.horizon), X)
        lowers, uppers = [], []
        for c in coverages:
            lo, hi = self._bounds(fut.positions, None, c, method, fut)
            lowers.append(lo)
            uppers.append(hi)
        if not several:
            return self.schema_.format_interval(
                lowers[0], uppers[0], coverages[0], fut.positions
            )
        return self.schema_.format_interval(lowers, uppers, coverages, fut.positions)

    def sample(
        self,
        n_paths: int,
        horizon: int | None = None,
        temperature: float = 1.0,
        random_state: Any = None,
    ) -> np.ndarray:
        """Draw sample paths by running the chain forward.

        Each step draws a bin from the smoothed transition row of the path's
        own context (the draw is fed back), then a value uniformly inside the
        bin.

        Parameters
        ----------
        n_paths : int
            Paths per series.
        horizon : int, optional
            Default: the ``horizon`` parameter.
        temperature : float, default=1.0
            Probabilities are raised to ``1 / temperature`` and renormalised:
            below 1 sharper, above 1 flatter; 0 takes the most likely bin at
            every step (the greedy path, at the bin's mean value).
        random_state : int, Generator or None

        Returns
        -------
        ndarray of shape (n_series, n_paths, horizon)
        """
        check_is_fitted(self)
        if not isinstance(n_paths, Integral) or isinstance(n_paths, bool) or n_paths < 1:
            raise ValueError(f"n_paths must be a positive int, got {n_paths!r}")
        if not isinstance(temperature, Real) or not temperature >= 0:
            raise ValueError(
                f"temperature must be a number >= 0 (0: greedy), got {temperature!r}"
            )
        h = check_horizon(horizon, self.horizon)
        rng = check_random_state(random_state)
        k, n = self.n_bins, self.order
        S = self.schema_.n_series
        pos = np.arange(S)
        T = self._transition_rows(pos)  # (S, k^n, k)
        if temperature == 0:
            greedy = T.argmax(axis=2)
        else:
            T = T ** (1.0 / temperature)
            T /= T.sum(axis=2, keepdims=True)
            cum = np.cumsum(T, axis=2)
        # starting contexts: a draw where a recent bin is missing
        pi = self._initial_state(pos, T)
        ctx = np.empty((S, n_paths), np.int64)
        for s in range(S):
            ctx[s] = rng.choice(len(pi[s]), size=n_paths, p=pi[s] / pi[s].sum())
        edges, values = self.bin_edges_, self.bin_values_
        out = np.empty((S, n_paths, h))
        srow = np.arange(S)[:, None]
        for step in range(h):
            if temperature == 0:
                b = greedy[srow, ctx]
                out[:, :, step] = values[srow, b]
            else:
                u = rng.random((S, n_paths, 1))
                b = np.minimum((cum[srow, ctx] < u).sum(axis=2), k - 1)
                lo, hi = edges[srow, b], edges[srow, b + 1]
                out[:, :, step] = lo + rng.random((S, n_paths)) * (hi - lo)
            if n:
                ctx = (ctx % k ** (n - 1)) * k + b
        return out


def _bin_of(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value: inner edges split, outer values join the outer bins."""
    return np.searchsorted(edges[1:-1], values, side="right").astype(np.int64)
