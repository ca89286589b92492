"""``jvp``, ``jacfwd`` and ``hessian``: forward mode on functions.

``jvp`` opens a forward-AD level (``autograd.forward_ad``) and gives the function dual tensors.
Tangents live on plain tensors only, never on vmap's wrappers: under ``vmap`` a primal and its
tangent are first brought to their physical tensors (one leading dim per active vmap level, an
input a level does not batch expanded there), paired there, and wrapped again. So ``vmap`` of
``jvp`` over basis tangents (``jacfwd``) and ``jvp`` of a reverse-mode transform (``hessian`` is
``jacfwd(jacrev(f))``) compose: each op meets vmap's rules first, then forward mode beneath.
PyTorch's forward AD has one level at a time, and so does this: ``jvp`` inside ``jvp`` raises.

>>> import backprop as bp
>>> out, tangent = bp.func.jvp(bp.sin, (bp.tensor(0.0),), (bp.tensor(2.0),))
>>> out.item(), tangent.item()
(0.0, 2.0)
>>> bp.func.hessian(lambda x: (x ** 3).sum())(bp.tensor([1.0, 2.0])).tolist()
[[6.0, 0.0], [0.0, 12.0]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd import forward_ad
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .batching import active_levels
from .grad_transforms import (
    _argnum_tuple,
    _eye,
    _rewrap,
    _split_aux,
    _to_plain,
    _zeros_like,
    jacrev,
    tensor_outputs,
    with_chosen,
)
from .pytree import tree_flatten, tree_unflatten
from .vmap import vmap


def _check_pairs(primals: Any, tangents: Any) -> tuple[list, list, Any]:
    # RuntimeError for wrong types too: PyTorch's exception type
    if not isinstance(primals, tuple):
        raise RuntimeError(  # noqa: TRY004
            f"jvp: Expected primals to be a tuple, got {type(primals).__name__}")
    if not isinstance(tangents, tuple):
        raise RuntimeError(  # noqa: TRY004
            f"jvp: Expected tangents to be a tuple, got {type(tangents).__name__}")
    flat_p, spec = tree_flatten(primals)
    flat_t, tangent_spec = tree_flatten(tangents)
    if tangent_spec != spec:
        raise RuntimeError("jvp: Expected primals and tangents to have the same python "
                           "structure (the same nesting of tuples, lists and dicts)")
    for k, (p, t) in enumerate(zip(flat_p, flat_t)):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise RuntimeError(f"jvp: primal and tangent {k} must be tensors, got "  # noqa: TRY004
                               f"{type(p).__name__} and {type(t).__name__}")
        if tuple(p.shape) != tuple(t.shape):
            raise ShapeError(f"jvp: primal {k} has shape {format_shape(p.shape)} but its tangent "
                             f"has shape {format_shape(t.shape)}; they must match")
    return flat_p, flat_t, spec


def _dual(primal: Tensor, tangent: Tensor, levels: list) -> Any:
    """The dual of ``primal`` and ``tangent``, paired on their physical tensors."""
    pair = forward_ad.make_dual(_to_plain(primal, levels),
                                _to_plain(tangent, levels).to(primal.dtype))
    return _rewrap(pair, levels)


def _split_dual(output: Any, levels: list) -> tuple[Any, Any]:
    """``output``'s primal and tangent (zeros where it does not depend on the inputs)."""
    primal, tangent = forward_ad.unpack_dual(_to_plain(output, levels))
    if tangent is None:
        tangent = _zeros_like(primal)
    return _rewrap(primal, levels), _rewrap(tangent, levels)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``(func(*primals), J @ tangents)`` by forward mode (PyTorch's ``torch.func.jvp``), and
    ``aux`` after them with ``has_aux``. ``primals`` and ``tangents`` are tuples of the same
    structure (tensors, or tuples/lists/dicts of them); the output may be such a tree too.
    ``strict`` is accepted for PyTorch's signature and, as there, refused when True.

    >>> import backprop as bp
    >>> out, t = bp.func.jvp(lambda x, y: x * y, (bp.tensor(3.0), bp.tensor(4.0)),
    ...                      (bp.tensor(1.0), bp.tensor(0.0)))
    >>> out.item(), t.item()
    (12.0, 4.0)
    """
    if strict:
        raise RuntimeError("jvp(f, primals, tangents, strict=True): strict is not supported "
                           "(as in PyTorch's torch.func.jvp)")
    flat_p, flat_t, spec = _check_pairs(primals, tangents)
    levels = list(active_levels())
    with forward_ad.dual_level():
        duals = [_dual(p, t, levels) for p, t in zip(flat_p, flat_t)]
        output, aux = _split_aux("jvp", func(*tree_unflatten(duals, spec)), has_aux)
        flat_out, out_spec = tensor_outputs("jvp", output)
        pairs = [_split_dual(o, levels) for o in flat_out]
        if has_aux:
            flat_aux, aux_spec = tree_flatten(aux)
            aux = tree_unflatten([_split_dual(a, levels)[0] if isinstance(a, Tensor) else a
                                  for a in flat_aux], aux_spec)
    primal_out = tree_unflatten([p for p, _ in pairs], out_spec)
    tangent_out = tree_unflatten([t for _, t in pairs], out_spec)
    return (primal_out, tangent_out, aux) if has_aux else (primal_out, tangent_out)


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian of ``func`` with respect to argument ``argnums`` by forward mode (PyTorch's
    ``torch.func.jacfwd``): ``vmap`` of ``jvp`` over the columns of the identity. Its shape is
    the output's followed by the input's; a tuple per argument for tuple ``argnums``, a tree
    like the output's.

    >>> import backprop as bp
    >>> bp.func.jacfwd(lambda x: x.sin())(bp.tensor([0.0, 0.0])).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnum_tuple("jacfwd", argnums, len(args))
        chosen = tuple(args[k] for k in nums)
        flat_in, in_spec = tree_flatten(chosen)
        sizes = [t.numel() for t in flat_in]
        total = sum(sizes)
        basis = _eye(total, flat_in[0])
        columns, at = [], 0
        for t, size in zip(flat_in, sizes):  # each input's rows of the identity, input-shaped
            columns.append(basis[:, at:at + size].reshape(total, *t.shape))
            at += size

        on_chosen = with_chosen(func, args, nums, kwargs)

        def push(*tangents: Any) -> Any:
            results = jvp(on_chosen, chosen, tree_unflatten(list(tangents), in_spec),
                          has_aux=has_aux)
            return (results[1], results[2]) if has_aux else results[1]

        pushed = vmap(push, randomness=randomness)(*columns)
        tangents, aux = (pushed if has_aux else (pushed, None))
        flat_tangents, out_spec = tree_flatten(tangents)
        jacobians = []
        for tangent in flat_tangents:  # (total, *out_shape): split by input, inputs' dims last
            out_shape = tuple(tangent.shape[1:])
            per_input, at = [], 0
            for t, size in zip(flat_in, sizes):
                block = tangent[at:at + size].movedim(0, -1)
                per_input.append(block.reshape(*out_shape, *t.shape))
                at += size
            tree = tree_unflatten(per_input, in_spec)
            jacobians.append(tree[0] if isinstance(argnums, int) else tree)
        jac = tree_unflatten(jacobians, out_spec)
        if not has_aux:
            return jac
        flat_aux, aux_spec = tree_flatten(aux)  # the same for every column: keep the first
        return jac, tree_unflatten([a[0] if isinstance(a, Tensor) else a for a in flat_aux],
                                   aux_spec)

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of ``func`` (returning one-element tensors) with respect to argument
    ``argnums`` (PyTorch's ``torch.func.hessian``): ``jacfwd(jacrev(func))``, forward over
    reverse.

    >>> import backprop as bp
    >>> bp.func.hessian(lambda x, y: (x * y).sum(), argnums=(0, 1))(
    ...     bp.tensor([1.0]), bp.tensor([2.0]))[0][1].tolist()
    [[1.0]]
    """
    return jacfwd(jacrev(func, argnums), argnums)


__all__ = ["hessian", "jacfwd", "jvp"]
