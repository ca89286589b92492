"""Checkpoints: bp.save / bp.load round trips, atomic writes, corrupt files, and the promise that
nothing in backprop unpickles or evaluates anything."""

from __future__ import annotations

import ast
import errno
import hashlib
import io
import json
import math
import os
import pathlib
import random
import stat
import subprocess
import sys
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import atomic, serialization
from backprop.serialization import CHECKSUM_KEY, FORMAT_KEY, CheckpointError, load, save

SRC = pathlib.Path(serialization.__file__).resolve().parent
needs_safetensors = pytest.mark.skipif(
    __import__("importlib").util.find_spec("safetensors") is None,
    reason="the optional safetensors package (backprop[checkpoint]) is not installed")


# -- helpers --------------------------------------------------------------------------------------


def assert_same(loaded: Any, original: Any, where: str = "obj") -> None:
    """Equal values AND equal types, all the way down (tuple vs list, int vs bool vs float,
    OrderedDict vs dict, Tensor vs Parameter vs ndarray, dtypes, -0.0, NaN)."""
    if isinstance(original, bp.Tensor):
        assert type(loaded) is type(original), where
        assert loaded.dtype == original.dtype and loaded.shape == original.shape, where
        assert loaded.requires_grad == original.requires_grad, where
        assert loaded.is_leaf, where
        np.testing.assert_array_equal(loaded.detach().numpy(), original.detach().numpy(),
                                      err_msg=where)
    elif isinstance(original, np.ndarray):
        assert type(loaded) is np.ndarray, where
        assert loaded.dtype.name == original.dtype.name and loaded.shape == original.shape, where
        assert loaded.dtype.isnative, where
        np.testing.assert_array_equal(loaded, original, err_msg=where)
    elif isinstance(original, dict):
        assert type(loaded) is type(original), where
        assert list(loaded) == list(original), where
        for (k1, v1), (k2, v2) in zip(loaded.items(), original.items()):
            assert_same(k1, k2, f"{where} key {k2!r}")
            assert_same(v1, v2, f"{where}[{k2!r}]")
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original), where
        for i, (a, b) in enumerate(zip(loaded, original)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(original, (float, complex, np.floating, np.complexfloating)):
        assert type(loaded) is type(original), where
        for a, b in ((loaded.real, original.real), (loaded.imag, original.imag)):
            same_nan = math.isnan(a) and math.isnan(b)
            assert same_nan or (a == b and math.copysign(1, a) == math.copysign(1, b)), where
    else:
        assert type(loaded) is type(original), where
        assert loaded == original, where


def round_trip(obj: Any, tmp_path: pathlib.Path) -> Any:
    path = tmp_path / "ckpt.safetensors"
    save(obj, path)
    return load(path)


def header_of(path: pathlib.Path) -> tuple[int, dict]:
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    return length, json.loads(data[8:8 + length])


def rewrite(path: pathlib.Path, edit_document, fix_checksum: bool = True,
            edit_arrays=lambda arrays: arrays) -> None:
    """Re-save ``path`` with its JSON document (and arrays) edited, as a buggy or hostile
    writer would."""
    import safetensors.numpy

    _, header = header_of(path)
    document = json.loads(header["__metadata__"][FORMAT_KEY])
    edit_document(document)
    text = json.dumps(document)
    checksum = (hashlib.sha256(text.encode()).hexdigest() if fix_checksum
                else header["__metadata__"][CHECKSUM_KEY])
    arrays = edit_arrays(dict(safetensors.numpy.load(path.read_bytes())))
    path.write_bytes(safetensors.numpy.save(arrays, metadata={FORMAT_KEY: text,
                                                              CHECKSUM_KEY: checksum}))


def rng_states() -> dict[str, Any]:
    generators = {name: np.random.Generator(getattr(np.random, name)(1234))
                  for name in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")}
    for g in generators.values():
        g.random(3)  # move off the seed so cached values / positions are non-trivial
    python = random.Random(7)
    python.random()
    legacy = np.random.RandomState(5)
    legacy.standard_normal()  # leaves a cached Gaussian in the legacy state tuple
    return {"numpy": {name: g.bit_generator.state for name, g in generators.items()},
            "python": python.getstate(), "legacy": legacy.get_state(),
            "bp": bp.Generator(3).get_state()}


# -- round trips ----------------------------------------------------------------------------------

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
          "uint32", "uint64", "bool", "complex64", "complex128"]
TENSOR_DTYPES = [d for d in DTYPES if d not in ("uint16", "uint32", "uint64")]
SHAPES = [(), (0,), (5,), (2, 3), (0, 3, 1), (2, 1, 3, 2)]


def sample_array(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.asarray(rng.standard_normal(shape) * 50)
    if dtype == "bool":
        return np.asarray(values > 0)
    if dtype.startswith("complex"):
        return np.asarray(values + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.startswith("uint"):
        return np.asarray(np.abs(values)).astype(dtype)
    return values.astype(dtype)


@needs_safetensors
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_arrays_and_tensors_keep_dtype_shape_and_values(dtype, shape, tmp_path):
    array = sample_array(dtype, shape)
    obj = {"array": array}
    if dtype in TENSOR_DTYPES:
        obj["tensor"] = bp.tensor(sample_array(dtype, shape, seed=1))
    loaded = round_trip(obj, tmp_path)
    assert_same(loaded, obj)
    for value in loaded.values():  # loaded memory is writable and owned by the caller
        assert (value if isinstance(value, np.ndarray) else value.numpy()).flags.writeable


@needs_safetensors
def test_extreme_float_values_survive(tmp_path):
    for dtype in ("float16", "float32", "float64"):
        info = np.finfo(dtype)
        values = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, info.max, info.min, info.tiny,
                           info.smallest_subnormal, info.eps], dtype=dtype)
        loaded = round_trip(bp.from_numpy(values), tmp_path)
        assert loaded.numpy().tobytes() == values.tobytes()


@needs_safetensors
@pytest.mark.parametrize("make", [
    lambda a: a.T,
    lambda a: a[::-1],
    lambda a: a[:, ::-2],
    lambda a: a[1:, 1:3],
    lambda a: np.asfortranarray(a),
    lambda a: np.broadcast_to(a[:1], (4, 5)),
    lambda a: a.astype(">f8"),
    lambda a: a.astype(">c16")[::-1],
], ids=["transpose", "reversed", "negative-step", "slice", "fortran", "broadcast", "big-endian",
        "big-endian-complex-reversed"])
def test_non_contiguous_and_foreign_layouts_are_saved_as_their_values(make, tmp_path):
    array = make(np.arange(20, dtype=np.float64).reshape(4, 5))
    # bp tensors hold native byte order only; arrays may be anything.
    native = array.astype(array.dtype.newbyteorder("="))
    tensor = bp.from_numpy(array) if array.dtype.isnative else bp.tensor(native)
    loaded = round_trip({"array": array, "tensor": tensor}, tmp_path)
    np.testing.assert_array_equal(loaded["array"], array)
    np.testing.assert_array_equal(loaded["tensor"].numpy(), array)
    assert loaded["array"].dtype.isnative and loaded["array"].dtype.name == array.dtype.name


LEAVES = [None, True, False, 0, 1, -1, 7, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**64 + 12345,
          -(2**200), 10**5000, 0.0, -0.0, 0.1, 1 / 3, 1e308, 5e-324, -2.5e-300, math.nan,
          math.inf, -math.inf, 1 + 2j, complex(math.nan, -math.inf), "", "text",
          "ünïcode ∑ 🙂", "$dict", '{"$tensor": "x"}', "line\nbreak\x00nul",
          "\ud800 lone surrogate",
          np.float16(1.5), np.float32(0.1), np.float64(-0.0), np.float32(np.nan), np.int8(-3),
          np.int64(-(2**63)), np.uint64(2**64 - 1), np.uint8(255), np.bool_(True),
          np.complex64(1 - 2j), np.complex128(complex(3, math.inf))]


@needs_safetensors
def leaf_id(value: Any) -> str:
    text = f"bits{value.bit_length()}" if type(value) is int else ascii(value)[:20]
    return f"{type(value).__name__}:{text}"


@pytest.mark.parametrize("value", LEAVES, ids=leaf_id)
def test_leaf_values_keep_their_exact_type_and_value(value, tmp_path):
    assert_same(round_trip(value, tmp_path), value)
    assert_same(round_trip({"nested": [(value,)]}, tmp_path), {"nested": [(value,)]})


@needs_safetensors
def test_structure_types_key_types_and_order_survive(tmp_path):
    obj = OrderedDict([
        ("z-last-inserted-first", 1),
        ("list", [1, [2, [3, []]], ()]),
        ("tuple", (1, (2.0, ("three", None)), [])),
        ("int_keys", {3: "c", 1: "a", 2: "b"}),
        ("mixed_keys", {1: "int", "1": "str", 2.5: "float", None: "none", (1, "x"): "tuple",
                        (): "empty tuple", 1j: "complex",
                        np.int64(9): "numpy int"}),
        ("bool_keys", {False: 0, True: 1}),
        ("empty", {}),
        ("odict", OrderedDict([("b", 2), ("a", 1)])),
        ("a", OrderedDict()),
    ])
    loaded = round_trip(obj, tmp_path)
    assert_same(loaded, obj)


@needs_safetensors
def test_model_state_dict_round_trip(tmp_path):
    state = OrderedDict([
        ("conv.weight", bp.randn(4, 3, 3, 3)),
        ("conv.bias", bp.zeros(4)),
        ("bn.running_mean", bp.tensor(np.linspace(-1, 1, 4), dtype=bp.float64)),
        ("bn.num_batches_tracked", bp.tensor(12)),
        ("fc.weight", bp.tensor(np.linspace(-3, 3, 360).reshape(10, 36), dtype=bp.float16)),
        ("mask", bp.tensor([[True, False], [False, True]])),
        ("idx", bp.tensor(np.arange(5, dtype=np.int32))),
        ("pixels", bp.tensor(np.arange(6, dtype=np.uint8))),
    ])
    path = tmp_path / "model.safetensors"
    save(state, path)
    loaded = load(path)
    assert_same(loaded, state)
    # A flat state dict is an ordinary safetensors file other tools read under the same names.
    import safetensors.numpy

    plain = safetensors.numpy.load_file(str(path))
    assert sorted(plain) == sorted(state)
    np.testing.assert_array_equal(plain["conv.weight"], state["conv.weight"].numpy())


def optimizer_state(step_as_tensor: bool) -> dict[str, Any]:
    rng = np.random.default_rng(0)

    def step(n: int) -> Any:
        return bp.tensor(float(n), dtype=bp.float32) if step_as_tensor else n

    return {
        "state": {0: {"step": step(3), "exp_avg": bp.tensor(rng.standard_normal((3, 2))),
                      "exp_avg_sq": bp.tensor(rng.random((3, 2))),
                      "max_exp_avg_sq": bp.tensor(rng.random((3, 2)))},
                  2: {"step": step(3), "momentum_buffer": None}},
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01,
             "amsgrad": True, "maximize": False, "foreach": None, "capturable": False,
             "differentiable": False, "fused": None, "decoupled_weight_decay": True,
             "initial_lr": 0.1, "params": [0, 1]},
            {"lr": 0.5, "betas": [0.8, 0.99], "momentum": 0, "nesterov": False,
             "name": "head", "params": [2]},
        ],
    }


