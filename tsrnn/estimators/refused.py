"""Parameters users reach for that an estimator does not take, and why.

scikit-learn reads an estimator's parameters from its ``__init__`` signature,
which therefore cannot take ``**kwargs``; a misspelt or borrowed name (from
torch, Keras, Darts) is then Python's bare "unexpected keyword argument".
:class:`ExplainsRefusedParameters` checks the keywords in ``__new__`` (which
runs before ``__init__`` with the same arguments and which scikit-learn does
not inspect) and raises a ``TypeError`` that says why the parameter does not
exist here and what to use instead.
"""

from __future__ import annotations

import inspect
from typing import Any

#: Names borrowed from other libraries, the same for every estimator.
COMMON_REFUSALS: dict[str, str] = {
    "epochs": "the number of epochs is max_iter",
    "n_epochs": "the number of epochs is max_iter",
    "lr": "the learning rate is learning_rate_init",
    "learning_rate": "the initial learning rate is learning_rate_init",
    "seed": "the seed is random_state",
    "input_size": "the input size is read from the data at fit",
    "batch_first": "inputs are (samples, time, features) or pandas, always batch first",
}


class ExplainsRefusedParameters:
    """Mixin: ``Estimator(refused=...)`` raises a TypeError that explains itself.

    Subclasses list their own refusals in ``_refused_parameters`` (name ->
    reason and what to use instead), added to :data:`COMMON_REFUSALS`.
    """

    _refused_parameters: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # inspect.signature(cls) must still be __init__'s: on Python 3.10 it
        # prefers this __new__(*args, **kwargs), and scikit-learn's checks
        # build estimators from the class's signature
        init = inspect.signature(cls.__init__)
        cls.__signature__ = init.replace(parameters=list(init.parameters.values())[1:])

    def __new__(cls, *args: Any, **kwargs: Any):
        reasons = {**COMMON_REFUSALS, **cls._refused_parameters}
        for name in kwargs:
            # a real parameter of this class (RNNRegressor's input_size) wins
            if name in reasons and name not in cls._get_param_names():
                raise TypeError(
                    f"{cls.__name__} has no parameter {name!r}: {reasons[name]}"
                )
        return super().__new__(cls)
