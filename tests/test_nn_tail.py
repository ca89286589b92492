"""Behaviour of the tail of torch.nn (issue 16): what the module and op tables do not check —
errors, the random windows of fractional pooling, SyncBatchNorm across MPI ranks, the chunked
linear cross-entropy's memory, DataParallel and Container."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent


# -- AdaptiveLogSoftmaxWithLoss -----------------------------------------------------------------

@pytest.mark.parametrize("cutoffs", [[2, 2], [0, 3], [3, 10], [3, 2], [2.5], []])
def test_adaptive_softmax_refuses_bad_cutoffs(cutoffs: list) -> None:
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        bp.nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)


@pytest.mark.parametrize("x, t, message", [
    ((3, 4), [0, 5, 12], r"Target values should be in \[0, 9\], but values in range \[0, 12\]"),
    ((3, 4), [-1, 2, 3], r"Target values should be in \[0, 9\], but values in range \[-1, 3\]"),
    ((3, 4), [0, 5], r"Input and target should have the same size in the batch dimension"),
    ((3, 4), 3, r"0D target tensor expects 1D input tensors, but found inputs with size "
                r"\(3, 4\)"),
    ((3, 4), [[1, 2, 3]], r"0D or 1D target tensor expected, multi-target not supported"),
])
def test_adaptive_softmax_names_bad_inputs(x: tuple, t: list, message: str) -> None:
    asm = bp.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [2, 6], div_value=2.0)
    with pytest.raises(RuntimeError, match="AdaptiveLogSoftmaxWithLoss: " + message):
        asm(bp.randn(*x), bp.tensor(t))


def test_adaptive_softmax_log_prob_is_a_distribution_and_predict_its_argmax(torch) -> None:
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(5, 12, [3, 7], div_value=2.0).double()
    ours = bp.nn.AdaptiveLogSoftmaxWithLoss(5, 12, [3, 7], div_value=2.0).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 5))
    log_prob = ours.log_prob(bp.tensor(x)).detach()
    np.testing.assert_allclose(log_prob.exp().sum(1).numpy(), np.ones(6), rtol=1e-12)
    np.testing.assert_allclose(log_prob.numpy(),
                               theirs.log_prob(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    assert ours.predict(bp.tensor(x)).tolist() == theirs.predict(torch.tensor(x)).tolist()
    # forward's output is the log-probability of each target
    target = np.array([0, 11, 4, 2, 7, 9])
    out = ours(bp.tensor(x), bp.tensor(target))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    np.testing.assert_allclose(out.output.detach().numpy(),
                               log_prob.numpy()[np.arange(6), target], rtol=1e-12)


# -- fractional max pooling ---------------------------------------------------------------------

def test_fractional_pool_windows_are_drawn_as_pytorchs_sequence_of_uniform_samples() -> None:
    """Without samples the windows are random; their frequencies over many calls must match
    the exact distribution of PyTorch's sequence under u ~ U[0, 1), within 5 standard errors."""
    x = bp.arange(12.0).reshape(1, 1, 1, 12)  # alpha = (12 - 2) / 3: not a whole number
    grid = np.linspace(0, 1, 2000, endpoint=False) + 0.00025
    exact: dict[tuple, float] = {}
    for u in grid:
        _, idx = F.fractional_max_pool2d(x, (1, 2), output_size=(1, 4), return_indices=True,
                                         _random_samples=bp.tensor([[[u, 0.5]]]))
        key = tuple(idx.flatten().tolist())
        exact[key] = exact.get(key, 0.0) + 1 / len(grid)
    assert len(exact) > 1
    draws = 3000
    seen: dict[tuple, int] = {}
    bp.manual_seed(0)
    for _ in range(draws):
        _, idx = F.fractional_max_pool2d(x, (1, 2), output_size=(1, 4), return_indices=True)
        key = tuple(idx.flatten().tolist())
        seen[key] = seen.get(key, 0) + 1
    assert set(seen) <= set(exact), "a window pattern PyTorch's sequence never gives"
    for key, p in exact.items():
        sd = np.sqrt(p * (1 - p) / draws)
        assert abs(seen.get(key, 0) / draws - p) <= 5 * sd + 1e-9, (key, p)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "FractionalMaxPool2d requires specifying either an output size, or a pooling ratio"),
    ({"output_size": 3, "output_ratio": 0.5}, "only one of output_size and output_ratio"),
    ({"output_ratio": 1.5}, r"output_ratio must be between 0 and 1 \(got 1.5\)"),
])
def test_fractional_pool_module_refuses_bad_sizes(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bp.nn.FractionalMaxPool2d(2, **kwargs)


def test_fractional_pool_module_keeps_its_samples_as_a_buffer(torch) -> None:
    samples = np.array([[[0.2, 0.9]]])
    ours = bp.nn.FractionalMaxPool2d(2, output_size=3, _random_samples=bp.tensor(samples))
    theirs = torch.nn.FractionalMaxPool2d(2, output_size=3,
                                          _random_samples=torch.tensor(samples))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    x = bp.randn(1, 1, 7, 7)
    assert ours(x).tolist() == ours(x).tolist()  # fixed windows: the same answer every call


# -- SyncBatchNorm -----------------------------------------------------------------------------

def test_convert_sync_batchnorm_keeps_parameters_buffers_and_mode() -> None:
    norm = bp.nn.BatchNorm2d(2, momentum=None)
    norm.running_mean.fill_(3.0)
    net = bp.nn.Sequential(bp.nn.Conv2d(1, 2, 3), bp.nn.Sequential(norm)).eval()
    weight = norm.weight
    converted = bp.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    inner = converted[1][0]
    assert type(inner) is bp.nn.SyncBatchNorm and not inner.training
    assert inner.weight is weight and inner.momentum is None
    assert inner.running_mean.tolist() == [3.0, 3.0]
    assert list(converted.state_dict()) == list(net.state_dict())


def test_sync_batchnorm_refuses_1d_input() -> None:
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected at least 2D input \(got 1D"):
        bp.nn.SyncBatchNorm(3)(bp.randn(3))


def _mpiexec() -> str:
    reason = None
    if importlib.util.find_spec("mpi4py") is None:
        reason = "mpi4py is not installed (pip install 'backprop[mpi]')"
    beside = Path(sys.executable).parent / "mpiexec"
    if reason is None and not beside.is_file():
        reason = "no mpiexec next to Python (pip install mpich)"
    if reason is not None:
        if os.environ.get("BACKPROP_REQUIRE_MPI") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_MPI=1 but {reason}")
        pytest.skip(f"MPI test skipped: {reason}")
    return str(beside)


@pytest.mark.parametrize("device", ["cpu", "strict:1"])
def test_sync_batchnorm_over_two_ranks_trains_as_one_process(device: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", BACKPROP_NUMBA="0")
    done = subprocess.run([_mpiexec(), "-n", "2", sys.executable,
                           str(ROOT / "tests" / "mpi" / "sync_batchnorm.py"), "--world", "2",
                           "--device", device],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    # The ranks' lines may arrive interleaved (mpiexec forwards each rank's output as it comes).
    assert "rank 0: ok" in done.stdout and "rank 1: ok" in done.stdout, done.stdout


# -- linear_cross_entropy ----------------------------------------------------------------------

def _peak_bytes(chunk: int | None) -> int:
    rng = np.random.default_rng(0)
    x = bp.tensor(rng.standard_normal((256, 16)), requires_grad=True)
    w = bp.tensor(rng.standard_normal((2000, 16)) * 0.1, requires_grad=True)
    t = bp.tensor(rng.integers(0, 2000, 256))
    options = None if chunk is None else bp.nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
    tracemalloc.start()
    F.linear_cross_entropy(x, w, t, options=options).backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_chunked_linear_cross_entropy_never_holds_the_whole_logits() -> None:
    logits = 256 * 2000 * 8
    _peak_bytes(16)  # the first call's imports and caches are not the op's memory
    assert _peak_bytes(None) > logits
    # Chunks of 16 rows: 256 kB of logits at a time, beside the 256 kB weight gradient
    # (measured: about 1.7 MB in all, against 12 MB unchunked).
    assert _peak_bytes(16) < logits / 2


def test_chunked_linear_cross_entropy_backward_twice_and_gradgrad() -> None:
    x = bp.randn(6, 3, dtype=bp.float64, requires_grad=True)
    w = bp.randn(5, 3, dtype=bp.float64, requires_grad=True)
    t = bp.tensor([0, 4, 1, 1, 3, 2])
    options = bp.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    loss = F.linear_cross_entropy(x, w, t, options=options)
    (gx,) = bp.autograd.grad(loss, [x], create_graph=True)
    loss.backward()  # a second backward through the same graph: ours recomputes the chunks
    reference = F.cross_entropy(x @ w.T, t)
    (rx,) = bp.autograd.grad(reference, [x], create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), rx.detach().numpy(), rtol=1e-12)
    (gw,) = bp.autograd.grad(gx.sum(), [w])
    (rw,) = bp.autograd.grad(rx.sum(), [w])
    np.testing.assert_allclose(gw.numpy(), rw.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kwargs, message", [
    ({"acc_policy": "fast"}, "invalid acc_policy: 'fast'"),
    ({"chunking_method": "square"}, "invalid chunking_method: 'square'"),
    ({"chunking_method": "aspect_ratio:0"}, "invalid chunking_method"),
    ({"batch_chunk_size": 0}, "batch_chunk_size must be positive int or None, got 0"),
])
def test_linear_cross_entropy_options_are_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bp.nn.LinearCrossEntropyOptions(**kwargs)


def test_linear_cross_entropy_options_that_disagree_are_refused_and_unusable_ones_warn() -> None:
    x, w, t = bp.randn(8, 2), bp.randn(10, 2), bp.zeros(8, dtype=bp.int64)
    both = bp.nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")
    with pytest.raises(ValueError, match=r"batch_chunk_size \(=3\) and chunking_method"):
        F.linear_cross_entropy(x, w, t, options=both)
    with pytest.warns(UserWarning, match="linear_cross_entropy: ``options`` ignored"):
        F.linear_cross_entropy(x, w, t, label_smoothing=0.1,
                               options=bp.nn.LinearCrossEntropyOptions())


def test_linear_cross_entropy_loss_checks_its_arguments() -> None:
    with pytest.raises(RuntimeError, match=r"expected weight shape to be \(4,\), got \(3,\)"):
        bp.nn.LinearCrossEntropyLoss(2, 4, weight=bp.ones(3))
    with pytest.raises(RuntimeError, match=r"label_smoothing to be in range \[0, 1\], got 2"):
        bp.nn.LinearCrossEntropyLoss(2, 4, label_smoothing=2)


# -- DataParallel, Container, memory formats ---------------------------------------------------

def test_data_parallel_on_a_cpu_machine_calls_the_module() -> None:
    inner = bp.nn.Linear(3, 2)
    model = bp.nn.DataParallel(inner)
    assert model.module is inner and model.device_ids == []
    x = bp.randn(4, 3)
    assert model(x).tolist() == inner(x).tolist()
    assert list(model.state_dict()) == ["module.weight", "module.bias"]


def test_container_is_deprecated_and_holds_its_keywords() -> None:
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        holder = bp.nn.Container(fc=bp.nn.Linear(2, 1), act=bp.nn.ReLU())
    assert [name for name, _ in holder.named_children()] == ["fc", "act"]


def test_weight_memory_format_conversion() -> None:
    net = bp.nn.Sequential(bp.nn.Conv2d(1, 2, 2))
    assert bp.nn.utils.convert_conv3d_weight_memory_format(net, bp.contiguous_format) is net
    with pytest.raises(ValueError, match="convert_conv2d_weight_memory_format: "
                                         "memory_format=bp.channels_last is not supported"):
        bp.nn.utils.convert_conv2d_weight_memory_format(net, bp.channels_last)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bp.nn.utils.convert_conv2d_weight_memory_format(net, bp.preserve_format) is net
