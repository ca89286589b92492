"""Op-table rows for ``backprop.ops.special_functions``: Bessel and Airy functions, the normal
distribution's functions, erfcx, erfinv, zeta, mvlgamma.

NumPy has none of them but ``i0``, so the references are computed here another way than ours
(which are Chebyshev series): Bessel functions of integer order from their integral
representations by the trapezoidal rule (spectrally accurate for these smooth periodic or
doubly-exponentially decaying integrands), Y0 and Y1 from their Neumann series, Ai from K_1/3,
the error-function family from Python's ``math.erf``/``math.erfc`` (inverted by Newton's method).
"""

from __future__ import annotations

import math

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, binary, unary, uniform

_EULER_GAMMA = 0.5772156649015329


def _trapezoid_mean(f, x: np.ndarray, points: int = 96) -> np.ndarray:
    """(1/pi) int_0^pi f(x, tau) dtau by the trapezoidal rule (exact to rounding here: f is
    even and 2 pi-periodic in tau)."""
    tau = np.linspace(0.0, np.pi, points + 1)
    weights = np.full(points + 1, 1.0 / points)
    weights[[0, -1]] *= 0.5
    return (f(x[..., None], tau) * weights).sum(axis=-1)


def _bessel_j(n: int):
    return lambda x: _trapezoid_mean(lambda x, t: np.cos(n * t - x * np.sin(t)), x)


def _bessel_i(n: int):
    return lambda x: _trapezoid_mean(lambda x, t: np.exp(x * np.cos(t)) * np.cos(n * t), x)


def _bessel_k(order: float, scaled: bool = False):
    """int_0^inf exp(-x cosh t) cosh(order t) dt, by the trapezoidal rule (x >= 0.2)."""
    def k(x: np.ndarray) -> np.ndarray:
        t = np.arange(0.0, 10.0, 0.01)
        weights = np.full(t.size, 0.01)
        weights[0] *= 0.5
        shift = x[..., None] if scaled else 0.0
        return (np.exp(-x[..., None] * np.cosh(t) + shift) * np.cosh(order * t) * weights).sum(-1)

    return k


def _neumann_y(order: int):
    """Y0 and Y1 from their Neumann series (x <= 4: the terms stay below 10)."""
    def y(x: np.ndarray) -> np.ndarray:
        quarter = x * x / 4.0
        log_term = np.log(x / 2.0) + _EULER_GAMMA
        j0, j1 = _bessel_j(0)(x), _bessel_j(1)(x)
        series = np.zeros_like(x)
        harmonic = 0.0
        for k in range(1, 40):
            harmonic += 1.0 / k
            term = (-1.0) ** k * harmonic / math.factorial(k) ** 2
            series += term * (quarter ** k if order == 0 else k * quarter ** (k - 1) * x / 2.0)
        if order == 0:
            return 2.0 / np.pi * (log_term * j0 - series)
        # Y1 = -Y0'
        return -2.0 / np.pi * (j0 / x - log_term * j1 - series)

    return y


def _airy_ai(x: np.ndarray) -> np.ndarray:
    """Ai(x) = sqrt(x / 3) K_1/3(zeta) / pi for x > 0, zeta = 2 x^(3/2) / 3."""
    zeta = 2.0 * x ** 1.5 / 3.0
    return np.sqrt(x / 3.0) * _bessel_k(1.0 / 3.0)(zeta) / np.pi


_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])


def _ndtr(x: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def _newton(f, derivative, target: np.ndarray, start: np.ndarray) -> np.ndarray:
    x = start
    for _ in range(60):
        x = x - (f(x) - target) / derivative(x)
    return x


def _ndtri(p: np.ndarray) -> np.ndarray:
    return _newton(_ndtr, lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi), p, 0 * p)


def _erfinv(y: np.ndarray) -> np.ndarray:
    return _newton(_erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), y, 0 * y)


def _zeta(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The first 2000 terms and the rest's Euler-Maclaurin integral and two corrections."""
    n = 2000
    k = np.arange(n).reshape((-1,) + (1,) * np.ndim(x + q))
    w = q + n
    return ((q + k) ** -x).sum(0) + w ** (1 - x) / (x - 1) + 0.5 * w ** -x + x * w ** (-x - 1) / 12


def _igamma(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) by its power series, term by term in Python floats (a, x below 3)."""
    def one(a: float, x: float) -> float:
        term = total = 1.0
        for n in range(1, 200):
            term *= x / (a + n)
            total += term
        return math.exp(a * math.log(x) - x - math.lgamma(a + 1)) * total

    return np.vectorize(one, otypes=[float])(a, x)


def _igamma_samples(rng: np.random.Generator) -> list[Sample]:
    """Differentiable in x (the second input) only, as in PyTorch."""
    return [Sample((uniform(rng, a, 0.5, 3.0), uniform(rng, b, 0.2, 3.0)), grad_args=(1,),
                   name=f"{a}x{b}") for a, b in [((), ()), ((2, 3), (2, 3)), ((3,), (2, 1))]]


def _mvlgamma(x: np.ndarray, p: int) -> np.ndarray:
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    return sum(lgamma(x - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


def _special(name: str):
    return lambda torch, *args, **kwargs: getattr(torch.special, name)(*args, **kwargs)


def _row(name: str, ref, domain=(-2.0, 2.0), **options) -> OpSpec:
    """A unary ``bp.special`` op; one without a gradient names its primitive (no graph shows
    it to the table's coverage test)."""
    if options.get("grad", True) is False:
        options["aliases"] = (f"special_{name}",)
    options.setdefault("torch", _special(name))
    return OpSpec(f"special.{name}", getattr(bp.special, name), ref, unary(domain), **options)


# PyTorch's float64 J, Y and Ai are up to 3e-6 off (just past |x| = 5 and x = -2.09) where this
# table asks 1e-10: tests/opinfo.py compares them with PyTorch at a tolerance that says why.
_LOOSE = {"torch": None, "torch_reason": "PyTorch's float64 values are up to 3e-6 off: compared "
          "in tests/test_opinfo.py (LOOSER_FLOAT64)"}


def _mvlgamma_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3), 2.2, 4.0),), {"p": p}, name=f"p={p}") for p in (1, 3, 5)]


