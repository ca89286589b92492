"""Entry points to the special functions' Numba kernels (``_numba_special``; the error-function
family's, erfc to zeta, in ``_numba_erf``), switched by
``bp.backends.numba.enabled`` like the others; each returns None where it does not apply (Numba
absent or off), and the caller runs its NumPy code."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels
from . import numba as _switch

# The polynomials' recurrences, by number (``ops.special_polynomials`` passes them).
CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE, LEGENDRE = range(5)


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_special")


def polynomial_tail(kind: int, x: np.ndarray, n: np.ndarray, p: np.ndarray, q: np.ndarray,
                    degree: int) -> np.ndarray | None:
    """The recurrence ``kind`` carried on from degree ``degree`` to each ``n`` (see
    ``_numba_special.polynomial_tail``), or None."""
    kernels = _load()
    if kernels is None:
        return None
    out = np.ascontiguousarray(q, dtype=np.float64).copy()
    args = (kind, x.dtype != np.float64, np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(n, dtype=np.int64), np.ascontiguousarray(p, dtype=np.float64),
            out, degree)
    if not _switch._run(kernels.polynomial_tail, *args):
        return None
    return out.astype(x.dtype, copy=False)




def _elementwise(kernel_name: str, x: Any, dtypes: tuple) -> np.ndarray | None:
    if type(x) is not np.ndarray or x.dtype not in dtypes or not _switch._applies(x):
        return None
    kernels = _load()
    if kernels is None:
        return None
    out = np.empty_like(x)
    if not _switch._run(getattr(kernels, kernel_name), x.reshape(-1), out.reshape(-1)):
        return None
    return out


_F32 = (np.dtype(np.float32),)
_F32_F64 = (np.dtype(np.float32), np.dtype(np.float64))


def erf(input: Any) -> np.ndarray | None:
    """erf of a float32 array (float64 runs Cody's approximations in NumPy), or None."""
    return _elementwise("erf32", input, _F32)


def lgamma(input: Any) -> np.ndarray | None:
    """log |Gamma(x)| of a float32 or float64 array, or None."""
    return _elementwise("lgamma", input, _F32_F64)


def digamma(input: Any) -> np.ndarray | None:
    """digamma of a float32 array (float64 keeps the NumPy path's accuracy checks), or None."""
    return _elementwise("digamma", input, _F32)


def polygamma(input: Any, *, n: int) -> np.ndarray | None:
    """polygamma(1, x) (digamma's gradient) of a float32 array, or None."""
    return _elementwise("trigamma", input, _F32) if n == 1 else None


_BITS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def nextafter(input: Any, other: Any) -> np.ndarray | None:
    """nextafter of two float arrays of one shape and dtype, or None."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.shape != other.shape or not _switch._applies(input, other)):
        return None
    kernels = _load()
    if kernels is None:
        return None
    ints = _BITS[input.dtype]
    x, y = input.reshape(-1), other.reshape(-1)
    out = np.empty_like(input)
    negative_tiny = ints(np.iinfo(ints).min + 1)  # the sign bit and the lowest mantissa bit
    if not _switch._run(kernels.nextafter, x, y, x.view(ints), y.view(ints),
                        out.reshape(-1).view(ints), negative_tiny):
        return None
    return out


for _op, _kernel in {"erf": erf, "lgamma": lgamma, "digamma": digamma,
                     "nextafter": nextafter, "polygamma": polygamma}.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)

__all__: list[Any] = []


# -- Bessel and incomplete gamma --
# Kernels in ``_numba_bessel`` (a module of their own: Numba's cache notices a change to a
# kernel's own file only), for float32 and float64 NumPy arrays; registered under the ops'
# names, they decline (None) where they do not apply and the NumPy code runs.


def _load_bessel() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_bessel")


def _bessel_elementwise(kernel_name: str, narrow: bool = False) -> Any:
    """The op's kernel: ``kernel_name``'s loop into a new array (passed whether the input is
    float32, where ``narrow``)."""
    def kernel(input: Any) -> np.ndarray | None:
        if type(input) is not np.ndarray or not _switch._applies(input):
            return None
        module = _load_bessel()
        if module is None:
            return None
        out = np.empty_like(input)
        args = (input.reshape(-1), out.reshape(-1))
        if narrow:
            args += (input.dtype == np.float32,)
        if not _switch._run(getattr(module, kernel_name), *args):
            return None
        return out

    kernel.__name__ = kernel.__qualname__ = kernel_name
    kernel.__doc__ = f"``{kernel_name}`` of a float32 or float64 array, or None."
    return kernel


i0 = _bessel_elementwise("i0", narrow=True)
i0e = _bessel_elementwise("i0e", narrow=True)
i1 = _bessel_elementwise("i1", narrow=True)
i1e = _bessel_elementwise("i1e", narrow=True)
k0 = _bessel_elementwise("k0")
k0e = _bessel_elementwise("k0e")
k1 = _bessel_elementwise("k1")
k1e = _bessel_elementwise("k1e")
j0 = _bessel_elementwise("j0")
j1 = _bessel_elementwise("j1")
y0 = _bessel_elementwise("y0")
y1 = _bessel_elementwise("y1")
spherical_j0 = _bessel_elementwise("spherical_j0")
airy_ai = _bessel_elementwise("airy_ai")


def incomplete_gamma(input: Any, other: Any, upper: bool) -> np.ndarray | None:
    """P(a, x) (Q where ``upper``) of two NumPy arrays of one float dtype, broadcast, or None."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.dtype != other.dtype):
        return None
    if input.shape != other.shape:
        shape = np.broadcast_shapes(input.shape, other.shape)
        input = np.ascontiguousarray(np.broadcast_to(input, shape))
        other = np.ascontiguousarray(np.broadcast_to(other, shape))
    if not _switch._applies(input, other):
        return None
    module = _load_bessel()
    if module is None:
        return None
    out = np.empty_like(input)
    if not _switch._run(module.incomplete_gamma, input.reshape(-1), other.reshape(-1),
                        out.reshape(-1), upper):
        return None
    return out


def igamma(input: Any, other: Any) -> np.ndarray | None:
    """P(a, x), or None."""
    return incomplete_gamma(input, other, False)


def igammac(input: Any, other: Any) -> np.ndarray | None:
    """Q(a, x), or None."""
    return incomplete_gamma(input, other, True)


for _op, _kernel in {"i0": i0, "special_i0e": i0e, "special_i1": i1, "special_i1e": i1e,
                     "special_modified_bessel_i0": i0, "special_modified_bessel_i1": i1,
                     "special_modified_bessel_k0": k0, "special_modified_bessel_k1": k1,
                     "special_scaled_modified_bessel_k0": k0e,
                     "special_scaled_modified_bessel_k1": k1e,
                     "special_bessel_j0": j0, "special_bessel_j1": j1,
                     "special_bessel_y0": y0, "special_bessel_y1": y1,
                     "special_spherical_bessel_j0": spherical_j0, "special_airy_ai": airy_ai,
                     "igamma": igamma, "igammac": igammac}.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)


