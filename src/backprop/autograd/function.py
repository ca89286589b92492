"""Custom differentiable functions: subclass ``Function`` with a ``forward`` and a ``backward``.

>>> import backprop as bp
>>> from backprop.autograd.function import Function
>>> class Cube(Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x * x * x
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3.0 * x * x
>>> x = bp.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad.tolist()
[3.0, 12.0]

How a call joins the graph. ``apply`` runs ``forward`` under ``no_grad`` and, when an input
requires grad, records one engine ``Node`` with an output per returned value, whose op is a
``_FunctionBackward``. Its rule runs the user's ``backward`` once with every output's gradient
(zeros, or ``None`` after ``ctx.set_materialize_grads(False)``, for outputs that got none) and
hands the engine one gradient per input. ``backward`` runs with grad enabled exactly when the
engine runs with ``create_graph=True``, so a ``backward`` written with backprop ops gives
gradients of gradients.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any, Callable

import numpy as np

from ..backend import as_array
from ..errors import GraphError, ShapeError, format_shape
from ..tensor import INFERENCE, Tensor
from . import grad_mode, observers, saved_tensors
from .graph import Meta, Node, VersionCounter, View

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_NOT_RECORDED = None  # ctx._node_ref before (or without) a recorded node


# Lists that ``apply`` appends its ctx to (forward mode's, while it applies a Function).
CTX_SINK: list[list] = []


class FunctionCtx:
    """The ``ctx`` given to ``forward`` and ``backward``.

    Save tensors with ``ctx.save_for_backward(*tensors)`` and read them back with
    ``ctx.saved_tensors``; anything else (ints, shapes, flags) can be stored as a plain attribute
    (``ctx.k = 3``). ``ctx.needs_input_grad[i]`` tells whether input ``i`` needs a gradient.
    """

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self._materialize_grads = True
        self._to_save: tuple = ()
        self._non_differentiable: tuple = ()
        self._function_name = "Function"
        self._node_ref: weakref.ref | None = _NOT_RECORDED
        self._n_args = 0
        self._saved_versions: tuple = ()
        self._saved_outputs: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"<FunctionCtx of {self._function_name}>"

    # Set by forward mode while ``jvp`` runs: what ``saved_tensors`` gives there.
    _in_jvp: tuple | None = None

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors (or ``None``) for ``jvp`` (forward mode), read there as
        ``ctx.saved_tensors``; call it from ``forward`` or ``setup_context``."""
        self._for_forward = tensors

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or ``None``) for ``backward``; call it at most once, from ``forward``.

        Saved tensors are checked for in-place changes when ``backward`` reads them.
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self._function_name}: save_for_backward takes tensors or None, "
                                f"but argument {i} is a {type(t).__name__}; store other values "
                                "as ctx attributes (ctx.name = value)")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, in the same order."""
        if self._in_jvp is not None:
            return self._in_jvp
        if self._node_ref is _NOT_RECORDED:
            return self._to_save
        node = self._node_ref()
        if node is None or node.freed:
            raise GraphError(
                f"{self._function_name}: ctx.saved_tensors was accessed after the graph was freed "
                "(backward already ran through it, or it was garbage collected). Pass "
                "retain_graph=True to the first backward() or autograd.grad() call if you need "
                "the saved tensors again."
            )
        saved = node.inputs[self._n_args:]
        for j, (t, version) in enumerate(zip(saved, self._saved_versions)):
            if version is not None and t._version.value != version:
                node._raise_modified(f"saved tensor {j}", t._version)
        if not self._saved_outputs or not grad_mode.state.enabled:
            return saved
        # Under create_graph a saved output is reconnected to this node's output, so gradients
        # of gradients flow through it.
        unpacked = list(saved)
        for j, k in self._saved_outputs.items():
            if k in node.op.differentiable:
                unpacked[j] = Tensor._from_output(saved[j]._data, node, k)
                unpacked[j]._version = saved[j]._version
        return tuple(unpacked)

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Declare outputs (such as indices) that get no gradient; they won't require grad."""
        self._non_differentiable = outputs

    def mark_dirty(self, *tensors: Any) -> None:
        """In-place custom Functions are not supported: return a new tensor from forward."""
        raise NotImplementedError(f"{self._function_name}: ctx.mark_dirty (a forward that "
                                  "modifies its inputs in place) is not supported; compute and "
                                  "return a new tensor instead")

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` gets ``None`` (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)


class Function:
    """Base class of custom differentiable functions (PyTorch's ``torch.autograd.Function``).

    Define ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grad_outputs)`` as static
    methods and call ``MyFunction.apply(*args)``. ``forward`` runs under ``no_grad`` and returns
    a tensor or a tuple of tensors (non-tensor items pass through untouched). ``backward``
    receives one gradient per output and returns one gradient per positional ``forward``
    argument (``None`` for non-tensor arguments or inputs that need none; extra trailing
    ``None``s are accepted). A gradient may have its input's shape or one that broadcasts to it
    (it is summed down). Keyword arguments are passed to ``forward`` as constants.

    PyTorch's newer style also works: a ``forward(*args)`` without ``ctx`` plus a
    ``setup_context(ctx, inputs, output)`` static method.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must define a static "
                                  "backward(ctx, *grad_outputs)")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward mode: the outputs' tangents from the inputs' (``grad_inputs``, one per
        ``forward`` argument, None for non-tensors); define it to use forward AD."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        raise NotImplementedError  # only used when a subclass defines it

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` on ``args`` and record the call for backward when an input needs it."""
        if observers.REGISTRY.count:
            observed = observers.observe_op(cls, args, kwargs, cls.apply)
            if observed is not observers.UNOBSERVED:
                return observed
        recording = grad_mode.state.enabled
        needs = tuple(recording and isinstance(a, Tensor) and a.requires_grad for a in args)
        if recording:
            for key, value in kwargs.items():
                if isinstance(value, Tensor) and value._requires_grad:
                    raise GraphError(f"{cls.__name__}.apply: keyword argument {key!r} requires "
                                     "grad, but keyword arguments are treated as constants; pass "
                                     "it positionally to get its gradient")
        ctx = FunctionCtx()
        ctx._function_name = cls.__name__
        ctx.needs_input_grad = needs
        grad_mode.state.enabled = False
        try:
            if _has_setup_context(cls):
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            grad_mode.state.enabled = recording
        if CTX_SINK:  # forward mode asks for the ctx, to call jvp with it
            CTX_SINK[-1].append(ctx)
        if not any(needs):
            return outputs
        return _record(cls, ctx, args, outputs, needs)


def _has_setup_context(cls: type) -> bool:
    return getattr(cls, "setup_context") is not Function.setup_context


def _record(cls: type, ctx: FunctionCtx, args: tuple, outputs: Any, needs: tuple) -> Any:
    """Attach the graph to ``forward``'s outputs: one node with an output per returned value."""
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    non_diff = {id(t) for t in ctx._non_differentiable}
    final = list(outs)
    mutable: set[int] = set()  # outputs made by forward itself: they become the graph's outputs
    differentiable: list[int] = []
    seen: set[int] = set()
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        if id(o) in input_ids or o._requires_grad or id(o) in seen:
            # An input (or some other tensor in a graph) returned as is: give it a fresh
            # tensor sharing its storage, so the original keeps its own place in the graph.
            final[k] = _alias(o)
        else:
            mutable.add(k)
        seen.add(id(o))
        if id(o) not in non_diff and o._data.dtype.kind in "fcV":
            differentiable.append(k)
    if not differentiable:
        return outputs if single else tuple(final)

    op = _FunctionBackward(cls, ctx, args, outs, differentiable)
    edges = tuple((a.grad_fn if a.grad_fn is not None else a) if need else None
                  for a, need in zip(args, needs))
    # Which output of its node each input is, when one came from a node with several outputs.
    several = any(need and a.grad_fn is not None and a.grad_fn.n_outputs != 1
                  for a, need in zip(args, needs))
    slots = tuple(a._output_nr if need else 0 for a, need in zip(args, needs)) if several else None
    metas = tuple(Meta(a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None
                  for a in args)

    out_index = {id(outs[k]): k for k in mutable}
    entries: list[Any] = []
    versions: list[int | None] = []
    for j, t in enumerate(ctx._to_save):
        if t is None:
            entries.append(None)
            versions.append(None)
            continue
        if t._version is None:
            t._version = VersionCounter()
        elif t._version is INFERENCE and id(t) not in out_index:
            raise RuntimeError(f"{cls.__name__}: Inference tensors cannot be saved for "
                               "backward. To work around you can make a clone to get a normal "
                               "tensor and use it in autograd.")
        versions.append(t._version.value)
        k = out_index.get(id(t))
        if k is None:
            entries.append(t)
        else:
            # Keep the output's values without its grad_fn (which would be a reference cycle
            # through this node); ctx.saved_tensors reconnects it when grad-of-grad needs it.
            stored = Tensor._wrap(t._data)
            stored._version = t._version
            entries.append(stored)
            ctx._saved_outputs[j] = k
    op.saves_values = any(e is not None for e in entries)
    node = Node(op, edges, metas + tuple(entries), None, None, None, {}, len(outs), slots)
    ctx._node_ref = weakref.ref(node)
    ctx._n_args = len(args)
    ctx._saved_versions = tuple(versions)
    ctx._to_save = ()  # the node holds them now, and frees them after backward
    ctx._non_differentiable = ()
    if saved_tensors.STATE.top is not None and op.saves_values:
        saved_tensors.pack(node)
        ctx._saved_versions = ()  # the hooks own the values: no version check (PyTorch's)

    for k in differentiable:
        o = final[k]
        o._grad_fn = node
        o._output_nr = k
        o._requires_grad = True
        if o._version is None:
            o._version = VersionCounter()
    return final[0] if single else tuple(final)


def _alias(t: Any) -> Any:
    """A new tensor on ``t``'s storage that is a view of it outside its history (PyTorch's
    rule: the custom backward would be lost), so writing through it with grad is refused."""
    alias = Tensor._wrap(t._data)
    if t._version is None:
        t._version = VersionCounter()
    alias._version = t._version
    alias._view = View(t if t._view is None else t._view.base, None, t._version.value)
    return alias


_PARAM_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _input_label(cls: type, i: int) -> str:
    """``input 1 ('weight')``: the position and, when known, the parameter name of forward."""
    if cls not in _PARAM_NAMES:
        try:
            params = list(inspect.signature(cls.forward).parameters.values())
        except (TypeError, ValueError):
            params = []
        if not _has_setup_context(cls):
            params = params[1:]
        names = []
        for p in params:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            names.append(p.name)
        _PARAM_NAMES[cls] = names
    names = _PARAM_NAMES[cls]
    return f"input {i} ({names[i]!r})" if names and i < len(names) else f"input {i}"


def _summable(source: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether a gradient of shape ``source`` can be summed down to ``target`` (broadcasting)."""
    lead = len(source) - len(target)
    return lead >= 0 and all(n == 1 or n == m for n, m in zip(target, source[lead:]))


class _FunctionBackward:
    """The engine-facing op of one ``Function.apply`` call (what ``Node.apply`` reads)."""

    rules = None

    def __init__(self, cls: type, ctx: FunctionCtx, args: tuple, outs: tuple,
                 differentiable: list[int]) -> None:
        self.name = cls.__name__
        self.backward_name = f"{cls.__name__}Backward"
        self.saves_values = False
        self.function = cls
        self.ctx = ctx
        self.arg_shapes = tuple(a._data.shape if isinstance(a, Tensor) else None for a in args)
        self.out_metas = tuple(Meta(o._data.shape, o._data.dtype) if isinstance(o, Tensor)
                               else None for o in outs)
        self.differentiable = tuple(differentiable)

    def __repr__(self) -> str:
        return f"<{self.backward_name}>"

    def rule(self, g: Any, out: Any, *args: Any, needs: tuple[bool, ...]) -> list[Any]:
        """Run the user's ``backward`` with one gradient per output; one gradient per input."""
        create_graph = grad_mode.state.enabled  # the engine enables it exactly then
        arrived = (g,) if len(self.out_metas) == 1 else g
        ctx = self.ctx
        grads: list[Any] = []
        for k, meta in enumerate(self.out_metas):
            gk = arrived[k] if k in self.differentiable else None
            if gk is None:
                if meta is not None and ctx._materialize_grads:
                    gk = Tensor._wrap(np.zeros(meta.shape, dtype=meta.dtype))
            elif not create_graph:
                gk = Tensor._wrap(gk)
            grads.append(gk)
        result = self.function.backward(ctx, *grads)
        return self._check_gradients(result, create_graph)

    def _check_gradients(self, result: Any, create_graph: bool) -> list[Any]:
        """One gradient per forward input, of a shape that sums to the input's, as arrays."""
        returned = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        n = len(self.arg_shapes)
        if len(returned) < n or any(r is not None for r in returned[n:]):
            raise GraphError(
                f"{self.name}.backward returned {len(returned)} gradient"
                f"{'' if len(returned) == 1 else 's'}, but {self.name}.forward received {n} "
                f"input{'' if n == 1 else 's'}; return exactly one gradient per forward input "
                "(None for non-tensor inputs and inputs that need no gradient)"
            )
        grads: list[Any] = []
        for i, (gi, shape) in enumerate(zip(returned, self.arg_shapes)):
            if gi is None:
                grads.append(None)
                continue
            if shape is None:
                raise GraphError(f"{self.name}.backward returned a gradient for "
                                 f"{_input_label(self.function, i)}, which is not a tensor; "
                                 "return None in that position")
            if isinstance(gi, Tensor):
                value = gi if create_graph else gi._data
            else:
                value = as_array(np.asarray(gi))
                if create_graph:
                    value = Tensor._wrap(value)
            gshape = tuple(value.shape)
            if gshape != shape and not _summable(gshape, shape):
                raise ShapeError(
                    f"{self.name}.backward returned a gradient of shape {format_shape(gshape)} for "
                    f"{_input_label(self.function, i)}, which has shape {format_shape(shape)}; "
                    "each gradient must have its input's shape (or one that broadcasts to it)"
                )
            grads.append(value)
        return grads


_TWICE = ("trying to differentiate twice a function that was marked with "
          "@once_differentiable")


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a custom Function's ``backward`` that is not itself differentiable: it runs
    with grad disabled, and under ``create_graph=True`` the gradients it returns carry a node
    that raises when a second backward reaches it (PyTorch's
    ``torch.autograd.function.once_differentiable``).

    >>> import backprop as bp
    >>> class Square(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @once_differentiable
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2.0 * x * g
    >>> x = bp.tensor([3.0], requires_grad=True)
    >>> (gx,) = bp.autograd.grad(Square.apply(x).exp().sum(), x, create_graph=True)
    >>> gx.requires_grad      # exp's gradient requires grad, so Square's is marked
    True
    >>> try:
    ...     gx.sum().backward()
    ... except RuntimeError as err:
    ...     print(err)
    trying to differentiate twice a function that was marked with @once_differentiable
    """
    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        previous = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            outputs = fn(ctx, *args, **kwargs)
        finally:
            grad_mode.state.enabled = previous
        if not previous:  # a plain backward: nothing will differentiate these gradients
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        several = isinstance(outputs, tuple)
        gradients = outputs if several else (outputs,)
        delayed = _DelayedError.apply(*[_requiring_grad(g) for g in gradients])
        return delayed if several or not isinstance(delayed, tuple) else delayed[0]

    return wrapper


def _requiring_grad(value: Any) -> Any:
    """A gradient as a leaf that requires grad, so ``_DelayedError`` records a node on it."""
    if not isinstance(value, Tensor):
        return value
    if value.dtype.kind not in "fc":
        return value
    leaf = value.detach()
    leaf.requires_grad = True
    return leaf


class _DelayedError(Function):
    """Passes gradients through unchanged; differentiating through it raises (the node
    ``once_differentiable`` puts on the gradients of a backward that has no backward)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *gradients: Any) -> Any:
        return gradients if len(gradients) != 1 else gradients[0]

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        raise RuntimeError(_TWICE)
