"""A traced step as a flat list of entries over numbered slots, and its replay.

Replaying runs each entry in turn on a list of arrays (the slots): kernel calls, gradient rules
on the nodes the trace recorded (given this step's arrays), the engine's sums, gradient
accumulation and the optimizer's calls. Nothing builds a graph or dispatches on types; the
checks that decided each kernel ran when the step was traced.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.graph import Meta, _accumulate, _fit_gradient, _sum
from ..tensor import Tensor


_F32 = np.dtype(np.float32)
_WIDE = (_F32, np.dtype(np.float64))  # gradients Node.apply hands the rules as they are


class OpEntry:
    """A primitive's computation: ``slots[outs] = compute(*operands)``; a recorded node gets the
    arrays it saves."""

    __slots__ = ("compute", "refs", "outs", "several", "patch")

    def __init__(self, compute: Callable, refs: list, outs: list, several: bool,
                 patch: Any) -> None:
        self.compute = compute
        self.refs = tuple(refs)  # (True, slot) or (False, constant) per argument
        self.outs = outs
        self.several = several
        if patch is not None:
            node, saved_args, saved_outs, tuple_out = patch
            # Holders made by replayable functions (a loss's plan) are operands by slot too.
            fresh = saved_args + tuple(i for i, (is_slot, _) in enumerate(self.refs)
                                       if is_slot and i not in saved_args)
            # What the node holds besides: Metas and constants (kept through backward's free)
            inputs = [Meta(a.shape, a.dtype) if isinstance(a, Tensor) else a
                      for a in node.inputs]
            arrays = None if node.arrays is node.inputs else list(node.arrays)
            for i in fresh:
                inputs[i] = None  # filled by each replay: the trace's arrays go
                if arrays is not None:
                    arrays[i] = None
            patch = (node, fresh, saved_outs, tuple_out, inputs, arrays, node.n_outputs)
        self.patch = patch

    def reads(self) -> list[int]:
        return [v for is_slot, v in self.refs if is_slot]

    def run(self, slots: list, tape: Tape) -> None:
        args = [slots[v] if is_slot else v for is_slot, v in self.refs]
        out = self.compute(*args)
        if self.several:
            for slot, o in zip(self.outs, out):
                if slot is not None:
                    slots[slot] = o
        else:
            slots[self.outs[0]] = out
        if self.patch is not None:
            node, fresh, saved_outs, tuple_out, inputs, arrays, n_outputs = self.patch
            if fresh:
                inputs = list(inputs)
                for i in fresh:
                    inputs[i] = args[i]
                node.inputs = inputs = tuple(inputs)
                if arrays is None:
                    node.arrays = inputs
                else:
                    arrays = list(arrays)
                    for i in fresh:
                        arrays[i] = args[i]
                    node.arrays = tuple(arrays)
            if saved_outs:
                node.out = (tuple(out[k] if k in saved_outs else None for k in range(n_outputs))
                            if tuple_out else out)


class CallEntry:
    """A ``replayable`` Python function made again on this step's tensors."""

    __slots__ = ("fn", "args", "kwargs", "out", "parts")

    def __init__(self, fn: Callable, args: list, kwargs: dict, out: int | None,
                 parts: list | None) -> None:
        self.fn = fn
        self.args = args  # ("slot", n) or ("as is", value) each
        self.kwargs = kwargs
        self.out = out
        self.parts = parts  # a tuple result's elements' slots

    def reads(self) -> list[int]:
        refs = [*self.args, *self.kwargs.values()]
        return [v for kind, v in refs if kind == "slot"]

    def run(self, slots: list, tape: Tape) -> None:
        def value(ref: tuple[str, Any]) -> Any:
            return Tensor._wrap(slots[ref[1]]) if ref[0] == "slot" else ref[1]

        result = self.fn(*[value(r) for r in self.args],
                         **{k: value(r) for k, r in self.kwargs.items()})
        if self.out is not None:
            slots[self.out] = result
        if self.parts is not None:
            for slot, part in zip(self.parts, result):
                if slot is not None:
                    slots[slot] = part


