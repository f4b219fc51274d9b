"""tsrnn: recurrent neural network forecasters compiled by Numba on the CPU.

Public names: the series forecaster :class:`RNNForecaster`, the window models
:class:`RNNRegressor` and :class:`RNNClassifier`, the baselines, metrics,
``backtest``, windowing helpers, ``warmup`` (compile the kernels ahead of a
first fit), and the subpackages ``nn`` (torch-twin
modules), ``datasets`` and ``metrics``.
"""

from . import datasets, metrics, nn, plotting  # noqa: E402
from ._version import __version__  # noqa: E402
from .backtest import backtest  # noqa: E402
from .baselines import (  # noqa: E402
    LinearARForecaster,
    MarkovChainForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
)
from .estimators import (  # noqa: E402
    EnsembleForecaster,
    PerSeriesForecaster,
    RNNClassifier,
    RNNForecaster,
    RNNRegressor,
    warmup,
)
from .persist import load  # noqa: E402
from .windowing import WindowTransformer, make_windows, windows_from_long  # noqa: E402

__all__ = [
    "RNNForecaster",
    "PerSeriesForecaster",
    "EnsembleForecaster",
    "RNNRegressor",
    "RNNClassifier",
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
    "LinearARForecaster",
    "MarkovChainForecaster",
    "backtest",
    "load",
    "warmup",
    "make_windows",
    "windows_from_long",
    "WindowTransformer",
    "datasets",
    "metrics",
    "nn",
    "plotting",
    "__version__",
]
