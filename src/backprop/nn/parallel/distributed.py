"""``DistributedDataParallel``: one model trained by many processes, each on its share of the
batch, kept identical by averaging gradients (``torch.nn.parallel.DistributedDataParallel``)."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...distributed.collectives import all_reduce_array, broadcast_arrays
from ...distributed.errors import DistributedError
from ...distributed.group import current
from ...distributed.nccl import transport_for
from ...tensor import Tensor
from ..module import Module
from .reducer import Reducer, model_signature, used_parameters


class DistributedDataParallel(Module):
    """Wrap ``module`` so that training it in N processes (``mpiexec -n N``) equals training
    it in one on the N shards of each batch together.

    At construction rank 0's parameters and buffers are copied to every rank (after checking
    that all ranks built the same model). During each ``backward()`` of an output of this
    wrapper, gradients are averaged over the ranks in buckets of about ``bucket_cap_mb``
    megabytes, in reverse parameter order, each bucket's all-reduce starting as soon as its
    gradients are ready, while the rest of backward runs; when ``backward()`` returns, every
    rank holds the same averaged ``.grad`` and the optimizer steps identically everywhere.

    - ``no_sync()``: forwards inside it accumulate gradients locally; the next forward outside
      it averages the accumulated sum (gradient accumulation with one exchange).
    - ``broadcast_buffers``: copy rank 0's buffers (batch-norm statistics) at every forward.
    - ``find_unused_parameters``: allow forwards that leave some parameters without a
      gradient (the output's graph is walked after each forward to find them).
    - ``module``: the wrapped model; ``state_dict()`` and ``load_state_dict()`` pass through to
      it (no ``module.`` prefix, unlike PyTorch, so checkpoints load into the bare model; a
      ``module.``-prefixed state dict from PyTorch loads too).

    Call ``bp.distributed.init()`` first. CPU tensors only (GPU ranks are not supported yet).

    >>> import backprop as bp
    >>> import backprop.distributed as dist
    >>> from backprop.nn.parallel import DistributedDataParallel
    >>> _ = dist.init()
    >>> model = DistributedDataParallel(bp.nn.Linear(3, 1))
    >>> model(bp.ones(4, 3)).sum().backward()   # the gradient, averaged over the ranks
    >>> model.module.bias.grad.tolist()
    [4.0]
    """

    def __init__(self, module: Module, device_ids: list[Any] | None = None,
                 output_device: Any = None, dim: int = 0, broadcast_buffers: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False) -> None:
        super().__init__()
        name = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{name}: module must be a bp.nn.Module, got {type(module).__name__}")
        _check_device_ids(module, device_ids, output_device, name)
        if dim != 0:
            raise ValueError(f"{name}: only dim=0 (split batches along the first dimension) is "
                             f"supported; got dim={dim}")
        if process_group is not None:
            raise ValueError(f"{name}: sub-groups are not supported; leave process_group=None")
        cap = 25.0 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not cap > 0:
            raise ValueError(f"{name}: bucket_cap_mb must be a positive number; got "
                             f"{bucket_cap_mb!r}")
        group = current(name)
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self.__dict__["_group"] = group
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        _check_same_model(module, group)
        _broadcast_tensors([t for _, t in _state_tensors(module)],
                           f"{name}: copying rank 0's parameters", group)
        devices = {p.device for _, p in named}
        # Collective, so every rank asks, whatever its model holds.
        transport = transport_for(devices.pop() if len(devices) == 1 else backend.CPU, group)
        self.__dict__["reducer"] = Reducer([p for _, p in named], [n for n, _ in named], group,
                                           int(cap * 1024 * 1024), transport)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        group = self._group
        if self.broadcast_buffers and group.world_size > 1:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_tensors(buffers, "DistributedDataParallel: copying rank 0's buffers",
                                   group)
        sync = grad_mode.state.enabled and self.require_backward_grad_sync
        if not sync:
            return self.module(*inputs, **kwargs)
        output = self.module(*inputs, **kwargs)
        reducer = self.reducer
        unused = None
        if self.find_unused_parameters:
            used = used_parameters(output, reducer.params)
            unused = set(range(len(reducer.params))) - used
        reducer.prepare(unused)
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forwards (and their backwards) inside this block accumulate gradients locally,
        without talking to the other ranks; the first synced backward after it averages the
        accumulated sum.

        >>> import backprop as bp
        >>> import backprop.distributed as dist
        >>> from backprop.nn.parallel import DistributedDataParallel
        >>> _ = dist.init()
        >>> model = DistributedDataParallel(bp.nn.Linear(2, 1))
        >>> with model.no_sync():
        ...     model(bp.ones(1, 2)).sum().backward()   # local only
        >>> model(bp.ones(1, 2)).sum().backward()       # averages both micro-batches' sum
        >>> model.module.bias.grad.tolist()
        [2.0]
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """The wrapped module's ``state_dict`` (same keys as the bare model)."""
        return self.module.state_dict(destination, prefix, keep_vars)

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:
        """Load into the wrapped module; keys saved by PyTorch's DDP (``module.`` in front)
        are accepted too."""
        if state_dict and all(key.startswith("module.") for key in state_dict):
            state_dict = {key[len("module."):]: value for key, value in state_dict.items()}
        return self.module.load_state_dict(state_dict, strict, assign)

    def extra_repr(self) -> str:
        return (f"world_size={self._group.world_size}, buckets={len(self.reducer.buckets)}"
                + (", find_unused_parameters=True" if self.find_unused_parameters else ""))


def _state_tensors(module: Module) -> list[tuple[str, Tensor]]:
    return [*module.named_parameters(), *module.named_buffers()]


def _check_same_model(module: Module, group: Any) -> None:
    """Refuse ranks whose models differ in names, shapes or dtypes (the copy from rank 0 would
    otherwise mix bytes of unrelated tensors, or wait forever for a message of another size)."""
    signature = model_signature(_state_tensors(module))
    both = np.array([signature, -signature], np.int64)
    all_reduce_array(both, "max", "DistributedDataParallel: comparing the ranks' models", group)
    if both[0] != -both[1]:  # the largest and the smallest signature differ
        raise DistributedError("DistributedDataParallel: the ranks built different models "
                               "(parameter or buffer names, shapes or dtypes differ); every "
                               "rank must construct the same model before wrapping it")


__all__ = ["DistributedDataParallel"]


def _broadcast_tensors(tensors: list[Tensor], what: str, group: Any) -> None:
    """Rank 0's values into every rank's ``tensors``; device tensors go through host copies
    (the MPI library is not assumed to be CUDA-aware)."""
    arrays = [backend.to_host(t._data) for t in tensors]
    broadcast_arrays(arrays, 0, what, group)
    for tensor, array in zip(tensors, arrays):
        if array is not tensor._data:
            tensor._data[...] = backend.to_device(array, tensor.device)


def _check_device_ids(module: Module, device_ids: Any, output_device: Any, name: str) -> None:
    """PyTorch's ``device_ids=[local_rank]`` names the one device this rank's model is on; the
    model must already be there (``model.to(device)`` first), as the outputs stay there."""
    if device_ids is None and output_device is None:
        return
    named = [d for d in (*(device_ids or ()), output_device) if d is not None]
    wanted = {backend.as_device(d, name) for d in named}
    on = {p.device for p in module.parameters()}
    if len(device_ids or [None]) != 1 or len(on) != 1 or wanted != on:
        listed = ", ".join(sorted(str(d) for d in on))
        raise ValueError(f"{name}: device_ids={device_ids!r}, output_device={output_device!r} "
                         f"must name the one device the model is on ({listed}); move the model "
                         "there first, or leave them out")
