"""Usage: python -m benchmarks.threads [--rounds 5] [--quick] [--out FILE] [--wait SECONDS]

The ``backprop`` command's thread policy (issue 13, item 9; ``backprop.threads``) against one
and two BLAS threads, on a quiet machine and with one core kept busy by ``yes > /dev/null``
(started and stopped here). Each workload is the command run as a fresh process:

- profile: ``backprop profile --model cnn --steps 50``, the ms per step it prints;
- generate: ``backprop generate CKPT`` (500 characters) from a small train-lm checkpoint made
  here first (the default model, 20 steps on the README's text), wall seconds of the command;
- epoch: ``backprop train --data fashion-mnist --epochs 1`` (the embedded digits where Debian's
  dataset-fashion-mnist is not installed), the epoch's seconds from its history.json.

Settings: ``--threads 1``, ``--threads 2`` and no flag (the policy), with the BLAS, Numba and
``BACKPROP_NUM_THREADS`` variables removed so the policy decides. A round runs a workload under
the three settings in turn, so drifts in load hit all alike, after waiting for other
processes to leave the cores alone; 'other load' is the cores they used during the round
(/proc/stat minus the commands' own CPU time, ``yes`` included), and a round where it was not
as intended (under 0.3 quiet, 0.7 to 1.3 busy: the machine may be shared) is dropped and run
again (at most twice the rounds asked; if none was as intended, those run are reported, with
the load marked 'not reached'). Figures are medians over the kept rounds; each ratio is a
setting's median over the best of the three under the same load.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from . import harness

SETTINGS = {"1 thread": ["--threads", "1"], "2 threads": ["--threads", "2"], "policy": []}
FASHION = Path("/usr/share/datasets/fashion-mnist")
# Removed from a run's environment so that the policy (or the library's default) decides.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS", "BACKPROP_NUM_THREADS")
_UNITS = {"s": 1e3, "ms": 1.0, "us": 1e-3}


def command(*argv: str) -> str:
    """Run ``backprop ARGV`` with the thread variables cleared; its standard output."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    done = subprocess.run([sys.executable, "-m", "backprop", *argv], env=env, text=True,
                          capture_output=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"backprop {' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def profile_ms(out: str) -> float:
    """``cnn on digits, ..., 2 BLAS threads: 4.8ms per step`` -> 4.8"""
    value, unit = re.search(r": ([\d.]+)(s|ms|us) per step", out).groups()
    return float(value) * _UNITS[unit]


def epoch_s(folder: Path) -> float:
    """The first epoch's seconds, from the run's history.json (the printed figure has one
    decimal)."""
    return json.loads(next(folder.rglob("history.json")).read_text())[0]["seconds"]


def workloads(folder: Path, quick: bool) -> dict[str, tuple[str, Callable[[list[str]], float]]]:
    """name -> (unit, run with extra flags -> the figure)."""
    text = folder / "text.txt"
    text.write_text(Path(__file__).resolve().parents[1].joinpath("README.md").read_text() * 4)
    lm = folder / "lm"
    command("train-lm", "--text-file", str(text), "--max-iters", "20", "--warmup-iters", "5",
            "--eval-interval", "20", "--eval-windows", "8", "--sample-length", "10",
            "--out", str(lm), "--no-progress", "--threads", "1")
    data = ["--data", "fashion-mnist"] if FASHION.is_dir() and not quick else []
    steps, length = ("5", "50") if quick else ("50", "500")

    def generate(flags: list[str]) -> float:
        start = time.perf_counter()
        command("generate", str(lm / "checkpoint.safetensors"), "--length", length, *flags)
        return time.perf_counter() - start

    def epoch(flags: list[str]) -> float:
        run = folder / "run"
        shutil.rmtree(run, ignore_errors=True)
        command("train", *data, "--epochs", "1", "--no-progress", "--out", str(run), *flags)
        return epoch_s(run)

    return {
        "profile --model cnn": ("ms/step", lambda flags: profile_ms(command(
            "profile", "--model", "cnn", "--steps", steps, "--rows", "1", *flags))),
        "generate": ("s", generate),
        f"epoch ({'fashion-mnist' if data else 'digits'})": ("s", epoch),
    }


def policy_threads() -> int:
    """The BLAS threads the policy picks now, as ``backprop profile`` reports them."""
    out = command("profile", "--hidden", "8", "--steps", "1", "--rows", "1")
    return int(re.search(r"(\d+) BLAS threads?:", out).group(1))


