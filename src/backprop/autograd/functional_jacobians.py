"""Whole-function derivatives (PyTorch's ``torch.autograd.functional``): ``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``hvp`` and ``vhp``.

Each takes a function of tensors and the point (a tensor or a tuple of tensors) and returns
PyTorch's structures: a single tensor where the inputs (or outputs) were a single tensor, a tuple
where they were a tuple. ``strict=True`` refuses a result that does not depend on an input
instead of returning zeros. These names are served from ``backprop.autograd.functional``.

>>> import backprop as bp
>>> from backprop.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, bp.tensor([1.0, 3.0])).tolist()
[[2.0, 0.0], [0.0, 6.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import forward_ad as fwAD
from . import functional as _functional
from . import grad_mode
from .jvp_rules import seed_like


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """``(was it a tuple, the tensors as a tuple)``; anything but tensors is refused."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {what}"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the {where} has type {type(item)}.")
    return is_tuple, items


def _unpack(result: Any, flags: Any) -> Any:
    """Undo ``_as_tuple``: a single tensor where the user gave one (``flags``: one bool, or
    ``(outputs were a tuple, inputs were a tuple)`` for nested results)."""
    if isinstance(flags, tuple):
        outer, inner = flags
        if not inner:
            result = tuple(r[0] for r in result)
        return result if outer else result[0]
    return result if flags else result[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs to differentiate at: kept in their graph only when ``create_graph`` asks for it."""
    prepared = []
    for t in inputs:
        if create_graph and t.requires_grad:
            prepared.append(t.view_as(t))  # a new tensor, still in the user's graph
        else:
            prepared.append(t.detach().requires_grad_(need_graph))
    return tuple(prepared)


def _finish(values: Any, create_graph: bool) -> Any:
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return values if create_graph or values is None else values.detach()


def _check_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            entry = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{entry}v has invalid size: should be {tuple(b.shape)} but got "
                               f"{tuple(a.shape)}.")


_STRICT_MESSAGES = {
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should ensure "
               "that your function is thrice differentiable and that the hessian depends on the "
               "inputs.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when running "
               "in strict mode.",
}


def _check_requires_grad(values: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, value in enumerate(values):
        if value is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not value.requires_grad:
            raise RuntimeError(_STRICT_MESSAGES[kind].format(i=i))


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None,
          create_graph: bool = False, retain_graph: bool | None = None) -> tuple:
    """``autograd.grad`` over the outputs that require grad; None for unreached inputs."""
    given = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    pairs = [(o, g) for o, g in zip(outputs, given) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _functional.grad([o for o, _ in pairs], list(inputs),
                            grad_outputs=[g for _, g in pairs], create_graph=create_graph,
                            retain_graph=retain_graph, allow_unused=True)


_ZERO_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode.",
}
_ZERO_GRAPH_MESSAGES = {
    "back": "The jacobian of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode when create_graph=True.",
    "back_trick": "The jacobian of the user-provided function is independent of input {i}. "
                  "This is not allowed in strict mode when create_graph=True.",
    "double_back": "The hessian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode when create_graph=True.",
    "double_back_trick": "The hessian of the user-provided function is independent of input "
                         "{i}. This is not allowed in strict mode when create_graph=True.",
}


def _zeros_for_none(grads: tuple, like: tuple, strict: bool, create_graph: bool,
                    stage: str) -> tuple:
    """Zeros of each reference's shape where no gradient came (an error under ``strict``)."""
    result = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MESSAGES[stage].format(i=i))
            g = Tensor._wrap(np.zeros_like(ref._data))
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(_ZERO_GRAPH_MESSAGES[stage].format(i=i))
        result.append(g)
    return tuple(result)


