"""Thread counts (issue 13, item 9): the policy's decision from a load reading, its overrides,
``bp.set_num_threads`` on OpenBLAS and Numba, and the command applying it. No timings: those are
``benchmarks/threads.py``'s."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import backprop as bp
from backprop import threads
from backprop.cli import main

BLAS_AND_OURS = (*threads.BLAS_ENV, threads.ENV)


@pytest.fixture
def restore_threads():
    """Put the BLAS thread count and NUMBA_NUM_THREADS back as they were."""
    before, numba_env = bp.get_num_threads(), os.environ.get("NUMBA_NUM_THREADS")
    yield
    bp.set_num_threads(before)
    if numba_env is None:
        os.environ.pop("NUMBA_NUM_THREADS", None)
    else:
        os.environ["NUMBA_NUM_THREADS"] = numba_env


def blas_threads() -> list[int]:
    """What threadpoolctl, not the code under test, reads from every loaded BLAS."""
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def run_command(*argv: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in BLAS_AND_OURS}
    return subprocess.run([sys.executable, "-m", "backprop", *argv], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


# -- the decision ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cores, busy, expected", [
    (2, 0.0, 2), (2, 0.15, 2), (2, 0.3, 1), (2, 1.0, 1), (2, 2.0, 1), (2, 3.5, 1),
    (1, 0.0, 1), (16, 0.0, 16), (16, 3.5, 12), (16, 3.9, 12),
])
def test_one_thread_per_idle_core(cores: int, busy: float, expected: int) -> None:
    assert threads.choose_num_threads(cores, busy) == expected


def test_busy_cores_from_two_readings_of_proc_stat(monkeypatch) -> None:
    readings = iter([
        {0: (1000, 2000), 1: (500, 2000)},
        {0: (1010, 2010), 1: (500, 2010)},  # cpu0 all idle, cpu1 all busy over the sample
    ])
    monkeypatch.setattr(threads, "cpu_times", lambda cpus: next(readings))
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: None)
    assert threads.busy_cores() == pytest.approx(1.0)


def test_busy_cores_falls_back_to_the_load_average(monkeypatch) -> None:
    monkeypatch.setattr(threads, "cpu_times", lambda cpus: None)  # no /proc/stat (macOS)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.5, 1.0, 0.5), raising=False)
    assert threads.busy_cores() == 1.5


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux only")
def test_cpu_times_read_the_allowed_cpus() -> None:
    cpus = os.sched_getaffinity(0)
    times = threads.cpu_times(cpus)
    assert set(times) == cpus
    assert all(0 <= idle <= total for idle, total in times.values())
    assert 0.0 <= threads.busy_cores(0.02) <= len(cpus)


# -- overrides ------------------------------------------------------------------------------------

@pytest.fixture
def two_cores_one_busy(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda sample_s=0.1: 1.0)


@pytest.mark.parametrize("flag, env, expected", [
    (3, {"BACKPROP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}, (3, "--threads 3")),
    (None, {"BACKPROP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "1"},
     (2, "BACKPROP_NUM_THREADS=2")),
    (None, {"OMP_NUM_THREADS": "2"}, (None, "OMP_NUM_THREADS=2 is set")),
    (None, {}, (1, "1.0 of 2 cores idle")),
])
def test_flag_then_environment_then_the_load(two_cores_one_busy, flag, env, expected) -> None:
    choice = threads.command_threads(flag, env)
    assert (choice.threads, choice.reason) == expected


def test_unreadable_load_leaves_the_libraries_alone(monkeypatch) -> None:
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda sample_s=0.1: None)
    assert threads.command_threads(None, {}).threads is None


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_environment_value_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=f"BACKPROP_NUM_THREADS must be a whole number of at "
                       f"least 1, got '{value}'"):
        threads.command_threads(None, {"BACKPROP_NUM_THREADS": value})


# -- bp.set_num_threads ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2])
def test_set_num_threads_sets_blas(restore_threads, n: int) -> None:
    bp.set_num_threads(n)
    assert bp.get_num_threads() == n
    assert set(blas_threads()) == {n}


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_count(n) -> None:
    with pytest.raises(ValueError, match=r"set_num_threads: n must be an int of at least 1"):
        bp.set_num_threads(n)


@pytest.mark.parametrize("numba_first", [True, False], ids=["numba-loaded", "numba-later"])
def test_set_num_threads_sets_numba(numba_first: bool) -> None:
    pytest.importorskip("numba")  # the [fast] extra
    code = ("import numba; " if numba_first else "") + (
        "import backprop as bp; bp.set_num_threads(1); import numba; "
        "print(numba.get_num_threads())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]


def test_import_backprop_does_not_import_threadpoolctl() -> None:
    code = ("import sys, backprop as bp; import backprop.cli; "
            "print('threadpoolctl' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["False"], done.stderr


def test_without_threadpoolctl(monkeypatch, capsys, two_cores_one_busy) -> None:
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    with pytest.raises(ImportError, match=r"set_num_threads: .*pip install threadpoolctl.*"
                       r"OPENBLAS_NUM_THREADS=1"):
        bp.set_num_threads(1)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert bp.get_num_threads() == 3  # what OpenBLAS read when it loaded
    with pytest.raises(ImportError, match=r"^--threads 1: set_num_threads: .*threadpoolctl"):
        threads.apply_command_threads(1)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.setattr(threads, "get_num_threads", lambda: 2)
    assert threads.apply_command_threads(None).threads is None  # the policy cannot apply...
    note = capsys.readouterr().err  # ...and says what would
    assert "1.0 of 2 cores idle" in note and "OPENBLAS_NUM_THREADS=1" in note


# -- the command ----------------------------------------------------------------------------------

PROFILE = ["profile", "--hidden", "8", "--steps", "1", "--rows", "1"]


@pytest.mark.parametrize("argv, env, expected", [
    (["--threads", "1"], {}, "1 BLAS thread:"),
    (["--threads", "2"], {"BACKPROP_NUM_THREADS": "1"}, "2 BLAS threads:"),
    ([], {"BACKPROP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"}, "1 BLAS thread:"),
    ([], {"OPENBLAS_NUM_THREADS": "1"}, "1 BLAS thread:"),
])
def test_the_command_uses_the_count_it_is_given(argv, env, expected) -> None:
    done = run_command(*PROFILE, *argv, **env)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout.splitlines()[0]


@pytest.mark.parametrize("busy, expected", [(1.0, "1 BLAS thread:"), (0.0, "2 BLAS threads:")])
def test_the_command_applies_the_policy(restore_threads, monkeypatch, capsys, busy,
                                        expected) -> None:
    for name in BLAS_AND_OURS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", lambda sample_s=0.1: busy)
    assert main(PROFILE) == 0
    assert expected in capsys.readouterr().out.splitlines()[0]
    assert set(blas_threads()) == {int(expected[0])}


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "profile", "landscape",
                                     "train-lm", "generate", "gan", "superres", "tune",
                                     "stream", "compare-methods"])
def test_every_sub_command_takes_threads_and_names_a_bad_value(command: str, capsys) -> None:
    assert main([command, "--threads", "0"]) == 2
    assert "argument --threads: must be a whole number of at least 1, got '0'" in \
        capsys.readouterr().err
