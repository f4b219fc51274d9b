"""The README's Python examples run as written.

Every fenced ``python`` block of README.md is executed in a fresh namespace,
in the order they appear; the quickstart's results are then checked for shape
and sanity (not for exact values, which depend on the machine's last digits).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.M | re.S)


def _run(source: str) -> dict:
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        # the quickstart trains for 20 epochs on purpose, and says so
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(source, str(README), "exec"), namespace)
    return namespace


def test_readme_has_the_quickstart():
    assert len(BLOCKS) >= 2
    assert "RNNForecaster" in BLOCKS[0] and "backtest" in BLOCKS[0]
    assert len(BLOCKS[0].strip().splitlines()) <= 15  # a short quickstart


def test_quickstart_runs(capsys):
    ns = _run(BLOCKS[0])
    forecast, bands, scores = ns["forecast"], ns["bands"], ns["scores"]
    y = ns["y"]
    assert isinstance(forecast, pd.Series) and len(forecast) == 48
    assert forecast.index.equals(y.index[-48:])
    assert np.isfinite(forecast).all()
    assert list(bands.columns) == ["demand_gw-lo-80", "demand_gw-hi-80",
                                   "demand_gw-lo-95", "demand_gw-hi-95"]
    assert (bands["demand_gw-lo-95"] <= forecast).all()
    assert (forecast <= bands["demand_gw-hi-95"]).all()
    assert len(scores) == 7 and np.isfinite(scores["mase"]).all()
    assert "mase" in capsys.readouterr().out


@pytest.mark.parametrize("index", range(1, len(BLOCKS)))
def test_other_examples_run(index):
    _run(BLOCKS[index])
