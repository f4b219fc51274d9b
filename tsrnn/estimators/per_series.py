"""``PerSeriesForecaster``: one (local) forecaster per series, fitted in parallel.

The many-series alternative to one global model (a long-format frame given to
:class:`~tsrnn.RNNForecaster`): every series gets its own clone of a forecaster,
fitted through :mod:`joblib`. Nothing here knows which backend runs the tasks,
so the same code runs in threads, in local processes (``n_jobs``) or on a Dask
cluster::

    from dask.distributed import Client
    import joblib

    with Client(...), joblib.parallel_config(backend="dask"):
        model = PerSeriesForecaster(RNNForecaster(horizon=12)).fit(df)

Each task fits one clone on one series' rows and sends it back; the kernels
are compiled once per machine and loaded from Numba's on-disk cache by every
worker (``tsrnn.kernels._jit.cache_stats`` shows it). Seeds are derived from
``random_state`` and the series' position, never from the worker, so the
forecasts are bit-identical whatever ``n_jobs`` or backend runs them.
"""

from __future__ import annotations

import copy
import numbers

import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..data import check_horizon
from ..engine.budget import check_forecast_budget
from ..evaluation import ForecasterMixin
from .forecaster import RNNForecaster
from .members import fit_one as _fit_one
from .members import member_seed as _series_seed


def _check_covered(ids, have, rows: str, fix: str) -> None:
    """Every series of ``ids`` has covariate rows in ``have``."""
    missing = [i for i in ids if i not in have]
    if missing:
        raise ValueError(f"X has no {rows} for series {missing[:5]}; pass {fix}")


