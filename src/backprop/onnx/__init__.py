"""ONNX export: ``backprop.onnx.export`` writes a model as an ONNX graph, as ``torch.onnx.export``
does (it is ``torch.onnx`` in programs run by ``backprop run``). Needs the onnx extra:
``pip install 'backprop[onnx]'``.

The model runs once under an engine observer (twice with ``dynamic_axes``, the second time with
each dynamic axis resized, so that shapes read from ``x.size(0)`` follow it), in eval mode and
without gradients; each primitive it calls becomes ONNX nodes, parameters and buffers become
initializers named as in the state dict, and ``onnx.checker.check_model`` checks the result.

Exported: Linear, Conv1d/2d/3d, ConvTranspose, max and average pooling (adaptive average
too), BatchNorm in eval mode, LayerNorm, GroupNorm, RMSNorm, the usual activations (ReLU,
LeakyReLU, PReLU, ELU, SELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Hardtanh, Softmax,
LogSoftmax), Dropout in eval mode (nothing), Embedding, reshape/view/flatten, permute,
transpose, (un)squeeze, expand, cat, stack, split, indexing with ints and slices,
index_select, gather, padding, arithmetic, comparisons, matmul, the reductions
mean/sum/amax/logsumexp/argmax/var/std/norm, cumsum, in-place ops, LSTM, GRU and RNN (one ONNX
LSTM/GRU/RNN node per layer: the sequence length stays dynamic), LSTMCell and GRUCell steps,
and MultiheadAttention (MatMul, Softmax and Where, its masks graph values) with the
Transformer layers built on it. Another op fails the export, naming the op and its module.

Not exported: dropout in training mode (``training=TrainingMode.TRAINING`` is refused),
PackedSequence inputs, random values drawn inside forward (they become constants: a warning
says so), and control flow that changes with the input's size (refused when the two traced
runs differ).

>>> import backprop as bp
>>> bp.onnx.is_in_onnx_export()
False
"""

from ._export import (
    DEFAULT_OPSET,
    OperatorExportTypes,
    TrainingMode,
    export,
    is_in_onnx_export,
)
from ._graph import OnnxExporterError

__all__ = ["DEFAULT_OPSET", "OnnxExporterError", "OperatorExportTypes", "TrainingMode", "export",
           "is_in_onnx_export"]
