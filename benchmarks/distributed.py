"""Data-parallel scaling: step time, samples/second and all-reduce time of W1 (MLP) and W3 (CNN)
trained with ``bp.nn.parallel.DistributedDataParallel`` by 1 and 2 MPI processes.

Usage: python -m benchmarks.distributed [--steps N] [--out FILE]      (or ``make scaling``)

The parent launches this same module under ``mpiexec`` once per configuration (the ``--worker``
mode below): 1 process with one BLAS thread, 1 process with two BLAS threads (one process using
both cores: the fair baseline on a 2-core machine) and 2 processes with one BLAS thread each.
Every rank trains the workload's own model from its own initial weights on the same global
batches (W1: 128 rows, W3: 64); with N ranks each takes its 1/N of the rows of every batch, so the
ranks together do the work of the 1-process run. Rank 0 prints one JSON line; the parent writes a
Markdown table (default ``benchmarks/distributed_results.md``).

The all-reduce time is measured without touching the library: in each worker the names that
``backprop.nn.parallel.reducer`` imported (``wait_all``, ``start_all_reduce``, ``all_done``) are
replaced in that module's namespace by timing wrappers. ``wait_all`` is where the last gradient
hook of a backward blocks until every bucket's all-reduce has finished: the time a rank spends
waiting for the exchange (and for the slower rank) beyond what overlapped with backward.

    mpiexec -n 2 python -m benchmarks.distributed --worker W1 --steps 3 --blocks 2
                                                        (one configuration, JSON on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import harness, w1_mlp, w3_cnn
from .common import CapturingLib, Problem, make_library_step

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "distributed_results.md"
LAUNCH_LIMIT_S = 300  # a configuration still running after this is called hung


@dataclass(frozen=True)
class Workload:
    """One workload of the study, as the benchmark suite defines it."""

    module: Any            # benchmarks.w1_mlp or w3_cnn: make_problem() and build()
    global_batch: int      # rows of every batch, summed over the ranks
    steps_per_block: int   # default timed steps per block (about 0.2-0.5 s on one core)


WORKLOADS = {"W1": Workload(w1_mlp, 128, 100), "W3": Workload(w3_cnn, 64, 40)}


@dataclass(frozen=True)
class Configuration:
    """How many processes, and how many BLAS threads each may use."""

    label: str
    processes: int
    threads: int


CONFIGURATIONS = (Configuration("1 process, 1 thread", 1, 1),
                  Configuration("1 process, 2 BLAS threads", 1, 2),
                  Configuration("2 processes, 1 thread each", 2, 1))


# ---------------------------------------------------------------- the worker (one rank)

class ReducerTimer:
    """Seconds spent in the reducer's MPI calls, by wrapping the names ``reducer.py`` imported
    (patching ``backprop.distributed.waiting`` itself would miss them: the reducer holds its
    own references)."""

    WRAPPED = ("wait_all", "start_all_reduce", "all_done")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.WRAPPED, 0.0)

    def install(self) -> None:
        from backprop.nn.parallel import reducer

        for name in self.WRAPPED:
            setattr(reducer, name, self._timed(name, getattr(reducer, name)))

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        seconds = self.seconds

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start

        return timed

    def reset(self) -> None:
        for name in self.seconds:
            self.seconds[name] = 0.0

    @property
    def wait(self) -> float:
        return self.seconds["wait_all"]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def shard(problem: Problem, rank: int, world_size: int) -> Problem:
    """This rank's rows of every batch: rows ``[rank * b, (rank + 1) * b)``, ``b = batch / N``."""
    batch = problem.config["batch"]
    if batch % world_size:
        raise ValueError(f"shard: the global batch of {batch} rows does not split evenly over "
                         f"{world_size} ranks; use a world size that divides it")
    rows = batch // world_size
    lo, hi = rank * rows, (rank + 1) * rows
    batches = [tuple(array[lo:hi] for array in batch_arrays) for batch_arrays in problem.batches]
    return Problem(problem.name, problem.params, batches, {**problem.config, "batch": rows})


