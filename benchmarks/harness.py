"""The benchmark run: agreement check, interleaved timing, memory, import time, GFLOP/s, scaling,
and the Markdown report."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import common, numpy_floor, w1_mlp, w2_tiny, w3_cnn, w4_transformer, w5_lstm

MODULES = {"W1": w1_mlp, "W2": w2_tiny, "W3": w3_cnn, "W4": w4_transformer, "W5": w5_lstm}
# Small sizes for the test suite (same architectures, smaller batches/context).
SMALL: dict[str, dict[str, int]] = {"W1": {"batch": 8}, "W2": {"batch": 8}, "W3": {"batch": 4},
                                    "W4": {"batch": 2, "ctx": 16},
                                    "W5": {"batch": 2, "seq": 8, "hidden": 16}}
REL_TOL = 1e-3  # float32 agreement of the losses
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def contenders_for(workload: str, libs: list[str] | None = None) -> list[str]:
    names = list(libs if libs is not None else common.available_libs())
    if workload in numpy_floor.AVAILABLE and "numpy" not in names:
        names.append("numpy")
    return names


def build_contender(name: str, problem: common.Problem) -> Callable[[], Any]:
    if name == "numpy":
        return numpy_floor.build(problem)
    return MODULES[problem.name].build(common.Lib(name), problem)


# ---------------------------------------------------------------- load from other processes

def cpu_now(children: bool = False) -> tuple[float, float, float]:
    """(wall s, whole machine's busy CPU s, this process's CPU s, all threads); with
    ``children``, the CPU s of its finished child processes instead."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = float("nan")
    t = os.times()
    own = t.children_user + t.children_system if children else t.user + t.system
    return time.perf_counter(), busy, own


def other_load(start: tuple[float, float, float], children: bool = False) -> float:
    """Cores used by other processes since ``start`` (NaN where /proc/stat is missing): other
    than this one, or with ``children`` other than the child processes it waited for."""
    wall, busy, own = cpu_now(children)
    return max(0.0, ((busy - start[1]) - (own - start[2])) / max(wall - start[0], 1e-9))


# Seconds a whole run may spend waiting for quiet (set by run()); then it times regardless.
WAIT_BUDGET = {"seconds": 0.0}


def wait_for_quiet(max_wait_s: float, threshold: float = 0.3, probe_s: float = 1.0) -> float:
    """Wait (up to ``max_wait_s`` and the run's remaining WAIT_BUDGET) until other processes use
    under ``threshold`` cores; return the last measured load. NumPy's two OpenBLAS threads slow
    down many-fold when another process holds one of two cores, so timing under load measures
    the neighbours."""
    t0 = time.perf_counter()
    deadline = t0 + min(max_wait_s, WAIT_BUDGET["seconds"])
    try:
        while True:
            start = cpu_now()
            time.sleep(probe_s)
            load = other_load(start)
            if not load > threshold or time.perf_counter() >= deadline:
                return load
    finally:
        WAIT_BUDGET["seconds"] = max(0.0, WAIT_BUDGET["seconds"] - (time.perf_counter() - t0))


# ---------------------------------------------------------------- agreement and timing

def agreement(steps: dict[str, Callable[[], Any]], n: int) -> dict[str, Any]:
    """Run ``n`` steps of each contender; compare every step's loss with the reference
    (PyTorch if present, else NumPy, else backprop) at relative tolerance REL_TOL."""
    losses = {name: [common.to_float(step()) for _ in range(n)] for name, step in steps.items()}
    ref = next(r for r in ("torch", "numpy", "backprop") if r in losses)
    worst = {}
    for name, values in losses.items():
        a, b = np.array(values), np.array(losses[ref])
        worst[name] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return {"reference": ref, "losses": losses, "max_rel_diff": worst,
            "ok": all(v <= REL_TOL for v in worst.values())}


def block_sizes(steps: dict[str, Callable[[], Any]], warmup: int,
                block_s: float) -> dict[str, int]:
    """After ``warmup`` steps each, how many steps of each contender take about ``block_s``."""
    blocks = {}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        t0 = time.perf_counter()
        step()
        blocks[name] = max(1, int(block_s / max(time.perf_counter() - t0, 1e-6)))
    return blocks


