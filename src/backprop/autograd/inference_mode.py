"""``inference_mode``: ``no_grad`` for code that will never backward through what it makes.

Inside it nothing is recorded (as under ``no_grad``) and every tensor made is an *inference
tensor* (``Tensor.is_inference()``). PyTorch skips the version counting of inference tensors
to save time; backprop's counters cost nothing until a write, so the gain here is PyTorch's
behaviour, which programs rely on being checked:

- an inference tensor cannot be saved for backward: an op that records a graph outside
  inference mode and keeps the tensor's values for its gradient (``w * x``, ``x @ w``,
  ``linear``; not ``w + x``, whose gradient needs no values) raises RuntimeError, since a
  later in-place write to it inside inference mode would go unnoticed;
- it cannot be written in place, nor set to require grad, outside inference mode;
- ``clone()`` makes a normal tensor of it; its views are inference tensors too.

Tensors made outside are unchanged inside: writing them in place is allowed (and counted).

``enable_grad`` inside it records nothing either, as in PyTorch (where ``is_grad_enabled()``
then says True; here it says False, the truth about recording).

>>> import backprop as bp
>>> model = bp.nn.Linear(3, 1)
>>> with bp.inference_mode():
...     y = model(bp.ones(2, 3))
>>> y.requires_grad, y.is_inference()
(False, True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..tensor import make_inference_tensors
from .grad_mode import state


def is_inference_mode_enabled() -> bool:
    """Return True inside ``inference_mode`` (and not inside a nested
    ``inference_mode(False)``).

    >>> import backprop as bp
    >>> with bp.inference_mode():
    ...     bp.is_inference_mode_enabled()
    True
    >>> bp.is_inference_mode_enabled()
    False
    """
    return state.inference


class inference_mode:
    """Context manager and decorator that turns inference mode on (``mode=True``) or off, as
    ``torch.inference_mode``; ``@inference_mode`` may decorate without parentheses.

    ``inference_mode(False)`` inside it makes normal tensors again, with grad enabled.

    >>> import backprop as bp
    >>> @bp.inference_mode()
    ... def predict(x):
    ...     return x * 2
    >>> predict(bp.ones(2, requires_grad=True)).requires_grad
    False
    """

    def __new__(cls, mode: Any = True) -> Any:
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # ``@inference_mode`` without parentheses: ``mode`` is the function

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._previous.append((state.enabled, state.inference))
        _set(self.mode, enabled=not self.mode)

    def __exit__(self, *exc: object) -> None:
        enabled, inference = self._previous.pop()
        _set(inference, enabled)

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> inference_mode:
        """A new manager with the same mode (as PyTorch's)."""
        return self.__class__(self.mode)


def _set(inference: bool, enabled: bool) -> None:
    """Switch the grad mode and what new tensors are made as, together."""
    state.inference = inference
    state.enabled = enabled
    make_inference_tensors(inference)
