"""Runs are never lost (issue 13): each run writes into a folder of its own with the user's
permissions, `--resume` writes next to the checkpoint it was given, a checkpoint finds its data
again from anywhere, Ctrl-C prints a resume command that works, and a closed pipe or a log file
neither stops a run nor fills with progress-bar debris. The tests run `backprop` as a user
does, in a subprocess, except those of the pieces underneath (atomic writes, folder names)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import atomic
from backprop.apps.images import save_png
from backprop.console import format_duration
from backprop.datasets.mnist import DEBIAN_FASHION_MNIST
from backprop.diagnostics import draw_graph
from backprop.diagnostics.landscape import LossLandscape
from backprop.train.run_folder import prepare
from commands import PLAY, TRAIN, TRAIN_LM, command, environment, fake_mnist, files

pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")
CHECKPOINT = "checkpoint.safetensors"


def _run_folder(done: subprocess.CompletedProcess) -> Path:
    """The folder a run printed before it trained (`run folder runs/<command>/<date>-<time>`)."""
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith(("run folder", "epoch",
                                                                          "step"))]
    assert said[0].startswith("run folder "), done.stdout
    return Path(said[0].removeprefix("run folder "))


# -- item 2 and 7: a folder of its own, files with the user's permissions ------------------------

def _modes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode))
            for p in folder.rglob("*") if p.is_file()}


def test_each_train_run_gets_a_folder_and_latest_is_the_newest_that_wrote(tmp_path: Path) -> None:
    first = _run_folder(command(*TRAIN, "--epochs", "1", "--diagnose", "--diagnose-every", "5",
                                cwd=tmp_path, preexec_fn=lambda: os.umask(0o022)))
    before = files(tmp_path / first)
    second = _run_folder(command(*TRAIN, "--epochs", "1", cwd=tmp_path))
    # Diverges at once: --detect-anomaly stops it in its first step, before any checkpoint.
    failed = command(*TRAIN, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e30",
                     "--detect-anomaly", cwd=tmp_path)
    assert failed.returncode == 1 and failed.stdout.startswith("run folder ")
    assert first.parent == second.parent == Path("runs/train") and first != second
    assert files(tmp_path / first) == before  # a later run leaves an earlier one alone
    latest = tmp_path / "runs" / "train" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == second.name  # relative link
    modes = _modes(tmp_path / first)  # checkpoint, history, curves, diagnosis, gradients
    assert len(modes) >= 3 and set(modes.values()) == {"0o644"}, modes


@pytest.mark.parametrize("argv, umask", [
    ([*TRAIN, "--epochs", "1"], 0o077),
    (["gan", "--epochs", "1", "--no-progress"], 0o022),
    (["superres", "--epochs", "1", "--batch-size", "256", "--no-progress"], 0o022),
    (TRAIN_LM, 0o027),
], ids=["train", "gan", "superres", "train-lm"])
def test_every_command_writes_a_new_run_folder_with_the_users_permissions(
        tmp_path: Path, argv: list[str], umask: int) -> None:
    (tmp_path / "play.txt").write_text(PLAY)
    folder = _run_folder(command(*argv, cwd=tmp_path, preexec_fn=lambda: os.umask(umask)))
    assert folder.parent == Path("runs") / argv[0] and (tmp_path / folder / CHECKPOINT).is_file()
    assert os.readlink(tmp_path / "runs" / argv[0] / "latest") == folder.name
    modes = _modes(tmp_path / folder)  # the checkpoint, and a history, picture or sample
    assert len(modes) >= 2 and set(modes.values()) == {oct(0o666 & ~umask)}, modes


def test_the_profiler_trace_gets_the_users_permissions(tmp_path: Path) -> None:
    done = command("profile", "--hidden", "8", "--steps", "1", "--trace", "trace.json",
                   cwd=tmp_path, preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "trace.json").stat().st_mode) == 0o644


def _graph_picture(path: Path) -> None:
    if path.suffix == ".svg" and shutil.which("dot") is None:
        pytest.skip("rendering SVG needs Graphviz's dot")
    draw_graph(bp.randn(3, requires_grad=True).exp().sum(), path)


def _landscape(path: Path) -> None:
    line = LossLandscape((np.linspace(-1, 1, 3),), np.array([1.0, 0.5, 2.0]))
    if path.suffix == ".npz":
        line.save(path)
    else:
        pytest.importorskip("matplotlib", reason="pictures need the [plot] extra")
        line.plot(path)


@pytest.mark.parametrize("write, name", [
    (_graph_picture, "graph.dot"), (_graph_picture, "graph.svg"), (_landscape, "grid.npz"),
    (_landscape, "landscape.png"), (lambda path: save_png(np.eye(4), path), "eye.png"),
], ids=["dot", "svg", "npz", "plot", "png"])
def test_the_librarys_pictures_get_the_users_permissions(tmp_path: Path, write, name) -> None:
    previous = os.umask(0o022)
    try:
        write(tmp_path / name)
    finally:
        os.umask(previous)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()
            if p.name == name} == {name: 0o644}


def _stream(path: Path, data: bytes) -> None:
    with atomic.atomic_writer(path) as file:
        file.write(data)


def _fail(*args: object) -> None:
    raise OSError("disk full")


@pytest.mark.parametrize("write", [
    atomic.atomic_write_bytes, lambda path, data: atomic.atomic_write_text(path, data.decode()),
    _stream], ids=["bytes", "text", "stream"])
def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch, write) -> None:
    path = tmp_path / "history.json"
    path.write_text("old")
    path.chmod(0o640)
    monkeypatch.setattr(atomic.os, "replace", _fail)
    with pytest.raises(OSError, match="disk full"):
        write(path, b"new")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["history.json"]
    monkeypatch.undo()
    write(path, b"new")  # and a write that succeeds keeps the file's own permissions
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda fmt: "20260101-120000")
    first = prepare(None, "train").create(log=lambda line: None)
    second = prepare(None, "train").create(log=lambda line: None)
    assert (first.name, second.name) == ("20260101-120000", "20260101-120000-2")


@pytest.mark.parametrize("argv", [TRAIN, ["gan"], ["superres"], TRAIN_LM],
                         ids=["train", "gan", "superres", "train-lm"])
def test_an_out_folder_holding_an_earlier_run_is_refused(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "play.txt").write_text(PLAY)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / CHECKPOINT).write_bytes(b"an earlier run's weights")
    (earlier / "history.json").write_text("[]")
    before = files(tmp_path)
    done = command(*argv, "--out", "earlier", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--out earlier already holds checkpoint.safetensors, history.json" in done.stderr
    assert files(tmp_path) == before and not (tmp_path / "runs").exists()
    if argv[0] == "train":
        assert "--resume earlier/checkpoint.safetensors" in done.stderr


# -- item 1 and 10: resume next to the checkpoint; a finished run is left alone -----------------

def test_resume_writes_next_to_its_checkpoint_or_to_out_and_leaves_a_finished_run(
        tmp_path: Path) -> None:
    assert command(*TRAIN, "--epochs", "2", "--out", "rA", cwd=tmp_path).returncode == 0
    shutil.copytree(tmp_path / "rA", tmp_path / "rB")
    original, copy = files(tmp_path / "rA"), files(tmp_path / "rB")
    resume = ["train", "--resume", "rB/checkpoint.safetensors", "--epochs", "3"]
    elsewhere = command(*resume, "--out", "rC", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert files(tmp_path / "rB") == copy and (tmp_path / "rC" / CHECKPOINT).is_file()
    beside = command(*resume, cwd=tmp_path)
    assert beside.returncode == 0, beside.stderr
    assert f"checkpoint {Path('rB') / CHECKPOINT}" in beside.stdout
    assert len(json.loads((tmp_path / "rB" / "history.json").read_text())) == 3
    assert files(tmp_path / "rA") == original  # the folder the checkpoint recorded
    done = files(tmp_path)
    again = command(*resume, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("nothing to resume: rB/checkpoint.safetensors is a finished "
                                   "run, 3 epochs trained of --epochs 3")
    assert files(tmp_path) == done


# -- item 3: a checkpoint finds its data again ---------------------------------------------------

def test_a_checkpoint_finds_its_data_from_anywhere_or_where_told(tmp_path: Path) -> None:
    fake_mnist(tmp_path / "data")
    done = command(*TRAIN, "--epochs", "1", "--data", "mnist", "--data-root", "data",
                   "--batch-size", "32", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkpoint = "../run/checkpoint.safetensors"
    assert command("evaluate", checkpoint, cwd=elsewhere).returncode == 0  # recorded absolute
    (tmp_path / "data").rename(tmp_path / "moved")
    missing = command("evaluate", checkpoint, cwd=elsewhere)
    assert missing.returncode == 2 and str(tmp_path / "data") in missing.stderr
    for argv in (["evaluate", checkpoint], ["landscape", checkpoint, "--steps", "3",
                                            "--batches", "1", "--hessian-iters", "0"]):
        found = command(*argv, "--data-root", "../moved", cwd=elsewhere)
        assert found.returncode == 0, found.stderr
    # predict reads only the checkpoint (classes, normalisation), never the data set
    np.save(elsewhere / "images.npy", np.zeros((2, 1, 28, 28), np.float32))
    assert command("predict", checkpoint, "images.npy", cwd=elsewhere).returncode == 0


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(),
                    reason="needs Debian's dataset-fashion-mnist package (the default root)")
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_prints_once_a_resume_command_that_works_as_printed(tmp_path: Path) -> None:
    run = [*TRAIN, "--data", "fashion-mnist", "--epochs", "3", "--batch-size", "128"]
    process = subprocess.Popen([sys.executable, "-m", "backprop", *run], cwd=tmp_path,
                               env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in process.stdout:
            if line.startswith("epoch   1"):  # training is under way, in its second epoch
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stdout + stderr
    assert (stdout + stderr).count("interrupted at epoch") == 1, stdout + stderr
    printed = shlex.split(stderr.split("resume with: ")[1])
    assert printed[:3] == ["backprop", "train", "--resume"]
    resumed = command(*printed[1:], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith(f"resumed from {printed[3]} at epoch ")
    history = json.loads((tmp_path / printed[3]).with_name("history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]


# -- items 4 and 5: pipes and logs ---------------------------------------------------------------

@pytest.mark.parametrize("argv", [[*TRAIN, "--epochs", "3", "--batch-size", "16"],
                                  ["superres", "--epochs", "2", "--batch-size", "512"]],
                         ids=["train", "superres"])
def test_a_closed_pipe_neither_stops_the_run_nor_loses_its_files(tmp_path: Path,
                                                                 argv: list[str]) -> None:
    # `backprop train | head -1`: the reader goes away after the first line.
    process = subprocess.Popen([sys.executable, "-m", "backprop", *argv, "--out", "run"],
                               cwd=tmp_path, env=environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 0, first + stderr
    assert stderr == ""
    assert {CHECKPOINT, "history.json"} <= set(os.listdir(tmp_path / "run"))


@pytest.mark.parametrize("argv", [[*TRAIN[:3], "--epochs", "2"],
                                  ["superres", "--epochs", "2", "--batch-size", "512"]],
                         ids=["train", "superres"])
def test_a_log_gets_one_clean_line_an_epoch_with_its_duration(tmp_path: Path,
                                                              argv: list[str]) -> None:
    done = command(*argv, "--out", "run", cwd=tmp_path, stderr=subprocess.STDOUT)  # 2>&1 | tee
    assert done.returncode == 0, done.stdout
    assert "\r" not in done.stdout  # progress bars are for terminals
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    records = history["history"] if isinstance(history, dict) else history
    assert len(epochs) == len(records) == 2
    for line, record in zip(epochs, records):
        assert line.endswith(f"({format_duration(record['seconds'])})")
        assert record["seconds"] > 0 and not line.endswith("(0 ms)")


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    pytest.importorskip("tqdm", reason="bars come from the optional tqdm")
    pty = pytest.importorskip("pty", reason="needs a pseudo-terminal")
    import fcntl  # noqa: PLC0415 - POSIX only, like pty
    import termios  # noqa: PLC0415
    main_end, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # 80 columns
    process = subprocess.Popen([sys.executable, "-m", "backprop", *TRAIN[:3], "--epochs", "1",
                                "--batch-size", "16", "--out", "run"], cwd=tmp_path,
                               env=environment(), stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    drawn = bytearray()
    while True:  # read as it draws, or a full terminal buffer would block the run
        try:
            chunk = os.read(main_end, 65536)
        except OSError:  # EIO: the run ended and closed its end of the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main_end)
    assert process.wait(timeout=120) == 0
    assert re.search(rb"epoch 1/1: .*/91", drawn), bytes(drawn[:300])
    assert b"\r" not in process.stdout.read()