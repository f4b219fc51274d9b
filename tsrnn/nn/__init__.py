"""Low-level recurrent modules on NumPy arrays, the numerical twins of ``torch.nn``."""

from .modules import GRU, LSTM, RNN, SRU, RNNBase

__all__ = ["RNN", "LSTM", "GRU", "SRU", "RNNBase"]
