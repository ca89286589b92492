"""Exception types. Each also derives from the exception PyTorch raises for the same mistake, so
ported ``except RuntimeError`` blocks keep working."""

from __future__ import annotations


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit together: broadcasting, matmul inner sizes, reshapes."""


class DimError(IndexError, ValueError):
    """A ``dim`` argument outside ``[-ndim, ndim)``."""


class DTypeError(TypeError, RuntimeError):
    """A dtype an op or autograd cannot work with (gradients of integer tensors, for example)."""


class DTypeOverflowError(OverflowError, RuntimeError):
    """A value that the dtype it is converted to cannot hold (``tensor([300], dtype=uint8)``);
    PyTorch: "value cannot be converted to type uint8 without overflow"."""


class IntegerDivisionByZeroError(ZeroDivisionError, RuntimeError):
    """Integer ``//`` or ``%`` by zero, which PyTorch refuses (float division gives inf or nan)."""


class GraphError(RuntimeError):
    """Misuse of the autograd graph: a freed graph, a saved tensor modified in place, a
    non-scalar backward without ``gradient``."""


def format_shape(shape: tuple[int, ...]) -> str:
    """``(2, 3)`` for a shape, ``()`` for a scalar, as users write them."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def check_dim(op: str, dim: int, ndim: int) -> int:
    """Return ``dim`` made non-negative, or raise ``DimError`` naming the op and the valid range."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        low, high = -max(ndim, 1), max(ndim, 1) - 1
        raise DimError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension"
            f"{'' if ndim == 1 else 's'} (expected a value in [{low}, {high}])"
        )
    return dim % max(ndim, 1)


def reworded(err: BaseException, message: str) -> BaseException:
    """An exception of ``err``'s kind carrying ``message``: its own class where that class takes
    a message as other exceptions do, else its nearest base that does (NumPy's
    ``_UFuncNoLoopError`` takes a ufunc and dtypes and writes its own text, so it becomes a
    ``TypeError``; ``UnicodeDecodeError`` takes five arguments and becomes a ``ValueError``).
    Rebuilding with ``type(err)(message)`` raised a TypeError about the constructor instead.

    >>> import numpy as np
    >>> try:
    ...     np.sign(np.array([True]))
    ... except TypeError as err:
    ...     type(reworded(err, "sign: no loop")).__name__
    'TypeError'
    """
    for kind in type(err).__mro__:
        own = vars(kind)
        if kind.__module__ != "builtins" and ("__init__" in own or "__new__" in own
                                              or "__str__" in own):
            continue
        try:
            return kind(message)
        except TypeError:  # a built-in taking more than a message (UnicodeDecodeError's five)
            continue
    return RuntimeError(message)  # not reached: BaseException takes a message
