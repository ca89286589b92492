"""``bp.signal.windows``: the window functions of ``torch.signal.windows`` (Hann, Hamming,
Blackman, Kaiser, Gaussian ...) as 1-d tensors of length ``M``.

Each is symmetric by default (``sym=True``: for filter design); ``sym=False`` gives the periodic
window used in spectral analysis, the first ``M`` points of the symmetric window of length
``M + 1``. Values are computed in float64 and rounded to ``dtype`` (float32 or float64).

>>> import backprop as bp
>>> bp.signal.windows.hann(5).tolist()
[0.0, 0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import backend, dtypes
from ..creation import _finish
from ..tensor import Tensor


def _window(name: str, M: int, dtype: Any, device: Any, requires_grad: bool,
            values: Any) -> Tensor:
    """The window ``values(M)`` (a float64 array; not called for M == 0) as a tensor."""
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, name)
    if not isinstance(M, int) or isinstance(M, bool) or M < 0:
        raise ValueError(f"{name}: the window length M must be a non-negative int, got {M!r}")
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name}: windows are float32 or float64, not {dtype}")
    array = values(M) if M > 0 else np.empty(0)
    return _finish(array.astype(dtype, copy=False), requires_grad, backend.as_device(device, name))


def _grid(M: int, start: float, step: float) -> np.ndarray:
    """``start, start + step, ...``: M points, as linspace spaces them."""
    grid = np.arange(M, dtype=np.float64)
    grid *= step  # in place: start + step * arange's values, without two more arrays
    grid += start
    return grid


def _cosines(M: int, span: int) -> np.ndarray:
    """``cos(2 pi n / span)`` for ``n < M <= span + 1``, in float64, to within a few ulps of 1.

    NumPy's float64 cosine costs ~30 ns a point, so only the first quarter of the period is
    computed (the first half when ``span`` is odd) and the rest mirrored, cos(2 pi - t) = cos(t)
    and cos(pi - t) = -cos(t); and that quarter, for ``n = a * B + b``, from about 2 sqrt(n)
    cosines and sines by cos(s + t) = cos s cos t - sin s sin t."""
    half = span // 2
    quarter = half // 2 if span % 2 == 0 else half
    step = 2 * math.pi / span
    block = max(1, math.isqrt(quarter + 1))
    coarse = np.arange(0, quarter + 1, block, dtype=np.float64) * step
    fine = np.arange(block, dtype=np.float64) * step
    base = np.multiply.outer(np.cos(coarse), np.cos(fine))
    base -= np.multiply.outer(np.sin(coarse), np.sin(fine))
    base = base.ravel()[:quarter + 1]
    out = np.empty(max(M, half + 1))
    out[:quarter + 1] = base
    if span % 2 == 0:  # n and half - n are both points
        np.negative(base[::-1], out=out[half - quarter:half + 1])
        out[quarter] = base[quarter]
    tail = out[half + 1:]  # point n is point span - n, which is <= half
    np.copyto(tail, out[:span - half][::-1][:tail.size])
    return out[:M]


def _span(M: int, sym: bool) -> int:
    """The denominator that spreads the window over its points: M - 1 when symmetric, else M
    (the periodic window is the symmetric one of length M + 1, less its last point)."""
    return M - 1 if sym else M


def general_cosine(M: int, *, a: Sequence[float], sym: bool = True, dtype: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """``w[n] = sum_i (-1)^i a[i] cos(2 pi i n / (M - 1))`` (``M`` for ``sym=False``).

    >>> import backprop as bp
    >>> bp.signal.windows.general_cosine(3, a=[0.5, 0.5]).tolist()
    [0.0, 1.0, 0.0]
    """
    if not isinstance(a, Iterable) or isinstance(a, str):
        raise TypeError(f"general_cosine: the coefficients a must be a list or tuple, got {a!r}")
    coefficients = [float(c) for c in a]
    if not coefficients:
        raise ValueError("general_cosine: the coefficients a cannot be empty")

    def values(M: int) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        signed = [-c if i % 2 else c for i, c in enumerate(coefficients)]
        if len(signed) == 1:
            return np.full(M, signed[0])
        # sum_i signed[i] cos(i k) = sum_i signed[i] T_i(cos k): Clenshaw's recurrence, in place
        # on cos k where it can be (each new array of M points costs its page faults too).
        cos = _cosines(M, _span(M, sym))
        if len(signed) == 2:
            cos *= signed[1]
            cos += signed[0]
            return cos
        b1, b2 = cos * (2 * signed[-1]), signed[-1]  # b_{n-1} less signed[n-1], and b_n
        b1 += signed[-2]
        for c in reversed(signed[1:-2]):
            b = cos * b1
            b *= 2
            b -= b2
            b += c
            b1, b2 = b, b1
        b1 *= cos
        b1 -= b2
        b1 += signed[0]
        return b1

    return _window("general_cosine", M, dtype, device, requires_grad, values)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """The general cosine window with ``a = [alpha, 1 - alpha]``.

    >>> import backprop as bp
    >>> bp.signal.windows.general_hamming(3, alpha=0.6, dtype=bp.float64).tolist()
    [0.19999999999999996, 1.0, 0.19999999999999996]
    """
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window, ``general_hamming`` with ``alpha=0.54``."""
    return general_hamming(M, sym=sym, dtype=dtype, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window, ``general_hamming`` with ``alpha=0.5``."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window: the general cosine window with ``a = [0.42, 0.5, 0.08]``."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Nuttall's minimum 4-term Blackman-Harris window (a general cosine window)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window, ``1 - |k|`` for ``k`` from -1 across the window.

    >>> import backprop as bp
    >>> bp.signal.windows.bartlett(5).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    def values(M: int) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        grid = _grid(M, -1.0, 2 / _span(M, sym))
        return np.subtract(1, np.abs(grid, out=grid), out=grid)  # 1 - |k|, in place

    return _window("bartlett", M, dtype, device, requires_grad, values)


def cosine(M: int, *, sym: bool = True, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """The cosine (sine) window, ``sin(pi (n + 0.5) / M)`` (``M + 1`` for ``sym=False``)."""
    def values(M: int) -> np.ndarray:
        step = math.pi / (M + 1 if not sym and M > 1 else M)
        return np.sin(_grid(M, 0.5 * step, step))

    return _window("cosine", M, dtype, device, requires_grad, values)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The exponential (Poisson) window, ``exp(-|n - center| / tau)``; ``center`` defaults to
    the middle and may be given only for ``sym=False``."""
    if tau <= 0:
        raise ValueError(f"exponential: tau must be positive, got {tau}")
    if sym and center is not None:
        raise ValueError("exponential: a symmetric window has its center in the middle; "
                         "pass center only with sym=False")

    def values(M: int) -> np.ndarray:
        middle = (M if not sym and M > 1 else M - 1) / 2.0 if center is None else center
        return np.exp(-np.abs(_grid(M, -middle / tau, 1 / tau)))

    return _window("exponential", M, dtype, device, requires_grad, values)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Gaussian window, ``exp(-((n - middle) / std)^2 / 2)``."""
    if std <= 0:
        raise ValueError(f"gaussian: std must be positive, got {std}")

    def values(M: int) -> np.ndarray:
        scale = 1 / (std * math.sqrt(2))
        start = -(M if not sym and M > 1 else M - 1) / 2.0
        return np.exp(-_grid(M, start * scale, scale) ** 2)

    return _window("gaussian", M, dtype, device, requires_grad, values)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window, ``I0(beta sqrt(1 - k^2)) / I0(beta)`` for ``k`` across [-1, 1]
    (``I0`` the modified Bessel function of order 0)."""
    if beta < 0:
        raise ValueError(f"kaiser: beta must be non-negative, got {beta}")

    def values(M: int) -> np.ndarray:
        if M == 1:
            return np.ones(1)
        # beta * k, for k from -1 in steps of 2 / span, never past +1 (rounding).
        x = np.minimum(_grid(M, -beta, 2.0 * beta / _span(M, sym)), beta)
        return np.i0(np.sqrt(np.maximum(beta * beta - x * x, 0.0))) / np.i0(beta)

    return _window("kaiser", M, dtype, device, requires_grad, values)


__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


# -- the older top-level spellings (torch.hann_window ...): periodic by default ----------------

def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """``bp.signal.windows.hann(window_length, sym=not periodic)`` (``torch.hann_window``).

    >>> import backprop as bp
    >>> bp.hann_window(4).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    return hann(window_length, sym=not periodic, dtype=dtype, device=device,
                requires_grad=requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
    """``alpha - beta cos(...)``: the general cosine window ``a = [alpha, beta]``."""
    return general_cosine(window_length, a=[alpha, beta], sym=not periodic, dtype=dtype,
                          device=device, requires_grad=requires_grad)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """``bp.signal.windows.bartlett(window_length, sym=not periodic)``."""
    return bartlett(window_length, sym=not periodic, dtype=dtype, device=device,
                    requires_grad=requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """``bp.signal.windows.blackman(window_length, sym=not periodic)``."""
    return blackman(window_length, sym=not periodic, dtype=dtype, device=device,
                    requires_grad=requires_grad)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``bp.signal.windows.kaiser(window_length, beta=beta, sym=not periodic)``."""
    return kaiser(window_length, beta=beta, sym=not periodic, dtype=dtype, device=device,
                  requires_grad=requires_grad)


TOP_LEVEL = ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
             "kaiser_window"]
