"""Thread control: the scans' row threads and the BLAS limit around small products.

Two jobs, both about who computes on which thread:

* :func:`run_rows` / :func:`run_tasks` split the independent streams of a batch
  (and the hoisted products) between plain Python threads, the kernels
  releasing the GIL;
* :func:`project` and :func:`hoisted_products`, the matrix products before and
  after a scan, are split by rows between the same threads;
* :func:`single_threaded_blas` keeps the BLAS library at one thread around the
  engine's small matrix products (why: see :func:`_limit_blas`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (the BLAS Numba links: load it first
from threadpoolctl import ThreadpoolController  # so that the controller sees it)

from ..kernels._linalg import pack_panels, panel_matmul, panel_width
from ..kernels.gemm_tn import tn_accumulate

# ---------------------------------------------------------------- row threads
# The B streams of a batch are independent through the whole scan, forward and
# backward, so the scans split the batch into row ranges and run them in
# threads (the kernels release the GIL): no barrier per time step, and every
# row's arithmetic is the same whatever the split, so results do not depend on
# the thread count. Below PARALLEL_WORK multiply-adds per thread, waking a
# thread (about 25 us) and sharing the caches cost more than they save, and one
# thread does it all. At 1.5M a fit of a short collection (LSTM 64, windows of
# 7M multiply-adds split in two) took the same wall time on two threads as on
# one and a fifth more CPU (M3 other: 0.94 s wall either way, 1.14 against
# 0.93 s CPU; M3 yearly 0.91 against 0.85 s wall); the engine benchmark's
# windows (B 64, T 48, H >= 32: 14M and up) split as before.
# The thread count is Numba's (NUMBA_NUM_THREADS, read at each call); the
# threads are plain Python threads, so nothing starts Numba's threading layer.
MIN_ROWS = 4  # the kernels' register tile is 4 rows tall
PARALLEL_WORK = 4_000_000
MAX_PARTS = 8
_pool = None
_pool_key = None
_pool_lock = threading.Lock()
# A forecaster's fit asks twice as much work of each thread (fewer_splits(2)):
# its calls are many and small (M3 other: windows of 26-30 streams, T 16,
# H 64; reads of 8-10 series), and a split that gives each thread 4-6M
# multiply-adds (0.1-0.2 ms) paid a hand-off of about 70 us and the second
# thread's cold caches, more than it saved: the fit took 0.412 s CPU and
# 0.418 s wall at 8M per thread against 0.429 / 0.429 s at 4M (one thread:
# 0.410 / 0.415; the best of 5 each, same bits). The windows of a longer
# collection (M3 monthly: 32 streams, T 32, 17M) and the engine benchmark's
# (B 64, T 48, H >= 32: 14M and up, not a fit) split as before.
_split_scale = threading.local()


def n_threads() -> int:
    """Threads for the scans: Numba's setting (``NUMBA_NUM_THREADS``)."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def parallel_work() -> float:
    """Multiply-adds each thread must get for a call to be split.

    :data:`PARALLEL_WORK`, times the factor of the :func:`fewer_splits` in
    force in the calling thread.
    """
    return PARALLEL_WORK * getattr(_split_scale, "factor", 1)


@contextlib.contextmanager
def fewer_splits(factor: float):
    """Ask ``factor`` times :data:`PARALLEL_WORK` of each thread, in this thread.

    Only where calls split (rows, products, weight gradients), never what a
    row computes: the bits are those of any split.
    """
    before = getattr(_split_scale, "factor", 1)
    _split_scale.factor = before * factor
    try:
        yield
    finally:
        _split_scale.factor = before


def _get_pool(n_workers):
    global _pool, _pool_key
    with _pool_lock:
        # a forked child inherits the pool object but not its threads
        pid, size = _pool_key or (None, 0)
        if pid != os.getpid() or size < n_workers:
            _pool = ThreadPoolExecutor(n_workers, thread_name_prefix="tsrnn")
            _pool_key = (os.getpid(), n_workers)
        return _pool


