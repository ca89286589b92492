"""Special functions with no elementary form (issue 17): the Bessel and Airy functions, the
modified Bessel functions ``i0``/``i1`` (with gradients, as PyTorch's) and ``k0``/``k1``; the
normal distribution's ``ndtr``, ``log_ndtr`` and ``ndtri``, ``erfcx`` and ``erfinv``; Hurwitz's
``zeta``; the regularised incomplete gamma functions ``igamma``/``igammac``; the multivariate
log-gamma ``mvlgamma``.

The kernels (``special_bessel``, ``special_numerics``) compute in float64 and the result is
rounded to the input's dtype (float32 ``ndtr`` alone has a float32 kernel, the exact GELU's).
PyTorch defines no derivative for the Bessel and Airy functions of ``torch.special`` other than
``i0``, ``i0e``, ``i1`` and ``i1e``, none for zeta, and none in ``a`` for the incomplete gamma
functions: ours refuse those too (the backward pass raises, naming the op and the input),
rather than invent a rule PyTorch could not check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import on_host
from ..tensor import Tensor
from . import special_bessel as B
from . import special_numerics as N
from .elementwise import abs, add, exp, gt, log, sign, where
from .erf_numerics import erf_array, normal_cdf_float32
from .primitive import primitive
from .special import _floating, lgamma  # integers computed in the default float dtype

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


_BLOCK = 16384  # elements: a block's float64 temporaries stay in cache


# The kernels are NumPy series with masked stores and loops that stop per element, which CuPy
# cannot run as they are: on a GPU the input is copied to the host and the result back.
@on_host
def _in_float64(kernel: Callable[..., np.ndarray], input: Any, **params: Any) -> Any:
    """``kernel`` on ``input`` in float64 (as a flat array: the kernels index by masks), rounded
    back to the input's dtype. Large inputs go in blocks: the kernels make tens of passes over
    their data, several times faster while it stays in cache."""
    x = np.asarray(input, dtype=np.float64).reshape(-1)
    if x.size <= _BLOCK:
        out = kernel(x, **params)
    else:
        out = np.empty_like(x)
        for start in range(0, x.size, _BLOCK):
            out[start:start + _BLOCK] = kernel(x[start:start + _BLOCK], **params)
    with np.errstate(over="ignore"):  # float64 results beyond float32's range round to inf
        return out.reshape(np.shape(input)).astype(input.dtype, copy=False)


# -- modified Bessel functions of the first kind, with PyTorch's gradients ----------------------

def _narrow(input: Any) -> bool:
    """Whether the result is float32 (or float16): its series may leave out the terms below
    float32's rounding (``special_bessel``)."""
    return input.dtype.itemsize <= 4


@primitive("i0", save=("input",), grads={"input": lambda g, out, input: g * _i1(input)})
def _i0(input: Any) -> Any:
    return _in_float64(B.i0, input, narrow=_narrow(input))


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
    return _in_float64(B.i0_scaled, input, narrow=_narrow(input))


