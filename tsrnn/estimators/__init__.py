"""scikit-learn estimators built on the recurrent engine."""

from .forecaster import RNNForecaster
from .per_series import PerSeriesForecaster
from .window import RNNClassifier, RNNRegressor

__all__ = ["RNNForecaster", "PerSeriesForecaster", "RNNClassifier", "RNNRegressor"]
