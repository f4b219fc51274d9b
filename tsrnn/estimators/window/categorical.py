"""Categorical per-step features of the window models, read as learned embeddings.

``categorical_features`` names per-step feature indices of ``X`` (as
scikit-learn's ``HistGradientBoosting*``): their values (numbers: a sensor
id, a weekday 0-6, a regime label encoded as ints) are categories. ``fit``
learns each one's categories (``categories_``: the sorted distinct finite
values of the training windows) and the network reads each as a trained
vector (:class:`tsrnn.engine.embedding.Embeddings`), the tables' width from
``embedding_dims`` or :func:`tsrnn.engine.embedding.embedding_dim`.

Every batch the network reads goes through :func:`encode`: the categorical
features become codes moved after the numeric ones (the engine embeds the
last columns). A value ``fit`` never saw reads the reserved unknown row (the
mean of the fitted rows, set after training) with an
:class:`~tsrnn.data.categorical.UnknownCategoryWarning`; the padding of ragged
sequences reads code 0 and is never read by the network.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ...data.categorical import UnknownCategoryWarning
from ...engine.embedding import Embeddings, embedding_dim


def check_features(features, n_features: int) -> tuple:
    """``categorical_features`` as a sorted tuple of indices, checked."""
    if features is None:
        return ()
    items = list(np.atleast_1d(np.asarray(features)))
    if np.asarray(features).dtype == bool:
        if len(items) != n_features:
            raise ValueError(
                f"categorical_features is a mask of {len(items)} entries but X has "
                f"{n_features} feature(s) per step; pass one per feature"
            )
        items = list(np.flatnonzero(items))
    out = []
    for j in items:
        if not isinstance(j, numbers.Integral) or isinstance(j, (bool, np.bool_)):
            raise TypeError(
                f"categorical_features must hold feature indices (ints) or be a "
                f"boolean mask, got {features!r}"
            )
        if not 0 <= j < n_features:
            raise ValueError(
                f"categorical_features holds index {int(j)} but X has {n_features} "
                f"feature(s) per step; use indices 0..{n_features - 1}"
            )
        out.append(int(j))
    if len(set(out)) != len(out):
        raise ValueError(f"categorical_features={features!r} names a feature twice")
    return tuple(sorted(out))


def learn(values, features, lengths=None) -> list:
    """Each categorical feature's sorted distinct values in ``values``.

    ``values`` is ``(n, T, I)``; ``lengths`` (ragged sequences) marks the
    steps that exist (the rest is padding).
    """
    valid = np.ones(values.shape[:2], bool)
    if lengths is not None:
        valid = np.arange(values.shape[1]) < np.asarray(lengths)[:, None]
    cats = []
    for j in features:
        col = values[..., j][valid]
        seen = np.unique(col[np.isfinite(col)])
        if not len(seen):
            raise ValueError(
                f"categorical feature {j} holds no value in the training windows"
            )
        cats.append(seen.astype(np.float64))
    return cats


def encode(x, features, categories, valid=None) -> np.ndarray:
    """``x`` ``(T, B, I)`` with its categorical features as codes, moved last.

    ``valid`` ``(T, B)``: the steps that exist (padding reads code 0 and is
    never read by the network).
    """
    if not features:
        return x
    numeric = [j for j in range(x.shape[-1]) if j not in features]
    out = np.empty_like(x)
    out[..., : len(numeric)] = x[..., numeric]
    for i, (j, cats) in enumerate(zip(features, categories, strict=True)):
        v = x[..., j]
        pos = np.clip(np.searchsorted(cats, v), 0, len(cats) - 1)
        finite = np.isfinite(v) if valid is None else np.isfinite(v) & valid
        known = (cats[pos] == v) & finite
        unseen = finite & ~known
        if unseen.any():
            new = np.unique(v[unseen])
            warnings.warn(
                f"categorical feature {j} holds {len(new)} value(s) not seen at fit "
                f"({', '.join(f'{u:g}' for u in new[:5])}"
                f"{', ...' if len(new) > 5 else ''}); they read the embedding's "
                "reserved 'unknown' row (the mean of the fitted categories' "
                "vectors); refit on windows holding them to learn their own",
                UnknownCategoryWarning,
                stacklevel=5,
            )
        codes = np.where(known, pos, np.where(finite, len(cats), 0))
        out[..., len(numeric) + i] = codes
    return out


def embeddings(spec, features, categories, dtype):
    """The tables (None without categorical features); ``spec``: embedding_dims."""
    if not features:
        if spec is not None and spec != {}:
            raise ValueError(
                "embedding_dims is set but no feature is categorical; name them "
                "with categorical_features=[...] or leave embedding_dims=None"
            )
        return None
    dims = []
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in features]
        if unknown:
            raise ValueError(
                f"embedding_dims names feature(s) {unknown}, which are not "
                f"categorical; the categorical features are {list(features)}"
            )
    for j, cats in zip(features, categories, strict=True):
        d = embedding_dim(len(cats))
        if isinstance(spec, dict):
            d = spec.get(j, d)
        elif spec is not None:
            d = spec
        if not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 1:
            raise ValueError(
                f"embedding_dims[{j}] must be a positive int, got {d!r}; e.g. "
                f"embedding_dims={{{j}: {embedding_dim(len(cats))}}}"
            )
        dims.append(int(d))
    return Embeddings([len(c) + 1 for c in categories], dims, dtype)


def unknown_rows_as_mean(network, theta) -> None:
    """Each table's unknown (last) row set to its fitted rows' mean (in place)."""
    emb = network.embeddings
    if emb is not None:
        emb.last_rows_as_mean(network.embedding_part(theta), range(emb.n_codes))
