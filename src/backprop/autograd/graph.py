"""The backward engine: graph nodes, an iterative topological walk, and sum-to-shape.

A ``Node`` is recorded for every differentiable op applied to a tensor that requires grad. Its
``edges`` point at the nodes of its inputs (or at leaf tensors, whose gradient is accumulated into
``.grad``). ``backward`` counts, for every node reachable from the roots, how many consumers send it
a gradient, then processes nodes whose gradient is complete (Kahn's algorithm with an explicit
stack), so no recursion is involved however long the graph is.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from .. import backend, dtypes, thread_watch
from ..backend import as_array, is_writeable
from ..errors import GraphError, ShapeError, format_shape
from ..tensor import Tensor, VersionCounter
from ..capture.state import TRACING as _TRACING
from . import grad_mode, observers, saved_tensors

# PyTorch's torch.autograd.graph names, re-exported; saved_tensors holds their implementation
from .saved_tensors import (  # noqa: F401
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)

_F16 = np.dtype(np.float16)
_BF16: Any = np.dtype([("no bfloat16 yet", np.uint8)])  # bfloat16 once ml_dtypes is loaded


def _bfloat16_loaded(dtype: np.dtype) -> None:
    global _BF16
    _BF16 = dtype


dtypes.on_bfloat16(_bfloat16_loaded)


def _bfloat16_as_float32(value: Any) -> Any:
    return value.astype(_F32) if type(value) is np.ndarray and value.dtype is _BF16 else value
_F32 = np.dtype(np.float32)


_OBSERVED = observers.REGISTRY  # the engine's one test for observers


class _Dual:
    """Forward mode's hold on the engine (``autograd.forward_ad`` sets it): ``level`` is the open
    dual level (None: none), ``active`` whether its tangents are being propagated. While active,
    backward runs the rules on tensors (as ``create_graph`` does, recording only if that is
    set) so that tangents flow through a backward pass: forward-over-reverse."""

    __slots__ = ("level", "active")

    def __init__(self) -> None:
        self.level: Any = None
        self.active = False


DUAL = _Dual()


class Meta:
    """Shape and dtype of an input whose values the VJP does not need (the array is not kept)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class Node:
    """One recorded op: what its gradient rule needs and where its input gradients go.

    ``inputs`` holds, per positional argument, the saved tensor (when the rule needs its values),
    a ``Meta`` (when only shape and dtype are needed) or the constant itself. ``edges[i]`` is
    the node (or leaf tensor) that input ``i`` came from, and ``slots[i]`` which of that node's
    outputs it was (``slots`` is None when no input came from a node with several outputs, the
    usual case). ``out`` holds the outputs the rule reads: the array itself for a one-output op, a
    tuple with None for the unsaved ones when the op has several outputs.
    """

    __slots__ = ("op", "edges", "slots", "inputs", "arrays", "versions", "out", "out_version",
                 "params", "n_outputs", "hooks", "retained", "freed", "__weakref__")

    def __init__(self, op: Any, edges: tuple, inputs: tuple, versions: tuple | None,
                 out: Any, out_version: Any, params: dict, n_outputs: int = 1,
                 slots: tuple[int, ...] | None = None, arrays: tuple | None = None) -> None:
        self.op = op
        self.edges = edges
        self.slots = slots
        self.inputs = inputs
        # What a plain backward hands the rule: ``inputs`` with each saved tensor's array.
        self.arrays = inputs if arrays is None else arrays
        self.versions = versions
        self.out = out
        self.out_version = out_version
        self.params = params
        self.n_outputs = n_outputs
        self.hooks: list[tuple[int, Callable]] | None = None
        self.retained: list[tuple[int, weakref.ref]] | None = None
        # False; True once backward freed the saved values; a saved_tensors.Packed while
        # saved_tensors_hooks hold them
        self.freed: Any = False

    def name(self) -> str:
        return self.op.backward_name

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes this one sends gradients to, as PyTorch shows them: ``((node, 0), ...)``."""
        result = []
        for i, edge in enumerate(self.edges):
            if edge is None:
                result.append((None, 0))
            elif type(edge) is Node:
                result.append((edge, 0 if self.slots is None else self.slots[i]))
            else:
                result.append((AccumulateGrad(edge), 0))
        return tuple(result)

    def register_hook(self, hook: Callable, output: int = 0) -> tuple[int, Callable]:
        """Call ``hook(grad)`` on the gradient of output ``output`` before the rule runs;
        returns the entry ``remove_hook`` takes."""
        if self.hooks is None:
            self.hooks = []
        entry = (output, hook)
        self.hooks.append(entry)
        return entry

    def retain(self, tensor: Any, output: int = 0) -> None:
        """Keep the gradient reaching output ``output`` in ``tensor.grad`` (``retain_grad``)."""
        if self.retained is None:
            self.retained = []
        self.retained.append((output, weakref.ref(tensor)))

    def free(self) -> None:
        """Drop the arrays kept for backward; shapes stay for sum-to-shape."""
        if self.op.saves_values:
            self.inputs = self.arrays = tuple([a if type(a) is Meta else _metadata(a)
                                               for a in self.inputs])
            self.out = None
            self.freed = True

    def saved_outputs(self) -> Any:
        """The saved outputs as tensors on this node (for a rule building a graph)."""
        out = self.out
        if out is None:
            return None
        if self.n_outputs == 1:
            return Tensor._from_node(out, self)
        # Integer outputs (indices) are no function of the inputs: constants, off the graph.
        return tuple(None if o is None else Tensor._from_output(o, self, k)
                     if o.dtype.kind in "fcV" else Tensor._wrap(o) for k, o in enumerate(out))

    def apply(self, g: Any, create_graph: bool) -> list[Any]:
        """Run the op's gradient rule for every input that needs a gradient; returns one entry
        per edge, each of its input's shape and dtype. ``g`` is the output's gradient, or for
        an op with several outputs a tuple of them (None for an output that got none)."""
        op = self.op
        if self.freed:
            if self.freed is not True:  # saved tensors packed by saved_tensors_hooks
                return self.freed.apply(self, g, create_graph)
            raise GraphError(
                f"{self.name()}: trying to backward through the graph a second time; its saved "
                "values were freed after the first backward. Pass retain_graph=True to the first "
                "backward() or autograd.grad() call if you need to backward twice."
            )
        if self.versions is not None:
            self._check_versions()
        inputs = self.inputs
        if create_graph:
            args = inputs
            out = self.saved_outputs()
            if DUAL.active and out is not None:  # the saved outputs' tangents
                out = DUAL.level.saved_outputs(self.out, out)
        else:
            args = self.arrays
            out = self.out
            low = getattr(g, "dtype", None)
            if low is _F16:
                # A rule's operators on raw half arrays would compute in half (and turn a
                # Python number into half: g * 70000. overflows); PyTorch's kernels compute in
                # float32 and round to half, as _fit_gradient does here.
                g = g.astype(_F32)
            elif low is _BF16:  # likewise, and its saved arrays: NumPy kernels lack bfloat16
                g = g.astype(_F32)
                args = [_bfloat16_as_float32(a) for a in args]
                out = (tuple(_bfloat16_as_float32(o) for o in out) if type(out) is tuple
                       else _bfloat16_as_float32(out))
        params = self.params
        edges = self.edges
        rules = op.rules
        if rules is None:  # one rule for every input at once, told which ones are needed
            grads = op.rule(g, out, *args, needs=tuple([e is not None for e in edges]), **params)
        results: list[Any] = []
        for i, edge in enumerate(edges):
            if edge is None:
                results.append(None)
                continue
            gi = grads[i] if rules is None else rules[i](g, out, *args, **params)
            if gi is None:
                results.append(None)
                continue
            target = inputs[i]
            shape = target.shape
            dtype = target.dtype
            if not create_graph and type(gi) is np.ndarray and gi.shape == shape and gi.dtype == dtype:
                results.append(gi)  # the common case, already the input's shape and dtype
            else:
                results.append(_fit_gradient(gi, shape, dtype, op.name, create_graph))
        return results

    def _check_versions(self) -> None:
        # A version is recorded for each saved tensor, in the inputs' order, then one per
        # saved output (each output's counter starts at 0).
        for saved, version in zip(self.inputs, self.versions):
            if version is not None and saved._version.value != version:
                index = next(i for i, a in enumerate(self.inputs) if a is saved)
                self._raise_modified(f"input {index}", saved._version)
        counters = self.out_version
        if type(counters) is VersionCounter:
            if counters.value:
                self._raise_modified("output", counters)
        elif counters is not None:
            for k, counter in enumerate(counters):
                if counter is not None and counter.value:
                    self._raise_modified(f"output {k}", counter)

    def _raise_modified(self, what: str, counter: VersionCounter) -> None:
        raise GraphError(
            f"{self.name()}: a tensor saved for backward ({what} of {self.op.name}) was modified "
            f"in place by {counter.last_op} after it was saved, so its gradient would be wrong. "
            f"Use the out-of-place form of {counter.last_op.rstrip('_')} or .clone() the tensor first."
        )


saved_tensors._bind_engine(Node, Meta, Tensor)


class View:
    """How a view was made from its base, so that its history can follow the base's.

    ``steps`` are the view ops from the base to the view, ``(primitive, args, params)`` each,
    applied in order (``replay``). A write through any view of the base gives the base a new
    node (see ``ops.inplace``) and bumps the version counter every view shares with it;
    ``version`` is that counter's value when this view's history was last set. A view used
    after a write therefore finds itself stale and takes its ``grad_fn`` from the steps replayed
    on the base, as PyTorch regenerates a view's grad_fn from its base and its view function.

    A view made under no_grad (or an input a custom Function returned as it is) has no steps:
    it shares memory, not history. ``history`` is then its base's ``grad_fn`` when it was made;
    once a write with grad enabled has changed it, the view's values come from a history it is
    not part of, and using it is an error (PyTorch's).
    """

    __slots__ = ("base", "steps", "version", "history")

    def __init__(self, base: Tensor, steps: tuple | None, version: int) -> None:
        self.base = base
        self.steps = steps
        self.version = version
        self.history = None if steps is not None else base._grad_fn

    def refresh(self, view: Tensor) -> None:
        """Give ``view`` its base's current history (called when ``version`` is stale)."""
        base = self.base
        if self.steps is None:
            if base._grad_fn is not self.history:
                raise GraphError(
                    "a view made under no_grad (or returned as it is by a custom Function) is "
                    "used after its base or another view of it was modified in place with grad "
                    "enabled, so its values come from a history it is not part of; make the view "
                    "outside no_grad, or .clone() it")
            self.version = view._version.value
            return
        self.version = view._version.value
        if not base._requires_grad:
            return
        previous = grad_mode.state.enabled
        grad_mode.state.enabled = True  # the view's history, whatever the mode it is used in
        try:
            fresh = replay(base, self.steps)
        finally:
            grad_mode.state.enabled = previous
        view._grad_fn = fresh._grad_fn
        view._output_nr = 0
        view._requires_grad = True


def replay(x: Any, steps: tuple) -> Any:
    """A view's ``steps`` applied to ``x``: its base (a Tensor, so the ops are recorded) or an
    array of the base's shape (a gradient), giving the values the view selects."""
    for op, args, params in steps:
        x = op(x, *args, **params)
    return x


_PLAIN_CONSTANTS = (int, float, bool, str, tuple, type(None), np.dtype, Meta)


def _metadata(value: Any) -> Any:
    """What a freed node keeps of an input: a tensor or array as its ``Meta``, plain constants
    (numbers, shapes, dims) as they are, and nothing of other objects (holders of arrays such as
    a loss's softmax or a norm's moments)."""
    if isinstance(value, Tensor):
        value = value._data
    elif not isinstance(value, backend.ARRAY_TYPES):
        return value if isinstance(value, _PLAIN_CONSTANTS) else None
    return Meta(value.shape, value.dtype)


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf tensor: its gradient is accumulated in ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def summed_axes(source: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...] | None:
    """The axes of ``source`` to sum (keeping dims) so it becomes ``target``, the inverse of
    NumPy broadcasting; None when ``target`` does not broadcast to ``source``.

    >>> summed_axes((4, 2, 3), (1, 3))
    (0, 1)
    """
    lead = len(source) - len(target)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(target, source[lead:])):
        return None
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(target)
                                      if n == 1 and source[lead + i] != 1)