# Cores other processes may use during a round for it to count (the machine may be shared):
# none on the quiet machine, the `yes` process alone on the busy one.
LOADS = {"quiet": (0.0, 0.3), "one core busy": (0.7, 1.3)}


@contextlib.contextmanager
def one_core_busy(busy: bool) -> Iterator[None]:
    """``yes > /dev/null`` for the length of the block (or nothing)."""
    if not busy:
        yield
        return
    process = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # running before the policy looks
        yield
    finally:
        process.kill()
        process.wait()


def one_round(load: str, run: Callable[[list[str]], float]) -> tuple[dict[str, float], float]:
    """A workload under every setting once: the figures and the cores other processes used."""
    harness.wait_for_quiet(120)  # neighbours' jobs gone (within the run's waiting budget)
    with one_core_busy(load != "quiet"):
        start = harness.cpu_now(children=True)
        figures = {setting: run(flags) for setting, flags in SETTINGS.items()}
        return figures, harness.other_load(start, children=True)


def measure(rounds: int, quick: bool, log: Callable[[str], None] = print) -> list[dict]:
    """One row per workload and load: medians per setting over the rounds whose other load was
    as intended, ratios to the best, the policy's pick and the other load."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = workloads(Path(tmp), quick)
        for load, (low, high) in LOADS.items():
            harness.wait_for_quiet(120)
            with one_core_busy(load != "quiet"):
                picked = policy_threads()
            for name, (unit, run) in runs.items():
                kept, dropped = [], []
                while len(kept) < rounds and len(dropped) < 2 * rounds:
                    figures, other = one_round(load, run)
                    (kept if low <= other <= high else dropped).append((figures, other))
                    log(f"{name}, {load}: other processes used {other:.2f} cores; "
                        + "  ".join(f"{s} {v:.3g}" for s, v in figures.items()))
                label = load
                if not kept:  # the machine never had the intended load: say so, keep the rest
                    label = f"{load}, not reached"
                    kept, dropped = dropped, []
                medians = {s: statistics.median(k[0][s] for k in kept) for s in SETTINGS}
                best = min(medians.values())
                rows.append({"workload": name, "unit": unit, "load": label, "medians": medians,
                             "ratios": {s: m / best for s, m in medians.items()},
                             "picked": picked, "rounds": len(kept), "dropped": len(dropped),
                             "other_load": statistics.median(k[1] for k in kept)})
    return rows


def report(rows: list[dict], rounds: int) -> str:
    lines = [
        "# Threads on a quiet and a busy machine (issue 13, item 9)", "",
        f"`python -m benchmarks.threads --rounds {rounds}`; "
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}, Python {platform.python_version()}, "
        f"{platform.machine()} with {os.cpu_count()} cores.", "",
        __doc__.split("\n\n", 1)[1].strip(), "",
        "| workload | load | 1 thread | 2 threads | policy (threads picked) | policy / best "
        "| other load (cores) | rounds (dropped) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        m, q = r["medians"], r["ratios"]
        lines.append(f"| {r['workload']} ({r['unit']}) | {r['load']} | "
                     f"{m['1 thread']:.3g} ({q['1 thread']:.2f}x) | "
                     f"{m['2 threads']:.3g} ({q['2 threads']:.2f}x) | "
                     f"{m['policy']:.3g} ({r['picked']}) | {q['policy']:.2f}x | "
                     f"{r['other_load']:.2f} | {r['rounds']} ({r['dropped']}) |")
    worst = max(r["ratios"]["policy"] for r in rows)
    lines += ["", f"Worst policy / best: {worst:.2f}x (the aim: at most 1.3x)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.threads",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="one round, short workloads, the digits epoch (a smoke run)")
    parser.add_argument("--out", help="write the Markdown report here (default: "
                        "benchmarks/threads_results.md, nothing for --quick)")
    parser.add_argument("--wait", type=float, default=1800,
                        help="seconds the whole run may wait for other processes to leave the "
                        "cores alone (default: 1800)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so `yes` is stopped on a kill too
    harness.WAIT_BUDGET["seconds"] = args.wait
    text = report(measure(rounds, args.quick), rounds)
    print()
    print(text)
    out = args.out or (None if args.quick else Path(__file__).with_name("threads_results.md"))
    if out:
        Path(out).write_text(text)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
