"""What converters see: the ONNX name of each traced tensor, and shapes that follow the
dynamic axes.

A model traced at two sizes of its dynamic axes runs the same ops; a shape argument that
differs between the two runs (``x.view(x.size(0), -1)`` gives (2, -1), then (5, -1)) is built
in the graph from the input's ``Shape``, so the exported file works at any size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._graph import Graph, OnnxExporterError


def host(tensor: Tensor) -> np.ndarray:
    """The tensor's values as a NumPy array on the host."""
    from ..backend import to_host

    return to_host(tensor.detach()._data)


@dataclass
class Event:
    """One traced call, as converters see it: the first run's arguments and result, and the
    second run's arguments (equal to the first unless the op depends on the dynamic sizes)."""

    name: str
    args: tuple
    params: dict
    out: Any
    where: str
    other_args: tuple
    other_params: dict
    module: Any = None  # the module, for a module converted as a whole

    def fail(self, message: str) -> OnnxExporterError:
        place = f" (in {self.where})" if self.where else ""
        return OnnxExporterError(f"onnx.export: op '{self.name}'{place}: {message}")


class Context:
    """The graph being built and the ONNX value of every traced tensor."""

    def __init__(self, graph: Graph, parameters: dict[int, tuple[str, Tensor]],
                 dynamic: dict[tuple[int, int], tuple[str, int]]) -> None:
        self.graph = graph
        self.parameters = parameters
        self.dynamic = dynamic  # (size at run 1, size at run 2) -> (graph input, axis)
        self.qualnames: dict[int, str] = {}  # module id -> its name in the model
        self.values: dict[int, str] = {}
        self.keep: list[Any] = []  # traced tensors stay alive: their ids stay theirs
        self.unmapped: dict[int, str] = {}  # outputs no converter wrote, by who made them
        self.stale: dict[int, str] = {}  # tensors changed through a view, and how
        self._shapes: dict[str, str] = {}

    @property
    def opset(self) -> int:
        return self.graph.opset

    def node(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1,
             **attributes: Any) -> Any:
        return self.graph.node(op_type, inputs, outputs, **attributes)

    def bind(self, tensor: Any, name: str | None, maker: str = "") -> None:
        if not isinstance(tensor, Tensor):
            return
        self.keep.append(tensor)
        if name is None:
            self.unmapped[id(tensor)] = maker
        else:
            self.values[id(tensor)] = name
            self.unmapped.pop(id(tensor), None)

    def written_through(self, view: Tensor, event: Event) -> None:
        """``view`` was written in place: its base and the base's other views now hold values
        the graph does not compute, so using them fails."""
        base = view._view.base
        how = f"op '{event.name}' wrote into a view of it" + (
            f" (in {event.where})" if event.where else "")
        for tensor in [base, *self.keep]:
            if tensor is view or not (tensor is base or (
                    tensor._view is not None and tensor._view.base is base)):
                continue
            self.values.pop(id(tensor), None)
            self.stale[id(tensor)] = how

    def known(self, x: Any) -> bool:
        return isinstance(x, Tensor) and (id(x) in self.values or id(x) in self.parameters)

    def value(self, x: Any, dtype: Any = None) -> str:
        """The ONNX name of ``x``: a traced tensor, a parameter or buffer (an initializer named
        as in the state dict), or a constant (an array, a number: of ``dtype`` when given)."""
        if isinstance(x, Tensor):
            key = id(x)
            if key in self.values:
                return self.values[key]
            if key in self.stale:
                raise OnnxExporterError(f"onnx.export: a tensor is used after {self.stale[key]}"
                                        "; that write is not exported: write into a .clone(), "
                                        "or use the out-of-place op")
            if key in self.parameters:
                name, tensor = self.parameters[key]
                return self.graph.initializer(name, host(tensor))
            if key in self.unmapped:
                raise OnnxExporterError(f"onnx.export: a result of op '{self.unmapped[key]}' is "
                                        "used, but its exporter writes only the op's main result")
            # A tensor made inside forward: a constant, written once however often it is used.
            self.keep.append(x)
            name = self.values[key] = self.graph.constant(host(x))
            return name
        array = np.asarray(x)
        if dtype is not None:
            array = array.astype(dtype)
        elif not isinstance(x, np.ndarray) and array.dtype == np.float64:
            array = array.astype(np.float32)  # a Python float: the default dtype
        return self.graph.constant(array)

    def shape_of(self, name: str) -> str:
        if name not in self._shapes:
            self._shapes[name] = self.node("Shape", [name])
        return self._shapes[name]

    def sizes(self, event: Event, first: Sequence[int], second: Sequence[int], what: str,
              infer_one: bool = False) -> str:
        """A 1-D int64 value holding ``first`` where the two runs agree, each size that
        follows a dynamic axis read from the graph input's shape; with ``infer_one`` a single
        other differing size (a product of sizes, as in ``view(-1, 320)``) becomes -1."""
        first, second = tuple(int(v) for v in first), tuple(int(v) for v in second)
        if len(first) != len(second):
            raise event.fail(f"{what} has {len(first)} entries at one size of the dynamic axes "
                             f"and {len(second)} at another")
        if first == second:
            return self.graph.ints(first)
        pieces: list[Any] = []
        unresolved = []
        for i, (a, b) in enumerate(zip(first, second)):
            if a == b:
                pieces.append(a)
            elif (a, b) in self.dynamic:
                pieces.append(self.dynamic[(a, b)])
            else:
                unresolved.append(i)
                pieces.append(-1)
        if unresolved and not (infer_one and len(unresolved) == 1 and -1 not in first):
            raise event.fail(f"{what} {first} changes with the dynamic axes (it was {second} at "
                             "another size) in a way the exporter cannot follow; compute it from "
                             "x.size(dim) of a dynamic axis, or export without dynamic_axes")
        names = []
        constants: list[int] = []
        for piece in pieces:
            if isinstance(piece, tuple):
                if constants:
                    names.append(self.graph.ints(constants))
                    constants = []
                source, axis = piece
                names.append(self.node("Gather", [self.shape_of(source), self.graph.ints([axis])],
                                       axis=0))
            else:
                constants.append(piece)
        if constants:
            names.append(self.graph.ints(constants))
        return names[0] if len(names) == 1 else self.node("Concat", names, axis=0)


Converter = Callable[[Context, Event], Any]
