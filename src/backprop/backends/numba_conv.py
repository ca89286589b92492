"""Compiled kernels for 1-d and 2-d convolutions (``_numba_conv``): the three convolution
primitives (``convolution``, its input adjoint ``conv_transpose`` and ``conv_weight_grad``) as
a compiled copy (im2col, or col2im's adds) and one matrix product per image.

Why: the NumPy path (``ops.conv``) copies windows through strided views whose inner runs are a
few elements long (NumPy's copy loop then costs more than the product), and computes the input
gradient as a padded convolution with ``kernel * C_out`` taps per position. Here a chunk of
images' windows (``_BLOCK_BYTES``, so they stay in cache until multiplied) is copied in one
compiled pass into ``(images, C * kernel, L)`` columns, in the weight's own (c, ki, kj) order,
and each image's product (NumPy's batched ``matmul`` runs one BLAS call per image) writes its
output block directly; the input gradient is each image's
``weight^T @ grad`` followed by col2im (each window's column added back at its place), which
copies ``kernel`` times less than the padded convolution. W3's five convolution calls a step
(LeNet, batch 64; ``benchmarks/profile_w3.py``) took 5.3 ms of CPU here against 9.1 ms in
the NumPy path (one thread; the input gradient 0.9 ms against 3.7); 2.7 ms since stride-1
unpadded windows are copied without bounds tests (``_numba_conv._dense_windows``) and a
chunk's per-image products are one ``np.matmul`` call (without groups): the Python loop over
images cost more than the ~5 us products themselves.

Why one product per image and not one over the batch: OpenBLAS runs products above ~2.6e5
multiply-adds on all its threads, and on a 2-core machine with another busy process those
threads wait for each other at every call (a W3 step went from 34 to 440 ms). The per-image
products of small layers stay under that size and run on the calling thread, as the NumPy
path's do; big layers' per-image products still use every core.

Small layers' images are spread over Numba's threads instead (without groups): one compiled
loop per primitive (``_numba_conv.*_images``) copies each image's windows and calls the BLAS's
``cblas_?gemm`` for it (``lapack.cblas_gemm``), in 16 tasks. Larger products go the same way
when there are at least two images per thread, OpenBLAS held to one thread meanwhile (each
image's product is one thread's share); a single large image keeps OpenBLAS's threads. W3's
step went from 4.06 to 3.40 ms (captured: 3.67 to 3.08), with its channels doubled from 8.49 to
7.65 ms. One thread or two give the same bits: each image's product is its own, and the weight
gradient's partial sums are per task. The pool follows the thread count
(``bp.set_num_threads``, ``thread_watch``: one thread per idle core). Only OpenMP's or TBB's
pool is used (Numba's "workqueue" pool took ~0.13 ms to start a loop, more than the split
gains); elsewhere the chunked path runs. Each whole-batch loop takes ~2 s of CPU to compile,
once per machine (Numba's disk cache).

What limits it: OpenBLAS's worker thread spins for ~0.1 s after each product it shares, and
Numba's worker on the same core then gets a fraction of that core. With W3's channels x4 (its
linear layer and bias sums are threaded products) the gain was gone (22.5 against 21.9 ms;
``perf``: OpenBLAS's spinning thread 6270 samples, Numba's worker 1948).

Registered under the primitives' names (``backprop.kernels``); each returns None where it does
not apply (Numba absent or switched off by ``bp.backends.numba.enabled``, 3-d, dtypes other than
one float32 or float64 for every operand, empty arrays), and the op's own NumPy code runs.
Results agree with it to rounding (sums in another order).

>>> import numpy as np
>>> x, w = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3))
>>> y = convolution(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
>>> y is None or (y.shape == (2, 4, 3, 3) and bool((y == 27).all()))
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels, threads
from . import lapack
from . import numba as _switch

_FLOATS = _switch._FLOATS

def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_conv")


def _arrays(*arrays: Any) -> np.dtype | None:
    """The one float dtype of ``arrays`` (None entries skipped) if all are non-empty NumPy
    arrays of it, else None."""
    dtype = None
    for a in arrays:
        if a is None:
            continue
        if type(a) is not np.ndarray or a.size == 0 or a.dtype not in _FLOATS:
            return None
        if dtype is None:
            dtype = a.dtype
        elif a.dtype != dtype:
            return None
    return dtype


def _as_2d(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
           dilation: tuple) -> tuple | None:
    """``x`` (N, C, *S) and the geometry as 2-d ones (a 1-d convolution has one row), or None
    for other ranks."""
    nd = x.ndim - 2
    if nd == 2:
        return x, tuple(kernel), tuple(stride), tuple(padding), tuple(dilation)
    if nd == 1:
        return (x.reshape(x.shape[:2] + (1,) + x.shape[2:]), (1,) + tuple(kernel),
                (1,) + tuple(stride), ((0, 0),) + tuple(padding), (1,) + tuple(dilation))
    return None


def _out_sizes(sizes: tuple, kernel: tuple, stride: tuple, padding: tuple,
               dilation: tuple) -> tuple:
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(sizes, kernel, stride, padding, dilation))


# Bytes of columns copied and multiplied at a time: they stay in a core's L2 cache between the
# copy and the product (the whole batch's columns, a few MB, would go out to memory and back;
# measured 1.5-2x slower).
_BLOCK_BYTES = 1 << 18


def _column_chunks(n: int, rows: int, area: int,
                   dtype: np.dtype) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(b0, b1, columns)`` for the chunks of ``n`` images whose (images, rows, area) columns
    fit in ``_BLOCK_BYTES``; ``columns`` is one buffer (contents undefined) each chunk reuses."""
    step = max(1, min(n, _BLOCK_BYTES // max(1, rows * area * dtype.itemsize)))
    buffer = np.empty((step, rows, area), dtype)
    for b0 in range(0, n, step):
        b1 = min(n, b0 + step)
        yield b0, b1, buffer[:b1 - b0]


def _prepared(arrays: tuple, x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
              dilation: tuple) -> tuple | None:
    """``(kernels module, x, kernel, stride, padding, dilation)`` in 2-d (``_as_2d``) when the
    compiled kernels take the call: Numba on, one float dtype for ``arrays``, 1-d or 2-d."""
    if _arrays(*arrays) is None:
        return None
    flat = _as_2d(x, kernel, stride, padding, dilation)
    module = None if flat is None else _load()
    return None if module is None else (module, *flat)


def _geometry_args(kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                   out: tuple) -> tuple:
    """The kernels' geometry arguments (kh, kw, sh, sw, ph, pw, dh, dw, ho, wo)."""
    return (kernel[0], kernel[1], stride[0], stride[1], padding[0][0], padding[1][0],
            dilation[0], dilation[1], out[0], out[1])


# OpenBLAS multiplies on all its threads above 4 * 65536 multiply-adds a product; smaller ones
# run on the calling thread.
_ONE_THREAD_PRODUCT = 1 << 18

_pool_fast: bool | None = None  # Numba's thread pool starts tasks in microseconds (None: unknown)
_pool_layer = ""  # the pool's kind (Numba's "threading layer"), once started


def _image_gemm(module: ModuleType, dtype: np.dtype, product: int, n: int, groups: int) -> Any:
    """The BLAS ``cblas_?gemm`` for the kernels that spread ``n`` images over Numba's threads,
    or None to run the chunked path: groups, the BLAS not found, a thread pool that starts
    slowly, or too few images for the threads when each image's product is one OpenBLAS would
    thread."""
    global _pool_fast
    if groups != 1:
        return None
    if _pool_fast is None:
        _pool_fast = _start_pool(module)
    if not _pool_fast:
        return None
    if product > _ONE_THREAD_PRODUCT:
        import numba  # noqa: PLC0415 - loaded with the kernels

        if n < 2 * numba.get_num_threads():
            return None
    return lapack.cblas_gemm(dtype)


def _run_images(kernel: Any, product: int, *args: Any) -> bool:
    """Run a whole-batch kernel (``_switch._run``), OpenBLAS held to one thread meanwhile where
    it would thread each image's product: the images are the threads' shares."""
    if product <= _ONE_THREAD_PRODUCT:
        return _switch._run(kernel, *args)
    with lapack.one_blas_thread():
        return _switch._run(kernel, *args)


def _start_pool(module: ModuleType) -> bool:
    """Start Numba's thread pool, sized as the environment asks (``threads.env_threads``);
    whether it is one whose tasks start in microseconds: OpenMP's or TBB's (see the module's
    note on the "workqueue" pool)."""
    global _pool_layer
    import numba  # noqa: PLC0415 - loaded with the kernels

    wanted = threads.env_threads()
    if wanted is not None:
        threads.limit_kernel_threads(wanted)
    try:
        module.pool_probe(np.zeros(2))
        _pool_layer = numba.threading_layer()
    except Exception:  # noqa: BLE001 - no pool could start: the chunked path runs
        return False
    return _pool_layer in ("omp", "tbb")


def _after_fork_in_child() -> None:
    """A process forked after GNU OpenMP started (a DataLoader worker, Hogwild training)
    cannot use it: Numba aborts the child at its first parallel loop. Such a child takes the
    chunked path."""
    global _pool_fast
    if _pool_layer == "omp":
        _pool_fast = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _chunk(n: int) -> int:
    """Images per task: 16 tasks (at least one image each), whatever the number of threads, so
    that the weight gradient's partial sums (one per task) do not depend on it."""
    return max(1, -(-n // 16))


def _per_group(w: np.ndarray, cols: np.ndarray, groups: int, out: np.ndarray) -> None:
    """``w`` (G, R, T) times one image's columns ``cols`` (G * T, L) into ``out``
    (G * R, L), C-contiguous."""
    if groups == 1:
        np.dot(w[0], cols, out=out)
    else:
        g, r, t = w.shape
        np.matmul(w, cols.reshape(g, t, -1), out=out.reshape(g, r, -1))


def convolution(input: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> np.ndarray | None:
    """The ``convolution`` primitive's forward (see ``ops.conv._conv``), or None."""
    prepared = _prepared((input, weight, bias), input, weight.shape[2:], stride, padding,
                         dilation)
    if prepared is None:
        return None
    module, x, kernel, stride2, padding2, dilation2 = prepared
    n, c = x.shape[:2]
    out = _out_sizes(x.shape[2:], kernel, stride2, padding2, dilation2)
    area = out[0] * out[1]
    x = _switch.kernel_array(x)
    o = weight.shape[0]
    rows = c * kernel[0] * kernel[1]
    w = _switch.kernel_array(weight).reshape(groups, o // groups, rows // groups)
    geometry = _geometry_args(kernel, stride2, padding2, dilation2, out)
    result = np.empty((n, o, area), x.dtype)
    product = o * rows * area
    gemm = _image_gemm(module, x.dtype, product, n, groups)
    if gemm is not None:
        shift = _switch._empty(x.dtype) if bias is None else _switch.kernel_array(bias)
        if not _run_images(module.convolution_images, product, gemm, x, w[0], shift,
                           *geometry, _chunk(n), result):
            return None
        return result.reshape((n, o) + (out if input.ndim == 4 else out[1:]))
    shift = None if bias is None else bias.reshape(-1, 1)
    for b0, b1, cols in _column_chunks(n, rows, area, x.dtype):
        if not _switch._run(module.im2col, x, b0, b1, *geometry, cols.reshape(-1)):
            return None
        if groups == 1:  # one call for the chunk; NumPy still runs one product per image
            np.matmul(w[0], cols, out=result[b0:b1])
        else:
            for b in range(b0, b1):
                _per_group(w, cols[b - b0], groups, result[b])
        if shift is not None:
            np.add(result[b0:b1], shift, out=result[b0:b1])
    return result.reshape((n, o) + (out if input.ndim == 4 else out[1:]))


def conv_transpose(input: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                   dilation: tuple, groups: int) -> np.ndarray | None:
    """The ``conv_transpose`` primitive's forward (see ``ops.conv._conv_transpose``): the
    product ``weight^T @ input`` and col2im, or None."""
    prepared = _prepared((input, weight, bias), input, weight.shape[2:], stride, padding,
                         dilation)
    if prepared is None:
        return None
    module, x, kernel, stride2, padding2, dilation2 = prepared
    n, c_in = x.shape[:2]
    sizes_in = x.shape[2:]
    area = sizes_in[0] * sizes_in[1]
    c_out = weight.shape[1] * groups
    x = _switch.kernel_array(x).reshape(n, c_in, area)
    full = tuple((m - 1) * s + d * (k - 1) + 1
                 for m, s, d, k in zip(sizes_in, stride2, dilation2, kernel))
    sizes = tuple(f - lo - hi for f, (lo, hi) in zip(full, padding2))
    taps = weight.shape[1] * kernel[0] * kernel[1]
    rows = groups * taps
    # (G, C_out / G * kernel, C_in / G): each group's transposed weight, rows (c_out, ki, kj)
    w = weight.reshape(groups, c_in // groups, taps).swapaxes(1, 2)
    geometry = _geometry_args(kernel, stride2, padding2, dilation2, sizes_in)
    result = np.zeros((n, c_out) + sizes, x.dtype)
    product = rows * c_in * area
    gemm = _image_gemm(module, x.dtype, product, n, groups)
    if gemm is not None:
        if not _run_images(module.conv_transpose_images, product, gemm, x,
                           _switch.kernel_array(weight).reshape(c_in, taps), *geometry,
                           _chunk(n), result):
            return None
    else:
        for b0, b1, cols in _column_chunks(n, rows, area, x.dtype):
            if groups == 1:
                np.matmul(w[0], x[b0:b1], out=cols)
            else:
                for b in range(b0, b1):
                    _per_group(w, x[b], groups, cols[b - b0])
            if not _switch._run(module.col2im, cols.reshape(-1), b0, b1, *geometry, result):
                return None
    if bias is not None:
        flat_out = result.reshape(n, c_out, -1)
        np.add(flat_out, bias.reshape(-1, 1), out=flat_out)
    return result.reshape((n, c_out) + (sizes if input.ndim == 4 else sizes[1:]))


def conv_weight_grad(input: Any, grad: Any, weight_shape: tuple, stride: tuple, padding: tuple,
                     dilation: tuple, groups: int) -> np.ndarray | None:
    """The ``conv_weight_grad`` primitive's forward (see ``ops.conv._conv_weight``): each
    image's output gradient (O, L) times its columns' transpose, summed, or None."""
    prepared = _prepared((input, grad), input, weight_shape[2:], stride, padding, dilation)
    if prepared is None:
        return None
    module, x, kernel, stride2, padding2, dilation2 = prepared
    n, c = x.shape[:2]
    out = _out_sizes(x.shape[2:], kernel, stride2, padding2, dilation2)
    area = out[0] * out[1]
    o = weight_shape[0]
    if area != math.prod(grad.shape[2:]) or grad.shape[:2] != (n, o):
        return None
    x = _switch.kernel_array(x)
    g = _switch.kernel_array(grad).reshape(n, groups, o // groups, area)
    rows = c * kernel[0] * kernel[1]
    taps = rows // groups
    geometry = _geometry_args(kernel, stride2, padding2, dilation2, out)
    # Accumulated transposed, (G, taps, O / G): the long side of each image's product then
    # comes first, which OpenBLAS runs 2.4x faster for these thin products.
    product = taps * o * area
    gemm = _image_gemm(module, x.dtype, product, n, groups)
    if gemm is not None:
        chunk = _chunk(n)
        parts = np.empty((-(-n // chunk), taps, o), x.dtype)
        if not _run_images(module.conv_weight_grad_images, product, gemm, x,
                           g.reshape(n, o, area), *geometry, chunk, parts):
            return None
        return np.ascontiguousarray(parts.sum(axis=0).T).reshape(weight_shape)
    dw = np.zeros((groups, taps, o // groups), x.dtype)
    part = np.empty_like(dw)
    parts = None
    for b0, b1, columns in _column_chunks(n, rows, area, x.dtype):
        if not _switch._run(module.im2col, x, b0, b1, *geometry, columns.reshape(-1)):
            return None
        cols = columns.reshape(b1 - b0, groups, taps, area)
        if groups == 1:
            # The chunk's per-image products in one call, then their sum: the Python loop
            # over images cost more than the products (W3: 64 images, ~5 us each).
            if parts is None:
                parts = np.empty((columns.shape[0], taps, o), x.dtype)
            chunk = parts[:b1 - b0]
            np.matmul(cols[:, 0], g[b0:b1, 0].swapaxes(1, 2), out=chunk)
            dw[0] += np.sum(chunk, axis=0, out=part[0])
            continue
        for b in range(b0, b1):
            np.matmul(cols[b - b0], g[b].swapaxes(1, 2), out=part)
            dw += part
    return np.ascontiguousarray(dw.swapaxes(1, 2)).reshape(weight_shape)


for _op, _kernel in (("convolution", convolution), ("conv_transpose", conv_transpose),
                     ("conv_weight_grad", conv_weight_grad)):
    kernels.register(_op, np.ndarray, _kernel, compiled=True)
