"""Real time series shipped with tsrnn, loaded offline as pandas objects.

The CSV files live once, in the top-level ``datasets/`` folder of the
repository, next to ``PROVENANCE.md`` (source, license and irregularities of
every file) and ``SHA256SUMS``. ``pip install`` copies that folder to
``<prefix>/share/tsrnn/datasets`` (setuptools ``data-files``); see
:func:`get_data_dir` for how the folder is found.

Return types, by layout:

- single series and multivariate frames (sensor and financial data): a
  ``DataFrame`` with a ``DatetimeIndex`` named ``timestamp``, one column per
  variable. ``index.freq`` is set when the file is exactly regular; files with
  gaps or duplicate timestamps keep their rows as they are, with
  ``freq=None`` (some loaders offer ``regularize=True``). Daily market
  series skip exchange holidays: their ``index.freq`` is the exchange's
  trading calendar, a ``CustomBusinessDay`` (see :func:`market_calendar`).
- panels and collections: long format with columns ``unique_id``, ``ds``,
  ``y`` (the statsforecast convention). Collections (M3, Tourism) come as a
  :class:`Collection` named tuple ``(df, meta)``.

Parsed files are cached in memory; every call returns a fresh copy, so a user
changing a result cannot change the next load.
"""

from .catalogue import list_datasets
from .files import DATA_DIR_ENV, get_data_dir
from .loaders import (
    Collection,
    load_bank_calls,
    load_clemson_temperature,
    load_co2,
    load_dataset,
    load_elec_demand,
    load_eu_stock_markets,
    load_m3,
    load_sea_surface_temperature,
    load_sp500,
    load_sunspots,
    load_tourism,
    load_us_stocks,
    load_usd_exchange_rates,
    load_vix,
    load_wti,
    market_calendar,
)

__all__ = [
    "DATA_DIR_ENV",
    "Collection",
    "get_data_dir",
    "list_datasets",
    "load_dataset",
    "load_elec_demand",
    "load_sea_surface_temperature",
    "load_co2",
    "load_sunspots",
    "load_clemson_temperature",
    "load_bank_calls",
    "load_sp500",
    "load_vix",
    "load_wti",
    "load_eu_stock_markets",
    "load_usd_exchange_rates",
    "load_us_stocks",
    "load_m3",
    "load_tourism",
    "market_calendar",
]
