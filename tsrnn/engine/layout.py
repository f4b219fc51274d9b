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
