"""bench_accuracy.py with the MASE weights switched on (helper ``wloss``'s runs).

Usage: ``python benchmarks/experiment_wloss.py MODE [bench_accuracy args]``,
``MODE`` one of ``loss``, ``tails``, ``all``
(:data:`tsrnn.estimators.forecaster.auto.MASE_WEIGHTS`) or ``off``. The
records keep the label ``tsrnn default``; their ``settings`` also hold the
selected epochs and the switch.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import bench_accuracy  # noqa: E402

from tsrnn.estimators.forecaster import auto  # noqa: E402

mode = sys.argv[1]
auto.MASE_WEIGHTS = {
    "off": False,
    "loss": "loss",
    "tails": "tails",
    "all": "all",
    "all-sumw": "all",
    "all-eq": "all",
}[mode]
if mode == "all-eq":  # every series counts alike: the weights over its rows' count
    import numpy as np

    from tsrnn.estimators.forecaster.fitting import FitsForecaster

    _weights = FitsForecaster._mase_weights

    def _equal_series(self, data, scaler, train_end, strategy):
        w, tw = _weights(self, data, scaler, train_end, strategy)
        n = np.maximum(np.asarray(train_end) - data.indptr[:-1], 1).astype(float)
        if w is not None:
            w = w * (n.mean() / n)[:, None]
        if tw is not None:
            v = (data.indptr[1:] - np.asarray(train_end)).astype(float)
            f = np.where(v > 0, v[v > 0].mean() / np.maximum(v, 1), 1.0)
            tw = tw * f[:, None]
        return w, tw

    FitsForecaster._mase_weights = _equal_series
if mode == "all-sumw":  # each window's loss divided by its weights' sum instead
    import numpy as np

    from tsrnn.estimators.forecaster import fitting

    def sum_weighted_absolute_error(y_hat, y, mask=None):
        present = mask > 0
        r = np.where(present, y_hat - np.where(present, y, 0.0), 0.0)
        n = float(mask.sum()) or 1.0
        return (
            float((mask * np.abs(r)).sum()) / n,
            ((mask * np.sign(r)) / n).astype(y_hat.dtype, copy=False),
        )

    fitting.weighted_absolute_error = sum_weighted_absolute_error
_settings_of = bench_accuracy.settings_of


def settings_of(est):
    out = _settings_of(est)
    out["mase_weights"] = mode
    if getattr(est, "selected_epochs_", None) is not None:
        out["selected_epochs"] = int(est.selected_epochs_)
    return out


bench_accuracy.settings_of = settings_of
bench_accuracy.main(sys.argv[2:])
