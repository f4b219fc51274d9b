"""``RNNForecaster``, cut along its seams.

==================  ==========================================================
``estimator``       the estimator: parameters, ``fit``, ``predict``, ``update``
``fitting``         the fit protocol (``"auto"`` settings, selection run, refit,
                    calibration): :class:`FitsForecaster`, mixed into the estimator
``streaming``       stream reads (to the ends, ``predict``, ``update``,
                    ``partial_fit`` internals): :class:`StreamsForecaster`
``features``        what the network reads and predicts (:class:`FeatureLayout`,
                    :func:`gather`), built by index arithmetic over the rows
``transforms``      target and covariate transforms (the per-series scaler)
``training``        truncated BPTT: the scaled rows, lanes and windows
``reader``          full passes over whole series, imputation, the series' ends
``head``            the network, its multi-horizon head and the head's reference
``strategies``      direct and recursive forecasting (and their calibration)
==================  ==========================================================
"""

from .estimator import RNNForecaster

__all__ = ["RNNForecaster"]
