"""BLAS thread control around the estimators' small matrix products."""

from __future__ import annotations

from threadpoolctl import ThreadpoolController

_CONTROLLER: ThreadpoolController | None = None
_N_LIBS = -1


def single_threaded_blas():
    """Context that limits BLAS to one thread (threadpoolctl, a sklearn dependency).

    The GEMMs around the scans of a forecasting model are small (``(T * B, G) x
    (G, H)`` per window): a multi-threaded BLAS spends more on waking and joining
    its threads than on the product, and on a busy 2-core machine such products
    were measured at 8 ms instead of 0.07 ms, and a whole forecaster fit 5x
    slower. sklearn's KMeans limits BLAS the same way around its small products.
    The controller is rebuilt when new BLAS libraries were loaded (Numba loads
    SciPy's OpenBLAS at its first ``np.dot``).
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
