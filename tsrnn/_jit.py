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
    roots = [pathlib.Path(__file__).parent]
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(pathlib.Path(os.environ["NUMBA_CACHE_DIR"]))
    n = 0
    for root in roots:
        for pattern in ("*.nbi", "*.nbc"):
            for path in root.rglob(pattern):
                path.unlink(missing_ok=True)
                n += 1
    return n
