"""The recurrent engine: cells, stack, heads, losses, optimizers, the epoch loop.

Everything here works on NumPy arrays (no pandas, no estimators): the cell
table (:mod:`.cells`), the stacked layers (:mod:`.stack`) over the Numba
kernels, the parameter layout (:mod:`.layout`), heads and losses, optimizers,
the epoch loop and its divergence rule (:mod:`.trainer`), packed weights for
streaming (:mod:`.inference`), the memory and time budgets of size-like
parameters (:mod:`.budget`) and thread control (:mod:`.threads`).
"""

from .cells import CELL_SPECS, CELLS, CellSpec
from .heads import POOLINGS, LinearHead, StepwiseHead
from .inference import InferencePack
from .layout import ParamLayout
from .distributions import DISTRIBUTIONS, Distribution, get_distribution
from .losses import get_loss
from .network import Network
from .seq2seq import ReferenceHead, Seq2SeqNetwork
from .optim import SGD, Adam, clip_grad_norm, make_optimizer
from .stack import RecurrentStack
from .trainer import (
    LOSS_GROWTH_LIMIT,
    Diverged,
    DivergenceGuard,
    DivergenceWarning,
    TrainingLog,
    run_epochs,
)

__all__ = [
    "DISTRIBUTIONS",
    "Distribution",
    "get_distribution",
    "CELL_SPECS",
    "CELLS",
    "CellSpec",
    "InferencePack",
    "ParamLayout",
    "RecurrentStack",
    "POOLINGS",
    "LinearHead",
    "StepwiseHead",
    "get_loss",
    "Network",
    "ReferenceHead",
    "Seq2SeqNetwork",
    "SGD",
    "Adam",
    "clip_grad_norm",
    "make_optimizer",
    "Diverged",
    "DivergenceGuard",
    "LOSS_GROWTH_LIMIT",
    "DivergenceWarning",
    "TrainingLog",
    "run_epochs",
]