def _unsummable(op: str, source: tuple[int, ...], target: tuple[int, ...]) -> ShapeError:
    return ShapeError(f"{op}: the gradient of shape {format_shape(source)} cannot be summed to "
                      f"the input's shape {format_shape(target)}; this is a bug in the op's VJP")


def sum_to_array(g: Any, shape: tuple[int, ...], op: str = "backward") -> Any:
    """Sum a broadcast gradient down to ``shape``.

    >>> sum_to_array(np.ones((2, 3)), (1, 3))
    array([[2., 2., 2.]])
    """
    if g.shape == shape:
        return g
    axes = summed_axes(g.shape, shape)
    if axes is None:
        raise _unsummable(op, g.shape, shape)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def _fit_gradient(gi: Any, shape: tuple[int, ...], dtype: np.dtype, op: str,
                  create_graph: bool) -> Any:
    """Give an input's gradient the input's shape (summing broadcast axes) and dtype."""
    if gi is None:
        return None
    if create_graph:
        if not isinstance(gi, Tensor):
            gi = Tensor._wrap(as_array(gi))
        if gi.shape != shape:
            if summed_axes(gi.shape, shape) is None:
                raise _unsummable(op, gi.shape, shape)
            gi = gi.sum_to_size(shape)
        if gi.dtype != dtype:
            if gi.dtype.kind == "c" and dtype.kind != "c":
                gi = gi.real  # a real input's gradient: the real part (PyTorch's convention)
            gi = gi.to(dtype)
        return gi
    if not isinstance(gi, backend.ARRAY_TYPES):
        gi = as_array(gi)
    if gi.shape != shape:
        gi = sum_to_array(gi, shape, op)
    if gi.dtype != dtype:
        if gi.dtype.kind == "c" and dtype.kind != "c":
            gi = gi.real  # a real input's gradient: the real part (PyTorch's convention)
        gi = gi.astype(dtype)
    return gi