def run_worker(name: str, steps: int, blocks: int, warmup: int) -> dict[str, Any] | None:
    """Train ``name`` data-parallel over this job's ranks and time it; rank 0 gets the figures
    of all ranks (other ranks get None)."""
    import backprop as bp
    import backprop.distributed as dist
    from backprop.nn.parallel import DistributedDataParallel

    workload = WORKLOADS[name]
    rank, world_size = dist.init()
    timer = ReducerTimer()
    timer.install()
    problem = shard(workload.module.make_problem(batch=workload.global_batch), rank, world_size)
    lib = CapturingLib()  # the workload's own build(): its model, weights and optimizer
    workload.module.build(lib, problem)
    model = DistributedDataParallel(lib.model)
    step = make_library_step(lib, model, lib.optimizer, lib.F.cross_entropy, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
    for _ in range(warmup):
        step()
    step_s, wait_s, calls_s = [], [], []
    loss = None
    for _ in range(blocks):
        dist.barrier()  # every rank starts the block together
        timer.reset()
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        step_s.append((time.perf_counter() - start) / steps)
        wait_s.append(timer.wait / steps)
        calls_s.append(timer.total / steps)

    # Each rank's medians, gathered by a sum over slots (one slot per rank).
    slots = np.zeros((3, world_size))
    slots[:, rank] = [statistics.median(step_s), statistics.median(wait_s),
                      statistics.median(calls_s)]
    mine = bp.tensor(slots)
    dist.all_reduce(mine)
    checksum = sum(float(np.abs(p.detach().numpy()).sum(dtype=np.float64))
                   for p in lib.model.parameters())
    spread = bp.tensor(np.array([checksum, -checksum]))
    dist.all_reduce(spread, op="max")  # max and -min of the ranks' parameter checksums
    if rank != 0:
        return None
    by_rank = mine.numpy() * 1e3
    spread_values = spread.numpy()
    step_ms = float(by_rank[0, 0])
    return {
        "workload": name, "world_size": world_size,
        "threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0),
        "global_batch": workload.global_batch, "rows_per_rank": problem.config["batch"],
        "steps_per_block": steps, "blocks": blocks, "warmup": warmup,
        "step_ms": step_ms, "step_ms_by_rank": by_rank[0].tolist(),
        "step_ms_blocks": [s * 1e3 for s in step_s],
        "samples_per_s": workload.global_batch / (step_ms / 1e3),
        "allreduce_wait_ms": float(by_rank[1].mean()),
        "allreduce_wait_ms_by_rank": by_rank[1].tolist(),
        "allreduce_share": float(by_rank[1].mean()) / step_ms,
        "reducer_mpi_ms": float(by_rank[2].mean()),
        "ranks_agree": bool(spread_values[0] == -spread_values[1]),
        "final_loss": float(loss.item()),
    }


# ---------------------------------------------------------------- the parent

def mpiexec_path() -> str:
    """The mpiexec of the MPI that mpi4py loads: the mpich wheel puts it beside Python."""
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.is_file() else shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("benchmarks.distributed: no mpiexec beside Python or on PATH; "
                                "install the [mpi] extra (pip install 'backprop[mpi]')")
    return found


def worker_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT),
                                                    env.get("PYTHONPATH", "")) if p)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    return env


