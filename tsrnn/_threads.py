"""BLAS thread control around the estimators' small matrix products."""

from __future__ import annotations

import contextlib
import threading

import scipy.linalg.cython_blas  # noqa: F401  (the BLAS Numba links: load it first
from threadpoolctl import ThreadpoolController  # so that the controller sees it)

_CONTROLLER: ThreadpoolController | None = None
_N_LIBS = -1


try:  # threadpoolctl >= 3.6: one "controlling" thread may set OpenBLAS limits
    from threadpoolctl import OpenBLASController as _OpenBLASController

    _release_blas_control = _OpenBLASController.clear_controlling_thread
except (ImportError, AttributeError):  # older threadpoolctl: any thread may

    def _release_blas_control(force=False):
        return None


_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_LIMIT = None


@contextlib.contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread; overlapping calls from several threads share it.

    The limit is process-wide, and threadpoolctl's limiter restores on exit the
    limits it saw on entry: two fits or predicts overlapping in two threads
    would restore them out of order (one call then runs on a multi-threaded
    BLAS, whose results differ in the last bit, and the process is left at one
    BLAS thread). threadpoolctl also lets only one "controlling" thread change
    OpenBLAS's limit and silently ignores the others, so a call in a worker
    thread was not limited at all. Here the first caller in, from any thread,
    takes control and sets the limit; the last one out restores it and releases
    control. Why one thread: see :func:`_limit_blas`.
    """
    global _BLAS_USERS, _BLAS_LIMIT
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            _release_blas_control(force=True)
            _BLAS_LIMIT = _limit_blas()
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                limit, _BLAS_LIMIT = _BLAS_LIMIT, None
                _release_blas_control(force=True)  # the last one out may be another
                limit.restore_original_limits()
                _release_blas_control(force=True)


def _limit_blas():
    """Limit BLAS to one thread (threadpoolctl, a sklearn dependency).

    The GEMMs around the scans of a forecasting model are small (``(T * B, G) x
    (G, H)`` per window): a multi-threaded BLAS spends more on waking and joining
    its threads than on the product, and on a busy 2-core machine such products
    were measured at 8 ms instead of 0.07 ms, and a whole forecaster fit 5x
    slower. sklearn's KMeans limits BLAS the same way around its small products.
    SciPy's BLAS (the one Numba's ``np.dot`` calls) is imported before the
    controller is built, so both OpenBLAS libraries are limited; a controller
    built before it was loaded would leave the kernels' BLAS multi-threaded and
    the results thread-count dependent in the last bit.
    """
    global _CONTROLLER, _N_LIBS
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
        _N_LIBS = len(_CONTROLLER.lib_controllers)
    return _CONTROLLER.limit(limits=1, user_api="blas")


def refresh() -> None:
    """Forget the cached library list (call after a BLAS library was first loaded)."""
    global _CONTROLLER
    _CONTROLLER = None
