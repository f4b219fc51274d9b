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
    * ``"params"``: ``get_params(deep=False)``; tuples, NumPy scalar types and
      pandas frequencies are tagged (``{"__tuple__": [...]}``,
      ``{"__dtype__": "float64"}``, ``{"__freq__": ...}``, a custom business
      day as its weekmask and holiday dates) so that they come back as they
      were;
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

Who owns what
-------------
This module owns the file: the format, its integrity checks and a registry of
the classes a file may hold. Each estimator family owns its state through two
methods (the protocol of torch's ``state_dict``/``load_state_dict``):
``model._state_dict() -> ModelState`` (arrays, and plain attributes that
:func:`save` stores as JSON) and ``est._load_state_dict(state)`` (checks the
state against the network the parameters build and restores it, raising
:class:`StateError` for what does not fit). A class joins with
:func:`register` and gets :meth:`Persistent.save`; nothing here imports an
estimator.

Any file that does not fit this description (another format or version, a
truncated or edited file, arrays missing or of the wrong dtype or shape, shapes
that disagree with the metadata) raises a ``ValueError`` (precisely
:class:`ModelFileError`, a subclass) that says what is wrong and what to do.

Checked before anything is allocated
------------------------------------
:func:`load` reads in this order, and stops at the first misfit:

1. the archive's directory and every member's ``.npy`` header (dtype and
   shape; object dtypes refused), never the data;
2. the metadata (its size within the budget, then the JSON);
3. the arrays the metadata lists against those headers, and their total
   against the size budget ``max_bytes`` (:data:`MAX_LOAD_BYTES`, 4 GiB, by
   default); only then are the arrays read;
4. the estimator's parameters against the class's own constraints
   (``_parameter_constraints``: ``hidden_size`` a positive int, ...);
5. in the estimator's state module, every size the metadata implies (the
   network's parameter count, the states and histories of the series)
   against the arrays actually held, computed before any network is built,
   so a file whose metadata asks for a huge ``hidden_size`` fails with a
   message and never with a ``MemoryError``; then the values: finite where
   a fitted model is finite, scales strictly positive, frequencies and
   counts positive, and so on. A finite but impossible value raises a
   ``ValueError`` naming the field.

Only then is the estimator's state set, all at once.

Writing is atomic (:func:`write_atomic`): a save interrupted at any point
leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import json
import numbers
import os
import secrets
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._constraints import validate_params
from ._version import __version__
from .data.checks import find_nonfinite
from .data.timeaxis import freq_from_json, freq_to_json, is_offset
from .engine import TrainingLog, make_optimizer

FORMAT_NAME = "tsrnn-model"
FORMAT_VERSION = 1
_META = "__metadata__"

#: Default size budget of :func:`load`: the most bytes the arrays of a model
#: file may declare (checked from their headers, before any is read).
MAX_LOAD_BYTES = 4 * 2**30

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


# ----------------------------------------------------------- the state protocol
class StateError(ValueError):
    """A saved state that does not fit the estimator (raised by ``_load_state_dict``).

    :func:`load` reports it as a :class:`ModelFileError` naming the file.
    """

    def __init__(self, problem: str, fix: str = _FIX_RESAVE):
        super().__init__(f"{problem}; {fix}" if fix else problem)
        self.problem = problem
        self.fix = fix


@dataclass
class ModelState:
    """What an estimator saves: arrays, and attributes stored as JSON.

    ``attributes`` hold None, bool, int, float, str, lists, tuples and dicts
    of them and NumPy float types (tuples and types come back as they were);
    ``arrays`` never hold Python objects.
    """

    attributes: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)

    def require(self, name: str) -> Any:
        """The attribute ``name``, or a :class:`StateError` saying it is missing."""
        if name not in self.attributes:
            raise StateError(f"metadata attribute {name!r} is missing")
        return self.attributes[name]

    def array(self, name: str, shape, dtype=None) -> np.ndarray:
        """The array ``name``, checked against the ``shape`` and ``dtype`` expected."""
        if name not in self.arrays:
            raise StateError(f"array {name!r} is missing")
        arr = self.arrays[name]
        check_array(name, arr, shape, dtype)
        return arr

    def check_positive(self, names, zero_ok=False) -> None:
        """The arrays hold only values ``> 0`` (``>= 0`` with ``zero_ok``).

        NaN passes (:meth:`check_finite` decides about it).
        """
        for name in names:
            arr = self.arrays.get(name)
            if arr is None or arr.dtype.kind not in "fiu":
                continue
            with np.errstate(invalid="ignore"):
                bad = arr < 0 if zero_ok else arr <= 0
            if bad.any():
                first = arr[bad].flat[0].item()
                sign = "negative" if zero_ok else "zero or negative"
                raise StateError(
                    f"array {name!r} holds {int(bad.sum())} {sign} value(s) (e.g. "
                    f"{first!r}), which a fitted model never has"
                )

    def check_finite(self, names, nan_ok=()) -> None:
        """The arrays that predictions read hold no inf (and no NaN unless allowed)."""
        for name in names:
            arr = self.arrays.get(name)
            if arr is None or arr.dtype.kind != "f":
                continue
            bad = find_nonfinite(arr, allow_nan=name in nan_ok)
            if bad is not None:
                raise StateError(
                    f"array {name!r} holds {bad.count} non-finite value(s), which "
                    "a fitted model never has"
                )


