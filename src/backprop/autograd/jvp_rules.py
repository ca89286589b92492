"""Forward-mode rules: the tangent of an op's result from its inputs' tangents (``J t``).

Every differentiable primitive gets one, of one of four kinds (``rule_kind`` says which):

- ``linear``: the op is linear in its float tensors (views, reductions, joins): the tangent is
  the op applied to the tangents, zeros standing for inputs that carry none;
- ``affine``: linear but for numbers added in (``add(x, 2.0)``, ``where(c, x, 0.0)``): the same,
  with those numbers set to 0;
- ``multilinear``: one factor at a time (``mul``, ``matmul``, ``einsum``): the sum of the op with
  one input replaced by its tangent;
- ``explicit``: a hand-written rule (the hot elementwise maths, softmax);
- ``derived``: every other op, from its gradient rule by transposition. The VJP ``g -> J^H g``
  is linear in ``g`` and written with our differentiable ops, so running it on a zero ``g``
  that requires grad and taking the VJP of that map at cotangent ``t`` gives ``J t`` exactly
  (not by finite differences; ``g`` is a fixed nonzero pattern, as a few rules split it by
  sign), for real and complex dtypes alike under PyTorch's conjugate
  convention (the adjoint of the adjoint is the map itself).

``FAST`` off makes every op use the derived rule (the tests compare the kinds with it).

>>> import backprop as bp
>>> from backprop.ops import PRIMITIVES
>>> rule_kind(PRIMITIVES["mul"]), rule_kind(PRIMITIVES["lgamma"])
('multilinear', 'derived')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .graph import _fit_gradient

FAST = True  # the explicit, linear and multilinear rules; False: derived rules only

LINEAR = frozenset({
    "broadcast_to", "cat", "clone", "conj_physical", "cumsum", "deg2rad",
    "diagonal", "diagonal_copy", "expand", "flip", "gather", "getitem", "imag", "index_select",
    "mean", "narrow", "neg", "permute", "rad2deg", "real", "repeat", "reshape", "roll", "select",
    "slice", "squeeze", "stack", "sum", "sum_to_size", "trace", "transpose", "tril", "triu",
    "unbind", "unbind_copy", "unsqueeze", "view", "view_as_complex", "view_as_real", "complex",
})
AFFINE = frozenset({"add", "sub", "where", "masked_fill"})
MULTILINEAR = frozenset({"mul", "matmul", "einsum"})


def _sum_over(x: Any, axes: Any) -> Any:
    return x.sum(dim=tuple(range(x.ndim)) if axes is None else axes, keepdim=True)


# rule(t, out, *inputs, **params) for one-input ops (t: the first input's tangent)
EXPLICIT_UNARY: dict[str, Callable[..., Any]] = {
    "exp": lambda t, out, x: t * out,
    "log": lambda t, out, x: t / x,
    "sin": lambda t, out, x: t * x.cos(),
    "cos": lambda t, out, x: -t * x.sin(),
    "tanh": lambda t, out, x: t * (1 - out * out),
    "sigmoid": lambda t, out, x: t * (out * (1 - out)),
    "sqrt": lambda t, out, x: t / (2 * out),
    "relu": lambda t, out, x: t * (x > 0),
    "expm1": lambda t, out, x: t * (out + 1),
    "log1p": lambda t, out, x: t / (1 + x),
    "reciprocal": lambda t, out, x: -t * out * out,
    "softmax": lambda t, out, x, axes: out * (t - _sum_over(out * t, axes)),
    "log_softmax": lambda t, out, x, axes: t - _sum_over(out.exp() * t, axes),
}


def rule_kind(op: Any) -> str:
    """Which kind of forward rule ``op`` (a differentiable primitive) gets."""
    name = op.name
    if name in EXPLICIT_UNARY:
        return "explicit"
    if name in LINEAR:
        return "linear"
    if name in AFFINE:
        return "affine"
    if name in MULTILINEAR:
        return "multilinear"
    return "derived"


def _float_tensor(a: Any) -> bool:
    return isinstance(a, Tensor) and a.dtype.kind in "fc"


def _constant_summand(a: Any) -> bool:
    """A number or a raw array added in (``add(x, eye)``): its tangent is zero. Bool values are
    ``where``'s condition or a mask, which stay."""
    if type(a) in (int, float, complex):
        return True
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind in "fciu"


