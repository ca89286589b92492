"""The profiler's bookkeeping: a flat log of range openings and closings, summed after the block.

While profiling, every timed range (an op's forward, a node's VJPs, the backward engine, an
optimizer step, a ``record_function`` label) only appends ``key, time`` when it opens and
``CLOSE, time`` when it closes: two list appends and a clock read, so the profiled program runs
nearly as fast as an unprofiled one. When the block ends, ``summarise`` replays the log with a
stack: each range's duration is added to its parent's *children* time, so its *self* time is
its duration minus its children's. The block itself is the bottom range (``[other]``: the time
outside every timed range). Every second of the block lands in exactly one range's self time,
so the self times of all rows add up to the block's wall time.

>>> recorder = Recorder(record_shapes=False)
>>> recorder.start()
>>> recorder.open(("outer", "user")); recorder.open(("inner", "user"))
>>> recorder.close(); recorder.close(); recorder.stop()
>>> sorted(name for name, phase in recorder.stats)
['[other]', 'inner', 'outer']
>>> abs(sum(row[1] for row in recorder.stats.values()) - recorder.wall_time) < 1e-9
True
"""

from __future__ import annotations

import threading
import time
from typing import Any

# The phases a row can belong to.
FORWARD = "forward"
BACKWARD = "backward"
OPTIMIZER = "optimizer"
USER = "user"

# The bottom range: time in the block outside every timed range (the model's Python code,
# Module.__call__, data handling, the profiler's own bookkeeping between ranges).
OTHER = "[other]"

# Log markers: the innermost open range ends here; the block ends here (closing all ranges).
CLOSE = None
STOP = ...

# The recorders of the profiles running now (innermost last); ``record_function`` reports to them.
ACTIVE: list[Recorder] = []

# A key is (name, phase) or, when shapes are recorded, (name, phase, input shapes).
Key = tuple


class Recorder:
    """The log of one profile and, once stopped, its sums.

    Only the thread that created the recorder is timed (its observer is registered there, and
    ``record_function`` compares ``thread``).
    ``stats`` maps each key to ``[calls, self seconds, total seconds]``; ``events`` holds
    ``(key, start, duration)`` per range for the trace.
    """

    __slots__ = ("record_shapes", "log", "quiet", "thread", "running", "started", "wall_time",
                 "stats", "events")

    def __init__(self, record_shapes: bool) -> None:
        self.record_shapes = record_shapes
        self.log: list[Any] = []  # key, time, key, time, ...
        # > 0 while backward or an optimizer step runs: the primitives they call on arrays (or on
        # tensors, under create_graph) belong to that range, not to the forward pass.
        self.quiet = 0
        self.thread = threading.get_ident()
        self.running = False
        self.started = 0.0
        self.wall_time = 0.0
        self.stats: dict[Key, list[float]] = {}
        self.events: list[tuple[Key, float, float]] = []

    def start(self) -> None:
        self.running = True
        ACTIVE.append(self)
        self.started = time.perf_counter()
        self.log += [(OTHER, USER), self.started]

    def stop(self) -> None:
        """End the block: ranges still open (a ``record_function`` never exited) end with it."""
        if not self.running:
            return
        self.log += [STOP, time.perf_counter()]
        self.running = False
        ACTIVE.remove(self)
        self.summarise()

    def open(self, key: Key) -> None:
        self.log += [key, time.perf_counter()]

    def close(self) -> None:
        self.log += [CLOSE, time.perf_counter()]

    def summarise(self) -> None:
        """Replay the log into ``stats`` and ``events``, then drop it."""
        stats, events = self.stats, self.events
        stack: list[list[Any]] = []  # [key, start, children seconds], innermost last
        log = self.log
        for i in range(0, len(log), 2):
            marker, moment = log[i], log[i + 1]
            if marker is CLOSE or marker is STOP:
                # A stray CLOSE never ends the bottom range: only STOP does.
                for _ in range(len(stack) if marker is STOP else min(1, len(stack) - 1)):
                    key, start, children = stack.pop()
                    duration = moment - start
                    row = stats.get(key)
                    if row is None:
                        stats[key] = [1, duration - children, duration]
                    else:
                        row[0] += 1
                        row[1] += duration - children
                        row[2] += duration
                    if stack:
                        stack[-1][2] += duration
                    events.append((key, start, duration))
            else:
                stack.append([marker, moment, 0.0])
        self.wall_time = events[-1][2]  # the bottom range closes last
        self.log = []
