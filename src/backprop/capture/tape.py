"""A traced step as a list of entries over numbered slots, written out as one Python function.

Each entry writes its lines of the replay function (``emit``): a kernel call, a gradient rule
called on the arrays of the forward entry that recorded its node, the engine's sums, gradient
accumulation, the optimizer's calls. Slots are the function's local variables, emptied after
their last reader as eager mode drops an array with its last reference. One flat function is
the cheapest replay Python allows: no graph, no dispatch per op, no list of entries to walk.
Its text is kept (``Tape.source``): the step as it will run, forward and backward, readable.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.graph import Meta, _accumulate, _fit_gradient, _sum
from ..ops.primitive import finish_result
from ..tensor import Tensor

F32 = np.dtype(np.float32)
WIDE = (F32, np.dtype(np.float64))  # gradients Node.apply hands the rules as they are


class Source:
    """The replay function being written: its lines, and the objects its names stand for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.used: set[int] = set()  # the slots some entry reads, or the result
        self.names: dict[str, Any] = {"_sum": _sum, "_accumulate": _accumulate,
                                      "_fit": _fit_gradient, "_ndarray": np.ndarray,
                                      "_wrap": Tensor._wrap, "_finish": finish_result,
                                      "_F64": np.dtype(np.float64)}

    def bind(self, value: Any, prefix: str = "k") -> str:
        """A name for ``value`` in the function's globals."""
        if value is None or type(value) in (bool, int) or (type(value) is float
                                                             and np.isfinite(value)):
            return repr(value)
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def line(self, text: str) -> None:
        self.lines.append("    " + text)


def var(slot: int) -> str:
    return f"s{slot}"


def tuple_of(items: Any) -> str:
    """A tuple display of expressions (one element too)."""
    return "(" + "".join(f"{item}, " for item in items) + ")"


class OpEntry:
    """A primitive's computation, ``outs = compute(*operands)``. When it recorded a node, what
    that node's rule is given besides: ``fresh`` operands (saved arrays, holders made by
    replayable functions), the saved outputs, and the node's Metas and constants."""

    __slots__ = ("compute", "refs", "outs", "several", "node", "fresh", "saved_outs",
                 "tuple_out", "inputs", "arrays")

    def __init__(self, compute: Callable, refs: list, outs: list, several: bool,
                 patch: Any) -> None:
        self.compute = compute
        self.refs = tuple(refs)  # (True, slot) or (False, constant) per argument
        self.outs = outs
        self.several = several
        self.node = None
        if patch is not None:
            node, saved_args, self.saved_outs, self.tuple_out = patch
            self.node = node
            # operands the step makes: saved tensors' arrays, and holders (a loss's plan)
            self.fresh = tuple(i for i, (is_slot, _) in enumerate(self.refs) if is_slot and (
                i in saved_args or not isinstance(node.inputs[i], (Tensor, Meta))))
            # (the trace's arrays are not kept: Metas stand for tensors, fresh ones are filled)
            self.inputs = [Meta(a.shape, a.dtype) if isinstance(a, Tensor) else a
                           for a in node.inputs]
            self.arrays = None if node.arrays is node.inputs else list(node.arrays)
            for i in self.fresh:
                self.inputs[i] = None
                if self.arrays is not None:
                    self.arrays[i] = None

    def reads(self) -> list[int]:
        return [v for is_slot, v in self.refs if is_slot]

    def emit(self, src: Source) -> None:
        args = ", ".join(var(v) if is_slot else src.bind(v) for is_slot, v in self.refs)
        direct = getattr(self.compute, "direct", None)
        if direct is not None:  # the forward itself, and its result finished as compute would
            forward, params, narrow, default = direct
            assert all(k.isidentifier() for k in params)  # only names enter the source
            keywords = "".join(f", {k}={src.bind(v)}" for k, v in params.items())
            out = var(self.outs[0])
            src.line(f"{out} = {src.bind(forward, 'f')}({args}{keywords})")
            wide = f" or {out}.dtype is _F64" if narrow else ""
            src.line(f"if type({out}) is not _ndarray{wide}:")
            src.line(f"    {out} = _finish({out}, {narrow}, {src.bind(default)})")
            return
        call = f"{src.bind(self.compute, 'f')}({args})"
        if not self.several:
            src.line(f"{var(self.outs[0])} = {call}")
            return
        src.line(f"t = {call}")
        for k, slot in enumerate(self.outs):
            if slot is not None:
                src.line(f"{var(slot)} = t[{k}]")

    # What the node's rule is given, as expressions of the replay function.

    def node_operands(self, src: Source, template: list) -> list[str]:
        return [var(self.refs[i][1]) if i in self.fresh else src.bind(v)
                for i, v in enumerate(template)]

    def node_out(self) -> str:
        if not self.saved_outs:
            return "None"
        if not self.tuple_out:
            return var(self.outs[0])
        return tuple_of(var(self.outs[k]) if k in self.saved_outs else "None"
                        for k in range(self.node.n_outputs))

    def node_reads(self) -> list[int]:
        return ([self.refs[i][1] for i in self.fresh]
                + [self.outs[k] for k in self.saved_outs])


