"""Memory and time budgets: what a parameter may make tsrnn allocate, checked up front.

A size-like parameter (``hidden_size``, ``num_layers``, ``season_length``,
``lags``, a ``predict`` horizon) sizes arrays before any data can say it is
absurd: ``hidden_size=10**6`` asks for 58 TiB of LSTM weights, and
``predict(horizon=10**12)`` for 7 TiB of forecast. Rather than a raw
``MemoryError`` (after minutes of swapping, or never on an overcommitting
system), the entry points compare the size with a budget before allocating,
and refuse with a ``ValueError`` naming the parameter, the size and the fix.

The budgets are module attributes, read at every check, so a user with the
memory (and the time) can raise them::

    import tsrnn.engine.budget
    tsrnn.engine.budget.MAX_ARRAY_BYTES = 16 * 2**30

Parameters bounded by the data instead (``bptt_length`` beyond the longest
series, ``batch_size`` beyond the rows, ``n_origins`` beyond the series length)
are clamped or refused where the data are read, not here.
"""

from __future__ import annotations

#: Largest single array a size-like parameter may make tsrnn allocate (bytes):
#: the flat parameter vector of a network, a forecaster's kept history per
#: series (``season_length``), a baseline's lags or season table. 2 GiB.
MAX_ARRAY_BYTES = 2**31

#: Most forecast steps (horizon x series forecast, per target) one ``predict``
#: or ``predict_interval`` call may produce: ten million, about 80 MB of values
#: per target and, for the recursive strategy, some 15 times that at its peak
#: and tens of seconds.
MAX_FORECAST_STEPS = 10**7


def format_bytes(n: int) -> str:
    """``n`` bytes for a message: ``'7.3 TiB'``."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# Declared mirror (form only): check_forecast_budget has this docstring form and
# body shape (compute in Python ints, refuse with the fix); different limits.
def check_array_budget(n_items: int, itemsize: int, what: str, fix: str) -> None:
    """Refuse an array of ``n_items`` items of ``itemsize`` bytes over the budget.

    Parameters
    ----------
    n_items, itemsize : int
        Computed in Python ints (no overflow), before anything is allocated.
    what : str
        What the array is and which parameter sizes it, e.g.
        ``"hidden_size=1000000 makes an LSTM of 4.0e+12 parameters"``.
    fix : str
        How to get under the budget, e.g. ``"lower hidden_size"``.

    Raises
    ------
    ValueError
        ``n_items * itemsize > MAX_ARRAY_BYTES``.
    """
    nbytes = int(n_items) * int(itemsize)
    if nbytes > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what}: {format_bytes(nbytes)}, over tsrnn's budget of "
            f"{format_bytes(MAX_ARRAY_BYTES)} for one array; {fix} (or, with the "
            "memory to spare, raise tsrnn.engine.budget.MAX_ARRAY_BYTES)"
        )


# Declared mirror (form only): check_array_budget's docstring form and body shape.
def check_forecast_budget(horizon: int, n_series: int, n_targets: int = 1) -> None:
    """Refuse a forecast of more than ``MAX_FORECAST_STEPS`` steps, before any work.

    Parameters
    ----------
    horizon : int
        Steps ahead per series.
    n_series : int
        Series forecast by the call.
    n_targets : int, default=1
        Targets per step (only named in the message: the limit counts steps).

    Raises
    ------
    ValueError
        ``horizon * n_series > MAX_FORECAST_STEPS``.
    """
    steps = int(horizon) * int(n_series)
    if steps > MAX_FORECAST_STEPS:
        values = format_bytes(steps * int(n_targets) * 8)
        count = f"{n_series} series x {horizon} = " if n_series > 1 else ""
        raise ValueError(
            f"horizon={horizon} asks for {count}{steps:.3g} forecast steps "
            f"({values} of values alone), over tsrnn's limit of "
            f"{MAX_FORECAST_STEPS:.3g} steps per predict call; lower horizon, "
            "forecast fewer series at a time (or, with the memory and time to "
            "spare, raise tsrnn.engine.budget.MAX_FORECAST_STEPS)"
        )