@needs_safetensors
@pytest.mark.parametrize("step_as_tensor", [False, True])
def test_optimizer_state_dict_round_trip(step_as_tensor, tmp_path):
    state = optimizer_state(step_as_tensor)
    loaded = round_trip(state, tmp_path)
    assert_same(loaded, state)
    assert all(type(k) is int for k in loaded["state"])  # PyTorch's int parameter ids


def torch_to_bp(value: Any, torch: Any) -> Any:
    """A PyTorch state dict with its tensors turned into bp tensors, everything else kept."""
    if isinstance(value, torch.Tensor):
        return bp.tensor(value.detach().numpy())
    if isinstance(value, dict):
        return type(value)((k, torch_to_bp(v, torch)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(torch_to_bp(v, torch) for v in value)
    return value


@needs_safetensors
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                       "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"])
def test_real_pytorch_optimizer_and_scheduler_state_dicts_round_trip(optimizer, torch,
                                                                     tmp_path):
    model = torch.nn.Linear(3, 2)
    options = {"SGD": {"momentum": 0.9, "nesterov": True}, "Adam": {"amsgrad": True}}
    opt = getattr(torch.optim, optimizer)(model.parameters(), lr=0.1,
                                          **options.get(optimizer, {}))
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.zero_grad()
        model(torch.ones(4, 3)).pow(2).sum().backward()
        opt.step()
        scheduler.step()
    state = {"model": torch_to_bp(model.state_dict(), torch),
             "optimizer": torch_to_bp(opt.state_dict(), torch),
             "scheduler": torch_to_bp(scheduler.state_dict(), torch),
             "torch_rng": torch_to_bp(torch.random.get_rng_state(), torch)}
    loaded = round_trip(state, tmp_path)
    assert_same(loaded, state)
    # The loaded layout is one PyTorch itself accepts back.
    opt.load_state_dict({**loaded["optimizer"],
                         "state": {k: {n: torch.from_numpy(v.numpy().copy())
                                       if isinstance(v, bp.Tensor) else v
                                       for n, v in s.items()}
                                   for k, s in loaded["optimizer"]["state"].items()}})
    scheduler.load_state_dict(loaded["scheduler"])