class NodeEntry:
    """A node's gradient rule, called as ``Node.apply`` calls it in a plain backward, on the
    arrays of its forward entry; (b)float16 gradients go through ``Node.apply`` itself, which
    computes them in float32."""

    __slots__ = ("node", "grad", "outs", "forward", "wide")

    def __init__(self, node: Any, grad: Any, outs: list, forward: OpEntry, wide: bool) -> None:
        self.node = node
        self.grad = grad  # a slot, or a tuple of slots (None: no gradient) for several outputs
        self.outs = outs
        self.forward = forward
        self.wide = wide

    def reads(self) -> list[int]:
        ref = self.grad
        grads = [r for r in ref if r is not None] if type(ref) is tuple else [ref]
        return grads + self.forward.node_reads()

    def emit(self, src: Source) -> None:
        node, forward = self.node, self.forward
        ref = self.grad
        g = (tuple_of("None" if r is None else var(r) for r in ref) if type(ref) is tuple
             else var(ref))
        if not self.wide:
            self._emit_apply(src, g)
            return
        template = forward.inputs if forward.arrays is None else forward.arrays
        operands = ", ".join([g, forward.node_out(), *forward.node_operands(src, template)])
        params = f", **{src.bind(node.params, 'p')}" if node.params else ""
        op = node.op
        if op.rules is None:
            needs = tuple(e is not None for e in node.edges)
            src.line(f"t = {src.bind(op.rule, 'r')}({operands}, needs={needs!r}{params})")
        for i, slot in enumerate(self.outs):
            if slot is None:
                continue
            s = var(slot)
            if op.rules is None:
                src.line(f"{s} = t[{i}]")
            else:
                src.line(f"{s} = {src.bind(op.rules[i], 'r')}({operands}{params})")
            target = node.inputs[i]
            shape, dtype = src.bind(target.shape), src.bind(target.dtype)
            # dtype by identity, the cheap test: an equal dtype that is another object goes
            # through _fit, which returns the array unchanged.
            src.line(f"if type({s}) is not _ndarray or {s}.dtype is not {dtype} or "
                     f"{s}.shape != {shape}:")
            src.line(f"    {s} = _fit({s}, {shape}, {dtype}, {op.name!r}, False)")

    def _emit_apply(self, src: Source, g: str) -> None:
        node, forward = self.node, self.forward
        n = src.bind(node, "n")
        src.line(f"{n}.inputs = {tuple_of(forward.node_operands(src, forward.inputs))}")
        if forward.arrays is None:
            src.line(f"{n}.arrays = {n}.inputs")
        else:
            src.line(f"{n}.arrays = {tuple_of(forward.node_operands(src, forward.arrays))}")
        src.line(f"{n}.out = {forward.node_out()}")
        src.line(f"t = {n}.apply({g}, False)")
        src.line(f"{n}.arrays = {n}.out = None")  # the step's arrays go with the step
        for i, slot in enumerate(self.outs):
            if slot is not None:
                src.line(f"{var(slot)} = t[{i}]")


class SumEntry:
    """The engine's sum of the gradients reaching one output, in its order."""

    __slots__ = ("parts", "out")

    def __init__(self, parts: tuple[int, ...], out: int) -> None:
        self.parts = parts
        self.out = out

    def reads(self) -> list[int]:
        return list(self.parts)

    def emit(self, src: Source) -> None:
        total = var(self.parts[0])
        for p in self.parts[1:]:
            total = f"_sum({total}, {var(p)})"
        src.line(f"{var(self.out)} = {total}")