# -- erf family -----------------------------------------------------------------------------------
# erfc, ndtr, erfcx, erfinv, ndtri and zeta (``_numba_erf``, loaded on first use like the kernels
# above). float32 runs branch-free SIMD loops, float64 scalar loops mirroring the NumPy code.


def _load_erf() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_erf")


def _by_dtype(names: tuple[str, str], x: Any) -> np.ndarray | None:
    """The float32 (``names[0]``) or float64 (``names[1]``) kernel on ``x``, or None."""
    if type(x) is not np.ndarray or x.dtype not in _F32_F64 or not _switch._applies(x):
        return None
    module = _load_erf()
    if module is None:
        return None
    out = np.empty_like(x)
    kernel = getattr(module, names[x.dtype == np.float64])
    if not _switch._run(kernel, x.reshape(-1), out.reshape(-1)):
        return None
    return out


def erfc(input: Any) -> np.ndarray | None:
    """erfc of a float32 or float64 array, or None."""
    return _by_dtype(("erfc32", "erfc64"), input)


def ndtr(input: Any) -> np.ndarray | None:
    """The standard normal CDF of a float32 or float64 array, or None."""
    return _by_dtype(("ndtr32", "ndtr64"), input)


def erfcx(input: Any) -> np.ndarray | None:
    """exp(x^2) erfc(x) of a float32 or float64 array, or None."""
    return _by_dtype(("erfcx", "erfcx"), input)


