"""The engine observer of anomaly detection and the provenance of non-finite values.

``anomaly.py`` registers an ``AnomalyObserver`` in a thread only while detection is on there. It
records origins (it is an ``OriginRecorder``) and, through the engine's observer events:

- ``op``: checks each float output of a forward primitive called on Tensors.
- ``node``: checks the gradients entering a node and each gradient it returns.

The healthy path costs one ``np.isfinite(a).all()`` per array (measured as fast as a
``sum``-first shortcut on 0-d to 1M-element float32 arrays, and exact, with no overflow
warnings). Everything else runs only once a non-finite value exists.

Forward policy. A non-finite value *born* in forward (an op output with NaN whose inputs had
none, or with inf whose inputs were all finite) is not reported at once: ``where(x > 0,
log(x), 0)`` computes a correct result from a ``-inf`` it then drops. The value is remembered
with the op, the user's line and the input ranges, and reported as that op's anomaly when

- a NaN is used by arithmetic (any op other than those that only move or select values:
  where, masked_fill, indexing, views, cat...), since a NaN is never meant;
- an inf is turned into NaN by arithmetic (``inf - inf``, ``0 * inf``) and that NaN is used;
- a gradient in backward becomes non-finite because of it (the where trap: the masked-away
  entries get gradient 0, and the op's own backward computes ``0 * inf = NaN``);
- or the block ends while the value is alive and was never used.

Infs may flow through arithmetic (``-inf`` masks, log-space sums) without a report. A NaN that
comes from outside the block (data, parameters) is reported at the first op computing with it,
unless an anomaly was already reported (it is then a consequence).

Backward policy. A node whose returned gradient is non-finite while its incoming gradient was
finite made the anomaly; its children are marked, so the NaN flowing on from there is not
reported again. An incoming gradient that is non-finite without such a mark came from outside
the nodes (the gradient given to ``backward()``, a tensor hook, an overflowing sum).
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.function import _input_label as function_input_label
from ..autograd.graph import Node
from ..ops.primitive import Primitive
from ..tensor import Tensor
from .anomaly_report import (MASKING_OPS, SELECTING_OPS, AnomalyError, AnomalyRecord,
                             ValueSummary, describe_origin, masking_hint, summarize)
from .origin import ORIGINS, Origin, OriginRecorder, current_module, tag, user_frame


class _Birth:
    """A non-finite value as first made by one forward op."""

    __slots__ = ("op", "origin", "output", "inputs", "cause", "absorber", "reported")

    def __init__(self, op: str, origin: Origin, output: ValueSummary,
                 inputs: tuple[tuple[str, ValueSummary], ...], cause: _Birth | None) -> None:
        self.op = op
        self.origin = origin
        self.output = output
        self.inputs = inputs
        self.cause = cause  # the inf this NaN was made from (inf - inf, 0 * inf), if any
        self.absorber: tuple[str, Origin] | None = None  # the first op that made it finite
        self.reported = False

    @property
    def has_nan(self) -> bool:
        return self.output.nan > 0

    def chain(self) -> list[_Birth]:
        """This birth and its causes, the first cause first."""
        chain = [self]
        while chain[-1].cause is not None:
            chain.append(chain[-1].cause)
        return chain[::-1]

    def settled(self) -> bool:
        return any(b.reported for b in self.chain())

    def mark_reported(self) -> None:
        for b in self.chain():
            b.reported = True


class _Pending:
    """A live tensor holding a born non-finite value, and whether any op has used it since."""

    __slots__ = ("ref", "birth", "consumed")

    def __init__(self, ref: weakref.ref, birth: _Birth) -> None:
        self.ref = ref
        self.birth = birth
        self.consumed = False


class Watch(threading.local):
    """The detection state of a thread (``WATCH``: each thread sees its own attributes)."""

    def __init__(self) -> None:
        self.check_nan = True
        self.backward_depth = 0  # > 0 while a node's VJPs run: their ops are checked as gradients
        self.reported_any = False
        self.deliver: Callable[[AnomalyRecord], None] = _no_delivery
        # id(tensor) -> _Pending; keyed by id because Tensor.__eq__ is elementwise
        self.pending: dict[int, _Pending] = {}
        self.births: weakref.WeakKeyDictionary[Node, _Birth] = weakref.WeakKeyDictionary()
        self.tainted: weakref.WeakSet[Node] = weakref.WeakSet()

    def reset(self) -> None:
        """Forget all provenance (detection was switched off)."""
        self.pending.clear()  # cleared, not replaced: weakref callbacks hold this dict
        self.births = weakref.WeakKeyDictionary()
        self.tainted = weakref.WeakSet()
        self.reported_any = False
        self.backward_depth = 0


def _no_delivery(record: AnomalyRecord) -> None:
    raise AnomalyError(record)


WATCH = Watch()


def _report(record: AnomalyRecord) -> None:
    WATCH.reported_any = True
    WATCH.deliver(record)


class AnomalyObserver(OriginRecorder):
    """The observer registered while detection is on in a thread: it tags origins, then
    checks forward outputs (``op``) and the gradients of each node (``node``)."""

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        result = proceed()
        tag(result)  # before we look: a report names the node's origin
        watch = WATCH
        # A custom Function's outputs were made by primitives already checked inside it.
        if watch.backward_depth or not watch.check_nan or type(op) is not Primitive:
            return result
        pending, isfinite = watch.pending, np.isfinite
        if type(result) is Tensor:
            data = result._data
            if ((data.dtype.kind in "fc" and not isfinite(data).all())
                    or (pending and _carries_pending(args))):
                _forward_anomaly(op, args, (result,))
        elif type(result) is tuple:
            for item in result:
                if (type(item) is Tensor and item._data.dtype.kind in "fc"
                        and not isfinite(item._data).all()):
                    _forward_anomaly(op, args, result)
                    break
            else:
                if pending and _carries_pending(args):
                    _forward_anomaly(op, args, result)
        return result

    def node(self, node: Node, grad: Any, create_graph: bool, proceed: Callable[[], Any]) -> Any:
        watch = WATCH
        watch.backward_depth += 1
        try:
            results = proceed()
        except AnomalyError:
            raise
        except Exception as err:
            _add_origin_note(err, node)
            raise
        finally:
            watch.backward_depth -= 1
        if watch.check_nan:
            incoming = list(grad) if type(grad) is tuple else [grad]  # one per output
            arrays = [a._data if type(a) is Tensor else a for a in incoming + list(results)]
            isfinite = np.isfinite
            for a in arrays:
                if a is not None and not isfinite(a).all():
                    _backward_anomaly(node, next(a for a in arrays if a is not None),
                                      arrays[len(incoming):])
                    break
        return results


# -- forward ----------------------------------------------------------------------------------

def _entry(a: Any) -> _Pending | None:
    entry = WATCH.pending.get(id(a))
    if entry is None or entry.ref() is not a:
        return None
    return entry


def _carries_pending(args: tuple) -> bool:
    return any(_entry(a) is not None for a in args)


def _here() -> Origin:
    return Origin(current_module(), *user_frame())


def _nonfinite(a: Any) -> bool:
    return a.dtype.kind in "fc" and not np.isfinite(a).all()


def _forward_anomaly(op: Any, args: tuple, outputs: tuple) -> None:
    """Classify a forward op that made or received a non-finite value (see the module doc)."""
    carried: list[_Birth] = []
    for a in args:
        entry = _entry(a)
        if entry is not None:
            entry.consumed = True
            if entry.birth not in carried:
                carried.append(entry.birth)
    bad = [o for o in outputs if type(o) is Tensor and _nonfinite(o._data)]
    selecting = op.view or op.name in SELECTING_OPS
    if not bad:  # the op dropped or absorbed the non-finite values it received
        if carried and any(type(o) is Tensor and o._data.dtype.kind in "fc" for o in outputs):
            _absorbed(carried, op.name, selecting)  # (a comparison only looked at them)
        return
    out_nan = any(np.isnan(o._data).any() for o in bad)
    in_nan, in_nonfinite = _input_status(args)
    if carried:
        root = carried[0]
        if selecting or not out_nan:
            _carry(bad, root)  # passed on as is, or still an inf
        elif root.has_nan:
            _report(_birth_record(root, reached=(op.name, _here())))
        else:  # arithmetic made NaN out of the inf: a new birth, caused by the inf
            _carry(bad, _new_birth(op, args, bad[0], cause=root))
        return
    if out_nan and in_nan:
        if not selecting and not WATCH.reported_any:
            _report(_external_record(op, args, bad[0]))
        return
    if out_nan or not in_nonfinite:
        _carry(bad, _new_birth(op, args, bad[0], cause=None))
    # else: infs that came in as infs (a -inf mask made by the user): meant, not tracked


def _absorbed(births: list[_Birth], op: str, selecting: bool) -> None:
    """Remember the op that made these values finite again; a masking op is the better
    explanation of a NaN gradient, so it replaces an arithmetic one seen first."""
    here = None
    for birth in births:
        if birth.absorber is None or (selecting and birth.absorber[0] not in SELECTING_OPS):
            here = here or _here()
            birth.absorber = (op, here)


def _input_status(args: tuple) -> tuple[bool, bool]:
    """(any input holds NaN, any input is non-finite), over tensors, arrays and numbers."""
    has_nan = has_nonfinite = False
    for a in args:
        if isinstance(a, (list, tuple)):
            nan, nonfinite = _input_status(tuple(a))
            has_nan |= nan
            has_nonfinite |= nonfinite
            continue
        if isinstance(a, Tensor):
            a = a._data
        if isinstance(a, (float, complex, np.ndarray, np.floating, np.complexfloating)):
            a = np.asarray(a)
            if _nonfinite(a):
                has_nonfinite = True
                has_nan |= bool(np.isnan(a).any())
    return has_nan, has_nonfinite


def _carry(outputs: list, birth: _Birth) -> None:
    """Remember that ``outputs`` hold ``birth``'s non-finite values."""
    pending = WATCH.pending
    for t in outputs:
        key = id(t)

        def forget(ref: weakref.ref, key: int = key) -> None:
            entry = pending.get(key)
            if entry is not None and entry.ref is ref:
                del pending[key]

        pending[key] = _Pending(weakref.ref(t, forget), birth)
        node = t.grad_fn
        if type(node) is Node and node not in WATCH.births:
            WATCH.births[node] = birth


