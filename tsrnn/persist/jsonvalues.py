"""Plain metadata as JSON: estimator parameters and fitted attributes.

JSON keeps None, bools, ints, floats (nan and inf too), strings, lists and
string-keyed objects; what it would lose -- tuples, NumPy scalar types, pandas
frequencies and trading calendars, time stamps -- is tagged on the way in
(:func:`json_value`) and restored on the way out, and anything only pickle
could store is refused with a ``ValueError`` naming the field.
"""

from __future__ import annotations

import datetime
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..data.timeaxis import freq_from_json, freq_to_json, is_offset


def _plain(value: Any, what: str) -> Any:
    """``value`` as JSON-ready Python (tagged where JSON would lose the type)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)  # JSON (Python's) keeps nan and inf
    if isinstance(value, tuple):
        return {"__tuple__": [_plain(v, what) for v in value]}
    if isinstance(value, list):
        return [_plain(v, what) for v in value]
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(v, what) for k, v in value.items()}
    if is_offset(value):
        # a pandas frequency (a trading calendar keeps its weekmask and holidays)
        try:
            return {"__freq__": freq_to_json(value)}
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    if isinstance(value, (datetime.datetime, np.datetime64)) and not pd.isna(value):
        # a time stamp in a name (a column or series named ("load", Timestamp))
        ts = pd.Timestamp(value)
        tz = None if ts.tz is None else str(ts.tz)
        return {"__timestamp__": ts.isoformat(), "tz": tz}
    raise ValueError(
        f"{what}={value!r} cannot be stored without pickle (only None, bool, int, "
        "float, str, time stamps, lists/tuples of them and NumPy float types can); "
        "set it to a plain value before saving, or pickle the model (only for "
        "files you trust)"
    )


def _unplain(value: Any) -> Any:
    """Inverse of :func:`_plain`."""
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        if set(value) == {"__dtype__"}:
            return np.dtype(value["__dtype__"]).type
        if set(value) == {"__freq__"}:
            return freq_from_json(value["__freq__"])
        if set(value) == {"__timestamp__", "tz"}:
            ts = pd.Timestamp(value["__timestamp__"])
            return ts if value["tz"] is None else ts.tz_convert(value["tz"])
        return {k: _unplain(v) for k, v in value.items()}
    return value


def json_value(value: Any, what: str) -> Any:
    """``value`` as the JSON value a model file stores (tuples, NumPy scalars
    and time stamps tagged so that they come back as they were); a
    ``ValueError`` naming ``what`` for a value only pickle could store."""
    return _plain(value, what)


def _params(model) -> dict:
    params = {}
    for name, value in model.get_params(deep=False).items():
        if name == "random_state" and isinstance(
            value, (np.random.Generator, np.random.RandomState)
        ):
            # the fitted weights no longer depend on it; only a later refit would
            warnings.warn(
                "random_state is a NumPy Generator/RandomState, which cannot be "
                "stored without pickle: the file stores random_state=None (the "
                "fitted model predicts identically; a refit after loading is not "
                "reproducible). Pass an int random_state to keep it.",
                UserWarning,
                stacklevel=4,
            )
            value = None
        params[name] = _plain(value, f"parameter {name}")
    return params