def _count_dependencies(roots: Sequence[Any]) -> dict[Any, int]:
    """How many gradient messages each node and leaf will receive, found without recursion."""
    deps: dict[Any, int] = {}
    # a root given twice (the same output in grad's outputs) is walked once
    stack = list(dict.fromkeys([r for r in roots if type(r) is Node]))
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if edge is None:
                continue
            deps[edge] = deps.get(edge, 0) + 1
            if type(edge) is Node and edge not in seen:
                seen.add(edge)
                stack.append(edge)
    return deps


def _add_into(grads: dict[Any, Any], edge: Any, output: int, g: Any) -> None:
    """Accumulate ``g``, the gradient of ``edge``'s output ``output``, into ``grads``."""
    if type(edge) is Node and edge.n_outputs != 1:
        bucket = grads.get(edge)
        if bucket is None:
            bucket = grads[edge] = [None] * edge.n_outputs
        bucket[output] = g if bucket[output] is None else _sum(bucket[output], g)
    elif edge in grads:
        grads[edge] = _sum(grads[edge], g)
    else:
        grads[edge] = g


def _sum(a: Any, b: Any) -> Any:
    total = a + b
    # 0-d arrays add up to a NumPy scalar, which has no in-place update
    return np.asarray(total) if isinstance(total, np.generic) else total