class NodeEntry:
    """A node's gradient rule, run as ``Node.apply`` runs it in a plain backward, on the arrays
    its forward entry gave the node."""

    __slots__ = ("node", "grad", "outs", "wanted", "needs")

    def __init__(self, node: Any, grad: Any, outs: list) -> None:
        self.node = node
        self.grad = grad  # a slot, or a tuple of slots (None: no gradient) for several outputs
        self.outs = outs
        # (input, its gradient's slot, the input's shape and dtype) for each gradient wanted
        self.wanted = tuple((i, slot, node.inputs[i].shape, node.inputs[i].dtype)
                            for i, slot in enumerate(outs) if slot is not None)
        self.needs = tuple(e is not None for e in node.edges)

    def reads(self) -> list[int]:
        ref = self.grad
        return [r for r in ref if r is not None] if type(ref) is tuple else [ref]

    def run(self, slots: list, tape: Tape) -> None:
        ref = self.grad
        g = (tuple(None if r is None else slots[r] for r in ref) if type(ref) is tuple
             else slots[ref])
        node = self.node
        if getattr(g, "dtype", _F32) not in _WIDE:  # (b)float16: Node.apply's float32 work
            for slot, r in zip(self.outs, node.apply(g, False)):
                if slot is not None:
                    slots[slot] = r
        else:
            op, args, out, params = node.op, node.arrays, node.out, node.params
            rules = op.rules
            grads = None if rules is not None else op.rule(g, out, *args, needs=self.needs,
                                                           **params)
            for i, slot, shape, dtype in self.wanted:
                gi = grads[i] if rules is None else rules[i](g, out, *args, **params)
                if not (type(gi) is np.ndarray and gi.shape == shape and gi.dtype == dtype):
                    gi = _fit_gradient(gi, shape, dtype, op.name, False)
                slots[slot] = gi
        node.arrays, node.out = node.inputs, None  # the step's arrays go with the step


class SumEntry:
    """The engine's sum of the gradients reaching one output, in its order."""

    __slots__ = ("parts", "out")

    def __init__(self, parts: tuple[int, ...], out: int) -> None:
        self.parts = parts
        self.out = out

    def reads(self) -> list[int]:
        return list(self.parts)

    def run(self, slots: list, tape: Tape) -> None:
        parts = self.parts
        total = slots[parts[0]]
        for p in parts[1:]:
            total = _sum(total, slots[p])
        slots[self.out] = total


class LeafEntry:
    """A gradient accumulated into a leaf's ``.grad``, as backward accumulates it."""

    __slots__ = ("leaf", "grad", "out")

    def __init__(self, leaf: Tensor, grad: int, out: int) -> None:
        self.leaf = leaf
        self.grad = grad
        self.out = out

    def reads(self) -> list[int]:
        return [self.grad]

    def run(self, slots: list, tape: Tape) -> None:
        _accumulate(self.leaf, slots[self.grad], False, tape.owned)
        slots[self.out] = self.leaf.grad._data


class BackwardBegins:
    """A backward pass starts: no gradient storage is handed to a ``.grad`` yet."""

    __slots__ = ()

    def reads(self) -> list[int]:
        return []

    def run(self, slots: list, tape: Tape) -> None:
        tape.owned = set()


class ConstantEntry:
    """An array backward made, the same every step (the ones seeding ``loss.backward()``)."""

    __slots__ = ("value", "out")

    def __init__(self, value: Any, out: int) -> None:
        self.value = value
        self.out = out

    def reads(self) -> list[int]:
        return []

    def run(self, slots: list, tape: Tape) -> None:
        slots[self.out] = self.value.copy()  # the engine may hand it to a .grad


class HostEntry:
    """A call made as it is: an optimizer's ``step`` or ``zero_grad``."""

    __slots__ = ("call",)

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call

    def reads(self) -> list[int]:
        return []

    def run(self, slots: list, tape: Tape) -> None:
        self.call()


