"""``backprop.multiprocessing`` and shared-memory tensors: what a forked child writes into a
shared tensor (an in-place op, an optimizer step) the parent sees; ``spawn`` runs and reports;
a Hogwild program of ours runs under ``backprop run``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import multiprocessing as mp
from backprop import nn

needs_fork = pytest.mark.skipif(not mp._context._HAS_FORK, reason="this platform cannot fork")
SRC = Path(bp.__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _start_method_restored():
    before = mp.get_start_method(allow_none=True)
    yield
    mp.set_start_method(before, force=True)


def _run_in_child(fn, *args) -> int:
    process = mp.Process(target=fn, args=args)
    process.start()
    process.join(timeout=60)
    return process.exitcode


@pytest.mark.parametrize("make", [
    lambda: bp.arange(6.0).reshape(2, 3),
    lambda: bp.arange(12.0, dtype=bp.float64).reshape(3, 4).t(),      # strides kept
    lambda: bp.arange(10)[::3],                                        # a strided slice
    lambda: bp.tensor([True, False]),
    lambda: bp.zeros(0, 3),
], ids=["float32", "float64-transposed", "int64-strided", "bool", "empty"])
def test_share_memory_keeps_values_dtype_shape_and_strides(make) -> None:
    t = make()
    before, dtype, shape, strides = t.numpy().copy(), t.dtype, t.shape, t.stride()
    assert not t.is_shared()
    assert t.share_memory_() is t
    assert t.is_shared()
    assert (t.dtype, t.shape, t.stride()) == (dtype, shape, strides)
    np.testing.assert_array_equal(t.numpy(), before)
    assert t.share_memory_().is_shared()  # a second call keeps the same memory
    assert t[..., :1].is_shared()  # views of shared memory are shared (as in PyTorch)


def test_share_memory_keeps_requires_grad_and_the_graph() -> None:
    x = bp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    x.share_memory_()
    y.share_memory_()
    assert x.requires_grad and x.is_leaf and y.grad_fn is not None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


def test_a_module_shares_its_parameters_buffers_and_gradients() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model(bp.randn(4, 3)).sum().backward()
    assert model.share_memory() is model
    tensors = [*model.parameters(), *model.buffers(), *(p.grad for p in model.parameters())]
    assert tensors and all(t.is_shared() for t in tensors)
    # Converting to the device and dtype the model already has keeps the shared memory.
    assert all(p.is_shared() for p in model.to("cpu").float().parameters())


def _add_one(t: bp.Tensor) -> None:
    t.add_(1)


def _sgd_steps(model: nn.Module, x: bp.Tensor, steps: int) -> None:
    optimizer = bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        (model(x) ** 2).mean().backward()
        optimizer.step()


@needs_fork
def test_a_childs_in_place_write_reaches_the_parent() -> None:
    shared, private = bp.zeros(3).share_memory_(), bp.zeros(3)
    assert _run_in_child(_add_one, shared) == 0
    assert _run_in_child(_add_one, private) == 0
    assert shared.tolist() == [1.0, 1.0, 1.0]
    assert private.tolist() == [0.0, 0.0, 0.0]  # not shared: the child changed its own copy


@needs_fork
def test_a_childs_sgd_momentum_steps_land_in_the_parents_parameters() -> None:
    bp.manual_seed(0)
    model, x = nn.Linear(4, 3), bp.randn(5, 4)
    expected = nn.Linear(4, 3)
    expected.load_state_dict(model.state_dict())
    _sgd_steps(expected, x, 3)  # the same steps, here
    model.share_memory()
    assert _run_in_child(_sgd_steps, model, x, 3) == 0
    for ours, theirs in zip(model.parameters(), expected.parameters()):
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        assert ours.is_shared()


def _record_rank(rank: int, out: bp.Tensor, scale: float) -> None:
    out[rank] = (rank + 1) * scale


def _fail_on_one(rank: int) -> None:
    if rank == 1:
        raise ValueError("rank one fails")


def _exit_on_one(rank: int) -> None:
    if rank == 1:
        os._exit(3)


@needs_fork
def test_spawn_calls_fn_with_each_rank_and_args() -> None:
    out = bp.zeros(4).share_memory_()
    assert mp.spawn(_record_rank, args=(out, 10.0), nprocs=4) is None
    assert out.tolist() == [10.0, 20.0, 30.0, 40.0]
    context = mp.spawn(_record_rank, args=(out, 1.0), nprocs=2, join=False)
    assert len(context.pids()) == 2
    while not context.join():
        pass
    assert out.tolist()[:2] == [1.0, 2.0]


@needs_fork
def test_spawn_raises_when_a_child_raises_or_exits_badly() -> None:
    with pytest.raises(mp.ProcessRaisedException, match="rank one fails") as raised:
        mp.spawn(_fail_on_one, nprocs=2)
    assert raised.value.error_index == 1 and "ValueError" in str(raised.value)
    with pytest.raises(mp.ProcessExitedException, match="exit code 3") as exited:
        mp.spawn(_exit_on_one, nprocs=2)
    assert exited.value.exit_code == 3 and exited.value.error_index == 1
    with pytest.raises(ValueError, match="nprocs"):
        mp.spawn(_fail_on_one, nprocs=0)


@needs_fork
def test_spawn_start_method_is_recorded_and_processes_still_share() -> None:
    mp.set_start_method("spawn", force=True)
    assert mp.get_start_method() == "spawn"
    with pytest.raises(RuntimeError, match="already been set"):
        mp.set_start_method("fork")
    shared = bp.zeros(2).share_memory_()
    assert _run_in_child(_add_one, shared) == 0
    assert shared.tolist() == [1.0, 1.0]
    with mp.get_context("spawn").Pool(2) as pool:
        assert pool.map(abs, [-1, -2, 3]) == [1, 2, 3]
    with pytest.raises(ValueError, match="cannot find context for 'nope'"):
        mp.set_start_method("nope", force=True)
    with pytest.raises(ValueError, match="cannot find context"):
        mp.get_context("nope")


def test_queue_and_event_work_between_processes() -> None:
    queue, event = mp.Queue(), mp.Event()
    process = mp.Process(target=_answer, args=(queue, event))
    process.start()
    assert queue.get(timeout=30) == [1, 2]
    process.join(timeout=30)
    assert event.is_set() and process.exitcode == 0


def _answer(queue, event) -> None:
    queue.put([1, 2])
    event.set()


def test_without_fork_a_shared_tensor_in_a_process_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(mp._context, "_HAS_FORK", False)
    monkeypatch.setattr(mp._context, "_requested", "spawn")  # (not Python's own start method)
    model = nn.Linear(2, 1).share_memory()
    for args in [(bp.zeros(1).share_memory_(),), (1, [model])]:
        with pytest.raises(RuntimeError, match="cannot fork.*shared"):
            mp.Process(target=print, args=args).start()


def test_torch_multiprocessing_is_ours_by_attribute_and_by_import() -> None:
    import backprop
    from backprop._torch_modules import torch_served

    assert backprop.multiprocessing is mp
    with torch_served():
        import torch.multiprocessing as served
    assert served is mp


def test_sharing_strategies_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    import torch.multiprocessing as tmp
    assert mp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == tmp.get_sharing_strategy()
    with pytest.raises(ValueError, match="unknown strategy 'shm'"):
        mp.set_sharing_strategy("shm")
    assert set(tmp.__all__) <= set(mp.__all__) | {"init_reductions"}
    assert torch is not None


HOGWILD = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.multiprocessing as mp


    def train(rank, model, steps):
        torch.manual_seed(rank)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
        for _ in range(steps):
            x = torch.randn(8, 4)
            loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


    if __name__ == "__main__":
        mp.set_start_method("spawn", force=True)
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        model.share_memory()
        before = [p.detach().clone() for p in model.parameters()]
        processes = [mp.Process(target=train, args=(rank, model, 5)) for rank in range(2)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
        changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
        print("changed", changed, mp.get_start_method())
''')


@needs_fork
def test_a_hogwild_program_under_backprop_run_trains_the_parents_model(tmp_path) -> None:
    script = tmp_path / "hogwild.py"
    script.write_text(HOGWILD)
    env = {**os.environ, "PYTHONPATH": str(SRC), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "backprop.run", str(script)], env=env,
                          check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "changed [True, True] spawn"
