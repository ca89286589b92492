"""The orthogonal polynomials of torch.special (issue 17): Chebyshev (T, U, V, W, plain and
shifted to [0, 1]), Hermite (physicists' H and probabilists' He), Laguerre and Legendre.

Each is ``f(input, n)`` with ``n`` a tensor or a number, broadcast against ``input``. As in
PyTorch, ``n`` is truncated to an integer, a negative ``n`` gives 0, the values at the ends of
the interval are exact, the Chebyshev polynomials of high degree inside the interval come from
their trigonometric forms, and the rest from the three-term recurrences, evaluated in the
input's dtype in PyTorch's order of operations (so that the results round alike), and stopped
early where they reach nan (where they overflow). PyTorch defines no gradient for them: neither
do we.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes
from ..backend import on_host
from ..backends import numba_special
from ..backends.numba_special import CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE, LEGENDRE
from ..tensor import Tensor
from .primitive import primitive

# A recurrence's step: (j, x, p, q) -> the next value, for j = 1 .. n - 1, where p and q are the
# polynomials of degree j - 1 and j.
Step = Callable[[Any, Any, Any, Any], Any]


def _chebyshev_step(j: Any, y: Any, p: Any, q: Any) -> Any:
    return (y + y) * q - p


def _hermite_h_step(j: Any, x: Any, p: Any, q: Any) -> Any:
    return (x + x) * q - (j + j) * p


def _hermite_he_step(j: Any, x: Any, p: Any, q: Any) -> Any:
    return x * q - j * p


def _laguerre_step(j: Any, x: Any, p: Any, q: Any) -> Any:
    return (((j + j) + (1 - x)) * q - j * p) / (j + 1)


def _legendre_step(j: Any, x: Any, p: Any, q: Any) -> Any:
    return ((j + j + 1) * x * q - j * p) / (j + 1)


_KIND = {_chebyshev_step: CHEBYSHEV, _hermite_h_step: HERMITE_H, _hermite_he_step: HERMITE_HE,
         _laguerre_step: LAGUERRE, _legendre_step: LEGENDRE}


def _recurrence(x: np.ndarray, n: np.ndarray, first: np.ndarray, step: Step) -> np.ndarray:
    """The degree-``n`` value (``n >= 2``) from ``p = 1`` and ``q = first`` (degree 1), taking
    ``n - 1`` steps, or fewer where ``q`` turns nan (PyTorch's loop stops there). Numba's loop
    when it is available (one element of degree 5 million takes NumPy 5 million passes); else
    the elements still running are gathered after each step, so a few of high degree cost
    little beside many of low degree."""
    compiled = numba_special.polynomial_tail(_KIND[step], x, n, np.ones_like(x), first, 1)
    if compiled is not None:
        return compiled
    dtype = x.dtype
    out = first.copy()
    index = np.arange(x.size)
    xa, na, p, q = x, n, np.ones_like(x), first
    j = 1
    with np.errstate(all="ignore"):
        while index.size:
            running = ~np.isnan(q)
            if not running.all():
                index, xa, na, p, q = (index[running], xa[running], na[running], p[running],
                                       q[running])
                if not index.size:
                    break
            if index.size <= 4 and int(na.max()) - j > 10_000:
                # A few of high degree left: one NumPy pass per step costs ~100x a scalar step
                out[index] = [_scalar_tail(step, *v, j, dtype)
                              for v in zip(xa.tolist(), na.tolist(), p.tolist(), q.tolist())]
                break
            r = step(dtype.type(j), xa, p, q)
            p, q = q, r
            j += 1
            done = na <= j  # n - 1 steps taken
            out[index] = q
            if done.any():
                keep = ~done
                index, xa, na, p, q = index[keep], xa[keep], na[keep], p[keep], q[keep]
    return out


def _scalar_tail(step: Step, x: float, n: int, p: float, q: float, degree: int,
                 dtype: np.dtype) -> float:
    """One element's recurrence from degree ``degree`` on, in Python floats (float64; a
    narrower dtype is rounded to after each step, so that it overflows where it would)."""
    narrow = dtype != np.float64
    j = float(degree)
    while degree < n and not math.isnan(q):
        try:
            r = step(j, x, p, q)
        except (OverflowError, ZeroDivisionError):
            r = math.nan
        if narrow:
            r = float(dtype.type(r))
        p, q = q, r
        j += 1.0
        degree += 1
    return q


def _operands(x: Any, n: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Flat, broadcast ``x`` in its float dtype and ``n`` truncated to int64 (as C++ casts,
    which makes nan, inf and values beyond int64 the most negative integer: 0 results)."""
    x, n = np.broadcast_arrays(x, n)
    shape = x.shape
    with np.errstate(invalid="ignore"):
        if n.dtype.kind in "fV":  # (|nan| < 2^63 and |inf| < 2^63 are False)
            n = np.where(np.abs(n) < 2.0 ** 63, n, -(2.0 ** 63))
        n = n.astype(np.int64)
    return x.reshape(-1), n.reshape(-1), shape