class LeafEntry:
    """A gradient accumulated into a leaf's ``.grad``, as backward accumulates it."""

    __slots__ = ("leaf", "grad", "out")

    def __init__(self, leaf: Tensor, grad: int, out: int) -> None:
        self.leaf = leaf
        self.grad = grad
        self.out = out

    def reads(self) -> list[int]:
        return [self.grad]

    def emit(self, src: Source) -> None:
        leaf, g = src.bind(self.leaf, "leaf"), var(self.grad)
        # The usual case of the engine's _add_into_grad, first: no .grad yet (zero_grad set it
        # to None), and a gradient array a rule just made, of the leaf's dtype.
        dtype = src.bind(self.leaf._data.dtype)
        src.line(f"if {leaf}.grad is None and {g}.base is None and {g}.dtype is {dtype} "
                 f"and id({g}) not in owned:")
        src.line(f"    owned.add(id({g}))")
        src.line(f"    {leaf}.grad = _wrap({g})")
        src.line("else:")
        src.line(f"    _accumulate({leaf}, {g}, False, owned)")
        if self.out in src.used:
            src.line(f"{var(self.out)} = {leaf}.grad._data")


class BackwardBegins:
    """A backward pass starts: no gradient storage is handed to a ``.grad`` yet."""

    __slots__ = ()

    def reads(self) -> list[int]:
        return []

    def emit(self, src: Source) -> None:
        src.line("owned = set()")


class HostEntry:
    """A call made as it is: an optimizer's ``step`` or ``zero_grad``."""

    __slots__ = ("call",)

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call

    def reads(self) -> list[int]:
        return []

    def emit(self, src: Source) -> None:
        src.line(f"{src.bind(self.call, 'host')}()")


class CallEntry:
    """A ``replayable`` Python function made again on this step's tensors."""

    __slots__ = ("fn", "args", "kwargs", "out", "parts", "tensor")

    def __init__(self, fn: Callable, args: list, kwargs: dict, out: int | None,
                 parts: list | None, tensor: bool) -> None:
        self.fn = fn
        self.args = args  # ("slot", n), ("as is", value), or ("list"/"tuple", [refs]) each
        self.kwargs = kwargs
        self.out = out
        self.parts = parts  # a tuple result's elements' slots
        self.tensor = tensor  # the result is a tensor: its array is the slot

    def reads(self) -> list[int]:
        def slots(ref: tuple[str, Any]) -> list[int]:
            kind, v = ref
            if kind == "slot":
                return [v]
            return [s for r in v for s in slots(r)] if kind in ("list", "tuple") else []

        return [s for r in [*self.args, *self.kwargs.values()] for s in slots(r)]

    def emit(self, src: Source) -> None:
        def value(ref: tuple[str, Any]) -> str:
            kind, v = ref
            if kind == "slot":
                return f"_wrap({var(v)})"
            if kind == "list":
                return "[" + ", ".join(value(r) for r in v) + "]"
            if kind == "tuple":
                return tuple_of(value(r) for r in v)
            return src.bind(v)

        assert all(k.isidentifier() for k in self.kwargs)  # only names enter the source
        args = [value(r) for r in self.args] + [f"{k}={value(r)}" for k, r in self.kwargs.items()]
        src.line(f"t = {src.bind(self.fn, 'call')}({', '.join(args)})")
        if self.out is not None:
            src.line(f"{var(self.out)} = t._data" if self.tensor else f"{var(self.out)} = t")
        for k, slot in enumerate(self.parts or ()):
            if slot is not None:
                src.line(f"{var(slot)} = t[{k}]")


