"""Finding the dataset files and reading them once: the data directory and a cache.

The CSV files live once, in the top-level ``datasets/`` folder of the
repository; ``pip install`` copies it to ``<prefix>/share/tsrnn/datasets``
(see :func:`get_data_dir`). Parsed files are cached in memory, keyed by path,
modification time and size; every loader returns a fresh copy.
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .catalogue import SPECS

#: Environment variable naming a directory that holds the dataset files. When
#: set, it is the only place searched.
DATA_DIR_ENV = "TSRNN_DATA_DIR"

# Where `[tool.setuptools.data-files]` in pyproject.toml installs the files,
# relative to the installation scheme's data directory (the prefix).
_SHARE_PARTS = ("share", "tsrnn", "datasets")
# Files that mark a directory as a tsrnn data directory (a checkout's or an
# installed copy), so that an unrelated `site-packages/datasets/` (the Hugging
# Face package) is never mistaken for ours.
_MARKERS = ("SHA256SUMS", "PROVENANCE.md")


# --------------------------------------------------------------------- locating
def _candidate_dirs() -> Iterator[Path]:
    """Yield the places searched for the data directory, most specific first."""
    pkg = Path(__file__).resolve().parent.parent  # the tsrnn package
    # 1. A source checkout or editable install: <repo>/tsrnn/../datasets.
    yield pkg.parent / "datasets"
    # 2. `pip install .`: data-files go to <scheme data dir>/share/tsrnn/datasets.
    #    The package sits 1 to 4 levels below that prefix depending on the
    #    scheme: --target (<t>/tsrnn), --home (<h>/lib/python/tsrnn),
    #    Windows (<p>/Lib/site-packages/tsrnn), venv, --prefix and --user
    #    (<p>/lib/pythonX.Y/site-packages/tsrnn).
    for ancestor in list(pkg.parents)[:4]:
        yield ancestor.joinpath(*_SHARE_PARTS)
    # 3. The interpreter's own schemes, for layouts not covered above.
    prefixes = [sys.prefix, sys.base_prefix, sysconfig.get_path("data")]
    try:
        prefixes.append(
            sysconfig.get_path("data", sysconfig.get_preferred_scheme("user"))
        )
    except (KeyError, ValueError):  # pragma: no cover - exotic interpreters
        pass
    for prefix in prefixes:
        if prefix:
            yield Path(prefix).joinpath(*_SHARE_PARTS)


def get_data_dir() -> Path:
    """Return the directory the dataset files are read from.

    Returns
    -------
    pathlib.Path
        The first of these that exists:

        1. ``$TSRNN_DATA_DIR`` when that environment variable is set (and
           non-empty). It is then the only place searched, and an error is
           raised if it is not a directory.
        2. ``datasets/`` at the top of the repository holding the imported
           ``tsrnn`` package (a source checkout, ``PYTHONPATH=.`` or an
           editable install).
        3. ``<prefix>/share/tsrnn/datasets``, where ``pip install`` puts the
           files (found for virtual environments, ``--user``, ``--prefix``,
           ``--home`` and ``--target`` installs).

        A directory in 2 or 3 counts only if it holds ``SHA256SUMS`` and
        ``PROVENANCE.md``.

    Raises
    ------
    FileNotFoundError
        If ``$TSRNN_DATA_DIR`` is set but is not a directory, or if no data
        directory is found.

    Examples
    --------
    >>> from tsrnn.datasets import get_data_dir
    >>> (get_data_dir() / "SHA256SUMS").is_file()
    True
    """
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{DATA_DIR_ENV}={env!r} is not a directory; point it at a folder "
                "holding the tsrnn dataset CSV files, or unset it to use the "
                "files shipped with tsrnn"
            )
        return path
    searched = []
    for candidate in _candidate_dirs():
        if all((candidate / marker).is_file() for marker in _MARKERS):
            return candidate
        searched.append(str(candidate))
    raise FileNotFoundError(
        "could not find the tsrnn dataset files (looked in: "
        + ", ".join(dict.fromkeys(searched))
        + f"). Set {DATA_DIR_ENV} to the 'datasets' folder of a tsrnn checkout."
    )


def _path(filename: str) -> Path:
    path = get_data_dir() / filename
    if not path.is_file():
        where = f"{path.parent}" + (
            f" (set by {DATA_DIR_ENV})" if os.environ.get(DATA_DIR_ENV) else ""
        )
        copyleft = {f: s.license for s in SPECS.values() for f in s.files}
        if "GPL" in copyleft.get(filename, ""):
            # pyproject.toml keeps these out of the wheel: datasets/LICENSES/README.md
            raise FileNotFoundError(
                f"dataset file {filename!r} ({copyleft[filename]}) is not in {where}: "
                "tsrnn's wheel leaves out the GPL-3.0 and LGPL-3.0 datasets "
                "(datasets/LICENSES/README.md in the repository says why). Load it "
                f"from a checkout: set {DATA_DIR_ENV} to the 'datasets' folder of a "
                "tsrnn checkout, or install tsrnn from one with pip install -e ."
            )
        raise FileNotFoundError(f"dataset file {filename!r} is missing from {where}")
    return path


@functools.lru_cache(maxsize=32)
def _parse_cached(name: str, key: tuple[tuple[str, int, int], ...]) -> Any:
    # `key` holds (path, mtime, size) per file: a moved, replaced or edited
    # file (or a new TSRNN_DATA_DIR) is parsed afresh instead of served stale.
    return SPECS[name].parse(*(Path(p) for p, _, _ in key))


def read_cached(name: str) -> Any:
    """Return the parsed objects of dataset ``name`` (shared: callers must copy)."""
    key = []
    for filename in SPECS[name].files:
        path = _path(filename)
        stat = path.stat()
        key.append((str(path), stat.st_mtime_ns, stat.st_size))
    try:
        return _parse_cached(name, tuple(key))
    except (ValueError, TypeError) as exc:  # pandas' parser errors are ValueErrors
        files = ", ".join(Path(p).name for p, _, _ in key)
        # pandas' parser advice (format=..., dtype=...) is not for users here
        why = (str(exc).strip().splitlines() or [""])[0].split(" You might")[0]
        raise ValueError(
            f"dataset {name!r} could not be read from {files} in "
            f"{Path(key[0][0]).parent} ({type(exc).__name__}: {why}); the file is "
            "damaged, truncated or edited: restore the original (its checksum is in "
            "SHA256SUMS), or unset " + DATA_DIR_ENV + " to use the shipped files"
        ) from exc


def read_frame_copy(name: str) -> pd.DataFrame:
    """A private copy of dataset ``name``'s frame."""
    # A deep copy: the cache stays intact whatever the caller does (pandas 2
    # without copy-on-write shares the data buffers of a shallow copy).
    return read_cached(name).copy(deep=True)
