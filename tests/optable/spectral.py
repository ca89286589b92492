"""Op-table rows for ``backprop.ops.spectral`` (the bp.fft namespace, stft and istft).

The table's tests differentiate real functions of real arrays: a complex input is made of a
real (..., 2) array (``view_as_complex``) and a complex result is read back as one
(``view_as_real``). NumPy's np.fft is the reference (the transforms NumPy lacks, ihfft2/ihfftn
and hfft2/hfftn, by their definitions through rfftn and irfftn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _np_complex(x: np.ndarray) -> np.ndarray:
    return x[..., 0] + 1j * x[..., 1]


def _np_real(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], axis=-1)


def _np_kwargs(kwargs: dict) -> dict:
    """PyTorch's keywords in NumPy's spelling (dim -> axis/axes)."""
    out = dict(kwargs)
    if "dim" in out:
        dim = out.pop("dim")
        out["axes" if isinstance(dim, tuple) else "axis"] = dim
    return out


def _ihfftn(x: np.ndarray, s: Any = None, axes: Any = None, norm: str = "backward") -> np.ndarray:
    return np.conj(np.fft.rfftn(x, s=s, axes=axes, norm=_SWAP[norm]))


def _hfftn(z: np.ndarray, s: Any = None, axes: Any = None, norm: str = "backward") -> np.ndarray:
    return np.fft.irfftn(np.conj(z), s=s, axes=axes, norm=_SWAP[norm])


def _one_d(rng: np.random.Generator, pairs: bool) -> list[Sample]:
    tail = (2,) if pairs else ()
    return [Sample((uniform(rng, (2, 5) + tail),), name="default"),
            Sample((uniform(rng, (3, 4) + tail),), {"n": 6, "dim": 0, "norm": "ortho"},
                   name="n-pad-ortho"),
            Sample((uniform(rng, (6,) + tail),), {"n": 4, "norm": "forward"}, name="n-trim")]


def _n_d(rng: np.random.Generator, pairs: bool) -> list[Sample]:
    tail = (2,) if pairs else ()
    return [Sample((uniform(rng, (2, 3, 4) + tail),), name="default"),
            Sample((uniform(rng, (3, 4) + tail),), {"s": (4, 3), "dim": (0, 1), "norm": "ortho"},
                   name="s-ortho"),
            Sample((uniform(rng, (2, 3, 4) + tail),), {"dim": (2, 0), "norm": "forward"},
                   name="dims-forward")]


def _transform(name: str, ref: Callable, *, complex_input: bool, complex_output: bool,
               n_d: bool) -> OpSpec:
    """A row for ``bp.fft.<name>``; ``ref(x, **numpy_kwargs)`` computes it in NumPy."""
    ours = getattr(bp.fft, name)

    def wrap_in(module: Any, x: Any) -> Any:
        return module.view_as_complex(x) if complex_input else x

    def wrap_out(module: Any, out: Any) -> Any:
        # PyTorch's ihfft returns a lazy conjugate, which its view_as_real refuses.
        return module.view_as_real(out.resolve_conj()) if complex_output else out

    def reference(x: np.ndarray, **kwargs: Any) -> np.ndarray:
        out = ref(_np_complex(x) if complex_input else x, **_np_kwargs(kwargs))
        return _np_real(out) if complex_output else out

    samples = _n_d if n_d else _one_d
    return OpSpec(name=f"fft.{name}",
                  op=lambda x, **kw: wrap_out(bp, ours(wrap_in(bp, x), **kw)),
                  ref=reference,
                  torch=lambda t, x, **kw: wrap_out(t, getattr(t.fft, name)(wrap_in(t, x), **kw)),
                  samples=lambda rng: samples(rng, complex_input))


def _fft2(ref: Callable) -> Callable:
    """A 2-d transform's reference from its n-d one (over the last two axes by default)."""
    return lambda x, s=None, axes=(-2, -1), norm="backward": ref(x, s=s, axes=axes, norm=norm)


def _shift_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (3, 4)),), name="all"),
            Sample((uniform(rng, (5, 2)),), {"dim": 0}, name="dim")]


def _freq_samples(rng: np.random.Generator) -> list[Sample]:
    # The frequencies take the dtype (float64: the tests run PyTorch with float64 as its default)
    # and the device of a tensor ``like``, so that the rows run on every device.
    like = uniform(rng, ())
    return [Sample((like, 5), grad_args=(), name="odd"),
            Sample((like, 6, 0.5), grad_args=(), name="even-d")]


def _freq(name: str) -> Callable:
    return lambda like, n, d=1.0: getattr(bp.fft, name)(n, d, dtype=like.dtype,
                                                        device=like.device)


def _np_freq(fn: Callable) -> Callable:
    return lambda like, n, d=1.0: fn(n, d).astype(like.dtype)


def _torch_freq(name: str) -> Callable:
    def call(t: Any, like: Any, n: int, d: float = 1.0) -> Any:
        return getattr(t.fft, name)(n, d, dtype=like.dtype, device=like.device)
    return call


# -- stft / istft: n_fft 8, hop 2, the NumPy reference written out ----------------------------

def _np_stft(n_fft: int, x: np.ndarray, window: np.ndarray) -> np.ndarray:
    padded = np.pad(x, (4, 4), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 8)[::2] * window
    return _np_real(np.fft.rfft(frames, axis=-1).T)


