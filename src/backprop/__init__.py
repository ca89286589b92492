"""backprop: reverse-mode automatic differentiation over n-dimensional arrays, with PyTorch's API.

>>> import backprop as bp
>>> w = bp.tensor([0.5, -1.0], requires_grad=True)
>>> loss = ((w * 3) ** 2).sum()
>>> loss.backward()
>>> w.grad.tolist()
[9.0, -18.0]
"""

from __future__ import annotations

from . import autograd, backends, cuda, datasets, dtypes, heap, nn, ops, optim, utils
from .backend import device
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, logspace, ones, ones_like, rand, rand_like, randint, randint_like,
                       randn, randn_like, randperm, tensor, zeros, zeros_like)
from .creation import tril_indices, triu_indices  # issue 17
from .dtype_info import *  # noqa: F403
from .dtypes import (bool, complex64, complex128, double, float, float16, float32, float64,
                     get_default_dtype, half, int, int8, int16, int32, int64, long, promote_types,
                     result_type, set_default_dtype, short, uint8)
from .errors import (DimError, DTypeError, DTypeOverflowError, GraphError,
                     IntegerDivisionByZeroError, ShapeError)
from .layout import (channels_last, channels_last_3d, contiguous_format, memory_format,
                     preserve_format)
from .ops.complex_ops import *  # noqa: F403
from .ops.conv import *  # noqa: F403
from .ops.copies_more import *  # noqa: F403
from .ops.elementwise import *  # noqa: F403
from .ops.elementwise import allclose, equal  # predicates returning a Python bool
from .ops.extrema import *  # noqa: F403
from .ops.fused import *  # noqa: F403
from .ops.indexing import *  # noqa: F403
from .ops.indexing_more import *  # noqa: F403
from .ops.join import *  # noqa: F403
from .ops.linalg import *  # noqa: F403
from .ops.linalg_decompositions import *  # noqa: F403
from .ops.linalg_products import *  # noqa: F403
from .ops.linalg_solve import *  # noqa: F403
from .ops.masked_reductions import *  # noqa: F403
from .ops.pointwise_more import *  # noqa: F403
from .ops.pointwise_tail import *  # noqa: F403
from .ops.pooling import *  # noqa: F403
from .ops.rearrange import *  # noqa: F403
from .ops.reduction import *  # noqa: F403
from .ops.reductions_more import *  # noqa: F403
from .ops.sampling import *  # noqa: F403
from .ops.scatter import *  # noqa: F403
from .ops.shape import *  # noqa: F403
from .ops.shape_more import *  # noqa: F403
from .ops.shape_more import Size, broadcast_shapes
from .ops.special import *  # noqa: F403
from .ops.special_functions import *  # noqa: F403
from .ops.special_polynomials import *  # noqa: F403
from .ops.spectral import *  # noqa: F403
from .ops.views_more import *  # noqa: F403
# torch.lstm_cell and its kin: the one-step functions nn.LSTMCell and nn.LSTM are made of
from .nn.functional.recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from .random import Generator, default_generator, manual_seed
from .serialization import load, save
from .tensor import Tensor
from .legacy_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                           HalfTensor, IntTensor, LongTensor, ShortTensor)
from .threads import get_num_threads, set_num_threads
# The namespaces PyTorch keeps apart: torch.linalg, torch.special, torch.fft, torch.masked and
# torch.signal. They load after the ops they re-export.
from . import fft, linalg, masked, signal, special  # noqa: E402
from .signal.windows import (bartlett_window, blackman_window, hamming_window,  # noqa: E402
                             hann_window, kaiser_window)
# issue 18: the small modules and switches real PyTorch programs touch
from . import accelerator, compiler
from . import amp  # noqa: E402
from .amp.autocast_mode import (autocast, clear_autocast_cache, get_autocast_dtype,  # noqa: E402
                                is_autocast_cache_enabled, is_autocast_enabled,
                                set_autocast_dtype)
from ._switches import *
from .autograd.inference_mode import inference_mode, is_inference_mode_enabled
from .compiler import compile
from .threads import get_num_interop_threads, set_num_interop_threads

__version__ = "0.1.0"

heap.apply_default()

# Imported on first use (``bp.diagnostics.memory_report``), so ``import backprop`` stays fast.
_LAZY_SUBMODULES = ("alternatives", "cpu", "diagnostics", "distributed", "distributions", "func",
                    "models", "multiprocessing", "onnx", "profiler", "streaming")


def __getattr__(name: str) -> object:
    if name == "bfloat16":  # imports the optional ml_dtypes on first mention: see dtypes.py
        return dtypes.bfloat16
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")
