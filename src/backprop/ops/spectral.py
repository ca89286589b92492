"""Discrete Fourier transforms (issue 17): the bp.fft family, stft and istft.

Every transform is made of four primitives, as PyTorch's are: ``fft_resize`` (zero-pad or trim
to ``n``/``s``), ``fft_c2c`` (complex to complex), ``fft_r2c`` (real to complex, the last
transformed dim one-sided) and ``fft_c2r`` (its inverse). Their gradients are the adjoints in
PyTorch's convention for complex gradients (``ops/complex_ops.py``): a transform's adjoint is
the transform the other way at the same scale ("backward" and "forward" swap, "ortho" stays),
and r2c's and c2r's follow PyTorch's fft_r2c_backward and fft_c2r_backward.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes
from ..backend import contiguous, empty, on_device_of, xp_of, zeros
from ..errors import DimError, DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .complex_ops import conj, real, view_as_real
from .primitive import primitive

# The adjoint of a transform scaled by 1 (by 1/n) is the other way's scaled by 1 (by 1/n):
# "backward" scales the inverse, "forward" the forward transform.
_ADJOINT_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64),
            np.dtype(np.float64): np.dtype(np.complex128)}


# -- the primitives -----------------------------------------------------------------------------

def _resize_grad(g: Any, out: Any, input: Any, *, dims: tuple[int, ...],
                 sizes: tuple[int, ...]) -> Any:
    # Padding's adjoint trims, trimming's pads with zeros: a resize back to the input's sizes.
    return _fft_resize(g, dims=dims, sizes=tuple(input.shape[d] for d in dims))


@primitive("fft_resize", grads={"input": _resize_grad})
def _fft_resize(input: Any, *, dims: tuple[int, ...], sizes: tuple[int, ...]) -> Any:
    shape = list(input.shape)
    for d, n in zip(dims, sizes):
        shape[d] = n
    if tuple(shape) == input.shape:
        return input
    out = zeros(shape, input.dtype, input)
    common = tuple(slice(0, min(a, b)) for a, b in zip(input.shape, shape))
    out[common] = input[common]
    return out


@primitive("fft_c2c", grads={
    "input": lambda g, out, input, *, dims, norm, forward:
    _fft_c2c(g, dims=dims, norm=_ADJOINT_NORM[norm], forward=not forward),
})
def _fft_c2c(input: Any, *, dims: tuple[int, ...], norm: str, forward: bool) -> Any:
    xp = xp_of(input)  # NumPy or CuPy: the kernels per backend
    transform = xp.fft.fftn if forward else xp.fft.ifftn
    return _unscaled_fast(transform, input, dims, norm, forward,
                          [input.shape[d] for d in dims])


def _unscaled_fast(transform: Any, input: Any, dims: tuple[int, ...], norm: str, forward: bool,
                   sizes: list[int], **more: Any) -> Any:
    """``transform(input, axes=dims, norm=norm, **more)``. NumPy's pocketfft runs 5-8 times
    slower on float32 when it scales by the integer 1 (a forward transform under "backward", an
    inverse under "forward"): the transform scaled by 1/n and multiplied back by n gives the
    same values (exactly where n is a power of two, else to rounding), at the other norms'
    speed."""
    if norm != ("backward" if forward else "forward"):
        return transform(input, axes=dims, norm=norm, **more)
    out = transform(input, axes=dims, norm=_ADJOINT_NORM[norm], **more)
    out *= out.real.dtype.type(np.prod(sizes, dtype=np.float64))
    return out


def _r2c_grad(g: Any, out: Any, input: Any, *, dims: tuple[int, ...], norm: str,
              onesided: bool = True) -> Any:
    # The one-sided result is the full transform's first n // 2 + 1 entries along the last dim:
    # its adjoint pads them with zeros back to n, transforms back, and keeps the real part.
    last = dims[-1]
    full = _fft_resize(g, dims=(last,), sizes=(input.shape[last],)) if onesided else g
    return real(_fft_c2c(full, dims=dims, norm=_ADJOINT_NORM[norm], forward=False))


@primitive("fft_r2c", grads={"input": _r2c_grad})
def _fft_r2c(input: Any, *, dims: tuple[int, ...], norm: str, onesided: bool = True) -> Any:
    xp = xp_of(input)
    half = _unscaled_fast(xp.fft.rfftn, input, dims, norm, True, [input.shape[d] for d in dims])
    if onesided:
        return half
    full = empty(input.shape, half.dtype, input)
    full[_first_half(input.ndim, dims[-1], half.shape[dims[-1]])] = half
    return _mirror(xp, full, dims)


def _first_half(ndim: int, last: int, kept: int) -> tuple:
    return (slice(None),) * last + (slice(0, kept),) + (slice(None),) * (ndim - last - 1)


def _mirror(xp: Any, full: Any, dims: tuple[int, ...]) -> Any:
    """``full`` (its first n // 2 + 1 entries along ``dims[-1]`` the one-sided transform of
    real values) completed: X[k] = conj(X[-k]), every transformed index negated (mod its
    size)."""
    shape, ndim, last = full.shape, full.ndim, dims[-1]
    n = shape[last]
    kept = n // 2 + 1
    # Along the last dim, k in [kept, n) reads n - k; along the others, index 0 reads itself
    # and 1..m-1 read m-1..1: one slice pair per choice, 2 ** (len(dims) - 1) of them.
    for choice in itertools.product((False, True), repeat=len(dims) - 1):
        source, target = [slice(None)] * ndim, [slice(None)] * ndim
        source[last], target[last] = slice(n - kept, 0, -1), slice(kept, n)
        for d, rest in zip(dims[:-1], choice):
            m = shape[d]
            source[d], target[d] = ((slice(m - 1, 0, -1), slice(1, m)) if rest
                                    else (slice(0, 1), slice(0, 1)))
        xp.conjugate(full[tuple(source)], out=full[tuple(target)])
    return full


@_fft_r2c.kernel(np.ndarray)
def _full_r2c_in_place(input: np.ndarray, *, dims: tuple[int, ...], norm: str,
                       onesided: bool = True) -> np.ndarray | None:
    # The full transform of real values: the one-sided one written straight into the result's
    # first half (NumPy's out=), then mirrored; a copy and an allocation fewer.
    if onesided or input.dtype not in _COMPLEX:
        return None
    full = np.empty(input.shape, _COMPLEX[input.dtype])
    half = full[_first_half(input.ndim, dims[-1], input.shape[dims[-1]] // 2 + 1)]
    _unscaled_fast(np.fft.rfftn, input, dims, norm, True, [input.shape[d] for d in dims],
                   out=half)
    return _mirror(np, full, dims)


def _c2r_grad(g: Any, out: Any, input: Any, *, dims: tuple[int, ...], norm: str,
              last_size: int) -> Any:
    # PyTorch's fft_c2r_backward: the one-sided transform of g, its entries that stand for two
    # (a value and its conjugate mirror: all but the zero and Nyquist frequencies) doubled.
    gi = _fft_r2c(g, dims=dims, norm=_ADJOINT_NORM[norm])
    last = dims[-1]
    kept = gi.shape[last]
    doubled = last_size - kept
    if doubled <= 0:
        return gi
    weights = np.ones(kept, _real_dtype(g.dtype))
    weights[1:1 + doubled] = 2
    return gi * on_device_of(weights, gi).reshape((kept,) + (1,) * (len(gi.shape) - 1 - last))


@primitive("fft_c2r", grads={"input": _c2r_grad})
def _fft_c2r(input: Any, *, dims: tuple[int, ...], norm: str, last_size: int) -> Any:
    sizes = [input.shape[d] for d in dims[:-1]] + [last_size]
    return _unscaled_fast(xp_of(input).fft.irfftn, input, dims, norm, False, sizes, s=sizes)


def _real_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype in (np.complex64, np.float32) else np.dtype(np.float64)


# -- arguments ----------------------------------------------------------------------------------

def _norm(op: str, norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _ADJOINT_NORM:
        raise ValueError(f"{op}: Invalid normalization mode: {norm!r} (expected None, "
                         "'backward', 'ortho' or 'forward')")
    return norm


def _floating(op: str, input: Tensor, *, real_only: bool = False) -> Tensor:
    """``input`` as float32, float64 or complex: integers and bools become float32."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    kind = input.dtype.kind
    if kind == "c":
        if real_only:
            raise DTypeError(f"{op} expects a real input tensor, but got {input.dtype}")
        return input
    if kind in "biu":
        return input.to(dtypes.float32)
    if input.dtype == np.float16:
        raise DTypeError(f"{op}: Unsupported dtype Half (float16); convert with .float() first")
    return input


