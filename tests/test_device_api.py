"""Devices as a user meets them: naming, moving tensors and modules, gradients across a move,
mixed devices refused by name, checkpoints between devices, and a missing GPU explained.
The ``strict`` stand-in plays the GPU (two fake devices), so all of it runs on any machine."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import backprop as bp

HAS_CUPY = importlib.util.find_spec("cupy") is not None


@pytest.mark.parametrize("name,type_,index,text", [
    ("cpu", "cpu", None, "cpu"), ("cuda", "cuda", None, "cuda"), ("cuda:1", "cuda", 1, "cuda:1"),
    ("strict:0", "strict", 0, "strict:0"),
])
def test_device_names_parse_as_in_pytorch(name: str, type_: str, index: int | None,
                                          text: str) -> None:
    d = bp.device(name)
    assert (d.type, d.index, str(d)) == (type_, index, text)
    assert d == name and d == bp.device(type_, index)


@pytest.mark.parametrize("name,match", [
    ("tpu", "unknown device type 'tpu'"), ("cuda:x", "must be a non-negative integer"),
    ("cuda:-1", "must be a non-negative integer"),
])
def test_bad_device_names_are_refused(name: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bp.device(name)
    with pytest.raises(ValueError, match=f"zeros: .*{match}"):
        bp.zeros(2, device=name)


def test_factories_make_tensors_on_the_device() -> None:
    for make in (lambda d: bp.zeros(2, 3, device=d), lambda d: bp.ones(2, device=d),
                 lambda d: bp.full((2,), 3.0, device=d), lambda d: bp.arange(4, device=d),
                 lambda d: bp.linspace(0, 1, 5, device=d), lambda d: bp.eye(3, device=d),
                 lambda d: bp.tensor([1.0, 2.0], device=d), lambda d: bp.empty(2, device=d),
                 lambda d: bp.randint(0, 5, (3,), device=d), lambda d: bp.randperm(4, device=d),
                 lambda d: bp.as_tensor(np.ones(2), device=d)):
        assert make("strict:1").device == "strict:1"
        assert make(None).device == "cpu"
    x = bp.ones(2, device="strict:1")
    assert bp.zeros_like(x).device == "strict:1" and bp.full_like(x, 2).device == "strict:1"
    assert bp.zeros_like(x, device="cpu").device == "cpu"


def test_random_factories_give_the_same_values_on_every_device() -> None:
    bp.manual_seed(3)
    on_cpu = bp.randn(4, 5)
    bp.manual_seed(3)
    on_device = bp.randn(4, 5, device="strict:1")
    np.testing.assert_array_equal(on_device.cpu().numpy(), on_cpu.numpy())


def test_to_moves_and_gradients_come_back_to_the_source_device() -> None:
    x = bp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("strict:1")
    assert y.device == "strict:1" and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert x.to("cpu") is x and y.to("strict:1") is y
    assert y.to("cpu", bp.float64).dtype == bp.float64


def test_grad_of_grad_through_a_move() -> None:
    x = bp.tensor([0.5, -1.0], dtype=bp.float64, requires_grad=True)
    (g,) = bp.autograd.grad((x.to("strict:0") ** 3).sum(), [x], create_graph=True)
    (gg,) = bp.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), 6 * x.detach().numpy())


def test_mixing_devices_names_both() -> None:
    with pytest.raises(RuntimeError, match="add: .*two devices, strict:1 and cpu"):
        bp.ones(2, device="strict:1") + bp.ones(2)
    with pytest.raises(RuntimeError, match="matmul: .*strict:0 and strict:1"):
        bp.ones(2, 2, device="strict:0") @ bp.ones(2, 2, device="strict:1")


def test_host_conversions_need_cpu_first() -> None:
    x = bp.ones(2, device="strict:1")
    with pytest.raises(TypeError, match=r"numpy: can't convert a tensor on strict:1 .*\.cpu\(\)"):
        x.numpy()
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        np.asarray(x)
    assert x.tolist() == [1.0, 1.0] and x.sum().item() == 2.0
    assert "device='strict:1'" in repr(x)


def test_module_to_moves_parameters_buffers_and_gradients() -> None:
    model = bp.nn.Sequential(bp.nn.Linear(3, 4), bp.nn.BatchNorm1d(4))
    model(bp.randn(5, 3)).sum().backward()
    assert model.to("strict:1") is model
    tensors = [*model.parameters(), *model.buffers(), *(p.grad for p in model.parameters())]
    assert all(t.device == "strict:1" for t in tensors)
    out = model(bp.randn(5, 3, device="strict:1"))
    assert out.device == "strict:1"
    assert all(t.device == "cpu" for t in model.cpu().parameters())


def test_checkpoints_load_where_they_were_saved_or_where_asked(tmp_path) -> None:
    pytest.importorskip("safetensors")
    model = bp.nn.Linear(3, 2).to("strict:1")
    path = tmp_path / "model.safetensors"
    bp.save(model.state_dict(), path)
    assert bp.load(path)["weight"].device == "strict:1"
    on_cpu = bp.load(path, map_location="cpu")
    assert on_cpu["weight"].device == "cpu"
    np.testing.assert_array_equal(on_cpu["weight"].numpy(), model.weight.detach().cpu().numpy())
    assert bp.load(path, map_location={"strict:1": "strict:0"})["bias"].device == "strict:0"
    fresh = bp.nn.Linear(3, 2)  # a CPU model takes a checkpoint saved on a device
    fresh.load_state_dict(bp.load(path))
    assert fresh.weight.device == "cpu"


@pytest.mark.skipif(HAS_CUPY, reason="checks the message a machine without CuPy gives")
def test_asking_for_a_gpu_without_cupy_says_why() -> None:
    with pytest.raises(RuntimeError, match=r"zeros: a CUDA device needs CuPy.*backprop\[gpu\]"):
        bp.zeros(2, device="cuda")
    assert not bp.cuda.is_available() and bp.cuda.device_count() == 0


def test_a_checkpoint_from_a_missing_device_says_to_map_it(tmp_path, monkeypatch) -> None:
    pytest.importorskip("safetensors")
    from backprop.backends import strict

    path = tmp_path / "x.safetensors"
    bp.save({"x": bp.ones(2, device="strict:1")}, path)
    monkeypatch.setattr(strict, "DEVICE_COUNT", 1)  # as if loading on a machine with one GPU
    with pytest.raises(ValueError, match=r"strict:1 does not exist.*map_location='cpu'"):
        bp.load(path)
    assert bp.load(path, map_location="cpu")["x"].device == "cpu"


def test_nonexistent_fake_device_is_refused() -> None:
    with pytest.raises(ValueError, match="ones: strict:5 does not exist"):
        bp.ones(1, device="strict:5")


class _FakeCupy:
    """Just enough of CuPy for ``backends/cupy_device.py`` to import and ask the driver."""

    def __init__(self, count: int | None) -> None:
        import types

        class CUDARuntimeError(RuntimeError):
            pass

        def get_device_count() -> int:
            if count is None:
                raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver is a stub library")
            return count

        runtime = types.SimpleNamespace(getDeviceCount=get_device_count,
                                        CUDARuntimeError=CUDARuntimeError)
        self.cuda = types.SimpleNamespace(runtime=runtime)
        self.ndarray = type("ndarray", (), {"__module__": "cupy"})


@pytest.mark.parametrize("count,error,match", [
    (None, RuntimeError, r"zeros: CuPy is installed but no CUDA driver answered "
                         r"\(cudaErrorInsufficientDriver"),
    (0, RuntimeError, r"zeros: CuPy and a CUDA driver are installed, but the driver sees no GPU"),
    (1, ValueError, r"zeros: cuda:3 does not exist; this machine has 1 CUDA device \(cuda:0"),
])
def test_a_gpu_that_cannot_be_had_says_why(monkeypatch, count: int | None, error: type,
                                           match: str) -> None:
    import sys

    from backprop import backend

    monkeypatch.setitem(sys.modules, "cupy", _FakeCupy(count))
    monkeypatch.delitem(sys.modules, "backprop.backends.cupy_device", raising=False)
    # (On a GPU machine the real CUDA backend may already be loaded: set it aside too.)
    monkeypatch.setattr(backend, "_BACKENDS",
                        {k: v for k, v in backend._BACKENDS.items() if k != "cuda"})
    monkeypatch.setattr(backend, "_MODULES", dict(backend._MODULES))
    monkeypatch.setattr(backend, "ARRAY_TYPES", backend.ARRAY_TYPES)
    try:
        with pytest.raises(error, match=match):
            bp.zeros(2, device="cuda:3" if count == 1 else "cuda")
        assert bp.cuda.device_count() == (count or 0)
    finally:  # the backend built on the fake must not outlive the test
        sys.modules.pop("backprop.backends.cupy_device", None)
