"""The command line: `tsrnn forecast` on a CSV like those in datasets/.

The second half is a catalogue of bad command lines, in the style of
tests/test_bad_inputs.py: each row is one mistake a user makes, and the test
checks that it exits with status 2 and a message that names the problem and
the fix (no traceback), that no file was created or changed, and (for every
mistake that can be seen before fitting) that no model was fitted.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = ["--max-iter", "1", "--backtest-origins", "0", "--hidden-size", "4"]


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
    assert list(fc.columns) == ["load", "load-lo-90", "load-hi-90"]
    assert len(fc) == 6 and (fc["load-lo-90"] <= fc["load-hi-90"]).all()
    # with covariates the last 6 rows of the file are the future
    assert fc.index[0] == pd.Timestamp("2024-01-01") + pd.Timedelta(hours=594)
    err = capsys.readouterr().err
    assert "seasonal naive (m=24)" in err and "MASE" in err
    # written like any file: the umask decides, not the temporary file's 0600
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


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


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tsrnn {tsrnn.__version__}"


def test_cell_and_hidden_size_reach_the_model(csv, monkeypatch, capsys):
    seen = []
    fit = tsrnn.RNNForecaster.fit

    def spy(self, *args, **kwargs):
        seen.append((self.cell, self.hidden_size))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(tsrnn.RNNForecaster, "fit", spy)
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "2"]
    assert main([*argv, *FAST, "--cell", "gru", "--hidden-size", "5"]) == 0
    assert seen == [("gru", 5)]
    err = capsys.readouterr().err
    assert "cell gru, hidden_size 5" in err
    assert "epochs, hidden_size 5)" in err  # the width the fit used


def test_coverage_names_the_columns(csv, tmp_path):
    out = tmp_path / "fc.csv"
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "2", *FAST]
    assert main([*argv, "--coverage", "0.975", "--output", str(out)]) == 0
    assert list(pd.read_csv(out).columns[1:]) == ["load", "load-lo-97.5", "load-hi-97.5"]


def test_several_levels_name_the_columns(csv, tmp_path):
    out = tmp_path / "fc.csv"
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "2", *FAST]
    assert main([*argv, "--level", "95", "80", "--output", str(out)]) == 0
    fc = pd.read_csv(out)
    assert list(fc.columns[1:]) == [
        "load", "load-lo-80", "load-hi-80", "load-lo-95", "load-hi-95"
    ]
    assert (fc["load-lo-95"] <= fc["load-lo-80"]).all()
    assert (fc["load-hi-80"] <= fc["load-hi-95"]).all()
    # a percentage and a fraction name the same level
    out2 = tmp_path / "fc2.csv"
    assert main([*argv, "--coverage", "90", "--output", str(out2)]) == 0
    assert list(pd.read_csv(out2).columns[1:]) == ["load", "load-lo-90", "load-hi-90"]


def test_force_replaces_an_existing_output(csv, tmp_path):
    out = tmp_path / "fc.csv"
    out.write_text("old forecast\n")
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "3", *FAST]
    assert main([*argv, "--output", str(out), "--force"]) == 0
    assert len(pd.read_csv(out)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "load.csv"]


def test_interrupted_write_keeps_the_old_file(csv, tmp_path, monkeypatch):
    out = tmp_path / "fc.csv"
    out.write_text("old forecast\n")

    def half_then_ctrl_c(self, path, *args, **kwargs):
        Path(path).write_text("timestamp,lo")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_ctrl_c)
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "3", *FAST]
    with pytest.raises(KeyboardInterrupt):
        main([*argv, "--output", str(out), "--force"])
    assert out.read_text() == "old forecast\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "load.csv"]


def test_plot_writes_an_image(csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fc.png"
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "6", *FAST]
    assert main([*argv, "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.startswith("timestamp,load")  # CSV still printed


# ------------------------------------------------- the bad command lines
@dataclass(frozen=True)
class CliCase:
    id: str
    args: Callable[[SimpleNamespace], list[str]]  # ctx -> argv after the file
    match: str  # names the problem and the fix
    before_fit: bool = True  # seen before any model is fitted
    setup: Callable[[SimpleNamespace], None] | None = None


def _no_matplotlib(ctx):
    ctx.monkeypatch.setitem(sys.modules, "matplotlib", None)


def _folder_not_writable(ctx):
    # Tests run as root in CI, where chmod does not stop writes: make the
    # write probe fail the way a read-only folder does instead.
    import tempfile

    real = tempfile.TemporaryFile
    locked = ctx.tmp_path / "locked"

    def temporary_file(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's name
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    ctx.monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)


def _text(ctx, name, content):
    (ctx.tmp_path / name).write_text(content)


BASE = ["--target", "load", "--horizon", "3"]

CLI_CASES = [
    # ------------------------------------------------------ output paths
    CliCase(
        "output-is-the-input",
        lambda c: [*BASE, "--output", str(c.csv)],
        r"--output .*load\.csv is the input file .*load\.csv: writing there would "
        r"destroy your data; pick another --output path",
    ),
    CliCase(
        "output-is-the-input-even-with-force",
        lambda c: [*BASE, "--output", str(c.csv), "--force"],
        r"is the input file",
    ),
    CliCase(
        "output-is-the-input-by-another-path",
        lambda c: [*BASE, "--force", "--output", f"{c.tmp_path}/sub/../load.csv"],
        r"is the input file",
        setup=lambda c: (c.tmp_path / "sub").mkdir(),
    ),
    CliCase(
        "output-is-the-input-through-a-symlink",
        lambda c: [*BASE, "--force", "--output", str(c.tmp_path / "link.csv")],
        r"is the input file",
        setup=lambda c: (c.tmp_path / "link.csv").symlink_to(c.csv),
    ),
    CliCase(
        "output-is-the-future-file",
        lambda c: [
            *BASE, "--covariates", "temp", "--future", str(c.tmp_path / "f.csv"),
            "--output", str(c.tmp_path / "f.csv"), "--force",
        ],
        r"is the input file .*f\.csv",
        setup=lambda c: _text(c, "f.csv", "timestamp,temp\n2024-01-26,1.0\n"),
    ),
    CliCase(
        "output-exists",
        lambda c: [*BASE, "--output", str(c.tmp_path / "old.csv")],
        r"--output .*old\.csv already exists; pass --force to replace it, or pick "
        r"another name",
        setup=lambda c: _text(c, "old.csv", "my earlier forecast\n"),
    ),
    CliCase(
        "output-folder-missing",
        lambda c: [*BASE, "--output", str(c.tmp_path / "nope" / "fc.csv")],
        r"the folder of --output .*fc\.csv \(.*nope\) does not exist; create it "
        r"first \(mkdir -p\) or pick another path",
    ),
    CliCase(
        "output-is-a-folder",
        lambda c: [*BASE, "--output", str(c.tmp_path)],
        r"--output .* is a directory; give a file name, e\.g\. .*forecast\.csv",
    ),
    CliCase(
        "output-folder-not-writable",
        lambda c: [*BASE, "--output", str(c.tmp_path / "locked" / "fc.csv")],
        r"cannot write --output .*fc\.csv: the folder .*locked is not writable "
        r"\(Permission denied\); pick a folder you can write to",
        setup=lambda c: ((c.tmp_path / "locked").mkdir(), _folder_not_writable(c)),
    ),
    # --------------------------------------------------------------- plot
    CliCase(
        "plot-without-matplotlib",
        lambda c: [*BASE, "--plot", str(c.tmp_path / "fc.png")],
        r"--plot needs matplotlib, which is not installed: pip install matplotlib "
        r"\(or pip install 'tsrnn\[plot\]'\), or leave out --plot",
        setup=_no_matplotlib,
    ),
    CliCase(
        "plot-unknown-format",
        lambda c: [*BASE, "--plot", str(c.tmp_path / "fc.bmp")],
        r"--plot .*fc\.bmp: the suffix picks the image format, and '\.bmp' is not "
        r"one matplotlib writes; use one of .*\.png",
    ),
    CliCase(
        "plot-exists",
        lambda c: [*BASE, "--plot", str(c.tmp_path / "old.png")],
        r"--plot .*old\.png already exists; pass --force",
        setup=lambda c: _text(c, "old.png", "not really a png"),
    ),
    CliCase(
        "plot-is-the-input",
        lambda c: [*BASE, "--plot", str(c.csv), "--force"],
        r"--plot .*load\.csv is the input file",
    ),
    CliCase(
        "plot-and-output-the-same-file",
        lambda c: [
            *BASE, "--output", str(c.tmp_path / "x.png"), "--plot",
            str(c.tmp_path / "x.png"),
        ],
        r"--output and --plot name the same file; give two names",
    ),
    # ------------------------------------------------------ option values
    CliCase(
        "level-hundred",
        lambda c: [*BASE, "--level", "100"],
        r"argument --level: is a percentage in \[1, 100\) such as 90 \(or a "
        r"fraction in \(0, 1\) such as 0\.9\), got 100",
    ),
    CliCase(
        "coverage-zero",
        lambda c: [*BASE, "--coverage", "0"],
        r"argument --coverage: is a percentage in \[1, 100\)",
    ),
    CliCase(
        "coverage-text",
        lambda c: [*BASE, "--coverage", "high"],
        r"argument --coverage: must be a percentage such as 90 \(or a fraction "
        r"such as 0\.9\), got 'high'",
    ),
    CliCase(
        "level-and-coverage",
        lambda c: [*BASE, "--level", "80", "--coverage", "0.9"],
        r"give --level \(e\.g\. --level 80 95\) or --coverage, not both",
    ),
    CliCase(
        "horizon-zero",
        lambda c: ["--target", "load", "--horizon", "0"],
        r"argument --horizon: must be a positive integer, got 0",
    ),
    CliCase(
        "horizon-text",
        lambda c: ["--target", "load", "--horizon", "a day"],
        r"argument --horizon: must be a positive integer, got 'a day'",
    ),
    CliCase(
        "hidden-size-zero",
        lambda c: [*BASE, "--hidden-size", "0"],
        r"argument --hidden-size: must be a positive integer, got 0",
    ),
    CliCase(
        "hidden-size-fraction",
        lambda c: [*BASE, "--hidden-size", "8.5"],
        r"argument --hidden-size: must be a positive integer, got '8\.5'",
    ),
    CliCase(
        "max-iter-zero",  # was silently ignored (the default was used)
        lambda c: [*BASE, "--max-iter", "0"],
        r"argument --max-iter: must be a positive integer, got 0",
    ),
    CliCase(
        "season-length-zero",
        lambda c: [*BASE, "--season-length", "0"],
        r"argument --season-length: must be a positive integer, got 0",
    ),
    CliCase(
        "backtest-origins-negative",
        lambda c: [*BASE, "--backtest-origins", "-1"],
        r"argument --backtest-origins: must be an integer >= 0, got -1",
    ),
    CliCase(
        "random-state-too-large",
        lambda c: [*BASE, "--random-state", str(2**32)],
        r"argument --random-state: must be between 0 and 2\*\*32 - 1 = 4294967295",
    ),
    CliCase(
        "cell-unknown",
        lambda c: [*BASE, "--cell", "transformer"],
        r"argument --cell: invalid choice: 'transformer' \(choose from "
        r"'?rnn'?, '?lstm'?, '?gru'?, '?sru'?\)",
    ),
    CliCase(
        "option-unknown",
        lambda c: [*BASE, "--n-samples", "5"],
        r"unrecognized arguments: --n-samples 5",
    ),
    # ------------------------------------------------------- columns
    CliCase(
        "target-missing",
        lambda c: ["--target", "nope", "--horizon", "3"],
        r"target column\(s\) \['nope'\] not in .*load\.csv; columns are "
        r"\['load', 'temp'\]",
    ),
    CliCase(
        "covariate-missing",
        lambda c: [*BASE, "--covariates", "wind"],
        r"covariate column\(s\) \['wind'\] not in .*; columns are \['load', 'temp'\]",
    ),
    CliCase(
        "time-column-missing",
        lambda c: [*BASE, "--time-col", "when"],
        r"has no time column 'when'; columns are .* Name it with --time-col, or "
        r"--time-col none",
    ),
    CliCase(
        "target-also-a-covariate",
        lambda c: [*BASE, "--covariates", "temp", "load"],
        r"--target 'load' is also listed in --covariates; a column cannot be both: "
        r"remove it from --covariates",
    ),
    CliCase(
        "covariate-repeated",
        lambda c: [*BASE, "--covariates", "temp", "temp"],
        r"--covariates lists \['temp'\] more than once",
    ),
    CliCase(
        "future-without-covariates",
        lambda c: [*BASE, "--future", str(c.csv)],
        r"--future gives future covariate rows, but no --covariates were named; add "
        r"--covariates COL \.\.\. or leave out --future",
    ),
    CliCase(
        "future-file-missing",
        lambda c: [*BASE, "--covariates", "temp", "--future", "nope.csv"],
        r"no such file: nope\.csv",
    ),
    # ------------------------------------------------------- input files
    CliCase(
        "input-is-a-folder",
        lambda c: [*BASE],
        r"not a file: .*",
        setup=lambda c: setattr(c, "file", str(c.tmp_path)),
    ),
    CliCase(
        "input-missing",
        lambda c: [*BASE],
        r"no such file: .*missing\.csv",
        setup=lambda c: setattr(c, "file", str(c.tmp_path / "missing.csv")),
    ),
    CliCase(
        "input-not-a-csv",
        lambda c: [*BASE],
        r"bin\.csv is not a readable CSV file",
        setup=lambda c: (
            (c.tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81" * 64),
            setattr(c, "file", str(c.tmp_path / "bin.csv")),
        ),
    ),
    CliCase(
        "too-short-for-future-covariates",
        lambda c: ["--target", "load", "--horizon", "300", "--covariates", "temp"],
        r"the file is too short to hold future covariates.*give them with "
        r"--future FILE",
    ),
    CliCase(
        "target-not-numbers",  # found by the estimator's own checks, in fit
        lambda c: ["--target", "word", "--horizon", "3", *FAST],
        r"y has dtype (object|str); forecasters need numbers: convert it",
        before_fit=False,
        setup=lambda c: (
            _text(
                c,
                "words.csv",
                "timestamp,word\n"
                + "".join(f"2024-01-{d:02d},w{d}\n" for d in range(1, 29)),
            ),
            setattr(c, "file", str(c.tmp_path / "words.csv")),
        ),
    ),
]


CLI_CASES += [
    # ------------------------------------------- distributions and paths
    CliCase(
        "quantiles-without-quantile-loss",
        lambda c: [*BASE, "--quantiles", "0.1", "0.9"],
        r"--quantiles sets the levels of --loss quantile; add --loss quantile",
    ),
    CliCase(
        "quantile-level-out-of-range",
        lambda c: [*BASE, "--loss", "quantile", "--quantiles", "0.1", "90"],
        r"argument --quantiles: must be a level strictly between 0 and 1 such "
        r"as 0.05, got '90'",
    ),
    CliCase(
        "loss-unknown",
        lambda c: [*BASE, "--loss", "gaussian"],
        r"argument --loss: invalid choice: 'gaussian'",
    ),
    CliCase(
        "interval-method-not-offered",
        lambda c: [*BASE, "--interval-method", "distribution"],
        r"--interval-method distribution: RNNForecaster gives intervals by "
        r"method 'conformal' \(or 'auto'\), got 'distribution'; change --loss",
    ),
    CliCase(
        "interval-method-distribution-of-recursive",
        lambda c: [*BASE, "--loss", "normal", "--strategy", "recursive",
                   "--interval-method", "distribution"],
        r"method 'samples' or 'conformal' \(or 'auto'\), got 'distribution'",
    ),
    CliCase(
        "paths-of-a-point-loss",
        lambda c: [*BASE, "--paths", str(c.tmp_path / "p.csv")],
        r"--paths draws from a forecast distribution, and --loss auto gives one "
        r"number per step; add --loss with one of normal, student_t",
    ),
    CliCase(
        "n-paths-without-paths",
        lambda c: [*BASE, "--loss", "normal", "--n-paths", "10"],
        r"--n-paths shapes the sample paths written by --paths FILE.csv",
    ),
    CliCase(
        "temperature-negative",
        lambda c: [*BASE, "--loss", "normal", "--paths", "p.csv",
                   "--temperature", "-1"],
        r"argument --temperature: must be a number >= 0",
    ),
    CliCase(
        "paths-is-the-input",
        lambda c: [*BASE, "--loss", "normal", "--paths", str(c.csv), "--force"],
        r"--paths .*load\.csv is the input file",
    ),
    CliCase(
        "paths-is-the-output",
        lambda c: [*BASE, "--loss", "normal", "--paths", str(c.tmp_path / "o.csv"),
                   "--output", str(c.tmp_path / "o.csv")],
        r"--output and --paths name the same file; give two names",
    ),
    CliCase(
        "paths-exists",
        lambda c: [*BASE, "--loss", "normal", "--paths", str(c.tmp_path / "old.csv")],
        r"--paths .*old\.csv already exists; pass --force",
        setup=lambda c: _text(c, "old.csv", "my earlier paths\n"),
    ),
    CliCase(
        "count-loss-on-non-counts",  # found by the estimator's own checks, in fit
        lambda c: [*BASE, *FAST, "--loss", "poisson"],
        r"loss=.poisson. models counts, but y holds non-integer values.*round the "
        r"counts",
        before_fit=False,
    ),
]


def test_paths_and_head_intervals(csv, tmp_path, capsys):
    """--loss normal --strategy recursive: sample paths and sample intervals."""
    out, paths = tmp_path / "fc.csv", tmp_path / "paths.csv"
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "4", *FAST,
            "--loss", "normal", "--strategy", "recursive", "--level", "80", "95",
            "--interval-method", "samples", "--output", str(out),
            "--paths", str(paths), "--n-paths", "7", "--temperature", "0.5"]
    assert main(argv) == 0
    fc = pd.read_csv(out, index_col=0, parse_dates=True)
    p = pd.read_csv(paths, parse_dates=["timestamp"])
    assert list(p.columns) == ["timestamp", "sample", "load"]
    assert len(p) == 28 and sorted(p["sample"].unique()) == list(range(7))
    for _, path in p.groupby("sample"):  # every path covers the forecast's steps
        assert list(path["timestamp"]) == list(fc.index)
    assert (fc["load-lo-95"] < fc["load-lo-80"]).all()
    assert (fc["load-hi-80"] < fc["load-hi-95"]).all()
    assert "wrote 7 sample paths (28 rows)" in capsys.readouterr().err
    # same seed, same paths; the model's sample() at the same settings gives them
    again = tmp_path / "again.csv"
    argv2 = [a if a != str(paths) else str(again) for a in argv]
    argv2[argv2.index("--output") + 1] = str(tmp_path / "fc2.csv")
    assert main(argv2) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(paths))


def test_quantile_loss_reaches_the_model(csv, tmp_path, monkeypatch):
    seen = []
    fit = tsrnn.RNNForecaster.fit

    def spy(self, *args, **kwargs):
        seen.append((self.loss, self.quantiles, self.strategy))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(tsrnn.RNNForecaster, "fit", spy)
    out = tmp_path / "fc.csv"
    argv = ["forecast", str(csv), "--target", "load", "--horizon", "2", *FAST,
            "--loss", "quantile", "--quantiles", "0.1", "0.5", "0.9",
            "--level", "80", "--output", str(out)]
    assert main(argv) == 0
    assert seen == [("quantile", [0.1, 0.5, 0.9], "auto")]
    fc = pd.read_csv(out)
    assert (fc["load-lo-80"] <= fc["load"]).all() and (fc["load"] <= fc["load-hi-80"]).all()


def _files(folder: Path) -> dict:
    return {
        p.relative_to(folder): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if not p.is_symlink()
    }


def test_cli_catalogue_ids_are_unique():
    ids = [c.id for c in CLI_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_command_line(case, csv, tmp_path, monkeypatch, capsys):
    ctx = SimpleNamespace(
        csv=csv, tmp_path=tmp_path, monkeypatch=monkeypatch, file=str(csv)
    )
    if case.setup is not None:
        case.setup(ctx)
    if case.before_fit:

        def no_fit(*args, **kwargs):
            raise AssertionError("a model was fitted before the mistake was found")

        monkeypatch.setattr(tsrnn.RNNForecaster, "fit", no_fit)
    before = _files(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["forecast", ctx.file, *case.args(ctx)])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == ""
    last = err.strip().splitlines()[-1]  # argparse puts the usage line above
    assert re.match(r"tsrnn( forecast)?: error: ", last), err
    assert re.search(case.match, last), (case.match, last)
    assert _files(tmp_path) == before  # nothing written, nothing changed