def erfinv(input: Any) -> np.ndarray | None:
    """erfinv of a float32 or float64 array, or None."""
    return _by_dtype(("erfinv32", "erfinv64"), input)


def ndtri(input: Any) -> np.ndarray | None:
    """ndtri of a float32 or float64 array, or None."""
    return _by_dtype(("ndtri32", "ndtri64"), input)


def zeta(input: Any, other: Any) -> np.ndarray | None:
    """Hurwitz's zeta of two float arrays of one dtype (broadcast), or None; computed in
    float64, rounded to the dtype."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.dtype not in _F32_F64 or other.dtype != input.dtype
            or not _switch.enabled or max(input.size, other.size) < _switch.min_size):
        return None
    module = _load_erf()
    if module is None:
        return None
    if input.shape != other.shape:
        input, other = np.broadcast_arrays(input, other)
    x = np.ascontiguousarray(input).reshape(-1)
    q = np.ascontiguousarray(other).reshape(-1)
    out = np.empty(input.shape, dtype=input.dtype)
    if not _switch._run(module.zeta, x, q, out.reshape(-1)):
        return None
    return out


for _op, _kernel in {"erfc": erfc, "special_ndtr": ndtr, "special_erfcx": erfcx,
                     "erfinv": erfinv, "special_ndtri": ndtri, "ndtri": ndtri,  # Normal.icdf's
                     "special_zeta": zeta}.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)


# -- polynomials --
# The orthogonal polynomials whole (``_numba_special``'s kernels of these names).
POLYNOMIALS = ("chebyshev_t", "chebyshev_u", "chebyshev_v", "chebyshev_w", "hermite_h",
               "hermite_he", "laguerre_l", "legendre_p")
_EXACT_INT = 2 ** 53  # integer degrees up to this pass through float64 unchanged


def _degrees(n: Any, dtype: np.dtype) -> np.ndarray | None:
    """``n`` as a float32 or float64 array, or None where another type (or an integer beyond
    float64's exact range) leaves it to the NumPy code. A single degree goes in ``dtype`` (the
    input's) where that holds it exactly: one compiled kernel a dtype, not two."""
    n = np.asarray(n)
    if n.size == 1 and n.dtype != dtype and n.dtype.kind in "biuf":
        value = n.reshape(-1)[0]
        if n.dtype.kind != "f" and abs(int(value)) >= _EXACT_INT:
            return None
        with np.errstate(over="ignore"):
            exact = dtype.type(value)
        if exact == value or (np.isnan(exact) and np.isnan(value)):
            return np.asarray(exact).reshape(n.shape)
        if n.dtype.kind != "f":
            return n.astype(np.float64)
    return n if n.dtype in _F32_F64 else None


def polynomial(name: str, shift: bool, x: np.ndarray, n: Any) -> np.ndarray | None:
    """The polynomial ``name`` (a key of POLYNOMIALS; ``shift``: on [0, 1]) of degree ``n`` at
    a float32 or float64 NumPy array ``x``, broadcast, in x's dtype; or None (Numba absent or
    off, another dtype: the caller runs its NumPy code)."""
    if type(x) is not np.ndarray or x.dtype not in _F32_F64:
        return None
    n = _degrees(n, x.dtype)
    if n is None:
        return None
    kernels = _load()
    if kernels is None:
        return None
    shape = np.broadcast_shapes(x.shape, n.shape)
    # x is materialised in the result's shape; a single degree is passed once (a step of 0)
    n_step = int(n.size != 1)
    if x.shape != shape:
        x = np.broadcast_to(x, shape)
    if n_step and n.shape != shape:
        n = np.broadcast_to(n, shape)
    x = _switch.kernel_array(x).reshape(-1)
    n = _switch.kernel_array(n).reshape(-1)
    out = np.empty(shape, x.dtype)
    if not _switch._run(getattr(kernels, name), shift, bool(x.dtype == np.float32), x, n,
                        n_step, out.reshape(-1)):
        return None
    return out