class Tape:
    """A traced step: its replay function, what it read from outside (which must be unchanged
    for the tape to hold) and how to build its result."""

    def __init__(self, inputs: list[int], entries: list, constants: list[tuple[Tensor, Any, bool]],
                 modules: list[tuple[Any, bool]], output: Any, name: str = "step") -> None:
        self.constants = constants
        self.modules = modules
        self.output = output
        self.leaves = [e.leaf for e in entries if type(e) is LeafEntry]
        results = _slots_of(output)
        src = Source()
        for k, slot in enumerate(inputs):
            src.line(f"{var(slot)} = arrays[{k}]")
        src.line("owned = None")
        # Each slot is emptied after the last entry that reads it.
        last: dict[int, int] = {}
        for k, entry in enumerate(entries):
            for slot in entry.reads():
                last[slot] = k
        src.used = set(last) | set(results)
        dead: list[list[int]] = [[] for _ in entries]
        for slot, k in last.items():
            if slot not in results:
                dead[k].append(slot)
        for entry, gone in zip(entries, dead):
            entry.emit(src)
            if gone:
                src.line(" = ".join(var(s) for s in gone) + " = None")
        src.line(f"return {tuple_of(var(s) for s in results)}")
        self.source = f"def replay(arrays):  # {name!r}\n" + "\n".join(src.lines) + "\n"
        self._replay = _define(self.source, src.names, f"<replay of {name}>", "replay")
        self._results = results
        self._stale = self._write_stale()
        # The usual result, one tensor: built without walking the output spec.
        self._one_tensor = output[0] == "slot"

    def _write_stale(self) -> Callable[[], str | None]:
        """``stale`` written out: one test per kind of change, an ``or`` of plain attribute
        reads (the loops it replaces cost W2, a 6-parameter MLP, 2 us a step)."""
        src = Source()
        tests: dict[str, list[str]] = {}  # why -> the conditions that say so
        for tensor, array, requires_grad in self.constants:
            t = src.bind(tensor, "t")
            tests.setdefault("a tensor the step reads was given new storage", []).append(
                f"{t}._data is not {src.bind(array, 'a')}")
            tests.setdefault("a tensor the step reads changed requires_grad", []).append(
                f"{t}._requires_grad is not {requires_grad!r}")
        for leaf in self.leaves:
            t = src.bind(leaf, "t")
            # Unset (none registered yet) reads slowly, through AttributeError; None means the
            # same.
            if getattr(leaf, "_post_accumulate_hooks", None) is None:
                leaf._post_accumulate_hooks = None
            tests.setdefault("a parameter's gradient got a hook", []).append(
                f"{t}._hooks or {t}._post_accumulate_hooks")
        for module, training in self.modules:
            why = f"{type(module).__name__} switched between train() and eval()"
            m = src.bind(module, "m")
            tests.setdefault(why, []).append(f"{m}.training is not {training!r}")
        for why, conditions in tests.items():
            src.line("if " + " or ".join(conditions) + ":")
            src.line(f"    return {src.bind(why, 'why')}")
        src.line("return None")
        return _define("def stale():\n" + "\n".join(src.lines) + "\n", src.names,
                       "<tape check>", "stale")

    def stale(self) -> str | None:
        """Why the tape no longer describes the step (None: it does): a tensor it reads holds
        another array or changed requires_grad, a parameter's gradient got a hook, or a module
        it calls changed train/eval."""
        return self._stale()

    def replay(self, arrays: list[Any]) -> Any:
        """Run the step on ``arrays`` (its tensor arguments', in order); returns its result."""
        values = self._replay(arrays)
        if self._one_tensor:
            return Tensor._wrap(values[0])
        return _build(self.output, dict(zip(self._results, values)))


def _define(source: str, names: dict[str, Any], label: str, function: str) -> Callable:
    """The ``function`` that ``source`` defines, its globals ``names``."""
    # The source holds slot names, literals and names bound to objects: nothing read from
    # outside (tests/test_no_pickle.py allows this compile, and no other).
    namespace = dict(names)
    exec(compile(source, label, "exec"), namespace)  # noqa: S102
    return namespace[function]


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
    return list(dict.fromkeys(slot for part in parts for slot in _slots_of(part)))


def _build(spec: Any, values: dict[int, Any]) -> Any:
    kind = spec[0]
    if kind == "slot":
        return Tensor._wrap(values[spec[1]])
    if kind == "as is":
        return spec[1]
    if kind == "dict":
        return spec[1]({k: _build(v, values) for k, v in spec[2].items()})
    parts = [_build(p, values) for p in spec[2]]
    return spec[1](parts) if spec[1] in (list, tuple) else spec[1](*parts)