def check_array(name, arr, shape, dtype=None) -> None:
    """``arr`` has the shape (and dtype) the metadata implies, or a StateError."""
    check_spec(name, arr.shape, arr.dtype, shape, dtype)


def check_spec(name, shape, dtype, want_shape, want_dtype=None) -> None:
    """An array of ``shape``/``dtype`` is the one expected, or a StateError."""
    if tuple(shape) != tuple(want_shape):
        raise StateError(
            f"array {name!r} has shape {tuple(shape)} but the model's metadata "
            f"implies {tuple(want_shape)}"
        )
    if want_dtype is not None and np.dtype(dtype) != np.dtype(want_dtype):
        raise StateError(
            f"array {name!r} has dtype {np.dtype(dtype)} but the model needs "
            f"{np.dtype(want_dtype)}"
        )


def fitted_attributes(model, scalars, array_names, state: ModelState) -> None:
    """Put the listed fitted attributes a model has into ``state``."""
    for name in scalars:
        if hasattr(model, name):
            state.attributes[name] = getattr(model, name)
    for name in array_names:
        if getattr(model, name, None) is not None:
            state.arrays[name] = np.asarray(getattr(model, name))


def restore_attributes(est, scalars, array_names, state: ModelState) -> None:
    """Set the listed attributes the state holds (checked by the caller)."""
    for name in array_names:
        if name in state.arrays:
            setattr(est, name, state.arrays[name])
    for name in scalars:
        if name in state.attributes:
            setattr(est, name, state.attributes[name])


def optimizer_state(opt, state: ModelState, solver=None) -> dict | None:
    """An optimizer's scalars (returned) and moment arrays (into ``state``).

    With ``solver``, an optimizer of another solver (``set_params(solver=...)``
    after fit) is not stored: the next training call starts a fresh one
    anyway, and the file stays loadable.
    """
    if opt is None or (solver is not None and not is_solver(opt, solver)):
        return None
    out = {"class": type(opt).__name__, "scalars": {}}
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            state.arrays[f"optimizer.{name}"] = value
        else:
            out["scalars"][name] = value
    return out


def is_solver(opt, solver: str) -> bool:
    """Whether optimizer ``opt`` is the one ``make_optimizer(solver, ...)`` builds."""
    return type(opt).__name__.lower() == str(solver).lower()


def restore_optimizer(state: ModelState, solver, size, dtype, **hyper):
    """A fresh ``make_optimizer`` object with the saved moments and counters."""
    saved = state.attributes.get("_optimizer")
    if saved is None:
        return None
    opt = make_optimizer(solver, size, 1.0, dtype, **hyper)
    if type(opt).__name__ != saved.get("class"):
        raise StateError(
            f"the optimizer state is for {saved.get('class')!r} but solver={solver!r}"
        )
    known = vars(opt)
    scalars = saved.get("scalars")
    if not isinstance(scalars, dict):
        raise StateError("the optimizer state has no scalars")
    for name, value in scalars.items():
        # only the optimizer's own counters/hyper-parameters, never new attributes
        if name not in known or isinstance(known[name], np.ndarray):
            raise StateError(f"unknown optimizer attribute {name!r}")
        _check_optimizer_scalar(name, value, known[name])
        setattr(opt, name, value)
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            saved_array = state.array(f"optimizer.{name}", value.shape, value.dtype)
            setattr(opt, name, saved_array)
    return opt


