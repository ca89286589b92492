"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_`` and their two halves
``get_total_norm`` / ``clip_grads_with_norm_``, with PyTorch's formulas.

They act on the ``.grad`` arrays directly, outside any graph, as an optimizer step does.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from ...autograd.graph import VersionCounter
from ...backend import as_array
from ...capture.state import replayable
from ...tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters: TensorOrTensors) -> list[Tensor]:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    flat = array.ravel()
    if norm_type == math.inf:
        if type(flat) is not np.ndarray:  # CuPy's max takes no ``initial``
            if not flat.size:
                return np.zeros_like(flat, shape=())
            return np.max(np.abs(flat)).astype(array.dtype)
        return np.max(np.abs(flat), initial=0).astype(array.dtype)
    if norm_type == -math.inf:
        return np.min(np.abs(flat)).astype(array.dtype)
    if norm_type == 2.0:
        return np.sqrt(np.dot(flat, flat)).astype(array.dtype)
    if norm_type == 1.0:
        return np.sum(np.abs(flat)).astype(array.dtype)
    if norm_type == 0.0:
        count = np.count_nonzero(flat)  # a 0-d array on a device
        return count.astype(array.dtype) if hasattr(count, "astype") else np.asarray(
            count, dtype=array.dtype)
    return (np.sum(np.abs(flat) ** norm_type) ** (1.0 / norm_type)).astype(array.dtype)


def _scale_(grad: Tensor, factor: np.ndarray) -> None:
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite norm gives NaNs, silently
        np.multiply(grad._data, factor.astype(grad.dtype), out=grad._data)
    if grad._version is None:
        grad._version = VersionCounter()
    grad._version.bump("clip_grad")


@replayable  # works on the .grad arrays: a captured step calls it again
def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one vector).

    >>> import backprop as bp
    >>> bp.nn.utils.get_total_norm([bp.tensor([3.0]), bp.tensor([4.0])]).item()
    5.0
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    with np.errstate(invalid="ignore", over="ignore"):
        norms = [_vector_norm(t._data, norm_type) for t in tensors]
        dtype = np.result_type(*[n.dtype for n in norms])
        total = _vector_norm(np.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped; to scale the "
                           "gradients by it anyway, set error_if_nonfinite=False")
    return Tensor._wrap(as_array(total))  # NumPy reductions give scalars


@replayable  # works on the .grad arrays: a captured step calls it again
def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    # A number stays a number: a host array would not mix with gradients on a device.
    total = total_norm._data if isinstance(total_norm, Tensor) else float(total_norm)
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for grad in grads:
        _scale_(grad, coef)


@replayable  # works on the .grad arrays: a captured step calls it again
def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients in place so that their total norm is at most ``max_norm``:
    each is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm
    before clipping (a 0-d tensor). ``norm_type`` may be ``float('inf')``.

    >>> import backprop as bp
    >>> w = bp.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> bp.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
    10.0
    >>> round(w.grad.norm().item(), 4)
    1.0
    """
    parameters = _as_list(parameters)
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


@replayable  # works on the .grad arrays: a captured step calls it again
def clip_grad_value_(parameters: TensorOrTensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place.

    >>> import backprop as bp
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> (w * 3).sum().backward(); bp.nn.utils.clip_grad_value_(w, 0.5); w.grad.tolist()
    [0.5, 0.5]
    """
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        np.clip(grad._data, -clip_value, clip_value, out=grad._data)
        if grad._version is None:
            grad._version = VersionCounter()
        grad._version.bump("clip_grad_value_")


def clip_grad_norm(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """``clip_grad_norm_`` under its deprecated name (it warns, as PyTorch's does)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
