"""The command line: `tsrnn forecast` on a CSV like those in datasets/."""

import numpy as np
import pandas as pd
import pytest

from tsrnn.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def csv(tmp_path):
    t = pd.date_range("2024-01-01", periods=600, freq="h")
    rng = np.random.default_rng(0)
    temp = 10 + 5 * np.sin(2 * np.pi * np.arange(600) / 24)
    load = 50 + 2 * temp + rng.normal(0, 1, 600)
    path = tmp_path / "load.csv"
    pd.DataFrame({"timestamp": t, "load": load, "temp": temp}).to_csv(path, index=False)
    return path


def test_forecast_writes_csv_with_intervals(csv, tmp_path, capsys):
    out = tmp_path / "fc.csv"
    rc = main(
        [
            "forecast",
            str(csv),
            "--target",
            "load",
            "--covariates",
            "temp",
            "--horizon",
            "6",
            "--max-iter",
            "2",
            "--backtest-origins",
            "2",
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    fc = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(fc.columns) == ["load", "lower_90", "upper_90"]
    assert len(fc) == 6 and (fc["lower_90"] <= fc["upper_90"]).all()
    # with covariates the last 6 rows of the file are the future
    assert fc.index[0] == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=594)
    err = capsys.readouterr().err
    assert "seasonal naive (m=24)" in err and "MASE" in err


def test_forecast_to_stdout_without_covariates(csv, capsys):
    assert (
        main(
            [
                "forecast",
                str(csv),
                "--target",
                "load",
                "--horizon",
                "3",
                "--max-iter",
                "1",
                "--backtest-origins",
                "0",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("timestamp,load") and len(lines) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "nope", "--horizon", "3"], "target column"),
        (
            ["--target", "load", "--covariates", "wind", "--horizon", "3"],
            "covariate column",
        ),
        (["--target", "load", "--horizon", "0"], "positive"),
        (
            ["--target", "load", "--horizon", "3", "--time-col", "when"],
            "no time column",
        ),
    ],
)
def test_bad_columns_and_arguments_name_the_problem(csv, args, message):
    with pytest.raises(SystemExit, match=message):
        main(["forecast", str(csv), *args])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        main(["forecast", str(tmp_path / "x.csv"), "--target", "y", "--horizon", "1"])