def run_tasks(groups):
    """Run lists of callables, one list per thread (the first in this thread)."""
    groups = [g for g in groups if g]

    def run(group):
        for task in group:
            task()

    if len(groups) <= 1:
        run(groups[0] if groups else ())
        return
    pool = _get_pool(len(groups) - 1)
    futures = [pool.submit(run, g) for g in groups[1:]]
    try:
        run(groups[0])
    finally:
        for f in futures:
            f.result()


def run_rows(kernel, args, rows, work_per_row):
    """Call ``kernel(*args, r0, r1)`` over ``[0, rows)``, split between threads.

    Parameters
    ----------
    kernel : Numba dispatcher taking the row range as its last two arguments
    args : tuple
    rows : int
    work_per_row : float
        Multiply-adds per row, to decide whether threads pay off.
    """
    n = min(n_threads(), rows // MIN_ROWS, int(rows * work_per_row // parallel_work()))
    if n <= 1:
        kernel(*args, 0, rows)
        return
    step = -(-rows // n)
    step = -(-step // MIN_ROWS) * MIN_ROWS
    run_tasks(
        [
            [lambda lo=lo: kernel(*args, lo, min(rows, lo + step))]
            for lo in range(0, rows, step)
        ]
    )


# ------------------------------------------------------------ split products
# OpenBLAS runs a product of fewer multiply-adds than this on one thread
_BLAS_THREADED = 262_144
# Rows per part of a split product, at least: every BLAS call packs the whole
# right-hand operand again (the (T B, I + H + 1) rows of the weight gradients,
# 850 KB at H = 64), so parts of 32 rows spent about as long packing as
# multiplying. A float32 LSTM training step (B 64, T 48) with parts of >= 32 /
# 128 / 256 rows, one core free: H 32 2.22 / 2.01 / 2.08 ms, H 64 4.88 / 4.57 /
# 4.34, H 128 13.3 / 12.8 / 12.2 (same bits). 128 keeps two parts for two
# threads from H = 64.
PART_ROWS = 128
# Part boundaries on multiples of this: OpenBLAS's results do not depend on
# such a split. Its kernels compute rows in tiles (float32: 16 rows with
# AVX-512, 24 with AVX2 on Haswell and Zen; float64: 16 and 4), and a part
# boundary inside a tile changes the bits of the rows around it. Measured:
# float32, M = 63-1024, single-threaded, splits at multiples of 32 gave the
# same bits on AVX-512 but differed on AVX2 in 700-9000 entries (1 ulp); at
# multiples of 24 and 48 none did. 48 is a multiple of every tile above.
_BLAS_ROWS = 48


def hoisted_products(products):
    """``out += a @ b`` (or ``out[...] = a @ b``) for the GEMMs after a scan.

    Parameters
    ----------
    products : list of (a, b, out, accumulate)
        2-D arrays; ``out`` is (M, N).

    Notes
    -----
    NumPy's BLAS (the only BLAS library the engine calls), with its own
    threads limited to one and each product split by rows between the scans'
    threads instead: OpenBLAS's idle threads spin for a while after each
    multi-threaded call, and the next window's scans then ran against them (a
    whole LSTM training step took 1.6x longer, H = 64, 2 threads, measured).
    The row blocks depend on the sizes only, not on the thread count, so
    neither do the results.
    """
    if not products:  # (a training step's first layer: no input gradient)
        return
    n = n_threads()
    groups = [[] for _ in range(n)]
    big = False
    for a, b, out, accumulate in products:
        M, K = a.shape
        work = M * K * b.shape[1]
        big = big or work >= _BLAS_THREADED
        parts = max(1, min(MAX_PARTS, M // PART_ROWS, int(work // parallel_work())))
        step = -(-M // parts)
        step = -(-step // _BLAS_ROWS) * _BLAS_ROWS
        for k, lo in enumerate(range(0, M, step)):
            hi = min(M, lo + step)

            def task(a=a, b=b, out=out, lo=lo, hi=hi, accumulate=accumulate):
                if accumulate:
                    out[lo:hi] += a[lo:hi] @ b
                else:
                    np.matmul(a[lo:hi], b, out=out[lo:hi])

            groups[k % n].append(task)
    if big:
        with single_threaded_blas():
            run_tasks(groups)
    else:
        run_tasks(groups)


def weight_gradients(xh2, da2, padded=False, scratch=None):
    """``xh2^T da2`` (``(K, M)^T (K, N)``), columns split between the scans' threads.

    The weight gradients of a layer after its backward scan
    (:mod:`tsrnn.kernels.gemm_tn`); returns ``(M, N)``, or with ``padded``
    the C-contiguous ``(M, P NR)`` array it is the first ``N`` columns of
    (whole panels; what :func:`~tsrnn.kernels.gemm_tn.add_transposed` reads
    in one layout). Each thread takes whole panels of columns (and packs only
    those); every element's sum runs in one order, so the bits do not depend
    on the split. ``scratch``: the packing buffers of a call on one thread
    (``tn_accumulate``'s ``wp, wp_last``; two aligned allocations a call
    otherwise).
    """
    K, M = xh2.shape
    N = da2.shape[1]
    nr = panel_width(da2.dtype)
    P = -(-N // nr)
    n = min(n_threads(), P, int(K * M * N // parallel_work()))
    if n <= 1:
        out = np.zeros((M, P * nr), dtype=da2.dtype)
        tn_accumulate(xh2, da2, out, 0, *(scratch or (None, None)))
        return out if padded else out[:, :N]
    per = -(-P // n)
    parts = [np.zeros((M, min(per, P - q) * nr), dtype=da2.dtype) for q in range(0, P, per)]
    run_tasks(
        [
            [lambda out=out, k=k: tn_accumulate(xh2, da2, out, k * per * nr)]
            for k, out in enumerate(parts)
        ]
    )
    out = np.concatenate(parts, axis=1)
    return out if padded else out[:, :N]


def project(x2, w, bias):
    """``x2 @ w.T + bias`` through the scans' tile, rows split between threads.

    Parameters
    ----------
    x2 : ndarray of shape (N, I), C-contiguous
    w : ndarray of shape (G, I)
        torch's layout.
    bias : ndarray of shape (G,) or None
        None: zeros (one compiled specialization of the tile for all calls).
    """
    N, I = x2.shape
    G = w.shape[0]
    bias = np.zeros((1, G), x2.dtype) if bias is None else bias.reshape(1, G)
    out = np.empty((N, G), dtype=x2.dtype)
    run_rows(panel_matmul, (x2, pack_panels(w.T), bias, out), N, G * I)
    return out


# ------------------------------------------------------------------ BLAS limit
_CONTROLLER: ThreadpoolController | None = None

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


class _BlasLimit:
    """One BLAS thread in every BLAS library until :meth:`restore_original_limits`.

    What ``ThreadpoolController.limit(limits=1, user_api="blas")`` does, on
    the library controllers found once: threadpoolctl's limiter rebuilds its
    bookkeeping at every call (about 30 us per enter and exit here, measured,
    paid by every training step and prediction called outside a fit).
    """

    def __init__(self, libs):
        self._libs = libs
        self._original = [lib.get_num_threads() for lib in libs]
        for lib in libs:
            lib.set_num_threads(1)

    def restore_original_limits(self):
        for lib, n in zip(self._libs, self._original):
            if n is not None:
                lib.set_num_threads(n)


_BLAS_LIBS: list = []


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
    global _CONTROLLER, _BLAS_LIBS
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
        _BLAS_LIBS = [
            lib for lib in _CONTROLLER.lib_controllers if lib.user_api == "blas"
        ]
    return _BlasLimit(_BLAS_LIBS)
