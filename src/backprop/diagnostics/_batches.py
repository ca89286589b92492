"""The data a loss-surface probe evaluates on, and the mean loss over it.

Shared by ``landscape`` (hundreds of evaluations, one per grid point) and ``hessian`` (one
Hessian-vector product per power iteration). Both need every evaluation to see the same samples,
so the data is read once into a list of batches; a shuffling DataLoader would otherwise give each
grid point a different sample and paint noise onto the surface.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..errors import ShapeError, format_shape
from ..nn.module import Module
from ..tensor import Tensor

Batch = tuple[Tensor, Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]


def _is_array(value: Any) -> bool:
    return isinstance(value, (Tensor, np.ndarray))


def as_batches(data: Any, op: str) -> list[Batch]:
    """``data`` as a list of ``(inputs, targets)`` tensor pairs.

    One batch is a pair whose two items are tensors or arrays; anything else must be an iterable
    of such pairs (a DataLoader, a list), read to the end once.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(map(_is_array, data)):
        items = [data]
    else:
        try:
            items = list(data)
        except TypeError:
            raise TypeError(f"{op}: data must be one (inputs, targets) batch or an iterable of "
                            f"them (a DataLoader, a list); got {type(data).__name__}") from None
    batches = []
    for i, item in enumerate(items):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(map(_is_array, item))):
            kind = type(item).__name__
            size = f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""
            raise TypeError(f"{op}: data batch {i} is a {kind}{size}; expected an (inputs, "
                            "targets) pair of tensors or arrays")
        inputs, targets = (as_tensor(value) for value in item)
        if inputs.ndim and targets.ndim and inputs.shape[0] != targets.shape[0]:
            raise ShapeError(f"{op}: data batch {i} has inputs of shape "
                             f"{format_shape(inputs.shape)} but targets of shape "
                             f"{format_shape(targets.shape)}: their first sizes differ")
        batches.append((inputs, targets))
    if not batches:
        raise ValueError(f"{op}: data holds no batches; give at least one (inputs, targets) pair")
    return batches


def batch_size(targets: Tensor) -> int:
    """The number of samples in a batch: the weight of its loss in the mean over all batches."""
    return int(targets.shape[0]) if targets.ndim else 1


def scalar_loss(loss: Any, op: str) -> Tensor:
    """``loss`` checked to be what ``loss_fn`` must return: a tensor with one element."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"{op}: loss_fn must return a tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ShapeError(f"{op}: loss_fn must return a scalar (reduction='mean' or 'sum'), got "
                         f"a tensor of shape {format_shape(loss.shape)}")
    return loss


def _correct(outputs: Tensor, targets: Tensor) -> int | None:
    """How many rows of class scores pick their target class; None when the outputs are not
    class scores ``(N, C, ...)`` for integer class indices ``(N, ...)``."""
    scores, labels = outputs.detach().numpy(), targets.detach().numpy()
    if (not np.issubdtype(labels.dtype, np.integer) or scores.ndim != labels.ndim + 1
            or scores.ndim < 2 or scores.shape[:1] + scores.shape[2:] != labels.shape):
        return None
    return int((scores.argmax(axis=1) == labels).sum())


def mean_loss(model: Module, loss_fn: LossFn, batches: list[Batch], op: str,
              accuracy: bool) -> tuple[float, float | None]:
    """The loss averaged over all samples (each batch weighted by its size) and, when asked
    for and the outputs are class scores, the accuracy; computed under ``no_grad``."""
    total = 0.0
    correct: int | None = 0
    count = 0
    with no_grad():
        for inputs, targets in batches:
            outputs = model(inputs)
            n = batch_size(targets)
            total += float(scalar_loss(loss_fn(outputs, targets), op).item()) * n
            count += n
            if accuracy and correct is not None:
                hits = _correct(outputs, targets)
                correct = None if hits is None else correct + hits
    mean_accuracy = correct / count if accuracy and correct is not None else None
    return total / count, mean_accuracy


def looks_like_classification(model: Module, batch: Batch) -> bool:
    """Whether the model's outputs on ``batch`` are class scores for integer targets."""
    with no_grad():
        return _correct(model(batch[0]), batch[1]) is not None


@contextlib.contextmanager
def eval_mode(model: Module) -> Iterator[None]:
    """Every submodule in eval mode (dropout off, batch norm on running statistics), each
    submodule's own flag given back afterwards, even on an exception."""
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        # modules() is parents first, and train() recurses: each module's own call comes after
        # all of its ancestors' calls, so every module ends with its own flag.
        for module, training in flags:
            module.train(training)
