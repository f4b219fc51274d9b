"""Baseline forecasters to compare a recurrent network against.

:class:`NaiveForecaster` (last value), :class:`SeasonalNaiveForecaster` (value one
season ago), :class:`LinearARForecaster` (ridge autoregression, optional
covariates) in :mod:`tsrnn.baselines.classic`, and the memoryless
:class:`MarkovChainForecaster` (an N-gram over quantised values) in
:mod:`tsrnn.baselines.markov`. They follow the same protocol as
``RNNForecaster``: ``fit(y, X=None)``, ``predict(horizon=None, X=None)``,
``update(y_new, X_new=None)`` (cost proportional to the new rows),
``predict_interval`` and ``score``, and accept the same inputs (arrays, pandas,
long format; see :mod:`tsrnn.data`).
"""

from .classic import LinearARForecaster, NaiveForecaster, SeasonalNaiveForecaster
from .markov import MarkovChainForecaster

__all__ = [
    "LinearARForecaster",
    "MarkovChainForecaster",
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
]
