"""``bp.optim``: optimizers and learning-rate schedulers with PyTorch's names and semantics.

All of PyTorch's optimizers but two: ``SparseAdam`` (it updates only the entries a sparse
gradient holds, and backprop has no sparse tensors) and ``Muon`` (it orthogonalizes its updates
in bfloat16, which NumPy lacks, so its numbers could not be PyTorch's).

>>> import backprop as bp
>>> from backprop import optim
>>> w = bp.tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> [round(v, 4) for v in w.tolist()]
[0.8, -1.6]
"""

from __future__ import annotations

from . import lr_scheduler, swa_utils
from .adafactor import Adafactor
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam, RAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["ASGD", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler", "swa_utils"]