def launch(name: str, processes: int, threads: int, steps: int, blocks: int,
           warmup: int) -> dict[str, Any]:
    """Run one configuration under ``mpiexec -n processes``; rank 0's JSON, with the cores that
    other processes used meanwhile (``other_load``) and the launch's wall time added."""
    command = [mpiexec_path(), "-n", str(processes), sys.executable, "-m",
               "benchmarks.distributed", "--worker", name, "--steps", str(steps),
               "--blocks", str(blocks), "--warmup", str(warmup)]
    before = harness.cpu_now(children=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=worker_env(threads), text=True,
                          capture_output=True, timeout=LAUNCH_LIMIT_S, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.distributed: {' '.join(command)} failed with exit "
                           f"status {done.returncode}:\n{done.stdout}\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if len(lines) != 1:
        raise RuntimeError(f"benchmarks.distributed: expected one JSON line from rank 0 of "
                           f"{' '.join(command)}, got {len(lines)}:\n{done.stdout}")
    result = json.loads(lines[0])
    result["other_load"] = harness.other_load(before, children=True)
    result["launch_s"] = wall
    return result


def run(steps: int | None = None, blocks: int = 15, warmup: int | None = None, rounds: int = 3,
        wait_s: float = 300.0, workloads: tuple[str, ...] = ("W1", "W3"),
        log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every workload in every configuration, ``rounds`` times interleaved (A B C A B C, so a
    burst of load from elsewhere hits all alike); each configuration keeps its round with the
    lowest median step time. Before each launch the run waits (up to ``wait_s`` seconds in all)
    until other processes use under 0.3 cores."""
    harness.WAIT_BUDGET["seconds"] = wait_s
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for round_index in range(rounds):
        for name in workloads:
            n = steps or WORKLOADS[name].steps_per_block
            for config in CONFIGURATIONS:
                harness.wait_for_quiet(max_wait_s=60)
                result = launch(name, config.processes, config.threads, n, blocks,
                                warmup if warmup is not None else max(5, n // 2))
                result["configuration"] = config.label
                log(f"round {round_index + 1}/{rounds} {name} {config.label}: "
                    f"{result['step_ms']:.2f} ms/step, all-reduce wait "
                    f"{result['allreduce_wait_ms']:.3f} ms, other load "
                    f"{result['other_load']:.2f} cores")
                key = (name, config.label)
                if key not in best or result["step_ms"] < best[key]["step_ms"]:
                    best[key] = result
    return [best[(name, c.label)] for name in workloads for c in CONFIGURATIONS]


def report(results: list[dict[str, Any]], elapsed_s: float, load_before: tuple[float, ...],
           load_after: tuple[float, ...], rounds: int) -> str:
    import mpi4py
    from mpi4py import MPI

    mpi_library = " ".join(MPI.Get_library_version().splitlines()[0].split())
    lines = [
        "# Data-parallel scaling: W1 (MLP) and W3 (CNN) on 1 and 2 processes", "",
        (f"`python -m benchmarks.distributed` (`make scaling`); "
         f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()} with "
         f"{os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
         f"mpi4py {mpi4py.__version__} ({mpi_library}). Load average (1 min) "
         f"{load_before[0]:.2f} before the run and {load_after[0]:.2f} after; the whole run "
         f"took {elapsed_s:.0f} s. Code: {_code_version()}."), "",
        ("| workload | configuration | rows per rank | step (ms) | samples/s | speed-up vs 1 "
         "process, 1 thread | vs 1 process, 2 threads | all-reduce wait (ms/step) | "
         "all-reduce share of step | reducer MPI calls (ms/step) | other load (cores) |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r["workload"], r["configuration"]): r for r in results}
    for r in results:
        one = by_key.get((r["workload"], CONFIGURATIONS[0].label))
        two = by_key.get((r["workload"], CONFIGURATIONS[1].label))
        title = WORKLOADS[r["workload"]].module.TITLE.replace(" b", ", global batch ")
        lines.append(
            f"| {title} | {r['configuration']} | {r['rows_per_rank']} | {r['step_ms']:.2f} | "
            f"{r['samples_per_s']:,.0f} | {one['step_ms'] / r['step_ms']:.2f}x | "
            f"{two['step_ms'] / r['step_ms']:.2f}x | {r['allreduce_wait_ms']:.3f} | "
            f"{100 * r['allreduce_share']:.1f}% | {r['reducer_mpi_ms']:.3f} | "
            f"{r['other_load']:.2f} |")
    two_ranks = [r for r in results if r["world_size"] == 2]
    lines += ["", "## How it was measured", ""]
    lines += [f"- {note}" for note in (
        ("Each configuration is a fresh `mpiexec -n N python -m benchmarks.distributed --worker "
         "W` job (the mpiexec beside Python). `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS` and "
         "`MKL_NUM_THREADS` are 1 for every rank, except in the '1 process, 2 BLAS threads' "
         "baseline, where they are 2: one process using both cores."),
        ("Every configuration trains the workload's own model, initial weights and optimizer "
         "(`benchmarks/w1_mlp.py`: SGD with momentum; `w3_cnn.py`: Adam) wrapped in "
         "`bp.nn.parallel.DistributedDataParallel` (default 25 MB buckets: one bucket for "
         "each of these models), on the same 4 global batches in turn; with N ranks each rank "
         "takes its 1/N of the rows of every batch. One process still goes through the wrapper "
         "and a 1-rank all-reduce."),
        (f"Timing: {results[0]['warmup']} (W1) / {results[-1]['warmup']} (W3) warm-up steps, "
         f"then {results[0]['blocks']} blocks of {results[0]['steps_per_block']} (W1) / "
         f"{results[-1]['steps_per_block']} (W3) steps, each block started after a barrier; a "
         "step is zero_grad, forward, loss, backward (with the overlapped gradient all-reduce) "
         "and the optimizer step. Step time is rank 0's median over blocks of a block's mean "
         "step; samples/s is the global batch divided by it. Each configuration ran "
         f"{rounds} times, interleaved with the others, and the table keeps its round with the "
         "lowest step time."),
        ("All-reduce wait: the reducer's call to `wait_all` (the last gradient hook of each "
         "backward blocking until every bucket's non-blocking all-reduce is complete) is timed "
         "by replacing that name in `backprop.nn.parallel.reducer`'s namespace with a timing "
         "wrapper, in the worker only; no library code is changed. It is the per-step median "
         "over blocks, averaged over the ranks, and counts the exchange not hidden behind "
         "backward plus any wait for the slower rank; the share is it over the step time. "
         "'Reducer MPI calls' adds the time spent starting the all-reduces and polling them "
         "during backward (`start_all_reduce`, `all_done`)."),
        ("Other load: cores used by other processes during the configuration's job (machine "
         "busy time from /proc/stat minus the job's own CPU time, over the job's wall time, "
         "Python start-up included). Before each job the run waits (up to 60 s, "
         "and a few minutes in all) until other processes use under 0.3 cores."),
    )]
    if two_ranks:
        lines.append("- Per rank, 2 processes: " + "; ".join(
            f"{r['workload']} step {', '.join(f'{v:.2f}' for v in r['step_ms_by_rank'])} ms, "
            f"all-reduce wait {', '.join(f'{v:.3f}' for v in r['allreduce_wait_ms_by_rank'])} "
            f"ms (rank 0, rank 1); parameters equal on both ranks after training: "
            f"{'yes' if r['ranks_agree'] else 'NO'}" for r in two_ranks) + ".")
    return "\n".join(lines) + "\n"


def _code_version() -> str:
    """The commit measured, and whether ``src/`` differed from it (read-only git calls)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    changed = git("status", "--porcelain", "--", "src")
    return f"commit {commit}" + (", with uncommitted changes in src/" if changed else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per block (default: 100 for W1, 40 for W3)")
    parser.add_argument("--blocks", type=int, default=15, help="timed blocks per configuration")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps first (default: half a block, at least 5)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each configuration runs (the fastest is kept)")
    parser.add_argument("--wait", type=float, default=300.0,
                        help="seconds the run may spend in all waiting for a quiet machine")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown report")
    parser.add_argument("--worker", choices=sorted(WORKLOADS),
                        help="run one workload as a rank of this mpiexec job and print JSON")
    args = parser.parse_args(argv)
    if args.worker:
        steps = args.steps or WORKLOADS[args.worker].steps_per_block
        result = run_worker(args.worker, steps, args.blocks,
                            args.warmup if args.warmup is not None else max(5, steps // 2))
        if result is not None:
            print(json.dumps(result), flush=True)
        return
    load_before = os.getloadavg()
    started = time.perf_counter()
    results = run(args.steps, args.blocks, args.warmup, args.rounds, args.wait)
    elapsed = time.perf_counter() - started
    text = report(results, elapsed, load_before, os.getloadavg(), args.rounds)
    args.out.write_text(text)
    print(text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
