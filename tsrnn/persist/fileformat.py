"""The model file's format and its atomic writing.

The constants that name the format (:data:`FORMAT_NAME`, :data:`FORMAT_VERSION`,
the metadata member), :class:`ModelFileError` and the messages that name a
damaged file, the path rule of ``save`` (:func:`model_path`) and
:func:`write_atomic`, which replaces a file all or nothing; every other module
of :mod:`tsrnn.persist` builds on these.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat

FORMAT_NAME = "tsrnn-model"
FORMAT_VERSION = 1
_META = "__metadata__"


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