def i0e(input: Tensor) -> Tensor:
    """``exp(-|x|) I0(x)``, elementwise: I0 without its overflow (``torch.special.i0e``).

    >>> import backprop as bp
    >>> round(bp.special.i0e(bp.tensor(1000.0)).item(), 6)  # I0(1000) overflows float32
    0.012617
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
    return _in_float64(B.i1, input, narrow=_narrow(input))


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
    return _in_float64(B.i1_scaled, input, narrow=_narrow(input))


def i1e(input: Tensor) -> Tensor:
    """``exp(-|x|) I1(x)``, elementwise (``torch.special.i1e``).

    >>> import backprop as bp
    >>> round(bp.special.i1e(bp.tensor(1.0)).item(), 6)
    0.20791
    """
    return _i1e(_floating(input))


# -- Bessel and Airy functions without gradients (PyTorch defines none) -------------------------

def _no_gradient_op(name: str, kernel: Callable[..., np.ndarray], narrows: bool = False) -> Any:
    """A primitive computing ``kernel`` whose backward pass raises: PyTorch's derivative of
    ``torch.special.<name>`` is "not implemented", so a made-up one could not be checked.
    ``narrows``: the kernel takes ``narrow`` (see ``_narrow``)."""

    def forward(input: Any) -> Any:
        if narrows:
            return _in_float64(kernel, input, narrow=_narrow(input))
        return _in_float64(kernel, input)

    forward.__name__ = name
    return primitive(f"special_{name}", grads={})(forward)


_airy_ai = _no_gradient_op("airy_ai", B.airy_ai)
_bessel_j0 = _no_gradient_op("bessel_j0", B.j0)
_bessel_j1 = _no_gradient_op("bessel_j1", B.j1)
_bessel_y0 = _no_gradient_op("bessel_y0", B.y0)
_bessel_y1 = _no_gradient_op("bessel_y1", B.y1)
_modified_bessel_i0 = _no_gradient_op("modified_bessel_i0", B.i0, narrows=True)
_modified_bessel_i1 = _no_gradient_op("modified_bessel_i1", B.i1, narrows=True)
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
    1.636153
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


# -- the normal distribution, erfcx, erfinv -------------------------------------------------------

@primitive("special_ndtr", save=("input",), grads={
    "input": lambda g, out, input: g * _INV_SQRT_2PI * exp(input * input * -0.5)})
def _ndtr(input: Any) -> Any:
    return _ndtr_array(input)


@on_host  # on a GPU too, the float32 kernel runs on the host, so that both devices agree
def _ndtr_array(input: np.ndarray) -> np.ndarray:
    if input.dtype == np.float32 and input.size:
        # the exact GELU's float32 kernel: one approximation for all x, within float32's
        # rounding of the float64 answer, in a third of erf's passes
        with np.errstate(under="ignore"):
            return normal_cdf_float32(input, False)[0]
    return _in_float64(lambda x: 0.5 * erf_array(x * -_SQRT1_2, complement=True), input)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal distribution's CDF, ``(1 + erf(x / sqrt 2)) / 2``, elementwise
    (``torch.special.ndtr``), computed from erfc so that the lower tail keeps its digits.

    >>> import backprop as bp
    >>> round(bp.special.ndtr(bp.tensor(1.0)).item(), 6)
    0.841345
    """
    return _ndtr(_floating(input))


def _log_ndtr_kernel(x: np.ndarray) -> np.ndarray:
    # Below -1 from erfcx (log Phi ~ -x^2 / 2 has no underflow); above, log1p of the small
    # upper tail. PyTorch's formulas, so that both round alike.
    lower, upper = x < -1.0, x >= -1.0
    with np.errstate(all="ignore"):
        if upper.all():  # the common case: no masks to gather and scatter by
            return np.log1p(erf_array(x * _SQRT1_2, complement=True) * -0.5)
        out = np.full(x.shape, np.nan)
        if lower.any():
            t = x[lower] * _SQRT1_2
            out[lower] = np.log(N.erfcx(-t) / 2.0) - t * t
        if upper.any():
            out[upper] = np.log1p(-erf_array(x[upper] * _SQRT1_2, complement=True) / 2.0)
    return out


@primitive("special_log_ndtr", save=("input", "out"), grads={
    "input": lambda g, out, input: g * _INV_SQRT_2PI * exp(-(out + input * input * 0.5))})
def _log_ndtr(input: Any) -> Any:
    return _in_float64(_log_ndtr_kernel, input)


def log_ndtr(input: Tensor) -> Tensor:
    """``log(ndtr(x))``, elementwise, accurate far into the lower tail (``-x^2 / 2`` where
    ``ndtr`` underflows; ``torch.special.log_ndtr``).

    >>> import backprop as bp
    >>> round(bp.special.log_ndtr(bp.tensor(-40.0)).item(), 3)  # ndtr(-40) underflows
    -804.608
    """
    return _log_ndtr(_floating(input))