@needs_safetensors
def test_scheduler_state_dict_round_trip(tmp_path):
    state = {"T_max": 10, "eta_min": 0.0, "base_lrs": [0.1, 0.01], "last_epoch": 5,
             "verbose": False, "_step_count": 6, "_get_lr_called_within_step": False,
             "_last_lr": [0.05, 0.005], "lr_lambdas": [None, {"factor": 0.5}],
             "_milestones": {30: 1, 80: 2}, "gamma": 0.1}
    assert_same(round_trip(state, tmp_path), state)


@needs_safetensors
def test_training_state_with_rng_states_resumes_every_stream(tmp_path):
    rng = rng_states()
    checkpoint = {"model": OrderedDict([("w", bp.randn(3, 3)), ("b", bp.zeros(3))]),
                  "optimizer": optimizer_state(False), "epoch": 3, "rng": rng,
                  "history": [{"loss": 0.5, "acc": 0.9}], "note": None}
    loaded = round_trip(checkpoint, tmp_path)
    assert_same(loaded, checkpoint)
    assert loaded["rng"]["numpy"]["PCG64"]["state"]["state"] >= 2**64  # a real 128-bit int

    for name, state in loaded["rng"]["numpy"].items():
        original, restored = (np.random.Generator(getattr(np.random, name)()) for _ in range(2))
        original.bit_generator.state = rng["numpy"][name]
        restored.bit_generator.state = state
        np.testing.assert_array_equal(restored.random(5), original.random(5))
    python, expected = random.Random(), random.Random()
    python.setstate(loaded["rng"]["python"])
    expected.setstate(rng["python"])
    assert [python.random() for _ in range(3)] == [expected.random() for _ in range(3)]
    legacy, expected_legacy = np.random.RandomState(), np.random.RandomState()
    legacy.set_state(loaded["rng"]["legacy"])
    expected_legacy.set_state(rng["legacy"])
    assert legacy.standard_normal(3).tolist() == expected_legacy.standard_normal(3).tolist()