def _as_complex(op: str, input: Tensor) -> Tensor:
    x = _floating(op, input)
    return x if x.dtype.kind == "c" else x.to(_COMPLEX[x.dtype])


def _dims_and_sizes(op: str, input: Tensor, s: Any, dim: Any,
                    default_dims: tuple[int, ...] | None) -> tuple[tuple[int, ...], list]:
    """The transformed dims (non-negative, in the order given) and their requested sizes (None:
    unchanged), from PyTorch's ``s`` and ``dim`` (``default_dims``: when neither is given; None
    for every dim)."""
    ndim = input.ndim
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    if isinstance(s, (int, np.integer)):
        s = (int(s),)
    if dim is not None:
        dims = tuple(check_dim(op, int(d), ndim) for d in dim)
        if s is not None and len(s) != len(dims):
            raise ShapeError(f"{op}: When given, dim and shape arguments must have the same "
                             f"length (got s={tuple(s)}, dim={tuple(dim)})")
    elif s is not None:
        if len(s) > ndim:
            raise ShapeError(f"{op}: Got shape with {len(s)} values but input tensor only has "
                             f"{ndim} dimensions")
        dims = tuple(range(ndim - len(s), ndim))
    elif default_dims is None:
        dims = tuple(range(ndim))
    else:
        dims = tuple(check_dim(op, d, ndim) for d in default_dims)
    if len(set(dims)) != len(dims):
        raise DimError(f"{op}: dims must be unique, got {tuple(dims)}")
    sizes = [None if s is None or s[i] == -1 else int(s[i]) for i in range(len(dims))]
    for n in sizes:
        if n is not None and n < 1:
            raise ValueError(f"{op}: Invalid number of data points ({n}) specified")
    return dims, sizes