def _np_istft(n_fft: int, x: np.ndarray, window: np.ndarray) -> np.ndarray:
    frames = np.fft.irfft(_np_complex(x).T, n=8, axis=-1) * window
    count = frames.shape[0]
    total = 8 + 2 * (count - 1)
    y, envelope = np.zeros(total), np.zeros(total)
    for t in range(count):
        y[2 * t:2 * t + 8] += frames[t]
        envelope[2 * t:2 * t + 8] += window * window
    return (y / envelope)[4:total - 4]


# n_fft comes first: the table's method test calls ``x.stft(*rest)`` when the first argument is
# an array, which these rows' real (..., 2) stand-ins for complex inputs cannot take.
def _stft_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((8, uniform(rng, (12,)), uniform(rng, (8,), 0.5, 1.5)), name="windowed")]


def _istft_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((8, uniform(rng, (5, 4, 2)), uniform(rng, (8,), 0.5, 1.5)), name="windowed")]


def _errors() -> list[ErrorInput]:
    z = bp.ones(4, dtype=bp.complex64)
    return [
        ErrorInput(lambda: bp.fft.rfft(z), bp.errors.DTypeError, "rfft expects a real input"),
        ErrorInput(lambda: bp.fft.fft(bp.ones(4), norm="twice"), ValueError,
                   "fft: Invalid normalization mode"),
        ErrorInput(lambda: bp.fft.fft(bp.ones(4), n=0), ValueError,
                   r"fft: Invalid number of data points \(0\)"),
        ErrorInput(lambda: bp.fft.fft(bp.ones(4), dim=1), bp.errors.DimError, "fft: dim 1"),
        ErrorInput(lambda: bp.fft.fftn(bp.ones(4, 4), s=(2, 2), dim=(0,)), bp.errors.ShapeError,
                   "fftn: When given, dim and shape"),
        ErrorInput(lambda: bp.stft(bp.ones(16), 8), ValueError,
                   "stft requires the return_complex parameter"),
        ErrorInput(lambda: bp.istft(bp.ones(5, 3), 8), bp.errors.DTypeError,
                   "istft requires a complex-valued input"),
        ErrorInput(lambda: bp.istft(bp.ones(4, 3, dtype=bp.complex64), 8), bp.errors.ShapeError,
                   "istft: expected the frequency dimension"),
    ]


_np = np.fft
ROWS: list[OpSpec] = [
    _transform("fft", _np.fft, complex_input=True, complex_output=True, n_d=False),
    _transform("ifft", _np.ifft, complex_input=True, complex_output=True, n_d=False),
    _transform("rfft", _np.rfft, complex_input=False, complex_output=True, n_d=False),
    _transform("irfft", _np.irfft, complex_input=True, complex_output=False, n_d=False),
    _transform("hfft", _np.hfft, complex_input=True, complex_output=False, n_d=False),
    _transform("ihfft", _np.ihfft, complex_input=False, complex_output=True, n_d=False),
    _transform("fft2", _np.fft2, complex_input=True, complex_output=True, n_d=True),
    _transform("ifft2", _np.ifft2, complex_input=True, complex_output=True, n_d=True),
    _transform("rfft2", _np.rfft2, complex_input=False, complex_output=True, n_d=True),
    _transform("irfft2", _np.irfft2, complex_input=True, complex_output=False, n_d=True),
    _transform("hfft2", _fft2(_hfftn), complex_input=True, complex_output=False, n_d=True),
    _transform("ihfft2", _fft2(_ihfftn), complex_input=False, complex_output=True, n_d=True),
    _transform("fftn", _np.fftn, complex_input=True, complex_output=True, n_d=True),
    _transform("ifftn", _np.ifftn, complex_input=True, complex_output=True, n_d=True),
    _transform("rfftn", _np.rfftn, complex_input=False, complex_output=True, n_d=True),
    _transform("irfftn", _np.irfftn, complex_input=True, complex_output=False, n_d=True),
    _transform("hfftn", _hfftn, complex_input=True, complex_output=False, n_d=True),
    _transform("ihfftn", _ihfftn, complex_input=False, complex_output=True, n_d=True),
    OpSpec(name="fft.fftshift", op=bp.fft.fftshift,
           ref=lambda x, dim=None: np.fft.fftshift(x, axes=dim),
           torch=lambda t, x, **kw: t.fft.fftshift(x, **kw), samples=_shift_samples,
           error_inputs=_errors),
    OpSpec(name="fft.ifftshift", op=bp.fft.ifftshift,
           ref=lambda x, dim=None: np.fft.ifftshift(x, axes=dim),
           torch=lambda t, x, **kw: t.fft.ifftshift(x, **kw), samples=_shift_samples),
    OpSpec(name="fft.fftfreq", op=_freq("fftfreq"), ref=_np_freq(np.fft.fftfreq),
           torch=_torch_freq("fftfreq"), samples=_freq_samples, grad=False, float32=False),
    OpSpec(name="fft.rfftfreq", op=_freq("rfftfreq"), ref=_np_freq(np.fft.rfftfreq),
           torch=_torch_freq("rfftfreq"), samples=_freq_samples, grad=False, float32=False),
    OpSpec(name="stft",
           op=lambda n, x, w: bp.view_as_real(bp.stft(x, n, 2, window=w, return_complex=True)),
           ref=_np_stft,
           torch=lambda t, n, x, w: t.view_as_real(t.stft(x, n, 2, window=w,
                                                          return_complex=True)),
           samples=_stft_samples),
    OpSpec(name="istft",
           op=lambda n, x, w: bp.istft(bp.view_as_complex(x), n, 2, window=w),
           ref=_np_istft,
           torch=lambda t, n, x, w: t.istft(t.view_as_complex(x), n, 2, window=w),
           samples=_istft_samples),
]
