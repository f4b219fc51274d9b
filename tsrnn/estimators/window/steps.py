"""Per-step outputs of the window models (``output="sequence"``).

With ``output="sequence"`` the head reads the top layer at every step and each
step of a window has its own target (anomaly flags, regime labels, sequence
tagging). Internally every step is one row: targets and head outputs are
*flat*, the steps of window 0, then those of window 1, ..., so that the
target encoding, the scores and the predictive distributions work on rows as
for one output per window. :class:`StepLayout` knows the windows' lengths and
turns flat rows back into what the user passed: an array ``(n, T, ...)`` for
windows of one length, a list of ``(T_i, ...)`` arrays for ragged input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.sequences import Sequences

_SHAPES = (
    "one target per step of each window: shape (n_samples, window) or "
    "(n_samples, window, n_targets), or for ragged X a list of arrays (T_i,) or "
    "(T_i, n_targets) (or an array padded past each sequence's end)"
)


@dataclass(frozen=True)
class StepLayout:
    """Where each window's steps sit among the flat rows.

    Parameters
    ----------
    lengths : ndarray of shape (n,), int64
        Steps of each window.
    ragged : bool
        The input was ragged: outputs are returned as a list.
    """

    lengths: np.ndarray
    ragged: bool

    @property
    def n_steps(self) -> int:
        """Rows in all: the sum of the lengths."""
        return int(self.lengths.sum())

    @property
    def offsets(self) -> np.ndarray:
        """First row of each window."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def rows_of(self, windows: np.ndarray, steps: int) -> np.ndarray:
        """Rows ``(len(windows), steps)``: the first ``steps`` steps of ``windows``."""
        return self.offsets[windows][:, None] + np.arange(steps)

    def shape(self, flat: np.ndarray):
        """Flat rows ``(n_steps, ...)`` as the user's form.

        Returns an ndarray ``(n, T, ...)`` when every window has ``T`` steps
        and the input was not ragged, else a list of ``(T_i, ...)`` arrays.
        """
        if not self.ragged:
            n = len(self.lengths)
            T = int(self.lengths[0]) if n else 0
            return flat.reshape((n, T) + flat.shape[1:])
        return [flat[a : a + T] for a, T in zip(self.offsets, self.lengths)]

    def pad(self, flat: np.ndarray) -> np.ndarray:
        """Flat rows as ``(n, max length, ...)``, zero past each window's end."""
        T = int(self.lengths.max())
        out = np.zeros((len(self.lengths), T) + flat.shape[1:], dtype=flat.dtype)
        valid = np.arange(T)[None, :] < self.lengths[:, None]
        out[valid] = flat
        return out


def layout_of(X, window: int) -> StepLayout:
    """The layout of validated input (:class:`Sequences`, or rows of ``window``)."""
    if isinstance(X, Sequences):
        return StepLayout(X.lengths, ragged=True)
    return StepLayout(np.full(X.shape[0], window, dtype=np.int64), ragged=False)


def read_step_targets(y, layout: StepLayout, numeric: bool) -> np.ndarray:
    """Per-step targets as flat rows, checked against the windows' lengths.

    Parameters
    ----------
    y : array-like or list of array-like
        See ``_SHAPES``; for ragged input, entries past a sequence's end (in
        the padded form) are ignored and may be NaN.
    layout : StepLayout
    numeric : bool
        Regression targets (rows ``(n_steps, n_targets)``, float64) rather
        than class labels (rows ``(n_steps,)``, any sortable type).

    Returns
    -------
    ndarray of shape (n_steps, n_targets) or (n_steps,)
    """
    n = len(layout.lengths)
    if isinstance(y, (list, tuple)) and layout.ragged and any(
        np.ndim(v) >= 1 for v in y
    ):
        if len(y) != n:
            raise ValueError(
                f"X has {n} sequence(s) but y has {len(y)}; pass one target array "
                "per sequence, with one target per step"
            )
        parts = [_one(v, f"y[{i}]", int(T), numeric) for i, (v, T) in
                 enumerate(zip(y, layout.lengths))]
    else:
        arr = np.asarray(y)
        T_max = int(layout.lengths.max())
        wide = arr.ndim >= 2 and arr.shape[0] == n and (
            arr.shape[1] >= T_max if layout.ragged else arr.shape[1] == T_max
        )
        if arr.ndim not in ((2, 3) if numeric else (2,)) or not wide:
            steps = ("at least the longest sequence's" if layout.ragged
                     else "the window's")
            raise ValueError(
                f"output='sequence' labels every step: y must hold {_SHAPES}; got "
                f"shape {arr.shape} for {n} window(s) of {T_max} steps (y needs "
                f"{steps} {T_max} columns{'' if numeric else ' of class labels'}). "
                "For one target per window, use output='window'."
            )
        parts = [_one(arr[i, :T], f"y[{i}]", int(T), numeric) for i, T in
                 enumerate(layout.lengths)]
    k = {p.shape[1:] for p in parts}
    if len(k) > 1:
        raise ValueError(
            f"the sequences of y have different targets per step ({sorted(k)}); "
            "every step needs the same number of targets"
        )
    return np.concatenate(parts)


def _one(v, label: str, T: int, numeric: bool) -> np.ndarray:
    a = np.asarray(v)
    steps = len(a) if a.ndim else 0
    if steps != T:
        raise ValueError(
            f"{label} has {steps} step(s) but the matching window of X has {T}: "
            "output='sequence' needs one target per step"
        )
    if not numeric:
        if a.ndim != 1:
            raise ValueError(
                f"{label} has shape {a.shape}; a classifier takes one label per "
                "step, (T_i,)"
            )
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(
                f"{label} holds NaN or infinite labels; every step of a sequence "
                "needs a label: drop or fill those steps"
            )
        return a
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"{label} holds {a.dtype} values, not numbers; pass numeric targets "
            "(for class labels use RNNClassifier)"
        )
    if a.ndim > 2 or a.size == 0:
        raise ValueError(
            f"{label} has shape {a.shape}; each sequence's targets are (T_i,) or "
            "(T_i, n_targets)"
        )
    a = a.astype(np.float64).reshape(T, -1)
    bad = ~np.isfinite(a)
    if bad.any():
        t = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{label} is not finite at step {t} (NaN or infinity inside a sequence);"
            " every step needs a target: impute it, or cut the sequence there"
        )
    return a
