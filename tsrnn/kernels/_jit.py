"""The one place where tsrnn's Numba compilation policy lives.

Every kernel is compiled with :data:`JIT_OPTIONS`: cached on disk (compile time
is a user-visible cost), GIL released (so that ``predict`` can run from several
threads), NumPy's error model (a division by zero gives inf/nan like NumPy
instead of raising inside a time loop), and IEEE semantics (``fastmath=False``)
so that finite-difference checks and bit-for-bit reproducibility hold.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pathlib
import sys
import threading

import numba
from numba.core import event, sigutils
from numba.core.caching import FunctionCache

try:  # POSIX: a lock file serializes the cache writes of several processes
    import fcntl
except ImportError:  # pragma: no cover  (Windows: the signature check alone)
    fcntl = None

JIT_OPTIONS = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)

#: The lock file of a Numba cache directory (see :class:`_ProcessSafeCache`).
CACHE_LOCK_NAME = "tsrnn-numba-cache.lock"


@contextlib.contextmanager
def _cache_dir_lock(path):
    """Hold an exclusive lock on ``path``'s lock file (nothing if none can be made)."""
    handle = None
    if fcntl is not None:
        try:
            os.makedirs(path, exist_ok=True)
            handle = open(os.path.join(path, CACHE_LOCK_NAME), "a")
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a read-only cache directory: Numba will not save there
            if handle is not None:
                handle.close()
            handle = None
    try:
        yield
    finally:
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


#: The package directories whose Python files the kernels are compiled from
#: (kernels, their intrinsics and inlined helpers, the smoothing filters).
KERNEL_SOURCE_DIRS = ("kernels", "smoothing")


@functools.lru_cache(maxsize=1)
def kernel_sources_digest() -> bytes:
    """SHA-256 of every Python file in :data:`KERNEL_SOURCE_DIRS`, read once per process.

    Numba stamps a cached kernel with its own source file only, so a kernel
    whose file did not change keeps its machine code when a helper it inlines
    or an intrinsic it calls (``_activations``, ``_cellrows``, ``_linalg``)
    changes: after a ``git pull`` into an editable install, or an upgrade
    that leaves the old ``__pycache__`` in place, the old code runs,
    silently. With this digest in every kernel's stamp (:class:`_ProcessSafeCache`),
    any change to those files compiles every kernel afresh once. Empty when
    the sources cannot be read (a frozen application): Numba's stamp alone.
    """
    root = pathlib.Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    try:
        for name in KERNEL_SOURCE_DIRS:
            for path in sorted((root / name).glob("*.py")):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    except OSError:
        return b""
    return digest.digest()


class _ProcessSafeCache(FunctionCache):
    """Numba's on-disk cache of one kernel, safe when processes share it.

    Numba saves a new specialization by reading the kernel's index file,
    taking the next free data file number, and writing the index and then
    the data file, with no lock between processes. Two processes compiling
    two specializations of one kernel at once (the workers of ``n_jobs``, a
    Dask cluster's processes, two test jobs on one checkout) can both take
    the same number: the index then names one signature and the data file
    holds the other's machine code, which every later process loads and runs
    on the wrong argument types, silently (demonstrated: an int64 call
    returned 5e-323 from the float64 code). Here saves hold a lock file in
    the cache directory, and a loaded specialization whose signature is not
    the one asked for is dropped (compiled again, which also repairs the
    entry) rather than run.

    The index's source stamp also carries :func:`kernel_sources_digest`: an
    entry compiled from other kernel sources than these is stale.
    """

    def __init__(self, py_func):
        super().__init__(py_func)
        cache_file = self._cache_file
        cache_file._source_stamp = (cache_file._source_stamp, kernel_sources_digest())

    def load_overload(self, sig, target_context):
        cres = super().load_overload(sig, target_context)
        if cres is None:
            return None
        args, _ = sigutils.normalize_signature(sig)
        if tuple(cres.signature.args) != tuple(args):
            return None
        return cres

    def save_overload(self, sig, data):
        with _cache_dir_lock(self._cache_path):
            super().save_overload(sig, data)


def _process_safe(dispatcher):
    if isinstance(getattr(dispatcher, "_cache", None), FunctionCache):
        dispatcher._cache = _ProcessSafeCache(dispatcher.py_func)
    return dispatcher


def jit(func=None, **overrides):
    """Compile ``func`` with the package defaults.

    Parameters
    ----------
    func : callable, optional
        The function to compile. When omitted, a decorator is returned.
    **overrides
        Options that differ from :data:`JIT_OPTIONS`; comment why where used.
    """
    options = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: _process_safe(numba.njit(**options)(f))
    return _process_safe(numba.njit(**options)(func))