def time_interleaved(steps: dict[str, Callable[[], Any]], rounds: int, warmup: int = 3,
                     block_s: float = 0.05, budget_s: float | None = None) -> dict[str, float]:
    """Median seconds per step. Each round runs a block of steps of every contender in turn
    (A B C A B C ...), so drifts in machine load hit all of them alike. With ``budget_s``, no
    new round starts once the rounds took that long and three (or ``rounds``) are done: big
    sizes of the cost curves take seconds a step."""
    blocks = block_sizes(steps, warmup, block_s)
    samples: dict[str, list[float]] = {name: [] for name in steps}
    start = time.perf_counter()
    for done in range(rounds):
        if budget_s is not None and done >= 3 and time.perf_counter() - start > budget_s:
            break
        for name, step in steps.items():
            k = blocks[name]
            t0 = time.perf_counter()
            for _ in range(k):
                step()
            samples[name].append((time.perf_counter() - t0) / k)
    return {name: statistics.median(v) for name, v in samples.items()}


@dataclass
class WorkloadResult:
    name: str
    title: str
    check: dict[str, Any]
    median_s: dict[str, float]
    memory: dict[str, dict[str, int]] = field(default_factory=dict)
    other_load: float = float("nan")
    alone: dict[str, float] = field(default_factory=dict)


def timed_under_quiet(steps: dict[str, Callable[[], Any]], rounds: int, block_s: float,
                      attempts: int, max_wait_s: float) -> tuple[dict[str, float], float]:
    """Time the contenders, waiting for a quiet machine first; when other processes still took
    over 0.3 cores during the timing, try again (up to ``attempts``) and keep the attempt with the
    least outside load. Returns the medians and that load (cores)."""
    best: tuple[dict[str, float], float] | None = None
    for _ in range(attempts):
        if max_wait_s > 0:
            wait_for_quiet(max_wait_s)
        start = cpu_now()
        medians = time_interleaved(steps, rounds, block_s=block_s)
        load = other_load(start)
        if best is None or load < best[1]:
            best = (medians, load)
        if not load > 0.3:
            break
    assert best is not None
    return best


def run_workload(name: str, libs: list[str] | None, check_steps: int, rounds: int,
                 small: bool = False, block_s: float = 0.05, attempts: int = 1,
                 max_wait_s: float = 0.0) -> WorkloadResult:
    mod = MODULES[name]
    problem = mod.make_problem(**(SMALL[name] if small else {}))
    steps = {c: build_contender(c, problem) for c in contenders_for(name, libs)}
    check = agreement(steps, check_steps)
    result = WorkloadResult(name, mod.TITLE, check, {})
    if rounds:
        result.median_s, result.other_load = timed_under_quiet(steps, rounds, block_s, attempts,
                                                               max_wait_s)
    return result


def peak_memory(workload: str, contender: str, steps: int, small: bool = False) -> dict[str, int]:
    cmd = [sys.executable, "-m", "benchmarks.memory", workload, contender, str(steps)]
    if small:
        cmd.append("small")
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True,
                         env=_env()).stdout
    return json.loads(out.strip().splitlines()[-1])


def alone_time(workload: str, contender: str, policy: str, threads: int, rounds: int,
               small: bool = False) -> float:
    """Median s/step of one contender alone in a fresh process; for PyTorch ``policy`` is
    "default" (libgomp's own: spin briefly, then sleep) or an OMP_WAIT_POLICY value."""
    return float(alone_run(workload, contender, policy, threads, rounds, small)["median_s"])


