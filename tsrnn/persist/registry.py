"""The classes a model file may hold, and saving them.

An estimator class joins with :func:`register` and inherits :class:`Persistent`,
which gives it ``save`` and the two hooks of the state protocol; :func:`save`
checks the model's class against the registry, collects its state, encodes the
parameters and plain attributes as JSON and writes the file atomically. Nothing
here imports an estimator.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._version import __version__
from .fileformat import _META, FORMAT_NAME, FORMAT_VERSION, model_path, write_atomic
from .jsonvalues import _params, _plain
from .protocol import ModelState

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: files may hold ``cls`` (it implements the state protocol)."""
    _REGISTRY[cls.__name__] = cls
    return cls


class Persistent:
    """:meth:`save` and the state protocol for an estimator family.

    The class names its state module in ``_state_protocol``: a module with
    ``state_dict(model) -> ModelState`` and ``load_state_dict(est, state)``.
    """

    _state_protocol: Any

    def _state_dict(self) -> ModelState:
        """The fitted state, for :func:`save`."""
        return self._state_protocol.state_dict(self)

    def _load_state_dict(self, state: ModelState) -> None:
        """Restore a state read by :func:`load`; :class:`StateError` if it misfits."""
        self._state_protocol.load_state_dict(self, state)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` without pickle (see :mod:`tsrnn.persist`).

        A versioned ``.npz`` of NumPy arrays plus JSON metadata; read it back with
        :func:`tsrnn.load`, which opens it with ``allow_pickle=False`` so that
        loading never runs code. Pickle (and joblib) still work, but unpickling a
        file can execute arbitrary code: use them only for files you trust.

        Parameters
        ----------
        path : str or path-like
            Target file; ``.npz`` is appended when the name lacks it, so
            ``save("m")`` writes ``m.npz`` (which ``tsrnn.load("m")`` finds).
            Written atomically: an existing model there is replaced only once
            the new file is complete and on disk, so an interrupted save (an
            exception, Ctrl-C, a full disk) leaves it intact.

        Examples
        --------
        See :func:`tsrnn.load`, which reads the file back.
        """
        save(self, path)


# ------------------------------------------------------------------ public API
def save(model, path) -> None:
    """Write a fitted estimator to ``path`` in the pickle-free format.

    Parameters
    ----------
    model : RNNForecaster, RNNRegressor or RNNClassifier
        A fitted estimator.
    path : str, path-like or binary file object
        Target file; ``.npz`` is appended when the name lacks it, as
        ``np.savez`` does (:func:`model_path`). The file is written atomically
        (:func:`write_atomic`): a temporary file in the same directory, flushed
        and fsync-ed, then renamed over ``path``, so an interrupted save never
        damages the model already there and leaves no temporary behind. An
        open file object is written in place (its owner handles atomicity).

    Raises
    ------
    TypeError
        For other estimator classes (the baselines are not supported).
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If a parameter or label cannot be stored without pickle.
    FileNotFoundError
        If the target's directory does not exist (nothing is written).
    """
    name = type(model).__name__
    if _REGISTRY.get(name) is not type(model):
        raise TypeError(
            f"save supports {', '.join(_REGISTRY)}, not {name}; pickle other "
            "estimators (only for files you trust)"
        )
    check_is_fitted(model)
    # a forecaster being updated in another thread is saved as one state
    model = model._snapshot() if hasattr(model, "_snapshot") else model
    state = model._state_dict()
    arrays = state.arrays
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": __version__,
        "class": name,
        "params": _params(model),
        "attributes": {k: _plain(v, k) for k, v in state.attributes.items()},
    }
    for key, arr in arrays.items():
        if arr.dtype == object:  # never write what only pickle could read back
            raise ValueError(f"{key} is an object array, which needs pickle")
    meta["arrays"] = {
        k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()
    }
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    members = {_META: blob, **arrays}
    if hasattr(path, "write"):  # an open binary file: the caller owns it
        np.savez(path, **members)
        return
    write_atomic(model_path(path), lambda fh: np.savez(fh, **members))
