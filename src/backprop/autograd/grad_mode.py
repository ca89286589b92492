"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``
(``inference_mode``, which also marks the tensors it makes, is in ``inference_mode.py``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

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


def _set_enabled(mode: bool) -> None:
    # Inside inference_mode nothing is recorded, whatever the grad mode says.
    state.enabled = bool(mode) and not state.inference


class _GradModeGuard:
    """Base of ``no_grad``/``enable_grad``: the mode is set on ``__enter__`` and the mode found
    there is restored on ``__exit__``. A stack of previous modes lets one instance be entered
    again while already inside itself (a decorated recursive function)."""

    _mode = True

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(state.enabled)
        _set_enabled(self._mode)

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous.pop()

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_GradModeGuard):
    """Turn graph recording on or off: as a function call, a context manager or a decorator.

    As in PyTorch, calling it sets the mode at once (``bp.set_grad_enabled(False)`` alone
    switches gradients off until switched back); used in ``with``, the mode from before the
    call is restored on exit; used as a decorator, the call's own effect is undone at once and
    the mode holds only while the decorated function runs.

    >>> import backprop as bp
    >>> with bp.set_grad_enabled(False):
    ...     bp.is_grad_enabled()
    False
    >>> _ = bp.set_grad_enabled(False)
    >>> bp.is_grad_enabled()
    False
    >>> _ = bp.set_grad_enabled(True)
    >>> bp.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self._mode = bool(mode)
        self.prev = state.enabled
        _set_enabled(self._mode)

    def __enter__(self) -> None:
        # PyTorch restores the mode seen at construction, not at entry; so do we.
        _set_enabled(self._mode)

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def __call__(self, fn: F) -> F:
        state.enabled = self.prev  # a decorator must not change the mode where it is applied
        return super().__call__(fn)

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(mode={self._mode})"

    def clone(self) -> set_grad_enabled:
        """A new guard with the same mode (constructing it sets that mode, as in PyTorch)."""
        return type(self)(self._mode)


class no_grad(_GradModeGuard):
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


class enable_grad(_GradModeGuard):
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
