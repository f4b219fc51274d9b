"""scikit-learn estimators built on the recurrent engine."""

from .ensemble import EnsembleForecaster
from .forecaster import RNNForecaster
from .per_series import PerSeriesForecaster
from .warmup import WarmupReport, warmup
from .window import RNNClassifier, RNNRegressor

__all__ = [
    "RNNForecaster",
    "EnsembleForecaster",
    "PerSeriesForecaster",
    "RNNClassifier",
    "RNNRegressor",
    "WarmupReport",
    "warmup",
]
