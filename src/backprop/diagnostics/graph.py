r"""A picture of the backward graph: ops, shapes, dtypes, parameter names, and optionally the
gradient sent along every edge, with NaN/inf flags.

Arrows follow the gradient, from the loss down to the leaves: an arrow from ``MulBackward`` to
``w`` carries d(loss)/d(w)'s share from that op. Boxes are grouped in clusters by the module
that recorded them when the forward ran inside ``bp.diagnostics.record_origins()``, and a
big graph collapses every module below some depth into one box listing its ops, so a 2-layer
Transformer stays readable. A node whose graph uses several of its outputs (a custom Function
returning two tensors, values and indices...) is drawn as its box plus one box per output in
use, ``SplitBackward [output 1]`` with that output's shape, each with an arrow to the node.

>>> import backprop as bp
>>> w = bp.ones(3, requires_grad=True)
>>> loss = (w * w).sum()
>>> print(graph_to_dot(loss))  # doctest: +ELLIPSIS
digraph backward {
...
  n0 [label="SumBackward\n() float32", penwidth="2"];
  n1 [label="MulBackward\n(3,) float32"];
  l0 [label="leaf\n(3,) float32", ...];
  n0 -> n1;
  n1 -> l0;
  n1 -> l0;
}
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.functional import grad as autograd_grad
from ..autograd.graph import Node
from ..autograd.observers import Observer, observing
from ..backend import xp_of
from ..tensor import Tensor
from . import _dot
from ._graph_walk import (Graph, as_roots, describe, output_metas, owner_module, parameter_names,
                          used_outputs)
from .origin import ORIGINS

__all__ = ["draw_graph", "graph_to_dot"]

AUTO_COLLAPSE_NODES = 60  # more boxes than this and a picture stops being readable

_LEAF = {"shape": "ellipse", "fillcolor": "lightblue"}
_BAD = {"color": "red", "fontcolor": "red", "penwidth": "2"}


@dataclass(frozen=True)
class _Flow:
    """The gradient sent along one edge: its 2-norm and how many entries are NaN or inf."""

    norm: float
    nans: int
    infs: int

    def lines(self) -> list[str]:
        text = [f"|g| {self.norm:.4g}"]
        if self.nans:
            text.append(f"NaN x{self.nans}")
        if self.infs:
            text.append(f"inf x{self.infs}")
        return text


def draw_graph(loss: Tensor, path: str | os.PathLike, *, model: Any = None, grads: bool = False,
               collapse: bool | str = "auto", depth: int | None = None) -> Path:
    """Draw the backward graph behind ``loss`` to ``path``; return the path written.

    The DOT text is always written: to ``path`` itself when it ends in ``.dot``/``.gv``, else
    next to it (``graph.svg`` -> ``graph.dot``). For ``.svg``, ``.png`` or ``.pdf`` Graphviz's
    ``dot`` program renders the picture; without Graphviz a warning says how to get it and the
    DOT file's path is returned. Files are written atomically (a temporary file, then a rename).
    See ``graph_to_dot`` for ``model``, ``grads``, ``collapse`` and ``depth``.

    >>> import backprop as bp, tempfile, os
    >>> x = bp.ones(2, 3, requires_grad=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = draw_graph(x.exp().sum(), os.path.join(folder, "graph.dot"))
    ...     "ExpBackward" in written.read_text()
    True
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _dot.DOT_SUFFIXES and suffix not in _dot.PICTURE_FORMATS:
        known = ", ".join(_dot.DOT_SUFFIXES + tuple(_dot.PICTURE_FORMATS))
        raise ValueError(f"draw_graph: cannot tell what to write from the name {target.name!r}; "
                         f"give a path ending in one of {known}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"draw_graph: the folder {target.parent} does not exist; "
                                "create it first")
    text = _to_dot(loss, model, grads, collapse, depth)
    dot_path = target if suffix in _dot.DOT_SUFFIXES else target.with_suffix(".dot")
    _dot.write_atomically(dot_path, text)
    if suffix in _dot.PICTURE_FORMATS and not _dot.render_with_graphviz(
            "draw_graph", dot_path, target, _dot.PICTURE_FORMATS[suffix]):
        return dot_path
    return target


def graph_to_dot(loss: Tensor, *, model: Any = None, grads: bool = False,
                 collapse: bool | str = "auto", depth: int | None = None) -> str:
    """The backward graph behind ``loss`` as Graphviz DOT text.

    Each op is a box with its name (``grad_fn`` names) and output shape and dtype; each leaf an
    ellipse with its shape, dtype and, with ``model`` given, its parameter name. Arrows go
    from an op to the inputs it sends gradients to (one per message: ``x * x`` has two).

    ``grads=True`` runs one extra backward pass (the graph is kept, no ``.grad`` is touched;
    tensor hooks do run) and labels each arrow with the 2-norm of the gradient it carries,
    flagging NaN and inf entries in red. The seed is 1 for every element of ``loss``. It needs
    the values saved for backward: after ``loss.backward()`` (without ``retain_graph=True``)
    the graph is drawn without gradients, with a warning.

    A node whose graph uses several of its outputs, or one other than its first, is drawn as
    its box plus a box per output in use (``SplitBackward [output 1]`` and the output's shape);
    arrows reach the output they carry the gradient of, and each output box has an arrow to the
    node (labelled, with ``grads=True``, with the gradient that output received).

    ``collapse`` groups ops by module (recorded by ``record_origins()``): ``True``, ``False``,
    or ``'auto'`` (collapse when there are more than 60 boxes). Collapsed, each module path is
    cut to its first ``depth`` components (``'model.layers.0'`` has 3) and becomes one box
    counting its ops and parameters (a module without submodules is one box at any depth);
    by default the deepest cut that fits in about 60 boxes.
    """
    return _to_dot(loss, model, grads, collapse, depth)


def _to_dot(loss: Tensor, model: Any, grads: bool, collapse: bool | str,
            depth: int | None) -> str:
    """``graph_to_dot``'s body, called directly by both public functions so that a warning's
    ``stacklevel=3`` names the user's line."""
    roots = as_roots("draw_graph", loss)
    if collapse not in (True, False, "auto"):
        raise ValueError(f"draw_graph: collapse must be True, False or 'auto', got {collapse!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise ValueError(f"draw_graph: depth must be a positive int (module path components), "
                         f"got {depth!r}")
    graph = Graph(roots)
    names = parameter_names(model)
    modules = [_recorded_module(node) for node in graph.nodes]
    freed = [node for node in graph.nodes if node.freed is True]
    if grads and freed:
        warnings.warn(f"draw_graph: drawn without gradients: grads=True needs the values saved "
                      f"for backward, which loss.backward() freed (in {len(freed)} of "
                      f"{len(graph.nodes)} nodes). Call draw_graph before loss.backward(), or "
                      "keep them with loss.backward(retain_graph=True)", stacklevel=3)
    flows = _edge_gradients(graph) if grads and not freed else _Flows({}, {})
    drawn = len(graph.nodes) + len(graph.leaves)
    if collapse is True or (collapse == "auto" and drawn > AUTO_COLLAPSE_NODES):
        if not any(modules):
            if collapse is True:
                raise ValueError("draw_graph: collapse=True groups ops by the module that "
                                 "recorded them, but this graph has no module information; run "
                                 "the forward pass inside bp.diagnostics.record_origins()")
            warnings.warn(f"draw_graph: the graph has {drawn} nodes and no module information "
                          "to collapse it by; run the forward pass inside "
                          "bp.diagnostics.record_origins() for a readable picture",
                          stacklevel=3)
        else:
            return _draw(graph, names, modules, flows,
                         depth if depth is not None else _auto_depth(graph, names, modules))
    return _draw(graph, names, modules, flows, None)


def _recorded_module(node: Node) -> str:
    origin = ORIGINS.get(node)
    return "" if origin is None else origin.module


# -- gradients on edges ---------------------------------------------------------------------------

@dataclass
class _Flows:
    """The gradients of one extra backward: ``sent[(id(node), input slot)]`` along each arrow,
    ``received[(id(node), output)]`` by each output of a node with several."""

    sent: dict[tuple[int, int], _Flow]
    received: dict[tuple[int, int], _Flow]


class _GradientWatch(Observer):
    """Sees each node's rule run (the engine's ``node`` event) and notes what came in and
    what went out."""

    def __init__(self) -> None:
        self.flows = _Flows({}, {})

    def node(self, node: Node, grad: Any, create_graph: bool, proceed: Any) -> Any:
        results = proceed()
        for i, gi in enumerate(results):
            if gi is not None:
                self.flows.sent[(id(node), i)] = _flow(gi)
        if node.n_outputs != 1:  # grad is a tuple, one per output (None where none came)
            for k, gk in enumerate(grad):
                if gk is not None:
                    self.flows.received[(id(node), k)] = _flow(gk)
        return results


def _edge_gradients(graph: Graph) -> _Flows:
    """The gradients of one extra backward that keeps the graph, seen by an engine observer;
    ``autograd.grad`` returns the leaves' gradients instead of storing them, so no ``.grad``
    changes."""
    watch = _GradientWatch()
    if not graph.nodes:
        return watch.flows
    seeds = [Tensor._wrap(xp_of(r._data).ones_like(r._data)) for r in graph.roots]
    with observing(watch):
        autograd_grad(graph.roots, graph.leaves, grad_outputs=seeds, retain_graph=True,
                      allow_unused=True)
    return watch.flows


def _flow(g: Any) -> _Flow:
    a = g._data if isinstance(g, Tensor) else g
    xp = xp_of(a)
    wide = a.astype(xp.complex128 if a.dtype.kind == "c" else xp.float64, copy=False)
    return _Flow(float(xp.linalg.norm(wide.ravel())), int(xp.isnan(a).sum()),
                 int(xp.isinf(a).sum()))


def _arrow_style(flow: _Flow | None, count: int = 1) -> tuple[list[str], dict[str, str]]:
    lines = [] if flow is None else flow.lines()
    if count > 1:
        lines.insert(0, f"x{count}")
    return lines, (dict(_BAD) if flow is not None and (flow.nans or flow.infs) else {})


def _merge(flows: list[_Flow | None]) -> _Flow | None:
    """Several arrows drawn as one: the norm of all their gradients together."""
    known = [f for f in flows if f is not None]
    if not known:
        return None
    return _Flow(math.sqrt(sum(f.norm ** 2 for f in known)), sum(f.nans for f in known),
                 sum(f.infs for f in known))


# -- grouping -------------------------------------------------------------------------------------

class _Layout:
    """Where each node and leaf is drawn.

    ``node_box[k]`` / ``leaf_box[j]`` is the DOT id of the box showing node ``k`` / leaf ``j``:
    its own (``'n3'``, ``'l0'``) or, collapsed, its module's (``'m2'``; ``module_box`` maps
    each module path to that id). ``split[k]`` lists the outputs in use of a node drawn with a
    box per output, and ``output_box[(k, output)]`` is that box (its module's, collapsed).
    ``leaf_cluster[j]`` is the module a leaf belongs to: the one owning it (by parameter name)
    when that module recorded ops, else the one module all its consumers are in.
    """

    def __init__(self, graph: Graph, names: dict[int, str], modules: list[str],
                 depth: int | None) -> None:
        self.module_box: dict[str, str] = {}
        # Modules with recorded submodules: their own ops (residual adds...) are drawn one by
        # one above the depth, while a module without submodules always becomes one box.
        self.parents = {path.rsplit(".", n)[0] for path in set(modules)
                        for n in range(1, path.count(".") + 1)}
        self.node_box = [self._box(module, depth) or f"n{k}" for k, module in enumerate(modules)]
        # A node using only its first output is one box, like a node with one output (a
        # norm's statistics or cross-entropy's softmax are outputs only its own rule reads).
        used = used_outputs(graph)
        self.split = {k: used[id(node)] for k, node in enumerate(graph.nodes)
                      if node.n_outputs != 1 and used[id(node)] != [0]}
        self.output_box: dict[tuple[int, int], str] = {}
        for k, outputs in self.split.items():
            for output in outputs:
                box = self.node_box[k]
                own = f"n{len(graph.nodes) + len(self.output_box)}"
                self.output_box[(k, output)] = box if box.startswith("m") else own
        consumers: dict[int, set[int]] = {}
        for k, node in enumerate(graph.nodes):
            for edge in node.edges:
                if edge is not None and type(edge) is not Node:
                    consumers.setdefault(id(edge), set()).add(k)
        recorded = set(modules)
        self.leaf_box: list[str] = []
        self.leaf_cluster: list[str] = []
        for j, leaf in enumerate(graph.leaves):
            users = consumers.get(id(leaf), set())
            used_in = {modules[k] for k in users}
            module = ""
            owner = owner_module(names[id(leaf)]) if id(leaf) in names else ""
            if owner in recorded:  # the module that owns it ran (and recorded ops)
                module = owner
            elif len(used_in) == 1:
                module = used_in.pop()
            box = self._box(module, depth)
            if box is None and depth is not None and users:
                # A leaf all of whose users sit in one collapsed module goes inside it.
                shared = {self.node_box[k] for k in users}
                only = shared.pop() if len(shared) == 1 else ""
                box = only if only.startswith("m") else None
            self.leaf_box.append(box or f"l{j}")
            self.leaf_cluster.append(module)

    def _box(self, module: str, depth: int | None) -> str | None:
        """The collapsed box of ``module`` (None when it is drawn op by op)."""
        if depth is None or not module:
            return None
        if module.count(".") + 1 < depth and module in self.parents:
            return None
        path = ".".join(module.split(".")[:depth])
        if path not in self.module_box:
            self.module_box[path] = f"m{len(self.module_box)}"
        return self.module_box[path]

    def head(self, k: int, output: int) -> str:
        """The box an arrow carrying the gradient of node ``k``'s ``output`` points at."""
        return self.output_box.get((k, output)) or self.node_box[k]

    def boxes(self) -> int:
        return len(set(self.node_box) | set(self.leaf_box) | set(self.output_box.values()))


def _auto_depth(graph: Graph, names: dict[int, str], modules: list[str]) -> int:
    """The deepest cut of the module paths that draws at most ``AUTO_COLLAPSE_NODES`` boxes."""
    deepest = max(module.count(".") + 1 for module in modules if module)
    for depth in range(deepest, 0, -1):
        if _Layout(graph, names, modules, depth).boxes() <= AUTO_COLLAPSE_NODES:
            return depth
    return 1


# -- drawing --------------------------------------------------------------------------------------

def _draw(graph: Graph, names: dict[int, str], modules: list[str], flows: _Flows,
          depth: int | None) -> str:
    picture = _dot.Picture()
    metas = output_metas(graph)
    layout = _Layout(graph, names, modules, depth)
    roots = {(id(r.grad_fn), r._output_nr) for r in graph.roots if r.grad_fn is not None}
    bold = {"penwidth": "2"}
    inside: dict[str, list[Node]] = {box: [] for box in layout.module_box.values()}
    for k, node in enumerate(graph.nodes):
        box = layout.node_box[k]
        if box in inside:
            inside[box].append(node)
            continue
        split = layout.split.get(k)
        lines = [node.name()]
        if split is None and (id(node), 0) in metas:
            lines.append(describe(*metas[id(node), 0]))
        origin = ORIGINS.get(node)
        if origin is not None:
            lines.append(f"{os.path.basename(origin.filename)}:{origin.lineno}")
        root = split is None and (id(node), 0) in roots
        picture.add_box(box, lines, modules[k], **(bold if root else {}))
        for output in split or ():
            lines = [f"{node.name()} [output {output}]"]
            if (id(node), output) in metas:
                lines.append(describe(*metas[id(node), output]))
            picture.add_box(layout.output_box[k, output], lines, modules[k],
                            **(bold if (id(node), output) in roots else {}))
    params: dict[str, list[Tensor]] = {box: [] for box in inside}
    for j, leaf in enumerate(graph.leaves):
        box = layout.leaf_box[j]
        if box in params:
            params[box].append(leaf)
            continue
        lines = [names.get(id(leaf), "leaf"), describe(tuple(leaf.shape), leaf.dtype)]
        picture.add_box(box, lines, layout.leaf_cluster[j], **_LEAF)
    outputs = _module_outputs(graph, layout, metas)
    for path, box in layout.module_box.items():
        lines = _module_lines(path, inside[box], params[box], names)
        lines += [f"out {text}" for text in outputs.get(box, [])[:2]]
        picture.add_box(box, lines, path.rpartition(".")[0], fillcolor="lightyellow")
    _add_arrows(picture, graph, layout, flows, collapsed=depth is not None)
    return picture.render()


def _module_lines(path: str, nodes: list[Node], leaves: list[Tensor],
                  names: dict[int, str]) -> list[str]:
    """A collapsed module: its path, how many ops of each kind, its parameters."""
    lines = [path, f"{len(nodes)} op{'' if len(nodes) == 1 else 's'}"]
    counts = Counter(node.name() for node in nodes).most_common()
    lines += [f"{name} x{n}" if n > 1 else name for name, n in counts[:4]]
    if len(counts) > 4:
        lines.append(f"... {len(counts) - 4} more kinds")
    if leaves:
        values = sum(int(np.prod(leaf.shape, dtype=np.int64)) for leaf in leaves)
        # Names relative to the module: 'out_proj.weight' inside model.layers.0.self_attn.
        prefix = path.partition(".")[2] + "."
        shown = ", ".join(_relative(names.get(id(leaf), "leaf"), prefix) for leaf in leaves[:3])
        more = f", +{len(leaves) - 3}" if len(leaves) > 3 else ""
        lines.append(f"params: {shown}{more} ({values:,} values)")
    return lines


def _relative(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


def _consumed(graph: Graph) -> list[tuple[int, int, Any, int, int]]:
    """Every gradient message: ``(consumer k, input slot i, producer, its position j, which
    output of it)``, the position in ``graph.nodes`` or, for a leaf, in ``graph.leaves``."""
    return [(k, i, edge, graph.index[id(edge)], 0 if node.slots is None else node.slots[i])
            for k, node in enumerate(graph.nodes) for i, edge in enumerate(node.edges)
            if edge is not None]


def _module_outputs(graph: Graph, layout: _Layout, metas: dict) -> dict[str, list[str]]:
    """Per collapsed box, the shapes of what leaves it: outputs of its ops used outside it."""
    outputs: dict[str, list[str]] = {}
    leaving = [(graph.index[id(r.grad_fn)], r._output_nr) for r in graph.roots
               if r.grad_fn is not None]
    leaving += [(j, output) for k, _, edge, j, output in _consumed(graph)
                if type(edge) is Node and layout.node_box[j] != layout.node_box[k]]
    for j, output in leaving:
        box = layout.node_box[j]
        key = (id(graph.nodes[j]), output)
        if box in layout.module_box.values() and key in metas:
            text = describe(*metas[key])
            if text not in outputs.setdefault(box, []):
                outputs[box].append(text)
    return outputs


def _add_arrows(picture: _dot.Picture, graph: Graph, layout: _Layout, flows: _Flows,
                collapsed: bool) -> None:
    arrows = []
    for k, i, edge, j, output in _consumed(graph):
        head = layout.head(j, output) if type(edge) is Node else layout.leaf_box[j]
        arrows.append((layout.node_box[k], head, flows.sent.get((id(graph.nodes[k]), i))))
    for (k, output), box in layout.output_box.items():
        arrows.append((box, layout.node_box[k],
                       flows.received.get((id(graph.nodes[k]), output))))
    merged: dict[tuple[str, str], list[_Flow | None]] = {}
    for tail, head, flow in arrows:
        if not collapsed:
            lines, attrs = _arrow_style(flow)
            picture.add_arrow(tail, head, lines, **attrs)
        elif tail != head:  # arrows inside a collapsed module are not drawn
            merged.setdefault((tail, head), []).append(flow)
    for (tail, head), group in merged.items():
        lines, attrs = _arrow_style(_merge(group), len(group))
        picture.add_arrow(tail, head, lines, **attrs)
