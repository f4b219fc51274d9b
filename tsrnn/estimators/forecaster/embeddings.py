"""Categorical covariates, the series id and past-only covariates in the layout.

The data layer reads categorical columns as codes (:mod:`tsrnn.data.categorical`)
and records past-only covariates (``past_covariates``) in the schema; here
they become the :class:`~.features.FeatureLayout`'s columns: which covariates
the head reads about future steps (the known numeric ones), which only the
recurrent input reads (past-only ones, codes), and the embedding tables of the
codes (:class:`tsrnn.engine.embedding.Embeddings`): one per categorical column
with a reserved *unknown* row, then one for the series id
(``id_embedding=True``; every id is known, so it has none).

Sizes: ``embedding_dims`` (an int for every table, or ``{column: dim}``, the
series id under ``id_col``'s name) or the default rule
:func:`tsrnn.engine.embedding.embedding_dim`, fastai's ``round(1.6 n**0.56)``
capped at 16 (fastai's cap of 600 is for tabular networks far wider than a
forecaster's state).

Known categorical covariates with at most :data:`MAX_HEAD_ONE_HOT`
categories are also read by the direct head about every future step, one-hot
(the head is linear: one weight per category, step and target).

The unknown row is never read in training (every category of the fit data has
its own row): after training it is set to the mean of the fitted rows, so an
unseen category reads the "average" category
(:func:`unknown_rows_as_mean`).
"""

from __future__ import annotations

import numbers

from ...engine.embedding import embedding_dim

#: Most categories (with the unknown one) of a known categorical covariate
#: the head reads about each future step, one-hot (a calendar-like column:
#: weekday, month, promotion or holiday type). The head's extras grow by
#: that many columns per forecast step and season; a larger table (a
#: product or store id) enters the recurrent input only, embedded.
MAX_HEAD_ONE_HOT = 32


def code_columns(schema) -> list:
    """Columns (among the schema's covariates) of the categorical ones."""
    cats = schema.categories or {}
    return [j for j, c in enumerate(schema.covariate_names or ()) if c in cats]


def embedding_layout(est, schema, strategy) -> dict:
    """The layout fields of the covariate roles and the embedding tables.

    Refuses, naming the fix: ``past_covariates`` with a strategy that runs
    the network over the forecast steps (``"recursive"``), ``id_embedding``
    without several series, and ``embedding_dims`` naming anything but a
    categorical column (or the id).
    """
    names = list(schema.covariate_names or ())
    cats = schema.categories or {}
    codes = code_columns(schema)
    past = [j for j, c in enumerate(names) if c in schema.past_names]
    if past and strategy.name == "recursive":
        raise ValueError(
            f"past_covariates {list(schema.past_names)} cannot be used with "
            "strategy='recursive': its forecast steps run the network again, "
            "and past-only covariates have no future values to read there; use "
            "strategy='direct' (the state at the origin has read them), or pass "
            "them lagged by the horizon as known covariates"
        )
    id_code = bool(getattr(est, "id_embedding", False))
    if id_code and schema.kind != "long":
        raise ValueError(
            "id_embedding=True embeds the series id of a global model over many "
            "series; fit on a long-format frame (one model, many series) or set "
            "id_embedding=False"
        )
    tables = [names[j] for j in codes] + ([schema.id_col] if id_code else [])
    cardinalities = [len(cats[names[j]]) + 1 for j in codes]  # + unknown row
    if id_code:
        cardinalities.append(schema.n_series)
    spec = getattr(est, "embedding_dims", None)
    dims = _dims(spec, tables, cardinalities, names, schema, id_code)
    return dict(
        n_covariates=len(names) - len(set(past) | set(codes)),
        past_columns=tuple(j for j in past if j not in codes),
        code_columns=tuple(codes),
        id_code=id_code,
        cardinalities=tuple(cardinalities),
        embedding_dims=tuple(dims),
        head_codes=tuple(
            i for i, j in enumerate(codes)
            if j not in past and cardinalities[i] <= MAX_HEAD_ONE_HOT
        ),
    )


def _dims(spec, tables, cardinalities, names, schema, id_code) -> list:
    """Each table's width: ``embedding_dims`` or the default rule."""
    # the default counts the categories a table can tell apart (not the
    # unknown row)
    default = [
        embedding_dim(n - (0 if id_code and i == len(tables) - 1 else 1))
        for i, n in enumerate(cardinalities)
    ]
    if spec is None:
        return default
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return [int(spec)] * len(tables)
    unknown = [k for k in spec if k not in tables]
    if unknown:
        numeric = [k for k in unknown if k in names]
        if numeric:
            raise ValueError(
                f"embedding_dims names {numeric}, numeric covariate(s): only "
                "categorical columns are embedded; cast one to a category to "
                f"embed it (X[{numeric[0]!r}].astype('category')) or drop it "
                "from embedding_dims"
            )
        if schema.id_col in unknown and not id_code:
            raise ValueError(
                f"embedding_dims names the series id {schema.id_col!r} but "
                "id_embedding=False; set id_embedding=True to embed it"
            )
        raise ValueError(
            f"embedding_dims names {unknown}, which are not embedded columns; "
            f"the embedded ones are {tables} (categorical covariates"
            + (f", the id {schema.id_col!r}" if id_code else "")
            + ")"
        )
    out = []
    for t, d in zip(tables, default, strict=True):
        v = spec.get(t, d)
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(
                f"embedding_dims[{t!r}] must be a positive int, got {v!r}; "
                f"e.g. embedding_dims={{{t!r}: {d}}}"
            )
        out.append(int(v))
    return out


def unknown_rows_as_mean(net, theta, layout) -> None:
    """Set each categorical table's unknown (last) row to its other rows' mean.

    In place on ``theta``. The id table has no unknown row (every id is known).
    """
    if net.embeddings is not None:
        net.embeddings.last_rows_as_mean(
            net.embedding_part(theta), range(len(layout.code_columns))
        )
