"""Checkpoints in the middle of an epoch, and a Ctrl-C that saves one before stopping.

A ``backprop train`` checkpoint records, besides the model, optimizer and scheduler, a
``Position``: which epoch the run is in, how many of its batches were consumed, the optimizer step
count, the epoch's running sums, and the state the data loader's generator had when the epoch
began. Resuming sets that generator back, so the epoch's shuffled order is drawn again, and
skips the consumed batches by their indices alone (no data is loaded for them): the resumed run
then draws the same batches and random numbers as a run that was never stopped, and ends with
the same parameters, bit for bit.

Writes go through ``bp.save`` (a temporary file, fsync, rename), so a crash leaves the previous
checkpoint whole; ``remove_partial_writes`` deletes the temporary files a killed process leaves.
"""

from __future__ import annotations

import dataclasses
import random
import re
import shlex
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..random import Generator, default_generator
from ..utils.data import DataLoader, Sampler
from .config import TrainConfig

__all__ = ["Checkpointer", "Position", "TrainingInterrupted", "remove_partial_writes",
           "rest_of_epoch", "restore_rng_states", "resume_command", "rng_states"]


@dataclass
class Position:
    """Where a run stands: the next batch to train is batch ``batches + 1`` of ``epoch``
    (1-based), after ``step`` optimizer steps in all.

    ``loader_state`` is the loader generator's state when ``epoch`` began (``None`` at an epoch
    boundary, where the generator's current state is that state); ``loss_sum``, ``correct`` and
    ``seen`` are the epoch's running sums for its history record.

    >>> p = Position(epoch=2, batches=5, step=28)
    >>> Position.from_state(p.to_state()) == p, p.trained_epoch
    (True, 2)
    """

    epoch: int
    batches: int
    step: int
    loader_state: dict | None = None
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0

    @property
    def trained_epoch(self) -> int:
        """The epoch of the last batch trained (the previous one at an epoch boundary)."""
        return self.epoch if self.batches else self.epoch - 1

    def to_state(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Position:
        return cls(**{f.name: state[f.name] for f in dataclasses.fields(cls) if f.name in state})

    @classmethod
    def of_checkpoint(cls, checkpoint: dict[str, Any], steps_per_epoch: int) -> Position:
        """The position a ``backprop train`` checkpoint resumes at (checkpoints from before
        step-level checkpoints hold only the finished epoch: the next one starts afresh)."""
        if checkpoint.get("position") is None:
            epoch = int(checkpoint["epoch"])
            return cls(epoch=epoch + 1, batches=0, step=epoch * steps_per_epoch)
        position = cls.from_state(checkpoint["position"])
        if position.batches > steps_per_epoch:
            raise ValueError(f"resume: the checkpoint stopped after batch {position.batches} of "
                             f"epoch {position.epoch}, but an epoch now has {steps_per_epoch} "
                             "batches; resume with the batch_size and data it was written with")
        return position

    def remaining_batches(self, loader: DataLoader, generator: Generator) -> DataLoader:
        """The batches of epoch ``self.epoch`` still to train: the whole ``loader`` at an epoch
        boundary; else the epoch's shuffled order drawn again from ``generator`` (set back to
        ``loader_state``) with the consumed batches skipped."""
        if not self.batches:
            return loader
        if self.loader_state is not None:
            generator.set_state(self.loader_state)
        return rest_of_epoch(loader, self.batches)


def rest_of_epoch(loader: DataLoader, consumed: int) -> DataLoader:
    """A loader over one epoch of ``loader`` without its first ``consumed`` batches.

    The whole epoch's order is drawn (so random samplers advance their generator exactly as a
    full epoch does) and the skipped batches are dropped as lists of indices: their samples
    are never loaded.

    >>> import backprop as bp
    >>> from backprop.utils.data import TensorDataset
    >>> loader = DataLoader(TensorDataset(bp.arange(10)), batch_size=4)
    >>> [batch.tolist() for (batch,) in rest_of_epoch(loader, 1)]
    [[4, 5, 6, 7], [8, 9]]
    """
    if loader.batch_sampler is None:
        raise ValueError("rest_of_epoch: the loader must batch its samples (batch_size or "
                         "batch_sampler set) to skip batches of an epoch")
    if consumed == 0:
        return loader
    return DataLoader(loader.dataset, batch_sampler=_SkipBatches(loader.batch_sampler, consumed),
                      collate_fn=loader.collate_fn)


class _SkipBatches(Sampler[list]):
    """Another batch sampler's batches after its first ``count``."""

    def __init__(self, batches: Any, count: int) -> None:
        self.batches = batches
        self.count = count

    def __iter__(self) -> Iterator[list]:
        batches = iter(self.batches)
        for _ in range(self.count):
            next(batches, None)
        yield from batches

    def __len__(self) -> int:
        return max(0, len(self.batches) - self.count)


# -- random streams -------------------------------------------------------------------------------


def rng_states(loader_generator: Generator) -> dict[str, Any]:
    """Every random stream a training step may draw from: backprop's default generator
    (initialisation, dropout, ``bp.rand``), the loader's (shuffling), NumPy's global one and
    Python's ``random`` (user code and transforms). backprop draws all its random numbers on the
    host, CuPy arrays included, so these are all there is."""
    version, words, gauss = random.getstate()
    # Python's 625 state words as one uint32 array: one checkpoint entry, not 625 JSON numbers.
    python = (version, np.array(words, dtype=np.uint32), gauss)
    return {"default": default_generator.get_state(), "loader": loader_generator.get_state(),
            "numpy": np.random.get_state(), "python": python}


def restore_rng_states(states: dict[str, Any], loader_generator: Generator) -> None:
    """Set the streams of ``rng_states`` back (the last two only if the checkpoint has them)."""
    default_generator.set_state(states["default"])
    loader_generator.set_state(states["loader"])
    if "numpy" in states:
        np.random.set_state(states["numpy"])
    if "python" in states:
        version, words, gauss = states["python"]
        random.setstate((version, tuple(int(w) for w in words), gauss))


# -- partial writes -------------------------------------------------------------------------------


def remove_partial_writes(path: str | Path) -> list[Path]:
    """Delete the temporary files that an atomic write (``backprop.atomic``, behind ``bp.save``)
    left beside ``path`` when its process was killed mid-write (``.NAME.<12 hex digits>.tmp``);
    return what was removed.

    They never replace a checkpoint (only a finished write is renamed over it), so they are
    harmless; removing them keeps killed runs from filling the disk. Call it when no other
    process is writing ``path``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".ckpt.safetensors.0123456789ab.tmp").write_bytes(b"torn")
    >>> [p.name for p in remove_partial_writes(folder / "ckpt.safetensors")]
    ['.ckpt.safetensors.0123456789ab.tmp']
    """
    path = Path(path)
    # The name every atomic write gives its temporary file (backprop.atomic).
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{12}}\.tmp")
    removed = []
    if path.parent.is_dir():
        for candidate in path.parent.iterdir():
            if pattern.fullmatch(candidate.name):
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


