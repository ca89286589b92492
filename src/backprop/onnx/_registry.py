"""The converters' table: a primitive's name -> the function writing its ONNX nodes.

A converter gets the context and the traced ``Event`` and returns the ONNX name of the op's
result (a list, one per output, for ops with several; None for one it does not write).
``dynamic`` names the arguments (positions, or parameter names) that may differ between the
two traced sizes because the converter reads them from the second run too.
"""

from __future__ import annotations

from collections.abc import Callable

from ._context import Converter

CONVERTERS: dict[str, Converter] = {}
DYNAMIC: dict[str, frozenset] = {}

# Ops that have no converter on purpose, and what to do instead.
HINTS = {
    "dropout": "dropout in training mode is random and is not exported; export with "
               "training=TrainingMode.EVAL (the default), and give F.dropout "
               "training=self.training rather than its default True",
    "batch_norm": "batch norm with batch statistics (training mode); export with "
                  "training=TrainingMode.EVAL (the default) or call model.eval() first",
}


def converter(*names: str, dynamic: tuple = ()) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for name in names:
            CONVERTERS[name] = function
            DYNAMIC[name] = frozenset(dynamic)
        return function
    return register
