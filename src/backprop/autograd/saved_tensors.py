"""Hooks on the tensors the graph saves for backward (PyTorch's ``torch.autograd.graph``
``saved_tensors_hooks``, ``save_on_cpu`` and ``disable_saved_tensors_hooks``).

Inside ``saved_tensors_hooks(pack_hook, unpack_hook)`` every node recorded with saved values
hands each saved tensor (a saved input, a saved output, a custom Function's
``ctx.save_for_backward`` tensors) to ``pack_hook`` and keeps only what it returns; the backward
calls ``unpack_hook`` on that to get the tensor back. The hooks belong to the node: one recorded
inside the context unpacks with that context's ``unpack_hook`` after the context has exited.

How a node holds packed values: its saved tensors in ``inputs``/``arrays`` become their ``Meta``
(shape and dtype), its ``out`` None, and ``node.freed`` a ``Packed`` (truthy, so the engine's
one test of ``freed`` in ``Node.apply`` is where unpacking starts and an ordinary node pays
nothing). ``Packed.apply`` puts the unpacked values in place for the length of the rule's run.
As in PyTorch, in-place changes to a packed tensor are not detected (the hooks own the values).

This module imports neither the graph nor the Tensor (the graph re-exports it, and the
Tensor's module reaches the graph): the engine gives it its ``Node``, ``Meta`` and ``Tensor``
classes through ``_bind_engine``.

>>> import backprop as bp
>>> x = bp.tensor([1.0, 2.0], requires_grad=True)
>>> packed = []
>>> def pack(t):
...     packed.append(t.shape)
...     return t.detach().half()      # keep a float16 copy
>>> from backprop.autograd.graph import saved_tensors_hooks
>>> with saved_tensors_hooks(pack, lambda t: t.float()):
...     y = (x * x).sum()
>>> y.backward()
>>> x.grad.tolist(), len(packed)
([2.0, 4.0], 2)
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import GraphError, ShapeError, format_shape

__all__ = ["disable_saved_tensors_hooks", "save_on_cpu", "saved_tensors_hooks"]

_Node: Any = None  # the engine's classes (see _bind_engine)
_Meta: Any = None
_Tensor: Any = None


def _bind_engine(node_type: type, meta_type: type, tensor_type: type) -> None:
    """Called once by the graph module: the classes packing needs without importing them."""
    global _Node, _Meta, _Tensor
    _Node, _Meta, _Tensor = node_type, meta_type, tensor_type


class _HookState:
    """``top``: the innermost (pack, unpack) pair, or None (the engine's one test);
    ``stack``: the pairs of the enclosing contexts; ``disabled``: the error message of an
    active ``disable_saved_tensors_hooks``, or None."""

    __slots__ = ("top", "stack", "disabled")

    def __init__(self) -> None:
        self.top: tuple[Callable, Callable] | None = None
        self.stack: list[tuple[Callable, Callable] | None] = []
        self.disabled: str | None = None


STATE = _HookState()


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor)`` for every tensor saved for backward inside it,
    ``unpack_hook(packed)`` (returning a tensor of the saved tensor's shape) when backward
    needs it. Nested contexts: the innermost one's hooks are used.

    >>> import backprop as bp
    >>> calls = []
    >>> x = bp.ones(3, requires_grad=True)
    >>> from backprop.autograd.graph import saved_tensors_hooks
    >>> with saved_tensors_hooks(lambda t: calls.append("pack") or t,
    ...                          lambda t: calls.append("unpack") or t):
    ...     y = x.exp().sin().sum()
    >>> y.backward()
    >>> calls
    ['pack', 'pack', 'unpack', 'unpack']
    """

    def __init__(self, pack_hook: Callable[[Any], Any],
                 unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if STATE.disabled is not None:
            raise RuntimeError(STATE.disabled)
        STATE.stack.append(STATE.top)
        STATE.top = (self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc: object) -> None:
        STATE.top = STATE.stack.pop()


class save_on_cpu(saved_tensors_hooks):
    """Keep tensors saved for backward on the host and bring them back to their device when
    backward needs them (on the CPU, where backprop's arrays already are, nothing moves).
    ``pin_memory`` and ``device_type`` are accepted for PyTorch's signature.

    >>> import backprop as bp
    >>> x = bp.ones(2, requires_grad=True)
    >>> from backprop.autograd.graph import save_on_cpu
    >>> with save_on_cpu():
    ...     y = (x * x).sum()
    >>> y.backward()
    >>> x.grad.tolist()
    [2.0, 2.0]
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor: Any) -> tuple[Any, Any]:
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed: tuple[Any, Any]) -> Any:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Context manager inside which entering ``saved_tensors_hooks`` raises
    ``RuntimeError(error_message)``; entering it while hooks are active raises too.

    >>> from backprop.autograd import graph
    >>> with graph.disable_saved_tensors_hooks("no hooks in this library"):
    ...     try:
    ...         with graph.save_on_cpu():
    ...             pass
    ...     except RuntimeError as err:
    ...         print(err)
    no hooks in this library
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message
        self._previous: list[str | None] = []

    def __enter__(self) -> None:
        if STATE.top is not None:
            raise RuntimeError(self.error_message)
        self._previous.append(STATE.disabled)
        STATE.disabled = self.error_message

    def __exit__(self, *exc: object) -> None:
        STATE.disabled = self._previous.pop()


def pack(node: Any) -> None:
    """Pass ``node``'s saved tensors through the active pack hook (called when it is recorded
    inside ``saved_tensors_hooks``); the node keeps what the hook returns."""
    hooks = STATE.top
    pack_hook = hooks[0]
    shared = node.arrays is node.inputs  # a custom Function's node: its rule reads tensors
    inputs = list(node.inputs)
    arrays = inputs if shared else list(node.arrays)
    items: list[tuple[int, Any, Any, Any, int]] = []
    STATE.top = None  # what the pack hook itself computes saves no packed tensors
    try:
        for i, a in enumerate(inputs):
            if not isinstance(a, _Tensor):
                continue  # a Meta (values not needed) or a constant
            data = a._data
            meta = _Meta(data.shape, data.dtype)
            edge = a._grad_fn if a._grad_fn is not None else a if a._requires_grad else None
            items.append((i, pack_hook(a), meta, edge, a._output_nr))
            inputs[i] = meta
            if not shared:
                arrays[i] = meta
        out = node.out
        outputs: Any = None
        if out is not None and node.n_outputs == 1:
            outputs = ((pack_hook(_Tensor._from_node(out, node)), _Meta(out.shape, out.dtype)),)
        elif out is not None:
            outputs = tuple(None if o is None else
                            (pack_hook(_Tensor._from_output(o, node, k) if o.dtype.kind in "fc"
                                       else _Tensor._wrap(o)), _Meta(o.shape, o.dtype))
                            for k, o in enumerate(out))
    finally:
        STATE.top = hooks
    node.inputs = tuple(inputs)
    node.arrays = node.inputs if shared else tuple(arrays)
    node.out = None
    node.versions = None  # as PyTorch: a tensor the hooks own is not version-checked
    node.freed = Packed(hooks[1], items, outputs, shared)


class Packed:
    """What a node keeps of its saved tensors inside ``saved_tensors_hooks`` (in
    ``node.freed``): the packed values, with the unpack hook of the context they were made in."""

    __slots__ = ("unpack_hook", "items", "outputs", "shared")

    def __init__(self, unpack_hook: Callable, items: list, outputs: Any, shared: bool) -> None:
        self.unpack_hook = unpack_hook
        self.items = items  # (input index, packed, Meta, edge, output_nr) per saved input
        self.outputs = outputs  # (packed, Meta) per output (None where not saved), or None
        self.shared = shared

    def __bool__(self) -> bool:
        return True

    def apply(self, node: Any, g: Any, create_graph: bool) -> list[Any]:
        """Run ``node``'s rule with its saved tensors unpacked, then put the packed ones back."""
        placeholders = node.inputs, node.arrays
        inputs = list(node.inputs)
        arrays = inputs if self.shared else list(node.arrays)
        for i, packed, meta, edge, output_nr in self.items:
            t = self._unpack(node, packed, meta, f"input {i}")
            if create_graph or self.shared:
                inputs[i] = _reconnected(t, edge, output_nr, meta) if create_graph else \
                    _Tensor._wrap(t._data)
            if not self.shared:
                arrays[i] = t._data
        outputs = self.outputs
        if outputs is None:
            out = None
        elif node.n_outputs == 1:
            out = self._unpack(node, *outputs[0], "output")._data
        else:
            out = tuple(None if o is None else self._unpack(node, *o, f"output {k}")._data
                        for k, o in enumerate(outputs))
        node.inputs = tuple(inputs)
        node.arrays = node.inputs if self.shared else tuple(arrays)
        node.out = out
        node.freed = False
        try:
            return node.apply(g, create_graph)
        finally:
            if node.freed is False:  # not freed meanwhile: keep the packed values only
                node.inputs, node.arrays = placeholders
                node.out = None
                node.freed = self

    def _unpack(self, node: Any, packed: Any, meta: Any, what: str) -> Any:
        t = self.unpack_hook(packed)
        if not isinstance(t, _Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__} ({node.name()}, {what} of "
                            f"{node.op.name})")
        if tuple(t.shape) != tuple(meta.shape):
            raise ShapeError(
                f"{node.name()}: unpack_hook returned a tensor of shape {format_shape(t.shape)} "
                f"for the saved {what} of {node.op.name}, which has shape "
                f"{format_shape(meta.shape)}; unpack_hook must give back a tensor like the one "
                "pack_hook received")
        return t


class _UnpackedLeaf:
    """The op of the node joining an unpacked copy of a leaf to the leaf under create_graph
    (PyTorch gives the copy the leaf's gradient accumulator): the gradient passes unchanged."""

    name = "saved_tensor"
    backward_name = "UnpackedSavedTensorBackward"
    saves_values = False
    differentiable = True
    rules = (lambda g, out, x: g,)
    rule = None


def _reconnected(t: Any, edge: Any, output_nr: int, meta: Any) -> Any:
    """The unpacked tensor, for a rule building a graph, with the saved tensor's place in the
    graph (its ``grad_fn`` and output number, or its leaf)."""
    if edge is None:
        return _Tensor._wrap(t._data)
    if t is edge or (t._grad_fn is edge and t._output_nr == output_nr):
        return t  # the saved tensor itself came back
    if type(edge) is _Node:
        return _Tensor._from_output(t._data, edge, output_nr)
    if not isinstance(edge, _Tensor):
        raise GraphError(f"saved_tensors_hooks: cannot reconnect an unpacked tensor to {edge!r}")
    node = _Node(_UnpackedLeaf, (edge,), (meta,), None, None, None, {}, 1)
    return _Tensor._from_node(t._data, node)