def _v_none(fn: str, inputs: tuple, of: str) -> None:
    if len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if {of} is a single Tensor with a "
                           "single element.")


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    >>> import backprop as bp
    >>> out, g = vjp(lambda x: x.exp().sum(), bp.zeros(2))
    >>> g.tolist()
    [1.0, 1.0]
    """
    with grad_mode.enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare(xs, create_graph, True)
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function",
                                        "vjp")
        _check_requires_grad(outs, "outputs", strict)
        if v is not None:
            vs = _prepare(_as_tuple(v, "v", "vjp")[1], create_graph, False)
            _check_v(vs, outs, outputs_tuple)
        else:
            _v_none("vjp", outs, "the user-provided function returns a single Tensor with a "
                                 "single element, and here it")
            vs = None
    with grad_mode.set_grad_enabled(create_graph):
        grads = _zeros_for_none(_grad(outs, xs, vs, create_graph), xs, strict, create_graph,
                                "back")
    return (_unpack(_finish(outs, create_graph), outputs_tuple),
            _unpack(_finish(grads, create_graph), inputs_tuple))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``: the Jacobian-vector product at ``inputs``, by PyTorch's double
    backward (so ``create_graph=True`` gives a differentiable result).

    >>> import backprop as bp
    >>> out, t = jvp(lambda x: x * x, bp.tensor([1.0, 2.0]), bp.tensor([1.0, 1.0]))
    >>> t.tolist()
    [2.0, 4.0]
    """
    with grad_mode.enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare(xs, create_graph, True)
        if v is not None:
            vs = _prepare(_as_tuple(v, "v", "jvp")[1], create_graph, False)
            _check_v(vs, xs, inputs_tuple)
        else:
            _v_none("jvp", xs, "the input to the user-provided function")
            vs = None
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function",
                                        "jvp")
        _check_requires_grad(outs, "outputs", strict)
        # The VJP is linear in these seeds: their values never reach the result (nonzero: a
        # few rules split the cotangent by sign, with a kink at 0).
        seeds = tuple(seed_like(o) for o in outs)
        grad_inputs = _grad(outs, xs, seeds, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _grad(grad_inputs, seeds, vs, create_graph)
        tangents = _zeros_for_none(result, outs, strict, create_graph, "back_trick")
    return (_unpack(_finish(outs, create_graph), outputs_tuple),
            _unpack(_finish(tangents, create_graph), outputs_tuple))


def _basis_rows(n: int, dtype: Any) -> Tensor:
    return Tensor._wrap(np.eye(n, dtype=dtype))


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output ``i`` and input ``j`` a tensor of shape
    ``out_i.shape + in_j.shape`` (nested tuples as PyTorch's; forward mode nests lists, as
    PyTorch's does). ``strategy="forward-mode"``
    (with ``vectorize=True``) computes it a column at a time with forward AD; reverse mode a row
    at a time (``vectorize=True`` batches the rows through one ``autograd.grad`` call).

    >>> import backprop as bp
    >>> jacobian(lambda x: x.sum(), bp.ones(3), vectorize=True,
    ...          strategy="forward-mode").tolist()
    [1.0, 1.0, 1.0]
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, strict, vectorize)
    with grad_mode.enable_grad():
        inputs_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare(xs, create_graph, True)
        outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function",
                                        "jacobian")
        _check_requires_grad(outs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either set "
                               "`strict=False` or `vectorize=False`.")
        rows = []
        for i, out in enumerate(outs):
            if vectorize:
                per_input = _rows_batched(out, xs, create_graph)
            else:
                per_input = _rows_one_by_one(i, out, xs, create_graph, strict)
            rows.append(tuple(r.reshape(tuple(out.shape) + tuple(x.shape))
                              for r, x in zip(per_input, xs)))
        return _unpack(_finish(tuple(rows), create_graph), (outputs_tuple, inputs_tuple))


def _rows_batched(out: Tensor, xs: tuple, create_graph: bool) -> list[Tensor]:
    """Every row of ``out``'s Jacobian at once (``is_grads_batched``), zeros where unused."""
    n = out.numel()
    if n == 0 or not out.requires_grad:
        return [Tensor._wrap(np.zeros((n, *x.shape), dtype=x._data.dtype)) for x in xs]
    seeds = _basis_rows(n, out._data.dtype).reshape((n, *out.shape))
    found = _functional.grad([out], list(xs), grad_outputs=[seeds], retain_graph=True,
                             create_graph=create_graph, allow_unused=True,
                             is_grads_batched=True)
    return [Tensor._wrap(np.zeros((n, *x.shape), dtype=x._data.dtype)) if g is None else g
            for g, x in zip(found, xs)]


