"""Reverse-mode automatic differentiation: the engine, grad modes and user-facing helpers.

Anomaly detection lives in ``backprop.diagnostics`` (it observes the engine from above); its
PyTorch names (``torch.autograd.detect_anomaly``...) are served from here on first use, so
importing the engine imports no diagnostics.
"""

from typing import Any

from . import forward_ad, functional
from . import functional_jacobians as _functional_jacobians  # noqa: F401 - serves jacobian...
from .function import Function, FunctionCtx
from .functional import backward, grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .inference_mode import inference_mode
from .graph import Node
from .observers import Observer, observing

_FROM_ANOMALY = ("AnomalyError", "AnomalyRecord", "detect_anomaly", "is_anomaly_check_nan_enabled",
                 "is_anomaly_enabled", "set_detect_anomaly")

__all__ = [*_FROM_ANOMALY, "Function", "FunctionCtx", "GradcheckError", "Node", "Observer",
           "backward", "enable_grad", "forward_ad", "functional", "grad", "gradcheck",
           "gradgradcheck", "inference_mode", "is_grad_enabled", "no_grad", "observing", "set_grad_enabled"]


def __getattr__(name: str) -> Any:
    if name in _FROM_ANOMALY:
        from ..diagnostics import anomaly  # noqa: PLC0415 - diagnostics sit above the engine

        return getattr(anomaly, name)
    raise AttributeError(f"module 'backprop.autograd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM_ANOMALY))
