"""On a CUDA GPU (CuPy): every op-table row, layer case and optimizer against the CPU, the
digits CNN trained on the GPU, and a checkpoint between GPU and CPU. Skipped where no GPU is
usable; run on a GPU machine with ``pytest tests/test_gpu.py``."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.train.loop import load_trained
from device_checks import (LAYER_CASES, OP_CASES, OPTIMIZERS, case_id, check_layer, check_op,
                           check_optimizer, train_digits_cnn)

pytestmark = pytest.mark.skipif(not bp.cuda.is_available(),
                                reason="no usable CUDA GPU (CuPy, a driver and a card)")
DEVICE = "cuda:0"
# cuBLAS and CuPy's reductions sum in another order than NumPy; a convolution's or attention's
# gradient chains many such sums, so float64 results differ from the CPU's in more than the last
# digit. 1e-7 relative still catches any wrong formula (those are off by far more).
RTOL = 1e-7


@pytest.mark.parametrize("case", OP_CASES, ids=case_id)
def test_op_on_gpu(case: tuple) -> None:
    check_op(*case, DEVICE, rtol=RTOL)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.id)
def test_layer_on_gpu(case: object) -> None:
    check_layer(case, DEVICE, rtol=RTOL)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_on_gpu(name: str) -> None:
    check_optimizer(name, DEVICE)


def test_digits_cnn_trains_on_the_gpu_as_on_the_cpu(tmp_path) -> None:
    """Same seed, same data order: the GPU run follows the CPU run, within float32 rounding
    (cuDNN-free convolutions, but cuBLAS sums in another order)."""
    on_gpu = train_digits_cnn(DEVICE, 3, tmp_path)
    on_cpu = train_digits_cnn("cpu", 3, tmp_path)
    assert on_gpu[-1]["test_accuracy"] >= 0.9, on_gpu
    for gpu, cpu in zip(on_gpu, on_cpu):
        assert abs(gpu["test_accuracy"] - cpu["test_accuracy"]) <= 0.01, (gpu, cpu)
        assert gpu["train_loss"] == pytest.approx(cpu["train_loss"], rel=1e-3), (gpu, cpu)
    model, _ = load_trained(tmp_path / "cuda-0" / "checkpoint.safetensors")
    assert all(p.device == "cpu" for p in model.parameters())  # a GPU checkpoint, on the host


def test_data_parallel_on_one_gpu_goes_through_nccl() -> None:
    """A world of one rank with its own GPU: DistributedDataParallel picks NCCL, and its
    averaged gradients (a sum over one rank) leave training unchanged."""
    import backprop.distributed as dist
    from backprop.distributed.nccl import NcclTransport
    from backprop.nn.parallel import DistributedDataParallel

    dist.init()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 8)), rng.standard_normal((32, 1))
    models = []
    for wrap in (False, True):
        bp.manual_seed(0)
        model = bp.nn.Sequential(bp.nn.Linear(8, 16), bp.nn.Tanh(), bp.nn.Linear(16, 1))
        model = model.double().to(DEVICE)
        trained = DistributedDataParallel(model, bucket_cap_mb=0.0001) if wrap else model
        if wrap:
            assert isinstance(trained.reducer.transport, NcclTransport)
            assert len(trained.reducer.buckets) > 1
        optimizer = bp.optim.SGD(trained.parameters(), lr=0.1)
        for _ in range(5):
            optimizer.zero_grad()
            loss = ((trained(bp.tensor(x, device=DEVICE)) - bp.tensor(y, device=DEVICE)) ** 2)
            loss.mean().backward()
            optimizer.step()
        models.append(model)
    for plain, parallel in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(parallel.detach().cpu().numpy(),
                                   plain.detach().cpu().numpy(), rtol=1e-12)


def test_checkpoint_from_gpu_loads_on_cpu_and_back(tmp_path) -> None:
    model = bp.nn.Linear(4, 3).to(DEVICE)
    path = tmp_path / "m.safetensors"
    bp.save(model.state_dict(), path)
    assert bp.load(path)["weight"].device == DEVICE
    on_cpu = bp.load(path, map_location="cpu")["weight"]
    np.testing.assert_array_equal(on_cpu.numpy(), model.weight.detach().cpu().numpy())