class PerSeriesForecaster(BaseEstimator):
    """One clone of a forecaster per series of a long-format frame.

    Parameters
    ----------
    estimator : forecaster, default=None
        The model fitted to every series (cloned per series); ``None`` means
        ``RNNForecaster()``. Its data-format parameters are overridden so that
        each clone sees one series in long format.
    n_jobs : int or None, default=None
        Parallel fits through :class:`joblib.Parallel` (``-1``: all cores).
        The backend comes from ``joblib.parallel_config`` (e.g. ``"dask"``).
    random_state : int or None, default=None
        Base seed: clone ``i`` gets a seed derived from it and ``i``. ``None``
        draws the base seed from NumPy's global generator at each ``fit``.
    id_col, time_col, target_col : str
        Columns of the long-format frame.

    Attributes
    ----------
    estimators_ : dict
        Series id -> its fitted forecaster.
    ids_ : pandas.Index
        Series ids in the order of ``fit``'s frame.
    seeds_ : dict
        Series id -> the seed its clone was fitted with.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import PerSeriesForecaster, SeasonalNaiveForecaster
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 24),
    ...                    "ds": np.tile(np.arange(24), 2),
    ...                    "y": np.tile(np.arange(24.0) % 12, 2)})
    >>> model = PerSeriesForecaster(SeasonalNaiveForecaster(season_length=12))
    >>> model.fit(df).predict(3).shape
    (6, 3)
    """

    def __init__(
        self,
        estimator=None,
        *,
        n_jobs=None,
        random_state=None,
        id_col="unique_id",
        time_col="ds",
        target_col="y",
    ):
        self.estimator = estimator
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # ------------------------------------------------------------ input
    def _split(self, y, X, *, known=None, what="y"):
        """``{id: (rows of y, rows of X)}`` in order of first appearance."""
        if not isinstance(y, pd.DataFrame):
            raise TypeError(
                f"{what} must be a long-format pandas DataFrame with columns "
                f"{self.id_col!r}, {self.time_col!r} and the target(s), got "
                f"{type(y).__name__}; for one series use the forecaster directly"
            )
        if self.id_col not in y.columns:
            raise ValueError(
                f"{what} has no id column {self.id_col!r} (columns: "
                f"{list(y.columns)}); pass id_col= to name it"
            )
        if len(y) == 0:
            raise ValueError(f"{what} is empty; pass at least one row per series")
        ids = pd.unique(y[self.id_col])
        if X is not None:
            if not isinstance(X, pd.DataFrame) or self.id_col not in X.columns:
                raise TypeError(
                    f"X must be a long-format DataFrame with the id column "
                    f"{self.id_col!r} (and {self.time_col!r}), like y"
                )
        if known is not None:
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise ValueError(
                    f"{what} holds series that fit never saw: {unknown[:5]}"
                    f"{' ...' if len(unknown) > 5 else ''}; fit a model on them "
                    "first (or drop them)"
                )
        by_y = dict(tuple(y.groupby(self.id_col, sort=False, observed=True)))
        by_x = (
            dict(tuple(X.groupby(self.id_col, sort=False, observed=True)))
            if X is not None
            else {}
        )
        if X is not None:
            _check_covered(ids, by_x, "rows", "covariates for every series of y")
        return {i: (by_y[i], by_x.get(i)) for i in ids}

    def _template(self):
        est = RNNForecaster() if self.estimator is None else self.estimator
        if not hasattr(est, "fit") or not hasattr(est, "predict"):
            raise TypeError(
                f"estimator must be a forecaster with fit/predict, got {est!r}"
            )
        params = est.get_params(deep=False)
        fmt = {
            k: v
            for k, v in (
                ("id_col", self.id_col),
                ("time_col", self.time_col),
                ("target_col", self.target_col),
            )
            if k in params
        }
        return clone(est).set_params(**fmt)

    # -------------------------------------------------------------- fit
    def fit(self, y, X=None):
        """Fit one clone of ``estimator`` per series, in parallel.

        Parameters
        ----------
        y : pandas.DataFrame
            Long format: ``id_col``, ``time_col``, target column(s).
        X : pandas.DataFrame, optional
            Long-format covariates (``id_col``, ``time_col``, covariate columns)
            aligned with ``y``'s rows of each series.

        Returns
        -------
        self
        """
        if self.n_jobs is not None and not isinstance(self.n_jobs, numbers.Integral):
            raise TypeError(f"n_jobs must be an int or None, got {self.n_jobs!r}")
        pieces = self._split(y, X)
        template = self._template()
        has_seed = "random_state" in template.get_params(deep=False)
        rs = self.random_state
        base = (
            int(rs)
            if isinstance(rs, numbers.Integral)
            else int(check_random_state(rs).randint(2**31))
        )
        jobs, seeds = [], {}
        for i, (sid, (ys, xs)) in enumerate(pieces.items()):
            est = clone(template)
            if has_seed:
                seeds[sid] = _series_seed(base, i)
                est.set_params(random_state=seeds[sid])
            jobs.append(delayed(_fit_one)(est, ys, xs))
        fitted = Parallel(n_jobs=self.n_jobs)(jobs)
        self.ids_ = pd.Index(list(pieces))
        self.estimators_ = dict(zip(self.ids_, fitted, strict=True))
        self.seeds_ = seeds
        return self

    # ---------------------------------------------------------- predict
    def _each(self, action, X, ids=None, **kwargs):
        check_is_fitted(self)
        # read once: update swaps in a new dict, so every series forecasts
        # from the same generation of models
        estimators = self.estimators_
        ids = self.ids_ if ids is None else ids
        if "horizon" in kwargs:
            # each clone checks its own series; the budget is the whole call's
            h = kwargs["horizon"]
            if h is None:
                h = max(getattr(self.estimators_[sid], "horizon", 1) for sid in ids)
            check_forecast_budget(check_horizon(h), len(ids))
        xs = {}
        if X is not None:
            xs = self._split(X, None, known=estimators, what="X")
            _check_covered(
                ids, xs, "future rows", "future covariates for every series"
            )
        out = []
        for sid in ids:
            est = estimators[sid]
            xf = xs[sid][0] if X is not None else None
            out.append(
                getattr(est, action)(X=xf, **kwargs)
                if xf is not None
                else getattr(est, action)(**kwargs)
            )
        return pd.concat(out, ignore_index=True)

    def predict(self, horizon=None, X=None):
        """Every series' forecast, in long format (``fit``'s id order).

        Parameters
        ----------
        horizon : int, optional
            Steps ahead (default: each clone's ``horizon``).
        X : pandas.DataFrame, optional
            Long-format future covariates of every series.

        Returns
        -------
        pandas.DataFrame
            ``id_col``, ``time_col`` and the target column(s).
        """
        return self._each("predict", X, horizon=horizon)

    def predict_interval(
        self, horizon=None, X=None, coverage=None, *, level=None, method="auto"
    ):
        """Every series' interval forecast, in long format (see the clone's).

        Parameters
        ----------
        horizon : int, optional
        X : pandas.DataFrame, optional
            Long-format future covariates of every series.
        coverage : float, optional
            One level as a fraction or percentage; ``level`` is the same.
            Default (neither given): 90.
        level : float or list of float, optional
            Percentages, e.g. ``[80, 95]``.
        method : str, default="auto"
            Passed to the clones (see their ``predict_interval``).

        Returns
        -------
        pandas.DataFrame
            The clones' interval frames, one after the other.
        """
        kwargs = {"coverage": 0.9 if coverage is None and level is None else coverage}
        if level is not None:  # only when given: a clone may predate ``level``
            kwargs["level"] = level
        if method != "auto":
            self._check_interval_method(method)
            kwargs["method"] = method
        return self._each("predict_interval", X, horizon=horizon, **kwargs)

    @property
    def _interval_methods(self) -> tuple[str, ...]:
        """What the clones' ``predict_interval(method=...)`` can give."""
        base = RNNForecaster() if self.estimator is None else self.estimator
        return getattr(base, "_interval_methods", ("conformal",))

    # the one check (and message) of every forecaster
    _check_interval_method = ForecasterMixin._check_interval_method

    def update(self, y_new, X_new=None):
        """Stream new observations into the series' models (no refit).

        Series absent from ``y_new`` are left as they are. Every series is
        checked before any model changes.
        """
        check_is_fitted(self)
        pieces = self._split(y_new, X_new, known=self.estimators_, what="y_new")
        # check every piece on a copy first, so that a bad series changes nothing
        staged = {}
        for sid, (ys, xs) in pieces.items():
            est = copy.deepcopy(self.estimators_[sid])
            staged[sid] = est.update(ys, xs) if xs is not None else est.update(ys)
        # a new dict, swapped in at once (a predict running meanwhile keeps the
        # old one); the clones themselves are never changed in place
        self.estimators_ = {**self.estimators_, **staged}
        return self
