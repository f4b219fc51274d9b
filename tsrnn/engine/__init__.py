"""Training pieces shared by every estimator: heads, losses, optimizers, the epoch loop."""

from .heads import POOLINGS, LinearHead, StepwiseHead
from .losses import get_loss
from .network import Network
from .optim import SGD, Adam, clip_grad_norm, make_optimizer
from .trainer import Diverged, DivergenceWarning, TrainingLog, run_epochs

__all__ = [
    "POOLINGS",
    "LinearHead",
    "StepwiseHead",
    "get_loss",
    "Network",
    "SGD",
    "Adam",
    "clip_grad_norm",
    "make_optimizer",
    "Diverged",
    "DivergenceWarning",
    "TrainingLog",
    "run_epochs",
]
