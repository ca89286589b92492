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
    on the stand-in computes with NumPy underneath, so it must match the CPU exactly."""
    assert train_digits_cnn("strict:1", 1, tmp_path) == train_digits_cnn("cpu", 1, tmp_path)
