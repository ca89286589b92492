"""The saved-for-backward memory ledger: which arrays the graph behind a loss keeps alive, and
whose they are.

Every recorded node keeps what its VJPs need: input tensors its op saves (``node.inputs``),
its output (``node.out``), and constants passed to the op, some of which are arrays (a dropout
mask, pooling indices) or small holders of arrays (a normalisation's ``mean``/``rstd``, a cross
entropy's softmax). ``memory_report`` walks the graph and counts those bytes.

Counting rules:

* **Each byte once.** Two nodes that save the same tensor, or views of one array, share memory;
  bytes are deduplicated by address range (two live arrays that overlap share storage), and
  credited to the first holder met walking back from the loss. A view is counted by the bytes
  it spans, not by its whole base.
* **Leaves apart.** Storage of leaf tensors (parameters, the input batch, anything without a
  ``grad_fn``), and views of them, would be alive without the graph: it is ``leaf_bytes``.
  Everything else is held only because the graph is: ``activation_bytes``.
* **Packed values.** Inside ``autograd.graph.saved_tensors_hooks`` a node keeps what the pack
  hook returned instead of its saved tensors: those tensors or arrays (looked into one level,
  as ``save_on_cpu``'s ``(device, tensor)``) are counted, labelled ``'input 0 (packed)'`` or
  ``'output (packed)'``; a copy the hook made is an activation unless it shares a leaf's storage.
* **What the engine holds now.** After ``backward()`` (without ``retain_graph``) nodes drop
  their saved tensors; whatever a node still holds is still counted, and the report says how
  many nodes backward freed (``freed_nodes``) and how to see what they held.

>>> import backprop as bp
>>> import backprop.nn.functional as F
>>> w = bp.ones(3, 4, requires_grad=True)
>>> x = bp.ones(2, 4)
>>> loss = F.relu(F.linear(x, w)).sum()
>>> report = memory_report(loss)
>>> report.activation_bytes   # relu's output, 2 x 3 float32
24
>>> report.leaf_bytes         # x and w, saved by linear
80
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.function import _FunctionBackward
from ..autograd.graph import Meta, Node
from ..autograd.saved_tensors import Packed
from .. import backend
from ..errors import format_shape
from ..tensor import Tensor
from ._graph_walk import Graph, as_roots, node_module, parameter_names

__all__ = ["Holder", "MemoryReport", "Usage", "memory_report"]

# Constants that never hold arrays: not worth looking inside.
_PLAIN = (str, bytes, int, float, complex, bool, type(None), np.dtype, type, slice, Meta)


@dataclass(frozen=True)
class Holder:
    """One array a node keeps for backward.

    ``what`` says where the node keeps it (``'input 0'``, ``'output'``, ``'input 5
    _Moments.rstd'``, ``"params['mask']"``); ``nbytes`` is the bytes it spans and ``bytes`` the
    part of them counted here (0 when another holder already counted them); ``leaf`` is True
    when the storage belongs to a leaf tensor (alive without the graph).
    """

    op: str
    module: str
    what: str
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    bytes: int
    leaf: bool


@dataclass
class Usage:
    """Bytes counted for one op type or one module, split by whether the graph alone holds them."""

    activation_bytes: int = 0
    leaf_bytes: int = 0
    arrays: int = 0

    @property
    def bytes(self) -> int:
        return self.activation_bytes + self.leaf_bytes


@dataclass
class MemoryReport:
    """What the graph behind a tensor holds for backward (see ``memory_report``).

    ``by_op`` (keyed by ``grad_fn`` names such as ``'LinearBackward'``) and ``by_module`` are
    sorted by bytes, largest first; each sums to ``total_bytes``. ``largest`` lists the biggest
    holders; ``holders`` all of them, in graph order. ``freed_nodes`` counts the nodes a
    ``backward()`` already freed: what they saved is gone, so it is not counted.
    """

    total_bytes: int
    activation_bytes: int
    leaf_bytes: int
    by_op: dict[str, Usage]
    by_module: dict[str, Usage]
    largest: list[Holder]
    holders: list[Holder] = field(repr=False)
    nodes: int = 0
    freed_nodes: int = 0

    def __str__(self) -> str:
        summary = (f"Saved for backward: {_size(self.total_bytes)} in {self.nodes} nodes "
                   f"({_size(self.activation_bytes)} activations held only for backward, "
                   f"{_size(self.leaf_bytes)} in leaf tensors alive anyway)")
        lines = [summary]
        if self.freed_nodes:
            lines.append(f"{self.freed_nodes} of {self.nodes} nodes were freed by backward() and "
                         "hold nothing now. Call memory_report(loss) before loss.backward(), or "
                         "keep the graph with loss.backward(retain_graph=True).")
        if not self.holders:
            return "\n".join(lines)
        for title, table in (("op", self.by_op), ("module", self.by_module)):
            lines.append("")
            lines.append(_table([f"by {title}", "activations", "leaves", "arrays"],
                                [[key, _size(u.activation_bytes), _size(u.leaf_bytes),
                                  str(u.arrays)] for key, u in table.items()]))
        if self.largest:
            lines.append("")
            lines.append(_table(["largest holders", "module", "kept as", "shape", "dtype",
                                 "bytes", "kind"],
                                [[h.op, h.module, h.what, format_shape(h.shape), h.dtype.name,
                                  _size(h.bytes) + ("" if h.bytes == h.nbytes
                                                    else f" of {_size(h.nbytes)}"),
                                  "leaf" if h.leaf else "activation"] for h in self.largest]))
        return "\n".join(lines)


def memory_report(loss: Tensor, model: Any = None, *, top: int = 10) -> MemoryReport:
    """Count the bytes the backward graph behind ``loss`` keeps for its VJPs.

    Modules come from the ``Origin`` of each node when the forward ran inside
    ``bp.diagnostics.record_origins()``; otherwise, with ``model`` given, a node is put
    in the module owning a parameter among its direct inputs (nodes without one are
    ``'(unknown)'``). ``top`` is how many holders ``largest`` lists.

    >>> import backprop as bp
    >>> model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.Tanh())
    >>> report = memory_report(model(bp.ones(2, 4)).sum(), model)
    >>> report.by_op["TanhBackward"].activation_bytes    # tanh keeps its (2, 8) float32 output
    64
    >>> sorted(report.by_module)
    ['(unknown)', 'model.0']
    """
    roots = as_roots("memory_report", loss)
    if not isinstance(top, int) or top < 0:
        raise ValueError(f"memory_report: top must be a non-negative int, got {top!r}")
    graph = Graph(roots)
    names = parameter_names(model)
    leaf_ranges = _leaf_ranges(graph, model)
    found: list[tuple[str, str, str, Any, bool]] = []
    for node in graph.nodes:
        op, module = node.name(), node_module(node, names)
        for what, array, is_leaf_tensor in _kept_arrays(node):
            found.append((op, module, what, array,
                          is_leaf_tensor or leaf_ranges.overlaps(*_byte_range(array))))
    counted = _count_once([_byte_range(item[3]) for item in found])
    holders = [Holder(op, module, what, tuple(array.shape), np.dtype(array.dtype),
                      int(array.nbytes), n, is_leaf)
               for (op, module, what, array, is_leaf), n in zip(found, counted)]
    freed = sum(node.freed is True for node in graph.nodes)
    return _summarise(holders, len(graph.nodes), freed, top)


def _kept_arrays(node: Node) -> list[tuple[str, Any, bool]]:
    """``(where, array, saved as a leaf tensor)`` for every array the node keeps."""
    kept: list[tuple[str, Any, bool]] = []
    outputs = _function_outputs(node)
    for i, value in enumerate(node.inputs):
        if i in outputs:  # saved without its grad_fn, but an activation all the same
            kept.append((f"input {i}", value._data, False))
        else:
            _collect(f"input {i}", value, kept, depth=1)
    if node.out is not None and node.n_outputs == 1:
        _collect("output", node.out, kept, depth=0)
    elif node.out is not None:  # the saved ones of several outputs, by name
        names = getattr(node.op, "output_names", ())
        for k, value in enumerate(node.out):
            label = f"output {k}" + (f" ({names[k]})" if k < len(names) else "")
            _collect(label, value, kept, depth=0)
    for key, value in node.params.items():
        _collect(f"params[{key!r}]", value, kept, depth=1)
    if node.freed and node.freed is not True:
        _collect_packed(node.freed, kept)
    op = node.op
    if isinstance(op, _FunctionBackward):
        # Tensors given to ctx.save_for_backward are in node.inputs; anything else the user's
        # forward stored on ctx (ctx.mask = ...) is kept by the node too.
        for key, value in vars(op.ctx).items():
            if not key.startswith("_") and key != "needs_input_grad":
                _collect(f"ctx.{key}", value, kept, depth=1)
    return kept


def _collect_packed(packed: Packed, kept: list) -> None:
    """What ``saved_tensors_hooks``' pack hook returned for a node's saved tensors (a
    tensor, an array, or a tuple holding them, such as ``save_on_cpu``'s): counted as the node's.
    Whether it is a leaf's storage is told by address alone, since a copy the hook made has no
    ``grad_fn`` and is yet held only by the graph."""
    found: list[tuple[str, Any, bool]] = []
    for i, value, *_ in packed.items:
        _collect(f"input {i} (packed)", value, found, depth=2)
    outputs = packed.outputs
    if outputs is not None:
        for k, item in enumerate(outputs):
            if item is not None:
                label = f"output {k} (packed)" if len(outputs) > 1 else "output (packed)"
                _collect(label, item[0], found, depth=2)
    kept.extend((what, array, False) for what, array, _ in found)


def _function_outputs(node: Node) -> set[int]:
    """Positions in a custom Function's ``node.inputs`` that hold one of its own outputs
    (``ctx.save_for_backward(out)``): kept as a tensor without ``grad_fn`` to avoid a cycle."""
    op = node.op
    if not isinstance(op, _FunctionBackward) or node.freed:
        return set()
    return {op.ctx._n_args + j for j in op.ctx._saved_outputs}


def _collect(what: str, value: Any, kept: list, depth: int) -> None:
    """Add ``value`` if it is an array or a tensor; look ``depth`` levels into containers and
    holder objects (a loss's target plan) for more."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, Tensor):
        if value._data.nbytes:
            kept.append((what, value._data, value.grad_fn is None))
        return
    if isinstance(value, backend.ARRAY_TYPES):
        if value.nbytes:
            kept.append((what, value, False))
        return
    if depth <= 0 or callable(value):
        return
    if isinstance(value, (tuple, list)):
        for j, item in enumerate(value):
            _collect(f"{what}[{j}]", item, kept, depth - 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect(f"{what}[{key!r}]", item, kept, depth - 1)
    else:
        label = f"{what} {type(value).__name__}"
        for name, item in _attributes(value):
            _collect(f"{label}.{name}", item, kept, depth - 1)


def _attributes(obj: Any) -> list[tuple[str, Any]]:
    """An object's instance attributes, from ``__dict__`` and every ``__slots__`` it has."""
    found = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in found and name not in ("__dict__", "__weakref__"):
                found[name] = getattr(obj, name, None)
    return sorted(found.items())


# -- byte ranges --------------------------------------------------------------------------------

def _byte_range(array: Any) -> tuple[int, int]:
    """``[low, high)`` addresses the array's elements span (views included, any strides)."""
    interface = getattr(array, "__array_interface__", None)
    if interface is None:
        interface = getattr(array, "__cuda_array_interface__", None)
    if interface is None:  # an unknown array type: its own bytes, keyed by identity
        return id(array), id(array) + int(array.nbytes)
    low = high = int(interface["data"][0])
    strides = interface.get("strides")
    if strides is None:  # C-contiguous
        return low, low + int(array.nbytes)
    if array.size == 0:
        return low, low
    for n, stride in zip(array.shape, strides):
        if stride < 0:
            low += (n - 1) * stride
        else:
            high += (n - 1) * stride
    return low, high + array.itemsize


class _Ranges:
    """A set of address ranges, merged, for "does this array share storage with a leaf?"."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for low, high in sorted(r for r in ranges if r[1] > r[0]):
            if merged and low < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        self.lows = [m[0] for m in merged]
        self.highs = [m[1] for m in merged]

    def overlaps(self, low: int, high: int) -> bool:
        i = bisect.bisect_right(self.lows, low) - 1
        if i >= 0 and self.highs[i] > low:
            return True
        return i + 1 < len(self.lows) and self.lows[i + 1] < high


def _leaf_ranges(graph: Graph, model: Any) -> _Ranges:
    """Storage of the leaves: graph leaves, saved tensors without a grad_fn, model parameters."""
    ranges = [_byte_range(t._data) for t in graph.leaves]
    for node in graph.nodes:
        outputs = _function_outputs(node)
        for i, value in enumerate(node.inputs):
            if isinstance(value, Tensor) and value.grad_fn is None and i not in outputs:
                ranges.append(_byte_range(value._data))
    if model is not None:
        ranges.extend(_byte_range(p._data) for p in model.parameters())
    return _Ranges(ranges)


def _count_once(ranges: list[tuple[int, int]]) -> list[int]:
    """For each range in order, the bytes no earlier range covered.

    Ranges are first grouped into clusters that overlap (one sort, one sweep); only inside a
    cluster, usually of one range, does order matter, so the work stays O(n log n) however
    many nodes the graph has.
    """
    counted = [high - low for low, high in ranges]
    order = sorted(range(len(ranges)), key=lambda k: ranges[k])
    cluster: list[int] = []
    reach = None
    for k in order + [None]:
        if k is not None and reach is not None and ranges[k][0] < reach:
            cluster.append(k)
            reach = max(reach, ranges[k][1])
            continue
        if len(cluster) > 1:
            _count_cluster(sorted(cluster), ranges, counted)
        if k is not None:
            cluster, reach = [k], ranges[k][1]
    return counted


def _count_cluster(members: list[int], ranges: list[tuple[int, int]], counted: list[int]) -> None:
    """Credit each range of one overlapping cluster with the bytes no earlier one covered."""
    starts: list[int] = []  # the union so far: disjoint ranges, sorted
    ends: list[int] = []
    for k in members:  # graph order: the first holder gets the credit
        low, high = ranges[k]
        first = bisect.bisect_right(ends, low)  # ranges ending at or before low are untouched
        stop = bisect.bisect_left(starts, high)  # nor are those starting at or after high
        covered = sum(min(ends[i], high) - max(starts[i], low) for i in range(first, stop))
        counted[k] = high - low - covered
        if first < stop:  # merged ranges leave the lists: each is summed once overall
            low, high = min(low, starts[first]), max(high, ends[stop - 1])
        starts[first:stop] = [low]
        ends[first:stop] = [high]


# -- the report ---------------------------------------------------------------------------------

def _summarise(holders: list[Holder], nodes: int, freed: int, top: int) -> MemoryReport:
    by_op: dict[str, Usage] = {}
    by_module: dict[str, Usage] = {}
    for h in holders:
        for table, key in ((by_op, h.op), (by_module, h.module)):
            usage = table.setdefault(key, Usage())
            usage.arrays += 1
            if h.leaf:
                usage.leaf_bytes += h.bytes
            else:
                usage.activation_bytes += h.bytes
    activation = sum(h.bytes for h in holders if not h.leaf)
    leaf = sum(h.bytes for h in holders if h.leaf)
    largest = sorted(holders, key=lambda h: (-h.bytes, -h.nbytes))[:top]
    return MemoryReport(total_bytes=activation + leaf, activation_bytes=activation,
                        leaf_bytes=leaf, by_op=_by_size(by_op), by_module=_by_size(by_module),
                        largest=largest, holders=holders, nodes=nodes,
                        freed_nodes=freed)


def _by_size(table: dict[str, Usage]) -> dict[str, Usage]:
    return dict(sorted(table.items(), key=lambda item: (-item[1].bytes, item[0])))


def _size(n: int) -> str:
    """Bytes for people: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned text columns (numbers right-aligned) under a header and a rule."""
    widths = [max(len(row[c]) for row in [header] + rows) for c in range(len(header))]
    numeric = [c > 0 and all(r[c][:1].isdigit() for r in rows) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.rjust(w) if num else cell.ljust(w)
                         for cell, w, num in zip(cells, widths, numeric)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])
