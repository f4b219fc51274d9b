"""Members of an ensemble: their seeds and their fits, one rule for every ensemble.

:class:`~tsrnn.EnsembleForecaster` and ``RNNForecaster(n_ensemble=k)`` fit
several clones of a forecaster that differ by seed, and
:class:`~tsrnn.PerSeriesForecaster` one clone per series. The seeds come from
one base seed (drawn from ``random_state``) and the member's (or series')
position, never from the worker that fits it; the fits go through
:class:`joblib.Parallel`, the project's one parallel path, so a user's
``joblib.parallel_config(backend=..., n_jobs=...)`` context decides where they
run, and the result is the same bits whichever runs them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import check_random_state


def member_seed(seed: int, position: int) -> int:
    """The seed of member (or series) ``position`` of an ensemble seeded ``seed``.

    Independent streams per position, the same for every backend and
    ``n_jobs``.
    """
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


def base_seed(random_state: Any) -> int:
    """The ensemble's base seed drawn from ``random_state`` (int, RandomState,
    Generator or None: a fresh draw from NumPy's global random state)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int32).max))
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def member_seeds(random_state: Any, n: int) -> list[int]:
    """The seeds of ``n`` members: :func:`member_seed` of one :func:`base_seed`."""
    seed = base_seed(random_state)
    return [member_seed(seed, i) for i in range(n)]


def fit_one(estimator: Any, y: Any, X: Any = None, **kwargs: Any) -> Any:
    """Fit one member (runs in a worker: module-level so that it pickles)."""
    if X is None:
        return estimator.fit(y, **kwargs)
    return estimator.fit(y, X, **kwargs)


def call_one(estimator: Any, method: str, *args: Any) -> Any:
    """``estimator.method(*args)``, the estimator returned (a worker's copy)."""
    getattr(estimator, method)(*args)
    return estimator


def fit_members(members: list, y: Any, X: Any = None, n_jobs: int | None = None,
                **kwargs: Any) -> list:
    """Every member fitted through :class:`joblib.Parallel`, in order.

    With a process backend the members come back as the workers' copies: use
    the returned list, not ``members``.
    """
    jobs = (delayed(fit_one)(m, y, X, **kwargs) for m in members)
    return Parallel(n_jobs=n_jobs)(jobs)


def call_members(members: list, method: str, *args: Any,
                 n_jobs: int | None = None) -> list:
    """``m.method(*args)`` for every member through :class:`joblib.Parallel`;
    the members (or the workers' copies of them), in order."""
    jobs = (delayed(call_one)(m, method, *args) for m in members)
    return Parallel(n_jobs=n_jobs)(jobs)
