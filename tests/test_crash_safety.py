"""Crash-safe training: SIGKILL at random moments (checkpoint writes included), then `--resume`,
ends with the parameters of a run never stopped, bit for bit; Ctrl-C saves and says how to
resume; the step-level checkpoint pieces (position, skipped batches, partial writes)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import backprop as bp
from backprop.cli import _parser, main
from backprop.serialization import CheckpointError, load
from backprop.train import checkpointing
from backprop.train.checkpointing import (Checkpointer, Position, TrainingInterrupted,
                                          remove_partial_writes, rest_of_epoch, resume_command)
from backprop.train.config import TrainConfig, flag_names, merged
from backprop.utils.data import DataLoader, TensorDataset

pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")
posix_only = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="SIGKILL, SIGINT and fork are POSIX")

FORKSERVER = Path(__file__).parent / "crash" / "forkserver.py"
CHECKPOINT = "checkpoint.safetensors"
# The digits MLP: 1,442 training images in 23 batches of 64, so two epochs are 46 steps and a
# checkpoint every 3 steps writes 15 mid-epoch checkpoints and 2 at epoch ends.
RUN = ["train", "--hidden", "16", "--epochs", "2", "--batch-size", "64", "--no-progress"]
EVERY = 3
TRIALS = 24  # 8 killed in a checkpoint write, 16 at random moments


# -- SIGKILL at random points ---------------------------------------------------------------------


class ForkServer:
    """tests/crash/forkserver.py: forks `backprop train` jobs and SIGKILLs them on request."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen([sys.executable, str(FORKSERVER)], cwd=folder,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.process.stdout.readline()
        assert ready, "the fork server failed to start (its traceback is above)"
        assert json.loads(ready) == {"ready": True}

    def run(self, **job: Any) -> dict[str, Any]:
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        assert reply, "the fork server died"
        reply = json.loads(reply)
        assert not reply["timed_out"], f"a job ran past its timeout: {job}"
        return reply

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def journal(path: Path) -> tuple[list[int], int | None]:
    """The steps of the checkpoints the child finished saving, and the one it was saving when
    it died (or None)."""
    finished, pending = [], None
    for line in path.read_text().splitlines() if path.exists() else []:
        event, step = line.split()
        if event == "begin":
            pending = int(step)
        else:
            assert pending == int(step), f"journal out of order: {line!r}"
            finished.append(pending)
            pending = None
    return finished, pending


def parameters(folder: Path) -> dict[str, np.ndarray]:
    return {name: value.numpy() for name, value in load(folder / CHECKPOINT)["model"].items()}


def job(server: ForkServer, folder: Path, argv: list[str], name: str, **kill: Any
        ) -> tuple[dict[str, Any], str]:
    folder.mkdir(exist_ok=True)
    log = folder / f"{name}.log"
    reply = server.run(argv=argv, log=str(log), journal=str(folder / f"{name}.journal"),
                       watch=str(folder / "out"), **kill)
    return reply, log.read_text() if log.exists() else ""  # a child killed at once has none


@pytest.fixture
def memory_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder in RAM (/dev/shm) where there is one, else pytest's. A SIGKILL leaves the page
    cache as it was, so what a killed process wrote is there either way; on disk, the two
    fsyncs of each of the ~400 checkpoint writes would take most of the test's time."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="backprop-crash-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@posix_only
def test_sigkill_at_random_points_then_resume_ends_bit_for_bit(memory_folder: Path) -> None:
    server = ForkServer(memory_folder)
    try:
        trials = run_trials(server, memory_folder)
    finally:
        server.close()
    # Every kind of kill happened: mid-write (a torn temporary file left behind), between
    # checkpoints, and before the first checkpoint or after a later one.
    assert len(trials) >= 20
    assert sum(t["torn_write"] for t in trials) >= 5, trials
    assert sum(t["half_written"] for t in trials) >= 3, trials
    assert sum(not t["torn_write"] for t in trials) >= 10, trials
    assert len({t["resumed_step"] for t in trials}) >= 8, trials
    print(f"\ncrash trials: {len(trials)}, killed mid-write: "
          f"{sum(t['torn_write'] for t in trials)} (temporary file cut off mid-data: "
          f"{sum(t['half_written'] for t in trials)}), killed during save (begin without end): "
          f"{sum(t['pending'] is not None for t in trials)}, resumed from steps "
          f"{sorted(t['resumed_step'] for t in trials)}")


