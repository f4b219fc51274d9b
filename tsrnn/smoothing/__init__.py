"""Statistical references of a series: exponential smoothing, Theta, drift.

Per-series models that the M3/M4 competitions made the bar of forecasting,
in one pass per series (Numba filters), to serve as references the forecaster's
head starts from and corrects, and the classical seasonality test and
decomposition used to deseasonalise series before scaling. Pure numpy +
numba: no pandas, no scikit-learn.

* :mod:`._filters` -- the filters (SES, damped trend, Theta, drift) and their
  forecast lines;
* :mod:`.fitting` -- parameters by one-step squared error;
* :mod:`.references` -- many stacked series, states carried across calls;
* :mod:`.seasonality` -- the seasonality test and seasonal indices.
"""

from ._filters import (
    N_PARAMS,
    N_SENS,
    N_STATE,
    PARAMS,
    REFERENCES,
    STATE,
    expand_paths,
    step_weights,
)
from .fitting import (
    fit_holt,
    fit_parameters,
    fit_ses,
    fit_theta,
    initial_state,
    initial_trend,
)
from .references import fit_references, reference_paths, run_references
from .seasonality import acf, decompose, indices_of, seasonal_indices, seasonality_test

__all__ = [
    "N_PARAMS",
    "N_SENS",
    "N_STATE",
    "PARAMS",
    "REFERENCES",
    "STATE",
    "acf",
    "decompose",
    "expand_paths",
    "indices_of",
    "fit_holt",
    "fit_parameters",
    "fit_references",
    "fit_ses",
    "fit_theta",
    "initial_state",
    "initial_trend",
    "reference_paths",
    "run_references",
    "seasonal_indices",
    "seasonality_test",
    "step_weights",
]
