"""``torch.backends.cuda``: the switches PyTorch reads when it multiplies matrices on a GPU.

backprop computes on the CPU with NumPy (and on GPUs through CuPy, in ``backends.cupy_device``,
which never reads these), so every switch here is recorded and can be read back, but changes
no result: a script that sets them runs unchanged. What each would mean on PyTorch's GPUs:

- ``matmul.allow_tf32``: float32 products may round their inputs to TensorFloat-32 (10-bit
  mantissa) on Ampere and later GPUs. Tied, as in PyTorch, to
  ``bp.set_float32_matmul_precision``: True is ``"high"``, False ``"highest"``.
- ``matmul.allow_fp16_reduced_precision_reduction`` and
  ``matmul.allow_bf16_reduced_precision_reduction``: float16/bfloat16 products may sum their
  partial results in the narrow type rather than in float32.

This module imports nothing from CuPy: ``import torch.backends.cuda`` works on any machine.

>>> import backprop as bp
>>> bp.backends.cuda.matmul.allow_tf32
False
>>> bp.backends.cuda.is_built()
False
"""

from __future__ import annotations

from typing import Any

from .. import _switches

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    """Whether PyTorch was built with CUDA: False, as backprop's CPU build has none (a GPU
    is used through CuPy instead; ``bp.cuda.is_available()`` says whether one is usable).

    >>> import backprop as bp
    >>> bp.backends.cuda.is_built()
    False
    """
    return False


class cuBLASModule:
    """``torch.backends.cuda.matmul``: the cuBLAS switches (see the module's docstring).

    >>> import backprop as bp
    >>> bp.backends.cuda.matmul.allow_fp16_reduced_precision_reduction
    True
    """

    _FLAGS = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self) -> None:
        # PyTorch's defaults; allow_tf32 lives in _switches (it is the matmul precision)
        object.__setattr__(self, "_values", {"allow_fp16_reduced_precision_reduction": True,
                                             "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name: str) -> Any:
        if name == "allow_tf32":
            return _switches.get_float32_matmul_precision() != "highest"
        if name in self._FLAGS:
            return self._values[name]
        raise AttributeError(f"Unknown attribute {name}: torch.backends.cuda.matmul has "
                             f"{', '.join(self._FLAGS)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._FLAGS:
            raise AttributeError(f"Unknown attribute {name}: torch.backends.cuda.matmul has "
                                 f"{', '.join(self._FLAGS)}")
        if not isinstance(value, bool):
            raise TypeError(f"torch.backends.cuda.matmul.{name}: expected a bool, got "
                            f"{type(value).__name__} {value!r}")
        if name == "allow_tf32":
            _switches.set_float32_matmul_precision("high" if value else "highest")
        else:
            self._values[name] = value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._FLAGS))


matmul = cuBLASModule()
