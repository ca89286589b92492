"""Where a W4 (char Transformer, batch 16) training step spends its time, in backprop and PyTorch.

Usage: ``PYTHONPATH=.:src python -m benchmarks.profile_w4 [--steps 20] [--threads 2] [--rows 25]``

The W3 profile's pieces (``benchmarks.profile_w3``) applied to W4: both libraries build W4 from
the same weights and batches (``benchmarks.w4_transformer``), warm up, run ``--steps`` steps under
their own profiler (``bp.profiler``: per op and phase; ``torch.profiler``: per ATen op) and print
the top ``--rows`` rows by self time. Last, both are timed unprofiled, interleaved: median wall
ms per step, and the main thread's CPU ms per step (``time.thread_time``), which a loaded
machine disturbs less than wall time (helper threads, BLAS's or OpenMP's, are not counted).
"""

from __future__ import annotations

from . import w4_transformer
from .profile_w3 import compare


def main(argv: list[str] | None = None) -> None:
    compare(w4_transformer, argv, __doc__.splitlines()[0], rows=25)


if __name__ == "__main__":
    main()
