"""``DataParallel``: PyTorch's single-process wrapper, honest about what we do with it.

PyTorch's ``DataParallel`` splits each batch across GPUs, runs a replica on each and gathers the
results. Without a GPU (PyTorch's CPU case) it calls the module directly, and so do we. With
GPUs we run the whole batch on ``device_ids[0]`` (inputs moved there, outputs moved to
``output_device``): backprop has no replicas or per-device streams, so splitting the batch would
only queue the pieces one after another on one process. For several GPUs use
``DistributedDataParallel`` with one MPI process per GPU.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ... import backend, cuda
from ...tensor import Tensor
from ..module import Module

__all__ = ["DataParallel"]


def _moved(value: Any, device: Any) -> Any:
    """``value`` with every tensor in it (through tuples, lists and dicts) on ``device``."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (tuple, list)):
        moved = [_moved(v, device) for v in value]
        return type(value)(*moved) if hasattr(value, "_fields") else type(value)(moved)
    if isinstance(value, dict):
        return type(value)((k, _moved(v, device)) for k, v in value.items())
    return value


def _device(which: Any) -> backend.device:
    return backend.as_device(which if isinstance(which, (str, backend.device))
                             else backend.cuda_device(which), "DataParallel")


class DataParallel(Module):
    """Wraps ``module`` as ``torch.nn.DataParallel`` does (``.module``, state-dict keys
    prefixed ``module.``); on a machine without a GPU it calls the module directly.

    >>> import backprop as bp
    >>> model = bp.nn.DataParallel(bp.nn.Linear(3, 2))
    >>> list(model.state_dict())
    ['module.weight', 'module.bias']
    >>> model(bp.ones(4, 3)).shape
    (4, 2)
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        if cuda.device_count() == 0:  # PyTorch's CPU case: no devices, a plain call
            self.device_ids: list[Any] = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        if len(device_ids) == 0:
            raise ValueError("DataParallel: device_ids is empty; pass None to use every GPU")
        self.device_ids = [_device(d).index for d in device_ids]
        self.output_device = _device(device_ids[0] if output_device is None
                                     else output_device).index
        self.dim = dim
        self.src_device_obj = backend.device("cuda", self.device_ids[0])
        if len(self.device_ids) > 1:
            warnings.warn(f"DataParallel: running the whole batch on cuda:{self.device_ids[0]}; "
                          f"backprop does not replicate modules over {self.device_ids} (use "
                          "DistributedDataParallel with one MPI process per GPU)", stacklevel=2)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        for name, t in [*self.module.named_parameters(), *self.module.named_buffers()]:
            if t.device != self.src_device_obj:
                raise RuntimeError(f"DataParallel: module must have its parameters and buffers "
                                   f"on device {self.src_device_obj} (device_ids[0]) but {name} "
                                   f"is on {t.device}")
        outputs = self.module(*_moved(inputs, self.src_device_obj),
                              **_moved(kwargs, self.src_device_obj))
        return _moved(outputs, backend.device("cuda", self.output_device))