@needs_safetensors
def test_requires_grad_and_parameters_are_restored_as_leaves(tmp_path):
    weight = bp.nn.Parameter(bp.randn(2, 2))
    frozen = bp.nn.Parameter(bp.randn(2), requires_grad=False)
    activation = (bp.randn(2, requires_grad=True) * 2)  # a non-leaf saves as a leaf
    obj = {"weight": weight, "frozen": frozen, "leaf": bp.ones(2, requires_grad=True),
           "plain": bp.ones(2)}
    loaded = round_trip({**obj, "activation": activation}, tmp_path)
    assert_same({k: loaded[k] for k in obj}, obj)
    assert loaded["activation"].requires_grad and loaded["activation"].is_leaf
    (loaded["weight"] * 3).sum().backward()
    np.testing.assert_array_equal(loaded["weight"].grad.numpy(), np.full((2, 2), 3.0))


@needs_safetensors
def test_shared_memory_is_stored_once_and_loaded_shared(tmp_path):
    weight = bp.randn(4, 3)
    array = np.arange(6.0)
    obj = {"a": weight, "b": weight, "tied": weight.detach(), "array": array, "again": [array]}
    path = tmp_path / "ckpt.safetensors"
    save(obj, path)
    assert sorted(header_of(path)[1]) == ["__metadata__", "a", "array"]
    loaded = load(path)
    assert_same(loaded, obj)
    assert loaded["a"] is loaded["b"] and loaded["array"] is loaded["again"][0]
    loaded["tied"].numpy()[0, 0] = 42.0  # tied weights stay tied, as torch.load keeps storages
    assert loaded["a"].numpy()[0, 0] == 42.0


