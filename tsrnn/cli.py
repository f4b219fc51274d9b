"""``tsrnn forecast``: fit the default RNNForecaster on a CSV and write the forecast.

Example::

    tsrnn forecast datasets/elec_demand_victoria_2014_30min.csv \\
        --target demand_gw --covariates temperature_c workday --horizon 48 \\
        --output forecast.csv --plot forecast.png

Covariates must be known in advance: the last ``horizon`` rows of the file are
then the future (their target may be empty) unless ``--future FILE`` gives them.
Without covariates the forecast starts after the last row.

Nothing is lost: every option, the input files and the output paths are
checked before the (long) fit starts. An ``--output`` or ``--plot`` path that
is one of the input files is always refused; one that exists is refused
unless ``--force``; outputs are written to a temporary file in the same
directory and then moved into place, so an interrupted run leaves no
half-written file.

Exit status: 0 on success; 2 when the command line or the input data are
wrong (the message says which and how to fix it; nothing was written); 1 when
writing an output failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .data.calendar import infer_season_length
from .data.checks import check_level
from .data.timeaxis import infer_freq
from .evaluation import IntervalFallbackWarning

CELLS = ("rnn", "lstm", "gru", "sru")
POINT_LOSSES = ("auto", "squared_error", "absolute_error", "huber")
DISTRIBUTION_LOSSES = ("normal", "student_t", "poisson", "negative_binomial", "quantile")
COUNT_LOSSES = ("poisson", "negative_binomial")
INTERVAL_METHODS = ("auto", "conformal", "distribution", "quantile", "samples")
_PROG = "tsrnn forecast"


class _InputError(Exception):
    """A problem with the command line or the input data: exit status 2."""


class _OutputError(Exception):
    """An output file could not be written: exit status 1."""


# ------------------------------------------------------------ option values
def _int_at_least(text: str, low: int, wording: str) -> int:
    """``text`` as an int ``>= low``; argparse shows ``must be <wording>`` otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wording}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def _non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "an integer >= 0")


def _seed(text: str) -> int:
    value = _non_negative_int(text)
    if value > 2**32 - 1:
        raise argparse.ArgumentTypeError(
            f"must be between 0 and 2**32 - 1 = {2**32 - 1}, got {value}"
        )
    return value


