"""``bp.nn.grad``: convolution gradients with respect to input and weight, against PyTorch's
``torch.nn.grad`` on strided, padded, dilated and grouped convolutions in 1, 2 and 3 dims."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp

CASES = [  # (dims, input shape, weight shape, stride, padding, dilation, groups)
    (1, (2, 4, 9), (6, 2, 3), 2, 1, 2, 2),
    (2, (2, 3, 6, 5), (4, 3, 3, 2), (2, 1), (1, 0), 1, 1),
    (2, (1, 4, 5, 5), (4, 1, 3, 3), 1, 2, 2, 4),
    (3, (1, 2, 4, 3, 4), (3, 2, 2, 2, 3), (1, 2, 1), 1, 1, 1),
]


@pytest.mark.parametrize("dims,input_shape,weight_shape,stride,padding,dilation,groups", CASES)
def test_conv_input_and_weight_gradients_match_torch(torch: Any, dims: int, input_shape: tuple,
                                                     weight_shape: tuple, stride: Any,
                                                     padding: Any, dilation: Any,
                                                     groups: int) -> None:
    rng = np.random.default_rng(dims)
    x, w = rng.standard_normal(input_shape), rng.standard_normal(weight_shape)
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    out_shape = conv(torch.tensor(x), torch.tensor(w), None, stride, padding, dilation,
                     groups).shape
    g = rng.standard_normal(tuple(out_shape))
    options = (stride, padding, dilation, groups)
    ours = getattr(bp.nn.grad, f"conv{dims}d_input")(input_shape, bp.tensor(w), bp.tensor(g),
                                                     *options)
    theirs = getattr(torch.nn.grad, f"conv{dims}d_input")(input_shape, torch.tensor(w),
                                                          torch.tensor(g), *options)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
    ours = getattr(bp.nn.grad, f"conv{dims}d_weight")(bp.tensor(x), weight_shape, bp.tensor(g),
                                                      *options)
    theirs = getattr(torch.nn.grad, f"conv{dims}d_weight")(torch.tensor(x), weight_shape,
                                                           torch.tensor(g), *options)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_a_grad_output_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(bp.ShapeError, match=r"gradient has shape \(1, 1, 5\) but output 0 has "
                                            r"shape \(1, 1, 3\)"):
        bp.nn.grad.conv1d_input((1, 1, 4), bp.ones(1, 1, 2), bp.ones(1, 1, 5))
