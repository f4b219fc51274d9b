"""Constructor-parameter constraints and their validation, without private sklearn.

Estimators declare ``_parameter_constraints = {"name": [constraint, ...]}`` in
scikit-learn's own vocabulary, and call :func:`validate_params` at the start of
``fit``. A value is valid when it satisfies one constraint of its list. The
vocabulary and the messages are those of ``sklearn.utils._param_validation``
(so user-facing errors read as in scikit-learn), but that module is private:
its names moved and changed between releases, so tsrnn keeps this small copy
of the part it uses.

Constraints:

- :class:`Interval` (``numbers.Integral`` or ``numbers.Real``, open or closed
  ends), :class:`Options` (a set of values of one type), :class:`StrOptions`;
- ``None`` (the value ``None`` is valid);
- a type (any instance is valid, e.g. ``str`` or ``pd.offsets.BaseOffset``);
- the strings ``"boolean"`` (bool or ``numpy.bool_``), ``"random_state"``
  (None, an int in ``[0, 2**32 - 1]`` or a ``RandomState``) and ``"verbose"``
  (an int >= 0 or a bool).
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

__all__ = [
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value.

    A ``ValueError`` and a ``TypeError`` at once, as scikit-learn's own, so
    that code catching either keeps working.
    """


def _type_name(t: type) -> str:
    if t is numbers.Integral:
        return "int"
    if t is numbers.Real:
        return "float"
    if t.__module__ == "builtins":
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


class _Constraint:
    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class _InstancesOf(_Constraint):
    def __init__(self, type_: type) -> None:
        self.type = type_

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)

    def __str__(self) -> str:
        return f"an instance of {_type_name(self.type)!r}"


class _NoneConstraint(_Constraint):
    def is_satisfied_by(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class Interval(_Constraint):
    """Numbers of one type in a range.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        ``Integral`` accepts ints (Python's and NumPy's); ``Real`` accepts
        ints and floats.
    left, right : int, float or None
        The bounds; None is unbounded on that side.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    """

    def __init__(self, type, left, right, *, closed):  # noqa: A002 - sklearn's name
        if type not in (numbers.Integral, numbers.Real):
            raise ValueError(
                f"type must be numbers.Integral or numbers.Real, got {type}"
            )
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(
                f"closed must be 'left', 'right', 'both' or 'neither', got {closed!r}"
            )
        if left is not None and right is not None and right <= left:
            raise ValueError(f"right ({right}) must be greater than left ({left})")
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def __contains__(self, value: Any) -> bool:
        if not isinstance(value, numbers.Integral) and math.isnan(value):
            return False
        below = operator.lt if self.closed in ("left", "both") else operator.le
        above = operator.gt if self.closed in ("right", "both") else operator.ge
        if self.left is not None and below(value, self.left):
            return False
        return not (self.right is not None and above(value, self.right))

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type) and value in self

    def __str__(self) -> str:
        kind = "an int" if self.type is numbers.Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if self.type is numbers.Real:  # 0 -> 0.0: the bounds read as floats
            left = float(left) if self.left is not None else left
            right = float(right) if self.right is not None else right
        opening = "[" if self.closed in ("left", "both") else "("
        closing = "]" if self.closed in ("right", "both") else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


class Options(_Constraint):
    """A finite set of valid values of one type.

    Parameters
    ----------
    type : type
        Valid values are instances of it...
    options : set
        ...and members of this set.
    """

    def __init__(self, type, options):  # noqa: A002 - sklearn's name
        self.type, self.options = type, options

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return isinstance(value, self.type) and value in self.options
        except TypeError:  # an unhashable value is not an option
            return False

    def _listed(self) -> str:
        # sorted: a set of strings has no stable order across interpreter runs
        shown = sorted(
            _type_name(o) if isinstance(o, type) else repr(o) for o in self.options
        )
        return ", ".join(shown)

    def __str__(self) -> str:
        return f"a {_type_name(self.type)} among {{{self._listed()}}}"


class StrOptions(Options):
    """A finite set of valid strings.

    Parameters
    ----------
    options : set of str
        The valid strings.
    """

    def __init__(self, options):
        super().__init__(str, options)


class _AnyOf(_Constraint):
    """One named constraint made of several (``"boolean"``, ``"verbose"``...)."""

    def __init__(self, *parts: _Constraint) -> None:
        self.parts = parts

    def is_satisfied_by(self, value: Any) -> bool:
        return any(p.is_satisfied_by(value) for p in self.parts)

    def __str__(self) -> str:
        return _join(self.parts)


def _named(name: str) -> _Constraint:
    if name == "boolean":
        return _AnyOf(_InstancesOf(bool), _InstancesOf(np.bool_))
    if name == "verbose":
        return _AnyOf(
            Interval(numbers.Integral, 0, None, closed="left"),
            _InstancesOf(bool),
            _InstancesOf(np.bool_),
        )
    if name == "random_state":
        return _AnyOf(
            Interval(numbers.Integral, 0, 2**32 - 1, closed="both"),
            _InstancesOf(np.random.RandomState),
            _NoneConstraint(),
        )
    raise ValueError(f"unknown constraint {name!r}")


def _make(constraint: Any) -> _Constraint:
    if isinstance(constraint, _Constraint):
        return constraint
    if constraint is None:
        return _NoneConstraint()
    if isinstance(constraint, str):
        return _named(constraint)
    if isinstance(constraint, type):
        return _InstancesOf(constraint)
    raise ValueError(f"unknown constraint {constraint!r}")


def _join(constraints) -> str:
    texts = [str(c) for c in constraints]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


def validate_params(estimator: Any) -> None:
    """Check ``estimator``'s constructor parameters against its constraints.

    Parameters
    ----------
    estimator : BaseEstimator
        Its class attribute ``_parameter_constraints`` maps parameter names
        to lists of constraints; parameters without an entry are not checked.

    Raises
    ------
    InvalidParameterError
        For the first parameter that satisfies none of its constraints, as
        ``The 'hidden_size' parameter of RNNForecaster must be an int in the
        range [1, inf). Got 0 instead.``
    """
    table = type(estimator)._parameter_constraints
    name = type(estimator).__name__
    for param, value in estimator.get_params(deep=False).items():
        if param not in table:
            continue
        constraints = [_make(c) for c in table[param]]
        if not any(c.is_satisfied_by(value) for c in constraints):
            raise InvalidParameterError(
                f"The {param!r} parameter of {name} must be {_join(constraints)}. "
                f"Got {value!r} instead."
            )