def clear_cache() -> int:
    """Delete tsrnn's on-disk Numba cache files (``*.nbi``/``*.nbc``).

    Not needed after editing a kernel's helpers (every kernel's cache entry
    carries :func:`kernel_sources_digest`); for a clean cache directory, or
    a compile-time measurement from nothing.

    Returns
    -------
    int
        The number of files deleted.
    """
    roots = [pathlib.Path(__file__).parent.parent]  # the whole tsrnn package
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(pathlib.Path(os.environ["NUMBA_CACHE_DIR"]))
    n = 0
    for root in roots:
        for pattern in ("*.nbi", "*.nbc"):
            for path in root.rglob(pattern):
                path.unlink(missing_ok=True)
                n += 1
    return n


def _is_ours(dispatcher) -> bool:
    return getattr(dispatcher.py_func, "__module__", "").startswith("tsrnn.")


def _tsrnn_dispatchers():
    """Every Numba dispatcher defined in a module of tsrnn imported so far."""
    from numba.core.dispatcher import Dispatcher

    seen = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("tsrnn.") or module is None:
            continue
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher) and _is_ours(obj):
                seen[id(obj)] = obj
    return list(seen.values())


def kernel_label(dispatcher, args) -> str:
    """``module.function[dtype]``: a kernel and its first array argument's dtype."""
    py = dispatcher.py_func
    dtypes = [str(a.dtype) for a in args if isinstance(a, numba.types.Array)]
    suffix = f"[{dtypes[0]}]" if dtypes else ""
    return f"{py.__module__}.{py.__name__}{suffix}"


class _CompileListener(event.Listener):
    """Calls ``on_compile(dispatcher, args)`` when a kernel of tsrnn starts compiling.

    Numba raises the ``numba:compile`` event only for a real compilation,
    never for a specialization loaded from the on-disk cache, so listening
    costs nothing when the cache is warm. Only compilations on the thread that
    installed the listener are reported (another thread's predict is not this
    fit's business).
    """

    def __init__(self, on_compile):
        self.on_compile = on_compile
        self.thread = threading.get_ident()

    def on_start(self, ev):
        d = ev.data["dispatcher"]
        if threading.get_ident() == self.thread and _is_ours(d):
            self.on_compile(d, ev.data["args"])

    def on_end(self, ev):
        """Nothing: the notice is printed when a compilation starts.

        numba's ``Listener`` is abstract in both hooks, so this one is spelled out.
        """


@contextlib.contextmanager
def on_compile(callback):
    """Within the block, ``callback(dispatcher, args)`` for each kernel compiled.

    Loads from the on-disk cache are not compilations and are not reported.
    """
    listener = _CompileListener(callback)
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)


COMPILING_MESSAGE = "compiling kernels (first use only)"


@contextlib.contextmanager
def announce_compilation(verbose):
    """Print :data:`COMPILING_MESSAGE` once (stderr) if a kernel compiles in the block.

    For ``verbose`` fits: the first fit in a fresh environment spends seconds
    compiling before its first epoch, and says so rather than look stuck.
    Detecting a cold cache costs nothing: Numba announces real compilations
    only (``tsrnn.warmup`` does the compiling ahead of time).
    """
    if not verbose:
        yield
        return
    said = []

    def say(dispatcher, args):
        if not said:
            said.append(True)
            print(COMPILING_MESSAGE, file=sys.stderr, flush=True)

    with on_compile(say):
        yield


def specializations() -> dict:
    """``{dispatcher: set of signatures}``: the kernels compiled or loaded so far."""
    return {d: set(d.overloads) for d in _tsrnn_dispatchers()}


def cache_stats() -> dict:
    """Numba on-disk cache hits and misses of tsrnn's kernels in this process.

    A hit is a compiled specialization loaded from the cache; a miss is one that
    was compiled here. Workers of a process pool or a Dask cluster that start
    after the parent has run the same kernels should show hits and no misses:
    they share the cache directory instead of recompiling per task.

    Returns
    -------
    dict
        ``{"hits": int, "misses": int}`` summed over every kernel imported so
        far from ``tsrnn``'s modules.
    """
    hits = misses = 0
    for d in _tsrnn_dispatchers():
        hits += sum(d.stats.cache_hits.values())
        misses += sum(d.stats.cache_misses.values())
    return {"hits": hits, "misses": misses}