@needs_safetensors
def test_tensor_key_names_are_readable_and_unique(tmp_path):
    obj = {"model": {"fc.weight": bp.ones(1)}, "model/fc.weight": bp.zeros(1),
           "__metadata__": bp.ones(2), "opt": {"state": {0: {"exp_avg": bp.ones(3)}}},
           "list": [bp.ones(4), (bp.ones(5),)], "": bp.ones(6)}
    path = tmp_path / "ckpt.safetensors"
    save(obj, path)
    names = set(header_of(path)[1]) - {"__metadata__"}
    assert {"model/fc.weight", "model/fc.weight~2", "opt/state/0/exp_avg", "list/0",
            "list/1/0"} <= names
    assert_same(load(path), obj)


@needs_safetensors
@pytest.mark.parametrize("obj", [bp.arange(5), np.eye(2), 3, None, "just a string", [], ()],
                         ids=repr)
def test_top_level_objects_need_not_be_dicts(obj, tmp_path):
    assert_same(round_trip(obj, tmp_path), obj)


@needs_safetensors
def test_paths_and_file_objects(tmp_path):
    obj = {"w": bp.ones(2, 2), "epoch": 1}
    save(obj, str(tmp_path / "a.safetensors"))
    assert_same(load(str(tmp_path / "a.safetensors")), obj)
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    assert_same(load(buffer), obj)
    with open(tmp_path / "b.safetensors", "wb") as f:
        save(obj, f)
    with open(tmp_path / "b.safetensors", "rb") as f:
        assert_same(load(f), obj)
    with pytest.raises(TypeError, match="binary mode"):
        load(io.StringIO("text"))
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        save(obj, 3.5)


@needs_safetensors
def test_a_symlinked_checkpoint_is_replaced_through_the_link(tmp_path):
    target = tmp_path / "real.safetensors"
    save({"v": 1}, target)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)
    save({"v": 2}, link)
    assert link.is_symlink() and load(target) == {"v": 2}


# -- what a checkpoint refuses to hold -----------------------------------------------------------


class Thing:
    pass


def with_attribute(module: Any, name: str, value: Any) -> Any:
    setattr(module, name, value)  # a whole module saves, but not with an arbitrary object in it
    return module


