"""``grad``, ``grad_and_value``, ``vjp`` and ``jacrev``: reverse mode on functions.

They differentiate the *physical* tensors beneath vmap's wrappers: each input is brought to a
plain tensor with one leading dim per active vmap level (an input a level does not batch is
expanded there, so that its gradient is per example and not summed over the batch: per-sample
gradients of shared weights), made a fresh leaf, wrapped again, and handed to the function.
Nested transforms (``grad(grad(f))``) keep the graph (``create_graph``) so the outer one can
differentiate the inner one's result.

>>> import backprop as bp
>>> bp.func.grad(lambda x: (x ** 3).sum())(bp.tensor([1.0, 2.0])).tolist()
[3.0, 12.0]
>>> bp.func.grad(bp.func.grad(lambda x: x ** 3))(bp.tensor(2.0)).item()
12.0
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import forward_ad
from ..autograd import functional as _autograd
from ..autograd import graph as _graph
from ..creation import zeros
from ..tensor import Tensor
from .batched_tensor import BatchedTensor
from .batching import active_levels, front_or_expand
from .pytree import tree_flatten, tree_unflatten
from .vmap import vmap


class _Depth(threading.local):
    def __init__(self) -> None:
        self.value = 0


_depth = _Depth()


def _to_plain(x: Any, levels: list) -> Tensor:
    """``x`` as a plain tensor with one leading dim per level in ``levels`` (outermost first)."""
    for level, size, _ in reversed(levels):
        x = front_or_expand(x, level, size)
    if isinstance(x, BatchedTensor):
        raise RuntimeError(  # noqa: TRY004 - a stale batch level, not a wrong type
            "bp.func: a tensor batched by a vmap that is no longer active was "
                           "given to a transform; return it from its vmap first")
    return x


def _rewrap(x: Tensor, levels: list) -> Any:
    for level, _, _ in levels:
        x = BatchedTensor(x, 0, level)
    return x


def _fresh_leaf(plain: Tensor) -> Tensor:
    """A tensor to differentiate with respect to: a copy in the graph of a tensor that already
    requires grad (an outer transform differentiates through it), else a new leaf, carrying
    ``plain``'s tangent when forward mode is on (``jvp`` of ``grad``: forward over reverse)."""
    if plain.requires_grad:
        return plain.clone()
    leaf = plain.detach().requires_grad_(True)
    if _graph.DUAL.level is None:
        return leaf
    tangent = forward_ad.unpack_dual(plain).tangent
    return leaf if tangent is None else forward_ad.make_dual(leaf, tangent)


