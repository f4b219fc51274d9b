"""Parameter validation (tsrnn._constraints) reads as scikit-learn's, in public code."""

from __future__ import annotations

import ast
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from tsrnn import (
    LinearARForecaster,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    SeasonalNaiveForecaster,
    WindowTransformer,
)
from tsrnn._constraints import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_params,
)

PACKAGE = Path(__file__).resolve().parents[1] / "tsrnn"


def _private_imports(source: str, where: str, library: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            parts, names = [], []
            for alias in node.names:
                parts += alias.name.split(".")
        else:
            continue
        if parts and parts[0] == library and (
            any(p.startswith("_") for p in parts)
            or any(n.startswith("_") for n in names)
        ):
            found.append(f"{where}:{node.lineno}")
    return found


def test_no_private_scikit_learn_imports():
    # private modules and names (sklearn.utils._param_validation, _set_output,
    # _check_feature_names_in...) change without notice between releases
    found = [
        hit
        for p in sorted(PACKAGE.rglob("*.py"))
        for hit in _private_imports(
            p.read_text(), str(p.relative_to(PACKAGE)), "sklearn"
        )
    ]
    assert found == []


def test_the_scan_finds_private_imports():
    source = (
        "from sklearn.utils._param_validation import Interval\n"
        "from sklearn.utils.validation import _check_feature_names_in\n"
        "import sklearn.utils._set_output\n"
        "from sklearn.base import clone\n"
        "from ._constraints import Interval\n"
    )
    assert _private_imports(source, "probe.py", "sklearn") == [
        "probe.py:1", "probe.py:2", "probe.py:3"
    ]


class _Toy(BaseEstimator):
    _parameter_constraints: dict = {
        "n": [Interval(numbers.Integral, 1, None, closed="left")],
        "rate": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "kind": [StrOptions({"b", "a"})],
        "dtype": [StrOptions({"float64"}), Options(type, {np.float64, np.float32})],
        "flag": ["boolean"],
        "seed": ["random_state"],
        "verbose": ["verbose"],
        "freq": [str, pd.offsets.BaseOffset, None],
    }

    def __init__(
        self, n=1, rate=None, kind="a", dtype="float64", flag=False, seed=None,
        verbose=0, freq=None,
    ):
        self.n, self.rate, self.kind, self.dtype = n, rate, kind, dtype
        self.flag, self.seed, self.verbose, self.freq = flag, seed, verbose, freq


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n": np.int64(3), "rate": 0.5, "kind": "b", "dtype": np.float32},
        {"flag": np.bool_(True), "seed": np.random.RandomState(0), "verbose": True},
        {"seed": 2**32 - 1, "verbose": 2, "freq": pd.offsets.MonthEnd()},
        {"freq": "h", "rate": np.float32(0.25)},
    ],
)
def test_valid_values_pass(params):
    validate_params(_Toy(**params))


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"n": 0},
            "The 'n' parameter of _Toy must be an int in the range [1, inf). "
            "Got 0 instead.",
        ),
        ({"n": 1.0}, "must be an int in the range [1, inf). Got 1.0 instead."),
        (
            {"rate": 1},
            "The 'rate' parameter of _Toy must be a float in the range (0.0, 1.0) "
            "or None. Got 1 instead.",
        ),
        ({"rate": float("nan")}, "Got nan instead."),
        (
            {"kind": "c"},
            "The 'kind' parameter of _Toy must be a str among {'a', 'b'}. "
            "Got 'c' instead.",
        ),
        (
            {"dtype": np.float16},
            "must be a str among {'float64'} or a type among {numpy.float32, "
            "numpy.float64}.",
        ),
        ({"dtype": ["float64"]}, "Got ['float64'] instead."),  # unhashable
        (
            {"flag": 1},
            "The 'flag' parameter of _Toy must be an instance of 'bool' or an "
            "instance of 'numpy.bool",  # numpy.bool_ before numpy 2
        ),
        (
            {"seed": -1},
            "The 'seed' parameter of _Toy must be an int in the range "
            "[0, 4294967295], an instance of 'numpy.random",
        ),
        ({"verbose": -1}, "must be an int in the range [0, inf), an instance of"),
        (
            {"freq": 3},
            "must be an instance of 'str', an instance of "
            "'pandas._libs.tslibs.offsets.BaseOffset' or None. Got 3 instead.",
        ),
    ],
)
def test_invalid_values_name_the_rule(params, message):
    with pytest.raises(InvalidParameterError) as exc:
        validate_params(_Toy(**params))
    assert message in str(exc.value)
    # a ValueError and a TypeError, as scikit-learn's InvalidParameterError
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, TypeError)


@pytest.mark.parametrize(
    "estimator, message",
    [
        (
            RNNForecaster(hidden_size=0),
            "The 'hidden_size' parameter of RNNForecaster must be an int in the "
            "range [1, inf) or a str among {'auto'}. Got 0 instead.",
        ),
        (
            RNNForecaster(cell="transformer"),
            "The 'cell' parameter of RNNForecaster must be a str among {'gru', "
            "'lstm', 'rnn', 'sru'}. Got 'transformer' instead.",
        ),
        (
            RNNRegressor(momentum=1.5),
            "The 'momentum' parameter of RNNRegressor must be a float in the range "
            "[0.0, 1.0]. Got 1.5 instead.",
        ),
        (
            RNNClassifier(n_iter_no_change=0),
            "The 'n_iter_no_change' parameter of RNNClassifier must be an int in "
            "the range [1, inf) or a float among {inf}. Got 0 instead.",
        ),
        (SeasonalNaiveForecaster(season_length=0), "'season_length' parameter"),
        (LinearARForecaster(alpha=-1.0), "'alpha' parameter of LinearARForecaster"),
        (WindowTransformer(window=0), "'window' parameter of WindowTransformer"),
    ],
)
def test_estimators_use_it(estimator, message):
    with pytest.raises(ValueError) as exc:
        validate_params(estimator)
    assert message in str(exc.value)


def test_every_constraint_table_is_well_formed():
    # every constraint is one validate_params knows, and every key a parameter
    for cls in (
        RNNForecaster, RNNRegressor, RNNClassifier, SeasonalNaiveForecaster,
        LinearARForecaster, WindowTransformer,
    ):
        table = cls._parameter_constraints
        assert set(table) <= set(cls._get_param_names()), cls
        validate_params(cls(window=3) if cls is WindowTransformer else cls())
