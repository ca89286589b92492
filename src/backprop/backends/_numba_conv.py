"""The Numba kernels behind ``backends.numba_conv``: im2col and col2im for 2-d convolutions
(1-d ones run as 2-d with one row). Importing this module imports Numba.

Both work on C-contiguous float32/float64 arrays their caller allocated, with the geometry of
one convolution: kernel ``(kh, kw)``, stride ``(sh, sw)``, padding before ``(ph, pw)`` (rows
and columns outside the input read as zero), dilation ``(dh, dw)``, output ``(ho, wo)``.
The columns are ``(images, C * kh * kw, ho * wo)``: row ``(c, ki, kj)`` (the weight's own
order, so ``weight.reshape(O, -1)`` multiplies it with no copy), column ``(i, j)``, the
element ``x[n, c, i * sh + ki * dh - ph, j * sw + kj * dw - pw]``. The caller contracts each
image's columns with one product (see ``numba_conv`` for why not one over the batch). Stride 1
without padding or dilation (LeNet's layers) takes a copy with no bounds tests. The
``*_images`` kernels at the end run whole convolutions, images spread over Numba's threads.

col2im adds in a fixed order (per output plane, kernel offsets in order), so results do not
depend on threads or sizes. No fast-math. Kept in one file: Numba's disk cache notices changes
to a kernel's own file only.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def _columns(w, wo, kj, sw, dw, pw):
    """The output columns ``j0 <= j < j1`` whose input column ``j * sw + kj * dw - pw`` lies
    inside ``[0, w)``."""
    start = pw - kj * dw  # the smallest j * sw that lands inside
    j0 = 0 if start <= 0 else (start + sw - 1) // sw
    last = w - 1 + pw - kj * dw  # the largest j * sw that lands inside
    j1 = 0 if last < 0 else min(wo, last // sw + 1)
    return j0, max(j0, j1)


@njit(**_OPTIONS)
def _fill_zero(dst, at, count):
    for j in range(uint64(count)):
        dst[uint64(at) + j] = 0


@njit(**_OPTIONS)
def _dense_windows(src, b0, b1, c, h, w, kh, kw, ho, wo, dst):
    """im2col for stride 1, no padding, no dilation (LeNet's layers): every window row lies
    inside its plane, so each is one plain copy, with no bounds or zero fill per row (2.5x
    faster on W3's second convolution, whose rows are 8 elements long)."""
    at = uint64(0)
    for b in range(b0, b1):
        for ci in range(c):
            plane = (b * c + ci) * h * w
            for ki in range(kh):
                for kj in range(kw):
                    for i in range(ho):
                        source = uint64(plane + (i + ki) * w + kj)
                        for j in range(uint64(wo)):
                            dst[at + j] = src[source + j]
                        at += uint64(wo)


@njit(**_OPTIONS)
def im2col(x, b0, b1, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols):
    """Fill ``cols`` (b1 - b0, C * kh * kw, ho * wo) with the windows of images
    ``b0 <= b < b1`` of ``x`` (N, C, H, W)."""
    _, c, h, w = x.shape
    n = b1 - b0
    # Flat indices (row views inside the loops cost 8x), and unsigned ones in the inner loops:
    # a signed index is tested for Python's negative wrap-around on every access, which keeps
    # the copy from vectorising (3-4x slower).
    src = x.reshape(-1)
    dst = cols.reshape(-1)
    if sh == 1 and sw == 1 and dh == 1 and dw == 1 and ph == 0 and pw == 0:
        _dense_windows(src, b0, b1, c, h, w, kh, kw, ho, wo, dst)
        return
    area = ho * wo
    rows = c * kh * kw
    step = uint64(sw)
    for b in range(n):
        for ci in range(c):
            plane = ((b0 + b) * c + ci) * h * w
            for ki in range(kh):
                for kj in range(kw):
                    row = (b * rows + (ci * kh + ki) * kw + kj) * area
                    j0, j1 = _columns(w, wo, kj, sw, dw, pw)
                    shift = kj * dw - pw
                    for i in range(ho):
                        at = row + i * wo
                        ih = i * sh + ki * dh - ph
                        if ih < 0 or ih >= h:
                            _fill_zero(dst, at, wo)
                            continue
                        _fill_zero(dst, at, j0)
                        target = uint64(at + j0)
                        source = uint64(plane + ih * w + shift + j0 * sw)
                        if sw == 1:
                            for j in range(uint64(j1 - j0)):
                                dst[target + j] = src[source + j]
                        else:
                            for j in range(uint64(j1 - j0)):
                                dst[target + j] = src[source + j * step]
                        _fill_zero(dst, at + j1, wo - j1)


@njit(**_OPTIONS)
def _dense_windows_back(src, b0, b1, c, h, w, kh, kw, ho, wo, dst):
    """col2im for stride 1, no padding, no dilation: each window row added back with no
    bounds, in ``col2im``'s order (the same sums)."""
    at = uint64(0)
    for b in range(b0, b1):
        for ci in range(c):
            plane = (b * c + ci) * h * w
            for ki in range(kh):
                for kj in range(kw):
                    for i in range(ho):
                        target = uint64(plane + (i + ki) * w + kj)
                        for j in range(uint64(wo)):
                            dst[target + j] += src[at + j]
                        at += uint64(wo)


@njit(**_OPTIONS)
def col2im(cols, b0, b1, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, out):
    """Add every column of ``cols`` (b1 - b0, C * kh * kw, ho * wo) at its window's place
    in images ``b0 <= b < b1`` of ``out`` (N, C, H, W), which the caller zeroed: the adjoint
    of ``im2col``."""
    _, c, h, w = out.shape
    n = b1 - b0
    src = cols.reshape(-1)
    dst = out.reshape(-1)
    if sh == 1 and sw == 1 and dh == 1 and dw == 1 and ph == 0 and pw == 0:
        _dense_windows_back(src, b0, b1, c, h, w, kh, kw, ho, wo, dst)
        return
    area = ho * wo
    rows = c * kh * kw
    step = uint64(sw)
    for b in range(n):
        for ci in range(c):
            plane = ((b0 + b) * c + ci) * h * w
            for ki in range(kh):
                for kj in range(kw):
                    row = (b * rows + (ci * kh + ki) * kw + kj) * area
                    j0, j1 = _columns(w, wo, kj, sw, dw, pw)
                    shift = kj * dw - pw
                    for i in range(ho):
                        ih = i * sh + ki * dh - ph
                        if ih < 0 or ih >= h:
                            continue
                        target = uint64(plane + ih * w + shift + j0 * sw)
                        source = uint64(row + i * wo + j0)
                        if sw == 1:
                            for j in range(uint64(j1 - j0)):
                                dst[target + j] += src[source + j]
                        else:
                            for j in range(uint64(j1 - j0)):
                                dst[target + j * step] += src[source + j]


# -- whole convolutions over the batch, images split across Numba's threads -----------------------
# ``gemm`` is the BLAS's ``cblas_?gemm`` (a ctypes function, ``lapack.cblas_gemm``), called once
# per image as NumPy's matmul calls it for one image; ``chunk`` images are one task. Each image's
# result depends on that image alone (the weight gradient's partial sums on the chunk alone), so
# results do not depend on the number of threads.

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


@njit(**_OPTIONS)
def _convolve_images(gemm, x, weight, bias, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, first, last,
                     out):
    o, rows = weight.shape
    area = ho * wo
    cols = np.empty(rows * area, x.dtype)
    for b in range(first, last):
        im2col(x, b, b + 1, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols)
        image = out[b]
        gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, o, area, rows, 1.0, weight.ctypes.data, rows,
             cols.ctypes.data, area, 0.0, image.ctypes.data, area)
        if bias.size != 0:
            for i in range(o):
                shift = bias[i]
                row = image[i]
                for j in range(area):
                    row[j] = row[j] + shift


@njit(parallel=True, **_OPTIONS)
def convolution_images(gemm, x, weight, bias, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, chunk,
                       out):
    """``out[b] = weight @ columns(x[b]) (+ bias)``: ``weight`` (O, rows) C-contiguous,
    ``bias`` (O,) or empty, ``out`` (N, O, ho * wo)."""
    n = x.shape[0]
    for task in prange((n + chunk - 1) // chunk):
        _convolve_images(gemm, x, weight, bias, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo,
                         task * chunk, min(n, (task + 1) * chunk), out)


@njit(**_OPTIONS)
def _transpose_images(gemm, x, weight, kh, kw, sh, sw, ph, pw, dh, dw, hi, wi, first, last,
                      out):
    c_in = x.shape[1]
    rows = weight.shape[1]
    area = hi * wi
    cols = np.empty(rows * area, x.dtype)
    for b in range(first, last):
        gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, rows, area, c_in, 1.0, weight.ctypes.data, rows,
             x[b].ctypes.data, area, 0.0, cols.ctypes.data, area)
        col2im(cols, b, b + 1, kh, kw, sh, sw, ph, pw, dh, dw, hi, wi, out)


@njit(parallel=True, **_OPTIONS)
def conv_transpose_images(gemm, x, weight, kh, kw, sh, sw, ph, pw, dh, dw, hi, wi, chunk, out):
    """``out[b] += col2im(weight^T @ x[b])``: ``x`` (N, C_in, hi * wi), ``weight`` (C_in,
    C_out * kh * kw) C-contiguous, ``out`` (N, C_out, H, W) zeroed by the caller."""
    n = x.shape[0]
    for task in prange((n + chunk - 1) // chunk):
        _transpose_images(gemm, x, weight, kh, kw, sh, sw, ph, pw, dh, dw, hi, wi, task * chunk,
                          min(n, (task + 1) * chunk), out)


@njit(**_OPTIONS)
def _weight_grad_images(gemm, x, g, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, first, last, part):
    o = g.shape[1]
    rows = part.shape[0]
    area = ho * wo
    cols = np.empty(rows * area, x.dtype)
    for b in range(first, last):
        im2col(x, b, b + 1, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols)
        gemm(_ROW_MAJOR, _NO_TRANS, _TRANS, rows, o, area, 1.0, cols.ctypes.data, area,
             g[b].ctypes.data, area, 0.0 if b == first else 1.0, part.ctypes.data, o)


@njit(parallel=True, **_OPTIONS)
def conv_weight_grad_images(gemm, x, g, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, chunk, parts):
    """``parts[t]`` (rows, O) = the sum over task ``t``'s images of ``columns(x[b]) @ g[b]^T``,
    added image after image: ``g`` (N, O, ho * wo)."""
    n = x.shape[0]
    for task in prange((n + chunk - 1) // chunk):
        _weight_grad_images(gemm, x, g, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, task * chunk,
                            min(n, (task + 1) * chunk), parts[task])


@njit(parallel=True, **_OPTIONS)
def pool_probe(a):
    """A trivial parallel loop: its first call starts Numba's thread pool."""
    for i in prange(a.size):
        a[i] = i
