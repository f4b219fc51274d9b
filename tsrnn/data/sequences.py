"""Ragged input of the window models: sequences of different lengths.

A user passes sequences of different lengths (sessions, machine cycles,
trips) to ``RNNRegressor``/``RNNClassifier`` in one of two forms:

* a list (or tuple) of arrays, one per sequence, each ``(T_i,)`` or
  ``(T_i, n_features)`` (pandas Series and DataFrames too): a 1-D sequence is
  read like a row of a 2-D ``X``, time-major with ``input_size`` features per
  step (one, by default);
* a 3-D array ``(n, T, n_features)`` padded with NaN: a sequence ends at its
  last step that is not all NaN, and the all-NaN steps after it are padding.

Both become :class:`Sequences`: a zero-padded copy and the lengths. The
padding is never read (the models run each length on its own), so its value
does not matter. Every problem gets a message that names the sequence, the
step and the fix; nothing the user passed is modified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .checks import check_window_dtype

_FORMS = (
    "a list of arrays (T_i,) or (T_i, n_features), or a 3-D array "
    "(n, T, n_features) padded with NaN after each sequence's end"
)


@dataclass(frozen=True)
class Sequences:
    """Sequences of different lengths, zero-padded to the longest.

    Parameters
    ----------
    values : ndarray of shape (n, max_length, n_features)
        Sequence ``i`` is ``values[i, :lengths[i]]``; the rest is zero and
        never read.
    lengths : ndarray of shape (n,), int64
        Steps of each sequence, at least 1.
    """

    values: np.ndarray
    lengths: np.ndarray

    @property
    def n(self) -> int:
        """Number of sequences."""
        return len(self.lengths)

    @property
    def n_features(self) -> int:
        """Features per step."""
        return self.values.shape[2]

    @property
    def max_length(self) -> int:
        """Steps of the longest sequence."""
        return self.values.shape[1]

    def take(self, rows) -> Sequences:
        """The sequences ``rows`` (a slice or indices), trimmed to their longest."""
        lengths = self.lengths[rows]
        longest = int(lengths.max()) if len(lengths) else 0
        return Sequences(self.values[rows, :longest], lengths)


def _is_array_like(e: Any) -> bool:
    return isinstance(e, (pd.Series, pd.DataFrame)) or (
        isinstance(e, np.ndarray) and e.ndim >= 1
    )


def is_sequence_input(X: Any) -> bool:
    """Whether ``X`` is ragged input: a list of sequences or a NaN-padded 3-D array.

    A list or tuple whose items are arrays (or nested lists of different
    lengths) is a list of sequences; a 3-D float array holding NaN is padded.
    Everything else (2-D rows, 3-D windows without NaN, DataFrames, nested
    lists of equal lengths) is left to the window models' usual path.
    """
    if isinstance(X, (list, tuple)):
        if not X:
            return False
        if any(_is_array_like(e) for e in X):
            return True
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError):  # nested lists of different lengths
            return True
        return _is_padded(arr)
    return isinstance(X, np.ndarray) and not isinstance(X, np.ma.MaskedArray) and (
        _is_padded(X)
    )


def _is_padded(arr: np.ndarray) -> bool:
    return arr.ndim == 3 and arr.dtype.kind == "f" and bool(np.isnan(arr).any())


def read_sequences(X: Any, input_size: int, dtype, what: str = "X") -> Sequences:
    """Check and copy ragged input (see :func:`is_sequence_input`).

    Parameters
    ----------
    X : list of array-like, or ndarray of shape (n, T, n_features) with NaN padding
    input_size : int
        Features per step of 1-D sequences (a 1-D sequence holds
        ``T_i * input_size`` values, time-major).
    dtype : numpy float dtype
        Of the copy.
    what : str, default="X"
        The argument's name, for messages.

    Returns
    -------
    Sequences

    Raises
    ------
    ValueError
        An empty list or sequence, sequences with different features per
        step, NaN inside a sequence (or any NaN in a list's sequences), a step
        that is NaN in some features only, infinite values, a 1-D sequence
        whose length is not a multiple of ``input_size``, a rank other than
        1 or 2 per sequence.
    TypeError
        Text, datetimes or other values that are not numbers.
    """
    dtype = np.dtype(dtype)
    if isinstance(X, np.ndarray) or not any(_is_array_like(e) for e in X):
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError):
            arr = None
        if arr is not None and _is_padded(arr):
            return _read_padded(arr, dtype, what)
    return _read_list(X, input_size, dtype, what)


def _read_padded(arr: np.ndarray, dtype: np.dtype, what: str) -> Sequences:
    n, T, _ = arr.shape
    nan = np.isnan(arr)
    pad = nan.all(axis=2)  # (n, T): whole steps of NaN
    partial = nan.any(axis=2) & ~pad
    if partial.any():
        i, t = np.argwhere(partial)[0]
        raise ValueError(
            f"{what}[{i}] is NaN in some but not all features of step {t}. In a "
            f"NaN-padded 3-D {what}, padding is whole steps (every feature NaN) "
            "after a sequence's end; a missing value inside a sequence cannot be "
            "read: impute it, or cut the sequence before that step"
        )
    real = ~pad
    lengths = np.where(real.any(axis=1), T - np.argmax(real[:, ::-1], axis=1), 0)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(
            f"{what}[{empty[0]}] is NaN at every step: an empty sequence "
            f"({empty.size} in all). Each sequence needs at least one step: drop "
            f"the empty ones (keep = ~np.isnan({what}).all(axis=(1, 2)))"
        )
    inside = pad & (np.arange(T)[None, :] < lengths[:, None])
    if inside.any():
        i, t = np.argwhere(inside)[0]
        raise ValueError(
            f"{what}[{i}] is NaN at step {t}, before its last value at step "
            f"{lengths[i] - 1}: NaN inside a sequence rather than trailing "
            f"padding. In a NaN-padded 3-D {what} only the steps after a "
            "sequence's end may be NaN; impute the gap, or split the sequence there"
        )
    longest = int(lengths.max())  # steps of padding in every sequence: dropped
    values = np.where(nan, 0.0, arr)[:, :longest]
    _check_finite_values(values, what, lambda i: f"{what}[{i}]")
    with np.errstate(over="ignore"):
        values = np.ascontiguousarray(values, dtype=dtype)
    _check_cast(values, dtype, what)
    return Sequences(values, lengths.astype(np.int64))


def _read_list(X, input_size: int, dtype: np.dtype, what: str) -> Sequences:
    if len(X) == 0:
        raise ValueError(f"{what} is an empty list: pass at least one sequence")
    seqs = []
    for i, e in enumerate(X):
        seqs.append(_read_one(e, f"{what}[{i}]", input_size, what))
    F = seqs[0].shape[1]
    for i, s in enumerate(seqs):
        if s.shape[1] != F:
            raise ValueError(
                f"{what}[{i}] has {s.shape[1]} feature(s) per step but {what}[0] "
                f"has {F}: every sequence needs the same features per step (the "
                "same columns, in the same order); only the number of steps may "
                "differ"
            )
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    values = np.zeros((len(seqs), int(lengths.max()), F), dtype=dtype)
    with np.errstate(over="ignore"):
        for i, s in enumerate(seqs):
            values[i, : len(s)] = s
    _check_cast(values, dtype, what)
    return Sequences(values, lengths)


def _read_one(e: Any, label: str, input_size: int, what: str) -> np.ndarray:
    """One sequence as a float64 ``(T_i, n_features)`` array (never ``e`` itself
    when a conversion was needed; ``e`` is not written to)."""
    pandas = isinstance(e, (pd.Series, pd.DataFrame))
    try:
        a = e.to_numpy() if pandas else np.asarray(e)
    except (ValueError, TypeError) as exc:  # nested lists of different widths
        raise ValueError(
            f"{label} is ragged ({exc}); each sequence is one array (T_i,) or "
            "(T_i, n_features) with the same features at every step"
        ) from exc
    if isinstance(a, np.ma.MaskedArray):
        raise ValueError(
            f"{label} is a masked array; a sequence cannot hold a gap: pass the "
            "sequence without its masked steps (or impute them)"
        )
    check_window_dtype(a, label)
    try:
        a = a.astype(np.float64, copy=False)
    except TypeError as exc:  # pd.NA among numbers
        raise ValueError(
            f"{label} holds missing values ({exc}); a sequence cannot hold a gap: "
            "impute them, or cut the sequence before them"
        ) from exc
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{label} has shape {a.shape}; each sequence must be 1-D (T_i,) or 2-D "
            f"(T_i, n_features). {what} may be {_FORMS}"
        )
    if a.ndim == 1:
        if a.size % input_size:
            raise ValueError(
                f"{label} holds {a.size} values, not a multiple of input_size="
                f"{input_size}: a 1-D sequence is time-major with input_size "
                "features per step. Pass it as a 2-D array (T_i, n_features), or "
                "set input_size to the features per step"
            )
        a = a.reshape(-1, input_size)
    if len(a) == 0 or a.shape[1] == 0:
        raise ValueError(
            f"{label} is empty (shape {a.shape}); each sequence needs at least one "
            "step and one feature: drop the empty sequences"
        )
    nan = np.isnan(a)
    if nan.any():
        t = int(np.argwhere(nan)[0][0])
        raise ValueError(
            f"{label} contains NaN (first at step {t}): NaN inside a sequence "
            f"cannot be read. A sequence in a list needs no padding (only a 3-D "
            f"{what} is padded, with NaN after each sequence's end); impute the "
            "missing values, or cut the sequence before them"
        )
    _check_finite_values(a[None], what, lambda _: label)
    return a


def _check_finite_values(arr: np.ndarray, what: str, label) -> None:
    inf = np.isinf(arr)
    if inf.any():
        i, t = np.argwhere(inf)[0][:2]
        raise ValueError(
            f"{label(i)} contains infinity (step {t}); clip or replace the "
            f"infinite values, or drop that sequence from {what}"
        )


def _check_cast(values: np.ndarray, dtype: np.dtype, what: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(
            f"{what} has values too large for {dtype.name}; scale them (e.g. "
            "StandardScaler) or use dtype='float64'"
        )