@needs_safetensors
@pytest.mark.parametrize("obj, message", [
    ({"x": Thing()}, r"obj\['x'\] is a Thing"),
    ({"layer": [with_attribute(bp.nn.Linear(2, 2), "log", Thing())]},
     r"obj\['layer'\]\[0\]\.log is a Thing"),
    ({"s": {1, 2}}, r"obj\['s'\] is a set"),
    ({"f": len}, "is a builtin_function_or_method"),
    ({"b": b"bytes"}, "is a bytes"),
    ({"o": np.array([object()])}, "dtype object"),
    ({"u": np.array(["text"])}, "dtype <U4"),
    ({"d": np.array(["2020-01-01"], dtype="datetime64[D]")}, "dtype datetime64"),
    ({"ld": np.longdouble(1) if np.dtype(np.longdouble).itemsize > 8 else Thing()}, "obj"),
    ({"k": {Thing(): 1}}, r"obj\['k'\] has a key of type Thing"),
    ({"k": {frozenset(): 1}}, "key of type frozenset"),
], ids=["object", "module", "set", "function", "bytes", "object-array", "str-array",
        "datetime-array", "longdouble", "object-key", "frozenset-key"])
def test_unsupported_objects_are_refused_before_touching_the_file(obj, message, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"old": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=message):
        save(obj, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


@needs_safetensors
def test_optimizers_suggest_saving_their_state_dict(tmp_path):
    # Whole modules save (tests/test_module_save.py); an optimizer object does not.
    optimizer = bp.optim.SGD(bp.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"save its state_dict\(\) instead"):
        save(optimizer, tmp_path / "m.safetensors")


@needs_safetensors
def test_reference_cycles_are_refused(tmp_path):
    cycle: list = [1]
    cycle.append({"again": cycle})
    with pytest.raises(ValueError, match=r"obj\[1\]\['again'\] contains itself"):
        save(cycle, tmp_path / "c.safetensors")
    shared = [1, 2]
    assert_same(round_trip({"a": shared, "b": shared}, tmp_path), {"a": [1, 2], "b": [1, 2]})


# -- atomic writes --------------------------------------------------------------------------------


@pytest.fixture
def old_checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"epoch": 1, "w": bp.ones(100)}, path)
    return path, path.read_bytes()


def assert_untouched(path: pathlib.Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name], "a temporary file was left behind"
    assert load(path)["epoch"] == 1


def raise_(error: BaseException):
    def fail(*args, **kwargs):
        raise error
    return fail


@needs_safetensors
@pytest.mark.parametrize("error", [OSError(errno.EIO, "I/O error"), KeyboardInterrupt()],
                         ids=["OSError", "KeyboardInterrupt"])
def test_a_crash_at_rename_leaves_the_old_file(error, old_checkpoint, monkeypatch):
    path, before = old_checkpoint
    monkeypatch.setattr(os, "replace", raise_(error))
    with pytest.raises(type(error)):
        save({"epoch": 2, "w": bp.zeros(100)}, path)
    monkeypatch.undo()
    assert_untouched(path, before)


