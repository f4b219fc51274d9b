"""Reading a model file: each part checked before it is read, then :func:`load`.

The file is recognised from its first bytes, every member's ``.npy`` header
is read before its data, the metadata is parsed once its size fits the budget,
and the arrays it lists are checked against those headers and their total
against ``max_bytes`` (:data:`MAX_LOAD_BYTES` by default) before any is read.
:func:`load` then builds the registered estimator from the parameters and
hands the state to its ``_load_state_dict``.
"""

from __future__ import annotations

import errno
import json
import numbers
import os
import zipfile

import numpy as np

from .._constraints import validate_params
from .._version import __version__
from .fileformat import (
    _FIX_RESAVE,
    _META,
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    _fail,
)
from .jsonvalues import _unplain
from .protocol import ModelState, StateError, check_spec
from .registry import _REGISTRY

#: Default size budget of :func:`load`: the most bytes the arrays of a model
#: file may declare (checked from their headers, before any is read).
MAX_LOAD_BYTES = 4 * 2**30

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
