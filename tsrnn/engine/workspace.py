"""Work arrays of the scans, recycled from call to call when nobody holds them.

A training step at H = 128 allocates about 13 MB of arrays (gates, states,
product rows) and frees them at its end. glibc then gives most of that memory
back to the OS (its heap is trimmed once the free top exceeds twice the
largest recent block), and the next step takes it back one page fault at a
time: 2,100-4,400 minor faults per step at H = 128-256, 15-22 % of the step's
CPU time, measured (float32 LSTM, B = 64, T = 48). NumPy has no cache for
arrays that size.

:func:`take` hands out an array of a given shape and dtype, reusing one it
handed out before if that array is no longer referenced anywhere else: its
reference count is then the pool's own, and views keep their base alive, so
an array whose view a caller still holds (a returned output, a cached gate
array) is never reused. The contents are arbitrary, as ``np.empty``'s.
The pool keeps a few arrays per shape and a bounded number of bytes; past
that, :func:`take` is ``np.empty``.

:class:`Spares` is for scratch arrays a call uses only while it runs (packed
weights, bias rows, a backward's zeros): their owner (a stack, a network)
lends them to one call at a time and gets them back at its end, so a step
makes none of them (each an allocation and, for the aligned panels, about
3 us of Python a call).
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict

import numpy as np

MAX_BYTES = 256 * 2**20  # pooled memory, all shapes together
MAX_PER_KEY = 4  # arrays per (shape, dtype): stacks of several layers
MIN_BYTES = 256 * 2**10  # below this, malloc reuses memory without faults

_pool: OrderedDict = OrderedDict()  # (shape, dtype) -> [arrays], least recent first
_bytes = 0
_lock = threading.Lock()


def _refcounts(arrays) -> list:
    """Reference counts of the arrays of a list, all taken the same way."""
    out = []
    for a in arrays:
        out.append(sys.getrefcount(a))
    return out


# the count of an array only the pool's list holds, measured rather than
# assumed (interpreters differ in the references a loop takes)
_FREE = _refcounts([np.empty(0)])[0]


def take(shape, dtype) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` with arbitrary contents.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    ndarray
        C-contiguous and writable; not shared with any live array.
    """
    global _bytes
    dtype = np.dtype(dtype)
    shape = tuple(map(int, shape))
    nbytes = math.prod(shape) * dtype.itemsize  # (np.prod: ~6 us a call)
    if nbytes < MIN_BYTES or nbytes > MAX_BYTES:
        return np.empty(shape, dtype)
    key = (shape, dtype.str)
    with _lock:
        arrays = _pool.get(key)
        if arrays is not None:
            _pool.move_to_end(key)
            for a, refs in zip(arrays, _refcounts(arrays)):
                if refs == _FREE:
                    return a
        a = np.empty(shape, dtype)
        if arrays is None:
            arrays = _pool[key] = []
        if len(arrays) < MAX_PER_KEY:
            arrays.append(a)
            _bytes += nbytes
            _evict()
        return a


def _evict() -> None:
    """Drop free arrays of the least recently used shapes past MAX_BYTES."""
    global _bytes
    for key in list(_pool):
        if _bytes <= MAX_BYTES:
            return
        arrays = _pool[key]
        keep = []
        for a, refs in zip(arrays, _refcounts(arrays)):
            if _bytes > MAX_BYTES and refs == _FREE:
                _bytes -= a.nbytes
            else:
                keep.append(a)
        if keep:
            _pool[key] = keep
        else:
            del _pool[key]


def clear() -> None:
    """Forget every pooled array (the memory goes when its last user lets go)."""
    global _bytes
    with _lock:
        _pool.clear()
        _bytes = 0


class Spares:
    """Scratch arrays of one owner, lent to a call and given back at its end.

    For the arrays a call uses only while it runs (packed weights, a bias row,
    product rows): :meth:`get` hands out the one given back under ``key`` if
    its shape and dtype fit, else a new one from ``make``; :meth:`put` gives it
    back. An array is lent to one call at a time (``dict.pop`` is atomic: a
    call running beside it in another thread makes its own), and one is kept
    per key, so the memory is bounded by the owner's keys. The contents are
    whatever the last user left (``np.empty``'s, for callers that overwrite
    them; a zero array that callers only read stays zero).
    """

    __slots__ = ("_free",)

    def __init__(self):
        self._free = {}

    def get(self, key, shape, dtype, make=np.empty) -> np.ndarray:
        """The array kept under ``key`` if it has ``shape`` and ``dtype``, else ``make(shape, dtype)``."""
        a = self._free.pop(key, None)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = make(shape, dtype)
        return a

    def put(self, key, a) -> None:
        """Give ``a`` back under ``key`` (for the next :meth:`get` or :meth:`lend`)."""
        self._free[key] = a

    def lend(self, key, sig, make) -> tuple:
        """``(sig, value)`` kept under ``key`` if made for ``sig``, else ``(sig, make())``.

        For a group of arrays lent together (one look-up a call); give the
        pair back with :meth:`put`.
        """
        entry = self._free.pop(key, None)
        if entry is None or entry[0] != sig:
            entry = (sig, make())
        return entry


def spares(owner) -> Spares:
    """The :class:`Spares` of ``owner`` (made at the first call; kept in its
    ``__dict__`` as ``_spares``, which the owner's pickling drops)."""
    sp = owner.__dict__.get("_spares")
    if sp is None:
        sp = owner.__dict__.setdefault("_spares", Spares())
    return sp