def _mvlgamma_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.mvlgamma(bp.ones(2), p=0), ValueError,
                       r"mvlgamma: p must be an integer >= 1, got 0")]


def _zeta_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.special.zeta(2.0, 1.0), TypeError,
                       r"zeta: expected a Tensor for input or other, got float and float")]


# Not differentiable in PyTorch (its derivative is "not implemented"): grad=False.
_NO_GRAD = {"grad": False, "gradgrad": False}

ROWS: list[OpSpec] = [
    OpSpec("i0", bp.i0, np.i0, unary((-3.0, 3.0)), torch=lambda torch, x: torch.i0(x),
           aliases=("special.i0",)),
    _row("i0e", lambda x: np.i0(x) * np.exp(-np.abs(x)), (-3.0, 3.0)),
    _row("i1", _bessel_i(1), (-3.0, 3.0)),
    _row("i1e", lambda x: _bessel_i(1)(x) * np.exp(-np.abs(x)), (-3.0, 3.0)),
    _row("modified_bessel_i0", np.i0, (-3.0, 3.0), **_NO_GRAD),
    _row("modified_bessel_i1", _bessel_i(1), (-3.0, 3.0), **_NO_GRAD),
    _row("modified_bessel_k0", _bessel_k(0), (0.2, 4.0), **_NO_GRAD),
    _row("modified_bessel_k1", _bessel_k(1), (0.2, 4.0), **_NO_GRAD),
    _row("scaled_modified_bessel_k0", _bessel_k(0, scaled=True), (0.2, 4.0), **_NO_GRAD),
    _row("scaled_modified_bessel_k1", _bessel_k(1, scaled=True), (0.2, 4.0), **_NO_GRAD),
    _row("bessel_j0", _bessel_j(0), (-12.0, 12.0), **_NO_GRAD, **_LOOSE),
    _row("bessel_j1", _bessel_j(1), (-12.0, 12.0), **_NO_GRAD, **_LOOSE),
    _row("bessel_y0", _neumann_y(0), (0.3, 4.0), **_NO_GRAD, **_LOOSE),
    _row("bessel_y1", _neumann_y(1), (0.3, 4.0), **_NO_GRAD, **_LOOSE),
    _row("airy_ai", _airy_ai, (0.5, 3.0), **_NO_GRAD, **_LOOSE),
    _row("spherical_bessel_j0", lambda x: np.sinc(x / np.pi), (-6.0, 6.0), **_NO_GRAD),
    _row("ndtr", _ndtr, (-3.0, 3.0)),
    _row("log_ndtr", lambda x: np.log(_ndtr(x)), (-3.0, 3.0)),
    _row("ndtri", _ndtri, (0.02, 0.98)),
    _row("erfcx", lambda x: np.exp(x * x) * _erfc(x), (-1.5, 3.0)),
    OpSpec("erfinv", bp.erfinv, _erfinv, unary((-0.95, 0.95)),
           torch=lambda torch, x: torch.erfinv(x), aliases=("special.erfinv",)),
    OpSpec("special.zeta", bp.special.zeta, _zeta, binary((2.0, 4.0), (0.5, 2.0)),
           torch=_special("zeta"), broadcast=True, error_inputs=_zeta_errors,
           aliases=("special_zeta",), **_NO_GRAD),
    OpSpec("igamma", bp.igamma, _igamma, _igamma_samples,
           torch=lambda torch, a, x: torch.igamma(a, x),
           aliases=("special.gammainc",)),
    OpSpec("igammac", bp.igammac, lambda a, x: 1.0 - _igamma(a, x), _igamma_samples,
           torch=lambda torch, a, x: torch.igammac(a, x), aliases=("special.gammaincc",)),
    OpSpec("mvlgamma", bp.mvlgamma, _mvlgamma, _mvlgamma_samples,
           torch=lambda torch, x, p: torch.mvlgamma(x, p), error_inputs=_mvlgamma_errors,
           aliases=("special.multigammaln",)),
]