# the ranges of the optimizers' scalars (the estimators' own constraints):
# name -> (low, high, low included, high included)
_OPTIMIZER_RANGES = {
    "learning_rate": (0.0, np.inf, False, False),
    "beta_1": (0.0, 1.0, True, False),
    "beta_2": (0.0, 1.0, True, False),
    "epsilon": (0.0, np.inf, False, False),
    "momentum": (0.0, 1.0, True, True),
    "t": (0, np.inf, True, False),
}


def _check_optimizer_scalar(name, value, fresh) -> None:
    """A saved optimizer scalar has the fresh one's type and a valid value."""
    if isinstance(fresh, bool):
        ok = isinstance(value, bool)
    else:
        kind = numbers.Integral if isinstance(fresh, numbers.Integral) else numbers.Real
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if ok:
            low, high, low_in, high_in = _OPTIMIZER_RANGES.get(
                name, (-np.inf, np.inf, False, False)
            )
            ok = bool(np.isfinite(value))
            ok = ok and (value >= low if low_in else value > low)
            ok = ok and (value <= high if high_in else value < high)
    if not ok:
        raise StateError(f"optimizer attribute {name}={value!r} is out of range")


def training_log_state(log) -> dict | None:
    """The epoch loop's record as plain values."""
    return None if log is None else dataclasses.asdict(log)


def restore_training_log(d) -> TrainingLog:
    """The epoch loop's record (a fresh one for files without it)."""
    if d is None:
        return TrainingLog()
    fields = {f.name for f in dataclasses.fields(TrainingLog)}
    if not isinstance(d, dict) or not set(d) <= fields:
        raise StateError("invalid training log (_log) in the metadata")
    n_iter = d.get("n_iter", 0)
    if not isinstance(n_iter, int) or isinstance(n_iter, bool) or n_iter < 0:
        raise StateError(f"_log.n_iter must be an int >= 0, got {n_iter!r}")
    return TrainingLog(**d)


# ----------------------------------------------------------------- the registry
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


def model_path(path) -> str:
    """The file ``save(path)`` writes: ``path``, with ``.npz`` appended if missing.

    The same rule as ``np.savez``, so ``save("m")`` writes ``m.npz``.
    """
    target = os.fsdecode(os.fspath(path))
    return target if target.endswith(".npz") else target + ".npz"


def write_atomic(target: str, write) -> None:
    """Create or replace ``target`` with what ``write(fh)`` writes, all or nothing.

    ``write`` fills a temporary file in the target's directory (so that the
    final rename never crosses file systems), which is flushed and
    ``os.fsync``-ed, then renamed over ``target`` with ``os.replace`` (atomic
    on POSIX and Windows), and the directory is fsync-ed where the platform
    allows. Whatever interrupts the write -- an exception, Ctrl-C
    (``KeyboardInterrupt``), a full disk -- ``target`` keeps its previous
    content and the temporary file is removed. A symbolic link is followed (the
    file it points to is replaced, the link kept); an existing file keeps its
    permission bits.
    """
    final = os.path.realpath(target) if os.path.islink(target) else target
    directory = os.path.dirname(os.path.abspath(final))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{target}: the directory {directory!r} does not exist; create it "
            "first (nothing was written)"
        )
    if os.path.isdir(final):
        raise IsADirectoryError(
            f"{target} is a directory; give a file name such as "
            f"{os.path.join(target, 'model.npz')!r}"
        )
    try:
        fh, tmp = _create_temporary(directory, os.path.basename(final))
    except PermissionError as exc:
        raise PermissionError(
            exc.errno,
            f"{target}: cannot create a file in {directory!r} ({exc.strerror}); "
            "choose a directory you can write to (nothing was written)",
        ) from exc
    try:
        with fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # the bytes are on disk before the rename
        if os.path.exists(final):
            os.chmod(tmp, stat.S_IMODE(os.stat(final).st_mode))
        os.replace(tmp, final)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_temporary(directory: str, base: str):
    """A new file ``.{base}.<random>.tmp`` in ``directory``, opened for writing.

    Created exclusively (never an existing file) with the default permissions
    (``0o666`` less the umask), as a file written in place would be.
    """
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return open(tmp, "xb"), tmp
        except FileExistsError:  # pragma: no cover - a 48-bit name collision
            continue


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows: directories cannot be opened this way
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


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


