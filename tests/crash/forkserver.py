"""A fork server for tests/test_crash_safety.py: runs ``backprop train`` jobs and SIGKILLs them.

Run as ``python tests/crash/forkserver.py``. It imports backprop once; each job is then a forked
child that calls ``backprop.cli.main(argv)``, the command's own code (the float32 training path),
so twenty-odd killed runs cost milliseconds to start instead of an interpreter each. The server
does the killing itself, before it reaps the child, so the pid it kills is always its child's.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.

Request keys:
    argv          the command's arguments, e.g. ["train", "--epochs", "2", ...]
    log           file that gets the child's stdout and stderr
    journal       file to which the child appends "begin S" before and "end S" after each
                  checkpoint it saves (S: the checkpoint's step)
    kill_after    seconds after the fork (or after the moment of after_saves) at which to
                  SIGKILL the child (null: never)
    after_saves   n: count kill_after from the moment the child finished its n-th checkpoint
                  (by the journal), so kills spread over the run however loaded the machine is
    kill_on_write n: SIGKILL the child kill_delay seconds after it began to save its n-th
                  checkpoint (by the journal) and the temporary file appeared in the folder
                  `watch` (null: never)
    kill_delay    see kill_on_write
    watch         the run's output folder
    slow_write    seconds to pause between the 16 chunks of each checkpoint write (0: none), so
                  that a kill can land while a temporary file is half written
    slow_from     slow down only the writes from the n-th checkpoint on (default 1)
    timeout       seconds after which a job that is still running is killed (default 120)

Reply keys: exit (the exit code, or null), signal (the signal that ended it, or null), seconds,
timed_out.

Plots are stubbed out: curves are pictures of the history, not training state, and
drawing them takes longer than the tiny training runs themselves.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from typing import Any

CHUNKS = 16
_saves = 0  # checkpoints the child has started to save


def _install_journal(path: str) -> None:
    from backprop.train import loop  # noqa: PLC0415

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    save = loop.save

    def journaled_save(obj: Any, f: Any) -> None:
        global _saves
        _saves += 1
        os.write(fd, f"begin {obj['step']}\n".encode())
        save(obj, f)
        os.write(fd, f"end {obj['step']}\n".encode())

    loop.save = journaled_save


def _install_slow_write(pause: float, first: int) -> None:
    from backprop import atomic  # noqa: PLC0415

    # bp.save's atomic writer: temporary file, _write_all, fsync, rename.
    if not hasattr(atomic, "_write_all"):
        raise RuntimeError("forkserver: backprop.atomic._write_all is gone; update the "
                           "slow_write hook to the new writer")
    write_all = atomic._write_all

    def slow_write_all(fd: int, data: bytes) -> None:
        if _saves < first:
            write_all(fd, data)
            return
        view = memoryview(data)
        step = -(-len(view) // CHUNKS)
        for start in range(0, len(view), step):
            write_all(fd, view[start:start + step])
            time.sleep(pause)

    atomic._write_all = slow_write_all


def _child(job: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    code = 70
    try:
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        _install_journal(job["journal"])
        if job.get("slow_write"):
            _install_slow_write(float(job["slow_write"]), int(job.get("slow_from", 1)))
        from backprop.cli import main  # noqa: PLC0415

        code = main(job["argv"])
    except BaseException:  # noqa: BLE001 - report anything, then leave without cleanup
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _journaled(journal: str, event: str) -> int:
    try:
        with open(journal) as lines:
            return sum(line.startswith(event) for line in lines)
    except FileNotFoundError:
        return 0


def _temporaries(folder: str) -> set[str]:
    try:
        return {name for name in os.listdir(folder) if name.endswith(".tmp")}
    except FileNotFoundError:
        return set()


def _run(job: dict[str, Any]) -> dict[str, Any]:
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(job)
    anchored = not job.get("after_saves")
    kill_at = start + job["kill_after"] if anchored and job.get("kill_after") is not None \
        else None
    give_up = start + job.get("timeout", 120)
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        now = time.monotonic()
        if not anchored and _journaled(job["journal"], "end") >= job["after_saves"]:
            anchored, kill_at = True, now + job["kill_after"]
        if job.get("kill_on_write") and kill_at is None and \
                _journaled(job["journal"], "begin") >= job["kill_on_write"] and \
                _temporaries(job["watch"]):
            kill_at = now + job.get("kill_delay", 0.0)
        timed_out = now >= give_up
        if (kill_at is not None and now >= kill_at) or timed_out:
            os.kill(pid, signal.SIGKILL)  # not reaped yet, so this pid is still our child
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.0003)
    return {"exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "seconds": time.monotonic() - start, "timed_out": timed_out}


def serve() -> None:
    """Warm up, then answer requests until stdin closes."""
    import contextlib  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from backprop import cli  # noqa: PLC0415
    from backprop.train import plots  # noqa: PLC0415

    plots.save_curves = lambda history, path: None
    # One run and one resume here, so that every child starts with the imports done, the
    # embedded digits read and NumPy's first-call costs paid (a cold child takes 7x longer).
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as null, \
            contextlib.redirect_stdout(null):
        warm = ["train", "--hidden", "4", "--epochs", "1", "--checkpoint-every", "5",
                "--no-progress", "--out", folder]
        checkpoint = os.path.join(folder, "checkpoint.safetensors")
        if cli.main(warm) != 0 or cli.main([*warm, "--resume", checkpoint]) != 0:
            raise RuntimeError("forkserver: the warm-up run failed")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    serve()