def _rows_one_by_one(i: int, out: Tensor, xs: tuple, create_graph: bool,
                     strict: bool) -> list[Tensor]:
    from ..ops.join import stack  # noqa: PLC0415 - the ops sit above the engine

    columns: list[list[Tensor]] = [[] for _ in xs]
    flat = out.reshape(-1)
    for k in range(out.numel()):
        row = _grad((flat[k],), xs, None, create_graph, retain_graph=True)
        for j, (g, x) in enumerate(zip(row, xs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {j}. This is not allowed in strict mode.")
                g = Tensor._wrap(np.zeros_like(x._data))
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            columns[j].append(g)
    return [stack(c) if c else Tensor._wrap(np.zeros((0, *x.shape), dtype=x._data.dtype))
            for c, x in zip(columns, xs)]


def _jacobian_forward(func: Callable[..., Any], inputs: Any, strict: bool,
                      vectorize: bool) -> Any:
    """The Jacobian a column at a time: one forward-AD pass per input element."""
    from ..ops.join import stack  # noqa: PLC0415 - the ops sit above the engine

    if strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           '`strategy="forward-mode"` are not supported together (yet). Please '
                           'either set `strict=False` or `strategy="reverse-mode"`.')
    inputs_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian isonly implemented for `vectorize=True`.")
    columns: list[list[Tensor]] | None = None
    outputs_tuple, primals = False, ()
    for j, x in enumerate(xs):
        for k in range(x.numel()):
            with fwAD.dual_level():
                duals = []
                for m, y in enumerate(xs):
                    tangent = np.zeros(y.shape, dtype=y._data.dtype)
                    if m == j:
                        tangent.reshape(-1)[k] = 1
                    duals.append(fwAD.make_dual(y, Tensor._wrap(tangent)))
                outputs_tuple, outs = _as_tuple(func(*duals), "outputs", "jacobian")
                unpacked = [fwAD.unpack_dual(o) for o in outs]
                primals = tuple(u.primal for u in unpacked)
                tangents = [Tensor._wrap(np.zeros_like(u.primal._data)) if u.tangent is None
                            else u.tangent for u in unpacked]
            if columns is None:
                columns = [[] for _ in outs]
            for c, t in zip(columns, tangents):
                c.append(t)
    if columns is None:  # every input has no elements: no column, only the outputs' shapes
        outputs_tuple, primals = _as_tuple(func(*xs), "outputs", "jacobian")
        columns = [[] for _ in primals]
    result = []
    for c, out in zip(columns, primals):
        full = (stack(c, dim=-1) if c
                else Tensor._wrap(np.zeros((*out.shape, 0), dtype=out._data.dtype)))
        per_input, start = [], 0
        for x in xs:
            n = x.numel()
            part = full[..., start:start + n]
            per_input.append(part.reshape(tuple(out.shape) + tuple(x.shape)).detach())
            start += n
        result.append(per_input)
    # Lists, not tuples, where both levels stay: PyTorch's forward-mode structure.
    return _unpack(result, (outputs_tuple, inputs_tuple))


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs`` (for tuple inputs a tuple of
    tuples, ``[i][j]`` of shape ``in_i.shape + in_j.shape``). ``outer_jacobian_strategy=
    "forward-mode"`` takes the Jacobian of the gradient by forward over reverse.

    >>> import backprop as bp
    >>> hessian(lambda x: (x ** 3).sum(), bp.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    inputs_tuple, xs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*args: Tensor) -> Tensor:
        out = func(*args)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def gradient(*args: Tensor) -> tuple:
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(a.requires_grad_(True) for a in args)
        jac = jacobian(single_output, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_tuple, inputs_tuple))


def _scalar_function_setup(fn: str, func: Callable[..., Any], inputs: Any, v: Any,
                           create_graph: bool, strict: bool) -> tuple:
    inputs_tuple, xs = _as_tuple(inputs, "inputs", fn)
    xs = _prepare(xs, create_graph, True)
    if v is not None:
        vs = _prepare(_as_tuple(v, "v", fn)[1], create_graph, False)
        _check_v(vs, xs, inputs_tuple)
    else:
        _v_none(fn, xs, "the input to the user-provided function")
        vs = None
    outputs_tuple, outs = _as_tuple(func(*xs), "outputs of the user-provided function", fn)
    _check_requires_grad(outs, "outputs", strict)
    if outputs_tuple or not isinstance(outs[0], Tensor):
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a "
                           "single element")
    jac = _grad(outs, xs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return inputs_tuple, outputs_tuple, xs, vs, outs, jac


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T H)`` for a scalar function: the vector-Hessian product.

    >>> import backprop as bp
    >>> vhp(lambda x: (x ** 3).sum(), bp.tensor([1.0, 2.0]), bp.tensor([1.0, 1.0]))[1].tolist()
    [6.0, 12.0]
    """
    with grad_mode.enable_grad():
        inputs_tuple, outputs_tuple, xs, vs, outs, jac = _scalar_function_setup(
            "vhp", func, inputs, v, create_graph, strict)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _zeros_for_none(_grad(jac, xs, vs, create_graph), xs, strict, create_graph,
                                 "double_back")
    return (_unpack(_finish(outs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a scalar function: the Hessian-vector product (by PyTorch's
    double backward trick, so ``create_graph=True`` gives a differentiable result).

    >>> import backprop as bp
    >>> hvp(lambda x: (x ** 3).sum(), bp.tensor([1.0, 2.0]), bp.tensor([1.0, 0.0]))[1].tolist()
    [6.0, 0.0]
    """
    with grad_mode.enable_grad():
        inputs_tuple, outputs_tuple, xs, vs, outs, jac = _scalar_function_setup(
            "hvp", func, inputs, v, create_graph, strict)
        seeds = tuple(seed_like(x) for x in xs)
        double_back = _grad(jac, xs, seeds, create_graph=True)
    with grad_mode.set_grad_enabled(create_graph or grad_mode.is_grad_enabled()):
        result = _zeros_for_none(_grad(double_back, seeds, vs, create_graph), xs, strict,
                                 create_graph, "double_back_trick")
    return (_unpack(_finish(outs, create_graph), outputs_tuple),
            _unpack(_finish(result, create_graph), inputs_tuple))


# ``torch.autograd.functional`` is ``backprop.autograd.functional``: these names are served
# from there (set here, so that the engine's functional.py does not import this module).
for _name in ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"):
    setattr(_functional, _name, globals()[_name])

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
