"""The rest of the dropout family: ``dropout1d`` and ``dropout3d`` (whole channels), and
``alpha_dropout`` / ``feature_alpha_dropout`` for self-normalising (SELU) networks, which set
dropped values to SELU's negative saturation and then rescale and shift so that a zero-mean,
unit-variance input keeps its mean and variance. The masks come from ``bp.manual_seed``'s
generator, drawn as ``dropout``'s are (float32 uniforms on the host)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops.inplace import apply_inplace
from ...random import get_rng
from ...tensor import Tensor
from .layers import _apply_mask, _check_probability, _dropout

# -SELU_scale * SELU_alpha: the value SELU saturates to, where alpha dropout puts dropped units.
_ALPHA = 1.7580993408473766


def _channels(op: str, input: Tensor, batched: bool, p: float, training: bool,
              inplace: bool) -> Tensor:
    """Drop whole channels: of ``(N, C, ...)`` when ``batched``, else of ``(C, ...)``."""
    _check_probability(op, p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    kept = 2 if batched else 1
    return _apply_mask(op, input, input.shape[:kept] + (1,) * (input.ndim - kept), p, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, L)`` (or ``(C, L)``) input with probability ``p``,
    scaling the rest by ``1 / (1 - p)``.

    >>> import backprop as bp
    >>> out = bp.nn.functional.dropout1d(bp.ones(2, 3, 4))
    >>> bool(((out == 0).all(dim=2) | (out == 2).all(dim=2)).all())
    True
    """
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got "
                         f"{format_shape(input.shape)}")
    return _channels("dropout1d", input, input.ndim == 3, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of a ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) input with
    probability ``p``, scaling the rest by ``1 / (1 - p)``.

    >>> import backprop as bp
    >>> bp.nn.functional.dropout3d(bp.ones(1, 2, 1, 1, 1), training=False).shape
    (1, 2, 1, 1, 1)
    """
    if input.ndim not in (4, 5):
        # PyTorch warns and reads any other input as unbatched (C, ...).
        warnings.warn(f"dropout3d: received a {input.ndim}-D input; dropout3d expects "
                      "(N, C, D, H, W) or (C, D, H, W) input", stacklevel=2)
        if input.ndim < 2:
            raise ShapeError(f"dropout3d: input must have a channel dim, got shape "
                             f"{format_shape(input.shape)}")
    return _channels("dropout3d", input, input.ndim == 5, p, training, inplace)


def _alpha(op: str, input: Tensor, mask_shape: tuple[int, ...], p: float, training: bool,
           inplace: bool) -> Tensor:
    _check_probability(op, p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input * 0.0
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    keep = get_rng().random(mask_shape, dtype=np.float32) >= p
    dtype = input.dtype if input.dtype.kind in "fV" else np.dtype(np.float32)
    like = backend.array_of(input)
    # Kept: a * x + alpha * a * p; dropped: alpha * a * (p - 1). The gradient is a * keep.
    scale = backend.on_device_of(np.multiply(keep, a, dtype=dtype), like)
    shift = backend.on_device_of(((keep - 1.0 + p) * (_ALPHA * a)).astype(dtype), like)
    if inplace:
        return apply_inplace(input, op + "_", lambda x: _dropout(x, scale) + shift)
    return _dropout(input, scale) + shift


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped elements take SELU's saturation value, then an affine
    map restores the input's mean and variance (zero and one).

    >>> import backprop as bp
    >>> x = bp.ones(3)
    >>> bp.nn.functional.alpha_dropout(x, 0.5) is x  # training is off by default
    True
    """
    return _alpha("alpha_dropout", input, input.shape, p, training, inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels (dims 0 and 1 choose the mask).

    >>> import backprop as bp
    >>> bp.nn.functional.feature_alpha_dropout(bp.ones(2, 3, 4)).shape
    (2, 3, 4)
    """
    if input.ndim < 2 and training and p > 0:  # as PyTorch, checked only when it draws
        raise ShapeError(f"feature_alpha_dropout: input must have a batch and a channel dim, "
                         f"got shape {format_shape(input.shape)}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _alpha("feature_alpha_dropout", input, shape, p, training, inplace)


__all__ = ["alpha_dropout", "dropout1d", "dropout3d", "feature_alpha_dropout"]
