"""Every op-table row, layer case and optimizer on the ``strict`` device (a CPU stand-in that
keeps CuPy's rules) against the CPU: code that would break on a GPU fails here, without one.
Fake device 1 is used so that anything created on the default device 0 is caught as a mix."""

from __future__ import annotations

import pytest

from device_checks import (LAYER_CASES, OP_CASES, OPTIMIZERS, case_id, check_layer, check_op,
                           check_optimizer, train_digits_cnn)

DEVICE = "strict:1"


@pytest.mark.parametrize("case", OP_CASES, ids=case_id)
def test_op_on_strict_device(case: tuple) -> None:
    check_op(*case, DEVICE)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.id)
def test_layer_on_strict_device(case: object) -> None:
    check_layer(case, DEVICE)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_on_strict_device(name: str) -> None:
    check_optimizer(name, DEVICE)


def test_training_on_the_strict_device_equals_the_cpu(tmp_path) -> None:
    """The whole training loop (data to the device, model, optimizer, evaluation, checkpoint)
    on the stand-in computes with NumPy underneath, so it must match the CPU's.

    Not bit for bit: on the CPU, NumPy arrays take the compiled kernels and the banded
    convolution (``type(x) is np.ndarray`` paths, which a device array never takes), whose sums
    round differently by about an ulp an op. Over an epoch that moves the losses by ~1e-5
    relative and flips a few of the 710 test digits whose two top classes nearly tie; a device
    that computed anything else would miss by far more."""
    strict = train_digits_cnn("strict:1", 1, tmp_path)
    cpu = train_digits_cnn("cpu", 1, tmp_path)
    assert len(strict) == len(cpu)
    for ours, reference in zip(strict, cpu):
        assert ours.keys() == reference.keys()
        for key in ("train_loss", "test_loss", "lr"):
            assert ours[key] == pytest.approx(reference[key], rel=1e-4)
        for key in ("train_accuracy", "test_accuracy"):
            assert ours[key] == pytest.approx(reference[key], abs=0.01)  # 7 of 710 digits
