"""Shape ops: reshape, broadcast, permute, join and split. Most are views of their input."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .primitive import primitive


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _explain_reshape(err: Exception, input: Any, shape: tuple[int, ...]) -> Exception:
    return ShapeError(f"reshape: cannot reshape a tensor of shape {format_shape(input.shape)} "
                      f"({input.size} elements) into {format_shape(shape)}")


@primitive("reshape", view=True, explain=_explain_reshape)
def _reshape(input: Any, shape: tuple[int, ...]) -> Any:
    return np.reshape(input, shape)


_reshape.defvjp(lambda g, out, input, shape: reshape(g, input.shape))


def reshape(input: Any, *shape: Any) -> Any:
    """The same values in a new shape (one dim may be -1); a view when the layout allows.

    >>> import backprop as bp
    >>> bp.arange(6).reshape(2, -1).shape
    (2, 3)
    """
    return _reshape(input, _shape_arg(shape))


def _explain_broadcast(err: Exception, input: Any, shape: tuple[int, ...]) -> Exception:
    return ShapeError(f"broadcast_to: cannot broadcast a tensor of shape "
                      f"{format_shape(input.shape)} to {format_shape(shape)}: each dimension must "
                      "match or be 1 (counting from the right)")


@primitive("broadcast_to", view=True, explain=_explain_broadcast)
def _broadcast_to(input: Any, shape: tuple[int, ...]) -> Any:
    return np.broadcast_to(input, shape)


# The engine sums a gradient down to its input's shape, which is exactly broadcast_to's VJP.
_broadcast_to.defvjp(lambda g, out, input, shape: g)


def broadcast_to(input: Any, *shape: Any) -> Any:
    """A read-only view of ``input`` broadcast to ``shape``.

    >>> import backprop as bp
    >>> bp.ones(3).broadcast_to((2, 3)).shape
    (2, 3)
    """
    return _broadcast_to(input, _shape_arg(shape))


TENSOR_METHODS = {"reshape": reshape, "broadcast_to": broadcast_to}

__all__ = ["reshape", "broadcast_to"]