def _fraction(text: str) -> float:
    """A quantile level strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"must be a level strictly between 0 and 1 such as 0.05, got {text!r}"
        )
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"must be a number >= 0 (1 draws from the fitted distribution, 0 "
            f"gives the mean path), got {text!r}"
        )
    return value


def _level(text: str) -> float:
    """An interval level: a percentage in [1, 100) such as 90, or a fraction such as 0.9."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a percentage such as 90 (or a fraction such as 0.9), got {text!r}"
        ) from None
    try:
        return check_level(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"is a percentage in [1, 100) such as 90 (or a fraction in (0, 1) such "
            f"as 0.9), got {text}"
        ) from None


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="tsrnn",
        description="Recurrent-network forecasts of time series in CSV files.",
    )
    p.add_argument("--version", action="version", version=f"tsrnn {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser(
        "forecast",
        help="fit an RNNForecaster on a CSV and write the forecast with intervals",
        description=(
            "Fit tsrnn's RNNForecaster on one column of a CSV (rows = "
            "consecutive time steps), print a short rolling-origin backtest "
            "against seasonal naive, and write the next HORIZON steps with "
            "prediction intervals as CSV. Every option and path is checked "
            "before fitting; existing files are never replaced without --force, "
            "and the input files never."
        ),
        epilog=(
            "example: tsrnn forecast datasets/elec_demand_victoria_2014_30min.csv "
            "--target demand_gw --covariates temperature_c workday --horizon 48 "
            "--output forecast.csv. Exit status: 0 done, 2 bad command line or "
            "input data (nothing written), 1 an output could not be written."
        ),
    )
    f.add_argument("file", help="CSV file with a header row")
    f.add_argument("--target", required=True, help="column to forecast")
    f.add_argument(
        "--covariates",
        nargs="*",
        default=[],
        metavar="COL",
        help="columns known in advance (e.g. a temperature forecast, a "
        "holiday flag); their future values are the last HORIZON "
        "rows of FILE, or --future",
    )
    f.add_argument(
        "--horizon", type=_positive_int, required=True, help="steps to forecast"
    )
    f.add_argument(
        "--time-col",
        default="timestamp",
        help="column with the timestamps (default: timestamp; 'none' for "
        "plain row numbers)",
    )
    f.add_argument(
        "--future", metavar="FILE", help="CSV with the future covariate rows"
    )
    f.add_argument(
        "--season-length",
        type=_positive_int,
        default=None,
        help="seasonal period for the baseline and MASE (default: from "
        "the frequency, e.g. 48 for 30 min)",
    )
    f.add_argument(
        "--level",
        type=_level,
        nargs="+",
        default=None,
        help="interval level(s) in percent, e.g. --level 80 95 (default: 90); "
        "columns <target>-lo-<level> and <target>-hi-<level>",
    )
    f.add_argument(
        "--coverage",
        type=_level,
        default=None,
        help="one interval level, as --level (kept for compatibility)",
    )
    f.add_argument(
        "--cell",
        choices=CELLS,
        default=None,
        help="recurrent cell (default: RNNForecaster's, lstm)",
    )
    f.add_argument(
        "--hidden-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="hidden units per layer (default: RNNForecaster's)",
    )
    f.add_argument(
        "--loss",
        choices=POINT_LOSSES + DISTRIBUTION_LOSSES,
        default=None,
        help="training loss (default: RNNForecaster's, absolute error). A "
        "distribution (normal, student_t; poisson or negative_binomial for "
        "counts, which are then read unscaled) or quantile forecasts "
        "(quantile, with --quantiles) give intervals from the model itself "
        "and sample paths (--paths)",
    )
    f.add_argument(
        "--quantiles",
        type=_fraction,
        nargs="+",
        default=None,
        metavar="Q",
        help="levels of --loss quantile, e.g. --quantiles 0.05 0.5 0.95 "
        "(default: RNNForecaster's, which hold the 80, 90 and 95%% intervals)",
    )
    f.add_argument(
        "--strategy",
        choices=("auto", "direct", "recursive", "seq2seq"),
        default=None,
        help="auto (default: seq2seq with --covariates, else direct), direct "
        "(every step from the origin), recursive (one step at a time, fed "
        "back: sample paths then carry the dependence between steps) or "
        "seq2seq (an encoder-decoder reading the covariates of every step)",
    )
    f.add_argument(
        "--interval-method",
        choices=INTERVAL_METHODS,
        default="auto",
        help="how the intervals are made (default auto: the model's own "
        "distribution or quantiles when it has them, else conformal): "
        "conformal bands around the point forecast, the distribution's or the "
        "quantile head's quantiles, or quantiles of 1000 sample paths",
    )
    f.add_argument(
        "--paths",
        metavar="FILE.csv",
        help="also write sample paths of the next HORIZON steps (long CSV: "
        "time, sample, target); needs a distribution or quantile --loss",
    )
    f.add_argument(
        "--n-paths",
        type=_positive_int,
        default=None,
        metavar="N",
        help="number of sample paths for --paths (default 100)",
    )
    f.add_argument(
        "--temperature",
        type=_temperature,
        default=None,
        metavar="T",
        help="spread of the sample paths around the mean (default 1: the "
        "fitted distribution; 0: the mean path; above 1: wider scenarios)",
    )
    f.add_argument(
        "--backtest-origins",
        type=_non_negative_int,
        default=10,
        help="forecast origins of the backtest (0 to skip; default 10)",
    )
    f.add_argument(
        "--max-iter", type=_positive_int, default=None, help="training epochs"
    )
    f.add_argument("--random-state", type=_seed, default=0, help="seed (default 0)")
    f.add_argument(
        "--output", "-o", help="write the forecast CSV here (default: stdout)"
    )
    f.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw the forecast and its interval over the recent history "
        "(needs matplotlib; the format follows the suffix: .png, .pdf, .svg...)",
    )
    f.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --output, --plot or --paths file (never an "
        "input file)",
    )
    return p, f


