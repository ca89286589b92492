"""The ONNX graph under construction: nodes, initializers, fresh value names, constants.

The ``onnx`` package is imported here, lazily, by whoever builds a graph: it is an optional
extra, and backprop itself never needs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'backprop[onnx]'"


def require_onnx() -> Any:
    """The ``onnx`` module, or an ImportError saying which extra provides it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"torch.onnx.export needs the onnx package: {INSTALL_HINT}") from None
    return onnx


class OnnxExporterError(RuntimeError):
    """A model (or an argument of ``export``) that cannot be written as ONNX."""


class Graph:
    """Nodes in the order they were made (each one's inputs exist before it), initializers by
    name, and a counter for fresh value names."""

    def __init__(self, opset: int) -> None:
        self.onnx = require_onnx()
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}
        self._count = 0
        self._scalars: dict[tuple, str] = {}

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"/{hint}_{self._count}"

    def node(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1,
             **attributes: Any) -> Any:
        """Add a node; returns its output name (one output) or the list of names."""
        names = ([self.fresh(op_type) for _ in range(outputs)] if isinstance(outputs, int)
                 else outputs)
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, names,
                                                     name=f"{op_type}_{len(self.nodes)}",
                                                     **attributes))
        return names[0] if isinstance(outputs, int) and outputs == 1 else names

    def initializer(self, name: str, array: np.ndarray) -> str:
        # (np.ascontiguousarray would make a 0-d array 1-d)
        self.initializers.setdefault(name, array if array.flags.c_contiguous
                                     else array.copy(order="C"))
        return name

    def constant(self, array: Any, dtype: Any = None, hint: str = "const") -> str:
        """An initializer holding ``array`` (small scalars are shared)."""
        array = np.asarray(array, dtype=dtype)
        if array.size == 1 and array.ndim <= 1:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key not in self._scalars:
                self._scalars[key] = self.initializer(self.fresh(hint), array)
            return self._scalars[key]
        return self.initializer(self.fresh(hint), array)

    def ints(self, values: Any) -> str:
        """A 1-D int64 constant (axes, shapes, slice bounds)."""
        return self.constant(np.asarray(list(values), dtype=np.int64), hint="ints")


def tensor_type(dtype: np.dtype) -> int:
    """ONNX's element type for a NumPy dtype."""
    onnx = require_onnx()
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
