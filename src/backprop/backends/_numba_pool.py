"""The Numba kernels behind ``backends.numba_pool``: 2-d max pooling with the indices of the
maxima (1-d runs as 2-d with one row), and the scatter-add of its gradient. Importing this
module imports Numba.

Max pooling follows PyTorch's rule in one pass per window: the first maximum where values tie,
the last NaN where there are NaNs; padding is never read (a window whose real values are all
-inf points at its first real element, as PyTorch's does). Indices are flat into each input
plane. Unsigned indices in the inner loops (see ``_numba_conv``). Kept in one file: Numba's disk
cache notices changes to a kernel's own file only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def _inside(start, k, d, n):
    """The offsets ``k0 <= t < k1`` whose position ``start + t * d`` lies in ``[0, n)``."""
    if start >= 0 and start + (k - 1) * d < n:
        return 0, k
    k0 = 0
    while k0 < k and start + k0 * d < 0:
        k0 += 1
    k1 = k
    while k1 > k0 and start + (k1 - 1) * d >= n:
        k1 -= 1
    return k0, k1


@njit(**_OPTIONS)
def max_pool(x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, values, indices):
    """Window maxima of ``x`` (N, C, H, W) into ``values`` and their flat in-plane indices
    into ``indices`` (both flat, N * C * ho * wo)."""
    n, c, h, w = x.shape
    src = x.reshape(-1)
    plane_size = h * w
    at = uint64(0)
    for p in range(n * c):
        base = uint64(p * plane_size)
        for i in range(ho):
            top = i * sh - ph
            ki0, ki1 = _inside(top, kh, dh, h)
            for j in range(wo):
                left = j * sw - pw
                kj0, kj1 = _inside(left, kw, dw, w)
                arg = (top + ki0 * dh) * w + left + kj0 * dw  # the first real element
                best = src[base + uint64(arg)]
                for ki in range(ki0, ki1):
                    row = (top + ki * dh) * w + left
                    for kj in range(kj0, kj1):
                        flat = row + kj * dw
                        v = src[base + uint64(flat)]
                        # The first maximum; the last NaN. Selects, not a branch: which
                        # element wins is data-dependent, and mispredictions cost 3x.
                        take = (v > best) | math.isnan(v)
                        best = v if take else best
                        arg = flat if take else arg
                values[at] = best
                indices[at] = arg
                at += uint64(1)


@njit(**_OPTIONS)
def _take(v, best):
    """Whether ``v`` replaces ``best``: greater (the first maximum stays), or NaN (the last)."""
    return (v > best) | math.isnan(v)


@njit(**_OPTIONS)
def max_pool_2x2(x, ho, wo, values, indices):
    """``max_pool`` for 2x2 windows at stride 2 that lie inside ``x`` (N, C, H, W), no padding
    or dilation (``2 * ho <= H``, ``2 * wo <= W``): the same maxima and indices, the window's
    four elements read in the same order, with no per-window bounds. The fixed offsets let
    LLVM vectorise across windows: 3x faster than ``max_pool`` on W3's first pool."""
    n, c, h, w = x.shape
    src = x.reshape(-1)
    two = uint64(2)
    at = uint64(0)
    for p in range(n * c):
        base = uint64(p * h * w)
        for i in range(ho):
            top = 2 * i * w
            bottom = top + w
            for j in range(uint64(wo)):
                left = two * j
                best = src[base + uint64(top) + left]
                arg = top + left
                v = src[base + uint64(top) + left + uint64(1)]
                take = _take(v, best)
                best = v if take else best
                arg = top + left + 1 if take else arg
                v = src[base + uint64(bottom) + left]
                take = _take(v, best)
                best = v if take else best
                arg = bottom + left if take else arg
                v = src[base + uint64(bottom) + left + uint64(1)]
                take = _take(v, best)
                best = v if take else best
                arg = bottom + left + 1 if take else arg
                values[at + j] = best
                indices[at + j] = arg
            at += uint64(wo)


@njit(**_OPTIONS)
def max_pool_inside(x, kh, kw, sh, sw, dh, dw, ho, wo, values, indices):
    """``max_pool`` where every window lies inside ``x`` (N, C, H, W): the same maxima and
    indices, each window's elements compared in the same order, but one kernel offset at a
    time across a whole output row. The offsets' elements are first copied into ``rows``, a
    (kh * kw, wo) buffer that stays in cache, so that the loop over the windows reads
    contiguous memory and vectorises (``max_pool`` walks one window at a time, a chain of
    dependent selects: 3x slower for ``max_pool1d(x, 3)``)."""
    n, c, h, w = x.shape
    src = x.reshape(-1)
    taps = kh * kw
    rows = np.empty((taps, wo), x.dtype)
    # Each kernel offset's place in a plane, relative to the window's top-left element.
    offsets = np.array([(t // kw) * dh * w + (t % kw) * dw for t in range(taps)])
    at = 0
    for p in range(n * c):
        plane = src[p * h * w:(p + 1) * h * w]
        for i in range(ho):
            top = i * sh * w
            for t in range(taps):
                offset = top + offsets[t]
                row = rows[t]
                for j in range(wo):
                    row[j] = plane[offset + j * sw]
            vals = values[at:at + wo]
            idx = indices[at:at + wo]
            first = rows[0]
            for j in range(wo):
                vals[j] = first[j]
                idx[j] = top + j * sw
            for t in range(1, taps):
                offset = top + offsets[t]
                row = rows[t]
                for j in range(wo):
                    v = row[j]
                    take = _take(v, vals[j])
                    vals[j] = v if take else vals[j]
                    idx[j] = offset + j * sw if take else idx[j]
            at += wo


@njit(**_OPTIONS)
def scatter_add(grad, indices, per_plane, plane_size, out):
    """``out`` (flat, planes * plane_size, zeroed) with each ``grad[k]`` added at
    ``indices[k]`` of its plane (``per_plane`` entries of ``grad`` per plane)."""
    k = uint64(0)
    for plane in range(grad.size // per_plane):
        base = plane * plane_size
        for _ in range(per_plane):
            out[uint64(base + indices[k])] += grad[k]
            k += uint64(1)
