"""Memory formats: PyTorch's ``memory_format=`` values, so code that passes them runs unchanged.

A backprop tensor is always stored in row-major order, so ``bp.contiguous_format`` and
``bp.preserve_format`` (keep the input's layout, which is row-major) ask for what every tensor
already is. ``bp.channels_last`` (NHWC strides for an NCHW tensor) and ``bp.channels_last_3d``
exist so that passing them fails with a clear error instead of an AttributeError.
"""

from __future__ import annotations

from typing import Any


class memory_format:  # noqa: N801  (PyTorch's name for the type: torch.memory_format)
    """A memory layout a tensor can be asked for (``bp.contiguous_format``, ...).

    >>> import backprop as bp
    >>> bp.contiguous_format
    bp.contiguous_format
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"bp.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

_STORED = ("contiguous_format", "preserve_format")


def check_memory_format(op: str, value: Any) -> None:
    """Accept the formats a backprop tensor has (None, contiguous or preserve); refuse the others
    with an error naming ``op``.

    >>> import backprop as bp
    >>> check_memory_format("clone", bp.preserve_format)
    >>> check_memory_format("clone", bp.channels_last)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: clone: memory_format=bp.channels_last is not supported: ...
    """
    if value is None or isinstance(value, memory_format) and value.name in _STORED:
        return
    if isinstance(value, memory_format):
        raise ValueError(f"{op}: memory_format={value!r} is not supported: backprop stores every "
                         "tensor in row-major (contiguous) order; leave memory_format out or "
                         "pass bp.contiguous_format")
    raise TypeError(f"{op}: memory_format must be bp.contiguous_format or bp.preserve_format, "
                    f"got {value!r} ({type(value).__name__})")


__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last",
           "channels_last_3d"]
