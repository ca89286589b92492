"""Flatten parameters into one vector and back (``torch.nn.utils.parameters_to_vector``)."""

from __future__ import annotations

from collections.abc import Iterable

from ...ops.join import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    >>> import backprop as bp
    >>> bp.nn.utils.parameters_to_vector(bp.nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the next slice of ``vec`` (the inverse of
    ``parameters_to_vector``). The parameters then share ``vec``'s storage, as in PyTorch.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(1, 1)
    >>> bp.nn.utils.vector_to_parameters(bp.tensor([2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: vec must be a bp.Tensor, got "
                        f"{type(vec).__name__}")
    parameters = list(parameters)
    needed = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != needed:
        raise ValueError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not fit "
                         f"the parameters, which hold {needed} values (a 1-D vector of that "
                         "length is needed)")
    array = vec._data
    start = 0
    for param in parameters:
        n = param.numel()
        param.data = array[start:start + n].reshape(param.shape)
        start += n
