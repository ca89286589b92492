"""``profile`` and ``record_function``: where the time of a training step goes, op by op.

Inside a ``profile`` block every op's forward, every node's backward, the backward engine's own
work and every optimizer step is timed; ``key_averages()`` sums them per op and phase, and
``export_chrome_trace`` writes the timeline for ``chrome://tracing`` or Perfetto. The timing is
an engine observer registered for the block only (see ``hooks``), so outside it costs nothing.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from ..atomic import atomic_write_text
from ..autograd.observers import observing
from .hooks import Timer
from .recorder import ACTIVE, USER, Recorder
from .table import EventList, FunctionEventAvg

F = TypeVar("F", bound=Callable[..., Any])


class ProfilerActivity(enum.Enum):
    """What to profile; backprop runs on the CPU only, so ``CPU`` is the one activity."""

    CPU = "cpu"


class profile:  # noqa: N801 - PyTorch's name
    """Time every op, backward node and optimizer step run inside the block.

    ``record_shapes=True`` also keeps each call's input shapes, for
    ``key_averages(group_by_input_shape=True)``. Only the thread that enters the block is
    profiled.

    >>> import backprop as bp
    >>> model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 2))
    >>> opt = bp.optim.SGD(model.parameters(), lr=0.1)
    >>> with profile() as prof:
    ...     loss = (model(bp.randn(16, 4)) ** 2).mean()
    ...     loss.backward()
    ...     opt.step()
    >>> {row.key: row.count for row in prof.key_averages() if row.key.startswith("Linear")}
    {'LinearBackward': 2}
    >>> [row.count for row in prof.key_averages() if row.key == "linear"]
    [2]
    >>> print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5))
    ... # doctest: +SKIP
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 record_shapes: bool = False) -> None:
        for activity in activities or ():
            if activity is not ProfilerActivity.CPU:
                raise ValueError(f"profile: activities may only hold ProfilerActivity.CPU "
                                 f"(backprop runs on the CPU); got {activity!r}")
        if not isinstance(record_shapes, bool):
            raise TypeError(f"profile: record_shapes must be a bool, got "
                            f"{type(record_shapes).__name__}")
        self.record_shapes = record_shapes
        self._recorder: Recorder | None = None
        self._hooks: Any = None

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start timing (what entering the ``with`` block does). Profilers and other observers
        started one inside another may stop in any order."""
        if self._recorder is not None and self._recorder.running:
            raise RuntimeError("profile.start: this profiler is already running")
        recorder = Recorder(self.record_shapes)
        self._hooks = observing(Timer(recorder))
        self._hooks.__enter__()
        self._recorder = recorder
        recorder.start()

    def stop(self) -> None:
        """Stop timing and unregister from the engine (what leaving the ``with`` block does)."""
        recorder = self._recorder
        if recorder is None or not recorder.running:
            return
        try:
            recorder.stop()
        finally:
            hooks, self._hooks = self._hooks, None
            hooks.__exit__(None, None, None)

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- results -----------------------------------------------------------------------------

    def _finished(self, caller: str) -> Recorder:
        recorder = self._recorder
        if recorder is None:
            raise RuntimeError(f"profile.{caller}: nothing was profiled yet; call it after the "
                               "`with profile() as prof:` block")
        if recorder.running:
            raise RuntimeError(f"profile.{caller}: the profiler is still running; call it after "
                               "the `with` block ends")
        return recorder

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """One row per op (and phase), or per op and input shapes, in the order first run.

        Each row's ``self_cpu_time_total`` excludes the ranges inside it, so the rows' self
        times add up to the block's wall time (``[other]`` is the time outside every range).
        """
        recorder = self._finished("key_averages")
        if group_by_input_shape and not self.record_shapes:
            raise ValueError("profile.key_averages: group_by_input_shape=True needs the shapes: "
                             "create the profiler with profile(record_shapes=True)")
        wall_us = recorder.wall_time * 1e6
        rows: dict[tuple, FunctionEventAvg] = {}
        for key in _first_run_order(recorder):
            count, self_seconds, total_seconds = recorder.stats[key]
            name, phase = key[0], key[1]
            shapes = list(key[2]) if group_by_input_shape and len(key) > 2 else None
            group = (name, phase, key[2]) if shapes is not None else (name, phase)
            row = rows.get(group)
            if row is None:
                rows[group] = FunctionEventAvg(name, phase, int(count), self_seconds * 1e6,
                                               total_seconds * 1e6, shapes, wall_us)
            else:
                row.count += int(count)
                row.self_cpu_time_total += self_seconds * 1e6
                row.cpu_time_total += total_seconds * 1e6
        return EventList(rows.values(), wall_time_us=wall_us)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the timeline as Chrome trace JSON (open it in ``chrome://tracing`` or
        https://ui.perfetto.dev); written to a temporary file first, so a reader never sees
        half a file."""
        recorder = self._finished("export_chrome_trace")
        path = Path(path)
        pid, tid = os.getpid(), recorder.thread
        events = []
        for key, start, duration in recorder.events:
            event = {"name": key[0], "cat": key[1], "ph": "X", "pid": pid, "tid": tid,
                     "ts": round((start - recorder.started) * 1e6, 3),
                     "dur": round(duration * 1e6, 3)}
            if len(key) > 2:
                event["args"] = {"Input Shapes": [list(s) for s in key[2]]}
            events.append(event)
        # Chrome draws a parent before its children when both start together: longest first.
        events.sort(key=lambda e: (e["ts"], -e["dur"]))
        text = json.dumps({"traceEvents": events, "displayTimeUnit": "ms"})
        atomic_write_text(path, text, "export_chrome_trace")


def _first_run_order(recorder: Recorder) -> list[tuple]:
    """The keys by the start of their first call, ``[other]`` (the whole block) last."""
    first: dict[tuple, float] = {}
    for key, start, _ in recorder.events:
        if key not in first or start < first[key]:
            first[key] = start
    bottom = recorder.events[-1][0]
    return sorted((k for k in first if k != bottom), key=first.__getitem__) + [bottom]


class record_function:  # noqa: N801 - PyTorch's name
    """Label a range of user code; it appears in the profile as a ``user`` row whose self time
    excludes the ops inside it. A context manager or a decorator; free when not profiling.

    >>> import backprop as bp
    >>> with profile() as prof:
    ...     with record_function("make_batch"):
    ...         x = bp.randn(8, 3, requires_grad=True)
    ...     y = (x * 2).sum()
    >>> [row.count for row in prof.key_averages() if row.key == "make_batch"]
    [1]
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name = name
        self.args = args
        # Per entry (one object may be entered again inside itself), the recorders it opened in.
        self._opened: list[list[Recorder]] = []

    def __enter__(self) -> record_function:
        opened = []
        if ACTIVE:
            ident = threading.get_ident()
            for recorder in ACTIVE:
                if recorder.thread == ident:
                    recorder.open((self.name, USER))
                    opened.append(recorder)
        self._opened.append(opened)
        return self

    def __exit__(self, *exc: object) -> None:
        for recorder in reversed(self._opened.pop()):
            if recorder.running:  # a profiler stopped inside the range has closed it already
                recorder.close()

    def __call__(self, function: F) -> F:
        """Use as a decorator: each call of ``function`` is one range."""
        name, args = self.name, self.args

        @functools.wraps(function)
        def labelled(*a: Any, **kw: Any) -> Any:
            with record_function(name, args):  # a fresh range per call: recursion nests
                return function(*a, **kw)

        return labelled  # type: ignore[return-value]
