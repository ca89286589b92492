"""On a CUDA GPU (CuPy): every op-table row, layer case and optimizer against the CPU, the
digits CNN trained on the GPU, and a checkpoint between GPU and CPU. Skipped where no GPU is
usable; run on a GPU machine with ``pytest tests/test_gpu.py``."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.train.config import TrainConfig
from backprop.train.loop import load_trained, train
from device_checks import (LAYER_CASES, OP_CASES, OPTIMIZERS, case_id, check_layer, check_op,
                           check_optimizer)

pytestmark = pytest.mark.skipif(not bp.cuda.is_available(),
                                reason="no usable CUDA GPU (CuPy, a driver and a card)")
DEVICE = "cuda:0"
# cuBLAS and CuPy's reductions sum in another order than NumPy: float64 agrees to ~1e-12 relative.
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


@pytest.mark.parametrize("device", [DEVICE])
def test_digits_cnn_trains_on_the_device(tmp_path, device: str) -> None:
    config = TrainConfig(model="cnn", epochs=3, out=str(tmp_path), progress=False, device=device)
    result = train(config, log=lambda line: None)
    assert result.test_accuracy >= 0.95, result.history
    model, _ = load_trained(result.checkpoint)  # trained on the GPU, evaluated on the host
    assert all(p.device == "cpu" for p in model.parameters())


def test_checkpoint_from_gpu_loads_on_cpu_and_back(tmp_path) -> None:
    model = bp.nn.Linear(4, 3).to(DEVICE)
    path = tmp_path / "m.safetensors"
    bp.save(model.state_dict(), path)
    assert bp.load(path)["weight"].device == DEVICE
    on_cpu = bp.load(path, map_location="cpu")["weight"]
    np.testing.assert_array_equal(on_cpu.numpy(), model.weight.detach().cpu().numpy())
