"""Process-wide switches PyTorch keeps in ``torch``'s namespace: the float32 matmul precision
and deterministic algorithms. Both are recorded and read back; neither changes a result here.

- ``set_float32_matmul_precision``: on GPUs, PyTorch may compute float32 products with
  TensorFloat-32 (``"high"``) or bfloat16 (``"medium"``) internally. NumPy's BLAS has no such
  mode, so backprop's float32 products are always full float32 (``"highest"``).
- ``use_deterministic_algorithms``: PyTorch then refuses (or, with ``warn_only``, warns about)
  kernels whose results can change from run to run, such as GPU scatter-adds made with atomics.
  backprop's CPU kernels give the same bits on every run, so there is nothing to refuse.

>>> import backprop as bp
>>> bp.get_float32_matmul_precision()
'highest'
>>> bp.are_deterministic_algorithms_enabled()
False
"""

from __future__ import annotations

__all__ = ["are_deterministic_algorithms_enabled", "get_float32_matmul_precision",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "use_deterministic_algorithms"]

_PRECISIONS = ("highest", "high", "medium")


class _Switches:
    """The recorded values, one object so a test can save and restore them together."""

    __slots__ = ("deterministic", "matmul_precision", "warn_only")

    def __init__(self) -> None:
        self.matmul_precision = "highest"  # PyTorch's default
        self.deterministic = False
        self.warn_only = False


switches = _Switches()


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matrix product precision, as ``torch.set_float32_matmul_precision``:
    ``"highest"`` (the default), ``"high"`` or ``"medium"``. No effect on the result here:
    NumPy multiplies float32 matrices in full float32 (see the module's docstring).

    >>> import backprop as bp
    >>> bp.set_float32_matmul_precision("high")
    >>> bp.get_float32_matmul_precision(), bp.backends.cuda.matmul.allow_tf32
    ('high', True)
    >>> bp.set_float32_matmul_precision("highest")
    """
    if not isinstance(precision, str):
        raise TypeError(f"set_float32_matmul_precision: precision must be a str, one of "
                        f"{', '.join(map(repr, _PRECISIONS))}; got {type(precision).__name__} "
                        f"{precision!r}")
    if precision not in _PRECISIONS:
        # PyTorch warns and keeps the old value; a typo is better caught here.
        raise ValueError(f"set_float32_matmul_precision: precision must be one of "
                         f"{', '.join(map(repr, _PRECISIONS))}, got {precision!r}")
    switches.matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The float32 matmul precision last set (``"highest"`` unless changed), as
    ``torch.get_float32_matmul_precision``.

    >>> import backprop as bp
    >>> bp.get_float32_matmul_precision()
    'highest'
    """
    return switches.matmul_precision


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms only, as ``torch.use_deterministic_algorithms``.
    Recorded: backprop's kernels are already deterministic (see the module's docstring).

    >>> import backprop as bp
    >>> bp.use_deterministic_algorithms(True)
    >>> bp.are_deterministic_algorithms_enabled()
    True
    >>> bp.use_deterministic_algorithms(False)
    """
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"use_deterministic_algorithms: {name} must be a bool, got "
                            f"{type(value).__name__} {value!r}")
    switches.deterministic = mode
    switches.warn_only = warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in force.

    >>> import backprop as bp
    >>> bp.are_deterministic_algorithms_enabled()
    False
    """
    return switches.deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether deterministic algorithms were asked for with ``warn_only=True``.

    >>> import backprop as bp
    >>> bp.is_deterministic_algorithms_warn_only_enabled()
    False
    """
    return switches.warn_only
