"""Side-by-side training benchmarks of the performance issue (issue 4).

Five workloads (W1 MLP, W2 tiny MLP, W3 CNN, W4 char Transformer, W5 char LSTM), each built in
backprop, in PyTorch (when installed) and, for W1-W4, in hand-written NumPy (the floor), from the
same initial weights and batches. ``python -m benchmarks`` runs everything and writes
``benchmarks/results.md``; ``python -m benchmarks --quick`` is a short smoke run.

Modules: ``common`` (library adapters, weight generation, timing), ``w1_mlp``, ``w2_tiny``,
``w3_cnn``, ``w4_transformer``, ``w5_lstm`` (one per workload), ``numpy_floor`` (NumPy by hand),
``harness`` (agreement check, interleaved timing, report), ``memory`` (peak RSS in a subprocess),
``alone`` (PyTorch alone in a subprocess under a given OpenMP wait policy and thread count).
"""

import os

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")

# PyTorch's OpenMP threads spin after each parallel region; on a 2-core machine that steals the
# next contender's time, so the side-by-side run makes them sleep (PASSIVE). It must be set before
# torch is first imported, hence here. BENCH_TORCH_OMP_POLICY=default leaves libgomp's default
# (spin briefly, then sleep): the subprocesses that time PyTorch alone use it.
if os.environ.get("BENCH_TORCH_OMP_POLICY") != "default":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