_LABELS: dict[str, tuple[str, ...]] = {}


def _primitive_labels(op: Any) -> tuple[str, ...]:
    """The positional parameter names of a primitive's forward (``input``, ``other``)."""
    if op.name not in _LABELS:
        try:
            params = inspect.signature(op.forward).parameters.values()
        except (TypeError, ValueError):
            params = ()
        _LABELS[op.name] = tuple(p.name for p in params
                                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    return _LABELS[op.name]


def _input_label(op: Any, i: int) -> str:
    function = getattr(op, "function", None)
    if function is not None:  # a custom Function's node
        return function_input_label(function, i)
    names = _primitive_labels(op) if hasattr(op, "forward") else ()
    return f"input {i} ({names[i]})" if i < len(names) else f"input {i}"


def _labelled_inputs(op: Any, values: tuple, prefix: str = "") -> tuple[tuple[str, ValueSummary],
                                                                       ...]:
    labelled = []
    for i, a in enumerate(values):
        summary = summarize(a)
        if summary is not None:
            labelled.append((prefix + _input_label(op, i), summary))
    return tuple(labelled)


def _new_birth(op: Any, args: tuple, out: Tensor, cause: _Birth | None) -> _Birth:
    origin = ORIGINS.get(out.grad_fn) if type(out.grad_fn) is Node else None
    return _Birth(op.name, origin or _here(), summarize(out), _labelled_inputs(op, args), cause)


def _article(summary: ValueSummary) -> tuple[str, str]:
    """('a NaN', 'NaN') or ('an inf', 'inf') for a summary's non-finite values."""
    return ("a NaN", "NaN") if summary.nan else ("an inf", "inf")


def _birth_record(birth: _Birth, reached: tuple[str, Origin] | None) -> AnomalyRecord:
    """The forward anomaly of a born value: named after the op that first made it."""
    chain = birth.chain()
    first = chain[0]
    notes = []
    if first.cause is None and not _nonfinite_inputs(first):
        notes.append(f"{first.op} made it from finite inputs")
    for later in chain[1:]:
        notes.append(f"{later.op} then turned it into NaN {describe_origin(later.origin, False)} "
                     "(inf - inf, 0 * inf and inf / inf are NaN)")
    if reached is not None:
        notes.append(f"the NaN then reached {reached[0]} {describe_origin(reached[1], False)}, "
                     "which computes with it (only where, masked_fill, indexing and views may "
                     "carry or drop non-finite values without a report)")
    else:
        notes.append("no op used this value before the detect_anomaly block ended")
    if birth.has_nan:
        notes.append(f"if these entries are meant to be masked out later, mask the input of "
                     f"{first.op} instead: its backward would turn them into NaN gradients")
    birth.mark_reported()
    return AnomalyRecord("forward", first.op, "output", first.origin, first.output,
                         first.inputs, notes=tuple(notes))


def _nonfinite_inputs(birth: _Birth) -> bool:
    return any(not s.finite for _, s in birth.inputs)


def _external_record(op: Any, args: tuple, out: Tensor) -> AnomalyRecord:
    origin = ORIGINS.get(out.grad_fn) if type(out.grad_fn) is Node else None
    note = (f"an input already held NaN when it reached {op.name}: it was not made by an op "
            "inside this detect_anomaly block (check the data, the parameters, tensors made "
            "before the block or changed in place)")
    return AnomalyRecord("forward", op.name, "output", origin or _here(), summarize(out),
                         _labelled_inputs(op, args), notes=(note,))


def unconsumed_record() -> AnomalyRecord | None:
    """The first born non-finite value still alive, never used and not yet reported."""
    for entry in list(WATCH.pending.values()):
        if entry.ref() is not None and not entry.consumed and not entry.birth.settled():
            return _birth_record(entry.birth, reached=None)
    return None


# -- backward ---------------------------------------------------------------------------------

def _add_origin_note(err: Exception, node: Node) -> None:
    """Name where the failing node was recorded, as PyTorch's anomaly mode shows the forward
    traceback of an error raised in backward."""
    if hasattr(err, "add_note"):  # Python 3.11+
        err.add_note(f"detect_anomaly: {node.name()} was recorded in the forward pass "
                     f"{describe_origin(ORIGINS.get(node))}")


def _backward_anomaly(node: Node, g: Any, grads: list[Any]) -> None:
    watch = WATCH
    bad = []
    for i, gi in enumerate(grads):
        if gi is not None and not np.isfinite(gi).all():
            bad.append((i, gi))
            child = node.edges[i]
            if type(child) is Node:
                watch.tainted.add(child)  # what flows on from here is a consequence
    if not np.isfinite(g).all():
        if node not in watch.tainted:
            _report(_backward_record(node, g, None))
        return
    if not bad:
        return
    birth = _related_birth(node)
    if birth is not None and birth.settled():
        return  # already reported in forward
    if birth is None and watch.reported_any and _forward_values_nonfinite(node):
        return  # computed from values that went bad earlier (parameters after a NaN step)
    record = _backward_record(node, g, bad[0], birth)
    if birth is not None:
        birth.mark_reported()
    _report(record)


def _related_birth(node: Node) -> _Birth | None:
    """The born non-finite value in this node's forward output or inputs, if any."""
    births = WATCH.births
    birth = births.get(node)
    if birth is not None:
        return birth
    for edge in node.edges:
        if type(edge) is Node and edge in births:
            return births[edge]
    for a in node.inputs:
        entry = _entry(a)
        if entry is not None:
            return entry.birth
    return None


def _forward_values_nonfinite(node: Node) -> bool:
    values = [a._data for a in node.inputs if isinstance(a, Tensor)]
    if node.out is not None:
        values.append(node.out)
    return any(hasattr(v, "dtype") and _nonfinite(v) for v in values)


def _backward_record(node: Node, g: Any, bad: tuple[int, Any] | None,
                     birth: _Birth | None = None) -> AnomalyRecord:
    op = node.op
    n_args = len(node.edges)
    inputs = _labelled_inputs(op, node.inputs[:n_args], prefix="forward ")
    if node.out is not None:
        inputs += (("forward output", summarize(node.out)),)
    elif birth is not None and WATCH.births.get(node) is birth:
        inputs += (("forward output", birth.output),)
    if bad is None:
        note = (f"the gradient entering {node.name()} was already non-finite, and no node sent "
                "it so: it came from the gradient given to backward(), a tensor hook, or a sum "
                "of gradients that overflowed")
        what = f"incoming gradient (of {op.name}'s output)"
        return AnomalyRecord("backward", node.name(), what, ORIGINS.get(node), summarize(g),
                             inputs, notes=(note,))
    i, gi = bad
    value = summarize(gi)
    if birth is not None:
        notes, masked = _birth_notes(birth, value)
    elif hasattr(op, "function"):  # a custom Function's backward
        notes, masked = (f"the incoming gradient is finite, so {op.name}.backward made the "
                         f"{value.nonfinite_kind()} itself",), False
    elif _nan_where_incoming_is_zero(g, gi):
        # The trap's signature even when the forward pass was not watched.
        notes = (f"the gradient is NaN exactly where the incoming gradient is 0: an op after "
                 f"{op.name} (where, masked_fill, indexing, clamp...) dropped these entries, and "
                 f"0 * inf = NaN in backward: {masking_hint(op.name, 'where')}",)
        masked = True
    else:
        made = (f"the incoming gradient is finite, so {node.name()} made the "
                f"{value.nonfinite_kind()} itself: the derivative of {op.name} is not finite at "
                "some of its input values (see the forward values above)")
        notes, masked = (made,), False
    return AnomalyRecord("backward", node.name(), f"gradient for {_input_label(op, i)} of "
                         f"{op.name}", ORIGINS.get(node), value, inputs, summarize(g),
                         masked_where=masked, notes=notes)


def _nan_where_incoming_is_zero(g: Any, gi: Any) -> bool:
    if np.shape(g) != np.shape(gi):
        return False
    nan = np.isnan(gi)
    return bool(nan.any()) and bool((np.asarray(g)[nan] == 0).all())


def _birth_notes(birth: _Birth, gradient: ValueSummary) -> tuple[tuple[str, ...], bool]:
    """Why a gradient went bad because of a non-finite forward value (the where trap)."""
    first = birth.chain()[0]
    absorber = next((b.absorber for b in reversed(birth.chain()) if b.absorber), None)
    article, word = _article(first.output)
    made = f"{first.op} {describe_origin(first.origin, False)}"
    if absorber is None:
        return ((f"the forward value was already non-finite: {first.op} produced "
                 f"{first.output.nonfinite_kind()} {describe_origin(first.origin, False)}"),), False
    name, where = absorber
    called = f"{name} was called {describe_origin(where, False)}"
    hint = masking_hint(first.op, name)
    if name in SELECTING_OPS:
        a = "a " if name in MASKING_OPS else ""
        return ((f"the gradient is {gradient.nonfinite_kind()} because {a}{name} selected away "
                 f"{article} produced by {made}; {called}; 0 * {word} = NaN in backward: "
                 f"{hint}"),), True
    return ((f"the gradient is {gradient.nonfinite_kind()} because {name} turned {article} "
             f"produced by {made} into a finite value; {called}; its backward sends 0 there, and "
             f"0 * {word} = NaN in the backward of {first.op}: {hint}"),), False