@primitive("special_ndtri", save=("out",), grads={
    "input": lambda g, out, input: g * _SQRT_2PI * exp(out * out * 0.5)})
def _ndtri(input: Any) -> Any:
    return _in_float64(lambda p: N.ndtri(p, input.dtype == np.float64), input)


def ndtri(input: Tensor) -> Tensor:
    """The inverse of ``ndtr``: the ``x`` with ``ndtr(x) = p``, elementwise (``-inf`` at 0,
    ``inf`` at 1, nan outside [0, 1]; ``torch.special.ndtri``).

    >>> import backprop as bp
    >>> round(bp.special.ndtri(bp.tensor(0.975)).item(), 4)
    1.96
    """
    return _ndtri(_floating(input))


@primitive("special_erfcx", save=("input", "out"), grads={
    "input": lambda g, out, input: g * (2.0 * input * out - _TWO_OVER_SQRT_PI)})
def _erfcx(input: Any) -> Any:
    return _in_float64(N.erfcx, input)


def erfcx(input: Tensor) -> Tensor:
    """The scaled complementary error function ``exp(x^2) erfc(x)``, elementwise
    (``torch.special.erfcx``): finite where ``erfc`` underflows.

    >>> import backprop as bp
    >>> round(bp.special.erfcx(bp.tensor(30.0)).item(), 6)  # erfc(30) is 0 in float64
    0.018796
    """
    return _erfcx(_floating(input))


@primitive("erfinv", save=("out",), grads={
    "input": lambda g, out, input: g * _HALF_SQRT_PI * exp(out * out)})
