"""scikit-learn estimators built on the recurrent engine."""

from .forecaster import RNNForecaster
from .window import RNNClassifier, RNNRegressor

__all__ = ["RNNForecaster", "RNNClassifier", "RNNRegressor"]
