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

        Examples
        --------
        >>> import os, tempfile, warnings
        >>> import numpy as np
        >>> from sklearn.exceptions import ConvergenceWarning
        >>> import tsrnn
        >>> series = np.sin(0.3 * np.arange(300.0))
        >>> X = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)
        >>> reg = tsrnn.RNNRegressor(hidden_size=8, max_iter=2, random_state=0)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", ConvergenceWarning)  # 2 epochs: a demo
        ...     reg = reg.fit(X, series[12:])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     reg.save(os.path.join(tmp, "regressor.npz"))
        ...     again = tsrnn.load(os.path.join(tmp, "regressor.npz"))
        >>> type(again).__name__, np.array_equal(again.predict(X), reg.predict(X))
        ('RNNRegressor', True)
        """
        from .persist import save  # persist imports the estimators: import late

        save(self, path)