def _resized(x: Tensor, dims: tuple[int, ...], sizes: Sequence[int | None]) -> Tensor:
    wanted = tuple(x.shape[d] if n is None else n for d, n in zip(dims, sizes))
    if wanted == tuple(x.shape[d] for d in dims):
        return x
    return _fft_resize(x, dims=dims, sizes=wanted)


def _check_points(op: str, x: Tensor, dims: tuple[int, ...]) -> None:
    for d in dims:
        if x.shape[d] < 1:
            raise ValueError(f"{op}: Invalid number of data points ({x.shape[d]}) specified "
                             f"(dim {d} of a {format_shape(x.shape)} tensor)")


# -- the transforms -----------------------------------------------------------------------------

def _c2c(op: str, input: Tensor, s: Any, dim: Any, norm: str | None, forward: bool,
         default_dims: tuple[int, ...] | None) -> Tensor:
    mode = _norm(op, norm)
    x = _floating(op, input)
    dims, sizes = _dims_and_sizes(op, x, s, dim, default_dims)
    x = _resized(x, dims, sizes)
    _check_points(op, x, dims)
    if x.dtype.kind != "c" and dims:
        # Real values: half a transform and its mirror (PyTorch does the same).
        # The inverse transform of real values is the conjugate of the forward one.
        if forward:
            return _fft_r2c(x, dims=dims, norm=mode, onesided=False)
        return conj(_fft_r2c(x, dims=dims, norm=_ADJOINT_NORM[mode], onesided=False))
    return _fft_c2c(_as_complex(op, x), dims=dims, norm=mode, forward=forward)


def _r2c(op: str, input: Tensor, s: Any, dim: Any, norm: str | None,
         default_dims: tuple[int, ...] | None, hermitian: bool = False) -> Tensor:
    mode = _norm(op, norm)
    x = _floating(op, input, real_only=True)
    dims, sizes = _dims_and_sizes(op, x, s, dim, default_dims)
    x = _resized(x, dims, sizes)
    _check_points(op, x, dims)
    if not hermitian:
        return _fft_r2c(x, dims=dims, norm=mode)
    # ihfft: the inverse transform of real values is the conjugate of the forward one.
    return conj(_fft_r2c(x, dims=dims, norm=_ADJOINT_NORM[mode]))