def _evaluate(x: np.ndarray, n: np.ndarray, special: Callable, first: Callable,
              step: Step, shift: bool = False) -> np.ndarray:
    """The common skeleton: ``special(x, y, n)`` returns ``(mask, values)`` of the elements with
    a closed form (ends of the interval, trigonometric forms), the rest run the recurrence in
    ``y`` (``2x - 1`` when ``shift``, else x)."""
    x, n, shape = _operands(x, n)
    with np.errstate(all="ignore"):
        y = x + x - 1 if shift else x
        # Degrees 0 and 1 are 1 and the first polynomial: the closed forms give the same there
        # (at the ends of the interval), so they are evaluated for degree 2 and up only.
        out = (n == 0).astype(x.dtype)
        one = n == 1
        if one.any():
            out[one] = first(y[one])
        many = np.flatnonzero(n >= 2)
        if many.size:
            closed, values = special(x[many], y[many], n[many])
            out[many[closed]] = values[closed]
            rest = many[~closed]
            if rest.size:
                out[rest] = _recurrence(y[rest], n[rest], first(y[rest]), step)
    return out.reshape(shape)


def _odd(n: np.ndarray) -> np.ndarray:
    return n % 2 == 1


def _sign_by_parity(n: np.ndarray, value: Any) -> Any:
    return np.where(_odd(n), -value, value)


# -- Chebyshev ----------------------------------------------------------------------------------

def _chebyshev_t(x: Any, n: Any, shift: bool) -> np.ndarray:
    one = x.dtype.type(1)

    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        if shift:
            ends = (x == 1) | (x == 0)
            at_end = np.where(x == 1, one, _sign_by_parity(n, one))
        else:
            ends = np.abs(x) == 1
            at_end = np.where((x > 0) | ~_odd(n), one, -one)
        trig = (n > 6) & (np.abs(y) < 1)
        values = np.where(ends, at_end, np.cos(n.astype(x.dtype) * np.arccos(y)))
        return (ends | trig) & (n >= 0), values

    return _evaluate(x, n, special, lambda y: y, _chebyshev_step, shift)


def _chebyshev_u(x: Any, n: Any, shift: bool) -> np.ndarray:
    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        m = (n + 1).astype(x.dtype)
        if shift:
            ends = (x == 1) | (x == 0)
            at_end = np.where(x == 1, m, _sign_by_parity(n, m))
        else:
            ends = np.abs(x) == 1
            at_end = np.where((x > 0) | ~_odd(n), m, -m)
        trig = (n > (6 if shift else 8)) & (np.abs(y) < 1)
        angle = np.arccos(y)
        sine = np.sin(angle)
        trig_value = np.where(sine != 0, np.sin(m * angle) / sine, m * np.cos(m * angle) / y)
        return (ends | trig) & (n >= 0), np.where(ends, at_end, trig_value)

    return _evaluate(x, n, special, lambda y: y + y, _chebyshev_step, shift)


def _chebyshev_v(x: Any, n: Any, shift: bool) -> np.ndarray:
    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        odd_value = (n + n + 1).astype(x.dtype)
        if shift:
            ends = (x == 1) | (x == 0)
            at_end = np.where(x == 1, x.dtype.type(1), _sign_by_parity(n, odd_value))
        else:
            ends = np.abs(x) == 1
            at_end = np.where(x > 0, x.dtype.type(1), _sign_by_parity(n, odd_value))
        trig = (n > (6 if shift else 8)) & (np.abs(y) < 1)
        angle = np.arccos(y)
        half = angle / 2
        trig_value = np.where(np.sin(half) != 1,
                              np.cos((n.astype(x.dtype) + x.dtype.type(0.5)) * angle)
                              / np.cos(half), _sign_by_parity(n, odd_value))
        return (ends | trig) & (n >= 0), np.where(ends, at_end, trig_value)

    return _evaluate(x, n, special, lambda y: y + y - 1, _chebyshev_step, shift)


