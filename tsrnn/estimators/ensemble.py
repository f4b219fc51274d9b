"""``EnsembleForecaster``: several fits of a forecaster, combined by median or mean.

N-BEATS and Smyl's ES-RNN won M4 partly by ensembling: members that differ by
seed (and, in N-BEATS, by lookback and loss) make errors that partly cancel,
and the median is robust to a member that went astray. Here each member is a
clone of one forecaster with its own seed, or with its own configuration
(``members=[{...}, ...]``, parameters set on the clone), fitted in parallel
through :mod:`joblib` (the project's one parallel path, as
:class:`~tsrnn.PerSeriesForecaster`); forecasts are the median (or mean) of
the members' forecasts, step by step. ``update`` streams new observations into
every member. The cost is ``n_members`` fits; ``benchmarks/bench_accuracy.py``
reports it beside the gain. ``RNNForecaster(n_ensemble=k)`` is the seed
ensemble of one forecaster as a parameter: the same seeds (:mod:`.members`),
the median.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from ..data import Future, SeriesSet, check_horizon
from ..evaluation import ForecasterMixin
from ..evaluation.conformal import check_levels
from ..evaluation.walk import has_fast_path
from .forecaster import RNNForecaster
from .members import base_seed, fit_members, member_seed

_COMBINE = {"median": np.median, "mean": np.mean}


class EnsembleForecaster(ForecasterMixin, BaseEstimator):
    """Several fits of one forecaster, combined step by step.

    Parameters
    ----------
    estimator : forecaster, default=None
        The model every member clones; ``None`` means ``RNNForecaster()``.
    n_members : int, default=5
        Members that differ by seed (ignored when ``members`` is given).
    members : list of dict, optional
        One parameter dict per member (set on a clone of ``estimator``), e.g.
        ``[{"cell": "lstm"}, {"cell": "gru"}, {"bptt_length": 16}]``: an
        ensemble over configurations. A member without ``random_state`` gets
        a seed derived from ``random_state``.
    combine : {"median", "mean"}, default="median"
        How the members' forecasts (and interval bounds) are combined.
    n_jobs : int or None, default=None
        Members fitted in parallel through :class:`joblib.Parallel`.
    random_state : int or None, default=None
        Base seed; member ``i`` gets a seed derived from it and ``i``, so the
        ensemble is the same whatever ``n_jobs`` or backend fits it.

    Attributes
    ----------
    estimators_ : list
        The fitted members.
    seeds_ : list of int
        The seed each member was fitted with.
    schema_ : SeriesSchema
        The data format (the first member's).

    Notes
    -----
    Intervals are the combination (median or mean) of the members' own
    intervals, bound by bound: no extra calibration fit, and as wide as a
    typical member's band; a member's calibration is on its own errors, so
    the ensemble's band is conservative where the combination is more
    accurate than its members.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import EnsembleForecaster, LinearARForecaster
    >>> y = np.sin(np.arange(200) / 4)
    >>> ens = EnsembleForecaster(LinearARForecaster(lags=8, horizon=3),
    ...                          members=[{"alpha": 1e-3}, {"alpha": 1.0}])
    >>> ens.fit(y).predict().shape
    (3,)
    """

    _parameter_constraints: dict = {}

    # Declared mirror (form only): the baselines' __init__ shape (scikit-learn's
    # one assignment per parameter); the parameters differ.
    def __init__(
        self,
        estimator: Any = None,
        n_members: int = 5,
        members: list | None = None,
        combine: str = "median",
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_members = n_members
        self.members = members
        self.combine = combine
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _configs(self) -> list[dict]:
        if self.members is not None:
            if not isinstance(self.members, (list, tuple)) or not self.members or not all(
                isinstance(m, dict) for m in self.members
            ):
                raise ValueError(
                    "members must be a non-empty list of parameter dicts, e.g. "
                    f"[{{'cell': 'lstm'}}, {{'cell': 'gru'}}], got {self.members!r}"
                )
            return [dict(m) for m in self.members]
        n = self.n_members
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n_members must be a positive int, got {n!r}")
        return [{} for _ in range(int(n))]

    def fit(self, y: Any, X: Any = None) -> EnsembleForecaster:
        """Fit every member (in parallel with ``n_jobs``).

        Parameters
        ----------
        y : array-like, pandas object or long-format DataFrame
        X : optional
            Covariates, as for the member forecaster.

        Returns
        -------
        self
        """
        if self.combine not in _COMBINE:
            raise ValueError(
                f"combine must be 'median' or 'mean', got {self.combine!r}"
            )
        base = RNNForecaster() if self.estimator is None else self.estimator
        seed = base_seed(self.random_state)
        clones, seeds = [], []
        for i, config in enumerate(self._configs()):
            member = clone(base)
            params = member.get_params(deep=False)
            unknown = sorted(set(config) - set(params))
            if unknown:
                raise ValueError(
                    f"member {i} sets {unknown}, which {type(member).__name__} does "
                    "not have"
                )
            if "random_state" in params and "random_state" not in config:
                config["random_state"] = member_seed(seed, i)
            member.set_params(**config)
            clones.append(member)
            seeds.append(config.get("random_state"))
        self.estimators_ = fit_members(clones, y, X, n_jobs=self.n_jobs)
        self.seeds_ = seeds
        self.schema_ = self.estimators_[0].schema_
        return self

    @property
    def horizon(self) -> int:
        """The members' ``horizon`` (set it on ``estimator``)."""
        if hasattr(self, "estimators_"):
            return getattr(self.estimators_[0], "horizon", 1)
        base = RNNForecaster() if self.estimator is None else self.estimator
        return getattr(base, "horizon", 1)

    # ------------------------------------------------------------- forecasts
    def _combined(self, arrays: list[np.ndarray]) -> np.ndarray:
        return _COMBINE[self.combine](np.stack(arrays), axis=0)

    def _predict_values(self, fut: Future) -> np.ndarray:
        return self._combined([m._predict_values(fut) for m in self.estimators_])

    @property
    def _interval_methods(self) -> tuple[str, ...]:
        """The interval methods every member can give (in the first's order)."""
        if hasattr(self, "estimators_"):
            members = self.estimators_
        else:  # before fit: the members' configurations, unfitted
            base = RNNForecaster() if self.estimator is None else self.estimator
            members = [clone(base).set_params(**c) for c in self._configs()]
        offered = [getattr(m, "_interval_methods", ("conformal",)) for m in members]
        common = tuple(m for m in offered[0] if all(m in o for o in offered[1:]))
        return common or ("conformal",)

    def _bounds(self, positions, values, coverage, method, fut):
        """The members' bounds by ``method``, combined bound by bound."""
        los, his = [], []
        for m in self.estimators_:
            lo, hi = m._bounds(positions, m._predict_values(fut), coverage, method, fut)
            los.append(lo)
            his.append(hi)
        return self._combined(los), self._combined(his)

    def _update_block(self, block: SeriesSet) -> None:
        for m in self.estimators_:
            m._update_block(block)
        self.schema_ = self.estimators_[0].schema_

    def predict(self, horizon: int | None = None, X: Any = None) -> Any:
        """The combined forecast of the members.

        Parameters
        ----------
        horizon : int, optional
        X : optional
            Future covariates, as for the members.

        Returns
        -------
        Forecasts in the format of ``fit``'s ``y``.
        """
        check_is_fitted(self)
        h = check_horizon(horizon, self.horizon)
        if all(has_fast_path(m) for m in self.estimators_):
            fut = self.estimators_[0]._future(h, X)
            return self.schema_.format_forecast(self._predict_values(fut), fut.positions)
        parsed = [
            self.schema_.parse_forecast(m.predict(horizon=h, X=X))
            for m in self.estimators_
        ]
        return self.schema_.format_forecast(
            self._combined([v for _, v in parsed]), parsed[0][0]
        )

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
        """The members' intervals, combined bound by bound (see Notes).

        Parameters
        ----------
        horizon : int, optional
        X : optional
        coverage : float, optional
            One level as a fraction or percentage; ``level`` is the same.
        level : float or list of float, optional
            Percentages, e.g. ``[80, 95]``; default 90.
        method : str, default="auto"
            Passed to the members.

        Returns
        -------
        As the members' ``predict_interval``.
        """
        check_is_fitted(self)
        coverages, several = check_levels(level, coverage)
        h = check_horizon(horizon, self.horizon)
        lowers, uppers, pos = [], [], None
        for c in coverages:
            los, his = [], []
            for m in self.estimators_:
                out = m.predict_interval(horizon=h, X=X, coverage=c, method=method)
                pos, lo, hi = self.schema_.parse_interval(out, c)
                los.append(lo)
                his.append(hi)
            lowers.append(self._combined(los))
            uppers.append(self._combined(his))
        if not several:
            return self.schema_.format_interval(lowers[0], uppers[0], coverages[0], pos)
        return self.schema_.format_interval(lowers, uppers, coverages, pos)

    def update(self, y_new: Any, X_new: Any = None) -> EnsembleForecaster:
        """Stream new observations into every member.

        Parameters
        ----------
        y_new : same format as at fit
        X_new : optional

        Returns
        -------
        self
        """
        check_is_fitted(self)
        for m in self.estimators_:
            m.update(y_new, X_new)
        self.schema_ = self.estimators_[0].schema_
        return self
