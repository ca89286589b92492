"""``backends.numba_sgd``: SGD's compiled update equals the NumPy passes bit for bit, for every
option, and runs only where it applies."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import optim
from backprop.backends import numba as numba_switch
from backprop.backends import numba_sgd

pytestmark = pytest.mark.skipif(not numba_switch.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")

# (momentum, dampening, weight_decay, nesterov, maximize): every combination SGD accepts
OPTIONS = [(m, d, wd, nesterov, maximize)
           for m, d, wd, nesterov, maximize in itertools.product(
               (0.0, 0.9), (0.0, 0.3), (0.0, 0.01), (False, True), (False, True))
           if not (nesterov and (m == 0 or d != 0))]


def _train(dtype: Any, options: tuple, steps: int = 3) -> list[np.ndarray]:
    """The parameters and momentum buffers after ``steps`` updates with fixed gradients; the
    (5,) parameter is under the kernels' ``min_size``."""
    momentum, dampening, weight_decay, nesterov, maximize = options
    rng = np.random.default_rng(1)
    params = [bp.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
              for shape in ((300, 7), (5,), (300, 250))]
    opt = optim.SGD(params, lr=0.03, momentum=momentum, dampening=dampening,
                    weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
    for _ in range(steps):
        for p in params:
            p.grad = bp.tensor(rng.standard_normal(p.shape).astype(dtype))
        opt.step()
    buffers = [opt.state[p]["momentum_buffer"].numpy() for p in params if opt.state[p]]
    return [p.detach().numpy() for p in params] + buffers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_the_update_is_the_numpy_passes_bit_for_bit(dtype: Any, options: tuple,
                                                    monkeypatch: Any) -> None:
    ran = []
    real = numba_sgd.sgd_update

    def spy(*args: Any, **kwargs: Any) -> bool:
        done = real(*args, **kwargs)
        ran.append(done)
        return done

    monkeypatch.setattr(numba_switch, "enabled", False)
    slow = _train(dtype, options)
    monkeypatch.setattr(numba_switch, "enabled", True)
    monkeypatch.setitem(bp.kernels._TABLES["sgd_update"], np.ndarray, (spy,))
    fast = _train(dtype, options)
    # (without momentum, decay or maximize only a parameter over 256 KiB reaches the kernel)
    assert True in ran
    for a, b in zip(slow, fast, strict=True):
        assert b.dtype == dtype
        np.testing.assert_array_equal(b, a)


def test_the_kernel_declines_what_it_does_not_cover() -> None:
    numba_switch.is_available()  # loads Numba, which the kernel waits for
    options = {"first": False, "lr": 0.1, "momentum": 0.9, "dampening": 0.0,
               "weight_decay": 0.0, "nesterov": False, "maximize": False}
    data, grad = np.ones(512, np.float32), np.ones(512, np.float32)
    assert numba_sgd.sgd_update(data, grad, np.zeros(512, np.float32), **options)
    assert not numba_sgd.sgd_update(data, grad.astype(np.float64), None, **options)  # dtypes
    assert not numba_sgd.sgd_update(data, grad, np.zeros(511, np.float32), **options)  # shape
    assert not numba_sgd.sgd_update(np.ones(8, np.float32), np.ones(8, np.float32), None,
                                    **options)  # under min_size
    strided = np.ones(1024, np.float32)[::2]
    assert not numba_sgd.sgd_update(strided, grad, None, **options)
