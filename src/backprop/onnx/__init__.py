"""ONNX export: ``backprop.onnx.export`` writes a model as an ONNX graph, as ``torch.onnx.export``
does (``torch.onnx`` in programs run by ``backprop run``). Needs the onnx extra:
``pip install 'backprop[onnx]'``.

Exported: Linear, Conv1d/2d/3d, max and average pooling (adaptive average too), BatchNorm in
eval mode, LayerNorm, the usual activations, Dropout (eval mode: nothing), Embedding, reshape,
view, flatten, permute, transpose, cat, stack, indexing with ints and slices, arithmetic,
matmul, mean and sum, MultiheadAttention and the Transformer encoder (as MatMul, Softmax, ...),
and LSTM, GRU and RNN (one ONNX LSTM/GRU/RNN node per layer).

>>> import backprop as bp
>>> bp.onnx.is_in_onnx_export()
False
"""

from ._export import DEFAULT_OPSET, OperatorExportTypes, TrainingMode, export, is_in_onnx_export
from ._graph import OnnxExporterError

__all__ = ["DEFAULT_OPSET", "OnnxExporterError", "OperatorExportTypes", "TrainingMode", "export",
           "is_in_onnx_export"]