def run_backward(roots: Sequence[tuple[Any, int]], root_grads: Sequence[Any], *,
                 retain_graph: bool, create_graph: bool,
                 capture: dict[Any, int] | None = None) -> list[Any] | None:
    """Propagate ``root_grads`` from ``roots`` (``(node or leaf tensor, output)`` pairs) through
    the graph.

    Without ``capture`` gradients are accumulated into leaves' ``.grad`` (``Tensor.backward``).
    With ``capture`` (``(edge, output)`` -> slot) the gradients reaching those edges are
    returned instead and no ``.grad`` is touched (``autograd.grad``).
    """
    thread_watch.tick()  # once a training step: BLAS threads follow the machine's load
    if _OBSERVED.count:
        if _TRACING.tracer is not None:  # step capture: the tracer follows the gradients
            _TRACING.tracer.backward_begins(roots, root_grads, create_graph, capture)
        return observers.observe("backward", (), lambda: _propagate(
            roots, root_grads, retain_graph, create_graph, capture))
    return _propagate(roots, root_grads, retain_graph, create_graph, capture)


def _propagate(roots: Sequence[tuple[Any, int]], root_grads: Sequence[Any], retain_graph: bool,
               create_graph: bool, capture: dict[Any, int] | None) -> list[Any] | None:
    recording = create_graph
    if not create_graph and (DUAL.active or any(isinstance(g, Tensor) for g in root_grads)):
        # The rules run on tensors (recording nothing: grad mode follows ``recording``) under
        # forward mode, so that the saved tensors' tangents reach the gradients (forward over
        # reverse), and for seeds batched by vmap (only those are tensors here), so that the
        # rules' ops meet vmap's batching rules: one backward pass for the whole batch.
        create_graph = True
        root_grads = [g if isinstance(g, Tensor) else Tensor._wrap(as_array(g))
                      for g in root_grads]
    edges = [edge for edge, _ in roots]
    deps = _count_dependencies(edges)
    grads: dict[Any, Any] = {}
    for (root, output), g in zip(roots, root_grads):
        _add_into(grads, root, output, g)
    captured: list[Any] | None = None if capture is None else [None] * len(capture)
    ready = [r for r in dict.fromkeys(edges) if deps.get(r, 0) == 0]
    owned: set[int] = set()  # storage already handed to a .grad, so never alias two of them

    previous_mode = grad_mode.state.enabled
    grad_mode.state.enabled = recording
    try:
        while ready:
            edge = ready.pop()
            g = grads.pop(edge, None)
            if type(edge) is not Node:  # a leaf tensor
                if g is not None:
                    if edge._hooks:
                        g = _run_hooks(edge._hooks, g, create_graph)
                    if capture is not None:
                        if (edge, 0) in capture:
                            captured[capture[edge, 0]] = g
                    else:
                        _accumulate(edge, g, create_graph, owned)
                continue
            if type(g) is list:  # the outputs' gradients of a node with several
                g = None if all(o is None for o in g) else tuple(g)
            if g is not None:
                if edge.hooks is not None or edge.retained is not None or capture is not None:
                    g = _observe_output_grads(edge, g, create_graph, capture, captured, owned)
                if _OBSERVED.count:
                    input_grads = observers.observe("node", (edge, g, create_graph),
                                                    lambda: edge.apply(g, create_graph))
                else:
                    input_grads = edge.apply(g, create_graph)
            else:
                input_grads = [None] * len(edge.edges)
            if not retain_graph:
                edge.free()
            slots = edge.slots
            if slots is None:  # every input came from a leaf or a node with one output
                for child, gi in zip(edge.edges, input_grads):
                    if child is None:
                        continue
                    if gi is not None:
                        if child in grads:
                            grads[child] = _sum(grads[child], gi)
                        else:
                            grads[child] = gi
                    remaining = deps[child] - 1
                    deps[child] = remaining
                    if remaining == 0:
                        ready.append(child)
                continue
            for child, gi, output in zip(edge.edges, input_grads, slots):
                if child is None:
                    continue
                if gi is not None:
                    _add_into(grads, child, output, gi)
                remaining = deps[child] - 1
                deps[child] = remaining
                if remaining == 0:
                    ready.append(child)
    finally:
        grad_mode.state.enabled = previous_mode
    return captured


