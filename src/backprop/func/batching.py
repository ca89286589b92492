"""The batching machinery the rules share: the rule table, vmap levels, moving batch dims, and
the fallback that loops over the batch.

>>> import backprop as bp
>>> from backprop.func.batching import RULES
>>> bp.func.vmap(bp.exp)(bp.zeros(2, 2)).tolist() and "exp" in RULES
True
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .batched_tensor import BatchedTensor, unwrap

# Batching rules by primitive name: rule(op, args, params, level, size) -> the op's result.
RULES: dict[str, Callable[..., Any]] = {}
# Names of primitives whose rule is the loop: counted by the op-table tests.
FALLBACK_HITS: dict[str, int] = {}
_warned: set[str] = set()


class _Levels(threading.local):
    def __init__(self) -> None:
        self.stack: list[tuple[int, int, str]] = []  # (level, batch size, randomness)


_levels = _Levels()


def active_levels() -> list[tuple[int, int, str]]:
    """The vmaps active in this thread, outermost first: ``(level, batch size, randomness)``."""
    return _levels.stack


def register(*names: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the batching rule of the primitives ``names``."""

    def wrap(rule: Callable) -> Callable:
        for name in names:
            RULES[name] = rule
        return rule

    return wrap


def highest_level(args: Any) -> int:
    """The highest vmap level among the tensors in ``args`` (looking into lists and tuples)."""
    best = 0
    for a in args:
        if isinstance(a, BatchedTensor):
            best = max(best, a._level)
        elif type(a) is list or type(a) is tuple:
            inner = highest_level(a)
            best = max(best, inner)
    return best


def call(op: Any, *args: Any, **params: Any) -> Any:
    """Call ``op`` (a primitive, or a custom Function class) as the function under vmap would."""
    return op(*args, **params) if not hasattr(op, "apply") else op.apply(*args, **params)


# -- moving batch dims --------------------------------------------------------------------------

def to_front(x: Any, level: int) -> Any:
    """The physical tensor of ``x`` at ``level`` with its batch dim first (``x`` itself when it
    is not batched at ``level``)."""
    value, bdim = unwrap(x, level)
    if bdim is None or bdim == 0:
        return value
    return value.movedim(bdim, 0)


def front_or_expand(x: Any, level: int, size: int) -> Any:
    """``x``'s physical tensor at ``level`` with the batch dim first, an unbatched ``x``
    expanded to ``size`` copies (a view: no copy)."""
    value, bdim = unwrap(x, level)
    if bdim is None:
        return value.unsqueeze(0).expand(size, *value.shape)
    return value if bdim == 0 else value.movedim(bdim, 0)


def wrap(value: Any, bdim: int, level: int) -> Any:
    """Wrap a rule's physical result (a tensor, or a tuple of them) with its batch dim."""
    if isinstance(value, Tensor):
        return BatchedTensor(value, bdim, level)
    if type(value) is tuple or type(value) is list:
        return type(value)(wrap(v, bdim, level) for v in value)
    return value


def logical_ndim(x: Any, level: int) -> int:
    value, bdim = unwrap(x, level)
    return value.ndim - (bdim is not None)


# -- the fallback: a loop over the batch ----------------------------------------------------------

def fallback(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Call ``op`` once per example and stack the results: right for any op, slow."""
    name = getattr(op, "name", getattr(op, "__name__", repr(op)))
    FALLBACK_HITS[name] = FALLBACK_HITS.get(name, 0) + 1
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"vmap: there is no batching rule for {name}; falling back to a loop over "
                      "the batch, which is slower", stacklevel=4)
    results = [call(op, *_select(args, level, i), **dict(zip(params, _select(tuple(
        params.values()), level, i)))) for i in range(size)]
    return _stack_results(results, level)


def _select(args: tuple, level: int, i: int) -> tuple:
    out = []
    for a in args:
        if type(a) is list or type(a) is tuple:
            out.append(type(a)(_select(tuple(a), level, i)))
            continue
        value, bdim = unwrap(a, level)
        out.append(a if bdim is None else value.select(bdim, i))
    return tuple(out)


def _stack_results(results: list, level: int) -> Any:
    first = results[0]
    if isinstance(first, Tensor):
        from ..ops.join import stack

        return BatchedTensor(stack(results), 0, level)
    if type(first) is tuple or type(first) is list:
        return type(first)(_stack_results([r[k] for r in results], level)
                           for k in range(len(first)))
    return first  # None, or a constant every example shares




__all__ = ["FALLBACK_HITS", "RULES", "active_levels", "call", "fallback", "fold_into_batch",
           "front_or_expand",
           "highest_level", "logical_ndim", "register", "to_front", "wrap"]


def fold_into_batch(input: Any, example_ndim: int, function: Callable[[Any], Any]) -> Any:
    """``function`` (over ``(N, *example)`` inputs whose N samples are independent, such as a
    pooling) on ``input`` batched by vmap: the vmap batch folded into N (or made N, for an
    example without one), and split off again from each tensor ``function`` returns. For
    functions that read their input's values in NumPy, which no batching rule sees."""
    level = input._level
    physical = to_front(input, level)
    size = physical.shape[0]
    if input.ndim == example_ndim:  # one example, without N: the vmap batch is N
        return wrap(function(physical), 0, level)
    n = physical.shape[1]
    out = function(physical.reshape(size * n, *physical.shape[2:]))

    def split(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        return BatchedTensor(t.reshape(size, n, *t.shape[1:]), 0, level)

    return tuple(split(t) for t in out) if type(out) is tuple else split(out)
