"""``vmap``: map a function over a batch dim of its inputs, as one call per op.

Each input batched by ``in_dims`` is wrapped in a ``BatchedTensor`` of a new *level*, and an
observer (``autograd.observers``) is registered for the call. The observer meets every op the
function calls: when the highest-level ``BatchedTensor`` among the op's arguments is its own
level, it applies the op's batching rule (``RULES``, filled by the ``batching_rules*`` modules):
the rule moves batch dims where the op wants them, calls the *same* op on the physical tensors
(a call the observers see again, so outer vmaps and other transforms work beneath) and wraps
the result with its batch dim. An op with no rule falls back to a loop over the batch (select,
call, stack), as PyTorch's fallback does, with a one-time performance warning.

>>> import backprop as bp
>>> x = bp.arange(6.).reshape(2, 3)
>>> bp.func.vmap(lambda row: row.sum())(x).tolist()
[3.0, 12.0]
>>> bp.func.vmap(bp.dot, in_dims=(0, None))(x, bp.ones(3)).tolist()
[3.0, 12.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd.observers import Observer, observing
from ..tensor import Tensor
from . import batching_rules, batching_rules_nn  # noqa: F401 - they fill RULES
from .batched_tensor import BatchedTensor, level_of, unwrap
from .batching import (
    FALLBACK_HITS,
    RULES,
    _levels,
    active_levels,
    fallback,
    highest_level,
    register,
)
from .pytree import tree_flatten, tree_unflatten


def has_rule(name: str) -> bool:
    """Whether the primitive ``name`` has a real batching rule (else vmap loops over it)."""
    return name in RULES


class _VmapObserver(Observer):
    """Applies batching rules for one vmap level."""

    def __init__(self, level: int, size: int) -> None:
        self.level = level
        self.size = size

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        if highest_level(args) != self.level and highest_level(params.values()) != self.level:
            return proceed()
        name = getattr(op, "name", None)
        rule = RULES.get(name) if name is not None else None
        if rule is None:
            return fallback(op, args, params, self.level, self.size)
        return rule(op, args, params, self.level, self.size)


# -- vmap -------------------------------------------------------------------------------------------

def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over dim ``in_dims`` of its inputs (PyTorch's ``torch.func.vmap``).

    ``in_dims`` is an int or None (not batched) for all inputs, or a tuple with one entry per
    positional argument (each an int, None, or a tree of them matching the argument's tree of
    tensors); ``out_dims`` says where the batch dim goes in each output. ``randomness`` is
    ``'error'`` (random ops refuse), ``'different'`` (each example draws its own values) or
    ``'same'`` (one draw shared by the batch). ``chunk_size`` maps that many examples per call.

    >>> import backprop as bp
    >>> bp.func.vmap(bp.outer)(bp.ones(4, 2), bp.ones(4, 3)).shape
    (4, 2, 3)
    >>> bp.func.vmap(lambda x: x * 2, in_dims=1, out_dims=1)(bp.ones(2, 5)).shape
    (2, 5)
    """
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got "
                         f"{randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be None or a positive int, got {chunk_size!r}")

    @functools.wraps(func)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        flat_args, spec = tree_flatten(args)
        flat_dims = _flat_in_dims(in_dims, args)
        size = _batch_size(flat_args, flat_dims, func)
        if chunk_size is None or chunk_size >= size:
            return _vmap_once(func, args, kwargs, flat_args, flat_dims, spec, size, out_dims,
                              randomness)
        pieces = []
        for start in range(0, size, chunk_size):
            length = min(chunk_size, size - start)
            chunk = [a if d is None else a.narrow(d, start, length)
                     for a, d in zip(flat_args, flat_dims)]
            pieces.append(_vmap_once(func, tree_unflatten(chunk, spec), kwargs, chunk, flat_dims,
                                     spec, length, out_dims, randomness))
        return _join_chunks(pieces, out_dims)

    return mapped


def _flat_in_dims(in_dims: Any, args: tuple) -> list:
    """One in_dim per flattened input, from ``in_dims`` (an int/None, or a tree of them)."""
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(tree_flatten(args)[0])
    if not isinstance(in_dims, (tuple, list)):
        raise ValueError(  # noqa: TRY004 - PyTorch's exception type
            f"vmap: in_dims must be an int, None or a tuple (one entry per "
                         f"positional argument), got {type(in_dims).__name__}")
    if len(in_dims) != len(args):
        raise ValueError(f"vmap: in_dims has {len(in_dims)} entries but the function was given "
                         f"{len(args)} positional arguments; give one in_dim per argument")
    flat: list = []
    for k, (dims, arg) in enumerate(zip(in_dims, args)):
        leaves = tree_flatten(arg)[0]
        if isinstance(dims, int) or dims is None:
            flat.extend([dims] * len(leaves))
            continue
        dim_leaves, _ = tree_flatten(dims)
        if len(dim_leaves) != len(leaves):
            raise ValueError(f"vmap: in_dims[{k}] is a tree of {len(dim_leaves)} dims but "
                             f"argument {k} holds {len(leaves)} leaves; their structures must "
                             "match")
        flat.extend(dim_leaves)
    return flat