def _chebyshev_w(x: Any, n: Any, shift: bool) -> np.ndarray:
    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        odd_value = (n + n + 1).astype(x.dtype)
        one = x.dtype.type(1)
        if shift:
            ends = (x == 1) | (x == 0)
            at_end = np.where(x == 1, odd_value, _sign_by_parity(n, one))
        else:
            ends = np.abs(x) == 1
            at_end = np.where(x > 0, odd_value, _sign_by_parity(n, one))
        trig = (n > (4 if shift else 8)) & (np.abs(y) < 1)
        angle = np.arccos(y)
        half = angle / 2
        trig_value = np.where(np.cos(half) != 1,
                              np.sin((n.astype(x.dtype) + x.dtype.type(0.5)) * angle)
                              / np.sin(half),
                              np.where(y > 0, odd_value, _sign_by_parity(n, one)))
        return (ends | trig) & (n >= 0), np.where(ends, at_end, trig_value)

    return _evaluate(x, n, special, lambda y: y + y + 1, _chebyshev_step, shift)


# -- Hermite, Laguerre, Legendre ----------------------------------------------------------------

def _no_special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
    return np.zeros(x.shape, bool), x


def _hermite_h(x: Any, n: Any) -> np.ndarray:
    return _evaluate(x, n, _no_special, lambda x: x + x, _hermite_h_step)


def _hermite_he(x: Any, n: Any) -> np.ndarray:
    return _evaluate(x, n, _no_special, lambda x: x, _hermite_he_step)


def _laguerre_l(x: Any, n: Any) -> np.ndarray:
    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        return (x == 0) & (n >= 0), np.ones_like(x)

    return _evaluate(x, n, special, lambda x: 1 - x, _laguerre_step)


def _legendre_p(x: Any, n: Any) -> np.ndarray:
    def special(x: Any, y: Any, n: Any) -> tuple[Any, Any]:
        one = x.dtype.type(1)
        ends = np.abs(x) == 1
        return ends & (n >= 0), np.where((x > 0) | ~_odd(n), one, -one)

    return _evaluate(x, n, special, lambda x: x, _legendre_step)


# -- the ops ------------------------------------------------------------------------------------

def _polynomial(name: str, kernel: Callable[[Any, Any], np.ndarray], summary: str,
                example: str, compiled: tuple[str, bool]) -> Callable[..., Tensor]:
    """A public op: one primitive (no gradient, as in PyTorch) over PyTorch's promotion of
    ``input`` and ``n``, with integers and bools computed in the default float dtype.
    ``compiled``: the Numba kernel's name for it and whether it is shifted."""

    @primitive(name, differentiable=False, promote=("input", "n"), refuse=("complex",))
    def forward(input: Any, n: Any) -> Any:
        return _in_input_dtype(kernel, input, n, compiled)

    def op(input: Any, n: Any) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{name}: expected input or n to be a tensor, got "
                            f"{type(input).__name__} and {type(n).__name__}")
        if isinstance(input, Tensor) and input.dtype.kind in "biu":
            input = input.to(_float_for(n))
        elif not isinstance(input, Tensor) and isinstance(n, Tensor) and n.dtype.kind in "biu":
            n = n.to(dtypes.get_default_dtype())
        return forward(input, n)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"""{summary} of degree ``n`` (truncated to an integer; negative: 0), elementwise.

    ``n`` is a tensor or a number, broadcast against ``input``; there is no gradient.

    >>> import backprop as bp
    {example}
    """
    return op


# The recurrences stop per element (Numba's loop, or NumPy's with gathers), which CuPy cannot run
# as they are: on a GPU the operands are copied to the host and the result back.
@on_host
def _in_input_dtype(kernel: Callable[[Any, Any], np.ndarray], input: Any, n: Any,
                    compiled: tuple[str, bool]) -> np.ndarray:
    """``kernel(input, n)`` with integer inputs in a float dtype, rounded to the input's dtype;
    Numba's kernel (``compiled``: its name and shift) where it takes the operands, which does
    all of it in one pass."""
    x = np.asarray(input)
    n = np.asarray(n)
    if x.dtype.kind not in "fV":
        x = x.astype(dtypes.get_default_dtype() if n.dtype.kind not in "fV" else n.dtype)
    out = numba_special.polynomial(*compiled, x, n)
    if out is not None:
        return out
    if x.dtype == np.float64:
        return kernel(x, n)
    # Narrower floats: the value from float64, rounded once (PyTorch's float32 recurrences
    # and float32 cos(n acos x) lose digits), but where the recurrence in the narrow dtype
    # overflows, its inf or nan, as PyTorch's. (Below degree 2 there is no recurrence, and
    # the narrow dtype overflows where the rounded value does.)
    with np.errstate(over="ignore"):
        wide = kernel(x.astype(np.float64), n).astype(x.dtype)
    with np.errstate(invalid="ignore"):
        if not (n >= 2).any():
            return wide
    narrow = kernel(x, n)
    return np.where(np.isfinite(narrow), wide, narrow)


def _float_for(n: Any) -> Any:
    dtype = getattr(n, "dtype", None)
    return n.dtype if dtype is not None and dtype.kind in "fV" else dtypes.get_default_dtype()


