"""Batching rules by family: elementwise ops, ops along dims, shape ops.

A rule gets ``(op, args, params, level, size)`` and returns what ``op`` returns for one example
each, batched: it calls the same op on the physical tensors (batch dim first) with its dims
shifted by one. Most primitives fall into a few families, so a few rules cover them; the
families are listed by name below, so a new primitive has the loop (``vmap.fallback``) until
it is put in one (the op-table test lists them).

>>> import backprop as bp
>>> from backprop.func.vmap import has_rule
>>> has_rule("exp"), has_rule("sum"), has_rule("reshape")
(True, True, True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..ops.primitive import PRIMITIVES
from ..tensor import Tensor
from .batched_tensor import BatchedTensor, unwrap
from .batching import (
    RULES,
    active_levels,
    call,
    fallback,
    front_or_expand,
    logical_ndim,
    register,
    to_front,
    wrap,
)


def _is_batched(a: Any, level: int) -> bool:
    return isinstance(a, BatchedTensor) and a._level == level


def _pad_front(p: Any, lnd: int, rank: int) -> Any:
    """Physical ``p`` (batch dim first, ``lnd`` logical dims) with unit dims after the batch dim
    so that it has ``rank`` logical dims: it then broadcasts like the example it holds."""
    for _ in range(rank - lnd):
        p = p.unsqueeze(1)
    return p


# -- elementwise (n-ary, broadcasting) --------------------------------------------------------------

_RANDOM = ("bernoulli", "poisson", "normal", "standard_gamma", "dropout")


def _check_randomness(op: Any, level: int) -> str:

    mode = next((m for lv, _, m in active_levels() if lv == level), "error")
    if mode == "error":
        raise RuntimeError(f"vmap: called random operation {op.name} under vmap with "
                           "randomness='error'; pass randomness='different' (each example its "
                           "own draw) or 'same' (one draw for the batch) to vmap")
    return mode


def elementwise(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Ops applied element by element with broadcasting: align the examples' ranks, batch dim
    first, and call the op on the physical tensors."""
    if op.name in _RANDOM:
        mode = _check_randomness(op, level)
        if mode == "same" and op.name != "dropout":
            # one draw for the batch would need the example's distribution to be the same
            raise RuntimeError(f"vmap: randomness='same' is not supported for {op.name} with "
                               "a batched input; use randomness='different'")
    tensors = [a for a in (*args, *params.values()) if isinstance(a, Tensor)]
    rank = max(logical_ndim(a, level) for a in tensors)
    physical = [_pad_front(to_front(a, level), logical_ndim(a, level), rank)
                if _is_batched(a, level) else a for a in args]
    named = {k: (_pad_front(to_front(v, level), logical_ndim(v, level), rank)
                 if _is_batched(v, level) else v) for k, v in params.items()}
    return wrap(call(op, *physical, **named), 0, level)


_ELEMENTWISE_PARAMS = {
    "input", "other", "exponent", "condition", "end", "weight", "tensor1", "tensor2", "values",
    "n", "min", "max", "mask", "value", "real", "imag", "abs", "angle", "alpha", "beta", "scale",
    "input_scale", "negative_slope", "lambd", "min_val", "max_val", "approximate", "threshold",
    "eps", "decimals", "nan", "posinf", "neginf", "rounding_mode", "rtol", "atol", "equal_nan",
    "g", "out", "larger", "smaller", "dtype", "extreme", "src", "p", "generator", "mean", "std"}
_NOT_ELEMENTWISE = {"prelu", "isin", "mse_loss", "fused_gru_cell", "polygamma_", "cdist",
                    "linear", "matmul", "embedding", "to_device", "normal"}


def _forward_params(op: Any) -> list[str]:
    try:
        return list(inspect.signature(op.forward).parameters)
    except (TypeError, ValueError):
        return ["?"]


for _name, _op in PRIMITIVES.items():
    if (_name not in _NOT_ELEMENTWISE and not _op.composite and _op.n_outputs == 1
            and set(_forward_params(_op)) <= _ELEMENTWISE_PARAMS):
        RULES[_name] = elementwise
RULES["frexp"] = elementwise
RULES["normal"] = elementwise


# -- ops that treat leading dims as a batch (matrices, one-hot, complex views) ------------------------

@register("tril", "triu", "view_as_real", "view_as_complex", "one_hot", "linalg_cholesky_ex",
          "linalg_det", "linalg_eigh", "linalg_inv_ex", "linalg_qr", "linalg_slogdet",
          "linalg_svd", "linalg_matrix_exp", "linalg_cofactor", "linalg_eig",
          "triangular_inverse", "linalg_lu_factor_ex", "geqrf", "linalg_ldl_factor_ex",
          "attention_softmax")
