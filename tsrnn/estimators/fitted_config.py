"""The fitted configuration: the parameters a fitted model is made of.

One rule for every estimator of this package (each states it in its Notes):

*Parameters that define the fitted model* -- its network (``cell``,
``hidden_size``, ``num_layers``, ...), what it estimates (``loss``) and, for the
forecaster, what it forecasts and how it reads the data (``horizon``,
``strategy``, ``season_length``, ``differencing``, ``freq``, the column
names, ...) -- are frozen by ``fit``. After ``set_params`` changes one of
them, every call that uses the fitted model (``predict``, ``predict_interval``,
``predict_proba``, ``update``, ``score``, ``partial_fit``, a ``warm_start``
fit and ``save``) raises a ``ValueError`` that names the parameters changed
since fit, with their fitted values: call ``fit`` to refit with the new ones,
or set them back. Nothing silently forecasts with a configuration it was not
fitted with, and a model file always describes the model that predicts.

*Training settings* (``learning_rate_init``, ``max_iter``, ``alpha``,
``batch_size``, ``clip_norm``, ``solver``, ``verbose``, ``random_state``, ...)
may change at any time: they take effect at the next ``fit`` or
``partial_fit`` (as in scikit-learn's ``MLPRegressor``) and ``save`` stores
them as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import persist


def _normal(value: Any) -> Any:
    """A comparable form of a parameter value (lists as tuples, dtypes by name)."""
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, np.generic):
        return value.item()
    return value


def record(est, names) -> dict:
    """The current values of the parameters ``names`` (called when fit builds)."""
    return {name: getattr(est, name) for name in names}


def _same(name: str, a: Any, b: Any) -> bool:
    if name == "dtype":
        try:
            return np.dtype(a) == np.dtype(b)
        except TypeError:
            return False
    try:
        return bool(_normal(a) == _normal(b))
    except (TypeError, ValueError):  # values that do not compare to a bool
        return a is b


def changed(est) -> list[tuple[str, Any, Any]]:
    """``(name, fitted value, current value)`` of the parameters changed since fit."""
    fitted = getattr(est, "_fit_config", None)
    if fitted is None:  # unfitted, or pickled before the fitted config was kept
        return []
    return [
        (name, old, getattr(est, name))
        for name, old in fitted.items()
        if not _same(name, old, getattr(est, name))
    ]


def check_unchanged(est, action: str) -> None:
    """Refuse ``action`` when a parameter of the fitted model changed since fit.

    Raises
    ------
    ValueError
        Naming every changed parameter with its current and fitted values.
    """
    diffs = changed(est)
    if not diffs:
        return
    now = ", ".join(f"{n}={v!r} (fitted with {old!r})" for n, old, v in diffs)
    back = ", ".join(f"{n}={old!r}" for n, old, _ in diffs)
    raise ValueError(
        f"parameters changed since fit: {now}; {type(est).__name__}.{action} uses "
        "the fitted model, which they no longer describe. Call fit to refit with "
        f"them, or set them back with set_params({back})"
    )


def saved_state(est, scalars, array_names) -> persist.ModelState:
    """A model file's state holding the listed fitted attributes, refused when stale.

    The opening of every estimator's ``state_dict``: ``save`` is refused (as
    :func:`check_unchanged`) when a parameter of the fitted model changed since
    fit, since the file would not describe the model that predicts.
    """
    check_unchanged(est, "save")
    state = persist.ModelState()
    persist.fitted_attributes(est, scalars, array_names, state)
    return state