@needs_safetensors
def test_a_crash_half_way_through_writing_leaves_the_old_file(old_checkpoint, monkeypatch):
    path, before = old_checkpoint
    partial_files = []

    def write_half_then_fail(fd, data):
        os.write(fd, bytes(data[: len(data) // 2]))
        partial_files.extend(p for p in os.listdir(path.parent) if p.endswith(".tmp"))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        save({"epoch": 2, "w": bp.zeros(100)}, path)
    monkeypatch.undo()
    assert partial_files and partial_files[0].startswith(".ckpt.safetensors.")
    assert_untouched(path, before)


@needs_safetensors
def test_a_failing_fsync_leaves_the_old_file(old_checkpoint, monkeypatch):
    path, before = old_checkpoint
    monkeypatch.setattr(os, "fsync", raise_(OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        save({"epoch": 2}, path)
    monkeypatch.undo()
    assert_untouched(path, before)


@needs_safetensors
def test_a_successful_save_syncs_file_and_directory_and_keeps_permissions(old_checkpoint,
                                                                          monkeypatch):
    path, _ = old_checkpoint
    os.chmod(path, 0o640)
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    save({"epoch": 2}, path)
    assert synced == ["file", "dir"]
    assert load(path) == {"epoch": 2}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(path.parent) == [path.name]


@needs_safetensors
def test_a_new_file_gets_the_usual_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    save({"x": 1}, tmp_path / "new.safetensors")
    assert stat.S_IMODE(os.stat(tmp_path / "new.safetensors").st_mode) == 0o666 & ~umask


@needs_safetensors
def test_bad_destinations_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="directory to write into does not exist") as info:
        save({}, tmp_path / "missing" / "ckpt.safetensors")
    assert info.value.filename == str(tmp_path / "missing")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save({}, tmp_path)
    assert os.listdir(tmp_path) == []


# -- files that are not good checkpoints --------------------------------------------------------


@needs_safetensors
def test_a_missing_file_is_file_not_found_naming_the_path(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="no checkpoint file") as info:
        load(path)
    assert info.value.filename == str(path) and str(path) in str(info.value)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"a": bp.arange(10, dtype=bp.float32), "b": bp.ones(3, 4, dtype=bp.float64),
          "c": np.arange(5), "epoch": 3}, path)
    return path


def corrupt(path: pathlib.Path, content: bytes) -> None:
    path.write_bytes(content)


@needs_safetensors
@pytest.mark.parametrize("make, message", [
    (lambda data: b"", "only 0 bytes"),
    (lambda data: b"PK\x03", "only 3 bytes"),
    (lambda data: b"Hello, this is just a text file, not a checkpoint.\n", "truncated or not"),
    (lambda data: np.random.default_rng(0).bytes(5000), "truncated or not"),
    (lambda data: data[:7], "only 7 bytes"),
    (lambda data: data[:20], "truncated or not"),
    (lambda data: data[:len(data) // 2], "truncated"),
    (lambda data: data[:-1], "truncated or corrupted"),
    (lambda data: data + b"\x00" * 16, "truncated or corrupted"),
    (lambda data: data[:8] + b"[" + data[9:], "header is not JSON"),
    (lambda data: (7).to_bytes(8, "little") + b"\xff\xfe\x00\x01garbage...", "header is not JSON"),
], ids=["empty", "tiny", "text", "random", "7-bytes", "cut-in-header", "cut-in-half",
        "one-byte-short", "trailing-bytes", "header-broken", "header-not-utf8"])
def test_broken_files_raise_checkpoint_error_naming_the_path(make, message, checkpoint):
    corrupt(checkpoint, make(checkpoint.read_bytes()))
    with pytest.raises(CheckpointError, match=message) as info:
        load(checkpoint)
    assert str(checkpoint) in str(info.value) and isinstance(info.value, ValueError)


@needs_safetensors
def test_other_file_formats_are_not_checkpoints(tmp_path):
    import safetensors.numpy

    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.arange(3))
    plain = tmp_path / "plain.safetensors"
    safetensors.numpy.save_file({"a": np.arange(3)}, str(plain), metadata={"format": "np"})
    for path, message in ((npz, "truncated or not"), (plain, "not a backprop checkpoint")):
        with pytest.raises(CheckpointError, match=message) as info:
            load(path)
        assert str(path) in str(info.value)


@needs_safetensors
@pytest.mark.parametrize("key", ["a", "b", "c"])
def test_a_flipped_byte_in_a_tensor_names_the_tensor(key, checkpoint):
    length, header = header_of(checkpoint)
    start, end = header[key]["data_offsets"]
    data = bytearray(checkpoint.read_bytes())
    data[8 + length + (start + end) // 2] ^= 0x01
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"SHA-256 of tensor '{key}' does not match") as info:
        load(checkpoint)
    assert str(checkpoint) in str(info.value)


@needs_safetensors
def test_edited_metadata_is_caught_by_its_checksum(checkpoint):
    def edit(document):
        document["tree"]["$dict"][-1][1] = 4  # epoch 3 -> 4
    rewrite(checkpoint, edit, fix_checksum=False)
    with pytest.raises(CheckpointError, match="SHA-256 of its metadata"):
        load(checkpoint)


@needs_safetensors
@pytest.mark.parametrize("edit, arrays, message", [
    (lambda d: d.update(version=3), None, "format version 3.*upgrade backprop"),
    (lambda d: d.update(version="1"), None, "no format version"),
    (lambda d: d.pop("tensors"), None, "no tensor table"),
    (lambda d: d["tensors"].update(z=d["tensors"]["a"]), None, r"missing from the file \['z'\]"),
    (None, lambda a: {**a, "extra": np.zeros(2)}, r"not in the metadata \['extra'\]"),
    (None, lambda a: {**a, "a": a["a"].astype(np.float64)}, "'a' is float64 .* but float32"),
    (None, lambda a: {**a, "b": a["b"].reshape(4, 3)}, r"'b' is float64 \(4, 3\)"),
    (lambda d: d["tree"]["$dict"].append(["d", {"$tensor": "nope"}]), None,
     "refers to tensor 'nope'"),
    (lambda d: d["tree"]["$dict"].append(["d", {"$pickle": "x"}]), None, "unknown tag"),
    (lambda d: d["tree"]["$dict"].append(["d", {"$np": "object", "value": 1}]), None,
     "NumPy scalar of dtype object"),
    (lambda d: d["tree"]["$dict"].append([["unhashable"], 1]), None, "malformed metadata"),
    (lambda d: d["tensors"]["a"].update(dtype="object"), None, "malformed metadata for tensor"),
    (lambda d: d.update(tree={"$int": "not hex"}), None, "malformed metadata"),
])
def test_inconsistent_metadata_raises_checkpoint_error(edit, arrays, message, checkpoint):
    rewrite(checkpoint, edit or (lambda d: None), edit_arrays=arrays or (lambda a: a))
    with pytest.raises(CheckpointError, match=message) as info:
        load(checkpoint)
    assert str(checkpoint) in str(info.value)


# -- PyTorch-compatible arguments, the optional extra ---------------------------------------------


@needs_safetensors
@pytest.mark.parametrize("map_location", [None, "cpu", {"cuda:0": "cpu"},
                                          lambda storage, location: storage])
def test_map_location_to_the_cpu_is_accepted(map_location, checkpoint):
    assert load(checkpoint, map_location=map_location)["epoch"] == 3


@needs_safetensors
def test_map_location_moves_tensors_and_unpickling_is_refused(checkpoint):
    moved = load(checkpoint, map_location="strict:1")
    tensors = [v for v in moved.values() if isinstance(v, bp.Tensor)]
    assert tensors and all(t.device == "strict:1" for t in tensors)
    with pytest.raises(ValueError, match="never does"):
        load(checkpoint, weights_only=False)
    assert load(checkpoint, weights_only=True)["epoch"] == 3


@pytest.mark.parametrize("call", [lambda p: save({"x": 1}, p), lambda p: load(p)],
                         ids=["save", "load"])
def test_without_safetensors_the_error_says_what_to_install(call, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install backprop\[checkpoint\]"):
        call(tmp_path / "ckpt.safetensors")


def test_bp_exports_save_and_load():
    if not hasattr(bp, "save"):
        pytest.skip("backprop/__init__.py does not re-export save/load yet")
    assert bp.save is save and bp.load is load
    assert bp.serialization.CheckpointError is CheckpointError


# -- nothing is imported eagerly (tests/test_no_pickle.py: nothing unpickled or evaluated) ------

def source_files() -> list[pathlib.Path]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10 and SRC / "serialization.py" in files
    return files


def imports_run_at_import_time(tree: ast.Module) -> list[tuple[str, int]]:
    """Modules imported by statements that run when the file is imported (module level, class
    bodies, if/try blocks), not inside functions."""
    found, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.lineno))
        stack.extend(ast.iter_child_nodes(node))
    return found


def test_safetensors_is_never_imported_at_module_level():
    assert ("safetensors.numpy", 1) in imports_run_at_import_time(
        ast.parse("import safetensors.numpy\ndef f():\n    import torch\n"))
    for path in source_files():
        for module, line in imports_run_at_import_time(ast.parse(path.read_text(), str(path))):
            assert module.split(".")[0] != "safetensors", \
                f"{path}:{line} imports safetensors at module level"
    probe = ("import sys, backprop, backprop.serialization; "
             "assert 'safetensors' not in sys.modules, 'safetensors imported eagerly'")
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=SRC.parent.parent)
