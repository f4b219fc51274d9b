"""Learned embeddings of categorical inputs, in front of a network's first layer.

An input row ``x`` ends with ``len(cardinalities)`` integer code columns (stored
as floats, exact below 2**24 in float32). :meth:`Embeddings.forward` replaces
them by their tables' rows: ``[x_numeric, E_0[c_0], E_1[c_1], ...]``, which the
recurrent stack reads as ordinary inputs. The gradient of a table is the
scatter-add of the stack's input gradient over the rows that were read
(:meth:`Embeddings.backward`), as ``torch.nn.Embedding``'s. Each table is a
flat parameter ``embeddings.<i>.weight`` of shape ``(cardinality, dim)``,
initialised ``N(0, 1)`` like torch's.

An embedding followed by the first layer's input weights ``W_e`` is the one-hot
input ``onehot(c)`` with weights ``W_e E^T``: the same function family (of rank
at most ``dim``), trained with other coordinates (tests check the equivalence).
"""

from __future__ import annotations

import numpy as np

from .layout import ParamLayout


class Embeddings:
    """Tables turning the last code columns of an input into learned vectors.

    Parameters
    ----------
    cardinalities : sequence of int
        Rows of each table (the number of codes a column can take).
    dims : sequence of int
        Width of each table's vectors.
    dtype : numpy dtype
    """

    def __init__(self, cardinalities, dims, dtype=np.float64):
        self.cardinalities = tuple(int(n) for n in cardinalities)
        self.dims = tuple(int(d) for d in dims)
        if len(self.cardinalities) != len(self.dims):
            raise ValueError("one embedding dimension per categorical column")
        if min(self.cardinalities + self.dims, default=1) < 1:
            raise ValueError("embedding tables need at least one row and column")
        self.dtype = np.dtype(dtype).type
        self.layout = ParamLayout(
            (f"embeddings.{i}.weight", (n, d))
            for i, (n, d) in enumerate(
                zip(self.cardinalities, self.dims, strict=True)
            )
        )
        self.size = self.layout.size
        self.n_codes = len(self.dims)
        self.width = sum(self.dims)

    def __bool__(self) -> bool:
        return self.n_codes > 0

    def output_size(self, input_size: int) -> int:
        """Columns of an embedded row from ``input_size`` input columns."""
        return input_size - self.n_codes + self.width

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """``N(0, 1)`` entries, as ``torch.nn.Embedding``."""
        return rng.standard_normal(self.size).astype(self.dtype)

    def codes(self, x) -> np.ndarray:
        """The code columns of ``x`` (``(..., I)``) as ``(..., n_codes)`` ints.

        Out-of-range codes are refused here (a table lookup would read another
        series' memory or wrap around silently).
        """
        c = x[..., x.shape[-1] - self.n_codes :]
        codes = np.rint(c).astype(np.int64)
        bad = (codes < 0) | (codes >= np.asarray(self.cardinalities))
        if bad.any():
            j = int(np.argmax(bad.reshape(-1, self.n_codes).any(axis=0)))
            raise ValueError(
                f"categorical input {j} holds code(s) outside 0..."
                f"{self.cardinalities[j] - 1}; codes index the embedding table"
            )
        return codes

    def forward(self, theta, x) -> np.ndarray:
        """``x`` with its code columns replaced by their embedding rows.

        Parameters
        ----------
        theta : ndarray of shape (size,)
            This object's slice of the flat parameters.
        x : ndarray of shape (..., I)

        Returns
        -------
        ndarray of shape (..., I - n_codes + sum(dims)), of ``x``'s dtype
        """
        codes = self.codes(x)
        p = self.layout.views(theta)
        parts = [x[..., : x.shape[-1] - self.n_codes]]
        for i in range(self.n_codes):
            parts.append(p[f"embeddings.{i}.weight"][codes[..., i]].astype(x.dtype))
        return np.concatenate(parts, axis=-1)

    def backward(self, x, d_in, grad) -> None:
        """Accumulate the tables' gradient into ``grad`` (``+=``).

        ``d_in`` is the gradient with respect to :meth:`forward`'s output; each
        table row receives the sum of the gradients of the steps that read it.
        """
        codes = self.codes(x).reshape(-1, self.n_codes)
        g = self.layout.views(grad)
        off = d_in.shape[-1] - self.width
        flat = d_in.reshape(-1, d_in.shape[-1])
        for i, d in enumerate(self.dims):
            np.add.at(g[f"embeddings.{i}.weight"], codes[:, i], flat[:, off : off + d])
            off += d

    def last_rows_as_mean(self, theta, tables) -> None:
        """Set the last row of each table in ``tables`` to its other rows' mean.

        In place on ``theta`` (this object's slice). The estimators reserve the
        last row for values ``fit`` never saw: training never reads it, so it
        is set to the "average category" after training.
        """
        views = self.layout.views(theta)
        for i in tables:
            table = views[f"embeddings.{i}.weight"]
            if len(table) > 1:
                table[-1] = table[:-1].mean(axis=0)


#: Most dimensions :func:`embedding_dim` gives a column. fastai's rule caps at
#: 600 for tabular models with thousands of inputs; tsrnn's networks have tens
#: of hidden units, and an embedding wider than the state it feeds only adds
#: parameters the few series of a forecasting set cannot train.
MAX_EMBEDDING_DIM = 16


def embedding_dim(n_categories: int) -> int:
    """Default width of a column's embedding: fastai's rule, capped at 16.

    ``min(16, round(1.6 * n ** 0.56))``: 2 categories give 2, 7 give 5, 50 give
    14, 100 or more give 16 (:data:`MAX_EMBEDDING_DIM`).
    """
    return int(max(1, min(MAX_EMBEDDING_DIM, round(1.6 * n_categories**0.56))))
