"""``bp.nn``: modules, parameters, layers, losses and initialisers (PyTorch's ``torch.nn``)."""

from __future__ import annotations

from . import functional, grad, init, parallel, utils
from .module import Module
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["Buffer", "Module", "Parameter", "UninitializedBuffer", "UninitializedParameter",
           "functional", "grad", "init", "parallel", "utils", *_modules_all]
