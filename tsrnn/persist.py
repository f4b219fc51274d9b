"""Save and load fitted estimators without pickle.

``model.save(path)`` writes, and :func:`load` reads, one NumPy ``.npz`` file
that holds only plain numeric/string arrays and a JSON document. It is read
with ``np.load(path, allow_pickle=False)``, so opening a model file never runs
code (a pickle -- and anything ``joblib`` writes -- can run arbitrary code when
loaded: never unpickle a file you did not make yourself).

File layout (format ``"tsrnn-model"``, version :data:`FORMAT_VERSION`)
-----------------------------------------------------------------------
An uncompressed ``.npz`` (a zip of ``.npy`` members) with

``__metadata__``
    1-D ``uint8`` array: UTF-8 bytes of a JSON object with the keys

    * ``"format"``: ``"tsrnn-model"``;
    * ``"format_version"``: int, :data:`FORMAT_VERSION`;
    * ``"tsrnn_version"``: the writer's ``tsrnn.__version__`` (informative);
    * ``"class"``: ``"RNNForecaster"``, ``"RNNRegressor"`` or ``"RNNClassifier"``;
    * ``"params"``: ``get_params(deep=False)``; tuples and NumPy scalar types
      are tagged (``{"__tuple__": [...]}``, ``{"__dtype__": "float64"}``) so
      that they come back as they were;
    * ``"attributes"``: the fitted attributes that are plain values (curves,
      counts, the series schema, the layout, the optimizer's scalars, ...);
    * ``"arrays"``: ``{name: {"dtype": str, "shape": [...]}}`` for every other
      member of the file, checked on load.

every name in ``"arrays"``
    The fitted arrays (``params_``, hidden states, scalers, conformal
    residuals, the optimizer's moment vectors, ...), never of ``object`` dtype.

What is restored
----------------
Everything ``predict``, ``predict_interval``, ``update``, ``score`` (and for the
window models ``predict``, ``predict_proba``, ``decision_function``) use, so that
a loaded model gives bit-identical results. The optimizer state (Adam's ``m``,
``v``, ``t``; SGD's velocity) and the training log are saved too, so
``warm_start``/``partial_fit`` continue where they were; the window models'
random stream is restored as well. Not covered: the baselines
(``NaiveForecaster``, ...), and ``random_state`` given as a ``Generator`` or
``RandomState`` (stored as ``None``, with a warning: the fitted weights do not
depend on it any more, only later refits do).

Any file that does not fit this description (another format or version, a
truncated or edited file, arrays missing or of the wrong dtype or shape, shapes
that disagree with the metadata) raises a ``ValueError`` (precisely
:class:`ModelFileError`, a subclass) that says what is wrong and what to do.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
import warnings
import zipfile
from typing import Any

import numpy as np

from ._constraints import validate_params

FORMAT_NAME = "tsrnn-model"
FORMAT_VERSION = 1
_META = "__metadata__"

# the fitted attributes each class stores as JSON values (missing ones skipped)
_FORECASTER_SCALARS = (
    "n_iter_",
    "loss_curve_",
    "validation_scores_",
    "best_loss_",
    "best_validation_score_",
    "grad_norm_curve_",
    "stopped_",
    "t_",
    "_conformal_note",
    "_auto_seed",
)
_FORECASTER_ARRAYS = (
    "params_",
    "_state",
    "_top",
    "_tail_y",
    "_tail_z",
    "_level",
    "conformal_scores_",
    "conformal_scale_",
    "dh_norm_",
)
_WINDOW_SCALARS = (
    "n_features_in_",
    "input_size_",
    "window_",
    "n_outputs_",
    "n_iter_",
    "loss_curve_",
    "loss_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "grad_norm_curve_",
    "t_",
    "_grad_norms",
    "_optimizer_solver",
    "stopped_",
)
_WINDOW_ARRAYS = ("params_", "dh_norm_", "_y_mean", "_y_scale")


def _classes():
    # imported lazily: the estimators import this module for their ``save``
    from .estimators import RNNClassifier, RNNForecaster, RNNRegressor

    return {
        "RNNForecaster": RNNForecaster,
        "RNNRegressor": RNNRegressor,
        "RNNClassifier": RNNClassifier,
    }


class ModelFileError(ValueError):
    """A model file that is not what it should be (a plain ValueError to users)."""


def _fail(path, problem: str, fix: str = "") -> ValueError:
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    msg = f"{where}: {problem}"
    if fix:
        msg += f"; {fix}"
    return ModelFileError(msg)


_FIX_RESAVE = (
    "the file is damaged or was edited: save the fitted model again with "
    "model.save(path)"
)


# ---------------------------------------------------------------- JSON values
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
    raise ValueError(
        f"{what}={value!r} cannot be stored without pickle (only None, bool, int, "
        "float, str, lists/tuples of them and NumPy float types can); set it to a "
        "plain value before saving, or pickle the model (only for files you trust)"
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
        return {k: _unplain(v) for k, v in value.items()}
    return value


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


# -------------------------------------------------------------- optimizer state
def _optimizer_state(opt, arrays: dict) -> dict | None:
    if opt is None:
        return None
    state = {"class": type(opt).__name__, "scalars": {}}
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            arrays[f"optimizer.{name}"] = value
        else:
            state["scalars"][name] = _plain(value, f"optimizer.{name}")
    return state


def _restore_optimizer(path, state, arrays, solver, size, dtype, **hyper):
    """A fresh ``make_optimizer`` object with the saved moments and counters."""
    from .engine import make_optimizer

    if state is None:
        return None
    opt = make_optimizer(solver, size, 1.0, dtype, **hyper)
    if type(opt).__name__ != state.get("class"):
        raise _fail(
            path,
            f"the optimizer state is for {state.get('class')!r} but solver={solver!r}",
            _FIX_RESAVE,
        )
    known = vars(opt)
    for name, value in state["scalars"].items():
        # only the optimizer's own counters/hyper-parameters, never new attributes
        if name not in known or isinstance(known[name], np.ndarray):
            raise _fail(path, f"unknown optimizer attribute {name!r}", _FIX_RESAVE)
        setattr(opt, name, _unplain(value))
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            key = f"optimizer.{name}"
            if key not in arrays:
                raise _fail(path, f"array {key!r} is missing", _FIX_RESAVE)
            _check_array(path, key, arrays[key], value.shape, value.dtype)
            setattr(opt, name, arrays[key])
    return opt


def _log_state(log) -> dict | None:
    return None if log is None else _plain(dataclasses.asdict(log), "training log")


def _restore_log(d):
    from .engine import TrainingLog

    return TrainingLog() if d is None else TrainingLog(**_unplain(d))


# ------------------------------------------------------------------ checking
def _check_array(path, name, arr, shape, dtype=None):
    if tuple(arr.shape) != tuple(shape):
        raise _fail(
            path,
            f"array {name!r} has shape {tuple(arr.shape)} but the model's metadata "
            f"implies {tuple(shape)}",
            _FIX_RESAVE,
        )
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise _fail(
            path,
            f"array {name!r} has dtype {arr.dtype} but the model needs "
            f"{np.dtype(dtype)}",
            _FIX_RESAVE,
        )


def _check_finite(path, arrays: dict, names, nan_ok=()) -> None:
    """The arrays that predictions read hold no inf (and no NaN unless allowed)."""
    for name in names:
        arr = arrays.get(name)
        if arr is None or arr.dtype.kind != "f":
            continue
        bad = np.isinf(arr) if name in nan_ok else ~np.isfinite(arr)
        if bad.any():
            raise _fail(
                path,
                f"array {name!r} holds {int(bad.sum())} non-finite value(s), which "
                "a fitted model never has",
                _FIX_RESAVE,
            )


def _need(path, attrs: dict, name: str):
    if name not in attrs:
        raise _fail(path, f"metadata attribute {name!r} is missing", _FIX_RESAVE)
    return attrs[name]


# ------------------------------------------------------------ per-class state
def _fitted_state(model, scalars, array_names, arrays: dict) -> dict:
    """The listed fitted attributes a model has: scalars as JSON, arrays into ``arrays``."""
    attrs = {
        name: _plain(getattr(model, name), name)
        for name in scalars
        if hasattr(model, name)
    }
    for name in array_names:
        if getattr(model, name, None) is not None:
            arrays[name] = np.asarray(getattr(model, name))
    return attrs


def _forecaster_state(model, arrays: dict) -> dict:
    attrs = _fitted_state(model, _FORECASTER_SCALARS, _FORECASTER_ARRAYS, arrays)
    lay = model._layout
    attrs["_layout"] = _plain(dataclasses.asdict(lay), "_layout")
    sc = model._scaler
    for f in dataclasses.fields(sc):
        arrays[f"_scaler.{f.name}"] = np.asarray(getattr(sc, f.name))
    try:
        attrs["schema_"] = model.schema_.to_dict()
        json.dumps(attrs["schema_"], allow_nan=True)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"the series format of this model (names, ids or index) cannot be stored "
            f"as JSON ({exc}); use str or int column names, ids and series names"
        ) from exc
    attrs["_optimizer"] = _optimizer_state(getattr(model, "_optimizer", None), arrays)
    attrs["_log"] = _log_state(getattr(model, "_log", None))
    return attrs


def _restore_forecaster(path, est, attrs, arrays):
    from ._series import SeriesSchema
    from .estimators._features import Layout, Scaler
    from .estimators.forecaster import _np_dtype

    try:
        lay_d = _unplain(_need(path, attrs, "_layout"))
        lay_d["seasons"] = tuple(lay_d["seasons"])
        lay = Layout(**lay_d)
        schema = SeriesSchema.from_dict(_need(path, attrs, "schema_"))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise _fail(
            path, f"invalid layout or series schema metadata ({exc})", _FIX_RESAVE
        ) from exc
    dt = _np_dtype(est.dtype)
    net = est._build_network(lay, dt)
    S, k, c = schema.n_series, lay.n_targets, lay.n_covariates
    H, keep = int(est.hidden_size), lay.history
    if (schema.n_targets, schema.n_covariates) != (k, c):
        raise _fail(
            path,
            "the series schema and the network layout disagree on the "
            "number of targets or covariates",
            _FIX_RESAVE,
        )
    h = int(est.horizon)
    expected = {
        "params_": ((net.size,), dt),
        "_state": (net.stack.zero_state(S).shape, dt),
        "_top": ((S, H), dt),
        "_tail_y": ((S, keep, k), dt),
        "_tail_z": ((S, keep, lay.n_known), dt),
        "_scaler.y_loc": ((S, k), np.float64),
        "_scaler.y_scale": ((S, k), np.float64),
        "_scaler.x_loc": ((c,), np.float64),
        "_scaler.x_scale": ((c,), np.float64),
        "conformal_scale_": ((S, k), np.float64),
    }
    for name, (shape, dtype) in expected.items():
        if name not in arrays:
            raise _fail(path, f"array {name!r} is missing", _FIX_RESAVE)
        _check_array(path, name, arrays[name], shape, dtype)
    if "conformal_scores_" not in arrays:
        raise _fail(path, "array 'conformal_scores_' is missing", _FIX_RESAVE)
    cs = arrays["conformal_scores_"]
    _check_array(path, "conformal_scores_", cs, (len(cs), h, k), np.float64)
    if "dh_norm_" in arrays and arrays["dh_norm_"].ndim != 2:
        raise _fail(path, "array 'dh_norm_' must be 2-D", _FIX_RESAVE)
    # NaN marks missing history and residuals whose truth was missing
    _check_finite(
        path,
        arrays,
        [*expected, "conformal_scores_"],
        nan_ok=("_tail_y", "conformal_scores_"),
    )
    if "_level" in arrays:  # last observed scaled level (NaN: none yet)
        _check_array(path, "_level", arrays["_level"], (S, k), np.float64)
        _check_finite(path, arrays, ["_level"], nan_ok=("_level",))

    est._layout, est._net = lay, net
    est._scaler = Scaler(
        *(arrays[f"_scaler.{f.name}"] for f in dataclasses.fields(Scaler))
    )
    est.schema_ = schema
    for name in _FORECASTER_ARRAYS:
        if name in arrays:
            setattr(est, name, arrays[name])
    for name in _FORECASTER_SCALARS:
        if name in attrs:
            setattr(est, name, _unplain(attrs[name]))
    for name in ("n_iter_", "loss_curve_", "best_loss_", "validation_scores_"):
        _need(path, attrs, name)
    est._optimizer = _restore_optimizer(
        path, attrs.get("_optimizer"), arrays, est.solver, net.size, dt
    )
    est._log = _restore_log(attrs.get("_log"))
    if "_level" not in arrays:  # files written before it was stored
        tail = est._tail_y.astype(np.float64)
        est._level = np.stack([est._last_observed(t) for t in tail])
    # the compiled inference weights are derived data: rebuilt, never stored
    est._pack_cache = est._pack()
    return est


def _window_state(model, arrays: dict) -> dict:
    attrs = _fitted_state(model, _WINDOW_SCALARS, _WINDOW_ARRAYS, arrays)
    if hasattr(model, "feature_names_in_"):
        attrs["feature_names_in_"] = [str(v) for v in model.feature_names_in_]
    if hasattr(model, "classes_"):
        cl = np.asarray(model.classes_)
        if cl.dtype == object:
            if not all(isinstance(v, str) for v in cl):
                raise ValueError(
                    "classes_ holds Python objects other than str, which cannot be "
                    "stored without pickle; use int, float, bool or str labels"
                )
            # object arrays need pickle: store the labels as JSON, rebuild as object
            attrs["classes_object"] = [str(v) for v in cl]
        else:
            arrays["classes_"] = cl
    attrs["_optimizer"] = _optimizer_state(getattr(model, "_optimizer", None), arrays)
    attrs["_log"] = _log_state(getattr(model, "_log", None))
    rng = getattr(model, "_rng", None)
    attrs["_rng"] = None if rng is None else _plain(rng.bit_generator.state, "_rng")
    return attrs


def _restore_window(path, est, attrs, arrays):
    for name in ("n_features_in_", "input_size_", "window_", "n_outputs_"):
        v = _need(path, attrs, name)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise _fail(
                path,
                f"metadata attribute {name!r} must be a positive int, got {v!r}",
                _FIX_RESAVE,
            )
        setattr(est, name, v)
    if est.n_features_in_ != est.input_size_ * est.window_:
        raise _fail(path, "n_features_in_ is not input_size_ * window_", _FIX_RESAVE)
    if "feature_names_in_" in attrs:
        est.feature_names_in_ = np.asarray(attrs["feature_names_in_"], dtype=object)
    if type(est).__name__ == "RNNClassifier":
        if "classes_object" in attrs:
            est.classes_ = np.asarray(attrs["classes_object"], dtype=object)
        elif "classes_" in arrays:
            est.classes_ = arrays["classes_"]
        else:
            raise _fail(path, "array 'classes_' is missing", _FIX_RESAVE)
        n_cl = len(est.classes_)
        if n_cl < 2 or est.n_outputs_ != (1 if n_cl == 2 else n_cl):
            raise _fail(
                path,
                f"{n_cl} classes do not match n_outputs_={est.n_outputs_}",
                _FIX_RESAVE,
            )
    else:
        for name in ("_y_mean", "_y_scale"):
            if name not in arrays:
                raise _fail(path, f"array {name!r} is missing", _FIX_RESAVE)
            _check_array(path, name, arrays[name], (est.n_outputs_,), np.float64)
    # the same construction as fit's, so the network is the one that was trained
    est._init_model()
    dt = est._param_dtype()
    if "params_" not in arrays:
        raise _fail(path, "array 'params_' is missing", _FIX_RESAVE)
    _check_array(path, "params_", arrays["params_"], (est._network.size,), dt)
    _check_finite(path, arrays, ("params_", "_y_mean", "_y_scale"))
    for name in _WINDOW_ARRAYS:
        if name in arrays:
            setattr(est, name, arrays[name])
    for name in _WINDOW_SCALARS:
        if name in attrs:
            setattr(est, name, _unplain(attrs[name]))
    for name in ("n_iter_", "loss_curve_"):
        _need(path, attrs, name)
    est._optimizer = _restore_optimizer(
        path,
        attrs.get("_optimizer"),
        arrays,
        est.solver,
        est._network.size,
        dt,
        momentum=est.momentum,
        nesterov=est.nesterovs_momentum,
        beta_1=est.beta_1,
        beta_2=est.beta_2,
        epsilon=est.epsilon,
    )
    est._log = _restore_log(attrs.get("_log"))
    if attrs.get("_rng") is not None:
        try:
            est._rng.bit_generator.state = _unplain(attrs["_rng"])
        except (TypeError, ValueError, KeyError) as exc:
            raise _fail(
                path, f"invalid random stream state ({exc})", _FIX_RESAVE
            ) from exc
    return est


_STATE = {
    "RNNForecaster": (_forecaster_state, _restore_forecaster),
    "RNNRegressor": (_window_state, _restore_window),
    "RNNClassifier": (_window_state, _restore_window),
}


# ------------------------------------------------------------------ public API
def save(model, path) -> None:
    """Write a fitted estimator to ``path`` in the pickle-free format.

    Parameters
    ----------
    model : RNNForecaster, RNNRegressor or RNNClassifier
        A fitted estimator.
    path : str or path-like
        Target file. NumPy appends ``.npz`` when the name lacks it, as
        ``np.savez`` does; pass a name ending in ``.npz`` to know the exact file.

    Raises
    ------
    TypeError
        For other estimator classes (the baselines are not supported).
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If a parameter or label cannot be stored without pickle.
    """
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    if name not in _STATE or not isinstance(model, _classes()[name]):
        raise TypeError(
            f"save supports RNNForecaster, RNNRegressor and RNNClassifier, not "
            f"{name}; pickle other estimators (only for files you trust)"
        )
    check_is_fitted(model)
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": _version(),
        "class": name,
        "params": _params(model),
        "attributes": _STATE[name][0](model, arrays),
    }
    for key, arr in arrays.items():
        if arr.dtype == object:  # never write what only pickle could read back
            raise ValueError(f"{key} is an object array, which needs pickle")
    meta["arrays"] = {
        k: {"dtype": a.dtype.str, "shape": list(a.shape)} for k, a in arrays.items()
    }
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(path, **{_META: blob}, **arrays)


def _version() -> str:
    from . import __version__

    return __version__


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an .npz is a zip archive


def _check_magic(path, head: bytes) -> None:
    """Name what a file that is not an .npz archive is, from its first bytes."""
    if head.startswith(_ZIP_MAGIC):
        return
    if not head:
        raise _fail(
            path,
            "is empty (0 bytes): the write was interrupted or the file truncated",
            "save the fitted model again with model.save(path)",
        )
    if head.startswith(b"\x80"):
        raise _fail(
            path,
            "looks like a pickle (pickle.dump or joblib.dump); tsrnn.load never "
            "unpickles, because unpickling can run arbitrary code",
            "unpickle it yourself only if you trust where it came from, and save "
            "models with model.save(path)",
        )
    if head.startswith(b"\x93NUMPY"):
        raise _fail(
            path,
            "holds a single NumPy array (.npy), not a tsrnn model file",
            "load files written by model.save(path)",
        )
    raise _fail(
        path,
        "is not a tsrnn model file (those are .npz zip archives; this file starts "
        f"with {head!r})",
        "load files written by model.save(path)",
    )


def _read(path) -> tuple[dict, dict]:
    """Metadata and arrays of a model file, checked against each other."""
    try:
        # allow_pickle=False: an object array in the file raises instead of
        # unpickling, so opening a model file never executes code
        # the file is opened here, not by np.load, so that it is closed even
        # when numpy fails on a damaged archive
        with open(path, "rb") as fh:
            _check_magic(path, fh.read(8))
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as npz:
                names = list(npz.files)
                if _META not in names:
                    raise _fail(
                        path,
                        f"no {_META!r} member: this is not a tsrnn model file",
                        "load files written by model.save(path)",
                    )
                arrays = {n: npz[n] for n in names}
    except ValueError as exc:
        if isinstance(exc, ModelFileError):
            raise
        # numpy's own text suggests loading unsafely: not advice to pass on
        why = (
            "it holds pickled (object) data, which tsrnn.load never unpickles"
            if "pickle" in str(exc)
            else str(exc)
        )
        raise _fail(
            path,
            f"cannot be read as a pickle-free NumPy .npz ({why})",
            "it is not a file written by model.save (a pickle, an object array or "
            "another format); load only files written by model.save(path)",
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise _fail(
            path,
            f"cannot be read as a NumPy .npz archive ({type(exc).__name__}: {exc}); "
            "it may be truncated or not a model file",
            "save the fitted model again with model.save(path)",
        ) from exc
    blob = arrays.pop(_META)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise _fail(
            path,
            f"{_META!r} must be a 1-D uint8 array, got {blob.dtype} "
            f"of shape {blob.shape}",
            _FIX_RESAVE,
        )
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(
            path, f"the metadata is not valid UTF-8 JSON ({exc})", _FIX_RESAVE
        ) from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _fail(
            path,
            f"the metadata does not declare format {FORMAT_NAME!r}",
            "load files written by model.save(path)",
        )
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise _fail(
            path,
            f"format version {version!r} is not supported (this tsrnn "
            f"{_version()} reads version {FORMAT_VERSION})",
            "upgrade tsrnn to read it"
            if newer
            else "save the model again with this tsrnn version",
        )
    for key in ("class", "params", "attributes", "arrays"):
        if key not in meta:
            raise _fail(path, f"metadata key {key!r} is missing", _FIX_RESAVE)
    declared = meta["arrays"]
    if not isinstance(declared, dict):
        raise _fail(path, "metadata 'arrays' must be an object", _FIX_RESAVE)
    missing = sorted(set(declared) - set(arrays))
    extra = sorted(set(arrays) - set(declared))
    if missing:
        raise _fail(
            path, f"array(s) {missing} listed in the metadata are missing", _FIX_RESAVE
        )
    if extra:
        raise _fail(
            path, f"array(s) {extra} are not listed in the metadata", _FIX_RESAVE
        )
    for key, spec in declared.items():
        try:
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        except (TypeError, KeyError, ValueError) as exc:
            raise _fail(
                path, f"invalid metadata for array {key!r}", _FIX_RESAVE
            ) from exc
        _check_array(path, key, arrays[key], shape, dtype)
    return meta, arrays


def load(path, expected=None):
    """Load an estimator written by ``model.save(path)``; never runs code.

    The file is opened with ``np.load(path, allow_pickle=False)`` and checked
    (format name and version, class, every array's presence, dtype and shape
    against the metadata and the network they belong to) before an estimator
    is built from it. Prefer this over pickle/joblib for files you did not
    write yourself: unpickling can execute arbitrary code.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save``.
    expected : type or str, optional
        The estimator class (or its name) the file must hold, e.g.
        ``tsrnn.RNNForecaster``; a file of another class raises ``ValueError``.

    Returns
    -------
    RNNForecaster, RNNRegressor or RNNClassifier
        Fitted, with identical predictions to the saved model.

    Raises
    ------
    ValueError
        For a file of another format, version or class, or a truncated or
        edited file.
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> import os, tempfile, warnings
    >>> import numpy as np
    >>> from sklearn.exceptions import ConvergenceWarning
    >>> import tsrnn
    >>> y = np.sin(0.3 * np.arange(300.0))
    >>> model = tsrnn.RNNForecaster(hidden_size=8, horizon=3, max_iter=2,
    ...                             random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 2 epochs: a demo
    ...     model = model.fit(y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "model.npz")
    ...     model.save(path)
    ...     loaded = tsrnn.load(path, expected=tsrnn.RNNForecaster)
    >>> loaded
    RNNForecaster(hidden_size=8, horizon=3, max_iter=2, random_state=0)
    >>> np.array_equal(loaded.predict(), model.predict())
    True
    """
    meta, arrays = _read(path)
    name = meta["class"]
    classes = _classes()
    if name not in classes:
        raise _fail(
            path,
            f"unknown estimator class {name!r} in the metadata",
            "load files written by model.save(path)",
        )
    if expected is not None:
        want = expected if isinstance(expected, str) else expected.__name__
        if want != name:
            raise _fail(
                path,
                f"holds a {name}, not a {want}",
                f"load it as a {name} or pick the file of your {want}",
            )
    params = meta["params"]
    if not isinstance(params, dict) or not isinstance(meta["attributes"], dict):
        raise _fail(path, "metadata 'params'/'attributes' must be objects", _FIX_RESAVE)
    try:
        est = classes[name](**_unplain(params))
        validate_params(est)
    except (TypeError, ValueError) as exc:
        raise _fail(
            path, f"invalid estimator parameters in the metadata ({exc})", _FIX_RESAVE
        ) from exc
    return _STATE[name][1](path, est, meta["attributes"], arrays)