def _observe_output_grads(node: Node, g: Any, create_graph: bool, capture: dict | None,
                          captured: list | None, owned: set[int]) -> Any:
    """Run the hooks on a node's output gradients, fill retained ``.grad``s and captures."""
    several = node.n_outputs != 1
    grads = list(g) if several else [g]
    for k, gk in enumerate(grads):
        if gk is None:
            continue
        if node.hooks is not None:
            gk = grads[k] = _run_hooks([h for out, h in node.hooks if out == k], gk, create_graph)
        if node.retained is not None and capture is None:
            for out, ref in node.retained:
                tensor = ref() if out == k else None
                if tensor is not None:
                    _accumulate(tensor, gk, create_graph, owned)
        if capture is not None and (node, k) in capture:
            captured[capture[node, k]] = gk
    return tuple(grads) if several else grads[0]


def _run_hooks(hooks: list[Callable] | None, g: Any, create_graph: bool) -> Any:
    """Call tensor hooks with the gradient as a Tensor; a hook may return a replacement."""
    if not hooks:
        return g
    as_tensor = g if create_graph else Tensor._wrap(g)
    for hook in hooks:
        replaced = hook(as_tensor)
        if replaced is not None:
            as_tensor = replaced if isinstance(replaced, Tensor) else Tensor._wrap(as_array(replaced))
    if create_graph or as_tensor._data is g:
        return as_tensor if create_graph else g
    # A tensor the hook returned may still be the user's; .grad must not alias it.
    return as_tensor._data.copy()


def _root_storage(array: Any) -> int:
    while getattr(array, "base", None) is not None:
        array = array.base
    return id(array)


def _accumulate(tensor: Tensor, g: Any, create_graph: bool, owned: set[int]) -> None:
    """Add ``g`` into ``tensor.grad``, then call its post-accumulate hooks."""
    _add_into_grad(tensor, g, create_graph, owned)
    for hook in getattr(tensor, "_post_accumulate_hooks", None) or ():
        hook(tensor)


def _add_into_grad(tensor: Tensor, g: Any, create_graph: bool, owned: set[int]) -> None:
    """Add ``g`` into ``tensor.grad``, copying it first if its storage is shared or read-only."""
    if create_graph:
        # A copy: g may be shared with another leaf or be a read-only broadcast view.
        tensor.grad = g.clone() if tensor.grad is None else tensor.grad + g
        return
    if tensor.grad is None:
        # An array that owns its memory is one a rule just made (writeable); a view may be a
        # read-only broadcast, or share its storage with another leaf's gradient.
        if g.base is None:
            root, writeable = id(g), True
        else:
            root, writeable = _root_storage(g), is_writeable(g)
        dtype = tensor._data.dtype
        if root in owned or not writeable or (g.dtype is not dtype and g.dtype != dtype):
            g = g.astype(dtype, copy=True)
            root = id(g)
        owned.add(root)
        tensor.grad = Tensor._wrap(g)
    elif tensor.grad.requires_grad:
        tensor.grad = Tensor._wrap(tensor.grad._data + g)
    else:
        tensor.grad._data += g