def run_trials(server: ForkServer, tmp_path: Path) -> list[dict[str, Any]]:
    argv = [*RUN, "--checkpoint-every", str(EVERY)]
    reference, log = job(server, tmp_path / "reference", [*argv, "--out", str(tmp_path /
                         "reference" / "out")], "run")
    assert reference["exit"] == 0, log
    expected = parameters(tmp_path / "reference" / "out")
    expected_history = load(tmp_path / "reference" / "out" / CHECKPOINT)["history"]
    saved_steps, _ = journal(tmp_path / "reference" / "run.journal")
    assert saved_steps == [*range(3, 23, 3), 23, *range(24, 46, 3), 46]
    assert all(a.dtype == np.float32 for a in expected.values())

    rng = random.Random(8)
    # Timed kills: each after a different number of finished checkpoints (0: from the start),
    # then a random delay up to the mean time between checkpoints.
    gap = reference["seconds"] / (len(saved_steps) + 1)
    timed = iter(rng.sample(range(len(saved_steps)), TRIALS - TRIALS // 3))
    trials = []
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        out = folder / "out"
        run = [*argv, "--out", str(out)]
        if trial % 3 == 0:  # kill while the n-th checkpoint is being written (writes slowed)
            pause, target = 0.001, rng.randint(1, len(saved_steps))
            kill = {"slow_write": pause, "slow_from": target, "kill_on_write": target,
                    "kill_delay": rng.uniform(0, 12 * pause)}  # of a 16-pause write
        else:  # kill at a random moment of the run
            kill = {"after_saves": next(timed), "kill_after": rng.uniform(0, gap)}
        killed, log = job(server, folder, run, "killed", **kill)
        assert killed["signal"] == signal.SIGKILL or killed["exit"] == 0, log
        finished, pending = journal(folder / "killed.journal")
        torn = sorted(out.glob(f".{CHECKPOINT}.*.tmp"))
        on_disk = load(out / CHECKPOINT)["step"] if (out / CHECKPOINT).exists() else None
        # The checkpoint on disk is whole (load checked every SHA-256) and the newest one
        # finished: the one being written only if its rename happened, never if its temporary
        # file is still there.
        last = finished[-1] if finished else None
        allowed = {last} if torn or pending is None else {last, pending}
        assert on_disk in allowed, (kill, finished, pending, torn, on_disk)
        assert not torn or pending is not None
        half_written = False
        if torn:
            try:
                load(torn[0])
            except CheckpointError:
                half_written = True  # not just written and unrenamed: cut off mid-data

        resume = [*run, "--resume", str(out / CHECKPOINT)] if on_disk is not None else run
        resumed, log = job(server, folder, resume, "resumed")
        assert resumed["exit"] == 0, log
        if on_disk == saved_steps[-1]:  # killed after its last checkpoint: nothing to train
            assert f"nothing to resume: {out / CHECKPOINT} is a finished run" in log
            assert (out / "history.json").is_file()  # what the killed run did not write
        elif on_disk is not None:
            assert f"resumed from {out / CHECKPOINT} at epoch " in log
            assert log.split("resumed from")[1].split("step ")[1].split()[0] == str(on_disk)
        if torn:
            assert "a checkpoint write cut short" in log
        assert not list(out.glob("*.tmp")), "a partial write outlived the resume"
        final = parameters(out)
        assert final.keys() == expected.keys()
        for name in expected:
            assert np.array_equal(final[name], expected[name]), (trial, kill, on_disk, name)
        history = load(out / CHECKPOINT)["history"]
        assert [h["train_loss"] for h in history] == [h["train_loss"] for h in expected_history]
        trials.append({"kill": kill, "torn_write": bool(torn), "pending": pending,
                       "resumed_step": on_disk or 0, "half_written": half_written})
    return trials


# -- Ctrl-C ---------------------------------------------------------------------------------------


def _default_sigint() -> None:
    # A shell that starts a job in the background makes it ignore SIGINT, and Python then keeps
    # ignoring it; the child must get Ctrl-C as a terminal would deliver it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@posix_only
def test_ctrl_c_saves_a_checkpoint_exits_130_and_prints_the_resume_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop.train import plots

    monkeypatch.setattr(plots, "save_curves", lambda history, path: None)  # pictures: slow
    out = tmp_path / "cut"
    # 91 steps an epoch; checkpoint_every=0, so only epoch ends save unless Ctrl-C comes.
    run = [*RUN, "--epochs", "3", "--batch-size", "16"]
    process = subprocess.Popen([sys.executable, "-m", "backprop", *run, "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=_default_sigint)
    try:
        first = process.stdout.readline()
        assert first.startswith("epoch   1"), first + process.stderr.read()
        while not (out / CHECKPOINT).exists() and process.poll() is None:  # epoch 1's is written...
            time.sleep(0.0005)
        time.sleep(0.03)  # ...and synced (Ctrl-C during that save would stop after epoch 1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert (stdout + stderr).count("interrupted at") == 1  # said once, on stderr
    message = next(line for line in stderr.splitlines() if "interrupted at" in line)
    epoch, step = message.split("epoch ")[1].split(";")[0].split(" step ")
    command = shlex.split(message.split("resume with: ")[1])
    assert command[:4] == ["backprop", "train", "--resume", str(out / CHECKPOINT)]
    state = load(out / CHECKPOINT)
    # Saved where it stopped: almost always mid-epoch 2 (a loaded machine may stretch the
    # wait above past that epoch's end; the in-process test below stops mid-epoch for sure).
    position = Position.from_state(state["position"])
    assert state["step"] == position.step == int(step) and position.trained_epoch == int(epoch)
    assert position.step == 91 * (position.epoch - 1) + position.batches
    assert not list(out.glob("*.tmp"))

    assert main(command[1:]) == 0  # the printed command, as it is
    assert main([*run, "--out", str(tmp_path / "whole")]) == 0
    resumed, whole = parameters(out), parameters(tmp_path / "whole")
    assert all(np.array_equal(resumed[name], whole[name]) for name in whole)


@pytest.mark.parametrize("stop_at", [5, 30])  # in epoch 1, in epoch 2 (23 steps an epoch)
def test_ctrl_c_in_a_step_stops_after_it_and_the_resumed_run_matches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_at: int) -> None:
    from backprop.train import loop, plots

    monkeypatch.setattr(plots, "save_curves", lambda history, path: None)
    config = TrainConfig(hidden=(16,), epochs=2, batch_size=64, progress=False,
                         out=str(tmp_path / "cut"))  # checkpoint_every=0
    whole = loop.train(dataclasses.replace(config, out=str(tmp_path / "whole")), log=_quiet)
    steps = [0]
    train_step = loop.train_step

    def interrupted_step(*args: Any) -> Any:
        steps[0] += 1
        if steps[0] == stop_at:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of this step
        return train_step(*args)

    monkeypatch.setattr(loop, "train_step", interrupted_step)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(TrainingInterrupted) as caught:
            loop.train(config, log=_quiet)
    finally:
        signal.signal(signal.SIGINT, previous)
    monkeypatch.setattr(loop, "train_step", train_step)
    assert caught.value.position.step == stop_at  # the step finished, no later one began
    assert caught.value.position.batches == (stop_at - 1) % 23 + 1
    resumed = loop.train(config, resume=caught.value.checkpoint, log=_quiet)
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"]
                                                          for h in whole.history]
    final, expected = parameters(tmp_path / "cut"), parameters(tmp_path / "whole")
    assert all(np.array_equal(final[name], expected[name]) for name in expected)


def _quiet(line: str) -> None:
    pass


# -- the pieces -----------------------------------------------------------------------------------


def test_resume_command_round_trips_through_the_command_line(tmp_path: Path) -> None:
    config = TrainConfig(hidden=(16, 8), lr=3e-4, progress=False, checkpoint_every=7,
                         scheduler="none", out=str(tmp_path / "my run"))
    words = shlex.split(resume_command(config, tmp_path / "my run" / CHECKPOINT))
    args = _parser().parse_args(words[1:])
    assert args.resume == str(tmp_path / "my run" / CHECKPOINT)
    flags = {name: getattr(args, name) for name, _, _ in flag_names()}
    # every setting but the folder: the resumed run writes next to its checkpoint
    assert merged(None, flags) == dataclasses.replace(config, out=None)


def test_checkpoint_every_zero_never_stops_the_loop() -> None:
    saved = []
    checkpointer = Checkpointer(saved.append, every=0, step=0, resume_hint=str)
    assert checkpointer.next_step == sys.maxsize
    every = Checkpointer(saved.append, every=5, step=12, resume_hint=str)
    assert every.next_step == 15
    every.step_done(Position(1, 3, 15), steps_per_epoch=10)
    assert every.next_step == 20 and saved == [Position(1, 3, 15)]
    every.step_done(Position(1, 10, 20), steps_per_epoch=10)  # the epoch end saves this one
    assert every.next_step == 25 and len(saved) == 1


def test_ctrl_c_during_a_step_checkpoint_stops_right_after_it(tmp_path: Path) -> None:
    checkpointer = Checkpointer(lambda p: None, every=5, step=0, resume_hint=str)

    def save_interrupted(position: Position) -> Path:
        checkpointer._on_sigint(signal.SIGINT, None)  # Ctrl-C arrives while the file is written
        return tmp_path / CHECKPOINT

    checkpointer.save = save_interrupted
    with pytest.raises(TrainingInterrupted, match="interrupted at epoch 1 step 5"):
        checkpointer.step_done(Position(1, 5, 5), steps_per_epoch=10)


def test_sigint_waits_for_the_step_then_saves_and_raises(tmp_path: Path) -> None:
    # Python's own Ctrl-C handler, even where the suite runs with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        check_sigint(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def check_sigint(tmp_path: Path) -> None:
    saved = []
    checkpointer = Checkpointer(lambda p: saved.append(p) or tmp_path / CHECKPOINT, every=0,
                                step=0, resume_hint=lambda path: f"resume {path}")
    with checkpointer:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs: nothing is raised in the middle of a step
        assert checkpointer.interrupted and checkpointer.next_step == 0
        with pytest.raises(TrainingInterrupted) as caught:
            checkpointer.step_done(Position(2, 4, 50), steps_per_epoch=46)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert saved == [Position(2, 4, 50)] and caught.value.checkpoint == tmp_path / CHECKPOINT
    assert str(caught.value) == (f"interrupted at epoch 2 step 50; resume with: resume "
                                 f"{tmp_path / CHECKPOINT}")  # said once, by whoever catches it
    assert signal.signal(signal.SIGINT, signal.default_int_handler) is \
        signal.default_int_handler  # the handler was given back


def test_rest_of_epoch_replays_the_shuffle_and_skips_without_loading() -> None:
    dataset = TensorDataset(bp.arange(20))
    generator = bp.Generator(3)
    loader = DataLoader(dataset, batch_size=6, shuffle=True, generator=generator)
    start = generator.get_state()
    whole = [batch.tolist() for (batch,) in loader]
    after = generator.get_state()
    position = Position(1, 2, 2, loader_state=start)
    rest = position.remaining_batches(loader, generator)
    assert len(rest) == 2 and [batch.tolist() for (batch,) in rest] == whole[2:]
    assert generator.get_state() == after  # the next epoch draws what it would have

    loaded = []

    class Recording(TensorDataset):
        def __getitem__(self, index: Any) -> Any:
            loaded.append(index)
            return super().__getitem__(index)

    slow = DataLoader(Recording(bp.arange(10)), batch_size=4, collate_fn=lambda b: b)
    assert len(list(rest_of_epoch(slow, 2))) == 1 and sorted(loaded) == [8, 9]


def test_partial_writes_of_other_files_are_left_alone(tmp_path: Path) -> None:
    keep = [tmp_path / ".other.safetensors.0123456789ab.tmp", tmp_path / CHECKPOINT,
            tmp_path / f".{CHECKPOINT}.notours.tmp"]
    for path in keep:
        path.write_bytes(b"x")
    torn = tmp_path / f".{CHECKPOINT}.00ff00ff00ff.tmp"
    torn.write_bytes(b"half")
    assert remove_partial_writes(tmp_path / CHECKPOINT) == [torn]
    assert all(path.exists() for path in keep) and not torn.exists()


def test_old_checkpoints_resume_at_their_epoch_and_bad_positions_are_refused() -> None:
    assert Position.of_checkpoint({"epoch": 2}, steps_per_epoch=46) == Position(3, 0, 92)
    state = {"epoch": 0, "position": Position(1, 40, 40).to_state()}
    with pytest.raises(ValueError, match="batch_size"):
        Position.of_checkpoint(state, steps_per_epoch=23)
    assert checkpointing.rng_states(bp.Generator(0)).keys() == {"default", "loader", "numpy",
                                                                "python"}