def find_model_file(path) -> str:
    """The file ``load(path)`` reads: ``path``, else ``path + ".npz"``.

    ``save("m")`` writes ``m.npz`` (as ``np.savez`` does), so ``load("m")``
    finds it. A missing file raises ``FileNotFoundError`` naming every path
    tried.
    """
    given = os.fsdecode(os.fspath(path))
    tried = [given]
    if not given.endswith(".npz"):
        tried.append(given + ".npz")
    for candidate in tried:
        if os.path.isfile(candidate):
            return candidate
    if os.path.isdir(given):
        raise IsADirectoryError(
            errno.EISDIR,
            f"{given!r} is a directory, not a model file; pass the file that "
            "model.save(path) wrote (a .npz file)",
            given,
        )
    looked = " nor ".join(repr(os.path.abspath(c)) for c in tried)
    raise FileNotFoundError(
        errno.ENOENT,
        f"no model file: looked for {looked}; check the path (save(path) "
        "writes path + '.npz' when the name lacks it)",
        given,
    )


def _read(path, max_bytes) -> tuple[dict, dict]:
    """Metadata and arrays of a model file, checked against each other.

    Nothing is read that was not checked first: every member's ``.npy`` header
    (dtype, shape) is read before its data, the metadata's size against the
    budget before it is parsed, and the arrays' headers against the metadata
    and their total against ``max_bytes`` before any of them is read.
    """
    try:
        # allow_pickle=False: an object array in the file raises instead of
        # unpickling, so opening a model file never executes code
        # the file is opened here, not by np.load, so that it is closed even
        # when numpy fails on a damaged archive
        with open(path, "rb") as fh:
            _check_magic(path, fh.read(8))
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as npz:
                headers = _member_headers(path, npz.zip)
                if _META not in headers:
                    raise _fail(
                        path,
                        f"no {_META!r} member: this is not a tsrnn model file",
                        "load files written by model.save(path)",
                    )
                shape, dtype = headers[_META]
                if dtype != np.uint8 or len(shape) != 1:
                    raise _fail(
                        path,
                        f"{_META!r} must be a 1-D uint8 array, got {dtype} "
                        f"of shape {shape}",
                        _FIX_RESAVE,
                    )
                _check_budget(path, {_META: (shape, dtype)}, max_bytes)
                meta = _metadata(path, npz[_META])
                declared = _declared_arrays(path, meta, headers, max_bytes)
                arrays = {n: npz[n] for n in declared}
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
    return meta, arrays


def _member_headers(path, archive: zipfile.ZipFile) -> dict:
    """``{name: (shape, dtype)}`` of every member, from its ``.npy`` header only.

    No array data is read (nor allocated): what a member claims is checked
    before numpy reads it.
    """
    out = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _fail(
                path,
                f"member {info.filename!r} is not a NumPy .npy array",
                "load files written by model.save(path)",
            )
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f".npy format version {version} is not supported")
        if dtype.hasobject:
            raise ValueError("pickle: an object array")
        name = info.filename[: -len(".npy")]
        out[name] = (tuple(shape), dtype)
        # a header that claims more data than the member holds: truncated
        if _nbytes(shape, dtype) > info.file_size:
            raise _fail(
                path,
                f"array {name!r} claims shape {tuple(shape)} of {dtype}, more than "
                f"the {info.file_size} bytes stored",
                _FIX_RESAVE,
            )
    return out


def _nbytes(shape, dtype) -> int:
    """Bytes of an array of ``shape`` and ``dtype`` (Python ints: no overflow)."""
    n = np.dtype(dtype).itemsize
    for d in shape:
        n *= int(d)
    return n


def _check_budget(path, specs: dict, max_bytes) -> None:
    """The arrays ``{name: (shape, dtype)}`` fit in ``max_bytes`` together."""
    if max_bytes is None:
        return
    total = sum(_nbytes(shape, dtype) for shape, dtype in specs.values())
    if total > max_bytes:
        raise _fail(
            path,
            f"its arrays would take {total:,} bytes, more than the load budget "
            f"max_bytes={max_bytes:,}",
            "if you trust the file and have the memory, load it with a larger "
            "max_bytes (or max_bytes=None)",
        )