# -- when to save, and Ctrl-C ---------------------------------------------------------------------


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after a checkpoint was written; the message says how to resume.
    A ``KeyboardInterrupt``, so callers that handle Ctrl-C handle it (the command exits 130)."""

    def __init__(self, message: str, checkpoint: Path, position: Position) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.position = position


class Checkpointer:
    """Decides when the training loop saves: every ``every`` optimizer steps (0: only at epoch
    ends, which the loop always saves), and at once when Ctrl-C arrives.

    The loop's only per-step cost is ``if step >= checkpointer.next_step``: ``next_step`` is the
    next multiple of ``every`` (never reached when ``every`` is 0), and Ctrl-C sets it to 0. Used
    as a context manager it takes SIGINT over (in the main thread, unless SIGINT is ignored) so
    the interrupt waits for a step to finish instead of cutting an update in half; a second
    Ctrl-C stops at once. ``save(position)`` writes a checkpoint and returns its path.
    """

    def __init__(self, save: Callable[[Position], Path], every: int, step: int,
                 resume_hint: Callable[[Path], str]) -> None:
        self.save = save
        self.every = every
        self.resume_hint = resume_hint
        self.interrupted = False
        self.next_step = self._after(step)
        self._previous: Any = None
        self._installed = False

    def _after(self, step: int) -> int:
        return (step // self.every + 1) * self.every if self.every else sys.maxsize

    def __enter__(self) -> Checkpointer:
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:  # None: a handler set outside Python, which we cannot put back
            previous = signal.SIG_DFL if self._previous is None else self._previous
            signal.signal(signal.SIGINT, previous)
            self._installed = False

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self.interrupted:  # the second Ctrl-C: stop now (a write in progress is rolled back)
            raise KeyboardInterrupt
        self.interrupted = True
        self.next_step = 0

    def step_done(self, position: Position, steps_per_epoch: int) -> None:
        """Called when ``position.step`` reached ``next_step``: save (unless this is the last
        batch of the epoch, whose checkpoint the loop writes after evaluating), and stop if
        Ctrl-C asked to."""
        if self.interrupted or position.batches < steps_per_epoch:
            path = self.save(position)
            if self.interrupted:  # before or during the save
                self._stop(path, position)
        self.next_step = self._after(position.step)
        if self.interrupted:  # Ctrl-C between the check above and this line: keep its request
            self.next_step = 0

    def epoch_done(self, position: Position) -> Path:
        """Save at the end of an epoch (``position`` is the next epoch's start); stop if Ctrl-C
        arrived during the epoch's last step, its evaluation or this save."""
        path = self.save(position)
        if self.interrupted:
            self._stop(path, position)
        return path

    def _stop(self, path: Path, position: Position) -> None:
        message = (f"interrupted at epoch {position.trained_epoch} step {position.step}; "
                   f"resume with: {self.resume_hint(path)}")
        raise TrainingInterrupted(message, path, position)


def resume_command(config: TrainConfig, checkpoint: Path) -> str:
    """The ``backprop train`` command line that resumes ``checkpoint``: ``--resume`` and every
    setting that differs from its default (a resumed run must use the same settings), except
    ``out``: a resumed run writes next to its checkpoint.

    >>> resume_command(TrainConfig(hidden=(16,), progress=False), Path("run/ckpt.safetensors"))
    'backprop train --resume run/ckpt.safetensors --hidden 16 --no-progress'
    """
    defaults = TrainConfig()
    words = ["backprop", "train", "--resume", str(checkpoint)]
    for field in dataclasses.fields(TrainConfig):
        value = getattr(config, field.name)
        if value == getattr(defaults, field.name) or field.name == "out":
            continue
        flag = field.name.replace("_", "-")
        if isinstance(value, bool):
            words.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            words += [f"--{flag}", shown]
    return shlex.join(words)