def _c2r(op: str, input: Tensor, s: Any, dim: Any, norm: str | None,
         default_dims: tuple[int, ...] | None, hermitian: bool = False) -> Tensor:
    mode = _norm(op, norm)
    x = _as_complex(op, input)
    dims, sizes = _dims_and_sizes(op, x, s, dim, default_dims)
    if not dims:
        raise ValueError(f"{op}: must transform at least one axis")
    last = dims[-1]
    last_size = sizes[-1] if sizes[-1] is not None else 2 * (x.shape[last] - 1)
    if last_size < 1:
        raise ValueError(f"{op}: Invalid number of data points ({last_size}) specified")
    x = _resized(x, dims, list(sizes[:-1]) + [last_size // 2 + 1])
    _check_points(op, x, dims)
    if hermitian:  # hfft: the forward transform of a Hermitian signal given by its half
        x, mode = conj(x), _ADJOINT_NORM[mode]
    return _fft_c2r(x, dims=dims, norm=mode, last_size=last_size)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform along ``dim``, zero-padded or trimmed to
    ``n`` points; ``norm`` is "backward" (no scaling, the default), "ortho" or "forward" (1/n).

    >>> import backprop as bp
    >>> bp.fft.fft(bp.tensor([1.0, 0.0, 0.0, 0.0])).tolist()  # -0j as in PyTorch
    [(1+0j), (1+0j), (1+0j), (1-0j)]
    """
    return _c2c("fft", input, None if n is None else (n,), (dim,), norm, True, None)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``fft`` (scaled by 1/n under the default norm "backward").

    >>> import backprop as bp
    >>> bp.fft.ifft(bp.tensor([4.0, 0.0, 0.0, 0.0])).tolist()
    [(1-0j), (1-0j), (1-0j), (1+0j)]
    """
    return _c2c("ifft", input, None if n is None else (n,), (dim,), norm, False, None)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
         norm: str | None = None) -> Tensor:
    """The two-dimensional discrete Fourier transform (``fftn`` over the last two dims).

    >>> import backprop as bp
    >>> bp.fft.fft2(bp.ones(2, 2)).real.tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    return _c2c("fft2", input, s, dim, norm, True, None)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """The inverse of ``fft2``.

    >>> import backprop as bp
    >>> bp.fft.ifft2(bp.ones(2, 2)).real.tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    return _c2c("ifft2", input, s, dim, norm, False, None)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
         norm: str | None = None) -> Tensor:
    """The N-dimensional discrete Fourier transform over ``dim`` (every dim, or the last
    ``len(s)`` when only ``s`` is given), each padded or trimmed to ``s``.

    >>> import backprop as bp
    >>> bp.fft.fftn(bp.ones(2, 2)).real.tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    return _c2c("fftn", input, s, dim, norm, True, None)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The inverse of ``fftn``.

    >>> import backprop as bp
    >>> bp.fft.ifftn(bp.ones(2, 2)).real.tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    return _c2c("ifftn", input, s, dim, norm, False, None)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The Fourier transform of a real signal: its n // 2 + 1 non-negative frequencies.

    >>> import backprop as bp
    >>> bp.fft.rfft(bp.tensor([1.0, 2.0, 3.0, 4.0])).tolist()
    [(10+0j), (-2+2j), (-2+0j)]
    """
    return _r2c("rfft", input, None if n is None else (n,), (dim,), norm, None)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: ``n`` real values (default 2 * (m - 1) from m frequencies).

    >>> import backprop as bp
    >>> bp.fft.irfft(bp.tensor([10 + 0j, -2 + 2j, -2 + 0j])).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    return _c2r("irfft", input, None if n is None else (n,), (dim,), norm, None)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``rfftn`` over the last two dims.

    >>> import backprop as bp
    >>> bp.fft.rfft2(bp.ones(2, 2)).shape
    (2, 2)
    """
    return _r2c("rfft2", input, s, dim, norm, None)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """The inverse of ``rfft2``.

    >>> import backprop as bp
    >>> bp.fft.irfft2(bp.fft.rfft2(bp.ones(2, 2))).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return _c2r("irfft2", input, s, dim, norm, None)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The N-dimensional transform of a real signal, one-sided along the last of ``dim``.

    >>> import backprop as bp
    >>> bp.fft.rfftn(bp.ones(2, 4)).shape
    (2, 3)
    """
    return _r2c("rfftn", input, s, dim, norm, None)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``; the last dim's size is ``s[-1]`` or 2 * (m - 1).

    >>> import backprop as bp
    >>> bp.fft.irfftn(bp.fft.rfftn(bp.ones(2, 4))).shape
    (2, 4)
    """
    return _c2r("irfftn", input, s, dim, norm, None)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: real values.

    >>> import backprop as bp
    >>> bp.fft.hfft(bp.tensor([1 + 0j, 0j, 0j])).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return _c2r("hfft", input, None if n is None else (n,), (dim,), norm, None, hermitian=True)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``hfft``: the first half of the inverse transform of real values.

    >>> import backprop as bp
    >>> bp.fft.ihfft(bp.tensor([1.0, 1.0, 1.0, 1.0])).tolist()
    [(1-0j), -0j, -0j]
    """
    return _r2c("ihfft", input, None if n is None else (n,), (dim,), norm, None, hermitian=True)


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
          norm: str | None = None) -> Tensor:
    """``hfftn`` over the last two dims.

    >>> import backprop as bp
    >>> bp.fft.hfft2(bp.ones(2, 2, dtype=bp.complex64)).shape
    (2, 2)
    """
    return _c2r("hfft2", input, s, dim, norm, None, hermitian=True)


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1),
           norm: str | None = None) -> Tensor:
    """``ihfftn`` over the last two dims.

    >>> import backprop as bp
    >>> bp.fft.ihfft2(bp.ones(2, 4)).shape
    (2, 3)
    """
    return _r2c("ihfft2", input, s, dim, norm, None, hermitian=True)


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
          norm: str | None = None) -> Tensor:
    """The N-dimensional transform of a Hermitian-symmetric signal given by its half along the
    last of ``dim``: real values.

    >>> import backprop as bp
    >>> bp.fft.hfftn(bp.ones(2, 2, dtype=bp.complex64)).shape
    (2, 2)
    """
    return _c2r("hfftn", input, s, dim, norm, None, hermitian=True)


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None,
           norm: str | None = None) -> Tensor:
    """The inverse of ``hfftn``.

    >>> import backprop as bp
    >>> bp.fft.ihfftn(bp.ones(2, 4)).shape
    (2, 3)
    """
    return _r2c("ihfftn", input, s, dim, norm, None, hermitian=True)


def _shift(op: str, input: Tensor, dim: Any, sign: int) -> Tensor:
    from .rearrange import roll

    if dim is None:
        dims = tuple(range(input.ndim))
    else:
        dims = tuple(check_dim(op, int(d), input.ndim)
                     for d in ((dim,) if isinstance(dim, (int, np.integer)) else dim))
    if not dims:
        return input
    return roll(input, [sign * (input.shape[d] // 2) for d in dims], dims)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero frequency to the centre (roll each of ``dim``, default all, by n // 2).

    >>> import backprop as bp
    >>> bp.fft.fftshift(bp.fft.fftfreq(4)).tolist()
    [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift("fftshift", input, dim, 1)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of ``fftshift``.

    >>> import backprop as bp
    >>> bp.fft.ifftshift(bp.tensor([-0.5, -0.25, 0.0, 0.25])).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    return _shift("ifftshift", input, dim, -1)


def _frequencies(op: str, count: int, negative_from: int | None, n: int, d: float, dtype: Any,
                 device: Any, requires_grad: bool) -> Tensor:
    """``[0, 1, ..., count - 1] / (n * d)``, the entries from ``negative_from`` on less n."""
    from ..creation import as_tensor

    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{op}: n must be a non-negative integer, got {n!r}")
    dtype = dtypes.float32 if dtype is None else dtypes.as_dtype(dtype, op)
    if dtype.kind not in "fcV":
        raise DTypeError(f"{op}: dtype must be a floating point or complex dtype, got {dtype}")
    # PyTorch's numbers: the integers in the result's dtype times 1 / (n d), a product rather
    # than a quotient (and no float64 detour: a third of the time in float32). Other dtypes
    # are computed in float64 and rounded once. On the host, copied once to ``device``.
    compute = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
    values = np.arange(count, dtype=compute)
    if negative_from is not None:
        values[negative_from:] -= count  # -(n // 2), ..., -1, exactly
    with np.errstate(divide="ignore", invalid="ignore"):  # n d = 0: inf and nan, as PyTorch's
        values *= compute.type(np.divide(1.0, np.float64(n) * d))
    return as_tensor(values.astype(dtype, copy=False), device=device
                     ).requires_grad_(requires_grad)


def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point ``fft`` with sample spacing ``d``:
    ``[0, 1, ..., n // 2 - 1 + n % 2, -(n // 2), ..., -1] / (n * d)``.

    >>> import backprop as bp
    >>> bp.fft.fftfreq(4).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    count = int(n) if isinstance(n, (int, np.integer)) and n >= 0 else 0
    return _frequencies("fftfreq", count, (count + 1) // 2, n, d, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point ``rfft``: ``[0, 1, ..., n // 2] / (n * d)``.

    >>> import backprop as bp
    >>> bp.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    count = int(n) if isinstance(n, (int, np.integer)) and n >= 0 else 0
    return _frequencies("rfftfreq", count // 2 + 1, None, n, d, dtype, device, requires_grad)


# -- short-time transforms ---------------------------------------------------------------------

# Framing and overlap-adding are each other's adjoints: each one's gradient is the other.
@primitive("stft_frames", grads={
    "input": lambda g, out, input, *, n_fft, hop: _overlap_add(g, hop=hop, length=input.shape[-1]),
})
def _frames(input: Any, *, n_fft: int, hop: int) -> Any:
    windows = xp_of(input).lib.stride_tricks.sliding_window_view(input, n_fft, axis=-1)
    return contiguous(windows[..., ::hop, :])


@primitive("overlap_add", grads={
    "input": lambda g, out, input, *, hop, length: _frames(g, n_fft=input.shape[-1], hop=hop),
})
def _overlap_add(input: Any, *, hop: int, length: int) -> Any:
    frames, n_fft = input.shape[-2:]
    out = zeros(input.shape[:-2] + (length,), input.dtype, input)
    for k in range(n_fft):  # n_fft strided adds, each over every frame at once
        out[..., k:k + hop * (frames - 1) + 1:hop] += input[..., k]
    return out


def _window(op: str, window: Tensor | None, n_fft: int, win_length: int, like: Tensor) -> Any:
    """The window padded on both sides to ``n_fft`` (ones when None), as PyTorch centres it."""
    from .rearrange import pad

    if window is None:
        from ..creation import ones

        window = ones(win_length, dtype=_real_dtype(like.dtype), device=like.device)
    elif window.ndim != 1 or window.shape[0] != win_length:
        raise ShapeError(f"{op}: expected a 1D window tensor of size equal to win_length="
                         f"{win_length}, but got window with size {format_shape(window.shape)}")
    left = (n_fft - win_length) // 2
    return window if left == 0 and win_length == n_fft else \
        pad(window, (left, n_fft - win_length - left))


def _lengths(op: str, n_fft: int, hop_length: int | None,
             win_length: int | None) -> tuple[int, int]:
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if hop <= 0:
        raise ValueError(f"{op}: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise ValueError(f"{op}: expected 0 < win_length <= n_fft, but got win_length={win} "
                         f"and n_fft={n_fft}")
    return hop, win


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None) -> Tensor:
    """The short-time Fourier transform: the ``fft`` of each ``n_fft``-point frame, frames
    ``hop_length`` apart (default n_fft // 4), each times ``window``; ``center`` pads the signal
    by n_fft // 2 on both sides (``pad_mode``). The result is (freq, frames), batched when the
    input is (batch, time); one-sided for real signals and windows unless ``onesided=False``.

    >>> import backprop as bp
    >>> bp.stft(bp.ones(16), n_fft=8, return_complex=True).shape
    (5, 9)
    """
    from .rearrange import pad

    x = _floating("stft", input)
    complex_window = window is not None and window.dtype.kind == "c"
    complex_input = x.dtype.kind == "c" or complex_window
    if return_complex is None:
        if not complex_input:
            raise ValueError("stft requires the return_complex parameter be given for real "
                             "inputs; pass return_complex=True")
        return_complex = True
    if x.ndim not in (1, 2):
        raise ShapeError(f"stft: expected a 1D or 2D tensor, got {format_shape(x.shape)}")
    hop, win = _lengths("stft", n_fft, hop_length, win_length)
    batched = x.ndim == 2
    if not batched:
        x = x.reshape(1, x.shape[0])
    if center:
        half = n_fft // 2
        x = pad(x.reshape(x.shape[0], 1, x.shape[1]), (half, half), mode=pad_mode)
        x = x.reshape(x.shape[0], x.shape[2])
    if not 0 < n_fft <= x.shape[-1]:
        raise ValueError(f"stft: expected 0 < n_fft <= {x.shape[-1]} (the padded length), but "
                         f"got n_fft={n_fft}")
    frames = _frames(x, n_fft=n_fft, hop=hop)
    if window is not None:
        frames = frames * _window("stft", window, n_fft, win, x)
    if onesided is None:
        onesided = not complex_input
    norm = "ortho" if normalized else "backward"
    if onesided:
        if complex_input:
            raise ValueError("stft: Cannot have onesided output if window or input is complex")
        out = _fft_r2c(frames, dims=(2,), norm=norm)
    else:
        out = _fft_c2c(_as_complex("stft", frames), dims=(2,), norm=norm, forward=True)
    out = out.transpose(1, 2)
    if not batched:
        out = out.reshape(out.shape[1:])
    return out if return_complex else view_as_real(out)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of ``stft``: each frame's inverse transform times the window, overlap-added
    and divided by the overlap-added squared window; ``length`` trims or zero-pads the result.

    >>> import backprop as bp
    >>> x = bp.arange(16.0)
    >>> y = bp.istft(bp.stft(x, 8, window=bp.ones(8), return_complex=True), 8, window=bp.ones(8))
    >>> bool(bp.allclose(y, x[:y.shape[0]], atol=1e-5))
    True
    """
    from ..creation import zeros as zeros_tensor
    from .rearrange import pad

    if not isinstance(input, Tensor) or input.dtype.kind != "c":
        raise DTypeError("istft requires a complex-valued input tensor, got "
                         f"{getattr(input, 'dtype', type(input).__name__)}")
    hop, win = _lengths("istft", n_fft, hop_length, win_length)
    batched = input.ndim == 3
    if input.ndim not in (2, 3):
        raise ShapeError(f"istft: expected a 2D or 3D complex tensor (freq, frames), got "
                         f"{format_shape(input.shape)}")
    x = input if batched else input.reshape((1,) + input.shape)
    fft_size, n_frames = x.shape[1], x.shape[2]
    if onesided is None:
        onesided = fft_size != n_fft
    expected_size = n_fft // 2 + 1 if onesided else n_fft
    if fft_size != expected_size:
        raise ShapeError(f"istft: expected the frequency dimension (size {fft_size}) to be "
                         f"{expected_size} (n_fft={n_fft}, onesided={onesided})")
    norm = "ortho" if normalized else "backward"
    x = x.transpose(1, 2)
    if return_complex:
        if onesided:
            raise ValueError("istft: cannot have onesided output if return_complex=True")
        frames = _fft_c2c(x, dims=(2,), norm=norm, forward=False)
    else:
        if window is not None and window.dtype.kind == "c":
            raise ValueError("istft: complex windows need return_complex=True")
        if not onesided:
            x = _fft_resize(x, dims=(2,), sizes=(n_fft // 2 + 1,))
        frames = _fft_c2r(x, dims=(2,), norm=norm, last_size=n_fft)
    window = _window("istft", window, n_fft, win, frames)
    frames = frames * window
    expected = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames, hop=hop, length=expected)
    frame_rows = zeros_tensor(n_frames, 1, dtype=window.dtype, device=window.device)
    squares = (window * window).reshape(1, n_fft) + frame_rows  # the squared window per frame
    envelope = _overlap_add(squares, hop=hop, length=expected)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    y, envelope = y[..., start:end], envelope[start:end]
    if envelope.shape[0] and float(envelope.abs().min().item()) < 1e-11:
        raise ValueError("istft: window overlap add min: the squared windows' overlap-add is "
                         "(nearly) zero somewhere; choose a window and hop_length that cover "
                         "every sample (NOLA)")
    y = y / envelope
    if length is not None and y.shape[-1] < length:
        y = pad(y, (0, length - y.shape[-1]))
    return y if batched else y.reshape(y.shape[1:])


# The bp.fft functions are not top-level names: ``backprop.fft`` imports them.
__all__: list[str] = ["istft", "stft"]
