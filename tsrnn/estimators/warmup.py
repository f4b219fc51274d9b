"""``tsrnn.warmup``: compile (or load) the kernels a model needs, before its first fit.

tsrnn's kernels are compiled by Numba on first use and cached on disk
(``cache=True``), so only the first fit in a fresh environment pays for the
compilation: seconds per cell and dtype. A Docker image or a CI cache that
runs :func:`warmup` once at build time ships the compiled kernels, and every
later process loads them instead (about 0.5 s).

The kernels are exercised the way the estimators call them (the same array
types, so the same compiled specializations): a training step and a forward
pass of a small two-layer network of each cell and dtype, its streaming step
(recursive forecasts, gaps, ``update``), and the per-series reference models
the forecaster's direct head reads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from ..engine import (
    CELLS,
    Adam,
    InferencePack,
    LinearHead,
    Network,
    StepwiseHead,
    get_loss,
)
from ..engine.stack import RecurrentStack
from ..kernels._jit import kernel_label, on_compile, specializations
from ..kernels.combination import grid_abs_errors
from ..smoothing import fit_references, run_references

DTYPES = ("float64", "float32")

_DONE = set()  # what this process has exercised already (a second call is free)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WarmupReport:
    """What :func:`warmup` did.

    Attributes
    ----------
    compiled : tuple of str
        Kernels compiled by this call (``"tsrnn.kernels.lstm.lstm_forward[float32]"``),
        now also in the on-disk cache.
    loaded : tuple of str
        Kernels loaded from the on-disk cache (compiled by an earlier process).
    seconds : float
        Wall-clock time of the call.
    """

    compiled: tuple[str, ...]
    loaded: tuple[str, ...]
    seconds: float


def _check_choice(name, values, allowed):
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(
            f"warmup: unknown {name} {bad!r}; choose among {list(allowed)}"
        )
    return values


def _run_network(cell: str, dtype: str, nonlinearity: str, streaming: bool):
    """One training step, one forward pass and (``streaming``) one streaming run."""
    dt = np.dtype(dtype).type
    # two layers: the upper one reads the lower one's outputs
    stack = RecurrentStack(cell, 2, 4, 2, nonlinearity=nonlinearity, dtype=dt)
    net = Network(stack, LinearHead(4, 1, "none"))
    theta = net.init_params(np.random.default_rng(0))
    x = np.zeros((3, 2, 2), dt)
    y = np.zeros((3, 2, 1), dt)
    opt = Adam(theta.size, dtype=dt)
    net.train_step(theta, opt, x, y, None, get_loss("squared_error"))
    net.forward(theta, x)
    # the forecaster's per-step head, with one extra input per step, and its
    # masked absolute error (the loss kernel)
    per_step = Network(stack, StepwiseHead(4, 2, 1, 1))
    theta = per_step.init_params(np.random.default_rng(0))
    extra = np.zeros((3, 2, 2), dt)
    mask = np.ones((3, 2, 2), dt)
    per_step.train_step(
        theta, Adam(theta.size, dtype=dt), x, np.zeros((3, 2, 2), dt), mask,
        get_loss("absolute_error"), extra=extra,
    )
    if streaming:
        InferencePack(net, theta).run(stack.zero_state(2), x)


def _run_references():
    """The reference models' fit and filters (float64 whatever the model's dtype)."""
    y = np.linspace(0.0, 1.0, 24) + np.tile([0.0, 0.1, -0.1], 8)
    indptr = np.array([0, len(y)])
    params, states = fit_references(y, indptr, np.array([len(y)]), 3)
    run_references(y, indptr, params, states)
    # two series of one length: their damped trends in lockstep (fit_holt_rows;
    # one series alone takes fit_holt)
    fit_references(np.concatenate([y, y]), np.array([0, 24, 48]), np.array([24, 48]), 3)
    # the combination of the network's forecast with the references
    grid_abs_errors(np.zeros((2, 3)), np.zeros(2), np.zeros((3, 4)), np.zeros(4))


def warmup(
    cells=("lstm",),
    dtypes=("float32",),
    *,
    nonlinearity="tanh",
    streaming=True,
    references=True,
) -> WarmupReport:
    """Compile, or load from the on-disk cache, the kernels a model will need.

    Run it once where the cache will be kept (a Docker image's build step, a
    CI cache's populate step): later processes then start without compiling.
    Numba's cache is specific to the CPU it was compiled for (a different CPU
    model misses it and compiles again) and lives next to the installed
    package, or in ``NUMBA_CACHE_DIR`` when that is set (use the same value at
    build and at run time).

    Parameters
    ----------
    cells : str or sequence of {"lstm", "gru", "rnn", "sru"}, default=("lstm",)
        The ``cell=`` values of the models to come.
    dtypes : str or sequence of {"float32", "float64"}, default=("float32",)
        Their ``dtype=`` values (:class:`~tsrnn.RNNForecaster`'s default is
        float32; :class:`~tsrnn.RNNRegressor` and
        :class:`~tsrnn.RNNClassifier` default to float64).
    nonlinearity : {"tanh", "relu"}, default="tanh"
        For ``cell="rnn"`` (its streaming step differs).
    streaming : bool, default=True
        Also the streaming step: recursive forecasts (``strategy="recursive"``),
        ``update`` through gaps, series with missing values.
    references : bool, default=True
        Also the per-series reference models (exponential smoothing, damped
        trend) of :class:`~tsrnn.RNNForecaster`'s default head.

    Returns
    -------
    WarmupReport
        The kernels compiled and loaded by this call, and its duration. A
        second call with the same arguments in the same process compiles and
        loads nothing.

    Examples
    --------
    >>> import tsrnn
    >>> report = tsrnn.warmup(["lstm", "gru"], ["float32"])  # doctest: +SKIP
    >>> report.compiled  # doctest: +SKIP
    ('tsrnn.kernels.lstm.lstm_forward[float32]', ...)
    """
    cells = _check_choice("cells", cells, CELLS)
    dtypes = _check_choice("dtypes", dtypes, DTYPES)
    _check_choice("nonlinearity", (nonlinearity,), ("tanh", "relu"))
    jobs = [
        ("net", c, d, nonlinearity if c == "rnn" else "tanh", bool(streaming))
        for c in cells
        for d in dtypes
    ]
    if references:
        jobs.append(("references",))
    start = time.perf_counter()
    compiled = []
    with _LOCK:
        before = specializations()
        with on_compile(lambda d, args: compiled.append(kernel_label(d, args))):
            for job in jobs:
                if job in _DONE:
                    continue
                if job[0] == "net":
                    _run_network(*job[1:])
                else:
                    _run_references()
                _DONE.add(job)
        after = specializations()
    new = [
        kernel_label(d, sig)
        for d, sigs in after.items()
        for sig in sigs - before.get(d, set())
    ]
    # kernels only: helpers over scalars are compiled into them
    compiled = {k for k in compiled if k.endswith("]")}
    loaded = {k for k in new if k.endswith("]")} - compiled
    return WarmupReport(
        tuple(sorted(compiled)), tuple(sorted(loaded)), time.perf_counter() - start
    )