# ------------------------------------------------------------------- paths
def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_output_path(path: str, option: str, inputs: list[str], force: bool) -> Path:
    """Refuse inputs, existing files (without ``--force``) and unwritable folders."""
    out = Path(path).expanduser()
    for given in inputs:
        if _same_file(out, Path(given).expanduser()):
            raise _InputError(
                f"{option} {path} is the input file {given}: writing there would "
                f"destroy your data; pick another {option} path"
            )
    if out.is_dir():
        raise _InputError(
            f"{option} {path} is a directory; give a file name, e.g. "
            f"{out / ('forecast.csv' if option == '--output' else 'forecast.png')}"
        )
    if out.exists() and not force:
        raise _InputError(
            f"{option} {path} already exists; pass --force to replace it, or "
            "pick another name"
        )
    folder = out.parent
    if not folder.is_dir():
        raise _InputError(
            f"the folder of {option} {path} ({folder}) does not exist; create it "
            "first (mkdir -p) or pick another path"
        )
    try:  # os.access is wrong for root and ACLs: try what the write will do
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise _InputError(
            f"cannot write {option} {path}: the folder {folder} is not writable "
            f"({exc.strerror or exc}); pick a folder you can write to"
        ) from None
    return out


def _check_plot(path: str) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise _InputError(
            "--plot needs matplotlib, which is not installed: pip install "
            "matplotlib (or pip install 'tsrnn[plot]'), or leave out --plot"
        )
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        known = ", ".join("." + k for k in sorted(formats))
        raise _InputError(
            f"--plot {path}: the suffix picks the image format, and "
            f"{'no suffix' if not suffix else repr('.' + suffix)} is not one "
            f"matplotlib writes; use one of {known}"
        )