chebyshev_polynomial_t = _polynomial(
    "chebyshev_polynomial_t", lambda x, n: _chebyshev_t(x, n, False),
    "The Chebyshev polynomial of the first kind T_n",
    ">>> bp.special.chebyshev_polynomial_t(bp.tensor([0.5, 2.0]), 3).tolist()\n"
    "    [-1.0, 26.0]",
    compiled=("chebyshev_t", False))
chebyshev_polynomial_u = _polynomial(
    "chebyshev_polynomial_u", lambda x, n: _chebyshev_u(x, n, False),
    "The Chebyshev polynomial of the second kind U_n",
    ">>> bp.special.chebyshev_polynomial_u(bp.tensor([2.0]), 2).tolist()\n    [15.0]",
    compiled=("chebyshev_u", False))
chebyshev_polynomial_v = _polynomial(
    "chebyshev_polynomial_v", lambda x, n: _chebyshev_v(x, n, False),
    "The Chebyshev polynomial of the third kind V_n",
    ">>> bp.special.chebyshev_polynomial_v(bp.tensor([2.0]), 2).tolist()\n    [11.0]",
    compiled=("chebyshev_v", False))
chebyshev_polynomial_w = _polynomial(
    "chebyshev_polynomial_w", lambda x, n: _chebyshev_w(x, n, False),
    "The Chebyshev polynomial of the fourth kind W_n",
    ">>> bp.special.chebyshev_polynomial_w(bp.tensor([2.0]), 2).tolist()\n    [19.0]",
    compiled=("chebyshev_w", False))
shifted_chebyshev_polynomial_t = _polynomial(
    "shifted_chebyshev_polynomial_t", lambda x, n: _chebyshev_t(x, n, True),
    "The shifted Chebyshev polynomial of the first kind T*_n(x) = T_n(2x - 1)",
    ">>> bp.special.shifted_chebyshev_polynomial_t(bp.tensor([1.5]), 2).tolist()\n    [7.0]",
    compiled=("chebyshev_t", True))
shifted_chebyshev_polynomial_u = _polynomial(
    "shifted_chebyshev_polynomial_u", lambda x, n: _chebyshev_u(x, n, True),
    "The shifted Chebyshev polynomial of the second kind U*_n(x) = U_n(2x - 1)",
    ">>> bp.special.shifted_chebyshev_polynomial_u(bp.tensor([1.5]), 2).tolist()\n    [15.0]",
    compiled=("chebyshev_u", True))
shifted_chebyshev_polynomial_v = _polynomial(
    "shifted_chebyshev_polynomial_v", lambda x, n: _chebyshev_v(x, n, True),
    "The shifted Chebyshev polynomial of the third kind V*_n(x) = V_n(2x - 1)",
    ">>> bp.special.shifted_chebyshev_polynomial_v(bp.tensor([1.5]), 2).tolist()\n    [11.0]",
    compiled=("chebyshev_v", True))
shifted_chebyshev_polynomial_w = _polynomial(
    "shifted_chebyshev_polynomial_w", lambda x, n: _chebyshev_w(x, n, True),
    "The shifted Chebyshev polynomial of the fourth kind W*_n(x) = W_n(2x - 1)",
    ">>> bp.special.shifted_chebyshev_polynomial_w(bp.tensor([1.5]), 2).tolist()\n    [19.0]",
    compiled=("chebyshev_w", True))
hermite_polynomial_h = _polynomial(
    "hermite_polynomial_h", _hermite_h, "The physicists' Hermite polynomial H_n",
    ">>> bp.special.hermite_polynomial_h(bp.tensor([1.0]), 3).tolist()\n    [-4.0]",
    compiled=("hermite_h", False))
hermite_polynomial_he = _polynomial(
    "hermite_polynomial_he", _hermite_he, "The probabilists' Hermite polynomial He_n",
    ">>> bp.special.hermite_polynomial_he(bp.tensor([2.0]), 3).tolist()\n    [2.0]",
    compiled=("hermite_he", False))
laguerre_polynomial_l = _polynomial(
    "laguerre_polynomial_l", _laguerre_l, "The Laguerre polynomial L_n",
    ">>> bp.special.laguerre_polynomial_l(bp.tensor([1.0]), 2).tolist()\n    [-0.5]",
    compiled=("laguerre_l", False))
legendre_polynomial_p = _polynomial(
    "legendre_polynomial_p", _legendre_p, "The Legendre polynomial P_n",
    ">>> bp.special.legendre_polynomial_p(bp.tensor([0.5]), 2).tolist()\n    [-0.125]",
    compiled=("legendre_p", False))

__all__: list[str] = []  # torch.special's names: exported by backprop.special