def _argnum_tuple(name: str, argnums: Any, n_args: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or not all(isinstance(k, int) for k in nums):
        raise ValueError(f"{name}: argnums must be an int or a non-empty tuple of ints, got "
                         f"{argnums!r}")
    for k in nums:
        if not -n_args <= k < n_args:
            raise ValueError(f"{name}: argnums {k} is out of range for a function given "
                             f"{n_args} positional arguments")
    return tuple(k % n_args for k in nums)


class _Prepared:
    """The inputs of one differentiated call: the leaves, and the arguments built on them."""

    def __init__(self, name: str, args: tuple, argnums: tuple[int, ...]) -> None:
        self.levels = list(active_levels())
        self.args = list(args)
        self.leaves: list[list[Tensor]] = []
        self.specs: list[Any] = []
        # nested in another transform, or under forward mode (whose tangents a detach drops)
        self.keep_graph = _depth.value > 0 or _graph.DUAL.level is not None
        for k in argnums:
            flat, spec = tree_flatten(args[k])
            leaves = []
            for j, t in enumerate(flat):
                if not isinstance(t, Tensor):
                    raise TypeError(f"{name}: argument {k} must be a tensor or a tuple/list/"
                                    f"dict of tensors, got {type(t).__name__} (leaf {j})")
                if t.dtype.kind not in "fc":
                    raise TypeError(f"{name}: argument {k} has dtype {t.dtype}; only floating "
                                    "point and complex tensors can be differentiated")
                plain = _to_plain(t, self.levels)
                if plain.requires_grad:
                    self.keep_graph = True
                leaves.append(_fresh_leaf(plain))
            self.leaves.append(leaves)
            self.specs.append(spec)
            self.args[k] = tree_unflatten([_rewrap(leaf, self.levels) for leaf in leaves], spec)

    def all_leaves(self) -> list[Tensor]:
        return [leaf for leaves in self.leaves for leaf in leaves]

    def grads_tree(self, grads: list, single: bool, levels: list | None = None) -> Any:
        """``grads`` (one per leaf) in the arguments' trees, wrapped at ``levels`` (by default
        the levels the call was prepared under)."""
        levels = self.levels if levels is None else levels
        out, at = [], 0
        for leaves, spec in zip(self.leaves, self.specs):
            part = [_rewrap(g, levels) for g in grads[at:at + len(leaves)]]
            at += len(leaves)
            out.append(tree_unflatten(part, spec))
        return out[0] if single else tuple(out)


def tensor_outputs(name: str, output: Any) -> tuple[list, Any]:
    """``output`` flattened (a tensor, or a tuple/list/dict tree of them), and its structure."""
    flat_out, out_spec = tree_flatten(output)
    for j, o in enumerate(flat_out):
        if not isinstance(o, Tensor):
            raise RuntimeError(  # noqa: TRY004 - PyTorch's exception type
                f"{name}: f must return tensors (or tuples/lists/dicts of them), got "
                f"{type(o).__name__} at output {j}")
    return flat_out, out_spec


def _call(func: Callable, prepared: _Prepared, kwargs: dict) -> Any:
    _depth.value += 1
    try:
        return func(*prepared.args, **kwargs)
    finally:
        _depth.value -= 1


def _split_aux(name: str, result: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple) or len(result) != 2:
        raise RuntimeError(f"{name}(f, has_aux=True): f must return a tuple (output, aux), got "
                           f"{type(result).__name__}")
    return result


def _grads(outputs: list, leaves: list, grad_outputs: list, keep_graph: bool) -> list:
    grads = _autograd.grad(outputs, leaves, grad_outputs=grad_outputs, create_graph=keep_graph,
                           retain_graph=True, allow_unused=True)
    return [g if g is not None else _zeros_like(leaf) for g, leaf in zip(grads, leaves)]


def _zeros_like(t: Tensor) -> Tensor:
    """Zeros of a plain tensor's shape and dtype (``t * 0`` would be NaN where ``t`` is not
    finite)."""
    return Tensor._wrap(np.zeros_like(t._data))


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:
    """A function returning ``(gradient, value)`` of ``func`` (PyTorch's
    ``torch.func.grad_and_value``): ``func`` returns one-element tensor (with ``has_aux``, a
    pair ``(output, aux)``, and the value is ``(output, aux)``); the gradient is with respect
    to argument ``argnums`` (a tuple of them for several), shaped like it.

    >>> import backprop as bp
    >>> g, v = bp.func.grad_and_value(lambda x, y: (x * y).sum(), argnums=(0, 1))(
    ...     bp.tensor([1.0, 2.0]), bp.tensor([3.0, 4.0]))
    >>> [t.tolist() for t in g], v.item()
    ([[3.0, 4.0], [1.0, 2.0]], 11.0)
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nums = _argnum_tuple("grad", argnums, len(args))
        prepared = _Prepared("grad", args, nums)
        output, aux = _split_aux("grad", _call(func, prepared, kwargs), has_aux)
        if not isinstance(output, Tensor):
            raise RuntimeError(  # noqa: TRY004 - PyTorch's exception type
                f"grad: f must return a tensor, got {type(output).__name__}")
        if output.numel() != 1:
            raise RuntimeError(f"grad: f must return a tensor with one element (a scalar loss),"
                               f" got shape {tuple(output.shape)}; use vjp or jacrev for other "
                               "outputs")
        plain = _to_plain(output, prepared.levels)
        leaves = prepared.all_leaves()
        if not plain.requires_grad:  # the output does not depend on the inputs
            grads = [_zeros_like(leaf) for leaf in leaves]
        else:
            grads = _grads([plain], leaves, [_ones_like(plain)], prepared.keep_graph)
        if not prepared.keep_graph:
            grads = [g.detach() for g in grads]
            plain = plain.detach()
        value = _rewrap(plain, prepared.levels)
        gradient = prepared.grads_tree(grads, isinstance(argnums, int))
        return gradient, ((value, aux) if has_aux else value)

    return wrapper


def _ones_like(t: Tensor) -> Tensor:
    return Tensor._wrap(np.ones_like(t._data))


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of ``func`` with respect to argument ``argnums`` (PyTorch's
    ``torch.func.grad``); ``func`` returns a one-element tensor, or ``(output, aux)`` with
    ``has_aux`` (then the result is ``(gradient, aux)``).

    >>> import backprop as bp
    >>> bp.func.grad(lambda x: (x * x).sum())(bp.tensor([1.0, -2.0])).tolist()
    [2.0, -4.0]
    """
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)``, and ``aux`` after them with ``has_aux`` (PyTorch's
    ``torch.func.vjp``): ``vjp_fn(cotangents)`` returns, for each primal, the
    vector-Jacobian product, shaped like the primal; it may be called many times, and under
    ``vmap`` (how ``jacrev`` builds Jacobians).

    >>> import backprop as bp
    >>> out, vjp_fn = bp.func.vjp(lambda x: x ** 2, bp.tensor([1.0, 3.0]))
    >>> vjp_fn(bp.tensor([1.0, 10.0]))[0].tolist()
    [2.0, 60.0]
    """
    prepared = _Prepared("vjp", primals, tuple(range(len(primals))))
    output, aux = _split_aux("vjp", _call(func, prepared, {}), has_aux)
    flat_out, out_spec = tensor_outputs("vjp", output)
    levels = prepared.levels
    plains = [_to_plain(o, levels) for o in flat_out]
    keep = prepared.keep_graph
    shown = tree_unflatten([_rewrap(p if keep else p.detach(), levels) for p in plains],
                           out_spec)

    def vjp_fn(cotangents: Any) -> tuple:
        flat_ct, _ = tree_flatten(cotangents)
        if len(flat_ct) != len(plains):
            raise RuntimeError(f"vjp_fn: expected {len(plains)} cotangents (one per output), "
                               f"got {len(flat_ct)}")
        now = list(active_levels())
        if now[:len(levels)] != levels:
            raise RuntimeError("vjp_fn: called outside the vmap where vjp was called")
        extra = now[len(levels):]
        leaves = prepared.all_leaves()
        used = [k for k, p in enumerate(plains) if p.requires_grad]
        for k, ct in enumerate(flat_ct):
            if tuple(ct.shape) != tuple(flat_out[k].shape):
                raise RuntimeError(f"vjp_fn: cotangent {k} has shape {tuple(ct.shape)} but the "
                                   f"output has shape {tuple(flat_out[k].shape)}; they must match")
        if not used:
            grads = [_zeros_like(_to_plain_extra(leaf, extra)) for leaf in leaves]
        elif not extra:
            cts = [_to_plain(flat_ct[k], now) for k in used]
            grads = _grads([plains[k] for k in used], leaves, cts, keep)
        else:
            grads = _batched_vjp([plains[k] for k in used], leaves,
                                 [flat_ct[k] for k in used], now, len(levels), keep)
        if not keep:
            grads = [g.detach() for g in grads]
        return prepared.grads_tree(grads, False, now)

    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def _to_plain_extra(leaf: Tensor, extra: list) -> Tensor:
    for _, size, _ in extra:
        leaf = leaf.unsqueeze(0).expand(size, *leaf.shape)
    return leaf


def _batched_vjp(outputs: list, leaves: list, cotangents: list, now: list, known: int,
                 keep: bool) -> list:
    """VJPs for cotangents batched by vmaps entered after ``vjp`` (``jacrev``'s basis), in one
    backward pass: the seeds stay batched at those levels (plain at the levels the graph was
    built under), so the engine runs the rules on them and vmap batches the rules' ops. Each
    gradient has the new levels' dims after the dims of the levels the graph was built under."""
    extra = now[known:]
    n_extra = len(extra)
    seeds = []
    for ct in cotangents:
        seed = _to_plain(ct, now)  # (known dims..., extra dims..., output dims)
        for level, _, _ in extra:  # outermost first: each wraps the dim after the known ones
            seed = BatchedTensor(seed, known, level)
        seeds.append(seed)
    grads = _autograd.grad(outputs, leaves, grad_outputs=seeds, create_graph=keep,
                           retain_graph=True, allow_unused=True)
    out = []
    for g, leaf in zip(grads, leaves):
        if g is None:
            g = _zeros_like(leaf)
        g = _to_plain(g, extra)  # (extra dims..., known dims..., input dims)
        out.append(g.movedim(tuple(range(n_extra)), tuple(range(known, known + n_extra))))
    return out


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """The Jacobian of ``func`` with respect to argument ``argnums`` by reverse mode
    (PyTorch's ``torch.func.jacrev``): ``vjp`` once, then ``vmap`` of its ``vjp_fn`` over the
    rows of the identity (``chunk_size`` rows at a time). Its shape is the output's followed
    by the input's; a tuple per argument for tuple ``argnums``, a tree like the output's.

    >>> import backprop as bp
    >>> bp.func.jacrev(lambda x: x ** 2)(bp.tensor([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnum_tuple("jacrev", argnums, len(args))
        results = vjp(with_chosen(func, args, nums, kwargs), *[args[k] for k in nums], has_aux=has_aux)
        output, vjp_fn = results[0], results[1]
        flat_out, out_spec = tree_flatten(output)
        jacobians = []
        for k, o in enumerate(flat_out):
            n = o.numel()
            basis = _eye(n, o).reshape(n, *o.shape)

            def row(ct: Tensor, k: int = k) -> tuple:
                # the other outputs' cotangents: zeros of their one-example shape
                cts = [ct if j == k else zeros(tuple(other.shape), dtype=other.dtype)
                       for j, other in enumerate(flat_out)]
                return vjp_fn(tree_unflatten(cts, out_spec))

            rows = vmap(row, chunk_size=chunk_size)(basis)
            per_arg = []
            for r in rows:
                per_arg.append(_tree_reshape(r, tuple(o.shape)))
            jacobians.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        jac = tree_unflatten(jacobians, out_spec)
        return (jac, results[2]) if has_aux else jac

    return wrapper


def with_chosen(func: Callable, args: tuple, nums: tuple[int, ...], kwargs: dict) -> Callable:
    """``func`` as a function of its arguments ``nums`` alone, the others fixed to ``args``."""

    def on_chosen(*chosen: Any) -> Any:
        full = list(args)
        for k, c in zip(nums, chosen):
            full[k] = c
        return func(*full, **kwargs)

    return on_chosen


def _eye(n: int, like: Tensor) -> Tensor:
    from ..creation import eye

    return eye(n, dtype=like.dtype)


def _tree_reshape(tree: Any, out_shape: tuple) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([t.reshape(*out_shape, *t.shape[1:]) for t in leaves], spec)


__all__ = ["grad", "grad_and_value", "jacrev", "vjp"]