def _metadata(path, blob: np.ndarray) -> dict:
    """The metadata document, its format and version checked."""
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
            f"{__version__} reads version {FORMAT_VERSION})",
            "upgrade tsrnn to read it"
            if newer
            else "save the model again with this tsrnn version",
        )
    for key in ("class", "params", "attributes", "arrays"):
        if key not in meta:
            raise _fail(path, f"metadata key {key!r} is missing", _FIX_RESAVE)
    return meta


def _declared_arrays(path, meta: dict, headers: dict, max_bytes) -> dict:
    """``{name: (shape, dtype)}`` the metadata lists, checked against the headers."""
    declared = meta["arrays"]
    if not isinstance(declared, dict):
        raise _fail(path, "metadata 'arrays' must be an object", _FIX_RESAVE)
    present = set(headers) - {_META}
    missing = sorted(set(declared) - present)
    extra = sorted(present - set(declared))
    if missing:
        raise _fail(
            path, f"array(s) {missing} listed in the metadata are missing", _FIX_RESAVE
        )
    if extra:
        raise _fail(
            path, f"array(s) {extra} are not listed in the metadata", _FIX_RESAVE
        )
    specs = {}
    for key, spec in declared.items():
        try:
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
            if not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0
                for d in shape
            ):
                raise ValueError("the shape must hold non-negative ints")
        except (TypeError, KeyError, ValueError) as exc:
            raise _fail(
                path, f"invalid metadata for array {key!r} ({exc})", _FIX_RESAVE
            ) from exc
        try:
            check_spec(key, *headers[key], shape, dtype)
        except StateError as exc:
            raise _fail(path, exc.problem, exc.fix) from None
        specs[key] = (shape, dtype)
    _check_budget(path, specs, max_bytes)
    return specs


def load(path, expected=None, *, max_bytes=MAX_LOAD_BYTES):
    """Load an estimator written by ``model.save(path)``; never runs code.

    The file is opened with ``np.load(path, allow_pickle=False)`` and checked
    (format name and version, class, every array's presence, dtype and shape
    against the metadata and the network they belong to) before an estimator
    is built from it. Prefer this over pickle/joblib for files you did not
    write yourself: unpickling can execute arbitrary code.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save``; when ``path`` does not exist but
        ``path + ".npz"`` does (``save("m")`` writes ``m.npz``), that file is
        read.
    expected : type or str, optional
        The estimator class (or its name) the file must hold, e.g.
        ``tsrnn.RNNForecaster``; a file of another class raises ``ValueError``.
    max_bytes : int or None, default=MAX_LOAD_BYTES (4 GiB)
        Size budget: the most bytes the file's arrays may declare together.
        It is checked from the arrays' headers and the metadata before any
        array is read, and every size the metadata implies (the network's
        parameter count from ``hidden_size``, ``num_layers``, ...; the
        series' states and histories) must equal an array the file holds, so
        nothing larger than the budget is ever allocated. ``None`` lifts it
        (for files you trust).

    Returns
    -------
    RNNForecaster, RNNRegressor or RNNClassifier
        Fitted, with identical predictions to the saved model.

    Raises
    ------
    ValueError
        For a file of another format, version or class, a truncated or edited
        file, arrays over the ``max_bytes`` budget, or values no fitted model
        has (a zero or negative scale, a negative frequency, ...): the message
        names the field.
    FileNotFoundError
        If neither ``path`` nor ``path + ".npz"`` exists (the message names
        both).

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
    path = find_model_file(path)
    if max_bytes is not None and not (
        isinstance(max_bytes, numbers.Integral) and max_bytes > 0
    ):
        raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
    meta, arrays = _read(path, max_bytes)
    name = meta["class"]
    if name not in _REGISTRY:
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
        est = _REGISTRY[name](**_unplain(params))
        validate_params(est)
    except (TypeError, ValueError) as exc:
        raise _fail(
            path, f"invalid estimator parameters in the metadata ({exc})", _FIX_RESAVE
        ) from exc
    try:
        attributes = _unplain(meta["attributes"])
    except (TypeError, ValueError, KeyError) as exc:
        raise _fail(
            path, f"invalid attribute values in the metadata ({exc})", _FIX_RESAVE
        ) from exc
    state = ModelState(attributes, arrays)
    try:
        est._load_state_dict(state)
    except StateError as exc:
        raise _fail(path, exc.problem, exc.fix) from None
    return est
