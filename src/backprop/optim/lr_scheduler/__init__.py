"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``), value for value.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups each time ``step()`` is
called (once per epoch or per batch, after ``optimizer.step()``). Most schedules are computed
*recursively* from the current ``group["lr"]``, as PyTorch does, so they compose (two schedulers
on one optimizer multiply their effects) and their values match PyTorch's to the last bit.

A scheduler's ``state_dict()`` is its ``__dict__`` without the optimizer: plain numbers, lists
and dicts that checkpoints can save.

The schedulers live in one module per family and are re-exported here: base.py (``LRScheduler``
and shared helpers), step.py (step, multi-step, exponential, constant, linear, polynomial,
lambda and multiplicative), cosine.py (cosine annealing, warm restarts, 1cycle), cyclic.py
(``CyclicLR``), plateau.py (``ReduceLROnPlateau``) and composite.py (``SequentialLR``,
``ChainedScheduler``).
"""

from __future__ import annotations

from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR
from .cyclic import CyclicLR
from .plateau import ReduceLROnPlateau
from .step import (ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR,
                   PolynomialLR, StepLR)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