def leading_batch(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Ops on one tensor that read its leading dims as a batch: batch dim first, call."""
    if any(_is_batched(a, level) for a in (*args[1:], *params.values())):
        return fallback(op, args, params, level, size)
    return wrap(call(op, to_front(args[0], level), *args[1:], **params), 0, level)


# -- ops along dims ---------------------------------------------------------------------------------

# name -> (the dim parameters, how they read): "axes" a tuple or None for all dims; "axis" an
# int; "flat" an int or None for the flattened tensor; "dims" a tuple. Tensors other than the
# first may be batched only for ops listed in _ALL_TENSORS.
_DIM_OPS: dict[str, tuple[tuple[str, ...], str]] = {}
for _n in ("all", "amax", "amin", "any", "logsumexp", "mean", "nansum", "norm", "std",
           "std_mean", "sum", "var", "var_mean", "count_nonzero", "softmax", "log_softmax",
           "layer_norm", "group_norm", "rms_norm", "batch_norm"):
    _DIM_OPS[_n] = (("axes",), "axes")
for _n in ("argsort", "cumprod", "cumsum", "cumulative_extreme", "forward_difference",
           "logcumsumexp", "order_statistic_index", "prod_others", "resample", "reverse_cumsum",
           "topk_indices", "uniform_cumulative_trapezoid", "uniform_trapezoid",
           "values_at_index", "diff_transpose", "resample_adjoint"):
    _DIM_OPS[_n] = (("axis",), "axis")
for _n in ("argmax", "argmin", "prod"):
    _DIM_OPS[_n] = (("axis",), "flat")
for _n in ("cross", "narrow", "select", "slice", "unbind", "unbind_copy", "repeat_each",
           "sum_runs", "index_select", "index_add", "split_with_sizes_copy", "unsqueeze",
           "gather", "scatter", "scatter_add", "scatter_reduce", "index_reduce"):
    _DIM_OPS[_n] = (("dim",), "axis")
_DIM_OPS["unfold"] = (("dimension",), "axis")
_DIM_OPS["transpose"] = (("dim0", "dim1"), "axis")
_DIM_OPS["diagonal"] = (("dim1", "dim2"), "axis")
_DIM_OPS["diagonal_copy"] = (("dim1", "dim2"), "axis")
for _n in ("flip", "squeeze"):
    _DIM_OPS[_n] = (("dims",), "dims")
for _n in ("fft_c2c", "fft_c2r", "fft_r2c", "fft_resize"):
    _DIM_OPS[_n] = (("dims",), "dims")
_DIM_OPS["roll"] = (("dims",), "dims")
_ALL_TENSORS = {"cross", "index_add", "values_at_index", "scatter", "scatter_add",
                "scatter_reduce", "index_reduce", "diff_transpose"}
# ops whose dim may be one past the last (a new dim)
_INSERTS = {"unsqueeze"}
# raw integer index arrays of the example's shape: broadcast over the batch
_INDEX_ARRAYS = {"gather", "scatter", "scatter_add", "scatter_reduce"}


def _shift(value: Any, mode: str, lnd: int, insert: bool) -> Any:
    span = lnd + 1 if insert else lnd
    if mode == "axes" or mode == "dims":
        if value is None:
            return tuple(range(1, lnd + 1))
        if isinstance(value, int):
            return value % span + 1
        return tuple(d % span + 1 for d in value)
    return value % span + 1


def along_dims(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Ops with dim parameters: batch dim first, each dim one further."""
    names, mode = _DIM_OPS[op.name]
    first = args[0]
    lnd = logical_ndim(first, level)
    others = [a for a in (*args[1:], *params.values()) if _is_batched(a, level)]
    if lnd == 0 and mode == "axes" and not others and _is_batched(first, level):
        # one number per example: reducing over no dims leaves it as it is
        index = _forward_params(op).index(names[0])
        listed, params = list(args), dict(params)
        if index < len(listed):
            listed[index] = ()
        else:
            params[names[0]] = ()
        return wrap(call(op, to_front(first, level), *listed[1:], **params), 0, level)
    if ((lnd == 0 and op.name not in _INSERTS) or (others and op.name not in _ALL_TENSORS)
            or not _is_batched(first, level)):
        return fallback(op, args, params, level, size)
    positions = _forward_params(op)
    given = params
    listed, params = list(args), dict(params)
    flat_result = False
    for name in names:
        index = positions.index(name)
        value = listed[index] if index < len(listed) else params.get(name)
        if value is None and mode == "flat":
            flat_result = True
            continue
        if value is None and mode != "axes":
            return fallback(op, args, given, level, size)
        shifted = _shift(value, mode, lnd, op.name in _INSERTS)
        if index < len(listed):
            listed[index] = shifted
        else:
            params[name] = shifted
    if flat_result:  # argmax(x) of the flattened example: flatten each example
        keepdim = listed[2] if len(listed) > 2 else params.get("keepdim", False)
        physical = to_front(first, level).reshape(size, -1)
        index = positions.index("axis")
        if index < len(listed):
            listed[index] = 1
        else:
            params["axis"] = 1
        out = call(op, physical, *listed[1:], **params)
        if keepdim:
            out = out.reshape((size,) + (1,) * lnd)
        return wrap(out, 0, level)
    rank = lnd
    physical = []
    for k, a in enumerate(listed):
        if isinstance(a, Tensor) and (k == 0 or _is_batched(a, level)):
            physical.append(front_or_expand(a, level, size) if k == 0 else
                            _pad_front(to_front(a, level), logical_ndim(a, level), rank))
        elif isinstance(a, Tensor) and op.name in _ALL_TENSORS and k > 0 and a.ndim == rank:
            physical.append(a.unsqueeze(0).expand(size, *a.shape))
        elif op.name in _INDEX_ARRAYS and hasattr(a, "ndim") and not isinstance(a, Tensor) \
                and k == positions.index("index"):
            import numpy as np

            physical.append(np.broadcast_to(a, (size,) + a.shape))
        else:
            physical.append(a)
    return wrap(call(op, *physical, **params), 0, level)


for _n in _DIM_OPS:
    RULES[_n] = along_dims


# -- shape ops --------------------------------------------------------------------------------------

def _physical_rule(body: Callable) -> Callable:
    """A rule whose first argument alone may be batched (else the loop)."""

    def rule(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
        if not _is_batched(args[0], level) or any(
                _is_batched(a, level) for a in (*args[1:], *params.values())):
            return fallback(op, args, params, level, size)
        return body(op, args, params, level, size)

    rule.__doc__ = body.__doc__
    return rule


def _reshape_rule(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Reshape each example: the new shape behind the batch dim."""
    _, bdim = unwrap(args[0], level)
    shape = args[1] if len(args) > 1 else params["shape"]
    if bdim != 0 and op.name == "view":
        op = PRIMITIVES["reshape"]
    return wrap(call(op, to_front(args[0], level), (size, *shape)), 0, level)


RULES["reshape"] = RULES["view"] = _physical_rule(_reshape_rule)


@_physical_rule
def _expand(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    shape = tuple(args[1])
    lnd = logical_ndim(args[0], level)
    physical = _pad_front(to_front(args[0], level), lnd, len(shape))
    return wrap(call(op, physical, (size, *shape)), 0, level)


RULES["expand"] = RULES["broadcast_to"] = _expand


@_physical_rule
def _permute(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    lnd = logical_ndim(args[0], level)
    dims = (0, *(d % lnd + 1 for d in args[1])) if lnd else (0,)
    return wrap(call(op, to_front(args[0], level), dims), 0, level)


RULES["permute"] = _permute


@_physical_rule
def _repeat(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    repeats = tuple(args[1])
    lnd = logical_ndim(args[0], level)
    physical = _pad_front(to_front(args[0], level), lnd, len(repeats))
    return wrap(call(op, physical, (1, *repeats)), 0, level)


RULES["repeat"] = _repeat


@_physical_rule
def _sum_to_size(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    target = tuple(args[1])
    lnd = logical_ndim(args[0], level)
    padded = (1,) * (lnd - len(target)) + target
    out = call(op, to_front(args[0], level), (size, *padded))
    return wrap(out.reshape(size, *target), 0, level)


RULES["sum_to_size"] = _sum_to_size


@_physical_rule
def _pad(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    widths = tuple(args[1])
    lnd = logical_ndim(args[0], level)
    if len(widths) != lnd:
        return fallback(op, args, params, level, size)
    return wrap(call(op, to_front(args[0], level), ((0, 0), *widths), *args[2:], **params), 0,
                level)


for _n in ("constant_pad_nd", "reflection_pad", "replication_pad", "circular_pad"):
    RULES[_n] = _pad


@register("cat", "stack")
def join(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """cat/stack: every tensor batch dim first (unbatched ones expanded), dim one further."""
    dim, tensors = args[0], args[1:]
    lnd = max(logical_ndim(t, level) for t in tensors)
    span = lnd + 1 if op.name == "stack" else lnd
    physical = [front_or_expand(t, level, size) for t in tensors]
    return wrap(call(op, dim % span + 1, *physical, **params), 0, level)


@register("einsum")
def einsum(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """einsum: a new subscript letter for the batch dim of each batched operand and the result."""
    equation, operands = args[0].replace(" ", ""), args[1:]
    if "->" not in equation:
        return fallback(op, args, params, level, size)
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in equation)
    physical, physical_terms = [], []
    for term, operand in zip(terms, operands):
        if _is_batched(operand, level):
            physical.append(to_front(operand, level))
            term = letter + term
        else:
            physical.append(operand)
        physical_terms.append(term)
    new = ",".join(physical_terms) + "->" + letter + output
    return wrap(call(op, new, *physical, **params), 0, level)


__all__ = ["along_dims", "elementwise", "join", "leading_batch"]