class Tape:
    """A traced step: its entries, the slots of its inputs, what it read from outside (which
    must be unchanged for the tape to hold) and how to build its result."""

    def __init__(self, inputs: list[int], entries: list, n_slots: int,
                 constants: list[tuple[Tensor, Any, bool]], modules: list[tuple[Any, bool]],
                 output: Any) -> None:
        self.inputs = inputs
        self.entries = entries
        self.n_slots = n_slots
        self.constants = constants
        self.modules = modules
        self.output = output
        self.owned: set[int] = set()
        # Each slot is emptied after the last entry that reads it, as eager mode drops an
        # array with its last reference: a step's arrays are not all held to its end.
        last: dict[int, int] = {}
        for k, entry in enumerate(entries):
            for slot in entry.reads():
                last[slot] = k
        for slot in _slots_of(output):
            last.pop(slot, None)
        dead: list[list[int]] = [[] for _ in entries]
        for slot, k in last.items():
            dead[k].append(slot)
        self.steps = [(entry, tuple(d)) for entry, d in zip(entries, dead)]

    def stale(self) -> str | None:
        """Why the tape no longer describes the step (None: it does): a tensor it reads holds
        another array or changed requires_grad, or a module it calls changed train/eval."""
        for tensor, array, requires_grad in self.constants:
            if tensor._data is not array:
                return "a tensor the step reads was given new storage"
            if tensor._requires_grad is not requires_grad:
                return "a tensor the step reads changed requires_grad"
        for module, training in self.modules:
            if module.training is not training:
                return f"{type(module).__name__} switched between train() and eval()"
        return None

    def replay(self, arrays: list[Any]) -> Any:
        """Run the step on ``arrays`` (its tensor arguments', in order); returns its result."""
        slots: list[Any] = [None] * self.n_slots
        for slot, array in zip(self.inputs, arrays):
            slots[slot] = array
        for entry, dead in self.steps:
            entry.run(slots, self)
            for slot in dead:
                slots[slot] = None
        return _build(self.output, slots)


def output_spec(result: Any, slot_of: dict[int, int], backward_ran: bool) -> Any:
    """How to rebuild ``result`` from the slots: tensors the step made become slot numbers.
    A string: why it cannot (a result that still needs its graph)."""
    if isinstance(result, Tensor):
        slot = slot_of.get(id(result._data))
        if slot is None:
            return ("as is", result)
        if result._requires_grad and not backward_ran:
            return ("returns a tensor that requires grad, whose backward would run outside the "
                    "captured step: call backward inside the function, or return .detach()")
        return ("slot", slot)
    if isinstance(result, (list, tuple)):
        parts = [output_spec(r, slot_of, backward_ran) for r in result]
        bad = next((p for p in parts if isinstance(p, str)), None)
        return bad if bad is not None else ("sequence", type(result), parts)
    if isinstance(result, dict):
        values = {k: output_spec(v, slot_of, backward_ran) for k, v in result.items()}
        bad = next((v for v in values.values() if isinstance(v, str)), None)
        return bad if bad is not None else ("dict", type(result), values)
    return ("as is", result)


def _slots_of(spec: Any) -> list[int]:
    """The slots an output spec reads."""
    kind = spec[0]
    if kind == "slot":
        return [spec[1]]
    if kind == "as is":
        return []
    parts = spec[2].values() if kind == "dict" else spec[2]
    return [slot for part in parts for slot in _slots_of(part)]


def _build(spec: Any, slots: list) -> Any:
    kind = spec[0]
    if kind == "slot":
        return Tensor._wrap(slots[spec[1]])
    if kind == "as is":
        return spec[1]
    if kind == "dict":
        return spec[1]({k: _build(v, slots) for k, v in spec[2].items()})
    parts = [_build(p, slots) for p in spec[2]]
    return spec[1](parts) if spec[1] in (list, tuple) else spec[1](*parts)
