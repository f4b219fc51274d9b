"""What :class:`RNNForecaster` gives beyond a point: quantiles, intervals, paths.

:class:`ForecastsDistributions` is a mixin with no state of its own. It reads
the raw head outputs at each series' end (``_origin_outputs``) and turns them,
through the output head (:mod:`.likelihood`), into

* quantiles per forecast step (:meth:`predict_quantiles`), exact through the
  forecaster's transforms for the direct strategy (and for the recursive
  strategy's first step);
* intervals (``predict_interval(method="distribution" | "quantile" |
  "samples" | "conformal")``; :attr:`_interval_methods` lists what the fitted
  head can give, the first is ``"auto"``);
* sample paths (:meth:`sample`, see its Notes for what a path is under each
  strategy).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ...data import check_horizon
from ...evaluation import IntervalFallbackWarning
from .. import fitted_config
from .likelihood import QUANTILE, output_head
from .sampling import sample_paths
from .strategies import strategy_name, strategy_of

#: Paths drawn for ``predict_interval(method="samples")``.
INTERVAL_PATHS = 1000


class ForecastsDistributions:
    """Quantiles, intervals and sample paths of a likelihood or quantile head."""

    @property
    def _interval_methods(self) -> tuple[str, ...]:
        """What ``predict_interval(method=...)`` can give; ``"auto"`` is the first.

        Direct strategy: the head's own quantiles (``"distribution"`` for a
        likelihood, ``"quantile"`` for a quantile head), then sample paths,
        then conformal bands. Recursive strategy: the multi-step quantiles
        come from sample paths (the steps' changes are summed, the draws fed
        back), so ``"samples"`` first.
        """
        head = output_head(self)
        if head.kind == "point":
            return ("conformal",)
        if strategy_name(self) != "direct":
            return ("samples", "conformal")
        own = "quantile" if head.kind == QUANTILE else "distribution"
        return (own, "samples", "conformal")

    def _bounds(self, positions, values, coverage, method, fut):
        """Bounds ``(lower, upper)`` ``(P, h, k)`` at ``coverage`` by ``method``.

        ``"auto"``: the first of :attr:`_interval_methods`; a quantile head
        asked for a level outside its quantiles falls back to conformal bands
        with an :class:`IntervalFallbackWarning`.
        """
        method = self._check_interval_method(method)
        if method == "conformal" or fut is None:
            return self._interval_bounds(positions, values, coverage)
        tail = (1.0 - coverage) / 2.0
        qs = np.array([tail, 1.0 - tail])
        if method == "samples":
            paths = self._sample_scaled(fut, INTERVAL_PATHS, 1.0, self._seed(7))
            q = np.quantile(paths, qs, axis=1)  # (2, P, h, k)
            return q[0], q[1]
        head = output_head(self)
        if not head.covers(qs):
            warnings.warn(
                f"{type(self).__name__}: the quantile head was trained on levels "
                f"{list(head.levels)}, which do not hold a {100 * coverage:g}% "
                "central interval; falling back to conformal bands. Refit with "
                "quantiles that include "
                f"{tail:g} and {1 - tail:g}",
                IntervalFallbackWarning,
                stacklevel=3,
            )
            return self._interval_bounds(positions, values, coverage)
        q = self._quantiles_scaled(fut, qs)
        return q[..., 0], q[..., 1]

    def _quantiles_scaled(self, fut, qs):
        """Quantiles ``(P, h, k, len(qs))`` in the data's units (one-step exact)."""
        pos, _, base, out0 = self._origin_outputs(fut)
        lay = self._layout
        h, k = fut.horizon, lay.n_targets
        if strategy_name(self) != "direct" and h > 1:
            raise ValueError(
                "a recursive model's quantiles beyond one step come from sample "
                "paths: use predict_interval(method='samples') or sample(), or "
                "strategy='direct'"
            )
        raw = out0.reshape(len(pos), lay.horizon_out, k * lay.n_params)[:, :h]
        q = output_head(self).quantiles(raw, qs)  # (P, h, k, nq), scaled
        if lay.relative:  # both strategies: step 1 (or every direct step) + origin
            q = q + base[:, None, :, None]
        return self._to_data_units(q, pos)

    def predict_quantiles(self, quantiles, horizon=None, X=None):
        """Quantiles of the forecast distribution at every step.

        Parameters
        ----------
        quantiles : float or sequence of float
            Levels in (0, 1). A likelihood head gives its distribution's
            quantiles; a quantile head its levels, sorted (so they never
            cross), interpolated linearly between them (outside them it
            refuses).
        horizon : int, optional
            Steps ahead (default: ``horizon``). The recursive strategy gives
            one step here (beyond it, use :meth:`sample`).
        X : optional
            Future covariates, as for :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_series, horizon, n_targets, n_quantiles)
            In the data's units: every transform of the forecaster (scaling,
            deseasonalising, the origin's level) is increasing, so each
            quantile maps exactly.
        """
        check_is_fitted(self)
        fitted_config.check_unchanged(self, "predict_quantiles")
        qs = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
        if qs.ndim != 1 or not np.all((qs > 0) & (qs < 1)):
            raise ValueError(
                f"quantiles must be levels strictly between 0 and 1, got "
                f"{quantiles!r}; e.g. quantiles=[0.05, 0.5, 0.95]"
            )
        model = self._snapshot()
        if output_head(model).kind == "point":
            raise ValueError(
                f"loss={model.loss_!r} gives point forecasts only; fit with "
                "loss='normal', 'student_t', 'poisson', 'negative_binomial' or "
                "'quantile' for quantiles (or use predict_interval, conformal)"
            )
        h = check_horizon(horizon, model.horizon)
        fut = model._future(h, X)
        return model._quantiles_scaled(fut, qs)

    def sample(
        self,
        n_paths=100,
        horizon=None,
        X=None,
        temperature=1.0,
        random_state=None,
        *,
        as_frame=False,
    ):
        """Sample paths of the next ``horizon`` steps (likelihood or quantile head).

        Parameters
        ----------
        n_paths : int, default=100
            Paths per series.
        horizon : int, optional
            Steps ahead (default: ``horizon``; any number for the recursive
            strategy, at most ``horizon`` for the direct one).
        X : optional
            Future covariates, as for :meth:`predict`.
        temperature : float, default=1.0
            Scales each draw's spread around the step's mean: 1 draws from the
            fitted distribution, 0 gives the greedy path (every step its mean,
            fed back: the point forecast of the recursive strategy), values
            above 1 widen the scenarios. Count draws are pulled towards the
            mean (integers only at 0 and 1).
        random_state : int, Generator, RandomState or None
            ``random_state=k`` gives the same paths, bit for bit, on every call
            and machine of the same build.
        as_frame : bool, default=False
            Return a long DataFrame instead of an array (see Returns).

        Returns
        -------
        ndarray or pandas.DataFrame
            An array ``(n_series, n_paths, horizon, n_targets)`` in the data's
            units. With ``as_frame``: a long frame with the id column (long
            input), the time column (the future timestamps or step numbers),
            ``sample`` (the path number) and one column per target.

        Notes
        -----
        **Recursive strategy** (``strategy="recursive"``): ancestral sampling
        of the one-step model. From the state carried by ``fit``/``update``,
        each step's value is drawn from the head's distribution, fed back as
        the next input (the change, with ``differencing``), and the network
        advanced on it: a path has the temporal dependence the model learned
        (a shock persists). One compiled loop runs every step of every path.

        **Quantile heads** are drawn from by inverting their sorted quantiles
        at a uniform level: linear between the levels, the outer segments'
        lines beyond them (a tail as wide as the head's spread near it); the
        greedy path (``temperature=0``) follows the median (level 0.5).

        **Direct strategy**: the head gives each step's marginal distribution
        from the state at the origin, not how the steps depend on each other.
        Its paths draw every step independently from its marginal: each
        step's spread (and so quantiles, coverage, CRPS per step) is right,
        but sums or maxima over the horizon are not (too narrow for a
        persistent series). For scenarios whose path matters, fit
        ``strategy="recursive"``.
        """
        check_is_fitted(self)
        fitted_config.check_unchanged(self, "sample")
        if (
            not isinstance(n_paths, numbers.Integral)
            or isinstance(n_paths, bool)
            or n_paths < 1
        ):
            raise ValueError(f"n_paths must be a positive int, got {n_paths!r}")
        if (
            not isinstance(temperature, numbers.Real)
            or isinstance(temperature, bool)
            or not temperature >= 0
            or not np.isfinite(temperature)
        ):
            raise ValueError(
                f"temperature must be a finite number >= 0, got {temperature!r} "
                "(1 draws from the fitted distribution, 0 the greedy path)"
            )
        model = self._snapshot()
        head = output_head(model)
        if head.kind == "point":
            raise ValueError(
                f"sample needs a likelihood head (loss='normal', 'student_t', "
                f"'poisson' or 'negative_binomial') or a quantile head "
                f"(loss='quantile'); this model has loss={model.loss_!r}"
            )
        h = check_horizon(horizon, model.horizon)
        fut = model._future(h, X)
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        paths = model._sample_scaled(fut, int(n_paths), float(temperature), seed)
        if not as_frame:
            return paths
        return paths_frame(model.schema_, paths, fut.positions)

    def _sample_scaled(self, fut, n_paths, temperature, seed):
        """Paths ``(P, n_paths, h, k)`` in the data's units."""
        pos, rows, base, out0 = self._origin_outputs(fut)
        strategy = strategy_of(self)
        draws = sample_paths(self, out0, rows, pos, fut.horizon, n_paths,
                             temperature, seed)  # (P, n, h, k) scaled
        P, n, h, k = draws.shape
        flat = draws.reshape(P * n, h, k)
        if self._layout.relative:
            flat = strategy.to_levels(flat, np.repeat(base, n, axis=0))
        v = flat.reshape(P, n, h, k).transpose(0, 2, 3, 1)  # (P, h, k, n)
        return self._to_data_units(v, pos).transpose(0, 3, 1, 2)


def paths_frame(schema, paths, positions) -> pd.DataFrame:
    """Paths ``(P, n, h, k)`` as a long frame: [id,] time, ``sample``, targets.

    The time column holds what :meth:`predict` indexes its forecast by (the
    future timestamps, or step numbers for arrays); rows are ordered by
    series, then path, then step.
    """
    P, n, h, k = paths.shape
    pos = np.asarray(positions)
    if schema.kind in ("array1d", "array2d"):
        time = np.tile(np.arange(1, h + 1), P * n)
    else:
        time = np.tile(np.asarray(schema.future_index(h, pos)).reshape(P, h), (1, n))
        time = time.reshape(-1)
    cols = {}
    if schema.kind == "long":
        cols[schema.id_col] = np.asarray(schema.ids.take(np.repeat(pos, n * h)))
    cols[schema.time_col if schema.kind == "long" else "ds"] = time
    cols["sample"] = np.tile(np.repeat(np.arange(n), h), P)
    names = list(schema.target_names)
    if schema.kind in ("array1d", "series") or names == [None]:
        names = ["y"] if not names or names[0] is None else names
    for j in range(k):
        cols[names[j] if j < len(names) else f"y{j}"] = paths[..., j].reshape(-1)
    return pd.DataFrame(cols)