def _batch_size(flat_args: list, flat_dims: list, func: Callable) -> int:
    sizes = []
    for k, (a, d) in enumerate(zip(flat_args, flat_dims)):
        if d is None:
            continue
        if not isinstance(a, Tensor):
            raise ValueError(  # noqa: TRY004 - PyTorch's exception type
                f"vmap: in_dim {d} was given for input {k}, a "
                             f"{type(a).__name__}, but only tensors can be batched; use None "
                             "for it")
        if not -a.ndim <= d < max(a.ndim, 0) or a.ndim == 0:
            raise ValueError(f"vmap: in_dim {d} is out of range for input {k} of shape "
                             f"{tuple(a.shape)} (expected a dim in [{-a.ndim}, {a.ndim - 1}])")
        sizes.append((k, a.shape[d]))
    if not sizes:
        raise ValueError(f"vmap({getattr(func, '__name__', 'func')}): at least one input must "
                         "be batched (in_dims are all None, or no input is a tensor)")
    if len({s for _, s in sizes}) != 1:
        listed = ", ".join(f"input {k}: {s}" for k, s in sizes)
        raise ValueError(f"vmap: the batched inputs have different batch sizes ({listed}); "
                         "each mapped dim must have the same size")
    return sizes[0][1]


def _vmap_once(func: Callable, args: tuple, kwargs: dict, flat_args: list, flat_dims: list,
               spec: Any, size: int, out_dims: Any, randomness: str) -> Any:
    stack = _levels.stack
    level = (stack[-1][0] if stack else 0) + 1
    batched = [a if d is None else BatchedTensor(a, d % a.ndim, level)
               for a, d in zip(flat_args, flat_dims)]
    stack.append((level, size, randomness))
    try:
        with observing(_VmapObserver(level, size)):
            out = func(*tree_unflatten(batched, spec), **kwargs)
    finally:
        stack.pop()
    return _unbatch_outputs(out, level, size, out_dims)


def _unbatch_outputs(out: Any, level: int, size: int, out_dims: Any) -> Any:
    leaves, spec = tree_flatten(out)
    if isinstance(out_dims, int) or out_dims is None:
        dims = [out_dims] * len(leaves)
    else:
        dims = _dims_per_leaf(out_dims, out, len(leaves))
    result = []
    for k, (leaf, d) in enumerate(zip(leaves, dims)):
        if not isinstance(leaf, Tensor):
            if d is not None:
                raise ValueError(f"vmap: output {k} is a {type(leaf).__name__}, not a tensor; "
                                 "vmap functions must return tensors (or use out_dims None)")
            result.append(leaf)
            continue
        value, bdim = unwrap(leaf, level)
        if d is None:
            if bdim is not None:
                raise ValueError(f"vmap: out_dims is None for output {k}, but it varies over "
                                 "the batch; give it an out dim")
            result.append(value)
            continue
        if bdim is None:  # the same for every example: PyTorch expands it
            value = value.unsqueeze(0).expand(size, *value.shape)
            bdim = 0
        ndim = value.ndim
        if not -ndim <= d < ndim:
            raise ValueError(f"vmap: out_dim {d} is out of range for output {k} with "
                             f"{ndim - 1} dims per example")
        result.append(value.movedim(bdim, d % ndim) if bdim != d % ndim else value)
    return tree_unflatten(result, spec)


def _dims_per_leaf(out_dims: Any, out: Any, n_leaves: int) -> list:
    """One out dim per output leaf, from a tuple of out dims (one per output, each an int or
    None for all of that output's leaves, or a tree matching it)."""
    if isinstance(out, tuple) and len(out_dims) == len(out):
        dims: list = []
        for d, part in zip(out_dims, out):
            count = len(tree_flatten(part)[0])
            dims.extend([d] * count if isinstance(d, int) or d is None else tree_flatten(d)[0])
    else:
        dims = tree_flatten(tuple(out_dims))[0]
    if len(dims) != n_leaves:
        raise ValueError(f"vmap: out_dims has {len(dims)} entries but the function returned "
                         f"{n_leaves} outputs; give one out dim per output")
    return dims


def _join_chunks(pieces: list, out_dims: Any) -> Any:
    from ..ops.join import cat

    leaves_list = [tree_flatten(p)[0] for p in pieces]
    spec = tree_flatten(pieces[0])[1]
    if isinstance(out_dims, int) or out_dims is None:
        dims = [out_dims] * len(leaves_list[0])
    else:
        dims = _dims_per_leaf(out_dims, pieces[0], len(leaves_list[0]))
    joined = []
    for k, d in enumerate(dims):
        column = [leaves[k] for leaves in leaves_list]
        joined.append(column[0] if d is None else cat(column, dim=d))
    return tree_unflatten(joined, spec)


__all__ = ["FALLBACK_HITS", "RULES", "active_levels", "fallback", "has_rule", "level_of",
           "register", "vmap"]
