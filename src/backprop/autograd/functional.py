"""``backward`` and ``grad``: the two ways into the engine, with PyTorch's signatures."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import as_array
from ..capture.state import replayable
from ..errors import GraphError, ShapeError, format_shape
from ..tensor import Tensor
from .graph import run_backward


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def _root_gradients(op: str, outputs: list, grad_outputs: list | None,
                    create_graph: bool) -> list:
    """The seed gradient of each output: ones for a scalar, else the given ``gradient``."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} gradients")
    seeds = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: outputs must be tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise GraphError(f"{op}: output {i} does not require grad and has no grad_fn; "
                             "did you compute it under no_grad() or from tensors without "
                             "requires_grad=True?")
        given = grad_outputs[i] if grad_outputs else None
        if given is None:
            if out._data.size != 1:
                raise GraphError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but output {i} "
                    f"has shape {format_shape(out.shape)}; pass gradient= with that shape "
                    "(or reduce the output, e.g. .sum())"
                )
            if out._data.dtype.kind == "c":  # a complex loss has no gradient of its own
                raise GraphError(
                    f"{op}: grad can be implicitly created only for real scalar outputs, but "
                    f"output {i} is {out.dtype}; differentiate a real loss (.abs(), .real) or "
                    "pass gradient="
                )
            seed = _ones_seed(out)
        elif getattr(given, "_batched_by_vmap", False):  # a batch of seeds: vmap's tensor
            if tuple(given.shape) != tuple(out.shape):
                raise ShapeError(f"{op}: gradient has shape {format_shape(given.shape)} but "
                                 f"output {i} has shape {format_shape(out.shape)}")
            seeds.append(given if given.dtype == out.dtype else given.to(out.dtype))
            continue
        else:
            seed = _given_seed(op, i, given, out)
            if create_graph and isinstance(given, Tensor):
                seeds.append(given if given.dtype == out.dtype else given.to(out.dtype))
                continue
        seeds.append(Tensor._wrap(seed) if create_graph else seed)
    return seeds


@replayable  # a captured step makes each replay's seed too (the engine may keep it as a .grad)
def _ones_seed(out: Tensor) -> Any:
    data = out._data
    if type(data) is np.ndarray and not data.shape:  # a loss: 0.2 us, against ones_like's 0.9
        return np.array(1, data.dtype)
    return np.ones_like(data)


@replayable  # a gradient given to backward is read each step: a captured step reads it again
def _given_seed(op: str, i: int, given: Any, out: Tensor) -> Any:
    seed = given._data if isinstance(given, Tensor) else as_array(np.asarray(given))
    if seed.shape != out.shape:
        raise ShapeError(f"{op}: gradient has shape {format_shape(seed.shape)} but output "
                         f"{i} has shape {format_shape(out.shape)}")
    # The seed may flow unchanged into a leaf's .grad, which later updates in place.
    return seed.astype(out._data.dtype, copy=True)