def _erfinv(input: Any) -> Any:
    return _in_float64(lambda y: N.erfinv(y, input.dtype == np.float64), input)


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function, elementwise: the ``x`` with ``erf(x) = y`` (``+-inf`` at
    ``+-1``, nan outside; ``torch.erfinv``, also ``torch.special.erfinv``).

    >>> import backprop as bp
    >>> round(bp.erfinv(bp.tensor(0.5)).item(), 6)
    0.476936
    """
    return _erfinv(_floating(input))


# -- Hurwitz's zeta function ----------------------------------------------------------------------

@primitive("special_zeta", grads={}, promote=("input", "other"), refuse=("bool", "complex"))
def _zeta(input: Any, other: Any) -> Any:
    return _zeta_array(input, other)


@on_host  # a loop whose length each element sets: NumPy's, on the host
def _zeta_array(input: Any, other: Any) -> np.ndarray:
    x, q = np.asarray(input), np.asarray(other)
    dtype = x.dtype if x.dtype.kind in "fV" else np.dtype(np.float32)
    return N.zeta(x.astype(np.float64), q.astype(np.float64)).astype(dtype, copy=False)


def zeta(input: Tensor | float, other: Tensor | float) -> Tensor:
    """Hurwitz's zeta function ``sum_{k>=0} (other + k)^-input``, elementwise with
    broadcasting (``torch.special.zeta``; ``zeta(x, 1)`` is Riemann's); not differentiable.

    >>> import backprop as bp
    >>> round(bp.special.zeta(bp.tensor(2.0), 1.0).item(), 6)  # pi^2 / 6
    1.644934
    """
    from ..creation import tensor  # creation imports the ops

    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"zeta: expected a Tensor for input or other, got {type(input).__name__} "
                        f"and {type(other).__name__}")
    if not isinstance(input, Tensor):  # PyTorch makes the number a 0-d tensor of other's kind
        input = tensor(input, dtype=other.dtype if other.dtype.kind in "fV" else None)
    return _zeta(_floating(input), other)


# -- the regularised incomplete gamma functions -------------------------------------------------

def _gamma_density(input: Any, other: Any) -> Any:
    """x^(a-1) e^-x / Gamma(a): dP/dx. (PyTorch has no derivative in a: neither do we.)"""
    return exp((input - 1) * log(other) - other - lgamma(input))


@on_host  # series and continued fractions iterated per element: NumPy's, on the host
def _incomplete_gamma(input: Any, other: Any, upper: bool) -> Any:
    a, x = np.asarray(input), np.asarray(other)
    dtype = a.dtype if a.dtype.kind in "fV" else np.dtype(np.float32)
    return N.incomplete_gamma(a, x, upper).astype(dtype, copy=False)


@primitive("igamma", save=("input", "other"), promote=("input", "other"),
           refuse=("bool", "complex"),
           grads={"other": lambda g, out, input, other: g * _gamma_density(input, other)})
def _igamma(input: Any, other: Any) -> Any:
    return _incomplete_gamma(input, other, upper=False)


@primitive("igammac", save=("input", "other"), promote=("input", "other"),
           refuse=("bool", "complex"),
           grads={"other": lambda g, out, input, other: -g * _gamma_density(input, other)})
def _igammac(input: Any, other: Any) -> Any:
    return _incomplete_gamma(input, other, upper=True)


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function
    ``P(a, x) = integral_0^x t^(a-1) e^-t dt / Gamma(a)`` of ``a = input``, ``x = other``,
    elementwise with broadcasting (``torch.igamma``, ``torch.special.gammainc``).
    Differentiable in ``other`` only, as in PyTorch.

    >>> import backprop as bp
    >>> round(bp.igamma(bp.tensor(1.0), bp.tensor(2.0)).item(), 6)  # 1 - exp(-2)
    0.864665
    """
    return _igamma(_floating(input), other)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularised upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``, elementwise
    with broadcasting (``torch.igammac``, ``torch.special.gammaincc``); differentiable in
    ``other`` only.

    >>> import backprop as bp
    >>> round(bp.igammac(bp.tensor(1.0), bp.tensor(2.0)).item(), 6)  # exp(-2)
    0.135335
    """
    return _igammac(_floating(input), other)


def gammainc(input: Tensor, other: Tensor) -> Tensor:
    """``torch.special.gammainc``: ``igamma``.

    >>> import backprop as bp
    >>> round(bp.special.gammainc(bp.tensor(1.0), bp.tensor(2.0)).item(), 6)
    0.864665
    """
    return igamma(input, other)


def gammaincc(input: Tensor, other: Tensor) -> Tensor:
    """``torch.special.gammaincc``: ``igammac``.

    >>> import backprop as bp
    >>> round(bp.special.gammaincc(bp.tensor(1.0), bp.tensor(2.0)).item(), 6)
    0.135335
    """
    return igammac(input, other)


# -- the multivariate log-gamma function ---------------------------------------------------------

def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``, elementwise:
    ``p (p - 1) / 4 log(pi) + sum_{j<p} lgamma(x - j / 2)`` (``torch.mvlgamma``, also
    ``torch.special.multigammaln``). It is defined where every element exceeds ``(p - 1) / 2``;
    like PyTorch's, it computes the sum elsewhere too.

    >>> import backprop as bp
    >>> round(bp.mvlgamma(bp.tensor(2.5), p=3).item(), 4)
    1.881
    """
    if not isinstance(p, int) or isinstance(p, bool) or p < 1:
        raise ValueError(f"mvlgamma: p must be an integer >= 1, got {p!r}")
    input = _floating(input)
    # Summed in PyTorch's order: lgamma(x - (p - 1) / 2) first, lgamma(x) last.
    total = lgamma(input - 0.5 * (p - 1))
    for j in range(p - 2, -1, -1):
        total = add(total, lgamma(input - 0.5 * j))
    return total + p * (p - 1) * 0.25 * math.log(math.pi)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """``torch.special.multigammaln``: the same as ``mvlgamma``.

    >>> import backprop as bp
    >>> round(bp.special.multigammaln(bp.tensor(2.5), 3).item(), 4)
    1.881
    """
    return mvlgamma(input, p)


__all__ = ["erfinv", "i0", "igamma", "igammac", "mvlgamma"]
