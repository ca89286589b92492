"""Special functions with no elementary form (issue 17): the Bessel and Airy functions, the
modified Bessel functions ``i0``/``i1`` (with gradients, as PyTorch's) and ``k0``/``k1``.

Every kernel computes in float64 (``special_bessel``) and rounds to the input's dtype, so
float32 results are float64's rounded. PyTorch defines no derivative for the Bessel functions of
``torch.special`` other than ``i0``, ``i0e``, ``i1`` and ``i1e``: ours refuse to differentiate
them too (the backward pass raises, naming the op), rather than invent a rule.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from . import special_bessel as B
from .elementwise import abs, gt, sign, where
from .primitive import primitive
from .special import _floating  # integers computed in the default float dtype


def _in_float64(kernel: Callable[[np.ndarray], np.ndarray], input: Any) -> Any:
    """``kernel`` on ``input`` in float64 (as a flat array: the kernels index by masks), rounded
    back to the input's dtype."""
    x = np.asarray(input, dtype=np.float64)
    return kernel(x.reshape(-1)).reshape(x.shape).astype(input.dtype, copy=False)


# -- modified Bessel functions of the first kind, with PyTorch's gradients ----------------------

@primitive("i0", save=("input",), grads={"input": lambda g, out, input: g * _i1(input)})
def _i0(input: Any) -> Any:
    return _in_float64(B.i0, input)


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0, ``I0(x)``, elementwise
    (``torch.i0``, also ``torch.special.i0``); its derivative is ``I1``.

    >>> import backprop as bp
    >>> round(bp.i0(bp.tensor(1.0)).item(), 6)
    1.266066
    """
    return _i0(_floating(input))


@primitive("special_i0e", save=("input", "out"), grads={
    "input": lambda g, out, input: g * (_i1e(input) - sign(input) * out)})
def _i0e(input: Any) -> Any:
    return _in_float64(B.i0_scaled, input)


def i0e(input: Tensor) -> Tensor:
    """``exp(-|x|) I0(x)``, elementwise: I0 without its overflow (``torch.special.i0e``).

    >>> import backprop as bp
    >>> round(bp.special.i0e(bp.tensor(1000.0)).item(), 6)  # I0(1000) overflows float32
    0.012619
    """
    return _i0e(_floating(input))


def _not_tiny(input: Any) -> Any:
    """|x| above the dtype's epsilon, false at NaN: where PyTorch's i1 and i1e gradients take
    their formula rather than the limit 1/2 at 0 (its test, NaN included)."""
    return gt(abs(input), float(np.finfo(input.dtype).eps))


def _i1_grad(g: Any, out: Any, input: Any) -> Any:
    # I1'(x) = I0(x) - I1(x) / x, whose limit at 0 is 1/2.
    formula = _not_tiny(input)
    safe = where(formula, input, 1.0)
    return g * where(formula, _i0(safe) - out / safe, 0.5)


@primitive("special_i1", save=("input", "out"), grads={"input": _i1_grad})
def _i1(input: Any) -> Any:
    return _in_float64(B.i1, input)


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1, ``I1(x)``, elementwise
    (``torch.special.i1``).

    >>> import backprop as bp
    >>> round(bp.special.i1(bp.tensor(1.0)).item(), 6)
    0.565159
    """
    return _i1(_floating(input))


def _i1e_grad(g: Any, out: Any, input: Any) -> Any:
    # d/dx exp(-|x|) I1(x) = i0e(x) - i1e(x) (sign(x) + 1 / x), whose limit at 0 is 1/2.
    formula = _not_tiny(input)
    safe = where(formula, input, 1.0)
    return g * where(formula, _i0e(safe) - out * (sign(safe) + 1.0 / safe), 0.5)


@primitive("special_i1e", save=("input", "out"), grads={"input": _i1e_grad})
def _i1e(input: Any) -> Any:
    return _in_float64(B.i1_scaled, input)


def i1e(input: Tensor) -> Tensor:
    """``exp(-|x|) I1(x)``, elementwise (``torch.special.i1e``).

    >>> import backprop as bp
    >>> round(bp.special.i1e(bp.tensor(1.0)).item(), 6)
    0.207910
    """
    return _i1e(_floating(input))


# -- Bessel and Airy functions without gradients (PyTorch defines none) -------------------------

def _no_gradient_op(name: str, kernel: Callable[[np.ndarray], np.ndarray]) -> Any:
    """A primitive computing ``kernel`` whose backward pass raises: PyTorch's derivative of
    ``torch.special.<name>`` is "not implemented", so a made-up one could not be checked."""

    def forward(input: Any) -> Any:
        return _in_float64(kernel, input)

    forward.__name__ = name
    return primitive(f"special_{name}", grads={})(forward)


