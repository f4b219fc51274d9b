"""``tsrnn forecast``: fit the default RNNForecaster on a CSV and write the forecast.

Example::

    tsrnn forecast datasets/elec_demand_victoria_2014_30min.csv \\
        --target demand_gw --covariates temperature_c workday --horizon 48

Covariates must be known in advance: the last ``horizon`` rows of the file are
then the future (their target may be empty) unless ``--future FILE`` gives them.
Without covariates the forecast starts after the last row.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import pandas as pd

from .data.calendar import infer_season_length
from .data.timeaxis import infer_freq


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tsrnn",
        description="Recurrent-network forecasts of time series in CSV files.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser(
        "forecast",
        help="fit an RNNForecaster on a CSV and write the forecast with intervals",
        description=(
            "Fit tsrnn's default RNNForecaster on one column of a CSV (rows = "
            "consecutive time steps), print a short rolling-origin backtest "
            "against seasonal naive, and write the next HORIZON steps with "
            "prediction intervals as CSV."
        ),
        epilog=(
            "example: tsrnn forecast datasets/elec_demand_victoria_2014_30min.csv "
            "--target demand_gw --covariates temperature_c workday --horizon 48"
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
    f.add_argument("--horizon", type=int, required=True, help="steps to forecast")
    f.add_argument(
        "--time-col",
        default="timestamp",
        help="column with the timestamps (default: timestamp; 'none' for "
        "plain row numbers)",
    )
    f.add_argument("--future", help="CSV with the future covariate rows")
    f.add_argument(
        "--season-length",
        type=int,
        default=None,
        help="seasonal period for the baseline and MASE (default: from "
        "the frequency, e.g. 48 for 30 min)",
    )
    f.add_argument(
        "--coverage", type=float, default=0.9, help="interval coverage (default: 0.9)"
    )
    f.add_argument(
        "--backtest-origins",
        type=int,
        default=10,
        help="forecast origins of the backtest (0 to skip; default 10)",
    )
    f.add_argument("--max-iter", type=int, default=None, help="training epochs")
    f.add_argument("--random-state", type=int, default=0)
    f.add_argument(
        "--output", "-o", help="write the forecast CSV here (default: stdout)"
    )
    return p


def _read(path: str, time_col: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise SystemExit(f"error: no such file: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SystemExit(f"error: {path} is not a readable CSV file ({exc})") from None
    if time_col.lower() != "none":
        if time_col not in df.columns:
            raise SystemExit(
                f"error: {path} has no time column {time_col!r}; columns are "
                f"{list(df.columns)}. Name it with --time-col, or --time-col none"
            )
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(df[time_col]), name=time_col)
        except (ValueError, TypeError) as exc:
            raise SystemExit(
                f"error: column {time_col!r} is not dates ({exc})"
            ) from None
        df = df.drop(columns=time_col).set_index(idx)
        freq = infer_freq(df.index)
        if freq is not None:
            df = df.asfreq(freq)
    return df


def _columns(df: pd.DataFrame, cols, what: str, path: str):
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise SystemExit(
            f"error: {what} column(s) {missing} not in {path}; columns are {list(df.columns)}"
        )


def forecast(args) -> int:
    from . import RNNForecaster, SeasonalNaiveForecaster, backtest

    df = _read(args.file, args.time_col)
    _columns(df, [args.target], "target", args.file)
    _columns(df, args.covariates, "covariate", args.file)
    if args.horizon < 1:
        raise SystemExit("error: --horizon must be a positive integer")
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
                raise SystemExit(
                    "error: the file is too short to hold future covariates"
                )
            X_future = X.iloc[-args.horizon :]
            y, X = y.iloc[: -args.horizon], X.iloc[: -args.horizon]
        if len(X_future) < args.horizon:
            raise SystemExit(
                f"error: need {args.horizon} future covariate rows, got {len(X_future)}"
            )
    freq = getattr(y.index, "freq", None)
    m = args.season_length or infer_season_length(freq) or 1
    params = dict(horizon=args.horizon, random_state=args.random_state)
    if args.max_iter:
        params["max_iter"] = args.max_iter
    model = RNNForecaster(**params)
    print(
        f"tsrnn: {len(y)} rows of {args.target!r}"
        + (f" with covariates {args.covariates}" if args.covariates else "")
        + f", frequency {freq.freqstr if freq is not None else 'none'}, "
        f"season {m}, horizon {args.horizon}",
        file=sys.stderr,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        if args.backtest_origins > 0:
            kw = dict(
                horizon=args.horizon, n_origins=args.backtest_origins, season_length=m
            )
            t0 = time.perf_counter()
            rnn = backtest(model, y, X, **kw)
            t_rnn = time.perf_counter() - t0
            snaive = backtest(SeasonalNaiveForecaster(season_length=m), y, None, **kw)
            print(
                f"backtest, {args.backtest_origins} origins x {args.horizon} steps "
                f"(fit once, then update):",
                file=sys.stderr,
            )
            for name, r in (
                ("RNNForecaster", rnn),
                (f"seasonal naive (m={m})", snaive),
            ):
                print(
                    f"  {name:24s} MASE {r['mase'].mean():.3f}  MAE {r['mae'].mean():.4g}  "
                    f"sMAPE {r['smape'].mean():.2f}",
                    file=sys.stderr,
                )
            print(f"  ({t_rnn:.1f} s for the RNN backtest)", file=sys.stderr)
        t0 = time.perf_counter()
        model.fit(y, X)
        fit_time = time.perf_counter() - t0
        point = model.predict(X=X_future)
        lo_hi = model.predict_interval(X=X_future, coverage=args.coverage)
    print(f"fit in {fit_time:.1f} s ({model.n_iter_} epochs)", file=sys.stderr)
    pct = int(round(args.coverage * 100))
    out = pd.DataFrame({args.target: np.asarray(point)}, index=point.index)
    out[f"lower_{pct}"] = np.asarray(lo_hi["lower"])
    out[f"upper_{pct}"] = np.asarray(lo_hi["upper"])
    if args.output:
        out.to_csv(args.output)
        print(f"wrote {len(out)} rows to {args.output}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``tsrnn`` command."""
    args = _parser().parse_args(argv)
    if args.command == "forecast":
        return forecast(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