def alone_run(workload: str, contender: str, policy: str, threads: int, rounds: int,
              small: bool = False, options: list[str] | tuple[str, ...] = (),
              drop_env: tuple[str, ...] = ()) -> dict[str, Any]:
    """``alone_time``'s run with ``benchmarks.alone``'s further ``options`` (sizes, timing) and
    the variables ``drop_env`` removed from the child's environment; the child's JSON."""
    env = {k: v for k, v in _env().items() if k not in drop_env}
    if policy == "default":
        env.pop("OMP_WAIT_POLICY", None)
        env["BENCH_TORCH_OMP_POLICY"] = "default"
    else:
        env["OMP_WAIT_POLICY"] = policy
    cmd = [sys.executable, "-m", "benchmarks.alone", workload, contender, str(threads),
           str(rounds)]
    if small:
        cmd.append("small")
    done = subprocess.run([*cmd, *options], cwd=ROOT, capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"alone_run: {' '.join(cmd[2:])} {' '.join(options)} failed "
                           f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# (label, contender, OpenMP policy, threads) of the "alone" table
ALONE = (("backprop", "backprop", "PASSIVE", 2), ("numpy", "numpy", "PASSIVE", 2),
         ("torch, default policy, 2 threads", "torch", "default", 2),
         ("torch, PASSIVE, 2 threads", "torch", "PASSIVE", 2),
         ("torch, default policy, 1 thread", "torch", "default", 1))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    src = os.path.join(ROOT, "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, src, env.get("PYTHONPATH")) if p)
    return env


# ---------------------------------------------------------------- machine figures

def import_time(module: str, repeats: int = 3) -> float:
    """Median wall time of ``import module`` in a fresh interpreter (seconds)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, check=True, env=_env()).stdout
        times.append(float(out.strip()))
    return statistics.median(times)


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """Measured float32 GFLOP/s of a large np.matmul (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)
    best = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2.0 * n ** 3 / best / 1e9


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def linearity(xs: list[float], ts: list[float]) -> dict[str, float]:
    """Does step time grow at most linearly? Fit t = a + b*x (reported), and take the worst
    ratio of time growth to size growth between consecutive sizes: <= 1.12 (a doubling of the
    size costs at most 2.24x the time) counts as linear growth; a fixed per-step overhead makes
    small sizes grow less than proportionally, which is fine."""
    x, t = np.array(xs, float), np.array(ts, float)
    b, a = np.polyfit(x, t, 1) if len(x) >= 2 else (0.0, float(t[0]))
    resid = float(np.max(np.abs(t - (a + b * x)) / t))
    growth = float(np.max((t[1:] / t[:-1]) / (x[1:] / x[:-1]))) if len(x) >= 2 else 1.0
    return {"intercept_ms": a * 1e3, "ms_per_unit": b * 1e3, "max_rel_resid": resid,
            "worst_growth": growth, "linear": bool(growth <= 1.12)}


def scaling(libs: list[str] | None, batches: list[int], depths: list[int], rounds: int,
            block_s: float = 0.03, passes: int = 2, max_wait_s: float = 0.0) -> dict[str, Any]:
    """W1 step time against batch size and depth. The sweep runs ``passes`` times and keeps each
    point's smallest median: a burst of load from other users of a shared machine during one
    point would otherwise bend the curve."""
    result: dict[str, Any] = {"batch": {}, "depth": {}, "max_other_load": 0.0}
    for key, values in (("batch", batches), ("depth", depths)):
        per: dict[str, list[float]] = {}
        for v in values:
            problem = (w1_mlp.make_problem(batch=v) if key == "batch"
                       else w1_mlp.make_problem(hidden=v))
            steps = {c: build_contender(c, problem) for c in contenders_for("W1", libs)}
            best: dict[str, float] = {}
            for _ in range(passes):
                medians, load = timed_under_quiet(steps, rounds, block_s, 2 if max_wait_s else 1,
                                                  max_wait_s)
                result["max_other_load"] = max(result["max_other_load"], load)
                for c, t in medians.items():
                    best[c] = min(t, best.get(c, t))
            for c, t in best.items():
                per.setdefault(c, []).append(t)
        result[key] = {"values": values, "median_s": per,
                       "fit": {c: linearity(values, ts) for c, ts in per.items()}}
    return result


# ---------------------------------------------------------------- report

def _ms(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e3:.3f}" if t < 1e-3 else f"{t * 1e3:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def workload_table(results: list[WorkloadResult]) -> list[str]:
    has_mem = any(r.memory for r in results)
    head = ("| workload | contender | median ms/step | vs PyTorch | vs NumPy floor "
            "| loss agreement |")
    rule = "|---|---|---|---|---|---|"
    if has_mem:
        head += " peak RSS MB | RSS growth MB |"
        rule += "---|---|"
    lines = [head, rule]
    for r in results:
        torch_t, numpy_t = r.median_s.get("torch"), r.median_s.get("numpy")
        for c in r.check["losses"]:
            t = r.median_s.get(c)
            row = (f"| {r.title} | {c} | {_ms(t)} | {_ratio(t, torch_t)} | "
                   f"{_ratio(t, numpy_t)} | {r.check['max_rel_diff'][c]:.1e} |")
            if has_mem:
                m = r.memory.get(c)
                row += (f" {m['peak_kb'] / 1024:.0f} | {(m['peak_kb'] - m['base_kb']) / 1024:.1f} |"
                        if m else " - | - |")
            lines.append(row)
    return lines


def _paragraph(*parts: str) -> str:
    return "".join(parts)


def report(results: list[WorkloadResult], extra: dict[str, Any], quick: bool) -> str:
    torch_version = f", PyTorch {extra['torch_version']}" if extra.get("torch_version") else ""
    agree = "**all agree**." if all(r.check["ok"] for r in results) else "**MISMATCH**."
    lines = [
        f"# Benchmark results{' (quick run)' if quick else ''}",
        "",
        _paragraph(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on ",
                   f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), ",
                   f"Python {platform.python_version()}, NumPy {np.__version__}{torch_version}. ",
                   "float32, same initial weights and batches for every contender. Produced by ",
                   f"`python -m benchmarks{' --quick' if quick else ''}`. ", _accelerator()),
        "",
        _paragraph("PyTorch runs with `torch.set_num_threads(2)` and `OMP_WAIT_POLICY=PASSIVE` ",
                   "(set before torch is imported), so its OpenMP threads sleep instead of ",
                   "spinning and do not slow the contender timed after it. Contenders are timed ",
                   "interleaved (a block of steps of each in turn, repeated) after warm-up; the ",
                   "figure is the median over the rounds. The machine may be shared: figures ",
                   "move by 10-20% between runs. PASSIVE slows PyTorch itself (1.5-2.5x here): ",
                   "*vs PyTorch* in this table is against PASSIVE PyTorch; the section *Each ",
                   "contender alone* compares with PyTorch under its default policy."),
        "",
        "## Step time",
        "",
        *workload_table(results),
        "",
        _paragraph("Outside load while timing (CPU cores used by other processes, from ",
                   "/proc/stat minus this process): ",
                   ", ".join(f"{r.name} {r.other_load:.2f}" for r in results if r.median_s),
                   ". Above 0.3 the figures are disturbed: NumPy's two OpenBLAS threads slow down ",
                   "many-fold when another process holds one of the two cores (PyTorch's ",
                   "passive OpenMP threads much less), so a full run waits for a quiet machine ",
                   "and retries a disturbed timing."),
        "",
        _paragraph("Loss agreement: the largest relative difference of the per-step losses over ",
                   f"the first {extra.get('check_steps')} steps against the reference (PyTorch, ",
                   f"else NumPy); all must be <= {REL_TOL:g}: {agree}"),
    ]
    alone_rows = [r for r in results if r.alone]
    if alone_rows:
        keys = [label for label, *_ in ALONE if any(label in r.alone for r in alone_rows)]
        lines += ["", "## Each contender alone (PyTorch by OpenMP wait policy)", "", _paragraph(
            "PASSIVE is needed side by side, but it is not PyTorch's default and it costs PyTorch ",
            "dearly: every parallel region wakes a sleeping thread. PyTorch under its default ",
            "policy cannot be timed side by side either: its spinning threads and NumPy's ",
            "spinning OpenBLAS threads fight over the two cores (in one process that made ",
            "PyTorch's W1 step 18 ms and NumPy's twice as slow). So here each contender runs ",
            "alone in a fresh process (median ms/step, 10 rounds of 0.1 s); *backprop vs ",
            "PyTorch* divides backprop's alone time by the faster of PyTorch's two 2-thread ",
            "figures (the targets pin PyTorch to 2 threads; the 1-thread column is for ",
            "information). This is the comparison a user running one of them would see."),
            "", "| workload | " + " | ".join(keys)
            + " | backprop vs best 2-thread PyTorch | backprop vs NumPy |",
            "|---|" + "---|" * len(keys) + "---|---|"]
        for r in alone_rows:
            two = [v for k, v in r.alone.items() if k.startswith("torch") and "2 threads" in k]
            bp_t = r.alone.get("backprop")
            lines.append(f"| {r.title} | " + " | ".join(_ms(r.alone.get(k)) for k in keys)
                         + f" | {_ratio(bp_t, min(two) if two else None)} | "
                         + f"{_ratio(bp_t, r.alone.get('numpy'))} |")
    if any(r.memory for r in results):
        lines += ["", _paragraph(
            "Memory: peak resident set (`VmHWM` of /proc/self/status, else `ru_maxrss`) of a ",
            "fresh subprocess per contender and workload ",
            f"({extra.get('memory_steps')} steps). *Peak RSS* is the whole process (interpreter, ",
            "library, data); *growth* is the peak after training minus the peak before the model ",
            "was built (after the import and the batches). tracemalloc is not used: it does not ",
            "see PyTorch's allocator.")]
    if "imports" in extra:
        imp = extra["imports"]
        lines += ["", "## Start-up", "", "| import | seconds (median of 3, fresh interpreter) |",
                  "|---|---|", *(f"| `import {k}` | {v:.3f} |" for k, v in imp.items())]
        if "torch" in imp:
            ratio = imp["backprop"] / imp["torch"]
            lines += ["", f"`import backprop` takes {ratio:.2f} of `import torch`'s time."]
    if "gflops" in extra:
        g = extra["gflops"]
        lines += ["", "## W1 arithmetic throughput", "", _paragraph(
            "Measured float32 matmul peak (np.matmul 2048x2048, best of 10): ",
            f"**{g['peak']:.1f} GFLOP/s**. W1 does {g['flops'] / 1e6:.1f} MFLOP of matrix ",
            "multiplies per step (forward, weight gradients, input gradients except layer 1)."),
            "", "| contender | GFLOP/s | share of peak |", "|---|---|---|"]
        lines += [f"| {c} | {v:.1f} | {100 * v / g['peak']:.0f}% |"
                  for c, v in g["achieved"].items()]
    if "scaling" in extra:
        for key, label in (("batch", "batch size"), ("depth", "hidden layers of 256 (batch 128)")):
            s = extra["scaling"][key]
            cs = list(s["median_s"])
            lines += ["", f"## W1 scaling with {label}", "",
                      f"| {key} | " + " | ".join(f"{c} ms" for c in cs) + " |",
                      "|---|" + "---|" * len(cs)]
            for i, v in enumerate(s["values"]):
                lines.append(f"| {v} | " + " | ".join(_ms(s["median_s"][c][i]) for c in cs) + " |")
            lines.append("")
            for c in cs:
                f = s["fit"][c]
                verdict = "**linear or better**" if f["linear"] else "**worse than linear**"
                lines.append(_paragraph(
                    f"- {c}: t = {f['intercept_ms']:.3f} ms + {f['ms_per_unit']:.4f} ms x {key} ",
                    f"(largest residual of that fit {100 * f['max_rel_resid']:.0f}%); worst ratio ",
                    f"of time growth to size growth between neighbours {f['worst_growth']:.2f}: ",
                    verdict))
        lines += ["", _paragraph(
            "Each point is the smaller median of two passes over the sweep (largest outside load ",
            f"during the sweep: {extra['scaling']['max_other_load']:.2f} cores). ",
            "*Linear or better*: ",
            "between neighbouring sizes the time grows by at most 1.12x the size ratio; a fixed ",
            "per-step cost makes small sizes grow less than proportionally.")]
    return "\n".join(lines) + "\n"


def run(quick: bool = False, small: bool = False, workloads: list[str] | None = None,
        libs: list[str] | None = None, check_steps: int | None = None, rounds: int | None = None,
        memory: bool | None = None, imports: bool | None = None, scale: bool | None = None,
        alone: bool | None = None,
        out: str | None = None, log: Callable[[str], None] = print,
        max_wait_s: float | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the results and the report text (also written to ``out``).

    A full run waits up to ``max_wait_s`` (60 s) for other processes to go quiet before each
    timing and retries a timing that was disturbed (3 attempts); a quick run does not wait."""
    workloads = workloads or list(MODULES)
    check_steps = check_steps or (5 if quick else 20)
    rounds = rounds if rounds is not None else (3 if quick else 15)
    memory = (not quick) if memory is None else memory
    imports = (not quick) if imports is None else imports
    scale = (not quick) if scale is None else scale
    alone = (not quick) if alone is None else alone
    block_s = 0.01 if quick else 0.1
    max_wait_s = (0.0 if quick else 60.0) if max_wait_s is None else max_wait_s
    attempts = 3 if max_wait_s > 0 else 1
    WAIT_BUDGET["seconds"] = 5 * max_wait_s  # at most 5 minutes of waiting in a full run
    extra: dict[str, Any] = {"check_steps": check_steps}
    if libs is None:
        libs = common.available_libs()
    if "torch" in libs:
        import torch
        extra["torch_version"] = torch.__version__
    results = []
    for name in workloads:
        log(f"{name}: agreement over {check_steps} steps, then {rounds} interleaved rounds")
        r = run_workload(name, libs, check_steps, rounds, small=small, block_s=block_s,
                         attempts=attempts, max_wait_s=max_wait_s)
        if memory:
            extra["memory_steps"] = 20
            for c in r.check["losses"]:
                r.memory[c] = peak_memory(name, c, 20, small=small)
        if alone:
            if max_wait_s > 0:
                wait_for_quiet(max_wait_s)
            r.alone = {label: alone_time(name, who, pol, n, 5 if quick else 10, small=small)
                       for label, who, pol, n in ALONE if who in r.check["losses"]}
        results.append(r)
        for c, t in r.median_s.items():
            log(f"   {c:9s} {_ms(t):>8s} ms/step  loss diff {r.check['max_rel_diff'][c]:.1e}")
        if r.median_s:
            log(f"   (other processes used {r.other_load:.2f} cores meanwhile)")
    if imports:
        log("import times")
        extra["imports"] = {m: import_time(m) for m in ["numpy", "backprop"] + [
            x for x in libs if x == "torch"]}
    w1 = next((r for r in results if r.name == "W1" and r.median_s), None)
    if w1 is not None and not small:
        log("matmul peak")
        if max_wait_s > 0:
            wait_for_quiet(max_wait_s)
        flops = w1_mlp.flops_per_step(w1_mlp.make_problem())
        extra["gflops"] = {"peak": matmul_peak(), "flops": flops,
                           "achieved": {c: flops / t / 1e9 for c, t in w1.median_s.items()}}
    if scale:
        log("W1 scaling with batch size and depth")
        batches = [8, 16] if small else [32, 64, 128, 256, 512, 1024]
        depths = [2, 4] if small else [2, 4, 8, 16, 32]
        extra["scaling"] = scaling(libs, batches, depths, rounds=2 if quick else 7,
                                   block_s=0.005 if quick else 0.03, max_wait_s=max_wait_s)
    text = report(results, extra, quick)
    if out:
        with open(out, "w") as handle:
            handle.write(text)
    return {"results": results, "extra": extra, "report": text,
            "agree": all(r.check["ok"] for r in results)}


def _accelerator() -> str:
    """Whether backprop ran with its optional Numba kernels (they change W4's time and memory)."""
    from backprop.backends import numba

    if numba.enabled and numba.is_available():
        return ("backprop's optional Numba kernels were on (`backprop[fast]`; "
                "`BACKPROP_NUMBA=0` turns them off).")
    return "backprop ran on NumPy alone (Numba kernels off or not installed)."
