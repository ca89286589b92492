"""Numerical gradient checks: full Jacobians by central differences, compared with the engine's.

Used by the test suite for every op, and offered to users for their own ``Function``s.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..errors import DTypeError
from ..tensor import Tensor
from .grad_mode import enable_grad, no_grad


class GradcheckError(AssertionError):
    """The analytical and numerical Jacobians differ."""


def _as_tuple(value: Any) -> tuple:
    return value if isinstance(value, (tuple, list)) else (value,)


def _differentiable(inputs: Sequence[Any]) -> list[int]:
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _flat_outputs(fn: Callable, inputs: Sequence[Any]) -> np.ndarray:
    with no_grad():
        outs = _as_tuple(fn(*inputs))
    parts = [o._data.astype(np.float64).ravel() for o in outs
             if isinstance(o, Tensor) and o.dtype.kind in "fcV"]
    return np.concatenate(parts) if parts else np.zeros(0)


def numerical_jacobian(fn: Callable, inputs: Sequence[Any], eps: float = 1e-6,
                       kink_tol: float | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Central-difference Jacobians d(flat outputs)/d(flat input) for each input requiring grad.

    Also returns, per input, a mask of columns at a kink (where the one-sided slopes disagree by
    more than ``kink_tol``), whose central difference does not estimate a derivative.
    """
    jacobians, kinks = [], []
    base = _flat_outputs(fn, inputs)
    for i in _differentiable(inputs):
        x = inputs[i]._data
        flat = x.reshape(-1)  # a view: writes perturb the input in place
        if flat.size and not np.shares_memory(flat, x):
            raise ValueError("gradcheck: inputs must be contiguous")
        jac = np.zeros((base.size, flat.size))
        kink = np.zeros(flat.size, dtype=bool)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + eps
            plus = _flat_outputs(fn, inputs)
            flat[j] = saved - eps
            minus = _flat_outputs(fn, inputs)
            flat[j] = saved
            jac[:, j] = (plus - minus) / (2 * eps)
            if kink_tol is not None:
                right, left = (plus - base) / eps, (base - minus) / eps
                kink[j] = bool(np.any(np.abs(right - left) > kink_tol))
        jacobians.append(jac)
        kinks.append(kink)
    return jacobians, kinks


def analytical_jacobian(fn: Callable, inputs: Sequence[Any]) -> list[np.ndarray]:
    """Jacobians assembled row by row from the engine's vector-Jacobian products."""
    from .functional import grad

    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.dtype.kind in "fcV"]
    which = _differentiable(inputs)
    sizes = [o._data.size for o in outs]
    jacobians = [np.zeros((sum(sizes), inputs[i]._data.size)) for i in which]
    row = 0
    for k, out in enumerate(outs):
        for r in range(sizes[k]):
            if out.requires_grad:
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed.reshape(-1)[r] = 1
                grads = grad([out], [inputs[i] for i in which], [Tensor._wrap(seed)],
                             retain_graph=True, allow_unused=True)
                for col, g in enumerate(grads):
                    if g is not None:
                        jacobians[col][row] = g._data.astype(np.float64).ravel()
            row += 1
    return jacobians


def gradcheck(fn: Callable, inputs: Sequence[Any], *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, skip_kinks: bool = False) -> bool:
    """Compare the engine's Jacobian of ``fn`` at ``inputs`` with central differences.

    Inputs that require grad must be float64 (float32 differences are too coarse for the
    tolerances). ``skip_kinks`` ignores input elements where ``fn`` is not differentiable
    (one-sided slopes differ), such as ReLU at 0 or ties in ``max``.

    >>> import backprop as bp
    >>> x = bp.randn(3, dtype=bp.float64, requires_grad=True)
    >>> bp.autograd.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
    True
    """
    inputs = tuple(_as_tuple(inputs))
    for i in _differentiable(inputs):
        if inputs[i].dtype != np.float64:
            raise DTypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; use float64 "
                             "inputs (finite differences in float32 are too coarse)")
    numerical, kinks = numerical_jacobian(fn, inputs, eps, kink_tol=atol * 100 if skip_kinks
                                          else None)
    analytical = analytical_jacobian(fn, inputs)
    for n, (num, ana, kink) in enumerate(zip(numerical, analytical, kinks)):
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        bad[:, kink] = False
        if bad.any():
            if not raise_exception:
                return False
            r, c = np.argwhere(bad)[0]
            raise GradcheckError(
                f"gradcheck: Jacobian mismatch for input {_differentiable(inputs)[n]} at output "
                f"element {r}, input element {c}: analytical {ana[r, c]:.10g} vs numerical "
                f"{num[r, c]:.10g}\nanalytical:\n{ana}\nnumerical:\n{num}"
            )
    return True


def gradgradcheck(fn: Callable, inputs: Sequence[Any], grad_outputs: Sequence[Any] | None = None,
                  *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) -> VJP of ``fn`` with v.

    >>> import backprop as bp
    >>> x = bp.randn(3, dtype=bp.float64, requires_grad=True)
    >>> bp.autograd.gradgradcheck(lambda t: t.tanh() * t, (x,))
    True
    """
    from .functional import grad

    inputs = tuple(_as_tuple(inputs))
    which = _differentiable(inputs)
    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor._wrap(rng.standard_normal(o.shape)) for o in outs]
    vs = [v.detach().requires_grad_() for v in grad_outputs]
    n = len(inputs)

    def vjp(*args: Any) -> tuple:
        xs, us = args[:n], args[n:]
        with enable_grad():  # the numerical pass calls this under no_grad
            ys = [o for o in _as_tuple(fn(*xs)) if isinstance(o, Tensor) and o.requires_grad]
            return grad(ys, [xs[i] for i in which], list(us), create_graph=True,
                        materialize_grads=True)

    return gradcheck(vjp, inputs + tuple(vs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