def _zeros(a: Tensor) -> Tensor:
    return Tensor._wrap(np.zeros_like(a._data))


def output_tangents(op: Any, args: tuple, params: dict, out: Any,
                    tangents: list) -> list[Tensor | None]:
    """The tangent of each output of ``out = op(*args, **params)`` given ``tangents`` (one per
    argument, None where it carries none); None for an output that gets none."""
    kind = rule_kind(op) if FAST else "derived"
    if kind == "derived":
        return derived(op, args, params, out, tangents)
    if kind == "explicit":
        if any(t is not None for t in tangents[1:]):
            return derived(op, args, params, out, tangents)
        inputs = [a.detach() if isinstance(a, Tensor) else a for a in args]
        return [EXPLICIT_UNARY[op.name](tangents[0], out.detach(), *inputs, **params)]
    if kind == "multilinear":
        total = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            replaced = [t if j == i else a.detach() if isinstance(a, Tensor) else a
                        for j, a in enumerate(args)]
            term = op(*replaced, **params)
            total = term if total is None else total + term
        return [total]
    replaced = []
    for a, t in zip(args, tangents):
        if t is not None:
            replaced.append(t)
        elif _float_tensor(a):
            replaced.append(_zeros(a))
        elif kind == "affine" and _constant_summand(a):
            replaced.append(0)
        else:
            replaced.append(a)
    result = op(*replaced, **params)
    return list(result) if type(result) is tuple else [result]


def seed_like(out: Tensor) -> Tensor:
    """A cotangent to differentiate a VJP at. The VJP is linear in it, so any value gives the
    same derivative, but rules that split ``g`` by sign (``logcumsumexp``'s) have a kink at 0:
    a fixed nonzero pattern keeps clear of it."""
    data = out._data
    pattern = 0.75 + 0.5 * np.cos(np.arange(data.size) * 2.39996)  # in [0.25, 1.25]
    signs = np.where(np.arange(data.size) % 3 == 1, -1.0, 1.0)
    values = (pattern * signs).reshape(data.shape).astype(data.dtype)
    return Tensor._wrap(values).requires_grad_()


def derived(op: Any, args: tuple, params: dict, out: Any,
            tangents: list) -> list[Tensor | None]:
    """``J t`` by transposing the op's VJP (see the module's docstring)."""
    from .functional import grad  # noqa: PLC0415 - functional sits beside, imported late

    several = type(out) is tuple
    outs = out if several else (out,)
    seeds = [seed_like(o) if _float_tensor(o) else None for o in outs]
    g = tuple(seeds) if several else seeds[0]
    saved = tuple(o.detach() if isinstance(o, Tensor) else o for o in outs)
    inputs = [a.detach() if isinstance(a, Tensor) else a for a in args]
    needs = tuple(t is not None for t in tangents)
    rules = op.rules
    if rules is None:
        grads = op.rule(g, saved if several else saved[0], *inputs, needs=needs, **params)
    else:
        grads = [rules[i](g, saved if several else saved[0], *inputs, **params) if need else None
                 for i, need in enumerate(needs)]
    vs, ts = [], []
    for a, t, gi in zip(args, tangents, grads):
        if t is None or gi is None:
            continue
        v = _fit_gradient(gi, a.shape, a.dtype, op.name, True)
        if isinstance(v, Tensor) and v.requires_grad:
            vs.append(v)
            ts.append(t if t.dtype == v.dtype else t.to(v.dtype))
    live = [s for s in seeds if s is not None]
    if not vs:
        return [None if s is None else _zeros(s) for s in seeds]
    found = iter(grad(vs, live, grad_outputs=ts, allow_unused=True))
    results = []
    for s in seeds:
        if s is None:
            results.append(None)
            continue
        r = next(found)
        results.append(_zeros(s) if r is None else r)
    return results


__all__ = ["AFFINE", "EXPLICIT_UNARY", "LINEAR", "MULTILINEAR", "derived", "output_tangents",
           "rule_kind", "seed_like"]
