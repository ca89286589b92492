"""Data-parallel training over MPI: ``bp.distributed``, ``DistributedDataParallel``,
``DistributedSampler`` and ``backprop train --distributed``.

Two kinds of test. In this process, MPI runs as a world of one rank (mpi4py's singleton), which
exercises the API, the errors and the reducer's bookkeeping. Under ``mpiexec -n 2`` (the
programs in tests/mpi/, run as subprocesses with a time limit) real ranks exchange messages:
2-process training must equal 1-process training, and a failing rank must end the job.

Without mpi4py or mpiexec these tests skip, saying why; CI installs the ``[mpi]`` extra and sets
``BACKPROP_REQUIRE_MPI=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.distributed import ReduceOp
from backprop.utils.data import DataLoader, DistributedSampler, TensorDataset

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "mpi"
LIMIT = 120  # seconds any mpiexec job may take before the test calls it hung
# Where the device run of the equivalence trains: the GPU when there is one, else the stand-in.
DEVICE = os.environ.get("BACKPROP_TEST_DEVICE", "strict:1")


def _missing_mpi() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'backprop[mpi]')"
    if _mpiexec_path() is None:
        return "no mpiexec next to Python or on PATH (pip install mpich)"
    return None


def _mpiexec_path() -> str | None:
    """The mpiexec of the MPI that mpi4py loads: the mpich wheel puts it beside Python."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.is_file() else shutil.which("mpiexec")


@pytest.fixture(scope="module")
def mpi() -> None:
    reason = _missing_mpi()
    if reason is not None:
        if os.environ.get("BACKPROP_REQUIRE_MPI") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_MPI=1 but {reason}")
        pytest.skip(f"MPI tests skipped: {reason}")


@pytest.fixture
def dist(mpi: None):
    """``bp.distributed``, initialised as a world of one rank."""
    import backprop.distributed as dist

    dist.init()
    return dist


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    # One BLAS thread per rank: ranks on a shared machine would otherwise fight over the cores.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               BACKPROP_NUMBA="0", **extra)
    return env


