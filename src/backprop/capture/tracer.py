"""The tracer: an engine observer that runs a step eagerly once and writes down its tape.

Every array the step makes gets a slot, found by the array's identity (the tracer keeps each
array it has seen alive, so no identity is reused while it records). What the step reads from
outside (parameters, buffers, optimizer state) is a constant, read through the tensor that held
it; its arguments' arrays are the tape's inputs. The entries, in the order the step ran them:

- a primitive called on tensors: its ``array_function`` on the slots (a composite that recorded
  its parts is written down as its parts, the ops its gradient comes from);
- a gradient rule run by backward: the node itself, run again on the arrays its forward entry
  gives it, and the engine's sums of the gradients reaching an output, in the engine's order;
- a leaf's gradient accumulated into ``.grad``;
- an optimizer's ``step`` or ``zero_grad``: called again, as it is (its scalars, such as Adam's
  bias corrections and a scheduler's learning rate, change from step to step).

- a ``replayable`` Python helper (a loss's plan of its targets, a dropout mask, BatchNorm's
  running statistics, gradient clipping, a scheduler's step): called again on the step's
  tensors.

What the tape cannot replay, the tracer refuses with a reason (see ``refuse``): reading a
tensor's value in Python, random draws outside the helpers (``bp.rand`` in the step),
in-place writes, custom Functions, gradient hooks, double backward, arrays made in Python and
given to an op.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..autograd.graph import Node, _sum
from ..autograd.observers import Observer
from ..ops.primitive import Primitive
from ..tensor import Tensor
from . import tape as _tape


class Tracer(Observer):
    """Records one run of a step into a ``Tape`` (``finish``), or a reason it cannot."""

    def __init__(self, inputs: list[Tensor]) -> None:
        self.reason: str | None = None
        self.slot_of: dict[int, int] = {}  # id(array) -> slot
        self.seen: list[Any] = []  # every array with a slot, alive while tracing
        self.entries: list[Any] = []
        self.constants: dict[int, tuple[Tensor, Any, bool]] = {}
        self.modules: dict[int, tuple[Any, bool]] = {}
        self.nodes: dict[int, _tape.OpEntry] = {}  # id(node) -> the entry that recorded it
        self.pending: dict[tuple[Any, int], list[int]] = {}  # gradients reaching (edge, output)
        self.hosting = 0  # inside an optimizer's step or a replayable call: its ops are its own
        self.backward_ran = False
        self.inputs = [self._new_slot(t._data) for t in inputs]

    # -- slots ------------------------------------------------------------------------------------

    def _new_slot(self, array: Any) -> int:
        slot = len(self.seen)
        self.seen.append(array)
        self.slot_of[id(array)] = slot
        return slot

    def _tensor_ref(self, t: Tensor) -> tuple[bool, Any]:
        """(True, slot) for an array the step made or was given, else (False, the array): a
        constant, whose tensor must still hold it when the tape is replayed."""
        data = t._data
        slot = self.slot_of.get(id(data))
        if slot is not None:
            return True, slot
        self.constants.setdefault(id(t), (t, data, t._requires_grad))
        return False, data

    def _operand_ref(self, op: Primitive, a: Any) -> tuple[bool, Any]:
        """An op's positional argument: a tensor's array, an object a ``replayable`` function
        made (by its slot), or a constant."""
        if isinstance(a, Tensor):
            return self._tensor_ref(a)
        if isinstance(a, np.generic):
            return False, a.item()
        slot = self.slot_of.get(id(a))
        if slot is not None:
            return True, slot
        if not _is_constant(a):
            self.refuse(f"gives {op.name} a {type(a).__name__} made outside the ops (its "
                        "values could change from step to step)")
        return False, a

    def call(self, fn: Any, args: tuple, kwargs: dict) -> Any:
        """A ``replayable`` function called while tracing: run it, and write it down (the ops
        it calls are its own: the replay calls it again)."""
        # An iterator (model.parameters()) would be spent by the trace: the replay gets a list
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        outer = self.hosting
        self.hosting += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.hosting -= 1
        if outer or self.reason is not None:
            return result

        def ref(a: Any) -> tuple[str, Any]:
            if isinstance(a, Tensor):
                slot = self.slot_of.get(id(a._data))
                return ("slot", slot) if slot is not None else ("as is", a)
            if type(a) in (list, tuple) and any(isinstance(v, Tensor) for v in a):
                return type(a).__name__, [ref(v) for v in a]
            return "as is", a

        parts = ([None if _is_constant(r) else self._new_slot(r) for r in result]
                 if type(result) in (tuple, list) else None)  # each array an op may be given
        tensor = isinstance(result, Tensor)  # (a tensor's array is its slot)
        out = (None if _is_constant(result) else
               self._new_slot(result._data if tensor else result))
        entry = _tape.CallEntry(fn, [ref(a) for a in args],
                                {k: ref(v) for k, v in kwargs.items()}, out, parts, tensor)
        self.entries.append(entry)
        return result

    def refuse(self, reason: str) -> None:
        if self.reason is None and not self.hosting:
            self.reason = reason

    # -- events -----------------------------------------------------------------------------------

    def op(self, op: Any, args: tuple, params: dict, proceed: Any) -> Any:
        if self.hosting or self.reason is not None:
            return proceed()
        if not isinstance(op, Primitive):
            self.refuse(f"calls the custom autograd.Function {getattr(op, '__name__', op)}")
            return proceed()
        mark = len(self.entries)
        out = proceed()
        if len(self.entries) != mark or self.reason is not None:
            return out  # a composite, written down as the ops it recorded
        if _holds_tensor(args, nested=True) or _holds_tensor(tuple(params.values())):
            self.refuse(f"passes tensors to {op.name} inside a list or as a keyword")
            return out
        refs = [self._operand_ref(op, a) for a in args]
        if self.reason is not None:
            return out
        outs = out if type(out) is tuple else (out,)
        out_slots = [None if o is None else self._new_slot(o._data) for o in outs]
        patch = self._node_patch(op, args, outs)
        if patch is False:
            return out
        compute = op.array_function(args, params)
        entry = _tape.OpEntry(compute, refs, out_slots, type(out) is tuple, patch)
        self.entries.append(entry)
        if entry.node is not None:
            self.nodes[id(entry.node)] = entry
        return out

    def _node_patch(self, op: Primitive, args: tuple, outs: tuple) -> Any:
        """How the replay gives the node this call recorded its saved arrays: (node, the
        positions of saved arguments, the saved outputs' positions); None when no node was
        recorded; False (refused) when the node saved arrays the call was not given."""
        node = next((o._grad_fn for o in outs if o is not None and o._grad_fn is not None), None)
        if node is None or node.op is not op or id(node) in self.nodes:
            return None
        saved_args = []
        if node.arrays is not node.inputs:
            for i, kept in enumerate(node.arrays):
                if isinstance(args[i], Tensor) and kept is args[i]._data:
                    saved_args.append(i)
                elif isinstance(kept, np.ndarray) and not (
                        type(args[i]) is np.ndarray and kept is args[i]):
                    self.refuse(f"{op.name} saved an array for backward that is not one of its "
                                "arguments")
                    return False
        saved_outs: list[int] = []
        if node.out is not None:
            kept_outs = node.out if type(node.out) is tuple else (node.out,)
            for k, kept in enumerate(kept_outs):
                if kept is None:
                    continue
                if outs[k] is None or kept is not outs[k]._data:
                    self.refuse(f"{op.name} saved an output for backward that it did not return")
                    return False
                saved_outs.append(k)
        return (node, tuple(saved_args), tuple(saved_outs), type(node.out) is tuple)

    def backward_begins(self, roots: Any, root_grads: Any, create_graph: bool,
                        capture: Any) -> None:
        """Told by the engine before a backward pass, with its roots and their gradients."""
        if self.hosting:
            return
        if create_graph:
            self.refuse("differentiates a gradient (create_graph=True)")
        elif capture is not None:
            self.refuse("calls autograd.grad (or backward(inputs=...))")
        if self.reason is not None:
            return
        self.backward_ran = True
        self.entries.append(_tape.BackwardBegins())
        for (root, output), g in zip(roots, root_grads):
            if isinstance(g, Tensor):
                self.refuse("seeds backward with a batched gradient")
                return
            slot = self.slot_of.get(id(g))  # a seed backward's replayable helper made
            if slot is None:
                self.refuse("seeds backward with a gradient the tracer did not see made")
                return
            self.pending.setdefault((root, output), []).append(slot)

    def backward(self, proceed: Any) -> Any:
        result = proceed()
        if not self.hosting and self.reason is None:
            self._accumulate_leaves()
        return result

    def node(self, node: Node, grad: Any, create_graph: bool, proceed: Any) -> Any:
        if self.hosting or self.reason is not None:
            return proceed()
        if node.freed is not False:
            self.refuse("packs saved tensors with saved_tensors_hooks")
            return proceed()
        if node.hooks is not None or node.retained is not None:
            self.refuse(f"has a hook (or retain_grad) on a gradient of {node.name()}")
            return proceed()
        if id(node) not in self.nodes:
            self.refuse(f"backward reaches {node.name()}, a node made before the step")
            return proceed()
        several = node.n_outputs != 1
        grads = grad if several else (grad,)
        refs = []
        for k, gk in enumerate(grads):
            contributions = self.pending.pop((node, k), None)
            refs.append(None if gk is None else self._gradient_ref(contributions, gk))
        if self.reason is not None:
            return proceed()
        results = proceed()
        out_slots = [None if r is None else self._new_slot(r) for r in results]
        wide = all(getattr(gk, "dtype", _tape.F32) in _tape.WIDE for gk in grads)
        self.entries.append(_tape.NodeEntry(node, tuple(refs) if several else refs[0],
                                            out_slots, self.nodes[id(node)], wide))
        for i, (child, slot) in enumerate(zip(node.edges, out_slots)):
            if child is not None and slot is not None:
                output = 0 if node.slots is None else node.slots[i]
                self.pending.setdefault((child, output), []).append(slot)
        return results

    def _gradient_ref(self, contributions: list[int] | None, g: Any) -> int | None:
        """The slot holding ``g``, the engine's sum of ``contributions`` (their slots, in the
        order the engine added them)."""
        if not contributions:
            self.refuse("gets a gradient the tracer did not see made")
            return None
        if len(contributions) == 1:
            if self.seen[contributions[0]] is not g:
                self.refuse("changes a gradient during backward (a hook?)")
                return None
            return contributions[0]
        slot = self._new_slot(g)
        self.entries.append(_tape.SumEntry(tuple(contributions), slot))
        total = self.seen[contributions[0]]
        for c in contributions[1:]:
            total = _sum(total, self.seen[c])
        if total.shape != g.shape or total.dtype != g.dtype:
            self.refuse("sums gradients in an order the tracer did not follow")
        return slot

    def _accumulate_leaves(self) -> None:
        for (edge, output), contributions in list(self.pending.items()):
            if type(edge) is Node:
                self.refuse(f"leaves a gradient of {edge.name()} unused (the tracer lost track)")
                return
            leaf: Tensor = edge
            del self.pending[edge, output]
            if leaf._hooks or getattr(leaf, "_post_accumulate_hooks", None):
                self.refuse("has a hook on a parameter's gradient")
                return
            slot = contributions[0]
            if len(contributions) > 1:
                total = self.seen[slot]
                for c in contributions[1:]:
                    total = _sum(total, self.seen[c])
                slot = self._new_slot(total)
                self.entries.append(_tape.SumEntry(tuple(contributions), slot))
            grad_slot = self._new_slot(leaf.grad._data)
            self.entries.append(_tape.LeafEntry(leaf, slot, grad_slot))

    def optimizer(self, optimizer: Any, method: str, proceed: Any) -> Any:
        self.hosting += 1
        try:
            result = proceed()
        finally:
            self.hosting -= 1
        if not self.hosting and self.reason is None:
            self.entries.append(_tape.HostEntry(getattr(optimizer, method)))
        return result

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Any) -> Any:
        self.modules.setdefault(id(module), (module, module.training))
        return proceed()

    # -- the tape ---------------------------------------------------------------------------------

    def finish(self, result: Any, name: str) -> _tape.Tape | str:
        """The tape of the step that returned ``result``, or the reason it cannot be replayed."""
        if self.reason is None and self.pending:
            self.reason = "leaves gradients undelivered (the tracer lost track)"
        output = None
        if self.reason is None:
            output = _tape.output_spec(result, self.slot_of, self.backward_ran)
            if isinstance(output, str):
                self.reason = output
        if self.reason is not None:
            return self.reason
        for entry in self.nodes.values():
            entry.node.versions = None  # the replay runs the forward afresh before backward
            entry.node.freed = False
        return _tape.Tape(self.inputs, self.entries, list(self.constants.values()),
                          list(self.modules.values()), output, name)


_CONSTANT_TYPES = (int, float, bool, str, complex, type(None), np.dtype, slice, type(Ellipsis),
                   type)


def _is_constant(value: Any) -> bool:
    """Whether an op argument is a constant of the step: numbers, shapes, dims, dtypes."""
    if isinstance(value, (list, tuple)):
        return all(_is_constant(v) for v in value)
    return isinstance(value, _CONSTANT_TYPES)


def _holds_tensor(values: tuple, nested: bool = False) -> bool:
    """Whether a tensor is among ``values`` (looking inside lists and tuples; at the top level
    too unless ``nested``, where top-level tensors are the operands)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            if _holds_tensor(tuple(v)):
                return True
        elif not nested and isinstance(v, Tensor):
            return True
    return False
