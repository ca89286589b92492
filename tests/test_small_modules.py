"""The small modules and switches PyTorch programs touch (``torch.accelerator``,
``torch.backends.*``, ``torch.cuda``'s seeding, ``torch.compile``, the matmul precision and
determinism switches, thread counts): PyTorch's signatures, its answers on a machine without a
GPU, and flags that read back what was set."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import backprop as bp
from backprop import _switches, backend

# name -> (ours, PyTorch's path): functions whose parameters must be PyTorch's
SIGNATURES = [
    "accelerator.is_available", "accelerator.current_accelerator", "accelerator.device_count",
    "accelerator.current_device_index", "accelerator.set_device_index",
    "accelerator.synchronize", "cuda.manual_seed", "cuda.manual_seed_all",
    "cuda.current_device", "cuda.get_device_name", "cuda.empty_cache",
    "cuda.is_bf16_supported", "cuda.is_available", "cuda.device_count", "cuda.synchronize",
    "set_float32_matmul_precision", "get_float32_matmul_precision",
    "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "compile", "inference_mode",
    "backends.mps.is_available", "backends.mps.is_built",
    "backends.cuda.is_built", "backends.cudnn.is_available", "backends.cudnn.version",
    "backends.openmp.is_available", "compiler.reset", "compiler.is_compiling",
    "compiler.disable",
]


def _lookup(module: Any, path: str) -> Any:
    for part in path.split("."):
        module = getattr(module, part)
    return module


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize("path", SIGNATURES)
def test_signatures_are_pytorchs(torch: Any, path: str) -> None:
    theirs = _lookup(torch, path)
    if path == "compile":  # torch.compile also takes its inner workings' knobs: accept them all
        assert _parameters(bp.compile) == _parameters(theirs)
        return
    if path == "inference_mode":
        theirs = theirs.__init__
        ours = bp.inference_mode.__init__
    else:
        ours = _lookup(bp, path)
    assert _parameters(ours) == _parameters(theirs), path


@pytest.mark.parametrize("path", [
    "accelerator.is_available", "accelerator.device_count", "cuda.is_available",
    "cuda.device_count", "cuda.is_bf16_supported", "backends.mps.is_available",
    "backends.mps.is_built", "backends.cuda.is_built", "backends.cudnn.is_available",
    "backends.cudnn.version", "get_float32_matmul_precision",
    "are_deterministic_algorithms_enabled", "is_inference_mode_enabled",
])
def test_answers_without_a_gpu_are_a_cpu_pytorchs(torch: Any, path: str) -> None:
    if bp.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert _lookup(bp, path)() == _lookup(torch, path)()


def test_the_accelerator_idiom_of_pytorch_examples() -> None:
    device = (bp.accelerator.current_accelerator() if bp.accelerator.is_available()
              else "cpu")
    assert bp.ones(2, device=device).device.type == ("cuda" if bp.cuda.is_available() else "cpu")
    assert bp.accelerator.current_accelerator(check_available=True) == (
        bp.device("cuda") if bp.cuda.is_available() else None)


@pytest.mark.parametrize("call", [
    lambda: bp.accelerator.current_device_index(),
    lambda: bp.accelerator.set_device_index(0),
    lambda: bp.accelerator.synchronize(),
    lambda: bp.accelerator.empty_cache(),
    lambda: bp.cuda.current_device(),
    lambda: bp.cuda.get_device_name(),
    lambda: bp.cuda.get_device_name(0),
])
def test_questions_about_the_current_gpu_raise_without_one(call: Any) -> None:
    if bp.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match=r"(accelerator|cuda)\.\w+: .*(none is available|no "
                                           r"CUDA GPU)|CuPy"):
        call()


def test_set_device_index_refuses_none_and_cpu() -> None:
    with pytest.raises(ValueError, match=r"accelerator.set_device_index: expected a device "
                                         r"with an index or an integer, got None"):
        bp.accelerator.set_device_index(None)
    with pytest.raises(ValueError, match=r"expected a CUDA device .* got 'cpu'"):
        bp.accelerator.set_device_index("cpu")


def test_cuda_calls_scripts_make_unconditionally_do_nothing(torch: Any) -> None:
    state = bp.default_generator.get_state()
    for M in (bp, torch):
        assert M.cuda.manual_seed(3) is None
        assert M.cuda.manual_seed_all(3) is None
        assert M.cuda.empty_cache() is None
    assert bp.default_generator.get_state() == state  # the CPU stream is not reseeded
    for M in (bp, torch):
        with pytest.raises(ValueError, match="invalid literal for int"):
            M.cuda.manual_seed("a")


def test_the_cuda_flags_module_imports_without_cupy() -> None:
    code = ("import sys; sys.modules['cupy'] = None; "
            "import backprop.backends.cuda as c, backprop.backends.cudnn, backprop.backends.mps; "
            "print(c.matmul.allow_tf32, c.is_built(), 'backprop.backends.cupy_device' in "
            "sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=_env())
    assert out.stdout.split() == ["False", "False", "False"]


def _env() -> dict[str, str]:
    import os

    import backprop

    src = os.path.dirname(os.path.dirname(backprop.__file__))
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_the_cupy_device_moved() -> None:
    assert backend._BACKEND_MODULES["cuda"] == "backprop.backends.cupy_device"


# -- flags that read back what was set ---------------------------------------------------------


@pytest.fixture
def restore_switches() -> Iterator[None]:
    cudnn, matmul = bp.backends.cudnn, bp.backends.cuda.matmul
    saved = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32,
             matmul.allow_fp16_reduced_precision_reduction,
             matmul.allow_bf16_reduced_precision_reduction, _switches.switches.matmul_precision,
             _switches.switches.deterministic, _switches.switches.warn_only)
    yield
    (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32,
     matmul.allow_fp16_reduced_precision_reduction,
     matmul.allow_bf16_reduced_precision_reduction, _switches.switches.matmul_precision,
     _switches.switches.deterministic, _switches.switches.warn_only) = saved


@pytest.mark.parametrize("name", ["enabled", "benchmark", "deterministic", "allow_tf32"])
def test_cudnn_flags_have_pytorchs_defaults_and_read_back(torch: Any, restore_switches: None,
                                                          name: str) -> None:
    assert getattr(bp.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    for value in (True, False):
        setattr(bp.backends.cudnn, name, value)
        assert getattr(bp.backends.cudnn, name) is value


@pytest.mark.parametrize("name", ["allow_tf32", "allow_fp16_reduced_precision_reduction",
                                  "allow_bf16_reduced_precision_reduction"])
def test_cublas_flags_have_pytorchs_defaults_and_read_back(torch: Any, restore_switches: None,
                                                           name: str) -> None:
    matmul = bp.backends.cuda.matmul
    assert getattr(matmul, name) == getattr(torch.backends.cuda.matmul, name)
    for value in (True, False):
        setattr(matmul, name, value)
        assert getattr(matmul, name) is value
    with pytest.raises(TypeError, match=rf"matmul.{name}: expected a bool, got int 1"):
        setattr(matmul, name, 1)


def test_cublas_unknown_attribute(restore_switches: None) -> None:
    for access in (lambda: bp.backends.cuda.matmul.allow_tf33,
                   lambda: setattr(bp.backends.cuda.matmul, "allow_tf33", True)):
        with pytest.raises(AttributeError, match="Unknown attribute allow_tf33"):
            access()


def test_matmul_precision_and_tf32_are_one_switch(restore_switches: None) -> None:
    for precision, tf32 in (("high", True), ("medium", True), ("highest", False)):
        bp.set_float32_matmul_precision(precision)
        assert bp.get_float32_matmul_precision() == precision
        assert bp.backends.cuda.matmul.allow_tf32 is tf32
    bp.backends.cuda.matmul.allow_tf32 = True
    assert bp.get_float32_matmul_precision() == "high"


@pytest.mark.parametrize("value,error,match", [
    ("low", ValueError, (r"set_float32_matmul_precision: precision must be one of 'highest', "
                         r"'high', 'medium', got 'low'")),
    (3, TypeError, r"set_float32_matmul_precision: precision must be a str"),
])
def test_matmul_precision_refuses_other_values(restore_switches: None, value: Any, error: type,
                                               match: str) -> None:
    with pytest.raises(error, match=match):
        bp.set_float32_matmul_precision(value)
    assert bp.get_float32_matmul_precision() == "highest"


def test_matmul_precision_changes_no_product(restore_switches: None) -> None:
    a, b = bp.randn(8, 8), bp.randn(8, 8)
    exact = (a @ b).tolist()
    bp.set_float32_matmul_precision("medium")
    assert (a @ b).tolist() == exact


def test_deterministic_algorithms_round_trip(torch: Any, restore_switches: None) -> None:
    for M in (bp, torch):
        M.use_deterministic_algorithms(True, warn_only=True)
        assert M.are_deterministic_algorithms_enabled()
        assert M.is_deterministic_algorithms_warn_only_enabled()
        M.use_deterministic_algorithms(False)
        assert not M.are_deterministic_algorithms_enabled()
        assert not M.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(TypeError):
            M.use_deterministic_algorithms("yes")


# -- compile -----------------------------------------------------------------------------------


def test_compile_returns_what_it_is_given() -> None:
    model = bp.nn.Linear(2, 1)
    assert bp.compile(model) is model
    assert bp.compile(model, mode="max-autotune", fullgraph=True, dynamic=False) is model
    assert bp.compile(model, backend="eager", options={"x": 1}) is model

    @bp.compile
    def bare(x: Any) -> Any:
        return x + 1

    @bp.compile(mode="reduce-overhead")
    def called(x: Any) -> Any:
        return x * 3

    assert bare(bp.tensor([1.0])).tolist() == [2.0]
    assert called(bp.tensor([1.0])).tolist() == [3.0]
    assert bp.compiler.compile is bp.compile
    assert bp.compiler.disable(bare) is bare and bp.compiler.disable()(bare) is bare
    assert bp.compiler.is_compiling() is False and bp.compiler.reset() is None


@pytest.mark.parametrize("kwargs,error,match", [
    ({"mode": "fast"}, RuntimeError, r"compile: unrecognized mode='fast', should be one of"),
    ({"mode": "default", "options": {}}, RuntimeError, r"either mode or options"),
    ({"backend": 3}, TypeError, r"compile: backend must be a name or a callable"),
])
def test_compile_refuses_what_pytorch_refuses(torch: Any, kwargs: dict, error: type,
                                              match: str) -> None:
    with pytest.raises(error, match=match):
        bp.compile(lambda x: x, **kwargs)
    if error is RuntimeError:  # PyTorch refuses these too (with its own exception types)
        with pytest.raises(Exception):  # noqa: B017
            torch.compile(lambda x: x, **kwargs)


def test_compile_refuses_what_cannot_be_called() -> None:
    with pytest.raises(TypeError, match=r"compile: a callable function or module is expected, "
                                        r"but int 3 was given"):
        bp.compile(3)


# -- threads -----------------------------------------------------------------------------------


def test_interop_threads_round_trip() -> None:
    from backprop import threads

    before = threads._interop_threads
    try:
        assert bp.get_num_interop_threads() >= 1
        bp.set_num_interop_threads(3)
        assert bp.get_num_interop_threads() == 3
        for bad in (0, -1, 1.5, True, "2"):
            with pytest.raises(ValueError, match=r"set_num_interop_threads: n must be an int "
                                                 r"of at least 1"):
                bp.set_num_interop_threads(bad)
    finally:
        threads._interop_threads = before


def test_set_num_threads_reaches_numba_when_loaded() -> None:
    pytest.importorskip("threadpoolctl")
    numba = pytest.importorskip("numba")
    before = bp.get_num_threads()
    numba_before = numba.get_num_threads()
    try:
        bp.set_num_threads(1)
        assert bp.get_num_threads() == 1 and numba.get_num_threads() == 1
        bp.set_num_threads(numba.config.NUMBA_NUM_THREADS + 1)  # its pool cannot grow: capped
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        bp.set_num_threads(before)
        numba.set_num_threads(numba_before)


# -- the GPU paths, on a stand-in for CuPy (no GPU is needed to check the calls it gets) -------


class _FakeCupy:
    """Just enough of CuPy for ``backends/cupy_device.py`` and the device questions: two GPUs,
    a current one, a memory pool, and a log of what was asked."""

    def __init__(self) -> None:
        import types

        self.log: list[Any] = []
        self.current = 0
        fake = self

        class Device:
            def __init__(self, index: int) -> None:
                self.index = index

            def use(self) -> None:
                fake.current = self.index

            def __enter__(self) -> None:
                self.previous, fake.current = fake.current, self.index

            def __exit__(self, *exc: object) -> None:
                fake.current = self.previous

        class Pool:
            def __init__(self, name: str) -> None:
                self.name = name

            def free_all_blocks(self) -> None:
                fake.log.append(("free", self.name))

        runtime = types.SimpleNamespace(
            getDeviceCount=lambda: 2, CUDARuntimeError=RuntimeError,
            getDevice=lambda: self.current,
            getDeviceProperties=lambda i: {"name": f"Fake GPU {i}".encode()},
            deviceSynchronize=lambda: self.log.append(("synchronize", self.current)))
        self.cuda = types.SimpleNamespace(runtime=runtime, Device=Device)
        self.ndarray = type("ndarray", (), {"__module__": "cupy"})
        self.get_default_memory_pool = lambda: Pool("device")
        self.get_default_pinned_memory_pool = lambda: Pool("pinned")


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> Iterator[_FakeCupy]:
    if bp.cuda.is_available():
        pytest.skip("this machine has a GPU: the real one is used elsewhere")
    import importlib.machinery

    fake = _FakeCupy()
    fake.__spec__ = importlib.machinery.ModuleSpec("cupy", None)  # for find_spec
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.delitem(sys.modules, "backprop.backends.cupy_device", raising=False)
    monkeypatch.setattr(backend, "_BACKENDS",
                        {k: v for k, v in backend._BACKENDS.items() if k != "cuda"})
    monkeypatch.setattr(backend, "_MODULES", dict(backend._MODULES))
    monkeypatch.setattr(backend, "ARRAY_TYPES", backend.ARRAY_TYPES)
    try:
        yield fake
    finally:  # the backend built on the fake must not outlive the test
        sys.modules.pop("backprop.backends.cupy_device", None)


def test_device_questions_with_a_gpu(fake_gpu: _FakeCupy) -> None:
    assert bp.accelerator.is_available() and bp.accelerator.device_count() == 2
    assert bp.accelerator.current_accelerator() == bp.device("cuda")
    assert bp.accelerator.current_accelerator(check_available=True) == bp.device("cuda")
    assert bp.cuda.current_device() == bp.accelerator.current_device_index() == 0
    bp.accelerator.set_device_index("cuda:1")
    assert bp.cuda.current_device() == 1
    assert bp.cuda.get_device_name() == "Fake GPU 1"
    assert bp.cuda.get_device_name(0) == bp.cuda.get_device_name("cuda:0") == "Fake GPU 0"
    bp.accelerator.set_device_index(0)
    bp.accelerator.synchronize()
    bp.accelerator.synchronize(1)
    assert fake_gpu.log == [("synchronize", 0), ("synchronize", 1)]
    assert fake_gpu.current == 0  # synchronizing another GPU leaves the current one
    bp.accelerator.empty_cache()
    assert fake_gpu.log[2:] == [("free", "device"), ("free", "pinned")]
    with pytest.raises(ValueError, match=r"cuda:5 does not exist; this machine has 2 CUDA"):
        bp.accelerator.synchronize("cuda:5")
