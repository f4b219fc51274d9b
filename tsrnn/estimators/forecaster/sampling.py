"""Sample paths of a likelihood head, in the network's (scaled) space.

:func:`sample_paths` is what :meth:`RNNForecaster.sample` runs after reading
the head outputs at each series' end: for the recursive strategy, ancestral
sampling through the compiled sampler (each draw fed back as the next input,
the network advanced on it; :meth:`~tsrnn.engine.InferencePack.sample`); for
the direct strategy, independent draws of each step's marginal
(:func:`~tsrnn.engine.distributions.draw_paths`). A quantile head is drawn
from by inverting its sorted quantiles at a uniform level. The caller maps the paths
back to the data's units (levels, scaler, seasonal indices: each increasing,
applied to every path).
"""

from __future__ import annotations

import numpy as np

from ...engine.distributions import (
    FAMILY_CODES,
    QUANTILE_CODE,
    draw_paths,
    quantile_work,
)
from .features import gather
from .likelihood import output_head
from .strategies import strategy_name


def sample_paths(model, out0, rows, positions, h, n_paths, temperature, seed):
    """Paths ``(P, n_paths, h, k)`` in the network's space.

    ``out0`` ``(P, n_outputs)``: the head outputs at each series' end;
    ``rows``: its :class:`~.features.OriginRows` (history and known future).
    With ``differencing`` the values are changes: relative to the origin's
    level (direct), or to the step before (recursive).
    """
    lay = model._layout
    head = output_head(model)
    P, k, n_par = len(positions), lay.n_targets, lay.n_params
    if strategy_name(model) == "direct":
        raw = out0.reshape(P, lay.horizon_out, k * n_par)[:, :h].reshape(P, -1)
        draws = draw_paths(
            head.loss, raw, n_paths, temperature, seed, head.levels or None
        )
        return draws.reshape(P, n_paths, h, k)
    # recursive: every path starts from its series' state and origin output
    x = exs = None
    if h > 1:
        x, exs, _, _ = gather(
            lay, rows.Y, rows.Z, rows.start, rows.end, rows.future_rows(h - 1)
        )
        x = np.repeat(x, n_paths, axis=1)  # (h - 1, P * n, I): path p * n + i
        exs = np.repeat(exs, n_paths, axis=1)
    dt = model._net.dtype
    state = np.repeat(model._state[:, :, positions], n_paths, axis=2).astype(dt)
    draws = model._pack_cache.sample(
        np.ascontiguousarray(state),
        x,
        exs,
        np.repeat(out0, n_paths, axis=0),
        FAMILY_CODES.get(head.loss, QUANTILE_CODE),
        n_par,
        k,
        h,
        temperature,
        seed,
        quantile_work(head.levels or None),
    )  # (h, P * n, k)
    return draws.astype(np.float64).reshape(h, P, n_paths, k).transpose(1, 2, 0, 3)
