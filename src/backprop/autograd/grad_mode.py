"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``
(``inference_mode``, which also marks the tensors it makes, is in ``inference_mode.py``)."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradState:
    """One mutable flag read on every op; an object attribute is cheaper than a global lookup.
    ``inference`` is read only when the grad mode changes: inside ``inference_mode`` nothing is
    recorded, even under ``enable_grad`` (as in PyTorch)."""

    __slots__ = ("enabled", "inference")

    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


state = _GradState()


def is_grad_enabled() -> bool:
    """Return True when new operations are recorded for backward.

    >>> import backprop as bp
    >>> bp.is_grad_enabled()
    True
    """
    return state.enabled


class set_grad_enabled:
    """Context manager and decorator that turns graph recording on or off.

    >>> import backprop as bp
    >>> with bp.set_grad_enabled(False):
    ...     bp.is_grad_enabled()
    False
    """

    _mode = True

    def __init__(self, mode: bool | None = None) -> None:
        if mode is not None:
            self._mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(state.enabled)
        state.enabled = self._mode and not state.inference

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Disable graph recording (context manager or decorator), as for evaluation or weight updates.

    >>> import backprop as bp
    >>> w = bp.ones(2, requires_grad=True)
    >>> with bp.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    _mode = False

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        # ``@no_grad`` without parentheses decorates the function directly, as in PyTorch.
        return super().__new__(cls) if orig_func is None else cls()(orig_func)

    def __init__(self, orig_func: Callable | None = None) -> None:
        super().__init__()


class enable_grad(set_grad_enabled):
    """Re-enable graph recording inside a ``no_grad`` block (context manager or decorator).

    >>> import backprop as bp
    >>> with bp.no_grad(), bp.enable_grad():
    ...     bp.is_grad_enabled()
    True
    """

    _mode = True

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        # ``@enable_grad`` without parentheses decorates the function directly, as in PyTorch.
        return super().__new__(cls) if orig_func is None else cls()(orig_func)

    def __init__(self, orig_func: Callable | None = None) -> None:
        super().__init__()
