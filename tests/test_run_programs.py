"""A program of our own that uses what issue 18 serves around the ops (torchvision's data side,
torch.accelerator, TensorBoard, inference_mode, whole-model save and load, ONNX export, PNG
grids), run unchanged by ``backprop run``, and its files checked with the tools that read them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROGRAM = Path(__file__).parent / "programs" / "vision_pipeline.py"


def test_a_vision_program_runs_unchanged_and_its_files_are_real(tmp_path: Path) -> None:
    for extra in ("PIL", "tensorboardX", "onnx", "onnxruntime", "tensorboard"):
        pytest.importorskip(extra)
    done = subprocess.run([sys.executable, "-m", "backprop.run", str(PROGRAM), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    losses = [float(line.split()[-1]) for line in lines if line.startswith("epoch")]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert "reloaded equal True" in lines and lines[-1] == "done"

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path / "runs")).Reload()
    logged = [(e.step, e.value) for e in events.Scalars("loss")]
    assert [step for step, _ in logged] == [0, 1, 2]
    np.testing.assert_allclose([value for _, value in logged], losses, atol=1e-4)

    import onnxruntime
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    images = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    (log_probs,) = session.run(["log_probs"], {"images": images})  # batch 5, exported at 2
    assert log_probs.shape == (5, 3)
    np.testing.assert_allclose(np.exp(log_probs).sum(axis=1), 1.0, rtol=1e-5)

    from PIL import Image
    with Image.open(tmp_path / "batch.png") as grid:  # 16 images of 8x8, 4 a row, padding 2
        assert grid.size == (4 * 10 + 2, 4 * 10 + 2) and grid.mode == "RGB"
