"""Reverse-mode automatic differentiation: the engine, grad modes and user-facing helpers."""

from .anomaly import (AnomalyError, AnomalyRecord, detect_anomaly, is_anomaly_check_nan_enabled,
                      is_anomaly_enabled, set_detect_anomaly)
from .function import Function, FunctionCtx
from .functional import backward, grad
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node
from .observers import Observer, observing

__all__ = ["AnomalyError", "AnomalyRecord", "detect_anomaly", "is_anomaly_check_nan_enabled",
           "is_anomaly_enabled", "set_detect_anomaly", "Function", "FunctionCtx", "GradcheckError", "Node", "backward", "enable_grad", "grad", "gradcheck",
           "gradgradcheck", "is_grad_enabled", "no_grad", "Observer", "observing",
           "set_grad_enabled"]
