"""Flat parameter vectors with named, shaped views (PyTorch's names).

Every model in tsrnn keeps all its parameters in one contiguous 1-D array
``theta``; a :class:`ParamLayout` says where each named tensor lives in it. The
gradient has the same layout, so an optimizer is one vector update, gradient
clipping is one norm, and ``scipy.optimize.minimize(jac=True)`` could work on
``theta`` directly (scikit-learn's ``_pack`` idea, made permanent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from math import prod

import numpy as np


@dataclass(frozen=True)
class ParamSlot:
    """Where one named tensor lives in the flat vector."""

    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


class ParamLayout:
    """An ordered table of ``(name, shape, start, stop)`` over a flat vector.

    Parameters
    ----------
    entries : iterable of (str, tuple of int)
        Tensor names and shapes, in storage order.

    Examples
    --------
    >>> layout = ParamLayout([("weight", (2, 3)), ("bias", (2,))])
    >>> theta = np.arange(layout.size, dtype=float)
    >>> layout.view(theta, "bias")
    array([6., 7.])
    """

    def __init__(self, entries: Iterable[tuple[str, tuple[int, ...]]]):
        slots = []
        start = 0
        for name, shape in entries:
            shape = tuple(int(s) for s in shape)
            stop = start + prod(shape)
            slots.append(ParamSlot(name, shape, start, stop))
            start = stop
        self._slots = {s.name: s for s in slots}
        if len(self._slots) != len(slots):
            raise ValueError("duplicate parameter names in layout")
        self.size = start
        self._recent = IdentityCache()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_recent"] = None  # arrays of a past call: not part of the layout
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._recent = IdentityCache()

    def __iter__(self) -> Iterator[ParamSlot]:
        return iter(self._slots.values())

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, name: str) -> bool:
        return name in self._slots

    def __getitem__(self, name: str) -> ParamSlot:
        return self._slots[name]

    @property
    def names(self) -> list[str]:
        """Tensor names in storage order."""
        return list(self._slots)

    def view(self, flat: np.ndarray, name: str) -> np.ndarray:
        """A zero-copy view of tensor ``name`` in ``flat``."""
        s = self._slots[name]
        return flat[s.start : s.stop].reshape(s.shape)

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """All tensors of ``flat`` as zero-copy views, keyed by name."""
        return {
            n: flat[s.start : s.stop].reshape(s.shape) for n, s in self._slots.items()
        }

    def recent_views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`views` of ``flat``, the same dict again for the same array.

        For the engine's hot paths, which take the views of one parameter
        vector at every step (a training step asked for six dicts, about a
        twentieth of its Python time at M3 other's sizes): the dicts of the
        last two arrays are kept (the weights and a gradient alternate). The
        same array object always has the same buffer, so the views stay
        right while it lives; callers must not modify the dict.
        """
        return self._recent.get(flat, self.views)


class IdentityCache:
    """``build(key)`` for the last two ``key`` objects, by identity.

    Thread-safe in the sense that matters: an entry is a ``(key, value)``
    tuple swapped in whole, so a race can only forget an entry, never pair a
    value with another key. The keys are held (alive) until replaced.
    """

    __slots__ = ("_a", "_b")

    def __init__(self):
        self._a = self._b = None

    def get(self, key, build):
        a = self._a
        if a is not None and a[0] is key:
            return a[1]
        b = self._b
        if b is not None and b[0] is key:
            self._a, self._b = b, a
            return b[1]
        value = build(key)
        self._a, self._b = (key, value), a
        return value