_airy_ai = _no_gradient_op("airy_ai", B.airy_ai)
_bessel_j0 = _no_gradient_op("bessel_j0", B.j0)
_bessel_j1 = _no_gradient_op("bessel_j1", B.j1)
_bessel_y0 = _no_gradient_op("bessel_y0", B.y0)
_bessel_y1 = _no_gradient_op("bessel_y1", B.y1)
_modified_bessel_i0 = _no_gradient_op("modified_bessel_i0", B.i0)
_modified_bessel_i1 = _no_gradient_op("modified_bessel_i1", B.i1)
_modified_bessel_k0 = _no_gradient_op("modified_bessel_k0", B.k0)
_modified_bessel_k1 = _no_gradient_op("modified_bessel_k1", B.k1)
_scaled_modified_bessel_k0 = _no_gradient_op("scaled_modified_bessel_k0",
                                             lambda x: B.k0(x, scaled=True))
_scaled_modified_bessel_k1 = _no_gradient_op("scaled_modified_bessel_k1",
                                             lambda x: B.k1(x, scaled=True))
_spherical_bessel_j0 = _no_gradient_op("spherical_bessel_j0", B.spherical_j0)


def airy_ai(input: Tensor) -> Tensor:
    """The Airy function ``Ai(x)``, elementwise (``torch.special.airy_ai``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.airy_ai(bp.tensor(0.0)).item(), 6)
    0.355028
    """
    return _airy_ai(_floating(input))


def bessel_j0(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 0, ``J0(x)``, elementwise
    (``torch.special.bessel_j0``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.bessel_j0(bp.tensor(1.0)).item(), 6)
    0.765198
    """
    return _bessel_j0(_floating(input))


def bessel_j1(input: Tensor) -> Tensor:
    """The Bessel function of the first kind of order 1, ``J1(x)``, elementwise
    (``torch.special.bessel_j1``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.bessel_j1(bp.tensor(1.0)).item(), 6)
    0.440051
    """
    return _bessel_j1(_floating(input))


def bessel_y0(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 0, ``Y0(x)``, elementwise (``-inf`` at
    0, nan below; ``torch.special.bessel_y0``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.bessel_y0(bp.tensor(1.0)).item(), 6)
    0.088257
    """
    return _bessel_y0(_floating(input))


def bessel_y1(input: Tensor) -> Tensor:
    """The Bessel function of the second kind of order 1, ``Y1(x)``, elementwise (``-inf`` at
    0, nan below; ``torch.special.bessel_y1``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.bessel_y1(bp.tensor(1.0)).item(), 6)
    -0.781213
    """
    return _bessel_y1(_floating(input))


def modified_bessel_i0(input: Tensor) -> Tensor:
    """``I0(x)`` as ``torch.special.modified_bessel_i0``: the values of ``i0``, no gradient.

    >>> import backprop as bp
    >>> round(bp.special.modified_bessel_i0(bp.tensor(1.0)).item(), 6)
    1.266066
    """
    return _modified_bessel_i0(_floating(input))


def modified_bessel_i1(input: Tensor) -> Tensor:
    """``I1(x)`` as ``torch.special.modified_bessel_i1``: the values of ``i1``, no gradient.

    >>> import backprop as bp
    >>> round(bp.special.modified_bessel_i1(bp.tensor(1.0)).item(), 6)
    0.565159
    """
    return _modified_bessel_i1(_floating(input))


def modified_bessel_k0(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 0, ``K0(x)``, elementwise
    (``inf`` at 0, nan below; ``torch.special.modified_bessel_k0``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.modified_bessel_k0(bp.tensor(1.0)).item(), 6)
    0.421024
    """
    return _modified_bessel_k0(_floating(input))


def modified_bessel_k1(input: Tensor) -> Tensor:
    """The modified Bessel function of the second kind of order 1, ``K1(x)``, elementwise
    (``inf`` at 0, nan below; ``torch.special.modified_bessel_k1``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.modified_bessel_k1(bp.tensor(1.0)).item(), 6)
    0.601907
    """
    return _modified_bessel_k1(_floating(input))


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:
    """``exp(x) K0(x)``, elementwise: K0 without its underflow
    (``torch.special.scaled_modified_bessel_k0``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.scaled_modified_bessel_k0(bp.tensor(1.0)).item(), 6)
    1.144463
    """
    return _scaled_modified_bessel_k0(_floating(input))


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:
    """``exp(x) K1(x)``, elementwise (``torch.special.scaled_modified_bessel_k1``); not
    differentiable.

    >>> import backprop as bp
    >>> round(bp.special.scaled_modified_bessel_k1(bp.tensor(1.0)).item(), 6)
    1.636154
    """
    return _scaled_modified_bessel_k1(_floating(input))


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """The spherical Bessel function of the first kind of order 0, ``sin(x) / x`` (1 at 0),
    elementwise (``torch.special.spherical_bessel_j0``); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.spherical_bessel_j0(bp.tensor(1.0)).item(), 6)
    0.841471
    """
    return _spherical_bessel_j0(_floating(input))


__all__ = ["i0"]
