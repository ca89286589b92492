"""Where a training step's time goes: per op, in forward, backward and the optimizer step.

PyTorch's names: ``profile``, ``record_function``, ``ProfilerActivity``, and rows from
``prof.key_averages()`` rendered by ``.table(sort_by=..., row_limit=...)``. Forward rows are
the ops (``linear``, ``relu``), backward rows the nodes (``LinearBackward``) plus
``autograd::engine`` (the engine's own work between nodes), optimizer rows
``Optimizer.step#SGD.step``; ``[other]`` is the time outside all of them. Self times add up to
the wall time of the block. From the command line: ``backprop profile``.

>>> import backprop as bp
>>> model = bp.nn.Linear(3, 1)
>>> with bp.profiler.profile() as prof:
...     model(bp.ones(2, 3)).sum().backward()
>>> sorted({row.phase for row in prof.key_averages()})
['backward', 'forward', 'user']
"""

from .profile import ProfilerActivity, profile, record_function
from .table import EventList, FunctionEventAvg

__all__ = ["EventList", "FunctionEventAvg", "ProfilerActivity", "profile", "record_function"]
