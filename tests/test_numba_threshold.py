"""``threshold_backward`` (ReLU's backward): the compiled kernel (``backends.numba_threshold``)
and the NumPy path against PyTorch's ``aten::threshold_backward``, bit for bit, with NaN, inf
and signed zeros in both operands; ReLU's gradient and gradient of gradient with the kernels
on and off."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as numba_switch
from backprop.backends import numba_threshold
from backprop.ops.primitive import PRIMITIVES

torch = pytest.importorskip("torch")

FLOATS = [np.float32, np.float64]


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def kernels_on(request):
    saved = numba_switch.enabled
    numba_switch.enabled = request.param and numba_switch.is_available()
    try:
        yield numba_switch.enabled
    finally:
        numba_switch.enabled = saved


def _operands(dtype: type, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(len(shape))
    grad = rng.standard_normal(shape).astype(dtype)
    input = np.maximum(rng.standard_normal(shape), 0).astype(dtype)
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    input.reshape(-1)[:5] = specials
    grad.reshape(-1)[:10] = specials + specials[::-1]
    return grad, input


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4, 25), (2, 5)], ids=str)  # kernel's size and below it
@pytest.mark.parametrize("threshold", [0, 0.5])
def test_threshold_backward_is_torchs_bit_for_bit(kernels_on, dtype, shape, threshold):
    grad, input = _operands(dtype, shape)
    got = PRIMITIVES["threshold_backward"](grad, input, threshold)
    want = torch.ops.aten.threshold_backward(torch.from_numpy(grad), torch.from_numpy(input),
                                             threshold).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    ints = np.int32 if dtype == np.float32 else np.int64
    np.testing.assert_array_equal(got.view(ints), want.view(ints))
    ran = numba_threshold.threshold_backward(grad, input, threshold)
    assert (ran is not None) == (kernels_on and grad.size >= numba_switch.min_size)


def test_kernel_declines_what_it_does_not_cover(kernels_on):
    grad, input = _operands(np.float32, (600,))
    assert numba_threshold.threshold_backward(grad, input.astype(np.float64), 0) is None
    assert numba_threshold.threshold_backward(grad[::2], input[::2], 0) is None
    assert numba_threshold.threshold_backward(grad, input, np.float32(0)) is None


@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_gradients_match_torch(kernels_on, dtype):
    grad, input = _operands(dtype, (4, 5, 30))
    x = bp.tensor(input.astype(np.float64) - 0.5, requires_grad=True)
    tx = torch.tensor(input.astype(np.float64) - 0.5, requires_grad=True)
    outs = []
    for lib, v in ((bp, x), (torch, tx)):
        y = lib.relu(v)
        (gx,) = lib.autograd.grad((y * y).sum(), v, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), v)
        outs.append((y.detach().numpy(), gx.detach().numpy(), ggx.detach().numpy()))
    for ours, theirs in zip(*outs):
        np.testing.assert_array_equal(ours, theirs)


def test_vmap_batches_relus_backward_without_a_loop(recwarn):
    from backprop import func

    x = np.random.default_rng(3).standard_normal((4, 6))
    per_example = func.vmap(func.grad(lambda row: (bp.relu(row) ** 2).sum()))(bp.tensor(x))
    np.testing.assert_array_equal(per_example.numpy(), 2 * np.maximum(x, 0))
    assert not [w for w in recwarn if "no batching rule" in str(w.message)]
