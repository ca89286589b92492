"""Reading a recorded backward graph for the diagnostics: its nodes and leaves in a fixed order,
the shape each node's outputs had, and which module each node belongs to.

Shared by the memory ledger (``memory.py``) and the graph picture (``graph.py``). Everything
here only reads the graph; nothing is recorded, run or freed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import _FunctionBackward
from ..autograd.graph import Node
from ..errors import format_shape
from ..tensor import Tensor
from .origin import ORIGINS

UNKNOWN_MODULE = "(unknown)"
TOP_LEVEL = "(top level)"  # recorded inside record_origins() but outside every module


class Graph:
    """The graph behind some tensors: ``nodes`` and ``leaves`` (tensors whose gradient
    accumulates in ``.grad``) in depth-first order from the roots, each once."""

    __slots__ = ("index", "leaves", "nodes", "roots")

    def __init__(self, roots: list[Tensor]) -> None:
        self.roots = roots
        self.nodes: list[Node] = []
        self.leaves: list[Tensor] = []
        # id -> position in nodes or leaves (Tensors hash by identity too, but ids are cheap).
        self.index: dict[int, int] = {}
        self._walk()

    def _walk(self) -> None:
        # An explicit stack (graphs reach 100k nodes: no recursion). Edges are pushed in reverse
        # so the first input is visited first, which keeps the order stable between calls.
        stack: list[Any] = []
        for root in reversed(self.roots):
            stack.append(root.grad_fn if root.grad_fn is not None else root)
        while stack:
            item = stack.pop()
            if id(item) in self.index:
                continue
            if type(item) is Node:
                self.index[id(item)] = len(self.nodes)
                self.nodes.append(item)
                for edge in reversed(item.edges):
                    if edge is not None and id(edge) not in self.index:
                        stack.append(edge)
            else:
                self.index[id(item)] = len(self.leaves)
                self.leaves.append(item)

    def edges(self) -> list[tuple[Node, int, Any]]:
        """Every ``(consumer node, input slot, producer node or leaf)``: one per gradient message
        the engine sends (a tensor used twice by one op gives two)."""
        return [(node, i, edge) for node in self.nodes for i, edge in enumerate(node.edges)
                if edge is not None]


def output_metas(graph: Graph) -> dict[tuple[int, int], tuple[tuple[int, ...], np.dtype]]:
    """``(id(node), output) -> (shape, dtype)`` of each output of a node that the graph uses
    (the gradient it receives there).

    A node does not keep its outputs, but whoever consumed one kept the input's shape (as a
    saved tensor or a ``Meta``), so the consumers tell it; a root's comes from the root tensor,
    and a custom Function's node knows all its outputs.
    """
    metas: dict[tuple[int, int], tuple[tuple[int, ...], np.dtype]] = {}
    for root in graph.roots:
        if root.grad_fn is not None:
            metas[(id(root.grad_fn), root._output_nr)] = (tuple(root.shape), root.dtype)
    for node in graph.nodes:
        slots = node.slots
        for i, edge in enumerate(node.edges):
            if type(edge) is Node:
                key = (id(edge), 0 if slots is None else slots[i])
                if key not in metas:
                    saved = node.inputs[i]
                    metas[key] = (tuple(saved.shape), np.dtype(saved.dtype))
        op = node.op
        if isinstance(op, _FunctionBackward):
            for k, meta in enumerate(op.out_metas):
                if meta is not None:
                    metas[(id(node), k)] = (tuple(meta.shape), np.dtype(meta.dtype))
    return metas


def used_outputs(graph: Graph) -> dict[int, list[int]]:
    """``id(node) -> its outputs that a root is or another node of the graph consumes``, in
    order."""
    used: dict[int, set[int]] = {}
    for root in graph.roots:
        if root.grad_fn is not None:
            used.setdefault(id(root.grad_fn), set()).add(root._output_nr)
    for node in graph.nodes:
        slots = node.slots
        for i, edge in enumerate(node.edges):
            if type(edge) is Node:
                used.setdefault(id(edge), set()).add(0 if slots is None else slots[i])
    return {key: sorted(outputs) for key, outputs in used.items()}


def describe(shape: tuple[int, ...], dtype: Any) -> str:
    """``(5, 3) float32``"""
    return f"{format_shape(tuple(shape))} {np.dtype(dtype).name}"


def parameter_names(model: Any) -> dict[int, str]:
    """``id(parameter) -> dotted name`` from ``model.named_parameters()`` (empty for None)."""
    if model is None:
        return {}
    named = getattr(model, "named_parameters", None)
    if named is None:
        raise TypeError(f"model must be a bp.nn.Module (something with named_parameters()), "
                        f"got {type(model).__name__}")
    return {id(p): name for name, p in named()}


def owner_module(parameter_name: str, root: str = "model") -> str:
    """The module path of a parameter, written as ``record_origins`` writes module paths:
    ``'0.weight' -> 'model.0'``, ``'weight' -> 'model'``."""
    head, _, _ = parameter_name.rpartition(".")
    return f"{root}.{head}" if head else root


def node_module(node: Node, names: dict[int, str]) -> str:
    """The module a node was recorded in: its ``Origin`` when the forward ran inside
    ``record_origins()``; otherwise the module owning a parameter among its direct leaf inputs
    (when the model's parameter names are known); otherwise ``'(unknown)'``."""
    origin = ORIGINS.get(node)
    if origin is not None:
        return origin.module or TOP_LEVEL
    for edge in node.edges:
        if edge is not None and type(edge) is not Node and id(edge) in names:
            return owner_module(names[id(edge)])
    return UNKNOWN_MODULE


def as_roots(function: str, tensors: Any) -> list[Tensor]:
    """One tensor or several, each with a graph behind it; a clear error otherwise."""
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors) \
        if isinstance(tensors, (list, tuple)) else None
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError(f"{function}: expected a Tensor (such as a loss) or a list of tensors, "
                        f"got {type(tensors).__name__}")
    for i, t in enumerate(roots):
        if not t.requires_grad:
            raise ValueError(f"{function}: tensor {i} (shape {format_shape(tuple(t.shape))}) has "
                             "no backward graph (requires_grad is False); compute it from "
                             "tensors with requires_grad=True, outside no_grad()")
    return roots
