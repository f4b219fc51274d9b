"""The one place where tsrnn's Numba compilation policy lives.

Every kernel is compiled with :data:`JIT_OPTIONS`: cached on disk (compile time
is a user-visible cost), GIL released (so that ``predict`` can run from several
threads), NumPy's error model (a division by zero gives inf/nan like NumPy
instead of raising inside a time loop), and IEEE semantics (``fastmath=False``)
so that finite-difference checks and bit-for-bit reproducibility hold.
"""

from __future__ import annotations

import os
import pathlib

import numba

JIT_OPTIONS = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)


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
        return numba.njit(**options)
    return numba.njit(**options)(func)


def clear_cache() -> int:
    """Delete tsrnn's on-disk Numba cache files (``*.nbi``/``*.nbc``).

    Numba does not notice when a helper in another file changes (a cached
    kernel keeps the old helper's code), so run this after editing
    ``tsrnn/kernels/_activations.py``.

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
    import sys

    from numba.core.dispatcher import Dispatcher

    seen, hits, misses = set(), 0, 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("tsrnn.") or module is None:
            continue
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher) and id(obj) not in seen:
                seen.add(id(obj))
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    return {"hits": hits, "misses": misses}