def _write_atomically(path: Path, write: Callable[[str], None], force: bool) -> None:
    """Write through a temporary file in the same folder, then move it into place."""
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        os.close(fd)
        # mkstemp creates 0600; give the file the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except OSError as exc:
        raise _OutputError(f"could not write {path} ({exc})") from None
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if path.exists() and not force:
            raise _OutputError(
                f"{path} appeared while tsrnn was fitting; it was left as it is "
                "(run again with --force to replace it)"
            )
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _OutputError(f"could not write {path} ({exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------- input
def _read(path: str, time_col: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise _InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise _InputError(f"{path} is a directory, not a CSV file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise _InputError(f"{path} is not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise _InputError(f"cannot read {path} ({exc.strerror or exc})") from None
    if time_col.lower() != "none":
        if time_col not in df.columns:
            raise _InputError(
                f"{path} has no time column {time_col!r}; columns are "
                f"{list(df.columns)}. Name it with --time-col, or --time-col none"
            )
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(df[time_col]), name=time_col)
        except (ValueError, TypeError) as exc:
            raise _InputError(
                f"column {time_col!r} is not dates ({exc}); name the time column "
                "with --time-col, or --time-col none"
            ) from None
        df = df.drop(columns=time_col).set_index(idx)
        freq = infer_freq(df.index)
        if freq is not None:
            df = df.asfreq(freq)
    return df


def _columns(df: pd.DataFrame, cols, what: str, path: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise _InputError(
            f"{what} column(s) {missing} not in {path}; columns are {list(df.columns)}"
        )


def _check_options(args) -> None:
    """Checks that involve several options (each option's own type is argparse's)."""
    if args.target in args.covariates:
        raise _InputError(
            f"--target {args.target!r} is also listed in --covariates; a column "
            "cannot be both: remove it from --covariates"
        )
    repeated = sorted({c for c in args.covariates if args.covariates.count(c) > 1})
    if repeated:
        raise _InputError(f"--covariates lists {repeated} more than once")
    if args.future and not args.covariates:
        raise _InputError(
            "--future gives future covariate rows, but no --covariates were named; "
            "add --covariates COL ... or leave out --future"
        )
    _check_distribution_options(args)
    inputs = [args.file] + ([args.future] if args.future else [])
    for given in inputs:
        if not Path(given).expanduser().is_file():
            what = "no such file" if not Path(given).exists() else "not a file"
            raise _InputError(f"{what}: {given}")
    outputs = [(o, getattr(args, o[2:])) for o in ("--output", "--plot", "--paths")]
    outputs = [(o, path) for o, path in outputs if path]
    for i, (o1, p1) in enumerate(outputs):
        for o2, p2 in outputs[i + 1 :]:
            if _same_file(Path(p1), Path(p2)):
                raise _InputError(f"{o1} and {o2} name the same file; give two names")
    for option, path in outputs:
        _check_output_path(path, option, inputs, args.force)
    if args.plot:
        _check_plot(args.plot)


def _check_distribution_options(args) -> None:
    """--quantiles, --paths and its options need the loss that gives them."""
    if args.quantiles is not None and args.loss != "quantile":
        raise _InputError(
            "--quantiles sets the levels of --loss quantile; add --loss quantile "
            "or leave out --quantiles"
        )
    for option, value in (("--n-paths", args.n_paths), ("--temperature", args.temperature)):
        if value is not None and not args.paths:
            raise _InputError(
                f"{option} shapes the sample paths written by --paths FILE.csv; "
                f"add --paths or leave out {option}"
            )
    if args.paths and args.loss not in DISTRIBUTION_LOSSES:
        raise _InputError(
            f"--paths draws from a forecast distribution, and --loss "
            f"{args.loss or 'auto'} gives one number per step; add --loss with "
            f"one of {', '.join(DISTRIBUTION_LOSSES)}"
        )


# ---------------------------------------------------------------- the job
def forecast(args) -> int:
    """Run ``tsrnn forecast`` for parsed ``args``; return the exit status."""
    from . import RNNForecaster, SeasonalNaiveForecaster, backtest

    _check_options(args)
    df = _read(args.file, args.time_col)
    _columns(df, [args.target], "target", args.file)
    _columns(df, args.covariates, "covariate", args.file)
    y = df[args.target]
    X = df[args.covariates] if args.covariates else None
    X_future = None
    if X is not None:
        if args.future:
            fut = _read(args.future, args.time_col)
            _columns(fut, args.covariates, "covariate", args.future)
            X_future = fut[args.covariates].iloc[: args.horizon]
        else:
            if len(df) <= 2 * args.horizon:
                raise _InputError(
                    f"the file is too short to hold future covariates: its last "
                    f"--horizon {args.horizon} rows are the future, and {len(df)} "
                    "rows leave too few to fit; give them with --future FILE"
                )
            X_future = X.iloc[-args.horizon :]
            y, X = y.iloc[: -args.horizon], X.iloc[: -args.horizon]
        if len(X_future) < args.horizon:
            raise _InputError(
                f"need {args.horizon} future covariate rows, got {len(X_future)}"
            )
    freq = getattr(y.index, "freq", None)
    m = args.season_length or infer_season_length(freq) or 1
    params = dict(horizon=args.horizon, random_state=args.random_state)
    for name in ("max_iter", "cell", "hidden_size", "loss", "quantiles", "strategy"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.loss in COUNT_LOSSES:
        params["scaler"] = None  # a count head reads the counts themselves
    model = RNNForecaster(**params)
    try:  # before the (long) fit: a method the model cannot give
        model._check_interval_method(args.interval_method)
    except ValueError as exc:
        raise _InputError(
            f"--interval-method {args.interval_method}: {exc}; change --loss or "
            "--strategy, or pick another method"
        ) from None
    print(
        f"tsrnn: {len(y)} rows of {args.target!r}"
        + (f" with covariates {args.covariates}" if args.covariates else "")
        + f", frequency {freq.freqstr if freq is not None else 'none'}, "
        f"season {m}, horizon {args.horizon}; cell {model.cell}, hidden_size "
        f"{model.hidden_size}",
        file=sys.stderr,
    )
    levels = _levels(args)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", category=UserWarning)
            # a band made by a fallback is said, never silent
            warnings.simplefilter("always", category=IntervalFallbackWarning)
            if args.backtest_origins > 0:
                _print_backtest(args, model, y, X, m, backtest, SeasonalNaiveForecaster)
            t0 = time.perf_counter()
            model.fit(y, X)
            fit_time = time.perf_counter() - t0
            point = model.predict(X=X_future)
            lo_hi = model.predict_interval(
                X=X_future, level=levels, method=args.interval_method
            )
            paths = None
            if args.paths:
                paths = model.sample(
                    100 if args.n_paths is None else args.n_paths,
                    X=X_future,
                    temperature=1.0 if args.temperature is None else args.temperature,
                    random_state=args.random_state,
                    as_frame=True,
                )
    except (ValueError, TypeError) as exc:  # the estimators' messages name the fix
        raise _InputError(str(exc)) from None
    for w in caught:
        if issubclass(w.category, IntervalFallbackWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    print(
        f"fit in {fit_time:.1f} s ({model.n_iter_} epochs, "
        f"hidden_size {model.hidden_size_})",
        file=sys.stderr,
    )
    out = pd.DataFrame({args.target: np.asarray(point)}, index=point.index)
    for name in lo_hi.columns:
        out[name] = lo_hi[name].to_numpy()
    if args.output:
        path = Path(args.output).expanduser()
        _write_atomically(path, lambda tmp: out.to_csv(tmp), args.force)
        print(f"wrote {len(out)} rows to {args.output}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout)
    if paths is not None:
        if point.index.name:  # the forecast's time column name, as in --output
            paths = paths.rename(columns={paths.columns[0]: point.index.name})
        path = Path(args.paths).expanduser()
        _write_atomically(path, lambda tmp: paths.to_csv(tmp, index=False), args.force)
        print(
            f"wrote {paths['sample'].nunique()} sample paths ({len(paths)} rows) "
            f"to {args.paths}",
            file=sys.stderr,
        )
    if args.plot:
        _save_plot(args, y, point, lo_hi)
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0


def _levels(args) -> list[float]:
    """The interval levels asked for (fractions), --coverage folded into --level."""
    if args.coverage is not None and args.level is not None:
        raise _InputError("give --level (e.g. --level 80 95) or --coverage, not both")
    if args.level is not None:
        return sorted(set(args.level))
    return [0.9 if args.coverage is None else args.coverage]


def _print_backtest(args, model, y, X, m, backtest, SeasonalNaiveForecaster) -> None:
    level = _levels(args)[0]
    kw = dict(
        horizon=args.horizon, n_origins=args.backtest_origins, season_length=m,
        coverage=level,
    )
    t0 = time.perf_counter()
    rnn = backtest(model, y, X, method=args.interval_method, **kw)
    t_rnn = time.perf_counter() - t0
    snaive = backtest(SeasonalNaiveForecaster(season_length=m), y, None, **kw)
    print(
        f"backtest, {args.backtest_origins} origins x {args.horizon} steps "
        f"(fit once, then update):",
        file=sys.stderr,
    )
    for name, r in (("RNNForecaster", rnn), (f"seasonal naive (m={m})", snaive)):
        print(
            f"  {name:24s} MASE {r['mase'].mean():.3f}  MAE {r['mae'].mean():.4g}  "
            f"sMAPE {r['smape'].mean():.2f}  "
            f"coverage of {100 * level:g}%: {100 * r['coverage'].mean():.0f}%",
            file=sys.stderr,
        )
    print(f"  ({t_rnn:.1f} s for the RNN backtest)", file=sys.stderr)


def _save_plot(args, y, point, lo_hi) -> None:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from .plotting import plot_forecast

    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    ax = fig.subplots()
    shown = min(len(y), max(4 * args.horizon, 100))
    plot_forecast(
        y, point, lo_hi, ax=ax, last=shown,
        title=f"{args.target}: {args.horizon}-step forecast",
    )
    fmt = Path(args.plot).suffix.lower().lstrip(".")
    path = Path(args.plot).expanduser()
    _write_atomically(path, lambda tmp: fig.savefig(tmp, format=fmt), args.force)


def main(argv=None) -> int:
    """Entry point of the ``tsrnn`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when writing an output failed. Bad options and bad
        input data print ``tsrnn forecast: error: ...`` and raise
        ``SystemExit(2)``, as argparse does for its own usage errors.
    """
    parser, forecast_parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "forecast":
            return forecast(args)
    except _InputError as exc:
        forecast_parser.exit(2, f"{_PROG}: error: {exc}\n")
    except _OutputError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
