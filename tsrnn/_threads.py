"""BLAS thread control around the estimators' small matrix products."""

from __future__ import annotations

import scipy.linalg.cython_blas  # noqa: F401  (the BLAS Numba links: load it first
from threadpoolctl import ThreadpoolController  # so that the controller sees it)

_CONTROLLER: ThreadpoolController | None = None
_N_LIBS = -1


def single_threaded_blas():
    """Context that limits BLAS to one thread (threadpoolctl, a sklearn dependency).

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
