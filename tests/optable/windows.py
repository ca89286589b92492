"""Op-table rows for ``bp.signal.windows``: creation functions with no gradient, against
NumPy's windows where NumPy has them (its are symmetric) and against the formula elsewhere."""

from __future__ import annotations

import math

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample

LENGTHS = (1, 2, 7)


def _samples(**kwargs):
    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample((m,), dict(kwargs, dtype=bp.float64), name=f"M={m}") for m in LENGTHS]

    return samples


def _periodic(symmetric):
    """The periodic window: the symmetric one of length M + 1, less its last point (a window
    of one point is 1 either way)."""
    return lambda m, sym=True, **kw: (np.ones(1) if m == 1 else
                                      symmetric(m if sym else m + 1, **kw)[:m])


def _cosine(m):
    return np.sin(math.pi * (np.arange(m) + 0.5) / m)


def _exponential(m, tau=1.0):
    return np.exp(-np.abs(np.arange(m) - (m - 1) / 2) / tau)


def _gaussian(m, std=1.0):
    return np.exp(-0.5 * ((np.arange(m) - (m - 1) / 2) / std) ** 2)


def _general_cosine(m, a):
    if m == 1:
        return np.ones(1)
    n = np.arange(m)
    return sum((-1) ** i * c * np.cos(2 * math.pi * i * n / (m - 1)) for i, c in enumerate(a))


def _row(name, ref, **kwargs):
    function = getattr(bp.signal.windows, name)
    return OpSpec(
        f"signal.windows.{name}",
        op=lambda m, **kw: function(m, **kw),
        ref=lambda m, **kw: ref(m, **{k: v for k, v in kw.items() if k != "dtype"}),
        samples=_samples(**kwargs),
        torch=lambda torch, m, **kw: getattr(torch.signal.windows, name)(
            m, **{k: (torch.float64 if k == "dtype" else v) for k, v in kw.items()}),
        grad=False, float32=False,
        error_inputs=lambda: [
            ErrorInput(lambda: function(-1, **kwargs), ValueError, "non-negative int, got -1"),
            ErrorInput(lambda: function(3, dtype=bp.int64, **kwargs), ValueError,
                       "float32 or float64, not int64")])


ROWS = [
    _row("hann", _periodic(lambda m: np.hanning(m))),
    _row("hann", _periodic(lambda m: np.hanning(m)), sym=False),
    _row("hamming", _periodic(lambda m: np.hamming(m))),
    _row("blackman", _periodic(lambda m: np.blackman(m)), sym=False),
    _row("bartlett", _periodic(lambda m: np.bartlett(m))),
    _row("kaiser", _periodic(lambda m, beta=12.0: np.kaiser(m, beta)), beta=3.0, sym=False),
    _row("cosine", _cosine),
    _row("exponential", _exponential, tau=2.5),
    _row("gaussian", _gaussian, std=1.5),
    _row("general_cosine", _periodic(_general_cosine), a=[0.4, 0.35, 0.25]),
    _row("general_hamming", _periodic(lambda m, alpha=0.54: _general_cosine(m, [alpha, 1 - alpha])),
         alpha=0.6),
    _row("nuttall", _periodic(lambda m: _general_cosine(
        m, [0.3635819, 0.4891775, 0.1365995, 0.0106411]))),
]
