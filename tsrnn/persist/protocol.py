"""The state protocol between a model file and an estimator family.

:class:`ModelState` is what an estimator's ``_state_dict`` returns and its
``_load_state_dict`` receives: plain attributes and arrays, with the checks a
state module runs on them (:meth:`ModelState.array`, :func:`check_spec`, ...).
:class:`StateError` is what a state that does not fit raises. The helpers here
store and restore what every family shares: listed fitted attributes, the
optimizer (its scalars checked against their ranges) and the training log.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.checks import find_nonfinite
from ..engine import TrainingLog, make_optimizer
from .fileformat import _FIX_RESAVE


class StateError(ValueError):
    """A saved state that does not fit the estimator (raised by ``_load_state_dict``).

    :func:`load` reports it as a :class:`ModelFileError` naming the file.
    """

    def __init__(self, problem: str, fix: str = _FIX_RESAVE):
        super().__init__(f"{problem}; {fix}" if fix else problem)
        self.problem = problem
        self.fix = fix


@dataclass
class ModelState:
    """What an estimator saves: arrays, and attributes stored as JSON.

    ``attributes`` hold None, bool, int, float, str, lists, tuples and dicts
    of them and NumPy float types (tuples and types come back as they were);
    ``arrays`` never hold Python objects.
    """

    attributes: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)

    def require(self, name: str) -> Any:
        """The attribute ``name``, or a :class:`StateError` saying it is missing."""
        if name not in self.attributes:
            raise StateError(f"metadata attribute {name!r} is missing")
        return self.attributes[name]

    def array(self, name: str, shape, dtype=None) -> np.ndarray:
        """The array ``name``, checked against the ``shape`` and ``dtype`` expected."""
        if name not in self.arrays:
            raise StateError(f"array {name!r} is missing")
        arr = self.arrays[name]
        check_array(name, arr, shape, dtype)
        return arr

    def check_positive(self, names, zero_ok=False) -> None:
        """The arrays hold only values ``> 0`` (``>= 0`` with ``zero_ok``).

        NaN passes (:meth:`check_finite` decides about it).
        """
        for name in names:
            arr = self.arrays.get(name)
            if arr is None or arr.dtype.kind not in "fiu":
                continue
            with np.errstate(invalid="ignore"):
                bad = arr < 0 if zero_ok else arr <= 0
            if bad.any():
                first = arr[bad].flat[0].item()
                sign = "negative" if zero_ok else "zero or negative"
                raise StateError(
                    f"array {name!r} holds {int(bad.sum())} {sign} value(s) (e.g. "
                    f"{first!r}), which a fitted model never has"
                )

    def check_finite(self, names, nan_ok=()) -> None:
        """The arrays that predictions read hold no inf (and no NaN unless allowed)."""
        for name in names:
            arr = self.arrays.get(name)
            if arr is None or arr.dtype.kind != "f":
                continue
            bad = find_nonfinite(arr, allow_nan=name in nan_ok)
            if bad is not None:
                raise StateError(
                    f"array {name!r} holds {bad.count} non-finite value(s), which "
                    "a fitted model never has"
                )


def check_array(name, arr, shape, dtype=None) -> None:
    """``arr`` has the shape (and dtype) the metadata implies, or a StateError."""
    check_spec(name, arr.shape, arr.dtype, shape, dtype)


def check_spec(name, shape, dtype, want_shape, want_dtype=None) -> None:
    """An array of ``shape``/``dtype`` is the one expected, or a StateError."""
    if tuple(shape) != tuple(want_shape):
        raise StateError(
            f"array {name!r} has shape {tuple(shape)} but the model's metadata "
            f"implies {tuple(want_shape)}"
        )
    if want_dtype is not None and np.dtype(dtype) != np.dtype(want_dtype):
        raise StateError(
            f"array {name!r} has dtype {np.dtype(dtype)} but the model needs "
            f"{np.dtype(want_dtype)}"
        )


def fitted_attributes(model, scalars, array_names, state: ModelState) -> None:
    """Put the listed fitted attributes a model has into ``state``."""
    for name in scalars:
        if hasattr(model, name):
            state.attributes[name] = getattr(model, name)
    for name in array_names:
        if getattr(model, name, None) is not None:
            state.arrays[name] = np.asarray(getattr(model, name))


def restore_attributes(est, scalars, array_names, state: ModelState) -> None:
    """Set the listed attributes the state holds (checked by the caller)."""
    for name in array_names:
        if name in state.arrays:
            setattr(est, name, state.arrays[name])
    for name in scalars:
        if name in state.attributes:
            setattr(est, name, state.attributes[name])


def optimizer_state(opt, state: ModelState, solver=None) -> dict | None:
    """An optimizer's scalars (returned) and moment arrays (into ``state``).

    With ``solver``, an optimizer of another solver (``set_params(solver=...)``
    after fit) is not stored: the next training call starts a fresh one
    anyway, and the file stays loadable.
    """
    if opt is None or (solver is not None and not is_solver(opt, solver)):
        return None
    out = {"class": type(opt).__name__, "scalars": {}}
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            state.arrays[f"optimizer.{name}"] = value
        else:
            out["scalars"][name] = value
    return out


def is_solver(opt, solver: str) -> bool:
    """Whether optimizer ``opt`` is the one ``make_optimizer(solver, ...)`` builds."""
    return type(opt).__name__.lower() == str(solver).lower()


def restore_optimizer(state: ModelState, solver, size, dtype, **hyper):
    """A fresh ``make_optimizer`` object with the saved moments and counters."""
    saved = state.attributes.get("_optimizer")
    if saved is None:
        return None
    opt = make_optimizer(solver, size, 1.0, dtype, **hyper)
    if type(opt).__name__ != saved.get("class"):
        raise StateError(
            f"the optimizer state is for {saved.get('class')!r} but solver={solver!r}"
        )
    known = vars(opt)
    scalars = saved.get("scalars")
    if not isinstance(scalars, dict):
        raise StateError("the optimizer state has no scalars")
    for name, value in scalars.items():
        # only the optimizer's own counters/hyper-parameters, never new attributes
        if name not in known or isinstance(known[name], np.ndarray):
            raise StateError(f"unknown optimizer attribute {name!r}")
        _check_optimizer_scalar(name, value, known[name])
        setattr(opt, name, value)
    for name, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            saved_array = state.array(f"optimizer.{name}", value.shape, value.dtype)
            setattr(opt, name, saved_array)
    return opt


# the ranges of the optimizers' scalars (the estimators' own constraints):
# name -> (low, high, low included, high included)
_OPTIMIZER_RANGES = {
    "learning_rate": (0.0, np.inf, False, False),
    "beta_1": (0.0, 1.0, True, False),
    "beta_2": (0.0, 1.0, True, False),
    "epsilon": (0.0, np.inf, False, False),
    "momentum": (0.0, 1.0, True, True),
    "t": (0, np.inf, True, False),
}


def _check_optimizer_scalar(name, value, fresh) -> None:
    """A saved optimizer scalar has the fresh one's type and a valid value."""
    if isinstance(fresh, bool):
        ok = isinstance(value, bool)
    else:
        kind = numbers.Integral if isinstance(fresh, numbers.Integral) else numbers.Real
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if ok:
            low, high, low_in, high_in = _OPTIMIZER_RANGES.get(
                name, (-np.inf, np.inf, False, False)
            )
            ok = bool(np.isfinite(value))
            ok = ok and (value >= low if low_in else value > low)
            ok = ok and (value <= high if high_in else value < high)
    if not ok:
        raise StateError(f"optimizer attribute {name}={value!r} is out of range")


def training_log_state(log) -> dict | None:
    """The epoch loop's record as plain values."""
    return None if log is None else dataclasses.asdict(log)


def restore_training_log(d) -> TrainingLog:
    """The epoch loop's record (a fresh one for files without it)."""
    if d is None:
        return TrainingLog()
    fields = {f.name for f in dataclasses.fields(TrainingLog)}
    if not isinstance(d, dict) or not set(d) <= fields:
        raise StateError("invalid training log (_log) in the metadata")
    n_iter = d.get("n_iter", 0)
    if not isinstance(n_iter, int) or isinstance(n_iter, bool) or n_iter < 0:
        raise StateError(f"_log.n_iter must be an int >= 0, got {n_iter!r}")
    return TrainingLog(**d)
