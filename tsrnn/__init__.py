"""tsrnn: recurrent neural network forecasters compiled by Numba on the CPU."""

__version__ = "0.1.0"

from . import nn  # noqa: E402

__all__ = ["nn", "__version__"]
