"""More of ``bp.nn.functional``'s activations: the in-place forms PyTorch names with a trailing
underscore (``relu_``, ``elu_``, ...), ``rrelu`` (a random slope per element while training),
``prelu``, ``gumbel_softmax``, ``pdist`` and ``one_hot``. All composed from bp ops; the random
draws come from ``bp.manual_seed``'s generator, on the host.
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops.elementwise import gt, where
from ...ops.extrema import argmax
from ...ops.fused import softmax
from ...ops.pointwise_tail import prelu
from ...ops.reduction import norm
from ...ops.scatter import one_hot
from ...random import get_rng
from ...tensor import Tensor
from .activation import _maybe_inplace, celu, elu, hardtanh, leaky_relu, relu, selu
from .activation import threshold as _threshold


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``.

    >>> import backprop as bp
    >>> x = bp.tensor([-1., 2.]); bp.nn.functional.relu_(x) is x, x.tolist()
    (True, [0.0, 2.0])
    """
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``.

    >>> import backprop as bp
    >>> bp.nn.functional.elu_(bp.tensor([0., 2.])).tolist()
    [0.0, 2.0]
    """
    return elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``.

    >>> import backprop as bp
    >>> bp.nn.functional.celu_(bp.tensor([0., 2.])).tolist()
    [0.0, 2.0]
    """
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``.

    >>> import backprop as bp
    >>> bp.nn.functional.selu_(bp.tensor([0.])).tolist()
    [0.0]
    """
    return selu(input, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``.

    >>> import backprop as bp
    >>> bp.nn.functional.leaky_relu_(bp.tensor([-1., 2.]), 0.5).tolist()
    [-0.5, 2.0]
    """
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``.

    >>> import backprop as bp
    >>> bp.nn.functional.hardtanh_(bp.tensor([-3., 0.5])).tolist()
    [-1.0, 0.5]
    """
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``: ``value`` where ``input <= threshold``.

    >>> import backprop as bp
    >>> bp.nn.functional.threshold_(bp.tensor([0.1, 2.]), 0.5, -1.).tolist()
    [-1.0, 2.0]
    """
    return _threshold(input, threshold, value, inplace=True)



def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: while training each element ``x <= 0`` is multiplied by its own
    slope drawn uniformly from ``[lower, upper]`` (the gradient uses the same slope); in eval
    mode the slope is the mean ``(lower + upper) / 2``.

    >>> import backprop as bp
    >>> bp.nn.functional.rrelu(bp.tensor([-2., 3.]), 0.25, 0.75).tolist()
    [-1.0, 3.0]
    """
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, "
                         f"upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    draws = get_rng().uniform(lower, upper, input.shape).astype(input.dtype)
    noise = backend.on_device_of(draws, backend.array_of(input))
    # PyTorch's rule: x <= 0 takes the random slope, so the gradient at 0 is the slope too.
    slopes = where(gt(input, 0), 1.0, noise)
    return _maybe_inplace(input, inplace, "rrelu", lambda x: x * slopes)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``.

    >>> import backprop as bp
    >>> bp.nn.functional.rrelu_(bp.tensor([-2., 3.]), 0.25, 0.75).tolist()
    [-1.0, 3.0]
    """
    return rrelu(input, lower, upper, training, inplace=True)




def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with
    standard Gumbel noise ``g``; ``hard`` returns the one-hot of its argmax in the forward and
    the soft sample's gradient (the straight-through estimator). ``eps`` is unused, as in
    PyTorch.

    >>> import backprop as bp
    >>> y = bp.nn.functional.gumbel_softmax(bp.zeros(2, 3), hard=True)
    >>> y.sum(1).tolist()
    [1.0, 1.0]
    """
    draws = -np.log(get_rng().exponential(1.0, logits.shape)).astype(logits.dtype)
    gumbels = backend.on_device_of(draws, backend.array_of(logits))
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = backend.array_of(argmax(soft, dim, keepdim=True))
    values = backend.array_of(soft)
    onehot = backend.zeros(values.shape, values.dtype, values)
    np.put_along_axis(onehot, index, 1.0, axis=dim % values.ndim)
    return soft + (onehot - values)  # the forward's value is the one-hot; the gradient soft's


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distances between each pair of rows ``i < j`` of an ``(N, M)`` input, in
    row-major order of the pairs: ``N (N - 1) / 2`` values.

    >>> import backprop as bp
    >>> bp.nn.functional.pdist(bp.tensor([[0., 0.], [3., 4.], [0., 1.]])).tolist()
    [5.0, 1.0, 4.242640495300293]
    """
    if input.ndim != 2:
        raise ShapeError(f"pdist: input must be 2-D (N, M), got {format_shape(input.shape)}")
    if p < 0:
        raise ValueError(f"pdist: p must be non-negative, got {p}")
    first, second = np.triu_indices(input.shape[0], 1)
    like = backend.array_of(input)
    diff = input[backend.on_device_of(first, like)] - input[backend.on_device_of(second, like)]
    return norm(diff, p, 1)


__all__ = ["celu_", "elu_", "gumbel_softmax", "hardtanh_", "leaky_relu_", "one_hot", "pdist",
           "prelu", "relu_", "rrelu", "rrelu_", "selu_", "threshold_"]