def _edge_of(t: Any) -> tuple[Any, int]:
    """Where ``t``'s gradient enters the graph: its node and which output, or itself (a leaf)."""
    return (t, 0) if t.grad_fn is None else (t.grad_fn, t._output_nr)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves of their graph.

    >>> import backprop as bp
    >>> x = bp.tensor(3.0, requires_grad=True)
    >>> bp.autograd.backward(x * x)
    >>> x.grad.item()
    6.0
    """
    outputs = _as_list(tensors)
    seeds = _root_gradients("backward", outputs, _as_list(grad_tensors) or None, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_edge_of(t) for t in outputs]
    if inputs is not None:
        chosen = _as_list(inputs)
        captured = run_backward(roots, seeds, retain_graph=retain_graph,
                                create_graph=create_graph,
                                capture={_edge_of(t): i for i, t in enumerate(chosen)})
        for t, g in zip(chosen, captured):
            if g is not None:
                _store_grad(t, g, create_graph)
        return
    run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph)


def _store_grad(t: Any, g: Any, create_graph: bool) -> None:
    # a tensor without create_graph: a backward inside a forward-AD level (forward over reverse)
    g = g.clone() if create_graph or isinstance(g, Tensor) else Tensor._wrap(g.copy())
    t.grad = g if t.grad is None else t.grad + g


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    With ``create_graph=True`` the result is itself differentiable (Hessian-vector products).
    An input the outputs do not depend on is an error, unless ``allow_unused=True`` (its
    gradient is None) or ``materialize_grads=True`` (zeros). ``is_grads_batched=True`` reads
    the first dimension of every ``grad_outputs`` as a batch and returns one gradient per row,
    stacked; it runs one backward pass per row (a loop, not a vectorized map).
    ``only_inputs`` is accepted and ignored, as in PyTorch.

    >>> import backprop as bp
    >>> x = bp.tensor(2.0, requires_grad=True)
    >>> (g,) = bp.autograd.grad(x ** 3, x, create_graph=True)
    >>> g.item(), bp.autograd.grad(g, x)[0].item()
    (12.0, 12.0)
    >>> w = bp.tensor([1.0, 2.0], requires_grad=True)
    >>> bp.autograd.grad(w * w, w, grad_outputs=bp.eye(2), is_grads_batched=True)[0].tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GraphError(f"grad: input {i} does not require grad; only tensors with "
                             "requires_grad=True can be differentiated with respect to")
    if retain_graph is None:
        retain_graph = create_graph
    given = _as_list(grad_outputs) or None
    if is_grads_batched:
        return _batched_grad(outs, ins, given, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    seeds = _root_gradients("grad", outs, given, create_graph)
    return tuple(_grad_once(outs, ins, seeds, retain_graph, create_graph, allow_unused,
                            materialize_grads))


def _grad_once(outs: list, ins: list, seeds: list, retain_graph: bool, create_graph: bool,
               allow_unused: bool, materialize_grads: bool) -> list:
    capture: dict[Any, int] = {}
    for i, t in enumerate(ins):
        capture.setdefault(_edge_of(t), i)
    captured = run_backward([_edge_of(t) for t in outs], seeds, retain_graph=retain_graph,
                            create_graph=create_graph, capture=capture)
    results: list = []
    for i, t in enumerate(ins):
        g = captured[capture[_edge_of(t)]]
        if g is None:
            if materialize_grads:
                g = np.zeros_like(t._data)
            elif not allow_unused:
                raise GraphError(
                    f"grad: input {i} (shape {format_shape(t.shape)}) was not used to compute "
                    f"the outputs: the differentiated Tensor at index {i} appears to not have "
                    "been used in the graph. Set allow_unused=True if this is the desired "
                    "behavior (its gradient is then None; materialize_grads=True gives zeros)")
            else:
                results.append(None)
                continue
        results.append(g if isinstance(g, Tensor) else Tensor._wrap(g))
    return results


def _batched_grad(outs: list, ins: list, given: list | None, retain_graph: bool,
                  create_graph: bool, allow_unused: bool,
                  materialize_grads: bool) -> tuple:
    """``is_grads_batched=True``: one backward pass per row of the batched ``grad_outputs``."""
    if given is None or len(given) != len(outs):
        raise ValueError("grad: is_grads_batched=True needs one batched tensor in grad_outputs "
                         f"per output ({len(outs)} outputs, "
                         f"{0 if given is None else len(given)} grad_outputs)")
    batched = [g if isinstance(g, Tensor) else Tensor._wrap(as_array(np.asarray(g)))
               for g in given]
    sizes = []
    for i, (g, out) in enumerate(zip(batched, outs)):
        if g.ndim == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            inner = format_shape(tuple(g.shape[1:]) if g.ndim else ())
            raise ShapeError(
                f"grad: with is_grads_batched=True the first dimension of each grad_output is "
                f"the batch and the rest must match its output, but grad_outputs[{i}] has shape "
                f"{format_shape(tuple(g.shape))} (rows of shape {inner}) and output {i} has "
                f"shape {format_shape(tuple(out.shape))}")
        sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(f"grad: with is_grads_batched=True every grad_output needs the same "
                         f"batch size, got sizes {sizes}")
    rows = []
    for b in range(sizes[0]):
        seeds = _root_gradients("grad", outs, [g[b] for g in batched], create_graph)
        # Every row but the last needs the graph again.
        keep = retain_graph or b < sizes[0] - 1
        # Unused inputs come back as None here; materialized below, once, as PyTorch does.
        rows.append(_grad_once(outs, ins, seeds, keep, create_graph, allow_unused, False))
    results: list = []
    for i, t in enumerate(ins):
        column = [row[i] for row in rows]
        if not column:
            results.append(Tensor._wrap(np.zeros((0, *t.shape), dtype=t._data.dtype)))
        elif column[0] is None:
            # PyTorch materializes an unused input's gradient unbatched: zeros of its own shape.
            results.append(Tensor._wrap(np.zeros_like(t._data)) if materialize_grads else None)
        elif create_graph:
            results.append(_stack_rows(column))
        else:
            results.append(Tensor._wrap(np.stack([g._data for g in column])))
    return tuple(results)


def _stack_rows(rows: list) -> Tensor:
    """Differentiable stack of equal-shaped gradients, by row assignment into a fresh tensor
    (the engine does not import the ops package, which sits above it)."""
    out = Tensor._wrap(np.zeros((len(rows), *rows[0].shape), dtype=rows[0]._data.dtype))
    for b, row in enumerate(rows):
        out[b] = row
    return out
