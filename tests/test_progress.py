"""verbose=1 shows progress: a tqdm bar, or one printed line per epoch without tqdm."""

import re
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tsrnn import RNNForecaster, RNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def no_tqdm(monkeypatch):
    """Make ``import tqdm`` fail, as in an environment without it."""
    for name in [m for m in sys.modules if m == "tqdm" or m.startswith("tqdm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # None: ImportError on import
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError):
        import tqdm.auto  # noqa: F401


# the defaults before the "auto" values (one training run, the old epoch loop):
# these tests are about progress output
OLD_DEFAULTS = dict(early_stopping=False, bptt_length=32)


def _series(n=80):
    return np.sin(np.arange(n) * 2 * np.pi / 12)


def test_without_tqdm_each_epoch_prints_one_line(no_tqdm, capsys):
    RNNForecaster(
        hidden_size=3, max_iter=3, random_state=0, verbose=1, **OLD_DEFAULTS
    ).fit(_series())
    out, err = capsys.readouterr()
    assert out == ""  # stdout stays for results
    lines = err.strip().splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert re.fullmatch(
            rf"RNNForecaster: epoch {epoch}/3, loss [0-9.e+-]+ \(\d+\.\d s\)", line
        ), line


def test_without_tqdm_lines_carry_the_validation_score(no_tqdm, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    RNNRegressor(
        hidden_size=3, max_iter=2, random_state=0, verbose=1, early_stopping=True
    ).fit(X, X.sum(axis=1))
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all(
        re.search(r"RNNRegressor: epoch \d/2, loss \S+, validation score \S+", line)
        for line in lines
    ), lines


def test_verbose_zero_prints_nothing(no_tqdm, capsys):
    RNNForecaster(hidden_size=3, max_iter=2, random_state=0, **OLD_DEFAULTS).fit(
        _series()
    )
    assert capsys.readouterr() == ("", "")


def test_with_tqdm_the_bar_reports_instead(capsys):
    pytest.importorskip("tqdm")
    with pytest.warns(ConvergenceWarning):
        RNNForecaster(
            hidden_size=3, max_iter=2, random_state=0, verbose=1, **OLD_DEFAULTS
        ).fit(_series())
    err = capsys.readouterr().err
    assert "RNNForecaster" in err and "epoch 1/2" not in err  # tqdm's bar, not lines
