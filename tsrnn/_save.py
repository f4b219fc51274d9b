"""``save(path)`` for every estimator that :mod:`tsrnn.persist` knows."""

from __future__ import annotations


class SaveMixin:
    """Adds :meth:`save`; the format and the checks live in :mod:`tsrnn.persist`."""

    def save(self, path) -> None:
        """Write the fitted model to ``path`` without pickle (see :mod:`tsrnn.persist`).

        A versioned ``.npz`` of NumPy arrays plus JSON metadata; read it back with
        :func:`tsrnn.load`, which opens it with ``allow_pickle=False`` so that
        loading never runs code. Pickle (and joblib) still work, but unpickling a
        file can execute arbitrary code: use them only for files you trust.

        Parameters
        ----------
        path : str or path-like
            Target file, conventionally ending in ``.npz``.
        """
        from .persist import save  # persist imports the estimators: import late

        save(self, path)
