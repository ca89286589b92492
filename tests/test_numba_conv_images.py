"""``backends.numba_conv``'s whole-batch kernels, which spread the images over Numba's threads:
they give the chunked path's results (forward and input gradient bit for bit, the weight
gradient to rounding, its per-task sums being added in another order) and the same bits on one
thread as on two; a single image too large for one thread stays on the chunked path, many such
images hold OpenBLAS to one thread; a forked child still convolves."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
from numba_checks import numba_switched_on

from backprop.backends import numba as numba_switch
from backprop.backends import lapack, numba_conv

pytestmark = pytest.mark.skipif(not (numba_switch.enabled and numba_switch.is_available()),
                                reason="Numba absent or switched off")

accelerator_on = pytest.fixture(autouse=True)(numba_switched_on)

# (input shape, weight shape, stride, padding, dilation): W3's two layers with a short last
# task, padding and strides, and a 1-d convolution.
CASES = [
    ((19, 1, 28, 28), (8, 1, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((6, 8, 12, 12), (16, 8, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((5, 4, 10, 9), (5, 4, 3, 3), (2, 3), ((1, 1), (2, 2)), (1, 2)),
    ((4, 4, 11), (6, 4, 3), (1,), ((1, 1),), (1,)),
]
KERNELS = ("convolution_images", "conv_transpose_images", "conv_weight_grad_images")


def _run_all(case: tuple, dtype: Any) -> list[np.ndarray]:
    """The three primitives' kernels on ``case``: forward (with bias), input gradient (the
    transposed convolution of a gradient), weight gradient."""
    shape, wshape, stride, padding, dilation = case
    rng = np.random.default_rng(len(shape) + shape[0])
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    x.reshape(-1)[[3, 50]] = [np.nan, np.inf]
    y = numba_conv.convolution(x, w, b, stride, padding, dilation, 1)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = numba_conv.conv_transpose(g, w, None, stride, padding, dilation, 1)
    finite = np.where(np.isfinite(x), x, 0).astype(dtype)
    dw = numba_conv.conv_weight_grad(finite, g, wshape, stride, padding, dilation, 1)
    return [y, dx, dw]


@pytest.fixture
def counted(monkeypatch: Any) -> dict[str, int]:
    """Calls of the whole-batch kernels, counted."""
    module = numba_conv._load()
    counts = dict.fromkeys(KERNELS, 0)
    for name in KERNELS:
        real = getattr(module, name)

        def spy(*args: Any, name: str = name, real: Any = real) -> None:
            counts[name] += 1
            real(*args)
        monkeypatch.setattr(module, name, spy)
    return counts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[0])))
def test_the_images_path_gives_the_chunked_paths_results(case: tuple, dtype: Any,
                                                         counted: dict, monkeypatch: Any) -> None:
    fast = _run_all(case, dtype)
    assert all(counted.values()), f"a whole-batch kernel fell back: {counted}"
    monkeypatch.setattr(numba_conv, "_image_gemm", lambda *args: None)
    slow = _run_all(case, dtype)
    for got, want in zip(fast[:2], slow[:2]):
        np.testing.assert_array_equal(got, want)  # the same per-image products and adds
    # The weight gradient: each image's product is the same BLAS call, only the N products are
    # added in another order, which moves the sum by at most ~N rounding steps of its size
    # (measured: at most one ulp of the largest entry on these cases).
    images = case[0][0]
    scale = float(np.abs(slow[2]).max())
    np.testing.assert_allclose(fast[2], slow[2], rtol=0,
                               atol=2 * images * np.finfo(dtype).eps * scale)


# one image's product: 64 x 576 x 196 multiply-adds, a size OpenBLAS runs on all its threads
LARGE = ((1, 64, 16, 16), (64, 64, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))


def test_one_image_with_a_large_product_takes_the_chunked_path(counted: dict) -> None:
    _run_all(LARGE, np.float32)  # OpenBLAS's threads share its product
    assert not any(counted.values())


def test_many_images_with_large_products_hold_openblas_to_one_thread(monkeypatch: Any) -> None:
    library = lapack._load()
    get = getattr(library, lapack._c_symbol("openblas_get_num_threads"))
    put = getattr(library, lapack._c_symbol("openblas_set_num_threads"))
    module = numba_conv._load()
    seen = []
    real = module.convolution_images

    def spy(*args: Any) -> None:
        seen.append(get())
        real(*args)
    monkeypatch.setattr(module, "convolution_images", spy)
    monkeypatch.setattr(numba_conv, "_image_gemm", lambda *args: lapack.cblas_gemm(args[1]))
    before = get()
    put(2)
    try:
        shape, wshape = (8,) + LARGE[0][1:], LARGE[1]
        x, w = np.ones(shape, np.float32), np.ones(wshape, np.float32)
        y = numba_conv.convolution(x, w, None, *LARGE[2:], 1)
        assert seen == [1] and get() == 2  # one thread while the images ran, two again after
    finally:
        put(before)
    assert y[0, 0, 5, 5] == 64 * 9  # an inside window: every tap of every channel


def _child_process_result(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python without the suite's thread-count variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores for two threads")
def test_one_thread_and_two_give_the_same_bits() -> None:
    # In a child process: the suite's OPENBLAS_NUM_THREADS=1 sizes Numba's pool when it starts.
    code = """
        import numba, numpy as np
        from backprop.backends import numba_conv
        x = np.random.default_rng(0).standard_normal((37, 3, 14, 14)).astype(np.float32)
        w = np.random.default_rng(1).standard_normal((6, 3, 5, 5)).astype(np.float32)
        geometry = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
        def run():
            y = numba_conv.convolution(x, w, None, *geometry)
            return [y, numba_conv.conv_transpose(y, w, None, *geometry),
                    numba_conv.conv_weight_grad(x, y, w.shape, *geometry)]
        numba.set_num_threads(2)
        two = run()
        numba.set_num_threads(1)
        one = run()
        assert numba_conv._pool_fast, "no fast thread pool: the chunked path ran"
        assert all(np.array_equal(a, b) for a, b in zip(one, two))
        print("same")
    """
    result = _child_process_result(code)
    assert result.stdout.strip() == "same", result.stderr[-2000:]


def test_the_pool_starts_with_the_environments_thread_count(monkeypatch: Any) -> None:
    import numba

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    before = numba.get_num_threads()
    try:
        numba_conv._start_pool(numba_conv._load())
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX's")
def test_a_process_forked_after_the_pool_started_still_convolves() -> None:
    # GNU OpenMP aborts a forked child at its first parallel loop: the child must take the
    # chunked path (a DataLoader worker or a Hogwild trainer forked from a process that ran a
    # convolution).
    result = _child_process_result("""
        import multiprocessing, numpy as np
        from backprop.backends import numba_conv
        x = np.ones((8, 3, 12, 12), np.float32)
        w = np.ones((5, 3, 3, 3), np.float32)
        def conv(queue=None):
            total = float(numba_conv.convolution(x, w, None, (1, 1), ((0, 0), (0, 0)), (1, 1),
                                                 1).sum())
            if queue is not None:
                queue.put(total)
            return total
        parent = conv()
        assert numba_conv._pool_layer, "the pool did not start"
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=conv, args=(queue,))
        child.start()
        child.join(60)
        assert child.exitcode == 0, child.exitcode
        assert queue.get(timeout=5) == parent
        print("same")
    """)
    assert result.stdout.strip() == "same", result.stderr[-2000:]
