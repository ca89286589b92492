"""``backprop.thread_watch``: BLAS threads follow the machine's load during training.

The decisions run on scripted readings (the load is not ours to set in a test); one test reads
the real ``/proc/stat`` in a child process started without the suite's OPENBLAS_NUM_THREADS.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import thread_watch, threads
from backprop.thread_watch import Reading, others_busy


def test_others_busy_is_the_machines_busy_time_less_our_own_per_second() -> None:
    assert others_busy(Reading(0.0, 10.0, 1.0), Reading(0.5, 11.0, 1.5)) == pytest.approx(1.0)
    assert others_busy(Reading(0.0, 10.0, 1.0), Reading(0.5, 10.2, 1.5)) == 0.0  # never < 0
    assert others_busy(Reading(1.0, 10.0, 1.0), Reading(1.0, 12.0, 1.0)) == 0.0  # no time


@pytest.fixture
def watch(monkeypatch: Any) -> Iterator[list[int]]:
    """The watcher on, on 2 cores with 2 BLAS threads, reading the scripted ``readings``; the
    counts it gives BLAS are recorded in the returned list (and Numba's pool must get the
    same counts)."""
    limits: list[int] = []
    kernel_limits: list[int] = []
    monkeypatch.setattr(threads, "limit_blas_threads", limits.append)
    monkeypatch.setattr(threads, "limit_kernel_threads", kernel_limits.append)
    monkeypatch.setattr(threads, "user_chose_count", False)  # other tests call set_num_threads
    for name, value in (("_active", True), ("_cores", 2), ("_threads", 2), ("_last", None),
                        ("_next_at", 0.0)):
        monkeypatch.setattr(thread_watch, name, value)
    yield limits
    assert kernel_limits == limits


def follow(monkeypatch: Any, readings: list[Reading]) -> None:
    for reading in readings:
        monkeypatch.setattr(thread_watch, "_read", lambda r=reading: r)
        thread_watch._follow()


def test_a_core_taken_by_other_work_gives_one_thread_and_its_end_gives_two(
        watch: list[int], monkeypatch: Any) -> None:
    follow(monkeypatch, [Reading(0.0, 0.0, 0.0),
                         Reading(0.5, 1.0, 0.5),     # we used 0.5 s, others 0.5 s: a core
                         Reading(1.0, 1.75, 0.75),   # still a core busy: no change
                         Reading(1.5, 2.25, 1.25)])  # only our own work: both cores idle
    assert watch == [1, 2]


def test_a_brief_or_light_load_changes_nothing(watch: list[int], monkeypatch: Any) -> None:
    follow(monkeypatch, [Reading(0.0, 0.0, 0.0), Reading(0.5, 1.025, 0.95),  # others: 0.15
                         Reading(1.0, 2.025, 1.9)])  # 0.1
    assert watch == []


def test_tick_reads_at_most_once_an_interval(watch: list[int], monkeypatch: Any) -> None:
    readings: list[int] = []
    monkeypatch.setattr(thread_watch, "_read",
                        lambda: readings.append(1) or Reading(thread_watch.time.monotonic(), 0, 0))
    for _ in range(100):
        thread_watch.tick()
    assert len(readings) == 1
    monkeypatch.setattr(thread_watch, "_next_at", 0.0)  # the interval has passed
    thread_watch.tick()
    assert len(readings) == 2


def test_backward_and_a_replayed_step_tick(monkeypatch: Any) -> None:
    ticks: list[int] = []
    monkeypatch.setattr(thread_watch, "tick", lambda: ticks.append(1))
    w = bp.tensor(np.ones(3), requires_grad=True)

    def step(x: bp.Tensor) -> bp.Tensor:
        loss = (w * x).sum()
        loss.backward()
        return loss

    (w * 2.0).sum().backward()
    assert len(ticks) == 1
    compiled = bp.compile(step)
    x = bp.tensor(np.arange(3.0))
    compiled(x)  # traced: its backward pass ticks
    compiled(x)  # replayed: the replay ticks
    assert len(ticks) == 3


@pytest.mark.parametrize("variable", [thread_watch.ENV, threads.ENV, *threads.BLAS_ENV])
def test_a_count_chosen_in_the_environment_is_left_alone(variable: str, monkeypatch: Any) -> None:
    for name in (thread_watch.ENV, threads.ENV, *threads.BLAS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "0" if variable == thread_watch.ENV else "1")
    assert not thread_watch._should_follow()


def test_set_num_threads_pins_the_count(monkeypatch: Any) -> None:
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(threads, "user_chose_count", False)  # other tests call set_num_threads
    monkeypatch.setattr(thread_watch, "_active", True)
    monkeypatch.setattr(thread_watch, "_next_at", 0.0)
    before = bp.get_num_threads()
    try:
        bp.set_num_threads(1)
    finally:
        threads.limit_blas_threads(before)
    monkeypatch.setattr(thread_watch, "_read", lambda: pytest.fail("the load was read"))
    thread_watch.tick()
    assert thread_watch._active is False


_CHILD = """
import time
import numpy as np
import backprop as bp
from backprop import thread_watch
w = bp.tensor(np.ones((64, 64), np.float32), requires_grad=True)
end = time.monotonic() + 1.2
while time.monotonic() < end:
    (w @ w).sum().backward()
print(thread_watch._active, thread_watch._last is not None, thread_watch._threads,
      thread_watch._cores)
"""


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads Linux's /proc/stat")
def test_a_training_loop_reads_the_real_load() -> None:
    pytest.importorskip("threadpoolctl")
    env = {k: v for k, v in os.environ.items()
           if k not in (thread_watch.ENV, threads.ENV, *threads.BLAS_ENV)}
    done = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    active, read, count, cores = done.stdout.split()
    if int(cores) < 2:
        assert active == "False"  # one core: nothing to follow
        return
    assert (active, read) == ("True", "True")
    assert 1 <= int(count) <= int(cores)  # the count depends on this machine's load now
