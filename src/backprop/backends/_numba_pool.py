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

from numba import njit, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


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
            for j in range(wo):
                left = j * sw - pw
                best = src[base]  # replaced by the first real element below
                arg = -1
                for ki in range(kh):
                    ih = top + ki * dh
                    if ih < 0 or ih >= h:
                        continue
                    for kj in range(kw):
                        iw = left + kj * dw
                        if iw < 0 or iw >= w:
                            continue
                        flat = ih * w + iw
                        v = src[base + uint64(flat)]
                        if arg < 0 or v > best or v != v:
                            best = v
                            arg = flat
                values[at] = best
                indices[at] = arg
                at += uint64(1)


@njit(**_OPTIONS)
def scatter_add(grad, indices, per_plane, plane_size, out):
    """``out`` (flat, planes * plane_size, zeroed) with each ``grad[k]`` added at
    ``indices[k]`` of its plane (``per_plane`` entries of ``grad`` per plane)."""
    for k in range(grad.size):
        plane = k // per_plane
        out[uint64(plane * plane_size + indices[k])] += grad[k]