class _Job:
    """A program started in the background; ``result()`` waits for it (at most ``LIMIT``)."""

    def __init__(self, args: list[str], **extra: str) -> None:
        self.args = [str(a) for a in args]
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=_env(**extra), text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._result: tuple[int, str] | None = None

    def result(self) -> tuple[int, str]:
        if self._result is None:
            try:
                output, _ = self.process.communicate(timeout=LIMIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                output, _ = self.process.communicate()
                pytest.fail(f"{' '.join(self.args)} still running after {LIMIT} s (hung):\n"
                            f"{output}")
            self._result = (self.process.returncode, output)
        return self._result


def _mpirun(n: int, *args: object, **extra: str) -> _Job:
    return _Job([_mpiexec_path(), "-n", str(n), *args], **extra)


# What each failure must print: the failing rank's own error (or, for a rank that left or was
# killed, the waiting rank's timeout or the launcher's report).
FAILURES = {
    "raise": "RuntimeError: rank 1 fails on purpose",
    "backward": "RuntimeError: rank 1 fails during backward on purpose",
    "leave": "DistributedTimeoutError: all_reduce: rank 0 of 2 waited",
    "kill": "BAD TERMINATION",
    "before-init": "Timeout (0:00:02)!",
}


@pytest.fixture(scope="module")
def jobs(mpi: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every mpiexec job of this file, started at once so they overlap (each takes a second or
    two, mostly starting Python); the tests below each wait for their own."""
    folder = tmp_path_factory.mktemp("mpi")
    digits = SCRIPTS / "digits_ddp.py"
    started: dict[str, object] = {"folder": folder}
    started["two"] = _mpirun(2, sys.executable, digits, folder / "two.npz", "--world", "2")
    # The ranks train on a device: gradients go through host copies into the MPI buckets.
    started["two on a device"] = _mpirun(2, sys.executable, digits, folder / "device.npz",
                                         "--world", "2", "--device", DEVICE)
    alone = (f"import sys, numpy as np, runpy; m = runpy.run_path({str(digits)!r}); "
             "np.savez(sys.argv[1], **m['train_alone']())")
    started["one"] = _Job([sys.executable, "-c", alone, folder / "one.npz"])
    started["wrong world"] = _mpirun(1, sys.executable, digits, folder / "x.npz", "--world", "2")
    started["collectives"] = _mpirun(2, sys.executable, SCRIPTS / "collectives.py", "--world", "2")
    for mode in FAILURES:  # only `leave` needs a short timeout: the others must not time out
        started[mode] = _mpirun(2, sys.executable, SCRIPTS / "failing_rank.py", mode,
                                BACKPROP_DIST_TIMEOUT="2" if mode in ("leave", "before-init")
                                else "100")
    command = [sys.executable, "-m", "backprop", "train", "--distributed", "--epochs", "1",
               "--no-progress", "--out"]
    # mpiexec's `:` gives rank 0 and rank 1 different --out folders: only rank 0's may appear.
    started["train"] = _Job([_mpiexec_path(), "-n", "1", *command, folder / "rank0", ":",
                             "-n", "1", *command, folder / "rank1"])
    started["odd batch"] = _mpirun(2, *command, folder / "odd", "--batch-size", "63")
    started["example"] = _mpirun(2, sys.executable, ROOT / "examples" / "distributed_digits.py",
                                 "--epochs", "3")
    yield started
    for job in started.values():
        if isinstance(job, _Job) and job.process.poll() is None:
            job.process.kill()
            job.process.communicate()


# -- under mpiexec -----------------------------------------------------------------------------

def test_two_processes_train_exactly_as_one_on_the_same_batches(jobs: dict) -> None:
    """The issue's equivalence: 20 steps of the digits MLP in float64, batch 64 split 32/32 over
    two ranks (started from different initialisations), equal one process's to 1e-6; and the
    same with each rank accumulating two micro-batches, the first under no_sync()."""
    for name in ("two", "one", "two on a device"):
        code, output = jobs[name].result()
        assert code == 0, output
    # Two ranks on one device (the stand-in, or one GPU, which NCCL refuses to share).
    assert "gradients travel through host memory over MPI" in jobs["two on a device"].result()[1]
    one = np.load(jobs["folder"] / "one.npz")
    for run in ("two.npz", "device.npz"):
        two = np.load(jobs["folder"] / run)
        assert len(two.files) == 2 * len(one.files) == 12
        for variant in ("plain", "accumulate"):
            for name in one.files:
                np.testing.assert_allclose(two[f"{variant}/{name}"], one[name], rtol=1e-6,
                                           atol=1e-6 * np.abs(one[name]).max(),
                                           err_msg=f"{run} {variant}: {name}")


def test_the_equivalence_script_refuses_a_world_of_the_wrong_size(jobs: dict) -> None:
    code, output = jobs["wrong world"].result()
    assert code != 0 and "expected a world of 2 ranks, got 1" in output
    assert not (jobs["folder"] / "x.npz").exists()


def test_collectives_across_two_ranks(jobs: dict) -> None:
    code, output = jobs["collectives"].result()
    assert code == 0, output
    assert "rank 0 of 2: ok" in output and "rank 1 of 2: ok" in output


@pytest.mark.parametrize("mode", FAILURES)
def test_a_failing_rank_ends_the_whole_job_with_its_error(jobs: dict, mode: str) -> None:
    """Rank 1 raises (before MPI starts, before or during backward), leaves early, or is killed,
    while rank 0 waits: the job must end (within the time limit), non-zero, with the cause in
    its output."""
    code, output = jobs[mode].result()
    assert code != 0, f"the job succeeded:\n{output}"
    assert FAILURES[mode] in output, output
    assert "the collectives finished" not in output, output
    if mode == "before-init":  # MPI never started: the waiting rank's watchdog ended it
        assert "RuntimeError: rank 1 fails before init on purpose" in output, output
        assert "in load_mpi" in output, output
    elif mode != "kill":  # the launcher itself stops a job whose rank was killed
        assert "stopping all ranks (MPI_Abort)" in output, output


def test_backprop_train_distributed_writes_only_on_rank_0(jobs: dict) -> None:
    code, output = jobs["train"].result()
    assert code == 0, output
    assert output.count("epoch   1  loss") == 1  # logged once, by rank 0
    first, second = jobs["folder"] / "rank0", jobs["folder"] / "rank1"
    assert not second.exists()
    assert (first / "history.json").is_file()
    state = bp.load(first / "checkpoint.safetensors")
    assert state["config"]["distributed"] is True and state["epoch"] == 1
    assert state["history"][0]["test_accuracy"] > 0.5


def test_train_distributed_refuses_a_batch_that_does_not_split(jobs: dict) -> None:
    code, output = jobs["odd batch"].result()
    assert code == 2, output
    assert "batch_size 63 cannot be split evenly over 2 processes" in output
    assert not (jobs["folder"] / "odd").exists()


def test_the_example_trains_under_mpiexec(jobs: dict) -> None:
    code, output = jobs["example"].result()
    assert code == 0, output
    lines = [line for line in output.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and all("world size 2" in line for line in lines)  # rank 0 alone
    assert float(lines[-1].split("test accuracy")[1].split()[0]) > 0.85


# -- the API in a world of one ----------------------------------------------------------------

def test_init_gives_rank_0_of_1_without_a_launcher_and_is_idempotent(dist) -> None:
    assert dist.init() == (0, 1) == dist.init()
    assert (dist.get_rank(), dist.get_world_size(), dist.is_initialized()) == (0, 1, True)
    assert dist.is_available()


def test_collectives_need_init(dist) -> None:
    dist.destroy_process_group()
    try:
        assert not dist.is_initialized()
        with pytest.raises(dist.DistributedError, match=r"get_rank: .*call bp.distributed.init"):
            dist.get_rank()
        with pytest.raises(dist.DistributedError, match="all_reduce: .*not initialized"):
            dist.all_reduce(bp.ones(1))
    finally:
        dist.init()


@pytest.mark.parametrize("op, expected", [("sum", 3.0), ("avg", 3.0), ("product", 3.0),
                                          ("min", 3.0), (ReduceOp.MAX, 3.0)])
def test_all_reduce_of_one_rank_keeps_the_value(dist, op, expected: float) -> None:
    t = bp.full((2, 2), 3.0)
    assert dist.all_reduce(t, op=op) is None
    assert t.tolist() == [[expected] * 2] * 2


def test_all_reduce_bumps_the_version_so_saved_values_are_not_reused(dist) -> None:
    w = bp.ones(3, requires_grad=True)
    x = bp.ones(3)
    y = (w * x).sum()
    dist.all_reduce(x)
    with pytest.raises(RuntimeError, match="modified"):
        y.backward()


def test_async_collectives_return_work(dist) -> None:
    work = dist.all_reduce(bp.ones(2), async_op=True)
    assert work.wait() is True and work.is_completed()
    assert dist.broadcast(bp.ones(2), src=0, async_op=True).wait()
    assert dist.barrier(async_op=True).wait()


@pytest.mark.parametrize("call, error, message", [
    (lambda d: d.all_reduce(bp.ones(2), op="mean"), ValueError, "op must be one of"),
    (lambda d: d.all_reduce(bp.ones(2, dtype=bp.int64), op="avg"), TypeError,
     "needs a floating-point tensor, got int64"),
    (lambda d: d.all_reduce(np.ones(2)), TypeError, "must be a bp.Tensor, got ndarray"),
    (lambda d: d.all_reduce(bp.ones(2), group="workers"), RuntimeError, "sub-groups"),
    (lambda d: d.all_reduce(bp.ones(1).expand(3)), ValueError, "read-only"),
    (lambda d: d.broadcast(bp.ones(2), src=1), ValueError, r"src must be a rank in \[0, 0\]"),
    (lambda d: d.init(timeout=0), ValueError, "positive number of seconds"),
    (lambda d: d.init_process_group("nccl"), ValueError, "backend 'nccl' is not available"),
])
def test_bad_arguments_are_named(dist, call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call(dist)


def test_the_timeout_comes_from_the_environment(dist, monkeypatch) -> None:
    from backprop.distributed.group import _timeout_seconds

    monkeypatch.setenv("BACKPROP_DIST_TIMEOUT", "12.5")
    assert _timeout_seconds(None) == 12.5
    monkeypatch.setenv("BACKPROP_DIST_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=r"\$BACKPROP_DIST_TIMEOUT must be a number"):
        _timeout_seconds(None)
    monkeypatch.delenv("BACKPROP_DIST_TIMEOUT")
    assert _timeout_seconds(None) == 300.0


def test_importing_backprop_does_not_start_mpi() -> None:
    code = ("import sys, backprop, backprop.distributed, backprop.nn.parallel, backprop.train.loop; "
            "from backprop.utils.data import DistributedSampler; "
            "assert 'mpi4py' not in sys.modules, 'mpi4py was imported'")
    done = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                          text=True, timeout=LIMIT)
    assert done.returncode == 0, done.stderr


def test_a_mislaunched_job_is_refused(monkeypatch) -> None:
    """An mpiexec from another MPI starts copies that each see a world of one."""
    from backprop.distributed.mpi import check_launch

    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match="started 4 processes but MPI sees a world of 1"):
        check_launch(1, "init")
    check_launch(4, "init")


def test_a_missing_mpi4py_names_the_extra(monkeypatch) -> None:
    from backprop.distributed.mpi import load_mpi

    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` fail
    with pytest.raises(ImportError, match=r"init: .*pip install 'backprop\[mpi\]'"):
        load_mpi("init")


def test_abort_on_error_lets_errors_through_in_a_world_of_one(dist) -> None:
    with pytest.raises(KeyError), dist.abort_on_error():
        raise KeyError("x")


# -- DistributedDataParallel in a world of one --------------------------------------------------

def _mlp(seed: int = 0) -> bp.nn.Module:
    bp.manual_seed(seed)
    return bp.nn.Sequential(bp.nn.Linear(5, 8), bp.nn.Tanh(), bp.nn.Linear(8, 3)).double()


def _data() -> tuple[bp.Tensor, bp.Tensor]:
    bp.manual_seed(1)
    return bp.randn(6, 5, dtype=bp.float64), bp.randint(0, 3, (6,))


def _grads(model: bp.nn.Module) -> list[np.ndarray]:
    return [p.grad.numpy().copy() for p in model.parameters()]


def _loss(model: bp.nn.Module, x: bp.Tensor, y: bp.Tensor) -> bp.Tensor:
    return bp.nn.functional.cross_entropy(model(x), y)


@pytest.mark.parametrize("bucket_cap_mb", [25, 1e-4])
def test_ddp_gradients_of_one_rank_are_the_plain_gradients(dist, bucket_cap_mb: float) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    x, y = _data()
    plain = _mlp()
    _loss(plain, x, y).backward()
    model = DistributedDataParallel(_mlp(), bucket_cap_mb=bucket_cap_mb)
    assert len(model.reducer.buckets) == (1 if bucket_cap_mb == 25 else 4)
    for _ in range(2):  # the second iteration reuses the hooks and fresh buckets
        model.module.zero_grad()
        _loss(model, x, y).backward()
        for mine, reference in zip(_grads(model.module), _grads(plain)):
            np.testing.assert_array_equal(mine, reference)


def test_ddp_launches_buckets_while_backward_is_still_running(dist) -> None:
    """With a bucket per parameter, by the time the first layer's weight (among the last
    gradients backward produces) is ready, the later layers' buckets are already in flight."""
    from backprop.nn.parallel import DistributedDataParallel

    inner = _mlp()
    seen = []
    inner[0].weight.register_hook(lambda g: seen.append((model.reducer.armed,
                                                         model.reducer.next_bucket)))
    model = DistributedDataParallel(inner, bucket_cap_mb=1e-6)
    _loss(model, *_data()).backward()
    armed, launched = seen[0]
    assert armed and launched >= 2  # both of the last layer's buckets, at least
    assert not model.reducer.armed  # and backward finished the reduction


def test_ddp_no_sync_accumulates_then_syncs_the_sum(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    x, y = _data()
    plain = _mlp()
    (_loss(plain, x[:3], y[:3]) + _loss(plain, x[3:], y[3:])).backward()
    model = DistributedDataParallel(_mlp(), bucket_cap_mb=1e-4)
    with model.no_sync():
        _loss(model, x[:3], y[:3]).backward()
    assert not model.reducer.armed
    _loss(model, x[3:], y[3:]).backward()
    for mine, reference in zip(_grads(model.module), _grads(plain)):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_ddp_forward_without_grad_does_not_arm_the_reducer(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(_mlp())
    with bp.no_grad():
        model(_data()[0])
    assert not model.reducer.armed


class _TwoHeads(bp.nn.Module):
    """Uses one head or the other: the unused head gets no gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.left, self.right = bp.nn.Linear(2, 1), bp.nn.Linear(2, 1)

    def forward(self, x: bp.Tensor, left: bool = True) -> bp.Tensor:
        return (self.left if left else self.right)(x)


def test_ddp_unused_parameters_need_find_unused_parameters(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(_TwoHeads())
    model(bp.ones(1, 2)).sum().backward()
    with pytest.raises(dist.DistributedError, match="right.weight, right.bias got none.*"
                       "find_unused_parameters=True"):
        model(bp.ones(1, 2))


def test_ddp_find_unused_parameters_leaves_unused_gradients_none(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(_TwoHeads(), find_unused_parameters=True)
    for left in (True, False):
        model.module.zero_grad()
        model(bp.ones(1, 2), left=left).sum().backward()
        used, unused = ((model.module.left, model.module.right) if left else
                        (model.module.right, model.module.left))
        assert used.bias.grad.tolist() == [1.0] and unused.bias.grad is None
        assert not model.reducer.armed


def test_ddp_a_parameter_reduced_twice_in_one_iteration_is_refused(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    class Both(_TwoHeads):
        def forward(self, x: bp.Tensor) -> tuple[bp.Tensor, bp.Tensor]:
            return self.left(x), self.right(x)

    model = DistributedDataParallel(Both())
    left, _ = model(bp.ones(1, 2))
    left.sum().backward(retain_graph=True)  # the right head has not reported yet
    with pytest.raises(dist.DistributedError, match="'left.(weight|bias)' got a gradient twice"):
        left.sum().backward()


def test_ddp_state_dict_passes_through_and_accepts_pytorch_prefixes(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(bp.nn.Linear(2, 1))
    assert list(model.state_dict()) == ["weight", "bias"]
    target = bp.nn.Linear(2, 1)
    target.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(target.weight.detach().numpy(),
                                  model.module.weight.detach().numpy())
    prefixed = {f"module.{k}": bp.zeros_like(v) for k, v in model.state_dict().items()}
    model.load_state_dict(prefixed)
    assert model.module.bias.tolist() == [0.0]
    assert [n for n, _ in model.named_parameters()] == ["module.weight", "module.bias"]


@pytest.mark.parametrize("kwargs, message", [
    ({"device_ids": ["strict:1"]}, r"must name the one device the model is on \(cpu\)"),
    ({"bucket_cap_mb": 0}, "bucket_cap_mb must be a positive number"),
    ({"dim": 1}, "only dim=0"),
])
def test_ddp_bad_arguments_are_named(dist, kwargs: dict, message: str) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    with pytest.raises(ValueError, match=message):
        DistributedDataParallel(bp.nn.Linear(2, 1), **kwargs)


def test_ranks_off_cuda_exchange_through_the_host(dist) -> None:
    """NCCL is for CUDA ranks with a GPU each; on the CPU or the stand-in, buckets go over MPI,
    and gradients come back on the parameters' device."""
    from backprop.nn.parallel import DistributedDataParallel

    for device in ("cpu", "strict:1"):
        model = DistributedDataParallel(bp.nn.Linear(2, 1).to(device))
        assert model.reducer.transport is None
        model(bp.ones(3, 2, device=device)).sum().backward()
        assert model.module.weight.grad.device == device
        np.testing.assert_allclose(model.module.bias.grad.cpu().numpy(), [3.0])


def test_ddp_needs_init(dist) -> None:
    from backprop.nn.parallel import DistributedDataParallel

    dist.destroy_process_group()
    try:
        with pytest.raises(dist.DistributedError, match="DistributedDataParallel: .*init"):
            DistributedDataParallel(bp.nn.Linear(2, 1))
    finally:
        dist.init()


def test_buckets_go_backwards_and_keep_dtypes_apart() -> None:
    from backprop.nn.parallel.reducer import assign_buckets

    params = [bp.nn.Parameter(bp.zeros(n, dtype=d)) for n, d in
              [(4, bp.float32), (2, bp.float64), (4, bp.float32), (4, bp.float32)]]
    assert assign_buckets(params, cap_bytes=32) == [[3, 2], [1], [0]]
    assert assign_buckets(params, cap_bytes=1) == [[3], [2], [1], [0]]
    assert assign_buckets(params, cap_bytes=10**6) == [[3, 2, 0], [1]]


def test_used_parameters_walks_the_graph() -> None:
    from backprop.nn.parallel.reducer import used_parameters

    model = _TwoHeads()
    params = list(model.parameters())
    assert used_parameters(model(bp.ones(1, 2)), params) == {0, 1}
    assert used_parameters({"out": [model(bp.ones(1, 2), left=False)]}, params) == {2, 3}


# -- DistributedSampler ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                     (2, 4, False), (11, 2, True), (0, 2, False)])
def test_distributed_sampler_matches_pytorch_without_shuffle(torch, n: int, replicas: int,
                                                             drop_last: bool) -> None:
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_one_order_into_disjoint_shares() -> None:
    shares = [DistributedSampler(range(12), 3, rank, seed=5) for rank in range(3)]
    first = [list(s) for s in shares]
    assert sorted(i for share in first for i in share) == list(range(12))
    assert first != [list(range(r, 12, 3)) for r in range(3)]
    for s in shares:
        s.set_epoch(1)
    second = [list(s) for s in shares]
    assert sorted(i for share in second for i in share) == list(range(12))
    assert second != first
    again = DistributedSampler(range(12), 3, 0, seed=5)
    assert list(again) == first[0]


def test_distributed_sampler_batches_interleave_the_single_process_batches() -> None:
    """Step k of two ranks with batches of 2 covers what one process sees at step k with
    batches of 4, from the same seed."""
    dataset = TensorDataset(bp.arange(10))
    one = DataLoader(dataset, batch_size=4, sampler=DistributedSampler(dataset, 1, 0, seed=3))
    ranks = [DataLoader(dataset, batch_size=2, sampler=DistributedSampler(dataset, 2, r, seed=3))
             for r in range(2)]
    for (whole,), (a,), (b,) in zip(one, *ranks):
        assert sorted(whole.tolist()) == sorted(a.tolist() + b.tolist())


@pytest.mark.parametrize("kwargs, message", [
    ({"num_replicas": 2, "rank": 2}, r"invalid rank 2, rank should be in the interval \[0, 1\]"),
    ({"num_replicas": 0, "rank": 0}, "num_replicas must be a positive integer"),
])
def test_distributed_sampler_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DistributedSampler(range(4), **kwargs)


def test_distributed_sampler_defaults_to_the_process_group(dist) -> None:
    sampler = DistributedSampler(range(5))
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, 5)
