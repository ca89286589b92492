"""Gradients of complex numbers follow PyTorch's convention: for a real loss L of z = x + iy,
z.grad is dL/dx + i dL/dy. Checked against PyTorch on the basic ops whose rules had to
conjugate (mul, div, exp, pow, matmul, abs) and on the complex ops themselves."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.errors import GraphError

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
W = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
M = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
R = RNG.uniform(0.5, 2.0, (2, 3))

def _unary(name: str, m: Any, z: Any, w: Any, a: Any, r: Any) -> Any:
    return getattr(m, name)(z * 0.3) * w


CASES: dict[str, Callable[[Any, Any, Any, Any, Any], Any]] = {
    "mul": lambda m, z, w, a, r: z * w,
    "div": lambda m, z, w, a, r: z / w,
    "exp": lambda m, z, w, a, r: z.exp() * w,
    "pow": lambda m, z, w, a, r: z ** 3,
    "pow-tensor": lambda m, z, w, a, r: z ** w,
    "matmul": lambda m, z, w, a, r: z @ a,
    "abs": lambda m, z, w, a, r: z.abs() * r,
    "sum": lambda m, z, w, a, r: (z * w).sum() * z,
    "real-imag": lambda m, z, w, a, r: m.real(z) * m.imag(w),
    "conj": lambda m, z, w, a, r: m.conj(z) * w,
    "angle": lambda m, z, w, a, r: m.angle(z * w),
    "view_as_real": lambda m, z, w, a, r: m.view_as_real(z * w),
    "real-times-complex": lambda m, z, w, a, r: r * z,  # r's gradient: the real part
    "polar": lambda m, z, w, a, r: m.polar(r, m.angle(z)),
    "prod": lambda m, z, w, a, r: m.prod(z, 1) * m.prod(w),
    "cumprod": lambda m, z, w, a, r: m.cumprod(z, 1) * w,
    # a zero factor takes the rules' other path (no division by the input)
    "prod-at-zero": lambda m, z, w, a, r: m.prod(z * (r > 0.8), 1),
    "cumprod-at-zero": lambda m, z, w, a, r: m.cumprod(z * (r > 0.8), 1) * w,
    **{name: functools.partial(_unary, name)
       for name in ("exp2", "expm1", "log", "log2", "log1p", "sqrt", "rsqrt", "reciprocal",
                    "sin", "cos", "tan", "tanh")},
}


def _real_loss(out: Any) -> Any:
    return (out.abs() ** 2).sum() if out.is_complex() else (out * out).sum()


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_pytorch(name: str) -> None:
    f = CASES[name]
    ours = [bp.tensor(v, requires_grad=True) for v in (Z, W, M, R)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (Z, W, M, R)]
    ours_grads = bp.autograd.grad(_real_loss(f(bp, *ours)), ours, allow_unused=True)
    theirs_grads = torch.autograd.grad(_real_loss(f(torch, *theirs)), theirs, allow_unused=True)
    for a, b in zip(ours_grads, theirs_grads):
        if b is None:
            assert a is None or not a.numpy().any()
            continue
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_allclose(a.numpy(), b.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)


def test_abs_of_complex128_is_float64() -> None:
    assert bp.tensor(Z).abs().dtype == bp.float64


def test_a_complex_loss_needs_an_explicit_gradient() -> None:
    z = bp.tensor(Z, requires_grad=True)
    with pytest.raises(GraphError, match="only for real scalar outputs"):
        (z * z).sum().backward()
